// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Samples;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// PAD folding on the device: a PyTorch-shaped MobileNetV1 (explicit PADs before its 3×3 convolutions) planned for
/// the core with every default technique (PADs folded into the packed, DSP and in-place depthwise kernels) computes
/// the bytes of the plan that runs every PAD, on a Cortex-M4 (DSP paths) and a Cortex-M0+ (portable paths).
/// </summary>
public sealed class PadFoldingDeviceTests
{
    public static TheoryData<string> Cores() => new() { CortexM.M4.Name, CortexM.M0Plus.Name };

    [Theory]
    [MemberData(nameof(Cores))]
    public void FoldedPads_EqualThePaddedPlan(string coreName)
    {
        var core = CortexM.Cores.Single(c => c.Name == coreName);
        var model = MobileNetModels.MobileNetV1(0.25, 64, classes: 10, export: MobileNetModels.Export.PyTorch);
        var padded = Lowerer.Lower(model, null, LoweringOptions.None with { Target = core.Name }).Value!;
        var folded = Lowerer.Lower(model, null, LoweringOptions.Default with { Target = core.Name }).Value!;
        Assert.Contains(padded.Calls, call => call.Kernel == "tml_pad");
        Assert.DoesNotContain(folded.Calls, call => call.Kernel == "tml_pad");
        var vectors = new[] { (IReadOnlyList<byte[]>)new[] { MobileNetModels.Input(model, 5) }, new[] { MobileNetModels.Input(model, 6) } };
        var expected = Device.Runner.Run(DeviceBuild.Build(padded, Device.Options(core, "pytorch-v1-padded")), vectors);
        var actual = Device.Runner.Run(DeviceBuild.Build(folded, Device.Options(core, "pytorch-v1-folded")), vectors);
        for (int v = 0; v < vectors.Length; v++) Assert.Equal(expected[v].Outputs.Single(), actual[v].Outputs.Single());
        // The outputs carry real values: a softmax over ten classes that is not one class.
        Assert.True(expected[0].Outputs.Single().Distinct().Count() > 1);
    }
}
