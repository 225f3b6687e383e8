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
/// Random int16 (16x8) MUL, AVERAGE_POOL_2D, MAX_POOL_2D, CONCATENATION, TRANSPOSE, RESHAPE and SQUEEZE models, one
/// graph input each, and a C# transcription of TFLM's reference arithmetic for them (reference_integer_ops::
/// MulElementwise / BroadcastMul4DSlow on int16, reference_integer_ops::AveragePool / MaxPool for int16,
/// reference_ops::Concatenation and Transpose; RESHAPE and SQUEEZE copy), the oracle of the
/// host tests (Int16OpsTests) and of the device tests under QEMU (linked into Device.Tests). ../shared has no int16
/// goldens for these operators.
/// </summary>
public static class Int16OpsCases
{
    /// <summary>One random model: its graph input's element count and the reference for an input.</summary>
    internal sealed record Case(string Label, OpKind Kind, Model Model, int InputElements, Func<short[], short[]> Reference);

    internal static readonly OpKind[] Kinds =
        { OpKind.Mul, OpKind.AveragePool2D, OpKind.MaxPool2D, OpKind.Concatenation, OpKind.Transpose, OpKind.Reshape, OpKind.Squeeze };

    // None half the time: RELU6 and RELU_N1_TO_1 clamp full-range products to a few values.
    private static readonly Activation[] Activations = { Activation.None, Activation.None, Activation.None, Activation.Relu, Activation.Relu6, Activation.ReluN1To1 };

