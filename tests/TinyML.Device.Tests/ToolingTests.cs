// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>Missing tools, unknown cores and guest failures give TML diagnostics with what to do.</summary>
public sealed class ToolingTests : IDisposable
{
    private readonly string _empty = Path.Combine(Path.GetTempPath(), $"tml-empty-{Guid.NewGuid():N}");

    public ToolingTests() => Directory.CreateDirectory(_empty);

    public void Dispose() => Directory.Delete(_empty, recursive: true);

    [Fact]
    public void MissingToolchain_IsTML0005_WithTheInstallCommand()
    {
        var options = Device.Options(CortexM.M4, "missing") with { ToolchainDirectory = _empty };
        var e = Assert.Throws<DeviceException>(() => DeviceBuild.Build(Device.Plan(Device.Case("hello_int8")), options));
        Assert.Equal("TML0005", e.Id);
        Assert.Contains("sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi", e.Message);
        Assert.Contains("arm-none-eabi-gcc", e.Message);
    }

    [Fact]
    public void MissingQemu_IsTML0006_WithTheInstallCommand()
    {
        var e = Assert.Throws<DeviceException>(() => new QemuRunner(_empty));
        Assert.Equal("TML0006", e.Id);
        Assert.Contains("sudo apt-get install qemu-system-arm", e.Message);
    }

    [Fact]
    public void UnknownCore_IsTML0004()
    {
        Assert.Equal(CortexM.M4, CortexM.Get("m4"));
        Assert.Equal(CortexM.M0Plus, CortexM.Get("cortex-m0+"));
        var e = Assert.Throws<DeviceException>(() => CortexM.Get("cortex-a53"));
        Assert.Equal("TML0004", e.Id);
        Assert.Contains("cortex-m55", e.Message);
    }

    [Fact]
    public void GuestFault_IsTML0104_WithTheFaultingPc()
    {
        // Hard-float Cortex-M4 code on the Cortex-M3 machine, which has no FPU: the first float instruction faults.
        var gc = Device.Case("hello_float");
        var image = DeviceBuild.Build(Device.Plan(gc), Device.Options(CortexM.M4, "fault"));
        var wrong = image with { Core = image.Core with { QemuMachine = "mps2-an385" } };
        var e = Assert.Throws<DeviceException>(() => Device.Runner.Run(wrong, Device.Vectors(gc)));
        Assert.Equal("TML0104", e.Id);
        Assert.Contains("faulted", e.Message);
        Assert.Contains(" pc ", e.Message);
    }

    [Fact]
    public void Timeout_KillsQemu_AndIsTML0104()
    {
        var gc = Device.Case("ic_resnet");
        var image = DeviceBuild.Build(Device.Plan(gc), Device.Options(CortexM.M4, "timeout"));
        var runner = new QemuRunner { Timeout = TimeSpan.FromMilliseconds(100) };
        var e = Assert.Throws<DeviceException>(() => runner.Run(image, Device.Vectors(gc)));
        Assert.Equal("TML0104", e.Id);
        Assert.Contains("did not finish", e.Message);
    }

    [Fact]
    public void WrongInputSize_IsTML0103()
    {
        var gc = Device.Case("hello_int8");
        var image = DeviceBuild.Build(Device.Plan(gc), Device.Options(CortexM.M4, "input"));
        var e = Assert.Throws<DeviceException>(() => Device.Runner.Run(image, new[] { new[] { new byte[3] } }));
        Assert.Equal("TML0103", e.Id);
    }

    [Fact]
    public void OutputFolder_WithSpacesAndCommas_BuildsAndRuns()
    {
        // Folder names reach gcc, the linker and QEMU: a comma once split the linker's -Map argument.
        var gc = Device.Case("hello_int8");
        var image = DeviceBuild.Build(Device.Plan(gc), Device.Options(CortexM.M4, "a folder, with commas,and spaces"));
        var results = Device.Runner.Run(image, Device.Vectors(gc));
        Assert.Equal(File.ReadAllBytes(gc.Output(gc.Vectors().First())), Assert.Single(results[0].Outputs));
    }
}
