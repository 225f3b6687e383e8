// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// The seam per-core kernels plug into (docs/kernels.md, "Per-core paths"): tml_arch.h says what each core can do,
/// its shims equal their portable twins on the core, the reference library links beside the real one on the
/// device, and every consumer of the kernel sources sees every .c below src/, subfolders included.
/// </summary>
public sealed class KernelSeamTests(ITestOutputHelper log)
{
    private static readonly string Native = Path.Combine(SharedData.Repo, "src", "TinyML.Kernels.Native");
    private static readonly string NativeTests = Path.Combine(Native, "tests");

    /// <summary>Per core: architecture version, DSP, MVE, and the path a default build takes (the scalar fast paths
    /// where there is no DSP).</summary>
    public static TheoryData<string, int, int, int, string> Capabilities() => new()
    {
        { "cortex-m0plus", 6, 0, 0, "portable" },
        { "cortex-m3", 7, 0, 0, "portable" },
        { "cortex-m4", 7, 1, 0, "dsp" },
        { "cortex-m7", 7, 1, 0, "dsp" },
        { "cortex-m33", 8, 1, 0, "dsp" },
        { "cortex-m55", 8, 1, 1, "mve" },
    };

    [Theory]
    [MemberData(nameof(Capabilities))]
    public void ArchHeader_ReportsEachCoresCapabilities_AndTheOverrideForcesThePortablePath(string core, int arch, int dsp, int mve, string path)
    {
        var flags = CortexM.Get(core).GccFlags;
        int unaligned = arch >= 7 ? 1 : 0; // Armv6-M has no unaligned access
        Assert.Equal($"cortex_m=1 arch={arch} dsp={dsp} mve={mve} unaligned={unaligned} use_dsp={dsp} use_mve={mve} scalar={1 - dsp} path=\"{path}\"", Probe(flags));
        Assert.Equal($"cortex_m=1 arch={arch} dsp={dsp} mve={mve} unaligned={unaligned} use_dsp=0 use_mve=0 scalar=0 path=\"portable\"",
            Probe(flags.Append("-DTML_FORCE_PORTABLE=1")));
    }

    /// <summary>The core table the host library sizes scratch by (TML_CORE_USES_DSP) says what each core's own build
    /// does, and a DSP build's plain _get_buffer_size answers for a DSP core (TML_SCRATCH_CORE).</summary>
    [Theory]
    [MemberData(nameof(Cores))]
    public void CoreTable_SaysWhichCoresTakeTheDspPaths(string core)
    {
        int id = TinyML.Compiler.Plan.KernelAbi.CoreId(core)!.Value;
        string source = "#include \"tml_kernels.h\"\n#include \"tml_arch.h\"\n" +
            $"#if TML_CORE_USES_DSP({id}) == TML_USE_DSP && TML_CORE_USES_DSP(TML_SCRATCH_CORE) == TML_USE_DSP\nTML_PROBE agrees\n#else\nTML_PROBE differs\n#endif\n";
        Assert.Equal("agrees", Probe(CortexM.Get(core).GccFlags, source));
    }

    private static string Probe(IEnumerable<string> flags, string? source = null)
    {
        string dir = Directory.CreateTempSubdirectory("tml-arch-probe-").FullName;
        try
        {
            string probe = Path.Combine(dir, "probe.c");
            File.WriteAllText(probe, source ?? "#include \"tml_arch.h\"\nTML_PROBE cortex_m=TML_ARCH_CORTEX_M arch=TML_ARCH_ARM dsp=TML_ARCH_HAS_DSP " +
                "mve=TML_ARCH_HAS_MVE unaligned=TML_ARCH_UNALIGNED_WORDS use_dsp=TML_USE_DSP use_mve=TML_USE_MVE scalar=TML_USE_SCALAR_FAST path=TML_PATH_NAME\n");
            var result = ToolProcess.Run(ArmToolchain.Locate().Gcc, flags.Concat(new[] { "-E", "-P", "-I", Path.Combine(Native, "src"), "-I", Path.Combine(Native, "include"), probe }));
            Assert.True(result.ExitCode == 0, result.Output);
            string line = result.StandardOutput.Split('\n').Single(l => l.StartsWith("TML_PROBE ", StringComparison.Ordinal));
            return line.Substring("TML_PROBE ".Length).Trim();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string> Cores() => new(CortexM.Cores.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cores))]
    public void ArchShims_EqualTheirPortableTwins_OnTheCore(string core)
    {
        var c = CortexM.Get(core);
        var image = DeviceBuild.BuildTestProgram(Device.Options(c, "arch"), "arch",
            new[] { Path.Combine(NativeTests, "device", "arch_main.c") }, new[] { NativeTests }, withReference: false);
        var (exit, output) = RunProgram(image);
        Assert.True(exit == 0, output);
        string expected = c.Name switch { "cortex-m55" => "mve", "cortex-m0plus" or "cortex-m3" => "portable", _ => "dsp" };
        Assert.Contains($"tml_arch path={expected} comparisons=", output);
        Assert.Contains(" mismatches=0 ", output);
        Assert.Matches(@" requant_comparisons=\d{6,} requant_mismatches=0\b", output);
    }

