// SPDX-License-Identifier: Apache-2.0
extern alias gen;

using System;
using System.Globalization;
using System.Linq;
using gen::TinyML.Generators;
using Microsoft.CodeAnalysis;
using Xunit;

namespace TinyML.Generators.Tests;

/// <summary>One test per generator diagnostic: the code, the severity, the message and where it points.</summary>
public class DiagnosticTests
{
    private const string Path = Harness.ObjDir + "kws.tmlmodel.json";

    private static (Diagnostic Diagnostic, GeneratorRunResult Run) Single(string json, string id, DiagnosticSeverity severity)
    {
        var (run, _) = Harness.Run(new[] { Harness.Manifest("kws.tmlmodel.json", json) });
        var diagnostic = Assert.Single(run.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(Path, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal($"https://github.com/tinyml-sdk/TinyML.Sdk/blob/main/docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri);
        if (severity == DiagnosticSeverity.Error) Assert.Empty(run.GeneratedSources);
        return (diagnostic, run);
    }

    private static string Message(Diagnostic d) => d.GetMessage(CultureInfo.InvariantCulture);

    private static string Kws(Action<ModelManifest> change)
    {
        var m = Manifests.Kws();
        change(m);
        return m.ToJson();
    }

    [Fact]
    public void TML4001_MalformedManifest_NamesTheFileAndTheParseError()
    {
        string json = "{\n  \"version\": 1,\n  \"model\": \"kws.tflite\",\n  \"class_name\" \"Kws\"\n}";
        var (d, _) = Single(json, DiagnosticIds.InvalidManifest, DiagnosticSeverity.Error);
        Assert.Equal($"The model manifest '{Path}' cannot be read: malformed manifest at character 58: expected ':'", Message(d));
        Assert.Equal(3, d.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void TML4001_UnreadableOrInconsistentManifest()
    {
        var (run, _) = Harness.Run(new[] { Harness.Manifest("kws.tmlmodel.json", null) });
        Assert.Equal($"The model manifest '{Path}' cannot be read: the file cannot be opened", Message(Assert.Single(run.Diagnostics)));

        var (d, _) = Single(Manifests.Kws().ToJson().Replace("\"version\": 1", "\"version\": 2"), DiagnosticIds.InvalidManifest, DiagnosticSeverity.Error);
        Assert.Equal($"The model manifest '{Path}' cannot be read: manifest version 2; expected 1", Message(d));

        (d, _) = Single(Kws(m => m.Inputs[0].Bytes = 49), DiagnosticIds.InvalidManifest, DiagnosticSeverity.Error);
        Assert.Equal($"The model manifest '{Path}' cannot be read: input 0 ('input_1') is 49 bytes, but INT8 [1, 49, 10, 1] takes 490", Message(d));

        (d, _) = Single(Kws(m => m.Outputs[0].Shape = new[] { 1, -12 }), DiagnosticIds.InvalidManifest, DiagnosticSeverity.Error);
        Assert.Equal($"The model manifest '{Path}' cannot be read: output 0 ('Identity') has the invalid shape [1, -12]", Message(d));

        (d, _) = Single("", DiagnosticIds.InvalidManifest, DiagnosticSeverity.Error);
        Assert.Equal($"The model manifest '{Path}' cannot be read: malformed manifest at character 0: unexpected end", Message(d));
    }

    [Theory]
    [InlineData("2Fast", "")]
    [InlineData("class", "")]
    [InlineData("record", "")]
    [InlineData("Key Word", "")]
    [InlineData("Run", " (the generated class has a member of that name)")]
    [InlineData("Input", " (the generated class has a member of that name)")]
    public void TML4002_InvalidClassName(string className, string reason)
    {
        var (d, _) = Single(Kws(m => m.ClassName = className), DiagnosticIds.InvalidClassName, DiagnosticSeverity.Error);
        Assert.Equal($"The model 'kws.tflite' asks for the class name '{className}', which is not a valid C# type name{reason}; " +
                     "set the TinyModel's ClassName metadata to a C# identifier", Message(d));
        Assert.Equal(3, d.Location.GetLineSpan().StartLinePosition.Line); // the "class_name" line (0-based)
    }

    [Theory]
    [InlineData("Demo..Audio")]
    [InlineData("Demo.class")]
    [InlineData("1Demo")]
    [InlineData("global.Demo")]
    [InlineData("Demo.Audio.")]
    public void TML4003_InvalidNamespace(string ns)
    {
        var (d, _) = Single(Kws(m => m.Namespace = ns), DiagnosticIds.InvalidNamespace, DiagnosticSeverity.Error);
        Assert.Equal($"The model 'kws.tflite' asks for the namespace '{ns}', which is not a valid C# namespace; " +
                     "set the TinyModel's Namespace metadata to dot-separated C# identifiers", Message(d));
    }

    [Fact]
    public void TML4004_TwoManifestsForOneClass_TheFirstPathKeepsIt()
    {
        var other = Manifests.Kws();
        other.ModelPath = "/home/someone/project/models/kws_v2.tflite";
        var files = new[]
        {
            Harness.Manifest("kws_v2.tmlmodel.json", other.ToJson()),
            Harness.Manifest("kws.tmlmodel.json", Manifests.Kws().ToJson()),
        };
        var (run, _) = Harness.Run(files);
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal(DiagnosticIds.DuplicateModelClass, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(Harness.ObjDir + "kws_v2.tmlmodel.json", d.Location.GetLineSpan().Path);
        Assert.Equal($"The model 'kws_v2.tflite' generates the class 'Demo.Audio.KeywordSpotter', which the manifest '{Path}' already generates; " +
                     "give one of the TinyModel items another ClassName or Namespace", Message(d));
        Assert.Equal("Demo.Audio.KeywordSpotter.g.cs", Assert.Single(run.GeneratedSources).HintName);
    }

    [Fact]
    public void TML4004_SameClassInAnotherNamespace_IsFine()
    {
        var other = Manifests.Kws();
        other.Namespace = "Demo.Other";
        var (run, _) = Harness.Run(new[] { Harness.Manifest("a.tmlmodel.json", Manifests.Kws().ToJson()), Harness.Manifest("b.tmlmodel.json", other.ToJson()) });
        Assert.Empty(run.Diagnostics);
        Assert.Equal(2, run.GeneratedSources.Length);
    }

    [Theory]
    [InlineData("UINT8")]
    [InlineData("FLOAT16")]
    [InlineData("int8")]
    public void TML4005_UnsupportedTensorType(string type)
    {
        var (d, _) = Single(Kws(m => m.Outputs[0].Type = type), DiagnosticIds.UnsupportedTensorType, DiagnosticSeverity.Error);
        Assert.Equal($"The model 'kws.tflite' has output 0 ('Identity') of type {type}, which the generated class cannot type; " +
                     "supported types are INT8, INT16, INT32 and FLOAT32", Message(d));
    }

    [Fact]
    public void TML4006_LabelCountMismatch_IsAWarning_AndDropsTheLabels()
    {
        var (d, run) = Single(Kws(m => m.Labels.RemoveRange(3, 9)), DiagnosticIds.LabelCountMismatch, DiagnosticSeverity.Warning);
        Assert.Equal("The model 'kws.tflite' has 3 labels but its first output has 12 elements; the labels are ignored (no Label enum and no Predict)", Message(d));
        string text = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.DoesNotContain("enum Label", text);
        Assert.DoesNotContain("Predict", text);
        Assert.Contains("GetOutput", text);
    }

    [Theory]
    [InlineData("protected")]
    [InlineData("Public")]
    [InlineData("")]
    public void TML4007_InvalidAccess(string access)
    {
        var (d, _) = Single(Kws(m => m.Access = access), DiagnosticIds.InvalidAccess, DiagnosticSeverity.Error);
        Assert.Equal($"The model 'kws.tflite' asks for the access '{access}'; the generated class can only be public or internal", Message(d));
    }

    [Fact]
    public void EveryProblem_IsReported_NotJustTheFirst()
    {
        var (run, _) = Harness.Run(new[] { Harness.Manifest("kws.tmlmodel.json", Kws(m => { m.ClassName = "class"; m.Namespace = "a..b"; m.Access = "private"; m.Inputs[0].Type = "BOOL"; })) });
        Assert.Equal(new[] { "TML4002", "TML4003", "TML4005", "TML4007" }, run.Diagnostics.Select(d => d.Id).OrderBy(i => i).ToArray());
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void OtherKinds_AndOtherFiles_AreIgnored()
    {
        var foreign = Harness.Manifest("other.tmlmodel.json", "not a manifest");
        var driver = Harness.Driver(new[] { foreign }, Harness.KindOptions(new[] { foreign }, kind: "SomethingElse"));
        var run = driver.RunGenerators(Harness.Compilation()).GetRunResult().Results.Single();
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.GeneratedSources);

        var (plain, _) = Harness.Run(new[] { Harness.Manifest("kws.json", "not a manifest") });
        Assert.Empty(plain.Diagnostics);
        Assert.Empty(plain.GeneratedSources);
    }

    [Fact]
    public void WithoutKindMetadata_AManifestIsStillRead()
    {
        var file = Harness.Manifest("kws.tmlmodel.json", Manifests.Kws().ToJson());
        var driver = Harness.Driver(new[] { file }, new MemoryOptionsProvider(new System.Collections.Generic.Dictionary<string, System.Collections.Generic.IReadOnlyDictionary<string, string>>()));
        var run = driver.RunGenerators(Harness.Compilation()).GetRunResult().Results.Single();
        Assert.Empty(run.Diagnostics);
        Assert.Single(run.GeneratedSources);
    }

    [Fact]
    public void EveryDescriptor_HasADocsPage_AndATrackingRow()
    {
        string root = System.IO.Path.GetFullPath(System.IO.Path.Combine(Snapshot.Directory, "..", ".."));
        string index = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "docs", "diagnostics", "README.md"));
        string unshipped = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "src", "TinyML.Generators", "AnalyzerReleases.Unshipped.md"));
        foreach (string id in new[] { "TML4001", "TML4002", "TML4003", "TML4004", "TML4005", "TML4006", "TML4007" })
        {
            string page = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "docs", "diagnostics", id + ".md"));
            Assert.StartsWith($"# {id}: ", page);
            Assert.Contains($"[{id}]({id}.md)", index);
            Assert.Contains(id + " | TinyML | ", unshipped);
        }
    }
}
