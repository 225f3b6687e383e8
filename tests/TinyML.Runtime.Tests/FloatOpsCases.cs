// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;

namespace TinyML.Tests;

/// <summary>
/// Random float32 models of one operator each (ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, PRELU, RELU, RELU6, RELU_N1_TO_1,
/// LEAKY_RELU, HARD_SWISH, MEAN): one graph input, the other operand of a binary operator a constant or the input
/// itself, broadcasting between ranks 1 to 4, values with negatives, zeros, exact halves and, for MUL and DIV,
/// magnitudes that overflow past the float range. With each, a C# transcription of TFLM's reference arithmetic
/// (reference_ops' float Add / Sub / Mul / Div with ActivationFunctionWithMinMax, MaximumMinimumBroadcastSlow,
/// BroadcastPrelu4DSlow, Relu / Relu6 / Relu1, LeakyRelu, HardSwish and Mean), walking broadcasts by multi-index and
/// MEAN's sums in the input's row-major order. Used by FloatOpsTests (host, TFLite 2.9) and FloatOpsDeviceTests.
/// </summary>
public static class FloatOpsCases
{
    /// <summary>One random model: its graph input's element count and the reference for an input.</summary>
    internal sealed record Case(string Label, OpKind Kind, Model Model, int InputElements, Func<float[], float[]> Reference);

    internal static readonly OpKind[] Kinds =
    {
        OpKind.Add, OpKind.Sub, OpKind.Mul, OpKind.Div, OpKind.Maximum, OpKind.Minimum, OpKind.Prelu,
        OpKind.Relu, OpKind.Relu6, OpKind.ReluN1To1, OpKind.LeakyRelu, OpKind.HardSwish, OpKind.Mean,
    };

    private static readonly Activation[] Activations = { Activation.None, Activation.None, Activation.Relu, Activation.Relu6, Activation.ReluN1To1 };

