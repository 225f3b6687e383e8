// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Lowering;

/// <summary>A graph with PADs folded away, and for each of its operators the index it has in the model.</summary>
public sealed record FoldedGraph(Graph Graph, IReadOnlyList<int> OriginalIndex, IReadOnlyList<int> FoldedPads);

/// <summary>
/// Folds a PAD or PADV2 into the convolutions or max poolings that read it, where the result is the same bytes: they
/// read the PAD's input and take its rows and columns as padding of their own (<see cref="FoldedPadding"/>), so the
/// padded copy and its call disappear from the plan. TFLite's kernels skip padding taps. For a convolution a skipped
/// tap equals a tap holding the input zero point (it adds (zp - zp) × w = 0; 0.0 in float), for a max pooling one
/// holding the type's lowest value, or any value no greater than what the producer writes when every window reads the
/// input; so a PAD folds when it fills with such a value. Average pooling divides by the taps
/// inside the input, so a folded PAD would change its divisor: it never folds.
/// </summary>
public static class PadFolding
{
    /// <summary>The graph with every foldable PAD folded; <paramref name="graph"/> itself is not changed.</summary>
    public static FoldedGraph Fold(Graph graph)
    {
        var operators = graph.Operators.ToList();
        var folded = new List<int>();
        for (int p = 0; p < operators.Count; p++)
        {
            if (Foldable(graph, operators, p) is not { } pad) continue;
            var op = operators[p];
            for (int r = 0; r < operators.Count; r++)
                if (r != p && operators[r].Inputs.Count > 0 && operators[r].Inputs[0] == op.Outputs[0])
                    operators[r] = WithPad(operators[r], op.Inputs[0], pad);
            folded.Add(p);
        }
        if (folded.Count == 0) return new FoldedGraph(graph, Enumerable.Range(0, graph.Operators.Count).ToList(), folded);
        var result = new Graph { Name = graph.Name, Inputs = graph.Inputs, Outputs = graph.Outputs };
        result.Tensors.AddRange(graph.Tensors);
        var kept = Enumerable.Range(0, operators.Count).Where(i => !folded.Contains(i)).ToList();
        result.Operators.AddRange(kept.Select(i => operators[i]));
        return new FoldedGraph(result, kept, folded);
    }

    /// <summary>The H and W padding of operator <paramref name="p"/> when it is a PAD that can fold into every reader.</summary>
    private static FoldedPadding? Foldable(Graph graph, IReadOnlyList<Operator> operators, int p)
    {
        var op = operators[p];
        if (op.Kind is not (OpKind.Pad or OpKind.PadV2) || op.Inputs.Count < 2 || op.Outputs.Count != 1) return null;
        if (graph.TensorOrNull(op.Inputs[0]) is not { IsConstant: false, IsVariable: false } input || graph.TensorOrNull(op.Inputs[1]) is not { } paddings) return null;
        int y = op.Outputs[0];
        var output = graph.Tensors[y];
        if (graph.Outputs.Contains(y) || graph.Inputs.Contains(y) || input.Shape.Count != 4 || output.Type != input.Type) return null;
        if (paddings is not { Type: DataType.Int32, Data: { Length: 32 } data }) return null;
        var pads = MemoryMarshal.Cast<byte, int>(data.Span).ToArray();
        // Batch and channels unpadded; H and W at least 0, and the padded shape is the output's.
        if (pads[0] != 0 || pads[1] != 0 || pads[6] != 0 || pads[7] != 0 || pads.Any(v => v < 0)) return null;
        long paddedH = (long)input.Shape[1] + pads[2] + pads[3], paddedW = (long)input.Shape[2] + pads[4] + pads[5];
        if (output.Shape.Count != 4 || output.Shape[0] != input.Shape[0] || output.Shape[1] != paddedH || output.Shape[2] != paddedW || output.Shape[3] != input.Shape[3]) return null;
        if (input.Type != DataType.Float32 && !(input.Quantization is { HasScales: true, IsPerChannel: false } iq && output.Quantization is { HasScales: true, IsPerChannel: false } oq
            && iq.Scale == oq.Scale && iq.ZeroPoint == oq.ZeroPoint)) return null;
        if (FillValue(graph, op, output) is not { } fill) return null;
        var pad = new FoldedPadding(pads[2], pads[3], pads[4], pads[5]);
        double floor = LowestWritten(graph, operators, op.Inputs[0]);
        var readers = Enumerable.Range(0, operators.Count).Where(r => r != p && operators[r].Inputs.Contains(y)).ToList();
        if (readers.Count == 0 || !readers.All(r => FoldsInto(graph, operators[r], y, fill, floor, input, pad))) return null;
        return pad;
    }

    /// <summary>
    /// The lowest value the producer of tensor <paramref name="t"/> can write: its fused activation's clamp (a RELU's
    /// is the zero point), else the type's lowest.
    /// </summary>
    private static double LowestWritten(Graph graph, IReadOnlyList<Operator> operators, int t)
    {
        var tensor = graph.Tensors[t];
        double lowest = Lowest(tensor.Type);
        var producer = operators.FirstOrDefault(o => o.Outputs.Contains(t));
        if (producer is null || tensor.Type == DataType.Float32 || tensor.Quantization is not { HasScales: true, IsPerChannel: false } q
            || Operators.OperatorRegistry.Of(producer.Kind) is not { } definition) return lowest;
        var activation = definition.FusedActivation(producer) is var fused && fused != Activation.None ? fused : definition.AsFusedActivation(producer.Kind) ?? Activation.None;
        return activation == Activation.None ? lowest : QuantMath.ActivationRange(activation, q.Scale, q.ZeroPoint, tensor.Type).Min;
    }

