// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// For every kernel with a <c>_get_buffer_size_for</c> in tml_kernels.h, the scratch the planner reserves for a target
/// equals what the C function answers for that core, for every core, over a sweep of shapes. The planner's value is
/// read from the memory layout of a small model lowered for the core, and the C function gets the very parameter
/// structs the plan passes the kernel (found by parameter name), so neither side is retyped here.
/// </summary>
public class ScratchSizeTests
{
    private static readonly Quantization Act = Quantization.PerTensor(0.05f, 3);

    private static Quantization Scales(int n, float scale, int dimension) => new(Enumerable.Repeat(scale, n).ToArray(), new long[n], dimension);

    private static sbyte[] Weights(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(-30, 31)).ToArray();

    private static int Out(int size, int kernel, int stride, Padding padding) =>
        padding == Padding.Same ? (size + stride - 1) / stride : Math.Max(size - kernel + stride, 0) / stride;

    /// <summary>A lowered model, the operator whose kernel is sized, and the techniques it was lowered with.</summary>
    private sealed record Case(string Kernel, Model Model, LoweringOptions Options, string Label);

    private static IEnumerable<Case> Convolutions(Random rng, bool depthwise)
    {
        for (int k = 0; k < 12; k++)
        {
            // Conv channels up to 20, so that some 3x3 windows exceed the DSP patch's 144 taps.
            int n = 1 + rng.Next(2), h = rng.Next(3, 13), w = rng.Next(3, 13), c = rng.Next(1, depthwise ? 9 : 21), kh = rng.Next(1, 4), kw = rng.Next(1, 4);
            int stride = rng.Next(1, 3), m = depthwise ? rng.Next(1, 3) : 1, oc = depthwise ? c * m : rng.Next(1, 9);
            var padding = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = Out(h, kh, stride, padding), ow = Out(w, kw, stride, padding);
            if (oh < 1 || ow < 1) continue;
            var weightValues = Weights(rng, depthwise ? kh * kw * oc : oc * kh * kw * c);
            var biasValues = Enumerable.Range(0, oc).Select(_ => rng.Next(-100, 100)).ToArray();
            string label = $"{n}x{h}x{w}x{c} k{kh}x{kw} s{stride} m{m} {padding}";
            // Constant CONV_2D weights are packed at build time (tml_conv_s8_packed; 1x1 stride 1 becomes a packed
            // matrix product without scratch); weights given as an input keep tml_conv_s8.
            bool pointwise = kh == 1 && kw == 1 && stride == 1;
            foreach (bool constantWeights in depthwise ? new[] { true } : pointwise ? new[] { false } : new[] { true, false })
            {
                var b = new ModelBuilder();
                int input = b.Tensor("input", DataType.Int8, new[] { n, h, w, c }, Act);
                int weights = depthwise
                    ? b.Constant("w", new[] { 1, kh, kw, oc }, weightValues, Scales(oc, 0.02f, 3))
                    : constantWeights ? b.Constant("w", new[] { oc, kh, kw, c }, weightValues, Scales(oc, 0.02f, 0))
                    : b.Tensor("w", DataType.Int8, new[] { oc, kh, kw, c }, Quantization.PerTensor(0.02f, 0));
                int bias = b.Constant("b", new[] { oc }, biasValues, depthwise || constantWeights ? Scales(oc, 0.05f * 0.02f, 0) : Quantization.PerTensor(0.05f * 0.02f, 0));
                int output = b.Tensor("output", DataType.Int8, new[] { n, oh, ow, oc }, Act);
                OperatorOptions options = depthwise
                    ? new DepthwiseConv2DOptions(padding, stride, stride, m, Activation.None)
                    : new Conv2DOptions(padding, stride, stride, Activation.None);
                b.Operator(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, new[] { input, weights, bias }, new[] { output }, options);
                if (depthwise || constantWeights) b.Inputs(input); else b.Inputs(input, weights);
                b.Outputs(output);
                // One input channel: the depthwise convolution is lowered as a (packed) convolution.
                yield return new Case(depthwise ? (c > 1 ? "tml_depthwise_conv_s8" : "tml_conv_s8_packed") : constantWeights ? "tml_conv_s8_packed" : "tml_conv_s8", b.Build(), LoweringOptions.None,
                    label + (constantWeights ? "" : ", weights as an input"));
            }
        }
    }

