// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;

namespace TinyML.Compiler.Planning.Patches;

/// <summary>A rectangle of pixels, rows [Y0, Y1) and columns [X0, X1).</summary>
public readonly record struct Box(int Y0, int Y1, int X0, int X1)
{
    /// <summary>Rows.</summary>
    public int Height => Y1 - Y0;
    /// <summary>Columns.</summary>
    public int Width => X1 - X0;
    /// <summary>Pixels.</summary>
    public long Area => (long)Height * Width;
    /// <summary>True when the box holds no pixel.</summary>
    public bool IsEmpty => Height <= 0 || Width <= 0;

    /// <summary>The smallest box holding both.</summary>
    public Box Union(Box other) => new(Math.Min(Y0, other.Y0), Math.Max(Y1, other.Y1), Math.Min(X0, other.X0), Math.Max(X1, other.X1));

    /// <inheritdoc />
    public override string ToString() => $"rows {Y0}..{Y1 - 1} cols {X0}..{X1 - 1}";
}

/// <summary>The sliding window of a convolution or pooling along one axis.</summary>
public readonly record struct Window(int Kernel, int Stride, int Dilation, int PadBefore)
{
    /// <summary>The identity window of an element-wise operator.</summary>
    public static Window Identity => new(1, 1, 1, 0);

    /// <summary>
    /// The input positions that output positions [start, end) read, clipped to [0, inputSize): output o reads
    /// o * stride - pad + k * dilation for k in [0, kernel). Taps outside the input are padding and read nothing.
    /// </summary>
    public (int Start, int End) Back(int start, int end, int inputSize) =>
        (Math.Max(0, start * Stride - PadBefore), Math.Min(inputSize, (end - 1) * Stride - PadBefore + (Kernel - 1) * Dilation + 1));

    /// <summary>The top/left padding of a tile call whose outputs start at <paramref name="outputStart"/> and whose input starts where <see cref="Back"/> says.</summary>
    public int TilePad(int outputStart) => Math.Max(0, PadBefore - outputStart * Stride);
}

/// <summary>How a prefix operator maps its output tile to input tiles.</summary>
public enum PatchOpShape
{
    /// <summary>Convolution, depthwise convolution or pooling: a window per axis.</summary>
    Window,
    /// <summary>Same-shape element-wise operator: each input tile equals the output tile.</summary>
    Elementwise,
    /// <summary>RESHAPE or SQUEEZE that keeps the NHWC shape: the output tile is the input tile's bytes (no call).</summary>
    Alias,
}

/// <summary>An operator that patch-based inference can run tile by tile.</summary>
public sealed record PatchOp(int Index, PatchOpShape Shape, IReadOnlyList<int> Inputs, int Output, Window WindowH, Window WindowW, long MacsPerOutputPixel);

/// <summary>
/// The operators at the start of a graph that can run on spatial tiles, and the split points among them. A split
/// after k operators is valid when the only tensor that the first k operators produce and anything after them
/// reads is the output of operator k - 1 (the stage output), and every operator reads only the patched graph input
/// or tensors of the prefix. A graph whose input 0 is NCHW and feeds only a leading TRANSPOSE to NHWC (a PyTorch
/// export) is patched from that TRANSPOSE's output in one of two ways: folded (<see cref="Analyze"/>: the tile cut
/// reads the NCHW input directly, so the TRANSPOSE runs no call of its own), or with the TRANSPOSE run whole first
/// (<see cref="WithTransposeWhole"/>: its NHWC output is the whole input the tiles are cut from).
/// </summary>
public sealed class PatchGraph
{
    /// <summary>The permutation from NCHW to NHWC.</summary>
    private static readonly int[] NchwToNhwc = { 0, 2, 3, 1 };

    private PatchGraph(Graph graph, int source, int input, int inputTranspose, IReadOnlyList<PatchOp> ops, IReadOnlyList<int> splits, string stopReason,
        int wholeTranspose = -1, int inPlaceStem = -1, long stemInputOffset = 0)
    {
        Graph = graph;
        Source = source;
        Input = input;
        InputTranspose = inputTranspose;
        WholeTranspose = wholeTranspose;
        InPlaceStem = inPlaceStem;
        StemInputOffset = stemInputOffset;
        Ops = ops;
        Splits = splits;
        StopReason = stopReason;
    }

