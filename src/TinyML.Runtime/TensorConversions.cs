// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Runtime;

/// <summary>Float ⇄ quantized conversions for the generated convenience methods, with TFLite's rounding.</summary>
public static class TensorConversions
{
    /// <summary>q = clamp(round(x / scale) + zero_point) with halves away from zero, in float32 as TFLite does.</summary>
    public static void Quantize(ReadOnlySpan<float> values, Span<sbyte> quantized, float scale, int zeroPoint)
    {
        if (values.Length != quantized.Length) throw new ArgumentException($"{values.Length} values for a tensor of {quantized.Length} elements", nameof(values));
        for (int i = 0; i < values.Length; i++)
        {
            float q = values[i] / scale;
            double rounded = Math.Round(q, MidpointRounding.AwayFromZero) + zeroPoint;
            quantized[i] = (sbyte)Math.Clamp(double.IsNaN(rounded) ? zeroPoint : rounded, sbyte.MinValue, sbyte.MaxValue);
        }
    }

    /// <summary>x = scale × (q − zero_point).</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> quantized, Span<float> values, float scale, int zeroPoint)
    {
        if (values.Length != quantized.Length) throw new ArgumentException($"{values.Length} values for a tensor of {quantized.Length} elements", nameof(values));
        for (int i = 0; i < quantized.Length; i++) values[i] = scale * (quantized[i] - zeroPoint);
    }

    /// <summary>int16 (16x8): q = clamp(round(x / scale) + zero_point) with halves away from zero, in float32 as
    /// TFLite does, saturated to int16.</summary>
    public static void Quantize(ReadOnlySpan<float> values, Span<short> quantized, float scale, int zeroPoint)
    {
        if (values.Length != quantized.Length) throw new ArgumentException($"{values.Length} values for a tensor of {quantized.Length} elements", nameof(values));
        for (int i = 0; i < values.Length; i++)
        {
            float q = values[i] / scale;
            double rounded = Math.Round(q, MidpointRounding.AwayFromZero) + zeroPoint;
            quantized[i] = (short)Math.Clamp(double.IsNaN(rounded) ? zeroPoint : rounded, short.MinValue, short.MaxValue);
        }
    }

    /// <summary>int16: x = scale × (q − zero_point).</summary>
    public static void Dequantize(ReadOnlySpan<short> quantized, Span<float> values, float scale, int zeroPoint)
    {
        if (values.Length != quantized.Length) throw new ArgumentException($"{values.Length} values for a tensor of {quantized.Length} elements", nameof(values));
        for (int i = 0; i < quantized.Length; i++) values[i] = scale * (quantized[i] - zeroPoint);
    }
}
