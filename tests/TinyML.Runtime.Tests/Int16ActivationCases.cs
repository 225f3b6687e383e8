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
/// Random int16 (16x8) models of one operator each (LOGISTIC, TANH, SOFTMAX, RELU6, MEAN, QUANTIZE, DEQUANTIZE) and a
/// C# transcription of TFLM's reference arithmetic for them (tflite-micro 90b983c: logistic_common.cc, tanh.cc,
/// softmax_common.cc, activations_common.cc, reduce_common.cc, quantize_common.cc, dequantize_common.cc and the
/// reference_ops / reference_integer_ops they call). Written from TFLM's source, not from our kernels: the oracle of
/// the host tests (Int16ActivationTests) and of the device tests under QEMU (linked into Device.Tests).
/// </summary>
public static class Int16ActivationCases
{
    /// <summary>One model: its single operator's input and output tensors and what the reference needs.</summary>
    internal sealed record Case(string Label, Model Model, OpKind Kind, DataType InType, DataType OutType, int[] Shape, int[] OutShape,
        float InScale, int InZero, float OutScale, int OutZero, float Beta = 1f, int[]? Axes = null, bool KeepDims = false)
    {
        public int Count => Shape.Aggregate(1, (a, x) => a * x);
    }

    private const float SigmoidOutScale = 1f / 32768;

    /// <summary>Builds the one-operator model of a case.</summary>
    internal static Model Build(OpKind kind, DataType inType, DataType outType, int[] shape, int[] outShape, float inScale, int inZero,
        float outScale, int outZero, OperatorOptions? options, int version, int[]? axes = null)
    {
        var b = new ModelBuilder();
        Quantization? Q(DataType t, float s, int z) => t == DataType.Float32 ? null : Quantization.PerTensor(s, z);
        int input = b.Tensor("input", inType, shape, Q(inType, inScale, inZero));
        var inputs = new List<int> { input };
        if (axes is not null) inputs.Add(b.Constant("axes", new[] { axes.Length }, axes));
        int output = b.Tensor("output", outType, outShape, Q(outType, outScale, outZero));
        b.Operator(kind, inputs.ToArray(), new[] { output }, options, version);
        b.Inputs(input).Outputs(output);
        return b.Build();
    }

    /// <summary>The input scales the sigmoid cases take: both power-of-two forms TFLM keeps, powers of two it rescales, and random ones.</summary>
    internal static IEnumerable<float> SigmoidScales(OpKind kind, Random rng)
    {
        yield return 1f / 4096;                                   // 2^-12: the power-of-two form, shift 0
        if (kind == OpKind.Tanh) yield return 1f / 2048;          // 2^-11: TANH's power-of-two form, shift 1
        yield return 1f / 2048 / (kind == OpKind.Tanh ? 2 : 1) * 4; // a power of two TFLM rescales like any scale
        yield return 1f / 32768;                                  // the int16 LSTM cell's usual 2^-15
        yield return 10f / 32768;                                 // +-10: the table's whole range
        for (int k = 0; k < 5; k++) yield return (float)Math.Pow(10, -5 + 3 * rng.NextDouble()); // 1e-5 .. 1e-2
    }

    /// <summary>LOGISTIC or TANH over every int16 value, at each scale.</summary>
    internal static IEnumerable<Case> Sigmoid(OpKind kind, int seed)
    {
        var rng = new Random(seed);
        var shape = new[] { 1, 65536 };
        foreach (float scale in SigmoidScales(kind, rng))
            yield return new Case($"{kind} s16 scale {scale:G6}", Build(kind, DataType.Int16, DataType.Int16, shape, shape, scale, 0, SigmoidOutScale, 0, null, 3),
                kind, DataType.Int16, DataType.Int16, shape, shape, scale, 0, SigmoidOutScale, 0);
    }

