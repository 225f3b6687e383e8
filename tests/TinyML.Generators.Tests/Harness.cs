// SPDX-License-Identifier: Apache-2.0
extern alias gen;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using gen::TinyML.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace TinyML.Generators.Tests;

/// <summary>An additional file held in memory (a null text stands for a file that cannot be read).</summary>
public sealed class MemoryAdditionalText(string path, string? text) : AdditionalText
{
    private readonly SourceText? _text = text is null ? null : SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText? GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>Analyzer-config options per additional file path, as MSBuild's generated .editorconfig would give them.</summary>
public sealed class MemoryOptionsProvider(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> perFile) : AnalyzerConfigOptionsProvider
{
    private static readonly MemoryOptions None = new(new Dictionary<string, string>());

    public override AnalyzerConfigOptions GlobalOptions => None;

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => None;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        perFile.TryGetValue(textFile.Path, out var options) ? new MemoryOptions(options) : None;

    private sealed class MemoryOptions(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value)
        {
            bool found = values.TryGetValue(key, out var v);
            value = v ?? "";
            return found;
        }
    }
}

/// <summary>Runs the generator in memory, the way the compiler does, and compiles its output.</summary>
public static class Harness
{
    /// <summary>C# 12 (the newest this Roslyn knows), with doc comments checked so that CS1591 reports undocumented members.</summary>
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12, DocumentationMode.Diagnose);

    /// <summary>Where the test manifests pretend to live (never appears in generated code).</summary>
    public const string ObjDir = "/home/someone/project/obj/Debug/net10.0/tinyml/";

    /// <summary>The shared framework plus TinyML.Runtime and TinyML.Plan: what an app has, without the compiler.</summary>
    public static readonly IReadOnlyList<MetadataReference> References = LoadReferences();

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetDirectoryName(p) == framework)
            .Append(typeof(TinyML.Runtime.PlanExecutor).Assembly.Location)
            .Append(typeof(TinyML.Compiler.Plan.ExecutionPlan).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create(
            "UserProject",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Program{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // The SDK's own NoWarn: assembly-unification notes for the implementation assemblies we reference.
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress }));

    /// <summary>A manifest as the build would add it: {ObjDir}{fileName}, with TinyML_Kind=TinyModel.</summary>
    public static AdditionalText Manifest(string fileName, string? json) => new MemoryAdditionalText(ObjDir + fileName, json);

    public static MemoryOptionsProvider KindOptions(IEnumerable<AdditionalText> files, string kind = TinyModelGenerator.KindValue) =>
        new(files.ToDictionary(f => f.Path, f => (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { [TinyModelGenerator.KindKey] = kind }));

    public static GeneratorDriver Driver(IReadOnlyList<AdditionalText> files, AnalyzerConfigOptionsProvider? options = null) =>
        CSharpGeneratorDriver.Create(
            new[] { new TinyModelGenerator().AsSourceGenerator() },
            files,
            ParseOptions,
            options ?? KindOptions(files),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator over the manifests (and optional user sources); returns the run and the updated compilation.</summary>
    public static (GeneratorRunResult Run, Compilation Output) Run(IReadOnlyList<AdditionalText> files, params string[] sources)
    {
        var driver = Driver(files).RunGeneratorsAndUpdateCompilation(Compilation(sources), out var output, out var driverDiagnostics);
        var run = driver.GetRunResult().Results.Single();
        // A generator that throws shows up as CS8785 and an Exception; ours never may.
        if (run.Exception is not null) throw new InvalidOperationException("the generator threw", run.Exception);
        Assert.Equal(run.Diagnostics.Length, driverDiagnostics.Length);
        return (run, output);
    }

    /// <summary>The one generated file of a single manifest.</summary>
    public static GeneratedSourceResult Generate(string fileName, string json)
    {
        var (run, _) = Run(new[] { Manifest(fileName, json) });
        Assert.Empty(run.Diagnostics);
        return Assert.Single(run.GeneratedSources);
    }

    /// <summary>Compiler errors and warnings of a compilation.</summary>
    public static ImmutableArray<Diagnostic> Problems(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
}
