// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Lowering;

/// <summary>
/// The layer <c>Train="head"</c> updates: the int8 FULLY_CONNECTED whose logits feed the SOFTMAX at the graph's
/// output (through RESHAPEs), with its input, constant weights and optional bias; the probabilities may leave the
/// graph through a DEQUANTIZE. Tensor and operator indices are the lowered graph's.
/// </summary>
internal sealed record TrainableHead(int FullyConnected, int Input, int Weights, int Bias, int Probabilities, int Units, int Depth, float Beta)
{
    /// <summary>The layers whose biases <c>biases:K</c> trains, nearest the head first.</summary>
    public IReadOnlyList<BiasLayer> Layers { get; init; } = new BiasLayer[0];

    /// <summary>The head of a graph and the <paramref name="biasLayers"/> layers before it, or why there are none that
    /// can be trained.</summary>
    public static (TrainableHead? Head, string? Problem) Find(Graph graph, int biasLayers)
    {
        var (head, problem) = Find(graph);
        if (head is null || biasLayers == 0) return (head, problem);
        var (layers, why) = BiasLayer.Walk(graph, head, biasLayers);
        return layers is null ? (null, why) : (head with { Layers = layers }, null);
    }

    /// <summary>The head of a graph, or why it has none that can be trained.</summary>
    public static (TrainableHead? Head, string? Problem) Find(Graph graph)
    {
        var producer = Producers(graph);
        var consumers = graph.Operators.SelectMany(op => op.Inputs.Where(t => t >= 0).Select(t => (t, op))).ToLookup(p => p.t, p => p.op);
        bool LeavesGraph(int tensor) => graph.Outputs.Contains(tensor) ||
            consumers[tensor].Any(c => c.Kind == OpKind.Dequantize && graph.Outputs.Contains(c.Outputs[0]));
        var softmaxes = graph.Operators.Where(op => op.Kind == OpKind.Softmax && LeavesGraph(op.Outputs[0])).ToList();
        if (softmaxes.Count == 0)
            return Problem("its outputs do not come from a SOFTMAX; Train=\"head\" trains the FULLY_CONNECTED whose logits feed a SOFTMAX output");
        if (softmaxes.Count > 1)
            return Problem($"it has {softmaxes.Count} SOFTMAX outputs; training needs one classifier");
        var softmax = softmaxes[0];
        var probabilities = graph.Tensors[softmax.Outputs[0]];
        var logits = graph.Tensors[softmax.Inputs[0]];
        if (logits.Type == DataType.Float32)
            return Problem("it is a float32 model: training runs on the int8 model, so quantize it first (in the SDK, give the TinyModel calibration data; docs/quantization.md)");
        if (logits.Type != DataType.Int8 || probabilities.Type != DataType.Int8)
            return Problem($"its SOFTMAX is {DataTypes.Name(logits.Type)} to {DataTypes.Name(probabilities.Type)}; training supports the int8 softmax");
        int units = probabilities.Shape.Count > 0 ? probabilities.Shape[probabilities.Shape.Count - 1] : 0;
        if (units < 2 || probabilities.ElementCount != units)
            return Problem($"its SOFTMAX output {probabilities.Shape} is not one row of at least two classes");

        int source = softmax.Inputs[0];
        while (producer.TryGetValue(source, out var p) && p.Kind == OpKind.Reshape) source = p.Inputs[0];
        if (!producer.TryGetValue(source, out var fc) || fc.Kind != OpKind.FullyConnected)
            return Problem($"the SOFTMAX's logits come from {(producer.TryGetValue(source, out var other) ? other.TypeName : "a graph input")}, not a FULLY_CONNECTED");
        var weights = graph.Input(fc, 1);
        int bias = fc.Inputs.Count > 2 ? fc.Inputs[2] : -1;
        if (graph.Tensors[fc.Inputs[0]].Type != DataType.Int8 || weights is not { Type: DataType.Int8, IsConstant: true } || weights.Shape.Count != 2)
            return Problem("its last FULLY_CONNECTED is not int8 with constant int8 weights");
        if (fc.OptionsAs<FullyConnectedOptions>()?.Activation is not (null or Activation.None))
            return Problem("its last FULLY_CONNECTED has a fused activation; the head's logits must go to the SOFTMAX unclamped");
        if (weights.Shape[0] != units || graph.Output(fc, 0).ElementCount != units)
            return Problem($"its last FULLY_CONNECTED computes {graph.Output(fc, 0).Shape}, not one row of the {units} classes");
        if (bias >= 0 && graph.Tensors[bias] is not { Type: DataType.Int32, IsConstant: true })
            return Problem("its last FULLY_CONNECTED's bias is not a constant int32 tensor");
        if (consumers[fc.Inputs[1]].Count() > 1 || (bias >= 0 && consumers[bias].Count() > 1))
            return Problem("its last FULLY_CONNECTED shares its weights with another operator");
        float beta = softmax.OptionsAs<SoftmaxOptions>()?.Beta ?? 1f;
        return (new TrainableHead(graph.Operators.IndexOf(fc), fc.Inputs[0], fc.Inputs[1], bias, softmax.Outputs[0], units, weights.Shape[1], beta), null);
    }