    /// <summary>The differential harness on the device, against the reference archive compiled for the same core:
    /// on the DSP cores (M4, M7, M33: the int8 conv and fully connected fast paths), an MVE core (M55, which takes
    /// the DSP paths too) and a core with neither (M0+).</summary>
    [Theory]
    [InlineData("cortex-m4", "dsp")]
    [InlineData("cortex-m7", "dsp")]
    [InlineData("cortex-m33", "dsp")]
    [InlineData("cortex-m55", "mve")]
    [InlineData("cortex-m0plus", "portable")]
    public void ReferenceHarness_FastPathEqualsTheReference_OnTheCore(string core, string path)
    {
        var image = DeviceBuild.BuildTestProgram(Device.Options(CortexM.Get(core), "refdiff"), "ref_diff",
            new[] { Path.Combine(NativeTests, "device", "ref_diff_main.c") }, new[] { NativeTests }, withReference: true);
        Assert.True(image.HasSymbol("tml_conv_s8") && image.HasSymbol("tml_ref_conv_s8"), "both libraries are linked");
        var (exit, output) = RunProgram(image);
        Assert.True(exit == 0, output);
        Assert.Contains($"ref_diff path={path} reference=portable cases=", output);
        Assert.Contains(" mismatches=0 selftest=ok", output);
    }

    private (int Exit, string Output) RunProgram(DeviceImage image)
    {
        var result = ToolProcess.Run(Device.Runner.QemuPath, new[]
        {
            "-M", image.Core.QemuMachine, "-nographic", "-semihosting-config", "enable=on,target=native", "-icount", "shift=0", "-kernel", image.ElfPath,
        }, image.Directory, TimeSpan.FromMinutes(2));
        Assert.False(result.TimedOut, $"{image.ModelName} on {image.Core.Name} did not finish");
        log.WriteLine($"{image.Core.Name}: {result.Output}");
        return (result.ExitCode, result.Output);
    }

    // ---- one recursive source list -----------------------------------------------------------------------------

