// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Reports;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The memory report read as a machine reads it: the page is parsed as XML, and the verdict, the axis ticks, the
/// legend, the folded sections and the reasons are checked against the plans they come from.
/// </summary>
public class MemoryReportTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static Model Load(string name) => TfliteReader.ReadFile(SharedData.Model(name)).Value!;

    private static XDocument Parse(string html) => XDocument.Parse(html.Replace("<!DOCTYPE html>", ""));

    private static XElement ById(XDocument page, string id) => page.Descendants().Single(e => (string?)e.Attribute("id") == id);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static long Ram(ExecutionPlan plan) => plan.ArenaBytes + plan.StateBytes;

    [Fact]
    public void Verdict_JudgesTheChosenPlanAgainstTheBudget_AndNamesTheBestPeakWhenNothingFits()
    {
        var model = Load("kws");
        var chosen = Lowerer.Lower(model, SharedData.Model("kws")).Value!;
        var variants = MemoryReport.Variants(model, SharedData.Model("kws"), chosen);
        long need = Ram(chosen), best = variants.Min(v => Ram(v.Plan));
        Assert.True(best < need, "kws's patches lower the peak below the default plan's; the middle case below needs that");

        var fits = Parse(MemoryReport.Render("kws.tflite", model.Main, variants, need));
        var verdict = ById(fits, "verdict");
        Assert.Equal($"Fits: {N(need)} B of {N(need)} B (100%).", verdict.Value);
        Assert.Contains("fits", ((string)verdict.Attribute("class")!).Split(' '));

        var nothingFits = ById(Parse(MemoryReport.Render("kws.tflite", model.Main, variants, best - 1)), "verdict");
        Assert.Equal($"Does not fit: best {N(best)} B > {N(best - 1)} B.", nothingFits.Value);
        Assert.Contains("misses", ((string)nothingFits.Attribute("class")!).Split(' '));

        // Over budget as chosen, but another variant would fit: the verdict says which.
        var another = ById(Parse(MemoryReport.Render("kws.tflite", model.Main, variants, best)), "verdict");
        Assert.StartsWith($"Does not fit as chosen: {N(need)} B > {N(best)} B;", another.Value);
        Assert.Contains($"needs {N(best)} B, which fits", another.Value);

        var noBudget = ById(Parse(MemoryReport.Render("kws.tflite", model.Main, variants, null)), "verdict");
        Assert.StartsWith($"Peak: {N(need)} B", noBudget.Value);
        Assert.Contains($"lower bound {N(chosen.Memory!.Arena.LowerBoundBytes)} B", noBudget.Value);
    }

    [Fact]
    public void Ticks_OnePerStepOnBothAxes_LabelledWithOperatorIndexAndType()
    {
        var model = Load("kws");
        var plan = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var page = Parse(MemoryReport.Render("kws.tflite", model.Main, new[] { new ReportVariant("none", plan, Chosen: true) }, null));
        var graph = model.Main;
        var expected = plan.Memory!.Order.Select(op => $"{op} {graph.Operators[op].TypeName}").ToList();
        foreach (string chart in new[] { "live-0", "layout-0" })
        {
            var svg = ById(page, chart);
            Assert.Equal(graph.Operators.Count, svg.Elements(Svg + "line").Count(l => (string?)l.Attribute("class") == "tick"));
            // 13 operators are under the label limit, so every tick is labelled, in execution order.
            Assert.Equal(expected, svg.Elements(Svg + "text").Where(t => (string?)t.Attribute("class") == "tick-label").Select(t => t.Value).ToList());
        }
    }

    [Fact]
    public void Ticks_OnALongGraph_AreThinnedToEveryKthLabel()
    {
        var model = MemoryTechniqueTests.RandomGraph(11, 70);
        var plan = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var graph = model.Main;
        var live = ById(Parse(MemoryReport.Render("random.tflite", graph, new[] { new ReportVariant("none", plan) }, null)), "live-0");
        int stride = MemoryReport.TickLabelStride(graph.Operators.Count);
        Assert.Equal(2, stride); // 70 steps, at most 40 labels
        Assert.Equal(70, live.Elements(Svg + "line").Count(l => (string?)l.Attribute("class") == "tick"));
        var labels = live.Elements(Svg + "text").Where(t => (string?)t.Attribute("class") == "tick-label").Select(t => t.Value).ToList();
        Assert.Equal(Enumerable.Range(0, 70).Where(s => s % stride == 0).Select(s => $"{plan.Memory!.Order[s]} {graph.Operators[plan.Memory.Order[s]].TypeName}"), labels);
        Assert.True(labels.Count <= MemoryReport.MaxTickLabels);
    }

    [Fact]
    public void Legend_NamesTheLargestBuffersByTheFirstPartOfTheirFusedName()
    {
        var model = Load("kws");
        var plan = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var layout = ById(Parse(MemoryReport.Render("kws.tflite", model.Main, new[] { new ReportVariant("none", plan) }, null)), "layout-0");
        var entries = layout.Elements(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend").Select(g => g.Element(Svg + "text")!.Value).ToList();
        var buffers = plan.Memory!.Arena.Buffers;
        Assert.Equal(Math.Min(MemoryReport.LegendBuffers, buffers.Count), entries.Count);
        var largest = buffers.OrderByDescending(b => b.Bytes).First();
        Assert.Contains(';', largest.Name); // kws's activations carry TFLite's fused names
        string scope = MemoryReport.CommonScope(model.Main);
        Assert.Equal("functional_1/", scope);
        string readable = largest.Name.Split(';')[0].Substring(scope.Length);
        Assert.StartsWith($"1  {readable}: {N(largest.Bytes)} B", entries[0]);
        Assert.DoesNotContain(entries, e => e.Contains(';'));
    }

    [Fact]
    public void Sections_AreFolded_WithOnlyTheChosenPlanOpen_AndTheDocsLinked()
    {
        var model = Load("kws");
        var chosen = Lowerer.Lower(model, SharedData.Model("kws")).Value!;
        var variants = MemoryReport.Variants(model, SharedData.Model("kws"), chosen);
        var page = Parse(MemoryReport.Render("kws.tflite", model.Main, variants, 16384));
        var details = page.Descendants("details").ToList();
        Assert.Equal(variants.Count, details.Count);
        var open = Assert.Single(details, d => d.Attribute("open") is not null);
        int chosenIndex = variants.Select((v, i) => (v, i)).Single(p => p.v.Chosen).i;
        Assert.Equal($"variant-{chosenIndex}", (string?)open.Attribute("id"));
        Assert.Equal(2, open.Descendants(Svg + "svg").Count());
        var links = page.Descendants("a").Select(a => (string?)a.Attribute("href")).ToList();
        Assert.Contains(MemoryReport.DocsBase + "memory.md", links);
        Assert.Contains(MemoryReport.DocsBase + "patches.md", links);
    }

    [Fact]
    public void Reasons_OnKws_SayWhyInPlaceAndReorderingDoNotLowerThePeak_AndTheReportShowsThem()
    {
        var model = Load("kws");
        var graph = model.Main;
        var results = MemoryTechniques.Evaluate(model, SharedData.Model("kws"));
        long none = results[0].ArenaBytes;
        foreach (var r in results.Skip(1))
            Assert.True((r.ArenaBytes < none) == (r.Reason is null), $"{r.Name}: arena {r.ArenaBytes} vs {none}, reason '{r.Reason}'");

        // Depthwise runs in place, but the peak sits at a pointwise CONV_2D, whose input and output both live.
        var depthwise = results.Single(r => r.Name == "inplace-depthwise");
        Assert.Equal(none, depthwise.ArenaBytes);
        int peak = depthwise.Plan!.Memory!.PeakOperator;
        Assert.NotEmpty(depthwise.Plan.Memory.InPlace);
        Assert.Equal(OpKind.Conv2D, graph.Operators[peak].Kind);
        Assert.Contains($"the peak is at operator {peak}, a CONV_2D whose input and output must coexist", depthwise.Reason);
        Assert.Contains($"in place at operators {string.Join(", ", depthwise.Plan.Memory.InPlace.Select(p => p.Operator).OrderBy(i => i))}", depthwise.Reason);

        // kws is a chain: every activation has at most one reader, so reordering has nothing to choose.
        Assert.All(graph.Tensors.Select((t, i) => (t, i)).Where(p => !p.t.IsConstant),
            p => Assert.True(graph.Operators.Count(o => o.Inputs.Contains(p.i)) <= 1));
        Assert.Contains("the graph is a chain: one order only", results.Single(r => r.Name == "reorder").Reason);
        Assert.DoesNotContain(graph.Operators, o => InPlaceKindIsElementwise(o.Kind));
        Assert.Contains("the model has no element-wise operator", results.Single(r => r.Name == "inplace-elementwise").Reason);

        var variants = MemoryReport.Variants(model, results, Lowerer.Lower(model, SharedData.Model("kws")).Value!);
        var reasonRows = Parse(MemoryReport.Render("kws.tflite", graph, variants, null)).Descendants("tr")
            .Where(tr => (string?)tr.Attribute("class") == "reason").Select(tr => tr.Value).ToList();
        foreach (var v in variants.Where(v => v.Reason is not null)) Assert.Contains("no gain: " + v.Reason, reasonRows);
        Assert.Equal(variants.Count(v => v.Reason is not null), reasonRows.Count);
    }

    private static bool InPlaceKindIsElementwise(OpKind kind) => TinyML.Compiler.Planning.InPlace.IsElementwiseKind(kind);

    [Fact]
    public void Reasons_OnAd_NameWhatTheModelLacks()
    {
        var model = Load("ad");
        var results = MemoryTechniques.Evaluate(model, SharedData.Model("ad"));
        Assert.DoesNotContain(model.Main.Operators, o => o.Kind == OpKind.DepthwiseConv2D);
        Assert.Contains("the model has no depthwise convolution", results.Single(r => r.Name == "inplace-depthwise").Reason);
        // The patch planner's own reason, passed through.
        var patches = results.Single(r => r.Name == "patches");
        Assert.False(patches.Plan!.Patches!.Applied);
        Assert.Contains("patches: " + patches.Plan.Patches.Reason, patches.Reason);
    }

    [Fact]
    public void FitToBudget_AnAttemptThatDoesNotLowerThePeak_CarriesItsReasonIntoTheOverBudgetError()
    {
        var model = Load("kws");
        var fit = MemoryTechniques.FitToBudget(model, SharedData.Model("kws"), 8192);
        Assert.False(fit.Fits);
        long plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!.ArenaBytes;
        var first = fit.Attempts[0];
        Assert.Equal(plain, first.ArenaBytes); // the default techniques give kws nothing
        Assert.NotNull(first.Reason);
        Assert.Contains($" [{first.Reason}]", fit.Summary);
        // Later attempts are compared with the first; those that went lower have no reason.
        foreach (var later in fit.Attempts.Skip(1)) Assert.Equal(later.ArenaBytes >= first.ArenaBytes, later.Reason is not null);

        var error = new Diagnostic(DiagnosticIds.RamBudgetExceeded, Severity.Error, "kws.tflite needs more RAM.");
        Assert.Equal("kws.tflite needs more RAM. " + fit.Summary, fit.Explain(error).Message);
        var other = new Diagnostic(DiagnosticIds.FlashBudgetExceeded, Severity.Error, "flash");
        Assert.Equal("flash", fit.Explain(other).Message);
    }

    [Fact]
    public void Render_IsDeterministic_AcrossIndependentEvaluations()
    {
        var model = Load("ic_resnet");
        string Page()
        {
            var fit = MemoryTechniques.FitToBudget(model, SharedData.Model("ic_resnet"), 40000);
            return MemoryReport.Render("ic_resnet.tflite", model.Main, MemoryReport.Variants(model, SharedData.Model("ic_resnet"), fit.Lowered.Value!), 40000);
        }
        string page = Page();
        Assert.Equal(page, Page());
        Assert.DoesNotContain("<script", page);
    }
}