    private static (TrainableHead?, string?) Problem(string message) => (null, message);

    /// <summary>The operator that writes each tensor.</summary>
    internal static Dictionary<int, Operator> Producers(Graph graph)
    {
        var producer = new Dictionary<int, Operator>();
        foreach (var op in graph.Operators)
            foreach (int t in op.Outputs) producer[t] = op;
        return producer;
    }

    /// <summary>The graph with the tensors the training step reads after the forward pass as extra outputs, so that
    /// the memory plan keeps them.</summary>
    public Graph KeepingAlive(Graph graph)
    {
        var kept = new[] { Input, Probabilities }.Concat(Layers.Select(l => l.Output)).Distinct();
        var copy = new Graph { Name = graph.Name, Inputs = graph.Inputs, Outputs = graph.Outputs.Concat(kept).ToArray() };
        copy.Tensors.AddRange(graph.Tensors);
        copy.Operators.AddRange(graph.Operators);
        return copy;
    }
}

/// <summary>
/// A CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED whose bias <c>biases:K</c> trains: its output's gradient comes back
/// from <see cref="Consumer"/> (the head or the layer after it: a FULLY_CONNECTED with per-tensor weights, or an
/// ungrouped CONV_2D) through
/// RESHAPEs, at most one global average (<see cref="Averaged"/>: MEAN over height and width, or an AVERAGE_POOL_2D
/// over the whole input) and the clamp of its fused activation.
/// </summary>
internal sealed record BiasLayer(int Operator, int Output, int Bias, int Channels, int Positions, int Consumer, bool Averaged)
{
    private static readonly OpKind[] Weighted = { OpKind.FullyConnected, OpKind.Conv2D, OpKind.DepthwiseConv2D };

