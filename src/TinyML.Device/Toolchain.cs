// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;

namespace TinyML.Device;

/// <summary>The Arm GNU toolchain programs a device build uses.</summary>
public sealed record ArmToolchain(string Gcc, string Ar, string Objdump)
{
    /// <summary>The Debian/Ubuntu command that installs the toolchain and its C library.</summary>
    public const string InstallCommand = "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi";

    /// <summary>
    /// Finds arm-none-eabi-gcc, -ar and -objdump in <paramref name="directory"/> when given (else in the
    /// TML_ARM_TOOLCHAIN_DIR environment variable's directory, else on PATH). Throws TML0005 naming the install
    /// command when one is missing.
    /// </summary>
    public static ArmToolchain Locate(string? directory = null)
    {
        directory ??= Environment.GetEnvironmentVariable("TML_ARM_TOOLCHAIN_DIR");
        string Find(string tool)
        {
            string? path = directory is { Length: > 0 } ? ToolSearch.InDirectory(directory, tool) : ToolSearch.OnPath(tool);
            return path ?? throw new DeviceException(DiagnosticIds.ArmToolchainNotFound,
                $"{tool} was not found {(directory is { Length: > 0 } ? $"in {directory}" : "on PATH")}; the device build needs the Arm GNU toolchain and newlib. Install them with: {InstallCommand} (and {Qemu.InstallCommand.Substring("sudo apt-get install ".Length)} to run the build under QEMU)");
        }
        return new ArmToolchain(Find("arm-none-eabi-gcc"), Find("arm-none-eabi-ar"), Find("arm-none-eabi-objdump"));
    }
}

/// <summary>Locates qemu-system-arm.</summary>
public static class Qemu
{
    /// <summary>The Debian/Ubuntu command that installs QEMU's Arm system emulator.</summary>
    public const string InstallCommand = "sudo apt-get install qemu-system-arm";

    /// <summary>
    /// Returns <paramref name="path"/> when given (a file, or a directory holding qemu-system-arm), else the TML_QEMU
    /// environment variable's, else qemu-system-arm on PATH. Throws TML0006 naming the install command when missing.
    /// </summary>
    public static string Locate(string? path = null)
    {
        path ??= Environment.GetEnvironmentVariable("TML_QEMU");
        string? found = path is { Length: > 0 }
            ? File.Exists(path) ? path : ToolSearch.InDirectory(path, "qemu-system-arm")
            : ToolSearch.OnPath("qemu-system-arm");
        return found ?? throw new DeviceException(DiagnosticIds.QemuNotFound,
            $"qemu-system-arm was not found {(path is { Length: > 0 } ? $"at {path}" : "on PATH")}; running a device build needs it. Install it with: {InstallCommand}");
    }
}

internal static class ToolSearch
{
    public static string? InDirectory(string directory, string tool)
    {
        foreach (string name in Names(tool))
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }

    public static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => InDirectory(d, tool)).FirstOrDefault(p => p is not null);

    private static string[] Names(string tool) => OperatingSystem.IsWindows() ? new[] { tool + ".exe", tool } : new[] { tool };
}
