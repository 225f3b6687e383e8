// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;

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
        bool isFloat = output.Type == DataType.Float32;
        int[] i = input.Shape.ToArray(), o = output.Shape.ToArray();
        switch (op.Kind)
        {
            case OpKind.Conv2D or OpKind.DepthwiseConv2D:
            {
                var weights = graph.Input(op, 1);
                if (weights is not { IsConstant: true } || weights.Shape.Count != 4) return null;
                if (op.Inputs.Count > 2 && op.Inputs[2] >= 0 && !graph.Tensors[op.Inputs[2]].IsConstant) return null;
                int[] w = weights.Shape.ToArray();
                Padding padding;
                int sh, sw, dh, dw;
                if (op.OptionsAs<Conv2DOptions>() is { } c) (padding, sh, sw, dh, dw) = (c.Padding, c.StrideH, c.StrideW, c.DilationH, c.DilationW);
                else if (op.OptionsAs<DepthwiseConv2DOptions>() is { } d) (padding, sh, sw, dh, dw) = (d.Padding, d.StrideH, d.StrideW, d.DilationH, d.DilationW);
                else return null;
                if (sh < 1 || sw < 1 || dh < 1 || dw < 1) return null;
                if (QuantMath.OutputSize(padding, i[1], w[1], sh, dh) != o[1] || QuantMath.OutputSize(padding, i[2], w[2], sw, dw) != o[2]) return null;
                var wh = new Window(w[1], sh, dh, QuantMath.PaddingBefore(sh, dh, i[1], w[1], o[1]));
                var ww = new Window(w[2], sw, dw, QuantMath.PaddingBefore(sw, dw, i[2], w[2], o[2]));
                long macs = op.Kind == OpKind.Conv2D ? (long)o[3] * w[1] * w[2] * w[3] : (long)o[3] * w[1] * w[2];
                return new PatchOp(index, PatchOpShape.Window, new[] { op.Inputs[0] }, op.Outputs[0], wh, ww, macs);
            }
            case OpKind.AveragePool2D or OpKind.MaxPool2D:
            {
                if (op.OptionsAs<Pool2DOptions>() is not { } p || p.StrideH < 1 || p.StrideW < 1 || p.FilterH < 1 || p.FilterW < 1) return null;
                if (QuantMath.OutputSize(p.Padding, i[1], p.FilterH, p.StrideH, 1) != o[1] || QuantMath.OutputSize(p.Padding, i[2], p.FilterW, p.StrideW, 1) != o[2] || i[3] != o[3]) return null;
                var wh = new Window(p.FilterH, p.StrideH, 1, QuantMath.PaddingBefore(p.StrideH, 1, i[1], p.FilterH, o[1]));
                var ww = new Window(p.FilterW, p.StrideW, 1, QuantMath.PaddingBefore(p.StrideW, 1, i[2], p.FilterW, o[2]));
                return new PatchOp(index, PatchOpShape.Window, new[] { op.Inputs[0] }, op.Outputs[0], wh, ww, 0);
            }
            case OpKind.Add or OpKind.Sub or OpKind.Mul:
            {
                if (op.Inputs.Count != 2 || (isFloat && op.Kind != OpKind.Add)) return null;
                var other = graph.Input(op, 1);
                if (other is null || !available.Contains(op.Inputs[1]) || !other.Shape.SequenceEqual(output.Shape) || !input.Shape.SequenceEqual(output.Shape) || other.Type != output.Type) return null;
                return new PatchOp(index, PatchOpShape.Elementwise, new[] { op.Inputs[0], op.Inputs[1] }, op.Outputs[0], Window.Identity, Window.Identity, 0);
            }
            case OpKind.Relu or OpKind.Relu6 or OpKind.LeakyRelu or OpKind.Logistic or OpKind.Tanh or OpKind.HardSwish or OpKind.Quantize:
            {
                if (isFloat || op.Inputs.Count != 1 || !input.Shape.SequenceEqual(output.Shape)) return null;
                return new PatchOp(index, PatchOpShape.Elementwise, new[] { op.Inputs[0] }, op.Outputs[0], Window.Identity, Window.Identity, 0);
            }
            default:
                return null;
        }
    }
}
