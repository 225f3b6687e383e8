// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;

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

/// <summary>Which operators can run in place, judged by their kind, types and shapes alone (not lifetimes); each
/// operator's definition answers (src/TinyML.Compiler/Operators).</summary>
public static class InPlace
{
    /// <summary>Element-wise kinds whose int8 kernels read element i before writing it and never read it again.</summary>
    public static bool IsElementwiseKind(OpKind kind) => OperatorRegistry.Of(kind)?.ElementwiseInputs(kind) > 0;

    /// <summary>
    /// The input positions that the operator may overwrite, and the kind, or null. Depthwise: int8, depth
    /// multiplier 1. Element-wise: an integer input with exactly the output's type and shape (so no broadcast on
    /// that side), which makes element i of the output the bytes of element i of the input.
    /// </summary>
    public static (InPlaceKind Kind, int[] Positions)? Candidate(Graph graph, Operator op, bool depthwise, bool elementwise)
    {
        if (op.Outputs.Count != 1 || op.Inputs.Count == 0 || op.Outputs[0] < 0) return null;
        return OperatorRegistry.Of(op.Kind)?.InPlace(graph, op, depthwise, elementwise);
    }

    /// <summary>The element-wise rule: among the first <paramref name="inputs"/> inputs, the activations with the
    /// output's integer type and shape.</summary>
    public static (InPlaceKind Kind, int[] Positions)? Elementwise(Graph graph, Operator op, int inputs)
    {
        var output = graph.Tensors[op.Outputs[0]];
        if (inputs == 0 || output.Type is not (DataType.Int8 or DataType.Int16)) return null;
        var positions = Enumerable.Range(0, System.Math.Min(inputs, op.Inputs.Count))
            .Where(k => IsActivation(graph, op.Inputs[k]) && graph.Tensors[op.Inputs[k]].Type == output.Type
                && graph.Tensors[op.Inputs[k]].Shape.SequenceEqual(output.Shape))
            .ToArray();
        return positions.Length > 0 ? (InPlaceKind.Elementwise, positions) : null;
    }

    /// <summary>True for a tensor the arena holds (not omitted, constant or state).</summary>
    public static bool IsActivation(Graph graph, int tensor) => tensor >= 0 && !graph.Tensors[tensor].IsConstant && !graph.Tensors[tensor].IsVariable;

    /// <summary>Scratch bytes of the in-place depthwise kernel: one input channel of every batch (n x h x w).</summary>
    public static long DepthwiseScratchBytes(Tensor input) => Convolution.InPlaceScratchBytes(input);
}