    /// <summary>Walks back from the head's input, layer by layer.</summary>
    public static (IReadOnlyList<BiasLayer>? Layers, string? Problem) Walk(Graph graph, TrainableHead head, int count)
    {
        var producer = TrainableHead.Producers(graph);
        int Uses(int tensor) => graph.Operators.Count(op => op.Inputs.Contains(tensor)) + (graph.Outputs.Contains(tensor) ? 1 : 0);
        var layers = new List<BiasLayer>();
        int consumer = head.FullyConnected, gradient = head.Input;
        string Largest() => $"the largest K for this model is {layers.Count}";
        while (layers.Count < count)
        {
            var through = graph.Operators[consumer];
            if (through.Kind == OpKind.FullyConnected && (graph.Input(through, 1)?.Quantization is not { HasScales: true } wq || wq.IsPerChannel))
                return (null, $"Train=\"biases:{count}\" passes the gradient back through {through.TypeName} '{graph.Output(through, 0).Name}', whose weights are per-channel; training passes it through a FULLY_CONNECTED's per-tensor weights only; {Largest()}");
            int t = gradient;
            bool averaged = false;
            while (Uses(t) == 1 && producer.TryGetValue(t, out var passed))
            {
                if (passed.Kind == OpKind.Reshape) t = passed.Inputs[0];
                else if (!averaged && IsGlobalAverage(graph, passed))
                {
                    averaged = true;
                    t = passed.Inputs[0];
                }
                else break;
            }
            if (Uses(t) != 1)
                return (null, $"Train=\"biases:{count}\": '{graph.Tensors[t].Name}' feeds more than one operator, so its gradient is not one path's; {Largest()}");
            if (!producer.TryGetValue(t, out var op))
                return (null, $"Train=\"biases:{count}\": the gradient reaches the model's input after {layers.Count} layers; {Largest()}");
            if (!Weighted.Contains(op.Kind))
                return (null, $"Train=\"biases:{count}\": training cannot pass the gradient back through {op.TypeName} '{graph.Output(op, 0).Name}' yet; {Largest()}");
            int bias = op.Inputs.Count > 2 ? op.Inputs[2] : -1;
            var output = graph.Output(op, 0);
            if (bias < 0 || graph.Tensors[bias] is not { Type: DataType.Int32, IsConstant: true } || output.Type != DataType.Int8 || Uses(bias) != 1)
                return (null, $"Train=\"biases:{count}\": {op.TypeName} '{output.Name}' has no int8 output with its own constant int32 bias; {Largest()}");
            int channels = output.Shape.Count > 0 ? output.Shape[output.Shape.Count - 1] : 0;
            if (channels <= 0 || graph.Tensors[bias].ElementCount != channels)
                return (null, $"Train=\"biases:{count}\": {op.TypeName} '{output.Name}' has a bias that does not match its {channels} channels");
            layers.Add(new BiasLayer(graph.Operators.IndexOf(op), op.Outputs[0], bias, channels, checked((int)(output.ElementCount / channels)), consumer, averaged));
            if (layers.Count == count) break;
            bool oneRow = op.Kind == OpKind.FullyConnected && output.ElementCount == channels && !averaged;
            bool ungroupedConv = op.Kind == OpKind.Conv2D && graph.Input(op, 1) is { Shape.Count: 4 } w && graph.Input(op, 0) is { Shape.Count: 4 } x
                && w.Shape[3] == x.Shape[3] && output.Shape.Count == 4;
            if (!oneRow && !ungroupedConv)
                return (null, $"Train=\"biases:{count}\" needs the gradient through {op.TypeName} '{output.Name}', which training cannot pass back yet (a one-row FULLY_CONNECTED or an ungrouped CONV_2D can); {Largest()}");
            consumer = graph.Operators.IndexOf(op);
            gradient = op.Inputs[0];
        }
        return (layers, null);
    }

    /// <summary>A MEAN over height and width of an NHWC tensor, or an AVERAGE_POOL_2D whose one window is the whole
    /// input: each output channel is the average of its input channel, so the gradient spreads evenly.</summary>
    private static bool IsGlobalAverage(Graph graph, Operator op)
    {
        var input = graph.Tensors[op.Inputs[0]];
        if (input.Shape.Count != 4 || graph.Output(op, 0).ElementCount != input.Shape[0] * input.Shape[3]) return false;
        if (op.Kind == OpKind.AveragePool2D)
            return op.Options is Pool2DOptions { Padding: Padding.Valid, Activation: Activation.None } p && p.FilterH == input.Shape[1] && p.FilterW == input.Shape[2];
        return op.Kind == OpKind.Mean && op.Inputs.Count > 1 && graph.Tensors[op.Inputs[1]] is { Type: DataType.Int32, Data: { } axes }
            && System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(axes.Span).ToArray() is var a && a.OrderBy(x => x).SequenceEqual(new[] { 1, 2 });
    }
}
