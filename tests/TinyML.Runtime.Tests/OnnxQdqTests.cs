// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TinyML.Compiler;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using Xunit;
using Xunit.Abstractions;
using W = TinyML.Runtime.Tests.OnnxGraphWriter;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Quantized ONNX (QDQ, and the QOperator forms QLinearConv and QLinearMatMul) against onnxruntime on random graphs:
/// the importer must turn each DequantizeLinear → operator → QuantizeLinear island into one int8 operator, and in the
/// default (TFLite) arithmetic every output stays within 1 LSB of onnxruntime's; with LoweringOptions.Rounding =
/// OnnxRuntime every output equals onnxruntime's wherever onnxruntime itself runs integer kernels. Weights are 7-bit: onnxruntime on an
/// x86 without VNNI saturates with full-range int8 weights (onnx/README.md).
/// </summary>
public class OnnxQdqTests
{
    private readonly ITestOutputHelper _output;

    public OnnxQdqTests(ITestOutputHelper output) => _output = output;

    public sealed record ConvCase(int Seed, int Channels, int Size, int Filters, int Kernel, int Stride, int[] Pads, bool Depthwise,
        bool PerChannel, bool UInt8, bool Relu, bool QOperator, bool ZeroPointAtMinimum = false)
    {
        public override string ToString() =>
            $"seed {Seed}: {Channels}ch {Size}x{Size} -> {Filters} k{Kernel} s{Stride} pads [{string.Join(",", Pads)}]{(Depthwise ? " depthwise" : "")}" +
            $"{(PerChannel ? " per-channel" : "")}{(UInt8 ? " uint8" : " int8")}{(Relu ? " relu" : "")}{(ZeroPointAtMinimum ? " output zero point at the type's minimum" : "")}{(QOperator ? " QLinearConv" : " QDQ")}";

        /// <summary>onnxruntime keeps a Relu between Conv and QuantizeLinear (and so runs that Conv in float32) unless
        /// the output zero point is the type's minimum, where its ReluQuantFusion removes the Relu.</summary>
        public bool OnnxRuntimeRunsFloatConv => Relu && !ZeroPointAtMinimum;
    }

    public static TheoryData<ConvCase> ConvCases() => new(RandomConvCases());

    private static IEnumerable<ConvCase> RandomConvCases()
    {
        var random = new Random(2026);
        for (int seed = 0; seed < 24; seed++)
        {
            bool depthwise = seed % 4 == 1;
            int channels = 1 + random.Next(6);
            int kernel = new[] { 1, 3, 5 }[random.Next(3)];
            var pads = seed % 3 == 0 ? new[] { 0, 0, 0, 0 } : seed % 3 == 1 ? Enumerable.Repeat(kernel / 2, 4).ToArray() : new[] { random.Next(kernel), random.Next(kernel), random.Next(kernel), random.Next(kernel) };
            bool qOperator = seed % 5 == 4;
            yield return new ConvCase(seed, channels, kernel + 2 + random.Next(8), depthwise ? channels * (1 + random.Next(2)) : 1 + random.Next(8), kernel,
                1 + random.Next(2), pads, depthwise, seed % 2 == 0, seed % 3 != 2, !qOperator && seed % 4 == 3, qOperator);
        }
    }

    /// <summary><see cref="ConvCases"/> and Relu cases whose output zero point is the type's minimum, which
    /// onnxruntime runs as an integer QLinearConv.</summary>
    public static TheoryData<ConvCase> OnnxRuntimeConvCases()
    {
        var data = new TheoryData<ConvCase>(RandomConvCases());
        var random = new Random(2027);
        for (int seed = 24; seed < 32; seed++)
        {
            bool depthwise = seed % 4 == 1;
            int channels = 1 + random.Next(6);
            int kernel = new[] { 1, 3, 5 }[random.Next(3)];
            var pads = Enumerable.Repeat(seed % 2 == 0 ? 0 : kernel / 2, 4).ToArray();
            data.Add(new ConvCase(seed, channels, kernel + 2 + random.Next(8), depthwise ? channels : 1 + random.Next(8), kernel, 1 + random.Next(2), pads,
                depthwise, seed % 3 == 0, seed % 2 == 0, Relu: true, QOperator: false, ZeroPointAtMinimum: true));
        }
        return data;
    }

    private static (string Scale, string ZeroPoint) Parameters(W w, float scale, int type, int zeroPoint) => (w.Scalar(scale), w.ZeroPoint(type, zeroPoint));

