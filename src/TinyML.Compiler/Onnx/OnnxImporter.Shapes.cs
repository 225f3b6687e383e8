// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Onnx;

/// <summary>ONNX operators that move data or compute shapes; on constants they are evaluated at import.</summary>
internal sealed partial class OnnxImporter
{
    private long[]? AxesOf(OnnxNode node, int input)
    {
        // Opset 13 moved the axes of Squeeze, Unsqueeze (and ReduceSum) from an attribute to an input.
        if (_opset < 13) return node.Ints("axes");
        return node.HasInput(input) ? RequireConstant(node, input, "axes").AsInts() : null;
    }

    /// <summary>The run-time value reshaped in ONNX's order (an alias at run time).</summary>
    private int ReshapeTo(OnnxValue x, int[] shape, string name)
    {
        int input = TensorIn(x, Identity(x.Rank));
        var source = _graph.Tensors[input];
        int t = AddTensor(name, source.Type, shape);
        _graph.Tensors[t].Quantization = source.Quantization;
        Emit(OpKind.Reshape, new[] { input, AddInts(name + "/shape", shape) }, new[] { t }, new ReshapeOptions(shape));
        return t;
    }

    private void DefineReshaped(OnnxNode node, OnnxValue x, int[] shape) => Reshaped(node.Output(0), x, shape);

    /// <summary>The value reshaped in ONNX's order, defined as <paramref name="name"/>.</summary>
    private OnnxValue Reshaped(string name, OnnxValue x, int[] shape)
    {
        if (Shapes.ElementCount(shape) != Shapes.ElementCount(x.Shape))
            throw Refuse(DiagnosticIds.InvalidShape, $"{Shapes.Format(x.Shape)} cannot be reshaped to {Shapes.Format(shape)}");
        if (x.Constant is { } c)
        {
            var constant = new OnnxValue(name, x.Type, shape) { Constant = c.WithShape(shape) };
            Define(name, constant);
            return constant;
        }
        int input = TensorIn(x, Identity(x.Rank));
        return Produce(name, x.Type, shape, Identity(shape.Length), t =>
            Emit(OpKind.Reshape, new[] { input, AddInts(name + "/shape", shape) }, new[] { t }, new ReshapeOptions(shape)));
    }

