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
/// PyTorch-shaped models (NCHW input and TRANSPOSE, explicit PADs) patched through their TRANSPOSE and PADs, in
/// emitted C under QEMU: MobileNetV2-0.35 at 96×96 with the minimum-peak choice on a Cortex-M4, and with the
/// TRANSPOSE run whole before the patches (a front point the budget mode takes) on a Cortex-M4; VWW's
/// MobileNetV1-0.25 with a forced split on a Cortex-M0+; the same bytes as the layer-by-layer plan on that core.
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

    [Fact]
    public void PyTorchMobileNetV2_TransposeWholeThenPatches_EqualsLayerByLayer_OnCortexM4()
    {
        var model = MobileNetModels.MobileNetV2(0.35, 96, export: MobileNetModels.Export.PyTorch);
        var options = LoweringOptions.None with { Target = CortexM.M4.Name };
        var plain = Lowerer.Lower(model, null, options).Value!;
        // The lowest-arena front point of the whole-TRANSPOSE kind, as the budget mode takes it.
        var front = Lowerer.Lower(model, null, options with { Patch = PatchMode.MinimumPeak }).Value!.Patches!.Front;
        var point = front.First(p => p.TransposeWhole);
        var patched = Lowerer.Lower(model, null, options with { Patch = PatchMode.Budget, RamBudget = point.ArenaBytes }).Value!;
        Assert.True(patched.Patches!.Applied && patched.Patches.TransposeWhole, patched.Patches.Grid);
        Assert.True(patched.ArenaBytes < plain.ArenaBytes);
        // One whole TRANSPOSE call first; the tiles are cut from its NHWC output.
        Assert.Equal("tml_transpose", patched.Calls[0].Kernel);
        Assert.Single(patched.Calls, c => c.OperatorIndex == 0);
        Assert.Contains(patched.Calls, c => c.Kernel == "tml_copy_window" && c.Comment.Contains(": cut input "));
        var vectors = new[] { (IReadOnlyList<byte[]>)new[] { MobileNetModels.Input(model, 11) } };
        var expected = Device.Runner.Run(DeviceBuild.Build(plain, Device.Options(CortexM.M4, "mobilenetv2-pytorch-plain")), vectors);
        var actual = Device.Runner.Run(DeviceBuild.Build(patched, Device.Options(CortexM.M4, "mobilenetv2-pytorch-transpose-whole")), vectors);
        Assert.Equal(expected[0].Outputs.Single(), actual[0].Outputs.Single());
        Assert.True(expected[0].Outputs.Single().Distinct().Count() > 1);
    }

    [Fact]
    public void PyTorchMobileNetV1_ForcedSplitThroughTransposeAndPads_EqualsLayerByLayer_OnCortexM0Plus()
    {
        // The longest prefix that still crosses the TRANSPOSE and the first PADs, on a 3x2 grid.
        var model = MobileNetModels.MobileNetV1(0.25, 96, export: MobileNetModels.Export.PyTorch);
        var graph = PatchGraph.Analyze(model.Main);
        int split = graph.Splits.Where(k => model.Main.Tensors[graph.Ops[k - 1].Output].Shape[1] >= 12).Max();
        Assert.Contains(graph.Ops.Take(split), o => model.Main.Operators[o.Index].Kind == TinyML.Compiler.Ir.OpKind.Pad);
        var plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var patched = Lowerer.LowerWithPatches(model, null, split, 3, 2).Value!;
        var vectors = new[] { (IReadOnlyList<byte[]>)new[] { MobileNetModels.Input(model, 13) } };
        var expected = Device.Runner.Run(DeviceBuild.Build(plain, Device.Options(CortexM.M0Plus, "mobilenetv1-pytorch-plain")), vectors);
        var actual = Device.Runner.Run(DeviceBuild.Build(patched, Device.Options(CortexM.M0Plus, "mobilenetv1-pytorch-patched")), vectors);
        Assert.Equal(expected[0].Outputs.Single(), actual[0].Outputs.Single());
        Assert.True(expected[0].Outputs.Single().Distinct().Count() > 1);
    }
}
