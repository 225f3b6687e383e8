// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Compiler.Ir;

/// <summary>Tensor element types. Values equal TFLite's TensorType so the reader and writer map them one to one.</summary>
public enum DataType : byte
{
    /// <summary>IEEE-754 single.</summary>
    Float32 = 0,
    /// <summary>IEEE-754 half.</summary>
    Float16 = 1,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 2,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 3,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 4,
    /// <summary>TFLite string tensor.</summary>
    String = 5,
    /// <summary>Boolean, one byte.</summary>
    Bool = 6,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 7,
    /// <summary>Two singles.</summary>
    Complex64 = 8,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 9,
    /// <summary>IEEE-754 double.</summary>
    Float64 = 10,
    /// <summary>Two doubles.</summary>
    Complex128 = 11,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 12,
    /// <summary>TFLite resource handle.</summary>
    Resource = 13,
    /// <summary>TFLite variant.</summary>
    Variant = 14,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 15,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 16,
    /// <summary>Packed signed 4-bit integer.</summary>
    Int4 = 17,
}

/// <summary>Facts about <see cref="DataType"/>.</summary>
public static class DataTypes
{
    /// <summary>Bytes per element, or 0 for types without a fixed size (string, resource, variant, int4).</summary>
    public static int SizeOf(DataType type) => type switch
    {
        DataType.Float32 or DataType.Int32 or DataType.UInt32 => 4,
        DataType.Float16 or DataType.Int16 or DataType.UInt16 => 2,
        DataType.UInt8 or DataType.Int8 or DataType.Bool => 1,
        DataType.Int64 or DataType.UInt64 or DataType.Float64 or DataType.Complex64 => 8,
        DataType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>True for values the TFLite schema defines.</summary>
    public static bool IsDefined(DataType type) => (byte)type <= (byte)DataType.Int4;

    /// <summary>The TFLite spelling, for example INT8.</summary>
    public static string Name(DataType type) =>
        IsDefined(type) ? type.ToString().ToUpperInvariant() : $"TYPE_{(byte)type}";

    /// <summary>Parses the TFLite spelling (case-insensitive).</summary>
    public static DataType Parse(string name) =>
        (DataType)Enum.Parse(typeof(DataType), name, ignoreCase: true);
}
