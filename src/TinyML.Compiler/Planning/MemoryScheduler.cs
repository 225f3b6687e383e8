// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Planning;

/// <summary>The memory techniques the scheduler may use (patch-based inference is planned elsewhere).</summary>
public sealed record ScheduleOptions(bool InPlaceDepthwise, bool InPlaceElementwise, bool Reorder)
{
    /// <summary>No technique: operators in model order, every tensor in a buffer of its own.</summary>
    public static ScheduleOptions None { get; } = new(false, false, false);

    /// <summary>Search states the reordering may visit before it keeps the model's order.</summary>
    public int ReorderStateCap { get; init; } = Reorderer.DefaultStateCap;
}

/// <summary>An execution order, the in-place pairs and the arena plan that follows from them.</summary>
public sealed class MemorySchedule
{
    internal MemorySchedule(IReadOnlyList<int> order, IReadOnlyList<InPlacePair> inPlace, ArenaPlan arena,
        IReadOnlyDictionary<int, long> tensorOffsets, IReadOnlyDictionary<int, long> scratchOffsets, IReadOnlyList<int> stateTensors)
    {
        Order = order;
        InPlace = inPlace;
        Arena = arena;
        TensorOffsets = tensorOffsets;
        ScratchOffsets = scratchOffsets;
        StateTensors = stateTensors;
    }

    /// <summary>Original operator indices in execution order.</summary>
    public IReadOnlyList<int> Order { get; }
    /// <summary>Operators that write their output over a dying input.</summary>
    public IReadOnlyList<InPlacePair> InPlace { get; }
    /// <summary>The arena plan; buffer lifetimes count steps of <see cref="Order"/>.</summary>
    public ArenaPlan Arena { get; }
    /// <summary>Arena offset of every non-constant, non-variable tensor the graph uses.</summary>
    public IReadOnlyDictionary<int, long> TensorOffsets { get; }
    /// <summary>Arena offset of the scratch of each operator (original index) that has scratch.</summary>
    public IReadOnlyDictionary<int, long> ScratchOffsets { get; }
    /// <summary>Variable tensors, which live in the state region.</summary>
    public IReadOnlyList<int> StateTensors { get; }
    /// <summary>True when the order differs from the model's.</summary>
    public bool Reordered => Order.Select((op, i) => op != i).Any(x => x);
}

/// <summary>
/// Chooses the execution order and the in-place operators, then plans the arena. Every candidate (model order
/// without in-place, model order with in-place, the reordered schedule with in-place) is planned, and the smallest
/// arena wins; on a tie the one using more techniques, so that a technique is never worse than leaving it off.
/// </summary>
public static class MemoryScheduler
{
    /// <summary>Schedules the graph. <paramref name="scratchBytes"/> is each operator's kernel scratch.</summary>
    public static MemorySchedule Schedule(Graph graph, IReadOnlyList<long> scratchBytes, ScheduleOptions options)
    {
        var identity = Enumerable.Range(0, graph.Operators.Count).ToArray();
        var candidates = new List<MemorySchedule> { Build(graph, identity, scratchBytes, false, false) };
        bool inPlace = options.InPlaceDepthwise || options.InPlaceElementwise;
        if (inPlace) candidates.Add(Build(graph, identity, scratchBytes, options.InPlaceDepthwise, options.InPlaceElementwise));
        if (options.Reorder)
        {
            var order = Reorderer.FindOrder(graph, scratchBytes, options.InPlaceDepthwise, options.InPlaceElementwise, options.ReorderStateCap);
            if (order is not null && !order.SequenceEqual(identity))
                candidates.Add(Build(graph, order, scratchBytes, options.InPlaceDepthwise, options.InPlaceElementwise));
        }
        var best = candidates[0];
        foreach (var c in candidates.Skip(1))
            if (c.Arena.ArenaBytes <= best.Arena.ArenaBytes) best = c;
        return best;
    }

