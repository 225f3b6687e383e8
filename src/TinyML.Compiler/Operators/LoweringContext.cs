// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;

namespace TinyML.Compiler.Operators;

/// <summary>What an operator definition may use while it lowers: tensors, pointers into the arena, state and
/// constants, and the call list. The lowerer implements it for the operator being lowered.</summary>
internal abstract class LoweringContext
{
    /// <summary>Tensor <paramref name="index"/> of the graph.</summary>
    public abstract Tensor T(int index);

    /// <summary>The pointer to a tensor's bytes (a constant blob, the state region or the arena); null for -1.</summary>
    public abstract Pointer Ptr(int index);

    /// <summary>A new constant blob; <paramref name="sourceTensor"/> is the constant tensor it was derived from, if one.</summary>
    public abstract Pointer Constant(byte[] bytes, int sourceTensor = -1);

    /// <summary>The operator's scratch buffer in the arena (as large as its <see cref="OperatorDefinition.ScratchBytes"/> or its in-place scratch).</summary>
    public abstract Pointer Scratch { get; }

    /// <summary>What the plan is for: "host" or a Cortex-M core (<see cref="LoweringOptions.Target"/>); kernels size
    /// their scratch for it.</summary>
    public abstract string Target { get; }

    /// <summary>True when the packed int8 weights of <paramref name="weightsTensor"/> are widened to int16
    /// (<see cref="WeightWidening"/>): chosen once per plan, before scratch sizes and calls.</summary>
    public abstract bool Widened(int weightsTensor);

    /// <summary>How the int8 convolutions and fully connected layers requantize (<see cref="LoweringOptions.Rounding"/>).</summary>
    public abstract RequantizationRounding Rounding { get; }

    /// <summary>True for a constant that training updates (it lives in the parameter region) or reads as it is (the
    /// weights a gradient passes back through): nothing may be derived from it at build time (no packing, no folded bias).</summary>
    public abstract bool UsedByTraining(int tensor);

    /// <summary>How the memory plan runs the operator in place, or null.</summary>
    public abstract InPlaceKind? InPlace { get; }

    /// <summary>Adds a kernel call for the operator.</summary>
    public abstract void Call(string kernel, string comment, params Arg[] args);

    /// <summary>True when input 0 and output 0 are float32: the float kernels run.</summary>
    public bool IsFloat(Operator op) => T(op.Inputs[0]).Type == DataType.Float32 && T(op.Outputs[0]).Type == DataType.Float32;

    /// <summary>A constant blob of int32 values.</summary>
    public Pointer Int32Blob(IEnumerable<int> values, int sourceTensor = -1) =>
        Constant(MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray(), sourceTensor);

    /// <summary>The values of a constant INT32 operand (axes, paddings, permutations, slice bounds).</summary>
    public int[] ConstantInts(int tensorIndex, string what)
    {
        var tensor = tensorIndex >= 0 ? T(tensorIndex) : throw LoweringChecks.Fail($"{what} is missing");
        LoweringChecks.Expect(tensor.Data is not null && tensor.Type == DataType.Int32, $"{what} must be a constant INT32 tensor");
        return MemoryMarshal.Cast<byte, int>(tensor.Data!.Value.Span).ToArray();
    }
}

/// <summary>Thrown while lowering for a problem of one operator; the lowerer reports it as a diagnostic.</summary>
internal sealed class OperatorException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OperatorException(string message) : base(message) { }
}

/// <summary>The shape and parameter checks lowering makes; each failure is an <see cref="OperatorException"/>.</summary>
internal static class LoweringChecks
{
    /// <summary>The exception for a problem of the operator being lowered.</summary>
    public static OperatorException Fail(string message) => new(message);

    /// <summary>The per-tensor quantization of a tensor that must have one.</summary>
    public static Quantization Q(Tensor tensor) =>
        tensor.Quantization is { HasScales: true } q ? q : throw Fail($"tensor '{tensor.Name}' has no quantization");

    /// <summary>Fails unless <paramref name="condition"/> holds.</summary>
    public static void Expect(bool condition, string message)
    {
        if (!condition) throw Fail(message);
    }

    /// <summary>Fails unless the output has the shape the operator produces.</summary>
    public static void ExpectShape(Tensor tensor, IReadOnlyList<int> expected)
    {
        if (!tensor.Shape.SequenceEqual(expected))
            throw Fail($"output '{tensor.Name}' has shape {tensor.Shape}, but the operator produces {Shapes.Format(expected)}");
    }

    /// <summary>The shape of a rank-4 tensor.</summary>
    public static int[] Nhwc(Tensor tensor, string what)
    {
        if (tensor.Shape.Count != 4) throw Fail($"{what} '{tensor.Name}' must have rank 4, not {tensor.Shape.Count}");
        return tensor.Shape.ToArray();
    }

    /// <summary>The element count as a kernel's int32.</summary>
    public static int ElementCount(Tensor tensor) => checked((int)tensor.ElementCount);

    /// <summary>The bytes of one element of a tensor the data movement kernels can copy.</summary>
    public static int ElementSize(Tensor tensor)
    {
        int size = DataTypes.SizeOf(tensor.Type);
        Expect(size is 1 or 2 or 4, $"{DataTypes.Name(tensor.Type)} tensors cannot be moved");
        return size;
    }

    /// <summary>QuantizeMultiplier of a real that must be finite: float products of extreme scales or options overflow.</summary>
    public static (int Multiplier, int Shift) Multiplier(double real)
    {
        Expect(!double.IsNaN(real) && !double.IsInfinity(real), $"a rescale factor is {real}: the quantization scales or the options are out of range");
        return QuantMath.QuantizeMultiplier(real);
    }

    /// <summary>The kernel name suffix of a type (s8, s16, s32, f32).</summary>
    public static string TypeSuffix(DataType type) => type switch
    {
        DataType.Int8 => "s8",
        DataType.Int16 => "s16",
        DataType.Int32 => "s32",
        DataType.Float32 => "f32",
        _ => throw Fail($"type {DataTypes.Name(type)} is not supported here"),
    };
}

/// <summary>Kernel arguments that several operators pass: dimensions, per-channel quantization, fixed-size arrays.</summary>
internal static class KernelArgs
{
    /// <summary>A tml_dims of an NHWC shape.</summary>
    public static Arg Dims(IReadOnlyList<int> nhwc) =>
        Arg.Struct("tml_dims", Field.I("n", nhwc[0]), Field.I("h", nhwc[1]), Field.I("w", nhwc[2]), Field.I("c", nhwc[3]));

    /// <summary>A tml_per_channel_quant of two int32 blobs.</summary>
    public static Arg PerChannel(Pointer multipliers, Pointer shifts) =>
        Arg.Struct("tml_per_channel_quant", Field.P("multiplier", multipliers), Field.P("shift", shifts));

    /// <summary>The fields name[0] to name[length - 1], zero past the values.</summary>
    public static IEnumerable<Field> FieldArray(string name, IReadOnlyList<int> values, int length = 6) =>
        Enumerable.Range(0, length).Select(i => Field.I($"{name}[{i}]", i < values.Count ? values[i] : 0));
}
