// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>MEAN over constant axes: int8 and int16 over consecutive axes (TFLM's EvalIntegerMean for both), float32
/// over any axes (TFLM's reference_ops::Mean).</summary>
internal sealed class Mean : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Mean };

    private static readonly OperatorRule MeanRule = new(3, 2, 2, new[] { (I8, I8), (I16, I16), (F32, F32) }, ReducerOptions.Union);

    public override OperatorRule Rule(OpKind kind) => MeanRule;

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        int rank = input.Shape.Count;
        var axes = context.ConstantInts(op.Inputs[1], "axes").Select(a => a < 0 ? a + rank : a).Distinct().OrderBy(a => a).ToArray();
        Expect(axes.Length > 0 && axes.All(a => a >= 0 && a < rank), $"axes outside rank {rank}");
        bool keepDims = op.OptionsAs<ReducerOptions>()?.KeepDims ?? false;
        ExpectShape(output, Enumerable.Range(0, rank).Where(d => keepDims || !axes.Contains(d)).Select(d => axes.Contains(d) ? 1 : input.Shape[d]).ToArray());
        if (context.IsFloat(op))
        {
            Expect(rank <= 6, $"MEAN of rank {rank} is not supported (at most 6)");
            context.Call("tml_mean_f32", $"mean over axes {Shapes.Format(axes)}: {input.Shape} -> {output.Shape} (float)", Arg.Struct("tml_mean_f32_params",
                new[] { Field.I("rank", rank) }.Concat(FieldArray("input_dims", input.Shape.ToArray()))
                    .Concat(FieldArray("reduced", Enumerable.Range(0, rank).Select(d => axes.Contains(d) ? 1 : 0).ToArray())).ToArray()),
                Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        Expect(axes[axes.Length - 1] - axes[0] == axes.Length - 1, "MEAN over non-consecutive axes is not supported");
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
        context.Call(input.Type == DataType.Int16 ? "tml_mean_s16" : "tml_mean_s8", $"mean of {count} over axes {Shapes.Format(axes)}: {input.Shape} -> {output.Shape}", Arg.Struct("tml_mean_params",
            Field.I("outer_size", outer), Field.I("reduce_size", count), Field.I("inner_size", inner),
            Field.I("input_offset", -iq.ZeroPoint), Field.I("output_offset", oq.ZeroPoint),
            Field.I("quant.multiplier", multiplier), Field.I("quant.shift", s0 - k)),
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Outputs[0])), Arg.Ptr(Pointer.Null));
    }
}
