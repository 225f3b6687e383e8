// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;

namespace TinyML.Compiler.Lowering;

/// <summary>A memory technique: a name and how it switches the lowering options on.</summary>
public sealed record MemoryTechnique(string Name, string Description, Func<LoweringOptions, LoweringOptions> Enable);

/// <summary>What lowering with some techniques gave: the arena (peak), RAM and extra MACs in percent.</summary>
public sealed record TechniqueResult(string Name, LoweringOptions Options, ExecutionPlan? Plan, long ArenaBytes, double MacsOverheadPercent);

/// <summary>The outcome of budget-driven planning: the plan chosen, every attempt, and whether it fits.</summary>
public sealed record BudgetFit(Result<ExecutionPlan> Lowered, IReadOnlyList<TechniqueResult> Attempts, long RamBudget, bool Fits)
{
    /// <summary>One sentence on what was tried and the best peak; empty when nothing beyond the first attempt ran.</summary>
    public string Summary => Attempts.Count <= 1 ? "" :
        "Memory techniques tried: " + string.Join("; ", Attempts.Select(a => $"{a.Name} -> arena {a.ArenaBytes.ToString("N0", CultureInfo.InvariantCulture)} B" +
            (a.MacsOverheadPercent > 0 ? $" (+{a.MacsOverheadPercent.ToString("F1", CultureInfo.InvariantCulture)}% MACs)" : ""))) +
        $"; the best peak is {Attempts.Where(a => a.Plan is not null).Select(a => a.ArenaBytes).DefaultIfEmpty(0).Min().ToString("N0", CultureInfo.InvariantCulture)} B.";

    /// <summary>The RAM-over-budget diagnostic with <see cref="Summary"/> appended; others unchanged.</summary>
    public Diagnostic Explain(Diagnostic diagnostic) =>
        diagnostic.Id == DiagnosticIds.RamBudgetExceeded && Summary.Length > 0 ? diagnostic with { Message = diagnostic.Message + " " + Summary } : diagnostic;
}

/// <summary>
/// The memory techniques, each alone and together, and budget-driven planning. <see cref="All"/> is the one list
/// to extend: a technique (for example patch-based inference) adds an entry whose options the lowering honours,
/// and the CLI's techniques[], the report and the budget search pick it up.
/// </summary>
public static class MemoryTechniques
{
    /// <summary>Every technique, cheapest first (only patch-based inference costs MACs: tiles recompute their halos).</summary>
    public static readonly IReadOnlyList<MemoryTechnique> All = new[]
    {
        new MemoryTechnique("inplace-depthwise", "in-place depthwise convolution", o => o with { InPlaceDepthwise = true }),
        new MemoryTechnique("inplace-elementwise", "in-place element-wise operators", o => o with { InPlaceElementwise = true }),
        new MemoryTechnique("reorder", "memory-aware operator reordering", o => o with { Reorder = true }),
        new MemoryTechnique("patches", "patch-based inference (MCUNetV2), minimum peak", o => o with { Patch = o.Patch == PatchMode.Off ? PatchMode.MinimumPeak : o.Patch }),
    };

    /// <summary>Options with every technique of <see cref="All"/> on, starting from <paramref name="start"/>.</summary>
    public static LoweringOptions Everything(LoweringOptions start) => All.Aggregate(start, (o, t) => t.Enable(o));

    /// <summary>Lowers with the options and measures arena and MAC overhead.</summary>
    public static TechniqueResult Measure(string name, Model model, string? file, LoweringOptions options)
    {
        var lowered = Lowerer.Lower(model, file, options);
        var plan = lowered.Value;
        long macs = ModelSummary.Of(model).TotalMacs;
        double overhead = plan is null || macs <= 0 ? 0 : 100.0 * plan.ExtraMacs / macs;
        return new TechniqueResult(name, options, plan, plan?.ArenaBytes ?? -1, overhead);
    }

    /// <summary>No technique, each technique alone, and all of them (in that order).</summary>
    public static IReadOnlyList<TechniqueResult> Evaluate(Model model, string? file, LoweringOptions? all = null)
    {
        var results = new List<TechniqueResult> { Measure("none", model, file, LoweringOptions.None) };
        foreach (var t in All) results.Add(Measure(t.Name, model, file, t.Enable(LoweringOptions.None)));
        results.Add(Measure("all", model, file, all ?? Everything(LoweringOptions.MinimumMemory)));
        return results;
    }

    /// <summary>
    /// Budget-driven planning: lowers with <paramref name="requested"/>; when arena plus state misses the budget,
    /// tries every technique (with the options' patch mode aimed at the budget), and returns the first set that
    /// fits, or else the one with the lowest peak, with every attempt listed.
    /// </summary>
    public static BudgetFit FitToBudget(Model model, string? file, long ramBudget, LoweringOptions? requested = null)
    {
        requested ??= LoweringOptions.Default;
        var attempts = new List<TechniqueResult>();
        Result<ExecutionPlan>? bestLowered = null;
        long bestRam = long.MaxValue;
        var tries = new List<(string Name, LoweringOptions Options)>
        {
            (Describe(requested), requested),
            ("every technique, patches aimed at the budget", Everything(requested) with { Patch = PatchMode.Budget, RamBudget = ramBudget }),
            ("every technique, minimum peak", Everything(requested) with { Patch = PatchMode.MinimumPeak, RamBudget = ramBudget }),
        };
        foreach (var (name, options) in tries)
        {
            if (attempts.Any(a => a.Options == options)) continue;
            var lowered = Lowerer.Lower(model, file, options);
            var plan = lowered.Value;
            long macs = ModelSummary.Of(model).TotalMacs;
            attempts.Add(new TechniqueResult(name, options, plan, plan?.ArenaBytes ?? -1, plan is null || macs <= 0 ? 0 : 100.0 * plan.ExtraMacs / macs));
            if (plan is null)
            {
                bestLowered ??= lowered;
                break; // the model itself is refused; later attempts would repeat the errors
            }
            long ram = plan.ArenaBytes + plan.StateBytes;
            if (ram < bestRam)
            {
                bestRam = ram;
                bestLowered = lowered;
            }
            if (ram <= ramBudget) return new BudgetFit(lowered, attempts, ramBudget, true);
        }
        return new BudgetFit(bestLowered!, attempts, ramBudget, false);
    }

    /// <summary>A short description of the switches that are on.</summary>
    public static string Describe(LoweringOptions o)
    {
        var on = new List<string>();
        if (o.InPlaceDepthwise) on.Add("in-place depthwise");
        if (o.InPlaceElementwise) on.Add("in-place element-wise");
        if (o.Reorder) on.Add("reordering");
        if (o.Patch != PatchMode.Off) on.Add($"patches ({o.Patch})");
        return on.Count == 0 ? "no technique" : string.Join(" + ", on);
    }
}
