// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;

namespace TinyML.Compiler.Budgets;

/// <summary>Parses and formats byte sizes as budgets are written: 65536, 64KB, 64 KiB, 1.5MB (K = 1024).</summary>
public static class ByteSize
{
    /// <summary>Parses a size; false when the text is not a positive size.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string s = text!.Trim().ToUpperInvariant().Replace(" ", "");
        long unit = 1;
        foreach (var (suffix, factor) in new[] { ("KIB", 1024L), ("MIB", 1024L * 1024), ("KB", 1024L), ("MB", 1024L * 1024), ("K", 1024L), ("M", 1024L * 1024), ("B", 1L) })
        {
            if (!s.EndsWith(suffix, StringComparison.Ordinal)) continue;
            unit = factor;
            s = s.Substring(0, s.Length - suffix.Length);
            break;
        }
        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value) || value <= 0 || value > 1L << 40) return false;
        bytes = (long)Math.Round(value * unit);
        return bytes > 0;
    }

    /// <summary>Formats as "65,536 bytes (64.0 KB)".</summary>
    public static string Format(long bytes) =>
        $"{bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes ({(bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture)} KB)";
}
