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
/// The OnnxRounding item metadata (<c>&lt;TinyModel Include="m.onnx" OnnxRounding="onnxruntime" /&gt;</c>): a known
/// setting that reaches the compile settings file (so changing it compiles again), lowers the int8 convolutions and
/// fully connected layers to the _float_requant kernels (a .tflite too), and is TML0003 naming the values otherwise.
/// </summary>
public sealed class OnnxRoundingTaskTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-rounding-task-{Guid.NewGuid():N}");
    private readonly string _project;

    public OnnxRoundingTaskTests()
    {
        Directory.CreateDirectory(_dir);
        _project = Path.Combine(_dir, "App.csproj");
        File.WriteAllLines(_project, new[]
        {
            "<Project Sdk=\"TinyML.Sdk/0.1.0\">",
            "  <ItemGroup>",
            "    <TinyModel Include=\"kws.tflite\" RamBudget=\"64KB\" OnnxRounding=\"mlas\" />",
            "  </ItemGroup>",
            "</Project>",
        });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TaskItem Kws(string? rounding)
    {
        var item = new TaskItem(SharedData.Model("kws"));
        item.SetMetadata("_TinyML_PlanFile", Path.Combine(_dir, "obj", "kws.tmlmodel"));
        item.SetMetadata("_TinyML_ManifestFile", Path.Combine(_dir, "obj", "kws.tmlmodel.json"));
        item.SetMetadata("_TinyML_ResourceName", "App.kws.tmlmodel");
        item.SetMetadata("Namespace", "App");
        item.SetMetadata("RamBudget", "64KB");
        if (rounding is not null) item.SetMetadata("OnnxRounding", rounding);
        return item;
    }

    private (bool Ok, FakeBuildEngine Engine, ResolveTinyModelTargets Task) Resolve(TaskItem item)
    {
        var engine = new FakeBuildEngine();
        var task = new ResolveTinyModelTargets
        {
            BuildEngine = engine, Models = new[] { item }, ProjectFile = _project, OutputRoot = "bin/tinyml/", IntermediateRoot = "obj/tinyml/",
            ResourceNamespace = "App", SettingsFile = Path.Combine(_dir, "obj", "compile.settings"),
        };
        return (task.Execute(), engine, task);
    }

    private (bool Ok, FakeBuildEngine Engine) Compile(TaskItem item)
    {
        var engine = new FakeBuildEngine();
        var task = new CompileTinyModels { BuildEngine = engine, Models = new[] { item }, ProjectFile = _project };
        return (task.Execute(), engine);
    }

    private ExecutionPlan WrittenPlan() => PlanContainer.Read(File.ReadAllBytes(Path.Combine(_dir, "obj", "kws.tmlmodel"))).Value!;

    [Theory]
    [InlineData("onnxruntime", true)]
    [InlineData("OnnxRuntime", true)]
    [InlineData("tflite", false)]
    [InlineData(null, false)]
    public void Compile_LowersWithTheRounding(string? rounding, bool floatRequant)
    {
        var (ok, engine) = Compile(Kws(rounding));
        Assert.True(ok, string.Join("\n", engine.Errors.Select(e => e.Message)));
        var kernels = WrittenPlan().Calls.Select(c => c.Kernel).ToList();
        Assert.Equal(floatRequant, kernels.Any(k => k.EndsWith("_float_requant", StringComparison.Ordinal)));
        if (floatRequant) Assert.DoesNotContain(kernels, k => k is "tml_depthwise_conv_s8" or "tml_fully_connected_s8" or "tml_conv_s8");
    }

    [Fact]
    public void AnUnknownRounding_IsTML0003_NamingTheValues_InResolveAndCompile()
    {
        var (resolved, engine, task) = Resolve(Kws("mlas"));
        Assert.False(resolved);
        var error = Assert.Single(engine.Errors);
        Assert.Equal("TML0003", error.Code);
        Assert.Contains("OnnxRounding of", error.Message);
        Assert.Contains("'mlas'; use onnxruntime", error.Message);
        Assert.Contains("or tflite", error.Message);
        Assert.Equal(3, error.LineNumber);
        Assert.Empty(task.ResolvedModels);

        var (compiled, compileEngine) = Compile(Kws("mlas"));
        Assert.False(compiled);
        Assert.Equal("TML0003", Assert.Single(compileEngine.Errors).Code);
        Assert.False(File.Exists(Path.Combine(_dir, "obj", "kws.tmlmodel")));
    }

    [Fact]
    public void TheRounding_IsAKnownSetting_AndAnInputOfTheIncrementalCheck()
    {
        var (ok, engine, _) = Resolve(Kws(null));
        Assert.True(ok, string.Join("\n", engine.Errors.Select(e => e.Message)));
        string settings = Path.Combine(_dir, "obj", "compile.settings");
        string before = File.ReadAllText(settings);
        (ok, engine, _) = Resolve(Kws("onnxruntime"));
        Assert.True(ok, string.Join("\n", engine.Errors.Select(e => e.Message)));
        Assert.Empty(engine.Warnings); // not TML0009
        string after = File.ReadAllText(settings);
        Assert.NotEqual(before, after);
        Assert.Contains("OnnxRounding=onnxruntime", after);
    }
}
