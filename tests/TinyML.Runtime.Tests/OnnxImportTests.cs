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
/// Random float ONNX graphs that stress what the node tests do not: grouped convolutions, 1-D chains, layouts that
/// move between NCHW and NHWC through Transpose, Softmax, Concat and ReduceMean; each against onnxruntime.
/// </summary>
public class OnnxImportTests
{
    private readonly ITestOutputHelper _output;

    public OnnxImportTests(ITestOutputHelper output) => _output = output;

    private static float[] Random(Random random, int count, float scale = 1f) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();

    private static string Weights(W w, Random random, params int[] shape) => w.Initializer(W.Float, shape, Random(random, shape.Aggregate(1, (p, d) => p * d), 0.5f));

    /// <summary>Runs both on random inputs; the worst difference relative to the output's largest magnitude.</summary>
    private double Compare(byte[] model, int[] shape, int seed, out Model imported)
    {
        var read = ModelReader.Read(model, "random.onnx");
        Assert.True(read.Value is not null, string.Join("\n", read.Diagnostics));
        imported = read.Value!;
        var lowered = Lowerer.Lower(imported);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        using var oracle = new OnnxRuntimeOracle(model, lowered.Value!, shape);
        var random = new Random(seed);
        double worst = 0;
        for (int trial = 0; trial < 3; trial++)
        {
            var (expected, actual) = oracle.Run(Random(random, shape.Aggregate(1, (p, d) => p * d)));
            Assert.Equal(expected.Length, actual.Length);
            double magnitude = Math.Max(1e-6, expected.Max(Math.Abs));
            worst = Math.Max(worst, expected.Zip(actual, (e, a) => Math.Abs(e - a) / magnitude).Max());
        }
        return worst;
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 3)]
    [InlineData(2, 4)]
    public void GroupedConvolution_MatchesOnnxRuntime(int seed, int groups)
    {
        var random = new Random(seed);
        int perGroup = 1 + random.Next(3), filtersPerGroup = 1 + random.Next(3), size = 6 + random.Next(6), stride = 1 + random.Next(2);
        var w = new W();
        string x = w.Input("x", W.Float, 1, groups * perGroup, size, size);
        var pads = Enumerable.Range(0, 4).Select(_ => (long)random.Next(2)).ToArray();
        w.Node("Conv", new[] { x, Weights(w, random, groups * filtersPerGroup, perGroup, 3, 3), Weights(w, random, groups * filtersPerGroup) },
            ("group", (long)groups), ("pads", pads), ("strides", new long[] { stride, stride }));
        w.RenameLastOutput("y");
        int outH = (size + (int)(pads[0] + pads[2]) - 3) / stride + 1, outW = (size + (int)(pads[1] + pads[3]) - 3) / stride + 1;
        w.Output("y", W.Float, 1, groups * filtersPerGroup, outH, outW);
        double worst = Compare(w.Write(), new[] { 1, groups * perGroup, size, size }, seed, out var imported);
        // One convolution per group; one input channel per group is a depthwise convolution.
        if (perGroup == 1) Assert.Single(imported.Main.Operators, op => op.Kind == OpKind.DepthwiseConv2D);
        else Assert.Equal(groups, imported.Main.Operators.Count(op => op.Kind == OpKind.Conv2D));
        Assert.True(worst < 1e-5, $"relative difference {worst}");
    }

    [Fact]
    public void Conv1dChain_StaysChannelsLast_AndMatchesOnnxRuntime()
    {
        var random = new Random(7);
        var w = new W();
        string x = w.Input("x", W.Float, 1, 4, 40);
        string h = w.Node("Conv", new[] { x, Weights(w, random, 8, 4, 3), Weights(w, random, 8) }, ("pads", new long[] { 1, 1 }));
        h = w.Node("Relu", new[] { h });
        h = w.Node("MaxPool", new[] { h }, ("kernel_shape", new long[] { 2 }), ("strides", new long[] { 2 }));
        h = w.Node("Conv", new[] { h, Weights(w, random, 8, 1, 5), Weights(w, random, 8) }, ("group", 8L), ("pads", new long[] { 2, 2 }));
        h = w.Node("Conv", new[] { h, Weights(w, random, 6, 8, 3), Weights(w, random, 6) }, ("strides", new long[] { 2 }), ("dilations", new long[] { 2 }));
        h = w.Node("GlobalAveragePool", new[] { h });
        h = w.Node("Flatten", new[] { h });
        w.Node("Gemm", new[] { h, Weights(w, random, 3, 6), Weights(w, random, 3) }, ("transB", 1L));
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, 3);
        double worst = Compare(w.Write(), new[] { 1, 4, 40 }, 7, out var imported);
        // One TRANSPOSE, at the input: between the layers the channels stay last; the RELU folds into its convolution.
        Assert.Equal(1, imported.Main.Operators.Count(op => op.Kind == OpKind.Transpose));
        Assert.DoesNotContain(imported.Main.Operators, op => op.Kind == OpKind.Relu);
        _output.WriteLine(string.Join(" ", imported.Main.Operators.Select(op => op.Kind)));
        Assert.True(worst < 1e-5, $"relative difference {worst}");
    }

    [Fact]
    public void LayoutMoves_ThroughTransposeSoftmaxConcatAndReduceMean_MatchOnnxRuntime()
    {
        var random = new Random(11);
        var w = new W();
        string x = w.Input("x", W.Float, 1, 3, 8, 6);
        string a = w.Node("Conv", new[] { x, Weights(w, random, 5, 3, 3, 3), Weights(w, random, 5) }, ("pads", new long[] { 1, 1, 1, 1 }));
        // NCHW -> NWHC by an explicit Transpose, softmax over the channels (now the last ONNX axis).
        string t = w.Node("Transpose", new[] { a }, ("perm", new long[] { 0, 3, 2, 1 }));
        string s = w.Node("Softmax", new[] { t }, ("axis", -1L));
        string back = w.Node("Transpose", new[] { s }, ("perm", new long[] { 0, 3, 2, 1 }));
        string b = w.Node("Sigmoid", new[] { a });
        string c = w.Node("Concat", new[] { back, b }, ("axis", 1L));
        string m = w.Node("Mul", new[] { c, w.Initializer(W.Float, new[] { 10, 1, 1 }, Random(random, 10)) });
        string r = w.Node("ReduceMean", new[] { m }, ("axes", new long[] { 2 }), ("keepdims", 0L));
        w.Node("Slice", new[] { r, w.Initializer(W.Int64, new[] { 2 }, new long[] { 1, 5 }), w.Initializer(W.Int64, new[] { 2 }, new long[] { 9, 1 }),
            w.Initializer(W.Int64, new[] { 2 }, new long[] { 1, 2 }), w.Initializer(W.Int64, new[] { 2 }, new long[] { 2, -2 }) });
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, 4, 2);
        double worst = Compare(w.Write(), new[] { 1, 3, 8, 6 }, 11, out var imported);
        _output.WriteLine(string.Join(" ", imported.Main.Operators.Select(op => op.Kind)));
        Assert.True(worst < 1e-5, $"relative difference {worst}");
    }

    [Fact]
    public void ExplicitPad_InFrontOfAConvolution_OnAnNchwInput_FoldsIntoIt()
    {
        // PyTorch's export of an asymmetric padding: a Pad node on the NCHW input, then a VALID strided convolution,
        // with an odd channel count.
        var random = new Random(13);
        var w = new W();
        string x = w.Input("x", W.Float, 1, 5, 9, 7);
        string p = w.Node("Pad", new[] { x, w.Initializer(W.Int64, new[] { 8 }, new long[] { 0, 0, 1, 2, 0, 0, 2, 1 }) });
        w.Node("Conv", new[] { p, Weights(w, random, 3, 5, 3, 3), Weights(w, random, 3) }, ("strides", new long[] { 2, 2 }));
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, 3, 6, 4);
        byte[] model = w.Write();
        double worst = Compare(model, new[] { 1, 5, 9, 7 }, 13, out var imported);
        Assert.True(worst < 1e-5, $"relative difference {worst}");
        // The layout change comes first, so the PAD stands in front of the convolution and folds into it.
        var plan = Lowerer.Lower(imported).Value!;
        Assert.DoesNotContain(plan.Calls, call => call.Kernel.StartsWith("tml_pad", StringComparison.Ordinal));
    }
}
