// SPDX-License-Identifier: Apache-2.0
// On-device learning on real data (docs/training.md). FashionCnn is trained in float on a source task, Fashion-MNIST
// classes 0-7 (the head keeps 10 rows; rows 8 and 9 stay untrained), quantized to int8 by our quantizer (calibrated on
// source-task training images), and compiled with Train="head". The target task: learn the 2 held-out classes (Bag,
// Ankle boot) without losing the 8, from k labelled training images per class of all 10 classes, through the same
// PlanExecutor training calls the generated class's Train makes. Top-1 on the 10,000 test images, averaged over seeds:
// no adaptation, our int8 head training, and float SGD of the same head parameters on the float network's features
// (the upper reference). Then memory, and instructions per inference and per training step under QEMU.
// Usage: dotnet run -c Release --project bench/TinyML.TrainingBench [-- --no-device]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Cli;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Device;
using TinyML.Runtime;
using TinyML.Samples;
using TinyML.Tests;

const int SourceSeed = 1, SourceEpochs = 3, Batch = 32, CalibrationImages = 300, Epochs = 15;
const float SourceRate = 0.002f;
const double Rate = 0.02;
int[] shots = { 10, 20, 50 };
int[] seeds = { 1, 2, 3 };
int[] source = Enumerable.Range(0, 8).ToArray();
int[] heldOut = { 8, 9 };
string P(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture) + "%";
string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

var data = FashionMnist.Load();
var clock = Stopwatch.StartNew();
var network = new FashionCnn(SourceSeed);
var training = Enumerable.Range(0, data.Train.Count).ToArray();
for (int epoch = 0; epoch < SourceEpochs; epoch++)
    network.TrainEpoch(data.Train, training, source, SourceRate, Batch, SourceSeed + epoch);
Console.Error.WriteLine($"source task trained in {clock.Elapsed.TotalSeconds:F0} s");

var sourceImages = training.Where(i => data.Train.Labels[i] < 8).ToArray();
var calibration = new CalibrationSet(Enumerable.Range(0, CalibrationImages)
    .Select(k => new[] { Pixels(data.Train.Image(sourceImages[k * (sourceImages.Length / CalibrationImages)])) }).ToArray(), Array.Empty<string>());
var quantized = PostTrainingQuantizer.Quantize(network.ToModel(), calibration, new PlanModelRunner(), new QuantizationOptions());
var model = TfliteReader.Read(TfliteWriter.Write(quantized.Value?.Model ?? throw new InvalidOperationException(string.Join("; ", quantized.Diagnostics)))).Value!;
string[] modes = { "head", "biases:1", "biases:2", "biases:3" };
ExecutionPlan Compile(string mode, string target = ExecutionPlan.HostTarget) =>
    Lowerer.Lower(model, "fashion.tflite", LoweringOptions.Default with { Train = new TrainingOptions(mode, (float)Rate), Target = target }).Value
    ?? throw new InvalidOperationException($"the quantized model did not compile with Train={mode}");
var plans = modes.ToDictionary(m => m, m => Compile(m));
var plan = plans["head"];
var input = plan.Inputs[0];

var testFeatures = Enumerable.Range(0, data.Test.Count).Select(i => network.HeadInput(data.Test.Image(i))).ToArray();
var executors = modes.ToDictionary(m => m, m => new PlanExecutor(plans[m]));
var executor = executors["head"];
Console.Error.WriteLine($"compiled; evaluating ({clock.Elapsed.TotalSeconds:F0} s)");

// Top-1 over all test images, over the source classes' and over the held-out classes'.
(double All, double Source, double New) Score(Func<int, int> predict)
{
    int[] correct = new int[10], total = new int[10];
    for (int i = 0; i < data.Test.Count; i++)
    {
        int label = data.Test.Labels[i];
        total[label]++;
        if (predict(i) == label) correct[label]++;
    }
    double Of(IEnumerable<int> classes) => classes.Sum(c => correct[c]) / (double)classes.Sum(c => total[c]);
    return (Of(Enumerable.Range(0, 10)), Of(source), Of(heldOut));
}
void SetImage(PlanExecutor executor, ReadOnlySpan<byte> image)
{
    var arena = executor.Input(0);
    for (int k = 0; k < image.Length; k++)
        arena[k] = (byte)(sbyte)Math.Clamp(Math.Round(image[k] / 255.0 / input.Scale, MidpointRounding.AwayFromZero) + input.ZeroPoint, -128, 127);
}
int Int8Predict(PlanExecutor executor, int i)
{
    SetImage(executor, data.Test.Image(i));
    executor.Run();
    var p = executor.Output(0);
    int best = 0;
    for (int k = 1; k < p.Length; k++)
        if ((sbyte)p[k] > (sbyte)p[best]) best = k;
    return best;
}