    internal static IEnumerable<Case> Cases(OpKind kind, int seed, int count)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
            yield return kind switch
            {
                OpKind.Add or OpKind.Sub or OpKind.Mul or OpKind.Div or OpKind.Maximum or OpKind.Minimum or OpKind.Prelu => Binary(rng, kind),
                OpKind.Mean => Mean(rng),
                _ => Unary(rng, kind),
            };
    }

    /// <summary>Random values: a zero in 8, an exact half-integer in 8, else uniform in [-8, 8]; with
    /// <paramref name="wide"/>, one in 8 is huge or tiny (so products and quotients leave the float range).</summary>
    internal static float Value(Random rng, bool wide = false)
    {
        switch (rng.Next(8))
        {
            case 0: return 0f;
            case 1: return rng.Next(-16, 17) * 0.5f;
            case 2 when wide: return (rng.Next(2) == 0 ? -1 : 1) * MathF.Pow(10, rng.Next(2) == 0 ? rng.Next(20, 38) : -rng.Next(20, 38));
            default: return (float)(rng.NextDouble() * 16 - 8);
        }
    }

    /// <summary>A random input; RELU_N1_TO_1's is narrowed to [-2, 2] so that not everything clamps.</summary>
    internal static byte[] RandomInput(Case c, Random rng) =>
        MemoryMarshal.AsBytes(Enumerable.Range(0, c.InputElements)
            .Select(_ => Value(rng, c.Kind is OpKind.Mul or OpKind.Div) * (c.Kind == OpKind.ReluN1To1 ? 0.25f : 1f)).ToArray().AsSpan()).ToArray();

    internal static byte[] Reference(Case c, byte[] input) =>
        MemoryMarshal.AsBytes(c.Reference(MemoryMarshal.Cast<byte, float>(input).ToArray()).AsSpan()).ToArray();

    private static int[] RandomShape(Random rng, int rank) => Enumerable.Range(0, rank).Select(_ => rng.Next(1, 6)).ToArray();

    private static int Count(int[] shape) => shape.Aggregate(1, (a, x) => a * x);

    private static string Format(int[] shape) => $"[{string.Join(",", shape)}]";

    /// <summary>TFLM's ActivationFunctionWithMinMax: std::min(std::max(x, lo), hi), with CalculateActivationRange's
    /// float bounds (lowest and max for none: an overflow to infinity ends at the largest float).</summary>
    private static float Clamp(float x, Activation activation)
    {
        var (lo, hi) = activation switch
        {
            Activation.Relu => (0f, float.MaxValue),
            Activation.Relu6 => (0f, 6f),
            Activation.ReluN1To1 => (-1f, 1f),
            _ => (float.MinValue, float.MaxValue),
        };
        float m = x < lo ? lo : x;
        return hi < m ? hi : m;
    }

    private static Func<float, float, float> Combine(OpKind kind, Activation activation) => kind switch
    {
        OpKind.Add => (x, y) => Clamp(x + y, activation),
        OpKind.Sub => (x, y) => Clamp(x - y, activation),
        OpKind.Mul => (x, y) => Clamp(x * y, activation),
        OpKind.Div => (x, y) => Clamp(x / y, activation),
        OpKind.Maximum => (x, y) => x > y ? x : y,
        OpKind.Minimum => (x, y) => x < y ? x : y,
        _ => (x, alpha) => x >= 0f ? x : x * alpha,
    };

    /// <summary>input (graph input) op c, c op input or input op input, with c a constant that broadcasts against
    /// the input or the input against it (size 1 or missing dimensions on either side).</summary>
    private static Case Binary(Random rng, OpKind kind)
    {
        int rank = rng.Next(1, 5);
        var full = RandomShape(rng, rank);
        full[rank - 1] += 2;
        // The constant has the lower rank or size-1 dimensions; half the time the input also has size 1 where the
        // constant does not (both broadcast), and the roles swap. PRELU's alpha broadcasts against the input only.
        var xShape = full.ToArray();
        var cShape = full.Skip(rng.Next(rank)).Select(d => rng.Next(3) == 0 ? 1 : d).ToArray();
        if (kind != OpKind.Prelu && rng.Next(2) == 0)
            for (int d = rank - cShape.Length; d < rank; d++)
                if (cShape[d - (rank - cShape.Length)] == full[d] && rng.Next(3) == 0) xShape[d] = 1;
        if (kind != OpKind.Prelu && rng.Next(2) == 0) (xShape, cShape) = (cShape, xShape);
        int mode = kind == OpKind.Prelu ? 0 : rng.Next(5); // 0-1: x op c, 2-3: c op x, 4: x op x
        if (mode == 4) xShape = cShape = full;
        var outShape = Enumerable.Range(0, rank).Select(d =>
        {
            int Dim(int[] s) => d - (rank - s.Length) is var i && i >= 0 ? s[i] : 1;
            return Math.Max(Dim(xShape), Dim(cShape));
        }).ToArray();
        var activation = kind is OpKind.Add or OpKind.Sub or OpKind.Mul or OpKind.Div ? Activations[rng.Next(Activations.Length)] : Activation.None;
        var constant = Enumerable.Range(0, Count(cShape)).Select(_ => kind == OpKind.Prelu ? (float)(rng.NextDouble() * 3 - 1) : Value(rng, kind is OpKind.Mul or OpKind.Div)).ToArray();
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, xShape);
        int c = mode == 4 ? x : b.Constant("c", cShape, constant);
        int y = b.Tensor("y", DataType.Float32, outShape);
        bool constantFirst = mode is 2 or 3;
        OperatorOptions? options = kind switch
        {
            OpKind.Add => new AddOptions(activation),
            OpKind.Sub => new SubOptions(activation),
            OpKind.Mul => new MulOptions(activation),
            OpKind.Div => new DivOptions(activation),
            OpKind.Maximum or OpKind.Minimum => new EmptyOptions(EmptyOptionUnions.MaximumMinimum),
            _ => null,
        };
        b.Operator(kind, constantFirst ? new[] { c, x } : new[] { x, c }, new[] { y }, options);
        var model = b.Inputs(x).Outputs(y).Build();
        var combine = Combine(kind, activation);
        var (aShape, bShape) = constantFirst ? (cShape, xShape) : (xShape, mode == 4 ? xShape : cShape);
        float[] Reference(float[] input)
        {
            var (av, bv) = constantFirst ? (constant, input) : (input, mode == 4 ? input : constant);
            var output = new float[Count(outShape)];
            var index = new int[rank];
            for (int o = 0; o < output.Length; o++)
            {
                for (int d = rank - 1, rest = o; d >= 0; d--) { index[d] = rest % outShape[d]; rest /= outShape[d]; }
                output[o] = combine(av[Flat(aShape, index)], bv[Flat(bShape, index)]);
            }
            return output;
        }
        string operands = mode == 4 ? "x, x" : constantFirst ? $"c{Format(cShape)}, x" : $"x, c{Format(cShape)}";
        return new Case($"{OpKinds.Name(kind)} x{Format(xShape)} ({operands}) -> {Format(outShape)} {activation}", kind, model, Count(xShape), Reference);
    }

    /// <summary>The element of a right-aligned, possibly broadcast operand at an output multi-index.</summary>
    private static int Flat(int[] shape, int[] index)
    {
        int flat = 0;
        for (int i = 0; i < shape.Length; i++)
            flat = flat * shape[i] + (shape[i] == 1 ? 0 : index[index.Length - shape.Length + i]);
        return flat;
    }

    private static Case Unary(Random rng, OpKind kind)
    {
        var shape = RandomShape(rng, rng.Next(1, 5));
        float alpha = rng.Next(4) == 0 ? -0.5f : (float)(rng.NextDouble() * 1.5);
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, shape);
        int y = b.Tensor("y", DataType.Float32, shape);
        b.Operator(kind, new[] { x }, new[] { y }, kind == OpKind.LeakyRelu ? new LeakyReluOptions(alpha) : kind == OpKind.HardSwish ? new EmptyOptions(EmptyOptionUnions.HardSwish) : null);
        Func<float, float> f = kind switch
        {
            OpKind.Relu => v => v < 0f ? 0f : v,
            OpKind.Relu6 => v => v > 6f ? 6f : v < 0f ? 0f : v,
            OpKind.ReluN1To1 => v => v > 1f ? 1f : v < -1f ? -1f : v,
            OpKind.LeakyRelu => v => v > 0f ? v : v * alpha,
            // in * std::min(6, std::max(0, in + 3)) / 6, in that order.
            _ => v =>
            {
                float shifted = v + 3f;
                float relu = 0f < shifted ? shifted : 0f;
                float relu6 = relu < 6f ? relu : 6f;
                return v * relu6 / 6f;
            },
        };
        string label = kind == OpKind.LeakyRelu ? $"LEAKY_RELU alpha {alpha} {Format(shape)}" : $"{OpKinds.Name(kind)} {Format(shape)}";
        return new Case(label, kind, b.Inputs(x).Outputs(y).Build(), Count(shape), input => input.Select(f).ToArray());
    }

    /// <summary>MEAN over a random set of axes (negative and repeated ones too), with or without keep_dims.</summary>
    private static Case Mean(Random rng)
    {
        int rank = rng.Next(1, 5);
        var shape = RandomShape(rng, rank);
        var axes = Enumerable.Range(0, rank).Where(_ => rng.Next(2) == 0).ToList();
        if (axes.Count == 0) axes.Add(rng.Next(rank));
        var written = axes.Select(a => rng.Next(3) == 0 ? a - rank : a).ToList();
        if (rng.Next(4) == 0) written.Add(written[0]);
        bool keepDims = rng.Next(2) == 0;
        var outShape = Enumerable.Range(0, rank).Where(d => keepDims || !axes.Contains(d)).Select(d => axes.Contains(d) ? 1 : shape[d]).ToArray();
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, shape);
        int axis = b.Constant("axes", new[] { written.Count }, written.ToArray());
        int y = b.Tensor("y", DataType.Float32, outShape);
        b.Operator(OpKind.Mean, new[] { x, axis }, new[] { y }, new ReducerOptions(keepDims));
        float[] Reference(float[] input)
        {
            // ReduceSumImpl: temp_sum from 0, each input added to its output in row-major input order; then / count.
            int outputs = Enumerable.Range(0, rank).Where(d => !axes.Contains(d)).Aggregate(1, (a, d) => a * shape[d]);
            int count = axes.Aggregate(1, (a, d) => a * shape[d]);
            var sum = new float[outputs];
            for (int i = 0; i < input.Length; i++)
            {
                int o = 0;
                for (int d = 0, rest = i, size = input.Length; d < rank; d++)
                {
                    size /= shape[d];
                    int coordinate = rest / size;
                    rest %= size;
                    if (!axes.Contains(d)) o = o * shape[d] + coordinate;
                }
                sum[o] += input[i];
            }
            return sum.Select(s => s / count).ToArray();
        }
        return new Case($"MEAN {Format(shape)} axes [{string.Join(",", written)}] keep_dims {keepDims} -> {Format(outShape)}", OpKind.Mean, b.Inputs(x).Outputs(y).Build(), Count(shape), Reference);
    }
}
