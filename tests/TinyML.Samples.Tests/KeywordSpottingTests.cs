// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using KeywordSpotting;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Validation;
using TinyML.Tests;
using Xunit;

namespace TinyML.Samples.Tests;

public class KeywordSpottingTests
{
    private static readonly Lazy<SampleModel> Sample = new(() => new SampleModel(new KeywordSpottingModel().ToModel()));

    private static SampleModel Kws => Sample.Value;

    [Fact]
    public void Model_ReadsBackAndValidatesWithoutDiagnostics()
    {
        // SampleModel asserts an empty read and lowering; validation on its own must be silent too (no warnings).
        Assert.Empty(ModelValidator.Validate(Kws.Model));
        Assert.True(Kws.Plan.Calls.Count > 0);
    }

    [Fact]
    public void Model_HasTheMLPerfInputAndOutput()
    {
        Assert.Equal(DataType.Int8, Kws.Input.Type);
        Assert.Equal(new[] { 1, 49, 10, 1 }, Kws.Input.Shape);
        Assert.Equal(DataType.Int8, Kws.Output.Type);
        Assert.Equal(new[] { 1, 12 }, Kws.Output.Shape);
        Assert.Equal(1f / 256, Kws.Output.Quantization!.Scale);
        Assert.Equal(-128, Kws.Output.Quantization.ZeroPoint);
        Assert.Equal(new[] { 1, 49, 10, 1 }, Kws.Plan.Inputs.Single().Shape);
        Assert.Equal(new[] { 1, 12 }, Kws.Plan.Outputs.Single().Shape);
        var signature = Assert.Single(Kws.Model.Signatures);
        Assert.Equal("serving_default", signature.Key);
    }

    [Fact]
    public void Model_HasTheDsCnnLayerStructure()
    {
        var graph = Kws.Model.Main;
        var expected = new[] { (OpKind.Conv2D, 3) }
            .Concat(Enumerable.Repeat(new[] { (OpKind.DepthwiseConv2D, 3), (OpKind.Conv2D, 3) }, 4).SelectMany(x => x))
            .Concat(new[] { (OpKind.AveragePool2D, 2), (OpKind.Reshape, 1), (OpKind.FullyConnected, 4), (OpKind.Softmax, 2) });
        Assert.Equal(expected, graph.Operators.Select(op => (op.Kind, op.Version)));

        var first = graph.Operators[0];
        Assert.Equal(new[] { 64, 10, 4, 1 }, graph.Input(first, 1)!.Shape);
        Assert.Equal(new Conv2DOptions(Padding.Same, 2, 2, Activation.Relu), first.Options);
        Assert.Equal(new[] { 1, 25, 5, 64 }, graph.Output(first, 0).Shape);
        for (int block = 0; block < 4; block++)
        {
            var depthwise = graph.Operators[1 + 2 * block];
            var pointwise = graph.Operators[2 + 2 * block];
            Assert.Equal(new[] { 1, 3, 3, 64 }, graph.Input(depthwise, 1)!.Shape);
            Assert.Equal(new DepthwiseConv2DOptions(Padding.Same, 1, 1, 1, Activation.Relu), depthwise.Options);
            Assert.Equal(new[] { 64, 1, 1, 64 }, graph.Input(pointwise, 1)!.Shape);
            Assert.Equal(new Conv2DOptions(Padding.Same, 1, 1, Activation.Relu), pointwise.Options);
            Assert.Equal(new[] { 1, 25, 5, 64 }, graph.Output(pointwise, 0).Shape);
        }
        Assert.Equal(new Pool2DOptions(Padding.Valid, 5, 25, 5, 25, Activation.None), graph.Operators[9].Options);
        Assert.Equal(new[] { 1, 1, 1, 64 }, graph.Output(graph.Operators[9], 0).Shape);
        Assert.Equal(new[] { 1, 64 }, graph.Output(graph.Operators[10], 0).Shape);
        Assert.Equal(new[] { 12, 64 }, graph.Input(graph.Operators[11], 1)!.Shape);
    }

    [Fact]
    public void Weights_ArePerChannelSymmetricAndBiasesUseInputTimesWeightScale()
    {
        var graph = Kws.Model.Main;
        foreach (var op in graph.Operators.Where(o => o.Kind is OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected))
        {
            var input = graph.Input(op, 0)!;
            var weights = graph.Input(op, 1)!;
            var bias = graph.Input(op, 2)!;
            var wq = weights.Quantization!;
            Assert.Equal(DataType.Int8, weights.Type);
            Assert.Equal(DataType.Int32, bias.Type);
            Assert.All(wq.ZeroPoints, z => Assert.Equal(0, z));
            if (op.Kind == OpKind.FullyConnected)
                Assert.False(wq.IsPerChannel); // per tensor, as the TFLite converter writes FULLY_CONNECTED
            else
            {
                Assert.Equal(64, wq.Scales.Count);
                Assert.Equal(op.Kind == OpKind.DepthwiseConv2D ? 3 : 0, wq.QuantizedDimension);
            }
            var values = weights.Data!.Value.ToArray().Select(b => (sbyte)b).ToArray();
            Assert.DoesNotContain((sbyte)-128, values); // symmetric range [-127, 127]
            Assert.Contains(values, v => Math.Abs((int)v) == 127); // the range is used in full
            var bq = bias.Quantization!;
            Assert.Equal(wq.Scales.Count, bq.Scales.Count);
            for (int c = 0; c < bq.Scales.Count; c++)
                Assert.Equal(input.Quantization!.Scale * wq.Scales[c], bq.Scales[c], 6);
        }
    }