var before = Score(i => Int8Predict(executor, i));
var floatBefore = Score(i => new SoftmaxHead(network).Predict(testFeatures[i]));
Console.WriteLine($"Source task: FashionCnn ({N(network.MacsPerInference)} MACs) trained on classes 0-7 ({SourceEpochs} epochs, seed {SourceSeed}); " +
    $"int8 by our quantizer (minmax, {CalibrationImages} source-task training images). Target task: the held-out classes " +
    $"{FashionMnist.ClassNames[8]} and {FashionMnist.ClassNames[9]} plus the 8 source classes, from k training images per class; " +
    $"{Epochs} passes of SGD (one sample per step, rate {Rate.ToString(CultureInfo.InvariantCulture)}) over what Train names: head = FULLY_CONNECTED {network.Hidden} → 10, " +
    $"biases:1 adds the {network.Hidden} biases of the hidden FULLY_CONNECTED, biases:2 also the {network.C2} of the second CONV_2D, biases:3 also the {network.C1} of the first. " +
    $"Top-1 (all / source classes / new classes) on the 10,000 test images, mean over seeds {string.Join(", ", seeds)}.");
Console.WriteLine();
Console.WriteLine("| k per class | samples | no adaptation, int8 | " + string.Join(" | ", modes.Select(m => $"ours, int8 Train=\"{m}\"")) + " | float SGD of the head | head: ours − float (all, points) |");
Console.WriteLine("|---:|---:|---|" + string.Concat(modes.Select(_ => "---|")) + "---|---:|");
foreach (int k in shots)
{
    var ours = modes.ToDictionary(m => m, _ => new List<(double All, double Source, double New)>());
    var reference = new List<(double All, double Source, double New)>();
    foreach (int seed in seeds)
    {
        var random = new DeterministicRandom((ulong)(1000 * k + seed));
        var chosen = Enumerable.Range(0, 10).SelectMany(c => training.Where(i => data.Train.Labels[i] == c).OrderBy(_ => random.NextUInt64()).Take(k)).ToList();
        foreach (var e in executors.Values)
        {
            e.ResetWeights();
            e.LearningRate = Rate;
        }
        var floatHead = new SoftmaxHead(network);
        var features = chosen.ToDictionary(i => i, i => network.HeadInput(data.Train.Image(i)));
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            foreach (int i in chosen.OrderBy(_ => random.NextUInt64()).ToList())
            {
                foreach (var e in executors.Values)
                {
                    SetImage(e, data.Train.Image(i));
                    e.Train(data.Train.Labels[i]);
                }
                floatHead.Step(features[i], data.Train.Labels[i], (float)Rate);
            }
        }
        foreach (var m in modes) ours[m].Add(Score(i => Int8Predict(executors[m], i)));
        reference.Add(Score(i => floatHead.Predict(testFeatures[i])));
    }
    string Mean(List<(double All, double Source, double New)> r) => $"{P(r.Average(x => x.All))} / {P(r.Average(x => x.Source))} / {P(r.Average(x => x.New))}";
    Console.WriteLine($"| {k} | {10 * k} | {P(before.All)} / {P(before.Source)} / {P(before.New)} | {string.Join(" | ", modes.Select(m => Mean(ours[m])))} | {Mean(reference)} | " +
        $"{(100 * (ours["head"].Average(x => x.All) - reference.Average(x => x.All))).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture)} |");
}
Console.WriteLine();
Console.WriteLine($"Before any adaptation the float network scores {P(floatBefore.All)} / {P(floatBefore.Source)} / {P(floatBefore.New)}.");
Console.Error.WriteLine($"adaptation done ({clock.Elapsed.TotalSeconds:F0} s)");

