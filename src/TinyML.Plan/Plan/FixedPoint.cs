// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Compiler.Plan;

/// <summary>
/// TFLite's real-to-fixed-point conversion, which both the compiler (every requantization) and the runtime (a
/// learning rate set by an app) need, exactly as C computes it.
/// </summary>
public static class FixedPoint
{
    /// <summary>C's round(): halves go away from zero.</summary>
    public static double Round(double x) => Math.Round(x, MidpointRounding.AwayFromZero);

    /// <summary>C's frexp: <paramref name="value"/> = fraction × 2^exponent with |fraction| in [0.5, 1).</summary>
    public static double Frexp(double value, out int exponent)
    {
        exponent = 0;
        if (value == 0 || double.IsNaN(value) || double.IsInfinity(value)) return value;
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        if (biased == 0)
        {
            // Subnormal: scale into the normal range first.
            double scaled = value * 4503599627370496.0; // 2^52
            double fraction = Frexp(scaled, out exponent);
            exponent -= 52;
            return fraction;
        }
        exponent = biased - 1022;
        return BitConverter.Int64BitsToDouble((bits & ~(0x7FFL << 52)) | (1022L << 52));
    }

    /// <summary>
    /// TFLite's QuantizeMultiplier: real ≈ multiplier × 2^(shift − 31) with multiplier in [2^30, 2^31); a shift
    /// below −31 flushes to (0, 0).
    /// </summary>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double real)
    {
        if (real == 0) return (0, 0);
        double q = Frexp(real, out int shift);
        long fixedPoint = (long)Round(q * (1L << 31));
        if (fixedPoint == 1L << 31)
        {
            fixedPoint /= 2;
            shift++;
        }
        if (shift < -31) return (0, 0);
        if (fixedPoint > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(real), "multiplier does not fit int32");
        return ((int)fixedPoint, shift);
    }
}
