// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>What convolutions and fully connected layers share: weights (input 1) and an optional bias (input 2).</summary>
internal static class WeightedOperator
{
    /// <summary>Weights and bias types, shapes and quantization, with TFLM's bias scale rule; the bias is input
    /// <paramref name="biasInput"/> (3 for TRANSPOSE_CONV).</summary>
    public static void CheckWeights(OperatorValidation validation, Operator op, Tensor input, int expectedRank, int channelDim, int biasInput = 2)
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
        if (weights.Type != input.Type)
        {
            validation.Report(DiagnosticIds.UnsupportedTypeCombination,
                $"{DataTypes.Name(weights.Type)} weights with {DataTypes.Name(input.Type)} input are not supported", weights);
            return;
        }
        if (weights.Shape.Count != expectedRank)
        {
            validation.Report(DiagnosticIds.InvalidOperator, $"weights must have rank {expectedRank}, not {weights.Shape.Count}", weights);
            return;
        }
        int channels = weights.Shape[channelDim];
        if (bias is not null)
        {
            var expectedBias = input.Type == F32 ? F32 : I32;
            if (bias.Type != expectedBias)
                validation.Report(DiagnosticIds.UnsupportedTypeCombination, $"bias must be {DataTypes.Name(expectedBias)}, not {DataTypes.Name(bias.Type)}", bias);
            if (bias.ElementCount != channels)
                validation.Report(DiagnosticIds.InvalidOperator, $"bias has {bias.ElementCount} elements for {channels} output channels", bias);
        }
        if (input.Type != I8) return;
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
}
