// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>Operators of one input whose kernels take (parameters, input, count, output) and map element i to element i.</summary>
internal abstract class UnaryOperator : OperatorDefinition
{
    public override int ElementwiseInputs(OpKind kind) => 1;

    /// <summary>Fails unless input and output hold as many elements.</summary>
    protected static void SameShape(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        Expect(input.ElementCount == output.ElementCount, $"input {input.Shape} and output {output.Shape} differ in size");
    }

    /// <summary>The call (parameters, input, count, output).</summary>
    protected static void Unary(LoweringContext context, Operator op, string kernel, Arg parameters, string comment) =>
        context.Call(kernel, comment, parameters, Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(ElementCount(context.T(op.Inputs[0]))), Arg.Ptr(context.Ptr(op.Outputs[0])));
}

/// <summary>LOGISTIC and TANH: float32, int8 with the specification's fixed output, or int16 (16x8, TFLM's table).</summary>
internal sealed class LogisticOrTanh : UnaryOperator
{
    /// <summary>LOGISTIC's int8 output: scale 1/256, zero point -128.</summary>
    public static readonly Quantization LogisticOutput = Quantization.PerTensor(1f / 256, -128);

    /// <summary>TANH's int8 output: scale 1/128, zero point 0.</summary>
    public static readonly Quantization TanhOutput = Quantization.PerTensor(1f / 128, 0);

    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Logistic, OpKind.Tanh };

    private static readonly OperatorRule LogisticOrTanhRule = new(3, 1, 1, Int8OrFloat.Append((I16, I16)).ToArray());

    public override OperatorRule Rule(OpKind kind) => LogisticOrTanhRule;

    public override Quantization? FixedOutput(OpKind kind, DataType output) =>
        output != I8 ? null : kind == OpKind.Logistic ? LogisticOutput : TanhOutput;

    public override int? QuantizedVersion(OpKind kind) => 2;

    public override void Lower(LoweringContext context, Operator op)
    {
        SameShape(context, op);
        bool logistic = op.Kind == OpKind.Logistic;
        var input = context.T(op.Inputs[0]);
        if (context.IsFloat(op))
        {
            // The float kernels need no parameters: (input, size, output).
            context.Call(logistic ? "tml_logistic_f32" : "tml_tanh_f32", $"{op.TypeName} x{ElementCount(input)} (float)",
                Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(ElementCount(input)), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        if (input.Type == DataType.Int16)
        {
            var (m16, s16) = Int16Parameters(op, Q(input), Q(context.T(op.Outputs[0])));
            Unary(context, op, logistic ? "tml_logistic_s16" : "tml_tanh_s16", Arg.Struct("tml_sigmoid_s16_params",
                Field.I("input_multiplier", m16), Field.I("input_left_shift", s16)), $"{op.TypeName} x{ElementCount(input)} (int16)");
            return;
        }
        var iq = Q(input);
        // Plain frexp of scale x 2^27 (4 integer bits in Q4.27), not QuantizeMultiplier.
        double q = QuantMath.Frexp((double)iq.Scale * (1L << 27), out int shift);
        Expect(shift >= 0, $"input scale {iq.Scale} is below 2^-28");
        int multiplier = (int)QuantMath.Round(q * (1L << 31));
        int radius = shift >= 32 ? 0 : (int)Math.Floor(15.0 * (1L << 27) / Math.Pow(2, shift));
        Unary(context, op, logistic ? "tml_logistic_s8" : "tml_tanh_s8", Arg.Struct(logistic ? "tml_logistic_params" : "tml_tanh_params",
            Field.I("input_zero_point", iq.ZeroPoint), Field.I("input_range_radius", radius),
            Field.I("input_multiplier", multiplier), Field.I("input_left_shift", shift)), $"{op.TypeName} x{ElementCount(input)}");
    }

    /// <summary>
    /// TFLM's int16 Prepare (logistic_common.cc, tanh.cc): zero points 0, output scale 2^-15; a power-of-two input
    /// scale whose shift the kernel takes as is (multiplier 0), otherwise the scale times 3 x 4096 doubled into
    /// (16383.5, 32767] and truncated.
    /// </summary>
    internal static (int Multiplier, int Shift) Int16Parameters(Operator op, Quantization iq, Quantization oq)
    {
        bool logistic = op.Kind == OpKind.Logistic;
        Expect(iq.ZeroPoint == 0 && oq.ZeroPoint == 0,
            $"int16 {op.TypeName} needs input and output zero points 0 (TFLM), not {iq.ZeroPoint} and {oq.ZeroPoint}");
        Expect(CheckedLog2(oq.Scale, out int outputLog2) && outputLog2 == -15,
            $"int16 {op.TypeName} output must have scale 2^-15 (TFLM), not {oq.Scale}");
        Expect(iq.Scale > 0 && !float.IsInfinity(iq.Scale), $"int16 {op.TypeName} input scale {iq.Scale} is not a positive number");
        bool powerOfTwo = CheckedLog2(iq.Scale, out int inputLog2);
        int shift = 12 + inputLog2;
        // TANH's table step allows one more doubling than LOGISTIC's.
        if (powerOfTwo && (shift == 0 || (!logistic && shift == 1))) return (0, shift);
        double multiplier = (double)iq.Scale * 4096.0 * 3.0;
        shift = 0;
        while (multiplier <= 32767.0 / 2.0 && shift <= 30)
        {
            shift++;
            multiplier *= 2.0;
        }
        // TFLM only DCHECKs these: a larger factor overflows its int32 product, a zero one would read as a power of two.
        Expect(multiplier < 32768.0, $"int16 {op.TypeName} input scale {iq.Scale} is too large (TFLM's multiplier exceeds 32767)");
        Expect(multiplier >= 1.0, $"int16 {op.TypeName} input scale {iq.Scale} is too small");
        return ((int)multiplier, shift);
    }

    /// <summary>TFLM's CheckedLog2: log2 in float, true when within 1e-3 of an integer (the rounded value).</summary>
    internal static bool CheckedLog2(float x, out int log2)
    {
        float value = (float)Math.Log(x) * (1f / (float)Math.Log(2f));
        float rounded = (float)Math.Round(value, MidpointRounding.AwayFromZero);
        log2 = float.IsNaN(rounded) || float.IsInfinity(rounded) ? int.MinValue : (int)rounded;
        return Math.Abs(value - rounded) < 1e-3f;
    }
}

/// <summary>HARD_SWISH, int8 and float32.</summary>
internal sealed class HardSwish : UnaryOperator
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.HardSwish };

    private static readonly OperatorRule HardSwishRule = new(1, 1, 1, Int8OrFloat);

    public override OperatorRule Rule(OpKind kind) => HardSwishRule;

    private static int ToInt16FixedPoint(int multiplier) => multiplier >= int.MaxValue - 32768 ? 32767 : (multiplier + 32768) >> 16;

    public override void Lower(LoweringContext context, Operator op)
    {
        SameShape(context, op);
        if (context.IsFloat(op))
        {
            context.Call("tml_hard_swish_f32", $"HARD_SWISH x{ElementCount(context.T(op.Inputs[0]))} (float)",
                Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(ElementCount(context.T(op.Inputs[0]))), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        var iq = Q(context.T(op.Inputs[0]));
        var oq = Q(context.T(op.Outputs[0]));
        // hard_swish_common.cc: float products, then QuantizeMultiplier, then rounded to 16 bits.
        float hires = 1f / 128f * iq.Scale;
        float outputMultiplier = hires / oq.Scale;
        float reluishMultiplier = hires / (3f / 32768f);
        var (om, os) = Multiplier(outputMultiplier);
        var (rm, rs) = Multiplier(reluishMultiplier);
        Expect(os <= 0, "the output scale makes the output multiplier exceed 1");
        Unary(context, op, "tml_hard_swish_s8", Arg.Struct("tml_hard_swish_params",
            Field.I("input_zero_point", iq.ZeroPoint), Field.I("output_zero_point", oq.ZeroPoint),
            Field.I("reluish_multiplier_fixedpoint_int16", ToInt16FixedPoint(rm)), Field.I("reluish_multiplier_exponent", rs),
            Field.I("output_multiplier_fixedpoint_int16", ToInt16FixedPoint(om)), Field.I("output_multiplier_exponent", os)),
            $"HARD_SWISH x{ElementCount(context.T(op.Inputs[0]))}");
    }
}

/// <summary>LEAKY_RELU, int8 and int16 (16x8; TFLM's Prepare and kernel are the same template), and float32.</summary>
internal sealed class LeakyRelu : UnaryOperator
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.LeakyRelu };

    private static readonly OperatorRule LeakyReluRule = new(2, 1, 1, new[] { (I8, I8), (I16, I16), (F32, F32) }, LeakyReluOptions.Union);

    public override OperatorRule Rule(OpKind kind) => LeakyReluRule;

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        if (op.Options is LeakyReluOptions { Alpha: var alpha } && (float.IsNaN(alpha) || float.IsInfinity(alpha)))
            validation.Report(DiagnosticIds.InvalidOperator, $"LEAKY_RELU alpha {alpha} is not a finite number");
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        SameShape(context, op);
        float alpha = op.OptionsAs<LeakyReluOptions>()?.Alpha ?? throw Fail("missing LeakyReluOptions");
        if (context.IsFloat(op))
        {
            Unary(context, op, "tml_leaky_relu_f32", Arg.Struct("tml_leaky_relu_f32_params", Field.F("alpha", alpha)), $"LEAKY_RELU alpha {alpha} (float)");
            return;
        }
        var iq = Q(context.T(op.Inputs[0]));
        var oq = Q(context.T(op.Outputs[0]));
        float alphaMultiplier = iq.Scale * alpha / oq.Scale;
        float identityMultiplier = iq.Scale / oq.Scale;
        var (am, ashift) = Multiplier(alphaMultiplier);
        var (im, ishift) = Multiplier(identityMultiplier);
        string kernel = context.T(op.Inputs[0]).Type == DataType.Int16 ? "tml_leaky_relu_s16" : "tml_leaky_relu_s8";
        Unary(context, op, kernel, Arg.Struct("tml_leaky_relu_params",
            Field.I("input_offset", iq.ZeroPoint), Field.I("output_offset", oq.ZeroPoint),
            Field.I("output_multiplier_alpha", am), Field.I("output_shift_alpha", ashift),
            Field.I("output_multiplier_identity", im), Field.I("output_shift_identity", ishift)), $"LEAKY_RELU alpha {alpha}");
    }
}

