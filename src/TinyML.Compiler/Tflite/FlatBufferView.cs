// SPDX-License-Identifier: Apache-2.0
using System;
using System.Buffers.Binary;
using System.Text;

namespace TinyML.Compiler.Tflite;

/// <summary>Thrown when a flatbuffer access falls outside the file or breaks the format.</summary>
internal sealed class FlatBufferFormatException : Exception
{
    public FlatBufferFormatException(string message) : base(message) { }
}

/// <summary>
/// A bounds-checked view of one flatbuffer table. Every read is checked against the file, so a truncated or
/// hostile file ends in <see cref="FlatBufferFormatException"/>, never in an out-of-range read. Nothing is
/// allocated from a length the file claims before that length has been checked against the file size.
/// </summary>
internal readonly struct FbTable
{
    private readonly byte[] _buffer;
    private readonly int _position;
    private readonly int _vtable;
    private readonly int _vtableLength;
    private readonly int _tableLength;

    private FbTable(byte[] buffer, int position, int vtable, int vtableLength, int tableLength)
    {
        _buffer = buffer;
        _position = position;
        _vtable = vtable;
        _vtableLength = vtableLength;
        _tableLength = tableLength;
    }

    public static FbTable At(byte[] buffer, long position, string what)
    {
        Check(buffer, position, 4, what);
        long vtable = position - BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan((int)position));
        Check(buffer, vtable, 4, what + " vtable");
        int vtableLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan((int)vtable));
        int tableLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan((int)vtable + 2));
        if (vtableLength < 4 || (vtableLength & 1) != 0) throw new FlatBufferFormatException($"{what}: malformed vtable");
        Check(buffer, vtable, vtableLength, what + " vtable");
        Check(buffer, position, Math.Max(tableLength, 4), what);
        return new FbTable(buffer, (int)position, (int)vtable, vtableLength, tableLength);
    }

    public static FbTable Root(byte[] buffer)
    {
        Check(buffer, 0, 8, "root");
        return At(buffer, BinaryPrimitives.ReadUInt32LittleEndian(buffer), "root table");
    }

    private static void Check(byte[] buffer, long position, long size, string what)
    {
        if (position < 0 || size < 0 || position + size > buffer.Length)
            throw new FlatBufferFormatException($"{what} lies outside the file (offset {position}, {size} bytes, file {buffer.Length} bytes)");
    }

    /// <summary>The absolute position of a field, or -1 when the field is absent.</summary>
    private int Field(int slot, int size)
    {
        int entry = 4 + 2 * slot;
        if (entry + 2 > _vtableLength) return -1;
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_vtable + entry));
        if (offset == 0) return -1;
        if (offset + size > _tableLength) throw new FlatBufferFormatException($"field {slot} lies outside its table");
        return _position + offset;
    }

    public bool Has(int slot) => Field(slot, 0) >= 0;

    public byte Byte(int slot, byte fallback = 0)
    {
        int at = Field(slot, 1);
        return at < 0 ? fallback : _buffer[at];
    }

    public bool Bool(int slot, bool fallback = false)
    {
        int at = Field(slot, 1);
        return at < 0 ? fallback : _buffer[at] != 0;
    }

    public int Int(int slot, int fallback = 0)
    {
        int at = Field(slot, 4);
        return at < 0 ? fallback : BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(at));
    }

    public uint UInt(int slot, uint fallback = 0)
    {
        int at = Field(slot, 4);
        return at < 0 ? fallback : BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(at));
    }

    public ulong ULong(int slot, ulong fallback = 0)
    {
        int at = Field(slot, 8);
        return at < 0 ? fallback : BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(at));
    }

    public float Float(int slot, float fallback = 0)
    {
        int at = Field(slot, 4);
        return at < 0 ? fallback : BitConverter.ToSingle(_buffer, at);
    }

    private long Indirect(int slot, string what)
    {
        int at = Field(slot, 4);
        if (at < 0) return -1;
        long target = at + (long)BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(at));
        Check(_buffer, target, 4, what);
        return target;
    }

    public FbTable? Table(int slot, string what)
    {
        long target = Indirect(slot, what);
        return target < 0 ? null : At(_buffer, target, what);
    }

    public FbVector? Vector(int slot, int elementSize, string what)
    {
        long target = Indirect(slot, what);
        return target < 0 ? null : FbVector.At(_buffer, target, elementSize, what);
    }

    public string? String(int slot, string what)
    {
        var vector = Vector(slot, 1, what);
        return vector?.Utf8();
    }
}

/// <summary>A bounds-checked flatbuffer vector.</summary>
internal readonly struct FbVector
{
    private readonly byte[] _buffer;
    private readonly int _start;
    private readonly int _elementSize;
    private readonly string _what;

    public int Count { get; }

    private FbVector(byte[] buffer, int start, int count, int elementSize, string what)
    {
        _buffer = buffer;
        _start = start;
        Count = count;
        _elementSize = elementSize;
        _what = what;
    }

    public static FbVector At(byte[] buffer, long position, int elementSize, string what)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan((int)position));
        long end = position + 4 + (long)count * elementSize;
        if (end > buffer.Length)
            throw new FlatBufferFormatException($"{what}: vector of {count} elements runs past the end of the file");
        return new FbVector(buffer, (int)position + 4, (int)count, elementSize, what);
    }

    public ReadOnlyMemory<byte> Bytes => new(_buffer, _start, Count * _elementSize);

    public int Int(int index) => BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start + 4 * index));

    public long Long(int index) => BinaryPrimitives.ReadInt64LittleEndian(_buffer.AsSpan(_start + 8 * index));

    public float Float(int index) => BitConverter.ToSingle(_buffer, _start + 4 * index);

    public bool Bool(int index) => _buffer[_start + index] != 0;

    public FbTable Table(int index)
    {
        int at = _start + 4 * index;
        return FbTable.At(_buffer, at + (long)BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(at)), $"{_what}[{index}]");
    }

    public string Utf8()
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(_buffer, _start, Count);
        }
        catch (DecoderFallbackException)
        {
            throw new FlatBufferFormatException($"{_what}: not valid UTF-8");
        }
    }

    public int[] Ints()
    {
        var result = new int[Count];
        for (int i = 0; i < Count; i++) result[i] = Int(i);
        return result;
    }

    public long[] Longs()
    {
        var result = new long[Count];
        for (int i = 0; i < Count; i++) result[i] = Long(i);
        return result;
    }

    public float[] Floats()
    {
        var result = new float[Count];
        for (int i = 0; i < Count; i++) result[i] = Float(i);
        return result;
    }
}
