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

    [Theory]
    [MemberData(nameof(FloatModels))]
    public void FloatModel_Quantizes_Runs_AndTracksTheFloatModel(string name)
    {
        var c = QuantizationCase.All.Single(x => x.FloatModel == name);
        var runner = new PlanModelRunner();
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        var quantized = PostTrainingQuantizer.Quantize(model, c.Calibration(), runner);
        Assert.True(quantized.Value is not null, string.Join("\n", quantized.Diagnostics));
        var bytes = TfliteWriter.Write(quantized.Value!.Model);
        var reread = TfliteReader.Read(bytes);
        Assert.NotNull(reread.Value);
        Assert.NotNull(Lowerer.Lower(reread.Value!).Value);

        var ours = AccuracyEvaluator.Measure(quantized.Value.FloatReference, reread.Value!, c.Validation(), runner, "validation");
        var official = AccuracyEvaluator.Measure(quantized.Value.FloatReference, TfliteReader.ReadFile(SharedData.Model(c.Int8Model)).Value!, c.Validation(), runner, "validation");
        Assert.NotNull(ours.Value);
        Assert.NotNull(official.Value);
        foreach (var (o, i) in ours.Value!.Outputs.Select((o, i) => (o, i)))
        {
            var p = official.Value!.Outputs[i];
            _output.WriteLine($"{name} output '{o.Name}': ours SQNR {o.SqnrDb:F2} dB max|err| {o.MaxAbsError:G4} top1 {o.Top1Agreement}; official SQNR {p.SqnrDb:F2} dB max|err| {p.MaxAbsError:G4} top1 {p.Top1Agreement}");
        }
    }
}
