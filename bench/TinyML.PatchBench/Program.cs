// SPDX-License-Identifier: Apache-2.0
// Patch-based inference (MCUNetV2) on every shared model and the MobileNet-style sample models: the peak activation
// memory layer by layer and with patches, the extra MACs, the split and the grid; and a check that the patched
// plan's output is byte-identical to the layer-by-layer plan's on a random input.
// Usage: dotnet run -c Release --project bench/TinyML.PatchBench
using System;
using System.Collections.Generic;
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

byte[] Run(ExecutionPlan plan, byte[] input)
{
    using var executor = new PlanExecutor(plan);
    input.CopyTo(executor.Input(0));
    executor.Run();
    return Enumerable.Range(0, plan.Outputs.Count).SelectMany(i => executor.Output(i).ToArray()).ToArray();
}

Console.WriteLine("| model | MACs | peak before B | min-peak: peak after B | ratio | extra MACs | split op | grid | 4x budget: peak after B | ratio | extra MACs | split op | grid | best ratio at <= 20% extra MACs | outputs identical |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
foreach (var (name, model) in models)
{
    var plain = Lowerer.Lower(model, null, LoweringOptions.None);
    if (plain.Value is null)
    {
        Console.WriteLine($"| {name} | - | refused ({plain.Diagnostics.First(d => d.Severity == TinyML.Compiler.Diagnostics.Severity.Error).Id}) | | | | | | | | | | | | |");
        continue;
    }
    var minimum = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Value!;
    var budget = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = plain.Value.ArenaBytes / 4 }).Value!;
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
    // Every candidate the planner would consider, placed: the best peak cut whose extra MACs stay under 20%.
    var graph = PatchGraph.Analyze(model.Main);
    long macs = minimum.Patches!.MacsBefore;
    var cheap = PatchPlanner.Candidates(graph, new long[model.Main.Operators.Count])
        .Where(c => 100.0 * (c.Macs - macs) / macs <= 20).OrderBy(c => c.Arena.ArenaBytes).ThenBy(c => c.Macs).FirstOrDefault();
    string cheapCell = cheap is null || cheap.Arena.ArenaBytes >= plain.Value.ArenaBytes ? "-"
        : $"{F((double)plain.Value.ArenaBytes / cheap.Arena.ArenaBytes, "F2")} ({N(cheap.Arena.ArenaBytes)} B, {F(100.0 * (cheap.Macs - macs) / macs, "F1")}%, split {cheap.Schedule.Operators - 1}, {cheap.Schedule.Rows}x{cheap.Schedule.Columns})";
    Console.WriteLine($"| {name} | {N(macs)} | {N(plain.Value.ArenaBytes)} | {Cells(minimum)} | {Cells(budget)} | {cheapCell} | {(plain.Value.Inputs.Count == 1 ? (identical ? "yes" : "NO") : "-")} |");
    if (!identical) Environment.ExitCode = 1;
}
