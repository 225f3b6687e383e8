// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Onnx.Proto;

namespace TinyML.Compiler.Onnx;

/// <summary>
/// A value of the ONNX graph as the importer holds it: known at compile time (<see cref="Constant"/>), or computed
/// at run time into an IR tensor whose axes are a permutation of ONNX's (<see cref="Layout"/>): IR axis i holds ONNX
/// axis Layout[i]. Convolutions want NHWC, ONNX gives NCHW; carrying the permutation instead of transposing after
/// every operator means a graph pays for layout changes only where an operator needs ONNX's own order (a reshape, a
/// graph output).
/// </summary>
internal sealed class OnnxValue
{
    public OnnxValue(string name, int type, int[] shape)
    {
        Name = name;
        Type = type;
        Shape = shape;
    }

    public string Name { get; }
    /// <summary>The ONNX element type.</summary>
    public int Type { get; }
    /// <summary>The shape in ONNX's order.</summary>
    public int[] Shape { get; }
    public int Rank => Shape.Length;
    public OnnxConstant? Constant { get; init; }
    /// <summary>The IR tensor of a run-time value, or -1.</summary>
    public int Tensor { get; init; } = -1;
    public int[] Layout { get; init; } = Array.Empty<int>();
}

/// <summary>A refusal found while importing one node: the TML code and what to say.</summary>
internal sealed class OnnxImportException : Exception
{
    public OnnxImportException(string id, string message) : base(message) => Id = id;

    public string Id { get; }
}

/// <summary>
/// Converts a decoded ModelProto into the IR, node by node, in NHWC where the kernels want it. Constant subgraphs
/// (shape arithmetic, weights behind Identity or Cast) are evaluated at import; what cannot be imported is a
/// diagnostic naming the node.
/// </summary>
internal sealed partial class OnnxImporter
{
    /// <summary>The opsets of the default domain we read: 7 is the oldest a maintained exporter writes.</summary>
    public const int MinOpset = 7, MaxOpset = 25;

    private static readonly int[] NoLayout = Array.Empty<int>();

