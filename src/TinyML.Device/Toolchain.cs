// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace TinyML.Device;

/// <summary>The operating systems whose tool locations discovery knows.</summary>
public enum HostOs
{
    /// <summary>Linux (and any other Unix): PATH only.</summary>
    Linux,
    /// <summary>Windows: PATH, then the installers' folders under Program Files.</summary>
    Windows,
    /// <summary>macOS: PATH, then /Applications and Homebrew.</summary>
    MacOS,
}

/// <summary>
/// What tool discovery sees of the machine: its OS, environment variables, files and folders. <see cref="Current"/>
/// is the real one; tests build others to check the search on Windows and macOS layouts from any machine.
/// </summary>
public sealed record ToolHost(HostOs Os, Func<string, string?> Environment, Func<string, bool> FileExists, Func<string, IEnumerable<string>> Subdirectories)
{
    /// <summary>This machine.</summary>
    public static ToolHost Current { get; } = new(
        OperatingSystem.IsWindows() ? HostOs.Windows : OperatingSystem.IsMacOS() ? HostOs.MacOS : HostOs.Linux,
        System.Environment.GetEnvironmentVariable, File.Exists,
        d => Directory.Exists(d) ? Directory.EnumerateDirectories(d) : Array.Empty<string>())
    {
        FullPath = Path.GetFullPath,
    };

    /// <summary>Makes a found tool's path absolute (a relative TinyMLArmToolchainDir, say); unchanged by default.</summary>
    public Func<string, string> FullPath { get; init; } = p => p;

    /// <summary>The path separator of <see cref="Os"/>.</summary>
    public char Separator => Os == HostOs.Windows ? '\\' : '/';

    /// <summary>Joins path parts with <see cref="Separator"/>.</summary>
    public string Join(params string[] parts) =>
        string.Join(Separator.ToString(), parts.Select((p, i) => i == 0 ? p.TrimEnd('/', '\\') : p.Trim('/', '\\')));

    /// <summary>The file names a tool may have: <c>tool.exe</c> first on Windows.</summary>
    public string[] Names(string tool) => Os == HostOs.Windows ? new[] { tool + ".exe", tool } : new[] { tool };

    /// <summary>The tool in <paramref name="directory"/>, or null.</summary>
    public string? InDirectory(string directory, string tool) =>
        Names(tool).Select(name => Join(directory, name)).Where(FileExists).Select(FullPath).FirstOrDefault();

    /// <summary>The folders of PATH, in order.</summary>
    public IEnumerable<string> PathDirectories =>
        (Environment("PATH") ?? "").Split(Os == HostOs.Windows ? ';' : ':', StringSplitOptions.RemoveEmptyEntries).Select(d => d.Trim('"'));

    /// <summary>
    /// The version folders below <paramref name="parent"/>, newest first ("13.3.rel1" before "13.2 Rel1" before
    /// "12.3.rel1"): installers put each release in a folder named after its version.
    /// </summary>
    public IEnumerable<string> VersionFolders(string parent) =>
        Subdirectories(parent).OrderByDescending(d => VersionKey(d), VersionComparer).ThenByDescending(d => d, StringComparer.Ordinal);

    private static int[] VersionKey(string folder) =>
        Regex.Matches(folder.Substring(folder.LastIndexOfAny(new[] { '/', '\\' }) + 1), @"\d+").Cast<Match>().Select(m => int.TryParse(m.Value, out int v) ? v : 0).ToArray();

    private static readonly Comparer<int[]> VersionComparer = Comparer<int[]>.Create((a, b) =>
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            if (a[i] != b[i]) return a[i].CompareTo(b[i]);
        return a.Length.CompareTo(b.Length);
    });
}

/// <summary>The Arm GNU toolchain programs a device build uses.</summary>
public sealed record ArmToolchain(string Gcc, string Ar, string Objdump)
{
    /// <summary>The Debian/Ubuntu command that installs the toolchain and its C library.</summary>
    public const string InstallCommand = "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi";

    /// <summary>
    /// Where installers put arm-none-eabi-gcc when it is not on PATH: on Windows, the Arm GNU Toolchain's (and the
    /// older GNU Arm Embedded Toolchain's) folders under Program Files, newest release first; on macOS, Arm's package
    /// in /Applications/ArmGNUToolchain and Homebrew's bin folders (Apple silicon, then Intel).
    /// </summary>
    public static IEnumerable<string> DefaultFolders(ToolHost host)
    {
        switch (host.Os)
        {
            case HostOs.Windows:
                foreach (string variable in new[] { "ProgramFiles(x86)", "ProgramFiles" })
                {
                    if (host.Environment(variable) is not { Length: > 0 } programFiles) continue;
                    foreach (string product in new[] { "Arm GNU Toolchain arm-none-eabi", "GNU Arm Embedded Toolchain" })
                        foreach (string version in host.VersionFolders(host.Join(programFiles, product)))
                            yield return host.Join(version, "bin");
                }
                break;
            case HostOs.MacOS:
                foreach (string version in host.VersionFolders("/Applications/ArmGNUToolchain"))
                    yield return host.Join(version, "arm-none-eabi", "bin");
                yield return "/opt/homebrew/bin";
                yield return "/usr/local/bin";
                break;
        }
    }