    [Fact]
    public void Macs_AreThePublished2656768()
    {
        var summary = ModelSummary.Of(Kws.Model);
        Assert.Equal(2_656_768, summary.TotalMacs);
        Assert.Equal(24_376, summary.WeightsBytes); // the same parameter bytes as MLPerf's kws_ref_model
    }

    [Fact]
    public void Builder_IsDeterministic()
    {
        Assert.Equal(Kws.Bytes, new SampleModel(new KeywordSpottingModel().ToModel()).Bytes);
        Assert.NotEqual(Kws.Bytes, new SampleModel(new KeywordSpottingModel(seed: 7).ToModel()).Bytes);
    }

    [Fact]
    public void ConsoleBuilder_WritesTheSameBytesOnEveryRun()
    {
        byte[] first = SampleModel.RunBuilder("KeywordSpotting.ModelBuilder");
        Assert.Equal(first, SampleModel.RunBuilder("KeywordSpotting.ModelBuilder"));
        Assert.Equal(Kws.Bytes, first);
    }

    public static TheoryData<int> Inputs() => new() { -1, -2, -3, 1, 2, 3, 4, 5 };

    private static sbyte[] InputFor(int seed) => seed switch
    {
        -1 => Enumerable.Repeat((sbyte)Kws.Input.Quantization!.ZeroPoint, 490).ToArray(), // silence: all zeros
        -2 => Enumerable.Repeat(sbyte.MinValue, 490).ToArray(),
        -3 => Enumerable.Repeat(sbyte.MaxValue, 490).ToArray(),
        _ => Kws.RandomInput(seed),
    };

    /// <summary>
    /// The int8 softmax rounds each probability to a multiple of 1/256 (TFLM's fixed-point exp and reciprocal stay
    /// within that one step), so each of the 12 outputs is at most 1/256 off and the sum at most 12/256 ≈ 0.047 off 1.
    /// The sums we see are within 2/256.
    /// </summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public void Output_IsAProbabilityVector(int seed)
    {
        var output = Kws.Run(InputFor(seed));
        var probabilities = output.Select(v => SampleModel.Dequantize(v, Kws.Output.Quantization!)).ToArray();
        Assert.Equal(12, probabilities.Length);
        Assert.All(probabilities, p => Assert.InRange(p, 0, 1));
        Assert.InRange(probabilities.Sum(), 1 - 12.0 / 256, 1 + 12.0 / 256);
    }

    /// <summary>
    /// The int8 model computes what the float network computes: for the zero input and for inputs like the
    /// calibration data (uniform over the input range) every probability is within two output steps (2/256) of the
    /// double-precision network's. We see at most 0.0034. The check has teeth: with the biases zeroed or doubled the
    /// largest differences are 0.009 to 0.021 and every case fails. (All -128 or all 127 inputs are left out: they
    /// drive activations past their calibrated ranges, where int8 saturates and the float network does not.)
    /// </summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Output_MatchesTheFloatNetwork(int seed)
    {
        const double Tolerance = 2.0 / 256;
        var input = InputFor(seed);
        var iq = Kws.Input.Quantization!;
        var expected = new KeywordSpottingModel().Predict(input.Select(v => (float)SampleModel.Dequantize(v, iq)).ToArray());
        var actual = Kws.Run(input).Select(v => SampleModel.Dequantize(v, Kws.Output.Quantization!)).ToArray();
        double worst = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        Assert.True(worst <= Tolerance, $"largest difference {worst:F4}: int8 [{string.Join(", ", actual.Select(a => a.ToString("F3")))}], float [{string.Join(", ", expected.Select(e => e.ToString("F3")))}]");
    }

    [Fact]
    public void Plan_FitsTheReferenceArena()
    {
        // Two live 25x5x64 activations is the lower bound (16,000 B); the planner reaches it.
        Assert.Equal(16_000, Kws.Plan.ArenaBytes);
        Assert.Equal(0, Kws.Plan.StateBytes);
    }

    [Fact]
    public void LabelsFile_ListsTheMLPerfLabelsInOutputOrder()
    {
        var lines = File.ReadAllLines(Path.Combine(SharedData.Repo, "samples", "KeywordSpotting", "labels.txt"));
        Assert.Equal(KeywordSpottingModel.Labels, lines);
        Assert.Equal(new[] { "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "_silence_", "_unknown_" }, lines);
        Assert.Equal(Kws.Output.Shape[1], lines.Length);
    }
}
