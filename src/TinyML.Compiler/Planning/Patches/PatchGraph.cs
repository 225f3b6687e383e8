// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
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
}

/// <summary>An operator that patch-based inference can run tile by tile.</summary>
public sealed record PatchOp(int Index, PatchOpShape Shape, IReadOnlyList<int> Inputs, int Output, Window WindowH, Window WindowW, long MacsPerOutputPixel);

/// <summary>
/// The operators at the start of a graph that can run on spatial tiles, and the split points among them. A split
/// after k operators is valid when the only tensor that the first k operators produce and anything after them
/// reads is the output of operator k - 1 (the stage output), and every operator reads only the patched graph input
/// or tensors of the prefix.
/// </summary>
public sealed class PatchGraph
{
    private PatchGraph(Graph graph, int input, IReadOnlyList<PatchOp> ops, IReadOnlyList<int> splits)
    {
        Graph = graph;
        Input = input;
        Ops = ops;
        Splits = splits;
    }

    /// <summary>The graph.</summary>
    public Graph Graph { get; }
    /// <summary>The graph input that is cut into tiles (graph input 0).</summary>
    public int Input { get; }
    /// <summary>The longest run of operators from the start that can run on tiles.</summary>
    public IReadOnlyList<PatchOp> Ops { get; }
    /// <summary>Valid prefix lengths k (the stage output is the output of operator k - 1), ascending.</summary>
    public IReadOnlyList<int> Splits { get; }

    /// <summary>Analyses a graph; a graph with nothing to patch has no splits.</summary>
    public static PatchGraph Analyze(Graph graph)
    {
        var ops = new List<PatchOp>();
        int input = graph.Inputs.Count > 0 ? graph.Inputs[0] : -1;
        if (input < 0 || !IsImage(graph.Tensors[input]) || graph.Tensors[input].IsVariable)
            return new PatchGraph(graph, input, ops, Array.Empty<int>());
        var available = new HashSet<int> { input };
        foreach (var (op, index) in graph.Operators.Select((o, i) => (o, i)))
        {
            var patchOp = Describe(graph, op, index, available);
            if (patchOp is null) break;
            ops.Add(patchOp);
            available.Add(patchOp.Output);
        }
        var consumers = new Dictionary<int, List<int>>();
        for (int i = 0; i < graph.Operators.Count; i++)
            foreach (int t in graph.Operators[i].Inputs.Where(t => t >= 0).Distinct())
                (consumers.TryGetValue(t, out var list) ? list : consumers[t] = new List<int>()).Add(i);
        var splits = new List<int>();
        for (int k = 1; k <= ops.Count; k++)
        {
            bool valid = true;
            for (int j = 0; j < k - 1 && valid; j++)
            {
                int t = ops[j].Output;
                var users = consumers.TryGetValue(t, out var u) ? u : new List<int>();
                valid = users.Count > 0 && users.All(c => c < k) && !graph.Outputs.Contains(t);
            }
            if (valid) splits.Add(k);
        }
        return new PatchGraph(graph, input, ops, splits);
    }

    private static bool IsImage(Tensor t) =>
        t.Shape.Count == 4 && t.Shape[0] == 1 && t.Shape.All(d => d > 0) && t.Type is DataType.Int8 or DataType.Float32 && !t.IsConstant;

    private static PatchOp? Describe(Graph graph, Operator op, int index, HashSet<int> available)
    {
        if (op.Outputs.Count != 1 || op.Inputs.Count == 0) return null;
        var output = graph.Tensors[op.Outputs[0]];
        if (!IsImage(output) || output.IsVariable) return null;
        var input = graph.Input(op, 0);
        if (input is null || !available.Contains(op.Inputs[0]) || !IsImage(input) || input.Type != output.Type) return null;
        var definition = OperatorRegistry.Of(op.Kind);
        if (definition is null) return null;
        // The same count as the layer-by-layer MACs, spread over the output pixels (the batch is 1).
        long MacsPerOutputPixel() => Macs.Of(graph, op) / ((long)output.Shape[1] * output.Shape[2]);
        if (definition.PatchWindows(graph, op) is { } windows)
            return new PatchOp(index, PatchOpShape.Window, new[] { op.Inputs[0] }, op.Outputs[0], windows.Height, windows.Width, MacsPerOutputPixel());
        // Element-wise: every input tile equals the output tile, so every input has the output's shape and type.
        int arity = definition.ElementwiseInputs(op.Kind);
        if (arity == 0 || op.Inputs.Count != arity || !definition.RunsOnTiles(op.Kind, output.Type)) return null;
        foreach (int t in op.Inputs)
            if (t < 0 || !available.Contains(t) || graph.Tensors[t].Type != output.Type || !graph.Tensors[t].Shape.SequenceEqual(output.Shape)) return null;
        return new PatchOp(index, PatchOpShape.Elementwise, op.Inputs.ToArray(), op.Outputs[0], Window.Identity, Window.Identity, MacsPerOutputPixel());
    }
}
