// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Planning;

/// <summary>A buffer to place in the arena: its size and the operators during which it must hold its bytes.</summary>
public sealed record ArenaBuffer(string Name, long Bytes, int FirstOp, int LastOp)
{
    /// <summary>True when the two lifetimes share an operator.</summary>
    public bool OverlapsInTime(ArenaBuffer other) => FirstOp <= other.LastOp && other.FirstOp <= LastOp;

    /// <summary>
    /// Index of an earlier buffer whose offset this one must share, or -1: an in-place output written over its
    /// input, which dies at the operator where this buffer is born. The two may overlap at that one operator.
    /// </summary>
    public int SameOffsetAs { get; init; } = -1;

    /// <summary>With <see cref="SameOffsetAs"/>: this buffer starts so many bytes (≥ 0, aligned) after that one, not at
    /// the same byte (an in-place stem's input above its output, docs/patches.md).</summary>
    public long RelativeOffset { get; init; }
}

/// <summary>Where the planner put the buffers, and how that compares with the lower bound.</summary>
public sealed record ArenaPlan(IReadOnlyList<ArenaBuffer> Buffers, IReadOnlyList<long> Offsets, long ArenaBytes,
    long LowerBoundBytes, int PeakOperator, string Method)
{
    /// <summary>Bytes above the lower bound (0 when the plan is optimal for this operator order).</summary>
    public long GapBytes => ArenaBytes - LowerBoundBytes;
}

/// <summary>
/// Places buffers in one arena. The lower bound for a fixed operator order is the largest sum of (aligned) live
/// buffer sizes at any operator. Greedy heuristics are tried first; when they miss the bound, a bounded exact
/// search looks for a placement at the bound, trying for every buffer the offsets next to already placed
/// neighbours in time and at the arena's top edge (the ping-pong layout that chains need).
/// </summary>
public static class MemoryPlanner
{
    /// <summary>Every offset and size is a multiple of this.</summary>
    public const int Alignment = 16;

    /// <summary>Search nodes allowed before the planner settles for the best heuristic.</summary>
    public const int DefaultSearchBudget = 200_000;

