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
            unit[i] = to < 0 ? i : unit[to];
        }
        return unit;
    }

    /// <summary>Aligned bytes live at each operator; buffers that share an offset count once, at their largest.</summary>
    public static long LiveBytes(IReadOnlyList<ArenaBuffer> buffers, int op, int[]? units = null)
    {
        units ??= Units(buffers);
        var perUnit = new Dictionary<int, long>();
        for (int i = 0; i < buffers.Count; i++)
        {
            var b = buffers[i];
            if (b.FirstOp > op || op > b.LastOp) continue;
            perUnit[units[i]] = Math.Max(perUnit.TryGetValue(units[i], out long v) ? v : 0, Align(b.Bytes));
        }
        return perUnit.Values.Sum();
    }

    /// <summary>The lower bound and the operator where it is reached.</summary>
    public static (long Bytes, int Operator) LowerBound(IReadOnlyList<ArenaBuffer> buffers)
    {
        if (buffers.Count == 0) return (0, -1);
        var units = Units(buffers);
        int lastOp = buffers.Max(b => b.LastOp);
        int firstOp = buffers.Min(b => b.FirstOp);
        long best = -1;
        int at = firstOp;
        for (int op = firstOp; op <= lastOp; op++)
        {
            long live = LiveBytes(buffers, op, units);
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
        // Members of each unit: (aligned size, buffer).
        var members = roots.Select(r => Enumerable.Range(0, buffers.Count).Where(i => unitOf[i] == r).ToArray()).ToArray();
        var memberSizes = members.Select(m => m.Select(i => Align(buffers[i].Bytes)).ToArray()).ToArray();
        var sizes = memberSizes.Select(m => m.Max()).ToArray();
        var firstOp = members.Select(m => m.Min(i => buffers[i].FirstOp)).ToArray();
        var units = new UnitSet(buffers, members, memberSizes);
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
        var offsets = Enumerable.Range(0, buffers.Count).Select(i => best.Value.Offsets[indexOfRoot[unitOf[i]]]).ToArray();
        return new ArenaPlan(buffers, offsets, best.Value.Arena, bound, peak, best.Value.Method);
    }

    /// <summary>Units of buffers placed at one offset, and which units are live at the same time.</summary>
    private sealed class UnitSet
    {
        public UnitSet(IReadOnlyList<ArenaBuffer> buffers, int[][] members, long[][] memberSizes)
        {
            Buffers = buffers;
            Members = members;
            MemberSizes = memberSizes;
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
        public int[][] Conflicts { get; }
        public int Count { get; }
        public long Size(int u) => MemberSizes[u].Max();

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
                        if (c < offsets[w] + MemberSizes[w][b] && offsets[w] < c + MemberSizes[u][a]) return false;
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
                    candidates.Add(offsets[w] + units.MemberSizes[w][b]);
                    for (int a = 0; a < units.Members[u].Length; a++)
                        if (units.Buffers[units.Members[u][a]].OverlapsInTime(units.Buffers[units.Members[w][b]]))
                            forbidden.Add((offsets[w] - units.MemberSizes[u][a], offsets[w] + units.MemberSizes[w][b]));
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
                foreach (long s in units.MemberSizes[w]) candidates.Add(offsets[w] + s);
                foreach (long s in units.MemberSizes[u]) candidates.Add(offsets[w] - s);
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
