// SPDX-License-Identifier: Apache-2.0
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>Sizes read from the linked ELF, the static stack bound, and --gc-sections.</summary>
public sealed class SizeAndStackTests
{
    private readonly ITestOutputHelper _output;

    public SizeAndStackTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("kws", "cortex-m4")]
    [InlineData("ic_resnet", "cortex-m7")]
    [InlineData("keyword_scrambled", "cortex-m4")]
    [InlineData("ad_float", "cortex-m4")]
    public void Sizes_AreConsistentWithThePlan_AndTheStackBoundHoldsOnTheDevice(string model, string coreName)
    {
        var core = CortexM.Get(coreName);
        var gc = Device.Case(model);
        var plan = Device.Plan(gc);
        var image = DeviceBuild.Build(plan, Device.Options(core, model));
        var s = image.Sizes;
        _output.WriteLine($"{model} on {core.Name}: {s}");
        _output.WriteLine($"stack: {image.Stack}");
        Assert.True(s.TextBytes > 0 && s.RodataBytes > 0 && s.BssBytes > 0 && s.StackBytes > 0);
        Assert.True(s.FlashBytes >= plan.ConstantBytes, "flash holds the constants");
        Assert.True(s.RodataBytes >= plan.ConstantBytes, "the constants are read-only data (flash), not RAM");
        Assert.True(s.RamBytes >= plan.ArenaBytes + plan.StateBytes, "RAM holds the arena and the state");
        Assert.True(s.BssBytes >= plan.ArenaBytes + plan.StateBytes);
        Assert.True(s.KernelCodeBytes > 0 && s.ModelCodeBytes > 0 && s.InferenceCodeBytes < s.TextBytes);
        // Nothing but the arena, the state and a few words of the harness is RAM: the kernels keep no globals.
        Assert.True(s.DataBytes + s.BssBytes - plan.ArenaBytes - plan.StateBytes < 64, $"{s.DataBytes + s.BssBytes - plan.ArenaBytes - plan.StateBytes} bytes of other RAM");
        Assert.True(image.Stack.IsBounded);
        Assert.Equal("model_invoke", image.Stack.Path[0].Function);
        Assert.True(image.HarnessStack!.Bytes >= s.StackBytes);

        // The static bound holds on the device: the painted stack's high-water mark never exceeds it.
        var results = Device.Runner.Run(image, Device.Vectors(gc));
        foreach (var r in results)
            Assert.True(r.StackBytes <= image.HarnessStack!.Bytes, $"measured {r.StackBytes} B of stack, bound {image.HarnessStack}");
        _output.WriteLine($"measured stack: {string.Join(", ", results.Select(r => r.StackBytes))}");
    }

    [Fact]
    public void GcSections_DropsTheKernelsAModelDoesNotCall()
    {
        var gc = Device.Case("ops/fc_b1"); // FULLY_CONNECTED only, constant weights: the packed kernel
        var image = DeviceBuild.Build(Device.Plan(gc), Device.Options(CortexM.M4, "gc"));
        Assert.True(image.HasSymbol("tml_fully_connected_s8_packed"));
        Assert.True(image.HasSymbol("model_invoke"));
        foreach (string unused in new[] { "tml_fully_connected_s8", "tml_conv_s8", "tml_conv_s8_packed", "tml_depthwise_conv_s8", "tml_softmax_s8", "tml_add_s8", "tml_avg_pool_s8", "expf" })
            Assert.False(image.HasSymbol(unused), $"{unused} is linked although the model does not call it");
        // The packed matrix product: its DSP loops for the int8 and the int16 weight layouts (two output-stage variants
        // each), the portable fallback and the spare-row path, about 8.3 KB on the M4; one more kernel would add its own.
        Assert.True(image.Sizes.KernelCodeBytes < 9000, $"{image.Sizes.KernelCodeBytes} B of kernel code for one FULLY_CONNECTED");
    }

    [Fact]
    public void OptimizeForSize_IsSmaller_AndStillByteIdentical()
    {
        var gc = Device.Case("ic_resnet");
        var o2 = DeviceBuild.Build(Device.Plan(gc), Device.Options(CortexM.M4, "size"));
        var os = DeviceBuild.Build(Device.Plan(gc), Device.Options(CortexM.M4, "size", optimizeForSize: true));
        _output.WriteLine($"-O2 code {o2.Sizes.TextBytes} B, -Os code {os.Sizes.TextBytes} B");
        Assert.True(os.Sizes.TextBytes < o2.Sizes.TextBytes);
        DeviceConformanceTests.AssertMatchesGolden("ic_resnet", CortexM.M4, optimizeForSize: true);
    }
}
