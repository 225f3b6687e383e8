// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;
using TinyML.Compiler.Tflite;

namespace TinyML.Compiler.PostTraining;

/// <summary>
/// Brings a float model into the form the quantizer works on, as TFLite's converter does before quantizing:
/// hybrid (int8) and DEQUANTIZE-fed weights become float32 constants, batch norm left as MUL and ADD by constants
/// after a convolution or fully-connected layer folds into its weights and bias, and a standalone RELU, RELU6 or
/// RELU_N1_TO_1 folds into its producer's fused activation. The result computes the same function in float.
/// </summary>
public static class FloatGraphPreparation
{
    /// <summary>A deep copy of a model (through our writer and reader, which round-trip every field).</summary>
    public static Model Clone(Model model)
    {
        var read = TfliteReader.Read(TfliteWriter.Write(model));
        return read.Value ?? throw new InvalidOperationException("model copy failed: " + string.Join("; ", read.Diagnostics));
    }

    /// <summary>Returns a prepared copy of <paramref name="model"/>; the notes say what was folded.</summary>
    public static (Model Model, IReadOnlyList<string> Notes) Prepare(Model model)
    {
        var copy = Clone(model);
        var graph = copy.Main;
        var notes = new List<string>();
        int hybrid = DequantizeConstants(graph);
        if (hybrid > 0) notes.Add($"dequantized {hybrid} int8 weight tensor(s) to float32 (hybrid model)");
        int batchNorm = FoldBatchNorm(graph);
        if (batchNorm > 0) notes.Add($"folded {batchNorm} MUL/ADD (batch norm) into convolution weights and biases");
        int activations = FoldActivations(graph);
        if (activations > 0) notes.Add($"folded {activations} activation operator(s) into their producers");
        Compact(copy);
        return (copy, notes);
    }

    /// <summary>Where an operator's constant weights keep their output channels, or null (operator definitions say).</summary>
    private static WeightLayout? Weights(OpKind kind) => OperatorRegistry.Of(kind)?.Weights(kind);

    internal static float[] Floats(Tensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.Data!.Value.Span).ToArray();

    internal static void SetFloats(Tensor tensor, float[] values)
    {
        tensor.Type = DataType.Float32;
        tensor.Data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private static int DequantizeConstants(Graph graph)
    {
        int count = 0;
        foreach (var op in graph.Operators)
        {
            if (op.Outputs.Count == 0 || graph.Output(op, 0).Type != DataType.Float32) continue;
            foreach (int t in op.Inputs)
            {
                var tensor = graph.TensorOrNull(t);
                // int32 too: the quantized bias of a quantized ONNX operator that stays float.
                if (tensor is not { IsConstant: true, Type: DataType.Int8 or DataType.UInt8 or DataType.Int32, Quantization: { HasScales: true } q }) continue;
                if (op.Kind == OpKind.Dequantize) continue;
                SetFloats(tensor, Dequantized(tensor, q));
                tensor.Quantization = null;
                count++;
            }
        }
        // DEQUANTIZE of a constant is a constant.
        for (int i = graph.Operators.Count - 1; i >= 0; i--)
        {
            var op = graph.Operators[i];
            if (op.Kind != OpKind.Dequantize || graph.Input(op, 0) is not { IsConstant: true, Type: DataType.Int8 or DataType.UInt8, Quantization: { HasScales: true } q } source) continue;
            var output = graph.Output(op, 0);
            if (graph.Outputs.Contains(op.Outputs[0])) continue;
            SetFloats(output, Dequantized(source, q));
            output.Quantization = null;
            graph.Operators.RemoveAt(i);
            count++;
        }
        return count;
    }

    private static float[] Dequantized(Tensor tensor, Ir.Quantization q)
    {
        var bytes = tensor.Data!.Value.Span;
        var shape = tensor.Shape.ToArray();
        // A rank-1 tensor whose file names a dimension outside its rank (TML1018) has its scales along dimension 0.
        int dimension = q.QuantizedDimension >= 0 && q.QuantizedDimension < shape.Length ? q.QuantizedDimension : 0;
        int channels = q.IsPerChannel ? shape[dimension] : 1;
        int inner = q.IsPerChannel ? shape.Skip(dimension + 1).Aggregate(1, (a, b) => a * b) : 1;
        int size = DataTypes.SizeOf(tensor.Type);
        var values = new float[bytes.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            int c = q.IsPerChannel ? i / inner % channels : 0;
            long raw = tensor.Type switch
            {
                DataType.Int8 => (sbyte)bytes[i],
                DataType.Int32 => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(4 * i)),
                _ => bytes[i],
            };
            long zp = q.ZeroPoints.Count > c ? q.ZeroPoints[c] : 0;
            values[i] = q.Scales[c] * (raw - zp);
        }
        return values;
    }

