// SPDX-License-Identifier: Apache-2.0
// Our post-training int8 quantization of every float model in ../shared/models, next to the official int8 model.
// Both are measured against the same float reference on the same validation inputs (seeds 1001-1064 of the golden
// input generator, dequantized with the official model's input parameters); ours is calibrated on seeds 1-64.
// Then FashionCnn trained on Fashion-MNIST and quantized with each range method: top-1 on the real test images.
// Usage: dotnet run -c Release --project bench/TinyML.QuantizationBench [-- --method minmax|percentile|mse | --fashion-only]
using System;
using System.Globalization;
using System.Linq;
using TinyML.Cli;
using TinyML.Compiler.Ir;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;
using TinyML.Tests;

if (args.Length == 1 && args[0] == "--fashion-only")
{
    FashionBench.Run();
    return;
}
var method = args.Length == 2 && args[0] == "--method"
    ? args[1] switch { "percentile" => RangeMethod.Percentile, "mse" => RangeMethod.Mse, "minmax" => RangeMethod.MinMax, _ => throw new ArgumentException($"unknown method {args[1]}") }
    : RangeMethod.MinMax;
string F(double v, string format) => double.IsPositiveInfinity(v) ? "inf" : v.ToString(format, CultureInfo.InvariantCulture);
string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
long WeightBytes(Model m) => m.Main.Tensors.Where(t => t.IsConstant).Sum(t => (long)t.Data!.Value.Length);
string Top1(double? a) => a is double x ? x.ToString("P0", CultureInfo.InvariantCulture) : "-";

var runner = new PlanModelRunner();
Console.WriteLine($"Range method: {method}. Validation: {QuantizationCase.CalibrationSeeds} samples per model, calibration: {QuantizationCase.CalibrationSeeds} others.");
Console.WriteLine();
Console.WriteLine("| float model | official int8 | same float weights | ours: SQNR dB | official: SQNR dB | ours − official dB | ours: top-1 | official: top-1 | ours: max abs err | official: max abs err | float weight B | ours: weight B | official: weight B | ours / official weights |");
Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var c in QuantizationCase.All)
{
    var floatModel = TfliteReader.ReadFile(SharedData.Model(c.FloatModel)).Value!;
    var official = TfliteReader.ReadFile(SharedData.Model(c.Int8Model)).Value!;
    var quantized = PostTrainingQuantizer.Quantize(floatModel, c.Calibration(), runner, new QuantizationOptions { Method = method });
    if (quantized.Value is not { } q)
    {
        Console.WriteLine($"| {c.FloatModel} | {c.Int8Model} | failed: {quantized.Diagnostics[0]} |");
        continue;
    }
    bool sameWeights = c.SameFloatWeights;
    var ours = AccuracyEvaluator.Measure(q.FloatReference, TfliteReader.Read(TfliteWriter.Write(q.Model)).Value!, c.Validation(), runner, "validation").Value!.Outputs[0];
    var theirs = AccuracyEvaluator.Measure(q.FloatReference, official, c.Validation(), runner, "validation").Value!.Outputs[0];
    long ourWeights = WeightBytes(q.Model), officialWeights = WeightBytes(official);
    Console.WriteLine($"| {c.FloatModel} | {c.Int8Model} | {(sameWeights ? "yes" : "no")} | {F(ours.SqnrDb, "F2")} | {F(theirs.SqnrDb, "F2")} | {F(ours.SqnrDb - theirs.SqnrDb, "+0.00;-0.00")} | " +
        $"{Top1(ours.Top1Agreement)} | {Top1(theirs.Top1Agreement)} | {F(ours.MaxAbsError, "G3")} | {F(theirs.MaxAbsError, "G3")} | " +
        $"{N(WeightBytes(floatModel))} | {N(ourWeights)} | {N(officialWeights)} | {((double)ourWeights / officialWeights).ToString("F3", CultureInfo.InvariantCulture)} |");
}
Console.WriteLine();
FashionBench.Run();