/// <summary>RELU and RELU6 (int8 and float32), RELU6 int16 (TFLM at the goldens' version has no int16 RELU),
/// RELU_N1_TO_1 (float32 only; TFLM has no kernel for it, TFLite's reference Relu1 is the model). Float preparation
/// folds each into the operator before it where it can.</summary>
internal sealed class Relu : UnaryOperator
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Relu, OpKind.Relu6, OpKind.ReluN1To1 };

    private static readonly OperatorRule ReluRule = new(3, 1, 1, Int8OrFloat);

    private static readonly OperatorRule Relu6Rule = new(3, 1, 1, Int8OrFloat.Append((I16, I16)).ToArray());

    private static readonly OperatorRule ReluN1To1Rule = new(1, 1, 1, new[] { (F32, F32) });

    public override OperatorRule? Rule(OpKind kind) => kind switch
    {
        OpKind.ReluN1To1 => ReluN1To1Rule,
        OpKind.Relu6 => Relu6Rule,
        _ => ReluRule,
    };

    public override Activation? AsFusedActivation(OpKind kind) => kind switch
    {
        OpKind.Relu => Activation.Relu,
        OpKind.Relu6 => Activation.Relu6,
        _ => Activation.ReluN1To1,
    };

    public override void Lower(LoweringContext context, Operator op)
    {
        SameShape(context, op);
        if (context.IsFloat(op))
        {
            int count = ElementCount(context.T(op.Inputs[0]));
            if (op.Kind == OpKind.Relu)
            {
                context.Call("tml_relu_f32", $"RELU x{count} (float)", Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(count), Arg.Ptr(context.Ptr(op.Outputs[0])));
                return;
            }
            bool six = op.Kind == OpKind.Relu6;
            Unary(context, op, "tml_relu_bounded_f32", Arg.Struct("tml_relu_bounded_f32_params", Field.F("min", six ? 0f : -1f), Field.F("max", six ? 6f : 1f)),
                $"{op.TypeName} x{count} (float)");
            return;
        }
        Expect(op.Kind != OpKind.ReluN1To1, $"{DataTypes.Name(context.T(op.Inputs[0]).Type)} RELU_N1_TO_1 is not supported (float32 only)");
        var iq = Q(context.T(op.Inputs[0]));
        var oq = Q(context.T(op.Outputs[0]));
        int n = ElementCount(context.T(op.Inputs[0]));
        if (op.Kind == OpKind.Relu6)
        {
            // Relu6Prepare clamps in the input's domain and never requantizes (FloatToQuantizedType<T>).
            bool wide = context.T(op.Inputs[0]).Type == DataType.Int16;
            int min = wide ? short.MinValue : sbyte.MinValue, max = wide ? short.MaxValue : sbyte.MaxValue;
            float six = 6f / iq.Scale;
            int top = Math.Max(min, Math.Min(max, (int)QuantMath.Round(six) + iq.ZeroPoint));
            Unary(context, op, wide ? "tml_relu6_s16" : "tml_relu6_s8", Arg.Struct("tml_relu6_params", Field.I("zero", iq.ZeroPoint), Field.I("six", top)), $"RELU6 x{n}");
            return;
        }
        var (m, s) = Multiplier((double)iq.Scale / oq.Scale);
        float zero = 0f / oq.Scale;
        int bottom = Math.Max(-128, oq.ZeroPoint + (int)QuantMath.Round(zero));
        Unary(context, op, "tml_relu_s8", Arg.Struct("tml_relu_params",
            Field.I("input_offset", iq.ZeroPoint), Field.I("output_offset", oq.ZeroPoint),
            Field.I("output_multiplier", m), Field.I("output_shift", s),
            Field.I("quantized_activation_min", bottom), Field.I("quantized_activation_max", 127)), $"RELU x{n}");
    }
}

