// SPDX-License-Identifier: Apache-2.0
using System;
using System.Buffers.Binary;

namespace TinyML.Runtime;

/// <summary>
/// The bytes <see cref="PlanExecutor.ExportWeights"/> writes: "TMLW", format version 1, the plan's layout
/// fingerprint and the length (each little-endian int32), then the trained region as the kernels hold it.
/// </summary>
internal static class TrainedWeights
{
    private const int HeaderBytes = 16, Version = 1;
    private static ReadOnlySpan<byte> Magic => "TMLW"u8;

    public static byte[] Write(uint fingerprint, ReadOnlySpan<byte> region)
    {
        var bytes = new byte[HeaderBytes + region.Length];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), fingerprint);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), region.Length);
        region.CopyTo(bytes.AsSpan(HeaderBytes));
        return bytes;
    }

    public static void Read(ReadOnlySpan<byte> bytes, uint fingerprint, Span<byte> region)
    {
        if (bytes.Length < HeaderBytes || !bytes[..4].SequenceEqual(Magic))
            throw new ArgumentException("these are not weights exported by ExportWeights (no TMLW header)", "weights");
        int version = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (version != Version) throw new ArgumentException($"exported weights of format version {version}; this runtime reads version {Version}", "weights");
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]) != fingerprint)
            throw new ArgumentException("these weights were exported from another model (its trained layers differ from this one's)", "weights");
        int length = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        if (length != region.Length || bytes.Length != HeaderBytes + length)
            throw new ArgumentException($"the exported weights hold {bytes.Length - HeaderBytes} bytes; this model's trained region has {region.Length}", "weights");
        bytes[HeaderBytes..].CopyTo(region);
    }
}
