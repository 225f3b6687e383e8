// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Building;

/// <summary>
/// Builds small models in code: samples make their models with it, and tests make the models they need instead
/// of depending on binary files.
/// </summary>
public sealed class ModelBuilder
{
    private readonly Model _model = new() { Description = "TinyML.Sdk ModelBuilder" };
    private readonly Graph _graph = new() { Name = "main" };

    /// <summary>Creates an empty single-graph model.</summary>
    public ModelBuilder() => _model.Subgraphs.Add(_graph);

    /// <summary>The graph under construction.</summary>
    public Graph Graph => _graph;

    /// <summary>Adds an activation tensor and returns its index.</summary>
    public int Tensor(string name, DataType type, int[] shape, Quantization? quantization = null)
    {
        _graph.Tensors.Add(new Tensor(name, type, shape) { Quantization = quantization, HasRank = true });
        return _graph.Tensors.Count - 1;
    }

    /// <summary>Adds a constant tensor from raw little-endian bytes.</summary>
    public int Constant(string name, DataType type, int[] shape, byte[] data, Quantization? quantization = null)
    {
        int index = Tensor(name, type, shape, quantization);
        _graph.Tensors[index].Data = data;
        return index;
    }

    /// <summary>Adds an int8 constant.</summary>
    public int Constant(string name, int[] shape, sbyte[] values, Quantization quantization) =>
        Constant(name, DataType.Int8, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), quantization);

    /// <summary>Adds an int32 constant (biases, shapes, paddings).</summary>
    public int Constant(string name, int[] shape, int[] values, Quantization? quantization = null) =>
        Constant(name, DataType.Int32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), quantization);

    /// <summary>Adds a float32 constant.</summary>
    public int Constant(string name, int[] shape, float[] values) =>
        Constant(name, DataType.Float32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>Appends an operator.</summary>
    public Operator Operator(OpKind kind, int[] inputs, int[] outputs, OperatorOptions? options = null, int version = 1)
    {
        var op = new Operator(kind, inputs, outputs) { Options = options, Version = version };
        _graph.Operators.Add(op);
        return op;
    }

    /// <summary>Marks the graph inputs.</summary>
    public ModelBuilder Inputs(params int[] tensors)
    {
        _graph.Inputs = tensors;
        return this;
    }

    /// <summary>Marks the graph outputs.</summary>
    public ModelBuilder Outputs(params int[] tensors)
    {
        _graph.Outputs = tensors;
        return this;
    }

    /// <summary>Adds a signature naming the graph inputs and outputs.</summary>
    public ModelBuilder Signature(string key, string[] inputNames, string[] outputNames)
    {
        if (inputNames.Length != _graph.Inputs.Count || outputNames.Length != _graph.Outputs.Count)
            throw new ArgumentException("one name per graph input and output");
        _model.Signatures.Add(new Ir.Signature(key, 0,
            inputNames.Select((n, i) => new SignatureTensor(n, _graph.Inputs[i])).ToArray(),
            outputNames.Select((n, i) => new SignatureTensor(n, _graph.Outputs[i])).ToArray()));
        return this;
    }

    /// <summary>The model built so far.</summary>
    public Model Build() => _model;
}
