// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;

namespace TinyML.Compiler.Planning.Patches;

/// <summary>
/// What patch-based inference did to a plan: the split, the grid, the peak before and after, and the extra MACs.
/// MACs are counted as <see cref="Analysis.Macs"/> counts them.
/// </summary>
public sealed record PatchReport(bool Applied, string Reason, int PrefixOperators, int Rows, int Columns,
    long PeakBefore, long PeakAfter, long MacsBefore, long MacsAfter, int CandidatesEvaluated)
{
    /// <summary>The last operator that runs patch by patch (its output is the stage output), or -1.</summary>
    public int SplitOperator => Applied ? PrefixOperators - 1 : -1;

    /// <summary>The grid as text, for example "4x4".</summary>
    public string Grid => Applied ? $"{Rows}x{Columns}" : "-";

    /// <summary>Extra MACs in percent of the layer-by-layer MACs.</summary>
    public double MacsOverheadPercent => MacsBefore == 0 ? 0 : 100.0 * (MacsAfter - MacsBefore) / MacsBefore;

    /// <summary>Peak before over peak after.</summary>
    public double PeakRatio => PeakAfter == 0 ? 0 : (double)PeakBefore / PeakAfter;
}

/// <summary>One evaluated (split, grid): its schedule, memory and arena.</summary>
public sealed record PatchCandidate(PatchSchedule Schedule, PatchMemory Memory, ArenaPlan Arena, long Macs);

/// <summary>
/// Chooses the split point and the patch grid. Every valid split (see <see cref="PatchGraph"/>) is tried with
/// near-square grids (rows × rows - 1, rows × rows, rows × rows + 1, up to <see cref="MaxGrid"/>; never finer than the stage output, never 1×1), and
/// each candidate's whole arena is planned. <see cref="PatchMode.MinimumPeak"/> takes the lowest arena (the fewest
/// MACs among the candidates within <see cref="MinimumPeakTolerancePercent"/> of it); <see cref="PatchMode.Budget"/> takes the fewest MACs among the candidates that meet the budget
/// (the lowest arena when none does). A candidate is only taken when it beats the layer-by-layer arena.
/// </summary>
public static class PatchPlanner
{
    /// <summary>Minimum peak takes the fewest MACs among candidates within this many percent of the lowest peak.</summary>
    public const int MinimumPeakTolerancePercent = 1;

    /// <summary>The finest grid tried.</summary>
    public const int MaxGrid = 16;

    /// <summary>Placement search nodes per candidate while choosing (the chosen one is re-planned in full).</summary>
    private const int CandidateSearchBudget = 5_000;

    /// <summary>MACs of a graph, layer by layer: the sum of <see cref="Analysis.Macs.Of"/>, so patches and inspect agree.</summary>
    public static long Macs(Graph graph) => graph.Operators.Sum(op => Analysis.Macs.Of(graph, op));

    /// <summary>The layer-by-layer arena of a graph (plain lifetimes plus scratch).</summary>
    public static ArenaPlan Unpatched(Graph graph, IReadOnlyList<long> scratch, int searchBudget = MemoryPlanner.DefaultSearchBudget)
    {
        var buffers = TensorLifetimes.Compute(graph).Buffers.ToList();
        for (int i = 0; i < scratch.Count; i++)
            if (scratch[i] > 0) buffers.Add(new ArenaBuffer($"scratch of operator {i}", scratch[i], i, i));
        return MemoryPlanner.Plan(buffers, searchBudget);
    }

    /// <summary>Evaluates one split and grid; null when the grid does not fit the stage output.</summary>
    public static PatchCandidate? Evaluate(PatchGraph graph, int operators, int rows, int columns, IReadOnlyList<long> scratch,
        int searchBudget = MemoryPlanner.DefaultSearchBudget, Func<long, bool>? worthPlanning = null)
    {
        var schedule = PatchSchedule.Create(graph, operators, rows, columns);
        if (schedule is null) return null;
        var memory = PatchMemory.Build(schedule, scratch);
        // No placement beats the lower bound, so a candidate whose bound cannot win is not placed at all.
        if (worthPlanning is not null && !worthPlanning(MemoryPlanner.LowerBound(memory.Buffers).Bytes)) return null;
        var arena = MemoryPlanner.Plan(memory.Buffers, searchBudget);
        long macs = Macs(graph.Graph) - schedule.PrefixMacs + schedule.PatchedPrefixMacs;
        return new PatchCandidate(schedule, memory, arena, macs);
    }