    /// <summary>Plans one order with in-place operators taken wherever they are legal and pay off.</summary>
    public static MemorySchedule Build(Graph graph, IReadOnlyList<int> order, IReadOnlyList<long> scratchBytes, bool inPlaceDepthwise, bool inPlaceElementwise)
    {
        var lifetimes = TensorLifetimes.Compute(graph, order);
        // Buffers by birth, so that an in-place output always comes after the input it overwrites.
        var byBirth = Enumerable.Range(0, lifetimes.Buffers.Count).OrderBy(b => lifetimes.Buffers[b].FirstOp).ThenBy(b => b).ToArray();
        var newIndex = new int[byBirth.Length];
        for (int k = 0; k < byBirth.Length; k++) newIndex[byBirth[k]] = k;
        var buffers = byBirth.Select(b => lifetimes.Buffers[b]).ToList();
        int BufferOf(int tensor) => newIndex[lifetimes.BufferOfTensor[tensor]];

        var pinned = new HashSet<int>();
        foreach (int t in graph.Inputs.Concat(graph.Outputs))
            if (lifetimes.BufferOfTensor.ContainsKey(t)) pinned.Add(BufferOf(t));

        var pairs = new List<InPlacePair>();
        var extraScratch = new Dictionary<int, long>();
        if (inPlaceDepthwise || inPlaceElementwise)
        {
            for (int step = 0; step < order.Count; step++)
            {
                int opIndex = order[step];
                var op = graph.Operators[opIndex];
                var candidate = InPlace.Candidate(graph, op, inPlaceDepthwise, inPlaceElementwise);
                if (candidate is null || !lifetimes.BufferOfTensor.ContainsKey(op.Outputs[0])) continue;
                int outBuffer = BufferOf(op.Outputs[0]);
                foreach (int position in candidate.Value.Positions)
                {
                    int input = op.Inputs[position];
                    int inBuffer = BufferOf(input);
                    if (inBuffer == outBuffer || pinned.Contains(inBuffer) || buffers[inBuffer].LastOp != step) continue;
                    if (buffers.Any(b => b.SameOffsetAs == inBuffer)) continue;
                    long scratch = 0;
                    if (candidate.Value.Kind == InPlaceKind.Depthwise)
                    {
                        scratch = InPlace.DepthwiseScratchBytes(graph.Tensors[input]);
                        // One channel of scratch must cost less than the output buffer it saves.
                        if (MemoryPlanner.Align(scratch) >= MemoryPlanner.Align(graph.Tensors[op.Outputs[0]].Bytes)) continue;
                        extraScratch[opIndex] = scratch;
                    }
                    buffers[outBuffer] = buffers[outBuffer] with { SameOffsetAs = inBuffer };
                    pairs.Add(new InPlacePair(opIndex, input, op.Outputs[0], candidate.Value.Kind, scratch));
                    break;
                }
            }
        }

        var scratchBuffer = new Dictionary<int, int>();
        for (int step = 0; step < order.Count; step++)
        {
            int opIndex = order[step];
            long bytes = (opIndex < scratchBytes.Count ? scratchBytes[opIndex] : 0) + (extraScratch.TryGetValue(opIndex, out long e) ? e : 0);
            if (bytes <= 0) continue;
            scratchBuffer[opIndex] = buffers.Count;
            buffers.Add(new ArenaBuffer($"scratch of operator {opIndex}", bytes, step, step));
        }
        var arena = MemoryPlanner.Plan(buffers);
        var problems = PlanVerifier.Verify(arena);
        if (problems.Count > 0) throw new InvalidOperationException("memory plan failed verification: " + string.Join("; ", problems));
        var tensorOffsets = lifetimes.BufferOfTensor.ToDictionary(p => p.Key, p => arena.Offsets[newIndex[p.Value]]);
        var scratchOffsets = scratchBuffer.ToDictionary(p => p.Key, p => arena.Offsets[p.Value]);
        var schedule = new MemorySchedule(order.ToArray(), pairs, arena, tensorOffsets, scratchOffsets, lifetimes.StateTensors);
        var legality = PlanVerifier.VerifySchedule(graph, schedule);
        if (legality.Count > 0) throw new InvalidOperationException("memory schedule failed verification: " + string.Join("; ", legality));
        return schedule;
    }
}
