// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;

namespace TinyML.Compiler.Analysis;

/// <summary>A tensor as inspect shows it.</summary>
public sealed record TensorSummary(int Index, string Name, DataType Type, ValueArray<int> Shape, long Bytes,
    Quantization? Quantization, bool IsConstant, bool IsVariable);

/// <summary>An operator as inspect shows it: its tensors, MACs, and the bytes it touches.</summary>
public sealed record OperatorSummary(int Index, string Type, int Version, IReadOnlyList<TensorSummary?> Inputs,
    IReadOnlyList<TensorSummary> Outputs, long Macs, long ActivationBytes, long ParameterBytes);

/// <summary>What <c>tinyml inspect</c> reports about a model.</summary>
public sealed record ModelSummary(IReadOnlyList<OperatorSummary> Operators, IReadOnlyList<TensorSummary> Inputs,
    IReadOnlyList<TensorSummary> Outputs, long TotalMacs, long WeightsBytes, long PeakOperatorActivationBytes)
{
    /// <summary>Summarizes the main graph of a model.</summary>
    public static ModelSummary Of(Model model)
    {
        var graph = model.Main;
        TensorSummary Describe(int index)
        {
            var t = graph.Tensors[index];
            return new TensorSummary(index, t.Name, t.Type, t.Shape, t.Bytes, t.Quantization, t.IsConstant, t.IsVariable);
        }
        var operators = graph.Operators.Select((op, i) =>
        {
            var inputs = op.Inputs.Select(t => t < 0 ? null : Describe(t)).ToList();
            var outputs = op.Outputs.Select(Describe).ToList();
            long activations = inputs.Concat(outputs).Where(t => t is { IsConstant: false }).Sum(t => System.Math.Max(0, t!.Bytes));
            long parameters = inputs.Where(t => t is { IsConstant: true }).Sum(t => System.Math.Max(0, t!.Bytes));
            return new OperatorSummary(i, op.TypeName, op.Version, inputs, outputs, Macs.Of(graph, op), activations, parameters);
        }).ToList();
        long weights = graph.Tensors.Where(t => t.IsConstant).Sum(t => (long)t.Data!.Value.Length);
        return new ModelSummary(operators, graph.Inputs.Select(Describe).ToList(), graph.Outputs.Select(Describe).ToList(),
            operators.Sum(o => o.Macs), weights, operators.Count == 0 ? 0 : operators.Max(o => o.ActivationBytes));
    }
}

/// <summary>Multiply-accumulate counts per operator, as MLPerf Tiny counts them: convolutions, fully connected
/// layers and SVDF; element-wise work is not counted. Each operator's definition counts its own.</summary>
public static class Macs
{
    /// <summary>The MACs of one operator, or 0 for operators without multiply-accumulates.</summary>
    public static long Of(Graph graph, Operator op)
    {
        var output = op.Outputs.Count > 0 ? graph.Tensors[op.Outputs[0]] : null;
        if (output is null || graph.Input(op, 1) is null || output.ElementCount < 0) return 0;
        return OperatorRegistry.Of(op.Kind)?.Macs(graph, op) ?? 0;
    }
}
