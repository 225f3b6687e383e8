// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>What convolutions and fully connected layers share: weights (input 1) and an optional bias (input 2).</summary>
internal static class WeightedOperator
{
    /// <summary>The (input, output) types of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: int8, float32 and 16x8.</summary>
    public static readonly (DataType, DataType)[] Types = { (I8, I8), (F32, F32), (I16, I16) };

    /// <summary>Weights and bias types, shapes and quantization, with TFLM's bias scale rule; the bias is input
    /// <paramref name="biasInput"/> (3 for TRANSPOSE_CONV). An INT16 input (16x8) takes INT8 weights and a bias of one
    /// of <paramref name="int16Biases"/> (the bias types TFLM's kernel has for it; none: int16 is refused).</summary>
    public static void CheckWeights(OperatorValidation validation, Operator op, Tensor input, int expectedRank, int channelDim, int biasInput = 2,
        DataType[]? int16Biases = null)
    {
        var graph = validation.Graph;
        var weights = graph.Input(op, 1)!;
        var bias = graph.Input(op, biasInput);
        if (input.Type == F32 && weights.Type != F32)
        {
            validation.Report(DiagnosticIds.UnsupportedTypeCombination,
                $"hybrid operator: FLOAT32 activations with {DataTypes.Name(weights.Type)} weights are not supported; " +
                "quantize the whole model to int8 (tinyml quantize) or keep float32 weights", weights);
            return;
        }
        bool int16 = input.Type == I16;
        if (int16 && int16Biases is null)
        {
            validation.Report(DiagnosticIds.UnsupportedTypeCombination, $"INT16 {op.TypeName} (16x8 quantization) is not supported", input);
            return;
        }
        if (weights.Type != (int16 ? I8 : input.Type))
        {
            validation.Report(DiagnosticIds.UnsupportedTypeCombination,
                $"{DataTypes.Name(weights.Type)} weights with {DataTypes.Name(input.Type)} input are not supported" +
                (int16 ? "; 16x8 takes INT8 weights" : ""), weights);
            return;
        }
        if (int16) CheckInt16Activations(validation, op, input);
        if (weights.Shape.Count != expectedRank)
        {
            validation.Report(DiagnosticIds.InvalidOperator, $"weights must have rank {expectedRank}, not {weights.Shape.Count}", weights);
            return;
        }
        int channels = weights.Shape[channelDim];
        if (bias is not null)
        {
            var expectedBiases = int16 ? int16Biases! : new[] { input.Type == F32 ? F32 : I32 };
            if (!expectedBiases.Contains(bias.Type))
                validation.Report(DiagnosticIds.UnsupportedTypeCombination,
                    $"{(int16 ? "a 16x8 " + op.TypeName + " " : "")}bias must be {string.Join(" or ", expectedBiases.Select(DataTypes.Name))}, not {DataTypes.Name(bias.Type)}", bias);
            if (bias.ElementCount != channels)
                validation.Report(DiagnosticIds.InvalidOperator, $"bias has {bias.ElementCount} elements for {channels} output channels", bias);
        }
        if (input.Type is not (I8 or I16)) return;
        if (weights.Quantization is not { HasScales: true } wq)
        {
            validation.Report(DiagnosticIds.MissingQuantization, "int8 weights have no quantization scales", weights);
            return;
        }
        if (wq.IsPerChannel && (wq.QuantizedDimension != channelDim || wq.Scales.Count != channels))
            validation.Report(DiagnosticIds.InconsistentQuantization,
                $"per-channel weights must have {channels} scales along dimension {channelDim}; found {wq.Scales.Count} along {wq.QuantizedDimension}", weights);
        if (wq.ZeroPoints.Any(z => z != 0))
            validation.Report(DiagnosticIds.QuantizationSpecViolation, "int8 weights must be symmetric (zero point 0)", weights);
        if (bias?.Quantization is { HasScales: true } bq && bq.Scales.Count != wq.Scales.Count)
            validation.Report(DiagnosticIds.InconsistentQuantization,
                $"bias has {bq.Scales.Count} scales but the weights have {wq.Scales.Count}", bias);
        else if (bias?.Quantization is { HasScales: true } biasQ && input.Quantization is { HasScales: true } iq &&
                 graph.Output(op, 0).Quantization is { HasScales: true } oq)
        {
            // TFLM's GetQuantizedConvolutionMultipler: the bias scale must be input x weight scale within 2% of the output scale.
            for (int c = 0; c < wq.Scales.Count; c++)
            {
                double expected = (double)iq.Scale * wq.Scales[c];
                if (Math.Abs(expected - biasQ.Scales[c]) / oq.Scale > 0.02)
                {
                    validation.Report(DiagnosticIds.QuantizationSpecViolation,
                        $"bias scale {biasQ.Scales[c]} of channel {c} is not input scale x weight scale ({expected})", bias);
                    break;
                }
            }
        }
    }

