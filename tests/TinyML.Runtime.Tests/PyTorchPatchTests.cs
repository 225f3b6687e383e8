// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Planning.Patches;
using TinyML.Samples;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Patches on graphs shaped like a PyTorch export: an NCHW input transposed to NHWC by the first operator, and an
/// explicit PAD before every convolution wider than 1×1. The TRANSPOSE is either folded into the tile cut, which
/// reads the NCHW input (no call of its own), or runs whole before the patches, which cut their tiles from its NHWC
/// output; the PADs run on tiles, and every patched plan computes the layer-by-layer bytes.
/// PAD-crossing plans are lowered with <see cref="LoweringOptions.None"/>, which keeps the PADs as operators.
/// </summary>
public class PyTorchPatchTests
{
    public static TheoryData<string> Models() => new() { "mobilenetv2", "mobilenetv1" };

    /// <summary>Each model with each kind of patch stage (false: TRANSPOSE folded, true: TRANSPOSE whole).</summary>
    public static TheoryData<string, bool> ModelsAndKinds() => new() { { "mobilenetv2", false }, { "mobilenetv1", false }, { "mobilenetv2", true }, { "mobilenetv1", true } };

    private static Model Build(string name) => name == "mobilenetv2"
        ? MobileNetModels.MobileNetV2(0.35, 96, export: MobileNetModels.Export.PyTorch)
        : MobileNetModels.MobileNetV1(0.25, 96, export: MobileNetModels.Export.PyTorch);

