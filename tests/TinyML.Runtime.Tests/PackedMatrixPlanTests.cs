// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
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
}
