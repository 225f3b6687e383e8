// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
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

    [Theory]
    [InlineData(1, W.Int8)]
    [InlineData(2, W.UInt8)]
    public void QdqCnn_IsInt8Throughout_AndCloseToOnnxRuntime(int seed, int type)
    {
        byte[] model = OnnxTestModels.QdqCnn(seed, type, out float s0, out int inputZeroPoint, out float s4);
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

        using var oracle = new OnnxRuntimeOracle(model, Lowerer.Lower(imported).Value!, new[] { 1, 3, 12, 12 });
        var differences = oracle.Differences(Enumerable.Range(0, 8).Select(_ => OnnxRuntimeOracle.GridInput(random, 3 * 12 * 12, s0, inputZeroPoint, type == W.UInt8)), s4);
        int worst = differences.Max(), equal = differences.Count(d => d == 0), total = differences.Length;
        _output.WriteLine($"{equal} of {total} outputs equal to onnxruntime's, largest difference {worst} LSB");
        // One LSB per requantization can add up over seven requantizations; most outputs stay equal.
        Assert.True(worst <= 3, $"largest difference {worst} LSB");
        Assert.True(equal >= total / 2, $"only {equal} of {total} equal");
    }

    /// <summary>uint8 weights: zero point 128 is symmetric int8 (q − 128), exact; any other zero point is asymmetric
    /// weights, which the int8 specification does not take (TML1017).</summary>
    [Theory]
    [InlineData(128)]
    [InlineData(120)]
    public void UInt8Weights_WithZeroPoint128_AreSymmetricInt8_OthersRefused(int weightZeroPoint)
    {
        var random = new Random(weightZeroPoint);
        var w = new W();
        string x = w.Input("x", W.Float, 1, 3, 6, 6);
        string sIn = w.Scalar(0.03f), zIn = w.ZeroPoint(W.UInt8, 130);
        string xd = w.Node("DequantizeLinear", new[] { w.Node("QuantizeLinear", new[] { x, sIn, zIn }), sIn, zIn });
        var weights = Enumerable.Range(0, 4 * 3 * 3 * 3).Select(_ => (byte)(weightZeroPoint + random.Next(-63, 64))).ToArray();
        string wd = w.Node("DequantizeLinear", new[] { w.Initializer(W.UInt8, new[] { 4, 3, 3, 3 }, weights), w.Scalar(0.01f), w.ZeroPoint(W.UInt8, weightZeroPoint) });
        string y = w.Node("Conv", new[] { xd, wd }, ("pads", new long[] { 1, 1, 1, 1 }));
        string sOut = w.Scalar(0.08f), zOut = w.ZeroPoint(W.UInt8, 128);
        w.Node("DequantizeLinear", new[] { w.Node("QuantizeLinear", new[] { y, sOut, zOut }), sOut, zOut });
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, 4, 6, 6);
        byte[] model = w.Write();
        var imported = ModelReader.Read(model, "u8.onnx").Value!;
        var lowered = Lowerer.Lower(imported);
        if (weightZeroPoint != 128)
        {
            Assert.Null(lowered.Value);
            Assert.Contains(lowered.Diagnostics, d => d.Id == "TML1017");
            return;
        }
        var conv = Assert.Single(imported.Main.Operators, op => op.Kind == OpKind.Conv2D);
        Assert.Equal(DataType.Int8, imported.Main.Tensors[conv.Inputs[1]].Type);
        Assert.Equal(0, imported.Main.Tensors[conv.Inputs[1]].Quantization!.ZeroPoint);
        using var oracle = new OnnxRuntimeOracle(model, lowered.Value!, new[] { 1, 3, 6, 6 });
        int worst = oracle.Differences(new[] { OnnxRuntimeOracle.GridInput(random, 3 * 6 * 6, 0.03f, 130, uint8: true) }, 0.08f).Max();
        Assert.True(worst <= 1, $"largest difference {worst} LSB");
    }
}
