// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Onnx;

/// <summary>
/// QuantizeLinear and DequantizeLinear, and the QOperator forms (QLinearConv, QLinearMatMul) as DequantizeLinear, the
/// float operator and QuantizeLinear. On constants they are evaluated (a dequantized constant keeps its integers); at
/// run time they become QUANTIZE and DEQUANTIZE, which <see cref="QdqFusion"/> then removes around every operator that
/// has an int8 kernel.
/// </summary>
internal sealed partial class OnnxImporter
{
    /// <summary>The affine parameters of a (De)QuantizeLinear: per tensor, or per channel along an axis of <paramref name="rank"/>.</summary>
    private (float[] Scales, long[] ZeroPoints, int Axis, int Type) QuantParameters(OnnxNode node, int scaleInput, int zeroPointInput, int rank, int[] shape, int defaultType)
    {
        if (node.Int("block_size", 0) != 0) throw Refuse(DiagnosticIds.UnsupportedOperator, "blocked quantization (block_size) is not supported");
        var scale = RequireConstant(node, scaleInput, "scale");
        var zeroPoint = node.HasInput(zeroPointInput) ? RequireConstant(node, zeroPointInput, "zero point") : null;
        int axis = scale.Count > 1 || scale.Shape.Length == 1 && scale.Shape[0] > 1 ? Axis(node.Int("axis", 1), rank) : 0;
        if (scale.Shape.Length > 1 || scale.Count > 1 && scale.Count != shape[axis])
            throw Refuse(DiagnosticIds.InconsistentQuantization, $"{scale.Count} scales do not fit axis {axis} of {Shapes.Format(shape)}");
        if (zeroPoint is not null && zeroPoint.Count != scale.Count)
            throw Refuse(DiagnosticIds.InconsistentQuantization, $"{zeroPoint.Count} zero points for {scale.Count} scales");
        var scales = scale.AsFloats();
        if (scales.Any(s => !(s > 0) || float.IsInfinity(s))) throw Refuse(DiagnosticIds.InconsistentQuantization, $"scale {scales.First(s => !(s > 0) || float.IsInfinity(s))} is not positive and finite");
        int type = zeroPoint?.Type ?? (int)node.Int("output_dtype", defaultType);
        if (type == 0) type = defaultType;
        return (scales, zeroPoint?.AsInts() ?? new long[scales.Length], axis, type);
    }

    private static (long Min, long Max) Range(int type) => type switch
    {
        OnnxTypes.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        OnnxTypes.UInt8 => (0, byte.MaxValue),
        OnnxTypes.Int16 => (short.MinValue, short.MaxValue),
        OnnxTypes.UInt16 => (0, ushort.MaxValue),
        OnnxTypes.Int32 => (int.MinValue, int.MaxValue),
        _ => throw Refuse(DiagnosticIds.UnsupportedTypeCombination, $"quantization to {OnnxTypes.Name(type)} is not supported (int8, uint8, int16)"),
    };

    private void DequantizeLinear(OnnxNode node)
    {
        var x = Value(node.Input(0));
        var (scales, zeroPoints, axis, _) = QuantParameters(node, 1, 2, x.Rank, x.Shape, x.Type);
        if (x.Constant is { } c)
        {
            if (c.IsFloat) throw Refuse(DiagnosticIds.UnsupportedTypeCombination, $"DequantizeLinear of a {OnnxTypes.Name(c.Type)} constant");
            int inner = c.Shape.Skip(axis + 1).Aggregate(1, (p, d) => p * d);
            var values = new float[c.Count];
            for (int i = 0; i < values.Length; i++)
            {
                int k = scales.Length == 1 ? 0 : i / inner % scales.Length;
                values[i] = (c.Int(i) - zeroPoints[k]) * scales[k];
            }
            var quantized = new QuantizedConstant(c, scales, zeroPoints, axis);
            Define(node.Output(0), new OnnxValue(node.Output(0), OnnxTypes.Float, c.Shape) { Constant = new OnnxConstant(OnnxTypes.Float, c.Shape, null, values) { Quantized = quantized } });
            return;
        }
        if (scales.Length > 1) throw Refuse(DiagnosticIds.UnsupportedOperator, "per-channel dequantization of a run-time tensor is not supported");
        var tensor = _graph.Tensors[x.Tensor];
        if (tensor.Type is not (DataType.Int8 or DataType.Int16))
            throw Refuse(DiagnosticIds.UnsupportedTypeCombination, $"DequantizeLinear of a run-time {OnnxTypes.Name(x.Type)} tensor is not supported (int8, or uint8 that a QuantizeLinear wrote)");
        long shift = x.Type == OnnxTypes.UInt8 ? -128 : 0;
        var quantization = Ir.Quantization.PerTensor(scales[0], zeroPoints[0] + shift);
        if (tensor.Quantization is null) tensor.Quantization = quantization;
        else if (tensor.Quantization.Scale != quantization.Scale || tensor.Quantization.ZeroPoint != quantization.ZeroPoint)
            throw Refuse(DiagnosticIds.UnsupportedOperator, $"'{x.Name}' is dequantized with scale {scales[0]} and zero point {zeroPoints[0]}, but was quantized with others");
        int input = x.Tensor;
        // One DEQUANTIZE per tensor (QOperator nodes each dequantize their inputs), so layout moves happen once.
        if (_dequantized.TryGetValue(input, out var done) && done.Layout.SequenceEqual(x.Layout))
        {
            Define(node.Output(0), new OnnxValue(node.Output(0), OnnxTypes.Float, x.Shape) { Tensor = done.Tensor, Layout = done.Layout });
            return;
        }
        _dequantized[input] = Produce(node.Output(0), OnnxTypes.Float, x.Shape, x.Layout, t => Emit(OpKind.Dequantize, new[] { input }, new[] { t }));
    }

