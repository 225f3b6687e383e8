// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.PostTraining;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>The int8 arithmetic of post-training quantization, with expected values worked out by hand.</summary>
public class QuantizationMathTests
{
    [Theory]
    // [0, 6] (after RELU6): scale 6/255, zero point -128 - 0/scale = -128.
    [InlineData(0.0, 6.0, 6.0 / 255, -128)]
    // [-1, 1]: scale 2/255; -128 - (-1)/(2/255) = -0.5, rounded half away from zero = -1.
    [InlineData(-1.0, 1.0, 2.0 / 255, -1)]
    // [0.5, 5.1] is widened to [0, 5.1] so that 0 is representable: scale 0.02, zero point -128.
    [InlineData(0.5, 5.1, 0.02, -128)]
    // [-5.1, -0.5] is widened to [-5.1, 0]: scale 0.02, -128 + 255 = 127.
    [InlineData(-5.1, -0.5, 0.02, 127)]
    // [-3, 0.5]: scale 3.5/255; -128 + 3/(3.5/255) = 90.571..., rounded 91.
    [InlineData(-3.0, 0.5, 3.5 / 255, 91)]
    public void Asymmetric_ChoosesScaleAndZeroPoint(double min, double max, double scale, int zeroPoint)
    {
        var q = QuantizationMath.Asymmetric(min, max);
        Assert.Equal((float)scale, q.Scale);
        Assert.Equal(zeroPoint, q.ZeroPoint);
    }

    [Theory]
    [InlineData(0.0, 6.0)]
    [InlineData(-1.0, 1.0)]
    [InlineData(-3.0, 0.5)]
    [InlineData(-0.001, 1000.0)]
    [InlineData(-1000.0, 0.001)]
    [InlineData(-0.3, 0.7)]
    public void Asymmetric_ZeroIsExact_AndTheRangeIsCovered(double min, double max)
    {
        var q = QuantizationMath.Asymmetric(min, max);
        Assert.Equal(q.ZeroPoint, QuantizationMath.Quantize(0.0, q.Scale, q.ZeroPoint));
        Assert.Equal(0.0, QuantizationMath.Dequantize(q.ZeroPoint, q.Scale, q.ZeroPoint));
        // Moving the zero point to an integer shifts the grid by at most half a step at either end.
        Assert.True(QuantizationMath.Dequantize(-128, q.Scale, q.ZeroPoint) <= Math.Min(min, 0) + q.Scale / 2 + 1e-9);
        Assert.True(QuantizationMath.Dequantize(127, q.Scale, q.ZeroPoint) >= Math.Max(max, 0) - q.Scale / 2 - 1e-9);
    }

    [Fact]
    public void Asymmetric_ConstantTensor_CoversItsValueExactly()
    {
        // A tensor that is 3 everywhere: [3, 3] widens to [0, 3], scale 3/255, zero point -128; 3 is q = 127 exactly.
        var q = QuantizationMath.Asymmetric(3, 3);
        Assert.Equal(3f / 255, q.Scale);
        Assert.Equal(-128, q.ZeroPoint);
        Assert.Equal(127, QuantizationMath.Quantize(3.0, q.Scale, q.ZeroPoint));
        Assert.Equal(3.0, QuantizationMath.Dequantize(127, q.Scale, q.ZeroPoint), 6);
    }

    [Fact]
    public void Asymmetric_AllZeroTensor_GetsAValidScale()
    {
        var q = QuantizationMath.Asymmetric(0, 0);
        Assert.Equal(1f, q.Scale);
        Assert.Equal(0, q.ZeroPoint);
    }

    [Theory]
    [InlineData(double.NaN, 1.0)]
    [InlineData(0.0, double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity, 0.0)]
    [InlineData(2.0, 1.0)]
    public void Asymmetric_RefusesNonFiniteOrEmptyRanges(double min, double max) =>
        Assert.Throws<ArgumentException>(() => QuantizationMath.Asymmetric(min, max));

