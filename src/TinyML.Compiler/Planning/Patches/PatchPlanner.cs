// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;

namespace TinyML.Compiler.Planning.Patches;

/// <summary>
/// What patch-based inference did to a plan: the split, the grid, the peak before and after, and the extra MACs.
/// MACs are counted as <see cref="Analysis.Macs"/> counts them. <c>PrefixOperators</c> counts the model's operators up
/// to the split, the input TRANSPOSE (folded or whole) and PADs folded away included.
/// </summary>
public sealed record PatchReport(bool Applied, string Reason, int PrefixOperators, int Rows, int Columns,
    long PeakBefore, long PeakAfter, long MacsBefore, long MacsAfter, int CandidatesEvaluated)
{
    /// <summary>The last operator that runs patch by patch (its output is the stage output), or -1.</summary>
    public int SplitOperator => Applied ? PrefixOperators - 1 : -1;

    /// <summary>True when the input TRANSPOSE runs whole before the patches, which cut their tiles from its NHWC output.</summary>
    public bool TransposeWhole { get; init; }

    /// <summary>True when the first convolution runs whole, over its own input, before the patches, which cut their tiles from its output.</summary>
    public bool StemInPlace { get; init; }

    /// <summary>The grid as text, for example "4x4", "4x4, T whole" when the input TRANSPOSE runs whole or "4x4, stem in place".</summary>
    public string Grid => Applied ? $"{Rows}x{Columns}{PatchPoint.Marker(TransposeWhole, StemInPlace)}" : "-";

    /// <summary>Extra MACs in percent of the layer-by-layer MACs.</summary>
    public double MacsOverheadPercent => MacsBefore == 0 ? 0 : 100.0 * (MacsAfter - MacsBefore) / MacsBefore;

    /// <summary>Peak before over peak after.</summary>
    public double PeakRatio => PeakAfter == 0 ? 0 : (double)PeakBefore / PeakAfter;

    /// <summary>The peak / extra-MAC Pareto front the choice was made from, lowest arena first (empty when the planner did not search).</summary>
    public IReadOnlyList<PatchPoint> Front { get; init; } = Array.Empty<PatchPoint>();
}

/// <summary>One evaluated split and grid: its arena (placed with the candidate search budget) and MACs; <c>TransposeWhole</c>
/// when the input TRANSPOSE runs whole before the patches instead of being folded into the tile cut, <c>StemInPlace</c>
/// when the first convolution runs whole over its own input (<see cref="PatchGraph.WithStemInPlace"/>).</summary>
public sealed record PatchPoint(int PrefixOperators, int Rows, int Columns, bool Uniform, long ArenaBytes, long Macs, long MacsBefore, bool TransposeWhole = false,
    bool StemInPlace = false)
{
    /// <summary>What a grid's text ends with when the input TRANSPOSE runs whole.</summary>
    public const string TransposeWholeMarker = ", T whole";

    /// <summary>What a grid's text ends with when the stem runs in place.</summary>
    public const string StemInPlaceMarker = ", stem in place";

    /// <summary>The end of a grid's text for the kind of stage.</summary>
    public static string Marker(bool transposeWhole, bool stemInPlace) => transposeWhole ? TransposeWholeMarker : stemInPlace ? StemInPlaceMarker : "";

    /// <summary>The last operator of the prefix.</summary>
    public int SplitOperator => PrefixOperators - 1;

    /// <summary>The grid as text: "4x4", with a '*' when the bands are not near-equal and ", T whole" when the input TRANSPOSE runs whole.</summary>
    public string Grid => $"{Rows}x{Columns}{(Uniform ? "" : "*")}{Marker(TransposeWhole, StemInPlace)}";

    /// <summary>MACs over the layer-by-layer MACs.</summary>
    public long ExtraMacs => Macs - MacsBefore;

    /// <summary>Extra MACs in percent of the layer-by-layer MACs.</summary>
    public double MacsOverheadPercent => MacsBefore == 0 ? 0 : 100.0 * ExtraMacs / MacsBefore;

    /// <summary>No worse in arena and MACs, and better in one.</summary>
    public bool Dominates(PatchPoint other) =>
        ArenaBytes <= other.ArenaBytes && Macs <= other.Macs && (ArenaBytes < other.ArenaBytes || Macs < other.Macs);
}

