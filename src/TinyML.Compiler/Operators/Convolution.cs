// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>CONV_2D and DEPTHWISE_CONV_2D: NHWC input, weights [out, kh, kw, in / groups] or [1, kh, kw, out], optional bias.</summary>
internal sealed class Convolution : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Conv2D, OpKind.DepthwiseConv2D };

    private static readonly OperatorRule ConvRule = new(8, 2, 3, WeightedOperator.Types, Conv2DOptions.Union, new[] { 2 });
    private static readonly OperatorRule DepthwiseRule = new(7, 2, 3, WeightedOperator.Types, DepthwiseConv2DOptions.Union, new[] { 2 });

    public override OperatorRule Rule(OpKind kind) => kind == OpKind.Conv2D ? ConvRule : DepthwiseRule;

    private static int ChannelDimension(OpKind kind) => kind == OpKind.DepthwiseConv2D ? 3 : 0;

    // TFLM's 16x8 CONV_2D takes an int64 or an int32 bias (ConvPerChannel<int64_t> / <int32_t>), its depthwise int64 only.
    private static readonly DataType[] ConvInt16Biases = { DataType.Int64, DataType.Int32 };
    private static readonly DataType[] DepthwiseInt16Biases = { DataType.Int64 };

    public override void CheckWeights(OperatorValidation validation, Operator op, Tensor input) =>
        WeightedOperator.CheckWeights(validation, op, input, expectedRank: 4, ChannelDimension(op.Kind),
            int16Biases: op.Kind == OpKind.Conv2D ? ConvInt16Biases : DepthwiseInt16Biases);

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        if (Geometry(op) is { } g && (g.StrideH < 1 || g.StrideW < 1 || g.DilationH < 1 || g.DilationW < 1))
            validation.Report(DiagnosticIds.InvalidOperator, "strides and dilations must be at least 1");
        if (op.Options is DepthwiseConv2DOptions dw && validation.Graph.Input(op, 1) is { Shape.Count: 4 } w && validation.Graph.Input(op, 0) is { Shape.Count: 4 } x
            && x.Shape[3] > 0 && w.Shape[3] % x.Shape[3] != 0)
            validation.Report(DiagnosticIds.InvalidOperator, $"{w.Shape[3]} output channels are not a multiple of {x.Shape[3]} input channels (depth multiplier {dw.DepthMultiplier})");
    }

    public override int? QuantizedVersion(OpKind kind) => 3;

    public override WeightLayout Weights(OpKind kind) => new(ChannelDimension(kind), PerChannel: true);

    public override Activation FusedActivation(Operator op) => Geometry(op)?.Activation ?? Activation.None;

    public override OperatorOptions? WithFusedActivation(Operator op, Activation activation) => op.Options switch
    {
        Conv2DOptions o => o with { Activation = activation },
        DepthwiseConv2DOptions o => o with { Activation = activation },
        _ => null,
    };

    public override long Macs(Graph graph, Operator op)
    {
        // Every output element reads a kh x kw window of (input channels / groups) values, one for depthwise.
        if (graph.Input(op, 1) is not { Shape: { Count: 4 } w }) return 0;
        long perOutput = op.Kind == OpKind.Conv2D ? (long)w[1] * w[2] * w[3] : (long)w[1] * w[2];
        return graph.Output(op, 0).ElementCount * perOutput;
    }

    /// <summary>The window parameters of either options record, or null.</summary>
    private static (Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, Activation Activation, FoldedPadding? Folded)? Geometry(Operator op) => op.Options switch
    {
        Conv2DOptions c => (c.Padding, c.StrideH, c.StrideW, c.DilationH, c.DilationW, c.Activation, c.FoldedPad),
        DepthwiseConv2DOptions d => (d.Padding, d.StrideH, d.StrideW, d.DilationH, d.DilationW, d.Activation, d.FoldedPad),
        _ => null,
    };

    /// <summary>Output rows and columns and top/left padding of a convolution over an input of <paramref name="i"/>
    /// (NHWC) with weights <paramref name="w"/>.</summary>
    private static ((int Output, int Before) H, (int Output, int Before) W) Windows(
        (Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, Activation Activation, FoldedPadding? Folded) g, IReadOnlyList<int> i, IReadOnlyList<int> w) =>
        QuantMath.Windows(g.Padding, g.Folded, i, w[1], w[2], g.StrideH, g.StrideW, g.DilationH, g.DilationW);

    public override void Lower(LoweringContext context, Operator op)
    {
        bool depthwise = op.Kind == OpKind.DepthwiseConv2D;
        var input = context.T(op.Inputs[0]);
        var weights = context.T(op.Inputs[1]);
        var output = context.T(op.Outputs[0]);
        bool isFloat = context.IsFloat(op);
        int bias = op.Inputs.Count > 2 ? op.Inputs[2] : -1;
        int[] i = Nhwc(input, "input"), w = Nhwc(weights, "weights"), o = Nhwc(output, "output");
        var geometry = (op.Options is DepthwiseConv2DOptions == depthwise ? Geometry(op) : null)
            ?? throw Fail(depthwise ? "missing DepthwiseConv2DOptions" : "missing Conv2DOptions");
        var (padding, strideH, strideW, dilationH, dilationW, activation, folded) = geometry;
        if (depthwise)
        {
            Expect(w[0] == 1, $"depthwise weights must have shape [1, kh, kw, channels], not {weights.Shape}");
            Expect(i[3] > 0 && w[3] % i[3] == 0, $"{w[3]} weight channels are not a multiple of {i[3]} input channels");
        }
        else
        {
            Expect(w[3] > 0 && i[3] > 0 && i[3] % w[3] == 0 && w[0] % (i[3] / w[3]) == 0,
                $"weights {weights.Shape} do not fit {i[3]} input channels");
        }
        int outChannels = depthwise ? w[3] : w[0];
        var ((outH, padH), (outW, padW)) = Windows(geometry, i, w);
        ExpectShape(output, new[] { i[0], outH, outW, outChannels });
        Expect(outH > 0 && outW > 0, "the output is empty");
        string comment = $"{(depthwise ? "depthwise " : "")}{w[1]}x{w[2]} s{strideH}x{strideW} d{dilationH}x{dilationW} {padding}{(folded is null ? "" : $", {folded}")} {activation}: {input.Shape} -> {output.Shape}";
        var common = new[]
        {
            Field.I("stride_h", strideH), Field.I("stride_w", strideW), Field.I("dilation_h", dilationH),
            Field.I("dilation_w", dilationW), Field.I("pad_h", padH), Field.I("pad_w", padW),
        };
        if (isFloat)
        {
            var (min, max) = QuantMath.ActivationRangeFloat(activation);
            var fields = common.Concat(depthwise ? new[] { Field.I("depth_multiplier", outChannels / i[3]) } : Array.Empty<Field>())
                .Append(Field.F("activation_min", min)).Append(Field.F("activation_max", max)).ToArray();
            // An ungrouped float convolution's weights are packed for the host's SIMD paths (PackedMatrix.AppliesFloat).
            bool packed = !depthwise && w[3] == i[3] && PackedMatrix.AppliesFloat(context, op.Inputs[1]);
            context.Call(depthwise ? "tml_depthwise_conv_f32" : packed ? "tml_conv_f32_packed" : "tml_conv_f32",
                packed ? comment + ", weights packed for the host" : comment,
                Arg.Struct(depthwise ? "tml_depthwise_conv_f32_params" : "tml_conv_f32_params", fields),
                Dims(i), Arg.Ptr(context.Ptr(op.Inputs[0])), Dims(w),
                Arg.Ptr(packed ? PackedMatrix.FloatConstant(context, op.Inputs[1], w[0], w[1] * w[2] * w[3]) : context.Ptr(op.Inputs[1])),
                Arg.Ptr(context.Ptr(bias)), Dims(o), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        var oq = Q(output);
        var (actMin, actMax) = QuantMath.ActivationRange(activation, oq.Scale, oq.ZeroPoint, output.Type);
        var intFields = new[] { Field.I("input_offset", -Q(input).ZeroPoint), Field.I("output_offset", oq.ZeroPoint) }
            .Concat(common)
            .Concat(depthwise ? new[] { Field.I("depth_multiplier", outChannels / i[3]) } : Array.Empty<Field>())
            .Append(Field.I("activation_min", actMin)).Append(Field.I("activation_max", actMax)).ToArray();
        if (WeightedOperator.UsesOnnxRuntimeRounding(context, op))
        {
            // onnxruntime's float32 requantization: the portable loop, no packing, no scratch.
            var scales = WeightedOperator.OnnxRuntimeScales(context, input, weights, output, outChannels);
            context.Call(depthwise ? "tml_depthwise_conv_s8_float_requant" : "tml_conv_s8_float_requant", comment + ", onnxruntime rounding",
                Arg.Struct(depthwise ? "tml_depthwise_conv_params" : "tml_conv_params", intFields),
                Arg.Ptr(scales), Dims(i), Arg.Ptr(context.Ptr(op.Inputs[0])), Dims(w), Arg.Ptr(context.Ptr(op.Inputs[1])),
                Arg.Ptr(context.Ptr(bias)), Dims(o), Arg.Ptr(context.Ptr(op.Outputs[0])), Arg.Ptr(Pointer.Null));
            return;
        }
        // Ungrouped int8 convolutions run on weights packed at build time: a 1x1 stride-1 one is a matrix product over
        // its pixels, any other goes through im2col rows (tml_conv_s8_packed).
        var (multipliers, shifts) = WeightedOperator.ChannelMultipliers(context, input, weights, output, outChannels);
        switch (PackedKind(context, op))
        {
            case Packing.Pointwise:
                PackedMatrix.Call(context, comment, op.Inputs[1], bias, i[0] * i[1] * i[2], i[3], outChannels, Q(input).ZeroPoint, oq.ZeroPoint,
                    actMin, actMax, perChannel: true, (multipliers, shifts), context.Ptr(op.Inputs[0]), context.Ptr(op.Outputs[0]));
                return;
            case Packing.Im2col:
                var (ohwi, filter) = OhwiWeights(op, weights);
                PackedMatrix.CallConv(context, depthwise ? comment + ", one input channel as a convolution" : comment, op.Inputs[1], ohwi, filter, bias,
                    common, Q(input).ZeroPoint, oq.ZeroPoint, actMin, actMax, (multipliers, shifts), Dims(i), context.Ptr(op.Inputs[0]),
                    Dims(o), context.Ptr(op.Outputs[0]));
                return;
        }
        // In place: the output overwrites the input (same offset), one input channel at a time via scratch (int8 only).
        bool int16 = input.Type == DataType.Int16;
        bool inPlace = depthwise && !int16 && context.InPlace == InPlaceKind.Depthwise;
        string kernel = inPlace ? "tml_depthwise_conv_s8_inplace" : !int16 ? (depthwise ? "tml_depthwise_conv_s8" : "tml_conv_s8")
            : depthwise ? "tml_depthwise_conv_s16"
            // TFLM's 16x8 CONV_2D without an int64 bias accumulates in int32 (tml_conv_s16_bias32).
            : bias >= 0 && context.T(bias).Type == DataType.Int64 ? "tml_conv_s16" : "tml_conv_s16_bias32";
        context.Call(kernel, inPlace ? comment + ", in place" : comment,
            Arg.Struct(depthwise ? "tml_depthwise_conv_params" : "tml_conv_params", intFields),
            PerChannel(multipliers, shifts), Dims(i), Arg.Ptr(context.Ptr(op.Inputs[0])), Dims(w), Arg.Ptr(context.Ptr(op.Inputs[1])),
            Arg.Ptr(context.Ptr(bias)), Dims(o), Arg.Ptr(context.Ptr(op.Outputs[0])),
            Arg.Ptr(inPlace || ScratchBytes(context, op) > 0 ? context.Scratch : Pointer.Null));
    }

    private enum Packing { None, Pointwise, Im2col }

    /// <summary>A packed convolution's weights as the matrix [output channels, kh x kw x input channels].</summary>
    public override PackedWeights? PackedMatrixWeights(LoweringContext context, Operator op)
    {
        if (PackedKind(context, op) == Packing.None) return null;
        var w = context.T(op.Inputs[1]).Shape;
        return op.Kind == OpKind.Conv2D ? new PackedWeights(op.Inputs[1], w[0], w[1] * w[2] * w[3]) : new PackedWeights(op.Inputs[1], w[3], w[1] * w[2]);
    }

    /// <summary>
    /// True when the convolution's kernel writes its output in raster order, reading each pixel's window before writing
    /// the pixel, so that it may write over its own input at a distance (an in-place stem, PatchGraph.WithStemInPlace):
    /// tml_conv_s8_packed's im2col rows and the portable loop of onnxruntime's rounding do; tml_conv_s8's DSP paths and the
    /// pointwise matrix product run a filter pair or group over all pixels first. ref_diff.h checks each path.
    /// </summary>
    public static bool WritesInRasterOrder(LoweringContext context, Operator op) =>
        op.Kind == OpKind.Conv2D && (WeightedOperator.UsesOnnxRuntimeRounding(context, op) || PackedKind(context, op) == Packing.Im2col);

    /// <summary>
    /// Which packed kernel an int8 convolution takes, with constant weights (and bias): an ungrouped CONV_2D (a 1x1
    /// stride-1 one as a matrix product over its pixels), or a one-channel DEPTHWISE_CONV_2D, whose output channel k
    /// is the convolution of that channel with weight plane k (its weights transposed to OHWI at build time).
    /// </summary>
    private static Packing PackedKind(LoweringContext context, Operator op)
    {
        if (op.Inputs.Count < 2 || WeightedOperator.UsesOnnxRuntimeRounding(context, op)) return Packing.None;
        var input = context.T(op.Inputs[0]);
        var weights = context.T(op.Inputs[1]);
        var output = context.T(op.Outputs[0]);
        int bias = op.Inputs.Count > 2 ? op.Inputs[2] : -1;
        if (input.Type != DataType.Int8 || output.Type != DataType.Int8 || input.Shape.Count != 4 || weights.Shape.Count != 4 || output.Shape.Count != 4
            || !PackedMatrix.Applies(context, op.Inputs[1], bias, perChannel: true)) return Packing.None;
        if (op.Kind == OpKind.DepthwiseConv2D) return IsOneChannelDepthwise(op, input, weights) ? Packing.Im2col : Packing.None;
        if (op.Options is not Conv2DOptions c || weights.Shape[3] != input.Shape[3]) return Packing.None;
        bool pointwise = weights.Shape[1] == 1 && weights.Shape[2] == 1 && c.StrideH == 1 && c.StrideW == 1
            && output.Shape[1] == input.Shape[1] && output.Shape[2] == input.Shape[2];
        return pointwise ? Packing.Pointwise : Packing.Im2col;
    }

    private static bool IsOneChannelDepthwise(Operator op, Tensor input, Tensor weights) =>
        op.Kind == OpKind.DepthwiseConv2D && input.Shape.Count == 4 && input.Shape[3] == 1 && weights.Shape.Count == 4;

    /// <summary>The weights of a packed convolution as OHWI: a CONV_2D's own, a one-channel depthwise's
    /// [1, kh, kw, out] transposed to [out, kh, kw, 1].</summary>
    private static (sbyte[] Ohwi, int[] Shape) OhwiWeights(Operator op, Tensor weights)
    {
        var data = MemoryMarshal.Cast<byte, sbyte>(weights.Data!.Value.Span);
        var w = weights.Shape;
        if (op.Kind == OpKind.Conv2D) return (data.ToArray(), new[] { w[0], w[1], w[2], w[3] });
        int outChannels = w[3], taps = w[1] * w[2];
        Expect(data.Length == taps * outChannels, $"the weights hold {data.Length} bytes, not {taps * outChannels}");
        var ohwi = new sbyte[data.Length];
        for (int k = 0; k < outChannels; k++)
            for (int t = 0; t < taps; t++)
                ohwi[k * taps + t] = data[t * outChannels + k];
        return (ohwi, new[] { outChannels, w[1], w[2], 1 });
    }

    /// <summary>Taps of the largest window the DSP conv path copies as int16 patches (conv.c's TML_CONV_PATCH_TAPS).</summary>
    private const int PatchTaps = 144;

    /// <summary>Cores whose build takes the DSP paths (tml_arch.h's TML_CORE_USES_DSP).</summary>
    private static readonly string[] DspCores = { "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55" };

    /// <summary>
    /// tml_conv_s8_packed's two im2col rows (every core); else tml_conv_s8_get_buffer_size_for the target (an int8
    /// CONV_2D whose weights are not constant; none with onnxruntime's rounding): on a DSP core, two int16 patches of an ungrouped window of up to
    /// <see cref="PatchTaps"/> taps, each rounded to whole words; none for 1x1, int16, float or the other targets.
    /// </summary>
    public override long ScratchBytes(LoweringContext context, Operator op)
    {
        if (PackedKind(context, op) == Packing.Im2col)
        {
            var shape = context.T(op.Inputs[1]).Shape;
            return PackedMatrix.ConvScratchBytes((long)shape[1] * shape[2] * (op.Kind == OpKind.Conv2D ? shape[3] : 1));
        }
        if (op.Kind != OpKind.Conv2D || !DspCores.Contains(context.Target) || op.Inputs.Count < 2 || WeightedOperator.UsesOnnxRuntimeRounding(context, op)) return 0;
        var input = context.T(op.Inputs[0]);
        var weights = context.T(op.Inputs[1]);
        if (input.Type != DataType.Int8 || context.T(op.Outputs[0]).Type != DataType.Int8 || input.Shape.Count != 4 || weights.Shape.Count != 4
            || weights.Shape[3] != input.Shape[3]) return 0; // grouped
        long taps = (long)weights.Shape[1] * weights.Shape[2] * weights.Shape[3];
        bool pointwise = weights.Shape[1] == 1 && weights.Shape[2] == 1;
        return pointwise || taps < 1 || taps > PatchTaps ? 0 : 2 * (taps + (taps & 1)) * sizeof(short);
    }

    /// <summary>Depthwise in place: int8, depth multiplier 1, the output no larger than the input, more than one
    /// channel (one channel runs as a convolution; its plane would cost as much as the output it saves).</summary>
    public override (InPlaceKind Kind, int[] Positions)? InPlace(Graph graph, Operator op, bool depthwise, bool elementwise)
    {
        if (!depthwise || op.Kind != OpKind.DepthwiseConv2D || op.Inputs.Count < 2 || !Planning.InPlace.IsActivation(graph, op.Inputs[0]) || op.Inputs[1] < 0) return null;
        var input = graph.Tensors[op.Inputs[0]];
        var weights = graph.Tensors[op.Inputs[1]];
        var output = graph.Tensors[op.Outputs[0]];
        bool ok = input.Type == DataType.Int8 && output.Type == DataType.Int8 && input.Shape.Count == 4 && output.Shape.Count == 4
            && weights.Shape.Count == 4 && weights.Shape[3] == input.Shape[3] && !IsOneChannelDepthwise(op, input, weights) && output.Shape[3] == input.Shape[3]
            && output.Shape[0] == input.Shape[0] && output.Shape[1] <= input.Shape[1] && output.Shape[2] <= input.Shape[2];
        return ok ? (InPlaceKind.Depthwise, new[] { 0 }) : null;
    }

    /// <summary>Scratch bytes of tml_depthwise_conv_s8_inplace: one input channel of every batch (n x h x w).</summary>
    public static long InPlaceScratchBytes(Tensor input) => (long)input.Shape[0] * input.Shape[1] * input.Shape[2];

    public override (Window Height, Window Width)? PatchWindows(Graph graph, Operator op)
    {
        var weights = graph.Input(op, 1);
        if (weights is not { IsConstant: true } || weights.Shape.Count != 4) return null;
        if (op.Inputs.Count > 2 && op.Inputs[2] >= 0 && !graph.Tensors[op.Inputs[2]].IsConstant) return null;
        if (Geometry(op) is not { } g || g.StrideH < 1 || g.StrideW < 1 || g.DilationH < 1 || g.DilationW < 1) return null;
        var i = graph.Input(op, 0)!.Shape;
        var o = graph.Output(op, 0).Shape;
        var w = weights.Shape;
        var (h, wd) = Windows(g, i, w);
        if (h.Output != o[1] || wd.Output != o[2]) return null;
        return (new Window(w[1], g.StrideH, g.DilationH, h.Before), new Window(w[2], g.StrideW, g.DilationW, wd.Before));
    }
}
