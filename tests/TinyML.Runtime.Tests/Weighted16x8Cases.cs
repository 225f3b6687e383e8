// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;

namespace TinyML.Tests;

/// <summary>
/// Random 16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED models (int16 activations with zero point 0, int8
/// weights, int64 / int32 / no bias) and a C# transcription of TFLM's reference arithmetic for them
/// (reference_integer_ops::ConvPerChannel&lt;int64_t&gt; and &lt;int32_t&gt;, DepthwiseConvPerChannel for int16,
/// FullyConnected and FullyConnectedPerChannel &lt;int64_t&gt; and &lt;int32_t&gt;), the oracle of Weighted16x8Tests (host) and Weighted16x8DeviceTests (QEMU).
/// </summary>
public static class Weighted16x8Cases
{
    /// <summary>The bias of a case: TFLM picks the accumulator by it (CONV_2D and FULLY_CONNECTED: int32 without a bias).</summary>
    public enum BiasKind { Int64, Int32, None }

    /// <summary>One random model and what the reference needs of it. Conv weights are [oc, kh, kw, c], depthwise
    /// [1, kh, kw, c * m], fully connected [units, depth] (In = [batches, depth]).</summary>
    internal sealed record Case(string Label, OpKind Kind, Model Model, int[] In, int[] W, int[] Out, int StrideH, int StrideW,
        int DilationH, int DilationW, int PadH, int PadW, int DepthMultiplier, Activation Activation, BiasKind Bias, bool PerChannel,
        sbyte[] Weights, long[] Bias64, int[] Bias32, float InScale, float[] WScales, float OutScale);

    internal static IEnumerable<Case> Cases(OpKind kind, int seed, int count)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            bool fc = kind == OpKind.FullyConnected, depthwise = kind == OpKind.DepthwiseConv2D;
            int n = 1 + rng.Next(2), h = rng.Next(1, 8), w = rng.Next(1, 8), c = new[] { 1, 2, 3, 5, 7, 8, 13 }[rng.Next(7)];
            int kh = rng.Next(1, 4), kw = rng.Next(1, 4), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
            int dh = rng.Next(3) == 0 ? 2 : 1, dw = rng.Next(3) == 0 ? 2 : 1, m = depthwise ? rng.Next(1, 4) : 1;
            int oc = fc ? new[] { 1, 3, 7, 16, 17 }[rng.Next(5)] : depthwise ? c * m : new[] { 1, 2, 3, 5, 8, 11 }[rng.Next(6)];
            var padding = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            if (!fc && (QuantMath.OutputSize(padding, h, kh, sh, dh) < 1 || QuantMath.OutputSize(padding, w, kw, sw, dw) < 1)) padding = Padding.Same;
            int oh = fc ? 1 : QuantMath.OutputSize(padding, h, kh, sh, dh), ow = fc ? 1 : QuantMath.OutputSize(padding, w, kw, sw, dw);
            int padH = fc ? 0 : QuantMath.PaddingBefore(sh, dh, h, kh, oh), padW = fc ? 0 : QuantMath.PaddingBefore(sw, dw, w, kw, ow);
            // TFLM's 16x8 depthwise has an int64 bias only.
            var bias = depthwise || rng.Next(2) == 0 ? BiasKind.Int64 : BiasKind.Int32;
            bool perChannel = !fc || rng.Next(2) == 0;
            if (rng.Next(4) == 0) bias = BiasKind.None;
            var activation = new[] { Activation.None, Activation.Relu, Activation.Relu6 }[rng.Next(3)];
            int depth = fc ? h * w * c : 0;
            int[] inShape = fc ? new[] { n, depth } : new[] { n, h, w, c };
            int[] wShape = fc ? new[] { oc, depth } : depthwise ? new[] { 1, kh, kw, oc } : new[] { oc, kh, kw, c };
            int[] outShape = fc ? new[] { n, oc } : new[] { n, oh, ow, oc };
            int taps = fc ? depth : depthwise ? kh * kw : kh * kw * c;

