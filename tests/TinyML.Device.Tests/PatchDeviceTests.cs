// SPDX-License-Identifier: Apache-2.0
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Tflite;
using TinyML.Samples;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// Patched plans on a Cortex-M4 under QEMU. The golden models where the planner applies patches (ic_resnet and its
/// float twin) run with the minimum-peak choice; kws, where patches do not lower the peak, runs a forced split so
/// its depthwise stack is exercised tile by tile on the device too; the other golden models get the same plan
/// with patches on as without (nothing at their start runs on tiles), which the device conformance tests already
/// run. MobileNetV2-0.35 at 144×144 runs patched and layer by layer on the device, with identical bytes.
/// </summary>
public sealed class PatchDeviceTests
{
    private static CompiledPlan Lower(string caseName, LoweringOptions options)
    {
        var gc = Device.Case(caseName);
        var lowered = Lowerer.Lower(TfliteReader.ReadFile(gc.Model).Value!, gc.Model, options);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    [Theory]
    [InlineData("ic_resnet")]
    [InlineData("ic_resnet_float")]
    public void MinimumPeakPatches_AreByteIdenticalOnCortexM4(string caseName)
    {
        // Planned for the M4: its tile convolutions get their patch scratch.
        var plan = Lower(caseName, LoweringOptions.MinimumMemory with { Target = CortexM.M4.Name });
        Assert.True(plan.Patches!.Applied, plan.Patches.Reason);
        DeviceConformanceTests.AssertMatchesGolden(caseName, CortexM.M4, patchedPlan: plan);
    }

    [Fact]
    public void Kws_ForcedPatches_AreByteIdenticalOnCortexM4()
    {
        var gc = Device.Case("kws");
        var model = TfliteReader.ReadFile(gc.Model).Value!;
        var graph = PatchGraph.Analyze(model.Main);
        int split = graph.Splits.Where(k => model.Main.Tensors[graph.Ops[k - 1].Output].Shape[1] >= 2).Max();
        var lowered = Lowerer.LowerWithPatches(model, gc.Model, split, 2, 2);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        DeviceConformanceTests.AssertMatchesGolden("kws", CortexM.M4, patchedPlan: lowered.Value);
    }

    [Fact]
    public void MobileNetV2_PatchedEqualsLayerByLayer_OnCortexM4()
    {
        var model = MobileNetModels.MobileNetV2(0.35, 144);
        var plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var patched = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Value!;
        Assert.True(patched.Patches!.Applied && patched.ArenaBytes < plain.ArenaBytes / 3);
        var vectors = new[] { (System.Collections.Generic.IReadOnlyList<byte[]>)new[] { MobileNetModels.Input(model, 5) } };
        var expected = Device.Runner.Run(DeviceBuild.Build(plain, Device.Options(CortexM.M4, "mobilenetv2-plain")), vectors);
        var actual = Device.Runner.Run(DeviceBuild.Build(patched, Device.Options(CortexM.M4, "mobilenetv2-patched")), vectors);
        Assert.Equal(expected[0].Outputs.Single(), actual[0].Outputs.Single());
        // A softmax over random logits is not all one class: the comparison sees real values.
        Assert.True(expected[0].Outputs.Single().Distinct().Count() > 1);
    }
}
