// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Onnx;

/// <summary>
/// Evaluates at import the nodes whose result is known at compile time: Constant, ConstantOfShape, Shape (every shape
/// is static), and Cast, Gather, Concat, Range and arithmetic on constants, which is what exporters emit to compute a
/// Reshape's target shape. Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice and Identity handle constants in
/// their own converters.
/// </summary>
internal sealed partial class OnnxImporter
{
    private bool TryFold(OnnxNode node)
    {
        OnnxConstant? result = node.OpType switch
        {
            "Constant" => ConstantValue(node),
            "Shape" => ShapeOf(node),
            _ => null,
        };
        if (result is null)
        {
            bool constantInputs = node.InputCount > 0 && Enumerable.Range(0, node.InputCount).Where(node.HasInput).All(i => Value(node.Input(i)).Constant is not null);
            if (!constantInputs) return false;
            result = node.OpType switch
            {
                "ConstantOfShape" => Filled(node),
                "Cast" => Cast(Value(node.Input(0)).Constant!, (int)node.Int("to", 0)),
                "Gather" => GatherConstant(node),
                "Concat" => ConcatConstants(node),
                "Add" or "Sub" or "Mul" or "Div" => Arithmetic(node),
                "Neg" => Negated(Value(node.Input(0)).Constant!),
                "Range" => Range(node),
                _ => null,
            };
            if (result is null) return false;
        }
        Define(node.Output(0), new OnnxValue(node.Output(0), result.Type, result.Shape) { Constant = result });
        return true;
    }

    private static OnnxConstant Decoded(Onnx.Proto.TensorProto tensor, string what) =>
        OnnxConstant.Decode(tensor, out string? problem) ?? throw Refuse(DiagnosticIds.ConstantSizeMismatch, $"{what} cannot be read: {problem}");

    private static OnnxConstant ConstantValue(OnnxNode node)
    {
        if (node.Tensor("value") is { } tensor) return Decoded(tensor, "the constant");
        if (node.Has("value_float")) return OnnxConstant.Of(new[] { node.Float("value_float", 0) });
        if (node.Floats("value_floats") is { } floats) return OnnxConstant.Of(floats, floats.Length);
        if (node.Has("value_int")) return OnnxConstant.Of(new[] { node.Int("value_int", 0) });
        if (node.Ints("value_ints") is { } ints) return OnnxConstant.Of(ints, ints.Length);
        throw Refuse(DiagnosticIds.UnsupportedOperator, "only tensor, float and int constants are supported (not strings or sparse tensors)");
    }

    private OnnxConstant ShapeOf(OnnxNode node)
    {
        var x = Value(node.Input(0));
        // Opset 15 added start and end (a slice of the shape).
        int rank = x.Rank;
        long start = node.Int("start", 0), end = node.Int("end", rank);
        int s = (int)Math.Min(Math.Max(start < 0 ? start + rank : start, 0), rank), e = (int)Math.Min(Math.Max(end < 0 ? end + rank : end, 0), rank);
        var dims = x.Shape.Skip(s).Take(Math.Max(e - s, 0)).Select(d => (long)d).ToArray();
        return OnnxConstant.Of(dims, dims.Length);
    }

    private OnnxConstant Filled(OnnxNode node)
    {
        var shape = Value(node.Input(0)).Constant!.AsInts();
        if (shape.Any(d => d < 0 || d > int.MaxValue)) throw Refuse(DiagnosticIds.InvalidShape, $"shape [{string.Join(",", shape)}] is invalid");
        var dims = shape.Select(d => (int)d).ToArray();
        long count = Shapes.ElementCount(dims);
        if (count < 0 || count > 1 << 24) throw Refuse(DiagnosticIds.InvalidShape, $"shape [{string.Join(",", shape)}] is too large for a constant");
        var fill = node.Tensor("value") is { } t ? Decoded(t, "the fill value") : OnnxConstant.Of(new[] { 0f });
        if (fill.Count != 1) throw Refuse(DiagnosticIds.InvalidOperator, "the fill value must hold one element");
        return new OnnxConstant(fill.Type, dims,
            fill.Ints is null ? null : Enumerable.Repeat(fill.Ints[0], (int)count).ToArray(),
            fill.Floats is null ? null : Enumerable.Repeat(fill.Floats[0], (int)count).ToArray());
    }

