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
/// RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, DEPTH_TO_SPACE, SPACE_TO_DEPTH, ELU and LOG_SOFTMAX in the emitted C under
/// QEMU: of the first four random models of each operator and type (ResizeAndMovementCases, the generator of the host
/// tests), the one with the largest output gives the bytes of the C# transcription of TFLM's reference arithmetic.
/// Every variant runs on the Cortex-M4 (hardware FPU); the ones that compute in float or fixed point (nearest's float
/// source index, int8 and float32, both bilinear kernels, ELU, LOG_SOFTMAX) also on the M0+ (soft float); the others
/// only move bytes, which the M4 run covers. Float ELU and
/// LOG_SOFTMAX call newlib's expm1f / expf / logf there, which may differ from glibc's (the reference's) in the last
/// bit: they are held to <see cref="FloatTolerance.ExpfUlps"/> ULP, and the test reports how many values differ.
/// </summary>
public sealed class ResizeAndMovementDeviceTests
{
    private readonly ITestOutputHelper _output;

    public ResizeAndMovementDeviceTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, string> VariantsAndCores()
    {
        var data = new TheoryData<string, string>();
        foreach (var variant in ResizeAndMovementCases.Variants)
        {
            data.Add(ResizeAndMovementCases.Name(variant), CortexM.M4.Name);
            bool computes = variant.Kind is OpKind.ResizeBilinear or OpKind.Elu or OpKind.LogSoftmax || (variant.Kind == OpKind.ResizeNearestNeighbor && variant.Type != DataType.Int16);
            if (computes) data.Add(ResizeAndMovementCases.Name(variant), CortexM.M0Plus.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(VariantsAndCores))]
    public void RandomModel_MatchesTflmReferenceOnTheDevice(string variantName, string core)
    {
        var variant = ResizeAndMovementCases.Parse(variantName);
        var rng = new Random(101 + (int)variant.Kind);
        // Of the first four models the one with the largest output: more values per run.
        var c = ResizeAndMovementCases.Cases(variant, 8001 + (int)variant.Kind * 10 + (int)variant.Type, 4)
            .OrderByDescending(m => m.Reference(new byte[m.InputBytes]).Length).First();
        var inputs = Enumerable.Range(0, 3).Select(_ => ResizeAndMovementCases.RandomInput(c, rng)).ToList();
        if (!c.Libm)
        {
            Device.AssertMatchesReference(c.Model, core, c.Label, inputs, c.Reference, _output);
            return;
        }
        var lowered = Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        var image = DeviceBuild.Build(lowered.Value!, Device.Options(CortexM.Get(core), c.Label));
        var results = Device.Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
        int differing = 0;
        for (int v = 0; v < inputs.Count; v++)
        {
            byte[] expected = c.Reference(inputs[v]), ours = Assert.Single(results[v].Outputs);
            Assert.Equal(expected.Length, ours.Length);
            int ulps = FloatTolerance.MaxUlps(expected, ours);
            Assert.True(ulps <= FloatTolerance.ExpfUlps, $"{c.Label} on {core}, vector {v}: {ulps} ULP from the glibc reference");
            for (int i = 0; i < expected.Length; i += 4)
                if (BitConverter.ToInt32(expected, i) != BitConverter.ToInt32(ours, i)) differing++;
        }
        _output.WriteLine($"{c.Label} on {core}: {inputs.Count} vectors within {FloatTolerance.ExpfUlps} ULP, {differing} values not bit-identical");
    }
}
