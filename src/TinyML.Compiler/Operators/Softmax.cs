// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>SOFTMAX over the last dimension: float32, int8 to int8, int8 to int16 and int16 to int16 (16x8).</summary>
internal sealed class Softmax : OperatorDefinition
{
    /// <summary>The int8 output the specification fixes: scale 1/256, zero point -128.</summary>
    public static readonly Quantization Int8Output = Quantization.PerTensor(1f / 256, -128);

    /// <summary>The int16 output: scale 1/65536, zero point -32768.</summary>
    public static readonly Quantization Int16Output = Quantization.PerTensor(1f / 65536, -32768);

    /// <summary>The output of int16 input: scale 1/32768, zero point 0.</summary>
    public static readonly Quantization Int16InputOutput = Quantization.PerTensor(1f / 32768, 0);

    /// <summary>Entries of each int16 table: 512 steps and the end point.</summary>
    internal const int Int16LutEntries = 513;

    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Softmax };

    private static readonly OperatorRule SoftmaxRule = new(3, 1, 1, new[] { (I8, I8), (I8, I16), (I16, I16), (F32, F32) }, SoftmaxOptions.Union);

    public override OperatorRule Rule(OpKind kind) => SoftmaxRule;

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        // The kernels and the emitted C take finite parameters only.
        if (op.Options is SoftmaxOptions { Beta: var beta } && (float.IsNaN(beta) || float.IsInfinity(beta)))
            validation.Report(DiagnosticIds.InvalidOperator, $"SOFTMAX beta {beta} is not a finite number");
    }

    public override Quantization? FixedOutput(OpKind kind, DataType output) => output switch
    {
        I8 => Int8Output,
        I16 => Int16Output,
        _ => null,
    };

    public override int? QuantizedVersion(OpKind kind) => 2;

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        bool isFloat = context.IsFloat(op);
        var opt = op.OptionsAs<SoftmaxOptions>() ?? throw Fail("missing SoftmaxOptions");
        Expect(input.Shape.SequenceEqual(output.Shape) && input.Shape.Count >= 1, "input and output shapes differ");
        int depth = input.Shape[input.Shape.Count - 1];
        Expect(depth > 0, "empty softmax rows");
        int rows = ElementCount(input) / depth;
        string comment = $"{rows} rows of {depth}, beta {opt.Beta}";
        if (isFloat)
        {
            context.Call("tml_softmax_f32", comment, Arg.Struct("tml_softmax_f32_params", Field.F("beta", opt.Beta)),
                Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        if (input.Type == DataType.Int16)
        {
            LowerInt16(context, op, opt.Beta, rows, depth, comment);
            return;
        }
        // PreprocessSoftmaxScaling with 5 integer bits: beta * input_scale * 2^26, in double, capped at int32.
        double real = Math.Min((double)opt.Beta * Q(input).Scale * (1L << 26), int.MaxValue);
        Expect(real > 1, "beta x input scale is too small for the int8 softmax");
        var (multiplier, shift) = Multiplier(real);
        int diffMin = -(int)Math.Floor(31.0 * (1L << 26) / Math.Pow(2, shift));
        context.Call(output.Type == DataType.Int16 ? "tml_softmax_s8_s16" : "tml_softmax_s8", comment,
            Arg.Struct("tml_softmax_params", Field.I("input_multiplier", multiplier), Field.I("input_left_shift", shift), Field.I("diff_min", diffMin)),
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }

    /// <summary>TFLM's SoftmaxPrepare for int16 input: the output it accepts, the rescale to the exp table's range,
    /// and the two tables, generated here so that every target reads the same bytes.</summary>
    private static void LowerInt16(LoweringContext context, Operator op, float beta, int rows, int depth, string comment)
    {
        var iq = Q(context.T(op.Inputs[0]));
        var oq = Q(context.T(op.Outputs[0]));
        // TF_LITE_ENSURE_NEAR in float
        float expected = Int16InputOutput.Scale;
        Expect(oq.ZeroPoint == 0 && Math.Abs(oq.Scale - expected) <= 0.001f * expected,
            $"int16 SOFTMAX output must have scale 1/32768 and zero point 0 (TFLM), not {oq.Scale} and {oq.ZeroPoint}");
        Expect(depth <= 65536, $"int16 SOFTMAX rows of {depth} elements overflow TFLM's int32 sum of exponentials");
        // [-65535, 0] input differences cover exp's table range [-10, 0].
        var (multiplier, shift) = Multiplier((double)iq.Scale * beta / (10.0 / 65535.0));
        Expect(shift <= 30, $"beta x input scale {(double)iq.Scale * beta} is too large for the int16 softmax");
        Pointer Table(short[] lut) => context.Constant(MemoryMarshal.AsBytes(lut.AsSpan()).ToArray());
        context.Call("tml_softmax_s16", comment, Arg.Struct("tml_softmax_s16_params",
                Field.I("input_multiplier", multiplier), Field.I("input_left_shift", shift),
                Field.P("exp_lut", Table(ExpLut())), Field.P("one_over_one_plus_x_lut", Table(ReciprocalLut()))),
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }

    /// <summary>The exp table: exp over [-10, 0] (exp(-10) is negligible in the sum).</summary>
    internal static short[] ExpLut() => GenerateLut(x => (float)Math.Exp(x), -10f, 0f);

    /// <summary>The reciprocal table: 1/(1 + x) over [0, 1].</summary>
    internal static short[] ReciprocalLut() => GenerateLut(x => 1f / (1f + x), 0f, 1f);

    /// <summary>
    /// TFLM's gen_lut&lt;float, int16_t, int16_t&gt; with the output range [-1, 1]: 512 samples, each lowered by half the
    /// error linear interpolation makes at its step's midpoint, then the end point. Every operation is float32 as in
    /// TFLM (TfLiteRound rounds half away from zero); exp is the double exp rounded to float, which differs from glibc's
    /// expf on one argument of the exp table (a near tie) without changing its entry (Int16ActivationTests checks the tables).
    /// </summary>
    internal static short[] GenerateLut(Func<float, float> function, float inputMin, float inputMax)
    {
        const int steps = Int16LutEntries - 1;
        static float Round(float x) => (float)Math.Round(x, MidpointRounding.AwayFromZero);
        static short Clamp(float x) => (short)Math.Min(Math.Max(x, -32768f), 32767f);
        float step = (inputMax - inputMin) / steps;
        float halfStep = step / 2;
        float scaling = 65536f / (1f - -1f);
        var lut = new short[Int16LutEntries];
        for (int i = 0; i < steps; i++)
        {
            float value = function(inputMin + i * step);
            float midpoint = function(inputMin + i * step + halfStep);
            float next = function(inputMin + (i + 1) * step);
            float sample = Round(value * scaling);
            float interpolated = Round((next * scaling + Round(value * scaling)) / 2);
            float bias = Round((interpolated - Round(midpoint * scaling)) / 2);
            lut[i] = Clamp(sample - bias);
        }
        lut[steps] = Clamp(Round(function(inputMax) * scaling));
        return lut;
    }
}

/// <summary>LOG_SOFTMAX over the last dimension: float32 (TFLM's reference_ops::LogSoftmax) and int8 (its
/// LogSoftmaxQuantized, output scale 16/256 and zero point 127).</summary>
internal sealed class LogSoftmax : OperatorDefinition
{
    /// <summary>The int8 output TFLM's Prepare requires: scale 16/256, zero point 127.</summary>
    public static readonly Quantization Int8Output = Quantization.PerTensor(16f / 256, 127);

    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.LogSoftmax };

    private static readonly OperatorRule LogSoftmaxRule = new(2, 1, 1, Int8OrFloat, EmptyOptionUnions.LogSoftmax);

    public override OperatorRule Rule(OpKind kind) => LogSoftmaxRule;

    public override Quantization? FixedOutput(OpKind kind, DataType output) => output == I8 ? Int8Output : null;

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        Expect(input.Shape.Count >= 1, "LOG_SOFTMAX of a scalar is not supported");
        // TFLM's Prepare: the same shape.
        ExpectShape(output, input.Shape);
        int depth = input.Shape[input.Shape.Count - 1];
        int rows = depth == 0 ? 0 : ElementCount(input) / depth;
        string comment = $"LOG_SOFTMAX {rows} x {depth}";
        if (context.IsFloat(op))
        {
            context.Call("tml_log_softmax_f32", comment + " (float)", Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        var oq = Q(output);
        Expect(oq.Scale == Int8Output.Scale && oq.ZeroPoint == Int8Output.ZeroPoint,
            $"int8 LOG_SOFTMAX output must have scale 16/256 and zero point 127 (TFLM), not {oq.Scale} and {oq.ZeroPoint}");
        // PreprocessLogSoftmaxScalingExp with beta 1 and 5 integer bits, in double.
        double real = Math.Min(1.0 * Q(input).Scale * (1L << 26), int.MaxValue);
        Expect(real > 1, $"input scale {Q(input).Scale} is too small for the int8 LOG_SOFTMAX (TFLM needs scale x 2^26 above 1)");
        var (multiplier, shift) = Multiplier(real);
        var (reverseMultiplier, reverseShift) = Multiplier((1L << (31 - shift)) / (double)multiplier);
        Expect(reverseShift <= 0, $"input scale {Q(input).Scale} gives no reverse scaling below 1");
        int diffMin = -(int)Math.Floor(31.0 * (1L << 26) / Math.Pow(2, shift));
        context.Call("tml_log_softmax_s8", comment, Arg.Struct("tml_log_softmax_params",
                Field.I("input_multiplier", multiplier), Field.I("input_left_shift", shift),
                Field.I("reverse_multiplier", reverseMultiplier), Field.I("reverse_shift", reverseShift), Field.I("diff_min", diffMin)),
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}