    private static CompiledPlan Lower(Model model, LoweringOptions options)
    {
        var lowered = Lowerer.Lower(model, null, options);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    /// <summary>Checks what a patched plan must be on a PyTorch-shaped graph (<see cref="PatchGraph.Analyze"/>'s) and returns its output.</summary>
    private static byte[] RunPatched(CompiledPlan plan, PatchGraph graph, byte[] input)
    {
        Assert.Empty(PlanVerifier.Verify(plan.Memory!.Arena));
        Assert.Equal(0, graph.InputTranspose);
        var transposeCalls = plan.Calls.Where(c => c.OperatorIndex == graph.InputTranspose).ToList();
        string nhwc = graph.Graph.Tensors[graph.Input].Name.Split(';')[0], nchw = graph.Graph.Tensors[graph.Source].Name.Split(';')[0];
        int patches = plan.Patches!.Rows * plan.Patches.Columns;
        if (plan.Patches.TransposeWhole)
        {
            // One ordinary TRANSPOSE call before every patch; the tiles are windows of its whole NHWC output.
            Assert.EndsWith(PatchPoint.TransposeWholeMarker, plan.Patches.Grid);
            Assert.Equal("tml_transpose", Assert.Single(transposeCalls).Kernel);
            Assert.Same(transposeCalls[0], plan.Calls[0]);
            Assert.Equal(patches, plan.Calls.Count(c => c.Kernel == "tml_copy_window" && c.Comment.Contains(": cut input ")));
            // The NCHW input dies at the TRANSPOSE's step, where it coexists with the NHWC output (which the stage output may share).
            var source = Assert.Single(plan.Memory.Arena.Buffers, b => b.Name == nchw);
            var whole = Assert.Single(plan.Memory.Arena.Buffers, b => b.Name == nhwc || b.Name.StartsWith(nhwc + " (then ", StringComparison.Ordinal));
            Assert.Equal((0, 0), (source.FirstOp, source.LastOp));
            Assert.Equal(0, whole.FirstOp);
            Assert.True(plan.ArenaBytes >= source.Bytes + whole.Bytes, $"arena {plan.ArenaBytes} B < NCHW {source.Bytes} B + NHWC {whole.Bytes} B");
            return PatchTests.Run(plan, input);
        }
        // The TRANSPOSE's only calls are the per-patch cuts: the whole NHWC copy never exists.
        Assert.Equal(patches, transposeCalls.Count);
        Assert.All(transposeCalls, c => Assert.Equal("tml_transpose", c.Kernel));
        Assert.DoesNotContain(plan.Memory.Arena.Buffers, b => b.Name == nhwc);
        // A prefix operator's scratch lives in its own step of the patch (PrefixOperators counts the TRANSPOSE).
        var prefixScratch = Enumerable.Range(0, plan.Patches.PrefixOperators).Select(i => $"scratch of operator {i}").ToHashSet();
        Assert.All(plan.Memory.Arena.Buffers.Where(b => prefixScratch.Contains(b.Name)), b => Assert.Equal(b.FirstOp, b.LastOp));
        return PatchTests.Run(plan, input);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TheInputTransposeAndPads_AreCrossed(string name)
    {
        var graph = PatchGraph.Analyze(Build(name).Main);
        Assert.Equal(0, graph.InputTranspose);
        Assert.Equal(graph.Graph.Operators[0].Outputs[0], graph.Input);
        Assert.Equal(graph.Graph.Inputs[0], graph.Source);
        Assert.Contains(graph.Ops, o => graph.Graph.Operators[o.Index].Kind == OpKind.Pad);
        if (name == "mobilenetv2") Assert.Contains(graph.Ops, o => graph.Graph.Operators[o.Index].Kind == OpKind.Add);
        // The tileable run ends where the image does (the classifier), and says so.
        Assert.StartsWith($"operator {graph.Ops.Count + 1} (", graph.StopReason);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void MinimumPeak_IsByteIdenticalToLayerByLayer_AndCutsThePeak(string name)
    {
        var model = Build(name);
        var graph = PatchGraph.Analyze(model.Main);
        var plain = Lower(model, LoweringOptions.None);
        var patched = Lower(model, LoweringOptions.None with { Patch = PatchMode.MinimumPeak });
        var report = patched.Patches!;
        Assert.True(report.Applied, report.Reason);
        Assert.Equal(plain.ArenaBytes, report.PeakBefore);
        Assert.Equal(patched.ArenaBytes, report.PeakAfter);
        Assert.True(report.PeakRatio > 1.5, $"{name}: peak {report.PeakBefore} -> {report.PeakAfter}");
        // The split is a graph operator: the folded TRANSPOSE counts as part of the prefix.
        Assert.Contains(graph.Ops, o => o.Index == report.SplitOperator && o.Output == model.Main.Operators[report.SplitOperator].Outputs[0]);
        foreach (ulong seed in new ulong[] { 1, 2 })
        {
            var input = MobileNetModels.Input(model, seed);
            Assert.True(PatchTests.Run(plain, input).SequenceEqual(RunPatched(patched, graph, input)), $"{name}, input {seed}: patched output differs");
        }
    }

    /// <summary>The patched VWW MobileNetV1 against TFLite 2.9's interpreter (an oracle outside our kernels). Not
    /// MobileNetV2: there TFLite 2.9's own kernels already differ from the layer-by-layer plan (TFLM's reference
    /// arithmetic), so patched == layer by layer is its bar.</summary>
    [Fact]
    public void MobileNetV1_MinimumPeak_MatchesTflite()
    {
        var model = Build("mobilenetv1");
        var patched = Lower(model, LoweringOptions.None with { Patch = PatchMode.MinimumPeak });
        Assert.True(patched.Patches!.Applied);
        using var tflite = TinyML.Tests.TfliteInterpreterTests.Tflite.Load();
        foreach (ulong seed in new ulong[] { 4, 5 })
        {
            var input = MobileNetModels.Input(model, seed);
            Assert.Equal(tflite.Run(TinyML.Compiler.Tflite.TfliteWriter.Write(model), input), PatchTests.Run(patched, input));
        }
    }

    [Theory]
    [MemberData(nameof(ModelsAndKinds))]
    public void ForcedSplitsAndGrids_ThroughTheTransposeAndPads_AreByteIdentical(string name, bool transposeWhole)
    {
        var model = Build(name);
        var graph = PatchGraph.Analyze(model.Main);
        var plain = Lower(model, LoweringOptions.None);
        var input = MobileNetModels.Input(model, 7);
        var expected = PatchTests.Run(plain, input);
        // The first split after a PAD, one in the middle, and the longest prefix.
        int firstPad = graph.Ops.ToList().FindIndex(o => model.Main.Operators[o.Index].Kind == OpKind.Pad);
        var splits = new[] { graph.Splits.First(k => k > firstPad + 1), graph.Splits[graph.Splits.Count / 2], graph.Splits[^1] }.Distinct();
        int runs = 0;
        foreach (int k in splits)
        {
            foreach (var (rows, columns) in new[] { (2, 2), (3, 2), (1, 3) })
            {
                var lowered = Lowerer.LowerWithPatches(model, null, k, rows, columns, transposeWhole);
                if (lowered.Value is null && lowered.Diagnostics.All(d => d.Id == "TML3020")) continue;
                Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
                Assert.Equal(transposeWhole, lowered.Value!.Patches!.TransposeWhole);
                Assert.True(expected.SequenceEqual(RunPatched(lowered.Value!, graph, input)), $"{name}: split {k}, grid {rows}x{columns} differs from layer by layer");
                runs++;
            }
        }
        Assert.True(runs >= 6, $"only {runs} patched runs");
    }

    /// <summary>
    /// The planner searches both kinds (TRANSPOSE folded and whole) and its front holds both; front points of the
    /// whole kind, taken by the budget mode with their arena as the budget (balanced bands included), equal layer by
    /// layer, with the split counted in model operators as for the folded kind.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void ChosenWholeTransposePlans_AreByteIdentical(string name)
    {
        var model = Build(name);
        var graph = PatchGraph.Analyze(model.Main);
        var whole = graph.WithTransposeWhole()!;
        Assert.Equal((-1, 0, whole.Input, 1), (whole.InputTranspose, whole.WholeTranspose, whole.Source, whole.FirstOperator));
        Assert.True(graph.Splits.All(whole.Splits.Contains));
        var plain = Lower(model, LoweringOptions.None);
        var front = Lower(model, LoweringOptions.None with { Patch = PatchMode.MinimumPeak }).Patches!.Front;
        var wholePoints = front.Where(p => p.TransposeWhole).ToList();
        Assert.NotEmpty(wholePoints);
        Assert.All(wholePoints, p => Assert.EndsWith(PatchPoint.TransposeWholeMarker, p.Grid));
        var input = MobileNetModels.Input(model, 3);
        var expected = PatchTests.Run(plain, input);
        foreach (var point in new[] { wholePoints[0], wholePoints[wholePoints.Count / 2], wholePoints[^1] }.Distinct())
        {
            var plan = Lower(model, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = point.ArenaBytes });
            var report = plan.Patches!;
            Assert.True(report.Applied && report.TransposeWhole, $"{name}: budget {point.ArenaBytes} B took {report.Grid} after operator {report.SplitOperator}");
            Assert.Equal((point.PrefixOperators, point.Rows, point.Columns), (report.PrefixOperators, report.Rows, report.Columns));
            Assert.True(plan.ArenaBytes <= point.ArenaBytes);
            Assert.True(expected.SequenceEqual(RunPatched(plan, graph, input)), $"{name}: {point.Grid} after operator {point.SplitOperator} differs from layer by layer");
        }
    }

    /// <summary>Op cases with TFLM goldens whose PAD, constant operand or QUANTIZE/DEQUANTIZE the tiles now cross:
    /// PatchTests.EverySplitWithForcedGrids_IsByteIdenticalToGolden runs each of their splits against the golden bytes.</summary>
    [Theory]
    [InlineData("ops/chain_pad_conv", OpKind.Pad)]
    [InlineData("ops/pad_asym_zpmin", OpKind.Pad)]
    [InlineData("ops/padv2_const_max", OpKind.PadV2)]
    [InlineData("ops/add_bcast_const", OpKind.Add)]
    [InlineData("ops/add_f32_bcast_const_relu", OpKind.Add)]
    [InlineData("ops/mul_gate_const", OpKind.Mul)]
    [InlineData("ops/chain_quant_conv_dequant", OpKind.Dequantize)]
    public void GoldenOpCases_AreCrossed(string name, OpKind kind)
    {
        var model = TinyML.Compiler.Tflite.TfliteReader.ReadFile(TinyML.Tests.GoldenCase.All().Single(c => c.Name == name).Model).Value!;
        var graph = PatchGraph.Analyze(model.Main);
        Assert.True(graph.Splits.Any(k => graph.Ops.Take(k).Any(o => model.Main.Operators[o.Index].Kind == kind)), $"{name}: {graph.StopReason}");
    }

    [Fact]
    public void ATransposeThatIsNotNchwToNhwc_StopsWithAReason()
    {
        var b = new ModelBuilder();
        var q = Quantization.PerTensor(0.05f, 3);
        int x = b.Tensor("input", DataType.Int8, new[] { 1, 6, 5, 4 }, q);
        int perm = b.Constant("perm", new[] { 4 }, new[] { 0, 2, 1, 3 });
        int y = b.Tensor("transposed", DataType.Int8, new[] { 1, 5, 6, 4 }, q);
        b.Inputs(x);
        b.Operator(OpKind.Transpose, new[] { x, perm }, new[] { y }, version: 2);
        int z = b.Tensor("relu", DataType.Int8, new[] { 1, 5, 6, 4 }, q);
        b.Operator(OpKind.Relu6, new[] { y }, new[] { z });
        var model = b.Outputs(z).Build();
        var graph = PatchGraph.Analyze(model.Main);
        Assert.Equal(-1, graph.InputTranspose);
        Assert.Empty(graph.Splits);
        Assert.StartsWith("operator 0 (TRANSPOSE)", graph.StopReason);
        var plan = Lower(model, LoweringOptions.None with { Patch = PatchMode.MinimumPeak });
        Assert.False(plan.Patches!.Applied);
        Assert.Contains("operator 0 (TRANSPOSE)", plan.Patches.Reason);
        // Nor can it run whole ahead of the patches: forcing that is a clear TML3020.
        Assert.Null(graph.WithTransposeWhole());
        var forced = Lowerer.LowerWithPatches(model, null, 1, 2, 2, transposeWhole: true);
        Assert.Null(forced.Value);
        var error = Assert.Single(forced.Diagnostics, d => d.Id == "TML3020");
        Assert.Contains("cannot run whole", error.Message);
        Assert.Contains("operator 0 (TRANSPOSE)", error.Message);
    }

    /// <summary>
    /// x = TRANSPOSE(NCHW input); y = RELU6(x); z = ADD(x, MAX_POOL_2D 3x3 SAME(y)). Only the whole-TRANSPOSE kind may
    /// split after the RELU6: x is read after that prefix, so it stays whole in its own buffer (the stage output
    /// cannot share it), and the plan still equals layer by layer.
    /// </summary>
    [Fact]
    public void AWholeTransposeOutputReadAfterThePrefix_KeepsItsBuffer()
    {
        var b = new ModelBuilder();
        var q = Quantization.PerTensor(0.05f, -4);
        var shape = new[] { 1, 10, 9, 3 };
        int nchw = b.Tensor("input", DataType.Int8, new[] { 1, 3, 10, 9 }, q);
        int x = b.Tensor("nhwc", DataType.Int8, shape, q);
        b.Inputs(nchw);
        b.Operator(OpKind.Transpose, new[] { nchw, b.Constant("perm", new[] { 4 }, new[] { 0, 2, 3, 1 }) }, new[] { x }, version: 2);
        int y = b.Tensor("relu6", DataType.Int8, shape, q);
        b.Operator(OpKind.Relu6, new[] { x }, new[] { y });
        int pooled = b.Tensor("pooled", DataType.Int8, shape, q);
        b.Operator(OpKind.MaxPool2D, new[] { y }, new[] { pooled }, new Pool2DOptions(Padding.Same, 1, 1, 3, 3, Activation.None), 2);
        int sum = b.Tensor("sum", DataType.Int8, shape, Quantization.PerTensor(0.08f, 1));
        b.Operator(OpKind.Add, new[] { x, pooled }, new[] { sum }, new AddOptions(Activation.None), 2);
        var model = b.Outputs(sum).Build();
        var graph = PatchGraph.Analyze(model.Main);
        Assert.Equal(new[] { 3 }, graph.Splits);
        Assert.Equal(new[] { 1, 2, 3 }, graph.WithTransposeWhole()!.Splits);
        var folded = Lowerer.LowerWithPatches(model, null, 1, 2, 2);
        Assert.Contains(folded.Diagnostics, d => d.Id == "TML3020" && d.Message.Contains("valid splits: 3"));
        var input = Enumerable.Range(0, 3 * 10 * 9).Select(i => (byte)(i * 53 + 7)).ToArray();
        var expected = PatchTests.Run(Lower(model, LoweringOptions.None), input);
        foreach (int k in new[] { 1, 2 })
        {
            var plan = Lowerer.LowerWithPatches(model, null, k, 2, 2, transposeWhole: true).Value!;
            Assert.Contains(plan.Memory!.Arena.Buffers, buffer => buffer.Name == "nhwc");
            Assert.DoesNotContain(plan.Memory.Arena.Buffers, buffer => buffer.Name.Contains("(then "));
            Assert.True(expected.SequenceEqual(RunPatched(plan, graph, input)), $"split {k} differs from layer by layer");
        }
    }

    [Fact]
    public void AReshapeWhoseInputTileHoldsAHalo_CopiesItsWindow()
    {
        // y = RESHAPE(x) (same shape) and MAX_POOL_2D 3x3 SAME(x), added: x's tile holds the pool's halo, so the
        // RESHAPE's tile is a copied window of it rather than the same buffer.
        var b = new ModelBuilder();
        var q = Quantization.PerTensor(0.04f, -5);
        int nchw = b.Tensor("input", DataType.Int8, new[] { 1, 3, 9, 7 }, q);
        var shape = new[] { 1, 9, 7, 3 };
        int x = b.Tensor("nhwc", DataType.Int8, shape, q);
        b.Inputs(nchw);
        b.Operator(OpKind.Transpose, new[] { nchw, b.Constant("perm", new[] { 4 }, new[] { 0, 2, 3, 1 }) }, new[] { x }, version: 2);
        int y = b.Tensor("reshaped", DataType.Int8, shape, q);
        b.Operator(OpKind.Reshape, new[] { x, b.Constant("shape", new[] { 4 }, shape) }, new[] { y }, new ReshapeOptions(shape));
        int pooled = b.Tensor("pooled", DataType.Int8, shape, q);
        b.Operator(OpKind.MaxPool2D, new[] { x }, new[] { pooled }, new Pool2DOptions(Padding.Same, 1, 1, 3, 3, Activation.None), 2);
        int sum = b.Tensor("sum", DataType.Int8, shape, Quantization.PerTensor(0.07f, 2));
        b.Operator(OpKind.Add, new[] { y, pooled }, new[] { sum }, new AddOptions(Activation.None), 2);
        var model = b.Outputs(sum).Build();
        var graph = PatchGraph.Analyze(model.Main);
        Assert.Equal(3, graph.Ops.Count);
        Assert.Equal(PatchOpShape.Alias, graph.Ops[0].Shape);
        var input = Enumerable.Range(0, 3 * 9 * 7).Select(i => (byte)(i * 37 + 11)).ToArray();
        var expected = PatchTests.Run(Lower(model, LoweringOptions.None), input);
        foreach (var (rows, columns) in new[] { (2, 2), (3, 2), (1, 3) })
        {
            var plan = Lowerer.LowerWithPatches(model, null, 3, rows, columns).Value!;
            Assert.Contains(plan.Calls, c => c.Kernel == "tml_copy_window" && c.Comment.Contains("RESHAPE tile"));
            Assert.True(expected.SequenceEqual(RunPatched(plan, graph, input)), $"grid {rows}x{columns} differs from layer by layer");
        }
    }

    /// <summary>A float32 NCHW input: TRANSPOSE, PAD, VALID convolution, PAD, depthwise convolution; patched at every
    /// split with forced grids, with the TRANSPOSE folded and whole, and as chosen, bit-identical with layer by layer
    /// (each output is the same sum in the same order).</summary>
    [Fact]
    public void FloatNchwInput_PatchedEqualsLayerByLayer()
    {
        var random = new Random(7);
        var b = new ModelBuilder();
        int c = 3, h = 13, w = 11;
        int nchw = b.Tensor("input", DataType.Float32, new[] { 1, c, h, w });
        int x = b.Tensor("nhwc", DataType.Float32, new[] { 1, h, w, c });
        b.Inputs(nchw);
        b.Operator(OpKind.Transpose, new[] { nchw, b.Constant("perm", new[] { 4 }, new[] { 0, 2, 3, 1 }) }, new[] { x }, version: 2);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        int Pad(int from, int[] shape, int top, int bottom, int left, int right, string name)
        {
            int y = b.Tensor(name, DataType.Float32, new[] { 1, shape[1] + top + bottom, shape[2] + left + right, shape[3] });
            b.Operator(OpKind.Pad, new[] { from, b.Constant(name + "_p", new[] { 4, 2 }, new[] { 0, 0, top, bottom, left, right, 0, 0 }) }, new[] { y }, version: 2);
            return y;
        }
        int padded = Pad(x, new[] { 1, h, w, c }, 1, 1, 1, 1, "pad0");                       // 15x13
        // Wider than the input, so the stage output is worth sharing the NHWC input's buffer (a whole TRANSPOSE's kind).
        int f = 12;
        int conv = b.Tensor("conv", DataType.Float32, new[] { 1, 7, 6, f });                     // 3x3 stride 2 VALID
        b.Operator(OpKind.Conv2D, new[] { padded, b.Constant("w0", new[] { f, 3, 3, c }, Values(f * 9 * c)), b.Constant("b0", new[] { f }, Values(f)) },
            new[] { conv }, new Conv2DOptions(Padding.Valid, 2, 2, Activation.Relu6), 3);
        int padded2 = Pad(conv, new[] { 1, 7, 6, f }, 0, 2, 2, 0, "pad1");                   // 9x8
        int dw = b.Tensor("dw", DataType.Float32, new[] { 1, 7, 6, f });
        b.Operator(OpKind.DepthwiseConv2D, new[] { padded2, b.Constant("w1", new[] { 1, 3, 3, f }, Values(9 * f)), b.Constant("b1", new[] { f }, Values(f)) },
            new[] { dw }, new DepthwiseConv2DOptions(Padding.Valid, 1, 1, 1, Activation.None), 3);
        var model = b.Outputs(dw).Build();
        var graph = PatchGraph.Analyze(model.Main);
        Assert.Equal(0, graph.InputTranspose);
        Assert.Equal(new[] { 1, 2, 3, 4 }, graph.Splits);
        var input = MemoryMarshalBytes(Values(c * h * w));
        var expected = PatchTests.Run(Lower(model, LoweringOptions.None), input);
        int runs = 0;
        foreach (bool transposeWhole in new[] { false, true })
            foreach (int k in graph.Splits)
                foreach (var (rows, columns) in new[] { (2, 2), (3, 2), (1, 3) })
                {
                    var lowered = Lowerer.LowerWithPatches(model, null, k, rows, columns, transposeWhole);
                    if (lowered.Value is null && lowered.Diagnostics.All(d => d.Id == "TML3020")) continue;
                    Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
                    Assert.True(expected.SequenceEqual(RunPatched(lowered.Value!, graph, input)), $"split {k}, grid {rows}x{columns}, TRANSPOSE whole {transposeWhole} differs from layer by layer");
                    runs++;
                }
        Assert.True(runs >= 18, $"only {runs} patched runs");
        // Chosen plans: minimum peak, and each whole-TRANSPOSE front point as the budget mode takes it.
        var chosen = Lower(model, LoweringOptions.None with { Patch = PatchMode.MinimumPeak });
        Assert.True(PatchTests.Run(chosen, input).SequenceEqual(expected));
        var wholePoints = chosen.Patches!.Front.Where(p => p.TransposeWhole).ToList();
        Assert.NotEmpty(wholePoints);
        foreach (var point in wholePoints)
        {
            var plan = Lower(model, LoweringOptions.None with { Patch = PatchMode.Budget, RamBudget = point.ArenaBytes });
            Assert.True(plan.Patches!.TransposeWhole, plan.Patches.Grid);
            Assert.True(expected.SequenceEqual(RunPatched(plan, graph, input)), $"{point.Grid} after operator {point.SplitOperator} differs from layer by layer");
        }
    }

    private static byte[] MemoryMarshalBytes(float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>Random NCHW-input chains with explicit PADs: patched == unpatched at every split and a random grid, with the TRANSPOSE folded and whole.</summary>
    [Fact]
    public void RandomNchwChainsWithPads_PatchedEqualsUnpatched()
    {
        var random = new Random(20261207);
        int patchedRuns = 0, shared = 0, sharedWhole = 0, constants = 0, floats = 0, aliases = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            var model = RandomNchwChain(random);
            var plain = Lower(model, LoweringOptions.None);
            var input = new byte[plain.Inputs[0].Bytes];
            random.NextBytes(input);
            var expected = PatchTests.Run(plain, input);
            var graph = PatchGraph.Analyze(model.Main);
            Assert.Equal(0, graph.InputTranspose);
            Assert.True(graph.Splits.Count > 0, $"trial {trial}: {graph.StopReason}");
            // Every operator of these chains runs on tiles.
            Assert.Equal(model.Main.Operators.Count - 1, graph.Ops.Count);
            constants += graph.Ops.Count(o => o.Inputs.Count < model.Main.Operators[o.Index].Inputs.Count && o.Shape == PatchOpShape.Elementwise);
            floats += graph.Ops.Count(o => model.Main.Operators[o.Index].Kind == OpKind.Dequantize);
            aliases += graph.Ops.Count(o => o.Shape == PatchOpShape.Alias);
            var chosen = Lower(model, LoweringOptions.None with { Patch = PatchMode.MinimumPeak });
            Assert.True(chosen.ArenaBytes <= plain.ArenaBytes);
            Assert.True(expected.SequenceEqual(PatchTests.Run(chosen, input)), $"trial {trial}: the minimum-peak choice differs from layer by layer");
            foreach (int k in graph.Splits)
            {
                var stage = model.Main.Tensors[graph.Ops[k - 1].Output].Shape;
                int rows = random.Next(1, Math.Min(4, stage[1]) + 1), columns = random.Next(1, Math.Min(4, stage[2]) + 1);
                foreach (bool transposeWhole in new[] { false, true })
                {
                    var lowered = Lowerer.LowerWithPatches(model, null, k, rows, columns, transposeWhole);
                    if (lowered.Value is null && lowered.Diagnostics.All(d => d.Id == "TML3020")) continue;
                    Assert.True(lowered.Value is not null, $"trial {trial}, split {k}: " + string.Join("\n", lowered.Diagnostics));
                    Assert.True(expected.SequenceEqual(RunPatched(lowered.Value!, graph, input)),
                        $"trial {trial}: split {k}, grid {rows}x{columns}, TRANSPOSE whole {transposeWhole} differs from layer by layer");
                    if (lowered.Value!.Memory!.Arena.Buffers.Any(b => b.Name.Contains("(then ")))
                    {
                        if (transposeWhole) sharedWhole++;
                        else shared++;
                    }
                    patchedRuns++;
                }
            }
        }
        Assert.True(patchedRuns > 120, $"only {patchedRuns} patched runs");
        Assert.True(constants > 3 && floats > 3 && aliases > 3, $"{constants} constant operands, {floats} float stretches, {aliases} aliases");
        // The stage output shares the NCHW input's buffer in some of them (its dead first-plane rows), and a whole
        // TRANSPOSE's NHWC output in some.
        Assert.True(shared > 0 && sharedWhole > 0, $"{shared} folded and {sharedWhole} whole-TRANSPOSE plans share the stage output's buffer");
    }

    /// <summary>An int8 NCHW input, a TRANSPOSE to NHWC, then PADs (asymmetric, on H and W), VALID convolutions and
    /// depthwise convolutions, max pools, RELU6, same-shape RESHAPEs, ADD/SUB/MUL with a per-channel or scalar
    /// constant, and float32 stretches (DEQUANTIZE, ADD of a constant, QUANTIZE).</summary>
    internal static Model RandomNchwChain(Random random)
    {
        var b = new ModelBuilder();
        int h = random.Next(5, 15), w = random.Next(5, 15), c = random.Next(1, 5);
        var q = Quantization.PerTensor(0.02f + (float)random.NextDouble() * 0.05f, random.Next(-20, 21));
        int nchw = b.Tensor("input", DataType.Int8, new[] { 1, c, h, w }, q);
        int x = b.Tensor("nhwc", DataType.Int8, new[] { 1, h, w, c }, q);
        b.Inputs(nchw);
        b.Operator(OpKind.Transpose, new[] { nchw, b.Constant("perm", new[] { 4 }, new[] { 0, 2, 3, 1 }) }, new[] { x }, version: 2);
        int layers = random.Next(2, 6);
        for (int l = 0; l < layers; l++)
        {
            var shape = b.Graph.Tensors[x].Shape.ToArray();
            int kind = random.Next(8);
            if (kind <= 2)
            {
                // PAD (top, bottom, left, right), then a VALID convolution, depthwise convolution or nothing.
                var p = Enumerable.Range(0, 4).Select(_ => random.Next(0, 3)).ToArray();
                var padded = new[] { 1, shape[1] + p[0] + p[1], shape[2] + p[2] + p[3], shape[3] };
                int y = b.Tensor($"pad{l}", DataType.Int8, padded, q);
                b.Operator(OpKind.Pad, new[] { x, b.Constant($"paddings{l}", new[] { 4, 2 }, new[] { 0, 0, p[0], p[1], p[2], p[3], 0, 0 }) }, new[] { y }, version: 2);
                x = y;
                if (kind == 0) continue;
                bool depthwise = kind == 2;
                int k = new[] { 1, 3, 3 }[random.Next(3)], stride = random.Next(1, 3);
                int outH = QuantMath.OutputSize(Padding.Valid, padded[1], k, stride, 1), outW = QuantMath.OutputSize(Padding.Valid, padded[2], k, stride, 1);
                if (outH < 1 || outW < 1) continue;
                int outC = depthwise ? padded[3] : random.Next(1, 6);
                var weightShape = depthwise ? new[] { 1, k, k, outC } : new[] { outC, k, k, padded[3] };
                var scales = Enumerable.Range(0, outC).Select(_ => 0.005f + (float)random.NextDouble() * 0.01f).ToArray();
                var weights = b.Constant($"w{l}", weightShape, Enumerable.Range(0, weightShape.Aggregate(1, (a, d) => a * d)).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(),
                    new Quantization(scales, new long[outC], depthwise ? 3 : 0));
                var bias = b.Constant($"b{l}", new[] { outC }, Enumerable.Range(0, outC).Select(_ => random.Next(-2000, 2000)).ToArray(),
                    new Quantization(scales.Select(s => s * q.Scale).ToArray(), new long[outC]));
                int fanIn = k * k * (depthwise ? 1 : padded[3]);
                var outQ = Quantization.PerTensor(q.Scale * 0.9f * (float)Math.Sqrt(fanIn), random.Next(-10, 11));
                int z = b.Tensor($"t{l}", DataType.Int8, new[] { 1, outH, outW, outC }, outQ);
                OperatorOptions options = depthwise
                    ? new DepthwiseConv2DOptions(Padding.Valid, stride, stride, 1, Activation.Relu6)
                    : new Conv2DOptions(Padding.Valid, stride, stride, Activation.None);
                b.Operator(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, new[] { x, weights, bias }, new[] { z }, options, 3);
                (x, q) = (z, outQ);
            }
            else if (kind == 3)
            {
                int stride = random.Next(1, 3);
                int outH = QuantMath.OutputSize(Padding.Same, shape[1], 2, stride, 1), outW = QuantMath.OutputSize(Padding.Same, shape[2], 2, stride, 1);
                int y = b.Tensor($"t{l}", DataType.Int8, new[] { 1, outH, outW, shape[3] }, q);
                b.Operator(OpKind.MaxPool2D, new[] { x }, new[] { y }, new Pool2DOptions(Padding.Same, stride, stride, 2, 2, Activation.None), 2);
                x = y;
            }
            else if (kind == 4)
            {
                int y = b.Tensor($"t{l}", DataType.Int8, shape, q);
                b.Operator(OpKind.Relu6, new[] { x }, new[] { y });
                x = y;
            }
            else if (kind == 6)
            {
                // ADD, SUB or MUL with a per-channel or scalar constant, on either side.
                var cShape = new[] { new[] { shape[3] }, new[] { 1, 1, 1, shape[3] }, new[] { 1 } }[random.Next(3)];
                var cQ = Quantization.PerTensor(0.01f + (float)random.NextDouble() * 0.05f, random.Next(-10, 11));
                int constant = b.Constant($"c{l}", cShape, Enumerable.Range(0, cShape.Aggregate(1, (a, d) => a * d)).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(), cQ);
                var opKind = new[] { OpKind.Add, OpKind.Sub, OpKind.Mul }[random.Next(3)];
                var outQ = Quantization.PerTensor(opKind == OpKind.Mul ? q.Scale * cQ.Scale * 60 : Math.Max(q.Scale, cQ.Scale) * 1.5f, random.Next(-10, 11));
                int y = b.Tensor($"t{l}", DataType.Int8, shape, outQ);
                var operands = random.Next(2) == 0 ? new[] { x, constant } : new[] { constant, x };
                OperatorOptions options = opKind switch
                {
                    OpKind.Add => new AddOptions(Activation.None),
                    OpKind.Sub => new SubOptions(Activation.None),
                    _ => new MulOptions(Activation.None),
                };
                b.Operator(opKind, operands, new[] { y }, options, 2);
                (x, q) = (y, outQ);
            }
            else if (kind == 7)
            {
                // DEQUANTIZE to float32, ADD a per-channel float constant, QUANTIZE back to int8.
                int f = b.Tensor($"f{l}", DataType.Float32, shape);
                b.Operator(OpKind.Dequantize, new[] { x }, new[] { f }, version: 2);
                int bias = b.Constant($"fc{l}", new[] { shape[3] }, Enumerable.Range(0, shape[3]).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
                int g = b.Tensor($"g{l}", DataType.Float32, shape);
                b.Operator(OpKind.Add, new[] { f, bias }, new[] { g }, new AddOptions(Activation.None));
                var outQ = Quantization.PerTensor(q.Scale * 1.3f, random.Next(-10, 11));
                int y = b.Tensor($"t{l}", DataType.Int8, shape, outQ);
                b.Operator(OpKind.Quantize, new[] { g }, new[] { y }, version: 1);
                (x, q) = (y, outQ);
            }
            else
            {
                // A RESHAPE to the same NHWC shape (an alias the tiles cross).
                int y = b.Tensor($"t{l}", DataType.Int8, shape, q);
                b.Operator(OpKind.Reshape, new[] { x, b.Constant($"shape{l}", new[] { 4 }, shape) }, new[] { y }, new ReshapeOptions(shape));
                x = y;
            }
        }
        return b.Outputs(x).Build();
    }
}