/// <summary>The outcome of a search: every placed candidate and the Pareto front among them.</summary>
/// <param name="Evaluated">Every candidate that was placed, in search order.</param>
/// <param name="Front">The points no other placed point dominates (one per arena and MACs), lowest arena first.</param>
/// <param name="Considered">Candidates whose schedule was worked out (placed or pruned).</param>
/// <param name="PeakBefore">The arena the candidates had to beat.</param>
/// <param name="MacsBefore">The layer-by-layer MACs.</param>
public sealed record PatchFront(IReadOnlyList<PatchCandidate> Evaluated, IReadOnlyList<PatchCandidate> Front, int Considered, long PeakBefore, long MacsBefore)
{
    /// <summary>A candidate as a point.</summary>
    public PatchPoint Point(PatchCandidate c) =>
        new(c.Schedule.Graph.FirstOperator + c.Schedule.Operators, c.Schedule.Rows, c.Schedule.Columns, c.Schedule.IsUniform, c.Arena.ArenaBytes, c.Macs, MacsBefore,
            c.Schedule.Graph.WholeTranspose >= 0, c.Schedule.Graph.InPlaceStem >= 0);

    /// <summary>The front as points.</summary>
    public IReadOnlyList<PatchPoint> Points => Front.Select(Point).ToList();

    /// <summary>The cheapest front point within a budget (fewest MACs, then lowest arena); null when none fits.</summary>
    public PatchCandidate? CheapestWithin(long budget) =>
        Front.Where(c => c.Arena.ArenaBytes <= budget).OrderBy(c => c.Macs).ThenBy(c => c.Arena.ArenaBytes).FirstOrDefault();

    /// <summary>The lowest arena, but not at any price: among the points within <paramref name="tolerancePercent"/> of it, the fewest MACs.</summary>
    public PatchCandidate? MinimumPeak(int tolerancePercent)
    {
        if (Front.Count == 0) return null;
        long lowest = Front.Min(c => c.Arena.ArenaBytes);
        return CheapestWithin(lowest + lowest * tolerancePercent / 100);
    }
}

/// <summary>One evaluated (split, grid): its schedule, memory and arena.</summary>
public sealed record PatchCandidate(PatchSchedule Schedule, PatchMemory Memory, ArenaPlan Arena, long Macs);

/// <summary>
/// Chooses the split point and the patch grid. Every valid split of every kind of patch stage (see
/// <see cref="PatchGraph.Kinds"/>: an input TRANSPOSE folded into the tile cut or run whole, a stem run in place) is tried with every
/// grid up to <see cref="MaxGrid"/> × <see cref="MaxGrid"/> (never finer than the stage output, never 1×1), and the
/// candidates that could join the peak / MAC Pareto front are placed. <see cref="PatchMode.MinimumPeak"/> takes the
/// lowest arena (the fewest MACs among the front points within <see cref="MinimumPeakTolerancePercent"/> of it);
/// <see cref="PatchMode.Budget"/> takes the front point with the fewest MACs that meets the budget (the minimum-peak
/// choice when none does). A candidate is only taken when it beats the layer-by-layer arena.
/// </summary>
public static class PatchPlanner
{
    /// <summary>Minimum peak takes the fewest MACs among candidates within this many percent of the lowest peak.</summary>
    public const int MinimumPeakTolerancePercent = 1;

    /// <summary>The finest grid tried along each axis.</summary>
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

    /// <summary>Evaluates one split and grid of near-equal cells; null when the grid does not fit the stage output.</summary>
    public static PatchCandidate? Evaluate(PatchGraph graph, int operators, int rows, int columns, IReadOnlyList<long> scratch,
        int searchBudget = MemoryPlanner.DefaultSearchBudget)
    {
        var schedule = PatchSchedule.Create(graph, operators, rows, columns);
        return schedule is null ? null : Evaluate(schedule, scratch, searchBudget);
    }

