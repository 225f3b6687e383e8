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
        // In float32, in the order TFLite's converter computes it, so the same range gives the same bits.
        float low = (float)Math.Min(min, 0), high = (float)Math.Max(max, 0);
        float scale = (high - low) / (QMax - QMin);
        if (!(scale > 0) || float.IsInfinity(scale)) return Ir.Quantization.PerTensor(1f, 0);
        float zeroPointFromMin = QMin - low / scale;
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
    /// the whole tensor when it is null. As TFLite's converter, in float32: scale = max / 127 and q = round(w × (127 /
    /// max)), so a converter and we write the same bytes for the same float weights. A channel that is zero everywhere
    /// borrows the largest scale of the others (1 when every channel is zero): its weights are exact at any scale, and
    /// a normal scale keeps its bias (quantized at input scale × weight scale) precise and its output multiplier in
    /// the usual range. (TFLite's converter writes scale 0 there, which TFLM's Prepare cannot use.)
    /// </summary>
    public static (sbyte[] Values, Ir.Quantization Quantization) SymmetricWeights(float[] weights, int[] shape, int? channelDim) =>
        SymmetricWeights(weights, shape, channelDim, new double[channelDim is int d ? shape[d] : 1]);

    /// <summary>
    /// Symmetric weights whose scales are at least <paramref name="minimumScales"/> (so the biases fit int32, see
    /// <see cref="MinimumWeightScaleForBias"/>); otherwise the same as the overload without minimums.
    /// </summary>
    public static (sbyte[] Values, Ir.Quantization Quantization) SymmetricWeights(float[] weights, int[] shape, int? channelDim, double[] minimumScales)
    {
        EnsureFinite(weights, "weights");
        int channels = channelDim is int d ? shape[d] : 1;
        int inner = channelDim is int dim ? shape.Skip(dim + 1).Aggregate(1, (a, b) => a * b) : weights.Length;
        int Channel(int i) => channelDim is null ? 0 : i / inner % channels;
        var maxAbs = new float[channels];
        for (int i = 0; i < weights.Length; i++) maxAbs[Channel(i)] = Math.Max(maxAbs[Channel(i)], Math.Abs(weights[i]));
        float largest = maxAbs.Max();
        var scales = new float[channels];
        var inverses = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float range = maxAbs[c] > 0 ? maxAbs[c] : largest;
            scales[c] = range > 0 ? range / WeightMax : 1f;
            inverses[c] = range > 0 ? WeightMax / range : 1f;
            if (scales[c] < minimumScales[c])
            {
                scales[c] = (float)minimumScales[c];
                inverses[c] = 1f / scales[c];
            }
        }
        var values = new sbyte[weights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            float product = weights[i] * inverses[Channel(i)];
            values[i] = (sbyte)Math.Max(-WeightMax, Math.Min(WeightMax, QuantMath.Round(product)));
        }
        return (values, new Ir.Quantization(scales, new long[channels], channelDim ?? 0));
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
            // As TFLite's converter: the scale is a float product, the bias times the float inverse is rounded.
            scales[c] = inputScale * weights.Scales[weights.IsPerChannel ? c : 0];
            float inverse = (float)(1.0 / scales[c]);
            double q = QuantMath.Round(bias[c] * inverse);
            values[c] = (int)Math.Max(-int.MaxValue, Math.Min(int.MaxValue, q));
        }
        var kept = weights.IsPerChannel ? scales : new[] { scales[0] };
        return (values, new Ir.Quantization(kept, new long[kept.Length], 0));
    }

    /// <summary>The smallest weight scale at which a bias stays within half of int32's range (headroom for the
    /// accumulation), given the input scale: TFLite's converter widens the weight scale to this too.</summary>
    public static double MinimumWeightScaleForBias(float bias, float inputScale) =>
        Math.Abs(bias) / ((double)inputScale * (int.MaxValue / 2.0));

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
