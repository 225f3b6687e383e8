// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
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
/// No float math runs on the device but the QUANTIZE division and the DEQUANTIZE product (-ffp-contract=off); the
/// SOFTMAX tables are constants the compiler built.
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
        Device.AssertMatchesReference(model, core, $"int16 {(powerOfTwo ? "power-of-two" : "rescaled")} chain",
            Enumerable.Range(0, 3).Select(_ => Int16ActivationCases.Input(first, rng)).ToList(), reference, _output);
    }

    /// <summary>
    /// LOGISTIC and TANH side by side on one input sweeping the whole int16 range (every 8th value), at a rescaled input
    /// scale and at TANH's power-of-two scale 2^-11, against the C# reference.
    /// </summary>
    [Theory]
    [InlineData("cortex-m4")]
    [InlineData("cortex-m0plus")]
    public void SigmoidSweep_MatchesTflmReferenceOnTheDevice(string core)
    {
        foreach (float scale in new[] { 2.7e-4f, 1f / 2048 })
        {
            var shape = new[] { 1, 8192 };
            var b = new ModelBuilder();
            var q15 = Quantization.PerTensor(1f / 32768, 0);
            int input = b.Tensor("x", DataType.Int16, shape, Quantization.PerTensor(scale, 0));
            int logistic = b.Tensor("logistic", DataType.Int16, shape, q15);
            int tanh = b.Tensor("tanh", DataType.Int16, shape, q15);
            b.Operator(OpKind.Logistic, new[] { input }, new[] { logistic }, null, 3);
            b.Operator(OpKind.Tanh, new[] { input }, new[] { tanh }, null, 3);
            b.Inputs(input).Outputs(logistic, tanh);
            var lowered = Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(b.Build())).Value!);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            var image = DeviceBuild.Build(lowered.Value!, Device.Options(CortexM.Get(core), "int16_sigmoids"));
            var x = Enumerable.Range(0, 8192).Select(i => (short)(i * 8 - 32768)).ToArray();
            var bytes = MemoryMarshal.AsBytes(x.AsSpan()).ToArray();
            var result = Assert.Single(Device.Runner.Run(image, new List<IReadOnlyList<byte[]>> { new[] { bytes } }));
            Assert.Equal(2, result.Outputs.Count);
            foreach (var (kind, k) in new[] { (OpKind.Logistic, 0), (OpKind.Tanh, 1) })
            {
                var (m, s) = Int16ActivationCases.SigmoidPrepare(kind, scale);
                var expected = x.Select(v => Int16ActivationCases.SigmoidOne(kind == OpKind.Tanh, v, m, s)).ToArray();
                Assert.True(MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(result.Outputs[k]),
                    $"{kind} at scale {scale} on {core}: differs from the TFLM reference");
            }
            _output.WriteLine($"LOGISTIC and TANH, scale {scale}, 8192 values over the int16 range on {core}: byte-identical");
        }
    }
}
