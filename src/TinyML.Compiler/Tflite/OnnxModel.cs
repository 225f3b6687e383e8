// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Text;

namespace TinyML.Compiler.Tflite;

/// <summary>
/// Recognizes an ONNX model by its extension or its first bytes: <see cref="ModelReader"/> sends it to the ONNX
/// importer, and the TFLite reader, handed one directly, says what it is. An ONNX file is a protobuf ModelProto: it starts with field 1 (ir_version, a
/// varint: tag byte 0x08) and usually carries producer_name (field 2) and producer_version (field 3).
/// </summary>
internal static class OnnxModel
{
    /// <summary>
    /// The TML1001 message for an ONNX model (by a .onnx extension or by its content), or null when the file
    /// looks like neither.
    /// </summary>
    public static string? Describe(byte[] bytes, string? fileName)
    {
        bool byName = fileName is not null && string.Equals(Path.GetExtension(fileName), ".onnx", StringComparison.OrdinalIgnoreCase);
        var header = ReadHeader(bytes);
        if (!byName && header is null) return null;
        string what = header is { } h
            ? $"an ONNX model (IR version {h.IrVersion}" + (h.Producer.Length > 0 ? $", produced by {(h.Producer + " " + h.ProducerVersion).Trim()})" : ")")
            : "an ONNX model (by its .onnx extension)";
        return $"not a TFLite file: this is {what}. ONNX models are read by the ONNX importer (ModelReader, which the SDK and " +
            "every tinyml command use), not by the TFLite reader.";
    }

    private readonly record struct Header(long IrVersion, string Producer, string ProducerVersion);

    /// <summary>ir_version and the producer, or null unless the bytes start like a ModelProto.</summary>
    private static Header? ReadHeader(byte[] bytes)
    {
        int at = 0;
        if (bytes.Length < 3 || bytes[at++] != 0x08) return null;
        if (!Varint(bytes, ref at, out ulong ir) || ir == 0 || ir > 100) return null;
        // The next field must be one ModelProto has (2..8 or 14, metadata_props) with its wire type.
        string producer = "", version = "";
        bool sawField = false;
        while (at < bytes.Length)
        {
            if (!Varint(bytes, ref at, out ulong tag)) break;
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            bool known = field switch { 5 => wire == 0, 2 or 3 or 4 or 6 or 7 or 8 or 14 => wire == 2, _ => false };
            if (!known) break;
            sawField = true;
            if (wire == 0)
            {
                if (!Varint(bytes, ref at, out _)) break;
                continue;
            }
            if (!Varint(bytes, ref at, out ulong length) || length > (ulong)(bytes.Length - at)) break;
            if (field == 2) producer = Printable(bytes, at, (int)length);
            if (field == 3) version = Printable(bytes, at, (int)length);
            at += (int)length;
            if (producer.Length > 0 && version.Length > 0) break;
        }
        return sawField ? new Header((long)ir, producer, version) : null;
    }

    private static bool Varint(byte[] bytes, ref int at, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && at < bytes.Length; shift += 7)
        {
            byte b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    // The producer goes into a build log: keep it short and printable.
    private static string Printable(byte[] bytes, int at, int length)
    {
        var text = Encoding.UTF8.GetString(bytes, at, Math.Min(length, 64));
        var clean = new StringBuilder();
        foreach (char c in text) if (!char.IsControl(c)) clean.Append(c);
        return clean.ToString().Trim();
    }
}
