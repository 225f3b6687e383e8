// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using Xunit;

namespace TinyML.Tests;

/// <summary>
/// int8 models of the three operators that <see cref="RequantizationRounding.OnnxRuntime"/> changes, built as the ONNX
/// importer builds them from QDQ graphs (CONV_2D per-channel with a fused Relu, DEPTHWISE_CONV_2D with depth multiplier 2
/// and stride 2, FULLY_CONNECTED per-tensor), for the emitted C on the host (OrtRoundingCEmitterTests) and under QEMU
/// (OrtRoundingDeviceTests). With power-of-two scales many accumulators land on exact ties, where the two roundings part.
/// </summary>
public static class OrtRoundingCases
{
    /// <summary>The seeds of the models; odd ones have power-of-two scales.</summary>
    public static readonly int[] Seeds = { 1, 2, 3 };

    public static Model Model(int seed)
    {
        var random = new Random(seed);
        bool ties = seed % 2 == 1;
        float Scale(float lo, float hi, int exponent) => ties ? MathF.Pow(2, exponent) : lo + (hi - lo) * (float)random.NextDouble();
        var b = new ModelBuilder();
        float inScale = Scale(0.01f, 0.05f, -5);
        int x = b.Tensor("x", DataType.Int8, new[] { 1, 9, 9, 3 }, Quantization.PerTensor(inScale, random.Next(-20, 21)));

        // CONV_2D 3x3 SAME, 5 filters, per-channel, Relu.
        var convScales = Enumerable.Range(0, 5).Select(_ => Scale(0.002f, 0.02f, -7)).ToArray();
        float convOut = Scale(0.05f, 0.2f, -3);
        int conv = b.Tensor("conv", DataType.Int8, new[] { 1, 9, 9, 5 }, Quantization.PerTensor(convOut, -128));
        b.Operator(OpKind.Conv2D, new[]
        {
            x, Weights(b, random, "conv_w", new[] { 5, 3, 3, 3 }, convScales, 0),
            Bias(b, random, "conv_b", inScale, convScales),
        }, new[] { conv }, new Conv2DOptions(Padding.Same, 1, 1, Activation.Relu), 3);

        // DEPTHWISE_CONV_2D 3x3 stride 2 SAME, depth multiplier 2.
        var dwScales = Enumerable.Range(0, 10).Select(_ => Scale(0.002f, 0.02f, -6)).ToArray();
        float dwOut = Scale(0.02f, 0.1f, -4);
        int dw = b.Tensor("dw", DataType.Int8, new[] { 1, 5, 5, 10 }, Quantization.PerTensor(dwOut, random.Next(-10, 11)));
        b.Operator(OpKind.DepthwiseConv2D, new[]
        {
            conv, Weights(b, random, "dw_w", new[] { 1, 3, 3, 10 }, dwScales, 3),
            Bias(b, random, "dw_b", convOut, dwScales),
        }, new[] { dw }, new DepthwiseConv2DOptions(Padding.Same, 2, 2, 2, Activation.None), 3);

        // FULLY_CONNECTED 250 -> 6, per-tensor.
        var fcScale = new[] { Scale(0.002f, 0.02f, -8) };
        int y = b.Tensor("y", DataType.Int8, new[] { 1, 6 }, Quantization.PerTensor(Scale(0.05f, 0.3f, -2), random.Next(-10, 11)));
        b.Operator(OpKind.FullyConnected, new[]
        {
            dw, Weights(b, random, "fc_w", new[] { 6, 250 }, fcScale, 0), Bias(b, random, "fc_b", dwOut, fcScale),
        }, new[] { y }, new FullyConnectedOptions(Activation.None, 0, false, false), 4);
        b.Inputs(x).Outputs(y);
        return b.Build();
    }

    private static int Weights(ModelBuilder b, Random random, string name, int[] shape, float[] scales, int dimension)
    {
        var values = Enumerable.Range(0, shape.Aggregate(1, (p, d) => p * d)).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        return b.Constant(name, shape, values, new Quantization(scales, new long[scales.Length], scales.Length > 1 ? dimension : 0));
    }

    private static int Bias(ModelBuilder b, Random random, string name, float inScale, float[] weightScales)
    {
        int channels = weightScales.Length == 1 ? 6 : weightScales.Length;
        var scales = weightScales.Select(s => inScale * s).ToArray();
        return b.Constant(name, new[] { channels }, Enumerable.Range(0, channels).Select(_ => random.Next(-2000, 2001)).ToArray(),
            new Quantization(scales, new long[scales.Length]));
    }

    /// <summary>The model lowered with onnxruntime's rounding for a target.</summary>
    public static ExecutionPlan Plan(int seed, string target, RequantizationRounding rounding = RequantizationRounding.OnnxRuntime)
    {
        var lowered = Lowerer.Lower(Model(seed), $"ort_rounding_{seed}", LoweringOptions.Default with { Rounding = rounding, Target = target });
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    /// <summary>Random int8 inputs.</summary>
    public static IReadOnlyList<byte[]> Inputs(int seed, int count)
    {
        var random = new Random(seed + 500);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var bytes = new byte[9 * 9 * 3];
            random.NextBytes(bytes);
            return bytes;
        }).ToList();
    }
}
