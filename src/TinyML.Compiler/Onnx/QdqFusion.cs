// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;


namespace TinyML.Compiler.Onnx;

/// <summary>
/// Turns QDQ islands into integer operators, as TFLite's converter does with a quantization-aware graph: an operator
/// whose float inputs all come from DEQUANTIZE (or are quantized constants) and whose float output goes only into one
/// QUANTIZE becomes the operator on the integers, writing the QUANTIZE's output; a RELU, RELU6 or RELU_N1_TO_1 in
/// between folds into it. Operators without an int8 kernel, and graphs without QDQ, stay float.
/// </summary>
internal static class QdqFusion
{
    /// <summary>Fuses in place; returns how many operators became integer operators.</summary>
    public static int Fuse(Graph graph)
    {
        int fused = 0;
        for (int i = 0; i < graph.Operators.Count; i++)
            if (TryFuse(graph, graph.Operators[i])) fused++;
        if (fused == 0) return 0;
        // DEQUANTIZE operators nobody reads any more.
        graph.Operators.RemoveAll(op => op.Kind == OpKind.Dequantize && !graph.Outputs.Contains(op.Outputs[0]) && Consumers(graph, op.Outputs[0]).Count == 0);
        return fused;
    }

    private static List<Operator> Consumers(Graph graph, int tensor) => graph.Operators.Where(op => op.Inputs.Contains(tensor)).ToList();

    private static Operator? Producer(Graph graph, int tensor) => graph.Operators.FirstOrDefault(op => op.Outputs.Contains(tensor));

    /// <summary>The weights and bias positions of the operators that take them.</summary>
    private static bool IsWeighted(OpKind kind) => kind is OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected;

    private static bool TryFuse(Graph graph, Operator op)
    {
        if (op.Kind is OpKind.Quantize or OpKind.Dequantize || op.Outputs.Count != 1) return false;
        var output = graph.Output(op, 0);
        if (output.Type != DataType.Float32 || graph.Outputs.Contains(op.Outputs[0])) return false;
        var definition = OperatorRegistry.Of(op.Kind);
        // An int8 kernel: an int8 output from an integer input 0 (TRANSPOSE_CONV's input 0 is its int32 output shape).
        if (definition is null || OperatorRegistry.RuleOf(op.Kind) is not { } rule || !rule.Types.Any(t => t.Out == DataType.Int8 && t.In is DataType.Int8 or DataType.Int32)) return false;

        // The output: one QUANTIZE, possibly behind an activation that folds into the operator.
        var consumers = Consumers(graph, op.Outputs[0]);
        if (consumers.Count != 1) return false;
        var next = consumers[0];
        Operator? activation = null;
        var fusedActivation = OperatorRegistry.Of(next.Kind)?.AsFusedActivation(next.Kind);
        if (fusedActivation is not null)
        {
            if (definition.FusedActivation(op) != Activation.None || graph.Outputs.Contains(next.Outputs[0])) return false;
            activation = next;
            var after = Consumers(graph, next.Outputs[0]);
            if (after.Count != 1) return false;
            next = after[0];
        }
        if (next.Kind != OpKind.Quantize || graph.Output(next, 0) is not { Type: DataType.Int8 }) return false;
        if (activation is not null && definition.WithFusedActivation(op, fusedActivation!.Value) is null) return false;

        // The inputs: DEQUANTIZE outputs, or constants already quantized (weights, operands), or a float bias.
        var inputs = op.Inputs.ToArray();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] < 0) continue;
            var tensor = graph.Tensors[inputs[i]];
            if (tensor.IsConstant)
            {
                bool integer = tensor.Type is DataType.Int8 or DataType.Int32 && tensor.Quantization is { HasScales: true };
                bool floatBias = IsWeighted(op.Kind) && i == 2 && tensor.Type == DataType.Float32;
                // Shape operands (RESHAPE's shape, PAD's paddings, MEAN's axes) are int32 without quantization.
                bool shapeOperand = tensor.Type == DataType.Int32 && tensor.Quantization is null && !(IsWeighted(op.Kind) && i == 2);
                if (!integer && !floatBias && !shapeOperand) return false;
                continue;
            }
            if (Producer(graph, inputs[i]) is not { Kind: OpKind.Dequantize } dequantize) return false;
            if (graph.Input(dequantize, 0) is not { Type: DataType.Int8 }) return false;
            inputs[i] = dequantize.Inputs[0];
        }
        if (IsWeighted(op.Kind) && inputs.Length > 2 && inputs[2] >= 0 && graph.Tensors[inputs[2]].Type == DataType.Float32)
        {
            var bias = QuantizedBias(graph, graph.Tensors[inputs[0]], graph.Tensors[inputs[1]], graph.Tensors[inputs[2]], op.Kind);
            if (bias is null) return false;
            graph.Tensors.Add(bias);
            inputs[2] = graph.Tensors.Count - 1;
        }

        op.Inputs = inputs;
        op.Outputs = next.Outputs;
        if (activation is not null)
        {
            op.Options = definition.WithFusedActivation(op, fusedActivation!.Value);
            graph.Operators.Remove(activation);
        }
        graph.Operators.Remove(next);
        return true;
    }

    /// <summary>A float bias as int32 at scale input × weight scale (per output channel), as TFLite's converter quantizes it.</summary>
    private static Tensor? QuantizedBias(Graph graph, Tensor input, Tensor weights, Tensor bias, OpKind kind)
    {
        if (input.Quantization is not { HasScales: true } iq || weights.Quantization is not { HasScales: true } wq) return null;
        var values = PostTraining.FloatGraphPreparation.Floats(bias);
        int channels = values.Length;
        if (wq.IsPerChannel && wq.Scales.Count != channels) return null;
        var scales = Enumerable.Range(0, wq.IsPerChannel ? channels : 1).Select(c => iq.Scale * wq.Scales[c]).ToArray();
        var q = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            double v = Math.Round(values[c] / (double)scales[wq.IsPerChannel ? c : 0]);
            if (v > int.MaxValue || v < int.MinValue) return null;
            q[c] = (int)v;
        }
        var data = new byte[4 * channels];
        Buffer.BlockCopy(q, 0, data, 0, data.Length);
        return new Tensor(bias.Name + "/quantized", DataType.Int32, new[] { channels })
        {
            Data = data, HasRank = true, Quantization = new Ir.Quantization(scales, new long[scales.Length], 0),
        };
    }
}
