// SPDX-License-Identifier: Apache-2.0
using System;
using System.Buffers.Binary;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Onnx.Proto;

namespace TinyML.Compiler.Onnx;

/// <summary>ONNX's TensorProto.DataType codes we meet, and how they map onto ours.</summary>
internal static class OnnxTypes
{
    public const int Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
        Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13;

    public static string Name(int type) => type switch
    {
        Float => "float", UInt8 => "uint8", Int8 => "int8", UInt16 => "uint16", Int16 => "int16", Int32 => "int32",
        Int64 => "int64", String => "string", Bool => "bool", Float16 => "float16", Double => "double", UInt32 => "uint32",
        UInt64 => "uint64", 16 => "bfloat16", 14 => "complex64", 15 => "complex128",
        >= 17 and <= 20 => "float8", 21 => "uint4", 22 => "int4", 23 => "float4",
        _ => $"type {type}",
    };

    /// <summary>Bytes per element of the types we decode, 0 for the others.</summary>
    public static int Size(int type) => type switch
    {
        Float or Int32 or UInt32 => 4,
        UInt8 or Int8 or Bool => 1,
        UInt16 or Int16 or Float16 => 2,
        Int64 or UInt64 or Double => 8,
        _ => 0,
    };

    /// <summary>Our type for a tensor computed at run time, or null when no kernel takes it.</summary>
    public static DataType? RunTime(int type) => type switch
    {
        Float => DataType.Float32,
        Int8 => DataType.Int8,
        UInt8 => DataType.UInt8,
        Int16 => DataType.Int16,
        Int32 => DataType.Int32,
        _ => null,
    };

    public static bool IsInteger(int type) => type is UInt8 or Int8 or UInt16 or Int16 or Int32 or Int64 or UInt32 or UInt64 or Bool;
}

/// <summary>
/// A tensor whose value the importer knows: an initializer, a Constant node, or a folded shape computation. Integers are
/// held as <see cref="long"/> and floating point as <see cref="float"/> (the precision of every kernel), in ONNX's
/// row-major order.
/// </summary>
internal sealed class OnnxConstant
{
    public OnnxConstant(int type, int[] shape, long[]? ints, float[]? floats)
    {
        Type = type;
        Shape = shape;
        Ints = ints;
        Floats = floats;
    }

    public int Type { get; }
    public int[] Shape { get; }
    /// <summary>The values of an integer or bool tensor.</summary>
    public long[]? Ints { get; }
    /// <summary>The values of a float or double tensor.</summary>
    public float[]? Floats { get; }

    public int Count => Ints?.Length ?? Floats!.Length;

    /// <summary>
    /// For the output of a DequantizeLinear: the integer tensor and its parameters, so that a quantized operator takes
    /// the integers as they are; <see cref="Floats"/> holds the dequantized values for everything else.
    /// </summary>
    public QuantizedConstant? Quantized { get; init; }

    public bool IsFloat => Floats is not null;

    public static OnnxConstant Of(float[] values, params int[] shape) => new(OnnxTypes.Float, shape, null, values);

    public static OnnxConstant Of(long[] values, params int[] shape) => new(OnnxTypes.Int64, shape, values, null);

    public long Int(int index) => Ints is not null ? Ints[index] : (long)Floats![index];

    public float Float(int index) => Floats is not null ? Floats[index] : Ints![index];

    public long[] AsInts() => Ints ?? Floats!.Select(f => (long)f).ToArray();

    public float[] AsFloats() => Floats ?? Ints!.Select(i => (float)i).ToArray();

    /// <summary>The same values with another shape (a reshape of a constant).</summary>
    public OnnxConstant WithShape(int[] shape) => shape.SequenceEqual(Shape) ? this : new(Type, shape, Ints, Floats)
    {
        // Per-tensor parameters survive any reshape; per-channel ones would need their axis followed.
        Quantized = Quantized is { Scales.Length: 1 } q ? q with { Values = q.Values.WithShape(shape) } : null,
    };

