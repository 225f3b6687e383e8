// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using Google.FlatBuffers;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Tflite;

/// <summary>
/// Writes the IR as a TFLite flatbuffer (schema v3, identifier TFL3). Constant data goes into 16-byte aligned
/// buffers, one per constant tensor, after the empty sentinel buffer 0.
/// </summary>
public static class TfliteWriter
{
    /// <summary>Serializes a model.</summary>
    public static byte[] Write(Model model)
    {
        var builder = new FlatBufferBuilder(64 * 1024);
        var buffers = new List<ReadOnlyMemory<byte>> { ReadOnlyMemory<byte>.Empty };
        var codes = new List<(OpKind Kind, string? Custom, int Version)>();

        var subgraphs = model.Subgraphs.Select(g => WriteGraph(builder, g, buffers, codes)).ToArray();
        var metadata = model.Metadata.Select(m =>
        {
            buffers.Add(m.Data);
            var name = builder.CreateString(m.Name);
            builder.StartTable(2);
            builder.AddOffset(0, name.Value, 0);
            builder.AddUint(1, (uint)(buffers.Count - 1), 0);
            return builder.EndTable();
        }).ToArray();
        var signatures = model.Signatures.Select(s => WriteSignature(builder, s)).ToArray();
        var codeTables = codes.Select(c =>
        {
            var custom = c.Custom is null ? default(StringOffset?) : builder.CreateString(c.Custom);
            builder.StartTable(4);
            // Codes below 127 also go in the deprecated byte, so that older readers understand them.
            builder.AddSbyte(0, (sbyte)Math.Min((int)c.Kind, 127), 0);
            if (custom is { } name) builder.AddOffset(1, name.Value, 0);
            builder.AddInt(2, c.Version, 1);
            builder.AddInt(3, (int)c.Kind, 0);
            return builder.EndTable();
        }).ToArray();
        var bufferTables = buffers.Select(data =>
        {
            int vector = data.Length == 0 ? 0 : ByteVector(builder, data, alignment: 16);
            builder.StartTable(3);
            if (vector != 0) builder.AddOffset(0, vector, 0);
            return builder.EndTable();
        }).ToArray();
        var description = model.Description is null ? default(StringOffset?) : builder.CreateString(model.Description);

        int codesVector = OffsetVector(builder, codeTables);
        int subgraphsVector = OffsetVector(builder, subgraphs);
        int buffersVector = OffsetVector(builder, bufferTables);
        int metadataVector = metadata.Length == 0 ? 0 : OffsetVector(builder, metadata);
        int signaturesVector = signatures.Length == 0 ? 0 : OffsetVector(builder, signatures);

        builder.StartTable(8);
        builder.AddUint(0, model.Version, 0);
        builder.AddOffset(1, codesVector, 0);
        builder.AddOffset(2, subgraphsVector, 0);
        if (description is { } text) builder.AddOffset(3, text.Value, 0);
        builder.AddOffset(4, buffersVector, 0);
        if (metadataVector != 0) builder.AddOffset(6, metadataVector, 0);
        if (signaturesVector != 0) builder.AddOffset(7, signaturesVector, 0);
        builder.Finish(builder.EndTable(), "TFL3");
        return builder.SizedByteArray();
    }

    private static int WriteGraph(FlatBufferBuilder builder, Graph graph, List<ReadOnlyMemory<byte>> buffers,
        List<(OpKind, string?, int)> codes)
    {
        var tensors = graph.Tensors.Select(t => WriteTensor(builder, t, buffers)).ToArray();
        var operators = graph.Operators.Select(op =>
        {
            var code = (op.Kind, op.CustomCode, op.Version);
            int codeIndex = codes.IndexOf(code);
            if (codeIndex < 0)
            {
                codes.Add(code);
                codeIndex = codes.Count - 1;
            }
            return WriteOperator(builder, op, (uint)codeIndex);
        }).ToArray();
        int tensorsVector = OffsetVector(builder, tensors);
        int inputs = IntVector(builder, graph.Inputs);
        int outputs = IntVector(builder, graph.Outputs);
        int operatorsVector = OffsetVector(builder, operators);
        var name = builder.CreateString(graph.Name);
        builder.StartTable(5);
        builder.AddOffset(0, tensorsVector, 0);
        builder.AddOffset(1, inputs, 0);
        builder.AddOffset(2, outputs, 0);
        builder.AddOffset(3, operatorsVector, 0);
        builder.AddOffset(4, name.Value, 0);
        return builder.EndTable();
    }