    /// <summary>Depthwise convolutions of one input channel (micro_speech's first layer is 10x8, multiplier 8), lowered
    /// as packed convolutions.</summary>
    private static IEnumerable<Case> OneChannelDepthwise(Random rng)
    {
        for (int k = 0; k < 8; k++)
        {
            int h = rng.Next(4, 30), w = rng.Next(4, 20), kh = rng.Next(1, 14), kw = rng.Next(1, 14), m = rng.Next(1, 9), stride = rng.Next(1, 3);
            kh = Math.Min(kh, h);
            kw = Math.Min(kw, w);
            int oh = Out(h, kh, stride, Padding.Same), ow = Out(w, kw, stride, Padding.Same);
            var b = new ModelBuilder();
            int input = b.Tensor("input", DataType.Int8, new[] { 1, h, w, 1 }, Act);
            int weights = b.Constant("w", new[] { 1, kh, kw, m }, Weights(rng, kh * kw * m), Scales(m, 0.02f, 3));
            int bias = b.Constant("b", new[] { m }, Enumerable.Range(0, m).Select(_ => rng.Next(-100, 100)).ToArray(), Scales(m, 0.05f * 0.02f, 0));
            int output = b.Tensor("output", DataType.Int8, new[] { 1, oh, ow, m }, Act);
            b.Operator(OpKind.DepthwiseConv2D, new[] { input, weights, bias }, new[] { output }, new DepthwiseConv2DOptions(Padding.Same, stride, stride, m, Activation.None));
            b.Inputs(input).Outputs(output);
            yield return new Case("tml_conv_s8_packed", b.Build(), LoweringOptions.None, $"depthwise 1x{h}x{w}x1 k{kh}x{kw} s{stride} m{m}");
        }
    }

    /// <summary>RELU then a multiplier-1 depthwise convolution, so the depthwise output may overwrite its input.</summary>
    private static IEnumerable<Case> InPlaceDepthwise(Random rng)
    {
        for (int k = 0; k < 12; k++)
        {
            int n = 1 + rng.Next(2), h = rng.Next(3, 17), w = rng.Next(3, 17), c = rng.Next(2, 17), kh = rng.Next(1, 4), kw = rng.Next(1, 4);
            int stride = rng.Next(1, 3);
            int oh = Out(h, kh, stride, Padding.Same), ow = Out(w, kw, stride, Padding.Same);
            var b = new ModelBuilder();
            int input = b.Tensor("input", DataType.Int8, new[] { n, h, w, c }, Act);
            int relu = b.Tensor("relu", DataType.Int8, new[] { n, h, w, c }, Act);
            b.Operator(OpKind.Relu, new[] { input }, new[] { relu });
            int weights = b.Constant("w", new[] { 1, kh, kw, c }, Weights(rng, kh * kw * c), Scales(c, 0.02f, 3));
            int bias = b.Constant("b", new[] { c }, Enumerable.Range(0, c).Select(_ => rng.Next(-100, 100)).ToArray(), Scales(c, 0.05f * 0.02f, 0));
            int output = b.Tensor("output", DataType.Int8, new[] { n, oh, ow, c }, Act);
            b.Operator(OpKind.DepthwiseConv2D, new[] { relu, weights, bias }, new[] { output }, new DepthwiseConv2DOptions(Padding.Same, stride, stride, 1, Activation.None));
            b.Inputs(input).Outputs(output);
            yield return new Case("tml_depthwise_conv_s8_inplace", b.Build(), LoweringOptions.None with { InPlaceDepthwise = true }, $"{n}x{h}x{w}x{c} k{kh}x{kw} s{stride}");
        }
    }

