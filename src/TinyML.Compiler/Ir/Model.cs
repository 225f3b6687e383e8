// SPDX-License-Identifier: Apache-2.0
using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace TinyML.Compiler.Ir;

/// <summary>A subgraph: tensors, operators in execution order, and its inputs and outputs.</summary>
public sealed class Graph
{
    /// <summary>The subgraph name (may be empty).</summary>
    public string Name { get; set; } = "";
    /// <summary>All tensors; operators refer to them by index.</summary>
    public List<Tensor> Tensors { get; } = new();
    /// <summary>Operators in execution order.</summary>
    public List<Operator> Operators { get; } = new();
    /// <summary>Graph input tensor indices.</summary>
    public ValueArray<int> Inputs { get; set; } = ValueArray<int>.Empty;
    /// <summary>Graph output tensor indices.</summary>
    public ValueArray<int> Outputs { get; set; } = ValueArray<int>.Empty;

    /// <summary>The tensor at an index, or null for -1 (an omitted optional input).</summary>
    public Tensor? TensorOrNull(int index) => index < 0 ? null : Tensors[index];

    /// <summary>The operator's input tensor at a position, or null when it is omitted or absent.</summary>
    public Tensor? Input(Operator op, int position) =>
        position < op.Inputs.Count ? TensorOrNull(op.Inputs[position]) : null;

    /// <summary>The operator's output tensor at a position.</summary>
    public Tensor Output(Operator op, int position) => Tensors[op.Outputs[position]];
}

/// <summary>Named model metadata (for example min_runtime_version, OfflineMemoryAllocation).</summary>
public sealed record ModelMetadata(string Name, ReadOnlyMemory<byte> Data);

/// <summary>A named tensor of a signature.</summary>
public sealed record SignatureTensor(string Name, int TensorIndex);

/// <summary>A signature: named inputs and outputs of a subgraph.</summary>
public sealed record Signature(string Key, int SubgraphIndex, ValueArray<SignatureTensor> Inputs,
    ValueArray<SignatureTensor> Outputs);

/// <summary>A whole model: subgraphs (the first is the main one), metadata and signatures.</summary>
public sealed class Model
{
    /// <summary>The only TFLite schema version we read and write.</summary>
    public const uint SchemaVersion = 3;

    /// <summary>Schema version from the file.</summary>
    public uint Version { get; set; } = SchemaVersion;
    /// <summary>The model description (often the converter's name).</summary>
    public string? Description { get; set; }
    /// <summary>Subgraphs; index 0 is the main graph.</summary>
    public List<Graph> Subgraphs { get; } = new();
    /// <summary>Model metadata entries.</summary>
    public List<ModelMetadata> Metadata { get; } = new();
    /// <summary>Signature definitions.</summary>
    public List<Signature> Signatures { get; } = new();

    /// <summary>The main graph (subgraph 0).</summary>
    public Graph Main => Subgraphs.Count > 0 ? Subgraphs[0] : throw new InvalidOperationException("model has no subgraph");

    /// <summary>The per-tensor arena offsets from OfflineMemoryAllocation metadata, or null when absent or malformed.</summary>
    public int[]? OfflineMemoryAllocation()
    {
        foreach (var entry in Metadata)
        {
            if (entry.Name != "OfflineMemoryAllocation") continue;
            // Layout: version, subgraph index, tensor count, then one int32 offset per tensor (-1 = online).
            var span = entry.Data.Span;
            if (span.Length < 12 || span.Length % 4 != 0) return null;
            int count = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(8));
            if (count < 0 || 12 + 4L * count > span.Length) return null;
            var offsets = new int[count];
            for (int i = 0; i < count; i++) offsets[i] = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(12 + 4 * i));
            return offsets;
        }
        return null;
    }
}
