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
    public void Kws_PointwiseConvolutionsAndTheClassifier_ArePackedInTheTargetsChunks(string target, int chunk)
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"), LoweringOptions.Default with { Target = target });
        var packed = plan.Calls.Where(c => c.Kernel == "tml_fully_connected_s8_packed").ToList();
        // kws: four 1x1 CONV_2D and the FULLY_CONNECTED classifier; the first (10x4) convolution keeps tml_conv_s8.
        Assert.Equal(new[] { "CONV_2D", "CONV_2D", "CONV_2D", "CONV_2D", "FULLY_CONNECTED" }, packed.Select(c => c.OperatorType));
        Assert.All(packed, c => Assert.Equal(chunk, c.Args[0].Fields.Single(f => f.Name == "chunk").Int));
        Assert.Single(plan.Calls, c => c.Kernel == "tml_conv_s8");
    }
}
