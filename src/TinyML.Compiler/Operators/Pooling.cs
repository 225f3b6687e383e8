// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>AVERAGE_POOL_2D and MAX_POOL_2D over NHWC: int8, int16 (TFLM's int16 reference kernels; not on tiles, which
/// take int8 and float32 tensors only) and float32.</summary>
internal sealed class Pooling : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.AveragePool2D, OpKind.MaxPool2D };

    private static readonly OperatorRule PoolRule = new(3, 1, 1, new[] { (I8, I8), (F32, F32), (I16, I16) }, Pool2DOptions.Union);

    public override OperatorRule Rule(OpKind kind) => PoolRule;

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        if (op.Options is Pool2DOptions o && (o.StrideW < 1 || o.StrideH < 1 || o.FilterW < 1 || o.FilterH < 1))
            validation.Report(DiagnosticIds.InvalidOperator, "strides and filter sizes must be at least 1");
    }

    // TFLM's PoolingPrepare requires it too: the int8 and int16 kernels never requantize.
    public override SameScale SameScale(OpKind kind) => Operators.SameScale.OutputAsInput;

    public override int? QuantizedVersion(OpKind kind) => 2;

    public override Activation FusedActivation(Operator op) => op.OptionsAs<Pool2DOptions>()?.Activation ?? Activation.None;

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        bool isFloat = context.IsFloat(op);
        var opt = op.OptionsAs<Pool2DOptions>() ?? throw Fail("missing Pool2DOptions");
        int[] i = Nhwc(input, "input"), o = Nhwc(output, "output");
        var ((outH, padH), (outW, padW)) = Windows(opt, i);
        ExpectShape(output, new[] { i[0], outH, outW, i[3] });
        Expect(outH > 0 && outW > 0, "the output is empty");
        var fields = new List<Field>
        {
            Field.I("stride_h", opt.StrideH), Field.I("stride_w", opt.StrideW), Field.I("filter_h", opt.FilterH),
            Field.I("filter_w", opt.FilterW), Field.I("pad_h", padH), Field.I("pad_w", padW),
        };
        bool average = op.Kind == OpKind.AveragePool2D;
        string comment = $"{(average ? "average" : "max")} {opt.FilterH}x{opt.FilterW} s{opt.StrideH}x{opt.StrideW} {opt.Padding}{(opt.FoldedPad is { } folded ? $", {folded}" : "")}: {input.Shape} -> {output.Shape}";
        if (isFloat)
        {
            var (min, max) = QuantMath.ActivationRangeFloat(opt.Activation);
            fields.Add(Field.F("activation_min", min));
            fields.Add(Field.F("activation_max", max));
            context.Call(average ? "tml_avg_pool_f32" : "tml_max_pool_f32", comment, Arg.Struct("tml_pool_f32_params", fields.ToArray()),
                Dims(i), Arg.Ptr(context.Ptr(op.Inputs[0])), Dims(o), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        var oq = Q(output);
        var (actMin, actMax) = QuantMath.ActivationRange(opt.Activation, oq.Scale, oq.ZeroPoint, output.Type);
        fields.Add(Field.I("activation_min", actMin));
        fields.Add(Field.I("activation_max", actMax));
        var args = new List<Arg> { Arg.Struct("tml_pool_params", fields.ToArray()), Dims(i), Arg.Ptr(context.Ptr(op.Inputs[0])), Dims(o), Arg.Ptr(context.Ptr(op.Outputs[0])) };
        bool int16 = output.Type == I16;
        if (int16)
            Expect(Q(input).Scale == oq.Scale && Q(input).ZeroPoint == oq.ZeroPoint, "int16 pooling must keep the input quantization");
        if (average && !int16) args.Add(Arg.Ptr(Pointer.Null));
        context.Call($"tml_{(average ? "avg" : "max")}_pool_{(int16 ? "s16" : "s8")}", comment, args.ToArray());
    }

    public override (Window Height, Window Width)? PatchWindows(Graph graph, Operator op)
    {
        if (op.OptionsAs<Pool2DOptions>() is not { } p || p.StrideH < 1 || p.StrideW < 1 || p.FilterH < 1 || p.FilterW < 1) return null;
        var i = graph.Input(op, 0)!.Shape;
        var o = graph.Output(op, 0).Shape;
        var (h, w) = Windows(p, i);
        if (h.Output != o[1] || w.Output != o[2] || i[3] != o[3]) return null;
        return (new Window(p.FilterH, p.StrideH, 1, h.Before), new Window(p.FilterW, p.StrideW, 1, w.Before));
    }

    /// <summary>Output rows and columns and top/left padding over an input of <paramref name="i"/> (NHWC).</summary>
    private static ((int Output, int Before) H, (int Output, int Before) W) Windows(Pool2DOptions p, IReadOnlyList<int> i) =>
        QuantMath.Windows(p.Padding, p.FoldedPad, i, p.FilterH, p.FilterW, p.StrideH, p.StrideW);
}
