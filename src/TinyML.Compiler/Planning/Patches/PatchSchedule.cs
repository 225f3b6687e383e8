// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Planning.Patches;

/// <summary>What one prefix operator computes in one patch: its output box and the box it reads of each input.</summary>
public sealed record PatchStep(Box Output, IReadOnlyList<Box> Needs);

/// <summary>One patch: its cell of the stage output, and for every tiled tensor the box it holds.</summary>
public sealed record Patch(int Row, int Column, Box Cell, IReadOnlyDictionary<int, Box> Regions, IReadOnlyList<PatchStep> Steps);

/// <summary>
/// A split point and a grid, worked out: the stage output is cut into Rows × Columns cells, and each cell's box is
/// carried back through the prefix (receptive field and halo, per operator: stride, kernel, dilation, padding), so
/// every tensor of the prefix has, per patch, the box of pixels that patch needs. A tensor read by several
/// operators holds the union of their needs; an operator that needs less reads a cropped copy.
/// </summary>
public sealed class PatchSchedule
{
    private PatchSchedule(PatchGraph graph, int operators, int rows, int columns, IReadOnlyList<Patch> patches)
    {
        Graph = graph;
        Operators = operators;
        Rows = rows;
        Columns = columns;
        Patches = patches;
        StageOutput = graph.Ops[operators - 1].Output;
        Ops = graph.Ops.Take(operators).ToList();
        TiledTensors = new[] { graph.Input }.Concat(Ops.Select(o => o.Output)).ToList();
        TileElements = TiledTensors.ToDictionary(t => t, t => patches.Max(p => p.Regions[t].Area) * Channels(t));
        NeedsCrop = new HashSet<(int, int)>();
        for (int j = 0; j < Ops.Count; j++)
            for (int s = 0; s < Ops[j].Inputs.Count; s++)
                if (patches.Any(p => p.Steps[j].Needs[s] != p.Regions[Ops[j].Inputs[s]])) NeedsCrop.Add((j, s));
    }

    /// <summary>The analysed graph.</summary>
    public PatchGraph Graph { get; }
    /// <summary>How many operators from the start run patch by patch (the prefix).</summary>
    public int Operators { get; }
    /// <summary>The prefix operators.</summary>
    public IReadOnlyList<PatchOp> Ops { get; }
    /// <summary>Grid rows.</summary>
    public int Rows { get; }
    /// <summary>Grid columns.</summary>
    public int Columns { get; }
    /// <summary>The patches in execution order (row-major).</summary>
    public IReadOnlyList<Patch> Patches { get; }
    /// <summary>The output of the last prefix operator: the only tensor kept whole.</summary>
    public int StageOutput { get; }
    /// <summary>The graph input and every prefix output: each gets one tile buffer, reused patch after patch.</summary>
    public IReadOnlyList<int> TiledTensors { get; }
    /// <summary>Elements of each tiled tensor's buffer (the largest box over the patches times channels).</summary>
    public IReadOnlyDictionary<int, long> TileElements { get; }
    /// <summary>(prefix operator, input slot) pairs that read a cropped copy of their input tile.</summary>
    public ISet<(int Op, int Slot)> NeedsCrop { get; }

    /// <summary>Channels of an NHWC tensor.</summary>
    public int Channels(int tensor) => Graph.Graph.Tensors[tensor].Shape[3];

    /// <summary>Bytes of one element of a tensor.</summary>
    public int ElementSize(int tensor) => DataTypes.SizeOf(Graph.Graph.Tensors[tensor].Type);

    /// <summary>Bytes of a tiled tensor's buffer.</summary>
    public long TileBytes(int tensor) => TileElements[tensor] * ElementSize(tensor);

    /// <summary>Bytes of the crop buffer of an operator input (the largest need over the patches).</summary>
    public long CropBytes(int op, int slot)
    {
        int tensor = Ops[op].Inputs[slot];
        return Patches.Max(p => p.Steps[op].Needs[slot].Area) * Channels(tensor) * ElementSize(tensor);
    }

    /// <summary>MACs of the prefix convolutions over all patches.</summary>
    public long PatchedPrefixMacs => Patches.Sum(p => Ops.Select((o, j) => o.MacsPerOutputPixel * p.Steps[j].Output.Area).Sum());

    /// <summary>MACs of the prefix convolutions layer by layer.</summary>
    public long PrefixMacs => Ops.Sum(o => o.MacsPerOutputPixel * (long)Graph.Graph.Tensors[o.Output].Shape[1] * Graph.Graph.Tensors[o.Output].Shape[2]);

    /// <summary>Splits n into parts near-equal spans [start, end).</summary>
    public static IReadOnlyList<(int Start, int End)> Cut(int n, int parts) =>
        Enumerable.Range(0, parts).Select(i => ((int)((long)n * i / parts), (int)((long)n * (i + 1) / parts))).ToList();

    /// <summary>Works out a split after <paramref name="operators"/> operators and a grid; null when some patch would need an empty tile.</summary>
    public static PatchSchedule? Create(PatchGraph graph, int operators, int rows, int columns)
    {
        if (!graph.Splits.Contains(operators)) throw new ArgumentException($"{operators} is not a valid split", nameof(operators));
        var tensors = graph.Graph.Tensors;
        var stage = tensors[graph.Ops[operators - 1].Output].Shape;
        if (rows < 1 || columns < 1 || rows > stage[1] || columns > stage[2]) return null;
        var patches = new List<Patch>();
        foreach (var (r, (y0, y1)) in Cut(stage[1], rows).Select((s, i) => (i, s)))
        {
            foreach (var (c, (x0, x1)) in Cut(stage[2], columns).Select((s, i) => (i, s)))
            {
                var cell = new Box(y0, y1, x0, x1);
                var regions = new Dictionary<int, Box> { [graph.Ops[operators - 1].Output] = cell };
                var steps = new PatchStep[operators];
                for (int j = operators - 1; j >= 0; j--)
                {
                    var op = graph.Ops[j];
                    if (!regions.TryGetValue(op.Output, out var output)) return null; // nothing reads it in the patch
                    var needs = new Box[op.Inputs.Count];
                    for (int s = 0; s < op.Inputs.Count; s++)
                    {
                        var shape = tensors[op.Inputs[s]].Shape;
                        var (ys, ye) = op.WindowH.Back(output.Y0, output.Y1, shape[1]);
                        var (xs, xe) = op.WindowW.Back(output.X0, output.X1, shape[2]);
                        var need = new Box(ys, ye, xs, xe);
                        if (need.IsEmpty) return null;
                        needs[s] = need;
                        regions[op.Inputs[s]] = regions.TryGetValue(op.Inputs[s], out var had) ? had.Union(need) : need;
                    }
                    steps[j] = new PatchStep(output, needs);
                }
                if (!regions.ContainsKey(graph.Input)) return null;
                patches.Add(new Patch(r, c, cell, regions, steps));
            }
        }
        return new PatchSchedule(graph, operators, rows, columns, patches);
    }
}
