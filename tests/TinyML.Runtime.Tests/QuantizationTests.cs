// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Post-training quantization of every float model in ../shared/models, measured against the float model on the
/// native float kernels and set next to the official int8 model's figures on the same samples.
/// </summary>
public class QuantizationTests
{
    private readonly ITestOutputHelper _output;

    public QuantizationTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> FloatModels() => new(QuantizationCase.All.Select(c => c.FloatModel));

    [Fact]
    public void CalibrationGenerator_ReproducesTheGoldenInputFiles()
    {
        foreach (var c in QuantizationCase.All)
            for (int seed = 1; seed <= 3; seed++)
            {
                var expected = File.ReadAllBytes(c.GoldenInputFile(seed));
                var actual = QuantizationCase.GoldenInt8Input((uint)seed, expected.Length).Select(v => (byte)v).ToArray();
                Assert.Equal(expected, actual);
            }
    }

    /// <summary>
    /// The bounds, per output, on a validation set the calibration never saw (seeds 101-116):
    /// - SQNR of at least 18 dB for every model. One int8 rounding of a full-scale signal costs about 50 dB
    ///   (6.02 × 8 + 1.76); the deep graphs here add one such noise per layer on activations that use part of their
    ///   range, and the official converter's own results on these inputs sit between 21 and 27 dB. 18 dB (noise
    ///   amplitude 1/8 of the signal) leaves 3 dB of margin under the weakest of them.
    /// - Where the official int8 model is a quantization of the same float weights (its own SQNR against the float
    ///   model is at least 15 dB), ours must not be more than 1 dB worse than it; top-1 agreement must not be lower.
    ///   kws is the exception: its weights are those of kws_float (within int8 rounding), but its activation ranges
    ///   were calibrated on real MFCC features, and these random inputs spread over its whole input range saturate
    ///   3-8% of its ReLU outputs at 127 (../shared/golden/kws/tensors_1), so it tracks the float model at about 1 dB
    ///   and is no yardstick here. The comparison favours us on every model for the same reason: our ranges come
    ///   from the distribution we validate on. bench/README.md says so next to the table.
    /// - Classifiers agree with the float model on the top-1 class of at least 15 of 16 samples.
    /// </summary>
    [Theory]
    [MemberData(nameof(FloatModels))]
    public void FloatModel_Quantizes_Runs_AndTracksTheFloatModel(string name)
    {
        var c = QuantizationCase.All.Single(x => x.FloatModel == name);
        var runner = new PlanModelRunner();
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        var quantized = PostTrainingQuantizer.Quantize(model, c.Calibration(), runner);
        Assert.True(quantized.Value is not null, string.Join("\n", quantized.Diagnostics));
        var reread = TfliteReader.Read(TfliteWriter.Write(quantized.Value!.Model));
        Assert.True(reread.Value is not null, string.Join("\n", reread.Diagnostics));
        Assert.NotNull(Lowerer.Lower(reread.Value!).Value);
        var officialModel = TfliteReader.ReadFile(SharedData.Model(c.Int8Model)).Value!;
        AssertSameLayoutAsOfficial(reread.Value!, officialModel);

        var ours = AccuracyEvaluator.Measure(quantized.Value.FloatReference, reread.Value!, c.Validation(), runner, "validation").Value!;
        var official = AccuracyEvaluator.Measure(quantized.Value.FloatReference, officialModel, c.Validation(), runner, "validation").Value!;
        for (int i = 0; i < ours.Outputs.Count; i++)
        {
            var (o, p) = (ours.Outputs[i], official.Outputs[i]);
            _output.WriteLine($"{name} output '{o.Name}' on {o.Samples} validation samples: ours SQNR {o.SqnrDb:F2} dB, max |err| {o.MaxAbsError:G4}, top-1 {o.Top1Agreement?.ToString("P0") ?? "-"}; " +
                $"official {c.Int8Model}: SQNR {p.SqnrDb:F2} dB, max |err| {p.MaxAbsError:G4}, top-1 {p.Top1Agreement?.ToString("P0") ?? "-"}");
            Assert.True(o.SqnrDb >= 18, $"SQNR {o.SqnrDb:F2} dB < 18 dB");
            if (p.SqnrDb >= 15)
            {
                Assert.True(o.SqnrDb >= p.SqnrDb - 1, $"SQNR {o.SqnrDb:F2} dB is more than 1 dB under the official model's {p.SqnrDb:F2} dB");
                if (p.Top1Agreement is double theirs) Assert.True(o.Top1Agreement >= theirs, $"top-1 agreement {o.Top1Agreement} < official {theirs}");
            }
            if (o.Top1Agreement is double agreement) Assert.True(agreement >= 15.0 / 16, $"top-1 agreement {agreement:P0}");
        }
    }

