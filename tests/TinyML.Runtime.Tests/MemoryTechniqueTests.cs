// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;
using FsCheck;
using FsCheck.Fluent;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Reports;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Property tests on random branchy int8 graphs (depthwise 3x3 with stride 1 or 2, RELU, residual ADDs, CONCATENATION):
/// with every technique set the schedule passes the verifiers, the arena is never above the plain plan's, and the
/// outputs are byte-identical to the plain plan's. On small graphs the reordering's peak is checked against every
/// topological order.
/// </summary>
public class MemoryTechniqueTests
{
    private static readonly Quantization Act = Quantization.PerTensor(0.05f, 3);

    /// <summary>A random DAG: every operator reads earlier tensors, so branches and joins appear.</summary>
    internal static Model RandomGraph(int seed, int operators)
    {
        var rng = new Random(seed);
        var b = new ModelBuilder();
        int size = rng.Next(6, 13), channels = rng.Next(1, 9);
        int input = b.Tensor("input", DataType.Int8, new[] { 1, size, size, channels }, Act);
        var tensors = new List<int> { input };
        var consumed = new HashSet<int>();
        for (int k = 0; k < operators; k++)
        {
            int x = tensors[rng.Next(tensors.Count)];
            var shape = b.Graph.Tensors[x].Shape.ToArray();
            int choice = rng.Next(4);
            int output;
            if (choice == 0)
            {
                int stride = rng.Next(3) == 0 && shape[1] > 3 ? 2 : 1;
                int c = shape[3];
                var w = b.Constant($"w{k}", new[] { 1, 3, 3, c }, Enumerable.Range(0, 9 * c).Select(_ => (sbyte)rng.Next(-20, 21)).ToArray(),
                    new Quantization(Enumerable.Repeat(0.02f, c).ToArray(), new long[c], 3));
                var bias = b.Constant($"b{k}", new[] { c }, Enumerable.Range(0, c).Select(_ => rng.Next(-200, 200)).ToArray());
                int h = (shape[1] + stride - 1) / stride, wd = (shape[2] + stride - 1) / stride;
                output = b.Tensor($"dw{k}", DataType.Int8, new[] { 1, h, wd, c }, Act);
                b.Operator(OpKind.DepthwiseConv2D, new[] { x, w, bias }, new[] { output }, new DepthwiseConv2DOptions(Padding.Same, stride, stride, 1, Activation.None));
            }
            else if (choice == 1)
            {
                output = b.Tensor($"relu{k}", DataType.Int8, shape, Act);
                b.Operator(OpKind.Relu, new[] { x }, new[] { output });
            }
            else if (choice == 2)
            {
                var partners = tensors.Where(t => b.Graph.Tensors[t].Shape.SequenceEqual(shape)).ToList();
                int y = partners[rng.Next(partners.Count)];
                output = b.Tensor($"add{k}", DataType.Int8, shape, Act);
                b.Operator(OpKind.Add, new[] { x, y }, new[] { output }, new AddOptions(Activation.None));
                consumed.Add(y);
            }
            else
            {
                var partners = tensors.Where(t => b.Graph.Tensors[t].Shape.Take(3).SequenceEqual(shape.Take(3))).ToList();
                int y = partners[rng.Next(partners.Count)];
                var out4 = shape.ToArray();
                out4[3] += b.Graph.Tensors[y].Shape[3];
                output = b.Tensor($"concat{k}", DataType.Int8, out4, Act);
                b.Operator(OpKind.Concatenation, new[] { x, y }, new[] { output }, new ConcatenationOptions(3, Activation.None));
                consumed.Add(y);
            }
            consumed.Add(x);
            tensors.Add(output);
        }
        // Every tensor nobody reads is an output, so that no operator is dead.
        var outputs = tensors.Skip(1).Where(t => !consumed.Contains(t)).ToArray();
        b.Inputs(input).Outputs(outputs);
        return b.Build();
    }

    private static readonly (string Name, LoweringOptions Options)[] TechniqueSets =
    {
        ("inplace-depthwise", LoweringOptions.None with { InPlaceDepthwise = true }),
        ("inplace-elementwise", LoweringOptions.None with { InPlaceElementwise = true }),
        ("reorder", LoweringOptions.None with { Reorder = true }),
        ("patches", LoweringOptions.None with { Patch = PatchMode.MinimumPeak }),
        ("all", LoweringOptions.MinimumMemory),
    };

    private static byte[] RunOnce(ExecutionPlan plan, byte[] input)
    {
        using var executor = new PlanExecutor(plan);
        input.CopyTo(executor.Input(0));
        executor.Run();
        return Enumerable.Range(0, plan.Outputs.Count).SelectMany(i => executor.Output(i).ToArray()).ToArray();
    }