    /// <summary>The values as the bytes of <paramref name="type"/> (float32, int32, int8, uint8, int16 or int64).</summary>
    public byte[] Bytes(DataType type)
    {
        int n = Count;
        var bytes = new byte[n * DataTypes.SizeOf(type)];
        for (int i = 0; i < n; i++)
        {
            switch (type)
            {
                case DataType.Float32:
                {
                    float value = Float(i);
                    MemoryMarshal.Write(bytes.AsSpan(4 * i), ref value);
                    break;
                }
                case DataType.Int32: BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), checked((int)Int(i))); break;
                case DataType.Int64: BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), Int(i)); break;
                case DataType.Int16: BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(2 * i), checked((short)Int(i))); break;
                case DataType.Int8: bytes[i] = unchecked((byte)checked((sbyte)Int(i))); break;
                case DataType.UInt8: bytes[i] = checked((byte)Int(i)); break;
                default: throw new ArgumentException($"no constant of type {type}", nameof(type));
            }
        }
        return bytes;
    }

    /// <summary>
    /// Decodes a TensorProto. Returns null and a reason when its type or storage is one we do not read, or its data do
    /// not match its shape.
    /// </summary>
    public static OnnxConstant? Decode(TensorProto tensor, out string? problem)
    {
        problem = null;
        int type = tensor.DataType;
        if (tensor.DataLocation == 1 || tensor.ExternalData.Count > 0)
        {
            problem = "its data are stored in an external file; save the model with its weights inside (onnx.save_model(model, path, save_as_external_data=False))";
            return null;
        }
        int size = OnnxTypes.Size(type);
        if (size == 0 || type == OnnxTypes.Float16)
        {
            problem = $"its element type {OnnxTypes.Name(type)} is not supported";
            return null;
        }
        var dims = tensor.Dims;
        if (dims.Any(d => d < 0 || d > int.MaxValue))
        {
            problem = $"its shape {Shapes.Format(dims.Select(d => (int)Math.Max(Math.Min(d, int.MaxValue), int.MinValue)).ToArray())} has a negative or huge dimension";
            return null;
        }
        var shape = dims.Select(d => (int)d).ToArray();
        long count = Shapes.ElementCount(shape);
        if (count < 0 || count * size > Tflite.TfliteReader.MaxFileBytes)
        {
            problem = $"its shape {Shapes.Format(shape)} is too large";
            return null;
        }
        int n = (int)count;
        bool isFloat = type is OnnxTypes.Float or OnnxTypes.Double;
        long[]? ints = isFloat ? null : new long[n];
        float[]? floats = isFloat ? new float[n] : null;
        if (tensor.HasRawData)
        {
            var raw = tensor.RawData.Span;
            if (raw.Length != count * size)
            {
                problem = $"its raw data hold {raw.Length} bytes, but {Shapes.Format(shape)} {OnnxTypes.Name(type)} needs {count * size}";
                return null;
            }
            for (int i = 0; i < n; i++)
            {
                var at = raw.Slice(i * size, size);
                switch (type)
                {
                    case OnnxTypes.Float: floats![i] = MemoryMarshal.Read<float>(at); break;
                    case OnnxTypes.Double: floats![i] = (float)BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(at)); break;
                    case OnnxTypes.UInt8 or OnnxTypes.Bool: ints![i] = at[0]; break;
                    case OnnxTypes.Int8: ints![i] = (sbyte)at[0]; break;
                    case OnnxTypes.UInt16: ints![i] = BinaryPrimitives.ReadUInt16LittleEndian(at); break;
                    case OnnxTypes.Int16: ints![i] = BinaryPrimitives.ReadInt16LittleEndian(at); break;
                    case OnnxTypes.Int32: ints![i] = BinaryPrimitives.ReadInt32LittleEndian(at); break;
                    case OnnxTypes.UInt32: ints![i] = BinaryPrimitives.ReadUInt32LittleEndian(at); break;
                    case OnnxTypes.Int64: ints![i] = BinaryPrimitives.ReadInt64LittleEndian(at); break;
                    default: ints![i] = (long)BinaryPrimitives.ReadUInt64LittleEndian(at); break;
                }
            }
            return new OnnxConstant(type, shape, ints, floats);
        }
        // The typed fields: float_data, int32_data (every integer type up to 32 bits and bool), int64_data,
        // uint64_data (uint32 and uint64), double_data.
        int stored = type switch
        {
            OnnxTypes.Float => tensor.FloatData.Count,
            OnnxTypes.Double => tensor.DoubleData.Count,
            OnnxTypes.Int64 => tensor.Int64Data.Count,
            OnnxTypes.UInt32 or OnnxTypes.UInt64 => tensor.Uint64Data.Count,
            _ => tensor.Int32Data.Count,
        };
        if (stored != count)
        {
            problem = $"it holds {stored} values, but its shape {Shapes.Format(shape)} has {count}";
            return null;
        }
        for (int i = 0; i < n; i++)
        {
            switch (type)
            {
                case OnnxTypes.Float: floats![i] = tensor.FloatData[i]; break;
                case OnnxTypes.Double: floats![i] = (float)tensor.DoubleData[i]; break;
                case OnnxTypes.Int64: ints![i] = tensor.Int64Data[i]; break;
                case OnnxTypes.UInt32 or OnnxTypes.UInt64: ints![i] = (long)tensor.Uint64Data[i]; break;
                case OnnxTypes.Int8: ints![i] = (sbyte)tensor.Int32Data[i]; break;
                case OnnxTypes.UInt8 or OnnxTypes.Bool: ints![i] = (byte)tensor.Int32Data[i]; break;
                case OnnxTypes.Int16: ints![i] = (short)tensor.Int32Data[i]; break;
                case OnnxTypes.UInt16: ints![i] = (ushort)tensor.Int32Data[i]; break;
                default: ints![i] = tensor.Int32Data[i]; break;
            }
        }
        return new OnnxConstant(type, shape, ints, floats);
    }

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> of axis 0, with their scales when quantized along it.</summary>
    public OnnxConstant Rows(int start, int count)
    {
        int inner = Shape.Skip(1).Aggregate(1, (p, d) => p * d);
        var shape = new[] { count }.Concat(Shape.Skip(1)).ToArray();
        OnnxConstant Slice(OnnxConstant c) => new(c.Type, shape, c.Ints?.Skip(start * inner).Take(count * inner).ToArray(), c.Floats?.Skip(start * inner).Take(count * inner).ToArray());
        var rows = Slice(this);
        if (Quantized is not { } q) return rows;
        bool alongRows = q.Scales.Length > 1 && q.Axis == 0;
        return new OnnxConstant(rows.Type, rows.Shape, rows.Ints, rows.Floats)
        {
            Quantized = q with
            {
                Values = Slice(q.Values),
                Scales = alongRows ? q.Scales.Skip(start).Take(count).ToArray() : q.Scales,
                ZeroPoints = alongRows ? q.ZeroPoints.Skip(start).Take(count).ToArray() : q.ZeroPoints,
            },
        };
    }

    /// <summary>The values permuted: output axis i is input axis <paramref name="perm"/>[i].</summary>
    public OnnxConstant Transposed(int[] perm)
    {
        var outShape = perm.Select(p => Shape[p]).ToArray();
        var order = TransposeOrder(Shape, perm);
        return new OnnxConstant(Type, outShape,
            Ints is null ? null : order.Select(i => Ints[i]).ToArray(),
            Floats is null ? null : order.Select(i => Floats[i]).ToArray())
        {
            Quantized = Quantized is { } q ? q with { Values = q.Values.Transposed(perm), Axis = Array.IndexOf(perm, q.Axis) } : null,
        };
    }

    /// <summary>For each element of the transposed tensor, the index of its source element.</summary>
    public static int[] TransposeOrder(int[] shape, int[] perm)
    {
        int rank = shape.Length;
        var strides = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) strides[i] = s;
        var outShape = perm.Select(p => shape[p]).ToArray();
        int count = (int)Shapes.ElementCount(shape);
        var order = new int[count];
        var index = new int[rank];
        for (int k = 0; k < count; k++)
        {
            int source = 0;
            for (int i = 0; i < rank; i++) source += index[i] * strides[perm[i]];
            order[k] = source;
            for (int i = rank - 1; i >= 0; i--)
            {
                if (++index[i] < outShape[i]) break;
                index[i] = 0;
            }
        }
        return order;
    }
}

/// <summary>
/// An integer constant and the affine parameters that dequantize it (real = scale * (q - zero point)), per tensor or
/// along <see cref="Axis"/>.
/// </summary>
internal sealed record QuantizedConstant(OnnxConstant Values, float[] Scales, long[] ZeroPoints, int Axis)
{
    /// <summary>The IR quantization of the values.</summary>
    public Ir.Quantization Quantization(long zeroPointShift = 0) =>
        new(Scales, ZeroPoints.Select(z => z + zeroPointShift).ToArray(), Scales.Length > 1 ? Axis : 0);
}
