// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Onnx;

/// <summary>
/// Removes the TRANSPOSE back to NCHW that an NCHW model's flatten needs in front of its classifier: TRANSPOSE →
/// RESHAPE to [N, K] → FULLY_CONNECTED with constant weights becomes RESHAPE → FULLY_CONNECTED with the weights'
/// columns permuted at build time. The layer computes the same products (summed in the source's order, which in float
/// may round differently in the last bits); the transposed copy and its buffer are gone.
/// </summary>
internal static class FlattenFolding
{
    public static int Fold(Graph graph)
    {
        int folded = 0;
        for (int i = 0; i < graph.Operators.Count; i++)
        {
            var transpose = graph.Operators[i];
            if (transpose.Kind != OpKind.Transpose || graph.Input(transpose, 1) is not { Type: DataType.Int32, Data: { } permData }) continue;
            var permBytes = permData.ToArray();
            var perm = Enumerable.Range(0, permBytes.Length / 4).Select(k => BitConverter.ToInt32(permBytes, 4 * k)).ToArray();
            int moved = transpose.Outputs[0];
            if (perm.Length < 2 || perm[0] != 0 || graph.Outputs.Contains(moved)) continue;
            var readers = graph.Operators.Where(op => op.Inputs.Contains(moved)).ToList();
            if (readers.Count != 1 || readers[0].Kind != OpKind.Reshape) continue;
            var reshape = readers[0];
            int flat = reshape.Outputs[0];
            var flatShape = graph.Tensors[flat].Shape;
            var source = graph.Tensors[transpose.Inputs[0]];
            if (flatShape.Count != 2 || flatShape[0] != source.Shape[0] || graph.Outputs.Contains(flat)) continue;
            var consumers = graph.Operators.Where(op => op.Inputs.Contains(flat)).ToList();
            if (consumers.Count == 0 || consumers.Any(op => op.Kind != OpKind.FullyConnected || op.Inputs[0] != flat
                    || graph.Input(op, 1) is not { Data: not null, Shape.Count: 2 } w || w.Shape[1] != flatShape[1]
                    || graph.Operators.Count(o => o.Inputs.Contains(op.Inputs[1])) != 1)) continue;

            // Column j of the source's flattened order holds column order[j] of the transposed one.
            var inner = source.Shape.Skip(1).ToArray();
            var innerPerm = perm.Skip(1).Select(p => p - 1).ToArray();
            var order = TransposedPositions(inner, innerPerm);
            foreach (var fc in consumers)
            {
                var weights = graph.Tensors[fc.Inputs[1]];
                int rows = weights.Shape[0], columns = weights.Shape[1], size = DataTypes.SizeOf(weights.Type);
                var from = weights.Data!.Value.Span;
                var to = new byte[from.Length];
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < columns; j++)
                        from.Slice((r * columns + order[j]) * size, size).CopyTo(to.AsSpan((r * columns + j) * size, size));
                weights.Data = to;
            }
            // The reshape now reads the source directly: the same elements, in the source's order.
            reshape.Inputs = new[] { transpose.Inputs[0] }.Concat(reshape.Inputs.Skip(1)).ToArray();
            graph.Operators.RemoveAt(i);
            i--;
            folded++;
        }
        return folded;
    }

    /// <summary>For each element of a tensor of <paramref name="shape"/> in row-major order, its position after a transpose by <paramref name="perm"/>.</summary>
    private static int[] TransposedPositions(int[] shape, int[] perm)
    {
        // OnnxConstant.TransposeOrder gives, for each transposed position, its source; invert it.
        var sourceOf = OnnxConstant.TransposeOrder(shape, perm);
        var position = new int[sourceOf.Length];
        for (int k = 0; k < sourceOf.Length; k++) position[sourceOf[k]] = k;
        return position;
    }
}
