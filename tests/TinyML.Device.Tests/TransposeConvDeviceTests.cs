// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// TRANSPOSE_CONV in the emitted C under QEMU: random int8 and float32 models (TransposeConvCases, the same
/// generator as the host tests) give the bytes of the C# transcription of TFLM's reference arithmetic, which the
/// host kernels equal bit for bit (TransposeConvTests). Float is bit-identical too: no expf, -ffp-contract=off.
/// </summary>
public sealed class TransposeConvDeviceTests
{
    private readonly ITestOutputHelper _output;

    public TransposeConvDeviceTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false, "cortex-m4")]
    [InlineData(true, "cortex-m4")]
    [InlineData(false, "cortex-m0plus")]
    [InlineData(true, "cortex-m0plus")]
    public void RandomModels_MatchTflmReferenceOnTheDevice(bool isFloat, string core)
    {
        var rng = new Random(isFloat ? 41 : 43);
        // Four models each: the first of the seeded sweep with bias, without bias, with an odd output size and with strides > 1.
        var all = TransposeConvCases.Cases(isFloat ? 2027 : 2029, 40, isFloat).ToList();
        var picked = new[]
        {
            all.First(c => c.Bias8 is not null || c.BiasF is not null),
            all.First(c => c.Bias8 is null && c.BiasF is null),
            all.First(c => !c.Consistent),
            all.First(c => c.StrideH > 1 && c.StrideW > 1 && c.Consistent),
        }.Distinct().ToList();
        foreach (var c in picked)
        {
            var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            var lowered = Lowerer.Lower(model);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            var image = DeviceBuild.Build(lowered.Value!, Device.Options(CortexM.Get(core), "transpose_conv"));
            var inputs = Enumerable.Range(0, 2).Select(_ => TransposeConvCases.RandomInput(c, rng)).ToList();
            var results = Device.Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
            Assert.Equal(inputs.Count, results.Count);
            for (int v = 0; v < inputs.Count; v++)
            {
                var expected = TransposeConvCases.Reference(c, inputs[v]);
                var ours = Assert.Single(results[v].Outputs);
                Assert.True(expected.AsSpan().SequenceEqual(ours), $"{c.Label} on {core}, vector {v}: differs from the TFLM reference");
            }
            _output.WriteLine($"{c.Label} on {core}: 2 vectors byte-identical");
        }
    }
}
