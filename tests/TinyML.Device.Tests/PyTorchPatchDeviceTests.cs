// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning.Patches;
using TinyML.Samples;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// A PyTorch-shaped MobileNetV2-0.35 at 96×96 (NCHW input and TRANSPOSE, explicit PADs) patched through its
/// TRANSPOSE and PADs, in emitted C on a Cortex-M4 under QEMU: the same bytes as the layer-by-layer plan there.
/// </summary>
public sealed class PyTorchPatchDeviceTests
{
    [Fact]
    public void PyTorchMobileNetV2_PatchedThroughTransposeAndPads_EqualsLayerByLayer_OnCortexM4()
    {
        var model = MobileNetModels.MobileNetV2(0.35, 96, export: MobileNetModels.Export.PyTorch);
        var options = LoweringOptions.None with { Target = CortexM.M4.Name };
        var plain = Lowerer.Lower(model, null, options).Value!;
        var patched = Lowerer.Lower(model, null, options with { Patch = PatchMode.MinimumPeak }).Value!;
        Assert.True(patched.Patches!.Applied, patched.Patches.Reason);
        Assert.True(patched.ArenaBytes < plain.ArenaBytes);
        var graph = PatchGraph.Analyze(model.Main);
        Assert.Equal(0, graph.InputTranspose);
        Assert.Contains(patched.Calls, c => c.OperatorIndex == 0 && c.Kernel == "tml_transpose");
        Assert.Contains(patched.Calls, c => c.Kernel == "tml_pad" && c.Comment.StartsWith("patch ("));
        var vectors = new[] { (IReadOnlyList<byte[]>)new[] { MobileNetModels.Input(model, 11) } };
        var expected = Device.Runner.Run(DeviceBuild.Build(plain, Device.Options(CortexM.M4, "mobilenetv2-pytorch-plain")), vectors);
        var actual = Device.Runner.Run(DeviceBuild.Build(patched, Device.Options(CortexM.M4, "mobilenetv2-pytorch-patched")), vectors);
        Assert.Equal(expected[0].Outputs.Single(), actual[0].Outputs.Single());
        // A softmax over random logits is not all one class: the comparison sees real values.
        Assert.True(expected[0].Outputs.Single().Distinct().Count() > 1);
    }
}
