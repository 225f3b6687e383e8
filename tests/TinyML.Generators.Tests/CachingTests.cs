// SPDX-License-Identifier: Apache-2.0
extern alias gen;

using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using gen::TinyML.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace TinyML.Generators.Tests;

/// <summary>The incremental pipeline caches: unchanged manifests and C# edits re-run nothing; the models hold no compiler objects.</summary>
public class CachingTests
{
    private static readonly string[] AllSteps = { TrackingNames.Files, TrackingNames.Models, TrackingNames.Collisions, TrackingNames.Output };

    private static AdditionalText[] Files() => new[]
    {
        Harness.Manifest("kws.tmlmodel.json", Manifests.Kws().ToJson()),
        Harness.Manifest("hello_float.tmlmodel.json", Manifests.Sine().ToJson()),
        Harness.Manifest("wake.tmlmodel.json", Manifests.Streaming().ToJson()),
    };

    private static GeneratorRunResult Result(GeneratorDriver driver) => driver.GetRunResult().Results.Single();

    private static IEnumerable<(string Step, IncrementalStepRunReason Reason)> Reasons(GeneratorRunResult run, params string[] steps) =>
        steps.SelectMany(step =>
        {
            Assert.True(run.TrackedSteps.TryGetValue(step, out var runs), $"step {step} was not tracked");
            return runs.SelectMany(r => r.Outputs).Select(o => (step, o.Reason));
        });

    private static void AssertAllCached(GeneratorRunResult run, params string[] steps)
    {
        var reasons = Reasons(run, steps).ToList();
        Assert.NotEmpty(reasons);
        var rerun = reasons.Where(r => r.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)).ToList();
        Assert.True(rerun.Count == 0, "re-ran: " + string.Join(", ", rerun));
    }

    [Fact]
    public void SecondRun_WithSameInputs_IsCached()
    {
        var compilation = Harness.Compilation("namespace User { /// <summary>A.</summary>\npublic class A { } }");
        var driver = Harness.Driver(Files()).RunGenerators(compilation);
        Assert.Equal(3, Result(driver).GeneratedSources.Length);
        var run = Result(driver.RunGenerators(compilation.Clone()));
        AssertAllCached(run, AllSteps);
        Assert.Equal(3, run.GeneratedSources.Length);
    }

    [Fact]
    public void CSharpEdits_DoNotRerunTheModelSteps()
    {
        var compilation = Harness.Compilation("namespace User { /// <summary>A.</summary>\npublic class A { } }");
        var driver = Harness.Driver(Files()).RunGenerators(compilation);

        // Add a syntax tree.
        var added = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace User { /// <summary>B.</summary>\npublic class B { } }", Harness.ParseOptions));
        driver = driver.RunGenerators(added);
        AssertAllCached(Result(driver), AllSteps);

        // Edit an existing one.
        var tree = added.SyntaxTrees.First();
        var edited = added.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText("namespace User { /// <summary>A.</summary>\npublic class A { /// <summary>X.</summary>\npublic int X; } }", Harness.ParseOptions));
        driver = driver.RunGenerators(edited);
        AssertAllCached(Result(driver), AllSteps);
    }

    [Fact]
    public void EditingOneManifest_RerunsOnlyThatModel()
    {
        var files = Files();
        var compilation = Harness.Compilation();
        var driver = Harness.Driver(files).RunGenerators(compilation);
        var changed = Manifests.Sine();
        changed.Macs = 300;
        var replacement = Harness.Manifest("hello_float.tmlmodel.json", changed.ToJson());
        driver = driver.ReplaceAdditionalText(files[1], replacement).RunGenerators(compilation);

        var models = Reasons(Result(driver), TrackingNames.Models).Select(r => r.Reason).ToList();
        Assert.Equal(1, models.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(2, models.Count(r => r == IncrementalStepRunReason.Cached));
        // The set of collisions is the same (empty), so it stays unchanged.
        Assert.All(Reasons(Result(driver), TrackingNames.Collisions), r => Assert.Equal(IncrementalStepRunReason.Unchanged, r.Reason));
        Assert.Contains("public const long Macs = 300;", Result(driver).GeneratedSources.Single(s => s.HintName == "HelloSine.SineModel.g.cs").SourceText.ToString());
    }

    /// <summary>
    /// A manifest rewritten with equivalent content (a new file object, other whitespace) is parsed again, but the
    /// parse equals the previous one, so nothing after it runs: this is what value equality of the models buys.
    /// </summary>
    [Fact]
    public void EquivalentManifest_StopsAtTheModelStep()
    {
        var files = Files();
        var compilation = Harness.Compilation();
        var driver = Harness.Driver(files).RunGenerators(compilation);
        var rewritten = Harness.Manifest("kws.tmlmodel.json", Manifests.Kws().ToJson().Replace("\n", "\r\n") + "\n\n");
        driver = driver.ReplaceAdditionalText(files[0], rewritten).RunGenerators(compilation);

        var run = Result(driver);
        Assert.Contains(Reasons(run, TrackingNames.Files), r => r.Reason == IncrementalStepRunReason.Modified);
        var models = Reasons(run, TrackingNames.Models).Select(r => r.Reason).ToList();
        Assert.Equal(1, models.Count(r => r == IncrementalStepRunReason.Unchanged));
        Assert.Equal(2, models.Count(r => r == IncrementalStepRunReason.Cached));
        AssertAllCached(run, TrackingNames.Collisions, TrackingNames.Output);
    }

    [Fact]
    public void PipelineModels_HoldNoSymbolsSyntaxOrCompilation()
    {
        var files = Files().Append(Harness.Manifest("bad.tmlmodel.json", "{ not json")).ToArray();
        var run = Result(Harness.Driver(files).RunGenerators(Harness.Compilation()));
        int visited = 0;
        foreach (string step in new[] { TrackingNames.Models, TrackingNames.Collisions, TrackingNames.Output })
        {
            foreach (var output in run.TrackedSteps[step].SelectMany(r => r.Outputs))
            {
                AssertNoCompilerObjects(output.Value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
                visited++;
            }
        }
        Assert.True(visited >= 9, $"only {visited} outputs were checked");
    }

    private static readonly Type[] Forbidden = { typeof(Compilation), typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel), typeof(Location) };

    private static void AssertNoCompilerObjects(object? node, string path, HashSet<object> visited)
    {
        if (node is null) return;
        var type = node.GetType();
        if (type.IsPrimitive || type.IsEnum || node is string || node is decimal) return;
        Assert.False(Forbidden.Any(f => f.IsInstanceOfType(node)), $"{path} holds a {type.Name}");
        if (!type.IsValueType && !visited.Add(node)) return;
        if (node is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items) AssertNoCompilerObjects(item, $"{path}[{i++}]", visited);
        }
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                Assert.False(Forbidden.Any(f => f.IsAssignableFrom(field.FieldType) || field.FieldType.IsAssignableFrom(f) && field.FieldType != typeof(object)),
                    $"{path}.{field.Name} is declared as {field.FieldType.Name}");
                AssertNoCompilerObjects(field.GetValue(node), $"{path}.{field.Name}", visited);
            }
        }
    }
}
