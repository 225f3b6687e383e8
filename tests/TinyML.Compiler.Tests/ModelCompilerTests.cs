// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Compilation;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>The compilation facade: one plan per model and options, the device fit through a measurement callback.</summary>
public class ModelCompilerTests
{
    private static readonly string Kws = SharedData.Model("kws");

    /// <summary>A device whose RAM is the plan's arena and state plus a fixed overhead, recording what it measured.</summary>
    private static DeviceMeasurement Device(long overhead, List<CompiledPlan> measured) => plan =>
    {
        measured.Add(plan);
        return new MeasuredSizes("cortex-m4", plan.ArenaBytes + plan.StateBytes + overhead, 40_000, "static data and stack", "code and constants");
    };

    [Fact]
    public void WithoutABudget_ThePlanIsTheLowerersForTheTarget_AndItsMacsAreTheModels()
    {
        var compiled = ModelCompiler.Compile(Kws, new CompilationOptions { Target = "cortex-m4" });
        Assert.True(compiled.Succeeded, string.Join("\n", compiled.Diagnostics));
        Assert.Equal("cortex-m4", compiled.Plan!.Target);
        Assert.Equal(16_000, compiled.Plan.ArenaBytes);
        Assert.Equal(ModelSummary.Of(compiled.Model!).TotalMacs, compiled.Plan.Macs);
        Assert.Null(compiled.Fit);
        Assert.Equal(compiled.Plan.Macs, compiled.Manifest().Macs);
    }

    [Fact]
    public void TheDevicesOwnRam_MakesItPlanAgainWithinTheBudgetLessThatOverhead()
    {
        // 16,000 B of arena fit 16,100 B; with 272 B of the device's own the ELF needs 16,272 B, so the memory is planned
        // again within 15,828 B (patches), and the last plan measured is the plan returned.
        var measured = new List<CompiledPlan>();
        var compiled = ModelCompiler.Compile(Kws, new CompilationOptions { Target = "cortex-m4", RamBudget = new Budget(16_100, "test") },
            Device(272, measured));
        Assert.True(compiled.Succeeded, string.Join("\n", compiled.Diagnostics));
        Assert.Equal(2, measured.Count);
        Assert.Equal(16_000, measured[0].ArenaBytes);
        Assert.Same(measured[^1], compiled.Plan);
        Assert.Equal(15_828, compiled.PlanningBudget);
        Assert.True(compiled.Plan!.ArenaBytes <= 15_828);
        Assert.Equal(compiled.Plan.ArenaBytes + 272, compiled.Measured!.RamBytes);
        Assert.Equal(ModelSummary.Of(compiled.Model!).TotalMacs + compiled.Plan.ExtraMacs, compiled.Plan.Macs);

        var report = JsonDocument.Parse(compiled.Report()).RootElement;
        Assert.Equal(ModelCompiler.ReportSchema, report.GetProperty("schema").GetString());
        Assert.Equal("cortex-m4", report.GetProperty("target").GetString());
        Assert.Equal(15_828, report.GetProperty("planning_budget_bytes").GetInt64());
        Assert.Equal(16_100, report.GetProperty("ram_budget_bytes").GetInt64());
        Assert.Equal(compiled.Plan.Macs, report.GetProperty("macs").GetInt64());
        Assert.Equal(compiled.Plan.ExtraMacs, report.GetProperty("extra_macs").GetInt64());
        Assert.Equal(compiled.Plan.ArenaBytes + 272, report.GetProperty("device").GetProperty("ram_bytes").GetInt64());
        Assert.Single(report.GetProperty("attempts").EnumerateArray(), a => a.TryGetProperty("chosen", out _));
    }

    [Fact]
    public void ADeviceNoPlanCanFit_StopsAfterTheFirstRefitThatGainsNothing_AndFailsTheBudget()
    {
        // 4,000 B of the device's own: planning within 12,100 B cannot reach it (patches stop at 13,936 B).
        var measured = new List<CompiledPlan>();
        var compiled = ModelCompiler.Compile(Kws, new CompilationOptions { RamBudget = new Budget(16_100, "test") }, Device(4_000, measured));
        Assert.False(compiled.Succeeded);
        Assert.InRange(measured.Count, 1, 1 + new CompilationOptions().DeviceRefits);
        var error = Assert.Single(compiled.Diagnostics, d => d.Id == "TML3001");
        Assert.Contains("measured from the ELF", error.Message);
    }

    [Fact]
    public void AFailedMeasurement_IsNoPlanToWrite()
    {
        var compiled = ModelCompiler.Compile(Kws, new CompilationOptions { Target = "cortex-m4" }, _ => null);
        Assert.True(compiled.MeasurementFailed);
        Assert.False(compiled.Succeeded);
    }

    [Fact]
    public void PlanWithin_MakesThePlanADeviceFitMade_WithoutMeasuring()
    {
        var options = new CompilationOptions { Target = "cortex-m4", RamBudget = new Budget(16_100, "test") };
        var fitted = ModelCompiler.Compile(Kws, options, Device(272, new List<CompiledPlan>()));
        var again = ModelCompiler.Compile(Kws, options with { PlanWithin = fitted.PlanningBudget });
        Assert.Equal(PlanContainer.Write(fitted.Plan!), PlanContainer.Write(again.Plan!));
    }

    [Fact]
    public void APlanForAnotherCore_IsRefusedForADeviceBuild_AHostPlanIsNot()
    {
        var plan = ModelCompiler.Compile(Kws, new CompilationOptions { Target = "cortex-m7" }).Plan!;
        var read = PlanContainer.Read(PlanContainer.Write(plan), "app.tmlmodel");
        var refused = ModelCompiler.ForTarget(read, "cortex-m4", "app.tmlmodel");
        Assert.Null(refused.Value);
        Assert.Equal("TML3010", Assert.Single(refused.Diagnostics).Id);
        Assert.NotNull(ModelCompiler.ForTarget(read, "cortex-m7", "app.tmlmodel").Value);
        var host = PlanContainer.Read(PlanContainer.Write(ModelCompiler.Compile(Kws, new CompilationOptions()).Plan!));
        Assert.NotNull(ModelCompiler.ForTarget(host, "cortex-m4", null).Value);
    }

    [Fact]
    public void CheckBudgetsOff_PlansWithinTheBudgetWithoutADiagnostic()
    {
        var compiled = ModelCompiler.Compile(Kws, new CompilationOptions { RamBudget = new Budget(8_192, "--ram-budget"), CheckBudgets = false });
        Assert.True(compiled.Succeeded);
        Assert.True(compiled.Plan!.ArenaBytes < 16_000, "the techniques were tried");
        Assert.DoesNotContain(compiled.Diagnostics, d => d.Id.StartsWith("TML300", System.StringComparison.Ordinal));
    }
}
