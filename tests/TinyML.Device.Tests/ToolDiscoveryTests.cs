// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// Finding arm-none-eabi-gcc and qemu-system-arm where their installers put them on Windows and macOS, checked on
/// fake machines (a <see cref="ToolHost"/> with Windows or macOS paths), so that it runs here.
/// </summary>
public sealed class ToolDiscoveryTests
{
    private static readonly string[] ArmTools = { "arm-none-eabi-gcc", "arm-none-eabi-ar", "arm-none-eabi-objdump" };

    /// <summary>A machine with these environment variables and files; folders are those the files imply.</summary>
    private static ToolHost Machine(HostOs os, IReadOnlyDictionary<string, string> environment, IEnumerable<string> files)
    {
        var set = files.ToHashSet(StringComparer.Ordinal);
        char separator = os == HostOs.Windows ? '\\' : '/';
        IEnumerable<string> Subdirectories(string parent) => set
            .Where(f => f.StartsWith(parent + separator, StringComparison.Ordinal))
            .Select(f => parent + separator + f.Substring(parent.Length + 1).Split(separator)[0])
            .Where(d => set.Any(f => f.StartsWith(d + separator, StringComparison.Ordinal)))
            .Distinct();
        return new ToolHost(os, name => environment.TryGetValue(name, out string? value) ? value : null, set.Contains, Subdirectories);
    }

    private static IEnumerable<string> Toolchain(string bin, string suffix = "") => ArmTools.Select(t => bin + (bin.Contains('\\') ? "\\" : "/") + t + suffix);

    private static readonly Dictionary<string, string> WindowsEnvironment = new()
    {
        ["ProgramFiles"] = @"C:\Program Files",
        ["ProgramFiles(x86)"] = @"C:\Program Files (x86)",
        ["PATH"] = @"C:\Windows\system32;""C:\Program Files\dotnet""",
    };

    [Fact]
    public void Windows_TakesTheNewestArmGnuToolchainUnderProgramFiles()
    {
        var host = Machine(HostOs.Windows, WindowsEnvironment,
            Toolchain(@"C:\Program Files (x86)\Arm GNU Toolchain arm-none-eabi\12.3 rel1\bin", ".exe")
                .Concat(Toolchain(@"C:\Program Files (x86)\Arm GNU Toolchain arm-none-eabi\13.2 Rel1\bin", ".exe"))
                .Concat(Toolchain(@"C:\Program Files (x86)\GNU Arm Embedded Toolchain\10 2021.10\bin", ".exe")));
        var found = ArmToolchain.Locate(host: host);
        Assert.Equal(@"C:\Program Files (x86)\Arm GNU Toolchain arm-none-eabi\13.2 Rel1\bin\arm-none-eabi-gcc.exe", found.Gcc);
        Assert.Equal(@"C:\Program Files (x86)\Arm GNU Toolchain arm-none-eabi\13.2 Rel1\bin\arm-none-eabi-objdump.exe", found.Objdump);
    }

    [Fact]
    public void Windows_FindsTheOlderGnuArmEmbeddedToolchain_AndPathComesFirst()
    {
        var older = Toolchain(@"C:\Program Files (x86)\GNU Arm Embedded Toolchain\10 2021.10\bin", ".exe").ToList();
        Assert.Equal(@"C:\Program Files (x86)\GNU Arm Embedded Toolchain\10 2021.10\bin\arm-none-eabi-ar.exe",
            ArmToolchain.Locate(host: Machine(HostOs.Windows, WindowsEnvironment, older)).Ar);
        var onPath = new Dictionary<string, string>(WindowsEnvironment) { ["PATH"] = @"C:\Windows\system32;D:\My Tools\arm gcc\bin" };
        var host = Machine(HostOs.Windows, onPath, older.Concat(Toolchain(@"D:\My Tools\arm gcc\bin", ".exe")));
        Assert.Equal(@"D:\My Tools\arm gcc\bin\arm-none-eabi-gcc.exe", ArmToolchain.Locate(host: host).Gcc);
    }

