// SPDX-License-Identifier: Apache-2.0
// Patch-based inference (MCUNetV2) on every shared model and the MobileNet-style sample models: the peak activation
// memory layer by layer and with patches, the extra MACs, the split and the grid; and a check that the patched
// plan's output is byte-identical to the layer-by-layer plan's on a random input. Then, per model, the peak /
// extra-MAC Pareto front the planner chooses from.
// Usage: dotnet run -c Release --project bench/TinyML.PatchBench [name filters, e.g. VWW]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;
using TinyML.Samples;
using TinyML.Tests;

string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

var models = new List<(string Name, Model Model)>();
foreach (string name in SharedData.ModelNames()) models.Add((name, TfliteReader.ReadFile(SharedData.Model(name)).Value!));
models.Add(("MobileNetV2-0.35 144x144", MobileNetModels.MobileNetV2(0.35, 144)));
models.Add(("MCUNet-like 5x5/7x7 160x160", MobileNetModels.McuNetLike(160)));
models.Add(("MobileNetV2-1.0 224x224", MobileNetModels.MobileNetV2(1.0, 224)));
models.Add(("MobileNetV2-1.0 224x224 PyTorch export", MobileNetModels.MobileNetV2(1.0, 224, export: MobileNetModels.Export.PyTorch)));
models.Add(("VWW MobileNetV1-0.25 96x96", MobileNetModels.MobileNetV1(0.25, 96)));
models.Add(("VWW MobileNetV1-0.25 96x96 PyTorch export", MobileNetModels.MobileNetV1(0.25, 96, export: MobileNetModels.Export.PyTorch)));
if (args.Length > 0) models = models.Where(m => args.Any(a => m.Name.Contains(a, StringComparison.OrdinalIgnoreCase))).ToList();
var fronts = new List<(string Name, PatchReport Report)>();

byte[] Run(ExecutionPlan plan, byte[] input)
{
    using var executor = new PlanExecutor(plan);
    input.CopyTo(executor.Input(0));
    executor.Run();
    return Enumerable.Range(0, plan.Outputs.Count).SelectMany(i => executor.Output(i).ToArray()).ToArray();
}

Console.WriteLine("| model | MACs | peak before B | min-peak: peak after B | ratio | extra MACs | split op | grid | 4x budget: peak after B | ratio | extra MACs | split op | grid | best ratio at <= 20% extra MACs | front points | planning s | outputs identical |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|");
foreach (var (name, model) in models)
{
    // PADs folded (it never costs MACs): a PyTorch export's peak is otherwise a padded copy, which patches do not touch.
    var layerByLayer = LoweringOptions.None with { FoldPads = true };
    var plain = Lowerer.Lower(model, null, layerByLayer);
    if (plain.Value is null)
    {
        Console.WriteLine($"| {name} | - | refused ({plain.Diagnostics.First(d => d.Severity == TinyML.Compiler.Diagnostics.Severity.Error).Id}) | | | | | | | | | | | | | | |");
        continue;
    }
    var clock = Stopwatch.StartNew();
    var minimum = Lowerer.Lower(model, null, layerByLayer with { Patch = PatchMode.MinimumPeak }).Value!;
    double planning = clock.Elapsed.TotalSeconds;
    var budget = Lowerer.Lower(model, null, layerByLayer with { Patch = PatchMode.Budget, RamBudget = plain.Value.ArenaBytes / 4 }).Value!;
    var random = new Random(7);
    var inputs = plain.Value.Inputs.Select(t => { var b = new byte[t.Bytes]; random.NextBytes(b); return b; }).ToList();
    bool identical = true;
    if (plain.Value.Inputs.Count == 1)
    {
        var expected = Run(plain.Value, inputs[0]);
        identical = expected.SequenceEqual(Run(minimum, inputs[0])) && expected.SequenceEqual(Run(budget, inputs[0]));
    }
    string Cells(CompiledPlan plan)
    {
        var r = plan.Patches!;
        return r.Applied
            ? $"{N(r.PeakAfter)} | {F(r.PeakRatio, "F2")} | {F(r.MacsOverheadPercent, "F1")}% | {r.SplitOperator} | {r.Grid}"
            : $"{N(r.PeakAfter)} | 1.00 | 0.0% | - | - ({r.Reason})";
    }
    // The front holds the best peak for every MAC cost: the lowest arena whose extra MACs stay under 20%.
    var report = minimum.Patches!;
    long macs = report.MacsBefore;
    var cheap = report.Front.Where(p => p.MacsOverheadPercent <= 20).OrderBy(p => p.ArenaBytes).FirstOrDefault();
    string cheapCell = cheap is null ? "-"
        : $"{F((double)plain.Value.ArenaBytes / cheap.ArenaBytes, "F2")} ({N(cheap.ArenaBytes)} B, {F(cheap.MacsOverheadPercent, "F1")}%, split {cheap.SplitOperator}, {cheap.Grid})";
    Console.WriteLine($"| {name} | {N(macs)} | {N(plain.Value.ArenaBytes)} | {Cells(minimum)} | {Cells(budget)} | {cheapCell} | {report.Front.Count} | {F(planning, "F1")} | {(plain.Value.Inputs.Count == 1 ? (identical ? "yes" : "NO") : "-")} |");
    if (name.Contains("MobileNet") || name.Contains("MCUNet")) fronts.Add((name, report));
    if (!identical) Environment.ExitCode = 1;
}

// The front of each MobileNet-family model: every split and grid no other beats in both peak and MACs.
foreach (var (name, report) in fronts)
{
    Console.WriteLine();
    if (report.Front.Count == 0)
    {
        Console.WriteLine($"{name}: no front ({report.Reason})");
        continue;
    }
    Console.WriteLine($"{name}: layer by layer {N(report.PeakBefore)} B, {N(report.MacsBefore)} MACs; front of {report.Front.Count} points ('*': balanced bands)");
    Console.WriteLine();
    Console.WriteLine("| peak B | of layer by layer | ratio | extra MACs | split op | grid |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---|");
    foreach (var p in report.Front)
        Console.WriteLine($"| {N(p.ArenaBytes)} | {F((double)p.ArenaBytes / report.PeakBefore, "F3")} | {F((double)report.PeakBefore / p.ArenaBytes, "F2")}x | {F(p.MacsOverheadPercent, "F1")}% | {p.SplitOperator} | {p.Grid} |");
}