    private static List<int> Consumers(Graph graph, int tensor) =>
        Enumerable.Range(0, graph.Operators.Count).Where(i => graph.Operators[i].Inputs.Contains(tensor)).ToList();

    private static Activation FusedActivation(Operator op) => OperatorRegistry.Of(op.Kind)?.FusedActivation(op) ?? Activation.None;

    /// <summary>The operator's options with another fused activation, or null when it takes none.</summary>
    private static OperatorOptions? WithActivation(Operator op, Activation activation) => OperatorRegistry.Of(op.Kind)?.WithFusedActivation(op, activation);

    /// <summary>The single consumer of a producer's output, when folding into the producer is safe.</summary>
    private static int? SoleConsumer(Graph graph, Operator producer)
    {
        int output = producer.Outputs[0];
        if (graph.Outputs.Contains(output)) return null;
        var consumers = Consumers(graph, output);
        return consumers.Count == 1 ? consumers[0] : null;
    }

    /// <summary>The per-channel values of a constant float operand that broadcasts along the last dimension.</summary>
    private static float[]? ChannelOperand(Graph graph, Operator op, int produced, int channels)
    {
        if (op.Inputs.Count != 2) return null;
        int other = op.Inputs[0] == produced ? op.Inputs[1] : op.Inputs[1] == produced ? op.Inputs[0] : -1;
        if (other < 0 || other == produced || graph.Tensors[other] is not { IsConstant: true, Type: DataType.Float32 } constant) return null;
        var values = Floats(constant);
        if (values.Length == 1) return Enumerable.Repeat(values[0], channels).ToArray();
        bool lastAxisOnly = constant.Shape.Count > 0 && constant.Shape[constant.Shape.Count - 1] == channels && values.Length == channels;
        return lastAxisOnly ? values : null;
    }

