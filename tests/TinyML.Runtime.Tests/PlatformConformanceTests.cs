// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using TinyML.Compiler.Emit;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The kernel libraries of the other host platforms (./build.sh native: build/native-&lt;rid&gt;) on every golden model
/// and op case: each case's plan is emitted as C, all of them are linked with that platform's kernel library into one
/// conformance runner (a cross compile with Debian's GCC for the platform), and the runner executes every vector under
/// qemu-user or Wine; every output must be TFLM's golden bytes. The macOS libraries cannot run here: their compiler and
/// flags run instead as the clang-linux-x64 and clang-linux-arm64 builds, and the Mach-O files themselves are checked.
/// </summary>
public sealed class PlatformConformanceTests : IDisposable
{
    /// <summary>A kernel build that runs here (build/native-&lt;Name&gt;): its C compiler and flags, how to run its programs
    /// (nothing: natively), and whether it is Windows (whose C runtime's expf and tanhf are not the glibc that computed
    /// the float goldens).</summary>
    public sealed record Platform(string Name, string[] Compiler, string[] Runner, string ExecutableSuffix, bool Windows);

    private static readonly string[] Qemu64 = { "qemu-aarch64", "-L", "/usr/aarch64-linux-gnu" };

    public static readonly IReadOnlyList<Platform> Platforms = new[]
    {
        new Platform("linux-arm64", new[] { "aarch64-linux-gnu-gcc" }, Qemu64, "", false),
        new Platform("linux-arm", new[] { "arm-linux-gnueabihf-gcc" }, new[] { "qemu-arm", "-L", "/usr/arm-linux-gnueabihf" }, "", false),
        new Platform("win-x64", new[] { "x86_64-w64-mingw32-gcc" }, new[] { "/usr/lib/wine/wine64" }, ".exe", true),
        // The osx-x64 and osx-arm64 libraries' compiler, flags and baseline (src/TinyML.Kernels.Native/cmake/clang-*.cmake).
        new Platform("clang-linux-x64", new[] { "clang-14" }, Array.Empty<string>(), "", false),
        new Platform("clang-linux-arm64", new[] { "clang-14", "--target=aarch64-linux-gnu", "-mcpu=apple-m1" }, Qemu64, "", false),
    };

    public static TheoryData<string> Names() => new(Platforms.Select(p => p.Name));

    /// <summary>The runtime identifiers whose library TinyML.Runtime carries besides linux-x64.</summary>
    public static TheoryData<string> PackagedRids() => new("linux-arm64", "linux-arm", "win-x64", "win-arm64", "osx-x64", "osx-arm64");

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-platform-{Guid.NewGuid():N}");

    public PlatformConformanceTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// The runner's main: each line of the manifest (argv[1]) is "case output input...", and the case's function reads
    /// the inputs into its arena, invokes the model and writes the outputs. Exit 0 when every line ran.
    /// </summary>
    private static string RunnerMain(IReadOnlyList<(string Name, TinyML.Compiler.Plan.ExecutionPlan Plan)> models)
    {
        var c = new StringBuilder("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n");
        foreach (var (name, _) in models) c.Append($"#include \"{name}.h\"\n");
        c.Append('\n').Append(CEmitterHostTests.ReadExact);
        foreach (var (name, plan) in models) c.Append(CEmitterHostTests.RunFunction(name, plan));
        c.Append("int main(int argc, char **argv) {\n    char line[8192];\n    int failures = 0;\n    FILE *manifest;\n");
        c.Append("    if (argc != 2 || !(manifest = fopen(argv[1], \"r\"))) return 2;\n");
        c.Append("    while (fgets(line, sizeof line, manifest)) {\n        char *words[16];\n        int count = 0, status = -1;\n");
        c.Append("        for (char *w = strtok(line, \" \\r\\n\"); w && count < 16; w = strtok(NULL, \" \\r\\n\")) words[count++] = w;\n");
        c.Append("        if (count < 2) continue;\n");
        foreach (var (name, _) in models)
            c.Append($"        if (strcmp(words[0], \"{name}\") == 0) status = run_{name}(count - 2, words + 2, words[1]);\n");
        c.Append("        if (status != 0) { printf(\"%s: status %d\\n\", words[0], status); failures++; }\n    }\n");
        c.Append("    fclose(manifest);\n    return failures == 0 ? 0 : 1;\n}\n");
        return c.ToString();
    }