    /// <summary>The graph.</summary>
    public Graph Graph { get; }
    /// <summary>The whole tensor the input tiles are cut from: graph input 0, or the NHWC output of a <see cref="WholeTranspose"/>.</summary>
    public int Source { get; }
    /// <summary>The NHWC tensor the tiles are boxes of: graph input 0, or the output of the input TRANSPOSE.</summary>
    public int Input { get; }
    /// <summary>The folded TRANSPOSE from NCHW (operator 0), or -1: the tile cut does its work.</summary>
    public int InputTranspose { get; }
    /// <summary>The TRANSPOSE from NCHW (operator 0) when it runs whole, as its ordinary call, before the first patch; or -1.</summary>
    public int WholeTranspose { get; }
    /// <summary>
    /// The first convolution (operator 0) when it runs whole before the patches with its output over its own input
    /// (<see cref="WithStemInPlace"/>); or -1. Its output is then the whole tensor the tiles are cut from.
    /// </summary>
    public int InPlaceStem { get; }
    /// <summary>With an <see cref="InPlaceStem"/>: where graph input 0 starts, in bytes after the start of the stem's output.</summary>
    public long StemInputOffset { get; }
    /// <summary>Graph operators that run whole before the patches (0, or 1 with a <see cref="WholeTranspose"/> or an <see cref="InPlaceStem"/>).</summary>
    public int WholeBefore => Math.Max(WholeTranspose, InPlaceStem) + 1;
    /// <summary>Graph operators before <see cref="Ops"/> (the input TRANSPOSE, folded or whole, or the stem): operator j of the prefix is graph operator FirstOperator + j.</summary>
    public int FirstOperator => Math.Max(Math.Max(InputTranspose, WholeTranspose), InPlaceStem) + 1;
    /// <summary>The longest run of operators from the start that can run on tiles.</summary>
    public IReadOnlyList<PatchOp> Ops { get; }
    /// <summary>Valid prefix lengths k (the stage output is the output of operator k - 1), ascending.</summary>
    public IReadOnlyList<int> Splits { get; }
    /// <summary>Why the run of tileable operators ends where it does (empty when it reaches the end of the graph).</summary>
    public string StopReason { get; }

    /// <summary>Analyses a graph; a graph with nothing to patch has no splits.</summary>
    public static PatchGraph Analyze(Graph graph)
    {
        var ops = new List<PatchOp>();
        int source = graph.Inputs.Count > 0 ? graph.Inputs[0] : -1;
        if (source < 0) return new PatchGraph(graph, source, source, -1, ops, Array.Empty<int>(), "the graph has no input");
        var readers = ReadersOf(graph);
        int transpose = FoldableInputTranspose(graph, source, readers(source));
        int input = transpose < 0 ? source : graph.Operators[transpose].Outputs[0];
        var image = graph.Tensors[input];
        if (!IsImage(image) || image.IsVariable)
            return new PatchGraph(graph, source, input, -1, ops, Array.Empty<int>(), $"graph input 0 '{image.Name}' {image.Shape} is not a batch-1 NHWC int8 or float32 image");
        string stop = TileableRun(graph, transpose + 1, input, ops);
        return new PatchGraph(graph, source, input, transpose, ops, ValidSplits(graph, ops, transpose + 1, transpose < 0 ? -1 : input, readers), stop);
    }

    /// <summary>Adds to <paramref name="ops"/> the operators from <paramref name="first"/> on that can run on tiles of
    /// <paramref name="input"/> and of each other; returns why the run ends (empty at the end of the graph).</summary>
    private static string TileableRun(Graph graph, int first, int input, List<PatchOp> ops)
    {
        var available = new HashSet<int> { input };
        for (int index = first; index < graph.Operators.Count; index++)
        {
            var op = graph.Operators[index];
            var (patchOp, why) = Describe(graph, op, index, available);
            if (patchOp is null) return $"operator {index} ({op.TypeName}) {why}";
            ops.Add(patchOp);
            available.Add(patchOp.Output);
        }
        return "";
    }

