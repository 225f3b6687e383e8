// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TinyML.Device;

/// <summary>
/// Where the kernel sources (include/, src/) and the bare-metal runtime (device/) are: a folder with the layout of
/// src/TinyML.Kernels.Native. By default the copy beside this assembly (native/), else the checkout above it.
/// </summary>
public sealed record NativeSources(string Root)
{
    /// <summary>include/: tml_kernels.h.</summary>
    public string Include => Path.Combine(Root, "include");
    /// <summary>src/: the kernel sources.</summary>
    public string Kernels => Path.Combine(Root, "src");
    /// <summary>device/: the bare-metal runtime.</summary>
    public string Device => Path.Combine(Root, "device");
    /// <summary>device/ld: the linker scripts.</summary>
    public string LinkerScripts => Path.Combine(Root, "device", "ld");

    /// <summary>
    /// The kernel sources: every .c below src/, recursively (per-core paths live in subfolders such as src/arm/dsp),
    /// as paths relative to src/ with '/' separators, in ordinal order. The same rule serves CMake (GLOB_RECURSE),
    /// the Device project's copy (src\**) and the SDK package (src/**); a test holds them to it.
    /// </summary>
    public IReadOnlyList<string> KernelSources() => Files(Kernels, "*.c");

    /// <summary>Every file below <paramref name="folder"/>, relative to it with '/' separators, in ordinal order.</summary>
    internal static IReadOnlyList<string> Files(string folder, string pattern = "*") =>
        Directory.GetFiles(folder, pattern, SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();

    /// <summary>The object name of a kernel source: its path below src/ with '/' as "__" (src/arm/dsp/conv.c is
    /// arm__dsp__conv), so that sources of the same name in different folders stay apart in one archive.</summary>
    internal static string ObjectName(string relativeSource) =>
        Path.ChangeExtension(relativeSource, null)!.Replace("/", "__", StringComparison.Ordinal);

    /// <summary>The sources at <paramref name="root"/> when given, else the default location.</summary>
    public static NativeSources Locate(string? root = null)
    {
        if (root is not null)
        {
            var given = new NativeSources(Path.GetFullPath(root));
            return given.IsComplete ? given : throw new DeviceException(DiagnosticIds.IncompleteSdkBuild, $"{root} does not hold include/, src/ and device/ of the kernel library");
        }
        var beside = new NativeSources(Path.Combine(AppContext.BaseDirectory, "native"));
        if (beside.IsComplete) return beside;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var checkout = new NativeSources(Path.Combine(dir.FullName, "src", "TinyML.Kernels.Native"));
            if (checkout.IsComplete) return checkout;
        }
        throw new DeviceException(DiagnosticIds.IncompleteSdkBuild, $"the kernel sources were not found beside {AppContext.BaseDirectory} (native/)");
    }

    private bool IsComplete => Directory.Exists(Include) && Directory.Exists(Kernels) && Directory.Exists(Device) && Directory.Exists(LinkerScripts);
}
