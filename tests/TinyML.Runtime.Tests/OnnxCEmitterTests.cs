// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using TinyML.Compiler;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Onnx;
using TinyML.Compiler.Plan;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Runtime.Tests;

/// <summary>
/// One plan, two back ends, for imported ONNX models: every supported ONNX node test, mnist-8, sine and a QDQ CNN, emitted as C,
/// built into one runner with the host kernel library (PlatformConformanceTests.BuildRunner) and run; every output
/// must be the host executor's bytes for the same plan and input.
/// </summary>
public sealed class OnnxCEmitterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-onnx-c-{Guid.NewGuid():N}");
    private readonly ITestOutputHelper _output;

    public OnnxCEmitterTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A case: its plan and its input vectors (each one byte array per graph input).</summary>
    private sealed record Case(string Label, ExecutionPlan Plan, IReadOnlyList<byte[][]> Vectors);

    private static ExecutionPlan Lower(string path, string label)
    {
        var read = ModelReader.ReadFile(path);
        Assert.True(read.Value is not null, $"{label}: {string.Join("\n", read.Diagnostics)}");
        var lowered = Lowerer.Lower(read.Value!, label, LoweringOptions.Default);
        Assert.True(lowered.Value is not null, $"{label}: {string.Join("\n", lowered.Diagnostics)}");
        return lowered.Value!;
    }

    private static byte[] TensorBytes(string file) => OnnxReader.ReadTensor(File.ReadAllBytes(file), file).Value!.Data;

    /// <summary>The supported node tests with their test_data_set_0 inputs, prepared as the host tests prepare them.</summary>
    private static IEnumerable<Case> NodeCases() =>
        OnnxCases.NodeTests().Where(n => !OnnxNodeCases.NotYetSupported.ContainsKey(n)).Select(name =>
        {
            var prepared = OnnxNodeRun.Prepare(name, LoweringOptions.Default);
            Assert.True(prepared.Plan is not null, $"{name}: {prepared.Refusal?.Detail}");
            return new Case(name, prepared.Plan!, new[] { prepared.Inputs.ToArray() });
        });

    /// <summary>mnist-8 on its three reference inputs; sine on seeded inputs across two periods; the QDQ CNN on grid inputs.</summary>
    private static IEnumerable<Case> ModelCases()
    {
        string models = Path.Combine(OnnxCases.Root, "models");
        var mnist = Enumerable.Range(0, 3).Select(set => new[] { TensorBytes(Path.Combine(models, "mnist-8", $"test_data_set_{set}", "input_0.pb")) }).ToList();
        yield return new Case("mnist-8", Lower(Path.Combine(models, "mnist-8", "model.onnx"), "mnist-8"), mnist);
        var sine = Lower(Path.Combine(models, "sine", "model.onnx"), "sine");
        var random = new Random(5);
        int elements = (int)(sine.Inputs[0].Bytes / sizeof(float));
        var vectors = Enumerable.Range(0, 8).Select(_ =>
            new[] { MemoryMarshal.AsBytes(Enumerable.Range(0, elements).Select(_ => (float)(random.NextDouble() * 4 * Math.PI - 2 * Math.PI)).ToArray().AsSpan()).ToArray() }).ToList();
        yield return new Case("sine", sine, vectors);
        // A QDQ CNN, int8 inside: its float input on the quantization grid.
        byte[] cnn = OnnxTestModels.QdqCnn(3, OnnxGraphWriter.Int8, out float scale, out int zeroPoint, out _);
        var cnnPlan = Lowerer.Lower(ModelReader.Read(cnn, "qdq-cnn.onnx").Value!).Value!;
        var grid = Enumerable.Range(0, 4).Select(_ =>
            new[] { MemoryMarshal.AsBytes(Enumerable.Range(0, 3 * 12 * 12).Select(_ => (random.Next(-128, 128) - zeroPoint) * scale).ToArray().AsSpan()).ToArray() }).ToList();
        yield return new Case("qdq-cnn", cnnPlan, grid);
    }

    [Fact]
    public void EmittedC_GivesTheHostExecutorsBytes_OnEveryNodeTestAndModel()
    {
        var cases = NodeCases().Concat(ModelCases()).ToList();
        var models = cases.Select((c, i) => (Name: $"onnx{i}", c.Plan)).ToList();
        string runner = PlatformConformanceTests.BuildRunner(new[] { "cc" }, Path.Combine(SharedData.Repo, "build", "native", "libtinyml_kernels.a"), models, _dir);

        var manifest = new StringBuilder();
        var expected = new List<(string Where, string Output, byte[] Bytes)>();
        for (int i = 0; i < cases.Count; i++)
            for (int v = 0; v < cases[i].Vectors.Count; v++)
            {
                var inputs = cases[i].Vectors[v];
                var files = inputs.Select((bytes, k) =>
                {
                    string file = Path.Combine(_dir, $"in{i}_{v}_{k}.bin");
                    File.WriteAllBytes(file, bytes);
                    return file;
                }).ToList();
                string output = Path.Combine(_dir, $"out{i}_{v}.bin");
                manifest.Append($"onnx{i} {output} {string.Join(" ", files)}\n");
                expected.Add(($"{cases[i].Label} vector {v}", output, PatchTests.Run(cases[i].Plan, inputs)));
            }
        Assert.DoesNotContain(' ', _dir);
        File.WriteAllText(Path.Combine(_dir, "manifest.txt"), manifest.ToString());
        var run = CEmitterHostTests.Run(runner, Path.Combine(_dir, "manifest.txt"));
        Assert.True(run.Code == 0, $"runner exit {run.Code}: {run.Output}");

        var wrong = expected.Where(e => !File.Exists(e.Output) || !File.ReadAllBytes(e.Output).AsSpan().SequenceEqual(e.Bytes)).Select(e => e.Where).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {expected.Count} outputs of the emitted C differ from the host executor's: {string.Join(", ", wrong)}");
        // Not vacuous: every node test the host runs (OnnxNodeTests) is here, and the two models.
        Assert.Equal(OnnxNodeTests.Supported().Count + 3, cases.Count);
        Assert.True(cases.Count > 40, $"{cases.Count} cases");
        Assert.Contains(cases, c => c.Label == "mnist-8");
        _output.WriteLine($"{cases.Count} ONNX models, {expected.Count} vectors: the emitted C gives the host executor's bytes");
    }
}
