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
    [InlineData("cortex-m4", 4)]
    [InlineData("cortex-m0plus", 4)]
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
