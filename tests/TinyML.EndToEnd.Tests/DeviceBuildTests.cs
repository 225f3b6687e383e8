// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>Real dotnet builds with TinyMLTarget: the cross compile through the packed SDK's bundled tinyml command.</summary>
[Collection(nameof(PackedSdk))]
public sealed class DeviceBuildTests
{
    private readonly PackedSdk _sdk;

    public DeviceBuildTests(PackedSdk sdk) => _sdk = sdk;

    private string Project(string name, string properties, string modelMetadata = "")
    {
        string dir = _sdk.NewProject(name);
        File.Copy(SharedData.Model("kws"), Path.Combine(dir, "kws.tflite"));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), "System.Console.WriteLine(App.Kws.ArenaBytes);\n");
        PackedSdk.WriteProject(dir, $"    <TinyModel Include=\"kws.tflite\" {modelMetadata}/>\n", $"    {properties}\n");
        return dir;
    }

    private (int ExitCode, string Output) Build(string dir, IReadOnlyDictionary<string, string>? environment = null, params string[] extra) =>
        _sdk.Dotnet(dir, environment, new[] { "build", "App.csproj", "--nologo", "-v:n" }.Concat(extra).ToArray());

    private static (int ExitCode, string Output) Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    [Fact]
    public void TargetCortexM4_WritesALibraryAFirmwareLinks_AndASecondBuildDoesNotCrossCompileAgain()
    {
        string dir = Project("device-m4", "<TinyMLTarget>cortex-m4</TinyMLTarget>", "RamBudget=\"64KB\" ");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        // The device build compiles the plan the build made (the one the app embeds), not the .tflite again.
        Assert.Matches(new Regex(@"tinyml\.dll compile \S*" + Regex.Escape(Path.Combine("obj", "Debug", "net10.0", "tinyml", "kws.tmlmodel")) + " --target cortex-m4 "), build.Output);
        Assert.DoesNotMatch(new Regex(@"tinyml\.dll compile \S*kws\.tflite"), build.Output);
        Assert.Matches(new Regex(@"TinyML: kws\.tflite -> App\.Kws: RAM 16,000 B .*; on cortex-m4 from the ELF: RAM [\d,]+ B, flash [\d,]+ B"), build.Output);
        string package = Path.Combine(dir, "bin", "Debug", "net10.0", "tinyml", "cortex-m4");
        foreach (string file in new[] { "kws.c", "kws.h", "libkws.a", "libtinyml_kernels.a", "tml_kernels.h", "kws.cmake", "kws.mk" })
            Assert.True(File.Exists(Path.Combine(package, file)), file);
        Assert.Contains("add_library(tinyml::kws STATIC IMPORTED)", File.ReadAllText(Path.Combine(package, "kws.cmake")));
        Assert.Contains("TINYML_KWS_LIBS", File.ReadAllText(Path.Combine(package, "kws.mk")));

        // A firmware of its own links the library: main calls the model, newlib's start-up, --gc-sections.
        string main = Path.Combine(dir, "main.c");
        File.WriteAllText(main, "#include \"kws.h\"\nint main(void) { return (int)kws_invoke(kws_arena()); }\n");
        string elf = Path.Combine(dir, "firmware.elf");
        var link = Run("arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb", "-Wall", "-Werror", "-I", package, main,
            Path.Combine(package, "libkws.a"), Path.Combine(package, "libtinyml_kernels.a"), "-lm", "--specs=nosys.specs", "-Wl,--gc-sections", "-o", elf);
        Assert.True(link.ExitCode == 0, link.Output);
        var nm = Run("arm-none-eabi-nm", elf);
        Assert.Contains(" T kws_invoke", nm.Output);
        Assert.Contains(" T tml_depthwise_conv_s8", nm.Output);

        // Nothing changed: no cross compile, the library keeps its timestamp.
        var library = Path.Combine(package, "libkws.a");
        var stamp = File.GetLastWriteTimeUtc(library);
        var second = Build(dir);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("Skipping target \"_TinyMLCompileModelsCore\"", second.Output);
        Assert.DoesNotContain("tinyml.dll compile", second.Output);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(library));

        // -Os through a global property: the settings changed, so it compiles again, with --size.
        var size = Build(dir, null, "-p:TinyMLOptimizeFor=size");
        Assert.True(size.ExitCode == 0, size.Output);
        Assert.Matches(new Regex(@"tinyml\.dll compile .* --json --progress --label kws\.tflite --size"), size.Output);
    }

    /// <summary>
    /// Where real projects live: a folder with spaces, accents, an apostrophe and parentheses, more than 260 characters
    /// deep (Windows' old MAX_PATH), and a model named with a space, included with a Windows backslash. The host build,
    /// the cross compile (every gcc and ar call gets those paths) and the app's run all work there.
    /// </summary>
    [Fact]
    public void AProjectInADeepFolderWithSpacesAndAccents_BuildsForTheDevice_AndRunsTheModel()
    {
        string root = _sdk.NewProject("paths");
        string dir = Path.Combine(new[] { root, "My Projects", "Zoë's app (v2)" }.Concat(Enumerable.Range(0, 12).Select(i => $"nested folder {i:D2}")).ToArray());
        Directory.CreateDirectory(Path.Combine(dir, "models"));
        Assert.True(Path.Combine(dir, "obj").Length > 260, $"{dir.Length} characters");
        File.Copy(SharedData.Model("kws"), Path.Combine(dir, "models", "kws model.tflite"));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using var kws = new App.KwsModel();
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(System.IO.File.ReadAllBytes(args[0])).CopyTo(kws.Input);
            kws.Run();
            System.IO.File.WriteAllBytes(args[1], System.Runtime.InteropServices.MemoryMarshal.AsBytes(kws.Output).ToArray());
            """);
        PackedSdk.WriteProject(dir, "    <TinyModel Include=\"models\\kws model.tflite\" />\n", "    <TinyMLTarget>cortex-m4</TinyMLTarget>\n");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("TinyML: kws model.tflite -> App.KwsModel: RAM 16,000 B", build.Output);
        string package = Path.Combine(dir, "bin", "Debug", "net10.0", "tinyml", "cortex-m4");
        foreach (string file in new[] { "kws_model.c", "kws_model.h", "libkws_model.a", "libtinyml_kernels.a" })
            Assert.True(File.Exists(Path.Combine(package, file)), file);

        string golden = Path.Combine(SharedData.Root, "golden", "kws"), output = Path.Combine(dir, "out put.bin");
        var run = _sdk.Dotnet(dir, Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll"), Path.Combine(golden, "input_1.bin"), output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(golden, "output_1.bin")), File.ReadAllBytes(output));
    }

    [Fact]
    public void BudgetFromTheElf_FailsWithTML3001_WhereTheHostEstimateFits()
    {
        // Patches take kws's arena to 13,936 bytes at the least, so the host estimate fits 14,072; the ELF adds static
        // data and the stack, which no plan can make room for (planning again within what is left gains nothing).
        string dir = Project("device-budget", "<TinyMLTarget>cortex-m4</TinyMLTarget>", "RamBudget=\"14072\" ");
        var build = Build(dir);
        Assert.NotEqual(0, build.ExitCode);
        var error = new Regex(Regex.Escape(Path.Combine(dir, "App.csproj")) +
            @"\(\d+\): error TML3001: kws\.tflite needs (?<need>[\d,]+) bytes \([\d.]+ KB\) of RAM on cortex-m4 \(measured from the ELF: static data [\d,]+ \(arena 13,936, state 0\) \+ invoke stack (?<stack>[\d,]+)\)").Match(build.Output);
        Assert.True(error.Success, build.Output);
        long need = long.Parse(error.Groups["need"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(need > 14072, $"{need}");
        Assert.True(long.Parse(error.Groups["stack"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) > 0);
        // The report of the cross compile says the same.
        string report = File.ReadAllText(Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml", "cortex-m4", "kws.compile.json"));
        Assert.Contains($"\"ram_bytes\": {need}", report);

        // The same budget without a target checks the host estimate and passes.
        var host = Build(dir, null, "-p:TinyMLTarget=");
        Assert.True(host.ExitCode == 0, host.Output);
    }

    [Fact]
    public void ABudgetThatOnlyTheHostPlanFits_IsMetOnTheDevice_AndTheAppEmbedsThePlanTheLibraryWasBuiltFrom()
    {
        // ic_resnet's layer-by-layer arena for the M4 (49,440 B: 49,152 B of tensors, 288 B of the two im2col rows of
        // its 3x3x16 convolutions) fits 49,876 B, not with the device's static data and stack (50,016 B); the build
        // plans again within what is left and compiles that plan, which the app embeds.
        string dir = _sdk.NewProject("device-replan");
        File.Copy(SharedData.Model("ic_resnet"), Path.Combine(dir, "ic_resnet.tflite"));
        // The app lists its embedded plan's kernel calls, each with its arena and state pointers (read with the
        // packed TinyML.Plan, as an app reads it).
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using System;
            using System.Linq;
            using TinyML.Compiler.Plan;
            var stream = typeof(App.IcResnet).Assembly.GetManifestResourceStream("App.ic_resnet.tmlmodel")!;
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            var plan = PlanContainer.Read(bytes).Value!;
            Console.WriteLine($"arena {App.IcResnet.ArenaBytes} {plan.ArenaBytes} state {plan.StateBytes} target {plan.Target} macs {App.IcResnet.Macs} {plan.Macs}");
            foreach (var call in plan.Calls)
            {
                var pointers = call.Args.SelectMany(a => new[] { a.Pointer }.Concat(a.Fields.Where(f => f.Type == FieldType.Pointer).Select(f => f.Pointer)).Concat(a.Pointers))
                    .Where(p => p.Region is Region.Arena or Region.State).Select(p => $"{p.Region.ToString().ToLowerInvariant()}+{p.Offset}").OrderBy(p => p, StringComparer.Ordinal);
                Console.WriteLine($"call {call.Kernel} {string.Join(" ", pointers)}".TrimEnd());
            }
            """);
        PackedSdk.WriteProject(dir, "    <TinyModel Include=\"ic_resnet.tflite\" RamBudget=\"49876\" TargetCore=\"cortex-m4\" />\n");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("is over the budget: planning the memory again within", build.Output);
        Assert.Contains("to leave room for the device's static data and stack", build.Output);
        var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml", "cortex-m4", "ic_resnet.compile.json"))).RootElement;
        Assert.True(report.GetProperty("ram_bytes").GetInt64() <= 49876);
        var run = _sdk.Dotnet(dir, Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll"));
        Assert.True(run.ExitCode == 0, run.Output);
        long arena = report.GetProperty("arena_bytes").GetInt64();
        Assert.Contains($"arena {arena} {arena} state {report.GetProperty("state_bytes").GetInt64()} target cortex-m4", run.Output);
        var appCalls = run.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("call ", StringComparison.Ordinal)).ToList();

        // The C the device library was compiled from: each kernel call with the arena and state pointers of its
        // arguments (in the call, its parameter structs and its pointer arrays).
        string c = File.ReadAllText(Path.Combine(dir, "bin", "Debug", "net10.0", "tinyml", "cortex-m4", "ic_resnet.c"));
        string invoke = c.Substring(c.IndexOf("int32_t ic_resnet_invoke(uint8_t *arena)", StringComparison.Ordinal));
        var deviceCalls = new List<string>();
        foreach (string chunk in invoke.Split("if (status != 0) return status;"))
        {
            var kernel = Regex.Match(chunk, @"status = (tml_\w+)\(");
            if (!kernel.Success) continue;
            var pointers = Regex.Matches(chunk, @"\((arena|ic_resnet_state) \+ (\d+)\)")
                .Select(m => $"{(m.Groups[1].Value == "arena" ? "arena" : "state")}+{m.Groups[2].Value}").OrderBy(p => p, StringComparer.Ordinal);
            deviceCalls.Add($"call {kernel.Groups[1].Value} {string.Join(" ", pointers)}".TrimEnd());
        }
        Assert.True(deviceCalls.Count > 10, $"{deviceCalls.Count} calls in ic_resnet.c");
        Assert.Equal(deviceCalls, appCalls);
        Assert.Contains($"#define IC_RESNET_ARENA_BYTES {arena}\n", File.ReadAllText(Path.Combine(dir, "bin", "Debug", "net10.0", "tinyml", "cortex-m4", "ic_resnet.h")));
    }

    [Fact]
    public void MissingToolchain_IsTML0005WithTheInstallCommand_AndAHostOnlyBuildNeedsNoToolchain()
    {
        // PATH holds only the dotnet host's folder, which has no arm-none-eabi-gcc.
        string dotnetDir = Path.GetDirectoryName(new FileInfo(Run("which", "dotnet").Output.Trim()).ResolveLinkTarget(returnFinalTarget: true)?.FullName
            ?? Run("which", "dotnet").Output.Trim())!;
        Assert.False(File.Exists(Path.Combine(dotnetDir, "arm-none-eabi-gcc")));
        var env = new Dictionary<string, string> { ["PATH"] = dotnetDir };

        string dir = Project("device-no-toolchain", "<TinyMLTarget>cortex-m4</TinyMLTarget>");
        var build = Build(dir, env);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains(Path.Combine(dir, "App.csproj") + " : error TML0005: arm-none-eabi-gcc was not found on PATH", build.Output);
        Assert.Contains("sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi", build.Output);

        var host = Build(dir, env, "-p:TinyMLTarget=");
        Assert.True(host.ExitCode == 0, host.Output);
        Assert.DoesNotContain("tinyml.dll compile", host.Output);
    }
}