    [Fact]
    public void Quantize_RoundsHalfAwayFromZero_AndSaturates()
    {
        Assert.Equal(3, QuantizationMath.Quantize(2.5, 1f, 0));
        Assert.Equal(-3, QuantizationMath.Quantize(-2.5, 1f, 0));
        Assert.Equal(127, QuantizationMath.Quantize(1000, 1f, 0));
        Assert.Equal(-128, QuantizationMath.Quantize(-1000, 1f, 0));
    }

    [Fact]
    public void ConvolutionWeights_ArePerChannelAlongDimensionZero_AndAnAllZeroChannelBorrowsAScale()
    {
        // [2 out, 1, 1, 2 in]: channel 0 = {1, -0.5} → scale 1/127, q = {127, -63.5 → -64}; channel 1 is all zero.
        var (values, q) = QuantizationMath.SymmetricWeights(new[] { 1f, -0.5f, 0f, 0f }, new[] { 2, 1, 1, 2 }, 0);
        Assert.Equal(new sbyte[] { 127, -64, 0, 0 }, values);
        Assert.Equal(0, q.QuantizedDimension);
        Assert.Equal(new[] { 1f / 127, 1f / 127 }, q.Scales.ToArray());
        Assert.Equal(new long[] { 0, 0 }, q.ZeroPoints.ToArray());
    }

    [Fact]
    public void DepthwiseWeights_ArePerChannelAlongDimensionThree()
    {
        // [1, 1, 2, 2]: element i belongs to channel i % 2. Channel 0 = {0.2, -0.4}, channel 1 = {2, 1}.
        var (values, q) = QuantizationMath.SymmetricWeights(new[] { 0.2f, 2f, -0.4f, 1f }, new[] { 1, 1, 2, 2 }, 3);
        Assert.Equal(3, q.QuantizedDimension);
        Assert.Equal(new[] { 0.4f / 127, 2f / 127 }, q.Scales.ToArray());
        // 0.2 / (0.4/127) = 63.5 → 64; -127; 2/(2/127) = 127; 1/(2/127) = 63.5 → 64.
        Assert.Equal(new sbyte[] { 64, 127, -127, 64 }, values);
    }

    [Fact]
    public void FullyConnectedWeights_ArePerTensor_AndNeverUseMinus128()
    {
        var (values, q) = QuantizationMath.SymmetricWeights(new[] { -3f, 1.5f, 0f, 3f }, new[] { 2, 2 }, null);
        Assert.False(q.IsPerChannel);
        Assert.Equal(3f / 127, q.Scale);
        Assert.Equal(new sbyte[] { -127, 64, 0, 127 }, values);
    }

    [Fact]
    public void AllZeroWeights_GetScaleOne()
    {
        var (values, q) = QuantizationMath.SymmetricWeights(new float[6], new[] { 3, 2 }, 0);
        Assert.All(values, v => Assert.Equal(0, v));
        Assert.All(q.Scales, s => Assert.Equal(1f, s));
    }

    [Fact]
    public void Bias_IsInt32_AtInputScaleTimesWeightScale()
    {
        var weights = new Ir.Quantization(new[] { 0.01f, 0.02f }, new long[2], 0);
        var (values, q) = QuantizationMath.Bias(new[] { 1.0f, -0.3f }, 0.5f, weights);
        // Scales 0.5 × 0.01 = 0.005 and 0.5 × 0.02 = 0.01; 1.0 / 0.005 = 200, -0.3 / 0.01 = -30.
        Assert.Equal(new[] { 0.005f, 0.01f }, q.Scales.ToArray());
        Assert.Equal(new[] { 200, -30 }, values);
        Assert.Equal(new long[] { 0, 0 }, q.ZeroPoints.ToArray());
    }