    private static OnnxConstant Cast(OnnxConstant c, int to)
    {
        bool toFloat = to is OnnxTypes.Float or OnnxTypes.Double;
        if (!toFloat && !OnnxTypes.IsInteger(to)) throw Refuse(DiagnosticIds.UnsupportedOperator, $"a cast to {OnnxTypes.Name(to)} is not supported");
        // Float to integer truncates toward zero; bool is any non-zero.
        if (toFloat) return new OnnxConstant(to, c.Shape, null, c.AsFloats());
        var ints = c.Ints ?? c.Floats!.Select(f => to == OnnxTypes.Bool ? (f != 0 ? 1L : 0L) : (long)Math.Truncate(f)).ToArray();
        return new OnnxConstant(to, c.Shape, to == OnnxTypes.Bool ? ints.Select(i => i != 0 ? 1L : 0L).ToArray() : ints, null);
    }

    private OnnxConstant GatherConstant(OnnxNode node)
    {
        var data = Value(node.Input(0)).Constant!;
        var indices = Value(node.Input(1)).Constant!;
        int axis = Axis(node.Int("axis", 0), data.Shape.Length);
        int dim = data.Shape[axis];
        int outer = data.Shape.Take(axis).Aggregate(1, (p, d) => p * d), inner = data.Shape.Skip(axis + 1).Aggregate(1, (p, d) => p * d);
        var picked = indices.AsInts().Select(i => i < 0 ? i + dim : i).ToArray();
        if (picked.Any(i => i < 0 || i >= dim)) throw Refuse(DiagnosticIds.InvalidOperator, $"indices [{string.Join(",", indices.AsInts())}] are out of range for {dim}");
        var shape = data.Shape.Take(axis).Concat(indices.Shape).Concat(data.Shape.Skip(axis + 1)).ToArray();
        var source = (from o in Enumerable.Range(0, outer) from p in picked from i in Enumerable.Range(0, inner) select (int)((o * dim + p) * inner + i)).ToArray();
        return new OnnxConstant(data.Type, shape, data.Ints is null ? null : source.Select(s => data.Ints[s]).ToArray(), data.Floats is null ? null : source.Select(s => data.Floats[s]).ToArray());
    }

    private OnnxConstant ConcatConstants(OnnxNode node)
    {
        var parts = Enumerable.Range(0, node.InputCount).Where(node.HasInput).Select(i => Value(node.Input(i)).Constant!).ToList();
        int rank = parts[0].Shape.Length;
        int axis = Axis(node.Int("axis", 0), rank);
        if (parts.Any(p => p.Shape.Length != rank || p.Shape.Where((d, i) => i != axis && d != parts[0].Shape[i]).Any()))
            throw Refuse(DiagnosticIds.InvalidShape, $"constants {string.Join(", ", parts.Select(p => Shapes.Format(p.Shape)))} do not concatenate along axis {axis}");
        int outer = parts[0].Shape.Take(axis).Aggregate(1, (p, d) => p * d);
        var shape = parts[0].Shape.ToArray();
        shape[axis] = parts.Sum(p => p.Shape[axis]);
        bool isFloat = parts.Any(p => p.IsFloat);
        var ints = isFloat ? null : new System.Collections.Generic.List<long>();
        var floats = isFloat ? new System.Collections.Generic.List<float>() : null;
        for (int o = 0; o < outer; o++)
            foreach (var p in parts)
            {
                int block = p.Count / Math.Max(outer, 1);
                for (int i = 0; i < block; i++)
                {
                    if (isFloat) floats!.Add(p.Float(o * block + i));
                    else ints!.Add(p.Int(o * block + i));
                }
            }
        return new OnnxConstant(parts[0].Type, shape, ints?.ToArray(), floats?.ToArray());
    }

