// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TinyML.Compiler.Plan;

namespace TinyML.Runtime.Tests;

/// <summary>onnxruntime as the reference: one float input, one float output, run there and through our plan.</summary>
internal sealed class OnnxRuntimeOracle : IDisposable
{
    private readonly InferenceSession _session;
    private readonly PlanExecutor _executor;
    private readonly int[] _shape;
    private readonly string _input;

    /// <summary>For a model given as bytes or as a file path.</summary>
    public OnnxRuntimeOracle(object model, ExecutionPlan plan, int[] shape)
    {
        _session = model is byte[] bytes ? new InferenceSession(bytes) : new InferenceSession((string)model);
        _executor = new PlanExecutor(plan);
        _shape = shape;
        _input = _session.InputMetadata.Keys.Single();
    }

    /// <summary>onnxruntime's output and ours for one input.</summary>
    public (float[] Expected, float[] Actual) Run(float[] input)
    {
        using var results = _session.Run(new[] { NamedOnnxValue.CreateFromTensor(_input, new DenseTensor<float>(input, _shape)) });
        var expected = results.First().AsEnumerable<float>().ToArray();
        MemoryMarshal.AsBytes(input.AsSpan()).CopyTo(_executor.Input(0));
        _executor.Run();
        return (expected, MemoryMarshal.Cast<byte, float>(_executor.Output(0)).ToArray());
    }

    /// <summary>The differences of every output on every input, in units of <paramref name="lsb"/>.</summary>
    public int[] Differences(IEnumerable<float[]> inputs, float lsb) =>
        inputs.SelectMany(input =>
        {
            var (expected, actual) = Run(input);
            if (expected.Length != actual.Length) throw new InvalidOperationException($"{actual.Length} outputs, onnxruntime gives {expected.Length}");
            return expected.Zip(actual, (e, a) => (int)Math.Round(Math.Abs(e - a) / lsb));
        }).ToArray();

    /// <summary>Inputs on a quantization grid (q − zero point) × scale for q over the type's range: no input rounds at a tie.</summary>
    public static float[] GridInput(Random random, int count, float scale, int zeroPoint, bool uint8) =>
        Enumerable.Range(0, count).Select(_ => (random.Next(uint8 ? 0 : -128, uint8 ? 256 : 128) - zeroPoint) * scale).ToArray();

    public void Dispose()
    {
        _session.Dispose();
        _executor.Dispose();
    }
}
