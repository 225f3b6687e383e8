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
/// int16 LOGISTIC, TANH (both forms of TFLM's Prepare), RELU6, SOFTMAX (the compiler's tables in the image), MEAN,
/// QUANTIZE and DEQUANTIZE in the emitted C under QEMU: the two chains of Int16ActivationCases give the bytes of the C#
/// transcription of TFLM's reference arithmetic, which the host kernels equal bit for bit (Int16ActivationTests).
/// No float math runs on the device but the QUANTIZE division and the DEQUANTIZE product (-ffp-contract=off).
/// </summary>
public sealed class Int16ActivationDeviceTests
{
    private readonly ITestOutputHelper _output;

    public Int16ActivationDeviceTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false, "cortex-m4")]
    [InlineData(true, "cortex-m4")]
    [InlineData(false, "cortex-m0plus")]
    [InlineData(true, "cortex-m0plus")]
    public void Int16Chains_MatchTflmReferenceOnTheDevice(bool powerOfTwo, string core)
    {
        var rng = new Random(powerOfTwo ? 53 : 59);
        var (model, reference, first) = powerOfTwo ? Int16ActivationCases.PowerOfTwoChain() : Int16ActivationCases.RescaledChain();
        var lowered = Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        var image = DeviceBuild.Build(lowered.Value!, Device.Options(CortexM.Get(core), "int16_activations"));
        var inputs = Enumerable.Range(0, 3).Select(_ => Int16ActivationCases.Input(first, rng)).ToList();
        var results = Device.Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
        Assert.Equal(inputs.Count, results.Count);
        for (int v = 0; v < inputs.Count; v++)
        {
            var ours = Assert.Single(results[v].Outputs);
            Assert.True(reference(inputs[v]).AsSpan().SequenceEqual(ours), $"{(powerOfTwo ? "power-of-two" : "rescaled")} chain on {core}, vector {v}: differs from the TFLM reference");
        }
        _output.WriteLine($"{(powerOfTwo ? "power-of-two" : "rescaled")} chain on {core}: {inputs.Count} vectors byte-identical");
    }
}
