// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>RESIZE_NEAREST_NEIGHBOR (int8, int16, float32: it copies pixels) and RESIZE_BILINEAR (int8 with TFLM's
/// integer arithmetic, float32) of NHWC tensors to a constant int32 [2] size, with align_corners and
/// half_pixel_centers.</summary>
internal sealed class Resize : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.ResizeNearestNeighbor, OpKind.ResizeBilinear };

    private static readonly OperatorRule NearestRule = new(4, 2, 2, new[] { (I8, I8), (I16, I16), (F32, F32) }, ResizeNearestNeighborOptions.Union);
    private static readonly OperatorRule BilinearRule = new(3, 2, 2, Int8OrFloat, ResizeBilinearOptions.Union);

    public override OperatorRule Rule(OpKind kind) => kind == OpKind.ResizeBilinear ? BilinearRule : NearestRule;

    // Both read the input's integers as they are: the output means the same values only with the input's scale.
    public override SameScale SameScale(OpKind kind) => Operators.SameScale.OutputAsInput;

    // TFLM's Prepare checks no quantization and its kernels work on the raw integers, as ours do.
    public override bool CopiesBytesAsTflm(OpKind kind) => true;

    private static (bool AlignCorners, bool HalfPixelCenters) Flags(Operator op) => op.Options switch
    {
        ResizeBilinearOptions o => (o.AlignCorners, o.HalfPixelCenters),
        ResizeNearestNeighborOptions o => (o.AlignCorners, o.HalfPixelCenters),
        _ => (false, false),
    };

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        // TFLM's RESIZE_BILINEAR Prepare fails on both flags.
        if (op.Kind == OpKind.ResizeBilinear && Flags(op) == (true, true))
            validation.Report(DiagnosticIds.InvalidOperator, "RESIZE_BILINEAR cannot have both align_corners and half_pixel_centers");
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        var dims = Nhwc(input, "input");
        var size = context.ConstantInts(op.Inputs[1], "the size");
        Expect(size.Length == 2, $"the size must hold 2 values (height, width), not {size.Length}");
        Expect(size[0] >= 1 && size[1] >= 1, $"the size {Shapes.Format(size)} must be positive");
        Expect(dims[1] >= 1 && dims[2] >= 1, $"the input {input.Shape} is empty");
        ExpectShape(output, new[] { dims[0], size[0], size[1], dims[3] });
        var (align, half) = Flags(op);
        bool bilinear = op.Kind == OpKind.ResizeBilinear;
        Expect(!(bilinear && align && half), "RESIZE_BILINEAR cannot have both align_corners and half_pixel_centers");
        var parameters = Arg.Struct("tml_resize_params",
            Field.I("batches", dims[0]), Field.I("input_height", dims[1]), Field.I("input_width", dims[2]), Field.I("depth", dims[3]),
            Field.I("output_height", size[0]), Field.I("output_width", size[1]),
            Field.I("align_corners", align ? 1 : 0), Field.I("half_pixel_centers", half ? 1 : 0));
        string comment = $"{input.Shape} -> {output.Shape}{(align ? " align_corners" : "")}{(half ? " half_pixel_centers" : "")}";
        if (!bilinear)
        {
            context.Call("tml_resize_nearest", comment, parameters, Arg.Int32(ElementSize(input)),
                Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        if (!context.IsFloat(op))
        {
            // The 10-bit fixed-point positions: 1024 x size, and the rounding of the scale, must stay in int32.
            Expect(dims[1] < 1 << 20 && dims[2] < 1 << 20 && size[0] < 1 << 20 && size[1] < 1 << 20,
                $"int8 RESIZE_BILINEAR {input.Shape} -> {output.Shape} overflows TFLM's int32 positions (sizes below 2^20)");
        }
        context.Call(context.IsFloat(op) ? "tml_resize_bilinear_f32" : "tml_resize_bilinear_s8", comment, parameters,
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}

/// <summary>DEPTH_TO_SPACE and SPACE_TO_DEPTH (int8, int16, float32) of NHWC tensors by block_size, TFLite's DCR
/// order.</summary>
internal sealed class SpaceDepth : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.DepthToSpace, OpKind.SpaceToDepth };

    private static readonly (DataType, DataType)[] Movable = { (I8, I8), (I16, I16), (F32, F32) };
    private static readonly OperatorRule DepthToSpaceRule = new(2, 1, 1, Movable, DepthToSpaceOptions.Union);
    private static readonly OperatorRule SpaceToDepthRule = new(2, 1, 1, Movable, SpaceToDepthOptions.Union);

    public override OperatorRule Rule(OpKind kind) => kind == OpKind.DepthToSpace ? DepthToSpaceRule : SpaceToDepthRule;

    public override SameScale SameScale(OpKind kind) => Operators.SameScale.OutputAsInput;

    // TFLM moves the bytes and checks no quantization.
    public override bool CopiesBytesAsTflm(OpKind kind) => true;

    private static int BlockSize(Operator op) => op.Options switch
    {
        DepthToSpaceOptions o => o.BlockSize,
        SpaceToDepthOptions o => o.BlockSize,
        _ => 0,
    };

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        if (BlockSize(op) < 1)
            validation.Report(DiagnosticIds.InvalidOperator, $"{op.TypeName} block_size {BlockSize(op)} must be at least 1");
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var output = context.T(op.Outputs[0]);
        var dims = Nhwc(input, "input");
        int block = BlockSize(op);
        Expect(block >= 1, $"block_size {block} must be at least 1");
        long area = (long)block * block;
        int[] spatial;
        if (op.Kind == OpKind.DepthToSpace)
        {
            Expect(dims[3] % area == 0, $"input depth {dims[3]} is not a multiple of block_size^2 = {area}");
            Expect((long)dims[1] * block <= int.MaxValue && (long)dims[2] * block <= int.MaxValue, $"block_size {block} makes the output too large");
            spatial = new[] { dims[0], dims[1] * block, dims[2] * block, (int)(dims[3] / area) };
            ExpectShape(output, spatial);
        }
        else
        {
            Expect(dims[1] % block == 0 && dims[2] % block == 0, $"input height {dims[1]} and width {dims[2]} must be multiples of block_size {block}");
            Expect(dims[3] * area <= int.MaxValue, $"block_size {block} makes the output depth too large");
            spatial = dims;
            ExpectShape(output, new[] { dims[0], dims[1] / block, dims[2] / block, (int)(dims[3] * area) });
        }
        context.Call(op.Kind == OpKind.DepthToSpace ? "tml_depth_to_space" : "tml_space_to_depth", $"block {block}: {input.Shape} -> {output.Shape}",
            Arg.Struct("tml_space_depth_params", Field.I("batches", spatial[0]), Field.I("height", spatial[1]), Field.I("width", spatial[2]),
                Field.I("depth", spatial[3]), Field.I("block_size", block)),
            Arg.Int32(ElementSize(input)), Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}
