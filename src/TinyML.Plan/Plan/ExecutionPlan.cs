// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Plan;

/// <summary>Where a pointer argument points.</summary>
public enum Region
{
    /// <summary>NULL.</summary>
    Null,
    /// <summary>The activation arena (tensors and kernel scratch).</summary>
    Arena,
    /// <summary>Persistent state that survives between invocations (SVDF memory).</summary>
    State,
    /// <summary>A constant blob (weights, biases, precomputed multipliers); lives in flash on a device.</summary>
    Constant,
    /// <summary>What training changes (<see cref="TrainingPlan"/>): initialized from the plan, RAM on a device.</summary>
    Parameters,
}

/// <summary>A pointer: a region, and a byte offset in it (for constants, the blob index and an offset in it).</summary>
public readonly record struct Pointer(Region Region, long Offset, int Blob = -1)
{
    /// <summary>The NULL pointer.</summary>
    public static Pointer Null => new(Region.Null, 0);
    /// <summary>A pointer into the arena.</summary>
    public static Pointer Arena(long offset) => new(Region.Arena, offset);
    /// <summary>A pointer into the persistent state.</summary>
    public static Pointer State(long offset) => new(Region.State, offset);
    /// <summary>A pointer to a constant blob.</summary>
    public static Pointer Constant(int blob) => new(Region.Constant, 0, blob);
    /// <summary>A pointer into the trainable parameters.</summary>
    public static Pointer Parameters(long offset) => new(Region.Parameters, offset);

    /// <inheritdoc />
    public override string ToString() => Region switch
    {
        Region.Null => "NULL",
        Region.Constant => $"const#{Blob}" + (Offset == 0 ? "" : $"+{Offset}"),
        _ => $"{Region.ToString().ToLowerInvariant()}+{Offset}",
    };
}

/// <summary>The C type of a struct field.</summary>
public enum FieldType
{
    /// <summary>int32_t.</summary>
    Int32,
    /// <summary>float.</summary>
    Float32,
    /// <summary>A pointer (const void * or a typed pointer).</summary>
    Pointer,
}

/// <summary>One field of a C parameter struct, in declaration order.</summary>
public sealed record Field(string Name, FieldType Type, int Int = 0, float Float = 0, Pointer Pointer = default)
{
    /// <summary>An int32_t field.</summary>
    public static Field I(string name, int value) => new(name, FieldType.Int32, Int: value);
    /// <summary>A float field.</summary>
    public static Field F(string name, float value) => new(name, FieldType.Float32, Float: value);
    /// <summary>A pointer field.</summary>
    public static Field P(string name, Pointer value) => new(name, FieldType.Pointer, Pointer: value);
}

/// <summary>The kinds of kernel arguments.</summary>
public enum ArgKind
{
    /// <summary>A pointer into a region, passed by value.</summary>
    Pointer,
    /// <summary>An int32_t passed by value.</summary>
    Int32,
    /// <summary>A C struct passed by const pointer.</summary>
    Struct,
    /// <summary>An array of pointers passed by pointer (concatenation inputs).</summary>
    PointerArray,
}

/// <summary>One argument of a kernel call.</summary>
public sealed record Arg(ArgKind Kind, Pointer Pointer = default, int Int = 0, string? StructType = null,
    ValueArray<Field> Fields = default, ValueArray<Pointer> Pointers = default)
{
    /// <summary>A pointer argument.</summary>
    public static Arg Ptr(Pointer pointer) => new(ArgKind.Pointer, Pointer: pointer);
    /// <summary>An int32_t argument.</summary>
    public static Arg Int32(int value) => new(ArgKind.Int32, Int: value);
    /// <summary>A struct passed by pointer; <paramref name="type"/> is its C name.</summary>
    public static Arg Struct(string type, params Field[] fields) => new(ArgKind.Struct, StructType: type, Fields: fields);
    /// <summary>A pointer array passed by pointer.</summary>
    public static Arg PointerArray(params Pointer[] pointers) => new(ArgKind.PointerArray, Pointers: pointers);
}

/// <summary>
/// One call of a C kernel: the straight-line unit both back ends execute. <paramref name="Macs"/> is what the call
/// computes: the operator's multiply-accumulates, a patch step's share of them (its window, halos included), or 0
/// (copies, operators without MACs). The plan's total is their sum, so no consumer counts again.
/// </summary>
public sealed record KernelCall(int OperatorIndex, string OperatorType, string Kernel, ValueArray<Arg> Args, string Comment, long Macs = 0);

/// <summary>A tensor the caller reads or writes: a graph input or output.</summary>
public sealed record PlanTensor(string Name, DataType Type, ValueArray<int> Shape, long Offset, long Bytes, float Scale, int ZeroPoint);

/// <summary>
/// The compiled model: kernel calls in order with every parameter precomputed, the arena layout and the constant
/// blobs. The host executor and the C emitter both follow it. This is what the container stores and an app runs; the
/// compiler's <c>CompiledPlan</c> adds what the compiler knows about how it was made.
/// </summary>
public class ExecutionPlan
{
    /// <summary>Bumped when the plan's meaning changes; the container records it (docs/plan-format.md). 3: training.</summary>
    public const int FormatVersion = 3;

