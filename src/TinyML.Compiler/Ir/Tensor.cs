// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Compiler.Ir;

/// <summary>A tensor of a graph: an activation, a constant (with <see cref="Data"/>) or a variable (state).</summary>
public sealed class Tensor
{
    /// <summary>Creates a tensor.</summary>
    public Tensor(string name, DataType type, ValueArray<int> shape)
    {
        Name = name;
        Type = type;
        Shape = shape;
    }

    /// <summary>The tensor's name in the model (may be empty).</summary>
    public string Name { get; set; }
    /// <summary>The element type.</summary>
    public DataType Type { get; set; }
    /// <summary>The static shape.</summary>
    public ValueArray<int> Shape { get; set; }
    /// <summary>The shape with unknown dimensions as -1, when the model gives one.</summary>
    public ValueArray<int>? ShapeSignature { get; set; }
    /// <summary>Quantization parameters, or null.</summary>
    public Quantization? Quantization { get; set; }
    /// <summary>Constant data (little-endian, row-major), or null for activations and variables.</summary>
    public ReadOnlyMemory<byte>? Data { get; set; }
    /// <summary>True for state that persists across invocations (SVDF memory).</summary>
    public bool IsVariable { get; set; }
    /// <summary>True when the model marks the tensor as sparse; we do not run sparse tensors.</summary>
    public bool IsSparse { get; set; }
    /// <summary>The schema's has_rank flag, kept for round trips.</summary>
    public bool HasRank { get; set; }

    /// <summary>True when the tensor holds constant data.</summary>
    public bool IsConstant => Data is not null;

    /// <summary>The number of elements, or -1 when the shape is invalid.</summary>
    public long ElementCount => Shapes.ElementCount(Shape);

    /// <summary>The bytes the tensor occupies, or -1 when the shape or type has no fixed size.</summary>
    public long Bytes
    {
        get
        {
            long count = ElementCount;
            int size = DataTypes.SizeOf(Type);
            return count < 0 || size == 0 ? -1 : count * size;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DataTypes.Name(Type)}{Shape}";
}
