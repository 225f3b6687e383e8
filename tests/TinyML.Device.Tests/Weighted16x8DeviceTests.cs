// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// 16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in the emitted C under QEMU: random models
/// (Weighted16x8Cases, the generator of the host tests) give the bytes of the C# transcription of TFLM's reference
/// arithmetic, which the host kernels equal bit for bit (Weighted16x8Tests). The 64-bit accumulator and
/// requantization run as compiled for the core (Cortex-M0+ has no 64-bit multiply instruction).
/// </summary>
public sealed class Weighted16x8DeviceTests
{
    private readonly ITestOutputHelper _output;

    public Weighted16x8DeviceTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(OpKind.Conv2D, "cortex-m4")]
    [InlineData(OpKind.Conv2D, "cortex-m0plus")]
    [InlineData(OpKind.DepthwiseConv2D, "cortex-m4")]
    [InlineData(OpKind.DepthwiseConv2D, "cortex-m0plus")]
    [InlineData(OpKind.FullyConnected, "cortex-m4")]
    [InlineData(OpKind.FullyConnected, "cortex-m0plus")]
    public void RandomModels_MatchTflmReferenceOnTheDevice(OpKind kind, string core)
    {
        var rng = new Random(47);
        // The first models of a seeded sweep with each bias kind, and one with strides and dilation.
        var all = Weighted16x8Cases.Cases(kind, 3001, 40).ToList();
        var picked = Enum.GetValues<Weighted16x8Cases.BiasKind>().Select(b => all.FirstOrDefault(c => c.Bias == b))
            .Append(all.FirstOrDefault(c => c.StrideH > 1 && (c.DilationH > 1 || c.DilationW > 1)))
            .OfType<Weighted16x8Cases.Case>().Distinct().ToList();
        Assert.True(picked.Count >= 2, "the sweep has too few kinds of model");
        foreach (var c in picked)
            Device.AssertMatchesReference(c.Model, core, $"16x8 {c.Label}",
                Enumerable.Range(0, 2).Select(_ => Weighted16x8Cases.RandomInput(c, rng)).ToList(), i => Weighted16x8Cases.Reference(c, i), _output);
    }
}