    private static int FoldBatchNorm(Graph graph)
    {
        int folded = 0;
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var producer in graph.Operators)
            {
                if (Weights(producer.Kind) is not { } layout || FusedActivation(producer) != Activation.None) continue;
                if (graph.Input(producer, 1) is not { IsConstant: true, Type: DataType.Float32 } weights) continue;
                if (SoleConsumer(graph, producer) is not int consumerIndex) continue;
                var consumer = graph.Operators[consumerIndex];
                if (consumer.Kind is not (OpKind.Mul or OpKind.Add)) continue;
                int channelDim = layout.ChannelDimension;
                int channels = weights.Shape[channelDim];
                if (ChannelOperand(graph, consumer, producer.Outputs[0], channels) is not float[] operand) continue;
                var bias = EnsureBias(graph, producer, channels, weights.Name);
                var biasValues = Floats(bias);
                if (consumer.Kind == OpKind.Mul)
                {
                    var w = Floats(weights);
                    int inner = weights.Shape.Skip(channelDim + 1).Aggregate(1, (a, b) => a * b);
                    for (int i = 0; i < w.Length; i++) w[i] *= operand[i / inner % channels];
                    for (int c = 0; c < channels; c++) biasValues[c] *= operand[c];
                    SetFloats(weights, w);
                }
                else
                {
                    for (int c = 0; c < channels; c++) biasValues[c] += operand[c];
                }
                SetFloats(bias, biasValues);
                producer.Outputs = new[] { consumer.Outputs[0] };
                producer.Options = WithActivation(producer, FusedActivation(consumer));
                graph.Operators.RemoveAt(consumerIndex);
                folded++;
                changed = true;
                break;
            }
        }
        return folded;
    }

    private static Tensor EnsureBias(Graph graph, Operator producer, int channels, string name)
    {
        if (graph.Input(producer, 2) is { IsConstant: true, Type: DataType.Float32 } existing)
        {
            // A bias shared with another operator must not change under it.
            if (Enumerable.Range(0, graph.Operators.Count).Count(i => graph.Operators[i].Inputs.Contains(producer.Inputs[2])) == 1) return existing;
        }
        var bias = new Tensor(name + "/folded_bias", DataType.Float32, new[] { channels }) { HasRank = true };
        SetFloats(bias, graph.Input(producer, 2) is { IsConstant: true, Type: DataType.Float32 } old ? Floats(old) : new float[channels]);
        graph.Tensors.Add(bias);
        var inputs = producer.Inputs.ToArray();
        if (inputs.Length < 3) Array.Resize(ref inputs, 3);
        inputs[2] = graph.Tensors.Count - 1;
        producer.Inputs = inputs;
        return bias;
    }

    private static int FoldActivations(Graph graph)
    {
        int folded = 0;
        for (int i = graph.Operators.Count - 1; i >= 0; i--)
        {
            var op = graph.Operators[i];
            var activation = OperatorRegistry.Of(op.Kind)?.AsFusedActivation(op.Kind);
            if (activation is null || op.Inputs.Count != 1) continue;
            int producerIndex = graph.Operators.FindIndex(p => p.Outputs.Contains(op.Inputs[0]));
            if (producerIndex < 0) continue;
            var producer = graph.Operators[producerIndex];
            if (FusedActivation(producer) != Activation.None || WithActivation(producer, activation.Value) is not { } options) continue;
            if (SoleConsumer(graph, producer) != i) continue;
            producer.Options = options;
            producer.Outputs = op.Outputs;
            graph.Operators.RemoveAt(i);
            folded++;
        }
        return folded;
    }

    /// <summary>Drops tensors no operator, graph input or output refers to, and renumbers the rest.</summary>
    internal static void Compact(Model model)
    {
        var graph = model.Main;
        var used = new HashSet<int>(graph.Inputs.Concat(graph.Outputs));
        foreach (var op in graph.Operators) used.UnionWith(op.Inputs.Concat(op.Outputs).Concat(op.Intermediates).Where(t => t >= 0));
        var map = new int[graph.Tensors.Count];
        var kept = new List<Tensor>();
        for (int t = 0; t < graph.Tensors.Count; t++)
        {
            map[t] = used.Contains(t) ? kept.Count : -1;
            if (used.Contains(t)) kept.Add(graph.Tensors[t]);
        }
        int Map(int t) => t < 0 ? t : map[t];
        graph.Tensors.Clear();
        graph.Tensors.AddRange(kept);
        foreach (var op in graph.Operators)
        {
            op.Inputs = op.Inputs.Select(Map).ToArray();
            op.Outputs = op.Outputs.Select(Map).ToArray();
            op.Intermediates = op.Intermediates.Select(Map).ToArray();
        }
        graph.Inputs = graph.Inputs.Select(Map).ToArray();
        graph.Outputs = graph.Outputs.Select(Map).ToArray();
        RemapSignatures(model, Map);
    }

    /// <summary>Points the main graph's signature tensors through <paramref name="map"/>.</summary>
    internal static void RemapSignatures(Model model, Func<int, int> map)
    {
        for (int s = 0; s < model.Signatures.Count; s++)
        {
            var sig = model.Signatures[s];
            if (sig.SubgraphIndex != 0) continue;
            model.Signatures[s] = sig with
            {
                Inputs = sig.Inputs.Select(x => x with { TensorIndex = map(x.TensorIndex) }).ToArray(),
                Outputs = sig.Outputs.Select(x => x with { TensorIndex = map(x.TensorIndex) }).ToArray(),
            };
        }
    }
}
