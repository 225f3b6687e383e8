// SPDX-License-Identifier: Apache-2.0
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace TinyML.Compiler.PostTraining;

/// <summary>A NumPy .npy array of float32 values.</summary>
public sealed record NpyArray(int[] Shape, float[] Values);

/// <summary>A .npy file we cannot use: the message says why.</summary>
public sealed class NpyFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NpyFormatException(string message) : base(message) { }
}

/// <summary>
/// Reads NumPy .npy files (format versions 1 to 3): the magic, the header length, a Python dict literal with
/// 'descr', 'fortran_order' and 'shape', then the raw data. Only little-endian float32 ('&lt;f4') in C order is
/// accepted, since that is what calibration needs; anything else is refused with a message naming the problem.
/// </summary>
public static class NpyFile
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Parses the bytes of a .npy file.</summary>
    public static NpyArray Read(byte[] bytes)
    {
        if (bytes.Length < 10 || !bytes.Take(6).SequenceEqual(Magic))
            throw new NpyFormatException("not a .npy file (the magic \\x93NUMPY is missing)");
        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
                headerStart = 10;
                break;
            case 2 or 3:
                if (bytes.Length < 12) throw new NpyFormatException("truncated .npy header");
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
                if (length > int.MaxValue) throw new NpyFormatException("the .npy header length is out of range");
                headerLength = (int)length;
                headerStart = 12;
                break;
            default:
                throw new NpyFormatException($".npy format version {major} is not supported (1, 2 and 3 are)");
        }
        if ((long)headerStart + headerLength > bytes.Length) throw new NpyFormatException("truncated .npy header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.ASCII).GetString(bytes, headerStart, headerLength);
        var (descr, fortran, shape) = ParseHeader(header);
        if (descr != "<f4" && !(descr == "=f4" && BitConverter.IsLittleEndian))
            throw new NpyFormatException($"dtype '{descr}' is not supported; calibration data must be float32 ('<f4'): save it with array.astype(numpy.float32)");
        if (fortran && shape.Count(d => d > 1) > 1)
            throw new NpyFormatException("fortran_order is True; save the array in C order (numpy.ascontiguousarray)");
        long count = 1;
        foreach (int d in shape) count *= d;
        int dataStart = headerStart + headerLength;
        if (count * 4 != bytes.Length - dataStart)
            throw new NpyFormatException($"shape ({string.Join(", ", shape)}) needs {count * 4} data bytes, but the file has {bytes.Length - dataStart}");
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = BitConverter.ToSingle(bytes, dataStart + 4 * i);
        return new NpyArray(shape, values);
    }

    /// <summary>Parses the header dict, for example {'descr': '&lt;f4', 'fortran_order': False, 'shape': (1, 49, 10, 1), }.</summary>
    internal static (string Descr, bool FortranOrder, int[] Shape) ParseHeader(string header)
    {
        string text = header.Trim();
        if (!text.StartsWith("{", StringComparison.Ordinal) || !text.EndsWith("}", StringComparison.Ordinal))
            throw new NpyFormatException($"the .npy header is not a dict: {Clip(text)}");
        var descr = Regex.Match(text, @"['""]descr['""]\s*:\s*['""]([^'""]*)['""]");
        var fortran = Regex.Match(text, @"['""]fortran_order['""]\s*:\s*(True|False)");
        var shape = Regex.Match(text, @"['""]shape['""]\s*:\s*\(([^)]*)\)");
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new NpyFormatException($"the .npy header lacks 'descr', 'fortran_order' or 'shape': {Clip(text)}");
        var dims = new List<int>();
        foreach (var part in shape.Groups[1].Value.Split(','))
        {
            string p = part.Trim();
            if (p.Length == 0) continue;
            if (p.EndsWith("L", StringComparison.Ordinal)) p = p.Substring(0, p.Length - 1);
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int d))
                throw new NpyFormatException($"the .npy shape ({shape.Groups[1].Value}) is not a tuple of sizes");
            dims.Add(d);
        }
        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims.ToArray());
    }

    private static string Clip(string s) => s.Length <= 120 ? s : s.Substring(0, 120) + "…";

    /// <summary>Writes float32 values as a version 1 .npy file (C order), for tests and tools.</summary>
    public static byte[] Write(int[] shape, float[] values)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        // The data starts on a 64-byte boundary; the header ends with a newline.
        int total = (10 + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - 10 - 1) + "\n";
        var bytes = new byte[total + 4 * values.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes.AsSpan(total));
        return bytes;
    }
}
