// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace TinyML.Compiler.Plan;

/// <summary>The protobuf wire types a container may hold: the writer uses no fixed64, but the reader skips one. No groups.</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}

/// <summary>
/// Writes protobuf wire format: just what the plan container needs, encoded as protobuf's own writers encode it
/// (a negative int32 takes ten bytes, sign-extended), so containers are byte-identical to theirs.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    private void Tag(int field, WireType type) => Varint((ulong)(((uint)field << 3) | (uint)type));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.Add((byte)value);
    }

    public void Int32(int field, int value)
    {
        Tag(field, WireType.Varint);
        Varint((ulong)(long)value);
    }

    public void Int64(int field, long value)
    {
        Tag(field, WireType.Varint);
        Varint((ulong)value);
    }

    public void Float(int field, float value)
    {
        Tag(field, WireType.Fixed32);
        byte[] bits = BitConverter.GetBytes(value);
        if (!BitConverter.IsLittleEndian) Array.Reverse(bits);
        _bytes.AddRange(bits);
    }

    public void Bytes(int field, byte[] value)
    {
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)value.Length);
        _bytes.AddRange(value);
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>An embedded message: its fields written by <paramref name="body"/>, then stored length-delimited.</summary>
    public void Message(int field, Action<ProtoWriter> body)
    {
        var inner = new ProtoWriter();
        body(inner);
        Bytes(field, inner.ToArray());
    }
}

/// <summary>
/// Reads protobuf wire format field by field. Every malformed input (truncation, an overlong varint, a length past
/// the end, a field with an unexpected wire type, a group) throws <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class ProtoReader
{
    private readonly byte[] _bytes;
    private readonly int _end;
    private int _position;
    private WireType _wireType;

    public ProtoReader(byte[] bytes) : this(bytes, 0, bytes.Length)
    {
    }

    private ProtoReader(byte[] bytes, int start, int end)
    {
        _bytes = bytes;
        _position = start;
        _end = end;
    }

    /// <summary>The next field's number, or 0 at the end of the message.</summary>
    public int NextField()
    {
        if (_position == _end) return 0;
        ulong tag = Varint();
        int field = (int)(tag >> 3);
        if (field <= 0 || tag > uint.MaxValue) throw new InvalidDataException($"invalid field tag {tag}");
        _wireType = (WireType)(tag & 7);
        if (_wireType is not (WireType.Varint or WireType.Fixed64 or WireType.LengthDelimited or WireType.Fixed32))
            throw new InvalidDataException($"field {field} has wire type {(int)_wireType}, which the container never uses");
        return field;
    }

    private ulong Varint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _end) throw new InvalidDataException("truncated varint");
            byte b = _bytes[_position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("varint longer than ten bytes");
    }

    private void Expect(WireType type)
    {
        if (_wireType != type) throw new InvalidDataException($"a field has wire type {(int)_wireType} where {(int)type} was expected");
    }

    public int Int32()
    {
        Expect(WireType.Varint);
        return (int)Varint();
    }

    public long Int64()
    {
        Expect(WireType.Varint);
        return (long)Varint();
    }

    public float Float()
    {
        Expect(WireType.Fixed32);
        byte[] bits = Take(4);
        if (!BitConverter.IsLittleEndian) Array.Reverse(bits);
        return BitConverter.ToSingle(bits, 0);
    }

    public byte[] Bytes()
    {
        Expect(WireType.LengthDelimited);
        return Take(Length());
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    /// <summary>A reader over an embedded message, without copying it.</summary>
    public ProtoReader Message()
    {
        Expect(WireType.LengthDelimited);
        int length = Length();
        var inner = new ProtoReader(_bytes, _position, _position + length);
        _position += length;
        return inner;
    }

    /// <summary>Skips the value of a field this reader does not know (a newer writer's addition).</summary>
    public void Skip()
    {
        switch (_wireType)
        {
            case WireType.Varint: Varint(); break;
            case WireType.Fixed64: Take(8); break;
            case WireType.LengthDelimited: Take(Length()); break;
            default: Take(4); break;
        }
    }

    private int Length()
    {
        ulong length = Varint();
        if (length > (ulong)(_end - _position)) throw new InvalidDataException($"a length of {length} bytes runs past the end");
        return (int)length;
    }

    private byte[] Take(int count)
    {
        if (count > _end - _position) throw new InvalidDataException("truncated field");
        var bytes = new byte[count];
        Array.Copy(_bytes, _position, bytes, 0, count);
        _position += count;
        return bytes;
    }
}
