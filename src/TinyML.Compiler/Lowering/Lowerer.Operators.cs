// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;

namespace TinyML.Compiler.Lowering;

public static partial class Lowerer
{
    private sealed partial class Context
    {
        /// <summary>Scratch bytes per operator; must equal the kernel's _get_buffer_size (tests check it).</summary>
        private long ScratchBytes(Operator op)
        {
            if (op.Kind != OpKind.Svdf) return 0;
            var (batches, _, filters, _, _) = SvdfShape(op);
            int units = T(op.Outputs[0]).Shape[1];
            return 4L * batches * (filters + units);
        }

        private void LowerOperator(Operator op)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            bool isFloat = input.Type == DataType.Float32 && output.Type == DataType.Float32;
            switch (op.Kind)
            {
                case OpKind.Conv2D: Convolution(op, depthwise: false, isFloat); break;
                case OpKind.DepthwiseConv2D: Convolution(op, depthwise: true, isFloat); break;
                case OpKind.FullyConnected: FullyConnected(op, isFloat); break;
                case OpKind.AveragePool2D or OpKind.MaxPool2D: Pool(op, isFloat); break;
                case OpKind.Add or OpKind.Sub or OpKind.Mul: Elementwise(op, isFloat); break;
                case OpKind.Softmax: Softmax(op, isFloat); break;
                case OpKind.Logistic or OpKind.Tanh: LogisticOrTanh(op, isFloat); break;
                case OpKind.HardSwish: HardSwish(op); break;
                case OpKind.LeakyRelu: LeakyRelu(op); break;
                case OpKind.Relu or OpKind.Relu6: Relu(op); break;
                case OpKind.Quantize: Quantize(op); break;
                case OpKind.Dequantize: Dequantize(op); break;
                case OpKind.Reshape or OpKind.Squeeze: Alias(op); break;
                case OpKind.Pad or OpKind.PadV2: Pad(op); break;
                case OpKind.Transpose: Transpose(op); break;
                case OpKind.StridedSlice: StridedSlice(op); break;
                case OpKind.Concatenation: Concatenation(op); break;
                case OpKind.Mean: Mean(op); break;
                case OpKind.Svdf: Svdf(op); break;
                default: throw Fail($"no lowering for {op.TypeName}");
            }
        }

        // ---- convolutions and fully connected ------------------------------------------------------------

        /// <summary>QuantizeMultiplier of a real that must be finite: float products of extreme scales or options overflow.</summary>
        private static (int Multiplier, int Shift) Multiplier(double real)
        {
            Expect(!double.IsNaN(real) && !double.IsInfinity(real), $"a rescale factor is {real}: the quantization scales or the options are out of range");
            return QuantMath.QuantizeMultiplier(real);
        }

        private (Pointer Multipliers, Pointer Shifts) ChannelMultipliers(Tensor input, Tensor weights, Tensor output, int channels, bool floatProduct = false)
        {
            // PopulateConvolutionQuantizationParams: input_scale * filter_scale / output_scale, all in double.
            // A per-tensor FULLY_CONNECTED takes the scale product in float (GetQuantizedConvolutionMultipler).
            var wq = Q(weights);
            float inputScale = Q(input).Scale, outputScale = Q(output).Scale;
            var multipliers = new int[channels];
            var shifts = new int[channels];
            for (int c = 0; c < channels; c++)
            {
                float filterScale = wq.Scales[wq.IsPerChannel ? c : 0];
                double product = floatProduct ? (double)(float)(inputScale * filterScale) : (double)inputScale * filterScale;
                (multipliers[c], shifts[c]) = Multiplier(product / outputScale);
            }
            return (Int32Blob(multipliers), Int32Blob(shifts));
        }