    /// <summary>Rounds up to <see cref="Alignment"/>.</summary>
    public static long Align(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;

    /// <summary>
    /// Groups of buffers that share one offset (an in-place chain), as the index of each buffer's first member.
    /// </summary>
    public static int[] Units(IReadOnlyList<ArenaBuffer> buffers)
    {
        var unit = new int[buffers.Count];
        for (int i = 0; i < buffers.Count; i++)
        {
            int to = buffers[i].SameOffsetAs;
            if (to >= i) throw new ArgumentException($"buffer {buffers[i].Name} shares its offset with a later buffer ({to})");
            if (buffers[i].RelativeOffset < 0 || buffers[i].RelativeOffset % Alignment != 0 || (to < 0 && buffers[i].RelativeOffset != 0))
                throw new ArgumentException($"buffer {buffers[i].Name} has a relative offset that is negative, unaligned or relative to nothing");
            unit[i] = to < 0 ? i : unit[to];
        }
        return unit;
    }

    /// <summary>Each buffer's offset from the first member of its unit (0 for buffers on their own).</summary>
    public static long[] OffsetsInUnit(IReadOnlyList<ArenaBuffer> buffers)
    {
        var inUnit = new long[buffers.Count];
        for (int i = 0; i < buffers.Count; i++)
            if (buffers[i].SameOffsetAs >= 0) inUnit[i] = inUnit[buffers[i].SameOffsetAs] + buffers[i].RelativeOffset;
        return inUnit;
    }

    /// <summary>Which unit each buffer belongs to, where in it, and whether the unit has other members: computed once
    /// for the many <see cref="LiveBytes"/> calls over one list.</summary>
    public sealed class UnitLayout
    {
        internal UnitLayout(IReadOnlyList<ArenaBuffer> buffers)
        {
            Unit = Units(buffers);
            InUnit = OffsetsInUnit(buffers);
            Shared = new bool[buffers.Count];
            for (int i = 0; i < buffers.Count; i++)
                if (buffers[i].SameOffsetAs >= 0) Shared[i] = Shared[Unit[i]] = true;
        }

        internal int[] Unit { get; }
        internal long[] InUnit { get; }
        internal bool[] Shared { get; }
    }

    /// <summary>The unit layout of a buffer list.</summary>
    public static UnitLayout Layout(IReadOnlyList<ArenaBuffer> buffers) => new(buffers);

    /// <summary>Aligned bytes live at each operator; buffers that share an offset count once (the bytes their live
    /// members cover together).</summary>
    public static long LiveBytes(IReadOnlyList<ArenaBuffer> buffers, int op, UnitLayout? layout = null)
    {
        layout ??= Layout(buffers);
        long live = 0;
        List<(int Unit, long Start, long End)>? shared = null;
        for (int i = 0; i < buffers.Count; i++)
        {
            var b = buffers[i];
            if (b.FirstOp > op || op > b.LastOp) continue;
            if (!layout.Shared[i]) live += Align(b.Bytes);
            else (shared ??= new List<(int, long, long)>()).Add((layout.Unit[i], layout.InUnit[i], layout.InUnit[i] + Align(b.Bytes)));
        }
        if (shared is null) return live;
        shared.Sort();
        long reach = long.MinValue;
        for (int k = 0; k < shared.Count; k++)
        {
            if (k > 0 && shared[k].Unit != shared[k - 1].Unit) reach = long.MinValue;
            live += Math.Max(0, shared[k].End - Math.Max(shared[k].Start, reach));
            reach = Math.Max(reach, shared[k].End);
        }
        return live;
    }

    /// <summary>The lower bound and the operator where it is reached.</summary>
    public static (long Bytes, int Operator) LowerBound(IReadOnlyList<ArenaBuffer> buffers)
    {
        if (buffers.Count == 0) return (0, -1);
        var layout = Layout(buffers);
        int lastOp = buffers.Max(b => b.LastOp);
        int firstOp = buffers.Min(b => b.FirstOp);
        long best = -1;
        int at = firstOp;
        for (int op = firstOp; op <= lastOp; op++)
        {
            long live = LiveBytes(buffers, op, layout);
            if (live > best)
            {
                best = live;
                at = op;
            }
        }
        return (best, at);
    }

    /// <summary>Plans the buffers. Buffers that share an offset are placed together, as one unit.</summary>
    public static ArenaPlan Plan(IReadOnlyList<ArenaBuffer> buffers, int searchBudget = DefaultSearchBudget)
    {
        foreach (var b in buffers)
            if (b.Bytes < 0 || b.FirstOp > b.LastOp) throw new ArgumentException($"buffer {b.Name} has a negative size or an empty lifetime");
        var (bound, peak) = LowerBound(buffers);
        var unitOf = Units(buffers);
        var roots = Enumerable.Range(0, buffers.Count).Where(i => unitOf[i] == i).ToArray();
        var indexOfRoot = new Dictionary<int, int>();
        for (int u = 0; u < roots.Length; u++) indexOfRoot[roots[u]] = u;
        // Members of each unit: (offset in the unit, aligned size, buffer).
        var inUnit = OffsetsInUnit(buffers);
        var members = roots.Select(r => Enumerable.Range(0, buffers.Count).Where(i => unitOf[i] == r).ToArray()).ToArray();
        var memberSizes = members.Select(m => m.Select(i => Align(buffers[i].Bytes)).ToArray()).ToArray();
        var memberOffsets = members.Select(m => m.Select(i => inUnit[i]).ToArray()).ToArray();
        var units = new UnitSet(buffers, members, memberSizes, memberOffsets);
        var sizes = Enumerable.Range(0, roots.Length).Select(units.Size).ToArray();
        var firstOp = members.Select(m => m.Min(i => buffers[i].FirstOp)).ToArray();
        var byStart = Enumerable.Range(0, roots.Length).OrderBy(u => firstOp[u]).ThenByDescending(u => sizes[u]).ToArray();

        (long[] Offsets, long Arena, string Method)? best = null;
        void Consider(long[] unitOffsets, string method)
        {
            long arena = unitOffsets.Select((o, u) => o + sizes[u]).DefaultIfEmpty(0).Max();
            if (best is null || arena < best.Value.Arena) best = (unitOffsets, arena, method);
        }
        Consider(FirstFit(Enumerable.Range(0, roots.Length).OrderByDescending(u => sizes[u]).ThenBy(u => firstOp[u]).ToArray(), units), "greedy by size");
        Consider(FirstFit(byStart, units), "greedy by first use");
        if (best!.Value.Arena > bound)
        {
            var found = Search(byStart, units, bound, searchBudget);
            if (found is not null) Consider(found, "search at the lower bound");
        }
        var offsets = Enumerable.Range(0, buffers.Count).Select(i => best.Value.Offsets[indexOfRoot[unitOf[i]]] + inUnit[i]).ToArray();
        return new ArenaPlan(buffers, offsets, best.Value.Arena, bound, peak, best.Value.Method);
    }

    /// <summary>Units of buffers placed at one offset, and which units are live at the same time.</summary>
    private sealed class UnitSet
    {
        public UnitSet(IReadOnlyList<ArenaBuffer> buffers, int[][] members, long[][] memberSizes, long[][] memberOffsets)
        {
            Buffers = buffers;
            Members = members;
            MemberSizes = memberSizes;
            MemberOffsets = memberOffsets;
            // A unit's extent: to the end of its furthest member.
            _sizes = new long[members.Length];
            for (int u = 0; u < members.Length; u++)
                for (int a = 0; a < members[u].Length; a++) _sizes[u] = Math.Max(_sizes[u], memberOffsets[u][a] + memberSizes[u][a]);
            Count = members.Length;
            // Plain loops: a closure per pair of units allocated gigabytes for a few thousand buffers.
            Conflicts = new int[Count][];
            var conflicts = new List<int>();
            for (int u = 0; u < Count; u++)
            {
                conflicts.Clear();
                for (int w = 0; w < Count; w++)
                    if (w != u && Overlap(buffers, members[u], members[w])) conflicts.Add(w);
                Conflicts[u] = conflicts.ToArray();
            }
        }

        private static bool Overlap(IReadOnlyList<ArenaBuffer> buffers, int[] a, int[] b)
        {
            foreach (int m in a)
                foreach (int n in b)
                    if (buffers[m].OverlapsInTime(buffers[n])) return true;
            return false;
        }

        public IReadOnlyList<ArenaBuffer> Buffers { get; }
        public int[][] Members { get; }
        public long[][] MemberSizes { get; }
        /// <summary>Where each member starts in its unit.</summary>
        public long[][] MemberOffsets { get; }
        private readonly long[] _sizes;
        public int[][] Conflicts { get; }
        public int Count { get; }
        public long Size(int u) => _sizes[u];

        /// <summary>True when unit u at offset c shares no byte with a placed unit while both are live.</summary>
        public bool Fits(int u, long c, long[] offsets, bool[] placed)
        {
            foreach (int w in Conflicts[u])
            {
                if (!placed[w]) continue;
                for (int a = 0; a < Members[u].Length; a++)
                    for (int b = 0; b < Members[w].Length; b++)
                    {
                        if (!Buffers[Members[u][a]].OverlapsInTime(Buffers[Members[w][b]])) continue;
                        long start = c + MemberOffsets[u][a], other = offsets[w] + MemberOffsets[w][b];
                        if (start < other + MemberSizes[w][b] && other < start + MemberSizes[u][a]) return false;
                    }
            }
            return true;
        }
    }

    private static long[] FirstFit(int[] order, UnitSet units)
    {
        var offsets = new long[units.Count];
        var placed = new bool[units.Count];
        foreach (int u in order)
        {
            // Candidate offsets: the bottom, or just above a placed neighbour in time; take the lowest that fits.
            // Offset c collides with a placed member b (at o, size sb) that a member a (size sa) of u meets in time
            // exactly when o - sa < c < o + sb. Sweeping those open intervals by their low end finds the lowest free
            // candidate in O(k log k); testing each candidate against every neighbour was O(k^2), which a graph of a
            // few thousand tensors live at once turned into minutes.
            var candidates = new List<long> { 0 };
            var forbidden = new List<(long Low, long High)>();
            foreach (int w in units.Conflicts[u])
            {
                if (!placed[w]) continue;
                for (int b = 0; b < units.Members[w].Length; b++)
                {
                    long other = offsets[w] + units.MemberOffsets[w][b];
                    for (int a = 0; a < units.Members[u].Length; a++)
                    {
                        // Member a of u (at c + ra) just above member b, or (when they meet in time) colliding with it.
                        long ra = units.MemberOffsets[u][a];
                        candidates.Add(other + units.MemberSizes[w][b] - ra);
                        if (units.Buffers[units.Members[u][a]].OverlapsInTime(units.Buffers[units.Members[w][b]]))
                            forbidden.Add((other - ra - units.MemberSizes[u][a], other + units.MemberSizes[w][b] - ra));
                    }
                }
            }
            candidates.Sort();
            forbidden.Sort((x, y) => x.Low.CompareTo(y.Low));
            int next = 0;
            long reach = long.MinValue; // the highest end among intervals that start below the candidate
            foreach (long c in candidates)
            {
                for (; next < forbidden.Count && forbidden[next].Low < c; next++) reach = Math.Max(reach, forbidden[next].High);
                if (reach <= c)
                {
                    offsets[u] = c;
                    break;
                }
            }
            placed[u] = true;
        }
        return offsets;
    }

    private static long[]? Search(int[] order, UnitSet units, long arena, int budget)
    {
        var offsets = new long[units.Count];
        var placed = new bool[units.Count];
        int nodes = 0;
        bool Place(int k)
        {
            if (k == order.Length) return true;
            if (++nodes > budget) return false;
            int u = order[k];
            long size = units.Size(u);
            var candidates = new SortedSet<long> { 0, arena - size };
            foreach (int w in units.Conflicts[u])
            {
                if (!placed[w]) continue;
                for (int b = 0; b < units.Members[w].Length; b++)
                    for (int a = 0; a < units.Members[u].Length; a++)
                    {
                        long other = offsets[w] + units.MemberOffsets[w][b], ra = units.MemberOffsets[u][a];
                        candidates.Add(other + units.MemberSizes[w][b] - ra);
                        candidates.Add(other - ra - units.MemberSizes[u][a]);
                    }
            }
            foreach (long c in candidates)
            {
                if (c < 0 || c + size > arena || !units.Fits(u, c, offsets, placed)) continue;
                offsets[u] = c;
                placed[u] = true;
                if (Place(k + 1)) return true;
                placed[u] = false;
                if (nodes > budget) return false;
            }
            return false;
        }
        return Place(0) ? offsets : null;
    }
}