    private static int WriteTensor(FlatBufferBuilder builder, Tensor tensor, List<ReadOnlyMemory<byte>> buffers)
    {
        uint buffer = 0;
        if (tensor.Data is { } data)
        {
            buffers.Add(data);
            buffer = (uint)(buffers.Count - 1);
        }
        int shape = IntVector(builder, tensor.Shape);
        int signature = tensor.ShapeSignature is { } s ? IntVector(builder, s) : 0;
        var name = builder.CreateString(tensor.Name);
        int quantization = tensor.Quantization is { } q ? WriteQuantization(builder, q) : 0;
        builder.StartTable(10);
        builder.AddOffset(0, shape, 0);
        builder.AddByte(1, (byte)tensor.Type, 0);
        builder.AddUint(2, buffer, 0);
        builder.AddOffset(3, name.Value, 0);
        if (quantization != 0) builder.AddOffset(4, quantization, 0);
        builder.AddBool(5, tensor.IsVariable, false);
        if (signature != 0) builder.AddOffset(7, signature, 0);
        builder.AddBool(8, tensor.HasRank, false);
        return builder.EndTable();
    }

    private static int WriteQuantization(FlatBufferBuilder builder, Quantization q)
    {
        int min = q.Min.Count == 0 ? 0 : ScalarVector(builder, q.Min.ToArray(), 4);
        int max = q.Max.Count == 0 ? 0 : ScalarVector(builder, q.Max.ToArray(), 4);
        int scale = q.Scales.Count == 0 ? 0 : ScalarVector(builder, q.Scales.ToArray(), 4);
        int zeroPoint = q.ZeroPoints.Count == 0 ? 0 : ScalarVector(builder, q.ZeroPoints.ToArray(), 8);
        builder.StartTable(7);
        if (min != 0) builder.AddOffset(0, min, 0);
        if (max != 0) builder.AddOffset(1, max, 0);
        if (scale != 0) builder.AddOffset(2, scale, 0);
        if (zeroPoint != 0) builder.AddOffset(3, zeroPoint, 0);
        builder.AddInt(6, q.QuantizedDimension, 0);
        return builder.EndTable();
    }

    private static int WriteOperator(FlatBufferBuilder builder, Operator op, uint codeIndex)
    {
        int inputs = IntVector(builder, op.Inputs);
        int outputs = IntVector(builder, op.Outputs);
        int intermediates = op.Intermediates.Count == 0 ? 0 : IntVector(builder, op.Intermediates);
        int options = op.Options is null ? 0 : WriteOptions(builder, op.Options);
        int custom = op.CustomOptions is { } bytes ? ByteVector(builder, bytes, alignment: 1) : 0;
        builder.StartTable(9);
        builder.AddUint(0, codeIndex, 0);
        builder.AddOffset(1, inputs, 0);
        builder.AddOffset(2, outputs, 0);
        if (op.Options is not null)
        {
            builder.AddByte(3, op.Options.UnionType, 0);
            builder.AddOffset(4, options, 0);
        }
        if (custom != 0) builder.AddOffset(5, custom, 0);
        if (intermediates != 0) builder.AddOffset(8, intermediates, 0);
        return builder.EndTable();
    }

