// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TinyML.Compiler.Budgets;

/// <summary>Parses and formats byte sizes as budgets are written: 65536, 64KB, 64 KiB, 1.5MB (K = 1024).</summary>
public static class ByteSize
{
    /// <summary>The largest size accepted: 1 TiB, far above any microcontroller.</summary>
    public const long MaxBytes = 1L << 40;

    /// <summary>Examples of sizes, for messages.</summary>
    public const string Examples = "65536, 64KB or 1.5MB";

    private static readonly Regex NumberAndUnit = new(@"^(?<number>-?(\d+(\.\d*)?|\.\d+))(?<unit>[A-Za-z]*)$", RegexOptions.CultureInvariant);

    /// <summary>Parses a size; false when the text is not a positive size.</summary>
    public static bool TryParse(string? text, out long bytes) => TryParse(text, out bytes, out _);

    /// <summary>
    /// Parses a size; when it is not one, false and <paramref name="problem"/> says why, to follow "X is '…': " in a
    /// message (for example "unsupported unit 'GB': use B, KB (KiB) or MB (MiB); 1 KB = 1,024 bytes").
    /// </summary>
    public static bool TryParse(string? text, out long bytes, out string problem)
    {
        bytes = 0;
        problem = "";
        string s = (text ?? "").Trim().Replace(" ", "");
        var match = NumberAndUnit.Match(s);
        if (!match.Success ||
            !decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value))
        {
            problem = s.Length == 0
                ? $"not a size: it is empty; write bytes or a number with a unit, for example {Examples}"
                : $"not a size; write bytes or a number with a unit, for example {Examples}";
            return false;
        }
        string unitText = match.Groups["unit"].Value;
        long? unit = unitText.ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KB" or "KIB" => 1024L,
            "M" or "MB" or "MIB" => 1024L * 1024,
            _ => null,
        };
        if (unit is null)
        {
            problem = $"unsupported unit '{unitText}': use B, KB (KiB) or MB (MiB); 1 KB = 1,024 bytes";
            return false;
        }
        if (value <= 0)
        {
            problem = $"not a size: a size is a positive number of bytes, for example {Examples}";
            return false;
        }
        if (value > MaxBytes / unit.Value)
        {
            problem = $"too large: the largest size is {MaxBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes (1 TiB)";
            return false;
        }
        bytes = (long)Math.Round(value * unit.Value);
        if (bytes <= 0)
        {
            problem = "not a size: it is less than one byte";
            return false;
        }
        return true;
    }

    /// <summary>Formats as "65,536 bytes (64.0 KB)".</summary>
    public static string Format(long bytes) =>
        $"{bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes ({(bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture)} KB)";
}
