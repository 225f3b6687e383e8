// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, DEPTH_TO_SPACE and SPACE_TO_DEPTH in the emitted C under QEMU: the first
/// random model of each operator and type (ResizeAndMovementCases, the generator of the host tests) gives the bytes of
/// the C# transcription of TFLM's reference arithmetic. Every variant runs on the Cortex-M4 (hardware FPU); the ones
/// that compute in float or fixed point (nearest's float source index, both bilinear kernels) also on the M0+ (soft
/// float); the others only move bytes, which the M4 run covers.
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
            bool computes = variant.Kind == OpKind.ResizeBilinear || (variant.Kind == OpKind.ResizeNearestNeighbor && variant.Type == DataType.Float32);
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
        var c = ResizeAndMovementCases.Cases(variant, 8001 + (int)variant.Kind * 10 + (int)variant.Type, 1).Single();
        Device.AssertMatchesReference(c.Model, core, c.Label,
            Enumerable.Range(0, 3).Select(_ => ResizeAndMovementCases.RandomInput(c, rng)).ToList(), c.Reference, _output);
    }
}