    private void QuantizeLinear(OnnxNode node)
    {
        var x = Value(node.Input(0));
        // Without a zero point the output is uint8 (opset 21 added output_dtype).
        var (scales, zeroPoints, axis, type) = QuantParameters(node, 1, 2, x.Rank, x.Shape, OnnxTypes.UInt8);
        var (min, max) = Range(type);
        if (node.Int("saturate", 1) == 0) throw Refuse(DiagnosticIds.UnsupportedOperator, "saturate=0 applies to float8 only");
        if (x.Constant is { } c)
        {
            int inner = c.Shape.Skip(axis + 1).Aggregate(1, (p, d) => p * d);
            var q = new long[c.Count];
            for (int i = 0; i < q.Length; i++)
            {
                int k = scales.Length == 1 ? 0 : i / inner % scales.Length;
                // ONNX rounds half to even.
                q[i] = Math.Min(Math.Max((long)Math.Round((double)(c.Float(i) / scales[k]), MidpointRounding.ToEven) + zeroPoints[k], min), max);
            }
            Define(node.Output(0), new OnnxValue(node.Output(0), type, c.Shape) { Constant = new OnnxConstant(type, c.Shape, q, null) });
            return;
        }
        if (scales.Length > 1) throw Refuse(DiagnosticIds.UnsupportedOperator, "per-channel quantization of a run-time tensor is not supported");
        if (_graph.Tensors[x.Tensor].Type != DataType.Float32) throw Refuse(DiagnosticIds.UnsupportedTypeCombination, $"QuantizeLinear of a run-time {OnnxTypes.Name(x.Type)} tensor is not supported");
        // Our kernels are int8: uint8 is held as int8, q - 128 with the zero point less 128, which is exact.
        var (irType, shift) = type switch
        {
            OnnxTypes.Int8 => (DataType.Int8, 0L),
            OnnxTypes.UInt8 => (DataType.Int8, -128L),
            OnnxTypes.Int16 when zeroPoints[0] == 0 => (DataType.Int16, 0L),
            _ => throw Refuse(DiagnosticIds.UnsupportedTypeCombination, $"run-time quantization to {OnnxTypes.Name(type)} with zero point {zeroPoints[0]} is not supported (int8, uint8, int16 with zero point 0)"),
        };
        int input = x.Tensor;
        var value = Produce(node.Output(0), type, x.Shape, x.Layout, t => Emit(OpKind.Quantize, new[] { input }, new[] { t }));
        var tensor = _graph.Tensors[value.Tensor];
        tensor.Type = irType;
        tensor.Quantization = Ir.Quantization.PerTensor(scales[0], zeroPoints[0] + shift);
    }

    /// <summary>A QOperator node's quantized operand: value, scale and zero-point inputs, and the axis of per-channel scales.</summary>
    private readonly record struct QOperand(int Value, int Scale, int ZeroPoint, int Axis = 0);

