// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;

namespace TinyML.Compiler.Lowering;

/// <summary>A memory technique: a name and how it switches the lowering options on.</summary>
public sealed record MemoryTechnique(string Name, string Description, Func<LoweringOptions, LoweringOptions> Enable);

/// <summary>
/// What lowering with some techniques gave: the arena (peak), RAM and extra MACs in percent. <paramref name="Reason"/>
/// says why the techniques did not lower the peak below the plan they are compared with (see
/// <see cref="MemoryTechniques.WhyNoGain"/>); null when they did, or when nothing is compared.
/// </summary>
public sealed record TechniqueResult(string Name, LoweringOptions Options, CompiledPlan? Plan, long ArenaBytes, double MacsOverheadPercent,
    string? Reason = null);

/// <summary>The outcome of budget-driven planning: the plan chosen, every attempt, and whether it fits.</summary>
public sealed record BudgetFit(Result<CompiledPlan> Lowered, IReadOnlyList<TechniqueResult> Attempts, long RamBudget, bool Fits)
{
    /// <summary>
    /// One sentence on what was tried, why an attempt did not lower the peak (in brackets), and the best peak; empty
    /// when nothing beyond the first attempt ran.
    /// </summary>
    public string Summary => Attempts.Count <= 1 ? "" :
        "Memory techniques tried: " + string.Join("; ", Attempts.Select(a => $"{a.Name} -> arena {a.ArenaBytes.ToString("N0", CultureInfo.InvariantCulture)} B" +
            (a.MacsOverheadPercent > 0 ? $" (+{a.MacsOverheadPercent.ToString("F1", CultureInfo.InvariantCulture)}% MACs)" : "") +
            (a.Reason is { } why ? $" [{why}]" : ""))) +
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
        new MemoryTechnique("fold-pad", "PADs folded into the padding of the convolution or max pooling that reads them", o => o with { FoldPads = true }),
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
        return new TechniqueResult(name, options, plan, plan?.ArenaBytes ?? -1, OverheadPercent(plan));
    }

    /// <summary>The MACs a plan runs beyond the model's own, in percent of the model's: from the plan's per-call MACs.</summary>
    public static double OverheadPercent(CompiledPlan? plan)
    {
        if (plan is null) return 0;
        long model = plan.Macs - plan.ExtraMacs;
        return model <= 0 ? 0 : 100.0 * plan.ExtraMacs / model;
    }

    /// <summary>
    /// No technique, each technique alone, and all of them (in that order). Each result after "none" carries the
    /// reason it did not lower the peak below "none", when it did not. Every plan is lowered for
    /// <paramref name="target"/>, whose kernels may need scratch that the host's do not.
    /// </summary>
    public static IReadOnlyList<TechniqueResult> Evaluate(Model model, string? file, LoweringOptions? all = null, string target = Plan.ExecutionPlan.HostTarget)
    {
        var plain = LoweringOptions.None with { Target = target };
        var none = Measure("none", model, file, plain);
        var results = new List<TechniqueResult> { none };
        foreach (var t in All) results.Add(Measure(t.Name, model, file, t.Enable(plain)));
        results.Add(Measure("all", model, file, (all ?? Everything(LoweringOptions.MinimumMemory)) with { Target = target }));
        if (none.Plan is null) return results;
        return results.Select((r, i) => i == 0 ? r : r with { Reason = WhyNoGain(model.Main, r.Options, r.Plan, none.ArenaBytes) }).ToList();
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
        Result<CompiledPlan>? bestLowered = null;
        long bestRam = long.MaxValue;
        var tries = new List<(string Name, LoweringOptions Options)>
        {
            (Describe(requested), requested),
            ("every technique, patches aimed at the budget", Everything(requested) with { Patch = PatchMode.Budget, RamBudget = ramBudget }),
            ("every technique, minimum peak", Everything(requested) with { Patch = PatchMode.MinimumPeak, RamBudget = ramBudget }),
        };
        long? plain = null;
        foreach (var (name, options) in tries)
        {
            if (attempts.Any(a => a.Options == options)) continue;
            var lowered = Lowerer.Lower(model, file, options);
            var plan = lowered.Value;
            // The first attempt is compared with no technique, later ones with the first: the reason then says
            // what the added techniques could not do. The plain plan is lowered only when it is needed.
            string? reason = null;
            if (plan is not null && plan.ArenaBytes + plan.StateBytes > ramBudget)
            {
                long? compared = attempts.Count > 0 ? attempts[0].ArenaBytes : plain ??= Lowerer.Lower(model, file, LoweringOptions.None with { Target = requested.Target }).Value?.ArenaBytes;
                if (compared is long arena) reason = WhyNoGain(model.Main, attempts.Count > 0 ? Added(options, attempts[0].Options) : options, plan, arena);
            }
            attempts.Add(new TechniqueResult(name, options, plan, plan?.ArenaBytes ?? -1, OverheadPercent(plan), reason));
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

    /// <summary>
    /// Why the techniques switched on in <paramref name="explain"/> did not bring <paramref name="plan"/>'s arena below
    /// <paramref name="comparedArena"/>: one clause per technique, derived from the graph and the plan (which
    /// operators qualify, which ran in place, the order, the patch report), joined with "; ". Null when the arena is
    /// lower, or when <paramref name="explain"/> switches nothing on.
    /// </summary>
    public static string? WhyNoGain(Graph graph, LoweringOptions explain, CompiledPlan? plan, long comparedArena)
    {
        if (plan is null) return "the model could not be lowered with these techniques";
        if (plan.ArenaBytes < comparedArena) return null;
        var clauses = new List<string>();
        if (explain.FoldPads) clauses.Add("PAD folding: " + FoldReason(graph, plan));
        if (explain.InPlaceDepthwise) clauses.Add("in-place depthwise: " + InPlaceReason(graph, plan, InPlaceKind.Depthwise));
        if (explain.InPlaceElementwise) clauses.Add("in-place element-wise: " + InPlaceReason(graph, plan, InPlaceKind.Elementwise));
        if (explain.Reorder) clauses.Add("reordering: " + ReorderReason(graph, plan));
        if (explain.Patch != PatchMode.Off) clauses.Add("patches: " + (plan.Patches is { Applied: false } report ? report.Reason
            : plan.Patches is { } applied ? $"{applied.Grid} tiles up to operator {applied.SplitOperator} give {N(applied.PeakAfter)} B, no lower than {N(comparedArena)} B"
            : "not planned"));
        return clauses.Count == 0 ? null : string.Join("; ", clauses);
    }

    /// <summary>The switches of <paramref name="options"/> that <paramref name="already"/> does not have on.</summary>
    private static LoweringOptions Added(LoweringOptions options, LoweringOptions already) => options with
    {
        FoldPads = options.FoldPads && !already.FoldPads,
        InPlaceDepthwise = options.InPlaceDepthwise && !already.InPlaceDepthwise,
        InPlaceElementwise = options.InPlaceElementwise && !already.InPlaceElementwise,
        Reorder = options.Reorder && !already.Reorder,
        Patch = already.Patch == options.Patch ? PatchMode.Off : options.Patch,
    };

    private static string InPlaceReason(Graph graph, CompiledPlan plan, InPlaceKind kind)
    {
        bool depthwise = kind == InPlaceKind.Depthwise;
        string what = depthwise ? "depthwise convolution" : "element-wise operator";
        var ofKind = Enumerable.Range(0, graph.Operators.Count)
            .Where(i => depthwise ? graph.Operators[i].Kind == OpKind.DepthwiseConv2D : InPlace.IsElementwiseKind(graph.Operators[i].Kind)).ToList();
        if (ofKind.Count == 0) return $"the model has no {what}";
        var eligible = ofKind.Where(i => InPlace.Candidate(graph, graph.Operators[i], depthwise, !depthwise)?.Kind == kind).ToList();
        if (eligible.Count == 0)
            return depthwise ? "no depthwise convolution is int8 with depth multiplier 1"
                : "no element-wise operator has an integer input of exactly its output's type and shape";
        var memory = plan.Memory;
        var pairs = memory?.InPlace.Where(p => p.Kind == kind).Select(p => p.Operator).OrderBy(i => i).ToList() ?? new List<int>();
        if (pairs.Count == 0)
        {
            if (plan.Patches is { Applied: true }) return "a patched plan runs layer by layer without in-place operators";
            // Why each qualifying operator keeps its input, grouped: that input is what the kernel may not overwrite.
            var groups = eligible.GroupBy(i => WhyInputLives(graph, i)).Select(g =>
                $"operator{(g.Count() > 1 ? "s" : "")} {string.Join(", ", g)}: {g.Key}");
            return $"no {what} whose input dies there ({string.Join("; ", groups)})";
        }
        int peak = memory!.PeakOperator;
        string at = $"in place at operator{(pairs.Count > 1 ? "s" : "")} {string.Join(", ", pairs)}";
        if (peak < 0 || peak >= graph.Operators.Count) return at + ", but not where the arena peaks";
        var peakOp = graph.Operators[peak];
        string coexist = InPlace.Candidate(graph, peakOp, true, true) is null
            ? $"a {peakOp.TypeName} whose input and output must coexist"
            : $"a {peakOp.TypeName} that does not run in place here";
        return $"{at}, but the peak is at operator {peak}, {coexist}";
    }

    private static string FoldReason(Graph graph, CompiledPlan plan)
    {
        if (!graph.Operators.Any(op => op.Kind is OpKind.Pad or OpKind.PadV2)) return "the model has no PAD";
        var folded = PadFolding.Fold(graph).FoldedPads;
        if (folded.Count == 0)
            return "no PAD fills with what all its readers skip as padding (the zero point before a convolution, the lowest value before a max pooling)";
        int peak = plan.Memory?.PeakOperator ?? -1;
        string at = $"PAD{(folded.Count > 1 ? "s" : "")} {string.Join(", ", folded)} folded";
        return peak >= 0 && peak < graph.Operators.Count ? $"{at}, but the peak is at operator {peak}, a {graph.Operators[peak].TypeName}" : at;
    }

    /// <summary>Why an operator's first activation input outlives it (a graph input or output, or read by another operator).</summary>
    private static string WhyInputLives(Graph graph, int op)
    {
        int input = graph.Operators[op].Inputs.Where(t => t >= 0 && !graph.Tensors[t].IsConstant && !graph.Tensors[t].IsVariable).DefaultIfEmpty(-1).First();
        if (input < 0) return "no activation input";
        if (graph.Inputs.Contains(input)) return "its input is a graph input, which must stay intact";
        if (graph.Outputs.Contains(input)) return "its input is a graph output";
        if (Enumerable.Range(0, graph.Operators.Count).Any(i => i != op && graph.Operators[i].Inputs.Contains(input))) return "its input has another reader";
        var op0 = graph.Operators[op];
        if (op0.Kind == OpKind.DepthwiseConv2D && MemoryPlanner.Align(InPlace.DepthwiseScratchBytes(graph.Tensors[input])) >= MemoryPlanner.Align(graph.Tensors[op0.Outputs[0]].Bytes))
            return "one channel of scratch would cost as much as the output it saves";
        return "its input outlives it in this order (an alias of it is read later, or it already holds an in-place output)";
    }

    private static string ReorderReason(Graph graph, CompiledPlan plan)
    {
        int n = graph.Operators.Count;
        if (graph.Tensors.Any(t => t.IsVariable)) return "the model keeps state between invocations, so its order is kept";
        if (n < 3) return "fewer than 3 operators: one order only";
        if (plan.Patches is { Applied: true }) return "a patched plan runs its operators in graph order";
        if (!HasBranches(graph)) return "the graph is a chain: one order only";
        if (plan.Memory is { Reordered: true })
            return "the reordered schedule gives the same arena as the model's order";
        return "no order of the branches has a lower peak than the model's";
    }

    /// <summary>True when some activation is read by two operators or some operator joins two producers' outputs.</summary>
    private static bool HasBranches(Graph graph)
    {
        bool Activation(int t) => t >= 0 && !graph.Tensors[t].IsConstant && !graph.Tensors[t].IsVariable;
        var producer = new Dictionary<int, int>();
        for (int i = 0; i < graph.Operators.Count; i++) foreach (int t in graph.Operators[i].Outputs) if (t >= 0) producer[t] = i;
        var readers = new Dictionary<int, HashSet<int>>();
        for (int i = 0; i < graph.Operators.Count; i++)
        {
            var inputs = graph.Operators[i].Inputs.Where(Activation).ToList();
            if (inputs.Where(producer.ContainsKey).Select(t => producer[t]).Distinct().Count() > 1) return true;
            foreach (int t in inputs)
            {
                if (!readers.TryGetValue(t, out var set)) readers[t] = set = new HashSet<int>();
                set.Add(i);
            }
        }
        return readers.Values.Any(set => set.Count > 1);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A short description of the switches that are on.</summary>
    public static string Describe(LoweringOptions o)
    {
        var on = new List<string>();
        if (o.FoldPads) on.Add("PAD folding");
        if (o.InPlaceDepthwise) on.Add("in-place depthwise");
        if (o.InPlaceElementwise) on.Add("in-place element-wise");
        if (o.Reorder) on.Add("reordering");
        if (o.Patch != PatchMode.Off) on.Add($"patches ({o.Patch})");
        return on.Count == 0 ? "no technique" : string.Join(" + ", on);
    }
}
