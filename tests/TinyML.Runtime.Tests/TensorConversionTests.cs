// SPDX-License-Identifier: Apache-2.0
using System;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>The int16 (16x8) conversions of the generated classes: TFLite's rounding (halves away from zero, in
/// float32), saturated to int16; dequantized as scale × (q − zero point).</summary>
public class TensorConversionTests
{
    [Fact]
    public void Int16_QuantizesWithTfliteRounding_AndSaturates()
    {
        var q = new short[6];
        TensorConversions.Quantize(new[] { 0.25f, -0.25f, 1f, 100f, -100f, float.NaN }, q, 0.5f, 0);
        Assert.Equal(new short[] { 1, -1, 2, 200, -200, 0 }, q);
        TensorConversions.Quantize(new[] { 1e6f, -1e6f, 0f, 0f, 0f, 0f }, q, 0.5f, 3);
        Assert.Equal(new short[] { short.MaxValue, short.MinValue, 3, 3, 3, 3 }, q);
        Assert.Throws<ArgumentException>(() => TensorConversions.Quantize(new float[2], new short[3], 1f, 0));
    }

    [Fact]
    public void Int16_Dequantizes()
    {
        var x = new float[3];
        TensorConversions.Dequantize(new short[] { 3, 5, -32768 }, x, 0.5f, 3);
        Assert.Equal(new[] { 0f, 1f, 0.5f * (-32768 - 3) }, x);
    }
}
