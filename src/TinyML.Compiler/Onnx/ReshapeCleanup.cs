// SPDX-License-Identifier: Apache-2.0
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Onnx;

/// <summary>
/// Tidies the RESHAPEs the importer leaves between layers (a 1-D layer runs as 2-D and drops its height axis again):
/// an activation moves in front of the RESHAPE before it, so it can fold into the layer that produces its input; two
/// RESHAPEs in a row become one; a RESHAPE to its input's own shape goes. RESHAPE is an alias at run time, so this
/// costs nothing either way, but a fused activation saves a pass over the data.
/// </summary>
internal static class ReshapeCleanup
{
    private static bool IsUnaryElementwise(OpKind kind) => kind is OpKind.Relu or OpKind.Relu6 or OpKind.ReluN1To1 or OpKind.Logistic
        or OpKind.Tanh or OpKind.HardSwish or OpKind.LeakyRelu;

    public static void Clean(Graph graph)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int i = 0; i < graph.Operators.Count && !changed; i++)
            {
                var op = graph.Operators[i];
                if (op.Inputs.Count == 0 || op.Inputs[0] < 0) continue;
                var reshape = graph.Operators.FirstOrDefault(p => p.Kind == OpKind.Reshape && p.Outputs[0] == op.Inputs[0]);
                if (reshape is null || graph.Outputs.Contains(reshape.Outputs[0]) || graph.Operators.Count(c => c.Inputs.Contains(reshape.Outputs[0])) != 1) continue;
                if (IsUnaryElementwise(op.Kind) && op.Inputs.Count == 1)
                {
                    // reshape -> activation becomes activation -> reshape.
                    var before = graph.Tensors[reshape.Inputs[0]];
                    var output = graph.Tensors[op.Outputs[0]];
                    graph.Tensors.Add(new Tensor(output.Name + "/before_reshape", output.Type, before.Shape) { HasRank = true, Quantization = output.Quantization });
                    int t = graph.Tensors.Count - 1;
                    op.Inputs = new[] { reshape.Inputs[0] };
                    var result = op.Outputs;
                    op.Outputs = new[] { t };
                    reshape.Inputs = new[] { t }.Concat(reshape.Inputs.Skip(1)).ToArray();
                    reshape.Outputs = result;
                    graph.Operators.Remove(reshape);
                    graph.Operators.Insert(graph.Operators.IndexOf(op) + 1, reshape);
                    changed = true;
                }
                else if (op.Kind == OpKind.Reshape)
                {
                    // Two reshapes in a row: the second reads the first's input.
                    op.Inputs = new[] { reshape.Inputs[0] }.Concat(op.Inputs.Skip(1)).ToArray();
                    graph.Operators.Remove(reshape);
                    changed = true;
                }
            }
            for (int i = 0; i < graph.Operators.Count && !changed; i++)
            {
                var op = graph.Operators[i];
                if (op.Kind != OpKind.Reshape || graph.Outputs.Contains(op.Outputs[0])) continue;
                if (!graph.Tensors[op.Inputs[0]].Shape.Equals(graph.Tensors[op.Outputs[0]].Shape)) continue;
                foreach (var reader in graph.Operators.Where(c => c.Inputs.Contains(op.Outputs[0])))
                    reader.Inputs = reader.Inputs.Select(t => t == op.Outputs[0] ? op.Inputs[0] : t).ToArray();
                graph.Operators.RemoveAt(i);
                changed = true;
            }
        }
    }
}
