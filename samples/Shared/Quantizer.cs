// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;

namespace TinyML.Samples;

/// <summary>
/// The int8 quantization rules of the TFLite specification, as the sample model builders apply them: asymmetric
/// per-tensor activations, symmetric weights (per channel for convolutions), int32 biases at
/// input_scale × weight_scale. Rounding is half away from zero, as TFLite's std::round.
/// </summary>
internal static class Quantizer
{
    /// <summary>
    /// Asymmetric int8 parameters for the real range [min, max]. The range is widened to contain 0 so that zero
    /// (the padding value) is exact; a range whose minimum is 0 (after ReLU) gets zero point -128.
    /// </summary>
    public static Quantization FromRange(double min, double max)
    {
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        if (max - min < 1e-6) max = min + 1e-6;
        double scale = (max - min) / 255.0;
        long zeroPoint = (long)Math.Max(-128, Math.Min(127, QuantMath.Round(-128 - min / scale)));
        return Quantization.PerTensor((float)scale, zeroPoint);
    }

    /// <summary>
    /// Symmetric int8 weights with one scale per index of <paramref name="channelDim"/> (max |w| / 127), or one scale
    /// for the whole tensor when <paramref name="channelDim"/> is null. Values are clamped to [-127, 127].
    /// </summary>
    public static (sbyte[] Values, Quantization Quantization) Weights(float[] weights, int[] shape, int? channelDim)
    {
        int channels = channelDim is int d ? shape[d] : 1;
        // Elements with the same channel index are `inner` apart within blocks of `channels * inner`.
        int inner = channelDim is int dim ? shape.Skip(dim + 1).Aggregate(1, (a, b) => a * b) : weights.Length;
        int Channel(int i) => channelDim is null ? 0 : i / inner % channels;
        var maxAbs = new double[channels];
        for (int i = 0; i < weights.Length; i++) maxAbs[Channel(i)] = Math.Max(maxAbs[Channel(i)], Math.Abs(weights[i]));
        // An all-zero channel still needs a positive scale; any works, since every value quantizes to 0.
        var scales = maxAbs.Select(m => (float)(m > 0 ? m / 127.0 : 1.0)).ToArray();
        var values = new sbyte[weights.Length];
        for (int i = 0; i < weights.Length; i++)
            values[i] = (sbyte)Math.Max(-127, Math.Min(127, QuantMath.Round(weights[i] / (double)scales[Channel(i)])));
        var quantization = new Quantization(scales, new long[channels], channelDim ?? 0);
        return (values, quantization);
    }

    /// <summary>
    /// Int32 biases at scale input_scale × weight_scale[c] (zero point 0), with the quantization record that goes
    /// on the bias tensor.
    /// </summary>
    public static (int[] Values, Quantization Quantization) Bias(float[] bias, float inputScale, Quantization weights)
    {
        var scales = new float[bias.Length];
        var values = new int[bias.Length];
        for (int c = 0; c < bias.Length; c++)
        {
            scales[c] = inputScale * weights.Scales[weights.IsPerChannel ? c : 0];
            double q = QuantMath.Round(bias[c] / (double)scales[c]);
            values[c] = (int)Math.Max(int.MinValue, Math.Min(int.MaxValue, q));
        }
        var scaleList = weights.IsPerChannel ? scales : new[] { scales[0] };
        return (values, new Quantization(scaleList, new long[scaleList.Length], 0));
    }

    /// <summary>One real value in int8 with per-tensor parameters (rounded, clamped).</summary>
    public static sbyte Quantize(double real, Quantization q) =>
        (sbyte)Math.Max(-128, Math.Min(127, QuantMath.Round(real / q.Scale) + q.ZeroPoint));

    /// <summary>One int8 value as a real number.</summary>
    public static double Dequantize(sbyte value, Quantization q) => q.Scale * (value - q.ZeroPoint);
}

/// <summary>
/// SplitMix64: a tiny generator whose output is fixed by its seed on every platform and .NET version (unlike the
/// algorithm behind <see cref="Random"/>, which .NET may change). Only integer arithmetic and exact scaling, so the
/// weights derived from it are the same bits everywhere.
/// </summary>
internal sealed class DeterministicRandom
{
    private ulong _state;

    /// <summary>Seeds the generator.</summary>
    public DeterministicRandom(ulong seed) => _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A double uniform in [0, 1), from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A double uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();
}
