// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Compiler.PostTraining;

/// <summary>How a tensor's calibration values become the range its int8 parameters cover.</summary>
public enum RangeMethod
{
    /// <summary>The observed minimum and maximum (TFLite's converter default).</summary>
    MinMax,
    /// <summary>The given lower and upper percentiles; outliers beyond them saturate.</summary>
    Percentile,
    /// <summary>The clipping range that minimizes the mean squared quantization error over the observed values.</summary>
    Mse,
}

/// <summary>
/// The values one tensor took over the calibration set: the exact minimum and maximum (first pass) and, for the
/// percentile and MSE methods, a histogram over [min, max] (second pass).
/// </summary>
public sealed class TensorStatistics
{
    /// <summary>Histogram resolution: 2048 bins, as TensorRT's and TFLite's histogram calibrators use.</summary>
    public const int Bins = 2048;

    /// <summary>The smallest value seen (+∞ before any).</summary>
    public double Min { get; private set; } = double.PositiveInfinity;
    /// <summary>The largest value seen (−∞ before any).</summary>
    public double Max { get; private set; } = double.NegativeInfinity;
    /// <summary>Values counted in the histogram.</summary>
    public long Count { get; private set; }
    private long[]? _histogram;

    /// <summary>True once a value was seen.</summary>
    public bool HasValues => Min <= Max;

    /// <summary>First pass: widens [Min, Max]. Throws on NaN or infinity.</summary>
    public void Observe(ReadOnlySpan<float> values, string tensorName)
    {
        double min = Min, max = Max;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (float.IsNaN(v) || float.IsInfinity(v))
                throw new NonFiniteValueException($"tensor '{tensorName}' element {i} is {v}");
            if (v < min) min = v;
            if (v > max) max = v;
        }
        Min = min;
        Max = max;
    }

    /// <summary>Second pass: counts values into the histogram over the first pass's [Min, Max].</summary>
    public void Accumulate(ReadOnlySpan<float> values)
    {
        _histogram ??= new long[Bins];
        double width = Max - Min;
        for (int i = 0; i < values.Length; i++)
        {
            int bin = width > 0 ? (int)((values[i] - Min) / width * Bins) : 0;
            _histogram[Math.Max(0, Math.Min(Bins - 1, bin))]++;
        }
        Count += values.Length;
    }

    private double BinCenter(int bin) => Min + (bin + 0.5) * (Max - Min) / Bins;

    /// <summary>The range the method chooses (before it is widened to contain 0).</summary>
    public (double Min, double Max) Range(RangeMethod method, double percentile = 99.99)
    {
        if (!HasValues) return (0, 0);
        if (method == RangeMethod.MinMax || _histogram is null || Count == 0 || Max == Min) return (Min, Max);
        return method == RangeMethod.Percentile ? PercentileRange(percentile) : MseRange();
    }

    private (double, double) PercentileRange(double percentile)
    {
        double tail = Count * (100 - percentile) / 100;
        double binWidth = (Max - Min) / Bins;
        long seen = 0;
        int low = 0;
        while (low < Bins - 1 && seen + _histogram![low] <= tail) seen += _histogram[low++];
        seen = 0;
        int high = Bins - 1;
        while (high > low && seen + _histogram![high] <= tail) seen += _histogram[high--];
        // Keep whole bins: the lowest and highest bins that hold values beyond the tails.
        return (low == 0 ? Min : Min + low * binWidth, high == Bins - 1 ? Max : Min + (high + 1) * binWidth);
    }

    /// <summary>
    /// Tries clipping ranges that shrink [Min, Max] towards 0 in 1% steps and keeps the one with the least
    /// expected squared error: rounding noise of the values inside plus the clipping error of those outside.
    /// </summary>
    private (double, double) MseRange()
    {
        double bestError = double.PositiveInfinity;
        (double, double) best = (Min, Max);
        for (int step = 100; step >= 10; step--)
        {
            double lo = Math.Min(Min, 0) * step / 100.0, hi = Math.Max(Max, 0) * step / 100.0;
            var q = QuantizationMath.Asymmetric(lo, hi);
            double scale = q.Scale;
            double qLo = scale * (QuantizationMath.QMin - q.ZeroPoint), qHi = scale * (QuantizationMath.QMax - q.ZeroPoint);
            double error = 0;
            for (int b = 0; b < Bins; b++)
            {
                if (_histogram![b] == 0) continue;
                double x = BinCenter(b);
                double e = x < qLo ? (x - qLo) * (x - qLo) : x > qHi ? (x - qHi) * (x - qHi) : scale * scale / 12;
                error += e * _histogram[b];
            }
            if (error < bestError)
            {
                bestError = error;
                best = (lo, hi);
            }
        }
        return best;
    }
}
