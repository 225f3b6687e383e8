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
/// Where the bands of one axis of the stage output reach in the prefix: per band, the span of every tiled tensor
/// along that axis, and each operator's output span and input needs. Windows act on each axis alone and a tensor
/// read by several operators holds the bounding box of their needs, so a patch's box is its row band's spans times
/// its column band's spans.
/// </summary>
public sealed class BandReach
{
    private BandReach(IReadOnlyList<(int Start, int End)> bands, IReadOnlyList<IReadOnlyDictionary<int, (int Start, int End)>> spans,
        IReadOnlyList<(int Start, int End)[]> outputs, IReadOnlyList<(int Start, int End)[][]> needs)
    {
        Bands = bands;
        Spans = spans;
        Outputs = outputs;
        Needs = needs;
    }

    /// <summary>The stage output spans [Start, End), in order.</summary>
    public IReadOnlyList<(int Start, int End)> Bands { get; }
    /// <summary>Per band: tensor to the span it holds.</summary>
    public IReadOnlyList<IReadOnlyDictionary<int, (int Start, int End)>> Spans { get; }
    /// <summary>Per band: each prefix operator's output span.</summary>
    public IReadOnlyList<(int Start, int End)[]> Outputs { get; }
    /// <summary>Per band: each prefix operator's needed span per input slot.</summary>
    public IReadOnlyList<(int Start, int End)[][]> Needs { get; }

    /// <summary>The longest span of a tensor over the bands.</summary>
    public int MaxExtent(int tensor) => Spans.Max(s => s[tensor].End - s[tensor].Start);

    /// <summary>The longest need of an operator input over the bands.</summary>
    public int MaxNeed(int op, int slot) => Needs.Max(n => n[op][slot].End - n[op][slot].Start);

    /// <summary>The sum over the bands of an operator's output span (its output positions along the axis, halos counted again).</summary>
    public long TotalOutput(int op) => Outputs.Sum(o => (long)(o[op].End - o[op].Start));

    /// <summary>True when some band reads less of an operator input than the tensor's span holds.</summary>
    public bool Crops(int op, int slot, int tensor) => Enumerable.Range(0, Bands.Count).Any(b => Needs[b][op][slot] != Spans[b][tensor]);

    /// <summary>
    /// Where a band's span in the graph input starts and ends along the rows (or columns), by the band's first and
    /// last stage position: a window's first input depends only on its first output, its last only on its last, so
    /// band [s, e) spans [Starts[s], Ends[e - 1]) of the input. Null when a single position already needs nothing.
    /// </summary>
    public static (int[] Starts, int[] Ends)? InputEdges(PatchGraph graph, int operators, bool rows)
    {
        int size = graph.Graph.Tensors[graph.Ops[operators - 1].Output].Shape[rows ? 1 : 2];
        var starts = new int[size];
        var ends = new int[size];
        for (int p = 0; p < size; p++)
        {
            if (Of(graph, operators, rows, new[] { (p, p + 1) }) is not { } reach) return null;
            (starts[p], ends[p]) = reach.Spans[0][graph.Input];
        }
        return (starts, ends);
    }

    /// <summary>
    /// <paramref name="count"/> bands whose spans in the graph input (<see cref="InputEdges"/>) are as even as
    /// possible, so bands at the image border, whose halo is clipped there, take more stage positions: the greedy cut
    /// under the smallest cap on the input span that gives at most <paramref name="count"/> bands. Null when that cap
    /// gives fewer.
    /// </summary>
    public static IReadOnlyList<(int Start, int End)>? Balanced((int[] Starts, int[] Ends) edges, int count)
    {
        int size = edges.Starts.Length;
        List<(int, int)>? Greedy(int cap)
        {
            var bands = new List<(int, int)>();
            for (int start = 0; start < size;)
            {
                if (edges.Ends[start] - edges.Starts[start] > cap) return null;
                int end = start + 1;
                while (end < size && edges.Ends[end] - edges.Starts[start] <= cap) end++;
                bands.Add((start, end));
                start = end;
            }
            return bands;
        }
        int low = 1, high = edges.Ends[size - 1] - edges.Starts[0];
        while (low < high)
        {
            int cap = (low + high) / 2;
            if (Greedy(cap) is { } bands && bands.Count <= count) high = cap; else low = cap + 1;
        }
        var best = Greedy(low);
        return best is not null && best.Count == count ? best : null;
    }

