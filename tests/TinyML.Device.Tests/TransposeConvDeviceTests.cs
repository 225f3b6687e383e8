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
/// TRANSPOSE_CONV in the emitted C under QEMU: random int8, int16 (16x8) and float32 models (TransposeConvCases, the same
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
    public void RandomModels_MatchTflmReferenceOnTheDevice(bool isFloat, string core) =>
        MatchTflmReferenceOnTheDevice(isFloat ? DataType.Float32 : DataType.Int8, core, new Random(isFloat ? 41 : 43), isFloat ? 2027 : 2029);

    /// <summary>16x8: the int64 scratch and bias and the 64-bit requantization on cores without (M0+) and with (M4) a
    /// 32x32->64 multiply instruction.</summary>
    [Theory]
    [InlineData("cortex-m4")]
    [InlineData("cortex-m0plus")]
    public void RandomModels16x8_MatchTflmReferenceOnTheDevice(string core) =>
        MatchTflmReferenceOnTheDevice(DataType.Int16, core, new Random(47), 2039);

    private void MatchTflmReferenceOnTheDevice(DataType type, string core, Random rng, int seed)
    {
        // Four models each: the first of the seeded sweep with bias, without bias, with an odd output size and with strides > 1.
        var all = TransposeConvCases.Cases(seed, 40, type).ToList();
        var picked = new[]
        {
            all.First(c => c.Bias8 is not null || c.BiasF is not null),
            all.First(c => c.Bias8 is null && c.BiasF is null),
            all.First(c => !c.Consistent),
            all.First(c => c.StrideH > 1 && c.StrideW > 1 && c.Consistent),
        }.Distinct().ToList();
        foreach (var c in picked)
            Device.AssertMatchesReference(c.Model, core, $"transpose_conv {c.Label}",
                Enumerable.Range(0, 2).Select(_ => TransposeConvCases.RandomInput(c, rng)).ToList(), i => TransposeConvCases.Reference(c, i), _output);
    }
}
