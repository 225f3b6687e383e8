// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Planning;

/// <summary>How an operator writes its output over its input.</summary>
public enum InPlaceKind
{
    /// <summary>Depthwise convolution (multiplier 1), channel by channel with one channel of scratch.</summary>
    Depthwise,
    /// <summary>An element-wise operator: element i is read before element i is written.</summary>
    Elementwise,
}

/// <summary>An operator (original index) whose output tensor overwrites its input tensor, which dies there.</summary>
public sealed record InPlacePair(int Operator, int InputTensor, int OutputTensor, InPlaceKind Kind, long ScratchBytes);

/// <summary>Which operators can run in place, judged by their kind, types and shapes alone (not lifetimes).</summary>
public static class InPlace
{
    /// <summary>Element-wise kinds whose int8 kernels read element i before writing it and never read it again.</summary>
    public static bool IsElementwiseKind(OpKind kind) => kind is OpKind.Add or OpKind.Sub or OpKind.Mul or OpKind.Relu
        or OpKind.Relu6 or OpKind.Logistic or OpKind.Tanh or OpKind.HardSwish or OpKind.LeakyRelu or OpKind.Quantize;

    /// <summary>
    /// The input positions that the operator may overwrite, and the kind, or null. Depthwise: int8, depth
    /// multiplier 1. Element-wise: an integer input with exactly the output's type and shape (so no broadcast on
    /// that side), which makes element i of the output the bytes of element i of the input.
    /// </summary>
    public static (InPlaceKind Kind, int[] Positions)? Candidate(Graph graph, Operator op, bool depthwise, bool elementwise)
    {
        if (op.Outputs.Count != 1 || op.Inputs.Count == 0 || op.Outputs[0] < 0) return null;
        var output = graph.Tensors[op.Outputs[0]];
        bool Activation(int t) => t >= 0 && !graph.Tensors[t].IsConstant && !graph.Tensors[t].IsVariable;
        if (depthwise && op.Kind == OpKind.DepthwiseConv2D && op.Inputs.Count >= 2 && Activation(op.Inputs[0]) && op.Inputs[1] >= 0)
        {
            var input = graph.Tensors[op.Inputs[0]];
            var weights = graph.Tensors[op.Inputs[1]];
            bool ok = input.Type == DataType.Int8 && output.Type == DataType.Int8 && input.Shape.Count == 4 && output.Shape.Count == 4
                && weights.Shape.Count == 4 && weights.Shape[3] == input.Shape[3] && output.Shape[3] == input.Shape[3]
                && output.Shape[0] == input.Shape[0] && output.Shape[1] <= input.Shape[1] && output.Shape[2] <= input.Shape[2];
            return ok ? (InPlaceKind.Depthwise, new[] { 0 }) : null;
        }
        if (!elementwise || !IsElementwiseKind(op.Kind) || output.Type is not (DataType.Int8 or DataType.Int16)) return null;
        if (op.Kind is OpKind.Add or OpKind.Sub or OpKind.Mul && output.Type != DataType.Int8) return null;
        int arity = op.Kind is OpKind.Add or OpKind.Sub or OpKind.Mul ? 2 : 1;
        var positions = Enumerable.Range(0, System.Math.Min(arity, op.Inputs.Count))
            .Where(k => Activation(op.Inputs[k]) && graph.Tensors[op.Inputs[k]].Type == output.Type
                && graph.Tensors[op.Inputs[k]].Shape.SequenceEqual(output.Shape))
            .ToArray();
        return positions.Length > 0 ? (InPlaceKind.Elementwise, positions) : null;
    }

    /// <summary>Scratch bytes of the in-place depthwise kernel: one input channel of every batch (n x h x w).</summary>
    public static long DepthwiseScratchBytes(Tensor input) => (long)input.Shape[0] * input.Shape[1] * input.Shape[2];
}
