// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Cli;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Float LOGISTIC and TANH end to end: the float model runs on the native float kernels (host executor and emitted C),
/// the quantizer observes it, gives the outputs the specification's fixed int8 parameters, and the int8 model runs
/// in our runtime close to the float one.
/// </summary>
public sealed class QuantizationActivationTests : IDisposable
{
    private const int Inputs = 8, Units = 6;
    private static readonly PlanModelRunner Runner = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-act-{Guid.NewGuid():N}");

    public QuantizationActivationTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<OpKind> Activations() => new() { OpKind.Logistic, OpKind.Tanh };

    // Deterministic weights in [-0.5, 0.5] and biases in [-0.3, 0.3]; with inputs in [-2, 2] every pre-activation
    // stays within |z| <= 8 * 0.5 * 2 + 0.3 = 8.3 (checked below), so LOGISTIC never takes TFLM's e^x branch (x < -9).
    private static float[] Weights() => Enumerable.Range(0, Units * Inputs).Select(i => ((i * 29 + 7) % 21 - 10) / 20f).ToArray();

    private static float[] Biases() => Enumerable.Range(0, Units).Select(i => (i % 7 - 3) / 10f).ToArray();

    /// <summary>float x [1, 8] → FULLY_CONNECTED (6 units, bias) → LOGISTIC or TANH → y [1, 6].</summary>
    private static Model FullyConnectedThen(OpKind activation)
    {
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, new[] { 1, Inputs });
        int w = b.Constant("w", new[] { Units, Inputs }, Weights());
        int bias = b.Constant("b", new[] { Units }, Biases());
        int z = b.Tensor("z", DataType.Float32, new[] { 1, Units });
        b.Operator(OpKind.FullyConnected, new[] { x, w, bias }, new[] { z }, new FullyConnectedOptions(Activation.None, 0, false, false));
        int y = b.Tensor("y", DataType.Float32, new[] { 1, Units });
        b.Operator(activation, new[] { z }, new[] { y });
        return b.Inputs(x).Outputs(y).Build();
    }

    private static CalibrationSet Samples(int count, int seed)
    {
        var random = new Random(seed);
        return new CalibrationSet(Enumerable.Range(0, count)
            .Select(_ => new[] { Enumerable.Range(0, Inputs).Select(_ => (float)(-2 + 4 * random.NextDouble())).ToArray() }).ToList(), Array.Empty<string>());
    }

    /// <summary>The model's function in double: z = W x + b, then 1 / (1 + e^-z) or tanh z.</summary>
    private static double[] Reference(OpKind activation, float[] x, out double maxAbsZ)
    {
        var w = Weights();
        var bias = Biases();
        var y = new double[Units];
        maxAbsZ = 0;
        for (int u = 0; u < Units; u++)
        {
            double z = bias[u];
            for (int i = 0; i < Inputs; i++) z += (double)w[u * Inputs + i] * x[i];
            maxAbsZ = Math.Max(maxAbsZ, Math.Abs(z));
            y[u] = activation == OpKind.Logistic ? 1 / (1 + Math.Exp(-z)) : Math.Tanh(z);
        }
        return y;
    }

    private static float[] RunFloat(PlanExecutor executor, float[] x)
    {
        MemoryMarshal.AsBytes(x.AsSpan()).CopyTo(executor.Input(0));
        executor.Run();
        return MemoryMarshal.Cast<byte, float>(executor.Output(0)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void FloatModel_RunsOnTheHost_AndMatchesADoubleReference(OpKind activation)
    {
        var plan = Lowerer.Lower(FullyConnectedThen(activation));
        Assert.True(plan.Value is not null, string.Join("\n", plan.Diagnostics));
        string kernel = activation == OpKind.Logistic ? "tml_logistic_f32" : "tml_tanh_f32";
        Assert.Contains(kernel, plan.Value!.Kernels);
        using var executor = new PlanExecutor(plan.Value);
        double worst = 0;
        foreach (var sample in Samples(200, seed: 11).Samples)
        {
            var actual = RunFloat(executor, sample[0]);
            var expected = Reference(activation, sample[0], out double maxAbsZ);
            Assert.True(maxAbsZ < 9, $"pre-activation {maxAbsZ} leaves the range the tolerance assumes");
            for (int u = 0; u < Units; u++) worst = Math.Max(worst, Math.Abs(actual[u] - expected[u]));
        }
        // The float FC sums 8 products of magnitude <= 1 (plus the bias) with one rounding each: |error in z| <=
        // 9 * 2^-24 * 8.3 < 5e-6; both functions have slope <= 1, and the kernels add at most 4 ulps of a value
        // <= 1 (2.4e-7, see test_activation_f32.c). 1e-5 covers both with margin; a wrong formula (e.g. e^x instead
        // of e^-x, or a missing bias) is off by more than 1e-2.
        Assert.True(worst < 1e-5, $"largest difference {worst}");
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void FloatModel_EmittedC_GivesTheHostExecutorsBytes(OpKind activation)
    {
        var plan = Lowerer.Lower(FullyConnectedThen(activation)).Value!;
        string exe = CEmitterHostTests.BuildHostProgram(plan, _dir).Executable;
        using var executor = new PlanExecutor(plan);
        int k = 0;
        foreach (var sample in Samples(8, seed: 3).Samples)
        {
            string input = Path.Combine(_dir, $"in_{k}.bin"), output = Path.Combine(_dir, $"out_{k++}.bin");
            File.WriteAllBytes(input, MemoryMarshal.AsBytes(sample[0].AsSpan()).ToArray());
            var run = CEmitterHostTests.Run(exe, input, output);
            Assert.True(run.Code == 0, $"exit {run.Code} {run.Output}");
            var host = RunFloat(executor, sample[0]);
            Assert.Equal(MemoryMarshal.AsBytes(host.AsSpan()).ToArray(), File.ReadAllBytes(output));
        }
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Quantized_HasTheFixedOutputParameters_RunsInOurRuntime_AndTracksTheFloat(OpKind activation)
    {
        var model = FullyConnectedThen(activation);
        var q = PostTrainingQuantizer.Quantize(model, Samples(256, seed: 1), Runner);
        Assert.True(q.Value is not null, string.Join("\n", q.Diagnostics));
        // Through our writer and reader, as `tinyml quantize` writes it.
        var int8 = TfliteReader.Read(TfliteWriter.Write(q.Value!.Model)).Value!;
        var g = int8.Main;
        var y = g.Tensors[g.Outputs[0]];
        var z = g.Tensors.Single(t => t.Name == "z");
        Assert.Equal(DataType.Int8, y.Type);
        var expectedOutput = activation == OpKind.Logistic ? Quantization.PerTensor(1f / 256, -128) : Quantization.PerTensor(1f / 128, 0);
        Assert.Equal(expectedOutput, y.Quantization);
        Assert.Equal(2, g.Operators.Single(o => o.Kind == activation).Version);
        // The input of the activation is observed, not fixed: its range covers the calibration's pre-activations.
        Assert.NotEqual(expectedOutput, z.Quantization);

        var plan = Lowerer.Lower(int8);
        Assert.True(plan.Value is not null, string.Join("\n", plan.Diagnostics));
        Assert.Contains(activation == OpKind.Logistic ? "tml_logistic_s8" : "tml_tanh_s8", plan.Value!.Kernels);
        using var executor = new PlanExecutor(plan.Value);
        var xq = g.Tensors[g.Inputs[0]].Quantization!;
        double signal = 0, noise = 0;
        foreach (var sample in Samples(64, seed: 77).Samples)
        {
            var input = executor.Input(0);
            for (int i = 0; i < Inputs; i++)
                input[i] = (byte)(sbyte)Math.Clamp(Math.Round(sample[0][i] / xq.Scale, MidpointRounding.AwayFromZero) + xq.ZeroPoint, -128, 127);
            executor.Run();
            var output = MemoryMarshal.Cast<byte, sbyte>(executor.Output(0));
            var expected = Reference(activation, sample[0], out _);
            for (int u = 0; u < Units; u++)
            {
                double actual = (output[u] - y.Quantization!.ZeroPoint) * (double)y.Quantization.Scale;
                signal += expected[u] * expected[u];
                noise += (actual - expected[u]) * (actual - expected[u]);
            }
        }
        double sqnr = 10 * Math.Log10(signal / noise);
        // Noise sources, as standard deviations. On z: its own rounding (the calibrated range is about 5.4, step 0.021:
        // 0.006), the input's (step 4/255 = 0.0157, passed through a row of weights with norm 0.85: 0.004) and the
        // weights' (step 0.5/127, times |x| over 8 inputs: 0.004), together about 0.008. The activation passes that on
        // with slope <= 0.25 (LOGISTIC) or <= 1 (TANH) and adds its output rounding, step/sqrt(12) = 0.0011 (1/256) or
        // 0.0023 (1/128). With output RMS about 0.55 (LOGISTIC, values around 0.5) and 0.6 (TANH, z has RMS about 1)
        // that predicts at least about 47 dB and 37 dB (the slope bound is pessimistic for TANH; the fixed-point
        // kernels add up to an LSB). Measured: 45.8 and 40.7 dB. The bounds leave about 6 dB of margin; a wrong
        // output scale or zero point, or a LOGISTIC/TANH mix-up, lands far below them.
        double bound = activation == OpKind.Logistic ? 40 : 34;
        Assert.True(sqnr > bound, $"SQNR {sqnr:F1} dB");

        // The quantizer's own report (float graph vs int8 graph, both run on our kernels) agrees in magnitude.
        var report = AccuracyEvaluator.Measure(q.Value.FloatReference, q.Value.Model, Samples(64, seed: 77), Runner, "validation").Value!;
        Assert.True(report.Outputs[0].SqnrDb > bound, $"report SQNR {report.Outputs[0].SqnrDb:F1} dB");
    }
}
