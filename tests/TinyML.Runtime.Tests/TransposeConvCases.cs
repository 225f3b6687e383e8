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
/// Random TRANSPOSE_CONV models (int8, int16 16x8 and float32) and a C# transcription of TFLM's reference arithmetic
/// for them (reference_integer_ops::TransposeConv, its int16 template, and reference_ops::TransposeConv), the oracle of the host tests
/// (TransposeConvTests) and of the device tests under QEMU (this file is linked into Compiler.Tests and Device.Tests).
/// </summary>
public static class TransposeConvCases
{
    /// <summary>One random TRANSPOSE_CONV model and what the C# reference needs of it.</summary>
    internal sealed record Case(string Label, Model Model, int[] In, int[] W, int[] Out, int StrideH, int StrideW, Padding Padding,
        int PadH, int PadW, sbyte[] Weights8, float[] WeightsF, int[]? Bias8, float[]? BiasF, float InScale, int InZero,
        float[] WScales, float OutScale, int OutZero, bool IsFloat, bool Consistent, long[]? Bias64 = null)
    {
        /// <summary>16x8: int16 activations (zero point 0), int8 weights, int64 bias.</summary>
        public bool Is16 => Model.Main.Tensors[Model.Main.Inputs[0]].Type == DataType.Int16;
    }

    internal static IEnumerable<Case> Cases(int seed, int count, bool isFloat) => Cases(seed, count, isFloat ? DataType.Float32 : DataType.Int8);