    /// <summary>How to install the toolchain on <paramref name="os"/>.</summary>
    public static string InstallHint(HostOs os) => os switch
    {
        HostOs.Windows => "install the Arm GNU Toolchain for arm-none-eabi (developer.arm.com; its installer puts it under Program Files) or set TinyMLArmToolchainDir",
        HostOs.MacOS => "install it with: brew install --cask gcc-arm-embedded (or Arm's package from developer.arm.com), or set TinyMLArmToolchainDir",
        _ => $"install them with: {InstallCommand}",
    };

    /// <summary>
    /// Finds arm-none-eabi-gcc, -ar and -objdump in <paramref name="directory"/> when given (else in the
    /// TML_ARM_TOOLCHAIN_DIR environment variable's directory, else on PATH, else in the installers' default folders,
    /// <see cref="DefaultFolders"/>). Throws TML0005 naming where it looked and how to install it when one is missing.
    /// </summary>
    public static ArmToolchain Locate(string? directory = null, ToolHost? host = null)
    {
        host ??= ToolHost.Current;
        directory ??= host.Environment("TML_ARM_TOOLCHAIN_DIR");
        // All three from one folder: a gcc from one release with another's binutils would mislink.
        var folders = directory is { Length: > 0 } ? new[] { directory } : host.PathDirectories.Concat(DefaultFolders(host)).ToArray();
        string? folder = folders.FirstOrDefault(f => host.InDirectory(f, "arm-none-eabi-gcc") is not null);
        if (folder is not null && Tools.All(t => host.InDirectory(folder, t) is not null))
            return new ArmToolchain(host.InDirectory(folder, Tools[0])!, host.InDirectory(folder, Tools[1])!, host.InDirectory(folder, Tools[2])!);
        string missing = folder is null ? Tools[0] : Tools.First(t => host.InDirectory(folder, t) is null);
        string where = directory is { Length: > 0 } ? $"in {directory}" : folder is not null ? $"beside {host.Join(folder, Tools[0])}" : "on PATH or in the installers' default folders";
        throw new DeviceException(DiagnosticIds.ArmToolchainNotFound,
            $"{missing} was not found {where}; the device build needs the Arm GNU toolchain and its C library (newlib): {InstallHint(host.Os)}" +
            (host.Os == HostOs.Linux ? $" (and {Qemu.InstallCommand.Substring("sudo apt-get install ".Length)} to run the build under QEMU)" : ""));
    }

    private static readonly string[] Tools = { "arm-none-eabi-gcc", "arm-none-eabi-ar", "arm-none-eabi-objdump" };
}

/// <summary>Locates qemu-system-arm.</summary>
public static class Qemu
{
    /// <summary>The Debian/Ubuntu command that installs QEMU's Arm system emulator.</summary>
    public const string InstallCommand = "sudo apt-get install qemu-system-arm";

    /// <summary>Where QEMU's installers put it when it is not on PATH: Program Files\qemu on Windows, Homebrew on macOS.</summary>
    public static IEnumerable<string> DefaultFolders(ToolHost host) => host.Os switch
    {
        HostOs.Windows => new[] { "ProgramFiles", "ProgramFiles(x86)" }.Select(host.Environment).OfType<string>().Where(p => p.Length > 0).Select(p => host.Join(p, "qemu")),
        HostOs.MacOS => new[] { "/opt/homebrew/bin", "/usr/local/bin" },
        _ => Array.Empty<string>(),
    };

    /// <summary>
    /// Returns <paramref name="path"/> when given (a file, or a directory holding qemu-system-arm), else the TML_QEMU
    /// environment variable's, else qemu-system-arm on PATH or in <see cref="DefaultFolders"/>. Running a device build
    /// is optional; when it is asked for without QEMU, TML0006 names the install command.
    /// </summary>
    public static string Locate(string? path = null, ToolHost? host = null)
    {
        host ??= ToolHost.Current;
        path ??= host.Environment("TML_QEMU");
        string? found = path is { Length: > 0 }
            ? host.FileExists(path) ? path : host.InDirectory(path, "qemu-system-arm")
            : host.PathDirectories.Concat(DefaultFolders(host)).Select(d => host.InDirectory(d, "qemu-system-arm")).FirstOrDefault(p => p is not null);
        string install = host.Os switch
        {
            HostOs.Windows => "install QEMU for Windows (qemu.org; it installs to Program Files\\qemu) or set TML_QEMU",
            HostOs.MacOS => "install it with: brew install qemu, or set TML_QEMU",
            _ => $"install it with: {InstallCommand}",
        };
        return found ?? throw new DeviceException(DiagnosticIds.QemuNotFound,
            $"qemu-system-arm was not found {(path is { Length: > 0 } ? $"at {path}" : "on PATH or in its installers' default folders")}; running a device build needs it: {install}");
    }
}