    /// <summary>
    /// The stage cut from the output of the first convolution, which runs whole before the patches and writes its
    /// output over its own input: graph input 0 starts <see cref="StemInputOffset"/> bytes after the output, far
    /// enough that no output row overwrites an input row that the same or a later output row still reads (the kernel
    /// must write in raster order, reading a pixel's window before writing it: Convolution.WritesInRasterOrder; ref_diff.h
    /// checks each path). The input and the stem output then take little more than the input's
    /// bytes at the stem, instead of both: MCUNetV2's memory-hungry first stage, split in two (docs/patches.md). Null
    /// unless operator 0 is an int8 CONV_2D, the only reader of graph input 0 (an NHWC image), followed by operators
    /// that run on tiles. The lowering leaves it out where the stem would not take the im2col kernel (Lowerer.Patches).
    /// </summary>
    public static PatchGraph? WithStemInPlace(Graph graph)
    {
        if (graph.Inputs.Count == 0 || graph.Operators.Count < 2) return null;
        int source = graph.Inputs[0];
        var stem = graph.Operators[0];
        var readers = ReadersOf(graph);
        if (stem.Kind != OpKind.Conv2D || stem.Outputs.Count != 1 || stem.Inputs.Count < 2 || stem.Inputs[0] != source
            || readers(source).Count != 1 || graph.Outputs.Contains(source)) return null;
        var input = graph.Tensors[source];
        int stemOutput = stem.Outputs[0];
        var output = graph.Tensors[stemOutput];
        var weights = graph.Tensors[stem.Inputs[1]];
        if (!IsImage(input) || input.IsVariable || input.Type != DataType.Int8 || !IsImage(output) || output.Type != DataType.Int8
            || !weights.IsConstant || weights.Type != DataType.Int8 || weights.Shape.Count != 4 || weights.Shape[3] != input.Shape[3]
            || OperatorRegistry.Of(stem.Kind)?.PatchWindows(graph, stem) is not { } windows) return null;
        // A 1x1 stride-1 convolution is a matrix product over all pixels, a filter group at a time: not raster order.
        if (weights.Shape[1] == 1 && weights.Shape[2] == 1 && windows.Height.Stride == 1 && windows.Width.Stride == 1) return null;
        var ops = new List<PatchOp>();
        string stop = TileableRun(graph, 1, stemOutput, ops);
        var splits = ValidSplits(graph, ops, 1, -1, readers);
        if (splits.Count == 0) return null;
        // Output row y is written before rows > y are read; those read input rows from max(0, y·stride − pad) on.
        long inputRow = input.Bytes / input.Shape[1], outputRow = output.Bytes / output.Shape[1];
        long offset = 0;
        for (int y = 0; y < output.Shape[1]; y++)
            offset = Math.Max(offset, (y + 1) * outputRow - Math.Max(0, y * windows.Height.Stride - windows.Height.PadBefore) * inputRow);
        return new PatchGraph(graph, stemOutput, stemOutput, -1, ops, splits, stop, inPlaceStem: 0, stemInputOffset: MemoryPlanner.Align(offset));
    }

    /// <summary>
    /// The same run with the input TRANSPOSE run whole (its ordinary call) instead of folded into the tile cut: the
    /// NCHW input dies after it, and its NHWC output is cut into tiles like an NHWC graph input. Null when there is
    /// no foldable input TRANSPOSE or nothing to patch after it.
    /// </summary>
    public PatchGraph? WithTransposeWhole()
    {
        if (InputTranspose < 0 || Ops.Count == 0) return null;
        // The NHWC tensor is whole now: it may be read after the prefix (the stage output then cannot share it).
        var splits = ValidSplits(Graph, Ops, FirstOperator, -1, ReadersOf(Graph));
        return splits.Count == 0 ? null : new PatchGraph(Graph, Input, Input, -1, Ops, splits, StopReason, InputTranspose);
    }

