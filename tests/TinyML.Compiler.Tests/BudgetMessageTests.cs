// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>
/// What TML3001 and TML3002 say, checked against the model and plan: the impossible budgets, the tensors named by
/// their first fused entry, and the largest constants.
/// </summary>
public class BudgetMessageTests
{
    private static (Graph Graph, CompiledPlan Plan) Lowered(string model)
    {
        var read = TfliteReader.ReadFile(SharedData.Model(model));
        var plan = Lowerer.Lower(read.Value!, model).Value!;
        return (read.Value!.Main, plan);
    }

    private static Diagnostic SingleError(Graph graph, ExecutionPlan plan, Budget? ram, Budget? flash, string id)
    {
        var error = Assert.Single(BudgetCheck.Check("m.tflite", graph, plan, ram, flash));
        Assert.Equal(id, error.Id);
        Assert.Equal(Severity.Error, error.Severity);
        return error;
    }

    private static string Bytes(long bytes) => bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes";

    private static long InputBytes(Graph graph) =>
        graph.Inputs.Sum(t => graph.Tensors[t].Shape.Aggregate(1L, (a, d) => a * d) * DataTypes.SizeOf(graph.Tensors[t].Type));

    [Fact]
    public void TML3001_InputAloneOverTheBudget_SaysNoPlanCanFitAndWhatWouldHelp()
    {
        var (graph, plan) = Lowered("ic_resnet");
        long input = InputBytes(graph);
        var error = SingleError(graph, plan, new Budget(input - 1, "test"), null, DiagnosticIds.RamBudgetExceeded);
        Assert.Contains($"The input '{graph.Tensors[graph.Inputs[0]].Name.Split(';')[0]}'", error.Message);
        Assert.Contains($"alone holds {Bytes(input)}", error.Message);
        Assert.Contains("impossible whatever the memory techniques cut elsewhere", error.Message);
        Assert.Contains("smaller input (a lower resolution or fewer input channels)", error.Message);
        Assert.Contains($"raise the budget to at least {Bytes(BudgetCheck.RamBytes(plan))}", error.Message);
    }

