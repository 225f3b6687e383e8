// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

public class MemoryPlannerTests
{
    public static TheoryData<string> Models() => new(RealModelTests.Models);

    [Theory]
    [MemberData(nameof(Models))]
    public void UnalignedLowerBound_EqualsTheGoldenDefinition(string name)
    {
        // ../shared computes the bound independently: live non-constant tensor bytes per operator, RESHAPE as alias,
        // with state tensors counted where they are used (we keep state in a persistent region of its own).
        var graph = TfliteReader.ReadFile(SharedData.Model(name)).Value!.Main;
        var lifetimes = TensorLifetimes.Compute(graph);
        long raw = Enumerable.Range(0, graph.Operators.Count).Max(op =>
            lifetimes.Buffers.Where(b => b.FirstOp <= op && op <= b.LastOp).Sum(b => b.Bytes) +
            graph.Operators[op].Inputs.Where(t => t >= 0 && graph.Tensors[t].IsVariable).Sum(t => graph.Tensors[t].Bytes));
        var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "golden", name, "info.json"))).RootElement;
        Assert.Equal(info.GetProperty("activation_lower_bound_bytes").GetInt64(), raw);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EverySharedModel_IsPlannedAtTheLowerBound(string name)
    {
        var lifetimes = TensorLifetimes.Compute(TfliteReader.ReadFile(SharedData.Model(name)).Value!.Main);
        var plan = MemoryPlanner.Plan(lifetimes.Buffers);
        Assert.Empty(PlanVerifier.Verify(plan));
        Assert.True(plan.GapBytes == 0, $"{name}: arena {plan.ArenaBytes} vs lower bound {plan.LowerBoundBytes} ({plan.Method})");
    }

    [Fact]
    public void MobileNetStyleChain_PingPongReachesTheBound_WhereGreedyBySizeDoesNot()
    {
        // a -> b -> c -> d with sizes 4, 6, 5, 6 (x16): greedy by size stacks c above b; the bound is 11 x16.
        var buffers = new[]
        {
            new ArenaBuffer("a", 64, 0, 0), new ArenaBuffer("b", 96, 0, 1),
            new ArenaBuffer("c", 80, 1, 2), new ArenaBuffer("d", 96, 2, 3),
        };
        var plan = MemoryPlanner.Plan(buffers);
        Assert.Empty(PlanVerifier.Verify(plan));
        Assert.Equal(176, plan.LowerBoundBytes);
        Assert.Equal(176, plan.ArenaBytes);
    }

    [Fact]
    public void Verifier_CatchesOverlapsMisalignmentAndOverflow()
    {
        var buffers = new[] { new ArenaBuffer("x", 32, 0, 1), new ArenaBuffer("y", 32, 1, 2), new ArenaBuffer("z", 16, 3, 3) };
        var bad = new ArenaPlan(buffers, new long[] { 0, 16, 40 }, 48, 64, 1, "hand-made");
        var problems = PlanVerifier.Verify(bad);
        Assert.Contains(problems, p => p.Contains("x [0, 32) and y [16, 48) overlap"));
        Assert.Contains(problems, p => p.Contains("z: offset 40 is not 16-byte aligned"));
        Assert.Contains(problems, p => p.Contains("z: [40, 56) lies outside"));
        Assert.Contains(problems, p => p.Contains("below the lower bound"));
        var good = new ArenaPlan(buffers, new long[] { 0, 32, 0 }, 64, 64, 1, "hand-made");
        Assert.Empty(PlanVerifier.Verify(good));
    }

    /// <summary>
    /// A buffer placed relative to another (an in-place stem's input, some bytes after its output): the planner keeps
    /// the distance, lets other buffers use the unit's bytes that no live member covers, and the verifier accepts the
    /// overlap only where one of the two dies as the other is born.
    /// </summary>
    [Fact]
    public void RelativeOffsets_KeepTheirDistance_AndLeaveTheUnitsFreeBytesToOthers()
    {
        var output = new ArenaBuffer("output", 1024, 0, 3);
        var input = new ArenaBuffer("input", 2048, 0, 0) { SameOffsetAs = 0, RelativeOffset = 512 };
        // Live after the stem, while the output holds only its first 1024 bytes: fits above it, where the input was.
        var tile = new ArenaBuffer("tile", 1536, 1, 2);
        var plan = MemoryPlanner.Plan(new[] { output, input, tile });
        Assert.Empty(PlanVerifier.Verify(plan));
        Assert.Equal(plan.Offsets[0] + 512, plan.Offsets[1]);
        Assert.Equal(2560, plan.ArenaBytes);
        Assert.Equal(2560, MemoryPlanner.LowerBound(plan.Buffers).Bytes); // step 0: the output and the input's 2048 bytes, 512 of them shared

        var moved = plan with { Offsets = new[] { plan.Offsets[0], plan.Offsets[1] + 16, plan.Offsets[2] } };
        Assert.Contains(PlanVerifier.Verify(moved), p => p.Contains("input: written in place over output"));
        // Both live across more than the one operator joining them: an overlap, not an in-place write.
        var longLived = plan with { Buffers = new[] { output, input with { LastOp = 1 }, tile with { FirstOp = 2 } } };
        Assert.Contains(PlanVerifier.Verify(longLived), p => p.Contains("neither dies where the other is born"));
        Assert.Throws<ArgumentException>(() => MemoryPlanner.Plan(new[] { output, input with { RelativeOffset = 8 } }));
    }

    [Fact]
    public void RandomGraphs_PlansAreSoundAndNeverWorseThanGreedy()
    {
        // Seeded property test: random lifetimes and sizes; the plan must verify, respect the bound, and be no
        // larger than a plain first-fit-by-size placement computed here.
        var random = new Random(7);
        int atBound = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int ops = 2 + random.Next(12);
            var buffers = Enumerable.Range(0, 2 + random.Next(14)).Select(i =>
            {
                int first = random.Next(ops);
                return new ArenaBuffer($"t{i}", 1 + random.Next(4000), first, Math.Min(ops - 1, first + random.Next(4)));
            }).ToArray();
            var plan = MemoryPlanner.Plan(buffers, searchBudget: 20_000);
            var problems = PlanVerifier.Verify(plan);
            Assert.True(problems.Count == 0, $"trial {trial}: {string.Join("; ", problems)}");
            Assert.True(plan.ArenaBytes <= NaiveFirstFitBySize(buffers), $"trial {trial}");
            if (plan.GapBytes == 0) atBound++;
        }
        Assert.True(atBound > 250, $"only {atBound} of 300 random plans reached the lower bound");
    }

    private static long NaiveFirstFitBySize(ArenaBuffer[] buffers)
    {
        var placed = new System.Collections.Generic.List<(ArenaBuffer B, long Offset)>();
        foreach (var b in buffers.OrderByDescending(b => b.Bytes))
        {
            long size = MemoryPlanner.Align(b.Bytes), offset = 0;
            bool moved = true;
            while (moved)
            {
                moved = false;
                foreach (var (o, at) in placed)
                    if (o.OverlapsInTime(b) && offset < at + MemoryPlanner.Align(o.Bytes) && at < offset + size)
                    {
                        offset = at + MemoryPlanner.Align(o.Bytes);
                        moved = true;
                    }
            }
            placed.Add((b, offset));
        }
        return placed.Max(p => p.Offset + MemoryPlanner.Align(p.B.Bytes));
    }
}