    private static bool TechniquesAreSafe(int seed, int operators)
    {
        var model = RandomGraph(seed, operators);
        var plain = Lowerer.Lower(model, null, LoweringOptions.None);
        if (plain.Value is null) throw new InvalidOperationException(string.Join("\n", plain.Diagnostics));
        var input = new byte[plain.Value.Inputs[0].Bytes];
        new Random(seed).NextBytes(input);
        var expected = RunOnce(plain.Value, input);
        foreach (var (name, options) in TechniqueSets)
        {
            var plan = Lowerer.Lower(model, null, options).Value ?? throw new InvalidOperationException($"seed {seed}: {name} failed to lower");
            var schedule = MemoryScheduler.Build(model.Main, plan.Memory!.Order, new long[model.Main.Operators.Count], options.InPlaceDepthwise, options.InPlaceElementwise);
            var problems = PlanVerifier.Verify(plan.Memory.Arena).Concat(PlanVerifier.VerifySchedule(model.Main, schedule)).ToList();
            if (problems.Count > 0) throw new InvalidOperationException($"seed {seed} {name}: {string.Join("; ", problems)}");
            if (plan.ArenaBytes > plain.Value.ArenaBytes) throw new InvalidOperationException($"seed {seed} {name}: arena {plan.ArenaBytes} > plain {plain.Value.ArenaBytes}");
            if (!RunOnce(plan, input).SequenceEqual(expected)) throw new InvalidOperationException($"seed {seed} {name}: outputs differ from the plain plan's");
        }
        return true;
    }

    [Fact]
    public void RandomGraphs_TechniquesKeepOutputsAndNeverRaiseTheArena() =>
        Prop.ForAll(Gen.Choose(0, 1_000_000).ToArbitrary(), Gen.Choose(2, 14).ToArbitrary(), (seed, ops) => TechniquesAreSafe(seed, ops))
            .QuickCheckThrowOnFailure();

    private static IEnumerable<int[]> TopologicalOrders(Graph graph)
    {
        int n = graph.Operators.Count;
        var producer = new Dictionary<int, int>();
        for (int i = 0; i < n; i++) foreach (int t in graph.Operators[i].Outputs) producer[t] = i;
        var deps = graph.Operators.Select(op => op.Inputs.Where(producer.ContainsKey).Select(t => producer[t]).ToArray()).ToArray();
        var order = new List<int>();
        var done = new bool[n];
        IEnumerable<int[]> Walk()
        {
            if (order.Count == n) { yield return order.ToArray(); yield break; }
            for (int v = 0; v < n; v++)
            {
                if (done[v] || deps[v].Any(d => !done[d])) continue;
                done[v] = true; order.Add(v);
                foreach (var o in Walk()) yield return o;
                done[v] = false; order.RemoveAt(order.Count - 1);
            }
        }
        return Walk();
    }

    [Fact]
    public void SmallRandomGraphs_ReorderingFindsTheLowestModelledPeakOfAllOrders()
    {
        int improved = 0;
        for (int seed = 1; seed <= 60; seed++)
        {
            var graph = RandomGraph(seed, 7).Main;
            var scratch = new long[graph.Operators.Count];
            long best = TopologicalOrders(graph).Min(o => Reorderer.ModelPeak(graph, scratch, o, true, true));
            long original = Reorderer.ModelPeak(graph, scratch, Enumerable.Range(0, graph.Operators.Count).ToArray(), true, true);
            var found = Reorderer.FindOrder(graph, scratch, true, true);
            long reached = found is null ? original : Reorderer.ModelPeak(graph, scratch, found, true, true);
            Assert.Equal(best, reached);
            if (reached < original) improved++;
        }
        Assert.True(improved > 0, "no random graph gained from reordering; the test graphs are too easy");
    }

    [Fact]
    public void Report_HasOneRectanglePerBufferAndTheBudgetLine()
    {
        var model = RandomGraph(7, 10);
        var plans = TechniqueSets.Select(t => new ReportVariant(t.Name, Lowerer.Lower(model, null, t.Options).Value!)).ToList();
        string html = MemoryReport.Render("random.tflite", model.Main, plans, 4096);
        Assert.Equal(html, MemoryReport.Render("random.tflite", model.Main, plans, 4096));
        XNamespace svg = "http://www.w3.org/2000/svg";
        var svgs = System.Text.RegularExpressions.Regex.Matches(html, "<svg .*?</svg>", System.Text.RegularExpressions.RegexOptions.Singleline)
            .Select(m => XElement.Parse(m.Value)).ToList();
        Assert.Equal(2 * plans.Count, svgs.Count);
        for (int i = 0; i < plans.Count; i++)
        {
            var layout = svgs.Single(s => (string?)s.Attribute("id") == $"layout-{i}");
            Assert.Equal(plans[i].Plan.Memory!.Arena.Buffers.Count, layout.Elements(svg + "rect").Count(r => (string?)r.Attribute("class") == "tensor"));
            var live = svgs.Single(s => (string?)s.Attribute("id") == $"live-{i}");
            Assert.Equal(model.Main.Operators.Count, live.Elements(svg + "rect").Count());
            Assert.Single(layout.Elements(svg + "line"), l => (string?)l.Attribute("class") == "budget");
        }
    }
}