    [Fact]
    public void KernelSources_AreEveryCFileBelowSrc_AndEveryConsumerSeesTheSameSet()
    {
        var checkout = NativeSources.Locate(Native);
        var list = checkout.KernelSources();
        Assert.Contains("conv.c", list);
        Assert.Equal(Directory.GetFiles(checkout.Kernels, "*.c", SearchOption.AllDirectories).Length, list.Count);

        // CMake: the list it compiled (written at configure time by ./build.sh native).
        string cmakeList = Path.Combine(SharedData.Repo, "build", "native", "tml_kernel_sources.txt");
        Assert.True(File.Exists(cmakeList), $"{cmakeList} is missing: run ./build.sh native");
        Assert.Equal(list, File.ReadAllLines(cmakeList).Where(l => l.Length > 0).ToList());

        // The Device project's copy beside the assembly (what a device build without a checkout compiles): every
        // .c and .h below src/.
        var beside = NativeSources.Locate(Path.Combine(AppContext.BaseDirectory, "native"));
        Assert.Equal(list, beside.KernelSources());
        Assert.Equal(NativeSources.Files(checkout.Kernels, "*.h"), NativeSources.Files(beside.Kernels, "*.h"));

        // The rules themselves, so that a source added in a new subfolder reaches every consumer.
        string cmake = File.ReadAllText(Path.Combine(Native, "CMakeLists.txt"));
        Assert.Contains("file(GLOB_RECURSE TML_SOURCES CONFIGURE_DEPENDS \"${CMAKE_CURRENT_SOURCE_DIR}/src/*.c\")", cmake);
        var csproj = XDocument.Load(Path.Combine(SharedData.Repo, "src", "TinyML.Device", "TinyML.Device.csproj"));
        Assert.Contains(csproj.Descendants("None"), n => (string?)n.Attribute("Include") == @"..\TinyML.Kernels.Native\src\**\*.c;..\TinyML.Kernels.Native\src\**\*.h"
            && (string?)n.Attribute("LinkBase") == @"native\src");
        var nuspec = XDocument.Load(Path.Combine(SharedData.Repo, "src", "TinyML.Sdk", "TinyML.Sdk.nuspec"));
        var files = nuspec.Descendants().Where(e => e.Name.LocalName == "file").ToList();
        Assert.Contains(files, f => (string?)f.Attribute("src") == "../TinyML.Kernels.Native/src/**" && (string?)f.Attribute("target") == "native/src");
        Assert.Contains(files, f => (string?)f.Attribute("src") == "$cliDir$native/**");
    }

    [Fact]
    public void KernelInASubfolder_ChangesTheCacheKey_AndIsCompiledAndLinked()
    {
        string root = Directory.CreateTempSubdirectory("tml-seam-sources-").FullName;
        try
        {
            // A small but complete copy: the runtime, the headers and one top-level kernel (compiling all of them
            // would only cost time).
            foreach (string folder in new[] { "include", "device" })
                Copy(Path.Combine(Native, folder), Path.Combine(root, folder));
            Directory.CreateDirectory(Path.Combine(root, "src"));
            foreach (string file in Directory.GetFiles(Path.Combine(Native, "src"), "*.h").Select(f => Path.GetFileName(f)!).Append("conv.c"))
                File.Copy(Path.Combine(Native, "src", file), Path.Combine(root, "src", file));
            var sources = NativeSources.Locate(root);
            var toolchain = ArmToolchain.Locate();
            var flags = new[] { "-mcpu=cortex-m4" };
            string before = DeviceBuild.CacheKey(toolchain, sources, flags);

            string subfolder = Path.Combine(root, "src", "arm", "dsp");
            Directory.CreateDirectory(subfolder);
            string kernel = Path.Combine(subfolder, "conv.c"); // the same file name as src/conv.c, on purpose
            File.WriteAllText(kernel, "#include \"tml_arch.h\"\nint tml_seam_probe(void);\nint tml_seam_probe(void) { return TML_USE_DSP ? 42 : 7; }\n");
            string added = DeviceBuild.CacheKey(toolchain, sources, flags);
            Assert.NotEqual(before, added);
            Assert.Contains("arm/dsp/conv.c", sources.KernelSources());
            File.AppendAllText(kernel, "/* edited */\n");
            Assert.NotEqual(added, DeviceBuild.CacheKey(toolchain, sources, flags));

            string main = Path.Combine(root, "probe_main.c");
            File.WriteAllText(main, "int tml_seam_probe(void);\nint main(void);\nint main(void) { return tml_seam_probe() == 42 ? 0 : 1; }\n");
            var options = Device.Options(CortexM.M4, "subfolder") with { NativeSourceDirectory = root, CacheDirectory = Path.Combine(root, "cache") };
            var image = DeviceBuild.BuildTestProgram(options, "probe", new[] { main }, Array.Empty<string>(), withReference: false);
            Assert.True(image.HasSymbol("tml_seam_probe"));
            var objects = Directory.GetFiles(options.CacheDirectory!, "*.o", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
            Assert.Contains("conv.o", objects);
            Assert.Contains("arm__dsp__conv.o", objects); // src/conv.c and src/arm/dsp/conv.c stay apart in the archive
            var (exit, output) = RunProgram(image);
            Assert.True(exit == 0, output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Copy(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