    private static byte[] ConvModel(ConvCase c, out int[] inputShape, out float inputScale, out int inputZeroPoint)
    {
        var random = new Random(c.Seed);
        var w = new W();
        int type = c.UInt8 ? W.UInt8 : W.Int8;
        inputShape = new[] { 1, c.Channels, c.Size, c.Size };
        inputScale = 0.01f + (float)random.NextDouble() * 0.09f;
        inputZeroPoint = c.UInt8 ? 100 + random.Next(56) : random.Next(-20, 21);
        string x = w.Input("x", W.Float, inputShape);
        var (sIn, zIn) = Parameters(w, inputScale, type, inputZeroPoint);
        string xq = w.Node("QuantizeLinear", new[] { x, sIn, zIn });

        int group = c.Depthwise ? c.Channels : 1, perGroup = c.Channels / group;
        var weights = Enumerable.Range(0, c.Filters * perGroup * c.Kernel * c.Kernel).Select(_ => (sbyte)random.Next(-63, 64)).ToArray();
        var weightScales = Enumerable.Range(0, c.PerChannel ? c.Filters : 1).Select(_ => 0.002f + (float)random.NextDouble() * 0.02f).ToArray();
        float scaleIn = inputScale;
        var biasScales = weightScales.Select(s => scaleIn * s).ToArray();
        var bias = Enumerable.Range(0, c.Filters).Select(_ => random.Next(-3000, 3001)).ToArray();
        int[] scaleShape = c.PerChannel ? new[] { c.Filters } : Array.Empty<int>();
        string wq = w.Initializer(W.Int8, new[] { c.Filters, perGroup, c.Kernel, c.Kernel }, weights);
        string ws = w.Initializer(W.Float, scaleShape, weightScales);
        string wz = w.Initializer(W.Int8, scaleShape, new sbyte[weightScales.Length]);
        string bq = w.Initializer(W.Int32, new[] { c.Filters }, bias);
        float outputScale = inputScale * weightScales.Average() * (float)Math.Sqrt(perGroup * c.Kernel * c.Kernel) * 30f;
        int outputZeroPoint = c.UInt8 ? 128 + random.Next(-30, 31) : random.Next(-30, 31);
        if (c.ZeroPointAtMinimum) outputZeroPoint = c.UInt8 ? 0 : -128;
        var (sOut, zOut) = Parameters(w, outputScale, type, outputZeroPoint);
        var attributes = new (string, object)[]
        {
            ("kernel_shape", new long[] { c.Kernel, c.Kernel }), ("strides", new long[] { c.Stride, c.Stride }),
            ("pads", c.Pads.Select(p => (long)p).ToArray()), ("group", (long)group),
        };
        string yq;
        if (c.QOperator)
        {
            // QLinearConv's bias is int32 at x_scale * w_scale.
            yq = w.Node("QLinearConv", new[] { xq, sIn, zIn, wq, ws, wz, sOut, zOut, bq }, attributes);
        }
        else
        {
            string xd = w.Node("DequantizeLinear", new[] { xq, sIn, zIn });
            string wd = w.Node("DequantizeLinear", new[] { wq, ws, wz }, ("axis", 0L));
            string bd = w.Node("DequantizeLinear", new[] { bq, w.Initializer(W.Float, scaleShape, biasScales), w.Initializer(W.Int32, scaleShape, new int[biasScales.Length]) }, ("axis", 0L));
            string y = w.Node("Conv", new[] { xd, wd, bd }, attributes);
            if (c.Relu) y = w.Node("Relu", new[] { y });
            yq = w.Node("QuantizeLinear", new[] { y, sOut, zOut });
        }
        w.Node("DequantizeLinear", new[] { yq, sOut, zOut });
        w.RenameLastOutput("y");
        int outH = (c.Size + c.Pads[0] + c.Pads[2] - c.Kernel) / c.Stride + 1, outW = (c.Size + c.Pads[1] + c.Pads[3] - c.Kernel) / c.Stride + 1;
        w.Output("y", W.Float, 1, c.Filters, outH, outW);
        return w.Write();
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void QuantizedConv_IsInt8_AndWithinOneLsbOfOnnxRuntime(ConvCase c) => CheckConv(c, RequantizationRounding.Tflite, maxLsb: 1);

    /// <summary>Every output equal, but where onnxruntime itself runs the convolution in float32 (<see cref="ConvCase.OnnxRuntimeRunsFloatConv"/>):
    /// there no integer kernel can match its float sums, and within 1 LSB still holds.</summary>
    [Theory]
    [MemberData(nameof(OnnxRuntimeConvCases))]
    public void QuantizedConv_WithOnnxRuntimeRounding_EqualsOnnxRuntime(ConvCase c) =>
        CheckConv(c, RequantizationRounding.OnnxRuntime, maxLsb: c.OnnxRuntimeRunsFloatConv ? 1 : 0);

    /// <summary>The two roundings give different bytes on some outputs of the random convolutions (ties and double rounding).</summary>
    [Fact]
    public void TheTwoRoundings_DifferOnSomeConvolutionOutputs()
    {
        int differing = 0, total = 0;
        foreach (var c in RandomConvCases())
        {
            byte[] model = ConvModel(c, out var shape, out float inputScale, out int inputZeroPoint);
            var imported = ModelReader.Read(model, "qdq.onnx").Value!;
            var tflite = Lowerer.Lower(imported, null, LoweringOptions.Default).Value!;
            var onnxRuntime = Lowerer.Lower(imported, null, LoweringOptions.Default with { Rounding = RequantizationRounding.OnnxRuntime }).Value!;
            Assert.Contains(onnxRuntime.Calls, call => call.Kernel.EndsWith("_float_requant", StringComparison.Ordinal));
            Assert.DoesNotContain(tflite.Calls, call => call.Kernel.EndsWith("_float_requant", StringComparison.Ordinal));
            var input = OnnxRuntimeOracle.GridInput(new Random(c.Seed + 2000), shape.Aggregate(1, (p, d) => p * d), inputScale, inputZeroPoint, c.UInt8);
            var a = Run(tflite, input);
            var b = Run(onnxRuntime, input);
            differing += a.Zip(b, (x, y) => x != y ? 1 : 0).Sum();
            total += a.Length;
        }
        _output.WriteLine($"{differing} of {total} convolution outputs differ between the TFLite and the onnxruntime rounding");
        Assert.True(differing > 0, "the two roundings gave the same bytes everywhere");
    }

    private void CheckConv(ConvCase c, RequantizationRounding rounding, int maxLsb)
    {
        byte[] model = ConvModel(c, out var shape, out float inputScale, out int inputZeroPoint);
        var (differences, lsb, imported) = Compare(model, shape, inputScale, inputZeroPoint, c.UInt8, c.Seed, rounding);
        // Every convolution became an int8 kernel: no float convolution is left.
        Assert.Contains(imported.Main.Operators, op => op.Kind is OpKind.Conv2D or OpKind.DepthwiseConv2D && imported.Main.Tensors[op.Inputs[0]].Type == DataType.Int8);
        Assert.DoesNotContain(imported.Main.Operators, op => op.Kind is OpKind.Conv2D or OpKind.DepthwiseConv2D && imported.Main.Tensors[op.Inputs[0]].Type == DataType.Float32);
        _output.WriteLine($"{c} ({rounding}): {differences.Count(d => d == 0)} of {differences.Length} outputs equal to onnxruntime's, largest difference {differences.Max()} LSB");
        Assert.True(differences.Max() <= maxLsb, $"{c} ({rounding}): {differences.Count(d => d > maxLsb)} outputs differ from onnxruntime's by more than {maxLsb} LSB, up to {differences.Max()}");
    }

    [Theory]
    [InlineData(0, false, false)]
    [InlineData(1, true, false)]
    [InlineData(2, false, true)]
    [InlineData(3, true, true)]
    public void QuantizedMatMulAndGemm_AreInt8_AndWithinOneLsbOfOnnxRuntime(int seed, bool perChannel, bool gemm) =>
        CheckMatMul(seed, perChannel, gemm, RequantizationRounding.Tflite, maxLsb: 1);

    [Theory]
    [InlineData(0, false, false)]
    [InlineData(1, true, false)]
    [InlineData(2, false, true)]
    [InlineData(3, true, true)]
    [InlineData(4, false, false)]
    [InlineData(5, true, false)]
    [InlineData(6, false, true)]
    [InlineData(7, true, true)]
    public void QuantizedMatMulAndGemm_WithOnnxRuntimeRounding_EqualOnnxRuntime(int seed, bool perChannel, bool gemm) =>
        CheckMatMul(seed, perChannel, gemm, RequantizationRounding.OnnxRuntime, maxLsb: 0);

    private void CheckMatMul(int seed, bool perChannel, bool gemm, RequantizationRounding rounding, int maxLsb)
    {
        var random = new Random(seed);
        int k = 8 + random.Next(40), n = 2 + random.Next(20);
        var w = new W();
        float inputScale = 0.02f + (float)random.NextDouble() * 0.05f;
        int inputZeroPoint = random.Next(-10, 11);
        string x = w.Input("x", W.Float, 1, k);
        var (sIn, zIn) = Parameters(w, inputScale, W.Int8, inputZeroPoint);
        string xd = w.Node("DequantizeLinear", new[] { w.Node("QuantizeLinear", new[] { x, sIn, zIn }), sIn, zIn });
        var weightScales = Enumerable.Range(0, perChannel ? n : 1).Select(_ => 0.002f + (float)random.NextDouble() * 0.02f).ToArray();
        int[] scaleShape = perChannel ? new[] { n } : Array.Empty<int>();
        var weights = Enumerable.Range(0, k * n).Select(_ => (sbyte)random.Next(-63, 64)).ToArray();
        string ws = w.Initializer(W.Float, scaleShape, weightScales), wz = w.Initializer(W.Int8, scaleShape, new sbyte[weightScales.Length]);
        string y;
        if (gemm)
        {
            // Gemm with transB: weights [N, K], per-channel along axis 0; a quantized bias.
            string wd = w.Node("DequantizeLinear", new[] { w.Initializer(W.Int8, new[] { n, k }, weights), ws, wz }, ("axis", 0L));
            var biasScales = weightScales.Select(s => inputScale * s).ToArray();
            string bd = w.Node("DequantizeLinear", new[] { w.Initializer(W.Int32, new[] { n }, Enumerable.Range(0, n).Select(_ => random.Next(-2000, 2001)).ToArray()),
                w.Initializer(W.Float, scaleShape, biasScales), w.Initializer(W.Int32, scaleShape, new int[biasScales.Length]) }, ("axis", 0L));
            y = w.Node("Gemm", new[] { xd, wd, bd }, ("transB", 1L));
        }
        else
        {
            string wd = w.Node("DequantizeLinear", new[] { w.Initializer(W.Int8, new[] { k, n }, weights), ws, wz }, ("axis", 1L));
            y = w.Node("MatMul", new[] { xd, wd });
        }
        float outputScale = inputScale * weightScales.Average() * (float)Math.Sqrt(k) * 30f;
        var (sOut, zOut) = Parameters(w, outputScale, W.Int8, random.Next(-20, 21));
        w.Node("DequantizeLinear", new[] { w.Node("QuantizeLinear", new[] { y, sOut, zOut }), sOut, zOut });
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, n);
        var (differences, _, imported) = Compare(w.Write(), new[] { 1, k }, inputScale, inputZeroPoint, false, seed, rounding);
        Assert.Contains(imported.Main.Operators, op => op.Kind == OpKind.FullyConnected && imported.Main.Tensors[op.Inputs[0]].Type == DataType.Int8);
        _output.WriteLine($"{(gemm ? "Gemm" : "MatMul")} {k}x{n}{(perChannel ? " per-channel" : "")} ({rounding}): {differences.Count(d => d == 0)} of {differences.Length} equal, largest {differences.Max()} LSB");
        Assert.True(differences.Max() <= maxLsb, $"({rounding}) {differences.Count(d => d > maxLsb)} outputs differ from onnxruntime's by more than {maxLsb} LSB, up to {differences.Max()}");
    }

