// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;

namespace TinyML.Tests;

/// <summary>
/// Random models of one operator each: RESIZE_NEAREST_NEIGHBOR (int8, int16, float32), RESIZE_BILINEAR (int8,
/// float32), DEPTH_TO_SPACE and SPACE_TO_DEPTH (int8, int16, float32), ELU (float32, int8) and LOG_SOFTMAX (float32):
/// NHWC shapes with batches, sizes scaled up and
/// down (by integer and by fractional factors, 1 included), every flag combination TFLite allows. With each, a C#
/// transcription of TFLM's reference arithmetic: GetNearestNeighbor's float scale and floor / round half away from
/// zero, ResizeBilinear's float operations in TFLM's order (and its + 0 rounding offset), ResizeBilinearInteger's
/// 10-bit positions and double rounding, DepthToSpace / SpaceToDepth's DCR index formulas, each walking the output
/// by multi-index; Elu (the C library's expm1f), PopulateLookupTable for int8 ELU, LogSoftmax (expf, logf, float sums
/// in TFLM's order) and LogSoftmaxQuantized with its Prepare and gemmlowp's fixed point (<see cref="Gemmlowp"/>). Where a reference calls the C library (<see cref="Case.Libm"/>) it calls glibc's, as TFLM's
/// reference does on x86 Linux; another C library (newlib on the devices) may differ in the last bits. Used by ResizeAndMovementTests (host, TFLite 2.9) and ResizeAndMovementDeviceTests.
/// </summary>
public static class ResizeAndMovementCases
{
    /// <summary>One random model: its input's byte count and the reference output bytes of an input.</summary>
    internal sealed record Case(string Label, OpKind Kind, DataType Type, Model Model, int InputBytes, Func<byte[], byte[]> Reference)
    {
        /// <summary>True when the float results come from the C library's expm1f / expf / logf.</summary>
        public bool Libm => Type == DataType.Float32 && Kind is OpKind.Elu or OpKind.LogSoftmax;
    }

    /// <summary>Each operator with each type it runs.</summary>
    internal static readonly (OpKind Kind, DataType Type)[] Variants =
    {
        (OpKind.ResizeNearestNeighbor, DataType.Int8), (OpKind.ResizeNearestNeighbor, DataType.Int16), (OpKind.ResizeNearestNeighbor, DataType.Float32),
        (OpKind.ResizeBilinear, DataType.Int8), (OpKind.ResizeBilinear, DataType.Float32),
        (OpKind.DepthToSpace, DataType.Int8), (OpKind.DepthToSpace, DataType.Int16), (OpKind.DepthToSpace, DataType.Float32),
        (OpKind.SpaceToDepth, DataType.Int8), (OpKind.SpaceToDepth, DataType.Int16), (OpKind.SpaceToDepth, DataType.Float32),
        (OpKind.Elu, DataType.Float32), (OpKind.Elu, DataType.Int8), (OpKind.LogSoftmax, DataType.Float32), (OpKind.LogSoftmax, DataType.Int8),
    };

    internal static string Name((OpKind Kind, DataType Type) v) => $"{v.Kind}:{v.Type}";

    internal static (OpKind Kind, DataType Type) Parse(string name)
    {
        var parts = name.Split(':');
        return (Enum.Parse<OpKind>(parts[0]), Enum.Parse<DataType>(parts[1]));
    }

