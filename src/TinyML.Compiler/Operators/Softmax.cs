// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>SOFTMAX over the last dimension: float32, int8 to int8 and int8 to int16.</summary>
internal sealed class Softmax : OperatorDefinition
{
    /// <summary>The int8 output the specification fixes: scale 1/256, zero point -128.</summary>
    public static readonly Quantization Int8Output = Quantization.PerTensor(1f / 256, -128);

    /// <summary>The int16 output: scale 1/65536, zero point -32768.</summary>
    public static readonly Quantization Int16Output = Quantization.PerTensor(1f / 65536, -32768);

    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Softmax };

    private static readonly OperatorRule SoftmaxRule = new(3, 1, 1, new[] { (I8, I8), (I8, I16), (F32, F32) }, SoftmaxOptions.Union);

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
        // PreprocessSoftmaxScaling with 5 integer bits: beta * input_scale * 2^26, in double, capped at int32.
        double real = Math.Min((double)opt.Beta * Q(input).Scale * (1L << 26), int.MaxValue);
        Expect(real > 1, "beta x input scale is too small for the int8 softmax");
        var (multiplier, shift) = Multiplier(real);
        int diffMin = -(int)Math.Floor(31.0 * (1L << 26) / Math.Pow(2, shift));
        context.Call(output.Type == DataType.Int16 ? "tml_softmax_s8_s16" : "tml_softmax_s8", comment,
            Arg.Struct("tml_softmax_params", Field.I("input_multiplier", multiplier), Field.I("input_left_shift", shift), Field.I("diff_min", diffMin)),
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Int32(rows), Arg.Int32(depth), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}