    /// <summary>The graph's kinds of patch stage: <see cref="Analyze"/>'s, and the whole-TRANSPOSE and (unless
    /// <paramref name="stemInPlace"/> is false) in-place-stem ones where there are.</summary>
    public static IReadOnlyList<PatchGraph> Kinds(Graph graph, bool stemInPlace = true)
    {
        var folded = Analyze(graph);
        return new[] { folded, folded.WithTransposeWhole(), stemInPlace ? WithStemInPlace(graph) : null }.OfType<PatchGraph>().ToList();
    }

    /// <summary>The operators that read each tensor, in graph order.</summary>
    private static Func<int, IReadOnlyList<int>> ReadersOf(Graph graph)
    {
        var readers = new Dictionary<int, List<int>>();
        for (int i = 0; i < graph.Operators.Count; i++)
            foreach (int t in graph.Operators[i].Inputs.Where(t => t >= 0).Distinct())
                (readers.TryGetValue(t, out var list) ? list : readers[t] = new List<int>()).Add(i);
        return t => readers.TryGetValue(t, out var r) ? r : Array.Empty<int>();
    }

    /// <summary>
    /// Prefix lengths k whose prefix, graph operators [0, first + k), reads what it produces before the stage output
    /// (and a folded TRANSPOSE's output, <paramref name="foldedInput"/>) inside it only.
    /// </summary>
    private static IReadOnlyList<int> ValidSplits(Graph graph, IReadOnlyList<PatchOp> ops, int first, int foldedInput, Func<int, IReadOnlyList<int>> users)
    {
        var splits = new List<int>();
        for (int k = 1; k <= ops.Count; k++)
        {
            var internalTensors = ops.Take(k - 1).Select(o => o.Output).Concat(foldedInput < 0 ? Array.Empty<int>() : new[] { foldedInput });
            bool valid = internalTensors.All(t => users(t).Count > 0 && users(t).All(c => c < first + k) && !graph.Outputs.Contains(t));
            if (valid) splits.Add(k);
        }
        return splits;
    }

    /// <summary>
    /// Operator 0 when it is a TRANSPOSE by [0, 2, 3, 1] of graph input 0 (batch 1, int8 or float32), the only reader
    /// of that input, which is not a graph output; otherwise -1.
    /// </summary>
    private static int FoldableInputTranspose(Graph graph, int source, IReadOnlyList<int> users)
    {
        if (graph.Operators.Count == 0 || users.Count != 1 || users[0] != 0 || graph.Outputs.Contains(source)) return -1;
        var op = graph.Operators[0];
        if (op.Kind != OpKind.Transpose || op.Inputs.Count != 2 || op.Inputs[0] != source || op.Outputs.Count != 1) return -1;
        var nchw = graph.Tensors[source];
        if (!IsImage(nchw) || nchw.IsVariable || ConstantInts(graph, op.Inputs[1]) is not { } perm || !perm.SequenceEqual(NchwToNhwc)) return -1;
        var nhwc = graph.Tensors[op.Outputs[0]];
        return nhwc.Type == nchw.Type && nhwc.Shape.SequenceEqual(NchwToNhwc.Select(p => nchw.Shape[p])) ? 0 : -1;
    }

    /// <summary>The values of a constant INT32 tensor, or null.</summary>
    internal static int[]? ConstantInts(Graph graph, int tensor) =>
        tensor >= 0 && graph.Tensors[tensor] is { Data: { } data, Type: DataType.Int32 } ? MemoryMarshal.Cast<byte, int>(data.Span).ToArray() : null;

    private static bool IsImage(Tensor t) =>
        t.Shape.Count == 4 && t.Shape[0] == 1 && t.Shape.All(d => d > 0) && t.Type is DataType.Int8 or DataType.Float32 && !t.IsConstant;