    private void Reshape(OnnxNode node)
    {
        var x = Value(node.Input(0));
        long[] requested = _opset < 5 ? node.Ints("shape") ?? Array.Empty<long>() : RequireConstant(node, 1, "shape").AsInts();
        bool allowZero = node.Int("allowzero", 0) != 0;
        var shape = new int[requested.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long d = requested[i];
            if (d == 0 && !allowZero)
            {
                if (i >= x.Rank) throw Refuse(DiagnosticIds.InvalidShape, $"shape [{string.Join(",", requested)}] copies dimension {i}, which {Shapes.Format(x.Shape)} lacks");
                d = x.Shape[i];
            }
            if (d == -1)
            {
                if (infer >= 0) throw Refuse(DiagnosticIds.InvalidShape, $"shape [{string.Join(",", requested)}] has two -1 dimensions");
                infer = i;
                continue;
            }
            if (d < 0 || d > int.MaxValue) throw Refuse(DiagnosticIds.InvalidShape, $"shape [{string.Join(",", requested)}] has dimension {d}");
            shape[i] = (int)d;
            known *= d;
        }
        long total = Shapes.ElementCount(x.Shape);
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) throw Refuse(DiagnosticIds.InvalidShape, $"{Shapes.Format(x.Shape)} cannot be reshaped to [{string.Join(",", requested)}]");
            shape[infer] = (int)(total / known);
        }
        DefineReshaped(node, x, shape);
    }

    private void Flatten(OnnxNode node)
    {
        var x = Value(node.Input(0));
        int axis = node.Int("axis", 1) is long a && a == x.Rank ? x.Rank : Axis(node.Int("axis", 1), x.Rank);
        int outer = x.Shape.Take(axis).Aggregate(1, (p, d) => p * d), inner = x.Shape.Skip(axis).Aggregate(1, (p, d) => p * d);
        DefineReshaped(node, x, new[] { outer, inner });
    }

    private void Squeeze(OnnxNode node)
    {
        var x = Value(node.Input(0));
        var axes = AxesOf(node, 1)?.Select(a => Axis(a, x.Rank)).ToArray() ?? Identity(x.Rank).Where(a => x.Shape[a] == 1).ToArray();
        DropAxes(node.Output(0), x, axes);
    }

    /// <summary>The value without size-1 <paramref name="axes"/>: the IR tensor loses the same axes (an alias).</summary>
    private OnnxValue DropAxes(string name, OnnxValue x, int[] axes)
    {
        if (axes.Any(a => x.Shape[a] != 1)) throw Refuse(DiagnosticIds.InvalidShape, $"axes [{string.Join(",", axes)}] of {Shapes.Format(x.Shape)} are not all of size 1");
        var shape = x.Shape.Where((_, i) => !axes.Contains(i)).ToArray();
        if (x.Constant is not null) return Reshaped(name, x, shape);
        var kept = Identity(x.Rank).Where(a => !axes.Contains(a)).ToList();
        var layout = x.Layout.Where(a => !axes.Contains(a)).Select(a => kept.IndexOf(a)).ToArray();
        var irShape = Permute(shape, layout);
        int input = x.Tensor;
        return Produce(name, x.Type, shape, layout, t =>
            Emit(OpKind.Reshape, new[] { input, AddInts(name + "/shape", irShape) }, new[] { t }, new ReshapeOptions(irShape)));
    }

    private void Unsqueeze(OnnxNode node)
    {
        var x = Value(node.Input(0));
        var requested = AxesOf(node, 1) ?? throw Refuse(DiagnosticIds.InvalidOperator, "axes are required");
        int rank = x.Rank + requested.Length;
        var axes = requested.Select(a => Axis(a, rank)).Distinct().ToArray();
        if (axes.Length != requested.Length) throw Refuse(DiagnosticIds.InvalidOperator, $"axes [{string.Join(",", requested)}] repeat an axis");
        InsertAxes(node.Output(0), x, axes);
    }

    /// <summary>The value with size-1 axes inserted at <paramref name="axes"/> of the result; they go last in the IR, so no data move.</summary>
    private OnnxValue InsertAxes(string name, OnnxValue x, int[] axes)
    {
        int rank = x.Rank + axes.Length;
        var shape = new int[rank];
        var oldToNew = new int[x.Rank];
        for (int i = 0, j = 0; i < rank; i++)
        {
            if (axes.Contains(i)) shape[i] = 1;
            else
            {
                oldToNew[j] = i;
                shape[i] = x.Shape[j++];
            }
        }
        if (x.Constant is not null || IsIdentity(x.Layout)) return Reshaped(name, x, shape);
        var layout = x.Layout.Select(a => oldToNew[a]).Concat(axes.OrderBy(a => a)).ToArray();
        var irShape = Permute(shape, layout);
        int input = x.Tensor;
        return Produce(name, x.Type, shape, layout, t =>
            Emit(OpKind.Reshape, new[] { input, AddInts(name + "/shape", irShape) }, new[] { t }, new ReshapeOptions(irShape)));
    }

    private void Transpose(OnnxNode node)
    {
        var x = Value(node.Input(0));
        var perm = node.Ints("perm")?.Select(p => (int)p).ToArray() ?? Enumerable.Range(0, x.Rank).Reverse().ToArray();
        if (perm.Length != x.Rank || !perm.OrderBy(p => p).SequenceEqual(Identity(x.Rank)))
            throw Refuse(DiagnosticIds.InvalidOperator, $"perm [{string.Join(",", perm)}] is not a permutation of {x.Rank} axes");
        var shape = perm.Select(p => x.Shape[p]).ToArray();
        if (x.Constant is { } c)
        {
            Define(node.Output(0), new OnnxValue(node.Output(0), x.Type, shape) { Constant = c.Transposed(perm) });
            return;
        }
        // No data move: the same IR tensor, read with another permutation (IR axis i now holds output axis inverse[L[i]]).
        var inverse = Inverse(perm);
        Define(node.Output(0), new OnnxValue(node.Output(0), x.Type, shape) { Tensor = x.Tensor, Layout = x.Layout.Select(a => inverse[a]).ToArray() });
    }

    private void Concat(OnnxNode node)
    {
        var inputs = Enumerable.Range(0, node.InputCount).Where(node.HasInput).Select(i => Value(node.Input(i))).ToList();
        if (inputs.Count == 0) throw Refuse(DiagnosticIds.InvalidOperator, "Concat has no inputs");
        int rank = inputs[0].Rank;
        int axis = Axis(node.Int("axis", _opset < 4 ? 1 : long.MinValue) is var a && a == long.MinValue ? throw Refuse(DiagnosticIds.InvalidOperator, "axis is required") : a, rank);
        foreach (var v in inputs)
            if (v.Rank != rank || v.Shape.Where((d, i) => i != axis && d != inputs[0].Shape[i]).Any())
                throw Refuse(DiagnosticIds.InvalidShape, $"inputs {string.Join(", ", inputs.Select(i => Shapes.Format(i.Shape)))} do not concatenate along axis {axis}");
        var shape = inputs[0].Shape.ToArray();
        shape[axis] = inputs.Sum(v => v.Shape[axis]);
        var lead = inputs.First(v => v.Constant is null);
        var layout = lead.Layout;
        var tensors = inputs.Where(v => v.Shape[axis] > 0).Select(v => TensorIn(v, layout)).ToArray();
        int irAxis = Array.IndexOf(layout, axis);
        Produce(node.Output(0), lead.Type, shape, layout, t => Emit(OpKind.Concatenation, tensors, new[] { t }, new ConcatenationOptions(irAxis, Activation.None)));
    }

    /// <summary>A STRIDED_SLICE of a run-time value: per ONNX axis a start, an exclusive end (-1 before 0) and a step.</summary>
    private OnnxValue StridedSlice(string name, OnnxValue x, int[] starts, int[] ends, int[] steps, int[] shape)
    {
        int rank = x.Rank;
        var begin = new int[rank];
        var end = new int[rank];
        var stride = new int[rank];
        int endMask = 0;
        for (int i = 0; i < rank; i++)
        {
            int a = x.Layout[i];
            begin[i] = starts[a];
            end[i] = ends[a];
            stride[i] = steps[a];
            // A backward slice through index 0 has no end index TFLite can name: its end mask runs it to the start.
            if (ends[a] < 0) endMask |= 1 << i;
        }
        int input = x.Tensor;
        return Produce(name, x.Type, shape, x.Layout, t => Emit(OpKind.StridedSlice,
            new[] { input, AddInts(name + "/begin", begin), AddInts(name + "/end", end), AddInts(name + "/strides", stride) }, new[] { t },
            new StridedSliceOptions(0, endMask, 0, 0, 0, false)));
    }

    /// <summary>ONNX's Slice bounds for one axis, clamped: start, end (exclusive, -1 for "before 0"), and the count.</summary>
    private static (int Start, int End, int Count) SliceBounds(long start, long end, long step, int dim)
    {
        if (step == 0) throw Refuse(DiagnosticIds.InvalidOperator, "a slice step is 0");
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0)
        {
            start = Math.Min(Math.Max(start, 0), dim);
            end = Math.Min(Math.Max(end, 0), dim);
        }
        else
        {
            start = Math.Min(Math.Max(start, 0), dim - 1);
            end = Math.Min(Math.Max(end, -1), dim - 1);
        }
        long count = step > 0 ? Math.Max(0, (end - start + step - 1) / step) : Math.Max(0, (start - end - step - 1) / -step);
        return ((int)start, (int)end, (int)count);
    }

    private void Slice(OnnxNode node)
    {
        var x = Value(node.Input(0));
        long[] starts, ends;
        long[]? axes, steps = null;
        if (_opset < 10)
        {
            starts = node.Ints("starts") ?? throw Refuse(DiagnosticIds.InvalidOperator, "starts are required");
            ends = node.Ints("ends") ?? throw Refuse(DiagnosticIds.InvalidOperator, "ends are required");
            axes = node.Ints("axes");
        }
        else
        {
            starts = RequireConstant(node, 1, "starts").AsInts();
            ends = RequireConstant(node, 2, "ends").AsInts();
            axes = node.HasInput(3) ? RequireConstant(node, 3, "axes").AsInts() : null;
            steps = node.HasInput(4) ? RequireConstant(node, 4, "steps").AsInts() : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw Refuse(DiagnosticIds.InvalidOperator, "starts, ends, axes and steps differ in length");
        var begin = new int[x.Rank];
        var end = x.Shape.ToArray();
        var step = Enumerable.Repeat(1, x.Rank).ToArray();
        var shape = x.Shape.ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int a = Axis(axes[i], x.Rank);
            if (steps[i] > int.MaxValue || steps[i] < -int.MaxValue) throw Refuse(DiagnosticIds.InvalidOperator, $"slice step {steps[i]} is out of range");
            var (s, e, count) = SliceBounds(starts[i], ends[i], steps[i], x.Shape[a]);
            (begin[a], end[a], step[a], shape[a]) = (s, e, (int)steps[i], count);
        }
        if (x.Constant is { } c)
        {
            Define(node.Output(0), new OnnxValue(node.Output(0), x.Type, shape) { Constant = Sliced(c, begin, step, shape) });
            return;
        }
        if (Shapes.ElementCount(shape) == 0) throw Refuse(DiagnosticIds.InvalidShape, $"the slice of {Shapes.Format(x.Shape)} is empty");
        StridedSlice(node.Output(0), x, begin, end, step, shape);
    }

    private static OnnxConstant Sliced(OnnxConstant c, int[] begin, int[] step, int[] shape)
    {
        int rank = shape.Length;
        var strides = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; s *= c.Shape[i], i--) strides[i] = s;
        int count = (int)Shapes.ElementCount(shape);
        var source = new int[count];
        var index = new int[rank];
        for (int k = 0; k < count; k++)
        {
            for (int i = 0; i < rank; i++) source[k] += (begin[i] + index[i] * step[i]) * strides[i];
            for (int i = rank - 1; i >= 0; i--)
            {
                if (++index[i] < shape[i]) break;
                index[i] = 0;
            }
        }
        return new OnnxConstant(c.Type, shape, c.Ints is null ? null : source.Select(i => c.Ints[i]).ToArray(), c.Floats is null ? null : source.Select(i => c.Floats[i]).ToArray());
    }

    private void Split(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        int axis = Axis(node.Int("axis", 0), x.Rank);
        int dim = x.Shape[axis], outputs = node.OutputCount;
        long[]? sizes = _opset < 13 ? node.Ints("split") : node.HasInput(1) ? RequireConstant(node, 1, "split").AsInts() : null;
        if (sizes is null)
        {
            // Equal parts; from opset 18 num_outputs may leave a smaller last part.
            int part = (dim + outputs - 1) / outputs;
            sizes = Enumerable.Range(0, outputs).Select(i => (long)Math.Max(0, Math.Min(part, dim - i * part))).ToArray();
            if (node.Int("num_outputs", outputs) != outputs || _opset < 18 && dim % outputs != 0)
                throw Refuse(DiagnosticIds.InvalidShape, $"{dim} does not split into {outputs} equal parts");
        }
        if (sizes.Length != outputs || sizes.Any(s => s < 0) || sizes.Sum() != dim)
            throw Refuse(DiagnosticIds.InvalidShape, $"split [{string.Join(",", sizes)}] does not divide {dim} into {outputs} outputs");
        int at = 0;
        for (int o = 0; o < outputs; o++)
        {
            int size = (int)sizes[o];
            var starts = new int[x.Rank];
            var ends = x.Shape.ToArray();
            starts[axis] = at;
            ends[axis] = at + size;
            var shape = x.Shape.ToArray();
            shape[axis] = size;
            at += size;
            if (node.Proto.Output[o].Length == 0) continue;
            if (size == 0) throw Refuse(DiagnosticIds.InvalidShape, $"output {o} of the split is empty");
            StridedSlice(node.Output(o), x, starts, ends, Enumerable.Repeat(1, x.Rank).ToArray(), shape);
        }
    }

    private void Pad(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        string mode = node.String("mode", "constant");
        if (mode != "constant") throw Refuse(DiagnosticIds.UnsupportedOperator, $"mode '{mode}' is not supported (only constant)");
        long[] pads;
        float value;
        long[]? axes = null;
        if (_opset < 11)
        {
            pads = node.Ints("pads") ?? throw Refuse(DiagnosticIds.InvalidOperator, "pads are required");
            value = node.Float("value", 0f);
        }
        else
        {
            pads = RequireConstant(node, 1, "pads").AsInts();
            value = node.HasInput(2) ? RequireConstant(node, 2, "constant_value").Float(0) : 0f;
            axes = node.HasInput(3) ? RequireConstant(node, 3, "axes").AsInts() : null;
        }
        var padded = (axes ?? Identity(x.Rank).Select(a => (long)a).ToArray()).Select(a => Axis(a, x.Rank)).ToArray();
        if (pads.Length != 2 * padded.Length) throw Refuse(DiagnosticIds.InvalidOperator, $"pads [{string.Join(",", pads)}] do not give a begin and an end for each of {padded.Length} axes");
        if (pads.Any(p => p < 0 || p > 1 << 16)) throw Refuse(DiagnosticIds.UnsupportedOperator, $"pads [{string.Join(",", pads)}]: negative (cropping) pads are not supported");
        var begin = new int[x.Rank];
        var end = new int[x.Rank];
        for (int i = 0; i < padded.Length; i++)
        {
            begin[padded[i]] = (int)pads[i];
            end[padded[i]] = (int)pads[i + padded.Length];
        }
        var shape = x.Shape.Select((d, i) => d + begin[i] + end[i]).ToArray();
        // A spatial pad of an NCHW tensor feeds a convolution or pooling: pad it as NHWC, so the layout change comes
        // first and PAD folding finds the PAD in front of the window.
        bool spatial = x.Rank == 4 && begin[0] == 0 && end[0] == 0 && begin[1] == 0 && end[1] == 0;
        var layout = spatial ? ChannelsLast(4) : x.Layout;
        var paddings = layout.SelectMany(a => new long[] { begin[a], end[a] }).ToArray();
        int input = TensorIn(x, layout);
        int paddingsTensor = AddConstant(node.Name("paddings"), DataType.Int32, new[] { x.Rank, 2 }, OnnxConstant.Of(paddings, x.Rank, 2).Bytes(DataType.Int32));
        if (value == 0)
            Produce(node.Output(0), x.Type, shape, layout, t => Emit(OpKind.Pad, new[] { input, paddingsTensor }, new[] { t }));
        else
        {
            int fill = FloatScalar(node.Name("value"), value);
            Produce(node.Output(0), x.Type, shape, layout, t => Emit(OpKind.PadV2, new[] { input, paddingsTensor, fill }, new[] { t }));
        }
    }

    private void Gather(OnnxNode node)
    {
        var data = RunTimeInput(node, 0);
        var indices = RequireConstant(node, 1, "indices");
        int axis = Axis(node.Int("axis", 0), data.Rank);
        int dim = data.Shape[axis];
        var picked = indices.AsInts().Select(i => i < 0 ? i + dim : i).ToArray();
        if (picked.Any(i => i < 0 || i >= dim)) throw Refuse(DiagnosticIds.InvalidOperator, $"indices [{string.Join(",", indices.AsInts())}] are out of range for {dim}");
        if (indices.Shape.Length > 1) throw Refuse(DiagnosticIds.UnsupportedOperator, "Gather with indices of rank above 1 is not supported");
        if (picked.Length == 0) throw Refuse(DiagnosticIds.InvalidShape, "Gather with no indices gives an empty tensor");
        // Runs of consecutive indices are slices; several runs are concatenated.
        var runs = new List<(int Start, int Count)>();
        foreach (long p in picked)
        {
            if (runs.Count > 0 && runs[runs.Count - 1].Start + runs[runs.Count - 1].Count == p) runs[runs.Count - 1] = (runs[runs.Count - 1].Start, runs[runs.Count - 1].Count + 1);
            else runs.Add(((int)p, 1));
        }
        var steps = Enumerable.Repeat(1, data.Rank).ToArray();
        var shape = data.Shape.ToArray();
        shape[axis] = picked.Length;
        OnnxValue Slice(string name, (int Start, int Count) run)
        {
            var starts = new int[data.Rank];
            var ends = data.Shape.ToArray();
            var sliceShape = data.Shape.ToArray();
            starts[axis] = run.Start;
            ends[axis] = run.Start + run.Count;
            sliceShape[axis] = run.Count;
            return StridedSlice(name, data, starts, ends, steps, sliceShape);
        }
        string gathered = indices.Shape.Length == 1 ? node.Output(0) : node.Name("slice");
        OnnxValue slice;
        if (runs.Count == 1) slice = Slice(gathered, runs[0]);
        else
        {
            var parts = runs.Select((r, i) => Slice(node.Name($"run{i}"), r).Tensor).ToArray();
            int irAxis = IrAxis(data, axis);
            slice = Produce(gathered, data.Type, shape, data.Layout, t => Emit(OpKind.Concatenation, parts, new[] { t }, new ConcatenationOptions(irAxis, Activation.None)));
        }
        if (indices.Shape.Length == 1) return;
        // A scalar index drops the axis: slice, then squeeze it (an alias).
        var squeezed = shape.Where((_, i) => i != axis).ToArray();
        var kept = Identity(data.Rank).Where(a => a != axis).ToList();
        var layout = slice.Layout.Where(a => a != axis).Select(a => kept.IndexOf(a)).ToArray();
        var irShape = Permute(squeezed, layout);
        Produce(node.Output(0), data.Type, squeezed, layout, t =>
            Emit(OpKind.Reshape, new[] { slice.Tensor, AddInts(node.Name("shape"), irShape) }, new[] { t }, new ReshapeOptions(irShape)));
    }

    private void Alias(OnnxNode node)
    {
        var x = Value(node.Input(0));
        if (node.OpType == "Dropout" && node.OutputCount > 1 && node.Proto.Output[1].Length > 0 && Uses(node.Proto.Output[1]) > 0)
            throw Refuse(DiagnosticIds.UnsupportedOperator, "the mask output of Dropout is not supported");
        Define(node.Output(0), new OnnxValue(node.Output(0), x.Type, x.Shape) { Constant = x.Constant, Tensor = x.Tensor, Layout = x.Layout });
    }

    private void Cast(OnnxNode node)
    {
        var x = Value(node.Input(0));
        int to = (int)node.Int("to", 0);
        if (to != x.Type) throw Refuse(DiagnosticIds.UnsupportedOperator, $"a run-time cast from {OnnxTypes.Name(x.Type)} to {OnnxTypes.Name(to)} is not supported");
        Alias(node);
    }

    private void Shape(OnnxNode node)
    {
        // Every shape is static here, so Shape is always a constant (evaluated by TryFold).
        throw Refuse(DiagnosticIds.InternalError, "Shape was not evaluated at import");
    }

    private void Constant(OnnxNode node) => throw Refuse(DiagnosticIds.InvalidOperator, "the Constant node has no value attribute we read");

    private void ConstantOfShape(OnnxNode node) => throw Refuse(DiagnosticIds.UnsupportedOperator, "ConstantOfShape needs a constant shape");

    private void FoldOnly(OnnxNode node) => throw Refuse(DiagnosticIds.UnsupportedOperator, $"{node.OpType} is supported only on constants (shape computations)");
}
