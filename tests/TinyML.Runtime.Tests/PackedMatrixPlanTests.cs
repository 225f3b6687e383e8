// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Which calls a real model gets packed (tml_fully_connected_s8_packed) for each target. The layout itself is
/// TinyML.Compiler.Tests' PackedMatrixTests; that packed plans compute TFLM's bytes is ConformanceTests' job (every
/// golden model and op case, host and Cortex-M55 plans).
/// </summary>
public class PackedMatrixPlanTests
{
    [Theory]
    [InlineData("host", 4)]
    [InlineData("cortex-m4", 0x104)] // no flash budget: every packed layer widened to int16
    [InlineData("cortex-m7", 0x104)]
    [InlineData("cortex-m33", 0x104)]
    [InlineData("cortex-m0plus", 4)]
    [InlineData("cortex-m3", 4)]
    [InlineData("cortex-m55", 16)]
    public void Kws_ConvolutionsAndTheClassifier_ArePackedInTheTargetsChunks(string target, int chunk)
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"), LoweringOptions.Default with { Target = target });
        var matrices = plan.Calls.Where(c => c.Kernel == "tml_fully_connected_s8_packed").ToList();
        // kws: four 1x1 CONV_2D and the FULLY_CONNECTED classifier are matrix products; the first (10x4 stride 2)
        // convolution goes through im2col rows.
        Assert.Equal(new[] { "CONV_2D", "CONV_2D", "CONV_2D", "CONV_2D", "FULLY_CONNECTED" }, matrices.Select(c => c.OperatorType));
        var im2col = Assert.Single(plan.Calls, c => c.Kernel == "tml_conv_s8_packed");
        Assert.Equal(0, im2col.OperatorIndex);
        Assert.All(matrices.Append(im2col), c => Assert.Equal(chunk, c.Args[0].Fields.Single(f => f.Name == "chunk").Int));
        Assert.DoesNotContain(plan.Calls, c => c.Kernel == "tml_conv_s8");
    }

    [Fact]
    public void Widening_DoublesEachWidenedLayersWeights_AndKeepsTheScratch()
    {
        var kws = GoldenCase.All().Single(c => c.Name == "kws");
        var narrow = ConformanceTests.Lower(kws, LoweringOptions.Default with { Target = "cortex-m4", WidenWeights = false });
        var wide = ConformanceTests.Lower(kws, LoweringOptions.Default with { Target = "cortex-m4" });
        // kws's packed weights: 64 x 40 (first conv), four 64 x 64 (1x1 convs), 12 x 64 (classifier): all whole groups.
        Assert.Equal(narrow.ConstantBytes + 64 * 40 + 4 * 64 * 64 + 12 * 64, wide.ConstantBytes);
        // The first convolution's two im2col rows of 40 taps, either way.
        Assert.Equal(ScratchOf(narrow), ScratchOf(wide));
        Assert.All(narrow.Calls.Where(c => c.Kernel.EndsWith("_packed", StringComparison.Ordinal)),
            c => Assert.Equal(4, c.Args[0].Fields.Single(f => f.Name == "chunk").Int));
    }

    private static long ScratchOf(TinyML.Compiler.Plan.CompiledPlan plan) =>
        plan.Memory!.ScratchBytes;

    [Fact]
    public void WithAFlashBudget_TheLayersWithTheMostMacsPerWeightByteAreWidenedFirst_WithinIt()
    {
        var kws = GoldenCase.All().Single(c => c.Name == "kws");
        int Widened(TinyML.Compiler.Plan.CompiledPlan plan, string kernelOperator) => plan.Calls.Count(c =>
            c.Kernel.EndsWith("_packed", StringComparison.Ordinal) && c.OperatorType == kernelOperator && c.Args[0].Fields.Single(f => f.Name == "chunk").Int == 0x104);
        var seen = new System.Collections.Generic.HashSet<int>();
        for (long budget = 40_000; budget <= 100_000; budget += 1_000)
        {
            var plan = ConformanceTests.Lower(kws, LoweringOptions.Default with { Target = "cortex-m4", FlashBudget = budget });
            int convs = Widened(plan, "CONV_2D"), classifier = Widened(plan, "FULLY_CONNECTED");
            seen.Add(convs);
            double limit = 0.9 * budget - 16 * 1024; // the flash warning share, less the code reserve
            if (convs + classifier > 0) Assert.True(plan.ConstantBytes <= limit, $"budget {budget}: constants {plan.ConstantBytes}");
            // The classifier (one MAC per weight byte at batch 1) is widened before a convolution (125 per byte) only
            // when no convolution left fits: the first adds 64 x 40 bytes, each 1x1 64 x 64.
            bool firstWidened = plan.Calls.Any(c => c.OperatorIndex == 0 && c.Args[0].Fields.Single(f => f.Name == "chunk").Int == 0x104);
            Assert.True(classifier == 0 || convs == 5 || plan.ConstantBytes + (firstWidened ? 64 * 64 : 64 * 40) > limit,
                $"budget {budget}: classifier widened with {convs} of 5 convolutions");
        }
        // Between none and all: the budget decides layer by layer.
        Assert.Contains(0, seen);
        Assert.Contains(5, seen);
        Assert.True(seen.Count > 2, string.Join(",", seen));
    }

    [Fact]
    public void TheCompilationsFlashBudget_ReachesTheLowering_AndAModelThatFitsStaysWithinIt()
    {
        var kws = TinyML.Compiler.Tflite.TfliteReader.ReadFile(GoldenCase.All().Single(c => c.Name == "kws").Model).Value!;
        int Widened(long? budget)
        {
            var compiled = TinyML.Compiler.Compilation.ModelCompiler.Compile(kws, "kws.tflite", new TinyML.Compiler.Compilation.CompilationOptions
            {
                Target = "cortex-m4",
                FlashBudget = budget is long b ? new TinyML.Compiler.Budgets.Budget(b, "test") : null,
            });
            Assert.True(compiled.Succeeded, string.Join("\n", compiled.Diagnostics));
            // Within the budget: no TML3002 (over) or TML3004 (above 90%) from the widening.
            Assert.DoesNotContain(compiled.Diagnostics, d => d.Severity != TinyML.Compiler.Diagnostics.Severity.Info);
            return compiled.Plan!.Calls.Count(c => c.Kernel.EndsWith("_packed", StringComparison.Ordinal)
                && c.Args[0].Fields.Single(f => f.Name == "chunk").Int == 0x104);
        }
        Assert.Equal(6, Widened(null));        // no budget: all six packed layers
        Assert.Equal(6, Widened(1 << 20));     // the nano33ble's 1 MB
        Assert.Equal(0, Widened(48 * 1024));   // 28,984 B of constants fit, a widened layer would pass 90% less code
    }

    [Fact]
    public void OperatorsSharingAWeightTensor_ShareItsPackedBlobAndFoldedBias()
    {
        // Two FULLY_CONNECTED layers with one weight and one bias tensor (tied weights, as recurrent exports carry).
        var act = Quantization.PerTensor(0.05f, -3);
        var b = new ModelBuilder();
        int input = b.Tensor("input", DataType.Int8, new[] { 1, 8 }, act);
        int weights = b.Constant("w", new[] { 8, 8 }, Enumerable.Range(0, 64).Select(i => (sbyte)(i * 7 % 61 - 30)).ToArray(), Quantization.PerTensor(0.02f, 0));
        int bias = b.Constant("b", new[] { 8 }, Enumerable.Range(0, 8).Select(i => i * 11 - 40).ToArray(), Quantization.PerTensor(0.05f * 0.02f, 0));
        int hidden = b.Tensor("hidden", DataType.Int8, new[] { 1, 8 }, act);
        int output = b.Tensor("output", DataType.Int8, new[] { 1, 8 }, act);
        var options = new FullyConnectedOptions(Activation.None, 0, false, false);
        b.Operator(OpKind.FullyConnected, new[] { input, weights, bias }, new[] { hidden }, options);
        b.Operator(OpKind.FullyConnected, new[] { hidden, weights, bias }, new[] { output }, options);
        b.Inputs(input).Outputs(output);
        var plan = Lowerer.Lower(b.Build()).Value!;
        var calls = plan.Calls.Where(c => c.Kernel == "tml_fully_connected_s8_packed").ToList();
        Assert.Equal(2, calls.Count);
        // Arguments 6 and 7: the packed filter and the folded bias, the same blobs for both layers.
        Assert.Equal(calls[0].Args[6].Pointer, calls[1].Args[6].Pointer);
        Assert.Equal(calls[0].Args[7].Pointer, calls[1].Args[7].Pointer);
        Assert.Equal(new[] { weights, bias }, plan.ConstantSources.Values.OrderBy(t => t));
    }
}
