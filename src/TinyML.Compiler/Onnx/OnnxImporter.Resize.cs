// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Onnx;

/// <summary>
/// Resize and Upsample onto TFLite's RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR, DepthToSpace and SpaceToDepth, Elu.
/// ONNX's resize has many coordinate rules; TFLite's two flags (align_corners, half_pixel_centers) express some of
/// them. Nearest: the importer computes ONNX's source index for every output row and column (the shapes are static)
/// and takes the flags whose indices are the same, so the mapping is exact by construction. Linear: the coordinate
/// rules that are TFLite's formulas map to their flags.
/// </summary>
internal sealed partial class OnnxImporter
{
    private void Resize(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        if (x.Rank != 4) throw Refuse(DiagnosticIds.UnsupportedOperator, $"only resizing of 4-D NCHW tensors is supported (input {Shapes.Format(x.Shape)})");
        bool upsample = node.OpType == "Upsample";
        string mode = node.String("mode", "nearest");
        string transform = upsample ? "asymmetric" : node.String("coordinate_transformation_mode", "half_pixel");
        string nearestMode = upsample ? "floor" : node.String("nearest_mode", "round_prefer_floor");
        if (node.Int("antialias", 0) != 0) throw Refuse(DiagnosticIds.UnsupportedOperator, "antialiased resizing is not supported");
        if (node.Has("axes")) throw Refuse(DiagnosticIds.UnsupportedOperator, "resizing with axes is not supported");
        if (node.String("keep_aspect_ratio_policy", "stretch") != "stretch") throw Refuse(DiagnosticIds.UnsupportedOperator, "keep_aspect_ratio_policy other than stretch is not supported");

        // Scales (Upsample: an attribute before opset 9, then input 1; Resize: input 2 from opset 11, input 1 before)
        // or sizes (Resize, input 3).
        float[]? scales = null;
        int[] sizes;
        int scalesInput = upsample || _opset < 11 ? 1 : 2;
        if (upsample && _opset < 9) scales = node.Floats("scales") ?? throw Refuse(DiagnosticIds.InvalidOperator, "scales are required");
        else if (node.HasInput(scalesInput) && RequireConstant(node, scalesInput, "scales") is { Count: > 0 } s) scales = s.AsFloats();
        if (scales is not null)
        {
            if (scales.Length != 4 || scales[0] != 1 || scales[1] != 1 || scales.Any(v => !(v > 0)))
                throw Refuse(DiagnosticIds.UnsupportedOperator, $"scales [{string.Join(",", scales)}] must resize only height and width");
            sizes = x.Shape.Select((d, i) => (int)Math.Floor(d * (double)scales[i])).ToArray();
        }
        else
        {
            var given = RequireConstant(node, 3, "sizes").AsInts();
            if (given.Length != 4 || given[0] != x.Shape[0] || given[1] != x.Shape[1] || given.Any(d => d < 1 || d > 1 << 16))
                throw Refuse(DiagnosticIds.UnsupportedOperator, $"sizes [{string.Join(",", given)}] must resize only height and width");
            sizes = given.Select(d => (int)d).ToArray();
        }
        int outH = sizes[2], outW = sizes[3];
        if (outH < 1 || outW < 1) throw Refuse(DiagnosticIds.InvalidShape, $"the output {outH}x{outW} is empty");
        // ONNX's coordinate rules use the given scale; TFLite's, input over output size: the same only when exact.
        double scaleH = scales?[2] ?? (double)outH / x.Shape[2], scaleW = scales?[3] ?? (double)outW / x.Shape[3];

        (bool AlignCorners, bool HalfPixel)? flags = mode switch
        {
            "nearest" => new[] { (false, false), (false, true), (true, false), (true, true) }.Cast<(bool, bool)?>().FirstOrDefault(f =>
                NearestIndices(x.Shape[2], outH, f!.Value).SequenceEqual(OnnxNearestIndices(x.Shape[2], outH, scaleH, transform, nearestMode))
                && NearestIndices(x.Shape[3], outW, f.Value).SequenceEqual(OnnxNearestIndices(x.Shape[3], outW, scaleW, transform, nearestMode))),
            "linear" or "bilinear" => transform switch
            {
                _ when Math.Abs(scaleH * x.Shape[2] - outH) > 1e-6 || Math.Abs(scaleW * x.Shape[3] - outW) > 1e-6 => null,
                "half_pixel" => (false, true),
                "pytorch_half_pixel" when outH > 1 && outW > 1 => (false, true),
                "align_corners" => (true, false),
                "asymmetric" => (false, false),
                _ => null,
            },
            _ => throw Refuse(DiagnosticIds.UnsupportedOperator, $"mode '{mode}' is not supported (nearest, linear)"),
        };
        if (flags is not { } f)
            throw Refuse(DiagnosticIds.UnsupportedOperator, $"{mode} resizing with coordinate_transformation_mode '{transform}'{(mode == "nearest" ? $" and nearest_mode '{nearestMode}'" : "")} from {x.Shape[2]}x{x.Shape[3]} to {outH}x{outW} has no TFLite equivalent");
        int input = TensorIn(x, ChannelsLast(4));
        int size = AddInts(node.Name("size"), outH, outW);
        var kind = mode == "nearest" ? OpKind.ResizeNearestNeighbor : OpKind.ResizeBilinear;
        OperatorOptions options = kind == OpKind.ResizeNearestNeighbor ? new ResizeNearestNeighborOptions(f.AlignCorners, f.HalfPixel) : new ResizeBilinearOptions(f.AlignCorners, f.HalfPixel);
        Produce(node.Output(0), x.Type, new[] { x.Shape[0], x.Shape[1], outH, outW }, ChannelsLast(4), t => Emit(kind, new[] { input, size }, new[] { t }, options));
    }

