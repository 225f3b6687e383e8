// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;

namespace TinyML.Compiler.PostTraining;

/// <summary>
/// The parameter choices of the TFLite int8 specification: asymmetric per-tensor activations whose zero is exactly
/// representable, symmetric weights in [-127, 127] (per channel or per tensor), int32 biases at input scale × weight
/// scale with zero point 0. Rounding is half away from zero, as TFLite's std::round.
/// </summary>
public static class QuantizationMath
{
    /// <summary>The int8 range of activations.</summary>
    public const int QMin = -128, QMax = 127;
    /// <summary>The largest magnitude of a symmetric weight (-128 is not used, so the range is symmetric).</summary>
    public const int WeightMax = 127;

    /// <summary>
    /// Asymmetric int8 parameters for the real range [min, max]. The range is first widened to contain 0, and the
    /// zero point is an integer in [-128, 127], so real 0 (padding, ReLU's floor) is exactly q = zero_point. A range
    /// of width 0 (a tensor that is 0 everywhere) gets scale 1: every value is exact at any scale.
    /// </summary>
    public static Ir.Quantization Asymmetric(double min, double max)
    {
        if (double.IsNaN(min) || double.IsNaN(max) || double.IsInfinity(min) || double.IsInfinity(max))
            throw new ArgumentException($"range [{min}, {max}] is not finite");
        if (min > max) throw new ArgumentException($"range [{min}, {max}] is empty");
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        // Scales are stored as float32; compute with the stored value so the zero point matches the file.
        float scale = (float)((max - min) / (QMax - QMin));
        if (!(scale > 0) || float.IsInfinity(scale)) return Ir.Quantization.PerTensor(1f, 0);
        double zeroPointFromMin = QMin - min / scale;
        long zeroPoint = (long)Math.Max(QMin, Math.Min(QMax, QuantMath.Round(zeroPointFromMin)));
        return Ir.Quantization.PerTensor(scale, zeroPoint);
    }

    /// <summary>q = clamp(round(x / scale) + zero_point, -128, 127).</summary>
    public static sbyte Quantize(double real, float scale, int zeroPoint) =>
        (sbyte)Math.Max(QMin, Math.Min(QMax, QuantMath.Round(real / scale) + zeroPoint));

    /// <summary>x = scale × (q − zero_point).</summary>
    public static double Dequantize(int q, float scale, int zeroPoint) => (double)scale * (q - zeroPoint);

    /// <summary>
    /// Symmetric int8 weights: one scale per index of <paramref name="channelDim"/> (max |w| / 127), or one scale for
    /// the whole tensor when it is null. A channel that is zero everywhere borrows the largest scale of the others
    /// (1 when every channel is zero): its weights are exact at any scale, and a normal scale keeps its bias
    /// (quantized at input scale × weight scale) precise and its output multiplier in the usual range.
    /// </summary>
    public static (sbyte[] Values, Ir.Quantization Quantization) SymmetricWeights(float[] weights, int[] shape, int? channelDim)
    {
        EnsureFinite(weights, "weights");
        int channels = channelDim is int d ? shape[d] : 1;
        int inner = channelDim is int dim ? shape.Skip(dim + 1).Aggregate(1, (a, b) => a * b) : weights.Length;
        int Channel(int i) => channelDim is null ? 0 : i / inner % channels;
        var maxAbs = new double[channels];
        for (int i = 0; i < weights.Length; i++) maxAbs[Channel(i)] = Math.Max(maxAbs[Channel(i)], Math.Abs(weights[i]));
        double fallback = maxAbs.Max() > 0 ? maxAbs.Max() / WeightMax : 1.0;
        var scales = maxAbs.Select(m => (float)(m > 0 ? m / WeightMax : fallback)).ToArray();
        return (QuantizeWeights(weights, scales, Channel), new Ir.Quantization(scales, new long[channels], channelDim ?? 0));
    }

    private static sbyte[] QuantizeWeights(float[] weights, float[] scales, Func<int, int> channel)
    {
        var values = new sbyte[weights.Length];
        for (int i = 0; i < weights.Length; i++)
            values[i] = (sbyte)Math.Max(-WeightMax, Math.Min(WeightMax, QuantMath.Round(weights[i] / (double)scales[channel(i)])));
        return values;
    }

    /// <summary>
    /// Int32 biases at scale input_scale × weight_scale[c], zero point 0. A bias too large for int32 at that scale
    /// would saturate; <see cref="MinimumWeightScaleForBias"/> lets the caller widen the weight scale first, as TFLite's converter does.
    /// </summary>
    public static (int[] Values, Ir.Quantization Quantization) Bias(float[] bias, float inputScale, Ir.Quantization weights)
    {
        EnsureFinite(bias, "bias");
        var scales = new float[bias.Length];
        var values = new int[bias.Length];
        for (int c = 0; c < bias.Length; c++)
        {
            scales[c] = (float)((double)inputScale * weights.Scales[weights.IsPerChannel ? c : 0]);
            double q = QuantMath.Round(bias[c] / (double)scales[c]);
            values[c] = (int)Math.Max(int.MinValue, Math.Min(int.MaxValue, q));
        }
        var kept = weights.IsPerChannel ? scales : new[] { scales[0] };
        return (values, new Ir.Quantization(kept, new long[kept.Length], 0));
    }

    /// <summary>The smallest weight scale of channel c at which its bias still fits int32 (with headroom for
    /// accumulation), given the input scale.</summary>
    public static double MinimumWeightScaleForBias(float bias, float inputScale) =>
        Math.Abs(bias) / ((double)inputScale * (int.MaxValue / 2.0));

    /// <summary>
    /// Symmetric weights whose scales are at least <paramref name="minimumScales"/> (so the biases fit int32);
    /// otherwise the same as the overload without minimums.
    /// </summary>
    public static (sbyte[] Values, Ir.Quantization Quantization) SymmetricWeights(float[] weights, int[] shape, int? channelDim, double[] minimumScales)
    {
        var (values, q) = SymmetricWeights(weights, shape, channelDim);
        var scales = q.Scales.ToArray();
        bool widened = false;
        for (int c = 0; c < scales.Length; c++)
            if (scales[c] < minimumScales[c])
            {
                scales[c] = (float)minimumScales[c];
                widened = true;
            }
        if (!widened) return (values, q);
        int channels = scales.Length;
        int inner = channelDim is int dim ? shape.Skip(dim + 1).Aggregate(1, (a, b) => a * b) : weights.Length;
        int Channel(int i) => channelDim is null ? 0 : i / inner % channels;
        return (QuantizeWeights(weights, scales, Channel), new Ir.Quantization(scales, new long[channels], channelDim ?? 0));
    }

    /// <summary>Throws <see cref="NonFiniteValueException"/> at the first NaN or infinity.</summary>
    public static void EnsureFinite(float[] values, string what)
    {
        for (int i = 0; i < values.Length; i++)
            if (float.IsNaN(values[i]) || float.IsInfinity(values[i]))
                throw new NonFiniteValueException($"{what} element {i} is {values[i]}");
    }
}

/// <summary>A NaN or infinity where quantization needs finite numbers.</summary>
public sealed class NonFiniteValueException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NonFiniteValueException(string message) : base(message) { }
}