    /// <summary>Places a schedule's buffers; null when <paramref name="worthPlanning"/> (given the arena's lower bound and the MACs) says no.</summary>
    public static PatchCandidate? Evaluate(PatchSchedule schedule, IReadOnlyList<long> scratch, int searchBudget = MemoryPlanner.DefaultSearchBudget,
        Func<long, long, bool>? worthPlanning = null, long? macsBefore = null)
    {
        var memory = PatchMemory.Build(schedule, scratch);
        long macs = MacsOf(schedule, macsBefore ?? Macs(schedule.Graph.Graph));
        // No placement beats the lower bound, so a candidate whose bound cannot win is not placed at all.
        if (worthPlanning is not null && !worthPlanning(MemoryPlanner.LowerBound(memory.Buffers).Bytes, macs)) return null;
        return new PatchCandidate(schedule, memory, MemoryPlanner.Plan(memory.Buffers, searchBudget), macs);
    }

    /// <summary>The grids tried on a stage output of <paramref name="height"/> × <paramref name="width"/>: every rows × columns up to <see cref="MaxGrid"/> that fits, except 1×1, fewest cells first.</summary>
    public static IEnumerable<(int Rows, int Columns)> Grids(int height, int width) =>
        from rows in Enumerable.Range(1, Math.Min(MaxGrid, height))
        from columns in Enumerable.Range(1, Math.Min(MaxGrid, width))
        where rows * columns > 1
        orderby rows * columns, rows
        select (rows, columns);

    /// <summary>Every schedule the planner considers: each valid split with each grid of <see cref="Grids"/>, near-equal and balanced.</summary>
    public static IEnumerable<PatchSchedule> Schedules(PatchGraph graph) =>
        Layouts(graph).Select(l => PatchSchedule.Create(graph, l.Operators, l.Rows, l.Columns));

    /// <summary>
    /// Each split with the reach of each grid's bands: near-equal bands, and where they differ, bands balanced on the
    /// input span (<see cref="BandReach.Balanced"/>) along either axis. Each band list is worked out once per split.
    /// </summary>
    private static IEnumerable<(int Operators, BandReach Rows, BandReach Columns)> Layouts(PatchGraph graph)
    {
        foreach (int k in graph.Splits)
        {
            var stage = graph.Graph.Tensors[graph.Ops[k - 1].Output].Shape;
            var reaches = new Dictionary<(bool, int), IReadOnlyList<BandReach>>();
            var edges = new[] { BandReach.InputEdges(graph, k, false), BandReach.InputEdges(graph, k, true) };
            IReadOnlyList<BandReach> Reach(bool rows, int count)
            {
                if (reaches.TryGetValue((rows, count), out var known)) return known;
                var uniform = PatchSchedule.Cut(stage[rows ? 1 : 2], count);
                var lists = new List<IReadOnlyList<(int, int)>> { uniform };
                if (edges[rows ? 1 : 0] is { } axis && BandReach.Balanced(axis, count) is { } balanced && !balanced.SequenceEqual(uniform)) lists.Add(balanced);
                return reaches[(rows, count)] = lists.Select(bands => BandReach.Of(graph, k, rows, bands)).Where(r => r is not null).ToList()!;
            }
            foreach (var (rows, columns) in Grids(stage[1], stage[2]))
                foreach (var r in Reach(true, rows))
                    foreach (var c in Reach(false, columns))
                        yield return (k, r, c);
        }
    }

