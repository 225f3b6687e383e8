// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>ADD, SUB and MUL with broadcasting (up to rank 6), int8, int16 (16x8) and float32; DIV, MAXIMUM, MINIMUM
/// and PRELU (alpha broadcast against the input, up to rank 4 as TFLite) in float32 only.</summary>
internal sealed class Elementwise : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Add, OpKind.Sub, OpKind.Mul, OpKind.Div, OpKind.Maximum, OpKind.Minimum, OpKind.Prelu };

    private static readonly (DataType, DataType)[] AllTypes = { (I8, I8), (F32, F32), (I16, I16) };
    private static readonly (DataType, DataType)[] FloatOnly = { (F32, F32) };
    private static readonly OperatorRule AddRule = new(5, 2, 2, AllTypes, AddOptions.Union);
    private static readonly OperatorRule SubRule = new(5, 2, 2, AllTypes, SubOptions.Union);
    private static readonly OperatorRule MulRule = new(7, 2, 2, AllTypes, MulOptions.Union);
    private static readonly OperatorRule DivRule = new(2, 2, 2, FloatOnly, DivOptions.Union);
    private static readonly OperatorRule MaximumMinimumRule = new(4, 2, 2, FloatOnly, EmptyOptionUnions.MaximumMinimum);
    private static readonly OperatorRule PreluRule = new(1, 2, 2, FloatOnly);

    public override OperatorRule Rule(OpKind kind) => kind switch
    {
        OpKind.Add => AddRule,
        OpKind.Sub => SubRule,
        OpKind.Mul => MulRule,
        OpKind.Div => DivRule,
        OpKind.Prelu => PreluRule,
        _ => MaximumMinimumRule,
    };

    public override int? QuantizedVersion(OpKind kind) => kind == OpKind.Add ? 2 : null;

    public override Activation FusedActivation(Operator op) => op.Options switch
    {
        AddOptions o => o.Activation,
        SubOptions o => o.Activation,
        MulOptions o => o.Activation,
        DivOptions o => o.Activation,
        _ => Activation.None,
    };

    // Float preparation folds only into ADD, the one element-wise operator the quantizer takes.
    public override OperatorOptions? WithFusedActivation(Operator op, Activation activation) =>
        op.OptionsAs<AddOptions>() is { } o ? o with { Activation = activation } : null;

    public override int ElementwiseInputs(OpKind kind) => 2;

    // TFLM's int16 MUL (mul_common.cc) requires zero points 0: its int32 product would overflow otherwise.
    public override bool CheckOperands(OperatorValidation validation, Operator op)
    {
        if (op.Kind != OpKind.Mul || validation.Graph.Output(op, 0).Type != I16) return true;
        foreach (int t in op.Inputs.Append(op.Outputs[0]))
            if (validation.Graph.Tensors[t].Quantization is { HasScales: true } q && q.ZeroPoint != 0)
                validation.Report(DiagnosticIds.QuantizationSpecViolation,
                    $"int16 MUL tensors must have zero point 0 (TFLM's 16x8 MUL requires it), not {q.ZeroPoint}", validation.Graph.Tensors[t]);
        return true;
    }

    // The binary kernels exist for int8 only.
    public override (InPlaceKind Kind, int[] Positions)? InPlace(Graph graph, Operator op, bool depthwise, bool elementwise) =>
        graph.Tensors[op.Outputs[0]].Type == DataType.Int8 ? base.InPlace(graph, op, depthwise, elementwise) : null;

    public override bool RunsOnTiles(OpKind kind, DataType type) => type == DataType.Int8 || (kind == OpKind.Add && type == DataType.Float32);

    private static Arg Broadcast(Tensor a, Tensor b, Tensor output)
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

    public override void Lower(LoweringContext context, Operator op)
    {
        var a = context.T(op.Inputs[0]);
        var b = context.T(op.Inputs[1]);
        var output = context.T(op.Outputs[0]);
        bool isFloat = context.IsFloat(op);
        Expect(a.Type == output.Type && b.Type == output.Type, "inputs and output must have the same type");
        var activation = FusedActivation(op);
        // TFLite's PRELU broadcasts in 4-D (BroadcastPrelu4DSlow).
        Expect(op.Kind != OpKind.Prelu || output.Shape.Count <= 4, $"PRELU of rank {output.Shape.Count} is not supported (at most 4, as TFLite)");
        var shape = Broadcast(a, b, output);
        string comment = $"{a.Shape} {op.TypeName} {b.Shape} -> {output.Shape} {activation}";
        var operands = new[] { Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Inputs[1])), Arg.Ptr(context.Ptr(op.Outputs[0])) };
        if (isFloat)
        {
            LowerFloat(context, op, shape, comment, operands);
            return;
        }
        Expect(op.Kind is OpKind.Add or OpKind.Sub or OpKind.Mul, $"{DataTypes.Name(output.Type)} {op.TypeName} is not supported (float32 only)");
        var qa = Q(a);
        var qb = Q(b);
        var qo = Q(output);
        var (actMin, actMax) = QuantMath.ActivationRange(activation, qo.Scale, qo.ZeroPoint, output.Type);
        if (op.Kind == OpKind.Mul)
        {
            bool mul16 = output.Type == DataType.Int16;
            if (mul16)
                Expect(qa.ZeroPoint == 0 && qb.ZeroPoint == 0 && qo.ZeroPoint == 0, "int16 MUL tensors must have zero point 0");
            var (m, s) = Multiplier((double)qa.Scale * qb.Scale / qo.Scale);
            context.Call(mul16 ? "tml_mul_s16" : "tml_mul_s8", comment, new[] { Arg.Struct("tml_mul_params",
                Field.I("input1_offset", -qa.ZeroPoint), Field.I("input2_offset", -qb.ZeroPoint), Field.I("output_offset", qo.ZeroPoint),
                Field.I("output_quant.multiplier", m), Field.I("output_quant.shift", s),
                Field.I("activation_min", actMin), Field.I("activation_max", actMax)), shape }.Concat(operands).ToArray());
            return;
        }
        // Both inputs are rescaled to twice the larger input scale, with 20 bits of headroom (15 for int16: TFLM's
        // general int16 path, not the power-of-two one). add_common.cc computes the ratios in double, sub_common.cc
        // in float.
        bool int16 = output.Type == DataType.Int16;
        int leftShift = int16 ? 15 : 20;
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
        context.Call($"tml_{(op.Kind == OpKind.Add ? "add" : "sub")}_{(int16 ? "s16" : "s8")}", comment, new[] { Arg.Struct("tml_add_params",
            Field.I("input1_offset", -qa.ZeroPoint), Field.I("input2_offset", -qb.ZeroPoint), Field.I("output_offset", qo.ZeroPoint),
            Field.I("left_shift", leftShift),
            Field.I("input1_quant.multiplier", m1), Field.I("input1_quant.shift", s1),
            Field.I("input2_quant.multiplier", m2), Field.I("input2_quant.shift", s2),
            Field.I("output_quant.multiplier", mo), Field.I("output_quant.shift", so),
            Field.I("activation_min", actMin), Field.I("activation_max", actMax)), shape }.Concat(operands).ToArray());
    }

    /// <summary>The float32 kernels: the arithmetic ones clamp to the fused activation's float range, MAXIMUM, MINIMUM
    /// and PRELU have none.</summary>
    private void LowerFloat(LoweringContext context, Operator op, Arg shape, string comment, Arg[] operands)
    {
        if (op.Kind is OpKind.Maximum or OpKind.Minimum or OpKind.Prelu)
        {
            context.Call($"tml_{op.TypeName.ToLowerInvariant()}_f32", comment, new[] { shape }.Concat(operands).ToArray());
            return;
        }
        var (min, max) = QuantMath.ActivationRangeFloat(FusedActivation(op));
        context.Call($"tml_{op.TypeName.ToLowerInvariant()}_f32", comment, new[] { Arg.Struct("tml_add_f32_params",
            Field.F("activation_min", min), Field.F("activation_max", max)), shape }.Concat(operands).ToArray());
    }
}
