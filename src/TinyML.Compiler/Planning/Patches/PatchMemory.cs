// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Planning.Patches;

/// <summary>
/// The arena buffers of a patched plan, on a timeline of steps instead of operators. Every patch runs the same
/// steps: step 0 cuts the input tile, step j + 1 runs prefix operator j (after cropping its inputs where needed),
/// step k + 1 writes the stage tile into the stage output. Tile buffers live within those steps and are reused by
/// the next patch; the graph input and the stage output are whole and live across all of them. Operator i after
/// the prefix is step <see cref="PrefixSteps"/> + i - k.
/// </summary>
public sealed class PatchMemory
{
    private PatchMemory(IReadOnlyList<ArenaBuffer> buffers, IReadOnlyDictionary<int, int> whole, IReadOnlyDictionary<int, int> tile,
        IReadOnlyDictionary<(int, int), int> crop, IReadOnlyDictionary<int, int> scratch, int prefixSteps)
    {
        Buffers = buffers;
        WholeBufferOfTensor = whole;
        TileBufferOfTensor = tile;
        CropBuffer = crop;
        ScratchBufferOfOperator = scratch;
        PrefixSteps = prefixSteps;
    }

    /// <summary>Every buffer, with its lifetime in steps.</summary>
    public IReadOnlyList<ArenaBuffer> Buffers { get; }
    /// <summary>Whole tensors (everything outside the prefix, the graph input, the stage output): tensor to buffer.</summary>
    public IReadOnlyDictionary<int, int> WholeBufferOfTensor { get; }
    /// <summary>Tile buffers: tensor to buffer.</summary>
    public IReadOnlyDictionary<int, int> TileBufferOfTensor { get; }
    /// <summary>Crop buffers: (prefix operator, input slot) to buffer.</summary>
    public IReadOnlyDictionary<(int Op, int Slot), int> CropBuffer { get; }
    /// <summary>Kernel scratch: operator to buffer.</summary>
    public IReadOnlyDictionary<int, int> ScratchBufferOfOperator { get; }
    /// <summary>Steps of one patch (prefix operators + 2).</summary>
    public int PrefixSteps { get; }

    /// <summary>The step of an operator after the prefix.</summary>
    public int StepOf(int op, int prefixOperators) => PrefixSteps + op - prefixOperators;

    /// <summary>Lays out the buffers of a schedule; <paramref name="scratch"/> is kernel scratch per operator.</summary>
    public static PatchMemory Build(PatchSchedule schedule, IReadOnlyList<long> scratch)
    {
        var graph = schedule.Graph.Graph;
        int k = schedule.Operators;
        int steps = k + 2;
        int Map(int op, bool isEnd) => op < k ? (isEnd ? steps - 1 : 0) : steps + op - k;
        var lifetimes = TensorLifetimes.Compute(graph);
        var internalTensors = new HashSet<int>(schedule.Ops.Select(o => o.Output).Where(t => t != schedule.StageOutput));
        var buffers = new List<ArenaBuffer>();
        var whole = new Dictionary<int, int>();
        var remap = new Dictionary<int, int>();
        foreach (var group in lifetimes.BufferOfTensor.GroupBy(p => p.Value))
        {
            if (group.All(p => internalTensors.Contains(p.Key))) continue;
            var b = lifetimes.Buffers[group.Key];
            remap[group.Key] = buffers.Count;
            buffers.Add(b with { FirstOp = Map(b.FirstOp, false), LastOp = Map(b.LastOp, true) });
        }
        foreach (var pair in lifetimes.BufferOfTensor)
            if (remap.TryGetValue(pair.Value, out int b)) whole[pair.Key] = b;

        var tile = new Dictionary<int, int>();
        foreach (int t in schedule.TiledTensors)
        {
            int producer = t == schedule.Graph.Input ? 0 : schedule.Ops.Select((o, j) => (o, j)).First(x => x.o.Output == t).j + 1;
            int last = t == schedule.StageOutput ? k + 1
                : schedule.Ops.Select((o, j) => (o, j)).Where(x => x.o.Inputs.Contains(t)).Select(x => x.j + 1).DefaultIfEmpty(producer).Max();
            tile[t] = buffers.Count;
            buffers.Add(new ArenaBuffer($"tile of {graph.Tensors[t].Name}", schedule.TileBytes(t), producer, last));
        }
        var crop = new Dictionary<(int, int), int>();
        foreach (var (op, slot) in schedule.NeedsCrop.OrderBy(x => x.Op).ThenBy(x => x.Slot))
        {
            crop[(op, slot)] = buffers.Count;
            buffers.Add(new ArenaBuffer($"crop {slot} of operator {schedule.Ops[op].Index}", schedule.CropBytes(op, slot), op + 1, op + 1));
        }
        var scratchBuffers = new Dictionary<int, int>();
        for (int i = k; i < scratch.Count; i++)
        {
            if (scratch[i] <= 0) continue;
            scratchBuffers[i] = buffers.Count;
            buffers.Add(new ArenaBuffer($"scratch of operator {i}", scratch[i], Map(i, false), Map(i, true)));
        }
        return new PatchMemory(buffers, whole, tile, crop, scratchBuffers, steps);
    }
}