    /// <summary>
    /// A lower bound of a schedule's arena without laying it out. At each step of a patch, the tiles live from the
    /// step that fills them to the last step that reads them, crops and kernel scratch at their operator's step (the
    /// lifetimes <see cref="PatchMemory"/> gives them), next to the whole input and stage output. Those two share a
    /// buffer at best, and the first band of stage rows is written while the input is still whole (every patch
    /// reads from its row 0 on), so they take at least the input plus that band. A whole TRANSPOSE's step holds the
    /// NCHW and the NHWC input.
    /// </summary>
    private static long TileBound(PatchSchedule schedule, IReadOnlyList<long> scratch)
    {
        int k = schedule.Operators;
        var live = new long[k + 2];
        foreach (int t in schedule.TiledTensors)
        {
            int first = t == schedule.Graph.Input ? 0 : 1 + Enumerable.Range(0, k).First(j => schedule.Ops[j].Output == t);
            int last = t == schedule.StageOutput ? k + 1 : Enumerable.Range(0, k).Where(j => schedule.Ops[j].Inputs.Contains(t)).Select(j => j + 1).DefaultIfEmpty(first).Max();
            for (int step = first; step <= last; step++) live[step] += MemoryPlanner.Align(schedule.TileBytes(t));
        }
        foreach (var (op, slot) in schedule.NeedsCrop) live[op + 1] += MemoryPlanner.Align(schedule.CropBytes(op, slot));
        for (int j = 0; j < k; j++)
            if (schedule.Ops[j].Index < scratch.Count) live[j + 1] += MemoryPlanner.Align(Math.Max(0, scratch[schedule.Ops[j].Index]));
        var tensors = schedule.Graph.Graph.Tensors;
        var stage = tensors[schedule.StageOutput];
        long stageRow = stage.Bytes / stage.Shape[1];
        long input = tensors[schedule.Graph.Input].Bytes;
        long patches = MemoryPlanner.Align(input + schedule.RowReach.Bands[0].End * stageRow) + live.Max();
        // A whole TRANSPOSE writes the NHWC input while the NCHW one is still live; an in-place stem writes its output
        // over its input, which starts StemInputOffset bytes in.
        if (schedule.Graph.WholeTranspose >= 0) return Math.Max(patches, 2 * MemoryPlanner.Align(input));
        if (schedule.Graph.InPlaceStem >= 0)
            return Math.Max(patches, MemoryPlanner.Align(schedule.Graph.StemInputOffset + tensors[schedule.Graph.Graph.Inputs[0]].Bytes));
        return patches;
    }

    /// <summary>The MACs of a graph whose prefix runs as scheduled.</summary>
    private static long MacsOf(PatchSchedule schedule, long macsBefore) => macsBefore - schedule.PrefixMacs + schedule.PatchedPrefixMacs;

    /// <summary>Every candidate, placed (no pruning; the bench and tests use it to check the front).</summary>
    public static IEnumerable<PatchCandidate> Candidates(PatchGraph graph, IReadOnlyList<long> scratch, int searchBudget = CandidateSearchBudget) =>
        Schedules(graph).Select(schedule => Evaluate(schedule, scratch, searchBudget)!);

    /// <summary>Every candidate of every kind of patch stage (<see cref="PatchGraph.Kinds"/>), placed.</summary>
    public static IEnumerable<PatchCandidate> Candidates(Graph graph, IReadOnlyList<long> scratch, int searchBudget = CandidateSearchBudget) =>
        PatchGraph.Kinds(graph).SelectMany(kind => Candidates(kind, scratch, searchBudget));

    /// <summary>
    /// The peak / MAC Pareto front of the candidates that beat <paramref name="withoutPatches"/> (the layer-by-layer
    /// arena when omitted). A candidate is placed only when no front point already has an arena at or below its lower
    /// bound with no more MACs (it could only be dominated or equal), so the front is the one placing every candidate gives.
    /// </summary>
    public static PatchFront Front(Graph graph, IReadOnlyList<long> scratch, long? withoutPatches = null) =>
        Search(PatchGraph.Kinds(graph), scratch, withoutPatches ?? Unpatched(graph, scratch).ArenaBytes, Macs(graph));