    /// <summary>Random int16 SOFTMAX models: 1-4 rows of 1-300, input scales over four decades, several betas.</summary>
    internal static IEnumerable<Case> Softmax(int seed, int count)
    {
        var rng = new Random(seed);
        var betas = new[] { 1f, 0.5f, 2f, 1.7f, 0.1f };
        for (int k = 0; k < count; k++)
        {
            int rows = rng.Next(1, 5), depth = k % 4 == 0 ? rng.Next(1, 4) : rng.Next(1, 301);
            var shape = rng.Next(2) == 0 ? new[] { rows, depth } : new[] { 1, rows, 1, depth };
            float scale = (float)Math.Pow(10, -5 + 3 * rng.NextDouble()), beta = betas[k % betas.Length];
            yield return new Case($"SOFTMAX s16 {string.Join("x", shape)} scale {scale:G6} beta {beta}",
                Build(OpKind.Softmax, DataType.Int16, DataType.Int16, shape, shape, scale, 0, 1f / 32768, 0, new SoftmaxOptions(beta), 3),
                OpKind.Softmax, DataType.Int16, DataType.Int16, shape, shape, scale, 0, 1f / 32768, 0, Beta: beta);
        }
    }

    /// <summary>RELU6 over every int16 value: random scales with six inside, at the edge of, or beyond the int16 range.</summary>
    internal static IEnumerable<Case> Relu6(int seed, int count, bool zeroPointZero)
    {
        var rng = new Random(seed);
        var shape = new[] { 1, 65536 };
        for (int k = 0; k < count; k++)
        {
            float scale = (float)Math.Pow(10, -5.5 + 3.5 * rng.NextDouble());
            int zero = zeroPointZero ? 0 : rng.Next(-2000, 2001);
            yield return new Case($"RELU6 s16 scale {scale:G6} zp {zero}", Build(OpKind.Relu6, DataType.Int16, DataType.Int16, shape, shape, scale, zero, scale, zero, null, 3),
                OpKind.Relu6, DataType.Int16, DataType.Int16, shape, shape, scale, zero, scale, zero);
        }
    }

