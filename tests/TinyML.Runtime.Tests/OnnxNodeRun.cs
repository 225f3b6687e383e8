// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Onnx;
using TinyML.Compiler.Plan;
using TinyML.Tests;

namespace TinyML.Runtime.Tests;

/// <summary>Imports, plans and runs one ONNX node test on the host.</summary>
public static class OnnxNodeRun
{
    /// <summary>ONNX's runner: floats within rtol 1e-3 and atol 1e-7.</summary>
    public const double RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-7;

    public enum Kind { Passed, Refused, Mismatch }

    public sealed record Outcome(Kind Kind, string Detail);

    /// <summary>A node test imported and planned (or its refusal), its inputs' bytes and its expected outputs.</summary>
    public sealed record Prepared(ExecutionPlan? Plan, Outcome? Refusal, IReadOnlyList<byte[]> Inputs, IReadOnlyList<OnnxTensor> Expected);

    public static Prepared Prepare(string name, LoweringOptions options)
    {
        string dir = OnnxCases.Node(name);
        string data = Path.Combine(dir, "test_data_set_0");
        var inputFiles = OnnxCases.Files(data, "input");
        byte[] model = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        var read = ModelReader.Read(model, "model.onnx");
        bool frozen = false;
        if (read.Value is null && inputFiles.Count > 1 && read.Diagnostics.Any(NeedsConstant))
        {
            // The test feeds weights, shapes or scales as inputs; a deployed model carries them as initializers.
            model = OnnxTestModels.WithInputsAsInitializers(model, inputFiles.Skip(1).Select(File.ReadAllBytes).ToList());
            read = ModelReader.Read(model, "model.onnx");
            frozen = true;
        }
        if (read.Value is null) return new Prepared(null, Refusal(read.Diagnostics), Array.Empty<byte[]>(), Array.Empty<OnnxTensor>());
        var lowered = Lowerer.Lower(read.Value, name, options);
        if (lowered.Value is null) return new Prepared(null, Refusal(lowered.Diagnostics), Array.Empty<byte[]>(), Array.Empty<OnnxTensor>());
        var inputs = (frozen ? inputFiles.Take(1) : inputFiles).Select(f => OnnxReader.ReadTensor(File.ReadAllBytes(f), f).Value!.Data).ToList();
        var expected = OnnxCases.Files(data, "output").Select(f => OnnxReader.ReadTensor(File.ReadAllBytes(f), f).Value!).ToList();
        return new Prepared(lowered.Value, null, inputs, expected);
    }

    public static Outcome Evaluate(string name, LoweringOptions options)
    {
        var (plan, refusal, inputs, expected) = Prepare(name, options);
        if (plan is null) return refusal!;
        if (inputs.Count != plan.Inputs.Count || expected.Count != plan.Outputs.Count)
            return new Outcome(Kind.Mismatch, $"the plan has {plan.Inputs.Count} inputs and {plan.Outputs.Count} outputs; the test {inputs.Count} and {expected.Count}");
        using var executor = new PlanExecutor(plan);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Length != plan.Inputs[i].Bytes) return new Outcome(Kind.Mismatch, $"input {i} has {inputs[i].Length} bytes; the plan takes {plan.Inputs[i].Bytes}");
            inputs[i].CopyTo(executor.Input(i));
        }
        executor.Run();
        for (int o = 0; o < expected.Count; o++)
        {
            byte[] actual = executor.Output(o).ToArray();
            string? problem = Compare(expected[o], actual);
            if (problem is not null) return new Outcome(Kind.Mismatch, $"output {o}: {problem}");
        }
        return new Outcome(Kind.Passed, "");
    }

    /// <summary>A refusal because a graph input would have to be a constant (weights, shape, axes, scales, pads).</summary>
    private static bool NeedsConstant(Diagnostic d) =>
        d.Message.Contains("must be a constant", StringComparison.Ordinal) || d.Message.Contains("must be constants, not inputs", StringComparison.Ordinal);

    private static Outcome Refusal(IReadOnlyList<Diagnostic> diagnostics)
    {
        var error = diagnostics.First(d => d.Severity == Severity.Error);
        return new Outcome(Kind.Refused, $"{error.Id}: {error.Message}");
    }

    /// <summary>Null when equal as ONNX's runner compares, else the first difference.</summary>
    public static string? Compare(OnnxTensor expected, byte[] actual)
    {
        if (expected.Data.Length != actual.Length) return $"{actual.Length} bytes, expected {expected.Data.Length}";
        if (expected.Type != DataType.Float32)
        {
            int at = Enumerable.Range(0, actual.Length).FirstOrDefault(i => actual[i] != expected.Data[i], -1);
            return at < 0 ? null : $"byte {at} is {actual[at]}, expected {expected.Data[at]}";
        }
        var e = MemoryMarshal.Cast<byte, float>(expected.Data);
        var a = MemoryMarshal.Cast<byte, float>(actual);
        for (int i = 0; i < e.Length; i++)
        {
            bool bothNaN = float.IsNaN(e[i]) && float.IsNaN(a[i]);
            if (!bothNaN && !(Math.Abs((double)a[i] - e[i]) <= AbsoluteTolerance + RelativeTolerance * Math.Abs((double)e[i])))
                return $"element {i} is {a[i]:R}, expected {e[i]:R}";
        }
        return null;
    }
}
