// SPDX-License-Identifier: Apache-2.0
using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Reports;

namespace TinyML.Cli.Commands;

/// <summary><c>tinyml plan MODEL [--json] [--optimize memory|none] [--ram-budget SIZE] [--report FILE] [--out FILE.tmlmodel] [--target CORE] [--pareto] [--onnx-rounding onnxruntime|tflite] [--train head [--learning-rate R]]</c>: the arena plan, its lower bound and the per-operator memory profile.</summary>
public static class PlanCommand
{
    /// <summary>The JSON schema identifier; docs/cli.md documents it.</summary>
    public const string JsonSchema = "tinyml.plan/1";

    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .tflite or .onnx model to plan" };
        var json = new Option<bool>("--json") { Description = "Print JSON (schema tinyml.plan/1) instead of a table" };
        var optimize = new Option<string>("--optimize") { Description = "'memory': every memory technique with the minimum peak; 'none': no technique (default: the ones that cost no MACs)" };
        var budget = new Option<string>("--ram-budget") { Description = "RAM budget (e.g. 64KB): plan within it if the techniques allow, and draw it in the report" };
        var report = new Option<FileInfo>("--report") { Description = "Write a self-contained HTML/SVG memory report here" };
        var output = new Option<FileInfo>("--out") { Description = "Write the plan as a container (.tmlmodel) here, for tinyml run and tinyml compile" };
        var target = new Option<string>("--target") { Description = "Plan for this core (its kernels' scratch): host (default), " + string.Join(", ", Board.Cores) };
        var rounding = ModelCompilation.RoundingOption();
        var train = ModelCompilation.TrainOption();
        var learningRate = ModelCompilation.LearningRateOption();
        var pareto = new Option<bool>("--pareto") { Description = "Also list the peak / extra-MAC Pareto front of patch-based inference (split and grid choices)" };
        var command = new Command("plan", "Plan the model's memory: arena, lower bound, tensor placement") { model, json, optimize, budget, report, output, target, pareto, rounding, train, learningRate };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(json), stdout, stderr, parse.GetValue(optimize), parse.GetValue(budget), parse.GetValue(report),
            parse.GetValue(output), parse.GetValue(target), parse.GetValue(pareto), parse.GetValue(rounding), parse.GetValue(train), parse.GetValue(learningRate)));
        return command;
    }

    /// <summary>Plans one model; returns the exit code.</summary>
    public static int Run(FileInfo file, bool json, TextWriter stdout, TextWriter stderr, string? optimize = null, string? ramBudget = null, FileInfo? report = null,
        FileInfo? output = null, string? target = null, bool pareto = false, string? rounding = null, string? train = null, string? learningRate = null)
    {
        if (!ModelCompilation.TryOptimize(optimize, stderr, out var options)) return Cli.UsageError;
        if (!ModelCompilation.TryRounding(rounding, stderr, ref options)) return Cli.UsageError;
        if (!ModelCompilation.TryTraining(train, learningRate, stderr, ref options)) return Cli.UsageError;
        if (!ModelCompilation.TryRamBudget(ramBudget, stderr, out long? budget)) return Cli.UsageError;
        string? core = target is null ? ExecutionPlan.HostTarget
            : new[] { ExecutionPlan.HostTarget }.Concat(Board.Cores).FirstOrDefault(c => string.Equals(c, target, StringComparison.OrdinalIgnoreCase));
        if (core is null)
        {
            stderr.WriteLine(new Diagnostic(TinyML.DiagnosticIds.UnknownTarget, Severity.Error,
                $"target '{target}' is not supported; use {ExecutionPlan.HostTarget} or one of {string.Join(", ", Board.Cores)}").ToString());
            return Cli.ModelErrors;
        }
        var compiled = ModelCompilation.Compile(file, stderr, options, budget, target: core);
        var (model, plan) = (compiled.Model, compiled.Plan);
        if (model is null || plan?.Memory is null) return Cli.ModelErrors;
        // Budget-driven planning tried the techniques when the requested ones missed the budget; say what it found.
        if (budget is long b && compiled.Fit is { } fit && (fit.Attempts.Count > 1 || !fit.Fits))
            stderr.WriteLine(fit.Fits ? $"fits the {ByteSize.Format(b)} budget with {fit.Attempts[fit.Attempts.Count - 1].Name}"
                : $"warning: misses the {ByteSize.Format(b)} RAM budget. {fit.Summary}");
        var graph = model.Main;
        var memory = plan.Memory!;
        var live = memory.LiveBytesInOrder();
        long weights = ModelSummary.Of(model).WeightsBytes;
        var techniques = MemoryTechniques.Evaluate(model, file.FullName, options == LoweringOptions.Default ? null : options, core);
        double overhead = MemoryTechniques.OverheadPercent(plan);
        if (report is not null) File.WriteAllText(report.FullName, MemoryReport.Render(file.Name, graph, MemoryReport.Variants(model, techniques, plan), budget));
        if (output is not null) File.WriteAllBytes(output.FullName, PlanContainer.Write(plan));
        // The front is searched against the layer-by-layer plan for the same core, whatever the options chose.
        var front = pareto ? Lowerer.Lower(model, file.FullName, LoweringOptions.None with { Patch = PatchMode.MinimumPeak, Target = core, Rounding = options.Rounding }).Value?.Patches : null;
        if (json) WriteJson(stdout, file, graph, plan, live, weights, overhead, techniques, front, budget);
        else
        {
            WriteTable(stdout, file, graph, plan, live, weights, techniques);
            if (front is not null) WriteFront(stdout, front, budget);
        }
        return 0;
    }

    /// <summary>The front point a budget takes: the fewest MACs within it (the lowest arena when none fits), as the budget mode chooses.</summary>
    private static PatchPoint? Cheapest(PatchReport front, long? budget) =>
        budget is long b ? front.Front.Where(p => p.ArenaBytes <= b).OrderBy(p => p.Macs).ThenBy(p => p.ArenaBytes).FirstOrDefault() : null;

    private static void WriteFront(TextWriter o, PatchReport front, long? budget)
    {
        o.WriteLine();
        if (front.Front.Count == 0)
        {
            o.WriteLine($"patch front: none ({front.Reason})");
            return;
        }
        o.WriteLine($"patch front: {front.Front.Count} split and grid choices no other beats in both peak and MACs " +
            $"(layer by layer {N(front.PeakBefore)} B, {N(front.MacsBefore)} MACs; grid '*': balanced bands)");
        var cheapest = Cheapest(front, budget);
        o.WriteLine($"{"arena B",10} {"of layer by layer",17} {"extra MACs",12} {"",8} {"split op",8} {"grid",6}");
        foreach (var p in front.Front)
            o.WriteLine($"{N(p.ArenaBytes),10} {((double)p.ArenaBytes / front.PeakBefore).ToString("F3", CultureInfo.InvariantCulture),17} {N(p.ExtraMacs),12} " +
                $"{("+" + p.MacsOverheadPercent.ToString("F1", CultureInfo.InvariantCulture) + "%"),8} {p.SplitOperator,8} {p.Grid,6}" +
                (p == cheapest ? $"  <- cheapest within {N(budget!.Value)} B" : ""));
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void WriteTable(TextWriter o, FileInfo file, Graph graph, CompiledPlan plan, System.Collections.Generic.IReadOnlyList<long> live, long weights, System.Collections.Generic.IReadOnlyList<TechniqueResult> techniques)
    {
        var arena = plan.Memory!.Arena;
        o.WriteLine($"{file.Name}: arena {N(plan.ArenaBytes)} B, lower bound {N(arena.LowerBoundBytes)} B" +
            (arena.GapBytes == 0 ? " (reached)" : $" (gap {N(arena.GapBytes)} B)") +
            $", state {N(plan.StateBytes)} B, scratch {N(plan.Memory.ScratchBytes)} B");
        o.WriteLine($"flash: weights {N(weights)} B, constants with precomputed parameters {N(plan.ConstantBytes)} B");
        if (plan.Training is { } training)
            o.WriteLine($"training ({training.Mode}, {training.Classes} classes, learning rate {training.LearningRate.ToString("R", CultureInfo.InvariantCulture)}): " +
                $"RAM {N(BudgetCheck.RamBytes(plan))} B = inference {N(BudgetCheck.InferenceRamBytes(plan))} B + parameter region {N(plan.ParameterBytes)} B " +
                $"({N(training.TrainedValues)} trained values with their int32 masters, gradients, control block; its initial image is {N(plan.ParameterBytes)} B more flash)");
        var order = plan.Memory.Order;
        int OpAt(int step) => step < order.Count ? order[step] : step;
        o.WriteLine($"placement: {arena.Method}; peak at step {arena.PeakOperator} (operator {Math.Max(0, plan.Memory.PeakOperator)}, {graph.Operators[Math.Max(0, plan.Memory.PeakOperator)].TypeName})");
        o.WriteLine("techniques: " + string.Join(", ", techniques.Select(t => $"{t.Name} {N(t.ArenaBytes)} B")) +
            $"; in place here: {plan.Memory.InPlace.Count} operators" + (plan.Memory.Reordered ? ", reordered" : ""));
        o.WriteLine();
        long peak = Math.Max(1, live.DefaultIfEmpty(0).Max());
        const int width = 40;
        for (int i = 0; i < live.Count; i++)
        {
            int bar = (int)Math.Round(width * (double)live[i] / peak);
            o.WriteLine($"{OpAt(i),3} {graph.Operators[OpAt(i)].TypeName,-20} {N(live[i]),10} B |{new string('#', bar)}{new string(' ', width - bar)}|");
        }
    }

    private static void WriteJson(TextWriter o, FileInfo file, Graph graph, CompiledPlan plan, System.Collections.Generic.IReadOnlyList<long> live, long weights,
        double macsOverhead, System.Collections.Generic.IReadOnlyList<TechniqueResult> techniques, PatchReport? front, long? budget)
    {
        var arena = plan.Memory!.Arena;
        JsonOutput.Write(o, w =>
        {
            w.WriteStartObject();
            w.WriteString("schema", JsonSchema);
            w.WriteString("model", file.FullName);
            w.WriteNumber("arena_bytes", plan.ArenaBytes);
            w.WriteNumber("macs_overhead", macsOverhead);
            w.WriteStartArray("techniques");
            foreach (var t in techniques)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteNumber("arena_bytes", t.ArenaBytes);
                w.WriteNumber("macs_overhead", t.MacsOverheadPercent);
                if (t.Reason is not null) w.WriteString("reason", t.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (front is not null)
            {
                var cheapest = Cheapest(front, budget);
                w.WriteStartObject("patch_front");
                w.WriteNumber("layer_by_layer_bytes", front.PeakBefore);
                w.WriteNumber("macs", front.MacsBefore);
                if (front.Front.Count == 0) w.WriteString("reason", front.Reason);
                w.WriteStartArray("points");
                foreach (var p in front.Front)
                {
                    w.WriteStartObject();
                    w.WriteNumber("arena_bytes", p.ArenaBytes);
                    w.WriteNumber("extra_macs", p.ExtraMacs);
                    w.WriteNumber("macs_overhead", p.MacsOverheadPercent);
                    w.WriteNumber("split_op", p.SplitOperator);
                    w.WriteNumber("rows", p.Rows);
                    w.WriteNumber("columns", p.Columns);
                    w.WriteBoolean("uniform", p.Uniform);
                    w.WriteBoolean("transpose_whole", p.TransposeWhole);
                    w.WriteBoolean("stem_in_place", p.StemInPlace);
                    if (p == cheapest) w.WriteBoolean("cheapest_within_budget", true);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteStartArray("order");
            foreach (int op in plan.Memory.Order) w.WriteNumberValue(op);
            w.WriteEndArray();
            w.WriteStartArray("in_place");
            foreach (var p in plan.Memory.InPlace)
            {
                w.WriteStartObject();
                w.WriteNumber("op", p.Operator);
                w.WriteString("kind", p.Kind == InPlaceKind.Depthwise ? "depthwise" : "elementwise");
                w.WriteNumber("scratch_bytes", p.ScratchBytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("lower_bound_bytes", arena.LowerBoundBytes);
            w.WriteNumber("gap_bytes", arena.GapBytes);
            w.WriteNumber("scratch_bytes", plan.Memory.ScratchBytes);
            w.WriteNumber("state_bytes", plan.StateBytes);
            w.WriteNumber("weights_bytes", weights);
            w.WriteNumber("constant_bytes", plan.ConstantBytes);
            if (plan.Training is { } training)
            {
                w.WriteStartObject("training");
                w.WriteString("mode", training.Mode);
                w.WriteNumber("classes", training.Classes);
                w.WriteNumber("learning_rate", training.LearningRate);
                w.WriteNumber("parameter_bytes", plan.ParameterBytes);
                w.WriteNumber("trained_values", training.TrainedValues);
                w.WriteNumber("inference_ram_bytes", BudgetCheck.InferenceRamBytes(plan));
                w.WriteNumber("ram_bytes", BudgetCheck.RamBytes(plan));
                w.WriteEndObject();
            }
            w.WriteString("placement", arena.Method);
            w.WriteStartObject("peak_op");
            int peakOp = plan.Memory.PeakOperator;
            w.WriteNumber("index", peakOp);
            w.WriteNumber("step", arena.PeakOperator);
            w.WriteString("type", peakOp >= 0 ? graph.Operators[peakOp].TypeName : "");
            w.WriteEndObject();
            w.WriteStartArray("ops");
            var order = plan.Memory.Order;
            for (int step = 0; step < live.Count; step++)
            {
                int i = step < order.Count ? order[step] : step;
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteNumber("step", step);
                w.WriteString("type", graph.Operators[i].TypeName);
                w.WriteNumber("live_bytes", live[step]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("tensors");
            for (int b = 0; b < arena.Buffers.Count; b++)
            {
                var buffer = arena.Buffers[b];
                w.WriteStartObject();
                w.WriteString("name", buffer.Name);
                w.WriteNumber("bytes", buffer.Bytes);
                w.WriteNumber("offset", arena.Offsets[b]);
                w.WriteNumber("first_op", buffer.FirstOp);
                w.WriteNumber("last_op", buffer.LastOp);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }
}
