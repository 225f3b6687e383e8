// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Tflite;
using TinyML.Samples;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The patch planner's peak / MAC Pareto front: the pruned search finds the front that placing every candidate
/// gives; the budget mode takes the cheapest point within the budget; balanced (non-uniform) bands cover the stage
/// output and run byte-identical to the layer-by-layer plan, on golden models, random chains and VWW's MobileNetV1.
/// </summary>
public class PatchFrontTests
{
    /// <summary>The front of a list of points, by definition: no other point is no worse in both and better in one; one point per (arena, MACs).</summary>
    private static List<PatchPoint> FrontOf(IEnumerable<PatchPoint> points)
    {
        var all = points.ToList();
        return all.Where(p => !all.Any(q => q.ArenaBytes <= p.ArenaBytes && q.Macs <= p.Macs && (q.ArenaBytes < p.ArenaBytes || q.Macs < p.Macs)))
            .GroupBy(p => (p.ArenaBytes, p.Macs)).Select(g => g.First()).OrderBy(p => p.ArenaBytes).ToList();
    }

    /// <summary>The kernel scratch per operator that the lowering planned (host kernels), read from a layer-by-layer plan.</summary>
    internal static long[] ScratchOf(Graph graph, CompiledPlan plain)
    {
        var scratch = new long[graph.Operators.Count];
        for (int i = 0; i < scratch.Length; i++)
            scratch[i] = plain.Memory!.Arena.Buffers.Where(b => b.Name == $"scratch of operator {i}").Sum(b => b.Bytes);
        return scratch;
    }

    private static (PatchFront Search, List<PatchPoint> Exhaustive) SearchAndExhaustive(Graph graph)
    {
        var scratch = new long[graph.Operators.Count];
        var search = PatchPlanner.Front(graph, scratch);
        var exhaustive = FrontOf(PatchPlanner.Candidates(graph, scratch)
            .Where(c => c.Arena.ArenaBytes < search.PeakBefore).Select(search.Point));
        return (search, exhaustive);
    }

    private static void AssertSameFront(IReadOnlyList<PatchPoint> expected, IReadOnlyList<PatchPoint> actual, string what)
    {
        Assert.True(expected.Select(p => (p.ArenaBytes, p.Macs)).SequenceEqual(actual.Select(p => (p.ArenaBytes, p.Macs))),
            $"{what}: exhaustive front [{string.Join(", ", expected.Select(p => $"{p.ArenaBytes} B/{p.Macs}"))}] " +
            $"differs from the search's [{string.Join(", ", actual.Select(p => $"{p.ArenaBytes} B/{p.Macs}"))}]");
    }

    [Fact]
    public void IcResnet_PrunedSearch_FindsTheExhaustiveFront_Deterministically()
    {
        var graph = TfliteReader.ReadFile(SharedData.Model("ic_resnet")).Value!.Main;
        var (search, exhaustive) = SearchAndExhaustive(graph);
        Assert.True(exhaustive.Count >= 5, $"only {exhaustive.Count} front points");
        AssertSameFront(exhaustive, search.Points, "ic_resnet");
        // Fewer placed than considered: the pruning is real, and the result does not depend on it.
        Assert.True(search.Evaluated.Count < search.Considered / 4, $"{search.Evaluated.Count} of {search.Considered} placed");
        var again = PatchPlanner.Front(graph, new long[graph.Operators.Count]);
        Assert.True(search.Points.SequenceEqual(again.Points));
        // Lowest arena first, MACs falling: every point buys memory with MACs.
        for (int i = 1; i < search.Points.Count; i++)
            Assert.True(search.Points[i].ArenaBytes > search.Points[i - 1].ArenaBytes && search.Points[i].Macs < search.Points[i - 1].Macs);
    }

    [Fact]
    public void RandomChains_PrunedSearch_FindsTheExhaustiveFront()
    {
        var random = new Random(20261207);
        int fronts = 0;
        for (int trial = 0; trial < 25; trial++)
        {
            var graph = PatchTests.RandomChain(random).Main;
            var (search, exhaustive) = SearchAndExhaustive(graph);
            AssertSameFront(exhaustive, search.Points, $"trial {trial}");
            if (exhaustive.Count > 1) fronts++;
        }
        Assert.True(fronts >= 5, $"only {fronts} chains with a front of two points or more");
    }

    /// <summary>NCHW-input chains (a PyTorch export's TRANSPOSE first): the search over both kinds of patch stage
    /// (TRANSPOSE folded and whole) finds the exhaustive front of both, and both kinds reach fronts.</summary>
    [Fact]
    public void RandomNchwChains_PrunedSearch_FindsTheExhaustiveFront_OfBothKinds()
    {
        var random = new Random(20261208);
        int folded = 0, whole = 0;
        for (int trial = 0; trial < 25; trial++)
        {
            var graph = PyTorchPatchTests.RandomNchwChain(random).Main;
            Assert.Equal(2, PatchGraph.Kinds(graph).Count);
            var (search, exhaustive) = SearchAndExhaustive(graph);
            AssertSameFront(exhaustive, search.Points, $"trial {trial}");
            folded += search.Points.Count(p => !p.TransposeWhole);
            whole += search.Points.Count(p => p.TransposeWhole);
        }
        Assert.True(folded > 0 && whole > 0, $"{folded} folded and {whole} whole-TRANSPOSE front points");
    }