    internal static IEnumerable<Case> Cases(int seed, int count, DataType type)
    {
        bool isFloat = type == DataType.Float32, is16 = type == DataType.Int16;
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            int n = 1 + rng.Next(2), h = rng.Next(1, 6), w = rng.Next(1, 6), c = rng.Next(1, 11), kh = rng.Next(1, 5), kw = rng.Next(1, 5);
            int sh = rng.Next(1, 4), sw = rng.Next(1, 4), oc = rng.Next(1, 10);
            var padding = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            // Two thirds of the models take an output size whose forward convolution gives the input size back (any of
            // them: SAME (h - 1) s + 1 .. h s, VALID (h - 1) s + k .. (h - 1) s + k + s - 1); the rest any size near it.
            bool consistentShape = rng.Next(3) != 0;
            int Size(int size, int kernel, int stride) => consistentShape
                ? (padding == Padding.Same ? (size - 1) * stride + 1 + rng.Next(stride) : (size - 1) * stride + kernel + rng.Next(stride))
                : Math.Max(1, (padding == Padding.Same ? size * stride : (size - 1) * stride + kernel) + rng.Next(-2, 4));
            int oh = Size(h, kh, sh), ow = Size(w, kw, sw);
            bool consistent = QuantMath.OutputSize(padding, oh, kh, sh, 1) == h && QuantMath.OutputSize(padding, ow, kw, sw, 1) == w;
            bool perChannel = rng.Next(2) == 0, hasBias = rng.Next(3) != 0;
            // int16 activations span about 2^15 steps where int8 span 2^7: scales 256 times finer, zero points 0.
            float inScale = (0.02f + 0.05f * (float)rng.NextDouble()) / (is16 ? 256 : 1);
            int inZero = is16 ? 0 : rng.Next(-20, 21);
            var wScales = Enumerable.Range(0, perChannel ? oc : 1).Select(_ => 0.005f + 0.03f * (float)rng.NextDouble()).ToArray();
            // int16: 4 times coarser still, so that full-range int16 inputs saturate the output less often.
            float outScale = inScale * wScales.Average() * (float)Math.Sqrt(c * kh * kw) * (10 + 30 * (float)rng.NextDouble()) * (is16 ? 4 : 1);
            int outZero = is16 ? 0 : rng.Next(-30, 31);
            var weights8 = Enumerable.Range(0, oc * kh * kw * c).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
            var weightsF = Enumerable.Range(0, oc * kh * kw * c).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            int[]? bias8 = hasBias ? Enumerable.Range(0, oc).Select(_ => rng.Next(-3000, 3001)).ToArray() : null;
            // int64 biases of the accumulators' size (beyond int32 they would only saturate; test_transpose_conv has those).
            long[]? bias64 = hasBias && is16 ? Enumerable.Range(0, oc).Select(_ => (long)rng.Next(-3000, 3001) * rng.Next(1, 1 << 10)).ToArray() : null;
            float[]? biasF = hasBias ? Enumerable.Range(0, oc).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray() : null;
            int padH = QuantMath.PaddingBefore(sh, 1, oh, kh, QuantMath.OutputSize(padding, oh, kh, sh, 1));
            int padW = QuantMath.PaddingBefore(sw, 1, ow, kw, QuantMath.OutputSize(padding, ow, kw, sw, 1));

            var b = new ModelBuilder();
            int shape = b.Constant("output_shape", new[] { 4 }, new[] { n, oh, ow, oc });
            int wt, input, output, bias = -1;
            if (isFloat)
            {
                wt = b.Constant("weights", new[] { oc, kh, kw, c }, weightsF);
                input = b.Tensor("input", DataType.Float32, new[] { n, h, w, c });
                if (hasBias) bias = b.Constant("bias", new[] { oc }, biasF!);
                output = b.Tensor("output", DataType.Float32, new[] { n, oh, ow, oc });
            }
            else
            {
                var wq = perChannel ? new Quantization(wScales, new long[oc], 0) : Quantization.PerTensor(wScales[0], 0);
                wt = b.Constant("weights", new[] { oc, kh, kw, c }, weights8, wq);
                input = b.Tensor("input", type, new[] { n, h, w, c }, Quantization.PerTensor(inScale, inZero));
                var bq = perChannel
                    ? new Quantization(wScales.Select(s => s * inScale).ToArray(), new long[oc], 0)
                    : Quantization.PerTensor(wScales[0] * inScale, 0);
                if (hasBias)
                    bias = is16
                        ? b.Constant("bias", DataType.Int64, new[] { oc }, MemoryMarshal.AsBytes(bias64.AsSpan()).ToArray(), bq)
                        : b.Constant("bias", new[] { oc }, bias8!, bq);
                output = b.Tensor("output", type, new[] { n, oh, ow, oc }, Quantization.PerTensor(outScale, outZero));
            }
            var inputs = hasBias ? new[] { shape, wt, input, bias } : new[] { shape, wt, input };
            b.Operator(OpKind.TransposeConv, inputs, new[] { output }, new TransposeConvOptions(padding, sw, sh), version: hasBias ? 3 : isFloat ? 1 : 2);
            b.Inputs(input).Outputs(output);
            string label = $"{(consistent ? "" : "(odd size) ")}{(isFloat ? "f32" : is16 ? "s16" : "s8")} {n}x{h}x{w}x{c} k{kh}x{kw} s{sh}x{sw} {padding} -> {oh}x{ow}x{oc}" +
                           $"{(isFloat ? "" : perChannel ? " per-channel" : " per-tensor")}{(hasBias ? " bias" : "")}";
            yield return new Case(label, b.Build(), new[] { n, h, w, c }, new[] { oc, kh, kw, c }, new[] { n, oh, ow, oc }, sh, sw, padding,
                padH, padW, weights8, weightsF, bias8, biasF, inScale, inZero, perChannel ? wScales : Enumerable.Repeat(wScales[0], oc).ToArray(),
                outScale, outZero, isFloat, consistent, bias64);
        }
    }

    internal static byte[] RandomInput(Case c, Random rng)
    {
        int count = c.In.Aggregate(1, (a, x) => a * x);
        if (c.Is16) return Enumerable.Range(0, 2 * count).Select(_ => (byte)rng.Next(256)).ToArray();
        if (!c.IsFloat) return Enumerable.Range(0, count).Select(_ => (byte)rng.Next(256)).ToArray();
        var values = Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    // ---- the C# reference: TFLM's arithmetic, written from reference_integer_ops::TransposeConv -------------

    /// <summary>TFLM's MultiplyByQuantizedMultiplier (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT).</summary>
    internal static int MultiplyByQuantizedMultiplier(int x, int multiplier, int shift)
    {
        int leftShift = shift > 0 ? shift : 0, rightShift = shift > 0 ? 0 : -shift;
        int a = unchecked(x * (1 << leftShift));
        int high;
        if (a == int.MinValue && multiplier == int.MinValue) high = int.MaxValue;
        else
        {
            long ab = (long)a * multiplier;
            long nudge = ab >= 0 ? 1L << 30 : 1 - (1L << 30);
            high = (int)((ab + nudge) / (1L << 31));
        }
        int mask = (1 << rightShift) - 1;
        int remainder = high & mask;
        int threshold = (mask >> 1) + (high < 0 ? 1 : 0);
        return (high >> rightShift) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>The scatter (batch, iy, ix, ic, ky, kx, oc) into an accumulator per output element.</summary>
    internal static void Scatter(Case c, Action<int, int, int> add)
    {
        int[] i = c.In, w = c.W, o = c.Out;
        for (int b = 0; b < i[0]; b++)
        for (int iy = 0; iy < i[1]; iy++)
        for (int ix = 0; ix < i[2]; ix++)
        for (int ic = 0; ic < i[3]; ic++)
        for (int ky = 0; ky < w[1]; ky++)
        for (int kx = 0; kx < w[2]; kx++)
        {
            int oy = iy * c.StrideH - c.PadH + ky, ox = ix * c.StrideW - c.PadW + kx;
            if (oy < 0 || oy >= o[1] || ox < 0 || ox >= o[2]) continue;
            for (int oc = 0; oc < o[3]; oc++)
                add((((b * o[1]) + oy) * o[2] + ox) * o[3] + oc, (((b * i[1]) + iy) * i[2] + ix) * i[3] + ic, ((oc * w[1] + ky) * w[2] + kx) * w[3] + ic);
        }
    }

    internal static byte[] Reference(Case c, byte[] inputBytes)
    {
        int count = c.Out.Aggregate(1, (a, x) => a * x), oc = c.Out[3];
        if (c.IsFloat)
        {
            var x = MemoryMarshal.Cast<byte, float>(inputBytes).ToArray();
            var acc = new float[count];
            Scatter(c, (o, i, w) => acc[o] += x[i] * c.WeightsF[w]);
            for (int e = 0; e < count; e++)
                if (c.BiasF is not null) acc[e] += c.BiasF[e % oc];
            return MemoryMarshal.AsBytes(acc.AsSpan()).ToArray();
        }
        if (c.Is16) return Reference16(c, inputBytes);
        var input = inputBytes.Select(v => (int)(sbyte)v).ToArray();
        var sum = new int[count];
        Scatter(c, (o, i, w) => sum[o] = unchecked(sum[o] + (input[i] - c.InZero) * c.Weights8[w]));
        var output = new byte[count];
        for (int e = 0; e < count; e++)
        {
            int ch = e % oc;
            int acc = c.Bias8 is null ? sum[e] : unchecked(sum[e] + c.Bias8[ch]);
            // PopulateConvolutionQuantizationParams: input scale x filter scale / output scale, in double.
            var (multiplier, shift) = QuantMath.QuantizeMultiplier((double)c.InScale * c.WScales[ch] / c.OutScale);
            int v = MultiplyByQuantizedMultiplier(acc, multiplier, shift) + c.OutZero;
            output[e] = (byte)(sbyte)Math.Clamp(v, -128, 127);
        }
        return output;
    }

    /// <summary>TFLM's MultiplyByQuantizedMultiplier for an int64 accumulator: the multiplier rounded to 16 bits
    /// (0x7FFF from 0x7FFF0000 up), then one rounding shift right by 15 - shift, truncated to int32.</summary>
    internal static int MultiplyByQuantizedMultiplier64(long x, int multiplier, int shift)
    {
        long reduced = multiplier < 0x7FFF0000 ? ((long)multiplier + (1 << 15)) >> 16 : 0x7FFF;
        int totalShift = 15 - shift;
        return unchecked((int)((x * reduced + (1L << (totalShift - 1))) >> totalShift));
    }

    /// <summary>The 16x8 template: int64 scatter of input x weight (no offsets), int64 bias, the 64-bit requantization,
    /// clamp to the int16 range (kTfLiteActNone), no output offset.</summary>
    private static byte[] Reference16(Case c, byte[] inputBytes)
    {
        int count = c.Out.Aggregate(1, (a, x) => a * x), oc = c.Out[3];
        var input = MemoryMarshal.Cast<byte, short>(inputBytes).ToArray();
        var sum = new long[count];
        Scatter(c, (o, i, w) => sum[o] += input[i] * c.Weights8[w]);
        var output = new short[count];
        for (int e = 0; e < count; e++)
        {
            int ch = e % oc;
            long acc = c.Bias64 is null ? sum[e] : sum[e] + c.Bias64[ch];
            var (multiplier, shift) = QuantMath.QuantizeMultiplier((double)c.InScale * c.WScales[ch] / c.OutScale);
            output[e] = (short)Math.Clamp(MultiplyByQuantizedMultiplier64(acc, multiplier, shift), short.MinValue, short.MaxValue);
        }
        return MemoryMarshal.AsBytes(output.AsSpan()).ToArray();
    }
}
