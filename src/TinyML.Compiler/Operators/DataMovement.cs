// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>RESHAPE and SQUEEZE: the output is the input's bytes; the planner gives both one buffer and nothing runs.</summary>
internal sealed class Alias : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Reshape, OpKind.Squeeze };

    // RESHAPE's shape input may be omitted: its options may give the shape.
    private static readonly OperatorRule ReshapeRule = new(2, 1, 2, AnyMovable, OptionalInputs: new[] { 1 });
    private static readonly OperatorRule SqueezeRule = new(2, 1, 1, AnyMovable, SqueezeOptions.Union);

    public override OperatorRule Rule(OpKind kind) => kind == OpKind.Reshape ? ReshapeRule : SqueezeRule;

    public override SameScale SameScale(OpKind kind) => Operators.SameScale.OutputAsInput;

    public override int? QuantizedVersion(OpKind kind) => 1;

    // TFLM's RESHAPE and SQUEEZE copy (or share) the bytes and check no quantization; so does the alias.
    public override bool CopiesBytesAsTflm(OpKind kind) => true;

    public override bool IsAlias(OpKind kind) => true;

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        Expect(input.ElementCount == output.ElementCount && input.Type == output.Type, $"{input.Shape} and {output.Shape} are not the same bytes");
        Expect(!input.IsConstant, "reshaping a constant is not supported");
    }
}

/// <summary>PAD and PADV2 (constant padding, up to rank 6): the kernel copies the input's bytes and fills with the
/// output's zero point (PAD) or the given value (PADV2).</summary>
internal sealed class Pad : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Pad, OpKind.PadV2 };

    private static readonly OperatorRule PadRule = new(4, 2, 2, AnyMovable);
    private static readonly OperatorRule PadV2Rule = new(4, 3, 3, AnyMovable);

    public override OperatorRule Rule(OpKind kind) => kind == OpKind.Pad ? PadRule : PadV2Rule;

    // The bytes are copied unchanged, so an int8 output means the same values only with the input's scale and zero
    // point, as the int8 specification requires (TFLM's PadPrepare does not check it: TML1018, a warning).
    public override SameScale SameScale(OpKind kind) => Operators.SameScale.OutputAsInput;

    // TFLM's PAD copies the input's bytes and fills with the output's zero point (PAD) or the value (PADV2), as tml_pad.
    public override bool CopiesBytesAsTflm(OpKind kind) => true;

    public override void CheckSpecification(OperatorValidation validation, Operator op, Tensor input, Tensor output)
    {
        // TFLM's PadPrepare: the PADV2 value must be in the output's quantization.
        if (op.Kind == OpKind.PadV2 && validation.Graph.Input(op, 2) is { } value && output.Quantization is { HasScales: true } oq)
            validation.Require(value.Quantization is { HasScales: true } vq && vq.Scale == oq.Scale && vq.ZeroPoint == oq.ZeroPoint,
                "the PADV2 constant value must have the output's quantization", output);
    }

    public override int? QuantizedVersion(OpKind kind) => kind == OpKind.Pad ? 2 : null;

    // Padding on height and width only is a one-tap window whose top/left padding is the PAD's; the tile call keeps
    // the filled value (Lowerer.Patches re-targets pad_before and pad_after).
    public override (Window Height, Window Width)? PatchWindows(Graph graph, Operator op)
    {
        if (graph.Input(op, 0)?.Shape is not { Count: 4 } shape || PatchGraph.ConstantInts(graph, op.Inputs[1]) is not { Length: 8 } p) return null;
        if (p.Any(x => x < 0) || p[0] != 0 || p[1] != 0 || p[6] != 0 || p[7] != 0) return null;
        var output = graph.Output(op, 0).Shape;
        if (output.Count != 4 || output[1] != (long)p[2] + shape[1] + p[3] || output[2] != (long)p[4] + shape[2] + p[5] || output[3] != shape[3]) return null;
        return (new Window(1, 1, 1, p[2]), new Window(1, 1, 1, p[4]));
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        int rank = input.Shape.Count;
        var paddings = context.ConstantInts(op.Inputs[1], "paddings");
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
            var constant = context.T(op.Inputs[2]);
            Expect(constant.Data is { Length: > 0 } && constant.Type == input.Type, "the PADV2 value must be a constant of the input type");
            value = constant.Data!.Value.Slice(0, size).ToArray();
        }
        else if (input.Type != DataType.Float32)
        {
            value = BitConverter.GetBytes(Q(output).ZeroPoint).Take(size).ToArray();
        }
        context.Call("tml_pad", $"{input.Shape} -> {output.Shape}", Arg.Struct("tml_pad_params",
            new[] { Field.I("rank", rank) }.Concat(FieldArray("input_dims", input.Shape.ToArray())).Concat(FieldArray("pad_before", before)).Concat(FieldArray("pad_after", after)).ToArray()),
            Arg.Int32(size), Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Constant(value)), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}