    private static IEnumerable<Case> FullyConnected(Random rng)
    {
        for (int k = 0; k < 12; k++)
        {
            int batches = rng.Next(1, 5), depth = rng.Next(1, 40), units = rng.Next(1, 20);
            var b = new ModelBuilder();
            int input = b.Tensor("input", DataType.Int8, new[] { batches, depth }, Act);
            // Weights as a second input (so quantized per tensor) keep tml_fully_connected_s8: constant ones are packed at build time
            // (tml_fully_connected_s8_packed, which has no scratch).
            int weights = b.Tensor("w", DataType.Int8, new[] { units, depth }, Quantization.PerTensor(0.02f, 0));
            int bias = b.Constant("b", new[] { units }, Enumerable.Range(0, units).Select(_ => rng.Next(-100, 100)).ToArray(),
                Quantization.PerTensor(0.05f * 0.02f, 0));
            int output = b.Tensor("output", DataType.Int8, new[] { batches, units }, Act);
            b.Operator(OpKind.FullyConnected, new[] { input, weights, bias }, new[] { output }, new FullyConnectedOptions(Activation.None, 0, false, false));
            b.Inputs(input, weights).Outputs(output);
            yield return new Case("tml_fully_connected_s8", b.Build(), LoweringOptions.None, $"{batches}x{depth} -> {units}, weights as an input");
        }
    }

    private static IEnumerable<Case> AveragePool(Random rng)
    {
        for (int k = 0; k < 12; k++)
        {
            int n = 1 + rng.Next(2), h = rng.Next(2, 13), w = rng.Next(2, 13), c = rng.Next(1, 9), fh = rng.Next(1, 4), fw = rng.Next(1, 4), stride = rng.Next(1, 3);
            var padding = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = Out(h, fh, stride, padding), ow = Out(w, fw, stride, padding);
            if (oh < 1 || ow < 1) continue;
            var b = new ModelBuilder();
            int input = b.Tensor("input", DataType.Int8, new[] { n, h, w, c }, Act);
            int output = b.Tensor("output", DataType.Int8, new[] { n, oh, ow, c }, Act);
            b.Operator(OpKind.AveragePool2D, new[] { input }, new[] { output }, new Pool2DOptions(padding, stride, stride, fw, fh, Activation.None));
            b.Inputs(input).Outputs(output);
            yield return new Case("tml_avg_pool_s8", b.Build(), LoweringOptions.None, $"{n}x{h}x{w}x{c} f{fh}x{fw} s{stride} {padding}");
        }
    }

    private static IEnumerable<Case> Mean(Random rng)
    {
        for (int k = 0; k < 12; k++)
        {
            int h = rng.Next(1, 13), w = rng.Next(1, 13), c = rng.Next(1, 17);
            var b = new ModelBuilder();
            int input = b.Tensor("input", DataType.Int8, new[] { 1, h, w, c }, Act);
            int axes = b.Constant("axes", new[] { 2 }, new[] { 1, 2 });
            int output = b.Tensor("output", DataType.Int8, new[] { 1, 1, 1, c }, Quantization.PerTensor(0.04f, -2));
            b.Operator(OpKind.Mean, new[] { input, axes }, new[] { output }, new ReducerOptions(true));
            b.Inputs(input).Outputs(output);
            yield return new Case("tml_mean_s8", b.Build(), LoweringOptions.None, $"1x{h}x{w}x{c}");
        }
    }

