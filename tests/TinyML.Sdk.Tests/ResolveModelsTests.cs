// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using Microsoft.Build.Utilities;
using TinyML.Sdk.Tasks;
using Xunit;

namespace TinyML.Sdk.Tests;

/// <summary>What the resolve task checks and decides before any model is compiled: metadata, file names, settings,
/// and where a diagnostic about a project-wide setting points.</summary>
public sealed class ResolveModelsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-resolve-{Guid.NewGuid():N}");
    private readonly string _project;
    private readonly string _settings;

    public ResolveModelsTests()
    {
        Directory.CreateDirectory(_dir);
        _project = Path.Combine(_dir, "App.csproj");
        _settings = Path.Combine(_dir, "obj", "compile.settings");
        File.WriteAllLines(_project, new[]
        {
            "<Project Sdk=\"TinyML.Sdk/0.1.0\">",
            "  <ItemGroup>",
            "    <TinyModel Include=\"kws.tflite\" RamBuget=\"16KB\" Link=\"models/kws.tflite\" />",
            "    <TinyModel Include=\"missing.tflite\" />",
            "  </ItemGroup>",
            "</Project>",
        });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TaskItem Item(string file, params (string Name, string Value)[] metadata)
    {
        string path = Path.Combine(_dir, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path)) File.WriteAllBytes(path, Array.Empty<byte>());
        var item = new TaskItem(path);
        foreach (var (name, value) in metadata) item.SetMetadata(name, value);
        return item;
    }

    private (bool Ok, FakeBuildEngine Engine, ResolveTinyModelTargets Task) Resolve(Action<ResolveTinyModelTargets, FakeBuildEngine>? configure, params TaskItem[] models)
    {
        var engine = new FakeBuildEngine();
        var task = new ResolveTinyModelTargets
        {
            BuildEngine = engine, Models = models, ProjectFile = _project, OutputRoot = "bin/tinyml/", IntermediateRoot = "obj/tinyml/",
            ResourceNamespace = "App", SettingsFile = _settings,
        };
        configure?.Invoke(task, engine);
        return (task.Execute(), engine, task);
    }

    [Fact]
    public void MisspeltMetadata_IsTML0009WithTheNearestName_AtItsLine_AndToolMetadataIsNot()
    {
        var (ok, engine, _) = Resolve(null, Item("kws.tflite", ("RamBuget", "16KB"), ("Link", "models/kws.tflite"), ("_MyNote", "x")));
        Assert.True(ok);
        var warning = Assert.Single(engine.Warnings);
        Assert.Equal("TML0009", warning.Code);
        Assert.Contains("'RamBuget'", warning.Message);
        Assert.Contains("did you mean 'RamBudget'?", warning.Message);
        Assert.Equal(_project, warning.File);
        Assert.Equal(3, warning.LineNumber);
        Assert.Equal("https://github.com/tinyml-sdk/TinyML.Sdk/blob/main/docs/diagnostics/TML0009.md", warning.HelpLink);
    }

    [Theory]
    [InlineData("Target", "TargetCore")]
    [InlineData("ClasName", "ClassName")]
    [InlineData("calibraton", "Calibration")]
    [InlineData("MemoryReports", "MemoryReport")]
    [InlineData("Colour", null)]
    public void ClosestKnown_SuggestsOnlyNearNames(string written, string? suggested) =>
        Assert.Equal(suggested, ResolveTinyModelTargets.ClosestKnown(written));

    [Fact]
    public void MissingModelFile_IsTML0011AtTheLineOfItsInclude()
    {
        var model = new TaskItem("missing.tflite");
        var (ok, engine, task) = Resolve(null, model);
        Assert.False(ok);
        var error = Assert.Single(engine.Errors);
        Assert.Equal("TML0011", error.Code);
        Assert.Equal(_project, error.File);
        Assert.Equal(4, error.LineNumber);
        Assert.Empty(task.ResolvedModels);
    }

    [Fact]
    public void TwoModelsWithOneFileName_GetTheirOwnPlanManifestAndResource()
    {
        var (ok, engine, task) = Resolve(null, Item("a/model.tflite"), Item("b/model.tflite"), Item("kws.tflite"));
        Assert.True(ok, string.Join("\n", engine.Errors.Select(e => e.Message)));
        foreach (string metadata in new[] { "_TinyML_PlanFile", "_TinyML_ManifestFile", "_TinyML_ResourceName" })
            Assert.Equal(3, task.ResolvedModels.Select(m => m.GetMetadata(metadata)).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        // A unique file name keeps its plain name.
        Assert.Equal("App.kws.tmlmodel", task.ResolvedModels[2].GetMetadata("_TinyML_ResourceName"));
        Assert.Equal(Path.Combine(_dir, "obj", "tinyml", "kws.tmlmodel"), task.ResolvedModels[2].GetMetadata("_TinyML_PlanFile"));
        Assert.StartsWith("App.model-", task.ResolvedModels[0].GetMetadata("_TinyML_ResourceName"));

        // The names do not depend on the order of the items.
        var (_, _, swapped) = Resolve(null, Item("b/model.tflite"), Item("a/model.tflite"));
        Assert.Equal(task.ResolvedModels[0].GetMetadata("_TinyML_PlanFile"), swapped.ResolvedModels[1].GetMetadata("_TinyML_PlanFile"));
    }

    [Fact]
    public void TheSettingsFile_ChangesWithEverySetting_AndIsNotRewrittenWhenNothingChanged()
    {
        Resolve(null, Item("kws.tflite"));
        string first = File.ReadAllText(_settings);
        var stamp = DateTime.UtcNow.AddHours(-1);
        File.SetLastWriteTimeUtc(_settings, stamp);
        Resolve(null, Item("kws.tflite"));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(_settings));

        var variants = new Action<ResolveTinyModelTargets>[]
        {
            t => t.RamBudget = "16KB", t => t.FlashBudget = "1MB", t => t.Board = "pico", t => t.Target = "cortex-m4",
            t => t.MemoryReport = "true", t => t.OptimizeFor = "size", t => t.SqnrWarning = "20", t => t.ResourceNamespace = "Other",
        };
        foreach (var change in variants)
        {
            Resolve((t, _) => change(t), Item("kws.tflite"));
            Assert.NotEqual(first, File.ReadAllText(_settings));
        }
        Assert.True(Resolve(null, Item("kws.tflite", ("ClassName", "Spotter"))).Ok);
        Assert.Contains("ClassName=Spotter", File.ReadAllText(_settings));
    }

    [Fact]
    public void ASettingFromTheCommandLineOrDirectoryBuildProps_IsNamedAndLocated()
    {
        string props = Path.Combine(_dir, "Directory.Build.props");
        File.WriteAllLines(props, new[] { "<Project>", "  <PropertyGroup>", "    <TinyMLBoard>esp32</TinyMLBoard>", "  </PropertyGroup>", "</Project>" });
        var (ok, engine, _) = Resolve((t, _) => { t.Board = "esp32"; t.ImportedProjects = new[] { props }; }, Item("kws.tflite"));
        Assert.False(ok);
        var error = Assert.Single(engine.Errors);
        Assert.Equal("TML0002", error.Code);
        Assert.Equal(props, error.File);
        Assert.Equal(3, error.LineNumber);

        // A global property wins over any file, and the message cannot point at a line.
        var (_, global, _) = Resolve((t, e) => { t.Board = "esp32"; t.ImportedProjects = new[] { props }; e.GlobalProperties["TinyMLBoard"] = "esp32"; }, Item("kws.tflite"));
        Assert.Equal(_project, Assert.Single(global.Errors).File);
        Assert.Equal(0, global.Errors[0].LineNumber);
    }
}