    /// <summary>Carries each band back through the first <paramref name="operators"/> operators along the rows (or columns); null when a band would need an empty span or a tensor no operator of the patch reads.</summary>
    public static BandReach? Of(PatchGraph graph, int operators, bool rows, IReadOnlyList<(int Start, int End)> bands)
    {
        var tensors = graph.Graph.Tensors;
        int axis = rows ? 1 : 2;
        var spans = new List<IReadOnlyDictionary<int, (int, int)>>();
        var outputs = new List<(int, int)[]>();
        var needs = new List<(int, int)[][]>();
        foreach (var band in bands)
        {
            var span = new Dictionary<int, (int Start, int End)> { [graph.Ops[operators - 1].Output] = band };
            var output = new (int, int)[operators];
            var need = new (int, int)[operators][];
            for (int j = operators - 1; j >= 0; j--)
            {
                var op = graph.Ops[j];
                if (!span.TryGetValue(op.Output, out var produced)) return null; // nothing reads it in the patch
                var window = rows ? op.WindowH : op.WindowW;
                need[j] = new (int, int)[op.Inputs.Count];
                for (int s = 0; s < op.Inputs.Count; s++)
                {
                    var (start, end) = window.Back(produced.Start, produced.End, tensors[op.Inputs[s]].Shape[axis]);
                    if (end <= start) return null;
                    need[j][s] = (start, end);
                    span[op.Inputs[s]] = span.TryGetValue(op.Inputs[s], out var had) ? (Math.Min(had.Start, start), Math.Max(had.End, end)) : (start, end);
                }
                output[j] = produced;
            }
            if (!span.ContainsKey(graph.Input)) return null;
            spans.Add(span);
            outputs.Add(output);
            needs.Add(need);
        }
        return new BandReach(bands, spans, outputs, needs);
    }
}

/// <summary>
/// A split point and a grid, worked out: the stage output is cut into Rows × Columns cells (row and column bands),
/// and each cell's box is carried back through the prefix (receptive field and halo, per operator: stride, kernel,
/// dilation, padding), so every tensor of the prefix has, per patch, the box of pixels that patch needs. A tensor
/// read by several operators holds the union of their needs; an operator that needs less reads a cropped copy.
/// </summary>
public sealed class PatchSchedule
{
    private readonly Lazy<IReadOnlyList<Patch>> _patches;

    private PatchSchedule(PatchGraph graph, int operators, BandReach rows, BandReach columns)
    {
        Graph = graph;
        Operators = operators;
        RowReach = rows;
        ColumnReach = columns;
        StageOutput = graph.Ops[operators - 1].Output;
        Ops = graph.Ops.Take(operators).ToList();
        TiledTensors = new[] { graph.Input }.Concat(Ops.Select(o => o.Output)).ToList();
        TileElements = TiledTensors.ToDictionary(t => t, t => (long)rows.MaxExtent(t) * columns.MaxExtent(t) * Channels(t));
        NeedsCrop = new HashSet<(int, int)>();
        for (int j = 0; j < Ops.Count; j++)
            for (int s = 0; s < Ops[j].Inputs.Count; s++)
                if (rows.Crops(j, s, Ops[j].Inputs[s]) || columns.Crops(j, s, Ops[j].Inputs[s])) NeedsCrop.Add((j, s));
        _patches = new Lazy<IReadOnlyList<Patch>>(Build);
    }

