// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace TinyML.Runtime;

/// <summary>
/// The native kernel library: where it is found, its ABI check, and its exports. Resolution order:
/// TINYML_NATIVE_LIBRARY, runtimes/&lt;rid&gt;/native beside this assembly, then the development build output
/// (build/native in a checkout above the application).
/// </summary>
public static partial class NativeKernels
{
    /// <summary>The library name the P/Invoke declarations use.</summary>
    public const string LibraryName = "tinyml_kernels";

    /// <summary>The ABI version this runtime was built against (TML_ABI_VERSION in tml_kernels.h, through the generated description).</summary>
    public const int ExpectedAbiVersion = TinyML.Compiler.Plan.KernelAbi.Version;

    /// <summary>The environment variable that overrides the library path.</summary>
    public const string PathVariable = "TINYML_NATIVE_LIBRARY";

    private static readonly Lazy<IntPtr> Handle = new(LoadAndCheck);

    static NativeKernels() => NativeLibrary.SetDllImportResolver(typeof(NativeKernels).Assembly, Resolve);

    [LibraryImport(LibraryName)]
    private static partial int tml_abi_version();

    [LibraryImport(LibraryName)]
    private static partial int tml_host_path();

    [LibraryImport(LibraryName)]
    private static partial int tml_host_path_set(int path);

    /// <summary>The paths tried, in order.</summary>
    public static IReadOnlyList<string> Candidates()
    {
        var paths = new List<string>();
        string file = OperatingSystem.IsWindows() ? "tinyml_kernels.dll" : OperatingSystem.IsMacOS() ? "libtinyml_kernels.dylib" : "libtinyml_kernels.so";
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } overridden) paths.Add(overridden);
        string here = Path.GetDirectoryName(typeof(NativeKernels).Assembly.Location) ?? AppContext.BaseDirectory;
        paths.Add(Path.Combine(here, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", file));
        paths.Add(Path.Combine(here, file));
        for (var dir = new DirectoryInfo(here); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TinyML.Sdk.sln")))
            {
                paths.Add(Path.Combine(dir.FullName, "build", "native", file));
                break;
            }
        return paths;
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == LibraryName ? Handle.Value : IntPtr.Zero;

    private static IntPtr LoadAndCheck()
    {
        var tried = Candidates();
        // An explicit override that does not exist is a mistake to report, not a reason to look elsewhere.
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } overridden && !File.Exists(overridden))
            throw new TinyMLException(TinyML.DiagnosticIds.NativeLibraryNotFound, $"{PathVariable} names {overridden}, which does not exist");
        foreach (string path in tried)
        {
            if (!File.Exists(path)) continue;
            if (!NativeLibrary.TryLoad(path, out IntPtr handle)) continue;
            var version = NativeLibrary.TryGetExport(handle, "tml_abi_version", out IntPtr export)
                ? GetVersion(export)
                : -1;
            if (version != ExpectedAbiVersion)
                throw new TinyMLException(TinyML.DiagnosticIds.NativeLibraryAbiMismatch,
                    $"{path} has kernel ABI version {version}; this runtime needs version {ExpectedAbiVersion}");
            return handle;
        }
        throw new TinyMLException(TinyML.DiagnosticIds.NativeLibraryNotFound, NotFoundMessage(RuntimeInformation.RuntimeIdentifier, tried));
    }

    /// <summary>The runtime identifiers this package carries a native library for (from the build, one list).</summary>
    public static IReadOnlyList<string> PackagedRuntimeIdentifiers() =>
        (typeof(NativeKernels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "TinyMLNativeRuntimeIdentifiers")?.Value ?? "")
            .Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>What TML0100 says: the platform, the platforms the package carries, where it looked, and what to do.</summary>
    public static string NotFoundMessage(string runtimeIdentifier, IReadOnlyList<string> tried)
    {
        var packaged = PackagedRuntimeIdentifiers();
        bool carried = packaged.Contains(runtimeIdentifier);
        return $"the native kernel library for {runtimeIdentifier} was not found (tried: {string.Join(", ", tried)}). " +
            $"TinyML.Runtime carries native kernels for {(packaged.Count == 0 ? "no platform" : string.Join(", ", packaged))}" +
            (carried
                ? "; the package's runtimes folder did not reach the application: reference TinyML.Runtime (or TinyML.Sdk) from the project that runs the model, and publish with its native assets."
                : $", not for {runtimeIdentifier}: build the kernels from the TinyML.Sdk package's native/ folder with CMake and set {PathVariable} to the library (in a TinyML.Sdk source checkout, ./build.sh native builds it).");
    }

    private static unsafe int GetVersion(IntPtr export) => ((delegate* unmanaged[Cdecl]<int>)export)();

    /// <summary>Loads the library (once) and checks its ABI version; throws <see cref="TinyMLException"/>.</summary>
    public static void EnsureLoaded() => _ = Handle.Value;

    /// <summary>The ABI version of the loaded library, through the P/Invoke declaration.</summary>
    public static int AbiVersion()
    {
        EnsureLoaded();
        return tml_abi_version();
    }

    /// <summary>The SIMD path the host kernels take: the best the CPU has (AVX2, else SSE4.1 on x86-64; on arm64 NEON,
    /// with the dot-product instructions where present), chosen at first use. Every path computes the same bytes.</summary>
    public static HostKernelPath HostPath
    {
        get
        {
            EnsureLoaded();
            return (HostKernelPath)tml_host_path();
        }
    }

    /// <summary>Makes the kernels take <paramref name="path"/> from the next call on; false (nothing changed) when the
    /// CPU does not have it. For tests and benchmarks that compare the paths; not while a model runs on another thread.</summary>
    public static bool TrySetHostPath(HostKernelPath path)
    {
        EnsureLoaded();
        return tml_host_path_set((int)path) == (int)path;
    }

    /// <summary>The address of an exported kernel, or throws TML0102 when the library lacks it.</summary>
    public static IntPtr Export(string name) =>
        NativeLibrary.TryGetExport(Handle.Value, name, out IntPtr address)
            ? address
            : throw new TinyMLException(TinyML.DiagnosticIds.KernelFailed, $"the native library has no kernel {name}");
}

/// <summary>The SIMD paths of the host kernels (TML_HOST_PATH_* in tml_kernels.h).</summary>
public enum HostKernelPath
{
    /// <summary>Portable C, on every platform.</summary>
    Portable = 0,
    /// <summary>x86-64 with SSE4.1.</summary>
    Sse41 = 1,
    /// <summary>x86-64 with AVX2.</summary>
    Avx2 = 2,
    /// <summary>arm64 with NEON.</summary>
    Neon = 3,
    /// <summary>arm64 with NEON and the dot-product instructions (SDOT).</summary>
    NeonDot = 4,
}
