// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Compilation;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Reports;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>
/// What a trainable plan's parameter region does to the budgets and reports: it counts in RAM and flash, the arena is
/// planned within the budget less it, over the budget only because of it is TML3005 (host estimate and device sizes),
/// and the compile report, manifest and memory report show it. kws.tflite's head: 64 -> 12 with a bias.
/// </summary>
public class TrainingBudgetTests
{
    private static readonly string Kws = SharedData.Model("kws");
    private static readonly TrainingOptions Head = new("head");

    // The region of kws's head: 16 bytes of control, the gradient buffer (an exponent and 12 values, 52 bytes padded to
    // 64), 768 int8 weights and 12 int32 biases, 780 int32 masters.
    private const long Region = 16 + 64 + 768 + 48 + 780 * 4;

    private static CompilationOptions Options(long? ram = null, long? flash = null, bool train = true) => new()
    {
        Lowering = LoweringOptions.Default with { Train = train ? Head : null },
        RamBudget = ram is long r ? new Budget(r, "RamBudget of kws.tflite") : null,
        FlashBudget = flash is long f ? new Budget(f, "FlashBudget of kws.tflite") : null,
    };

    [Fact]
    public void TheRegion_CountsInRamAndFlash()
    {
        var trained = ModelCompiler.Compile(Kws, Options()).Plan!;
        var plain = ModelCompiler.Compile(Kws, Options(train: false)).Plan!;
        Assert.Equal(Region, trained.ParameterBytes);
        Assert.Equal(trained.ArenaBytes + trained.StateBytes + Region, BudgetCheck.RamBytes(trained));
        Assert.Equal(trained.ArenaBytes + trained.StateBytes, BudgetCheck.InferenceRamBytes(trained));
        Assert.Equal(trained.ConstantBytes + Region, BudgetCheck.FlashBytes(trained));
        // The head's weights and bias moved from the constants to the region.
        Assert.True(trained.ConstantBytes < plain.ConstantBytes);
        Assert.Equal(BudgetCheck.RamBytes(plain), BudgetCheck.InferenceRamBytes(trained));
    }

    [Fact]
    public void TheArena_IsPlannedWithinTheBudgetLessTheRegion()
    {
        // 18 KB: 16,000 B of arena + the region is over, patches (13,936 B) + the region fits.
        var compiled = ModelCompiler.Compile(Kws, Options(ram: 18 * 1024));
        Assert.True(compiled.Succeeded, string.Join("\n", compiled.Diagnostics));
        Assert.True(BudgetCheck.RamBytes(compiled.Plan!) <= 18 * 1024);
        Assert.True(compiled.Plan!.ArenaBytes < 16_000);
        // Without training the same budget needs no technique.
        Assert.Equal(16_000, ModelCompiler.Compile(Kws, Options(ram: 18 * 1024, train: false)).Plan!.ArenaBytes);
    }

