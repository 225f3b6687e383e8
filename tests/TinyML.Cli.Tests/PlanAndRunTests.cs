// SPDX-License-Identifier: Apache-2.0
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

public class PlanAndRunTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    public static TheoryData<string> RunnableModels() => new(GoldenCase.RunnableModelNames());

    [Theory]
    [MemberData(nameof(RunnableModels))]
    public void Plan_ReachesTheLowerBound_AndHasTheDocumentedFields(string name)
    {
        var (code, output, error) = Run("plan", SharedData.Model(name), "--json");
        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("tinyml.plan/1", root.GetProperty("schema").GetString());
        long arena = root.GetProperty("arena_bytes").GetInt64();
        Assert.Equal(root.GetProperty("lower_bound_bytes").GetInt64(), arena);
        // The model's constant tensors, as ../shared counts them (simple_add has none).
        var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "golden", name, "info.json"))).RootElement;
        Assert.Equal(info.GetProperty("weights_bytes").GetInt64(), root.GetProperty("weights_bytes").GetInt64());
        Assert.True(root.GetProperty("scratch_bytes").GetInt64() >= 0);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("peak_op").GetProperty("type").GetString()));
        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.NotEmpty(tensors);
        foreach (var t in tensors)
        {
            long offset = t.GetProperty("offset").GetInt64(), bytes = t.GetProperty("bytes").GetInt64();
            Assert.True(offset % 16 == 0 && offset + bytes <= arena, $"{t.GetProperty("name").GetString()} at {offset}+{bytes}");
            Assert.True(t.GetProperty("first_op").GetInt32() <= t.GetProperty("last_op").GetInt32());
        }
    }

    [Fact]
    public void Plan_Table_ShowsTheProfile()
    {
        var (code, output, _) = Run("plan", SharedData.Model("kws"));
        Assert.Equal(0, code);
        Assert.Contains("arena 16,000 B, lower bound 16,000 B (reached)", output);
        Assert.Contains("DEPTHWISE_CONV_2D", output);
        Assert.Contains("|########################################|", output);
    }

    [Fact]
    public void Plan_ForATarget_ReservesTheConvScratch_AndAnUnknownTargetIsTML0004()
    {
        long Scratch(string target)
        {
            var (code, output, error) = Run("plan", SharedData.Model("micro_speech"), "--json", "--target", target);
            Assert.True(code == 0, error);
            var root = JsonDocument.Parse(output).RootElement;
            return root.GetProperty("scratch_bytes").GetInt64();
        }
        // micro_speech's first layer: a 10x8 one-channel depthwise convolution, run as a packed convolution whose
        // two im2col rows of 80 taps every target keeps in scratch, whatever its weight layout.
        Assert.Equal(2 * 80, Scratch("host"));
        Assert.Equal(2 * 80, Scratch("cortex-m0plus"));
        Assert.Equal(2 * 80, Scratch("cortex-m55"));
        Assert.Equal(2 * 80, Scratch("cortex-m4"));
        var (unknown, _, unknownError) = Run("plan", SharedData.Model("micro_speech"), "--target", "cortex-a53");
        Assert.Equal(Cli.ModelErrors, unknown);
        Assert.Contains("TML0004", unknownError);
    }

    [Fact]
    public void Run_WritesTheGoldenBytes()
    {
        string output = Path.Combine(Path.GetTempPath(), $"tinyml-run-{Guid.NewGuid():N}.bin");
        try
        {
            var (code, _, error) = Run("run", SharedData.Model("kws"), "--input", Path.Combine(SharedData.Root, "golden", "kws", "input_2.bin"), "--output", output);
            Assert.True(code == 0, error);
            Assert.Equal(File.ReadAllBytes(Path.Combine(SharedData.Root, "golden", "kws", "output_2.bin")), File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Run_TwoInputs_CommaSeparated()
    {
        string folder = Path.Combine(SharedData.Root, "ops", "add_bcast_2in");
        string output = Path.Combine(Path.GetTempPath(), $"tinyml-run-{Guid.NewGuid():N}.bin");
        try
        {
            var (code, _, error) = Run("run", Path.Combine(folder, "model.tflite"), "--input",
                Path.Combine(folder, "input_1.bin") + "," + Path.Combine(folder, "input_1_b.bin"), "--output", output);
            Assert.True(code == 0, error);
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "output_1.bin")), File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Run_WrongInputSize_IsTML0103()
    {
        var (code, _, error) = Run("run", SharedData.Model("kws"), "--input", Path.Combine(SharedData.Root, "golden", "ad", "input_1.bin"), "--output", "/tmp/unused.bin");
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("error TML0103: input 0 'input_1' is INT8[1,49,10,1] = 490 bytes", error);
    }

    [Fact]
    public void Run_WrongInputCount_IsTML0103()
    {
        string input = Path.Combine(SharedData.Root, "golden", "kws", "input_1.bin");
        var (code, _, error) = Run("run", SharedData.Model("kws"), "--input", input + "," + input, "--output", "/tmp/unused.bin");
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("the model has 1 inputs ('input_1'), but 2 files were given", error);
    }

    [Fact]
    public void Run_UnsupportedModel_GivesItsDiagnostics()
    {
        var (code, _, error) = Run("run", SharedData.Model("kws_float"), "--input", "x.bin", "--output", "/tmp/unused.bin");
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("error TML1008", error);
    }

    [Fact]
    public void MissingOrMismatchedNativeLibrary_GivesCodedErrors()
    {
        // Child processes, so that the library is resolved again under each environment.
        string folder = Path.Combine(Path.GetTempPath(), $"tml-fake-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "abi.c"), "int tml_abi_version(void) { return 999; }\n");
        using (var cc = Process.Start(new ProcessStartInfo("cc", new[] { "-shared", "-fPIC", "-o", Path.Combine(folder, "libfake.so"), Path.Combine(folder, "abi.c") }))!)
        {
            cc.WaitForExit();
            Assert.Equal(0, cc.ExitCode);
        }
        try
        {
            var (missingCode, missing) = RunProcess(Path.Combine(folder, "missing.so"));
            Assert.Equal(Cli.ModelErrors, missingCode);
            Assert.Contains("TML0100", missing);
            var (mismatchCode, mismatch) = RunProcess(Path.Combine(folder, "libfake.so"));
            Assert.Equal(Cli.ModelErrors, mismatchCode);
            Assert.Contains("TML0101", mismatch);
            Assert.Contains("ABI version 999", mismatch);
            Assert.DoesNotContain("   at ", missing + mismatch);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (int Code, string Output) RunProcess(string nativeLibrary)
    {
        var start = new ProcessStartInfo("dotnet", new[]
        {
            Path.Combine(AppContext.BaseDirectory, "tinyml.dll"), "run", SharedData.Model("hello_int8"),
            "--input", Path.Combine(SharedData.Root, "golden", "hello_int8", "input_1.bin"), "--output", Path.Combine(Path.GetTempPath(), "tml-unused.bin"),
        })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["TINYML_NATIVE_LIBRARY"] = nativeLibrary;
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}

/// <summary>The CLI's own conformance: tinyml run on every golden model and every vector gives TFLM's bytes.</summary>
public class RunConformanceTests
{
    public static TheoryData<string> GoldenModels() => new(GoldenCase.Supported()
        .Where(c => !c.Name.StartsWith("ops/", StringComparison.Ordinal)).Select(c => c.Name));

    [Theory]
    [MemberData(nameof(GoldenModels))]
    public void TinymlRun_IsByteIdenticalOnEveryVector(string name)
    {
        var gc = GoldenCase.All().Single(c => c.Name == name);
        Assert.NotEmpty(gc.Vectors());
        foreach (int k in gc.Vectors())
        {
            string output = Path.Combine(Path.GetTempPath(), $"tinyml-run-{Guid.NewGuid():N}.bin");
            try
            {
                var stdout = new StringWriter();
                var stderr = new StringWriter();
                int code = Cli.Run(new[] { "run", gc.Model, "--input", string.Join(",", gc.Inputs(k)), "--output", output }, stdout, stderr);
                Assert.True(code == 0, stderr.ToString());
                Assert.Equal(File.ReadAllBytes(gc.Output(k)), File.ReadAllBytes(output));
            }
            finally
            {
                File.Delete(output);
            }
        }
    }
}

/// <summary>tinyml run --target: the generated C on an emulated Cortex-M core.</summary>
public class RunOnDeviceTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Theory]
    [InlineData("cortex-m4")]
    [InlineData("cortex-m7")]
    public void Target_GivesTheGoldenBytes_AndCountsInstructions(string target)
    {
        string output = Path.Combine(Path.GetTempPath(), $"tinyml-run-{Guid.NewGuid():N}.bin");
        try
        {
            var (code, json, error) = Run("run", SharedData.Model("kws"), "--input", Path.Combine(SharedData.Root, "golden", "kws", "input_2.bin"),
                "--output", output, "--target", target, "--json");
            Assert.True(code == 0, error);
            Assert.Equal(File.ReadAllBytes(Path.Combine(SharedData.Root, "golden", "kws", "output_2.bin")), File.ReadAllBytes(output));
            var root = JsonDocument.Parse(json).RootElement;
            Assert.Equal(target, root.GetProperty("target").GetString());
            long instructions = root.GetProperty("instructions").GetInt64();
            // Every MAC costs at least one instruction with portable kernels; far more than 100 per MAC would mean a broken count.
            Assert.InRange(instructions, 2_656_768L, 265_676_800L);
            Assert.True(root.GetProperty("flash_bytes").GetInt64() > 24_376, "flash holds at least the weights");
            Assert.True(root.GetProperty("ram_bytes").GetInt64() >= 16_000, "RAM holds at least the arena");
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void UnknownTarget_IsTML0004()
    {
        var (code, _, error) = Run("run", SharedData.Model("hello_int8"), "--input", Path.Combine(SharedData.Root, "golden", "hello_int8", "input_1.bin"),
            "--output", Path.Combine(Path.GetTempPath(), "tml-unused.bin"), "--target", "cortex-a53");
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("TML0004", error);
        Assert.Contains("cortex-m4", error);
    }
}

/// <summary>tinyml compile: a package a firmware project links with its own make and the generated fragment.</summary>
public class CompileCommandTests
{
    [Fact]
    public void RamBudget_PlansAsTheSdkDoes_AndTheLibraryFollowsThatPlan()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tml-budget-{Guid.NewGuid():N}");
        try
        {
            var stderr = new StringWriter();
            int code = Cli.Run(new[] { "compile", SharedData.Model("kws"), "--target", "cortex-m4", "--out", dir, "--ram-budget", "8KB" }, new StringWriter(), stderr);
            Assert.True(code == 0, stderr.ToString());
            var model = TinyML.Compiler.Tflite.TfliteReader.ReadFile(SharedData.Model("kws")).Value!;
            var fitted = TinyML.Compiler.Lowering.MemoryTechniques.FitToBudget(model, SharedData.Model("kws"), 8192).Lowered.Value!;
            // kws's layer-by-layer arena is 16,000 bytes; over an 8 KB budget the techniques (patches) lower it.
            Assert.True(fitted.ArenaBytes < 16_000, $"{fitted.ArenaBytes}");
            Assert.Contains($"#define KWS_ARENA_BYTES {fitted.ArenaBytes}\n", File.ReadAllText(Path.Combine(dir, "kws.h")));

            Assert.Equal(Cli.UsageError, Cli.Run(new[] { "compile", SharedData.Model("kws"), "--target", "cortex-m4", "--out", dir, "--ram-budget", "lots" }, new StringWriter(), stderr));
            Assert.Contains("--ram-budget is 'lots': not a size", stderr.ToString());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RamBudget_OnTheDevice_LeavesRoomForTheDevicesStaticDataAndStack()
    {
        // ic_resnet's layer-by-layer arena for the M4 (49,152 B of tensors and its conv patches) fits a budget 148 B
        // above it, but not with the device's static data and invoke stack: the plan is made again for the budget
        // less that overhead, and the library rebuilt.
        var model = TinyML.Compiler.Tflite.TfliteReader.ReadFile(SharedData.Model("ic_resnet")).Value!;
        var forM4 = TinyML.Compiler.Lowering.LoweringOptions.Default with { Target = "cortex-m4" };
        long layerByLayer = TinyML.Compiler.Lowering.Lowerer.Lower(model, SharedData.Model("ic_resnet"), forM4).Value!.ArenaBytes;
        long budget = layerByLayer + 148;
        string dir = Path.Combine(Path.GetTempPath(), $"tml-device-budget-{Guid.NewGuid():N}");
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = Cli.Run(new[] { "compile", SharedData.Model("ic_resnet"), "--target", "cortex-m4", "--out", dir, "--ram-budget", $"{budget}", "--json" }, stdout, stderr);
            Assert.True(code == 0, stderr.ToString());
            var report = System.Text.Json.JsonDocument.Parse(stdout.ToString()).RootElement;
            long ram = report.GetProperty("ram_bytes").GetInt64(), arena = report.GetProperty("arena_bytes").GetInt64();
            long planned = report.GetProperty("planning_budget_bytes").GetInt64();
            Assert.True(ram <= budget, $"{ram}");
            Assert.True(planned < budget && arena <= planned, $"planned {planned}, arena {arena}");
            Assert.True(layerByLayer + ram - arena > budget, "the layer-by-layer plan would have missed the budget on the device");
            // The plan the library was built from is the one the SDK makes for the planned budget.
            var fitted = TinyML.Compiler.Lowering.MemoryTechniques.FitToBudget(model, SharedData.Model("ic_resnet"), planned, forM4).Lowered.Value!;
            Assert.Equal(fitted.ArenaBytes, arena);
            Assert.Contains($"#define IC_RESNET_ARENA_BYTES {arena}\n", File.ReadAllText(Path.Combine(dir, "ic_resnet.h")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Package_LinksIntoAFirmware_WithOnlyTheKernelsTheModelUses()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tml-fw-{Guid.NewGuid():N}");
        string package = Path.Combine(dir, "tinyml");
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = Cli.Run(new[] { "compile", SharedData.Model("kws"), "--target", "cortex-m4", "--out", package }, stdout, stderr);
            Assert.True(code == 0, stderr.ToString());
            Assert.Contains("flash ", stdout.ToString());
            foreach (string file in new[] { "kws.c", "kws.h", "libkws.a", "libtinyml_kernels.a", "tml_kernels.h", "kws.cmake", "kws.mk" })
                Assert.True(File.Exists(Path.Combine(package, file)), file);
            Assert.Contains("add_library(tinyml::kws STATIC IMPORTED)", File.ReadAllText(Path.Combine(package, "kws.cmake")));

            // A firmware project of its own: make, the fragment, newlib's default start-up.
            File.WriteAllText(Path.Combine(dir, "main.c"), "#include \"kws.h\"\nint main(void) { return (int)kws_invoke(kws_arena()); }\n");
            File.WriteAllText(Path.Combine(dir, "Makefile"),
                "include tinyml/kws.mk\n" +
                "CFLAGS := -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb -Wall -Werror $(TINYML_KWS_CFLAGS)\n" +
                "firmware.elf: main.c\n\tarm-none-eabi-gcc $(CFLAGS) main.c $(TINYML_KWS_LIBS) --specs=nosys.specs -Wl,--gc-sections -o $@\n");
            var make = Process.Start(new ProcessStartInfo("make", new[] { "-C", dir }) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string makeOutput = make.StandardOutput.ReadToEnd() + make.StandardError.ReadToEnd();
            make.WaitForExit();
            Assert.True(make.ExitCode == 0, makeOutput);
            var nm = Process.Start(new ProcessStartInfo("arm-none-eabi-nm", new[] { Path.Combine(dir, "firmware.elf") }) { RedirectStandardOutput = true })!;
            string symbols = nm.StandardOutput.ReadToEnd();
            nm.WaitForExit();
            Assert.Contains(" tml_conv_s8", symbols);
            Assert.Contains(" tml_depthwise_conv_s8", symbols);
            Assert.DoesNotContain(" tml_svdf_s8", symbols);
            Assert.DoesNotContain(" tml_add_s8", symbols);

            // The Firmware sample's own Makefile builds on the same package and runs under QEMU.
            string sample = Path.Combine(SharedData.Repo, "samples", "Firmware");
            var run = Process.Start(new ProcessStartInfo("make", new[] { "-C", sample, "--no-print-directory", $"TINYML={package}", $"BUILD={Path.Combine(dir, "sample")}", "run" })
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string runOutput = run.StandardOutput.ReadToEnd() + run.StandardError.ReadToEnd();
            Assert.True(run.WaitForExit(120_000) && run.ExitCode == 0, runOutput);
            var scores = System.Text.RegularExpressions.Regex.Matches(runOutput, @"  (\S+) (\d+)/256");
            Assert.Equal(12, scores.Count);
            // Softmax outputs: the 12 int8 scores, each rounded to 1/256, sum to 256 within 12/256.
            Assert.InRange(scores.Sum(m => int.Parse(m.Groups[2].Value)), 256 - 12, 256 + 12);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
