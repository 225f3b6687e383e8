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
        {
            var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            var lowered = Lowerer.Lower(model);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            var image = DeviceBuild.Build(lowered.Value!, Device.Options(CortexM.Get(core), "weighted16x8"));
            var inputs = Enumerable.Range(0, 2).Select(_ => Weighted16x8Cases.RandomInput(c, rng)).ToList();
            var results = Device.Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
            Assert.Equal(inputs.Count, results.Count);
            for (int v = 0; v < inputs.Count; v++)
            {
                var expected = Weighted16x8Cases.Reference(c, inputs[v]);
                var ours = Assert.Single(results[v].Outputs);
                Assert.True(expected.AsSpan().SequenceEqual(ours), $"{c.Label} on {core}, vector {v}: differs from the TFLM reference");
            }
            _output.WriteLine($"{c.Label} on {core}: 2 vectors byte-identical");
        }
    }
}
