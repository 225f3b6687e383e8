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
/// between folds into it. Operators without an int8 kernel, and graphs without QDQ, stay float. First every DEQUANTIZE
/// moves past the data movement after it (layout changes, slices, pads, concatenation, max pooling), which then runs
/// on the integers: the importer's own layout changes and explicit pads never stand between an island's DEQUANTIZE
/// and its operator. Likewise a QUANTIZE moves in front of the data movement before it (quantization is element-wise
/// and increasing), so each part of a concatenation, a grouped convolution's groups among them, ends an island.
/// </summary>
internal static class QdqFusion
{
    /// <summary>Fuses in place; returns how many operators became integer operators.</summary>
    public static int Fuse(Graph graph)
    {
        SinkDequantize(graph);
        HoistQuantize(graph);
        int fused = 0;
        for (int i = 0; i < graph.Operators.Count; i++)
            if (TryFuse(graph, graph.Operators[i])) fused++;
        CollapseRequantization(graph);
        // DEQUANTIZE operators nobody reads any more.
        graph.Operators.RemoveAll(op => op.Kind == OpKind.Dequantize && !graph.Outputs.Contains(op.Outputs[0]) && Consumers(graph, op.Outputs[0]).Count == 0);
        return fused;
    }

    /// <summary>
    /// Data movement that commutes with dequantization. MAX_POOL_2D too: dequantization is increasing, so the
    /// maximum of dequantized values is the dequantized maximum.
    /// </summary>
    private static bool IsMovement(OpKind kind) => kind is OpKind.Reshape or OpKind.Squeeze or OpKind.Transpose or OpKind.StridedSlice
        or OpKind.Pad or OpKind.PadV2 or OpKind.Concatenation or OpKind.MaxPool2D;

    private static void SinkDequantize(Graph graph)
    {
        for (int i = 0; i < graph.Operators.Count; i++)
        {
            var op = graph.Operators[i];
            if (!IsMovement(op.Kind) || op.Outputs.Count != 1 || graph.Output(op, 0).Type != DataType.Float32) continue;
            if (FusedActivation(op) != Activation.None) continue;
            var data = op.Kind == OpKind.Concatenation ? Enumerable.Range(0, op.Inputs.Count).ToArray() : new[] { 0 };
            var sources = data.Select(k => Producer(graph, op.Inputs[k]) is { Kind: OpKind.Dequantize } dq ? graph.Tensors[dq.Inputs[0]] : null).ToList();
            if (sources.Any(t => t is not { Type: DataType.Int8 or DataType.Int16, Quantization: { HasScales: true, IsPerChannel: false } })) continue;
            var q = sources[0]!.Quantization!;
            if (sources.Any(t => t!.Type != sources[0]!.Type || t.Quantization!.Scale != q.Scale || t.Quantization.ZeroPoint != q.ZeroPoint)) continue;
            var inputs = op.Inputs.ToArray();
            foreach (int k in data) inputs[k] = Producer(graph, op.Inputs[k])!.Inputs[0];
            if (op.Kind == OpKind.PadV2)
            {
                if (QuantizedFill(graph, op, sources[0]!) is not int fill) continue;
                inputs[2] = fill;
            }
            var output = graph.Output(op, 0);
            var integers = new Tensor(output.Name + "/quantized", sources[0]!.Type, output.Shape) { HasRank = true, Quantization = q };
            graph.Tensors.Add(integers);
            int t = graph.Tensors.Count - 1;
            var dequantize = new Operator(OpKind.Dequantize, new[] { t }, op.Outputs);
            op.Inputs = inputs;
            op.Outputs = new[] { t };
            graph.Operators.Insert(i + 1, dequantize);
        }
    }

    /// <summary>
    /// A QUANTIZE of a DEQUANTIZE's output: nothing when the parameters are the same (its readers read the integers),
    /// else one QUANTIZE between the integer types (a requantization).
    /// </summary>
    private static void CollapseRequantization(Graph graph)
    {
        for (int i = 0; i < graph.Operators.Count; i++)
        {
            var quantize = graph.Operators[i];
            if (quantize.Kind != OpKind.Quantize || Producer(graph, quantize.Inputs[0]) is not { Kind: OpKind.Dequantize } dequantize) continue;
            var integers = graph.Tensors[dequantize.Inputs[0]];
            var output = graph.Output(quantize, 0);
            if (integers.Quantization is not { } from || output.Quantization is not { } to || output.Type is not (DataType.Int8 or DataType.Int16)) continue;
            bool same = integers.Type == output.Type && from.Scale == to.Scale && from.ZeroPoint == to.ZeroPoint;
            if (same && !graph.Outputs.Contains(quantize.Outputs[0]))
            {
                foreach (var reader in Consumers(graph, quantize.Outputs[0]))
                    reader.Inputs = reader.Inputs.Select(t => t == quantize.Outputs[0] ? dequantize.Inputs[0] : t).ToArray();
                graph.Operators.RemoveAt(i--);
            }
            else quantize.Inputs = new[] { dequantize.Inputs[0] };
        }
    }

