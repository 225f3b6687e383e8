// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using TinyML.Compiler.Ir;
using System.Linq;

namespace TinyML.Compiler.Planning.Patches;

/// <summary>
/// The arena buffers of a patched plan, on a timeline of steps instead of operators. Operators that run whole
/// before the patches (a whole input TRANSPOSE, an in-place stem) take steps 0 … w - 1; then every patch runs the same steps: step w
/// cuts the input tile, step w + j + 1 runs prefix operator j (after cropping its inputs where needed), step
/// w + k + 1 writes the stage tile into the stage output. Tile buffers live within those steps and are reused by
/// the next patch; the whole input and the stage output live across all of them. Operator i after the prefix
/// (which ends before graph operator e) is step <see cref="PrefixSteps"/> + i - e.
/// </summary>
public sealed class PatchMemory
{
    private PatchMemory(IReadOnlyList<ArenaBuffer> buffers, IReadOnlyDictionary<int, int> whole, IReadOnlyDictionary<int, long> offsetInBuffer, IReadOnlyDictionary<int, int> tile,
        IReadOnlyDictionary<(int, int), int> crop, IReadOnlyDictionary<int, int> scratch, int prefixSteps, IReadOnlyList<int> operatorOfStep)
    {
        OperatorOfStep = operatorOfStep;
        Buffers = buffers;
        WholeBufferOfTensor = whole;
        OffsetInBuffer = offsetInBuffer;
        TileBufferOfTensor = tile;
        CropBuffer = crop;
        ScratchBufferOfOperator = scratch;
        PrefixSteps = prefixSteps;
    }

    /// <summary>Every buffer, with its lifetime in steps.</summary>
    public IReadOnlyList<ArenaBuffer> Buffers { get; }
    /// <summary>Whole tensors (everything outside the prefix, the graph input, the stage output): tensor to buffer.</summary>
    public IReadOnlyDictionary<int, int> WholeBufferOfTensor { get; }
    /// <summary>Byte offsets of whole tensors inside their buffer (0 when absent): the input and the stage output may share one.</summary>
    public IReadOnlyDictionary<int, long> OffsetInBuffer { get; }
    /// <summary>Tile buffers: tensor to buffer.</summary>
    public IReadOnlyDictionary<int, int> TileBufferOfTensor { get; }
    /// <summary>Crop buffers: (prefix operator, input slot) to buffer.</summary>
    public IReadOnlyDictionary<(int Op, int Slot), int> CropBuffer { get; }
    /// <summary>Kernel scratch: operator to buffer.</summary>
    public IReadOnlyDictionary<int, int> ScratchBufferOfOperator { get; }
    /// <summary>The graph operator each step belongs to (cutting the input belongs to the first, writing the stage tile to the last prefix operator).</summary>
    public IReadOnlyList<int> OperatorOfStep { get; }
    /// <summary>Steps up to the end of a patch: whole operators before it, prefix operators, + 2.</summary>
    public int PrefixSteps { get; }

    /// <summary>The step of a graph operator after the prefix, which ends before graph operator <paramref name="prefixEnd"/>.</summary>
    public int StepOf(int op, int prefixEnd) => PrefixSteps + op - prefixEnd;

    /// <summary>
    /// Where the stage output can start relative to the input's first byte so that it only overwrites input rows
    /// no later patch reads: patches run row by row, so while patch row r runs, every read of the input is at or
    /// below row a_r (the lowest input row any patch of row r or later reads), and every write of the stage output
    /// is above the end of band r (row y1_r). The shift d must keep d + y1_r · stage row bytes ≤ a_r · input row
    /// bytes for every r; it is rounded down to the alignment. A whole TRANSPOSE's NHWC output is such an input. An
    /// NCHW input (a folded TRANSPOSE) keeps every channel plane until its last row is read, so only the first
    /// plane's dead rows are a prefix of the buffer: the row bytes are then one plane row's (the stage output shares
    /// less, never a byte a later patch reads). Null when the input is read after the prefix or shares its buffer
    /// with another tensor.
    /// </summary>
    private static long? StageShift(PatchSchedule schedule, TensorLifetimes lifetimes, int inputBuffer, int stageBuffer, int prefixEnd)
    {
        var graph = schedule.Graph.Graph;
        int source = schedule.Graph.Source;
        if (inputBuffer == stageBuffer || lifetimes.Buffers[inputBuffer].LastOp >= prefixEnd || graph.Outputs.Contains(source)) return null;
        if (lifetimes.BufferOfTensor.Count(p => p.Value == inputBuffer) != 1) return null;
        var input = graph.Tensors[source];
        var stage = graph.Tensors[schedule.StageOutput];
        // NHWC: a row holds W pixels of C channels; NCHW: a row of the first plane holds W elements.
        long inputRow = (long)input.Shape[schedule.Graph.InputTranspose < 0 ? 2 : 3] * (schedule.Graph.InputTranspose < 0 ? input.Shape[3] : 1) * DataTypes.SizeOf(input.Type);
        long stageRow = (long)stage.Shape[2] * stage.Shape[3] * DataTypes.SizeOf(stage.Type);
        long shift = long.MaxValue;
        for (int r = 0; r < schedule.Rows; r++)
        {
            long readFrom = schedule.Patches.Where(p => p.Row >= r).Min(p => p.Regions[schedule.Graph.Input].Y0) * inputRow;
            long writtenTo = schedule.Patches.Where(p => p.Row == r).Max(p => p.Cell.Y1) * stageRow;
            shift = Math.Min(shift, readFrom - writtenTo);
        }
        return (long)Math.Floor(shift / (double)MemoryPlanner.Alignment) * MemoryPlanner.Alignment;
    }