    /// <summary>The same operators at the same versions, and the same weight and bias quantization layout
    /// (per-channel along the same dimension, or per-tensor) as TFLite's converter wrote.</summary>
    private static void AssertSameLayoutAsOfficial(Model ours, Model official)
    {
        var a = ours.Main;
        var b = official.Main;
        Assert.Equal(b.Operators.Select(o => $"{o.TypeName} v{o.Version}"), a.Operators.Select(o => $"{o.TypeName} v{o.Version}"));
        for (int i = 0; i < a.Operators.Count; i++)
            for (int k = 0; k < a.Operators[i].Inputs.Count; k++)
            {
                var x = a.Input(a.Operators[i], k);
                var y = b.Input(b.Operators[i], k);
                if (x is not { IsConstant: true } || y is null || y.Type == DataType.Int32 && y.Quantization is null) continue;
                Assert.Equal(y.Type, x.Type);
                Assert.Equal(y.Quantization?.Scales.Count, x.Quantization?.Scales.Count);
                if (y.Quantization is { IsPerChannel: true }) Assert.Equal(y.Quantization.QuantizedDimension, x.Quantization!.QuantizedDimension);
            }
        Assert.Equal(b.Tensors[b.Inputs[0]].Type, a.Tensors[a.Inputs[0]].Type);
        Assert.Equal(b.Tensors[b.Outputs[0]].Quantization!.Scale * (a.Operators[^1].Kind == OpKind.Softmax ? 1 : 0),
            a.Tensors[a.Outputs[0]].Quantization!.Scale * (a.Operators[^1].Kind == OpKind.Softmax ? 1 : 0));
    }

    [Fact]
    public void FloatIo_AddsQuantizeAndDequantize_AndMatchesInt8Io()
    {
        var c = QuantizationCase.All.Single(x => x.FloatModel == "kws_float");
        var runner = new PlanModelRunner();
        var model = TfliteReader.ReadFile(SharedData.Model(c.FloatModel)).Value!;
        var int8Io = PostTrainingQuantizer.Quantize(model, c.Calibration(), runner).Value!;
        var floatIo = PostTrainingQuantizer.Quantize(model, c.Calibration(), runner, new QuantizationOptions { FloatIo = true }).Value!;
        var g = TfliteReader.Read(TfliteWriter.Write(floatIo.Model)).Value!.Main;
        Assert.Equal(OpKind.Quantize, g.Operators[0].Kind);
        Assert.Equal(OpKind.Dequantize, g.Operators[^1].Kind);
        Assert.Equal(DataType.Float32, g.Tensors[g.Inputs[0]].Type);
        Assert.Equal(DataType.Float32, g.Tensors[g.Outputs[0]].Type);
        Assert.Equal(model.Main.Tensors[model.Main.Inputs[0]].Name, g.Tensors[g.Inputs[0]].Name);
        var a = AccuracyEvaluator.Measure(int8Io.FloatReference, int8Io.Model, c.Validation(), runner, "validation").Value!.Outputs[0];
        var b = AccuracyEvaluator.Measure(floatIo.FloatReference, floatIo.Model, c.Validation(), runner, "validation").Value!.Outputs[0];
        _output.WriteLine($"int8 I/O {a.SqnrDb:F3} dB, float I/O {b.SqnrDb:F3} dB");
        // The same int8 graph in between: only the edge conversions differ (QUANTIZE in float32 vs ours in double).
        Assert.InRange(b.SqnrDb, a.SqnrDb - 0.1, a.SqnrDb + 0.1);
    }

    [Theory]
    [InlineData(RangeMethod.Percentile)]
    [InlineData(RangeMethod.Mse)]
    public void OtherRangeMethods_GiveValidModels(RangeMethod method)
    {
        var runner = new PlanModelRunner();
        foreach (var c in QuantizationCase.All)
        {
            var model = TfliteReader.ReadFile(SharedData.Model(c.FloatModel)).Value!;
            var minMax = PostTrainingQuantizer.Quantize(model, c.Calibration(), runner).Value!;
            var other = PostTrainingQuantizer.Quantize(model, c.Calibration(), runner, new QuantizationOptions { Method = method }).Value!;
            Assert.NotNull(Lowerer.Lower(other.Model).Value);
            var a = AccuracyEvaluator.Measure(minMax.FloatReference, minMax.Model, c.Validation(), runner, "validation").Value!.Outputs[0];
            var b = AccuracyEvaluator.Measure(other.FloatReference, other.Model, c.Validation(), runner, "validation").Value!.Outputs[0];
            _output.WriteLine($"{c.FloatModel}: min/max {a.SqnrDb:F2} dB, {method} {b.SqnrDb:F2} dB");
            // Clipping trades outliers for resolution; on these inputs it must stay within 6 dB of min/max.
            Assert.True(b.SqnrDb >= a.SqnrDb - 6, $"{method}: {b.SqnrDb:F2} dB vs min/max {a.SqnrDb:F2} dB");
            // The clipped ranges are no wider than min/max ones.
            var scalesA = minMax.Model.Main.Tensors.Where(t => !t.IsConstant && t.Quantization is { HasScales: true }).Select(t => t.Quantization!.Scale).ToArray();
            var scalesB = other.Model.Main.Tensors.Where(t => !t.IsConstant && t.Quantization is { HasScales: true }).Select(t => t.Quantization!.Scale).ToArray();
            Assert.All(scalesA.Zip(scalesB), p => Assert.True(p.Second <= p.First * 1.0001f, $"{p.Second} > {p.First}"));
        }
    }
}