    [Fact]
    public void AnExplicitFolder_WithSpaces_IsTheOnlyPlaceLooked()
    {
        var host = Machine(HostOs.Windows, WindowsEnvironment,
            Toolchain(@"E:\Arm Tool Chains\13\bin", ".exe").Concat(Toolchain(@"C:\Program Files (x86)\Arm GNU Toolchain arm-none-eabi\13.2 Rel1\bin", ".exe")));
        Assert.Equal(@"E:\Arm Tool Chains\13\bin\arm-none-eabi-gcc.exe", ArmToolchain.Locate(@"E:\Arm Tool Chains\13\bin\", host).Gcc);
        var e = Assert.Throws<DeviceException>(() => ArmToolchain.Locate(@"E:\elsewhere", host));
        Assert.Equal("TML0005", e.Id);
        Assert.Contains(@"arm-none-eabi-gcc was not found in E:\elsewhere", e.Message);
    }

    [Fact]
    public void MacOS_TakesArmsPackage_ThenHomebrew()
    {
        var applications = Toolchain("/Applications/ArmGNUToolchain/12.2.rel1/arm-none-eabi/bin")
            .Concat(Toolchain("/Applications/ArmGNUToolchain/13.2.Rel1/arm-none-eabi/bin")).ToList();
        var environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
        Assert.Equal("/Applications/ArmGNUToolchain/13.2.Rel1/arm-none-eabi/bin/arm-none-eabi-gcc",
            ArmToolchain.Locate(host: Machine(HostOs.MacOS, environment, applications.Concat(Toolchain("/opt/homebrew/bin")))).Gcc);
        Assert.Equal("/opt/homebrew/bin/arm-none-eabi-gcc", ArmToolchain.Locate(host: Machine(HostOs.MacOS, environment, Toolchain("/opt/homebrew/bin"))).Gcc);
        Assert.Equal("/usr/local/bin/arm-none-eabi-gcc", ArmToolchain.Locate(host: Machine(HostOs.MacOS, environment, Toolchain("/usr/local/bin"))).Gcc);
    }

    [Fact]
    public void MissingOrIncomplete_IsTML0005_WithTheOsInstallAdvice()
    {
        var windows = Assert.Throws<DeviceException>(() => ArmToolchain.Locate(host: Machine(HostOs.Windows, WindowsEnvironment, Array.Empty<string>())));
        Assert.Equal("TML0005", windows.Id);
        Assert.Contains("arm-none-eabi-gcc was not found on PATH or in the installers' default folders", windows.Message);
        Assert.Contains("Arm GNU Toolchain for arm-none-eabi", windows.Message);
        var mac = Assert.Throws<DeviceException>(() => ArmToolchain.Locate(host: Machine(HostOs.MacOS, new Dictionary<string, string>(), Array.Empty<string>())));
        Assert.Contains("brew install --cask gcc-arm-embedded", mac.Message);
        // A gcc whose binutils are missing is not mixed with another release's.
        var partial = Machine(HostOs.MacOS, new Dictionary<string, string>(), Toolchain("/opt/homebrew/bin").Take(2).Concat(Toolchain("/usr/local/bin")));
        var e = Assert.Throws<DeviceException>(() => ArmToolchain.Locate(host: partial));
        Assert.Contains("arm-none-eabi-objdump was not found beside /opt/homebrew/bin/arm-none-eabi-gcc", e.Message);
    }

    [Fact]
    public void Qemu_IsFoundInProgramFiles_AndHomebrew_AndIsOptionalUntilARunNeedsIt()
    {
        var windows = Machine(HostOs.Windows, WindowsEnvironment, new[] { @"C:\Program Files\qemu\qemu-system-arm.exe" });
        Assert.Equal(@"C:\Program Files\qemu\qemu-system-arm.exe", Qemu.Locate(host: windows));
        var mac = Machine(HostOs.MacOS, new Dictionary<string, string> { ["PATH"] = "/usr/bin" }, new[] { "/opt/homebrew/bin/qemu-system-arm" });
        Assert.Equal("/opt/homebrew/bin/qemu-system-arm", Qemu.Locate(host: mac));
        var none = Assert.Throws<DeviceException>(() => Qemu.Locate(host: Machine(HostOs.Windows, WindowsEnvironment, Array.Empty<string>())));
        Assert.Equal("TML0006", none.Id);
        Assert.Contains("QEMU for Windows", none.Message);
    }

    [Fact]
    public void VersionFolders_SortByTheirNumbers_NewestFirst()
    {
        var host = Machine(HostOs.MacOS, new Dictionary<string, string>(),
            new[] { "/A/9.3.1/x", "/A/13.2.Rel1/x", "/A/13.10.rel1/x", "/A/13.2.rel2/x" });
        Assert.Equal(new[] { "/A/13.10.rel1", "/A/13.2.rel2", "/A/13.2.Rel1", "/A/9.3.1" }, host.VersionFolders("/A"));
    }
}