    /// <summary>Emits every plan as C into <paramref name="dir"/> and compiles them with <see cref="RunnerMain"/> and
    /// the kernel library into one runner (argv[1]: the manifest); returns its path.</summary>
    internal static string BuildRunner(string[] compiler, string library, IReadOnlyList<(string Name, TinyML.Compiler.Plan.ExecutionPlan Plan)> models, string dir, string suffix = "")
    {
        var sources = new List<string>();
        foreach (var (name, plan) in models)
        {
            var source = CEmitter.Emit(plan, name);
            File.WriteAllText(Path.Combine(dir, source.HeaderName), source.Header);
            File.WriteAllText(Path.Combine(dir, source.SourceName), source.Source);
            sources.Add(Path.Combine(dir, source.SourceName));
        }
        File.WriteAllText(Path.Combine(dir, "main.c"), RunnerMain(models));
        string runner = Path.Combine(dir, "runner" + suffix);
        var compile = CEmitterHostTests.Run(compiler[0], compiler.Skip(1).Concat(new[] { "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
            "-I", Path.Combine(SharedData.Repo, "src", "TinyML.Kernels.Native", "include"), "-I", dir }
            .Concat(sources).Concat(new[] { Path.Combine(dir, "main.c"), library, "-lm", "-o", runner })).ToArray());
        Assert.True(compile.Code == 0, compile.Output);
        return runner;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void KernelLibrary_GivesTheGolden_OnEveryModelAndOpCase(string name)
    {
        var platform = Platforms.Single(p => p.Name == name);
        string library = Path.Combine(SharedData.Repo, "build", $"native-{name}", "libtinyml_kernels.a");
        Assert.True(File.Exists(library), $"{library} is missing: ./build.sh native builds it");
        var cases = GoldenCase.Supported().ToList();
        var models = cases.Select((gc, i) => (Name: $"case{i}", Plan: (TinyML.Compiler.Plan.ExecutionPlan)ConformanceTests.Lower(gc))).ToList();
        string runner = BuildRunner(platform.Compiler, library, models, _dir, platform.ExecutableSuffix);

        // Wine sees this file system as drive Z:.
        string Native(string path) => platform.Windows ? "Z:" + path.Replace('/', '\\') : path;
        var manifest = new StringBuilder();
        var expected = new List<(int Case, string Output, string Golden)>();
        for (int i = 0; i < cases.Count; i++)
            foreach (int k in cases[i].Vectors())
            {
                string output = Path.Combine(_dir, $"out{i}_{k}.bin");
                manifest.Append($"case{i} {Native(output)} {string.Join(" ", cases[i].Inputs(k).Select(Native))}\n");
                expected.Add((i, output, cases[i].Output(k)));
            }
        Assert.DoesNotContain(' ', _dir + SharedData.Root);
        File.WriteAllText(Path.Combine(_dir, "manifest.txt"), manifest.ToString());
        var environment = new Dictionary<string, string>
        {
            ["WINEDEBUG"] = "-all",
            ["WINEPREFIX"] = Path.Combine(SharedData.Repo, "build", "native-win-x64", "wine"),
        };
        var command = platform.Runner.Concat(new[] { runner, Native(Path.Combine(_dir, "manifest.txt")) }).ToArray();
        var run = CEmitterHostTests.Run(command[0], command[1..], environment);
        Assert.True(run.Code == 0, $"runner exit {run.Code}: {run.Output}");
        var wrong = expected.Where(e => !File.Exists(e.Output) || !Matches(models[e.Case].Plan, File.ReadAllBytes(e.Golden), File.ReadAllBytes(e.Output), platform))
            .Select(e => $"{cases[e.Case].Name} ({Path.GetFileName(e.Golden)})").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {expected.Count} outputs differ from the golden on {name}: {string.Join(", ", wrong)}");
        Assert.True(expected.Count > 200, $"{expected.Count} vectors");
    }

    /// <summary>
    /// The library the runtime package carries for the platform is built for its architecture and exports every
    /// function of tml_kernels.h (KernelAbi) and nothing else, as the linux-x64 library does.
    /// </summary>
    [Theory]
    [MemberData(nameof(PackagedRids))]
    public void PackagedLibrary_IsForThePlatform_AndExportsExactlyTheAbi(string rid)
    {
        bool windows = rid.StartsWith("win", StringComparison.Ordinal), mac = rid.StartsWith("osx", StringComparison.Ordinal);
        string packaged = Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native",
            windows ? "tinyml_kernels.dll" : mac ? "libtinyml_kernels.dylib" : "libtinyml_kernels.so");
        Assert.True(File.Exists(packaged), $"{packaged} is missing: TinyML.Runtime packs build/native-{rid}");
        IEnumerable<string> exports;
        if (mac)
        {
            exports = MachO.CheckDylib(packaged, rid == "osx-arm64");
        }
        else if (rid == "win-arm64")
        {
            exports = CheckWindowsArm64Dll(packaged);
        }
        else if (windows)
        {
            var dump = CEmitterHostTests.Run("x86_64-w64-mingw32-objdump", "-p", packaged);
            Assert.True(dump.Code == 0, dump.Output);
            Assert.Contains("file format pei-x86-64", dump.Output);
            // The export names: "[   0] tml_abi_version" lines under "[Ordinal/Name Pointer] Table", up to a blank line.
            exports = dump.Output.Split('\n').SkipWhile(l => !l.Contains("[Ordinal/Name Pointer] Table")).Skip(1)
                .Select(l => l.Trim()).TakeWhile(l => l.Length > 0).Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..]);
        }
        else
        {
            var header = CEmitterHostTests.Run("readelf", "-h", packaged);
            Assert.Contains(rid == "linux-arm64" ? "AArch64" : "ARM", header.Output);
            if (rid == "linux-arm") Assert.Contains("hard-float ABI", header.Output);
            var symbols = CEmitterHostTests.Run("readelf", "--dyn-syms", "-W", packaged);
            Assert.True(symbols.Code == 0, symbols.Output);
            // Defined global functions: "num: value size FUNC GLOBAL DEFAULT ndx name".
            exports = symbols.Output.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 8 && f[3] == "FUNC" && f[4] == "GLOBAL" && f[6] != "UND").Select(f => f[7].Split('@')[0]);
        }
        var abi = TinyML.Compiler.Plan.KernelAbi.Prototypes.Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(abi, exports.Distinct().OrderBy(n => n, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// The win-arm64 DLL links no C runtime (cmake/win-arm64.cmake), so what a loader needs is checked here: an ARM64
    /// DLL whose entry point is our DllMainCRTStartup, importing only C functions from ucrtbase.dll and
    /// IsProcessorFeaturePresent from kernel32.dll. Returns its exported names.
    /// </summary>
    private static IEnumerable<string> CheckWindowsArm64Dll(string path)
    {
        var headers = CEmitterHostTests.Run("llvm-readobj", "--file-headers", path);
        Assert.True(headers.Code == 0, headers.Output);
        Assert.Contains("Machine: IMAGE_FILE_MACHINE_ARM64 (0xAA64)", headers.Output);
        Assert.Contains("IMAGE_FILE_DLL", headers.Output);
        string entry = headers.Output.Split('\n').Single(l => l.Trim().StartsWith("AddressOfEntryPoint:", StringComparison.Ordinal)).Split(':')[1].Trim();
        string imageBase = headers.Output.Split('\n').Single(l => l.Trim().StartsWith("ImageBase:", StringComparison.Ordinal)).Split(':')[1].Trim();
        var symbols = CEmitterHostTests.Run("llvm-nm", path);
        long entryAddress = Convert.ToInt64(imageBase, 16) + Convert.ToInt64(entry, 16);
        string startup = symbols.Output.Split('\n').Single(l => l.EndsWith(" T DllMainCRTStartup", StringComparison.Ordinal));
        Assert.Equal(entryAddress, Convert.ToInt64(startup.Split(' ')[0], 16));

        var imports = CEmitterHostTests.Run("llvm-readobj", "--coff-imports", path);
        Assert.True(imports.Code == 0, imports.Output);
        var byDll = new Dictionary<string, List<string>>();
        string? dll = null;
        foreach (string line in imports.Output.Split('\n').Select(l => l.Trim()))
        {
            if (line.StartsWith("Name: ", StringComparison.Ordinal)) byDll[dll = line[6..]] = new List<string>();
            else if (line.StartsWith("Symbol: ", StringComparison.Ordinal)) byDll[dll!].Add(line[8..].Split(' ')[0]);
        }
        Assert.Equal(new[] { "kernel32.dll", "ucrtbase.dll" }, byDll.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(new[] { "IsProcessorFeaturePresent" }, byDll["kernel32.dll"]);
        Assert.Subset(new HashSet<string> { "expf", "expm1f", "logf", "memcpy", "memmove", "memset", "roundf", "tanhf" }, byDll["ucrtbase.dll"].ToHashSet());

        var exports = CEmitterHostTests.Run("llvm-readobj", "--coff-exports", path);
        Assert.True(exports.Code == 0, exports.Output);
        return exports.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("Name: ", StringComparison.Ordinal) && l.Length > 6).Select(l => l[6..]);
    }

    /// <summary>
    /// Byte-identical, except that on Windows the float outputs of a plan calling expf or tanhf may differ within
    /// <see cref="FloatTolerance"/>: the Windows C runtime's functions are not glibc's (docs/platforms.md).
    /// </summary>
    private static bool Matches(TinyML.Compiler.Plan.ExecutionPlan plan, byte[] golden, byte[] ours, Platform platform)
    {
        if (golden.AsSpan().SequenceEqual(ours)) return true;
        if (!platform.Windows || golden.Length != ours.Length || !plan.Calls.Any(c => FloatTolerance.LibmKernels.Contains(c.Kernel))) return false;
        int at = 0;
        foreach (var output in plan.Outputs)
        {
            var (a, b) = (golden.AsSpan(at, (int)output.Bytes).ToArray(), ours.AsSpan(at, (int)output.Bytes).ToArray());
            at += (int)output.Bytes;
            bool same = output.Type == TinyML.Compiler.Ir.DataType.Float32 ? FloatTolerance.MaxUlps(a, b) <= FloatTolerance.Ulps(plan) : a.SequenceEqual(b);
            if (!same) return false;
        }
        return true;
    }
}
