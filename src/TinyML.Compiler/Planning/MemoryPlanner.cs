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

    /// <summary>The lower bound and the operator where it is reached.</summary>
    public static (long Bytes, int Operator) LowerBound(IReadOnlyList<ArenaBuffer> buffers)
    {
        if (buffers.Count == 0) return (0, -1);
        int lastOp = buffers.Max(b => b.LastOp);
        int firstOp = buffers.Min(b => b.FirstOp);
        long best = -1;
        int at = firstOp;
        for (int op = firstOp; op <= lastOp; op++)
        {
            long live = buffers.Where(b => b.FirstOp <= op && op <= b.LastOp).Sum(b => Align(b.Bytes));
            if (live > best)
            {
                best = live;
                at = op;
            }
        }
        return (best, at);
    }

    /// <summary>Plans the buffers.</summary>
    public static ArenaPlan Plan(IReadOnlyList<ArenaBuffer> buffers, int searchBudget = DefaultSearchBudget)
    {
        foreach (var b in buffers)
            if (b.Bytes < 0 || b.FirstOp > b.LastOp) throw new ArgumentException($"buffer {b.Name} has a negative size or an empty lifetime");
        var (bound, peak) = LowerBound(buffers);
        var sizes = buffers.Select(b => Align(b.Bytes)).ToArray();
        var conflicts = buffers.Select((b, i) => buffers.Select((o, j) => (o, j)).Where(x => x.j != i && b.OverlapsInTime(x.o)).Select(x => x.j).ToArray()).ToArray();

        (long[] Offsets, long Arena, string Method)? best = null;
        void Consider(long[] offsets, string method)
        {
            long arena = offsets.Select((o, i) => o + sizes[i]).DefaultIfEmpty(0).Max();
            if (best is null || arena < best.Value.Arena) best = (offsets, arena, method);
        }
        var byStart = Enumerable.Range(0, buffers.Count).OrderBy(i => buffers[i].FirstOp).ThenByDescending(i => sizes[i]).ToArray();
        Consider(FirstFit(Enumerable.Range(0, buffers.Count).OrderByDescending(i => sizes[i]).ThenBy(i => buffers[i].FirstOp).ToArray(), sizes, conflicts), "greedy by size");
        Consider(FirstFit(byStart, sizes, conflicts), "greedy by first use");
        if (best!.Value.Arena > bound)
        {
            var found = Search(byStart, sizes, conflicts, bound, searchBudget);
            if (found is not null) Consider(found, "search at the lower bound");
        }
        return new ArenaPlan(buffers, best.Value.Offsets, best.Value.Arena, bound, peak, best.Value.Method);
    }

    private static bool Fits(long offset, long size, int index, long[] offsets, bool[] placed, long[] sizes, int[][] conflicts)
    {
        foreach (int j in conflicts[index])
            if (placed[j] && offset < offsets[j] + sizes[j] && offsets[j] < offset + size) return false;
        return true;
    }

    private static long[] FirstFit(int[] order, long[] sizes, int[][] conflicts)
    {
        var offsets = new long[sizes.Length];
        var placed = new bool[sizes.Length];
        foreach (int i in order)
        {
            // Candidate offsets: the bottom, or just above a placed neighbour in time; take the lowest that fits.
            var candidates = conflicts[i].Where(j => placed[j]).Select(j => offsets[j] + sizes[j]).Append(0).OrderBy(x => x);
            offsets[i] = candidates.First(c => Fits(c, sizes[i], i, offsets, placed, sizes, conflicts));
            placed[i] = true;
        }
        return offsets;
    }

    private static long[]? Search(int[] order, long[] sizes, int[][] conflicts, long arena, int budget)
    {
        var offsets = new long[sizes.Length];
        var placed = new bool[sizes.Length];
        int nodes = 0;
        bool Place(int k)
        {
            if (k == order.Length) return true;
            if (++nodes > budget) return false;
            int i = order[k];
            var candidates = new SortedSet<long> { 0, arena - sizes[i] };
            foreach (int j in conflicts[i])
            {
                if (!placed[j]) continue;
                candidates.Add(offsets[j] + sizes[j]);
                candidates.Add(offsets[j] - sizes[i]);
            }
            foreach (long c in candidates)
            {
                if (c < 0 || c + sizes[i] > arena || !Fits(c, sizes[i], i, offsets, placed, sizes, conflicts)) continue;
                offsets[i] = c;
                placed[i] = true;
                if (Place(k + 1)) return true;
                placed[i] = false;
                if (nodes > budget) return false;
            }
            return false;
        }
        return Place(0) ? offsets : null;
    }
}