    internal static IEnumerable<Case> Cases((OpKind Kind, DataType Type) variant, int seed, int count)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
            yield return variant.Kind switch
            {
                OpKind.ResizeNearestNeighbor or OpKind.ResizeBilinear => Resize(rng, variant.Kind, variant.Type),
                OpKind.DepthToSpace or OpKind.SpaceToDepth => SpaceDepth(rng, variant.Kind, variant.Type),
                OpKind.Elu => Elu(rng, variant.Type),
                _ => variant.Type == DataType.Int8 ? LogSoftmaxInt8(rng) : LogSoftmax(rng),
            };
    }

    /// <summary>Random input bytes: any int8 or int16 pattern; floats as FloatOpsCases.Value (zeros, halves, negatives).</summary>
    internal static byte[] RandomInput(Case c, Random rng)
    {
        if (c.Type != DataType.Float32)
        {
            var bytes = new byte[c.InputBytes];
            rng.NextBytes(bytes);
            return bytes;
        }
        return MemoryMarshal.AsBytes(Enumerable.Range(0, c.InputBytes / 4).Select(_ => FloatOpsCases.Value(rng)).ToArray().AsSpan()).ToArray();
    }

    private static int Size(DataType type) => type switch { DataType.Int8 => 1, DataType.Int16 => 2, _ => 4 };

    private static string Format(int[] shape) => $"[{string.Join(",", shape)}]";

    private static Quantization? QuantizationOf(Random rng, DataType type) => type switch
    {
        DataType.Int8 => Quantization.PerTensor((float)(0.01 + rng.NextDouble()), rng.Next(-20, 21)),
        DataType.Int16 => Quantization.PerTensor((float)(0.0001 + rng.NextDouble() * 0.01), 0),
        _ => null,
    };

    /// <summary>An output size from the input's: the same, an integer multiple, a fraction, or any size up to 3x.</summary>
    private static int OutputSize(Random rng, int input) => rng.Next(4) switch
    {
        0 => input,
        1 => input * rng.Next(2, 4),
        2 => Math.Max(1, input / rng.Next(2, 4)),
        _ => rng.Next(1, 3 * input + 1),
    };

    private static Case Resize(Random rng, OpKind kind, DataType type)
    {
        var input = new[] { rng.Next(1, 3), rng.Next(1, 7), rng.Next(1, 7), rng.Next(1, 5) };
        var size = new[] { OutputSize(rng, input[1]), OutputSize(rng, input[2]) };
        var output = new[] { input[0], size[0], size[1], input[3] };
        // TFLite refuses both flags for bilinear; for nearest all four combinations run.
        int flags = rng.Next(kind == OpKind.ResizeBilinear ? 3 : 4);
        bool align = flags is 1 or 3, half = flags is 2 or 3;
        var q = QuantizationOf(rng, type);
        var b = new ModelBuilder();
        int x = b.Tensor("x", type, input, q);
        int s = b.Constant("size", new[] { 2 }, size);
        int y = b.Tensor("y", type, output, q);
        b.Operator(kind, new[] { x, s }, new[] { y },
            kind == OpKind.ResizeBilinear ? new ResizeBilinearOptions(align, half) : new ResizeNearestNeighborOptions(align, half));
        Func<byte[], byte[]> reference = kind == OpKind.ResizeNearestNeighbor
            ? bytes => Nearest(bytes, Size(type), input, size, align, half)
            : type == DataType.Float32
                ? bytes => MemoryMarshal.AsBytes(BilinearFloat(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), input, size, align, half).AsSpan()).ToArray()
                : bytes => (byte[])(Array)BilinearInteger((sbyte[])(Array)bytes, input, size, align, half);
        string flagText = (align ? " align_corners" : "") + (half ? " half_pixel_centers" : "");
        return new Case($"{OpKinds.Name(kind)} {DataTypes.Name(type)} {Format(input)} -> {Format(output)}{flagText}", kind, type,
            b.Inputs(x).Outputs(y).Build(), input.Aggregate(1, (a, d) => a * d) * Size(type), reference);
    }

    /// <summary>GetNearestNeighbor: the float scale, (o + offset) * scale in float, rounded half away from zero with
    /// align_corners else floored, at most size - 1, at least 0 with half-pixel centres.</summary>
    internal static int NearestSource(int o, int inSize, int outSize, bool align, bool half)
    {
        float scale = align && outSize > 1 ? (inSize - 1) / (float)(outSize - 1) : inSize / (float)outSize;
        float position = (o + (half ? 0.5f : 0f)) * scale;
        int source = Math.Min(align ? (int)MathF.Round(position, MidpointRounding.AwayFromZero) : (int)MathF.Floor(position), inSize - 1);
        return half ? Math.Max(0, source) : source;
    }

    private static byte[] Nearest(byte[] input, int elementSize, int[] shape, int[] size, bool align, bool half)
    {
        int n = shape[0], h = shape[1], w = shape[2], c = shape[3];
        var output = new byte[n * size[0] * size[1] * c * elementSize];
        for (int b = 0; b < n; b++)
            for (int y = 0; y < size[0]; y++)
                for (int x = 0; x < size[1]; x++)
                {
                    int sy = NearestSource(y, h, size[0], align, half), sx = NearestSource(x, w, size[1], align, half);
                    Array.Copy(input, (((b * h + sy) * w + sx) * c) * elementSize, output, (((b * size[0] + y) * size[1] + x) * c) * elementSize, c * elementSize);
                }
        return output;
    }

    /// <summary>ComputeInterpolationValues: the float position and its neighbours, floor at least 0, ceil at most size - 1.</summary>
    private static (float Position, int Lower, int Upper) FloatSource(int o, float scale, bool half, int inSize)
    {
        float position = half ? (o + 0.5f) * scale - 0.5f : o * scale;
        return (position, Math.Max((int)MathF.Floor(position), 0), Math.Min((int)MathF.Ceiling(position), inSize - 1));
    }

    internal static float[] BilinearFloat(float[] input, int[] shape, int[] size, bool align, bool half)
    {
        int n = shape[0], h = shape[1], w = shape[2], c = shape[3];
        float heightScale = align && size[0] > 1 ? (float)(h - 1) / (size[0] - 1) : (float)h / size[0];
        float widthScale = align && size[1] > 1 ? (float)(w - 1) / (size[1] - 1) : (float)w / size[1];
        var output = new float[n * size[0] * size[1] * c];
        int At(int b, int y, int x, int ch) => ((b * h + y) * w + x) * c + ch;
        for (int b = 0; b < n; b++)
            for (int y = 0; y < size[0]; y++)
            {
                var (iy, y0, y1) = FloatSource(y, heightScale, half, h);
                for (int x = 0; x < size[1]; x++)
                {
                    var (ix, x0, x1) = FloatSource(x, widthScale, half, w);
                    for (int ch = 0; ch < c; ch++)
                    {
                        float sum = input[At(b, y0, x0, ch)] * (1 - (iy - y0)) * (1 - (ix - x0)) +
                                    input[At(b, y1, x0, ch)] * (iy - y0) * (1 - (ix - x0)) +
                                    input[At(b, y0, x1, ch)] * (1 - (iy - y0)) * (ix - x0) +
                                    input[At(b, y1, x1, ch)] * (iy - y0) * (ix - x0);
                        output[((b * size[0] + y) * size[1] + x) * c + ch] = sum + 0f;
                    }
                }
            }
        return output;
    }

    private static int ScaleQ10(int inSize, int outSize, bool align) =>
        align && outSize > 1 ? ((1 << 10) * (inSize - 1) + (outSize - 1) / 2) / (outSize - 1) : ((1 << 10) * inSize + outSize / 2) / outSize;

    /// <summary>ComputeInterpolationValuesInteger (C# integer division truncates toward zero, as C++'s does).</summary>
    private static (int Position, int Lower, int Upper) IntegerSource(int o, int scale, bool half, int inSize)
    {
        int position = half ? o * scale + scale / 2 - (1 << 9) : o * scale;
        return (position, Math.Max(position / (1 << 10), 0), Math.Min((position + (1 << 10) - 1) / (1 << 10), inSize - 1));
    }

    internal static sbyte[] BilinearInteger(sbyte[] input, int[] shape, int[] size, bool align, bool half)
    {
        int n = shape[0], h = shape[1], w = shape[2], c = shape[3];
        int heightScale = ScaleQ10(h, size[0], align), widthScale = ScaleQ10(w, size[1], align);
        var output = new sbyte[n * size[0] * size[1] * c];
        long At(int b, int y, int x, int ch) => input[((b * h + y) * w + x) * c + ch];
        for (int b = 0; b < n; b++)
            for (int y = 0; y < size[0]; y++)
            {
                var (iy, y0, y1) = IntegerSource(y, heightScale, half, h);
                for (int x = 0; x < size[1]; x++)
                {
                    var (ix, x0, x1) = IntegerSource(x, widthScale, half, w);
                    for (int ch = 0; ch < c; ch++)
                    {
                        long sum = At(b, y0, x0, ch) * ((1 << 10) - (iy - (1 << 10) * y0)) * ((1 << 10) - (ix - (1 << 10) * x0)) +
                                   At(b, y1, x0, ch) * (iy - (1 << 10) * y0) * ((1 << 10) - (ix - (1 << 10) * x0)) +
                                   At(b, y0, x1, ch) * ((1 << 10) - (iy - (1 << 10) * y0)) * (ix - (1 << 10) * x0) +
                                   At(b, y1, x1, ch) * (iy - (1 << 10) * y0) * (ix - (1 << 10) * x0);
                        long round = sum > 0 ? 1 << 19 : -(1 << 19);
                        output[((b * size[0] + y) * size[1] + x) * c + ch] = unchecked((sbyte)((sum + round) / (1 << 20)));
                    }
                }
            }
        return output;
    }

    private static Case SpaceDepth(Random rng, OpKind kind, DataType type)
    {
        int block = rng.Next(1, 4);
        int n = rng.Next(1, 3), h = rng.Next(1, 4), w = rng.Next(1, 4), depth = rng.Next(1, 4);
        // The spatial side [n, h * block, w * block, depth]; the deep side [n, h, w, depth * block^2].
        var spatial = new[] { n, h * block, w * block, depth };
        var deep = new[] { n, h, w, depth * block * block };
        bool toSpace = kind == OpKind.DepthToSpace;
        var (input, output) = toSpace ? (deep, spatial) : (spatial, deep);
        var q = QuantizationOf(rng, type);
        var b = new ModelBuilder();
        int x = b.Tensor("x", type, input, q);
        int y = b.Tensor("y", type, output, q);
        b.Operator(kind, new[] { x }, new[] { y }, toSpace ? new DepthToSpaceOptions(block) : new SpaceToDepthOptions(block));
        int es = Size(type);
        byte[] Reference(byte[] bytes)
        {
            var result = new byte[bytes.Length];
            // DepthToSpace walks its output (the spatial side), SpaceToDepth its input: the same pairs of elements.
            for (int bi = 0; bi < n; bi++)
                for (int sh = 0; sh < h * block; sh++)
                    for (int sw = 0; sw < w * block; sw++)
                        for (int d = 0; d < depth; d++)
                        {
                            int deepChannel = d + ((sh % block) * block + sw % block) * depth;
                            int spatialIndex = ((bi * h * block + sh) * w * block + sw) * depth + d;
                            int deepIndex = ((bi * h + sh / block) * w + sw / block) * depth * block * block + deepChannel;
                            var (from, to) = toSpace ? (deepIndex, spatialIndex) : (spatialIndex, deepIndex);
                            Array.Copy(bytes, from * es, result, to * es, es);
                        }
            return result;
        }
        return new Case($"{OpKinds.Name(kind)} {DataTypes.Name(type)} block {block} {Format(input)} -> {Format(output)}", kind, type,
            b.Inputs(x).Outputs(y).Build(), input.Aggregate(1, (a, d) => a * d) * es, Reference);
    }

    [DllImport("libm.so.6", EntryPoint = "expm1f")]
    private static extern float Expm1f(float x);

    [DllImport("libm.so.6", EntryPoint = "expf")]
    private static extern float Expf(float x);

    [DllImport("libm.so.6", EntryPoint = "logf")]
    private static extern float Logf(float x);

    private static int[] RandomShape(Random rng) => Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(1, 7)).ToArray();

    private static Case Elu(Random rng, DataType type)
    {
        var shape = RandomShape(rng);
        // The int8 input spans about [-6, 6] around a random zero point, the output [-1, its upper end].
        var iq = type == DataType.Int8 ? Quantization.PerTensor((float)(0.01 + rng.NextDouble() * 0.04), rng.Next(-30, 31)) : null;
        var oq = type == DataType.Int8 ? Quantization.PerTensor((float)(0.005 + rng.NextDouble() * 0.03), rng.Next(-128, -60)) : null;
        var b = new ModelBuilder();
        int x = b.Tensor("x", type, shape, iq);
        int y = b.Tensor("y", type, shape, oq);
        b.Operator(OpKind.Elu, new[] { x }, new[] { y });
        Func<byte[], byte[]> reference = type == DataType.Float32
            ? bytes => MemoryMarshal.AsBytes(MemoryMarshal.Cast<byte, float>(bytes).ToArray().Select(v => v < 0f ? Expm1f(v) : v).ToArray().AsSpan()).ToArray()
            : bytes =>
            {
                // PopulateLookupTable: float dequantize, e^x - 1 with expf, * (1 / scale), round half away, + zero point.
                float inverse = 1 / oq!.Scale;
                return bytes.Select(raw =>
                {
                    float d = iq!.Scale * ((sbyte)raw - iq.ZeroPoint);
                    float t = d < 0f ? Expf(d) - 1f : d;
                    float r = MathF.Round(t * inverse, MidpointRounding.AwayFromZero);
                    return (byte)(sbyte)Math.Clamp((int)(r + oq.ZeroPoint), -128, 127);
                }).ToArray();
            };
        string quant = type == DataType.Int8 ? $" in {iq!.Scale}/{iq.ZeroPoint} out {oq!.Scale}/{oq.ZeroPoint}" : "";
        return new Case($"ELU {DataTypes.Name(type)} {Format(shape)}{quant}", OpKind.Elu, type, b.Inputs(x).Outputs(y).Build(), shape.Aggregate(1, (a, d) => a * d) * Size(type), reference);
    }

    private static Case LogSoftmax(Random rng)
    {
        var shape = RandomShape(rng);
        int depth = shape[^1], rows = shape.Aggregate(1, (a, d) => a * d) / depth;
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, shape);
        int y = b.Tensor("y", DataType.Float32, shape);
        b.Operator(OpKind.LogSoftmax, new[] { x }, new[] { y }, new EmptyOptions(EmptyOptionUnions.LogSoftmax));
        byte[] Reference(byte[] bytes)
        {
            var input = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            var output = new float[input.Length];
            for (int r = 0; r < rows; r++)
            {
                float max = float.MinValue;
                for (int c = 0; c < depth; c++) max = Math.Max(max, input[r * depth + c]);
                float sum = 0f;
                for (int c = 0; c < depth; c++) sum += Expf(input[r * depth + c] - max);
                float logSum = Logf(sum);
                for (int c = 0; c < depth; c++) output[r * depth + c] = input[r * depth + c] - max - logSum;
            }
            return MemoryMarshal.AsBytes(output.AsSpan()).ToArray();
        }
        return new Case($"LOG_SOFTMAX FLOAT32 {Format(shape)}", OpKind.LogSoftmax, DataType.Float32, b.Inputs(x).Outputs(y).Build(), rows * depth * 4, Reference);
    }

    private static Case LogSoftmaxInt8(Random rng)
    {
        var shape = RandomShape(rng);
        int depth = shape[^1], rows = shape.Aggregate(1, (a, d) => a * d) / depth;
        // Scales from fine (differences stay small in Q5.26) to coarse (many reach TFLM's diff_min).
        float scale = (float)Math.Pow(10, -2.5 + rng.NextDouble() * 2.3);
        var iq = Quantization.PerTensor(scale, rng.Next(-20, 21));
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Int8, shape, iq);
        int y = b.Tensor("y", DataType.Int8, shape, Quantization.PerTensor(16f / 256, 127));
        b.Operator(OpKind.LogSoftmax, new[] { x }, new[] { y }, new EmptyOptions(EmptyOptionUnions.LogSoftmax));
        return new Case($"LOG_SOFTMAX INT8 {Format(shape)} scale {scale}", OpKind.LogSoftmax, DataType.Int8, b.Inputs(x).Outputs(y).Build(), rows * depth,
            bytes => (byte[])(Array)Gemmlowp.LogSoftmax((sbyte[])(Array)bytes, rows, depth, scale));
    }

    /// <summary>TFLM's int8 LOG_SOFTMAX: its Prepare (PreprocessLogSoftmaxScalingExp, CalculateInputRadius) and
    /// LogSoftmaxQuantized with gemmlowp's fixed-point exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1 and
    /// TFLM's log_x_for_x_greater_than_or_equal_to_1, raw int32 values with the integer bits in the names.</summary>
    internal static class Gemmlowp
    {
        private static int Srdhm(int a, int b)
        {
            if (a == b && a == int.MinValue) return int.MaxValue;
            long ab = (long)a * b;
            long nudge = ab >= 0 ? 1 << 30 : 1 - (1 << 30);
            return (int)((ab + nudge) / (1L << 31));
        }

        private static int Rdbpot(int x, int exponent)
        {
            int mask = (int)((1L << exponent) - 1);
            int remainder = x & mask;
            int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
            return (x >> exponent) + (remainder > threshold ? 1 : 0);
        }

        /// <summary>SaturatingRoundingMultiplyByPOT: a saturating left shift, or a rounding right shift.</summary>
        private static int Pot(int x, int exponent)
        {
            if (exponent < 0) return Rdbpot(x, -exponent);
            if (exponent == 0) return x;
            long threshold = (1L << (31 - exponent)) - 1;
            return x > threshold ? int.MaxValue : x < -threshold ? int.MinValue : x << exponent;
        }

        private static int SaturatingAdd(int a, int b) => (int)Math.Clamp((long)a + b, int.MinValue, int.MaxValue);

        private static int SaturatingSub(int a, int b) => (int)Math.Clamp((long)a - b, int.MinValue, int.MaxValue);

        private static int MultiplyByQuantizedMultiplier(int x, int multiplier, int shift) =>
            Rdbpot(Srdhm(unchecked(x * (1 << Math.Max(shift, 0))), multiplier), Math.Max(-shift, 0));

        private static int Clz(uint x) => x == 0 ? 32 : System.Numerics.BitOperations.LeadingZeroCount(x);

        private static int ExpQuarterInterval(int a0)
        {
            const int constantTerm = 1895147668, oneThird = 715827883;
            int x = unchecked(a0 + (1 << 28));
            int x2 = Srdhm(x, x), x3 = Srdhm(x2, x), x4 = Srdhm(x2, x2);
            int x4Over4 = Pot(x4, -2);
            int poly = Pot(unchecked(Srdhm(unchecked(x4Over4 + x3), oneThird) + x2), -1);
            return unchecked(constantTerm + Srdhm(constantTerm, unchecked(x + poly)));
        }

        private static readonly int[] ExpOfMinusPowersOfTwo = { 1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242 };

        /// <summary>exp of a non-positive value with <paramref name="integerBits"/> (at most 5), as Q0.31.</summary>
        private static int ExpOnNegativeValues(int a, int integerBits)
        {
            int fractionalBits = 31 - integerBits;
            int quarter = 1 << (fractionalBits - 2);
            int modMinusQuarter = unchecked((a & (quarter - 1)) - quarter);
            int result = ExpQuarterInterval(Pot(modMinusQuarter, integerBits));
            int remainder = unchecked(modMinusQuarter - a);
            for (int exponent = -2; exponent <= 4; exponent++)
                if (integerBits > exponent && (remainder & (1 << (fractionalBits + exponent))) != 0)
                    result = Srdhm(result, ExpOfMinusPowersOfTwo[exponent + 2]);
            return a == 0 ? int.MaxValue : result;
        }

        private static int OneOverOnePlusX(int a0)
        {
            long sum = (long)a0 + int.MaxValue;
            int halfDenominator = (int)((sum + (sum >= 0 ? 1 : -1)) / 2);
            int x2 = unchecked(1515870810 + Srdhm(halfDenominator, -1010580540));
            for (int i = 0; i < 3; i++)
            {
                int product = Srdhm(halfDenominator, x2);
                int oneMinus = unchecked((1 << 29) - product);
                x2 = unchecked(x2 + Pot(Srdhm(x2, oneMinus), 2));
            }
            return Pot(x2, 1);
        }

        /// <summary>log_x_for_x_greater_than_or_equal_to_1_impl&lt;output, input&gt; integer bits.</summary>
        private static int LogAtLeastOne(int x, int inputBits, int outputBits)
        {
            const int log2 = 1488522236, sqrtSqrtHalf = 1805811301, sqrtHalf = 1518500250, oneQuarter = 536870912;
            const int alphaN = 117049297, alphaD = 127690142, alphaI = 1057819769, alphaF = 638450708;
            int accumBits = outputBits + 1;
            int shiftedQuarter = Pot(oneQuarter, -accumBits);
            int zaHeadroomPlus1 = Clz((uint)x);
            int raTmp = Pot(x, zaHeadroomPlus1 - 1);
            int ra = Pot(Srdhm(raTmp, sqrtHalf), 1);
            int zaPow2Adj = SaturatingAdd(Pot(inputBits - zaHeadroomPlus1, 31 - accumBits), shiftedQuarter);
            int zb = Srdhm(x, sqrtHalf);
            int zbHeadroom = Clz((uint)zb) - 1;
            int rb = Pot(x, zbHeadroom);
            int zbPow2Adj = SaturatingSub(Pot(inputBits - zbHeadroom, 31 - accumBits), shiftedQuarter);
            int r = Math.Min(ra, rb);
            int zPow2Adj = Math.Max(zaPow2Adj, zbPow2Adj);
            long halfSum = (long)r + sqrtSqrtHalf;
            int p = (int)((halfSum + (halfSum >= 0 ? 1 : -1)) / 2);
            int q = unchecked(r - sqrtSqrtHalf);
            q = unchecked(q + q);
            int commonSq = Srdhm(q, q);
            int num = unchecked(Srdhm(q, r) + Srdhm(Srdhm(q, commonSq), alphaN));
            int denomMinusOne = unchecked(Srdhm(p, unchecked(alphaI + q + Srdhm(alphaD, commonSq))) + Srdhm(alphaF, q));
            int recipDenom = OneOverOnePlusX(denomMinusOne);
            int numScaled = Pot(num, -accumBits);
            return Pot(unchecked(Srdhm(zPow2Adj, log2) + Srdhm(numScaled, recipDenom)), accumBits - outputBits);
        }

        /// <summary>QuantizeMultiplier (frexp, round half away from zero, 2^31 carried into the shift).</summary>
        private static (int Multiplier, int Shift) Quantize(double real)
        {
            int exponent = (int)Math.Floor(Math.Log2(real)) + 1;
            double fraction = real / Math.Pow(2, exponent);
            if (fraction >= 1) { fraction /= 2; exponent++; }
            if (fraction < 0.5) { fraction *= 2; exponent--; }
            long q = (long)Math.Round(fraction * (1L << 31), MidpointRounding.AwayFromZero);
            if (q == 1L << 31) { q /= 2; exponent++; }
            return ((int)q, exponent);
        }

        internal static sbyte[] LogSoftmax(sbyte[] input, int rows, int depth, float inputScale)
        {
            // Prepare: beta 1, 5 integer bits.
            var (multiplier, leftShift) = Quantize(Math.Min(1.0 * inputScale * (1L << 26), int.MaxValue));
            var (reverseMultiplier, reverseShift) = Quantize((1 << (31 - leftShift)) / (double)multiplier);
            int diffMin = -(int)Math.Floor(31.0 * (1L << 26) / (1L << leftShift));
            var output = new sbyte[input.Length];
            for (int row = 0; row < rows; row++)
            {
                int max = sbyte.MinValue;
                for (int c = 0; c < depth; c++) max = Math.Max(max, input[row * depth + c]);
                int sumQ12 = 0;
                for (int c = 0; c < depth; c++)
                {
                    int diff = input[row * depth + c] - max;
                    if (diff >= diffMin)
                        sumQ12 = unchecked(sumQ12 + Pot(ExpOnNegativeValues(MultiplyByQuantizedMultiplier(diff, multiplier, leftShift), 5), -12));
                }
                int logSumQ5 = LogAtLeastOne(sumQ12, 12, 5);
                int adjustedDiffMin = Math.Max(diffMin - 1, MultiplyByQuantizedMultiplier(unchecked(logSumQ5 + int.MinValue), reverseMultiplier, reverseShift));
                for (int c = 0; c < depth; c++)
                {
                    int diff = input[row * depth + c] - max;
                    if (diff > adjustedDiffMin)
                    {
                        int value = Rdbpot(unchecked(MultiplyByQuantizedMultiplier(diff, multiplier, leftShift) - logSumQ5), 31 - 5 - 4) + 127;
                        output[row * depth + c] = (sbyte)Math.Clamp(value, -128, 127);
                    }
                    else output[row * depth + c] = sbyte.MinValue;
                }
            }
            return output;
        }
    }
}