    internal static IEnumerable<Case> Cases(OpKind kind, int seed, int count)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
            yield return kind switch
            {
                OpKind.Mul => Mul(rng),
                OpKind.Concatenation => Concatenation(rng),
                OpKind.Transpose => Transpose(rng),
                OpKind.Reshape or OpKind.Squeeze => Reshape(rng, kind),
                _ => Pool(rng, kind),
            };
    }

    internal static byte[] RandomInput(Case c, Random rng) =>
        Enumerable.Range(0, 2 * c.InputElements).Select(_ => (byte)rng.Next(256)).ToArray();

    internal static byte[] Reference(Case c, byte[] input) =>
        MemoryMarshal.AsBytes(c.Reference(MemoryMarshal.Cast<byte, short>(input).ToArray()).AsSpan()).ToArray();

    // int16 activations span about 2^15 steps: scales of 1e-4 .. 1e-3 cover [-3.3, 3.3] .. [-33, 33].
    private static float Scale(Random rng) => 1e-4f + 9e-4f * (float)rng.NextDouble();

    private static int[] RandomShape(Random rng, int rank) => Enumerable.Range(0, rank).Select(_ => rng.Next(1, 6)).ToArray();

    private static int Count(int[] shape) => shape.Aggregate(1, (a, x) => a * x);

    /// <summary>TFLM's CalculateActivationRangeQuantized for int16 with zero point 0: the fused activation's bounds
    /// quantized with TfLiteRound (half away from zero) of the float quotient, within [-32768, 32767].</summary>
    private static (int Min, int Max) ActivationRange(Activation activation, float scale)
    {
        int Quantize(float value) => (int)MathF.Round(value / scale, MidpointRounding.AwayFromZero);
        return activation switch
        {
            Activation.Relu => (0, short.MaxValue),
            Activation.Relu6 => (0, Math.Min(short.MaxValue, Quantize(6f))),
            Activation.ReluN1To1 => (Math.Max(short.MinValue, Quantize(-1f)), Math.Min(short.MaxValue, Quantize(1f))),
            _ => (short.MinValue, short.MaxValue),
        };
    }

    /// <summary>x (graph input) times a constant that broadcasts against it (same shape, or 1 in some dimensions, or
    /// of lower rank), or x times x; zero points 0, as TFLM requires.</summary>
    private static Case Mul(Random rng)
    {
        int rank = rng.Next(1, 5);
        var shape = RandomShape(rng, rank);
        shape[rank - 1] += 3; // a few elements at least
        bool square = rng.Next(4) == 0;
        int otherRank = square ? rank : rng.Next(1, rank + 1);
        var other = shape.Skip(rank - otherRank).Select(d => rng.Next(3) == 0 ? 1 : d).ToArray();
        var constant = Enumerable.Range(0, Count(other)).Select(_ => (short)rng.Next(short.MinValue, short.MaxValue + 1)).ToArray();
        float s1 = Scale(rng), s2 = square ? s1 : Scale(rng);
        // The product of two full-scale values lands anywhere from inside to far outside the output range.
        float so = s1 * s2 * 32768f * (0.3f + 3f * (float)rng.NextDouble());
        var activation = Activations[rng.Next(Activations.Length)];

        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Int16, shape, Quantization.PerTensor(s1, 0));
        int y = square ? x : b.Constant("c", DataType.Int16, other, MemoryMarshal.AsBytes(constant.AsSpan()).ToArray(), Quantization.PerTensor(s2, 0));
        int output = b.Tensor("out", DataType.Int16, shape, Quantization.PerTensor(so, 0));
        b.Operator(OpKind.Mul, new[] { x, y }, new[] { output }, new MulOptions(activation), version: 4);
        b.Inputs(x).Outputs(output);

        // mul_common.cc: input1 scale x input2 scale / output scale, each widened to double.
        var (multiplier, shift) = QuantMath.QuantizeMultiplier((double)s1 * s2 / so);
        var (lo, hi) = ActivationRange(activation, so);
        short[] Reference(short[] input)
        {
            var result = new short[input.Length];
            var padded = Enumerable.Repeat(1, rank - otherRank).Concat(other).ToArray();
            for (int e = 0; e < input.Length; e++)
            {
                // The constant's element for output element e: each dimension of extent 1 repeats.
                int rest = e, index = 0, stride = 1;
                var coordinates = new int[rank];
                for (int d = rank - 1; d >= 0; d--) { coordinates[d] = rest % shape[d]; rest /= shape[d]; }
                for (int d = rank - 1; d >= 0; d--) { index += (padded[d] == 1 ? 0 : coordinates[d]) * stride; stride *= padded[d]; }
                int second = square ? input[e] : constant[index];
                int v = TransposeConvCases.MultiplyByQuantizedMultiplier(input[e] * second, multiplier, shift);
                result[e] = (short)Math.Clamp(v, lo, hi);
            }
            return result;
        }
        string label = $"mul {string.Join("x", shape)} * {(square ? "itself" : string.Join("x", other))} {activation}";
        return new Case(label, OpKind.Mul, b.Build(), Count(shape), Reference);
    }

    /// <summary>Windows 1-4 (sometimes the whole input), strides 1-3, SAME or VALID, a fused activation; the output
    /// keeps the input's quantization, as TFLM requires.</summary>
    private static Case Pool(Random rng, OpKind kind)
    {
        int n = rng.Next(1, 3), h = rng.Next(1, 9), w = rng.Next(1, 9), c = rng.Next(1, 9);
        bool global = rng.Next(6) == 0;
        int fh = global ? h : rng.Next(1, 5), fw = global ? w : rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
        var padding = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
        if (padding == Padding.Valid && (fh > h || fw > w)) padding = Padding.Same;
        int oh = QuantMath.OutputSize(padding, h, fh, sh, 1), ow = QuantMath.OutputSize(padding, w, fw, sw, 1);
        int padH = QuantMath.PaddingBefore(sh, 1, h, fh, oh), padW = QuantMath.PaddingBefore(sw, 1, w, fw, ow);
        float scale = Scale(rng);
        var activation = Activations[rng.Next(Activations.Length)];

        var b = new ModelBuilder();
        var q = Quantization.PerTensor(scale, 0);
        int x = b.Tensor("x", DataType.Int16, new[] { n, h, w, c }, q);
        int output = b.Tensor("out", DataType.Int16, new[] { n, oh, ow, c }, q);
        b.Operator(kind, new[] { x }, new[] { output }, new Pool2DOptions(padding, sw, sh, fw, fh, activation), version: 3);
        b.Inputs(x).Outputs(output);

        var (lo, hi) = ActivationRange(activation, scale);
        bool average = kind == OpKind.AveragePool2D;
        short[] Reference(short[] input)
        {
            var result = new short[n * oh * ow * c];
            int at = 0;
            for (int bi = 0; bi < n; bi++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            for (int ch = 0; ch < c; ch++)
            {
                int sum = 0, taps = 0, max = short.MinValue;
                for (int fy = 0; fy < fh; fy++)
                for (int fx = 0; fx < fw; fx++)
                {
                    int iy = oy * sh - padH + fy, ix = ox * sw - padW + fx;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    int v = input[((bi * h + iy) * w + ix) * c + ch];
                    sum += v;
                    taps++;
                    max = Math.Max(max, v);
                }
                // AveragePool: the int32 sum over the taps inside, divided rounding half away from zero.
                int value = average ? (sum > 0 ? (sum + taps / 2) / taps : (sum - taps / 2) / taps) : max;
                result[at++] = (short)Math.Clamp(value, lo, hi);
            }
            return result;
        }
        string label = $"{(average ? "avg" : "max")} {n}x{h}x{w}x{c} f{fh}x{fw} s{sh}x{sw} {padding} -> {oh}x{ow} {activation}";
        return new Case(label, kind, b.Build(), n * h * w * c, Reference);
    }

    /// <summary>The graph input with one or two constants (and sometimes itself again) along a random axis, all in
    /// the output's quantization.</summary>
    private static Case Concatenation(Random rng)
    {
        int rank = rng.Next(1, 5);
        var shape = RandomShape(rng, rank);
        int axis = rng.Next(rank);
        float scale = Scale(rng);
        var q = Quantization.PerTensor(scale, 0);
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Int16, shape, q);
        // Each part: null for the graph input, else a constant's values and shape.
        var parts = new List<(int[] Shape, short[]? Values)> { (shape, null) };
        int extra = rng.Next(1, 4);
        for (int p = 0; p < extra; p++)
        {
            if (rng.Next(3) == 0) { parts.Insert(rng.Next(parts.Count + 1), (shape, null)); continue; }
            var s = shape.ToArray();
            s[axis] = rng.Next(1, 5);
            parts.Insert(rng.Next(parts.Count + 1), (s, Enumerable.Range(0, Count(s)).Select(_ => (short)rng.Next(short.MinValue, short.MaxValue + 1)).ToArray()));
        }
        var inputs = parts.Select((p, i) => p.Values is null ? x
            : b.Constant($"c{i}", DataType.Int16, p.Shape, MemoryMarshal.AsBytes(p.Values.AsSpan()).ToArray(), q)).ToArray();
        var outShape = shape.ToArray();
        outShape[axis] = parts.Sum(p => p.Shape[axis]);
        int output = b.Tensor("out", DataType.Int16, outShape, q);
        b.Operator(OpKind.Concatenation, inputs, new[] { output }, new ConcatenationOptions(axis - (rng.Next(2) == 0 ? 0 : rank), Activation.None), version: 3);
        b.Inputs(x).Outputs(output);

        int outer = shape.Take(axis).Aggregate(1, (a, d) => a * d), inner = shape.Skip(axis + 1).Aggregate(1, (a, d) => a * d);
        short[] Reference(short[] input)
        {
            // reference_ops::Concatenation: for each outer index, each input's [axis x inner] block in turn.
            var result = new List<short>();
            for (int o = 0; o < outer; o++)
                foreach (var (s, values) in parts)
                {
                    int block = s[axis] * inner;
                    result.AddRange((values ?? input).Skip(o * block).Take(block));
                }
            return result.ToArray();
        }
        string label = $"concat {string.Join(" + ", parts.Select(p => (p.Values is null ? "x" : "c") + string.Join("x", p.Shape)))} axis {axis}";
        return new Case(label, OpKind.Concatenation, b.Build(), Count(shape), Reference);
    }

    /// <summary>A random permutation of rank 1-5 (the perm a constant, as TFLM needs it).</summary>
    private static Case Transpose(Random rng)
    {
        int rank = rng.Next(1, 6);
        var shape = RandomShape(rng, rank);
        shape[0] += 2; // a few elements at least
        var perm = Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).ToArray();
        var outShape = perm.Select(p => shape[p]).ToArray();
        var q = Quantization.PerTensor(Scale(rng), 0);
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Int16, shape, q);
        int p = b.Constant("perm", new[] { rank }, perm);
        int output = b.Tensor("out", DataType.Int16, outShape, q);
        b.Operator(OpKind.Transpose, new[] { x, p }, new[] { output }, version: 2);
        b.Inputs(x).Outputs(output);
        short[] Reference(short[] input)
        {
            // Output element (o_0 .. o_r-1) is input element with i_perm[d] = o_d.
            var result = new short[input.Length];
            for (int e = 0; e < result.Length; e++)
            {
                int rest = e;
                var index = new int[rank];
                for (int d = rank - 1; d >= 0; d--) { index[perm[d]] = rest % outShape[d]; rest /= outShape[d]; }
                int at = 0;
                for (int d = 0; d < rank; d++) at = at * shape[d] + index[d];
                result[e] = input[at];
            }
            return result;
        }
        return new Case($"transpose {string.Join("x", shape)} perm {string.Join(",", perm)}", OpKind.Transpose, b.Build(), Count(shape), Reference);
    }

    /// <summary>RESHAPE to a random factorisation (new shape as a constant input) or SQUEEZE of the 1s; both keep the bytes.</summary>
    private static Case Reshape(Random rng, OpKind kind)
    {
        int rank = rng.Next(2, 5);
        var shape = RandomShape(rng, rank);
        shape[rank - 1] += 2; // a few elements at least
        if (kind == OpKind.Squeeze)
        {
            int squeezed = rng.Next(rank);
            shape[squeezed] = 1;
            shape[(squeezed + 1) % rank] = rng.Next(3, 7); // something is left
        }
        var q = Quantization.PerTensor(Scale(rng), 0);
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Int16, shape, q);
        int[] outShape;
        if (kind == OpKind.Squeeze)
        {
            var dims = Enumerable.Range(0, rank).Where(d => shape[d] == 1).ToArray();
            outShape = shape.Where(d => d != 1).ToArray();
            int output = b.Tensor("out", DataType.Int16, outShape, q);
            b.Operator(OpKind.Squeeze, new[] { x }, new[] { output }, new SqueezeOptions(new ValueArray<int>(dims)));
            b.Inputs(x).Outputs(output);
        }
        else
        {
            outShape = new[] { Count(shape) };
            if (rng.Next(2) == 0) outShape = new[] { shape[0], Count(shape) / shape[0] };
            int newShape = b.Constant("shape", new[] { outShape.Length }, outShape);
            int output = b.Tensor("out", DataType.Int16, outShape, q);
            b.Operator(OpKind.Reshape, new[] { x, newShape }, new[] { output }, new ReshapeOptions(new ValueArray<int>(outShape)));
            b.Inputs(x).Outputs(output);
        }
        return new Case($"{(kind == OpKind.Squeeze ? "squeeze" : "reshape")} {string.Join("x", shape)} -> {string.Join("x", outShape)}", kind, b.Build(), Count(shape),
            input => input.ToArray());
    }
}