    /// <summary>The oldest container version the reader accepts (version 1: no target, no MACs).</summary>
    public const int OldestFormatVersion = 1;

    /// <summary>The target of a plan made for the host.</summary>
    public const string HostTarget = "host";

    /// <summary>
    /// What the plan was made for: <see cref="HostTarget"/> or a Cortex-M core ("cortex-m4"). Kernel buffer sizes may
    /// differ per core, so a device build takes a plan made for its own core (or a host plan).
    /// </summary>
    public string Target { get; set; } = HostTarget;

    /// <summary>The kernel calls in execution order.</summary>
    public List<KernelCall> Calls { get; } = new();
    /// <summary>Constant blobs: weights, biases, multipliers, shifts, tables. Each is 16-byte aligned when placed.</summary>
    public List<byte[]> Constants { get; } = new();
    /// <summary>The bytes of the activation arena (tensors and scratch).</summary>
    public long ArenaBytes { get; set; }
    /// <summary>The bytes of persistent state (zeroed at initialization).</summary>
    public long StateBytes { get; set; }
    /// <summary>Graph inputs, in order, with their arena placement.</summary>
    public List<PlanTensor> Inputs { get; } = new();
    /// <summary>Graph outputs, in order, with their arena placement.</summary>
    public List<PlanTensor> Outputs { get; } = new();

    /// <summary>What training the plan carries; null for inference only.</summary>
    public TrainingPlan? Training { get; set; }

    /// <summary>The bytes of the trainable parameter region (0 without training).</summary>
    public long ParameterBytes => Training?.InitialParameters.Length ?? 0;

    /// <summary>The multiply-accumulates of one invocation: the sum of the calls' (patch halos included).</summary>
    public long Macs => Calls.Sum(c => c.Macs);

    /// <summary>Total constant bytes.</summary>
    public long ConstantBytes => Constants.Sum(c => (long)c.Length);

    /// <summary>The kernels the plan calls, each once, sorted.</summary>
    public IEnumerable<string> Kernels => Calls.Select(c => c.Kernel).Distinct().OrderBy(k => k);

    /// <summary>Adds a constant blob and returns a pointer to it.</summary>
    public Pointer AddConstant(byte[] data)
    {
        Constants.Add(data);
        return Pointer.Constant(Constants.Count - 1);
    }
}

/// <summary>
/// What a trainable plan adds (docs/training.md): a mutable parameter region, its initial bytes, and two call
/// lists that both back ends follow. After a forward pass, <see cref="Step"/> turns the softmax output and the label
/// into one sample's update of the int32 master weights; <see cref="Apply"/> rounds the masters into the weights the
/// forward pass reads.
/// </summary>
public sealed class TrainingPlan
{
    /// <summary>The parameter region's bytes at start-up: the control block, gradients, then what is exported.</summary>
    public byte[] InitialParameters { get; set; } = Array.Empty<byte>();

    /// <summary>The <c>Train</c> mode the plan was built for ("head").</summary>
    public string Mode { get; set; } = "head";

    /// <summary>The number of classes: a label is in [0, Classes).</summary>
    public int Classes { get; set; }

    /// <summary>The learning rate at start-up.</summary>
    public float LearningRate { get; set; }

    /// <summary>Where the control block (int32 label, learning-rate multiplier and shift, batch) lies in the region.</summary>
    public long ControlOffset { get; set; }

    /// <summary>The part of the region that <c>ExportWeights</c> saves: trained weights, biases and their masters.</summary>
    public long ExportOffset { get; set; }

    /// <summary>The bytes of the exported part.</summary>
    public long ExportBytes { get; set; }

    /// <summary>The trained values (weights and biases), not counting their masters.</summary>
    public long TrainedValues { get; set; }

    /// <summary>Identifies the layout of the exported part, so weights of another model are refused on import.</summary>
    public uint Fingerprint { get; set; }

    /// <summary>One sample's update, after a forward pass.</summary>
    public List<KernelCall> Step { get; } = new();

    /// <summary>Masters into the forward pass's weights.</summary>
    public List<KernelCall> Apply { get; } = new();

    /// <summary>The words of the control block (tml_kernels.h's TML_TRAIN_*).</summary>
    public const int ControlLabel = 0, ControlRateMultiplier = 1, ControlRateShift = 2, ControlBatch = 3, ControlWords = 4;

    /// <summary>The control block's learning-rate words for a rate: TFLite's fixed-point multiplier and shift.</summary>
    public static (int Multiplier, int Shift) EncodeLearningRate(double rate)
    {
        if (!(rate > 0) || double.IsInfinity(rate) || rate > 1e6)
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "the learning rate must be a finite number above 0 (and at most 1e6)");
        var (multiplier, shift) = FixedPoint.QuantizeMultiplier(rate);
        if (multiplier == 0) throw new ArgumentOutOfRangeException(nameof(rate), rate, "the learning rate is too small to represent (below 2^-32)");
        return (multiplier, shift);
    }
}
