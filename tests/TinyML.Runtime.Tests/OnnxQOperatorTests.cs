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
/// The QOperator format onnxruntime's quantizer writes (QLinearConv and its com.microsoft contrib operators
/// QLinearAdd, QLinearMul, QLinearConcat, QLinearAveragePool, QLinearGlobalAveragePool, QLinearLeakyRelu,
/// QLinearSigmoid): imported as int8 operators, run against onnxruntime itself.
/// </summary>
public class OnnxQOperatorTests
{
    private readonly ITestOutputHelper _output;

    public OnnxQOperatorTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(5, W.Int8)]
    [InlineData(6, W.UInt8)]
    public void ContribQLinearOperators_AreInt8_AndCloseToOnnxRuntime(int seed, int type)
    {
        var random = new Random(seed);
        int zp(int signed) => type == W.UInt8 ? signed + 128 : signed;
        var w = new W();
        string x = w.Input("x", W.Float, 1, 4, 8, 8);
        (string S, string Z) P(float scale, int zeroPoint) => (w.Scalar(scale), w.ZeroPoint(type, zeroPoint));
        var p0 = P(0.03f, zp(2));
        string xq = w.Node("QuantizeLinear", new[] { x, p0.S, p0.Z });
        string Conv(string input, (string S, string Z) pin, float inScale, (string S, string Z) pout)
        {
            var scales = Enumerable.Range(0, 4).Select(_ => 0.004f + (float)random.NextDouble() * 0.01f).ToArray();
            string wq = w.Initializer(W.Int8, new[] { 4, 4, 3, 3 }, Enumerable.Range(0, 144).Select(_ => (sbyte)random.Next(-63, 64)).ToArray());
            string bq = w.Initializer(W.Int32, new[] { 4 }, Enumerable.Range(0, 4).Select(_ => random.Next(-400, 401)).ToArray());
            return w.Node("QLinearConv", new[] { input, pin.S, pin.Z, wq, w.Initializer(W.Float, new[] { 4 }, scales), w.Initializer(W.Int8, new[] { 4 }, new sbyte[4]), pout.S, pout.Z, bq },
                ("pads", new long[] { 1, 1, 1, 1 }));
        }
        var p1 = P(0.05f, zp(-3));
        var p2 = P(0.06f, zp(4));
        string a = Conv(xq, p0, 0.03f, p1);
        string b = Conv(xq, p0, 0.03f, p2);
        var p3 = P(0.08f, zp(1));
        string sum = w.Node("com.microsoft.QLinearAdd", new[] { a, p1.S, p1.Z, b, p2.S, p2.Z, p3.S, p3.Z });
        var p4 = P(0.04f, zp(-1));
        string leaky = w.Node("com.microsoft.QLinearLeakyRelu", new[] { sum, p3.S, p3.Z, p4.S, p4.Z }, ("alpha", 0.1f));
        var p5 = P(0.07f, zp(0));
        string product = w.Node("com.microsoft.QLinearMul", new[] { leaky, p4.S, p4.Z, a, p1.S, p1.Z, p5.S, p5.Z });
        var p6 = P(0.05f, zp(2));
        string pooled = w.Node("com.microsoft.QLinearAveragePool", new[] { product, p5.S, p5.Z, p6.S, p6.Z }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        var p7 = P(0.05f, zp(2));
        string joined = w.Node("com.microsoft.QLinearConcat", new[] { p7.S, p7.Z, pooled, p6.S, p6.Z, pooled, p6.S, p6.Z }, ("axis", 1L));
        var p8 = P(0.02f, zp(-5));
        string global = w.Node("com.microsoft.QLinearGlobalAveragePool", new[] { joined, p7.S, p7.Z, p8.S, p8.Z });
        var p9 = P(1f / 256, type == W.UInt8 ? 0 : -128);
        string sigmoid = w.Node("com.microsoft.QLinearSigmoid", new[] { global, p8.S, p8.Z, p9.S, p9.Z });
        w.Node("DequantizeLinear", new[] { sigmoid, p9.S, p9.Z });
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, 8, 1, 1);
        byte[] model = w.Write();

        var read = ModelReader.Read(model, "qoperator.onnx");
        Assert.True(read.Value is not null, string.Join("\n", read.Diagnostics));
        var graph = read.Value!.Main;
        _output.WriteLine(string.Join(" ", graph.Operators.Select(op => $"{op.Kind}:{DataTypes.Name(graph.Tensors[op.Outputs[0]].Type)}")));
        // Float only at the edges.
        Assert.All(graph.Operators.Skip(1).Take(graph.Operators.Count - 2), op => Assert.NotEqual(DataType.Float32, graph.Tensors[op.Outputs[0]].Type));
        var lowered = Lowerer.Lower(read.Value!);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));

        using var oracle = new OnnxRuntimeOracle(model, lowered.Value!, new[] { 1, 4, 8, 8 });
        // The output is a sigmoid at 1/256 per step.
        var differences = oracle.Differences(Enumerable.Range(0, 6).Select(_ => OnnxRuntimeOracle.GridInput(random, 4 * 8 * 8, 0.03f, zp(2), type == W.UInt8)), 1f / 256);
        int worst = differences.Max(), equal = differences.Count(d => d == 0), total = differences.Length;
        _output.WriteLine($"{equal} of {total} outputs equal to onnxruntime's, largest difference {worst} LSB");
        Assert.True(worst <= 3, $"largest difference {worst} LSB");
        Assert.True(equal >= total / 2, $"only {equal} of {total} equal");
    }
}