    /// <summary>The input of the alias that writes <paramref name="tensor"/> when, in every patch, the alias reads its
    /// input's whole tile (so both tiles are the same bytes); otherwise null.</summary>
    public static int? SharesTile(PatchSchedule schedule, int tensor)
    {
        int j = schedule.Ops.ToList().FindIndex(o => o.Output == tensor && o.Shape == PatchOpShape.Alias);
        if (j < 0) return null;
        int source = schedule.Ops[j].Inputs[0];
        return schedule.Patches.All(p => p.Regions[source] == p.Regions[tensor] && p.Steps[j].Needs[0] == p.Regions[source]) ? source : null;
    }

    /// <summary>The first part of a TFLite tensor name (fused operators list every name with ';'; the first names the output).</summary>
    private static string Short(string name) => name.Split(';')[0];

    /// <summary>Lays out the buffers of a schedule; <paramref name="scratch"/> is kernel scratch per operator.</summary>
    public static PatchMemory Build(PatchSchedule schedule, IReadOnlyList<long> scratch, bool overlapStage = true)
    {
        var graph = schedule.Graph.Graph;
        int k = schedule.Operators;
        // Graph operators [0, lead) run whole, one step each; [lead, prefixEnd) patch by patch (a folded TRANSPOSE
        // first, then the k prefix operators) in steps lead … lead + k + 1.
        int lead = schedule.Graph.WholeBefore;
        int steps = lead + k + 2;
        int prefixEnd = schedule.Graph.FirstOperator + k;
        int Map(int op, bool isEnd) => op < lead ? op : op < prefixEnd ? (isEnd ? steps - 1 : lead) : steps + op - prefixEnd;
        var lifetimes = TensorLifetimes.Compute(graph);
        // A folded TRANSPOSE's NHWC output only ever exists as tiles.
        var internalTensors = new HashSet<int>(schedule.Ops.Select(o => o.Output).Where(t => t != schedule.StageOutput)
            .Concat(schedule.Graph.InputTranspose < 0 ? Array.Empty<int>() : new[] { schedule.Graph.Input }));
        var buffers = new List<ArenaBuffer>();
        var whole = new Dictionary<int, int>();
        var offsetInBuffer = new Dictionary<int, long>();
        var remap = new Dictionary<int, int>();
        int inputBuffer = lifetimes.BufferOfTensor[schedule.Graph.Source], stageBuffer = lifetimes.BufferOfTensor[schedule.StageOutput];
        long? stageShift = overlapStage ? StageShift(schedule, lifetimes, inputBuffer, stageBuffer, prefixEnd) : null;
        // An in-place stem's input lives inside its output's buffer, StemInputOffset bytes in.
        int stemInputBuffer = schedule.Graph.InPlaceStem >= 0 ? lifetimes.BufferOfTensor[graph.Inputs[0]] : -1;
        foreach (var group in lifetimes.BufferOfTensor.GroupBy(p => p.Value))
        {
            if (group.All(p => internalTensors.Contains(p.Key))) continue;
            var b = lifetimes.Buffers[group.Key];
            if ((stageShift is long && group.Key == stageBuffer) || group.Key == stemInputBuffer) continue; // in the input's buffer below
            remap[group.Key] = buffers.Count;
            if ((stageShift is long || stemInputBuffer >= 0) && group.Key == inputBuffer)
            {
                // The input's buffer holds the stage output too, d bytes after the input's start: the whole region
                // lives while the patches run; after them only its first bytes up to the end of the stage output (a
                // second buffer at the same offset, born at the last patch step).
                long d = stageShift ?? 0, start = Math.Min(0, d);
                var stage = lifetimes.Buffers[stageBuffer];
                int region = buffers.Count;
                if (stageShift is long)
                {
                    buffers.Add(new ArenaBuffer($"{Short(b.Name)} (then {Short(stage.Name)})", Math.Max(b.Bytes, d + stage.Bytes) - start, Map(b.FirstOp, false), steps - 1));
                    buffers.Add(new ArenaBuffer($"{Short(stage.Name)} (after the patches)", d + stage.Bytes - start, steps - 1, Map(stage.LastOp, true)) { SameOffsetAs = region });
                    remap[stageBuffer] = region;
                }
                else
                {
                    buffers.Add(b with { FirstOp = Map(b.FirstOp, false), LastOp = Map(b.LastOp, true) });
                }
                if (stemInputBuffer >= 0)
                {
                    // The stem's input (graph input 0) StemInputOffset bytes after the stem's output: it dies at the
                    // stem, where the region is born.
                    var stemInput = lifetimes.Buffers[stemInputBuffer];
                    remap[stemInputBuffer] = buffers.Count;
                    buffers.Add(stemInput with { FirstOp = Map(stemInput.FirstOp, false), LastOp = Map(stemInput.LastOp, true), SameOffsetAs = region,
                        RelativeOffset = schedule.Graph.StemInputOffset - start });
                }
                foreach (var pair in lifetimes.BufferOfTensor)
                    if (pair.Value == inputBuffer) offsetInBuffer[pair.Key] = -start;
                    else if (pair.Value == stageBuffer && stageShift is long) offsetInBuffer[pair.Key] = d - start;
                continue;
            }
            buffers.Add(b with { FirstOp = Map(b.FirstOp, false), LastOp = Map(b.LastOp, true) });
        }
        foreach (var pair in lifetimes.BufferOfTensor)
            if (remap.TryGetValue(pair.Value, out int b)) whole[pair.Key] = b;

        var tile = new Dictionary<int, int>();
        foreach (int t in schedule.TiledTensors)
        {
            int producer = lead + (t == schedule.Graph.Input ? 0 : schedule.Ops.Select((o, j) => (o, j)).First(x => x.o.Output == t).j + 1);
            int last = t == schedule.StageOutput ? lead + k + 1
                : schedule.Ops.Select((o, j) => (o, j)).Where(x => x.o.Inputs.Contains(t)).Select(x => lead + x.j + 1).DefaultIfEmpty(producer).Max();
            // An alias whose tile is its input's whole tile in every patch keeps that buffer: no copy.
            if (SharesTile(schedule, t) is int source)
            {
                int shared = tile[t] = tile[source];
                buffers[shared] = buffers[shared] with { LastOp = Math.Max(buffers[shared].LastOp, last) };
                continue;
            }
            tile[t] = buffers.Count;
            buffers.Add(new ArenaBuffer($"tile of {Short(graph.Tensors[t].Name)}", schedule.TileBytes(t), producer, last));
        }
        var crop = new Dictionary<(int, int), int>();
        foreach (var (op, slot) in schedule.NeedsCrop.OrderBy(x => x.Op).ThenBy(x => x.Slot))
        {
            if (schedule.Ops[op].Shape == PatchOpShape.Alias) continue; // copies its window straight from the input tile
            crop[(op, slot)] = buffers.Count;
            buffers.Add(new ArenaBuffer($"crop {slot} of operator {schedule.Ops[op].Index}", schedule.CropBytes(op, slot), lead + op + 1, lead + op + 1));
        }
        var scratchBuffers = new Dictionary<int, int>();
        // A patched operator's scratch serves each of its tile calls in turn, at its step.
        for (int j = 0; j < k; j++)
        {
            int op = schedule.Ops[j].Index;
            if (op >= scratch.Count || scratch[op] <= 0) continue;
            scratchBuffers[op] = buffers.Count;
            buffers.Add(new ArenaBuffer($"scratch of operator {op}", scratch[op], lead + j + 1, lead + j + 1));
        }
        foreach (int i in Enumerable.Range(0, lead).Concat(Enumerable.Range(prefixEnd, Math.Max(0, scratch.Count - prefixEnd))))
        {
            if (i >= scratch.Count || scratch[i] <= 0) continue;
            scratchBuffers[i] = buffers.Count;
            buffers.Add(new ArenaBuffer($"scratch of operator {i}", scratch[i], Map(i, false), Map(i, true)));
        }
        // Cutting the input tile is the folded TRANSPOSE's work when there is one.
        int cutter = schedule.Graph.InputTranspose >= 0 ? schedule.Graph.InputTranspose : schedule.Ops[0].Index;
        var operatorOfStep = Enumerable.Range(0, lead).Append(cutter).Concat(schedule.Ops.Select(o => o.Index)).Append(schedule.Ops[k - 1].Index)
            .Concat(Enumerable.Range(prefixEnd, graph.Operators.Count - prefixEnd)).ToList();
        return new PatchMemory(buffers, whole, offsetInBuffer, tile, crop, scratchBuffers, steps, operatorOfStep);
    }
}
