// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Samples;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Patch-based inference on the MobileNet-style sample models: the patched plan computes the same bytes as the
/// layer-by-layer plan, its arena verifies and is far below the layer-by-layer arena, and the MAC overhead it
/// reports matches the MACs counted from the kernel calls of both plans.
/// </summary>
public class MobileNetPatchTests
{
    public static TheoryData<string> Models() => new() { "mobilenetv2", "mcunet" };

    private static Model Build(string name) => name == "mobilenetv2" ? MobileNetModels.MobileNetV2(0.35, 144) : MobileNetModels.McuNetLike(160);

    /// <summary>MACs counted from the calls' dims: convolutions, depthwise convolutions and matrix products (fully connected, packed 1x1).</summary>
    private static long CallMacs(ExecutionPlan plan)
    {
        long total = 0;
        int D(Arg dims, string field) => dims.Fields.Single(f => f.Name == field).Int;
        foreach (var call in plan.Calls)
        {
            var a = call.Args;
            total += call.Kernel switch
            {
                "tml_conv_s8" or "tml_conv_s8_packed" => (long)D(a[7], "h") * D(a[7], "w") * D(a[7], "c") * D(a[4], "h") * D(a[4], "w") * D(a[4], "c"),
                "tml_depthwise_conv_s8" => (long)D(a[7], "h") * D(a[7], "w") * D(a[7], "c") * D(a[4], "h") * D(a[4], "w"),
                "tml_fully_connected_s8" or "tml_fully_connected_s8_packed" => (long)a[2].Int * a[3].Int * a[4].Int,
                _ => 0,
            };
        }
        return total;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Patched_IsByteIdenticalToLayerByLayer_AndCutsThePeak(string name)
    {
        var model = Build(name);
        var plain = Lowerer.Lower(model, null, LoweringOptions.None);
        Assert.True(plain.Value is not null, string.Join("\n", plain.Diagnostics));
        var patched = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Value!;
        var report = patched.Patches!;
        Assert.True(report.Applied, report.Reason);
        Assert.Equal(plain.Value!.ArenaBytes, report.PeakBefore);
        Assert.Equal(patched.ArenaBytes, report.PeakAfter);
        Assert.Empty(PlanVerifier.Verify(patched.Memory!.Arena));
        Assert.True(report.PeakRatio > 2, $"{name}: peak {report.PeakBefore} -> {report.PeakAfter}");
        // The reported overhead is the one the kernel calls really perform.
        long before = CallMacs(plain.Value!), after = CallMacs(patched);
        Assert.Equal(before, report.MacsBefore);
        Assert.Equal(after, report.MacsAfter);
        Assert.True(after > before);
        Assert.Equal(100.0 * (after - before) / before, report.MacsOverheadPercent, 9);
        foreach (ulong seed in new ulong[] { 1, 2 })
        {
            var input = MobileNetModels.Input(model, seed);
            var expected = PatchTests.Run(plain.Value!, input);
            Assert.True(expected.SequenceEqual(PatchTests.Run(patched, input)), $"{name}, input {seed}: patched output differs");
        }
    }

    [Fact]
    public void MobileNetV2_QuarterBudget_IsMet_ByteIdentical()
    {
        // A quarter of the 311,040 B layer-by-layer peak: the budget mode finds the cheapest split and grid that
        // fits. The whole 144x144x3 input (62,208 B) stays in the arena while patches run (the stage output
        // overwrites the input rows no patch reads any more), so only fine grids fit: docs/patches.md.
        var model = MobileNetModels.MobileNetV2(0.35, 144);
        var plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        Assert.Equal(311_040, plain.ArenaBytes);
        long budget = plain.ArenaBytes / 4;
        var patched = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = budget }).Value!;
        Assert.True(patched.Patches!.Applied);
        Assert.True(patched.ArenaBytes <= budget, $"{patched.ArenaBytes} B > {budget} B");
        var minimum = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Value!;
        Assert.True(patched.Patches.MacsAfter <= minimum.Patches!.MacsAfter);
        var input = MobileNetModels.Input(model, 3);
        Assert.True(PatchTests.Run(plain, input).SequenceEqual(PatchTests.Run(patched, input)));
    }
}
