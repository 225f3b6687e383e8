// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using System.Text.RegularExpressions;

namespace TinyML.Compiler.Budgets;

/// <summary>
/// Tensor and arena-buffer names as people read them in messages and reports. The TFLite converter names a fused
/// operator's output with every fused op joined by ';' (<c>model/conv2d_3/Relu;model/conv2d_3/BiasAdd;model/conv2d_3/Conv2D</c>);
/// the first entry names the output itself, the later ones are the ops and constants folded into it.
/// </summary>
public static class TensorNames
{
    /// <summary>Names longer than this are shortened.</summary>
    public const int MaxLength = 48;

    private const string Ellipsis = "…";

    private static readonly Regex InPlaceStage = new(@"^(?<first>.*) \(then (?<then>.*)\)$", RegexOptions.CultureInvariant);

    /// <summary>
    /// The readable form of a tensor name: its first ';'-separated entry, and when that is longer than
    /// <see cref="MaxLength"/>, its '/' path with the middle elided, so the model scope and layer at the front and
    /// the op at the end stay (<c>functional_1/depthwise_conv2d_3/…/resource</c>). A single path part that is still
    /// too long keeps its front.
    /// </summary>
    public static string Readable(string name)
    {
        string first = name.Split(';').FirstOrDefault(s => s.Trim().Length > 0)?.Trim() ?? "";
        if (first.Length <= MaxLength) return first;
        var parts = first.Split('/');
        for (int keep = parts.Length - 2; keep >= 1; keep--)
        {
            string candidate = string.Join("/", parts.Take(keep)) + "/" + Ellipsis + "/" + parts[parts.Length - 1];
            if (candidate.Length <= MaxLength) return candidate;
        }
        return first.Substring(0, MaxLength - Ellipsis.Length) + Ellipsis;
    }

    /// <summary>
    /// The readable form of an arena buffer's name: a tensor name, or one the planner composed around tensor names
    /// ("tile of X", "X (then Y)" for a stage written over the input); each tensor name in it is made
    /// <see cref="Readable(string)"/>.
    /// </summary>
    public static string ReadableBuffer(string name)
    {
        var stage = InPlaceStage.Match(name);
        if (stage.Success) return $"{ReadableBuffer(stage.Groups["first"].Value)} (then {Readable(stage.Groups["then"].Value)})";
        const string tile = "tile of ";
        if (name.StartsWith(tile, StringComparison.Ordinal)) return tile + Readable(name.Substring(tile.Length));
        return Readable(name);
    }
}
