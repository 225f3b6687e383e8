// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;

namespace TinyML.Compiler.Lowering;

/// <summary>
/// TFLite's quantization arithmetic, reproduced exactly: the order of float and double operations decides the
/// last bit of a multiplier, and so the last bit of an output.
/// </summary>
public static class QuantMath
{
    /// <summary>C's round(): halves go away from zero.</summary>
    public static double Round(double x) => FixedPoint.Round(x);

    /// <summary>C's frexp: <paramref name="value"/> = fraction × 2^exponent with |fraction| in [0.5, 1).</summary>
    public static double Frexp(double value, out int exponent) => FixedPoint.Frexp(value, out exponent);

    /// <summary>TFLite's QuantizeMultiplier (<see cref="FixedPoint.QuantizeMultiplier"/>).</summary>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double real) => FixedPoint.QuantizeMultiplier(real);

    /// <summary>The integer range of a type.</summary>
    public static (int Min, int Max) TypeRange(DataType type) => type switch
    {
        DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        DataType.Int16 => (short.MinValue, short.MaxValue),
        DataType.UInt8 => (0, 255),
        _ => (int.MinValue, int.MaxValue),
    };

    /// <summary>
    /// TFLite's CalculateActivationRangeQuantized: the clamp of a fused activation in the output's integer domain.
    /// The division runs in float32, as TFLite does (with scale 12/255 the RELU6 top is 43, not double's 42).
    /// </summary>
    public static (int Min, int Max) ActivationRange(Activation activation, float scale, int zeroPoint, DataType type)
    {
        var (qmin, qmax) = TypeRange(type);
        int Quantize(float value)
        {
            float quotient = value / scale;
            return zeroPoint + (int)Round(quotient);
        }
        return activation switch
        {
            Activation.Relu => (Math.Max(qmin, Quantize(0f)), qmax),
            Activation.Relu6 => (Math.Max(qmin, Quantize(0f)), Math.Min(qmax, Quantize(6f))),
            Activation.ReluN1To1 => (Math.Max(qmin, Quantize(-1f)), Math.Min(qmax, Quantize(1f))),
            _ => (qmin, qmax),
        };
    }

    /// <summary>TFLite's CalculateActivationRange for float kernels.</summary>
    public static (float Min, float Max) ActivationRangeFloat(Activation activation) => activation switch
    {
        Activation.Relu => (0f, float.MaxValue),
        Activation.Relu6 => (0f, 6f),
        Activation.ReluN1To1 => (-1f, 1f),
        _ => (float.MinValue, float.MaxValue),
    };

    /// <summary>TFLite's ComputeOutSize.</summary>
    public static int OutputSize(Padding padding, int input, int filter, int stride, int dilation)
    {
        int effective = (filter - 1) * dilation + 1;
        return padding == Padding.Same ? (input + stride - 1) / stride : (input + stride - effective) / stride;
    }

    /// <summary>
    /// Output size and top/left padding along one axis: TFLite's SAME or VALID over the input with a folded PAD's
    /// <paramref name="before"/> and <paramref name="after"/> rows around it (taps on them are skipped like SAME's).
    /// </summary>
    public static (int Output, int Before) Window(Padding padding, int input, int filter, int stride, int dilation, int before = 0, int after = 0)
    {
        int padded = input + before + after;
        int output = OutputSize(padding, padded, filter, stride, dilation);
        return (output, before + PaddingBefore(stride, dilation, padded, filter, output));
    }

    /// <summary>Output rows and columns and top/left padding of a window operator over an NHWC input, with a folded
    /// PAD's rows and columns when there is one.</summary>
    public static ((int Output, int Before) H, (int Output, int Before) W) Windows(Padding padding, FoldedPadding? folded, IReadOnlyList<int> nhwc,
        int filterH, int filterW, int strideH, int strideW, int dilationH = 1, int dilationW = 1) =>
        (Window(padding, nhwc[1], filterH, strideH, dilationH, folded?.Top ?? 0, folded?.Bottom ?? 0),
            Window(padding, nhwc[2], filterW, strideW, dilationW, folded?.Left ?? 0, folded?.Right ?? 0));

    /// <summary>TFLite's ComputePaddingWithOffset: the top/left padding (the odd extra goes bottom/right).</summary>
    public static int PaddingBefore(int stride, int dilation, int input, int filter, int output)
    {
        int effective = (filter - 1) * dilation + 1;
        int total = (output - 1) * stride + effective - input;
        return Math.Max(total, 0) / 2;
    }
}