    private static int WriteOptions(FlatBufferBuilder b, OperatorOptions options)
    {
        int vector = options switch
        {
            ReshapeOptions { NewShape: { } shape } => IntVector(b, shape),
            SqueezeOptions o => IntVector(b, o.SqueezeDims),
            _ => 0,
        };
        switch (options)
        {
            case Conv2DOptions o:
                b.StartTable(7);
                b.AddByte(0, (byte)o.Padding, 0); b.AddInt(1, o.StrideW, 0); b.AddInt(2, o.StrideH, 0);
                b.AddByte(3, (byte)o.Activation, 0); b.AddInt(4, o.DilationW, 1); b.AddInt(5, o.DilationH, 1);
                break;
            case DepthwiseConv2DOptions o:
                b.StartTable(7);
                b.AddByte(0, (byte)o.Padding, 0); b.AddInt(1, o.StrideW, 0); b.AddInt(2, o.StrideH, 0);
                b.AddInt(3, o.DepthMultiplier, 0); b.AddByte(4, (byte)o.Activation, 0);
                b.AddInt(5, o.DilationW, 1); b.AddInt(6, o.DilationH, 1);
                break;
            case TransposeConvOptions o:
                b.StartTable(4);
                b.AddByte(0, (byte)o.Padding, 0); b.AddInt(1, o.StrideW, 0); b.AddInt(2, o.StrideH, 0);
                b.AddByte(3, (byte)o.Activation, 0);
                break;
            case Pool2DOptions o:
                b.StartTable(6);
                b.AddByte(0, (byte)o.Padding, 0); b.AddInt(1, o.StrideW, 0); b.AddInt(2, o.StrideH, 0);
                b.AddInt(3, o.FilterW, 0); b.AddInt(4, o.FilterH, 0); b.AddByte(5, (byte)o.Activation, 0);
                break;
            case SvdfOptions o:
                b.StartTable(3);
                b.AddInt(0, o.Rank, 0); b.AddByte(1, (byte)o.Activation, 0); b.AddBool(2, o.AsymmetricQuantizeInputs, false);
                break;
            case UnidirectionalSequenceLstmOptions o:
                b.StartTable(5);
                b.AddByte(0, (byte)o.Activation, 0); b.AddFloat(1, o.CellClip, 0); b.AddFloat(2, o.ProjectionClip, 0);
                b.AddBool(3, o.TimeMajor, false); b.AddBool(4, o.AsymmetricQuantizeInputs, false);
                break;
            case FullyConnectedOptions o:
                b.StartTable(5);
                b.AddByte(0, (byte)o.Activation, 0); b.AddByte(1, o.WeightsFormat, 0);
                b.AddBool(2, o.KeepNumDims, false); b.AddBool(3, o.AsymmetricQuantizeInputs, false);
                break;
            case SoftmaxOptions o:
                b.StartTable(1);
                b.AddFloat(0, o.Beta, 0);
                break;
            case ConcatenationOptions o:
                b.StartTable(2);
                b.AddInt(0, o.Axis, 0); b.AddByte(1, (byte)o.Activation, 0);
                break;
            case AddOptions o:
                b.StartTable(2);
                b.AddByte(0, (byte)o.Activation, 0); b.AddBool(1, o.PotScaleInt16, true);
                break;
            case SubOptions o:
                b.StartTable(2);
                b.AddByte(0, (byte)o.Activation, 0); b.AddBool(1, o.PotScaleInt16, true);
                break;
            case MulOptions o:
                b.StartTable(1);
                b.AddByte(0, (byte)o.Activation, 0);
                break;
            case DivOptions o:
                b.StartTable(1);
                b.AddByte(0, (byte)o.Activation, 0);
                break;
            case ReshapeOptions:
            case SqueezeOptions:
                b.StartTable(1);
                if (vector != 0) b.AddOffset(0, vector, 0);
                break;
            case ReducerOptions o:
                b.StartTable(1);
                b.AddBool(0, o.KeepDims, false);
                break;
            case StridedSliceOptions o:
                b.StartTable(6);
                b.AddInt(0, o.BeginMask, 0); b.AddInt(1, o.EndMask, 0); b.AddInt(2, o.EllipsisMask, 0);
                b.AddInt(3, o.NewAxisMask, 0); b.AddInt(4, o.ShrinkAxisMask, 0); b.AddBool(5, o.Offset, false);
                break;
            case LeakyReluOptions o:
                b.StartTable(1);
                b.AddFloat(0, o.Alpha, 0);
                break;
            case ResizeBilinearOptions o:
                b.StartTable(4);
                b.AddBool(2, o.AlignCorners, false); b.AddBool(3, o.HalfPixelCenters, false);
                break;
            case ResizeNearestNeighborOptions o:
                b.StartTable(2);
                b.AddBool(0, o.AlignCorners, false); b.AddBool(1, o.HalfPixelCenters, false);
                break;
            case DepthToSpaceOptions o:
                b.StartTable(1);
                b.AddInt(0, o.BlockSize, 0);
                break;
            case SpaceToDepthOptions o:
                b.StartTable(1);
                b.AddInt(0, o.BlockSize, 0);
                break;
            default:
                b.StartTable(0);
                break;
        }
        return b.EndTable();
    }

    private static int WriteSignature(FlatBufferBuilder builder, Signature signature)
    {
        int Map(IEnumerable<SignatureTensor> tensors) => OffsetVector(builder, tensors.Select(t =>
        {
            var name = builder.CreateString(t.Name);
            builder.StartTable(2);
            builder.AddOffset(0, name.Value, 0);
            builder.AddUint(1, (uint)t.TensorIndex, 0);
            return builder.EndTable();
        }).ToArray());
        int inputs = Map(signature.Inputs);
        int outputs = Map(signature.Outputs);
        var key = builder.CreateString(signature.Key);
        builder.StartTable(5);
        builder.AddOffset(0, inputs, 0);
        builder.AddOffset(1, outputs, 0);
        builder.AddOffset(2, key.Value, 0);
        builder.AddUint(4, (uint)signature.SubgraphIndex, 0);
        return builder.EndTable();
    }

    private static int OffsetVector(FlatBufferBuilder builder, int[] offsets)
    {
        builder.StartVector(4, offsets.Length, 4);
        for (int i = offsets.Length - 1; i >= 0; i--) builder.AddOffset(offsets[i]);
        return builder.EndVector().Value;
    }

    private static int IntVector(FlatBufferBuilder builder, IReadOnlyList<int> values) =>
        ScalarVector(builder, values.ToArray(), 4);

    private static int ScalarVector<T>(FlatBufferBuilder builder, T[] values, int size) where T : struct
    {
        builder.StartVector(size, values.Length, size);
        if (values.Length > 0) builder.Add(values);
        return builder.EndVector().Value;
    }

    private static int ByteVector(FlatBufferBuilder builder, ReadOnlyMemory<byte> data, int alignment)
    {
        builder.StartVector(1, data.Length, alignment);
        if (data.Length > 0) builder.Add(data.ToArray());
        return builder.EndVector().Value;
    }
}
