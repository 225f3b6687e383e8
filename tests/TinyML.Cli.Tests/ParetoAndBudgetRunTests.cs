// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary>
/// <c>tinyml plan --pareto</c> lists the patch planner's peak / extra-MAC front, and <c>tinyml run --ram-budget</c>
/// runs the plan a budget gives, so the front's points can be run and compared from the command line.
/// </summary>
public class ParetoAndBudgetRunTests
{
    private static string Golden(string model, string file) => Path.Combine(SharedData.Root, "golden", model, file);

    private static JsonElement Front(params string[] extra)
    {
        var (code, output, error) = CliRunner.Run(new[] { "plan", SharedData.Model("ic_resnet"), "--json", "--pareto" }.Concat(extra).ToArray());
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement.GetProperty("patch_front");
    }

    [Fact]
    public void PlanPareto_Json_ListsAFront_AndMarksTheCheapestPointWithinTheBudget()
    {
        var front = Front("--ram-budget", "30000");
        long before = front.GetProperty("layer_by_layer_bytes").GetInt64();
        long macs = front.GetProperty("macs").GetInt64();
        Assert.Equal(12_501_632, macs); // MLPerf Tiny's ResNet-8 count
        var points = front.GetProperty("points").EnumerateArray().ToList();
        Assert.True(points.Count >= 5, $"{points.Count} points");
        long Arena(JsonElement p) => p.GetProperty("arena_bytes").GetInt64();
        long Extra(JsonElement p) => p.GetProperty("extra_macs").GetInt64();
        for (int i = 0; i < points.Count; i++)
        {
            Assert.True(Arena(points[i]) < before);
            Assert.Equal(100.0 * Extra(points[i]) / macs, points[i].GetProperty("macs_overhead").GetDouble(), 9);
            // A front: arenas rise while extra MACs fall.
            if (i > 0) Assert.True(Arena(points[i]) > Arena(points[i - 1]) && Extra(points[i]) < Extra(points[i - 1]));
        }
        var marked = points.Where(p => p.TryGetProperty("cheapest_within_budget", out _)).ToList();
        var expected = points.Where(p => Arena(p) <= 30_000).OrderBy(Extra).First();
        Assert.Equal(Arena(expected), Arena(Assert.Single(marked)));
        // Without --pareto there is no front in the JSON.
        var (_, plain, _) = CliRunner.Run("plan", SharedData.Model("ic_resnet"), "--json");
        Assert.False(JsonDocument.Parse(plain).RootElement.TryGetProperty("patch_front", out _));
    }

    [Fact]
    public void PlanPareto_Table_HasOneRowPerPoint_AndSaysWhyThereIsNone()
    {
        int points = Front().GetProperty("points").GetArrayLength();
        var (code, output, error) = CliRunner.Run("plan", SharedData.Model("ic_resnet"), "--pareto");
        Assert.True(code == 0, error);
        var lines = output.Split('\n');
        int header = Array.FindIndex(lines, l => l.StartsWith("patch front: ", StringComparison.Ordinal));
        Assert.True(header >= 0, output);
        Assert.Contains($"{points} split and grid choices", lines[header]);
        Assert.Contains("arena B", lines[header + 1]);
        Assert.Equal(points, lines.Skip(header + 2).Count(l => l.Contains('%')));
        // hello_int8 has nothing to run on tiles: the reason instead of a table.
        (code, output, error) = CliRunner.Run("plan", SharedData.Model("hello_int8"), "--pareto");
        Assert.True(code == 0, error);
        Assert.Contains("patch front: none (no operator at the start of the graph can run on tiles; tiles stop at graph input 0", output);
    }

    [Fact]
    public void RunRamBudget_RunsTheBudgetedPlan_ByteIdenticalToGolden()
    {
        string output = Path.Combine(Path.GetTempPath(), $"tinyml-budget-run-{Guid.NewGuid():N}.bin");
        try
        {
            var (code, json, error) = CliRunner.Run("run", SharedData.Model("ic_resnet"), "--input", Golden("ic_resnet", "input_1.bin"), "--output", output, "--json");
            Assert.True(code == 0, error);
            long unbudgeted = JsonDocument.Parse(json).RootElement.GetProperty("arena_bytes").GetInt64();
            long budget = 30_000;
            Assert.True(unbudgeted > budget);
            (code, json, error) = CliRunner.Run("run", SharedData.Model("ic_resnet"), "--input", Golden("ic_resnet", "input_1.bin"), "--output", output,
                "--json", "--ram-budget", $"{budget}");
            Assert.True(code == 0, error);
            var root = JsonDocument.Parse(json).RootElement;
            Assert.InRange(root.GetProperty("arena_bytes").GetInt64(), 1, budget);
            Assert.True(root.GetProperty("macs_overhead").GetDouble() > 0, "patches recompute halos");
            Assert.True(root.GetProperty("macs").GetInt64() > 12_501_632);
            Assert.Equal(File.ReadAllBytes(Golden("ic_resnet", "output_1.bin")), File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Theory]
    [InlineData("lots", "not a size")]
    [InlineData("0KB", "a size is a positive number of bytes")]
    [InlineData("2GB", "unsupported unit")]
    public void RunRamBudget_BadValue_IsAUsageError(string value, string says)
    {
        var (code, _, error) = CliRunner.Run("run", SharedData.Model("ic_resnet"), "--input", Golden("ic_resnet", "input_1.bin"),
            "--output", Path.Combine(Path.GetTempPath(), "tml-unused.bin"), "--ram-budget", value);
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains($"--ram-budget is '{value}'", error);
        Assert.Contains(says, error);
    }
}