    private static (PatchOp? Op, string Why) Describe(Graph graph, Operator op, int index, HashSet<int> available)
    {
        if (op.Outputs.Count != 1 || op.Inputs.Count == 0) return (null, "does not have one output");
        var output = graph.Tensors[op.Outputs[0]];
        if (!IsImage(output) || output.IsVariable) return (null, $"writes {output.Shape} {output.Type}, not a batch-1 NHWC int8 or float32 image");
        // The first activation operand (an element-wise operator may take a constant first).
        int main = op.Inputs.Where(t => t >= 0 && !graph.Tensors[t].IsConstant).DefaultIfEmpty(-1).First();
        var input = main >= 0 ? graph.Tensors[main] : null;
        if (input is null || !available.Contains(main)) return (null, "reads a tensor from outside the patched run");
        if (!IsImage(input) || (input.Type != output.Type && !ConvertsType(op.Kind)))
            return (null, $"reads {input.Shape} {input.Type} into {output.Type}, not an image of the output's type");
        var definition = OperatorRegistry.Of(op.Kind);
        if (definition is null) return (null, "is not supported");
        // The same count as the layer-by-layer MACs, spread over the output pixels (the batch is 1).
        long MacsPerOutputPixel() => Macs.Of(graph, op) / ((long)output.Shape[1] * output.Shape[2]);
        // Aliases and windowed operators read their image as input 0.
        bool imageFirst = main == op.Inputs[0];
        if (imageFirst && definition.IsAlias(op.Kind))
            return output.Shape.SequenceEqual(input.Shape)
                ? (new PatchOp(index, PatchOpShape.Alias, new[] { op.Inputs[0] }, op.Outputs[0], Window.Identity, Window.Identity, 0), "")
                : (null, $"changes the shape {input.Shape} to {output.Shape}");
        if (imageFirst && definition.PatchWindows(graph, op) is { } windows)
            return (new PatchOp(index, PatchOpShape.Window, new[] { op.Inputs[0] }, op.Outputs[0], windows.Height, windows.Width, MacsPerOutputPixel()), "");
        // Element-wise: every input tile equals the output tile, so every input has the output's shape and type.
        int arity = definition.ElementwiseInputs(op.Kind);
        if (arity == 0) return (null, "does not run on tiles");
        if (op.Inputs.Count != arity || !definition.RunsOnTiles(op.Kind, output.Type)) return (null, $"does not run on tiles for {output.Type}");
        // The tiled operands; a constant that is the same for every pixel (per channel or a scalar) is read whole by every tile.
        var tiled = new List<int>();
        foreach (int t in op.Inputs)
        {
            if (t >= 0 && graph.Tensors[t] is { IsConstant: true } constant && constant.Type == output.Type && SameForEveryPixel(constant.Shape, output.Shape)) continue;
            if (t < 0 || !available.Contains(t) || (graph.Tensors[t].Type != output.Type && !ConvertsType(op.Kind)) || !graph.Tensors[t].Shape.SequenceEqual(output.Shape))
                return (null, "reads an operand that is neither a same-shape tile of the patched run nor a per-channel or scalar constant");
            tiled.Add(t);
        }
        if (tiled.Count == 0) return (null, "reads no tile");
        return (new PatchOp(index, PatchOpShape.Elementwise, tiled.ToArray(), op.Outputs[0], Window.Identity, Window.Identity, MacsPerOutputPixel()), "");
    }

    /// <summary>QUANTIZE and DEQUANTIZE change the element type (int8 and float32 tiles) and nothing else.</summary>
    private static bool ConvertsType(OpKind kind) => kind is OpKind.Quantize or OpKind.Dequantize;

    /// <summary>True when a tensor broadcast (right-aligned) to an NHWC image shape varies along channels at most.</summary>
    private static bool SameForEveryPixel(IReadOnlyList<int> shape, IReadOnlyList<int> image)
    {
        if (shape.Count > 4) return false;
        for (int d = 0; d < shape.Count; d++)
        {
            int axis = 4 - shape.Count + d;
            if (shape[d] != 1 && (axis != 3 || shape[d] != image[3])) return false;
        }
        return true;
    }
}