// Memory: what Train="head" adds, on the host plan and, measured from the ELF, on the devices.
var inference = Lowerer.Lower(model, "fashion.tflite").Value!;
Console.WriteLine();
Console.WriteLine("| plan | arena B | state B | trainable region B | RAM B (arena + state + region) | constants B (flash) | trained values |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
Console.WriteLine($"| inference | {N(inference.ArenaBytes)} | {N(inference.StateBytes)} | 0 | {N(inference.ArenaBytes + inference.StateBytes)} | {N(inference.ConstantBytes)} | 0 |");
foreach (var (m, p) in plans)
    Console.WriteLine($"| Train=\"{m}\" | {N(p.ArenaBytes)} | {N(p.StateBytes)} | {N(p.ParameterBytes)} | {N(p.ArenaBytes + p.StateBytes + p.ParameterBytes)} | {N(p.ConstantBytes)} (+{N(p.ParameterBytes)} initial image) | {N(p.Training!.TrainedValues)} |");

// The shared models a user might bring: what each Train mode adds, or why the model cannot be trained that way.
Console.WriteLine();
Console.WriteLine("| shared model | inference RAM B | Train=\"head\" | Train=\"biases:1\" | Train=\"biases:2\" | Train=\"biases:3\" |");
Console.WriteLine("|---|---:|---|---|---|---|");
foreach (string name in SharedModels())
{
    var shared = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
    var plain = Lowerer.Lower(shared, name).Value;
    string Cell(string mode)
    {
        var result = Lowerer.Lower(shared, name, LoweringOptions.Default with { Train = new TrainingOptions(mode, (float)Rate) });
        if (result.Value is { } p) return $"+{N(p.ArenaBytes + p.StateBytes + p.ParameterBytes - plain!.ArenaBytes - plain.StateBytes)} B ({N(p.Training!.TrainedValues)} values)";
        // TML1030 in short: where the walk stopped and the largest K, or why there is no head.
        string why = result.Diagnostics.First(d => d.Severity == TinyML.Compiler.Diagnostics.Severity.Error).Message;
        var stop = System.Text.RegularExpressions.Regex.Match(why, @"through ([A-Z_0-9]+) '.*the largest K for this model is (\d+)");
        return stop.Success ? $"no: largest K {stop.Groups[2].Value} (stops at {stop.Groups[1].Value})"
            : why.Contains("SOFTMAX output") ? "no: no SOFTMAX output" : "no: " + why.Substring(why.IndexOf("): ", StringComparison.Ordinal) + 3);
    }
    if (plain is null) continue;
    Console.WriteLine($"| {name} | {N(plain.ArenaBytes + plain.StateBytes)} | {string.Join(" | ", modes.Select(Cell))} |");
}

if (args.Contains("--no-device")) return;
Console.WriteLine();
Console.WriteLine("| core | Train | inference: instructions | train step: instructions | step / inference | inference image: flash B / RAM B | training image: flash B |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
var runner = new QemuRunner();
var sample = new byte[input.Bytes];
SetImage(executor, data.Test.Image(0));
executor.Input(0).CopyTo(sample);
foreach (var core in new[] { CortexM.M4, CortexM.M0Plus })
    foreach (var m in modes)
    {
        var corePlan = Compile(m, core.Name);
        var inferenceImage = DeviceBuild.Build(corePlan, new DeviceBuildOptions { Core = core, ModelName = "fashion" });
        var trainingImage = DeviceBuild.Build(corePlan, new DeviceBuildOptions { Core = core, ModelName = "fashion", TrainingHarness = true });
        long infer = runner.Run(inferenceImage, new[] { (IReadOnlyList<byte[]>)new[] { sample } })[0].Instructions;
        long step = runner.Run(trainingImage, new[] { (IReadOnlyList<byte[]>)new[] { sample, BitConverter.GetBytes(3) } })[0].Instructions;
        Console.WriteLine($"| {core.Name} | {m} | {N(infer)} | {N(step)} | {((double)step / infer).ToString("F2", CultureInfo.InvariantCulture)} | " +
            $"{N(inferenceImage.Sizes.FlashBytes)} / {N(inferenceImage.Sizes.RamBytes)} | {N(trainingImage.Sizes.FlashBytes)} |");
    }
Console.WriteLine();
Console.WriteLine("The train step is the forward pass, the update and the apply, plus copying the trained bytes out for the harness " +
    $"({N(plans["head"].Training!.ExportBytes)} B for head). The inference image of a trainable plan reads the trained weights from RAM, which its RAM column includes.");

// The int8 models of ../shared that end in a classifier or are worth a refusal.
static IEnumerable<string> SharedModels() => new[] { "kws", "ic_resnet", "micro_speech", "keyword_scrambled_8bit", "mnist_lstm_int8", "ad", "toycar" }
    .Where(m => System.IO.File.Exists(SharedData.Model(m)));

static float[] Pixels(ReadOnlySpan<byte> image)
{
    var pixels = new float[image.Length];
    for (int k = 0; k < pixels.Length; k++) pixels[k] = image[k] / 255f;
    return pixels;
}