    /// <summary>The TFLite spec for 16x8: int16 activations are symmetric (TFLM's 16x8 kernels have no offsets).</summary>
    private static void CheckInt16Activations(OperatorValidation validation, Operator op, Tensor input)
    {
        foreach (var tensor in new[] { input, validation.Graph.Output(op, 0) })
            if (tensor.Quantization is { HasScales: true } q && q.ZeroPoint != 0)
                validation.Report(DiagnosticIds.QuantizationSpecViolation,
                    $"int16 {op.TypeName} activations must have zero point 0 (16x8 quantization is symmetric); '{tensor.Name}' has {q.ZeroPoint}", tensor);
    }

    /// <summary>Per-channel output multipliers and shifts as int32 blobs.</summary>
    public static (Pointer Multipliers, Pointer Shifts) ChannelMultipliers(LoweringContext context, Tensor input, Tensor weights, Tensor output, int channels, bool floatProduct = false)
    {
        // PopulateConvolutionQuantizationParams: input_scale * filter_scale / output_scale, all in double.
        // A per-tensor FULLY_CONNECTED takes the scale product in float (GetQuantizedConvolutionMultipler).
        var wq = Q(weights);
        float inputScale = Q(input).Scale, outputScale = Q(output).Scale;
        var multipliers = new int[channels];
        var shifts = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            float filterScale = wq.Scales[wq.IsPerChannel ? c : 0];
            double product = floatProduct ? (double)(float)(inputScale * filterScale) : (double)inputScale * filterScale;
            (multipliers[c], shifts[c]) = Multiplier(product / outputScale);
        }
        return (context.Int32Blob(multipliers), context.Int32Blob(shifts));
    }

    /// <summary>True when an int8 operator requantizes as onnxruntime does (<see cref="RequantizationRounding.OnnxRuntime"/>).</summary>
    public static bool UsesOnnxRuntimeRounding(LoweringContext context, Operator op) =>
        context.Rounding == RequantizationRounding.OnnxRuntime && op.Inputs.Count > 1
        && context.T(op.Inputs[0]).Type == I8 && context.T(op.Outputs[0]).Type == I8;

    /// <summary>onnxruntime's requantization scales as a float32 blob of <paramref name="channels"/> values:
    /// (x_scale * w_scale[c]) / y_scale, each step in float32, in the order of its QLinearConv, QLinearMatMul and QGemm.</summary>
    public static Pointer OnnxRuntimeScales(LoweringContext context, Tensor input, Tensor weights, Tensor output, int channels)
    {
        var wq = Q(weights);
        float inputScale = Q(input).Scale, outputScale = Q(output).Scale;
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float product = inputScale * wq.Scales[wq.IsPerChannel ? c : 0];
            scales[c] = product / outputScale;
            Expect(!float.IsNaN(scales[c]) && !float.IsInfinity(scales[c]) && scales[c] > 0,
                $"the requantization scale of channel {c} is {scales[c]}: the quantization scales are out of range");
        }
        return context.Constant(System.Runtime.InteropServices.MemoryMarshal.AsBytes(scales.AsSpan()).ToArray());
    }
}