    private readonly ModelProto _proto;
    private readonly string? _file;
    private readonly Graph _graph = new();
    private readonly Dictionary<string, OnnxValue> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Tensor, string Layout), int> _relayouts = new();
    private readonly Dictionary<string, int> _uses = new(StringComparer.Ordinal);
    private readonly Dictionary<int, OnnxValue> _dequantized = new();
    private int _opset;
    private OnnxNode? _node;

    public OnnxImporter(ModelProto proto, string? file)
    {
        _proto = proto;
        _file = file;
    }

    public DiagnosticBag Diagnostics { get; } = new();

    private void Report(string id, Severity severity, string message, string? tensor = null) =>
        Diagnostics.Add(new Diagnostic(id, severity, message)
        {
            File = _file, OperatorIndex = _node?.Index, OperatorType = _node?.OpType, TensorName = tensor,
        });

    private static OnnxImportException Refuse(string id, string message) => new(id, message);

    public Model? Import()
    {
        if (!CheckModel()) return null;
        var graphProto = _proto.Graph;
        _graph.Name = graphProto.Name;
        foreach (var node in graphProto.Node)
            foreach (var input in node.Input)
                _uses[input] = _uses.TryGetValue(input, out int n) ? n + 1 : 1;
        foreach (var output in graphProto.Output)
            _uses[output.Name] = _uses.TryGetValue(output.Name, out int n) ? n + 1 : 1;
        if (!ReadInitializers(graphProto) || !ReadInputs(graphProto) || !CheckOperators(graphProto)) return null;
        for (int i = 0; i < graphProto.Node.Count; i++)
        {
            _node = new OnnxNode(graphProto.Node[i], i);
            try
            {
                Convert(_node);
            }
            catch (OnnxImportException e)
            {
                Report(e.Id, Severity.Error, $"{_node.Describe()}: {e.Message}");
                return null;
            }
            catch (OverflowException)
            {
                Report(DiagnosticIds.InvalidOperator, Severity.Error, $"{_node.Describe()}: a shape, index or attribute value is out of range");
                return null;
            }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or NullReferenceException)
            {
                // A file shaped in a way no check above foresaw: a diagnostic, never a crash.
                Report(DiagnosticIds.InternalError, Severity.Error, $"{_node.Describe()}: the importer failed ({e.GetType().Name}: {e.Message}); please report it with the model");
                return null;
            }
        }
        _node = null;
        if (!WriteOutputs(graphProto)) return null;
        var model = new Model { Description = $"imported from ONNX ({(_proto.ProducerName + " " + _proto.ProducerVersion).Trim()}, opset {_opset})" };
        model.Subgraphs.Add(_graph);
        return model;
    }

    private bool CheckModel()
    {
        if (_proto.Graph is null)
        {
            Report(DiagnosticIds.CorruptOnnxModel, Severity.Error, "the ONNX model has no graph");
            return false;
        }
        _opset = 0;
        foreach (var import in _proto.OpsetImport)
            if (import.Domain is "" or "ai.onnx") _opset = (int)Math.Min(import.Version, int.MaxValue);
        // IR version 3 and later must import an opset; older files default to opset 1, which we do not read either.
        if (_opset < MinOpset || _opset > MaxOpset)
        {
            Report(DiagnosticIds.UnsupportedOperatorVersion, Severity.Error, _opset == 0
                ? "the ONNX model imports no opset of the default domain (ai.onnx)"
                : $"the ONNX model uses opset {_opset}; opsets {MinOpset} to {MaxOpset} are supported (convert it with onnx.version_converter)");
            return false;
        }
        if (_proto.Graph.SparseInitializer.Count > 0)
        {
            Report(DiagnosticIds.UnsupportedModelStructure, Severity.Error, "the ONNX model has sparse initializers, which are not supported");
            return false;
        }
        return true;
    }

    private bool ReadInitializers(GraphProto graph)
    {
        bool ok = true;
        foreach (var tensor in graph.Initializer)
        {
            var constant = OnnxConstant.Decode(tensor, out string? problem);
            if (constant is null)
            {
                Report(problem!.Contains("holds") || problem.Contains("raw data") ? DiagnosticIds.ConstantSizeMismatch : DiagnosticIds.UnsupportedTypeCombination,
                    Severity.Error, $"initializer '{tensor.Name}' cannot be read: {problem}", tensor.Name);
                ok = false;
                continue;
            }
            if (_values.ContainsKey(tensor.Name))
            {
                Report(DiagnosticIds.CorruptOnnxModel, Severity.Error, $"initializer '{tensor.Name}' is defined twice", tensor.Name);
                ok = false;
                continue;
            }
            _values[tensor.Name] = new OnnxValue(tensor.Name, constant.Type, constant.Shape) { Constant = constant };
        }
        return ok;
    }

    private bool ReadInputs(GraphProto graph)
    {
        var inputs = new List<int>();
        bool ok = true;
        foreach (var input in graph.Input)
        {
            // Before IR version 4, every initializer was also listed as an input; those stay constants.
            if (_values.TryGetValue(input.Name, out var existing) && existing.Constant is not null) continue;
            if (input.Type?.TensorType is not { } tensorType)
            {
                Report(DiagnosticIds.UnsupportedModelStructure, Severity.Error, $"graph input '{input.Name}' is not a tensor (a sequence, map or optional)", input.Name);
                ok = false;
                continue;
            }
            if (OnnxTypes.RunTime(tensorType.ElemType) is not DataType type || type == DataType.Int32)
            {
                Report(DiagnosticIds.UnsupportedTypeCombination, Severity.Error, $"graph input '{input.Name}' is {OnnxTypes.Name(tensorType.ElemType)}; inputs may be float, int8, uint8 or int16" +
                    (OnnxTypes.IsInteger(tensorType.ElemType) ? " (shapes, axes and indices must be constants, not inputs)" : ""), input.Name);
                ok = false;
                continue;
            }
            if (tensorType.Shape is null)
            {
                Report(DiagnosticIds.DynamicShape, Severity.Error, $"graph input '{input.Name}' has no shape; export the model with a fixed input shape", input.Name);
                ok = false;
                continue;
            }
            var shape = new int[tensorType.Shape.Dim.Count];
            for (int d = 0; d < shape.Length; d++)
            {
                var dim = tensorType.Shape.Dim[d];
                if (dim.HasDimValue && dim.DimValue > 0 && dim.DimValue <= int.MaxValue)
                    shape[d] = (int)dim.DimValue;
                else if (d == 0 && !dim.HasDimValue)
                {
                    // A symbolic batch (PyTorch's dynamic_axes): one sample per run, as on a microcontroller.
                    shape[d] = 1;
                    Report(DiagnosticIds.DynamicDimensionFixed, Severity.Warning,
                        $"graph input '{input.Name}' has a dynamic first dimension{(dim.HasDimParam ? $" '{dim.DimParam}'" : "")}; it is taken as 1", input.Name);
                }
                else
                {
                    Report(DiagnosticIds.DynamicShape, Severity.Error,
                        $"graph input '{input.Name}' dimension {d} is {(dim.HasDimValue ? dim.DimValue.ToString() : dim.HasDimParam ? $"'{dim.DimParam}'" : "unknown")}; only the first dimension may be dynamic (it is taken as 1)", input.Name);
                    ok = false;
                }
            }
            if (!ok) continue;
            if (Shapes.ElementCount(shape) < 0)
            {
                Report(DiagnosticIds.InvalidShape, Severity.Error, $"graph input '{input.Name}' shape {Shapes.Format(shape)} is too large", input.Name);
                ok = false;
                continue;
            }
            int t = AddTensor(input.Name, type, shape);
            inputs.Add(t);
            _values[input.Name] = new OnnxValue(input.Name, tensorType.ElemType, shape) { Tensor = t, Layout = Identity(shape.Length) };
        }
        if (ok && inputs.Count == 0)
        {
            Report(DiagnosticIds.UnsupportedModelStructure, Severity.Error, "the ONNX graph has no input that is not an initializer");
            ok = false;
        }
        _graph.Inputs = inputs.ToArray();
        return ok;
    }

    /// <summary>Names every operator we cannot import at once, so a user sees the whole list before converting.</summary>
    private bool CheckOperators(GraphProto graph)
    {
        var unsupported = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            string key = ConverterKey(node);
            if (Converters.ContainsKey(key)) continue;
            unsupported[key] = unsupported.TryGetValue(key, out int n) ? n + 1 : 1;
        }
        if (unsupported.Count == 0) return true;
        Report(DiagnosticIds.UnsupportedOperator, Severity.Error,
            "the ONNX model uses operators that are not supported: " + string.Join(", ", unsupported.Select(kv => kv.Value == 1 ? kv.Key : $"{kv.Key} ({kv.Value} nodes)")) +
            ". docs/onnx.md lists the operators we import.");
        return false;
    }

    private bool WriteOutputs(GraphProto graph)
    {
        var outputs = new List<int>();
        foreach (var output in graph.Output)
        {
            if (!_values.TryGetValue(output.Name, out var value))
            {
                Report(DiagnosticIds.CorruptOnnxModel, Severity.Error, $"graph output '{output.Name}' is not computed by any node", output.Name);
                return false;
            }
            if (value.Constant is null && value.Type == OnnxTypes.UInt8 && _graph.Tensors[value.Tensor].Type == DataType.Int8)
            {
                Report(DiagnosticIds.UnsupportedTypeCombination, Severity.Error,
                    $"graph output '{output.Name}' is uint8, which the int8 kernels hold as int8 (q - 128); end the graph with DequantizeLinear, or quantize to int8", output.Name);
                return false;
            }
            // Outputs keep ONNX's layout, so the generated class and tinyml run give what onnxruntime gives.
            int t = value.Constant is null ? TensorIn(value, Identity(value.Rank)) : -1;
            if (t < 0 || _graph.Inputs.Contains(t) || outputs.Contains(t))
            {
                Report(DiagnosticIds.UnsupportedModelStructure, Severity.Error,
                    $"graph output '{output.Name}' is {(t < 0 ? "a constant" : "a graph input or another output")}; every output must be computed from the inputs", output.Name);
                return false;
            }
            _graph.Tensors[t].Name = output.Name;
            outputs.Add(t);
        }
        _graph.Outputs = outputs.ToArray();
        return true;
    }

    // ---- values -------------------------------------------------------------------------------------------------

    private OnnxValue Value(string name) =>
        _values.TryGetValue(name, out var value) ? value
            : throw Refuse(DiagnosticIds.CorruptOnnxModel, $"input '{name}' is not produced by an earlier node, an initializer or a graph input (nodes must be sorted)");

    private void Define(string name, OnnxValue value)
    {
        if (name.Length == 0) return;
        if (_values.ContainsKey(name)) throw Refuse(DiagnosticIds.CorruptOnnxModel, $"value '{name}' is defined twice");
        _values[name] = value;
    }

    /// <summary>How many nodes and graph outputs read a value.</summary>
    private int Uses(string name) => _uses.TryGetValue(name, out int n) ? n : 0;


    // ---- IR emission --------------------------------------------------------------------------------------------

    private int AddTensor(string name, DataType type, int[] shape)
    {
        _graph.Tensors.Add(new Tensor(name, type, shape) { HasRank = true });
        return _graph.Tensors.Count - 1;
    }

    private int AddConstant(string name, DataType type, int[] shape, byte[] data)
    {
        _graph.Tensors.Add(new Tensor(name, type, shape) { Data = data, HasRank = true });
        return _graph.Tensors.Count - 1;
    }

    private int FloatScalar(string name, float value) =>
        AddConstant(name, DataType.Float32, Array.Empty<int>(), OnnxConstant.Of(new[] { value }).Bytes(DataType.Float32));

    private int AddInts(string name, params int[] values) =>
        AddConstant(name, DataType.Int32, new[] { values.Length }, OnnxConstant.Of(values.Select(v => (long)v).ToArray(), values.Length).Bytes(DataType.Int32));

    private Operator Emit(OpKind kind, int[] inputs, int[] outputs, OperatorOptions? options = null, int version = 1)
    {
        var op = new Operator(kind, inputs, outputs) { Options = options, Version = version };
        _graph.Operators.Add(op);
        return op;
    }

    /// <summary>
    /// The run-time value of a node output: a new IR tensor in <paramref name="layout"/> (ONNX shape permuted),
    /// written by the operator <paramref name="emit"/> adds for it.
    /// </summary>
    private OnnxValue Produce(string name, int type, int[] shape, int[] layout, Action<int> emit)
    {
        var irType = OnnxTypes.RunTime(type) ?? throw Refuse(DiagnosticIds.UnsupportedTypeCombination, $"'{name}' would be a run-time {OnnxTypes.Name(type)} tensor, which no kernel computes");
        if (Shapes.ElementCount(shape) < 0) throw Refuse(DiagnosticIds.InvalidShape, $"'{name}' would have the shape {Shapes.Format(shape)}");
        int t = AddTensor(name, irType, Permute(shape, layout));
        emit(t);
        var value = new OnnxValue(name, type, shape) { Tensor = t, Layout = layout };
        Define(name, value);
        return value;
    }

    // ---- layouts ------------------------------------------------------------------------------------------------

    public static int[] Identity(int rank) => Enumerable.Range(0, rank).ToArray();

    /// <summary>NCHW held as NHWC (and NCL held as NLC, N C D H W as N D H W C).</summary>
    public static int[] ChannelsLast(int rank) => rank < 3 ? Identity(rank) : new[] { 0 }.Concat(Enumerable.Range(2, rank - 2)).Concat(new[] { 1 }).ToArray();

    public static int[] Permute(int[] shape, int[] layout) => layout.Select(a => shape[a]).ToArray();

    public static int[] Inverse(int[] perm)
    {
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return inverse;
    }

    /// <summary>The IR axis that holds ONNX axis <paramref name="axis"/> of a value.</summary>
    private static int IrAxis(OnnxValue value, int axis) => Array.IndexOf(value.Layout, axis);

    private static bool IsIdentity(int[] layout) => layout.Select((a, i) => a == i).All(x => x);

    /// <summary>
    /// The value's IR tensor in <paramref name="layout"/>: a constant is written in that order; a run-time tensor in
    /// another order gets a TRANSPOSE, or a RESHAPE (an alias) when only size-1 axes move.
    /// </summary>
    private int TensorIn(OnnxValue value, int[] layout)
    {
        if (layout.Length != value.Rank) throw new ArgumentException("layout rank", nameof(layout));
        if (value.Constant is { } constant) return ConstantTensor(value.Name, IsIdentity(layout) ? constant : constant.Transposed(layout));
        if (value.Layout.SequenceEqual(layout)) return value.Tensor;
        string key = string.Join(",", layout);
        if (_relayouts.TryGetValue((value.Tensor, key), out int done)) return done;
        var target = Permute(value.Shape, layout);
        var source = _graph.Tensors[value.Tensor];
        int t = AddTensor(value.Name + (IsIdentity(layout) ? "/onnx_layout" : "/nhwc"), source.Type, target);
        _graph.Tensors[t].Quantization = source.Quantization;
        bool onlyUnitAxesMove = value.Layout.Where(a => value.Shape[a] != 1).SequenceEqual(layout.Where(a => value.Shape[a] != 1));
        if (onlyUnitAxesMove)
            Emit(OpKind.Reshape, new[] { value.Tensor, AddInts(value.Name + "/shape", target) }, new[] { t }, new ReshapeOptions(target));
        else
        {
            // TRANSPOSE: output axis i is input axis perm[i]; input axis k holds ONNX axis value.Layout[k].
            var inverse = Inverse(value.Layout);
            Emit(OpKind.Transpose, new[] { value.Tensor, AddInts(value.Name + "/perm", layout.Select(a => inverse[a]).ToArray()) }, new[] { t });
        }
        _relayouts[(value.Tensor, key)] = t;
        return t;
    }

    /// <summary>
    /// A constant as an IR tensor: the integers and their quantization for the output of a DequantizeLinear (uint8
    /// moved to int8: q - 128 with the zero point less 128, exact), else the values in their own type.
    /// </summary>
    private int ConstantTensor(string name, OnnxConstant constant)
    {
        if (constant.Quantized is not { } q)
        {
            var irType = ConstantType(constant.Type);
            return AddConstant(name, irType, constant.Shape, constant.Bytes(irType));
        }
        var values = q.Values;
        long shift = values.Type == OnnxTypes.UInt8 ? -128 : 0;
        var type = values.Type switch
        {
            OnnxTypes.UInt8 or OnnxTypes.Int8 => DataType.Int8,
            OnnxTypes.Int16 => DataType.Int16,
            OnnxTypes.Int32 => DataType.Int32,
            _ => throw Refuse(DiagnosticIds.UnsupportedTypeCombination, $"'{name}' is quantized as {OnnxTypes.Name(values.Type)}; int8, uint8, int16 and int32 are supported"),
        };
        var ints = shift == 0 ? values : new OnnxConstant(OnnxTypes.Int8, values.Shape, values.Ints!.Select(v => v + shift).ToArray(), null);
        int t = AddConstant(name, type, values.Shape, ints.Bytes(type));
        _graph.Tensors[t].Quantization = q.Quantization(shift);
        return t;
    }

    /// <summary>The IR type a constant operand is written in.</summary>
    private static DataType ConstantType(int onnxType) => onnxType switch
    {
        OnnxTypes.Float or OnnxTypes.Double => DataType.Float32,
        OnnxTypes.Int8 => DataType.Int8,
        OnnxTypes.UInt8 => DataType.UInt8,
        OnnxTypes.Int16 => DataType.Int16,
        OnnxTypes.Int64 => DataType.Int64,
        _ => DataType.Int32,
    };

    /// <summary>A run-time value with rank raised to <paramref name="rank"/> by leading size-1 axes (an alias).</summary>
    private OnnxValue Unsqueezed(OnnxValue value, int rank)
    {
        if (value.Rank == rank) return value;
        int extra = rank - value.Rank;
        var shape = Enumerable.Repeat(1, extra).Concat(value.Shape).ToArray();
        if (value.Constant is { } c) return new OnnxValue(value.Name, value.Type, shape) { Constant = c.WithShape(shape) };
        var layout = Identity(extra).Concat(value.Layout.Select(a => a + extra)).ToArray();
        var irShape = Permute(shape, layout);
        var source = _graph.Tensors[value.Tensor];
        int t = AddTensor(value.Name + $"/rank{rank}", source.Type, irShape);
        _graph.Tensors[t].Quantization = source.Quantization;
        Emit(OpKind.Reshape, new[] { value.Tensor, AddInts(value.Name + $"/rank{rank}_shape", irShape) }, new[] { t }, new ReshapeOptions(irShape));
        return new OnnxValue(value.Name, value.Type, shape) { Tensor = t, Layout = layout };
    }

    /// <summary>The output shape of numpy-style broadcasting, or a refusal.</summary>
    private static int[] Broadcast(params int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int size = 1;
            foreach (var s in shapes)
            {
                int d = i - (rank - s.Length);
                if (d < 0 || s[d] == 1) continue;
                if (size != 1 && size != s[d])
                    throw Refuse(DiagnosticIds.InvalidShape, $"shapes {string.Join(" and ", shapes.Select(Shapes.Format))} do not broadcast");
                size = s[d];
            }
            result[i] = size;
        }
        return result;
    }

    /// <summary>A normalized axis: negative counts from the end; out of range is a refusal.</summary>
    private static int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1)) throw Refuse(DiagnosticIds.InvalidOperator, $"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }
}