    [Fact]
    public void Bias_ThatWouldOverflowInt32_WidensTheWeightScale()
    {
        // A bias of 1e6 at input scale 1e-3 and weight scale 1e-3/127 would need 1.27e11 (> 2^31).
        float inputScale = 1e-3f;
        var minimum = new[] { QuantizationMath.MinimumWeightScaleForBias(1e6f, inputScale) };
        var (_, wq) = QuantizationMath.SymmetricWeights(new[] { 1e-3f, -1e-3f }, new[] { 1, 2 }, 0, minimum);
        var (values, _) = QuantizationMath.Bias(new[] { 1e6f }, inputScale, wq);
        Assert.InRange(values[0], int.MaxValue / 4, int.MaxValue / 2 + 1);
        Assert.Equal(1e6, (double)values[0] * inputScale * wq.Scales[0], 0);
    }

    [Fact]
    public void NonFiniteWeights_AreRefused()
    {
        Assert.Throws<NonFiniteValueException>(() => QuantizationMath.SymmetricWeights(new[] { 1f, float.NaN }, new[] { 2 }, null));
        Assert.Throws<NonFiniteValueException>(() => QuantizationMath.Bias(new[] { float.PositiveInfinity }, 1f, Ir.Quantization.PerTensor(1f, 0)));
    }

    [Fact]
    public void Statistics_RefuseNaNAndInfinity()
    {
        var stats = new TensorStatistics();
        stats.Observe(new[] { 1f, 2f }, "x");
        var e = Assert.Throws<NonFiniteValueException>(() => stats.Observe(new[] { 0f, float.NaN }, "x"));
        Assert.Contains("'x' element 1", e.Message);
        Assert.Throws<NonFiniteValueException>(() => stats.Observe(new[] { float.NegativeInfinity }, "x"));
    }

    private static TensorStatistics WithOutlier()
    {
        // 10,000 values spread over [0, 1) and one outlier at 100.
        var values = Enumerable.Range(0, 10000).Select(i => i / 10000f).Append(100f).ToArray();
        var stats = new TensorStatistics();
        stats.Observe(values, "x");
        stats.Accumulate(values);
        return stats;
    }

    [Fact]
    public void MinMax_KeepsTheOutlier()
    {
        Assert.Equal((0.0, 100.0), WithOutlier().Range(RangeMethod.MinMax));
    }

    [Fact]
    public void Percentile_ClipsTheOutlier()
    {
        // The outlier is 1 value in 10,001: under the 99.99th percentile's 1.0001-value tail. Bins are 100/2048 wide,
        // so the upper end lands in the first bin above 1.
        var (min, max) = WithOutlier().Range(RangeMethod.Percentile, 99.99);
        Assert.Equal(0.0, min);
        Assert.InRange(max, 1.0, 1.0 + 100.0 / 2048 + 1e-9);
    }

    [Fact]
    public void Mse_BalancesClippingAgainstRoundingNoise()
    {
        // N = 1,000,000 values in [0, 1) and one outlier at 100. Clipping at s costs the outlier (100 − s)² and every
        // other value (s/255)²/12 of rounding noise; the sum is least at s = 100 / (1 + N / (12 × 255²)) ≈ 43.8, and
        // the search tries whole percents of the range.
        var bulk = Enumerable.Range(0, 10000).Select(i => i / 10000f).ToArray();
        var stats = new TensorStatistics();
        stats.Observe(bulk, "x");
        stats.Observe(new[] { 100f }, "x");
        for (int k = 0; k < 100; k++) stats.Accumulate(bulk);
        stats.Accumulate(new[] { 100f });
        var (min, max) = stats.Range(RangeMethod.Mse);
        Assert.Equal(0.0, min);
        Assert.InRange(max, 43.99, 44.01);
        // With only 10,000 values the outlier's clipping error outweighs the noise saved: the range stays near full.
        Assert.InRange(WithOutlier().Range(RangeMethod.Mse).Max, 95, 100);
    }
}