    /// <summary>The analysed graph.</summary>
    public PatchGraph Graph { get; }
    /// <summary>How many operators from the start run patch by patch (the prefix).</summary>
    public int Operators { get; }
    /// <summary>The prefix operators.</summary>
    public IReadOnlyList<PatchOp> Ops { get; }
    /// <summary>Grid rows.</summary>
    public int Rows => RowReach.Bands.Count;
    /// <summary>Grid columns.</summary>
    public int Columns => ColumnReach.Bands.Count;
    /// <summary>The row bands and where they reach.</summary>
    public BandReach RowReach { get; }
    /// <summary>The column bands and where they reach.</summary>
    public BandReach ColumnReach { get; }
    /// <summary>True when the bands are <see cref="Cut"/>'s near-equal ones.</summary>
    public bool IsUniform
    {
        get
        {
            var stage = Graph.Graph.Tensors[StageOutput].Shape;
            return RowReach.Bands.SequenceEqual(Cut(stage[1], Rows)) && ColumnReach.Bands.SequenceEqual(Cut(stage[2], Columns));
        }
    }
    /// <summary>The patches in execution order (row-major).</summary>
    public IReadOnlyList<Patch> Patches => _patches.Value;
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
        return (long)RowReach.MaxNeed(op, slot) * ColumnReach.MaxNeed(op, slot) * Channels(tensor) * ElementSize(tensor);
    }

    /// <summary>MACs of the prefix convolutions over all patches.</summary>
    public long PatchedPrefixMacs => Ops.Select((o, j) => o.MacsPerOutputPixel * RowReach.TotalOutput(j) * ColumnReach.TotalOutput(j)).Sum();

    /// <summary>MACs of the prefix convolutions layer by layer.</summary>
    public long PrefixMacs => Ops.Sum(o => o.MacsPerOutputPixel * (long)Graph.Graph.Tensors[o.Output].Shape[1] * Graph.Graph.Tensors[o.Output].Shape[2]);

    /// <summary>Splits n into parts near-equal spans [start, end).</summary>
    public static IReadOnlyList<(int Start, int End)> Cut(int n, int parts) =>
        Enumerable.Range(0, parts).Select(i => ((int)((long)n * i / parts), (int)((long)n * (i + 1) / parts))).ToList();

    /// <summary>Works out a split after <paramref name="operators"/> operators and a grid of near-equal cells; null when some patch would need an empty tile.</summary>
    public static PatchSchedule? Create(PatchGraph graph, int operators, int rows, int columns)
    {
        if (!graph.Splits.Contains(operators)) throw new ArgumentException($"{operators} is not a valid split", nameof(operators));
        var stage = graph.Graph.Tensors[graph.Ops[operators - 1].Output].Shape;
        if (rows < 1 || columns < 1 || rows > stage[1] || columns > stage[2]) return null;
        return Create(graph, operators, Cut(stage[1], rows), Cut(stage[2], columns));
    }

    /// <summary>
    /// Works out a split and a grid of given bands: each list covers the stage output's rows (columns) in order with
    /// non-empty spans. Null when some patch would need an empty tile.
    /// </summary>
    public static PatchSchedule? Create(PatchGraph graph, int operators, IReadOnlyList<(int Start, int End)> rowBands, IReadOnlyList<(int Start, int End)> columnBands)
    {
        if (!graph.Splits.Contains(operators)) throw new ArgumentException($"{operators} is not a valid split", nameof(operators));
        var stage = graph.Graph.Tensors[graph.Ops[operators - 1].Output].Shape;
        if (!Covers(rowBands, stage[1])) throw new ArgumentException($"the row bands do not cover the stage output's {stage[1]} rows in order", nameof(rowBands));
        if (!Covers(columnBands, stage[2])) throw new ArgumentException($"the column bands do not cover the stage output's {stage[2]} columns in order", nameof(columnBands));
        var rows = BandReach.Of(graph, operators, true, rowBands);
        var columns = rows is null ? null : BandReach.Of(graph, operators, false, columnBands);
        return rows is null || columns is null ? null : Create(graph, operators, rows, columns);
    }

    /// <summary>A schedule from the reach of its row and column bands (worked out once per split and band list).</summary>
    public static PatchSchedule Create(PatchGraph graph, int operators, BandReach rows, BandReach columns) => new(graph, operators, rows, columns);

    private IReadOnlyList<Patch> Build()
    {
        // Boxes are computed when read: a fine grid has hundreds of patches, and the planner lays out many grids.
        var patches = new List<Patch>();
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
                patches.Add(new Patch(r, c, BoxOf(RowReach.Bands[r], ColumnReach.Bands[c]), new Regions(RowReach.Spans[r], ColumnReach.Spans[c]), new Steps(this, r, c)));
        return patches;
    }

    private static Box BoxOf((int Start, int End) y, (int Start, int End) x) => new(y.Start, y.End, x.Start, x.End);

    /// <summary>A patch's tensor boxes: its row band's spans times its column band's spans.</summary>
    private sealed class Regions : IReadOnlyDictionary<int, Box>
    {
        private readonly IReadOnlyDictionary<int, (int Start, int End)> _rows, _columns;

        public Regions(IReadOnlyDictionary<int, (int Start, int End)> rows, IReadOnlyDictionary<int, (int Start, int End)> columns) => (_rows, _columns) = (rows, columns);

        public Box this[int key] => BoxOf(_rows[key], _columns[key]);
        public IEnumerable<int> Keys => _rows.Keys;
        public IEnumerable<Box> Values => Keys.Select(k => this[k]);
        public int Count => _rows.Count;
        public bool ContainsKey(int key) => _rows.ContainsKey(key);

        public bool TryGetValue(int key, out Box value)
        {
            bool found = _rows.TryGetValue(key, out var y) & _columns.TryGetValue(key, out var x);
            value = found ? BoxOf(y, x) : default;
            return found;
        }

        public IEnumerator<KeyValuePair<int, Box>> GetEnumerator() => Keys.Select(k => new KeyValuePair<int, Box>(k, this[k])).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A patch's steps, from its row and column bands' reach.</summary>
    private sealed class Steps : IReadOnlyList<PatchStep>
    {
        private readonly PatchSchedule _schedule;
        private readonly int _row, _column;

        public Steps(PatchSchedule schedule, int row, int column) => (_schedule, _row, _column) = (schedule, row, column);

        public PatchStep this[int j]
        {
            get
            {
                var (rows, columns) = (_schedule.RowReach, _schedule.ColumnReach);
                return new PatchStep(BoxOf(rows.Outputs[_row][j], columns.Outputs[_column][j]),
                    Enumerable.Range(0, _schedule.Ops[j].Inputs.Count).Select(s => BoxOf(rows.Needs[_row][j][s], columns.Needs[_column][j][s])).ToList());
            }
        }

        public int Count => _schedule.Operators;
        public IEnumerator<PatchStep> GetEnumerator() => Enumerable.Range(0, Count).Select(j => this[j]).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static bool Covers(IReadOnlyList<(int Start, int End)> bands, int size) =>
        bands.Count > 0 && bands[0].Start == 0 && bands[bands.Count - 1].End == size && bands.All(b => b.End > b.Start)
        && Enumerable.Range(1, bands.Count - 1).All(i => bands[i - 1].End == bands[i].Start);
}
