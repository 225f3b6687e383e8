// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Planning;

/// <summary>
/// The arena buffers of a graph. Constants live in flash and need none. RESHAPE and SQUEEZE outputs alias their
/// input (same bytes, merged lifetime). Graph inputs are live from the first operator and graph outputs until the
/// last. Variable tensors (state that persists across invocations) are not activations: they are listed in
/// <see cref="StateTensors"/> for a persistent region of their own.
/// </summary>
public sealed class TensorLifetimes
{
    private TensorLifetimes(IReadOnlyList<ArenaBuffer> buffers, IReadOnlyDictionary<int, int> bufferOfTensor, IReadOnlyList<int> stateTensors)
    {
        Buffers = buffers;
        BufferOfTensor = bufferOfTensor;
        StateTensors = stateTensors;
    }

    /// <summary>Variable tensors, in index order: they keep their bytes between invocations.</summary>
    public IReadOnlyList<int> StateTensors { get; }

    /// <summary>One buffer per distinct arena region.</summary>
    public IReadOnlyList<ArenaBuffer> Buffers { get; }

    /// <summary>Tensor index to buffer index, for every non-constant tensor the graph uses.</summary>
    public IReadOnlyDictionary<int, int> BufferOfTensor { get; }

    /// <summary>True for operators whose output is the input's bytes under another shape.</summary>
    public static bool IsAlias(OpKind kind) => Operators.OperatorRegistry.Of(kind)?.IsAlias(kind) == true;

    /// <summary>Computes the buffers of the main graph in operator order.</summary>
    public static TensorLifetimes Compute(Graph graph) => Compute(graph, Enumerable.Range(0, graph.Operators.Count).ToArray());

    /// <summary>Computes the buffers for an execution order (original operator indices); lifetimes count steps of it.</summary>
    public static TensorLifetimes Compute(Graph graph, IReadOnlyList<int> order)
    {
        int last = Math.Max(0, graph.Operators.Count - 1);
        // Union-find over tensors: an alias joins its input's group.
        var group = new Dictionary<int, int>();
        int Find(int t)
        {
            while (group.TryGetValue(t, out int parent) && parent != t) t = parent;
            return t;
        }
        var first = new Dictionary<int, int>();
        var lastUse = new Dictionary<int, int>();
        void Touch(int tensor, int op)
        {
            if (tensor < 0 || graph.Tensors[tensor].IsConstant || graph.Tensors[tensor].IsVariable) return;
            if (!group.ContainsKey(tensor)) group[tensor] = tensor;
            int root = Find(tensor);
            first[root] = first.TryGetValue(root, out int f) ? Math.Min(f, op) : op;
            lastUse[root] = lastUse.TryGetValue(root, out int l) ? Math.Max(l, op) : op;
        }
        foreach (int t in graph.Inputs) Touch(t, 0);
        for (int i = 0; i < order.Count; i++)
        {
            var op = graph.Operators[order[i]];
            foreach (int t in op.Inputs) Touch(t, i);
            foreach (int t in op.Outputs) Touch(t, i);
            if (IsAlias(op.Kind) && op.Inputs.Count > 0 && op.Inputs[0] >= 0 && !graph.Tensors[op.Inputs[0]].IsConstant)
            {
                int input = Find(op.Inputs[0]), output = Find(op.Outputs[0]);
                if (input != output)
                {
                    group[output] = input;
                    first[input] = Math.Min(first[input], first[output]);
                    lastUse[input] = Math.Max(lastUse[input], lastUse[output]);
                }
            }
        }
        foreach (int t in graph.Outputs) Touch(t, last);

        var buffers = new List<ArenaBuffer>();
        var bufferOfRoot = new Dictionary<int, int>();
        var bufferOfTensor = new Dictionary<int, int>();
        foreach (int t in group.Keys.OrderBy(t => t))
        {
            int root = Find(t);
            if (!bufferOfRoot.TryGetValue(root, out int b))
            {
                var tensor = graph.Tensors[root];
                b = buffers.Count;
                long bytes = group.Keys.Where(m => Find(m) == root).Max(m => Math.Max(0, graph.Tensors[m].Bytes));
                buffers.Add(new ArenaBuffer(tensor.Name.Length > 0 ? tensor.Name : $"tensor {root}", bytes, first[root], lastUse[root]));
                bufferOfRoot[root] = b;
            }
            bufferOfTensor[t] = b;
        }
        var state = graph.Operators.SelectMany(op => op.Inputs.Concat(op.Outputs))
            .Where(t => t >= 0 && graph.Tensors[t].IsVariable).Distinct().OrderBy(t => t).ToList();
        return new TensorLifetimes(buffers, bufferOfTensor, state);
    }
}