        private void Convolution(Operator op, bool depthwise, bool isFloat)
        {
            var input = T(op.Inputs[0]);
            var weights = T(op.Inputs[1]);
            var output = T(op.Outputs[0]);
            int bias = op.Inputs.Count > 2 ? op.Inputs[2] : -1;
            int[] i = Nhwc(input, "input"), w = Nhwc(weights, "weights"), o = Nhwc(output, "output");
            Padding padding;
            int strideH, strideW, dilationH, dilationW;
            Activation activation;
            if (depthwise)
            {
                var opt = op.OptionsAs<DepthwiseConv2DOptions>() ?? throw Fail("missing DepthwiseConv2DOptions");
                (padding, strideH, strideW, dilationH, dilationW, activation) = (opt.Padding, opt.StrideH, opt.StrideW, opt.DilationH, opt.DilationW, opt.Activation);
                Expect(w[0] == 1, $"depthwise weights must have shape [1, kh, kw, channels], not {weights.Shape}");
                Expect(i[3] > 0 && w[3] % i[3] == 0, $"{w[3]} weight channels are not a multiple of {i[3]} input channels");
            }
            else
            {
                var opt = op.OptionsAs<Conv2DOptions>() ?? throw Fail("missing Conv2DOptions");
                (padding, strideH, strideW, dilationH, dilationW, activation) = (opt.Padding, opt.StrideH, opt.StrideW, opt.DilationH, opt.DilationW, opt.Activation);
                Expect(w[3] > 0 && i[3] > 0 && i[3] % w[3] == 0 && w[0] % (i[3] / w[3]) == 0,
                    $"weights {weights.Shape} do not fit {i[3]} input channels");
            }
            int outChannels = depthwise ? w[3] : w[0];
            int outH = QuantMath.OutputSize(padding, i[1], w[1], strideH, dilationH);
            int outW = QuantMath.OutputSize(padding, i[2], w[2], strideW, dilationW);
            ExpectShape(output, new[] { i[0], outH, outW, outChannels });
            Expect(outH > 0 && outW > 0, "the output is empty");
            int padH = QuantMath.PaddingBefore(strideH, dilationH, i[1], w[1], outH);
            int padW = QuantMath.PaddingBefore(strideW, dilationW, i[2], w[2], outW);
            string comment = $"{(depthwise ? "depthwise " : "")}{w[1]}x{w[2]} s{strideH}x{strideW} d{dilationH}x{dilationW} {padding} {activation}: {input.Shape} -> {output.Shape}";
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
                Call(depthwise ? "tml_depthwise_conv_f32" : "tml_conv_f32", comment,
                    Arg.Struct(depthwise ? "tml_depthwise_conv_f32_params" : "tml_conv_f32_params", fields),
                    Dims(i), Arg.Ptr(Ptr(op.Inputs[0])), Dims(w), Arg.Ptr(Ptr(op.Inputs[1])), Arg.Ptr(Ptr(bias)),
                    Dims(o), Arg.Ptr(Ptr(op.Outputs[0])));
                return;
            }
            var oq = Q(output);
            var (actMin, actMax) = QuantMath.ActivationRange(activation, oq.Scale, oq.ZeroPoint, output.Type);
            var (multipliers, shifts) = ChannelMultipliers(input, weights, output, outChannels);
            var intFields = new[] { Field.I("input_offset", -Q(input).ZeroPoint), Field.I("output_offset", oq.ZeroPoint) }
                .Concat(common)
                .Concat(depthwise ? new[] { Field.I("depth_multiplier", outChannels / i[3]) } : Array.Empty<Field>())
                .Append(Field.I("activation_min", actMin)).Append(Field.I("activation_max", actMax)).ToArray();
            // In place: the output overwrites the input (same offset), one input channel at a time via scratch.
            bool inPlace = depthwise && _inPlace.TryGetValue(_op, out var pair) && pair.Kind == Planning.InPlaceKind.Depthwise;
            Call(inPlace ? "tml_depthwise_conv_s8_inplace" : depthwise ? "tml_depthwise_conv_s8" : "tml_conv_s8", inPlace ? comment + ", in place" : comment,
                Arg.Struct(depthwise ? "tml_depthwise_conv_params" : "tml_conv_params", intFields),
                PerChannel(multipliers, shifts), Dims(i), Arg.Ptr(Ptr(op.Inputs[0])), Dims(w), Arg.Ptr(Ptr(op.Inputs[1])),
                Arg.Ptr(Ptr(bias)), Dims(o), Arg.Ptr(Ptr(op.Outputs[0])), Arg.Ptr(inPlace ? Pointer.Arena(_scratchOffset[_op]) : Pointer.Null));
        }

        private void FullyConnected(Operator op, bool isFloat)
        {
            var input = T(op.Inputs[0]);
            var weights = T(op.Inputs[1]);
            var output = T(op.Outputs[0]);
            int bias = op.Inputs.Count > 2 ? op.Inputs[2] : -1;
            var opt = op.OptionsAs<FullyConnectedOptions>() ?? throw Fail("missing FullyConnectedOptions");
            int depth = weights.Shape[1], units = weights.Shape[0];
            Expect(depth > 0 && ElementCount(input) % depth == 0, $"input {input.Shape} does not split into rows of {depth}");
            int batches = ElementCount(input) / depth;
            Expect(ElementCount(output) == batches * units && output.Shape[output.Shape.Count - 1] == units,
                $"output {output.Shape} does not hold {batches} x {units} values");
            string comment = $"{depth} -> {units} x{batches} {opt.Activation}";
            if (isFloat)
            {
                var (min, max) = QuantMath.ActivationRangeFloat(opt.Activation);
                Call("tml_fully_connected_f32", comment,
                    Arg.Struct("tml_fully_connected_f32_params", Field.F("activation_min", min), Field.F("activation_max", max)),
                    Arg.Int32(batches), Arg.Int32(depth), Arg.Int32(units),
                    Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(Ptr(op.Inputs[1])), Arg.Ptr(Ptr(bias)), Arg.Ptr(Ptr(op.Outputs[0])));
                return;
            }
            var oq = Q(output);
            var wq = Q(weights);
            var (actMin, actMax) = QuantMath.ActivationRange(opt.Activation, oq.Scale, oq.ZeroPoint, output.Type);
            var (multipliers, shifts) = ChannelMultipliers(input, weights, output, wq.IsPerChannel ? units : 1, floatProduct: !wq.IsPerChannel);
            Call("tml_fully_connected_s8", comment,
                Arg.Struct("tml_fully_connected_params",
                    Field.I("input_offset", -Q(input).ZeroPoint), Field.I("filter_offset", -wq.ZeroPoint),
                    Field.I("output_offset", oq.ZeroPoint), Field.I("activation_min", actMin),
                    Field.I("activation_max", actMax), Field.I("per_channel", wq.IsPerChannel ? 1 : 0)),
                PerChannel(multipliers, shifts), Arg.Int32(batches), Arg.Int32(depth), Arg.Int32(units),
                Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(Ptr(op.Inputs[1])), Arg.Ptr(Ptr(bias)), Arg.Ptr(Ptr(op.Outputs[0])),
                Arg.Ptr(Pointer.Null));
        }

        private void Pool(Operator op, bool isFloat)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            var opt = op.OptionsAs<Pool2DOptions>() ?? throw Fail("missing Pool2DOptions");
            int[] i = Nhwc(input, "input"), o = Nhwc(output, "output");
            int outH = QuantMath.OutputSize(opt.Padding, i[1], opt.FilterH, opt.StrideH, 1);
            int outW = QuantMath.OutputSize(opt.Padding, i[2], opt.FilterW, opt.StrideW, 1);
            ExpectShape(output, new[] { i[0], outH, outW, i[3] });
            Expect(outH > 0 && outW > 0, "the output is empty");
            var fields = new List<Field>
            {
                Field.I("stride_h", opt.StrideH), Field.I("stride_w", opt.StrideW), Field.I("filter_h", opt.FilterH),
                Field.I("filter_w", opt.FilterW), Field.I("pad_h", QuantMath.PaddingBefore(opt.StrideH, 1, i[1], opt.FilterH, outH)),
                Field.I("pad_w", QuantMath.PaddingBefore(opt.StrideW, 1, i[2], opt.FilterW, outW)),
            };
            bool average = op.Kind == OpKind.AveragePool2D;
            string comment = $"{(average ? "average" : "max")} {opt.FilterH}x{opt.FilterW} s{opt.StrideH}x{opt.StrideW} {opt.Padding}: {input.Shape} -> {output.Shape}";
            if (isFloat)
            {
                var (min, max) = QuantMath.ActivationRangeFloat(opt.Activation);
                fields.Add(Field.F("activation_min", min));
                fields.Add(Field.F("activation_max", max));
                Call(average ? "tml_avg_pool_f32" : "tml_max_pool_f32", comment, Arg.Struct("tml_pool_f32_params", fields.ToArray()),
                    Dims(i), Arg.Ptr(Ptr(op.Inputs[0])), Dims(o), Arg.Ptr(Ptr(op.Outputs[0])));
                return;
            }
            var oq = Q(output);
            var (actMin, actMax) = QuantMath.ActivationRange(opt.Activation, oq.Scale, oq.ZeroPoint, output.Type);
            fields.Add(Field.I("activation_min", actMin));
            fields.Add(Field.I("activation_max", actMax));
            var args = new List<Arg> { Arg.Struct("tml_pool_params", fields.ToArray()), Dims(i), Arg.Ptr(Ptr(op.Inputs[0])), Dims(o), Arg.Ptr(Ptr(op.Outputs[0])) };
            if (average) args.Add(Arg.Ptr(Pointer.Null));
            Call(average ? "tml_avg_pool_s8" : "tml_max_pool_s8", comment, args.ToArray());
        }

        // ---- element-wise ----------------------------------------------------------------------------------

        private Arg Broadcast(Tensor a, Tensor b, Tensor output)
        {
            int rank = output.Shape.Count;
            Expect(rank >= 1 && rank <= 6 && a.Shape.Count <= rank && b.Shape.Count <= rank, $"ranks {a.Shape.Count}, {b.Shape.Count} -> {rank} are not supported (at most 6)");
            int[] Strides(Tensor t)
            {
                var dims = Enumerable.Repeat(1, rank - t.Shape.Count).Concat(t.Shape).ToArray();
                var strides = new int[rank];
                int stride = 1;
                for (int d = rank - 1; d >= 0; d--)
                {
                    Expect(dims[d] == output.Shape[d] || dims[d] == 1, $"'{t.Name}' {t.Shape} does not broadcast to {output.Shape}");
                    strides[d] = dims[d] == 1 ? 0 : stride;
                    stride *= dims[d];
                }
                return strides;
            }
            var sa = Strides(a);
            var sb = Strides(b);
            for (int d = 0; d < rank; d++)
            {
                int da = d - (rank - a.Shape.Count), db = d - (rank - b.Shape.Count);
                int expected = Math.Max(da >= 0 ? a.Shape[da] : 1, db >= 0 ? b.Shape[db] : 1);
                Expect(output.Shape[d] == expected, $"output {output.Shape} is not the broadcast of {a.Shape} and {b.Shape}");
            }
            return Arg.Struct("tml_broadcast_shape", new[] { Field.I("rank", rank) }
                .Concat(FieldArray("output_dims", output.Shape.ToArray())).Concat(FieldArray("input1_strides", sa)).Concat(FieldArray("input2_strides", sb)).ToArray());
        }

        private void Elementwise(Operator op, bool isFloat)
        {
            var a = T(op.Inputs[0]);
            var b = T(op.Inputs[1]);
            var output = T(op.Outputs[0]);
            Expect(a.Type == output.Type && b.Type == output.Type, "inputs and output must have the same type");
            var activation = op.Options switch
            {
                AddOptions o => o.Activation,
                SubOptions o => o.Activation,
                MulOptions o => o.Activation,
                _ => Activation.None,
            };
            var shape = Broadcast(a, b, output);
            string comment = $"{a.Shape} {op.TypeName} {b.Shape} -> {output.Shape} {activation}";
            var operands = new[] { Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(Ptr(op.Inputs[1])), Arg.Ptr(Ptr(op.Outputs[0])) };
            if (isFloat)
            {
                Expect(op.Kind == OpKind.Add, $"float32 {op.TypeName} is not supported");
                var (min, max) = QuantMath.ActivationRangeFloat(activation);
                Call("tml_add_f32", comment, new[] { Arg.Struct("tml_add_f32_params", Field.F("activation_min", min), Field.F("activation_max", max)), shape }.Concat(operands).ToArray());
                return;
            }
            var qa = Q(a);
            var qb = Q(b);
            var qo = Q(output);
            var (actMin, actMax) = QuantMath.ActivationRange(activation, qo.Scale, qo.ZeroPoint, output.Type);
            if (op.Kind == OpKind.Mul)
            {
                var (m, s) = Multiplier((double)qa.Scale * qb.Scale / qo.Scale);
                Call("tml_mul_s8", comment, new[] { Arg.Struct("tml_mul_params",
                    Field.I("input1_offset", -qa.ZeroPoint), Field.I("input2_offset", -qb.ZeroPoint), Field.I("output_offset", qo.ZeroPoint),
                    Field.I("output_quant.multiplier", m), Field.I("output_quant.shift", s),
                    Field.I("activation_min", actMin), Field.I("activation_max", actMax)), shape }.Concat(operands).ToArray());
                return;
            }
            // Both inputs are rescaled to twice the larger input scale, with 20 bits of headroom. add_common.cc
            // computes the ratios in double, sub_common.cc in float.
            const int leftShift = 20;
            double r1, r2, ro;
            if (op.Kind == OpKind.Add)
            {
                double twiceMax = 2 * (double)Math.Max(qa.Scale, qb.Scale);
                (r1, r2, ro) = (qa.Scale / twiceMax, qb.Scale / twiceMax, twiceMax / ((1 << leftShift) * (double)qo.Scale));
            }
            else
            {
                float twiceMax = 2 * Math.Max(qa.Scale, qb.Scale);
                float f1 = qa.Scale / twiceMax, f2 = qb.Scale / twiceMax, fo = twiceMax / ((1 << leftShift) * qo.Scale);
                (r1, r2, ro) = (f1, f2, fo);
            }
            Expect(r1 > 0 && r1 < 1 && r2 > 0 && r2 < 1 && ro > 0 && ro < 1, $"{op.TypeName} rescale factors must lie in (0, 1); the output scale {qo.Scale} is too small for the input scales");
            var (m1, s1) = Multiplier(r1);
            var (m2, s2) = Multiplier(r2);
            var (mo, so) = Multiplier(ro);
            Call(op.Kind == OpKind.Add ? "tml_add_s8" : "tml_sub_s8", comment, new[] { Arg.Struct("tml_add_params",
                Field.I("input1_offset", -qa.ZeroPoint), Field.I("input2_offset", -qb.ZeroPoint), Field.I("output_offset", qo.ZeroPoint),
                Field.I("left_shift", leftShift),
                Field.I("input1_quant.multiplier", m1), Field.I("input1_quant.shift", s1),
                Field.I("input2_quant.multiplier", m2), Field.I("input2_quant.shift", s2),
                Field.I("output_quant.multiplier", mo), Field.I("output_quant.shift", so),
                Field.I("activation_min", actMin), Field.I("activation_max", actMax)), shape }.Concat(operands).ToArray());
        }

        // ---- activations ---------------------------------------------------------------------------------

        private void Softmax(Operator op, bool isFloat)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            var opt = op.OptionsAs<SoftmaxOptions>() ?? throw Fail("missing SoftmaxOptions");
            Expect(input.Shape.SequenceEqual(output.Shape) && input.Shape.Count >= 1, "input and output shapes differ");
            int depth = input.Shape[input.Shape.Count - 1];
            Expect(depth > 0, "empty softmax rows");
            int rows = ElementCount(input) / depth;
            string comment = $"{rows} rows of {depth}, beta {opt.Beta}";
            if (isFloat)
            {
                Call("tml_softmax_f32", comment, Arg.Struct("tml_softmax_f32_params", Field.F("beta", opt.Beta)),
                    Arg.Ptr(Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(Ptr(op.Outputs[0])));
                return;
            }
            // PreprocessSoftmaxScaling with 5 integer bits: beta * input_scale * 2^26, in double, capped at int32.
            double real = Math.Min((double)opt.Beta * Q(input).Scale * (1L << 26), int.MaxValue);
            Expect(real > 1, "beta x input scale is too small for the int8 softmax");
            var (multiplier, shift) = Multiplier(real);
            int diffMin = -(int)Math.Floor(31.0 * (1L << 26) / Math.Pow(2, shift));
            Call(output.Type == DataType.Int16 ? "tml_softmax_s8_s16" : "tml_softmax_s8", comment,
                Arg.Struct("tml_softmax_params", Field.I("input_multiplier", multiplier), Field.I("input_left_shift", shift), Field.I("diff_min", diffMin)),
                Arg.Ptr(Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(Ptr(op.Outputs[0])));
        }

        private void SameShape(Operator op)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            Expect(input.ElementCount == output.ElementCount, $"input {input.Shape} and output {output.Shape} differ in size");
        }

        private void Unary(Operator op, string kernel, Arg parameters, string comment) =>
            Call(kernel, comment, parameters, Arg.Ptr(Ptr(op.Inputs[0])), Arg.Int32(ElementCount(T(op.Inputs[0]))), Arg.Ptr(Ptr(op.Outputs[0])));

        private void LogisticOrTanh(Operator op, bool isFloat)
        {
            SameShape(op);
            bool logistic = op.Kind == OpKind.Logistic;
            if (isFloat)
            {
                // The float kernels need no parameters: (input, size, output).
                Call(logistic ? "tml_logistic_f32" : "tml_tanh_f32", $"{op.TypeName} x{ElementCount(T(op.Inputs[0]))} (float)",
                    Arg.Ptr(Ptr(op.Inputs[0])), Arg.Int32(ElementCount(T(op.Inputs[0]))), Arg.Ptr(Ptr(op.Outputs[0])));
                return;
            }
            var iq = Q(T(op.Inputs[0]));
            // Plain frexp of scale x 2^27 (4 integer bits in Q4.27), not QuantizeMultiplier.
            double q = QuantMath.Frexp((double)iq.Scale * (1L << 27), out int shift);
            Expect(shift >= 0, $"input scale {iq.Scale} is below 2^-28");
            int multiplier = (int)QuantMath.Round(q * (1L << 31));
            int radius = shift >= 32 ? 0 : (int)Math.Floor(15.0 * (1L << 27) / Math.Pow(2, shift));
            Unary(op, logistic ? "tml_logistic_s8" : "tml_tanh_s8", Arg.Struct(logistic ? "tml_logistic_params" : "tml_tanh_params",
                Field.I("input_zero_point", iq.ZeroPoint), Field.I("input_range_radius", radius),
                Field.I("input_multiplier", multiplier), Field.I("input_left_shift", shift)), $"{op.TypeName} x{ElementCount(T(op.Inputs[0]))}");
        }

        private static int ToInt16FixedPoint(int multiplier) => multiplier >= int.MaxValue - 32768 ? 32767 : (multiplier + 32768) >> 16;

        private void HardSwish(Operator op)
        {
            SameShape(op);
            var iq = Q(T(op.Inputs[0]));
            var oq = Q(T(op.Outputs[0]));
            // hard_swish_common.cc: float products, then QuantizeMultiplier, then rounded to 16 bits.
            float hires = 1f / 128f * iq.Scale;
            float outputMultiplier = hires / oq.Scale;
            float reluishMultiplier = hires / (3f / 32768f);
            var (om, os) = Multiplier(outputMultiplier);
            var (rm, rs) = Multiplier(reluishMultiplier);
            Expect(os <= 0, "the output scale makes the output multiplier exceed 1");
            Unary(op, "tml_hard_swish_s8", Arg.Struct("tml_hard_swish_params",
                Field.I("input_zero_point", iq.ZeroPoint), Field.I("output_zero_point", oq.ZeroPoint),
                Field.I("reluish_multiplier_fixedpoint_int16", ToInt16FixedPoint(rm)), Field.I("reluish_multiplier_exponent", rs),
                Field.I("output_multiplier_fixedpoint_int16", ToInt16FixedPoint(om)), Field.I("output_multiplier_exponent", os)),
                $"HARD_SWISH x{ElementCount(T(op.Inputs[0]))}");
        }

        private void LeakyRelu(Operator op)
        {
            SameShape(op);
            var iq = Q(T(op.Inputs[0]));
            var oq = Q(T(op.Outputs[0]));
            float alpha = op.OptionsAs<LeakyReluOptions>()?.Alpha ?? throw Fail("missing LeakyReluOptions");
            float alphaMultiplier = iq.Scale * alpha / oq.Scale;
            float identityMultiplier = iq.Scale / oq.Scale;
            var (am, ashift) = Multiplier(alphaMultiplier);
            var (im, ishift) = Multiplier(identityMultiplier);
            Unary(op, "tml_leaky_relu_s8", Arg.Struct("tml_leaky_relu_params",
                Field.I("input_offset", iq.ZeroPoint), Field.I("output_offset", oq.ZeroPoint),
                Field.I("output_multiplier_alpha", am), Field.I("output_shift_alpha", ashift),
                Field.I("output_multiplier_identity", im), Field.I("output_shift_identity", ishift)), $"LEAKY_RELU alpha {alpha}");
        }

        private void Relu(Operator op)
        {
            SameShape(op);
            var iq = Q(T(op.Inputs[0]));
            var oq = Q(T(op.Outputs[0]));
            int n = ElementCount(T(op.Inputs[0]));
            if (op.Kind == OpKind.Relu6)
            {
                // Relu6Prepare clamps in the input's domain and never requantizes.
                float six = 6f / iq.Scale;
                int top = Math.Max(-128, Math.Min(127, (int)QuantMath.Round(six) + iq.ZeroPoint));
                Unary(op, "tml_relu6_s8", Arg.Struct("tml_relu6_params", Field.I("zero", iq.ZeroPoint), Field.I("six", top)), $"RELU6 x{n}");
                return;
            }
            var (m, s) = Multiplier((double)iq.Scale / oq.Scale);
            float zero = 0f / oq.Scale;
            int bottom = Math.Max(-128, oq.ZeroPoint + (int)QuantMath.Round(zero));
            Unary(op, "tml_relu_s8", Arg.Struct("tml_relu_params",
                Field.I("input_offset", iq.ZeroPoint), Field.I("output_offset", oq.ZeroPoint),
                Field.I("output_multiplier", m), Field.I("output_shift", s),
                Field.I("quantized_activation_min", bottom), Field.I("quantized_activation_max", 127)), $"RELU x{n}");
        }

        private static string TypeSuffix(DataType type) => type switch
        {
            DataType.Int8 => "s8",
            DataType.Int16 => "s16",
            DataType.Int32 => "s32",
            DataType.Float32 => "f32",
            _ => throw Fail($"type {DataTypes.Name(type)} is not supported here"),
        };

        private void Quantize(Operator op)
        {
            SameShape(op);
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            var oq = Q(output);
            string kernel = $"tml_{(input.Type == DataType.Float32 ? "quantize" : "requantize")}_{TypeSuffix(input.Type)}_{TypeSuffix(output.Type)}";
            string comment = $"{DataTypes.Name(input.Type)} -> {DataTypes.Name(output.Type)} x{ElementCount(input)}";
            if (input.Type == DataType.Float32)
            {
                Unary(op, kernel, Arg.Struct("tml_quantize_params", Field.F("scale", oq.Scale), Field.I("zero_point", oq.ZeroPoint)), comment);
                return;
            }
            var iq = Q(input);
            var (m, s) = Multiplier((double)iq.Scale / oq.Scale);
            Unary(op, kernel, Arg.Struct("tml_requantize_params", Field.I("multiplier", m), Field.I("shift", s),
                Field.I("input_zero_point", iq.ZeroPoint), Field.I("output_zero_point", oq.ZeroPoint)), comment);
        }

        private void Dequantize(Operator op)
        {
            SameShape(op);
            var input = T(op.Inputs[0]);
            var iq = Q(input);
            Unary(op, $"tml_dequantize_{TypeSuffix(input.Type)}_f32", Arg.Struct("tml_dequantize_params",
                Field.F("scale", iq.Scale), Field.I("zero_point", iq.ZeroPoint)), $"{DataTypes.Name(input.Type)} -> FLOAT32 x{ElementCount(input)}");
        }

        // ---- data movement -------------------------------------------------------------------------------

        private void Alias(Operator op)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            Expect(input.ElementCount == output.ElementCount && input.Type == output.Type, $"{input.Shape} and {output.Shape} are not the same bytes");
            Expect(!input.IsConstant, "reshaping a constant is not supported");
            // The planner gave both tensors one buffer; nothing runs.
        }

        private int[] ConstantInts(int tensorIndex, string what)
        {
            var tensor = tensorIndex >= 0 ? T(tensorIndex) : throw Fail($"{what} is missing");
            Expect(tensor.Data is not null && tensor.Type == DataType.Int32, $"{what} must be a constant INT32 tensor");
            return MemoryMarshal.Cast<byte, int>(tensor.Data!.Value.Span).ToArray();
        }

        private static int ElementSize(Tensor tensor)
        {
            int size = DataTypes.SizeOf(tensor.Type);
            Expect(size is 1 or 2 or 4, $"{DataTypes.Name(tensor.Type)} tensors cannot be moved");
            return size;
        }

        private void Pad(Operator op)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            int rank = input.Shape.Count;
            var paddings = ConstantInts(op.Inputs[1], "paddings");
            Expect(rank >= 1 && rank <= 6 && paddings.Length == 2 * rank, $"paddings must be [{rank}, 2]");
            var before = Enumerable.Range(0, rank).Select(d => paddings[2 * d]).ToArray();
            var after = Enumerable.Range(0, rank).Select(d => paddings[2 * d + 1]).ToArray();
            Expect(before.Concat(after).All(p => p >= 0), "negative padding");
            // In long: paddings near int.MaxValue would wrap around to a small size that matches the output.
            var padded = Enumerable.Range(0, rank).Select(d => (long)before[d] + input.Shape[d] + after[d]).ToArray();
            Expect(padded.All(n => n <= int.MaxValue), $"paddings {Shapes.Format(paddings)} make a dimension above {int.MaxValue}");
            ExpectShape(output, padded.Select(n => (int)n).ToArray());
            int size = ElementSize(input);
            byte[] value = new byte[size];
            if (op.Kind == OpKind.PadV2)
            {
                var constant = T(op.Inputs[2]);
                Expect(constant.Data is { Length: > 0 } && constant.Type == input.Type, "the PADV2 value must be a constant of the input type");
                value = constant.Data!.Value.Slice(0, size).ToArray();
            }
            else if (input.Type != DataType.Float32)
            {
                value = BitConverter.GetBytes(Q(output).ZeroPoint).Take(size).ToArray();
            }
            Call("tml_pad", $"{input.Shape} -> {output.Shape}", Arg.Struct("tml_pad_params",
                new[] { Field.I("rank", rank) }.Concat(FieldArray("input_dims", input.Shape.ToArray())).Concat(FieldArray("pad_before", before)).Concat(FieldArray("pad_after", after)).ToArray()),
                Arg.Int32(size), Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(_plan.AddConstant(value)), Arg.Ptr(Ptr(op.Outputs[0])));
        }

        private static int[] DenseStrides(IReadOnlyList<int> dims)
        {
            var strides = new int[dims.Count];
            int stride = 1;
            for (int d = dims.Count - 1; d >= 0; d--)
            {
                strides[d] = stride;
                stride *= dims[d];
            }
            return strides;
        }

        private void Transpose(Operator op)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            var perm = ConstantInts(op.Inputs[1], "perm");
            int rank = input.Shape.Count;
            Expect(rank >= 1 && rank <= 6 && perm.Length == rank && perm.OrderBy(p => p).SequenceEqual(Enumerable.Range(0, rank)), $"perm {Shapes.Format(perm)} is not a permutation of {rank} axes");
            var strides = DenseStrides(input.Shape);
            ExpectShape(output, perm.Select(p => input.Shape[p]).ToArray());
            Call("tml_transpose", $"perm {Shapes.Format(perm)}: {input.Shape} -> {output.Shape}", Arg.Struct("tml_transpose_params",
                new[] { Field.I("rank", rank) }.Concat(FieldArray("output_dims", output.Shape.ToArray())).Concat(FieldArray("input_strides", perm.Select(p => strides[p]).ToArray())).ToArray()),
                Arg.Int32(ElementSize(input)), Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(Ptr(op.Outputs[0])));
        }

        private void StridedSlice(Operator op)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            var opt = op.OptionsAs<StridedSliceOptions>() ?? throw Fail("missing StridedSliceOptions");
            Expect(opt.EllipsisMask == 0 && opt.NewAxisMask == 0, "ellipsis and new-axis masks are not supported");
            int rank = input.Shape.Count;
            var begin = ConstantInts(op.Inputs[1], "begin");
            var end = ConstantInts(op.Inputs[2], "end");
            var strides = op.Inputs.Count > 3 ? ConstantInts(op.Inputs[3], "strides") : Enumerable.Repeat(1, rank).ToArray();
            Expect(rank >= 1 && rank <= 5 && begin.Length == rank && end.Length == rank && strides.Length == rank, "begin, end and strides must have one entry per input axis (at most 5)");
            var start = new int[rank];
            var count = new int[rank];
            var kept = new List<int>();
            for (int d = 0; d < rank; d++)
            {
                int size = input.Shape[d], stride = strides[d];
                Expect(stride != 0, "a stride is 0");
                // strided_slice_logic.h: StridedSliceStartForAxis / StridedSliceEndForAxis.
                int s = begin[d];
                if (s < 0) s += size;
                s = stride > 0 ? Clamp(s, 0, size) : Clamp(s, -1, size - 1);
                if ((opt.BeginMask & (1 << d)) != 0) s = stride > 0 ? 0 : size - 1;
                int e;
                bool shrink = (opt.ShrinkAxisMask & (1 << d)) != 0;
                if (size == 0) e = 0;
                else if (shrink) e = s >= size ? s : s + 1;
                else
                {
                    e = end[d];
                    if (opt.Offset) e += s;
                    if (e < 0) e += size;
                    e = stride > 0 ? Clamp(e, 0, size) : Clamp(e, -1, size - 1);
                    if ((opt.EndMask & (1 << d)) != 0) e = stride > 0 ? size : -1;
                }
                int n = stride > 0 ? Math.Max(0, (e - s + stride - 1) / stride) : Math.Max(0, (s - e + (-stride) - 1) / -stride);
                if (shrink) n = Math.Min(n, 1);
                start[d] = s;
                count[d] = n;
                if (!shrink) kept.Add(n);
                Expect(n == 0 || (s >= 0 && s < size && s + (long)(n - 1) * stride >= 0 && s + (long)(n - 1) * stride < size), "the slice reads outside the input");
            }
            ExpectShape(output, kept);
            Call("tml_strided_slice", $"{input.Shape} -> {output.Shape}", Arg.Struct("tml_strided_slice_params",
                new[] { Field.I("rank", rank) }.Concat(FieldArray("input_dims", input.Shape.ToArray())).Concat(FieldArray("start", start)).Concat(FieldArray("stride", strides)).Concat(FieldArray("count", count)).ToArray()),
                Arg.Int32(ElementSize(input)), Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(Ptr(op.Outputs[0])));
        }

        private static int Clamp(int value, int min, int max) => Math.Max(min, Math.Min(max, value));

        private void Concatenation(Operator op)
        {
            var output = T(op.Outputs[0]);
            var opt = op.OptionsAs<ConcatenationOptions>() ?? throw Fail("missing ConcatenationOptions");
            Expect(opt.Activation == Activation.None, "a fused activation on CONCATENATION is not supported");
            int rank = output.Shape.Count;
            int axis = opt.Axis < 0 ? opt.Axis + rank : opt.Axis;
            Expect(axis >= 0 && axis < rank, $"axis {opt.Axis} is outside rank {rank}");
            var inputs = op.Inputs.Select(T).ToList();
            long axisTotal = 0; // in long: sizes near int.MaxValue would wrap around to the output's
            foreach (var t in inputs)
            {
                Expect(t.Shape.Count == rank && t.Type == output.Type, $"input '{t.Name}' {t.Shape} does not match the output {output.Shape}");
                for (int d = 0; d < rank; d++)
                    Expect(d == axis || t.Shape[d] == output.Shape[d], $"input '{t.Name}' {t.Shape} does not match the output {output.Shape} outside axis {axis}");
                axisTotal += t.Shape[axis];
            }
            Expect(axisTotal == output.Shape[axis], $"inputs add up to {axisTotal} along axis {axis}, the output has {output.Shape[axis]}");
            int outer = output.Shape.Take(axis).Aggregate(1, (x, y) => x * y);
            int inner = output.Shape.Skip(axis + 1).Aggregate(1, (x, y) => x * y);
            var copySizes = Int32Blob(inputs.Select(t => t.Shape[axis] * inner));
            Call("tml_concat", $"{inputs.Count} inputs along axis {axis} -> {output.Shape}", Arg.Struct("tml_concat_params",
                Field.I("num_inputs", inputs.Count), Field.I("outer_size", outer), Field.P("copy_sizes", copySizes)),
                Arg.Int32(ElementSize(output)), Arg.PointerArray(op.Inputs.Select(Ptr).ToArray()), Arg.Ptr(Ptr(op.Outputs[0])));
        }

        private void Mean(Operator op)
        {
            var input = T(op.Inputs[0]);
            var output = T(op.Outputs[0]);
            int rank = input.Shape.Count;
            var axes = ConstantInts(op.Inputs[1], "axes").Select(a => a < 0 ? a + rank : a).Distinct().OrderBy(a => a).ToArray();
            Expect(axes.Length > 0 && axes.All(a => a >= 0 && a < rank), $"axes outside rank {rank}");
            Expect(axes[axes.Length - 1] - axes[0] == axes.Length - 1, "MEAN over non-consecutive axes is not supported");
            bool keepDims = op.OptionsAs<ReducerOptions>()?.KeepDims ?? false;
            ExpectShape(output, Enumerable.Range(0, rank).Where(d => keepDims || !axes.Contains(d)).Select(d => axes.Contains(d) ? 1 : input.Shape[d]).ToArray());
            int outer = input.Shape.Take(axes[0]).Aggregate(1, (x, y) => x * y);
            int count = axes.Aggregate(1, (x, a) => x * input.Shape[a]);
            int inner = input.Shape.Skip(axes[axes.Length - 1] + 1).Aggregate(1, (x, y) => x * y);
            Expect(count > 0, "MEAN over an empty axis");
            var iq = Q(input);
            var oq = Q(output);
            // QuantizedMeanOrSum folds 1/count into the multiplier, keeping as many bits as the shift allows.
            var (m0, s0) = Multiplier((double)iq.Scale / oq.Scale);
            int log2 = 0;
            while ((2L << log2) <= count) log2++;
            int k = Math.Min(Math.Min(log2, 32), 31 + s0);
            int multiplier = (int)(((long)m0 << k) / count);
            Call("tml_mean_s8", $"mean of {count} over axes {Shapes.Format(axes)}: {input.Shape} -> {output.Shape}", Arg.Struct("tml_mean_params",
                Field.I("outer_size", outer), Field.I("reduce_size", count), Field.I("inner_size", inner),
                Field.I("input_offset", -iq.ZeroPoint), Field.I("output_offset", oq.ZeroPoint),
                Field.I("quant.multiplier", multiplier), Field.I("quant.shift", s0 - k)),
                Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(Ptr(op.Outputs[0])), Arg.Ptr(Pointer.Null));
        }

        // ---- SVDF ----------------------------------------------------------------------------------------

        private (int Batches, int InputSize, int Filters, int Rank, int Memory) SvdfShape(Operator op)
        {
            var input = T(op.Inputs[0]);
            var feature = T(op.Inputs[1]);
            var time = T(op.Inputs[2]);
            var state = T(op.Inputs[4]);
            int rank = op.OptionsAs<SvdfOptions>()?.Rank ?? throw Fail("missing SVDFOptions");
            Expect(input.Shape.Count == 2 && feature.Shape.Count == 2 && time.Shape.Count == 2, "SVDF input, feature and time weights must have rank 2");
            int batches = input.Shape[0], inputSize = input.Shape[1], filters = feature.Shape[0], memory = time.Shape[1];
            Expect(feature.Shape[1] == inputSize && time.Shape[0] == filters && rank > 0 && filters % rank == 0, "SVDF weight shapes do not match");
            Expect(state.IsVariable && state.ElementCount == (long)batches * memory * filters && state.Type == DataType.Int16, "the SVDF state must be an INT16 variable of batches x memory x filters");
            Expect(feature.Type == DataType.Int8 && time.Type == DataType.Int16, "SVDF needs INT8 feature weights and INT16 time weights");
            int units = filters / rank;
            ExpectShape(T(op.Outputs[0]), new[] { batches, units });
            return (batches, inputSize, filters, rank, memory);
        }

        private void Svdf(Operator op)
        {
            var (batches, inputSize, filters, rank, memory) = SvdfShape(op);
            var input = T(op.Inputs[0]);
            var feature = T(op.Inputs[1]);
            var time = T(op.Inputs[2]);
            var state = T(op.Inputs[4]);
            var output = T(op.Outputs[0]);
            var iq = Q(input);
            var sq = Q(state);
            var oq = Q(output);
            // svdf_common.cc: both multipliers come from float products.
            float featureScale = iq.Scale * Q(feature).Scale / sq.Scale;
            float timeScale = sq.Scale * Q(time).Scale / oq.Scale;
            var (m1, s1) = Multiplier(featureScale);
            var (m2, s2) = Multiplier(timeScale);
            Call("tml_svdf_s8", $"{filters} filters, rank {rank}, memory {memory}", Arg.Struct("tml_svdf_params",
                Field.I("batches", batches), Field.I("input_size", inputSize), Field.I("num_filters", filters), Field.I("rank", rank),
                Field.I("memory_size", memory), Field.I("input_zero_point", iq.ZeroPoint), Field.I("output_zero_point", oq.ZeroPoint),
                Field.I("state_zero_point", sq.ZeroPoint), Field.I("multiplier_1", m1), Field.I("shift_1", s1),
                Field.I("multiplier_2", m2), Field.I("shift_2", s2)),
                Arg.Ptr(Ptr(op.Inputs[0])), Arg.Ptr(Ptr(op.Inputs[1])), Arg.Ptr(Ptr(op.Inputs[2])), Arg.Ptr(Ptr(op.Inputs[3])),
                Arg.Ptr(Ptr(op.Inputs[4])), Arg.Ptr(Scratch(op)), Arg.Ptr(Ptr(op.Outputs[0])));
        }
    }
}