    private static IEnumerable<Case> Svdf(Random rng)
    {
        for (int k = 0; k < 12; k++)
        {
            int batches = rng.Next(1, 4), inputSize = rng.Next(1, 20), rank = rng.Next(1, 3), units = rng.Next(1, 9), memory = rng.Next(1, 9);
            int filters = units * rank;
            float stateScale = 0.01f, timeScale = 0.002f;
            var b = new ModelBuilder();
            int input = b.Tensor("input", DataType.Int8, new[] { batches, inputSize }, Act);
            int feature = b.Constant("feature", new[] { filters, inputSize }, Weights(rng, filters * inputSize), Quantization.PerTensor(0.02f, 0));
            var time = Enumerable.Range(0, filters * memory).SelectMany(_ => BitConverter.GetBytes((short)rng.Next(-300, 300))).ToArray();
            int timeWeights = b.Constant("time", DataType.Int16, new[] { filters, memory }, time, Quantization.PerTensor(timeScale, 0));
            int bias = b.Constant("b", new[] { units }, Enumerable.Range(0, units).Select(_ => rng.Next(-100, 100)).ToArray(), Quantization.PerTensor(stateScale * timeScale, 0));
            int state = b.Tensor("state", DataType.Int16, new[] { batches, memory * filters }, Quantization.PerTensor(stateScale, 0));
            b.Graph.Tensors[state].IsVariable = true;
            int output = b.Tensor("output", DataType.Int8, new[] { batches, units }, Act);
            b.Operator(OpKind.Svdf, new[] { input, feature, timeWeights, bias, state }, new[] { output }, new SvdfOptions(rank, Activation.None, false));
            b.Inputs(input).Outputs(output);
            yield return new Case("tml_svdf_s8", b.Build(), LoweringOptions.None, $"b{batches} in{inputSize} f{filters} r{rank} m{memory}");
        }
    }

    private static IEnumerable<Case> TransposeConv(Random rng)
    {
        for (int k = 0; k < 12; k++)
        {
            int n = 1 + rng.Next(2), h = rng.Next(1, 7), w = rng.Next(1, 7), c = rng.Next(1, 9), kh = rng.Next(1, 4), kw = rng.Next(1, 4);
            int stride = rng.Next(1, 4), oc = rng.Next(1, 9), oh = h * stride + rng.Next(0, 2), ow = w * stride + rng.Next(0, 2);
            var padding = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            var b = new ModelBuilder();
            int shape = b.Constant("output_shape", new[] { 4 }, new[] { n, oh, ow, oc });
            int weights = b.Constant("w", new[] { oc, kh, kw, c }, Weights(rng, oc * kh * kw * c), Scales(oc, 0.02f, 0));
            int input = b.Tensor("input", DataType.Int8, new[] { n, h, w, c }, Act);
            int output = b.Tensor("output", DataType.Int8, new[] { n, oh, ow, oc }, Act);
            b.Operator(OpKind.TransposeConv, new[] { shape, weights, input }, new[] { output }, new TransposeConvOptions(padding, stride, stride), version: 2);
            b.Inputs(input).Outputs(output);
            yield return new Case("tml_transpose_conv_s8", b.Build(), LoweringOptions.None, $"{n}x{h}x{w}x{c} k{kh}x{kw} s{stride} -> {oh}x{ow}x{oc} {padding}");
        }
    }

    // 16x8: int64 accumulators, the random models of the 16x8 tests.
    private static IEnumerable<Case> TransposeConv16() =>
        TinyML.Tests.TransposeConvCases.Cases(13, 8, DataType.Int16).Select(c => new Case("tml_transpose_conv_s16", c.Model, LoweringOptions.None, c.Label));

    private static IEnumerable<Case> Lstm(Random rng)
    {
        foreach (var c in LstmCases.Cases(rng.Next(), 8))
            yield return new Case("tml_lstm_s8", c.Model, LoweringOptions.None, c.Label);
        for (int k = 0; k < 8; k++)
        {
            int batches = rng.Next(1, 4), steps = rng.Next(1, 5), inputSize = rng.Next(1, 9), units = rng.Next(1, 9);
            bool timeMajor = rng.Next(2) == 0;
            yield return new Case("tml_lstm_f32", LstmCases.FloatModel(rng, batches, steps, inputSize, units, timeMajor).Model, LoweringOptions.None,
                $"b{batches} t{steps} in{inputSize} u{units} {(timeMajor ? "time" : "batch")}-major");
        }
    }