    /// <summary>Random int16 MEAN models: rank 2-4, a run of consecutive axes, keep_dims or not, any scales.</summary>
    internal static IEnumerable<Case> Mean(int seed, int count, bool zeroPointsZero)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            int rank = rng.Next(2, 5);
            var shape = Enumerable.Range(0, rank).Select(_ => rng.Next(1, 7)).ToArray();
            int first = rng.Next(rank), last = rng.Next(first, rank);
            var axes = Enumerable.Range(first, last - first + 1).ToArray();
            bool keep = rng.Next(2) == 0;
            var outShape = Enumerable.Range(0, rank).Where(d => keep || !axes.Contains(d)).Select(d => axes.Contains(d) ? 1 : shape[d]).ToArray();
            float inScale = (float)Math.Pow(10, -4 + 2 * rng.NextDouble()), outScale = inScale * (float)(0.25 + 1.5 * rng.NextDouble());
            int inZero = zeroPointsZero ? 0 : rng.Next(-300, 301), outZero = zeroPointsZero ? 0 : rng.Next(-300, 301);
            yield return new Case($"MEAN s16 {string.Join("x", shape)} axes {string.Join(",", axes)}{(keep ? " keep" : "")} {inScale:G4}/{inZero} -> {outScale:G4}/{outZero}",
                Build(OpKind.Mean, DataType.Int16, DataType.Int16, shape, outShape, inScale, inZero, outScale, outZero, new ReducerOptions(keep), 3, axes),
                OpKind.Mean, DataType.Int16, DataType.Int16, shape, outShape, inScale, inZero, outScale, outZero, Axes: axes, KeepDims: keep);
        }
    }

    /// <summary>QUANTIZE with an int16 end (float32 -> int16, int16 -> int8, int8 -> int16, int16 -> int16) and DEQUANTIZE int16.</summary>
    internal static IEnumerable<Case> QuantizeAndDequantize(int seed, int count, bool zeroPointsZero)
    {
        var rng = new Random(seed);
        var pairs = new[] { (DataType.Float32, DataType.Int16), (DataType.Int16, DataType.Int8), (DataType.Int8, DataType.Int16), (DataType.Int16, DataType.Int16), (DataType.Int16, DataType.Float32) };
        for (int k = 0; k < count; k++)
        {
            var (inType, outType) = pairs[k % pairs.Length];
            var shape = new[] { 1, inType == DataType.Int16 ? 65536 : inType == DataType.Int8 ? 256 : 4096 };
            float inScale = (float)Math.Pow(10, -5 + 3 * rng.NextDouble()), outScale = inScale * (float)Math.Pow(10, -1.5 + 3 * rng.NextDouble());
            int Zero(DataType t) => zeroPointsZero || t == DataType.Float32 ? 0 : t == DataType.Int8 ? rng.Next(-128, 128) : rng.Next(-1000, 1001);
            int inZero = Zero(inType), outZero = Zero(outType);
            var kind = outType == DataType.Float32 ? OpKind.Dequantize : OpKind.Quantize;
            // TFLite's versions: QUANTIZE 3 (int16), DEQUANTIZE 4 (int16)
            int version = kind == OpKind.Dequantize ? 4 : 3;
            yield return new Case($"{kind} {DataTypes.Name(inType)} {inScale:G4}/{inZero} -> {DataTypes.Name(outType)} {outScale:G4}/{outZero}",
                Build(kind, inType, outType, shape, shape, inScale, inZero, outScale, outZero, null, version),
                kind, inType, outType, shape, shape, inScale, inZero, outScale, outZero);
        }
    }

    /// <summary>One operator of a chain: its kind, output type and scale (zero points 0), SOFTMAX's beta, MEAN's axes and output shape.</summary>
    internal sealed record Stage(OpKind Kind, DataType Out, float OutScale, float Beta = 1f, int[]? Axes = null, int[]? OutShape = null);

    /// <summary>A model chaining the stages from one input, and the reference of the whole chain (each stage's reference in turn).</summary>
    internal static (Model Model, Func<byte[], byte[]> Reference, Case First) Chain(DataType inType, float inScale, int[] shape, params Stage[] stages)
    {
        var b = new ModelBuilder();
        Quantization? Q(DataType t, float s) => t == DataType.Float32 ? null : Quantization.PerTensor(s, 0);
        int current = b.Tensor("input", inType, shape, Q(inType, inScale)), input = current;
        var cases = new List<Case>();
        var (type, scale, dims) = (inType, inScale, shape);
        foreach (var (stage, k) in stages.Select((x, k) => (x, k)))
        {
            var outShape = stage.OutShape ?? dims;
            int next = b.Tensor($"t{k}_{stage.Kind}", stage.Out, outShape, Q(stage.Out, stage.OutScale));
            var inputs = stage.Axes is null ? new[] { current } : new[] { current, b.Constant($"axes{k}", new[] { stage.Axes.Length }, stage.Axes) };
            OperatorOptions? options = stage.Kind switch
            {
                OpKind.Softmax => new SoftmaxOptions(stage.Beta),
                OpKind.Mean => new ReducerOptions(outShape.Length == dims.Length),
                _ => null,
            };
            b.Operator(stage.Kind, inputs, new[] { next }, options, stage.Kind == OpKind.Dequantize ? 4 : 3);
            cases.Add(new Case($"{stage.Kind}", null!, stage.Kind, type, stage.Out, dims, outShape, scale, 0, stage.OutScale, 0, stage.Beta, stage.Axes, outShape.Length == dims.Length));
            (current, type, scale, dims) = (next, stage.Out, stage.OutScale, outShape);
        }
        b.Inputs(input).Outputs(current);
        return (b.Build(), bytes => cases.Aggregate(bytes, (x, c) => Reference(c, x)), cases[0]);
    }

    /// <summary>LOGISTIC (rescaled input) -> TANH (2^-15, rescaled) -> RELU6 -> SOFTMAX -> MEAN, int16 throughout.</summary>
    internal static (Model Model, Func<byte[], byte[]> Reference, Case First) RescaledChain() =>
        Chain(DataType.Int16, 3.1e-4f, new[] { 1, 4, 6, 8 },
            new Stage(OpKind.Logistic, DataType.Int16, 1f / 32768), new Stage(OpKind.Tanh, DataType.Int16, 1f / 32768),
            new Stage(OpKind.Relu6, DataType.Int16, 1f / 32768), new Stage(OpKind.Softmax, DataType.Int16, 1f / 32768, Beta: 1.5f),
            new Stage(OpKind.Mean, DataType.Int16, 0.75f / 32768, Axes: new[] { 1, 2 }, OutShape: new[] { 1, 1, 1, 8 }));

    /// <summary>float32 -> QUANTIZE (2^-12) -> LOGISTIC (power-of-two form) -> QUANTIZE (2^-11) -> TANH (power-of-two form, shift 1)
    /// -> QUANTIZE to int8 -> QUANTIZE to int16 -> DEQUANTIZE.</summary>
    internal static (Model Model, Func<byte[], byte[]> Reference, Case First) PowerOfTwoChain() =>
        Chain(DataType.Float32, 1f, new[] { 1, 512 },
            new Stage(OpKind.Quantize, DataType.Int16, 1f / 4096), new Stage(OpKind.Logistic, DataType.Int16, 1f / 32768),
            new Stage(OpKind.Quantize, DataType.Int16, 1f / 2048), new Stage(OpKind.Tanh, DataType.Int16, 1f / 32768),
            new Stage(OpKind.Quantize, DataType.Int8, 1f / 128), new Stage(OpKind.Quantize, DataType.Int16, 1f / 4000),
            new Stage(OpKind.Dequantize, DataType.Float32, 0f));

    /// <summary>An input covering the type's whole range: every int16 value in order for the 65536-element sweeps, random values otherwise
    /// (SOFTMAX: half its rows over the whole range, half within a few hundred steps of a random centre, so that the exponentials do not all vanish).</summary>
    internal static byte[] Input(Case c, Random rng)
    {
        int n = c.Count;
        if (c.InType == DataType.Float32)
        {
            float range = 40000 * c.OutScale;
            return MemoryMarshal.AsBytes(Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * range)).ToArray().AsSpan()).ToArray();
        }
        if (c.InType == DataType.Int8) return Enumerable.Range(0, n).Select(i => (byte)(i - 128)).ToArray();
        var values = new short[n];
        if (n == 65536 && c.Kind != OpKind.Softmax)
            for (int i = 0; i < n; i++) values[i] = (short)(i - 32768);
        else if (c.Kind == OpKind.Softmax)
        {
            int depth = c.Shape[c.Shape.Length - 1];
            for (int r = 0; r < n / depth; r++)
            {
                bool narrow = rng.Next(2) == 0;
                int centre = rng.Next(-32768, 32768), spread = 1 + rng.Next(2000);
                for (int d = 0; d < depth; d++)
                    values[r * depth + d] = narrow ? (short)Math.Clamp(centre + rng.Next(-spread, spread + 1), -32768, 32767) : (short)rng.Next(-32768, 32768);
            }
        }
        else
            for (int i = 0; i < n; i++) values[i] = (short)rng.Next(-32768, 32768);
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    // ---- the C# reference: TFLM's arithmetic ------------------------------------------------------------------

    /// <summary>TFLM's int16 LOGISTIC/TANH Prepare: the power-of-two form (multiplier 0) or the rescale to 3 x 4096.</summary>
    internal static (int Multiplier, int Shift) SigmoidPrepare(OpKind kind, float scale)
    {
        // CheckedLog2 in float
        float log2 = MathF.Log(scale) * (1.0f / MathF.Log(2.0f));
        float rounded = MathF.Round(log2, MidpointRounding.AwayFromZero);
        bool pot = MathF.Abs(log2 - rounded) < 1e-3f;
        int shift = (15 - 3) + (int)rounded;
        pot &= kind == OpKind.Logistic ? shift == 0 : shift == 0 || shift == 1;
        if (pot) return (0, shift);
        double multiplier = (double)scale * 4096.0 * 3.0;
        shift = 0;
        while (multiplier <= 32767.0 / 2.0 && shift <= 30)
        {
            shift++;
            multiplier *= 2.0;
        }
        return ((int)multiplier, shift);
    }

    /// <summary>
    /// TFLM's sigmoid_table_uint16, from its formula: sigmoid at i/24 in Q0.16, each node lowered by h^2 sigmoid''/16
    /// (h = 1/24, half the midpoint error of linear interpolation), rounded; the last node is 65535.
    /// </summary>
    internal static readonly ushort[] SigmoidTable = Enumerable.Range(0, 256).Select(i =>
    {
        if (i == 255) return (ushort)65535;
        double h = 1.0 / 24, s = 1 / (1 + Math.Exp(-i * h));
        return (ushort)Math.Round(65536 * (s - h * h * s * (1 - s) * (1 - 2 * s) / 16), MidpointRounding.AwayFromZero);
    }).ToArray();

    /// <summary>reference_integer_ops::Logistic / Tanh for int16.</summary>
    internal static short SigmoidOne(bool tanh, short x, int multiplier, int shift)
    {
        if (multiplier == 0)
        {
            multiplier = 3 << shift;
            shift = 0;
        }
        int round = shift > 0 ? 1 << (shift - 1) : 0;
        int v = (x * multiplier + round) >> shift;
        uint abs = (uint)Math.Abs(v);
        if (!tanh)
        {
            uint uh = abs >> 9, result;
            if (uh >= 255) result = 0x7FFFu << 10;
            else
            {
                uint ua = SigmoidTable[uh], ub = SigmoidTable[uh + 1], ut = abs & 0x1FF;
                result = (ua << 9) + ut * (ub - ua);
            }
            result = v >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1;
            return (short)(result >> 10);
        }
        {
            uint uh = abs >> 8;
            int result;
            if (uh >= 255) result = 0xFFFF << 8;
            else
            {
                uint ua = SigmoidTable[uh], ub = SigmoidTable[uh + 1];
                byte ut = (byte)(abs & 0xFF);
                result = (int)((ua << 8) + ut * (ub - ua));
            }
            result = v >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
            return (short)(result >> 8);
        }
    }

    /// <summary>TFLM's gen_lut&lt;float, int16_t, int16_t&gt; (output range [-1, 1], 512 steps and the end point), in float.</summary>
    internal static short[] GenLut(Func<float, float> f, float min, float max)
    {
        float step = (max - min) / 512, half = step / 2, inv = 65536f / (1f - -1f);
        float R(float v) => MathF.Round(v, MidpointRounding.AwayFromZero);
        short C(float v) => (short)MathF.Min(MathF.Max(v, -32768f), 32767f);
        var lut = new short[513];
        for (int i = 0; i < 512; i++)
        {
            float val = f(min + i * step), mid = f(min + i * step + half), next = f(min + (i + 1) * step);
            float sample = R(val * inv), interp = R((next * inv + R(val * inv)) / 2), midVal = R(mid * inv);
            lut[i] = C(sample - R((interp - midVal) / 2));
        }
        lut[512] = C(R(f(max) * inv));
        return lut;
    }

    internal static readonly short[] ExpLut = GenLut(MathF.Exp, -10f, 0f);
    internal static readonly short[] ReciprocalLut = GenLut(x => 1.0f / (1.0f + x), 0f, 1f);

    /// <summary>TFLM's LUTLookup on a 513-entry table.</summary>
    internal static short LutLookup(short value, short[] lut)
    {
        int index = 256 + (value >> 7), offset = value & 0x7F;
        short slope = (short)(lut[index + 1] - lut[index]);
        return (short)(lut[index] + ((slope * offset + 64) >> 7));
    }

    /// <summary>reference_ops::SoftmaxInt16 with SoftmaxPrepare's multiplier.</summary>
    internal static short[] SoftmaxReference(Case c, short[] x)
    {
        var (multiplier, shift) = QuantMath.QuantizeMultiplier((double)c.InScale * (double)c.Beta / (10.0 / 65535.0));
        int depth = c.Shape[c.Shape.Length - 1];
        var y = new short[x.Length];
        for (int r = 0; r < x.Length / depth; r++)
        {
            short max = short.MinValue;
            for (int d = 0; d < depth; d++) max = Math.Max(max, x[r * depth + d]);
            int sum = 0;
            var exps = new short[depth];
            for (int d = 0; d < depth; d++)
            {
                int scaled = TransposeConvCases.MultiplyByQuantizedMultiplier(x[r * depth + d] - max, multiplier, shift);
                exps[d] = LutLookup((short)Math.Clamp(scaled + 32767, -32768, 32767), ExpLut);
                sum += exps[d];
            }
            int headroomPlusOne = System.Numerics.BitOperations.LeadingZeroCount((uint)sum);
            int shiftedSum = (int)((((long)sum << (headroomPlusOne - 1)) + (1 << 13)) >> 14);
            short reciprocal = LutLookup((short)Math.Clamp(shiftedSum - ((1 << 15) + (1 << 16)), -32768, 32767), ReciprocalLut);
            int rightShift = 31 - headroomPlusOne;
            for (int d = 0; d < depth; d++)
            {
                long round = 1L << (rightShift - 1);
                int result = (int)(((long)exps[d] * reciprocal + round) >> rightShift);
                y[r * depth + d] = (short)Math.Clamp(result, 0, 32767);
            }
        }
        return y;
    }

    /// <summary>Relu6Prepare (FloatToQuantizedType&lt;int16_t&gt;) and Relu6Quantized.</summary>
    internal static short[] Relu6Reference(Case c, short[] x)
    {
        int six = (int)Math.Clamp(MathF.Round(6.0f / c.InScale, MidpointRounding.AwayFromZero) + c.InZero, -32768, 32767);
        return x.Select(v => (short)(v > six ? six : v < c.InZero ? c.InZero : v)).ToArray();
    }

    /// <summary>PrepareMeanOrSumHelper's multiplier and QuantizedMeanOrSum's integer path with the 1/count fold.</summary>
    internal static short[] MeanReference(Case c, short[] x)
    {
        int rank = c.Shape.Length, first = c.Axes!.Min(), last = c.Axes!.Max();
        int outer = c.Shape.Take(first).Aggregate(1, (a, b) => a * b), count = c.Shape.Skip(first).Take(last - first + 1).Aggregate(1, (a, b) => a * b);
        int inner = c.Shape.Skip(last + 1).Aggregate(1, (a, b) => a * b);
        var (m0, s0) = QuantMath.QuantizeMultiplier((double)c.InScale / c.OutScale);
        int log2 = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)count);
        int fold = Math.Min(Math.Min(log2, 32), 31 + s0);
        int multiplier = (int)(((long)m0 << fold) / count), shift = s0 - fold;
        var y = new short[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int sum = 0;
                for (int r = 0; r < count; r++) sum = unchecked(sum + x[(o * count + r) * inner + i]);
                int shifted = unchecked(sum - c.InZero * count);
                int v = TransposeConvCases.MultiplyByQuantizedMultiplier(shifted, multiplier, shift) + c.OutZero;
                y[o * inner + i] = (short)Math.Clamp(v, -32768, 32767);
            }
        return y;
    }

    /// <summary>AffineQuantize, Requantize (QuantizeMultiplier of the double ratio) and Dequantize.</summary>
    internal static byte[] QuantizeReference(Case c, byte[] input)
    {
        int lo = c.OutType == DataType.Int8 ? -128 : -32768, hi = c.OutType == DataType.Int8 ? 127 : 32767;
        if (c.InType == DataType.Float32)
        {
            var f = MemoryMarshal.Cast<byte, float>(input).ToArray();
            var q = f.Select(v => (short)Math.Clamp((int)MathF.Round(v / c.OutScale, MidpointRounding.AwayFromZero) + c.OutZero, lo, hi)).ToArray();
            return MemoryMarshal.AsBytes(q.AsSpan()).ToArray();
        }
        int[] x = c.InType == DataType.Int8 ? input.Select(b => (int)(sbyte)b).ToArray() : MemoryMarshal.Cast<byte, short>(input).ToArray().Select(v => (int)v).ToArray();
        if (c.OutType == DataType.Float32)
        {
            var d = x.Select(v => c.InScale * (float)(v - c.InZero)).ToArray();
            return MemoryMarshal.AsBytes(d.AsSpan()).ToArray();
        }
        var (m, s) = QuantMath.QuantizeMultiplier((double)c.InScale / c.OutScale);
        var y = x.Select(v => Math.Clamp(TransposeConvCases.MultiplyByQuantizedMultiplier(v - c.InZero, m, s) + c.OutZero, lo, hi)).ToArray();
        return c.OutType == DataType.Int8 ? y.Select(v => (byte)(sbyte)v).ToArray() : MemoryMarshal.AsBytes(y.Select(v => (short)v).ToArray().AsSpan()).ToArray();
    }

    /// <summary>The reference output bytes of a case.</summary>
    internal static byte[] Reference(Case c, byte[] input)
    {
        if (c.Kind is OpKind.Quantize or OpKind.Dequantize) return QuantizeReference(c, input);
        var x = MemoryMarshal.Cast<byte, short>(input).ToArray();
        short[] y = c.Kind switch
        {
            OpKind.Logistic or OpKind.Tanh => SigmoidPrepare(c.Kind, c.InScale) is var (m, s)
                ? x.Select(v => SigmoidOne(c.Kind == OpKind.Tanh, v, m, s)).ToArray() : throw new InvalidOperationException(),
            OpKind.Softmax => SoftmaxReference(c, x),
            OpKind.Relu6 => Relu6Reference(c, x),
            OpKind.Mean => MeanReference(c, x),
            _ => throw new ArgumentException($"no reference for {c.Kind}"),
        };
        return MemoryMarshal.AsBytes(y.AsSpan()).ToArray();
    }
}
