// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Onnx.Proto;
using static TinyML.Compiler.Onnx.Proto.AttributeProto.Types;

namespace TinyML.Compiler.Onnx;

/// <summary>A node with typed access to its attributes; a missing or mistyped attribute is a refusal naming it.</summary>
internal sealed class OnnxNode
{
    private readonly Dictionary<string, AttributeProto> _attributes = new(StringComparer.Ordinal);

    public OnnxNode(NodeProto proto, int index)
    {
        Proto = proto;
        Index = index;
        foreach (var attribute in proto.Attribute)
        {
            if (attribute.HasRefAttrName)
                throw new OnnxImportException(DiagnosticIds.UnsupportedModelStructure,
                    $"attribute '{attribute.Name}' refers to a function's attribute; only graphs, not function bodies, are imported");
            _attributes[attribute.Name] = attribute;
        }
    }

    public NodeProto Proto { get; }
    public int Index { get; }
    public string OpType => Proto.OpType;

    /// <summary>A name for an IR tensor the node adds besides its outputs.</summary>
    public string Name(string suffix) => $"{(Proto.Name.Length > 0 ? Proto.Name : OpType + Index)}/{suffix}";

    public string Describe() => Proto.Name.Length > 0 ? $"node {Index} ({OpType} '{Proto.Name}')" : $"node {Index} ({OpType})";

    /// <summary>The number of inputs, not counting omitted trailing ones.</summary>
    public int InputCount
    {
        get
        {
            int n = Proto.Input.Count;
            while (n > 0 && Proto.Input[n - 1].Length == 0) n--;
            return n;
        }
    }

    public bool HasInput(int i) => i < Proto.Input.Count && Proto.Input[i].Length > 0;

    public string Input(int i) => HasInput(i) ? Proto.Input[i]
        : throw new OnnxImportException(DiagnosticIds.InvalidOperator, $"input {i} is missing");

    public string Output(int i) => i < Proto.Output.Count ? Proto.Output[i]
        : throw new OnnxImportException(DiagnosticIds.InvalidOperator, $"output {i} is missing");

    public int OutputCount => Proto.Output.Count;

    public bool Has(string name) => _attributes.ContainsKey(name);

    private AttributeProto? Get(string name, AttributeType type)
    {
        if (!_attributes.TryGetValue(name, out var attribute)) return null;
        // IR version 1 files have no type field; their value field tells.
        if (attribute.HasType && attribute.Type != type)
            throw new OnnxImportException(DiagnosticIds.InvalidOperator, $"attribute '{name}' is {attribute.Type}, not {type}");
        return attribute;
    }

    public long Int(string name, long fallback) => Get(name, AttributeType.Int) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Get(name, AttributeType.Float) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Get(name, AttributeType.String) is { } a ? Encoding.UTF8.GetString(a.S.ToByteArray()) : fallback;

    public long[]? Ints(string name) => Get(name, AttributeType.Ints) is { } a ? a.Ints.ToArray() : null;

    public float[]? Floats(string name) => Get(name, AttributeType.Floats) is { } a ? a.Floats.ToArray() : null;

    public TensorProto? Tensor(string name) => Get(name, AttributeType.Tensor)?.T;

    /// <summary>Refuses attributes the converter does not read with a value other than their default.</summary>
    public void RefuseUnless(string name, long expected, string why)
    {
        long value = Int(name, expected);
        if (value != expected)
            throw new OnnxImportException(DiagnosticIds.InvalidOperator, $"{name}={value} is not supported: {why}");
    }
}