    private static IEnumerable<Case> Sweep()
    {
        var rng = new Random(11);
        return Convolutions(rng, depthwise: false).Concat(Convolutions(rng, depthwise: true)).Concat(OneChannelDepthwise(rng)).Concat(InPlaceDepthwise(rng))
            .Concat(FullyConnected(rng)).Concat(AveragePool(rng)).Concat(Mean(rng)).Concat(Svdf(rng)).Concat(TransposeConv(rng)).Concat(TransposeConv16()).Concat(Lstm(rng)).ToList();
    }

    [Fact]
    public void PlannerScratch_EqualsTheCBufferSize_ForEveryCore()
    {
        var sized = KernelAbi.Prototypes.Where(p => p.Name.EndsWith("_get_buffer_size_for", StringComparison.Ordinal)).ToList();
        var checkedCases = new Dictionary<string, int>();
        var nonZero = new HashSet<string>();
        var nonZeroCores = new Dictionary<string, HashSet<string>>();
        foreach (var c in Sweep())
        {
            KernelCall? hostCall = null;
            foreach (var core in KernelAbi.Cores)
            {
                var lowered = Lowerer.Lower(c.Model, null, c.Options with { Target = core.Name });
                Assert.True(lowered.Value is not null, $"{c.Kernel} {c.Label} for {core.Name}: {string.Join("\n", lowered.Diagnostics)}");
                var plan = lowered.Value!;
                Assert.Equal(core.Name, plan.Target);
                // The in-place kernel is chosen only when its scratch is cheaper than the output buffer it saves.
                if (!plan.Calls.Any(call => call.Kernel == c.Kernel) && c.Kernel == "tml_depthwise_conv_s8_inplace") break;
                var kernelCall = Assert.Single(plan.Calls, call => call.Kernel == c.Kernel);
                long planned = plan.Memory!.ScratchBytes; // the only operator with scratch in these models
                int native = BufferSize(c.Kernel, core.Id, kernelCall);
                Assert.True(native >= 0, $"{c.Kernel} {c.Label} on {core.Name}: the C function refused the plan's parameters ({native})");
                Assert.True(planned == native, $"{c.Kernel} {c.Label} on {core.Name}: the planner reserves {planned} bytes, {c.Kernel}_get_buffer_size_for says {native}");
                // The kernel gets a scratch pointer exactly when it has scratch to use.
                var scratchArg = kernelCall.Args[KernelAbi.Slot(c.Kernel, "scratch")];
                Assert.True((scratchArg.Pointer.Region != Region.Null) == (planned > 0),
                    $"{c.Kernel} {c.Label} on {core.Name}: {planned} scratch bytes, scratch argument {scratchArg.Pointer}");
                if (core.Name == "host") hostCall = kernelCall;
                if (planned > 0)
                {
                    nonZero.Add(c.Kernel);
                    if (!nonZeroCores.TryGetValue(c.Kernel, out var cores)) nonZeroCores[c.Kernel] = cores = new HashSet<string>();
                    cores.Add(core.Name);
                }
            }
            if (hostCall is null) continue;
            Assert.Equal(BufferSize(c.Kernel, KernelAbi.CoreId("host")!.Value, hostCall), BufferSize(c.Kernel, core: null, hostCall));
            checkedCases[c.Kernel] = checkedCases.TryGetValue(c.Kernel, out int n) ? n + 1 : 1;
        }
        // Conv patches are scratch on the DSP cores only.
        Assert.Equal(new[] { "cortex-m33", "cortex-m4", "cortex-m55", "cortex-m7" }, nonZeroCores["tml_conv_s8"].OrderBy(k => k, StringComparer.Ordinal));
        // Every kernel with a buffer-size function took part, each over several shapes.
        Assert.Equal(sized.Select(p => p.Name.Substring(0, p.Name.Length - "_get_buffer_size_for".Length)).OrderBy(k => k, StringComparer.Ordinal),
            checkedCases.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.All(checkedCases, pair => Assert.True(pair.Value >= 5, $"{pair.Key}: only {pair.Value} shapes"));
        Assert.Equal(new[] { "tml_conv_s8", "tml_conv_s8_packed", "tml_depthwise_conv_s8_inplace", "tml_lstm_f32", "tml_lstm_s8", "tml_svdf_s8", "tml_transpose_conv_s16", "tml_transpose_conv_s8" }, nonZero.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void UnknownCore_IsRefused()
    {
        var c = Sweep().First(x => x.Kernel == "tml_svdf_s8");
        var call = Lowerer.Lower(c.Model, null, c.Options).Value!.Calls.Single();
        Assert.True(BufferSize("tml_svdf_s8", 0, call) > 0);
        Assert.Equal(-1, BufferSize("tml_svdf_s8", KernelAbi.Cores.Count, call));
        Assert.Equal(-1, BufferSize("tml_svdf_s8", -1, call));
    }

    /// <summary>
    /// Calls <c>kernel_get_buffer_size_for(core, ...)</c> (or the plain function when <paramref name="core"/> is null)
    /// with the kernel call's own arguments, matched by parameter name.
    /// </summary>
    private static unsafe int BufferSize(string kernel, int? core, KernelCall call)
    {
        string function = kernel + (core is null ? "_get_buffer_size" : "_get_buffer_size_for");
        var prototype = KernelAbi.Prototype(function)!;
        var memory = new List<IntPtr>();
        try
        {
            var args = new List<nint>();
            foreach (var parameter in prototype.Parameters)
            {
                if (parameter.Name == "core")
                {
                    args.Add(core!.Value);
                    continue;
                }
                var arg = call.Args[KernelAbi.Slot(kernel, parameter.Name)];
                if (parameter.Kind == ParamKind.Int32)
                {
                    args.Add(arg.Int);
                    continue;
                }
                var layout = KernelAbi.Struct(parameter.StructType!)!;
                byte* p = (byte*)NativeMemory.AllocZeroed((nuint)layout.Size);
                memory.Add((IntPtr)p);
                for (int i = 0; i < layout.Fields.Count; i++)
                    if (arg.Fields[i].Type == FieldType.Int32) *(int*)(p + layout.Fields[i].Offset) = arg.Fields[i].Int;
                    else if (arg.Fields[i].Type == FieldType.Float32) *(float*)(p + layout.Fields[i].Offset) = arg.Fields[i].Float;
                args.Add((nint)p);
            }
            NativeKernels.EnsureLoaded();
            IntPtr f = NativeKernels.Export(function);
            var a = args.ToArray();
            return prototype.Shape switch
            {
                "IPPPP" => ((delegate* unmanaged[Cdecl]<int, nint, nint, nint, nint, int>)f)((int)a[0], a[1], a[2], a[3], a[4]),
                "IPIII" => ((delegate* unmanaged[Cdecl]<int, nint, int, int, int, int>)f)((int)a[0], a[1], (int)a[2], (int)a[3], (int)a[4]),
                "IPPP" => ((delegate* unmanaged[Cdecl]<int, nint, nint, nint, int>)f)((int)a[0], a[1], a[2], a[3]),
                "IP" => ((delegate* unmanaged[Cdecl]<int, nint, int>)f)((int)a[0], a[1]),
                "PPPP" => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3]),
                "PIII" => ((delegate* unmanaged[Cdecl]<nint, int, int, int, int>)f)(a[0], (int)a[1], (int)a[2], (int)a[3]),
                "PPP" => ((delegate* unmanaged[Cdecl]<nint, nint, nint, int>)f)(a[0], a[1], a[2]),
                "P" => ((delegate* unmanaged[Cdecl]<nint, int>)f)(a[0]),
                _ => throw new InvalidOperationException($"{function}: add a call of shape {prototype.Shape}"),
            };
        }
        finally
        {
            foreach (var p in memory) NativeMemory.Free((void*)p);
        }
    }
}