            float inScale = 1e-4f * (1 + 9 * (float)rng.NextDouble());
            var wScales = Enumerable.Range(0, perChannel ? oc : 1).Select(_ => 0.002f + 0.02f * (float)rng.NextDouble()).ToArray();
            // Outputs spread over about a quarter of the int16 range for uniform inputs, some saturating.
            float outScale = inScale * wScales.Average() * 32768f * 64f * (float)Math.Sqrt(taps) / (4000f + 16000f * (float)rng.NextDouble());
            if (activation == Activation.Relu6) outScale = Math.Min(outScale, 6f / 1000f);
            var weights = Enumerable.Range(0, wShape.Aggregate(1, (a, x) => a * x)).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
            // Biases of the sums' size; one int64 channel in ten beyond the int32 range (it saturates).
            var bias64 = Enumerable.Range(0, oc).Select(_ => (long)rng.Next(-(1 << 20), 1 << 20) * (rng.Next(10) == 0 ? rng.Next(2100, 5000) : 1)).ToArray();
            var bias32 = Enumerable.Range(0, oc).Select(_ => rng.Next(-(1 << 20), 1 << 20)).ToArray();

            var b = new ModelBuilder();
            var wq = perChannel ? new Quantization(wScales, new long[oc], depthwise ? 3 : 0) : Quantization.PerTensor(wScales[0], 0);
            int wt = b.Constant("weights", wShape, weights, wq);
            int input = b.Tensor("input", DataType.Int16, inShape, Quantization.PerTensor(inScale, 0));
            int output = b.Tensor("output", DataType.Int16, outShape, Quantization.PerTensor(outScale, 0));
            var biasQ = !perChannel ? Quantization.PerTensor(wScales[0] * inScale, 0)
                : new Quantization(wScales.Select(s => s * inScale).ToArray(), new long[oc], 0);
            int biasTensor = bias switch
            {
                BiasKind.Int64 => b.Constant("bias", DataType.Int64, new[] { oc }, MemoryMarshal.AsBytes(bias64.AsSpan()).ToArray(), biasQ),
                BiasKind.Int32 => b.Constant("bias", new[] { oc }, bias32, biasQ),
                _ => -1,
            };
            var inputs = biasTensor >= 0 ? new[] { input, wt, biasTensor } : new[] { input, wt };
            OperatorOptions options = kind switch
            {
                OpKind.Conv2D => new Conv2DOptions(padding, sw, sh, activation, dw, dh),
                OpKind.DepthwiseConv2D => new DepthwiseConv2DOptions(padding, sw, sh, m, activation, dw, dh),
                _ => new FullyConnectedOptions(activation, 0, false, false),
            };
            // The versions TFLite gives 16x8: CONV_2D 4, DEPTHWISE_CONV_2D 5, FULLY_CONNECTED 7.
            b.Operator(kind, inputs, new[] { output }, options, version: kind switch { OpKind.Conv2D => 4, OpKind.DepthwiseConv2D => 5, _ => 7 });
            b.Inputs(input).Outputs(output);
            string label = fc
                ? $"fc {n}x{depth} -> {oc} {(perChannel ? "per-channel" : "per-tensor")} {activation} bias {bias}"
                : $"{(depthwise ? $"dw m{m}" : "conv")} {n}x{h}x{w}x{c} k{kh}x{kw} s{sh}x{sw} d{dh}x{dw} {padding} -> {oh}x{ow}x{oc} {activation} bias {bias}";
            yield return new Case(label, kind, b.Build(), inShape, wShape, outShape, sh, sw, dh, dw, padH, padW, m, activation, bias,
                perChannel, weights, bias64, bias32, inScale, wScales, outScale);
        }
    }

    /// <summary>Uniform int16 input bytes.</summary>
    internal static byte[] RandomInput(Case c, Random rng)
    {
        var values = Enumerable.Range(0, c.In.Aggregate(1, (a, x) => a * x)).Select(_ => (short)rng.Next(short.MinValue, short.MaxValue + 1)).ToArray();
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    // ---- the C# reference: TFLM's arithmetic, written from reference_integer_ops and its Prepare -----------

    /// <summary>TFLM's MultiplyByQuantizedMultiplier(int64_t, ...): the multiplier rounded to 16 bits, one rounding shift by 15 - shift.</summary>
    internal static int MultiplyByQuantizedMultiplier64(long x, int multiplier, int shift)
    {
        long reduced = multiplier < 0x7FFF0000 ? (multiplier + (1L << 15)) >> 16 : 0x7FFF;
        int totalShift = 15 - shift;
        return unchecked((int)((x * reduced + (1L << (totalShift - 1))) >> totalShift));
    }

    /// <summary>CalculateActivationRangeQuantized for an int16 output with zero point 0.</summary>
    internal static (int Min, int Max) ActivationRange(Activation activation, float scale)
    {
        int Quantize(float value) => (int)MathF.Round(value / scale, MidpointRounding.AwayFromZero);
        return activation switch
        {
            Activation.Relu => (Math.Max(short.MinValue, Quantize(0)), short.MaxValue),
            Activation.Relu6 => (Math.Max(short.MinValue, Quantize(0)), Math.Min(short.MaxValue, Quantize(6))),
            _ => (short.MinValue, short.MaxValue),
        };
    }

    /// <summary>The sum of weight x input products of every output element, in 64 bits.</summary>
    private static long[] Sums(Case c, short[] x)
    {
        int[] i = c.In, w = c.W, o = c.Out;
        var sums = new long[o.Aggregate(1, (a, v) => a * v)];
        if (c.Kind == OpKind.FullyConnected)
        {
            for (int b = 0; b < o[0]; b++)
            for (int u = 0; u < o[1]; u++)
            for (int d = 0; d < w[1]; d++)
                sums[b * o[1] + u] += (long)c.Weights[u * w[1] + d] * x[b * w[1] + d];
            return sums;
        }
        for (int b = 0; b < o[0]; b++)
        for (int oy = 0; oy < o[1]; oy++)
        for (int ox = 0; ox < o[2]; ox++)
        for (int oc = 0; oc < o[3]; oc++)
        for (int ky = 0; ky < w[1]; ky++)
        for (int kx = 0; kx < w[2]; kx++)
        {
            int iy = oy * c.StrideH - c.PadH + ky * c.DilationH, ix = ox * c.StrideW - c.PadW + kx * c.DilationW;
            if (iy < 0 || iy >= i[1] || ix < 0 || ix >= i[2]) continue;
            int e = ((b * o[1] + oy) * o[2] + ox) * o[3] + oc, pixel = ((b * i[1] + iy) * i[2] + ix) * i[3];
            if (c.Kind == OpKind.DepthwiseConv2D)
                sums[e] += (long)c.Weights[(ky * w[2] + kx) * w[3] + oc] * x[pixel + oc / c.DepthMultiplier];
            else
                for (int ic = 0; ic < i[3]; ic++)
                    sums[e] += (long)c.Weights[((oc * w[1] + ky) * w[2] + kx) * w[3] + ic] * x[pixel + ic];
        }
        return sums;
    }

    internal static byte[] Reference(Case c, byte[] inputBytes)
    {
        var sums = Sums(c, MemoryMarshal.Cast<byte, short>(inputBytes).ToArray());
        int channels = c.Out[^1];
        var (min, max) = ActivationRange(c.Activation, c.OutScale);
        var output = new short[sums.Length];
        for (int e = 0; e < sums.Length; e++)
        {
            int ch = e % channels;
            // One weight scale (FULLY_CONNECTED): GetQuantizedConvolutionMultipler, the scale product in float; per
            // channel: PopulateConvolutionQuantizationParams, in double.
            double real = c.PerChannel ? (double)c.InScale * c.WScales[ch] / c.OutScale : (double)(c.InScale * c.WScales[0]) / c.OutScale;
            var (multiplier, shift) = QuantMath.QuantizeMultiplier(real);
            int v = c.Bias == BiasKind.Int64 || (c.Bias == BiasKind.None && c.Kind == OpKind.DepthwiseConv2D)
                ? MultiplyByQuantizedMultiplier64(sums[e] + (c.Bias == BiasKind.Int64 ? c.Bias64[ch] : 0), multiplier, shift)
                // ConvPerChannel<int32_t>, FullyConnected<int32_t>: an int32 accumulator (wrapping), the 32-bit requantization.
                : TransposeConvCases.MultiplyByQuantizedMultiplier(unchecked((int)sums[e] + (c.Bias == BiasKind.Int32 ? c.Bias32[ch] : 0)), multiplier, shift);
            output[e] = (short)Math.Clamp(v, min, max);
        }
        return MemoryMarshal.AsBytes(output.AsSpan()).ToArray();
    }

    /// <summary>Whether some element of an output lies strictly inside the activation range (not all saturated).</summary>
    internal static bool IsInformative(Case c, byte[] output)
    {
        var (min, max) = ActivationRange(c.Activation, c.OutScale);
        return MemoryMarshal.Cast<byte, short>(output).ToArray().Any(v => v > min && v < max);
    }
}
