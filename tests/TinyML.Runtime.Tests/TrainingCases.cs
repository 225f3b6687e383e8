// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Samples;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>The trainable models the training tests share (host, emitted C, devices).</summary>
internal static class TrainingCases
{
    internal static readonly TrainingOptions Head = new("head", 0.05f);

    /// <summary>int8 input [1, depth] straight into FULLY_CONNECTED → SOFTMAX: the head's input is the model's input.</summary>
    internal static Model HeadOnly(int depth, int classes, ulong seed)
    {
        var b = new QuantizedModelBuilder("x", new[] { 1, depth }, seed).FullyConnected("logits", classes, Activation.None).Softmax("p");
        return b.Build(Samples(depth, 16, seed + 1), "probabilities");
    }

    /// <summary>A small CNN with a hidden dense layer before the head, as the Fashion-MNIST bench trains.</summary>
    internal static Model Cnn(ulong seed)
    {
        var b = new QuantizedModelBuilder("image", new[] { 1, 8, 8, 2 }, seed)
            .Conv2D("conv", 4, 3, 3, 2, 2, Padding.Same, Activation.Relu).Flatten("flat")
            .FullyConnected("hidden", 12, Activation.Relu).FullyConnected("logits", 5, Activation.None).Softmax("p");
        return b.Build(Samples(8 * 8 * 2, 16, seed + 1), "probabilities");
    }

    /// <summary>Two CONV_2D layers (ReLU; stride 1, then 2) → flatten → head: biases:2 passes the gradient back through the
    /// second convolution to the first one's bias.</summary>
    internal static Model DeepCnn(ulong seed) =>
        new QuantizedModelBuilder("image", new[] { 1, 8, 8, 2 }, seed)
            .Conv2D("conv1", 4, 3, 3, 1, 1, Padding.Same, Activation.Relu).Conv2D("conv2", 6, 3, 3, 2, 2, Padding.Same, Activation.Relu)
            .Flatten("flat").FullyConnected("logits", 3, Activation.None).Softmax("p").Build(Samples(8 * 8 * 2, 16, seed + 1), "probabilities");

    /// <summary>CONV_2D (ReLU) → global AVERAGE_POOL_2D → flatten → head, as MobileNets end; with
    /// <paramref name="mean"/> the pooling is the MEAN over height and width that Keras' GlobalAveragePooling2D becomes.</summary>
    internal static Model Pooled(ulong seed, bool mean = false)
    {
        var model = new QuantizedModelBuilder("image", new[] { 1, 6, 6, 3 }, seed)
            .Conv2D("conv", 8, 3, 3, 1, 1, Padding.Same, Activation.Relu).AveragePool2D("pool", 6, 6).Flatten("flat")
            .FullyConnected("logits", 4, Activation.None).Softmax("p").Build(Samples(6 * 6 * 3, 16, seed + 1), "probabilities");
        if (!mean) return model;
        var g = model.Main;
        var pool = g.Operators.Single(o => o.Kind == OpKind.AveragePool2D);
        g.Tensors.Add(new Tensor("pool/axes", DataType.Int32, new[] { 2 }) { Data = MemoryMarshal.AsBytes(new[] { 1, 2 }.AsSpan()).ToArray() });
        pool.Kind = OpKind.Mean;
        pool.Inputs = new[] { pool.Inputs[0], g.Tensors.Count - 1 };
        pool.Options = new ReducerOptions(KeepDims: true);
        pool.Version = 2;
        return model;
    }

    internal static List<float[]> Samples(int size, int count, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToList();
    }

    internal static ExecutionPlan Plan(Model model, string target = ExecutionPlan.HostTarget, string mode = "head")
    {
        var result = Lowerer.Lower(model, "m.tflite", LoweringOptions.Default with { Train = Head with { Mode = mode }, Target = target });
        Assert.True(result.Value is not null, string.Join("\n", result.Diagnostics));
        return result.Value!;
    }

    internal static sbyte[] RandomInput(DeterministicRandom random, int size) =>
        Enumerable.Range(0, size).Select(_ => (sbyte)random.Int(-128, 128)).ToArray();
}

internal static class RandomIntegers
{
    /// <summary>A uniform integer in [low, high).</summary>
    public static int Int(this DeterministicRandom random, int low, int high) => low + (int)(random.NextUInt64() % (ulong)(high - low));
}
