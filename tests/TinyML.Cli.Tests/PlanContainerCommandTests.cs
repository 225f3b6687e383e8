// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Emit;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary>tinyml compile and run on a plan container (.tmlmodel): the plan as it was written, no model read again.</summary>
public sealed class PlanContainerCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-plan-cmd-{Guid.NewGuid():N}");

    public PlanContainerCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>kws planned for <paramref name="target"/> with patches (a plan no default compile of the .tflite makes), written as a container.</summary>
    private (string Path, ExecutionPlan Plan) Container(string target)
    {
        var model = TfliteReader.ReadFile(SharedData.Model("kws")).Value!;
        var plan = Lowerer.Lower(model, null, MemoryTechniques.Everything(LoweringOptions.MinimumMemory) with { Target = target }).Value!;
        string path = Path.Combine(_dir, $"app-{target}.tmlmodel");
        File.WriteAllBytes(path, PlanContainer.Write(plan));
        return (path, plan);
    }

    [Fact]
    public void Compile_APlan_EmitsThatPlan_WithoutTheModel()
    {
        var (path, plan) = Container("cortex-m4");
        Assert.NotEqual(16_000, plan.ArenaBytes); // patches: not the plan the .tflite compiles to by default
        string output = Path.Combine(_dir, "out");
        var (code, json, error) = Run("compile", path, "--target", "cortex-m4", "--name", "kws", "--out", output, "--json");
        Assert.True(code == 0, error);
        Assert.Equal(CEmitter.Emit(plan, "kws").Source, File.ReadAllText(Path.Combine(output, "kws.c")));
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(path, root.GetProperty("model").GetString());
        Assert.Equal(plan.ArenaBytes, root.GetProperty("arena_bytes").GetInt64());
        Assert.Equal(plan.Macs, root.GetProperty("macs").GetInt64());
        Assert.False(root.TryGetProperty("planning_budget_bytes", out _));
    }

    [Fact]
    public void PlanOut_WritesThePlanItReports_AndRunGivesTheGoldenBytes()
    {
        // With --optimize memory the plan differs from a default compile of the .tflite, so run must use the file's plan.
        var gc = GoldenCase.All().Single(c => c.Name == "kws");
        string path = Path.Combine(_dir, "kws.tmlmodel");
        var (code, json, error) = Run("plan", gc.Model, "--optimize", "memory", "--json", "--out", path);
        Assert.True(code == 0, error);
        var plan = PlanContainer.Read(File.ReadAllBytes(path)).Value!;
        Assert.Equal(JsonDocument.Parse(json).RootElement.GetProperty("arena_bytes").GetInt64(), plan.ArenaBytes);
        Assert.NotEqual(Lowerer.Lower(TfliteReader.ReadFile(gc.Model).Value!).Value!.ArenaBytes, plan.ArenaBytes);

        string output = Path.Combine(_dir, "kws.bin");
        (code, _, error) = Run("run", path, "--input", gc.Inputs(1)[0], "--output", output);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(gc.Output(1)), File.ReadAllBytes(output));
    }

    [Fact]
    public void Compile_APlanForAnotherCore_IsTML3010_AndABudgetIsAUsageError()
    {
        var (path, _) = Container("cortex-m7");
        var (code, _, error) = Run("compile", path, "--target", "cortex-m4", "--out", Path.Combine(_dir, "out"));
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("error TML3010: the plan was made for cortex-m7, not cortex-m4", error);

        var (usage, _, usageError) = Run("compile", path, "--target", "cortex-m7", "--out", Path.Combine(_dir, "out"), "--ram-budget", "64KB");
        Assert.Equal(Cli.UsageError, usage);
        Assert.Contains("--ram-budget applies to a .tflite model", usageError);
        (usage, _, usageError) = Run("compile", path, "--target", "cortex-m7", "--out", Path.Combine(_dir, "out"), "--flash-budget", "1MB");
        Assert.Equal(Cli.UsageError, usage);
        Assert.Contains("--flash-budget applies to a .tflite model", usageError);
    }

    [Fact]
    public void Compile_WithAFlashBudget_WidensWeightsOnlyWithinIt_AndABadSizeIsAUsageError()
    {
        long Constants(params string[] extra)
        {
            var (code, json, error) = Run(new[] { "compile", SharedData.Model("kws"), "--target", "cortex-m4", "--out", Path.Combine(_dir, $"out{extra.Length}"), "--json" }.Concat(extra).ToArray());
            Assert.True(code == 0, error);
            return JsonDocument.Parse(json).RootElement.GetProperty("constant_bytes").GetInt64();
        }
        // Without a budget every packed layer's weights are int16; 48 KB leaves no room for one (docs/kernels.md's rule).
        long widened = Constants(), narrow = Constants("--flash-budget", "48KB");
        Assert.Equal(64 * 40 + 4 * 64 * 64 + 12 * 64, widened - narrow);
        var (usage, _, usageError) = Run("compile", SharedData.Model("kws"), "--target", "cortex-m4", "--out", Path.Combine(_dir, "bad"), "--flash-budget", "lots");
        Assert.Equal(Cli.UsageError, usage);
        Assert.Contains("--flash-budget is 'lots'", usageError);
    }

    [Fact]
    public void Run_APlan_OnTheHostAndOnTheDevice_GivesTheGoldenBytes()
    {
        var (path, plan) = Container("cortex-m4");
        string input = Path.Combine(SharedData.Root, "golden", "kws", "input_2.bin");
        byte[] golden = File.ReadAllBytes(Path.Combine(SharedData.Root, "golden", "kws", "output_2.bin"));
        foreach (var target in new[] { null, "cortex-m4" })
        {
            string output = Path.Combine(_dir, $"out-{target ?? "host"}.bin");
            var args = new[] { "run", path, "--input", input, "--output", output, "--json" }.Concat(target is null ? Array.Empty<string>() : new[] { "--target", target }).ToArray();
            var (code, json, error) = Run(args);
            Assert.True(code == 0, error);
            Assert.Equal(golden, File.ReadAllBytes(output));
            var root = JsonDocument.Parse(json).RootElement;
            Assert.Equal(plan.ArenaBytes, root.GetProperty("arena_bytes").GetInt64());
            // The plan's MACs, patches' recomputed halos included.
            Assert.Equal(plan.Macs, root.GetProperty("macs").GetInt64());
            Assert.True(plan.Macs > 2_656_768);
        }
    }
}
