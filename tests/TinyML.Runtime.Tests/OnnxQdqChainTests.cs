// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TinyML.Compiler;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using Xunit;
using Xunit.Abstractions;
using W = TinyML.Runtime.Tests.OnnxGraphWriter;

namespace TinyML.Runtime.Tests;

/// <summary>
/// A small QDQ CNN as onnxruntime's quantizer writes one (every operator between DequantizeLinear and QuantizeLinear,
/// pooling, grouped convolution and flatten too, with their own scales): the import must be int8 from the first QUANTIZE to the last
/// DEQUANTIZE, and its outputs close to onnxruntime's.
/// </summary>
public class OnnxQdqChainTests
{
    private readonly ITestOutputHelper _output;

    public OnnxQdqChainTests(ITestOutputHelper output) => _output = output;

    /// <summary>Adds QuantizeLinear and DequantizeLinear after <paramref name="value"/> with its own scale and zero point.</summary>
    private static string Qdq(W w, string value, float scale, int zeroPoint, int type)
    {
        string s = w.Scalar(scale), z = w.ZeroPoint(type, zeroPoint);
        return w.Node("DequantizeLinear", new[] { w.Node("QuantizeLinear", new[] { value, s, z }), s, z });
    }

    private static (string Weights, string Bias) QuantizedWeights(W w, Random random, int filters, int perFilter, int kernel, float inputScale)
    {
        var scales = Enumerable.Range(0, filters).Select(_ => 0.004f + (float)random.NextDouble() * 0.01f).ToArray();
        var shape = kernel == 0 ? new[] { filters, perFilter } : new[] { filters, perFilter, kernel, kernel };
        var weights = Enumerable.Range(0, shape.Aggregate(1, (p, d) => p * d)).Select(_ => (sbyte)random.Next(-63, 64)).ToArray();
        string wd = w.Node("DequantizeLinear", new[] { w.Initializer(W.Int8, shape, weights), w.Initializer(W.Float, new[] { filters }, scales), w.Initializer(W.Int8, new[] { filters }, new sbyte[filters]) }, ("axis", 0L));
        var biasScales = scales.Select(s => inputScale * s).ToArray();
        string bd = w.Node("DequantizeLinear", new[] { w.Initializer(W.Int32, new[] { filters }, Enumerable.Range(0, filters).Select(_ => random.Next(-500, 501)).ToArray()),
            w.Initializer(W.Float, new[] { filters }, biasScales), w.Initializer(W.Int32, new[] { filters }, new int[filters]) }, ("axis", 0L));
        return (wd, bd);
    }