    /// <summary>TFLite's nearest source index per output index (TFLM's reference, in float as it computes).</summary>
    private static int[] NearestIndices(int input, int output, (bool AlignCorners, bool HalfPixel) flags)
    {
        float scale = flags.AlignCorners && output > 1 ? (input - 1) / (float)(output - 1) : input / (float)output;
        float offset = flags.HalfPixel ? 0.5f : 0f;
        return Enumerable.Range(0, output).Select(o =>
        {
            float at = (o + offset) * scale;
            int index = flags.AlignCorners ? (int)Math.Round(at, MidpointRounding.AwayFromZero) : (int)Math.Floor(at);
            index = Math.Min(index, input - 1);
            return flags.HalfPixel ? Math.Max(0, index) : index;
        }).ToArray();
    }

    /// <summary>ONNX's nearest source index per output index (the Resize specification's coordinate rules and nearest modes).</summary>
    private static int[] OnnxNearestIndices(int input, int output, double scale, string transform, string nearestMode) =>
        Enumerable.Range(0, output).Select(o =>
        {
            double at = transform switch
            {
                "half_pixel" => (o + 0.5) / scale - 0.5,
                "pytorch_half_pixel" => output > 1 ? (o + 0.5) / scale - 0.5 : 0,
                "align_corners" => output == 1 ? 0 : o * (input - 1) / (double)(output - 1),
                "asymmetric" => o / scale,
                "tf_half_pixel_for_nn" => (o + 0.5) / scale,
                _ => double.NaN,
            };
            if (double.IsNaN(at)) return -1;
            double fraction = at - Math.Floor(at);
            int index = nearestMode switch
            {
                "floor" => (int)Math.Floor(at),
                "ceil" => (int)Math.Ceiling(at),
                "round_prefer_ceil" => fraction == 0.5 ? (int)Math.Ceiling(at) : (int)Math.Round(at),
                _ => fraction == 0.5 ? (int)Math.Floor(at) : (int)Math.Round(at),
            };
            return Math.Min(Math.Max(index, 0), input - 1);
        }).ToArray();

    /// <summary>DepthToSpace (DCR, TFLite's order) and SpaceToDepth.</summary>
    private void BlockRearrange(OnnxNode node, OpKind kind)
    {
        var x = RunTimeInput(node, 0);
        if (x.Rank != 4) throw Refuse(DiagnosticIds.UnsupportedOperator, $"only 4-D NCHW tensors are supported (input {Shapes.Format(x.Shape)})");
        int block = checked((int)node.Int("blocksize", 0));
        if (block < 2) throw Refuse(DiagnosticIds.InvalidOperator, $"blocksize {block} must be 2 or more");
        if (node.String("mode", "DCR") != "DCR") throw Refuse(DiagnosticIds.UnsupportedOperator, "DepthToSpace in CRD mode is not supported (TFLite's order is DCR)");
        int[] shape;
        if (kind == OpKind.DepthToSpace)
        {
            if (x.Shape[1] % (block * block) != 0) throw Refuse(DiagnosticIds.InvalidShape, $"{x.Shape[1]} channels do not divide into blocks of {block}x{block}");
            shape = new[] { x.Shape[0], x.Shape[1] / (block * block), x.Shape[2] * block, x.Shape[3] * block };
        }
        else
        {
            if (x.Shape[2] % block != 0 || x.Shape[3] % block != 0) throw Refuse(DiagnosticIds.InvalidShape, $"{x.Shape[2]}x{x.Shape[3]} does not divide into blocks of {block}");
            shape = new[] { x.Shape[0], x.Shape[1] * block * block, x.Shape[2] / block, x.Shape[3] / block };
        }
        int input = TensorIn(x, ChannelsLast(4));
        OperatorOptions options = kind == OpKind.DepthToSpace ? new DepthToSpaceOptions(block) : new SpaceToDepthOptions(block);
        Produce(node.Output(0), x.Type, shape, ChannelsLast(4), t => Emit(kind, new[] { input }, new[] { t }, options));
    }

    private void Elu(OnnxNode node)
    {
        // TFLite's ELU has no alpha: it is 1.
        float alpha = node.Float("alpha", 1f);
        if (alpha != 1f) throw Refuse(DiagnosticIds.UnsupportedOperator, $"Elu with alpha {alpha} is not supported (TFLite's ELU has alpha 1)");
        Unary(node, OpKind.Elu);
    }
}