    /// <summary>Whether every window of a pooling over <paramref name="input"/> with the PAD folded in holds a tap inside it.</summary>
    private static bool EveryWindowReadsInput(Pool2DOptions o, Tensor input, FoldedPadding pad)
    {
        // The first window starts at -before, the last at (output - 1) * stride - before: both must touch [0, n).
        static bool Axis((int Output, int Before) w, int n, int filter, int stride) =>
            w.Output > 0 && w.Before <= filter - 1 && (long)(w.Output - 1) * stride - w.Before <= n - 1;
        var (h, wd) = QuantMath.Windows(o.Padding, pad, input.Shape, o.FilterH, o.FilterW, o.StrideH, o.StrideW);
        return Axis(h, input.Shape[1], o.FilterH, o.StrideH) && Axis(wd, input.Shape[2], o.FilterW, o.StrideW);
    }

    /// <summary>The value the PAD fills with: PADV2's constant, else the output's zero point (0.0 for float32).</summary>
    private static double? FillValue(Graph graph, Operator pad, Tensor output)
    {
        if (pad.Kind == OpKind.Pad) return output.Type == DataType.Float32 ? 0.0 : output.Quantization?.ZeroPoint ?? 0;
        if (pad.Inputs.Count < 3 || graph.TensorOrNull(pad.Inputs[2]) is not { Data: { } data } value || value.Type != output.Type) return null;
        var span = data.Span;
        return value.Type switch
        {
            DataType.Int8 when span.Length >= 1 => (sbyte)span[0],
            DataType.Int16 when span.Length >= 2 => MemoryMarshal.Read<short>(span),
            DataType.Float32 when span.Length >= 4 => MemoryMarshal.Read<float>(span),
            _ => null,
        };
    }

    /// <summary>Whether a reader of the padded tensor <paramref name="y"/> skips taps exactly as it reads the fill.</summary>
    private static bool FoldsInto(Graph graph, Operator reader, int y, double fill, double floor, Tensor input, FoldedPadding pad)
    {
        // The padded tensor must be the reader's data input only, never its weights or bias.
        if (reader.Inputs[0] != y || reader.Inputs.Skip(1).Contains(y)) return false;
        var type = graph.Tensors[y].Type;
        switch (reader.Kind)
        {
            case OpKind.Conv2D or OpKind.DepthwiseConv2D:
                double zero = type == DataType.Float32 ? 0.0 : graph.Tensors[y].Quantization?.ZeroPoint ?? 0;
                // In float, 0 × w is 0 only for finite weights.
                return fill == zero && (type != DataType.Float32 || graph.Input(reader, 1) is { Data: { } w } && FiniteFloats(w.Span));
            case OpKind.MaxPool2D:
                // The kernels start from the lowest value (-FLT_MAX in float), so a fill at or below it never wins. A
                // fill at or below everything the producer writes (a RELU's zero point) never wins either, as long as
                // no window lies wholly in the padding (there the kernel's start value would be the result).
                return fill <= Lowest(type)
                    || fill <= floor && reader.Options is Pool2DOptions { FoldedPad: null } o && EveryWindowReadsInput(o, input, pad);
            default:
                return false;
        }
    }

    private static double Lowest(DataType type) => type switch
    {
        DataType.Int8 => sbyte.MinValue,
        DataType.Int16 => short.MinValue,
        _ => float.MinValue,
    };

    private static bool FiniteFloats(ReadOnlySpan<byte> bytes)
    {
        foreach (float v in MemoryMarshal.Cast<byte, float>(bytes))
            if (float.IsNaN(v) || float.IsInfinity(v)) return false;
        return true;
    }

    /// <summary>A copy of <paramref name="reader"/> that reads <paramref name="input"/> with <paramref name="pad"/> folded in.</summary>
    private static Operator WithPad(Operator reader, int input, FoldedPadding pad)
    {
        static FoldedPadding Add(FoldedPadding? a, FoldedPadding b) =>
            a is null ? b : new FoldedPadding(a.Top + b.Top, a.Bottom + b.Bottom, a.Left + b.Left, a.Right + b.Right);
        var inputs = reader.Inputs.ToArray();
        inputs[0] = input;
        return new Operator(reader.Kind, inputs, reader.Outputs)
        {
            CustomCode = reader.CustomCode,
            Version = reader.Version,
            Intermediates = reader.Intermediates,
            CustomOptions = reader.CustomOptions,
            Options = reader.Options switch
            {
                Conv2DOptions o => o with { FoldedPad = Add(o.FoldedPad, pad) },
                DepthwiseConv2DOptions o => o with { FoldedPad = Add(o.FoldedPad, pad) },
                Pool2DOptions o => o with { FoldedPad = Add(o.FoldedPad, pad) },
                var other => other,
            },
        };
    }
}