    /// <summary>
    /// A QOperator node as its QDQ form: each operand through DequantizeLinear, the float operator
    /// <paramref name="floatOp"/> with the node's attributes (what <paramref name="complete"/> adds, such as a bias,
    /// goes in before it is converted), and QuantizeLinear with the output scale and zero point.
    /// </summary>
    private void QLinear(OnnxNode node, string floatOp, QOperand[] operands, int outputScale, int outputZeroPoint, Action<Proto.NodeProto>? complete = null)
    {
        var floatNode = new Proto.NodeProto { OpType = floatOp, Name = node.Proto.Name };
        for (int k = 0; k < operands.Length; k++)
        {
            var (value, scale, zeroPoint, axis) = operands[k];
            string output = node.Name($"input{k}_dequantized");
            var dq = new Proto.NodeProto { OpType = "DequantizeLinear", Name = node.Name($"dequantize_input{k}") };
            dq.Input.Add(new[] { node.Input(value), node.Input(scale) });
            if (node.HasInput(zeroPoint)) dq.Input.Add(node.Input(zeroPoint));
            dq.Output.Add(output);
            dq.Attribute.Add(new Proto.AttributeProto { Name = "axis", I = axis, Type = Proto.AttributeProto.Types.AttributeType.Int });
            DequantizeLinear(new OnnxNode(dq, node.Index));
            floatNode.Input.Add(output);
        }
        complete?.Invoke(floatNode);
        floatNode.Output.Add(node.Name("float_output"));
        floatNode.Attribute.Add(node.Proto.Attribute);
        Converters[floatOp](this, new OnnxNode(floatNode, node.Index));
        Requantized(node, floatNode.Output[0], outputScale, outputZeroPoint);
    }

    /// <summary>Quantizes a float node output as a QOperator's output: y_scale and y_zero_point are inputs of <paramref name="node"/>.</summary>
    private void Requantized(OnnxNode node, string floatOutput, int scale, int zeroPoint)
    {
        var q = new Proto.NodeProto { OpType = "QuantizeLinear", Name = node.Name("quantize_output") };
        q.Input.Add(floatOutput);
        q.Input.Add(node.Input(scale));
        q.Input.Add(node.Input(zeroPoint));
        q.Output.Add(node.Output(0));
        QuantizeLinear(new OnnxNode(q, node.Index));
    }

    private void QLinearConv(OnnxNode node)
    {
        // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B (int32 at x_scale * w_scale):
        // per-channel weight scales run along the output channels, axis 0.
        QLinear(node, "Conv", new[] { new QOperand(0, 1, 2), new QOperand(3, 4, 5, 0) }, 6, 7, conv =>
        {
            if (!node.HasInput(8)) return;
            var b = RequireConstant(node, 8, "bias");
            var xScale = RequireConstant(node, 1, "x_scale").Float(0);
            var wScales = RequireConstant(node, 4, "w_scale").AsFloats();
            var scales = Enumerable.Range(0, wScales.Length == 1 ? 1 : b.Count).Select(i => xScale * wScales[i]).ToArray();
            var values = Enumerable.Range(0, b.Count).Select(i => b.Int(i) * scales[scales.Length == 1 ? 0 : i]).ToArray();
            conv.Input.Add(DefineConstant(node.Name("bias_dequantized"), new OnnxConstant(OnnxTypes.Float, b.Shape, null, values) { Quantized = new QuantizedConstant(b, scales, new long[scales.Length], 0) }));
        });
    }

    // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point; B's per-channel scales along axis 1.
    private void QLinearMatMul(OnnxNode node) => QLinear(node, "MatMul", new[] { new QOperand(0, 1, 2), new QOperand(3, 4, 5, 1) }, 6, 7);

    // onnxruntime's QOperator contrib operators (com.microsoft): the same, for the operators around convolutions.
    private void QLinearBinary(OnnxNode node, string floatOp) => QLinear(node, floatOp, new[] { new QOperand(0, 1, 2), new QOperand(3, 4, 5) }, 6, 7);

    private void QLinearUnary(OnnxNode node, string floatOp)
    {
        if (node.Int("channels_last", 0) != 0) throw Refuse(DiagnosticIds.UnsupportedOperator, "channels_last=1 is not supported");
        QLinear(node, floatOp, new[] { new QOperand(0, 1, 2) }, 3, 4);
    }

    // y_scale, y_zero_point, then (x, x_scale, x_zero_point) per input.
    private void QLinearConcat(OnnxNode node) =>
        QLinear(node, "Concat", Enumerable.Range(0, (node.InputCount - 2) / 3).Select(i => new QOperand(2 + 3 * i, 3 + 3 * i, 4 + 3 * i)).ToArray(), 0, 1);
}
