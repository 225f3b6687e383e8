// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>
/// TRANSPOSE_CONV: inputs output_shape (INT32 [4]; a constant must equal the output's shape, a graph input is
/// ignored as TFLM ignores it), weights [out_c, kh, kw, in_c], input NHWC, optional
/// bias (version 3); TFLM's reference kernels (int8 per channel, int16 16x8 with int64 bias, float32). The output
/// accumulates a scatter of the input, so it never runs in place or on tiles (neither is declared). A fused
/// activation (version 4) is refused: TFLM's Prepare computes the quantized range for kTfLiteActNone whatever the
/// option says.
/// </summary>
internal sealed class TransposeConv : OperatorDefinition
{
    private const int OutputShapeInput = 0, WeightsInput = 1, DataInput = 2, BiasInput = 3;

    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.TransposeConv };

    // The validator checks (input 0, output) types: input 0 is the INT32 output_shape; CheckOperands checks input 2.
    private static readonly OperatorRule Rule_ = new(4, 3, 4, new[] { (I32, I8), (I32, F32), (I32, I16) }, TransposeConvOptions.Union, new[] { BiasInput });

    public override OperatorRule Rule(OpKind kind) => Rule_;

    public override bool CheckOperands(OperatorValidation validation, Operator op)
    {
        var graph = validation.Graph;
        var input = graph.Tensors[op.Inputs[DataInput]];
        var output = graph.Output(op, 0);
        var shape = graph.Tensors[op.Inputs[OutputShapeInput]];
        if (input.Type != output.Type)
        {
            validation.Report(DiagnosticIds.UnsupportedTypeCombination,
                $"{DataTypes.Name(input.Type)} input with {DataTypes.Name(output.Type)} output is not supported; supported: INT8->INT8, INT16->INT16, FLOAT32->FLOAT32", input);
            return false;
        }
        // TFLM never reads output_shape (the output tensor's own shape decides), so it may be a graph input, as in
        // TFLM's seanet models; a constant must name the output's shape (lowering checks it).
        if (shape.Shape.Count != 1 || shape.ElementCount != 4)
        {
            validation.Report(DiagnosticIds.InvalidOperator, "output_shape (input 0) must be an INT32 tensor of 4 values", shape);
            return false;
        }
        if (output.Shape.Count != 4 || input.Shape.Count != 4)
        {
            validation.Report(DiagnosticIds.InvalidOperator, "TRANSPOSE_CONV input and output must have rank 4", output);
            return false;
        }
        return true;
    }

    public override void CheckWeights(OperatorValidation validation, Operator op, Tensor input)
    {
        // 16x8 takes an INT64 bias only: TFLM's kernel reads any other bias type as INT64.
        WeightedOperator.CheckWeights(validation, op, validation.Graph.Tensors[op.Inputs[DataInput]], expectedRank: 4, channelDim: 0,
            biasInput: BiasInput, int16Biases: new[] { DataType.Int64 });
    }

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        if (op.Options is not TransposeConvOptions o)
        {
            validation.Report(DiagnosticIds.InvalidOperator, "missing TransposeConvOptions");
            return;
        }
        if (o.StrideH < 1 || o.StrideW < 1)
            validation.Report(DiagnosticIds.InvalidOperator, "strides must be at least 1");
        if (o.Activation != Activation.None)
            validation.Report(DiagnosticIds.InvalidOperator,
                $"fused activation {o.Activation} on TRANSPOSE_CONV is not supported: TFLM's reference kernel computes the int8 output range without it; apply the activation as its own operator");
    }

    public override long Macs(Graph graph, Operator op)
    {
        // The scatter: every input pixel's taps that land inside the output, times in_c x out_c.
        if (graph.Input(op, WeightsInput) is not { Shape: { Count: 4 } w } || graph.Input(op, DataInput) is not { Shape: { Count: 4 } i }
            || graph.Output(op, 0).Shape is not { Count: 4 } o || op.Options is not TransposeConvOptions opt || opt.StrideH < 1 || opt.StrideW < 1)
            return 0;
        var (padH, padW) = Paddings(opt, o, w);
        return (long)i[0] * Taps(i[1], opt.StrideH, padH, w[1], o[1]) * Taps(i[2], opt.StrideW, padW, w[2], o[2]) * i[3] * w[0];
    }

    /// <summary>The (input position, tap) pairs along one axis whose output position lies inside the output.</summary>
    private static long Taps(int input, int stride, int pad, int filter, int output)
    {
        long taps = 0;
        for (int x = 0; x < input; x++)
            for (int k = 0; k < filter; k++)
            {
                long at = (long)x * stride - pad + k;
                if (at >= 0 && at < output) taps++;
            }
        return taps;
    }

    /// <summary>TFLM's CalculateOpData: ComputePaddingHeightWidth over the output size (dilation 1); only the
    /// top/left paddings reach the kernel.</summary>
    private static (int PadH, int PadW) Paddings(TransposeConvOptions opt, IReadOnlyList<int> o, IReadOnlyList<int> w)
    {
        int unusedH = QuantMath.OutputSize(opt.Padding, o[1], w[1], opt.StrideH, 1);
        int unusedW = QuantMath.OutputSize(opt.Padding, o[2], w[2], opt.StrideW, 1);
        return (QuantMath.PaddingBefore(opt.StrideH, 1, o[1], w[1], unusedH), QuantMath.PaddingBefore(opt.StrideW, 1, o[2], w[2], unusedW));
    }

    /// <summary>tml_transpose_conv_s8/_s16_get_buffer_size: one int32 (int8) or int64 (int16) per output element;
    /// float accumulates in its output.</summary>
    public override long ScratchBytes(LoweringContext context, Operator op) => context.T(op.Inputs[DataInput]).Type switch
    {
        I8 => 4L * context.T(op.Outputs[0]).ElementCount,
        I16 => 8L * context.T(op.Outputs[0]).ElementCount,
        _ => 0,
    };

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[DataInput]);
        var weights = context.T(op.Inputs[WeightsInput]);
        var output = context.T(op.Outputs[0]);
        int bias = op.Inputs.Count > BiasInput ? op.Inputs[BiasInput] : -1;
        var opt = op.OptionsAs<TransposeConvOptions>() ?? throw Fail("missing TransposeConvOptions");
        Expect(opt.StrideH >= 1 && opt.StrideW >= 1, "strides must be at least 1");
        Expect(opt.Activation == Activation.None, $"fused activation {opt.Activation} is not supported");
        int[] i = Nhwc(input, "input"), w = Nhwc(weights, "weights"), o = Nhwc(output, "output");
        if (context.T(op.Inputs[OutputShapeInput]).IsConstant)
        {
            int[] outputShape = context.ConstantInts(op.Inputs[OutputShapeInput], "output_shape");
            Expect(outputShape.SequenceEqual(o), $"output_shape [{string.Join(", ", outputShape)}] is not the output's shape {output.Shape}");
        }
        Expect(w[3] == i[3], $"weights {weights.Shape} do not fit {i[3]} input channels");
        Expect(o[3] == w[0] && o[0] == i[0], $"output {output.Shape} does not fit weights {weights.Shape} and input {input.Shape}");
        if (bias >= 0)
            Expect(context.T(bias).ElementCount == w[0], $"bias has {context.T(bias).ElementCount} elements for {w[0]} output channels");
        var (padH, padW) = Paddings(opt, o, w);
        string comment = $"transpose {w[1]}x{w[2]} s{opt.StrideH}x{opt.StrideW} {opt.Padding}: {input.Shape} -> {output.Shape}";
        var common = new[] { Field.I("stride_h", opt.StrideH), Field.I("stride_w", opt.StrideW), Field.I("pad_h", padH), Field.I("pad_w", padW) };
        if (input.Type == F32)
        {
            var (min, max) = QuantMath.ActivationRangeFloat(Activation.None);
            context.Call("tml_transpose_conv_f32", comment,
                Arg.Struct("tml_transpose_conv_f32_params", common.Append(Field.F("activation_min", min)).Append(Field.F("activation_max", max)).ToArray()),
                Dims(i), Arg.Ptr(context.Ptr(op.Inputs[DataInput])), Dims(w), Arg.Ptr(context.Ptr(op.Inputs[WeightsInput])), Arg.Ptr(context.Ptr(bias)),
                Dims(o), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        var oq = Q(output);
        bool int16 = input.Type == I16;
        if (int16)
            Expect(Q(input).ZeroPoint == 0 && oq.ZeroPoint == 0, "int16 TRANSPOSE_CONV activations must have zero point 0");
        if (int16)
        {
            // The 64-bit MultiplyByQuantizedMultiplier shifts right by 15 - shift: TFLM requires shift < 8.
            var wq = Q(weights);
            double largest = wq.Scales.Max(ws => (double)Q(input).Scale * ws / oq.Scale);
            Expect(largest < 128, $"the requantization scale {largest} (input x weight / output scale) is 128 or more; TFLM's 16x8 kernel needs it below 128");
        }
        if (int16 && bias >= 0)
            Expect(context.T(bias).Type == DataType.Int64, $"bias of a 16x8 TRANSPOSE_CONV must be INT64, not {DataTypes.Name(context.T(bias).Type)}");
        // PopulateConvolutionQuantizationParams(..., kTfLiteActNone, ...): the whole int8 or int16 range.
        var (actMin, actMax) = QuantMath.ActivationRange(Activation.None, oq.Scale, oq.ZeroPoint, output.Type);
        var (multipliers, shifts) = WeightedOperator.ChannelMultipliers(context, input, weights, output, w[0]);
        var fields = new[] { Field.I("input_offset", -Q(input).ZeroPoint), Field.I("output_offset", oq.ZeroPoint) }
            .Concat(common).Append(Field.I("activation_min", actMin)).Append(Field.I("activation_max", actMax)).ToArray();
        context.Call(int16 ? "tml_transpose_conv_s16" : "tml_transpose_conv_s8", comment, Arg.Struct("tml_transpose_conv_params", fields),
            PerChannel(multipliers, shifts), Dims(i), Arg.Ptr(context.Ptr(op.Inputs[DataInput])), Dims(w), Arg.Ptr(context.Ptr(op.Inputs[WeightsInput])),
            Arg.Ptr(context.Ptr(bias)), Dims(o), Arg.Ptr(context.Ptr(op.Outputs[0])), Arg.Ptr(context.Scratch));
    }
}
