// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using Google.Protobuf;
using TinyML.Compiler.Onnx.Proto;

namespace TinyML.Runtime.Tests;

/// <summary>Writes small ONNX models for tests that run them in onnxruntime and in our importer.</summary>
internal sealed class OnnxGraphWriter
{
    public const int Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6, Int64 = 7;

    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly int _opset;
    private int _names;
    private bool _contrib;

    public OnnxGraphWriter(int opset = 13) => _opset = opset;

    public string Input(string name, int type, params int[] shape)
    {
        _graph.Input.Add(ValueInfo(name, type, shape));
        return name;
    }

    public void Output(string name, int type, params int[] shape) => _graph.Output.Add(ValueInfo(name, type, shape));

    private static ValueInfoProto ValueInfo(string name, int type, int[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = type, Shape = new TensorShapeProto() };
        foreach (int d in shape) tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    public string Initializer(int type, int[] shape, Array values)
    {
        string name = $"c{_names++}";
        var tensor = new TensorProto { Name = name, DataType = type };
        tensor.Dims.Add(shape.Select(d => (long)d));
        byte[] raw = type switch
        {
            Float => ((float[])values).SelectMany(BitConverter.GetBytes).ToArray(),
            Int8 => ((sbyte[])values).Select(v => (byte)v).ToArray(),
            UInt8 => (byte[])values,
            Int32 => ((int[])values).SelectMany(BitConverter.GetBytes).ToArray(),
            Int64 => ((long[])values).SelectMany(BitConverter.GetBytes).ToArray(),
            _ => throw new ArgumentException("type", nameof(type)),
        };
        tensor.RawData = ByteString.CopyFrom(raw);
        _graph.Initializer.Add(tensor);
        return name;
    }

    public string Scalar(float value) => Initializer(Float, Array.Empty<int>(), new[] { value });

    public string ZeroPoint(int type, int value) => type == UInt8 ? Initializer(UInt8, Array.Empty<int>(), new[] { (byte)value }) : Initializer(Int8, Array.Empty<int>(), new[] { (sbyte)value });

    /// <summary>Adds a node; returns its first output's name.</summary>
    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes) => Node(op, inputs, 1, attributes)[0];

    public string[] Node(string op, string[] inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        // "com.microsoft.QLinearAdd": a contrib operator of onnxruntime's domain.
        const string Contrib = "com.microsoft.";
        bool contrib = op.StartsWith(Contrib, StringComparison.Ordinal);
        _contrib |= contrib;
        var node = new NodeProto { OpType = contrib ? op.Substring(Contrib.Length) : op, Name = $"n{_names++}", Domain = contrib ? "com.microsoft" : "" };
        node.Input.Add(inputs);
        var names = Enumerable.Range(0, outputs).Select(_ => $"v{_names++}").ToArray();
        node.Output.Add(names);
        foreach (var (name, value) in attributes)
        {
            var attribute = new AttributeProto { Name = name };
            switch (value)
            {
                case long i: attribute.I = i; attribute.Type = AttributeProto.Types.AttributeType.Int; break;
                case int i: attribute.I = i; attribute.Type = AttributeProto.Types.AttributeType.Int; break;
                case float f: attribute.F = f; attribute.Type = AttributeProto.Types.AttributeType.Float; break;
                case long[] ints: attribute.Ints.Add(ints); attribute.Type = AttributeProto.Types.AttributeType.Ints; break;
                case string s: attribute.S = ByteString.CopyFromUtf8(s); attribute.Type = AttributeProto.Types.AttributeType.String; break;
                default: throw new ArgumentException($"attribute {name}", nameof(attributes));
            }
            node.Attribute.Add(attribute);
        }
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>Renames a node output to a graph output name.</summary>
    public void RenameLastOutput(string name) => _graph.Node[_graph.Node.Count - 1].Output[0] = name;

    public byte[] Write()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "tinyml-tests", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        if (_contrib) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return model.ToByteArray();
    }
}
