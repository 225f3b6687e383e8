// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using Microsoft.Build.Utilities;
using TinyML.Compiler.Plan;
using TinyML.Sdk.Tasks;
using TinyML.Tests;
using Xunit;

namespace TinyML.Sdk.Tests;

/// <summary>
/// On-device training as a build option (<c>&lt;TinyModel Include="kws.tflite" Train="head" LearningRate="0.05" /&gt;</c>,
/// or TinyMLTrain / TinyMLLearningRate): the plan and manifest carry it, both settings are known inputs of the
/// incremental check, a bad value is TML0012 at its line, and a model over its RAM budget only because of what
/// training adds is TML3005 with the breakdown. kws.tflite's head is FULLY_CONNECTED 64 -> 12 with a bias, then SOFTMAX.
/// </summary>
public sealed class TrainingTaskTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-train-task-{Guid.NewGuid():N}");
    private readonly string _project;

    // kws's head: 12 classes of 64 inputs. Training moves the 768 int8 weights and 12 int32 biases to RAM (816 B), adds
    // an int32 master per trained value (780 x 4), an int32 gradient per class and the 16-byte control block.
    private const int Classes = 12, Depth = 64;
    private const long InferenceRam = 16_000; // kws's arena (CompileTinyModelsTests), no state
    private const long SmallestInferenceRam = 13_936; // with patches: tinyml plan kws.tflite --optimize memory
    // The gradient buffer is an exponent word and one value per class, padded to 16 bytes (docs/training.md).
    private static readonly long Trained = Classes * Depth + 4 * Classes, Masters = 4L * (Classes * Depth + Classes), Gradients = (4 * (1 + Classes) + 15) / 16 * 16, Control = 16;
    private static readonly long TrainingRam = Trained + Masters + Gradients + Control;

    public TrainingTaskTests()
    {
        Directory.CreateDirectory(_dir);
        _project = Path.Combine(_dir, "App.csproj");
        File.WriteAllLines(_project, new[]
        {
            "<Project Sdk=\"TinyML.Sdk/0.1.0\">",
            "  <PropertyGroup>",
            "    <TinyMLTrain>head</TinyMLTrain>",
            "  </PropertyGroup>",
            "  <ItemGroup>",
            "    <TinyModel Include=\"kws.tflite\" RamBudget=\"17KB\"",
            "               Train=\"bogus\"",
            "               LearningRate=\"0.05\" />",
            "  </ItemGroup>",
            "</Project>",
        });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PlanFile => Path.Combine(_dir, "obj", "kws.tmlmodel");

    private TaskItem Kws(params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem(SharedData.Model("kws"));
        item.SetMetadata("_TinyML_PlanFile", PlanFile);
        item.SetMetadata("_TinyML_ManifestFile", Path.Combine(_dir, "obj", "kws.tmlmodel.json"));
        item.SetMetadata("_TinyML_ResourceName", "App.kws.tmlmodel");
        item.SetMetadata("Namespace", "App");
        foreach (var (name, value) in metadata) item.SetMetadata(name, value);
        return item;
    }

    private (bool Ok, FakeBuildEngine Engine) Compile(TaskItem item, Action<CompileTinyModels>? configure = null)
    {
        var engine = new FakeBuildEngine();
        var task = new CompileTinyModels { BuildEngine = engine, Models = new[] { item }, ProjectFile = _project };
        configure?.Invoke(task);
        return (task.Execute(), engine);
    }

    private (bool Ok, FakeBuildEngine Engine) Resolve(TaskItem item, Action<ResolveTinyModelTargets>? configure = null)
    {
        var engine = new FakeBuildEngine();
        var task = new ResolveTinyModelTargets
        {
            BuildEngine = engine, Models = new[] { item }, ProjectFile = _project, OutputRoot = "bin/tinyml/", IntermediateRoot = "obj/tinyml/",
            ResourceNamespace = "App", SettingsFile = Path.Combine(_dir, "obj", "compile.settings"),
        };
        configure?.Invoke(task);
        return (task.Execute(), engine);
    }

    private static string Errors(FakeBuildEngine engine) => string.Join("\n", engine.Errors.Select(e => e.Message));

    [Fact]
    public void TrainHead_EmbedsATrainingPlan_AndTheManifestCarriesIt()
    {
        var (ok, engine) = Compile(Kws(("Train", "head"), ("LearningRate", "0.05")));
        Assert.True(ok, Errors(engine));
        var plan = PlanContainer.Read(File.ReadAllBytes(PlanFile)).Value!;
        Assert.NotNull(plan.Training);
        Assert.Equal(Classes, plan.Training!.Classes);
        Assert.Equal(0.05f, plan.Training.LearningRate);
        Assert.Equal(TrainingRam, plan.ParameterBytes);

        var manifest = ModelManifest.Parse(File.ReadAllText(Path.Combine(_dir, "obj", "kws.tmlmodel.json")));
        Assert.Equal("head", manifest.Training!.Mode);
        Assert.Equal(Classes, manifest.Training.Classes);
        Assert.Equal(0.05, manifest.Training.LearningRate);
        Assert.Equal(TrainingRam, manifest.Training.ParameterBytes);

        string report = File.ReadAllText(CompileTinyModels.ReportFileOf(PlanFile));
        Assert.Contains($"\"parameter_bytes\": {TrainingRam}", report);
        Assert.Contains($"\"inference_ram_bytes\": {InferenceRam}", report);
        // The build log's line adds the region to the RAM figure.
        Assert.Contains(engine.Messages, m => m.Message!.Contains($"RAM {InferenceRam + TrainingRam:N0} B (arena 16,000 + state 0 + training {TrainingRam:N0})"));
    }

    [Fact]
    public void TheProperties_AreDefaults_ThatItemMetadataOverrides()
    {
        var (ok, engine) = Compile(Kws(), t => { t.Train = "head"; t.LearningRate = "0.02"; });
        Assert.True(ok, Errors(engine));
        var plan = PlanContainer.Read(File.ReadAllBytes(PlanFile)).Value!;
        Assert.Equal(0.02f, plan.Training!.LearningRate);

        (ok, engine) = Compile(Kws(("Train", "none")), t => t.Train = "head");
        Assert.True(ok, Errors(engine));
        Assert.Null(PlanContainer.Read(File.ReadAllBytes(PlanFile)).Value!.Training);
        Assert.Null(ModelManifest.Parse(File.ReadAllText(Path.Combine(_dir, "obj", "kws.tmlmodel.json"))).Training);
    }

    [Fact]
    public void OverTheRamBudgetOnlyBecauseOfTraining_IsTML3005_WithTheBreakdown()
    {
        // 17 KB (17,408 B) holds inference (16,000 B, 13,936 B with patches), not training's 4,000 B more: the arena is
        // planned within 13,408 B, which even patches cannot reach, so the plan is the smallest one.
        var (ok, engine) = Compile(Kws(("RamBudget", "17KB"), ("Train", "head")));
        Assert.False(ok);
        var error = Assert.Single(engine.Errors);
        Assert.Equal("TML3005", error.Code);
        Assert.Equal(_project, error.File);
        Assert.Equal(6, error.LineNumber); // the RamBudget line
        Assert.Contains($"needs {SmallestInferenceRam + TrainingRam:N0} bytes", error.Message);
        Assert.Contains("RAM budget (RamBudget of kws.tflite = 17KB) is 17,408 bytes", error.Message);
        Assert.Contains($"Inference needs {SmallestInferenceRam:N0} bytes", error.Message);
        Assert.Contains($"(arena {SmallestInferenceRam:N0} + state 0)", error.Message);
        Assert.Contains($"training adds {TrainingRam:N0} bytes", error.Message);
        Assert.Contains($"moved to RAM {Trained:N0}, their int32 masters {Masters:N0}, gradients {Gradients:N0}, control block {Control:N0}", error.Message);
        Assert.False(File.Exists(PlanFile));

        // The same budget without training fits.
        (ok, engine) = Compile(Kws(("RamBudget", "17KB")));
        Assert.True(ok, Errors(engine));

        // A budget inference misses too is TML3001, as without training.
        (ok, engine) = Compile(Kws(("RamBudget", "12KB"), ("Train", "head")));
        Assert.False(ok);
        Assert.Equal("TML3001", Assert.Single(engine.Errors).Code);
    }

    [Fact]
    public void TheFlashNeed_CountsTheRegionsInitialImage()
    {
        var (ok, engine) = Compile(Kws(("FlashBudget", "1MB")));
        Assert.True(ok, Errors(engine));
        long inference = ModelManifest.Parse(File.ReadAllText(Path.Combine(_dir, "obj", "kws.tmlmodel.json"))).FlashBytes;
        (ok, engine) = Compile(Kws(("FlashBudget", "1MB"), ("Train", "head")));
        Assert.True(ok, Errors(engine));
        var plan = PlanContainer.Read(File.ReadAllBytes(PlanFile)).Value!;
        // The head's weights and bias leave the constants for the region, whose initial image is flash too.
        Assert.Equal(plan.ConstantBytes + TrainingRam, ModelManifest.Parse(File.ReadAllText(Path.Combine(_dir, "obj", "kws.tmlmodel.json"))).FlashBytes);
        Assert.True(plan.ConstantBytes < inference);
    }

    [Fact]
    public void AnUnknownMode_IsTML0012_NamingTheItem_InResolveAndCompile()
    {
        var (resolved, engine) = Resolve(Kws(("Train", "bogus")));
        Assert.False(resolved);
        var error = Assert.Single(engine.Errors);
        Assert.Equal("TML0012", error.Code);
        Assert.Contains(SharedData.Model("kws") + ": Train=\"bogus\" is not a training mode; use head or biases:K", error.Message);
        Assert.Equal(7, error.LineNumber);

        var (compiled, compileEngine) = Compile(Kws(("Train", "bogus")));
        Assert.False(compiled);
        Assert.Equal("TML0012", Assert.Single(compileEngine.Errors).Code);
        Assert.False(File.Exists(PlanFile));
    }

    [Fact]
    public void ABadLearningRate_IsTML0012_AtItsLine_OrAtTheProperty()
    {
        var (ok, engine) = Compile(Kws(("Train", "head"), ("LearningRate", "-1")));
        Assert.False(ok);
        var error = Assert.Single(engine.Errors);
        Assert.Equal("TML0012", error.Code);
        Assert.Contains("LearningRate=\"-1\" is not a number above 0", error.Message);
        Assert.Equal(8, error.LineNumber);

        // From the property: named, and located where it was set (the command line here).
        (ok, engine) = Compile(Kws(), t => { t.Train = "head"; t.LearningRate = "fast"; });
        Assert.False(ok);
        error = Assert.Single(engine.Errors);
        Assert.Contains("(TinyMLLearningRate)", error.Message);
        (ok, engine) = Compile(Kws(), t => t.Train = "backbone");
        Assert.False(ok);
        error = Assert.Single(engine.Errors);
        Assert.Contains("(TinyMLTrain)", error.Message);
        Assert.Equal(3, error.LineNumber);
    }

    [Fact]
    public void TrainAndLearningRate_AreKnown_AndInputsOfTheIncrementalCheck()
    {
        string settings = Path.Combine(_dir, "obj", "compile.settings");
        var (ok, engine) = Resolve(Kws());
        Assert.True(ok, Errors(engine));
        string plain = File.ReadAllText(settings);

        (ok, engine) = Resolve(Kws(("Train", "head"), ("LearningRate", "0.05")));
        Assert.True(ok, Errors(engine));
        Assert.Empty(engine.Warnings); // not TML0009
        string withMetadata = File.ReadAllText(settings);
        Assert.NotEqual(plain, withMetadata);
        Assert.Contains("Train=head", withMetadata);
        Assert.Contains("LearningRate=0.05", withMetadata);

        (ok, _) = Resolve(Kws(("Train", "head"), ("LearningRate", "0.1")));
        Assert.NotEqual(withMetadata, File.ReadAllText(settings));

        foreach (var change in new Action<ResolveTinyModelTargets>[] { t => t.Train = "head", t => t.LearningRate = "0.2" })
        {
            (ok, engine) = Resolve(Kws(), change);
            Assert.True(ok, Errors(engine));
            Assert.NotEqual(plain, File.ReadAllText(settings));
        }
    }

    [Fact]
    public void TheDeviceReport_NamesTheRegionInTheRamDetail()
    {
        // tinyml compile --json of a trainable plan: the region is static data (.data, initialized from flash).
        string json = "{\"schema\": \"tinyml.compile/1\", \"target\": \"cortex-m4\", \"flash_bytes\": 40000, \"model_flash_bytes\": 39000, " +
            "\"code_bytes\": 9000, \"rodata_bytes\": 26000, \"data_bytes\": 4000, \"bss_bytes\": 16016, \"ram_bytes\": 20272, \"arena_bytes\": 16000, " +
            "\"state_bytes\": 0, \"stack_bytes\": 256, \"runtime_code_bytes\": 1000, \"parameter_bytes\": 4000}";
        var report = CompileReport.Parse(json)!;
        Assert.Equal(4000, report.ParameterBytes);
        Assert.Equal("static data 20,016 (arena 16,000, state 0, training parameters 4,000) + invoke stack 256", report.ToMeasuredSizes().RamDetail);
        Assert.Equal(0, CompileReport.Parse(json.Replace(", \"parameter_bytes\": 4000", ""))!.ParameterBytes);
        Assert.DoesNotContain("training", CompileReport.Parse(json.Replace(", \"parameter_bytes\": 4000", ""))!.ToMeasuredSizes().RamDetail);
    }
}