    [Fact]
    public void OverOnlyBecauseOfTraining_IsTML3005_OnTheHostAndOnTheDevice()
    {
        var compiled = ModelCompiler.Compile(Kws, Options(ram: 17 * 1024));
        var error = Assert.Single(compiled.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal(DiagnosticIds.TrainingRamBudgetExceeded, error.Id);
        Assert.DoesNotContain(compiled.Diagnostics, d => d.Id == DiagnosticIds.RamBudgetExceeded);
        Assert.Contains($"training adds {ByteSize.Format(Region)}", error.Message);

        // Measured on a device: the ELF's RAM holds the region as static data; inference alone would fit.
        var plan = compiled.Plan!;
        long overhead = 600;
        var measured = new MeasuredSizes("cortex-m4", BudgetCheck.RamBytes(plan) + overhead, 40_000, "static data and stack", "code and constants");
        var model = TfliteReader.ReadFile(Kws).Value!;
        var device = BudgetCheck.Check("kws.tflite", model.Main, plan, new Budget(BudgetCheck.RamBytes(plan) + overhead - 1, "RamBudget"), null, measured);
        var deviceError = Assert.Single(device);
        Assert.Equal(DiagnosticIds.TrainingRamBudgetExceeded, deviceError.Id);
        Assert.Contains("on cortex-m4 (measured from the ELF: static data and stack)", deviceError.Message);
        Assert.Contains($"Inference needs {ByteSize.Format(BudgetCheck.InferenceRamBytes(plan) + overhead)};", deviceError.Message);

        // Below what inference needs it stays TML3001.
        var under = ModelCompiler.Compile(Kws, Options(ram: 12 * 1024));
        Assert.Equal(DiagnosticIds.RamBudgetExceeded, Assert.Single(under.Diagnostics, d => d.Severity == Severity.Error).Id);
    }

    [Fact]
    public void TheFlashBudget_CountsTheInitialImage()
    {
        var plan = ModelCompiler.Compile(Kws, Options()).Plan!;
        var over = ModelCompiler.Compile(Kws, Options(flash: plan.ConstantBytes + Region - 1));
        Assert.Equal(DiagnosticIds.FlashBudgetExceeded, Assert.Single(over.Diagnostics, d => d.Severity == Severity.Error).Id);
        Assert.DoesNotContain(ModelCompiler.Compile(Kws, Options(flash: plan.ConstantBytes + Region)).Diagnostics, d => d.Severity == Severity.Error);
    }

    [Fact]
    public void TheCompileReportAndTheManifest_CarryTraining()
    {
        var compiled = ModelCompiler.Compile(Kws, Options(ram: 64 * 1024));
        var training = JsonDocument.Parse(compiled.Report()).RootElement.GetProperty("training");
        Assert.Equal("head", training.GetProperty("mode").GetString());
        Assert.Equal(12, training.GetProperty("classes").GetInt32());
        Assert.Equal(0.01, training.GetProperty("learning_rate").GetDouble());
        Assert.Equal(Region, training.GetProperty("parameter_bytes").GetInt64());
        Assert.Equal(780, training.GetProperty("trained_values").GetInt64());
        Assert.Equal(16_000 + Region, training.GetProperty("ram_bytes").GetInt64());

        var manifest = compiled.Manifest();
        Assert.Equal(12, manifest.Training!.Classes);
        Assert.Equal(0.01, manifest.Training.LearningRate); // the float's shortest spelling, not 0.009999999776482582
        Assert.Equal(Region, manifest.Training.ParameterBytes);
        Assert.Equal(BudgetCheck.FlashBytes(compiled.Plan!), manifest.FlashBytes);

        var plain = ModelCompiler.Compile(Kws, Options(ram: 64 * 1024, train: false));
        Assert.False(JsonDocument.Parse(plain.Report()).RootElement.TryGetProperty("training", out _));
        Assert.Null(plain.Manifest().Training);
    }

    [Fact]
    public void TheMemoryReport_ChargesTheRegion_AndSaysSo()
    {
        var compiled = ModelCompiler.Compile(Kws, Options());
        var plan = compiled.Plan!;
        var variants = MemoryReport.Variants(compiled.Model!, Kws, plan);
        long need = plan.ArenaBytes + plan.StateBytes + Region;
        Assert.StartsWith($"Peak: {need:N0} B (arena {plan.ArenaBytes:N0} B + state 0 B + training {Region:N0} B)", MemoryReport.Verdict(variants, null));
        // A budget inference fits and training does not: the verdict judges what the device needs.
        Assert.StartsWith("Does not fit", MemoryReport.Verdict(variants, need - 1));
        string page = MemoryReport.Render("kws.tflite", compiled.Model!.Main, variants, null);
        Assert.Contains("<p id=\"training\">Training (Train=&quot;head&quot;, 12 classes)", page);
        Assert.Contains($"a parameter region of {Region:N0} B in RAM", page);
        System.Xml.Linq.XDocument.Parse(page.Substring(page.IndexOf("<html", System.StringComparison.Ordinal)));

        var plain = ModelCompiler.Compile(Kws, Options(train: false));
        Assert.DoesNotContain("id=\"training\"", MemoryReport.Render("kws.tflite", plain.Model!.Main, MemoryReport.Variants(plain.Model!, Kws, plain.Plan!), null));
    }
}
