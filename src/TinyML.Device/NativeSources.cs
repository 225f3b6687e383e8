// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;

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