/// <summary>QUANTIZE: float32 to int8/int16, or requantization between integer types.</summary>
internal sealed class Quantize : UnaryOperator
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Quantize };

    private static readonly OperatorRule QuantizeRule = new(3, 1, 1,
        new[] { (F32, I8), (I8, I8), (I16, I8), (I8, I16), (I16, I16), (I16, I32), (I8, I32), (F32, I16), (I32, I8), (I32, I16) });

    public override OperatorRule Rule(OpKind kind) => QuantizeRule;

    public override void Lower(LoweringContext context, Operator op)
    {
        SameShape(context, op);
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        var oq = Q(output);
        string kernel = $"tml_{(input.Type == DataType.Float32 ? "quantize" : "requantize")}_{TypeSuffix(input.Type)}_{TypeSuffix(output.Type)}";
        string comment = $"{DataTypes.Name(input.Type)} -> {DataTypes.Name(output.Type)} x{ElementCount(input)}";
        if (input.Type == DataType.Float32)
        {
            Unary(context, op, kernel, Arg.Struct("tml_quantize_params", Field.F("scale", oq.Scale), Field.I("zero_point", oq.ZeroPoint)), comment);
            return;
        }
        var iq = Q(input);
        var (m, s) = Multiplier((double)iq.Scale / oq.Scale);
        Unary(context, op, kernel, Arg.Struct("tml_requantize_params", Field.I("multiplier", m), Field.I("shift", s),
            Field.I("input_zero_point", iq.ZeroPoint), Field.I("output_zero_point", oq.ZeroPoint)), comment);
    }
}

