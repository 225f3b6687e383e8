// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.PostTraining;

/// <summary>How closely one output of a quantized model follows the float model.</summary>
/// <param name="Name">The output tensor's name in the float model.</param>
/// <param name="SqnrDb">Signal-to-quantization-noise ratio over every sample: 10·log10(Σ float² / Σ (float − int8)²);
/// +∞ when the outputs are identical.</param>
/// <param name="MaxAbsError">The largest |float − dequantized int8| over every element of every sample.</param>
/// <param name="Top1Agreement">For classifiers (a SOFTMAX output of more than one class): the fraction of samples
/// whose arg-max class is the same; null otherwise.</param>
/// <param name="Samples">The number of samples compared.</param>
public sealed record OutputAccuracy(string Name, double SqnrDb, double MaxAbsError, double? Top1Agreement, int Samples);

/// <summary>The accuracy cost of a quantized model, per output.</summary>
public sealed record AccuracyReport(IReadOnlyList<OutputAccuracy> Outputs, string DataSet)
{
    /// <summary>The lowest SQNR over the outputs.</summary>
    public double WorstSqnrDb => Outputs.Count == 0 ? double.PositiveInfinity : Outputs.Min(o => o.SqnrDb);

    /// <summary>Warnings (TML2005) for outputs whose SQNR is under <paramref name="thresholdDb"/>.</summary>
    public IReadOnlyList<Diagnostic> Warnings(double thresholdDb, string? file = null) =>
        Outputs.Where(o => o.SqnrDb < thresholdDb).Select(o => new Diagnostic(DiagnosticIds.LowQuantizationAccuracy, Severity.Warning,
            $"output '{o.Name}': SQNR {o.SqnrDb:F1} dB against the float model is under {thresholdDb:F1} dB on the {DataSet} set; " +
            "try --method percentile or mse, more representative calibration data, or float32 execution")
        { File = file, TensorName = o.Name }).ToList();
}

/// <summary>Runs a float model and a quantized model on the same samples and compares their outputs.</summary>
public static class AccuracyEvaluator
{
    /// <summary>
    /// Compares <paramref name="quantized"/> (int8 or float edges) with <paramref name="floatModel"/> on
    /// <paramref name="samples"/>. The quantized model's int8 inputs get the samples quantized with their own
    /// parameters; its int8 outputs are dequantized with theirs.
    /// </summary>
    public static Result<AccuracyReport> Measure(Model floatModel, Model quantized, CalibrationSet samples, IModelRunner runner, string dataSet)
    {
        var fg = floatModel.Main;
        var qg = quantized.Main;
        if (fg.Inputs.Count != qg.Inputs.Count || fg.Outputs.Count != qg.Outputs.Count)
            return Fail("the float and quantized models have different inputs or outputs");
        for (int i = 0; i < fg.Outputs.Count; i++)
            if (fg.Tensors[fg.Outputs[i]].ElementCount != qg.Tensors[qg.Outputs[i]].ElementCount)
                return Fail($"output {i} has {fg.Tensors[fg.Outputs[i]].ElementCount} elements in the float model and {qg.Tensors[qg.Outputs[i]].ElementCount} in the quantized one");
        var floatRun = runner.Prepare(floatModel, fg.Outputs.ToArray());
        if (floatRun.Value is null) return new Result<AccuracyReport>(null, floatRun.Diagnostics);
        using var floatSession = floatRun.Value;
        var quantRun = runner.Prepare(quantized, qg.Outputs.ToArray());
        if (quantRun.Value is null) return new Result<AccuracyReport>(null, quantRun.Diagnostics);
        using var quantSession = quantRun.Value;

        int outputs = fg.Outputs.Count;
        var signal = new double[outputs];
        var noise = new double[outputs];
        var maxError = new double[outputs];
        var agree = new int[outputs];
        bool[] classifier = fg.Outputs.Select(t => fg.Operators.Any(o => o.Kind == OpKind.Softmax && o.Outputs.Contains(t)) && fg.Tensors[t].ElementCount > 1).ToArray();
        foreach (var sample in samples.Samples)
        {
            var reference = floatSession.Run(sample.Select(PostTrainingQuantizer.Bytes).ToArray());
            var quantInputs = new byte[sample.Length][];
            for (int i = 0; i < sample.Length; i++)
            {
                var tensor = qg.Tensors[qg.Inputs[i]];
                quantInputs[i] = tensor.Type switch
                {
                    DataType.Float32 => PostTrainingQuantizer.Bytes(sample[i]),
                    DataType.Int8 => sample[i].Select(v => (byte)QuantizationMath.Quantize(v, tensor.Quantization!.Scale, tensor.Quantization.ZeroPoint)).ToArray(),
                    _ => throw new NotSupportedException($"input type {DataTypes.Name(tensor.Type)}"),
                };
            }
            var actual = quantSession.Run(quantInputs);
            for (int o = 0; o < outputs; o++)
            {
                var f = PostTrainingQuantizer.Floats(reference[o]);
                var q = AsReal(actual[o], qg.Tensors[qg.Outputs[o]]);
                for (int k = 0; k < f.Length; k++)
                {
                    double e = f[k] - q[k];
                    signal[o] += (double)f[k] * f[k];
                    noise[o] += e * e;
                    maxError[o] = Math.Max(maxError[o], Math.Abs(e));
                }
                if (classifier[o] && ArgMax(f) == ArgMax(q)) agree[o]++;
            }
        }
        var results = Enumerable.Range(0, outputs).Select(o => new OutputAccuracy(
            fg.Tensors[fg.Outputs[o]].Name, Sqnr(signal[o], noise[o]), maxError[o],
            classifier[o] ? (double)agree[o] / samples.Samples.Count : null, samples.Samples.Count)).ToList();
        return new Result<AccuracyReport>(new AccuracyReport(results, dataSet), Array.Empty<Diagnostic>());
    }

    /// <summary>10·log10(signal / noise); +∞ without noise.</summary>
    public static double Sqnr(double signal, double noise) =>
        noise == 0 ? double.PositiveInfinity : signal == 0 ? double.NegativeInfinity : 10 * Math.Log10(signal / noise);

    private static double[] AsReal(byte[] bytes, Tensor tensor) => tensor.Type switch
    {
        DataType.Float32 => MemoryMarshal.Cast<byte, float>(bytes.AsSpan()).ToArray().Select(v => (double)v).ToArray(),
        DataType.Int8 => bytes.Select(b => QuantizationMath.Dequantize((sbyte)b, tensor.Quantization!.Scale, tensor.Quantization.ZeroPoint)).ToArray(),
        _ => throw new NotSupportedException($"output type {DataTypes.Name(tensor.Type)}"),
    };

    private static int ArgMax(IReadOnlyList<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Count; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static int ArgMax(float[] values) => ArgMax(values.Select(v => (double)v).ToArray());

    private static Result<AccuracyReport> Fail(string message) =>
        new(null, new[] { new Diagnostic(DiagnosticIds.QuantizationFailed, Severity.Error, message) });
}