    [Fact]
    public void Budget_TakesTheCheapestFrontPointWithinIt_ByteIdenticalToGolden()
    {
        var gc = GoldenCase.All().Single(c => c.Name == "ic_resnet");
        var model = TfliteReader.ReadFile(gc.Model).Value!;
        var plain = Lowerer.Lower(model, gc.Model, LoweringOptions.None).Value!;
        var scratch = ScratchOf(model.Main, plain);
        Assert.True(scratch.Sum() > 0, "the host convolutions' im2col rows are part of every candidate");
        var all = PatchPlanner.Candidates(PatchGraph.Analyze(model.Main), scratch).Where(c => c.Arena.ArenaBytes < plain.ArenaBytes).ToList();
        var front = PatchPlanner.Front(model.Main, scratch, plain.ArenaBytes).Points;
        // Each front point's arena, and a byte below it: the cheapest candidate of all that fits, counted directly.
        foreach (long budget in front.Where((_, i) => i % 4 == 0).SelectMany(p => new[] { p.ArenaBytes, p.ArenaBytes - 1 }))
        {
            var fitting = all.Where(c => c.Arena.ArenaBytes <= budget).ToList();
            var plan = Lowerer.Lower(model, gc.Model, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = budget }).Value!;
            var report = plan.Patches!;
            Assert.True(report.Applied, report.Reason);
            Assert.True(report.Front.SequenceEqual(front), "the report carries the front it chose from");
            if (fitting.Count == 0)
            {
                // Nothing fits: the lowest arena, as minimum peak chooses.
                var minimum = Lowerer.Lower(model, gc.Model, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Value!;
                Assert.Equal(minimum.Patches!.MacsAfter, report.MacsAfter);
                continue;
            }
            Assert.Equal(fitting.Min(c => c.Macs), report.MacsAfter);
            Assert.True(plan.ArenaBytes <= budget, $"{plan.ArenaBytes} B > {budget} B");
            Assert.True(plan.ArenaBytes < plain.ArenaBytes);
        }
        var chosen = Lowerer.Lower(model, gc.Model, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = front[front.Count / 2].ArenaBytes }).Value!;
        PatchTests.AssertGolden(gc, chosen);
    }

    [Fact]
    public void MinimumPeak_TakesTheFewestMacsWithinOnePercentOfTheLowestFrontPoint()
    {
        var model = TfliteReader.ReadFile(SharedData.Model("ic_resnet")).Value!;
        var plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var front = PatchPlanner.Front(model.Main, ScratchOf(model.Main, plain), plain.ArenaBytes).Points;
        long lowest = front[0].ArenaBytes;
        long expected = front.Where(p => p.ArenaBytes <= lowest + lowest / 100).Min(p => p.Macs);
        var report = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Value!.Patches!;
        Assert.Equal(expected, report.MacsAfter);
    }

    [Fact]
    public void BalancedBands_CoverTheStage_AndGiveBorderBandsMoreRows()
    {
        var graph = PatchGraph.Analyze(MobileNetModels.MobileNetV1(0.25, 96).Main);
        // After block 2 (a 24x24 stage): every row of the stage in exactly one band, in order.
        int split = 7;
        Assert.Contains(split, graph.Splits);
        var edges = BandReach.InputEdges(graph, split, rows: true)!.Value;
        var bands = BandReach.Balanced(edges, 6)!;
        Assert.Equal(6, bands.Count);
        Assert.Equal(0, bands[0].Start);
        Assert.Equal(24, bands[^1].End);
        for (int i = 1; i < bands.Count; i++) Assert.Equal(bands[i - 1].End, bands[i].Start);
        // The input rows each band reads, from the schedule itself: no band reads more than the near-equal cut's widest.
        int Widest(IReadOnlyList<(int Start, int End)> b) => BandReach.Of(graph, split, true, b)!.MaxExtent(graph.Input);
        Assert.True(Widest(bands) <= Widest(PatchSchedule.Cut(24, 6)));
        Assert.True(bands[0].End - bands[0].Start > bands[2].End - bands[2].Start, $"bands {string.Join(", ", bands)}");
        // Bands that do not cover the stage are a programming error, not a schedule.
        Assert.Throws<ArgumentException>(() => PatchSchedule.Create(graph, split, new[] { (0, 10), (11, 24) }, PatchSchedule.Cut(24, 2)));
    }

    [Fact]
    public void RandomChains_BalancedFrontPoints_AreByteIdenticalToLayerByLayer()
    {
        var random = new Random(7041);
        int balanced = 0;
        for (int trial = 0; trial < 40 && balanced < 8; trial++)
        {
            var model = PatchTests.RandomChain(random);
            var plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
            var input = new byte[plain.Inputs[0].Bytes];
            random.NextBytes(input);
            var expected = PatchTests.Run(plain, input);
            foreach (var point in PatchPlanner.Front(model.Main, ScratchOf(model.Main, plain), plain.ArenaBytes).Points.Where(p => !p.Uniform))
            {
                // The cheapest point within its own arena is itself.
                var plan = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = point.ArenaBytes }).Value!;
                Assert.Equal(point.Macs, plan.Patches!.MacsAfter);
                Assert.Empty(PlanVerifier.Verify(plan.Memory!.Arena));
                Assert.True(expected.SequenceEqual(PatchTests.Run(plan, input)), $"trial {trial}: split {point.SplitOperator}, grid {point.Grid} differs");
                balanced++;
            }
        }
        Assert.True(balanced >= 4, $"only {balanced} balanced front points ran");
    }

    /// <summary>
    /// Issue 14's VWW goal, with the stem run in place: the 96×96×3 input (288 B a row) and the stem's 48×48×8 output
    /// (384 B a row, stride 2, no top padding) share one buffer, the input 384 B after the output (output row 0 ends
    /// where input row 0 starts; later rows gain 192 B a row), and the patches cut their tiles from the stem's output.
    /// The front reaches 0.6 of the layer-by-layer peak within 15% extra MACs, and that plan is byte-identical.
    /// </summary>
    [Fact]
    public void Vww_StemInPlace_ReachesSixTenthsOfTheLayerByLayerPeak_WithinFifteenPercentMacs()
    {
        var model = MobileNetModels.MobileNetV1(0.25, 96);
        var stem = PatchGraph.WithStemInPlace(model.Main)!;
        Assert.Equal((0, 384L, 1), (stem.InPlaceStem, stem.StemInputOffset, stem.FirstOperator));
        // A PyTorch export starts with a TRANSPOSE, not a convolution: no stem to run in place.
        Assert.Null(PatchGraph.WithStemInPlace(MobileNetModels.MobileNetV1(0.25, 96, export: MobileNetModels.Export.PyTorch).Main));

        var plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var front = PatchPlanner.Front(model.Main, ScratchOf(model.Main, plain), plain.ArenaBytes).Points;
        var goal = front.Where(p => p.ArenaBytes * 10 <= plain.ArenaBytes * 6 && p.MacsOverheadPercent <= 15).OrderBy(p => p.Macs).First();
        Assert.True(goal.StemInPlace, goal.Grid);
        var plan = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = goal.ArenaBytes }).Value!;
        Assert.True(plan.Patches!.StemInPlace && plan.ArenaBytes <= goal.ArenaBytes, plan.Patches.Grid);
        Assert.Empty(PlanVerifier.Verify(plan.Memory!.Arena));
        // The stem is the first call, reading the input and writing 384 bytes below it.
        var first = plan.Calls[0];
        Assert.Equal((0, "tml_conv_s8_packed"), (first.OperatorIndex, first.Kernel));
        var arena = first.Args.Where(a => a.Kind == ArgKind.Pointer && a.Pointer.Region == Region.Arena).Select(a => a.Pointer.Offset).ToList();
        Assert.Contains(plan.Inputs[0].Offset, arena);
        Assert.Contains(plan.Inputs[0].Offset - 384, arena);
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            var input = MobileNetModels.Input(model, seed);
            Assert.True(PatchTests.Run(plain, input).SequenceEqual(PatchTests.Run(plan, input)), $"input {seed} differs");
        }
    }

    [Fact]
    public void Vww_FrontPoints_AreByteIdenticalToLayerByLayer()
    {
        var model = MobileNetModels.MobileNetV1(0.25, 96);
        var plain = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        Assert.Equal(55_296, plain.ArenaBytes); // block 0's depthwise output (48x48x8) and pointwise output (48x48x16)
        var front = PatchPlanner.Front(model.Main, ScratchOf(model.Main, plain), plain.ArenaBytes).Points;
        Assert.Contains(front, p => !p.Uniform);
        var inputs = new[] { MobileNetModels.Input(model, 1), MobileNetModels.Input(model, 2) };
        var expected = inputs.Select(i => PatchTests.Run(plain, i)).ToList();
        Assert.True(expected[0].Distinct().Count() > 1 || !expected[0].SequenceEqual(expected[1]), "the outputs carry information");
        // The lowest arena, the cheapest point, and points in between.
        foreach (var point in front.Where((_, i) => i == 0 || i == front.Count - 1 || i % 5 == 2))
        {
            var plan = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = point.ArenaBytes }).Value!;
            Assert.Equal(point.Macs, plan.Patches!.MacsAfter);
            Assert.True(plan.ArenaBytes <= point.ArenaBytes);
            for (int i = 0; i < inputs.Length; i++)
                Assert.True(expected[i].SequenceEqual(PatchTests.Run(plan, inputs[i])), $"split {point.SplitOperator}, grid {point.Grid}, input {i} differs");
        }
    }
}
