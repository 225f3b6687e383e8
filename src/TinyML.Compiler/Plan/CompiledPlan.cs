// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Plan;

/// <summary>
/// An execution plan as the lowerer made it: the plan an app runs, plus compile-time facts the container does not
/// store (the memory layout, the patch report, the extra MACs). They live here, not in <see cref="ExecutionPlan"/>,
/// so that running a plan needs no compiler.
/// </summary>
public sealed class CompiledPlan : ExecutionPlan
{
    /// <summary>How the arena was laid out.</summary>
    public MemoryLayout? Memory { get; set; }

    /// <summary>What patch-based inference did, when it was asked for.</summary>
    public TinyML.Compiler.Planning.Patches.PatchReport? Patches { get; set; }

    /// <summary>MACs the plan runs beyond the model's own (recomputed halos of patch-based inference); 0 otherwise.</summary>
    public long ExtraMacs { get; set; }

    /// <summary>Constant blobs the lowering derived from one constant tensor (weights packed at build time, a bias
    /// with the input offset folded in), by blob index: budget messages name them after that tensor.</summary>
    public Dictionary<int, int> ConstantSources { get; } = new();
}

/// <summary>The arena layout behind a plan: every buffer with its lifetime and offset, and the lower bound.</summary>
public sealed record MemoryLayout(TinyML.Compiler.Planning.ArenaPlan Arena, long ScratchBytes)
{
    /// <summary>
    /// When the buffer lifetimes are in steps rather than operators (patch-based inference: one patch's steps,
    /// then the remaining operators), the operator each step belongs to; null when steps are operators.
    /// </summary>
    public IReadOnlyList<int>? OperatorOfStep { get; init; }

    /// <summary>The operator (original index) where the arena peaks: its step mapped through the patch steps or the execution order.</summary>
    public int PeakOperator
    {
        get
        {
            int step = Arena.PeakOperator;
            if (step < 0) return step;
            if (OperatorOfStep is { } steps) return steps[step];
            return step < Order.Count ? Order[step] : step;
        }
    }

    /// <summary>
    /// Live arena bytes at each operator of <see cref="Order"/>, in that order (buffers aligned; an in-place pair counts
    /// once); with <see cref="OperatorOfStep"/>, the largest over each operator's steps.
    /// </summary>
    public IReadOnlyList<long> LiveBytesInOrder()
    {
        var layout = TinyML.Compiler.Planning.MemoryPlanner.Layout(Arena.Buffers);
        long Live(int step) => TinyML.Compiler.Planning.MemoryPlanner.LiveBytes(Arena.Buffers, step, layout);
        if (OperatorOfStep is not { } steps) return Enumerable.Range(0, Order.Count).Select(Live).ToList();
        return Order.Select(op => Enumerable.Range(0, steps.Count).Where(s => steps[s] == op).Select(Live).DefaultIfEmpty(0).Max()).ToList();
    }

    /// <summary>The model's operator indices in execution order: ascending unless the graph was reordered, with gaps
    /// where PADs were folded away.</summary>
    public IReadOnlyList<int> Order { get; init; } = System.Array.Empty<int>();

    /// <summary>Whether operators run in another order than the model's.</summary>
    public bool Reordered => Order.Zip(Order.Skip(1), (a, b) => a > b).Any(x => x);

    /// <summary>The in-place operators: each output written over an input that dies there.</summary>
    public IReadOnlyList<TinyML.Compiler.Planning.InPlacePair> InPlace { get; init; } = System.Array.Empty<TinyML.Compiler.Planning.InPlacePair>();
}