/// <summary>DEQUANTIZE: int8 or int16 to float32.</summary>
internal sealed class Dequantize : UnaryOperator
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Dequantize };

    private static readonly OperatorRule DequantizeRule = new(6, 1, 1, new[] { (I8, F32), (I16, F32) });

    public override OperatorRule Rule(OpKind kind) => DequantizeRule;

    // A float32 output is never written over an integer input.
    public override int ElementwiseInputs(OpKind kind) => 0;

    // Element i from element i: on tiles a one-tap window (not ElementwiseInputs, which would make it an in-place candidate).
    public override (Window Height, Window Width)? PatchWindows(Graph graph, Operator op) => (Window.Identity, Window.Identity);

    public override void Lower(LoweringContext context, Operator op)
    {
        SameShape(context, op);
        var input = context.T(op.Inputs[0]);
        var iq = Q(input);
        Unary(context, op, $"tml_dequantize_{TypeSuffix(input.Type)}_f32", Arg.Struct("tml_dequantize_params",
            Field.F("scale", iq.Scale), Field.I("zero_point", iq.ZeroPoint)), $"{DataTypes.Name(input.Type)} -> FLOAT32 x{ElementCount(input)}");
    }
}

/// <summary>ELU: float32 (TFLM's x &lt; 0 ? expm1f(x) : x) and int8 through TFLM's 256-entry table.</summary>
internal sealed class Elu : UnaryOperator
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Elu };

    private static readonly OperatorRule EluRule = new(2, 1, 1, Int8OrFloat);

    public override OperatorRule Rule(OpKind kind) => EluRule;

    /// <summary>TFLM's PopulateLookupTable for int8 ELU, in float as it computes: dequantize, e^x - 1 below 0, times
    /// 1 / output scale, rounded half away from zero, plus the zero point, truncated and clamped. Entry i is the output
    /// of the input byte i. expf is e^x in double rounded to float, which glibc's expf gives (it computes in double).</summary>
    internal static sbyte[] Table(Quantization input, Quantization output)
    {
        float inverseScale = 1 / output.Scale;
        var table = new sbyte[256];
        for (int value = sbyte.MinValue; value <= sbyte.MaxValue; value++)
        {
            float dequantized = input.Scale * (value - input.ZeroPoint);
            float transformed = dequantized < 0f ? (float)Math.Exp(dequantized) - 1f : dequantized;
            float rescaled = (float)Math.Round(transformed * inverseScale, MidpointRounding.AwayFromZero);
            float shifted = rescaled + output.ZeroPoint;
            // TFLM's int32 cast of an out-of-range float is undefined; any such value clamps to an end here.
            int quantized = float.IsNaN(shifted) ? 0 : shifted >= int.MaxValue ? int.MaxValue : shifted <= int.MinValue ? int.MinValue : (int)shifted;
            table[(byte)(sbyte)value] = (sbyte)Math.Max((int)sbyte.MinValue, Math.Min((int)sbyte.MaxValue, quantized));
        }
        return table;
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        SameShape(context, op);
        int count = ElementCount(context.T(op.Inputs[0]));
        if (context.IsFloat(op))
        {
            context.Call("tml_elu_f32", $"ELU x{count} (float)", Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(count), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        var iq = Q(context.T(op.Inputs[0]));
        var oq = Q(context.T(op.Outputs[0]));
        Expect(oq.Scale > 0 && !float.IsInfinity(oq.Scale) && iq.Scale > 0 && !float.IsInfinity(iq.Scale), $"ELU scales {iq.Scale} and {oq.Scale} must be positive and finite");
        var table = Table(iq, oq);
        Unary(context, op, "tml_lookup_s8", Arg.Ptr(context.Constant((byte[])(Array)table)), $"ELU x{count} (table)");
    }
}