/// <summary>TRANSPOSE by a constant permutation (up to rank 6).</summary>
internal sealed class Transpose : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Transpose };

    private static readonly OperatorRule TransposeRule = new(6, 2, 2, AnyMovable);

    public override OperatorRule Rule(OpKind kind) => TransposeRule;

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

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        var perm = context.ConstantInts(op.Inputs[1], "perm");
        int rank = input.Shape.Count;
        Expect(rank >= 1 && rank <= 6 && perm.Length == rank && perm.OrderBy(p => p).SequenceEqual(Enumerable.Range(0, rank)), $"perm {Shapes.Format(perm)} is not a permutation of {rank} axes");
        var strides = DenseStrides(input.Shape);
        ExpectShape(output, perm.Select(p => input.Shape[p]).ToArray());
        context.Call("tml_transpose", $"perm {Shapes.Format(perm)}: {input.Shape} -> {output.Shape}", Arg.Struct("tml_transpose_params",
            new[] { Field.I("rank", rank) }.Concat(FieldArray("output_dims", output.Shape.ToArray())).Concat(FieldArray("input_strides", perm.Select(p => strides[p]).ToArray())).ToArray()),
            Arg.Int32(ElementSize(input)), Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}

/// <summary>STRIDED_SLICE with constant bounds (up to rank 5; no ellipsis or new axes).</summary>
internal sealed class StridedSlice : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.StridedSlice };

    private static readonly OperatorRule StridedSliceRule = new(8, 3, 4, AnyMovable, StridedSliceOptions.Union);

    public override OperatorRule Rule(OpKind kind) => StridedSliceRule;

    private static int Clamp(int value, int min, int max) => Math.Max(min, Math.Min(max, value));

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        var opt = op.OptionsAs<StridedSliceOptions>() ?? throw Fail("missing StridedSliceOptions");
        Expect(opt.EllipsisMask == 0 && opt.NewAxisMask == 0, "ellipsis and new-axis masks are not supported");
        int rank = input.Shape.Count;
        var begin = context.ConstantInts(op.Inputs[1], "begin");
        var end = context.ConstantInts(op.Inputs[2], "end");
        var strides = op.Inputs.Count > 3 ? context.ConstantInts(op.Inputs[3], "strides") : Enumerable.Repeat(1, rank).ToArray();
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
        context.Call("tml_strided_slice", $"{input.Shape} -> {output.Shape}", Arg.Struct("tml_strided_slice_params",
            new[] { Field.I("rank", rank) }.Concat(FieldArray("input_dims", input.Shape.ToArray())).Concat(FieldArray("start", start)).Concat(FieldArray("stride", strides)).Concat(FieldArray("count", count)).ToArray()),
            Arg.Int32(ElementSize(input)), Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}

/// <summary>CONCATENATION along one axis, of any number of inputs.</summary>
internal sealed class Concatenation : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Concatenation };

    private static readonly OperatorRule ConcatenationRule = new(4, 1, int.MaxValue, AnyMovable, ConcatenationOptions.Union);

    public override OperatorRule Rule(OpKind kind) => ConcatenationRule;

    // The kernel copies bytes, so every input must already be in the output's quantization.
    public override SameScale SameScale(OpKind kind) => Operators.SameScale.InputsAsOutput;

    public override int? QuantizedVersion(OpKind kind) => 2;

    public override Activation FusedActivation(Operator op) => op.OptionsAs<ConcatenationOptions>()?.Activation ?? Activation.None;

    public override void Lower(LoweringContext context, Operator op)
    {
        var output = context.T(op.Outputs[0]);
        var opt = op.OptionsAs<ConcatenationOptions>() ?? throw Fail("missing ConcatenationOptions");
        Expect(opt.Activation == Activation.None, "a fused activation on CONCATENATION is not supported");
        int rank = output.Shape.Count;
        int axis = opt.Axis < 0 ? opt.Axis + rank : opt.Axis;
        Expect(axis >= 0 && axis < rank, $"axis {opt.Axis} is outside rank {rank}");
        var inputs = op.Inputs.Select(context.T).ToList();
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
        var copySizes = context.Int32Blob(inputs.Select(t => t.Shape[axis] * inner));
        context.Call("tml_concat", $"{inputs.Count} inputs along axis {axis} -> {output.Shape}", Arg.Struct("tml_concat_params",
            Field.I("num_inputs", inputs.Count), Field.I("outer_size", outer), Field.P("copy_sizes", copySizes)),
            Arg.Int32(ElementSize(output)), Arg.PointerArray(op.Inputs.Select(context.Ptr).ToArray()), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}