    private static void HoistQuantize(Graph graph)
    {
        for (int i = graph.Operators.Count - 1; i >= 0; i--)
        {
            var quantize = graph.Operators[i];
            if (quantize.Kind != OpKind.Quantize || graph.Output(quantize, 0) is not { Type: DataType.Int8 or DataType.Int16 } output) continue;
            if (Producer(graph, quantize.Inputs[0]) is not { } movement || !IsMovement(movement.Kind) || movement.Outputs.Count != 1) continue;
            if (graph.Outputs.Contains(movement.Outputs[0]) || Consumers(graph, movement.Outputs[0]).Count != 1 || FusedActivation(movement) != Activation.None) continue;
            var data = movement.Kind == OpKind.Concatenation ? Enumerable.Range(0, movement.Inputs.Count).ToArray() : new[] { 0 };
            if (data.Any(k => graph.Tensors[movement.Inputs[k]] is not { Type: DataType.Float32, IsConstant: false })) continue;
            var inputs = movement.Inputs.ToArray();
            if (movement.Kind == OpKind.PadV2)
            {
                if (graph.Input(movement, 2) is not { Type: DataType.Float32, Data: { Length: 4 } fillData }) continue;
                inputs[2] = QuantizedScalar(graph, BitConverter.ToSingle(fillData.ToArray(), 0), output);
            }
            int at = graph.Operators.IndexOf(movement);
            foreach (int k in data)
            {
                var source = graph.Tensors[inputs[k]];
                graph.Tensors.Add(new Tensor(source.Name + "/quantized", output.Type, source.Shape) { HasRank = true, Quantization = output.Quantization });
                graph.Operators.Insert(at++, new Operator(OpKind.Quantize, new[] { inputs[k] }, new[] { graph.Tensors.Count - 1 }));
                inputs[k] = graph.Tensors.Count - 1;
            }
            movement.Inputs = inputs;
            movement.Outputs = quantize.Outputs;
            graph.Operators.Remove(quantize);
            i = graph.Operators.Count;
        }
    }

    /// <summary>A float constant quantized as <paramref name="like"/> is (half away from zero, clamped, as TFLM's QUANTIZE).</summary>
    private static int QuantizedScalar(Graph graph, float value, Tensor like)
    {
        var q = like.Quantization!;
        long lowest = like.Type == DataType.Int8 ? sbyte.MinValue : short.MinValue, highest = like.Type == DataType.Int8 ? sbyte.MaxValue : short.MaxValue;
        long v = Math.Min(Math.Max((long)Math.Round(value / (double)q.Scale, MidpointRounding.AwayFromZero) + q.ZeroPoint, lowest), highest);
        byte[] bytes = like.Type == DataType.Int8 ? new[] { unchecked((byte)(sbyte)v) } : BitConverter.GetBytes((short)v);
        graph.Tensors.Add(new Tensor(like.Name + "/fill", like.Type, Array.Empty<int>()) { Data = bytes, HasRank = true, Quantization = q });
        return graph.Tensors.Count - 1;
    }

    private static Activation FusedActivation(Operator op) => OperatorRegistry.Of(op.Kind)?.FusedActivation(op) ?? Activation.None;

    /// <summary>
    /// PADV2's fill as an integer constant, when the integers hold it exactly, or when it is below every value they
    /// hold and only max pooling reads the result (the importer's padding of a max pool); else null.
    /// </summary>
    private static int? QuantizedFill(Graph graph, Operator pad, Tensor integers)
    {
        if (graph.Input(pad, 2) is not { Type: DataType.Float32, Data: { } data } || data.Length != 4) return null;
        float fill = BitConverter.ToSingle(data.ToArray(), 0);
        var q = integers.Quantization!;
        long lowest = integers.Type == DataType.Int8 ? sbyte.MinValue : short.MinValue, highest = integers.Type == DataType.Int8 ? sbyte.MaxValue : short.MaxValue;
        double exact = Math.Round(fill / (double)q.Scale) + q.ZeroPoint;
        long value;
        if (exact >= lowest && exact <= highest && q.Scale * (float)(exact - q.ZeroPoint) == fill) value = (long)exact;
        else if (fill <= q.Scale * (float)(lowest - q.ZeroPoint) && Consumers(graph, pad.Outputs[0]).All(c => c.Kind == OpKind.MaxPool2D)) value = lowest;
        else return null;
        byte[] bytes = integers.Type == DataType.Int8 ? new[] { unchecked((byte)(sbyte)value) } : BitConverter.GetBytes((short)value);
        graph.Tensors.Add(new Tensor(graph.Tensors[pad.Inputs[2]].Name + "/quantized", integers.Type, Array.Empty<int>()) { Data = bytes, HasRank = true, Quantization = q });
        return graph.Tensors.Count - 1;
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
        // An operator whose int8 output quantization is fixed (SOFTMAX, LOGISTIC, TANH) or is its input's (pooling)
        // writes that, and a requantizing QUANTIZE gives the island's.
        var written = graph.Output(next, 0);
        var required = definition.FixedOutput(op.Kind, DataType.Int8)
            ?? (definition.SameScale(op.Kind) == SameScale.OutputAsInput ? graph.Tensors[inputs[0]].Quantization : null);
        if (required is not null && (required.Scale != written.Quantization!.Scale || required.ZeroPoint != written.Quantization.ZeroPoint))
        {
            graph.Tensors.Add(new Tensor(written.Name + "/before_requantize", DataType.Int8, written.Shape) { HasRank = true, Quantization = required });
            int t = graph.Tensors.Count - 1;
            op.Outputs = new[] { t };
            graph.Operators.Insert(graph.Operators.IndexOf(next), new Operator(OpKind.Quantize, new[] { t }, next.Outputs));
        }
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