    /// <summary>
    /// The CNN: conv 3→8 (+ReLU), max pool, grouped conv 8→8 in 2 groups, depthwise conv, global average pool in its own
    /// scale, flatten, Gemm 8→5. Also emitted as C (OnnxCEmitterTests).
    /// </summary>
    internal static byte[] Cnn(int seed, int type, out float inputScale, out int inputZeroPoint, out float outputScale)
    {
        var random = new Random(seed);
        int zp(int signedZeroPoint) => type == W.UInt8 ? signedZeroPoint + 128 : signedZeroPoint;
        var w = new W();
        string x = w.Input("x", W.Float, 1, 3, 12, 12);
        float s0 = 0.02f, s1 = 0.05f, s2 = 0.04f, s3 = 0.03f, s4 = 0.05f, s5 = 0.045f;
        string h = Qdq(w, x, s0, zp(3), type);
        var (w1, b1) = QuantizedWeights(w, random, 8, 3, 3, s0);
        h = w.Node("Conv", new[] { h, w1, b1 }, ("pads", new long[] { 1, 1, 1, 1 }));
        h = Qdq(w, w.Node("Relu", new[] { h }), s1, zp(-128), type);
        h = Qdq(w, w.Node("MaxPool", new[] { h }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })), s1, zp(-128), type);
        var (wg, bg) = QuantizedWeights(w, random, 8, 4, 3, s1);
        h = Qdq(w, w.Node("Conv", new[] { h, wg, bg }, ("pads", new long[] { 1, 1, 1, 1 }), ("group", 2L)), s5, zp(-7), type);
        var (w2, b2) = QuantizedWeights(w, random, 8, 1, 3, s5);
        h = Qdq(w, w.Node("Conv", new[] { h, w2, b2 }, ("pads", new long[] { 1, 1, 1, 1 }), ("group", 8L)), s2, zp(5), type);
        // A pooling output in its own scale, as onnxruntime's quantizer may give it: a requantization follows.
        h = Qdq(w, w.Node("GlobalAveragePool", new[] { h }), s3, zp(-2), type);
        h = Qdq(w, w.Node("Flatten", new[] { h }), s3, zp(-2), type);
        var (w3, b3) = QuantizedWeights(w, random, 5, 8, 0, s3);
        h = Qdq(w, w.Node("Gemm", new[] { h, w3, b3 }, ("transB", 1L)), s4, zp(0), type);
        w.Node("Identity", new[] { h });
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, 5);
        (inputScale, inputZeroPoint, outputScale) = (s0, zp(3), s4);
        return w.Write();
    }

    [Theory]
    [InlineData(1, W.Int8)]
    [InlineData(2, W.UInt8)]
    public void QdqCnn_IsInt8Throughout_AndCloseToOnnxRuntime(int seed, int type)
    {
        byte[] model = Cnn(seed, type, out float s0, out int inputZeroPoint, out float s4);
        var random = new Random(seed + 100);
        var imported = ModelReader.Read(model, "cnn.onnx").Value!;
        var kinds = imported.Main.Operators.Select(op => $"{op.Kind}:{DataTypes.Name(imported.Main.Tensors[op.Outputs[0]].Type)}").ToList();
        _output.WriteLine(string.Join(" ", kinds));
        // Float only at the edges: the input's QUANTIZE and the output's DEQUANTIZE.
        Assert.Equal(OpKind.Quantize, imported.Main.Operators[0].Kind);
        Assert.Equal(OpKind.Dequantize, imported.Main.Operators[^1].Kind);
        Assert.All(imported.Main.Operators.Take(imported.Main.Operators.Count - 1), op => Assert.NotEqual(DataType.Float32, imported.Main.Tensors[op.Outputs[0]].Type));
        Assert.Contains(imported.Main.Operators, op => op.Kind == OpKind.DepthwiseConv2D);
        Assert.Equal(3, imported.Main.Operators.Count(op => op.Kind == OpKind.Conv2D));

        var plan = Lowerer.Lower(imported).Value!;
        using var session = new InferenceSession(model);
        using var executor = new PlanExecutor(plan);
        int worst = 0, equal = 0, total = 0;
        for (int trial = 0; trial < 8; trial++)
        {
            var input = Enumerable.Range(0, 3 * 12 * 12).Select(_ => (random.Next(type == W.UInt8 ? 0 : -128, type == W.UInt8 ? 256 : 128) - inputZeroPoint) * s0).ToArray();
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(input, new[] { 1, 3, 12, 12 })) });
            var expected = results.First().AsEnumerable<float>().ToArray();
            MemoryMarshal.AsBytes(input.AsSpan()).CopyTo(executor.Input(0));
            executor.Run();
            var actual = MemoryMarshal.Cast<byte, float>(executor.Output(0)).ToArray();
            foreach (var (e, a) in expected.Zip(actual))
            {
                int lsb = (int)Math.Round(Math.Abs(e - a) / s4);
                worst = Math.Max(worst, lsb);
                equal += lsb == 0 ? 1 : 0;
                total++;
            }
        }
        _output.WriteLine($"{equal} of {total} outputs equal to onnxruntime's, largest difference {worst} LSB");
        // One LSB per requantization can add up over seven requantizations; most outputs stay equal.
        Assert.True(worst <= 3, $"largest difference {worst} LSB");
        Assert.True(equal >= total / 2, $"only {equal} of {total} equal");
    }
}