    [Fact]
    public void TML3001_StateAndInputOverTheBudget_SaysNoPlanCanFit()
    {
        // keyword_scrambled keeps its SVDF memories between invocations, outside the arena.
        var (graph, plan) = Lowered("keyword_scrambled");
        long state = graph.Tensors.Where(t => t.IsVariable).Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d) * DataTypes.SizeOf(t.Type));
        long input = InputBytes(graph);
        Assert.True(state > 0 && input < state);
        Assert.Equal(state, plan.StateBytes);
        var error = SingleError(graph, plan, new Budget(state + input - 1, "test"), null, DiagnosticIds.RamBudgetExceeded);
        Assert.Contains($"persistent state (variable tensors kept between invocations, such as SVDF memories) holds {Bytes(state)} (", error.Message);
        Assert.Contains($"and its input {Bytes(input)} (", error.Message);
        Assert.Contains("this budget is impossible", error.Message);
        Assert.DoesNotContain("The peak is at", error.Message);

        // With room for state and input, the message points at the peak as before.
        var fits = SingleError(graph, plan, new Budget(state + input, "test"), null, DiagnosticIds.RamBudgetExceeded);
        Assert.Contains("The peak is at", fits.Message);
    }

    [Fact]
    public void TML3001_InputWithinTheBudget_PointsAtThePeakInstead()
    {
        var (graph, plan) = Lowered("ic_resnet");
        long input = InputBytes(graph);
        Assert.True(input + 1 < plan.ArenaBytes, "the case needs a budget between the input and the arena");
        var error = SingleError(graph, plan, new Budget(input + 1, "test"), null, DiagnosticIds.RamBudgetExceeded);
        Assert.DoesNotContain("impossible", error.Message);
        Assert.Contains("The peak is at operator", error.Message);
    }

    [Fact]
    public void TML3001_PeakBuffers_AreNamedByTheFirstFusedEntry()
    {
        var (graph, plan) = Lowered("kws");
        var arena = plan.Memory!.Arena;
        var live = arena.Buffers.Where(b => b.FirstOp <= arena.PeakOperator && arena.PeakOperator <= b.LastOp)
            .OrderByDescending(b => b.Bytes).Take(3).ToList();
        Assert.Contains(live, b => b.Name.Contains(';'));  // kws fuses names: the case the naming is for
        var error = SingleError(graph, plan, new Budget(8192, "test"), null, DiagnosticIds.RamBudgetExceeded);
        foreach (var buffer in live)
        {
            string first = buffer.Name.Split(';')[0];
            Assert.True(first.Length <= TensorNames.MaxLength, first);
            Assert.Contains($"'{first}' {Bytes(buffer.Bytes)}", error.Message);
        }
        Assert.DoesNotContain(";", error.Message);
    }

    [Fact]
    public void TML3002_NamesTheThreeLargestConstants_WithTheirShare()
    {
        var (graph, plan) = Lowered("kws");
        long total = plan.Constants.Sum(c => (long)c.Length);
        var error = SingleError(graph, plan, null, new Budget(16 * 1024, "test"), DiagnosticIds.FlashBudgetExceeded);
        var named = Regex.Matches(error.Message, @"'(?<name>[^']+)' \(operator (?<op>\d+), (?<type>[A-Z_0-9]+)\) with (?<bytes>[\d,]+) bytes \([\d.]+ KB\), (?<share>\d+)%").ToList();

        Assert.Equal(BudgetCheck.LargestConstantsNamed, named.Count);
        var largestSizes = plan.Constants.Select(c => (long)c.Length).OrderByDescending(b => b).Take(named.Count);
        Assert.Equal(largestSizes, named.Select(m => long.Parse(m.Groups["bytes"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)));
        foreach (var m in named)
        {
            long bytes = long.Parse(m.Groups["bytes"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            var op = graph.Operators[int.Parse(m.Groups["op"].Value, CultureInfo.InvariantCulture)];
            Assert.Equal(op.TypeName, m.Groups["type"].Value);
            // The name is the first fused entry of a constant input of that operator, of exactly those bytes.
            Assert.Contains(op.Inputs, t => t >= 0 && graph.Tensors[t].Data is { } data && data.Length == bytes &&
                graph.Tensors[t].Name.Split(';')[0] == m.Groups["name"].Value);
            Assert.InRange(int.Parse(m.Groups["share"].Value, CultureInfo.InvariantCulture) - 100.0 * bytes / total, -0.5, 0.5);
        }
        Assert.Contains($"of the {Bytes(total)} (", error.Message);
    }

    [Fact]
    public void TML3002_OneConstantOverTheBudget_SaysNoOtherCutCanFit()
    {
        var (graph, plan) = Lowered("kws");
        var largest = graph.Operators.SelectMany(op => op.Inputs).Where(t => t >= 0 && graph.Tensors[t].Data is not null)
            .Select(t => graph.Tensors[t]).OrderByDescending(t => t.Data!.Value.Length).First();
        long bytes = largest.Data!.Value.Length;
        var error = SingleError(graph, plan, null, new Budget(bytes - 1, "test"), DiagnosticIds.FlashBudgetExceeded);
        Assert.Contains($"alone holds {Bytes(bytes)} (", error.Message);
        Assert.Contains("more than the whole budget, so no cut elsewhere can fit this model", error.Message);
        Assert.Contains("make that layer smaller", error.Message);
    }

    [Fact]
    public void PlanConstants_NameEveryWeightBlob_AndLeaveComputedOnesUnnamed()
    {
        var (graph, plan) = Lowered("hello_int8");
        var described = PlanConstants.Describe(graph, plan);
        Assert.Equal(plan.Constants.Count, described.Count);
        // Every constant input of every operator is a blob of its own (the lowering copies tensor data as is).
        int weightTensors = graph.Operators.SelectMany(op => op.Inputs).Where(t => t >= 0 && graph.Tensors[t].Data is not null).Distinct().Count();
        Assert.Equal(weightTensors, described.Count(c => c.TensorName is not null));
        Assert.All(described.Where(c => c.TensorName is null), c => Assert.StartsWith($"constant #{c.Blob} (parameters computed for operator", c.Label));
    }
}
