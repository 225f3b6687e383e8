// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Patch-based inference on the host: with patches, every golden model and op case still gives TFLM's bytes; every
/// valid split of every model and op case, run with forced grids, gives the golden bytes too (this is where the
/// tile geometry of each kernel is exercised); random conv/depthwise/pool/add chains give the same bytes patched and
/// unpatched, and their patched arenas pass the plan verifier.
/// </summary>
public class PatchTests
{
    public static TheoryData<string> AllCases() => new(GoldenCase.Supported().Select(c => c.Name));

    [Theory]
    [MemberData(nameof(AllCases))]
    public void MinimumPeakPatches_AreByteIdenticalToGolden(string name)
    {
        var gc = GoldenCase.All().Single(c => c.Name == name);
        var plan = Lower(gc, LoweringOptions.MinimumMemory);
        Assert.NotNull(plan.Patches);
        if (plan.Patches!.Applied) Assert.True(plan.Patches.PeakAfter < plan.Patches.PeakBefore && plan.ArenaBytes == plan.Patches.PeakAfter);
        AssertGolden(gc, plan);
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void EverySplitWithForcedGrids_IsByteIdenticalToGolden(string name)
    {
        var gc = GoldenCase.All().Single(c => c.Name == name);
        var model = TfliteReader.ReadFile(gc.Model).Value!;
        var graph = PatchGraph.Analyze(model.Main);
        int tried = 0;
        foreach (int k in graph.Splits)
        {
            var stage = model.Main.Tensors[graph.Ops[k - 1].Output].Shape;
            foreach (var (rows, columns) in new[] { (2, 2), (3, 2), (1, 3), (1, 1) })
            {
                if (rows > stage[1] || columns > stage[2]) continue;
                var lowered = Lowerer.LowerWithPatches(model, gc.Model, k, rows, columns);
                if (lowered.Value is null && lowered.Diagnostics.All(d => d.Id == "TML3020")) continue; // a tile would be empty
                Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
                Assert.Empty(PlanVerifier.Verify(lowered.Value!.Memory!.Arena));
                AssertGolden(gc, lowered.Value!, $" (split {k}, grid {rows}x{columns})");
                tried++;
            }
        }
        // Models and op cases that start with a tileable operator must have been exercised.
        if (graph.Splits.Count > 0) Assert.True(tried > 0, $"{name}: no grid fits any split");
    }

    [Fact]
    public void IcResnet_PatchesCutThePeak()
    {
        var gc = GoldenCase.All().Single(c => c.Name == "ic_resnet");
        var plan = Lower(gc, LoweringOptions.MinimumMemory);
        var report = plan.Patches!;
        Assert.True(report.Applied, report.Reason);
        // The layer-by-layer arena: the activations' lifetime bound (49,152 B) plus the im2col rows of the
        // convolution at the peak (2 x 3x3x16 B); patches go below it.
        Assert.Equal(49_152 + 2 * 3 * 3 * 16, report.PeakBefore);
        Assert.True(report.PeakAfter < report.PeakBefore / 2, $"{report.PeakAfter} B");
        Assert.Equal(plan.ArenaBytes, report.PeakAfter);
        Assert.True(report.MacsAfter > report.MacsBefore, "tiles recompute their halo");
        Assert.Contains(plan.Calls, c => c.Kernel == "tml_copy_window");
        // Per-operator live memory folds the patch steps back onto operators: its largest value is the bound the
        // placement reached, at an operator of the patched prefix or after it.
        int operators = TfliteReader.ReadFile(gc.Model).Value!.Main.Operators.Count;
        var live = plan.Memory!.LiveBytesInOrder();
        Assert.Equal(operators, live.Count);
        Assert.Equal(plan.Memory.Arena.LowerBoundBytes, live.Max());
        Assert.Equal(live.Max(), live[plan.Memory.PeakOperator]);
    }

    [Fact]
    public void Budget_TakesTheCheapestCandidateThatFits_AndNothingWhenTheModelFits()
    {
        var gc = GoldenCase.All().Single(c => c.Name == "ic_resnet");
        var fits = Lower(gc, LoweringOptions.Default with { Patch = PatchMode.Budget, RamBudget = 1 << 20 });
        Assert.False(fits.Patches!.Applied);
        Assert.Equal(49_152 + 2 * 3 * 3 * 16, fits.ArenaBytes);
        var minimum = Lower(gc, LoweringOptions.MinimumMemory).Patches!;
        // A budget between the minimum peak and the unpatched peak: met, with no more MACs than the minimum-peak choice.
        long budget = (minimum.PeakAfter + minimum.PeakBefore) / 2;
        var plan = Lower(gc, LoweringOptions.Default with { Patch = PatchMode.Budget, RamBudget = budget });
        Assert.True(plan.Patches!.Applied);
        Assert.True(plan.ArenaBytes <= budget, $"{plan.ArenaBytes} > {budget}");
        Assert.True(plan.Patches.MacsAfter <= minimum.MacsAfter);
        AssertGolden(gc, plan);
    }

    [Fact]
    public void ForcedSplitThatDoesNotApply_IsTML3020()
    {
        var model = TfliteReader.ReadFile(SharedData.Model("ic_resnet")).Value!;
        var graph = PatchGraph.Analyze(model.Main);
        int invalid = Enumerable.Range(1, graph.Ops.Count).First(k => !graph.Splits.Contains(k));
        var lowered = Lowerer.LowerWithPatches(model, "ic_resnet.tflite", invalid, 2, 2);
        Assert.Null(lowered.Value);
        Assert.Contains(lowered.Diagnostics, d => d.Id == DiagnosticIds.PatchNotApplicable && d.Message.Contains("valid splits"));
        Assert.Contains(Lowerer.LowerWithPatches(model, null, graph.Splits[0], 1000, 2).Diagnostics, d => d.Id == DiagnosticIds.PatchNotApplicable && d.Message.Contains("grid does not fit"));
    }

    /// <summary>Random chains: patched == unpatched at every split and a random grid, and the arena verifies.</summary>
    [Fact]
    public void RandomChains_PatchedEqualsUnpatched()
    {
        var random = new Random(20261124);
        int patchedRuns = 0;
        for (int trial = 0; trial < 60; trial++)
        {
            var model = RandomChain(random);
            var plain = Lowerer.Lower(model, null, LoweringOptions.None);
            Assert.True(plain.Value is not null, $"trial {trial}: " + string.Join("\n", plain.Diagnostics));
            var input = new byte[plain.Value!.Inputs[0].Bytes];
            random.NextBytes(input);
            var expected = Run(plain.Value!, input);
            // The planner's own choice never raises the peak, and computes the same bytes.
            var chosen = Lowerer.Lower(model, null, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Value!;
            Assert.True(chosen.ArenaBytes <= plain.Value!.ArenaBytes, $"trial {trial}: {chosen.ArenaBytes} > {plain.Value.ArenaBytes}");
            Assert.Equal(chosen.Patches!.Applied, chosen.ArenaBytes < plain.Value.ArenaBytes);
            Assert.True(expected.SequenceEqual(Run(chosen, input)), $"trial {trial}: the minimum-peak choice differs from layer by layer");
            var graph = PatchGraph.Analyze(model.Main);
            Assert.NotEmpty(graph.Splits);
            foreach (int k in graph.Splits)
            {
                var stage = model.Main.Tensors[graph.Ops[k - 1].Output].Shape;
                int rows = random.Next(1, Math.Min(4, stage[1]) + 1), columns = random.Next(1, Math.Min(4, stage[2]) + 1);
                var lowered = Lowerer.LowerWithPatches(model, null, k, rows, columns);
                if (lowered.Value is null && lowered.Diagnostics.All(d => d.Id == "TML3020")) continue;
                Assert.True(lowered.Value is not null, $"trial {trial}, split {k}: " + string.Join("\n", lowered.Diagnostics));
                Assert.Empty(PlanVerifier.Verify(lowered.Value!.Memory!.Arena));
                Assert.True(expected.SequenceEqual(Run(lowered.Value!, input)), $"trial {trial}: split {k}, grid {rows}x{columns} differs from layer by layer");
                patchedRuns++;
            }
        }
        Assert.True(patchedRuns > 100, $"only {patchedRuns} patched runs");
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    internal static CompiledPlan Lower(GoldenCase gc, LoweringOptions options)
    {
        var lowered = Lowerer.Lower(TfliteReader.ReadFile(gc.Model).Value!, gc.Model, options);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    internal static byte[] Run(ExecutionPlan plan, params byte[][] inputs)
    {
        using var executor = new PlanExecutor(PlanContainer.Read(PlanContainer.Write(plan)).Value!);
        for (int i = 0; i < inputs.Length; i++) inputs[i].CopyTo(executor.Input(i));
        executor.Run();
        return Enumerable.Range(0, plan.Outputs.Count).SelectMany(i => executor.Output(i).ToArray()).ToArray();
    }

    internal static void AssertGolden(GoldenCase gc, ExecutionPlan plan, string what = "")
    {
        foreach (int k in gc.Vectors())
        {
            var actual = Run(plan, gc.Inputs(k).Select(File.ReadAllBytes).ToArray());
            var expected = File.ReadAllBytes(gc.Output(k));
            Assert.True(expected.SequenceEqual(actual), $"{gc.Name}{what} vector {k}: differs from golden");
        }
    }

    /// <summary>A random int8 chain of CONV_2D, DEPTHWISE_CONV_2D, pooling, RELU6 and residual ADD on a small image.</summary>
    internal static Model RandomChain(Random random)
    {
        var b = new ModelBuilder();
        int h = random.Next(5, 17), w = random.Next(5, 17), c = random.Next(1, 5);
        float scale = 0.02f + (float)random.NextDouble() * 0.05f;
        var q = Quantization.PerTensor(scale, random.Next(-20, 21));
        int x = b.Tensor("input", DataType.Int8, new[] { 1, h, w, c }, q);
        b.Inputs(x);
        int layers = random.Next(2, 7);
        for (int l = 0; l < layers; l++)
        {
            var shape = b.Graph.Tensors[x].Shape.ToArray();
            int kind = random.Next(6);
            if (kind <= 1)
            {
                bool depthwise = kind == 1;
                int k = new[] { 1, 3, 3, 5 }[random.Next(4)], stride = random.Next(1, 3), dilation = random.Next(4) == 0 ? 2 : 1;
                var padding = random.Next(3) == 0 ? Padding.Valid : Padding.Same;
                int outH = QuantMath.OutputSize(padding, shape[1], k, stride, dilation), outW = QuantMath.OutputSize(padding, shape[2], k, stride, dilation);
                if (outH < 1 || outW < 1) continue;
                int multiplier = depthwise ? random.Next(1, 3) : 1;
                int outC = depthwise ? shape[3] * multiplier : random.Next(1, 7);
                int fanIn = k * k * (depthwise ? 1 : shape[3]);
                var weightShape = depthwise ? new[] { 1, k, k, outC } : new[] { outC, k, k, shape[3] };
                var weightScales = Enumerable.Range(0, outC).Select(_ => 0.005f + (float)random.NextDouble() * 0.01f).ToArray();
                var weights = b.Constant($"w{l}", weightShape, Enumerable.Range(0, weightShape.Aggregate(1, (p, d) => p * d)).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(),
                    new Quantization(weightScales, new long[outC], depthwise ? 3 : 0));
                var bias = b.Constant($"b{l}", new[] { outC }, Enumerable.Range(0, outC).Select(_ => random.Next(-2000, 2000)).ToArray(),
                    new Quantization(weightScales.Select(s => s * q.Scale).ToArray(), new long[outC]));
                var outQ = Quantization.PerTensor(q.Scale * 0.01f * 90 * (float)Math.Sqrt(fanIn), random.Next(-10, 11));
                int y = b.Tensor($"t{l}", DataType.Int8, new[] { 1, outH, outW, outC }, outQ);
                var activation = random.Next(3) == 0 ? Activation.Relu6 : Activation.None;
                OperatorOptions options = depthwise
                    ? new DepthwiseConv2DOptions(padding, stride, stride, multiplier, activation, dilation, dilation)
                    : new Conv2DOptions(padding, stride, stride, activation, dilation, dilation);
                b.Operator(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, new[] { x, weights, bias }, new[] { y }, options, 3);
                (x, q) = (y, outQ);
            }
            else if (kind <= 3)
            {
                int f = random.Next(2, 4), stride = random.Next(1, 3);
                var padding = random.Next(2) == 0 ? Padding.Valid : Padding.Same;
                int outH = QuantMath.OutputSize(padding, shape[1], f, stride, 1), outW = QuantMath.OutputSize(padding, shape[2], f, stride, 1);
                if (outH < 1 || outW < 1) continue;
                int y = b.Tensor($"t{l}", DataType.Int8, new[] { 1, outH, outW, shape[3] }, q);
                b.Operator(kind == 2 ? OpKind.AveragePool2D : OpKind.MaxPool2D, new[] { x }, new[] { y }, new Pool2DOptions(padding, stride, stride, f, f, Activation.None), 2);
                x = y;
            }
            else if (kind == 4)
            {
                // Residual: y = x + depthwise3x3(x), SAME, stride 1.
                var weightScales = Enumerable.Range(0, shape[3]).Select(_ => 0.01f).ToArray();
                var weights = b.Constant($"w{l}", new[] { 1, 3, 3, shape[3] }, Enumerable.Range(0, 9 * shape[3]).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(),
                    new Quantization(weightScales, new long[shape[3]], 3));
                var branchQ = Quantization.PerTensor(q.Scale * 0.01f * 90 * 3, random.Next(-10, 11));
                int branch = b.Tensor($"r{l}", DataType.Int8, shape, branchQ);
                b.Operator(OpKind.DepthwiseConv2D, new[] { x, weights, -1 }, new[] { branch }, new DepthwiseConv2DOptions(Padding.Same, 1, 1, 1, Activation.None), 3);
                var sumQ = Quantization.PerTensor(Math.Max(q.Scale, branchQ.Scale) * 1.5f, random.Next(-10, 11));
                int y = b.Tensor($"t{l}", DataType.Int8, shape, sumQ);
                b.Operator(OpKind.Add, new[] { x, branch }, new[] { y }, new AddOptions(Activation.None), 2);
                (x, q) = (y, sumQ);
            }
            else
            {
                int y = b.Tensor($"t{l}", DataType.Int8, shape, q);
                b.Operator(OpKind.Relu6, new[] { x }, new[] { y });
                x = y;
            }
        }
        if (b.Graph.Operators.Count == 0)
        {
            int y = b.Tensor("t", DataType.Int8, b.Graph.Tensors[x].Shape.ToArray(), q);
            b.Operator(OpKind.Relu6, new[] { x }, new[] { y });
            x = y;
        }
        return b.Outputs(x).Build();
    }
}