    /// <summary>Every candidate: each valid split with each near-square grid (columns within one of rows, up to MaxGrid) that fits, except 1×1.</summary>
    public static IEnumerable<PatchCandidate> Candidates(PatchGraph graph, IReadOnlyList<long> scratch, int searchBudget = CandidateSearchBudget,
        Func<long, bool>? worthPlanning = null)
    {
        foreach (int k in graph.Splits)
        {
            var stage = graph.Graph.Tensors[graph.Ops[k - 1].Output].Shape;
            for (int rows = 1; rows <= Math.Min(MaxGrid, stage[1]); rows++)
                for (int columns = Math.Max(1, rows - 1); columns <= Math.Min(Math.Min(MaxGrid, stage[2]), rows + 1); columns++)
                    if (rows * columns > 1 && Evaluate(graph, k, rows, columns, scratch, searchBudget, worthPlanning) is { } candidate) yield return candidate;
        }
    }

    /// <summary>Chooses for the mode; the candidate is null when patches are off or do not help.</summary>
    /// <remarks><paramref name="withoutPatches"/> is the arena the plan would have without patches (other techniques
    /// included); the layer-by-layer arena when omitted. Patches are taken only below it.</remarks>
    public static (PatchCandidate? Candidate, PatchReport Report) Choose(Graph graph, IReadOnlyList<long> scratch, PatchMode mode, long? budget,
        long? withoutPatches = null)
    {
        long before = withoutPatches ?? Unpatched(graph, scratch).ArenaBytes;
        long macs = Macs(graph);
        PatchReport NotApplied(string reason, int tried) => new(false, reason, 0, 1, 1, before, before, macs, macs, tried);
        if (mode == PatchMode.Off) return (null, NotApplied("patches are off", 0));
        if (mode == PatchMode.Budget && budget is long fits && before <= fits) return (null, NotApplied($"the layer-by-layer arena ({before} B) meets the budget ({fits} B)", 0));
        var patchGraph = PatchGraph.Analyze(graph);
        // Minimum peak: only candidates that could beat the best arena so far are placed. Budget: every candidate
        // that could beat the layer-by-layer arena is, since the cheapest one that fits is wanted.
        long bestArena = before;
        int evaluated = 0;
        bool WorthPlanning(long bound)
        {
            evaluated++;
            return mode == PatchMode.Budget && budget is not null ? bound < before : bound <= bestArena + bestArena * MinimumPeakTolerancePercent / 100;
        }
        var candidates = new List<PatchCandidate>();
        foreach (var candidate in Candidates(patchGraph, scratch, CandidateSearchBudget, WorthPlanning))
        {
            if (candidate.Arena.ArenaBytes >= before) continue;
            candidates.Add(candidate);
            bestArena = Math.Min(bestArena, candidate.Arena.ArenaBytes);
        }
        int all = evaluated;
        if (candidates.Count == 0)
            return (null, NotApplied(patchGraph.Splits.Count == 0 ? "no operator at the start of the graph can run on tiles" : "no split and grid lowers the peak", all));
        PatchCandidate best;
        var meeting = mode == PatchMode.Budget && budget is long limit ? candidates.Where(c => c.Arena.ArenaBytes <= limit).ToList() : new List<PatchCandidate>();
        if (meeting.Count > 0) best = meeting.OrderBy(c => c.Macs).ThenBy(c => c.Arena.ArenaBytes).First();
        else
        {
            // The lowest peak, but not at any price: within MinimumPeakTolerance of it, the fewest MACs.
            long lowest = candidates.Min(c => c.Arena.ArenaBytes);
            best = candidates.Where(c => c.Arena.ArenaBytes <= lowest + lowest * MinimumPeakTolerancePercent / 100)
                .OrderBy(c => c.Macs).ThenBy(c => c.Arena.ArenaBytes).First();
        }
        // Re-plan the chosen one with the full placement search.
        best = Evaluate(patchGraph, best.Schedule.Operators, best.Schedule.Rows, best.Schedule.Columns, scratch)!;
        return (best, Report(best, before, macs, all));
    }

    /// <summary>The report of an applied candidate.</summary>
    public static PatchReport Report(PatchCandidate candidate, long peakBefore, long macsBefore, int tried) =>
        new(true, "applied", candidate.Schedule.Operators, candidate.Schedule.Rows, candidate.Schedule.Columns,
            peakBefore, candidate.Arena.ArenaBytes, macsBefore, candidate.Macs, tried);
}