    private OnnxConstant Arithmetic(OnnxNode node)
    {
        var a = Value(node.Input(0)).Constant!;
        var b = Value(node.Input(1)).Constant!;
        var shape = Broadcast(a.Shape, b.Shape);
        int count = (int)Shapes.ElementCount(shape);
        var ai = BroadcastIndices(a.Shape, shape);
        var bi = BroadcastIndices(b.Shape, shape);
        if (a.IsFloat || b.IsFloat)
        {
            var result = new float[count];
            for (int k = 0; k < count; k++)
            {
                float x = a.Float(ai[k]), y = b.Float(bi[k]);
                result[k] = node.OpType switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, _ => x / y };
            }
            return new OnnxConstant(a.IsFloat ? a.Type : b.Type, shape, null, result);
        }
        var ints = new long[count];
        for (int k = 0; k < count; k++)
        {
            long x = a.Int(ai[k]), y = b.Int(bi[k]);
            if (node.OpType == "Div" && y == 0) throw Refuse(DiagnosticIds.InvalidOperator, "an integer constant is divided by 0");
            // Integer Div truncates toward zero, as C does.
            ints[k] = node.OpType switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, _ => x / y };
        }
        return new OnnxConstant(a.Type, shape, ints, null);
    }

    /// <summary>For each element of the broadcast result, the index of the element of <paramref name="shape"/> it reads.</summary>
    private static int[] BroadcastIndices(int[] shape, int[] result)
    {
        int rank = result.Length, offset = rank - shape.Length;
        var strides = new int[rank];
        for (int i = rank - 1, s = 1; i >= offset; i--)
        {
            int d = shape[i - offset];
            strides[i] = d == 1 ? 0 : s;
            s *= d;
        }
        int count = (int)Shapes.ElementCount(result);
        var indices = new int[count];
        var index = new int[rank];
        for (int k = 0; k < count; k++)
        {
            for (int i = 0; i < rank; i++) indices[k] += index[i] * strides[i];
            for (int i = rank - 1; i >= 0; i--)
            {
                if (++index[i] < result[i]) break;
                index[i] = 0;
            }
        }
        return indices;
    }

    private static OnnxConstant Negated(OnnxConstant c) =>
        new(c.Type, c.Shape, c.Ints?.Select(i => -i).ToArray(), c.Floats?.Select(f => -f).ToArray());

    private OnnxConstant Range(OnnxNode node)
    {
        var start = Value(node.Input(0)).Constant!;
        var limit = Value(node.Input(1)).Constant!;
        var delta = Value(node.Input(2)).Constant!;
        if (start.IsFloat)
        {
            float s = start.Float(0), l = limit.Float(0), d = delta.Float(0);
            int n = d == 0 ? throw Refuse(DiagnosticIds.InvalidOperator, "Range has delta 0") : (int)Math.Max(Math.Ceiling((l - s) / d), 0);
            if (n > 1 << 24) throw Refuse(DiagnosticIds.InvalidShape, "Range is too long");
            return new OnnxConstant(start.Type, new[] { n }, null, Enumerable.Range(0, n).Select(i => s + i * d).ToArray());
        }
        long si = start.Int(0), li = limit.Int(0), di = delta.Int(0);
        if (di == 0) throw Refuse(DiagnosticIds.InvalidOperator, "Range has delta 0");
        long count = Math.Max((li - si + di + (di > 0 ? -1 : 1)) / di, 0);
        if (count > 1 << 24) throw Refuse(DiagnosticIds.InvalidShape, "Range is too long");
        return new OnnxConstant(start.Type, new[] { (int)count }, Enumerable.Range(0, (int)count).Select(i => si + i * di).ToArray(), null);
    }
}