    /// <summary>The front over the candidates of every kind, searched kind after kind (a fixed order: ties keep the first).</summary>
    private static PatchFront Search(IReadOnlyList<PatchGraph> kinds, IReadOnlyList<long> scratch, long before, long macs)
    {
        var front = new List<PatchCandidate>();
        var evaluated = new List<PatchCandidate>();
        int considered = 0;
        bool Covered(long arena, long candidateMacs) => front.Any(p => p.Arena.ArenaBytes <= arena && p.Macs <= candidateMacs);
        bool Worth(long bound, long candidateMacs) => bound < before && !Covered(bound, candidateMacs);
        // After the prefix the operators run layer by layer: what is live there does not depend on the grid.
        var whole = kinds[0].Graph;
        var plain = TensorLifetimes.Compute(whole).Buffers;
        var liveAfter = new long[whole.Operators.Count + 1];
        var layout = MemoryPlanner.Layout(plain);
        for (int i = whole.Operators.Count - 1; i >= 0; i--) liveAfter[i] = Math.Max(liveAfter[i + 1], MemoryPlanner.LiveBytes(plain, i, layout));
        foreach (var (graph, k, rows, columns) in kinds.SelectMany(kind => Layouts(kind).Select(l => (kind, l.Operators, l.Rows, l.Columns))))
        {
            considered++;
            // A first bound from the tiles and the layer-by-layer rest (from the first graph operator after the
            // prefix): most schedules stop here, before their buffers are laid out.
            var schedule = PatchSchedule.Create(graph, k, rows, columns);
            if (!Worth(Math.Max(TileBound(schedule, scratch), liveAfter[graph.FirstOperator + k]), MacsOf(schedule, macs))) continue;
            var candidate = Evaluate(schedule, scratch, CandidateSearchBudget, Worth, macs);
            if (candidate is null || candidate.Arena.ArenaBytes >= before) continue;
            evaluated.Add(candidate);
            if (Covered(candidate.Arena.ArenaBytes, candidate.Macs)) continue;
            front.RemoveAll(p => candidate.Arena.ArenaBytes <= p.Arena.ArenaBytes && candidate.Macs <= p.Macs);
            front.Add(candidate);
        }
        return new PatchFront(evaluated, front.OrderBy(c => c.Arena.ArenaBytes).ThenBy(c => c.Macs).ToList(), considered, before, macs);
    }

    /// <summary>Chooses for the mode; the candidate is null when patches are off or do not help.</summary>
    /// <remarks><paramref name="withoutPatches"/> is the arena the plan would have without patches (other techniques
    /// included); the layer-by-layer arena when omitted. Patches are taken only below it.</remarks>
    /// <paramref name="stemInPlace"/> false leaves out the in-place stem (its kernel would not write in raster order).
    public static (PatchCandidate? Candidate, PatchReport Report) Choose(Graph graph, IReadOnlyList<long> scratch, PatchMode mode, long? budget,
        long? withoutPatches = null, bool stemInPlace = true)
    {
        long before = withoutPatches ?? Unpatched(graph, scratch).ArenaBytes;
        long macs = Macs(graph);
        PatchReport NotApplied(string reason, int tried) => new(false, reason, 0, 1, 1, before, before, macs, macs, tried);
        if (mode == PatchMode.Off) return (null, NotApplied("patches are off", 0));
        if (mode == PatchMode.Budget && budget is long fits && before <= fits) return (null, NotApplied($"the layer-by-layer arena ({before} B) meets the budget ({fits} B)", 0));
        var kinds = PatchGraph.Kinds(graph, stemInPlace);
        var patchGraph = kinds[0];
        var search = Search(kinds, scratch, before, macs);
        if (search.Front.Count == 0)
        {
            // Where the run of tileable operators ends says why a graph cannot be patched further.
            string reason = (patchGraph.Splits.Count == 0 ? "no operator at the start of the graph can run on tiles" : "no split and grid lowers the peak")
                + (patchGraph.StopReason.Length > 0 ? $"; tiles stop at {patchGraph.StopReason}" : "");
            return (null, NotApplied(reason, search.Considered) with { Front = search.Points });
        }
        var best = (mode == PatchMode.Budget && budget is long limit ? search.CheapestWithin(limit) : null) ?? search.MinimumPeak(MinimumPeakTolerancePercent)!;
        // Re-plan the chosen one with the full placement search.
        best = Evaluate(best.Schedule, scratch, macsBefore: macs)!;
        return (best, Report(best, before, macs, search.Considered) with { Front = search.Points });
    }

    /// <summary>The report of an applied candidate.</summary>
    public static PatchReport Report(PatchCandidate candidate, long peakBefore, long macsBefore, int tried) =>
        new(true, "applied", candidate.Schedule.Graph.FirstOperator + candidate.Schedule.Operators, candidate.Schedule.Rows, candidate.Schedule.Columns,
            peakBefore, candidate.Arena.ArenaBytes, macsBefore, candidate.Macs, tried)
        { TransposeWhole = candidate.Schedule.Graph.WholeTranspose >= 0, StemInPlace = candidate.Schedule.Graph.InPlaceStem >= 0 };
}