    private static float[] Run(TinyML.Compiler.Plan.CompiledPlan plan, float[] input)
    {
        using var executor = new PlanExecutor(plan);
        MemoryMarshal.AsBytes(input.AsSpan()).CopyTo(executor.Input(0));
        executor.Run();
        return MemoryMarshal.Cast<byte, float>(executor.Output(0)).ToArray();
    }

    /// <summary>Runs both on random grid inputs; the differences of the outputs in units of the output scale.</summary>
    private static (int[] Differences, float Lsb, Model Imported) Compare(byte[] model, int[] shape, float inputScale, int inputZeroPoint, bool uint8, int seed,
        RequantizationRounding rounding = RequantizationRounding.Tflite)
    {
        var read = ModelReader.Read(model, "qdq.onnx");
        Assert.True(read.Value is not null, string.Join("\n", read.Diagnostics));
        var imported = read.Value!;
        var lowered = Lowerer.Lower(imported, null, LoweringOptions.Default with { Rounding = rounding });
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics) + "\n" + string.Join("\n", imported.Main.Operators.Select(o => $"{o.Kind} in[{string.Join(",", o.Inputs.Select(i => i < 0 ? "-" : imported.Main.Tensors[i].Type + ":" + imported.Main.Tensors[i].Name))}] out[{string.Join(",", o.Outputs.Select(i => imported.Main.Tensors[i].Type + ":" + imported.Main.Tensors[i].Name))}]")));
        var plan = lowered.Value!;
        // The output's LSB: the scale of the int8 tensor the final DEQUANTIZE reads.
        var dequantize = imported.Main.Operators.Last(op => op.Kind == OpKind.Dequantize);
        float lsb = imported.Main.Tensors[dequantize.Inputs[0]].Quantization!.Scale;
        using var oracle = new OnnxRuntimeOracle(model, plan, shape);
        var random = new Random(seed + 1000);
        var differences = oracle.Differences(Enumerable.Range(0, 3).Select(_ => OnnxRuntimeOracle.GridInput(random, shape.Aggregate(1, (p, d) => p * d), inputScale, inputZeroPoint, uint8)), lsb);
        return (differences, lsb, imported);
    }
}
