// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Reports;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary><c>tinyml plan --report</c>: the page the command writes is the one MemoryReport builds from the same plans.</summary>
public class PlanReportTests
{
    [Fact]
    public void Json_SaysWhyATechniqueDidNotLowerThePeak()
    {
        var (code, output, error) = CliRunner.Run("plan", SharedData.Model("kws"), "--json");
        Assert.True(code == 0, error);
        var techniques = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("techniques").EnumerateArray().ToList();
        var model = TfliteReader.ReadFile(SharedData.Model("kws")).Value!;
        var evaluated = MemoryTechniques.Evaluate(model, SharedData.Model("kws"));
        Assert.Equal(evaluated.Select(t => t.Name), techniques.Select(t => t.GetProperty("name").GetString()));
        foreach (var (json, result) in techniques.Zip(evaluated))
            Assert.Equal(result.Reason, json.TryGetProperty("reason", out var reason) ? reason.GetString() : null);
        // kws is a chain: reordering cannot help, and the JSON says so.
        Assert.Contains("chain", techniques.Single(t => t.GetProperty("name").GetString() == "reorder").GetProperty("reason").GetString());
    }

    [Fact]
    public void Report_OverBudget_HasTheVerdictTheReasonsAndTheWarningSaysWhy()
    {
        string html = Path.Combine(Path.GetTempPath(), $"tml-report-{Guid.NewGuid():N}.html");
        try
        {
            var (code, _, error) = CliRunner.Run("plan", SharedData.Model("kws"), "--report", html, "--ram-budget", "8KB");
            Assert.True(code == 0, error);
            var model = TfliteReader.ReadFile(SharedData.Model("kws")).Value!;
            var fit = MemoryTechniques.FitToBudget(model, SharedData.Model("kws"), 8192);
            // The warning is the over-budget summary, reasons included.
            Assert.Contains(fit.Summary, error);
            Assert.Contains(" [", fit.Summary);

            var page = XDocument.Parse(File.ReadAllText(html).Replace("<!DOCTYPE html>", ""));
            long best = fit.Attempts.Where(a => a.Plan is not null).Min(a => a.Plan!.ArenaBytes + a.Plan.StateBytes);
            var variants = MemoryReport.Variants(model, SharedData.Model("kws"), fit.Lowered.Value!);
            best = Math.Min(best, variants.Min(v => v.Plan.ArenaBytes + v.Plan.StateBytes));
            string verdict = page.Descendants().Single(e => (string?)e.Attribute("id") == "verdict").Value;
            Assert.Equal($"Does not fit: best {best.ToString("N0", CultureInfo.InvariantCulture)} B > 8,192 B.", verdict);
            Assert.Equal(variants.Count, page.Descendants("details").Count());
            Assert.Equal(variants.Count(v => v.Reason is not null), page.Descendants("tr").Count(tr => (string?)tr.Attribute("class") == "reason"));
            Assert.True(variants.Count(v => v.Reason is not null) >= 3, "kws: in-place depthwise, element-wise and reordering each fail to lower its peak");
        }
        finally
        {
            File.Delete(html);
        }
    }
}
