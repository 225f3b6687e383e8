// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Plan;

namespace TinyML.Runtime;

/// <summary>
/// Runs an <see cref="ExecutionPlan"/> on the host: one native arena, one state region (zeroed once), the constants
/// and every parameter struct packed into native memory at construction. <see cref="Run"/> is then a straight
/// sequence of native kernel calls, as on the device.
/// </summary>
public sealed unsafe class PlanExecutor : IDisposable
{
    private const int Alignment = 16;
    private readonly ExecutionPlan _plan;
    private readonly List<IntPtr> _allocations = new();
    private readonly byte* _arena;
    private readonly byte* _state;
    private readonly byte* _parameters;
    private readonly nint[] _constants;
    private readonly PreparedCall[] _calls, _trainStep, _trainApply;
    private double _learningRate;
    private bool _disposed;

    /// <summary>Prepares a plan: loads the kernel library, allocates and packs everything.</summary>
    public PlanExecutor(ExecutionPlan plan)
    {
        _plan = plan;
        NativeKernels.EnsureLoaded();
        _arena = Allocate(plan.ArenaBytes);
        _state = Allocate(plan.StateBytes);
        _constants = plan.Constants.Select(blob =>
        {
            byte* p = Allocate(blob.Length);
            blob.CopyTo(new Span<byte>(p, blob.Length));
            return (nint)p;
        }).ToArray();
        _parameters = Allocate(plan.ParameterBytes);
        if (plan.Training is { } training)
        {
            training.InitialParameters.CopyTo(new Span<byte>(_parameters, training.InitialParameters.Length));
            LearningRate = training.LearningRate;
        }
        _calls = plan.Calls.Select(Prepare).ToArray();
        _trainStep = plan.Training?.Step.Select(Prepare).ToArray() ?? Array.Empty<PreparedCall>();
        _trainApply = plan.Training?.Apply.Select(Prepare).ToArray() ?? Array.Empty<PreparedCall>();
    }

    /// <summary>Loads a plan container embedded as a manifest resource (how generated model classes start).</summary>
    public static PlanExecutor FromResource(System.Reflection.Assembly assembly, string resourceName)
    {
        using var stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new TinyMLException(TinyML.DiagnosticIds.InvalidPlanContainer, $"resource '{resourceName}' is not in {assembly.GetName().Name}");
        using var memory = new System.IO.MemoryStream();
        stream.CopyTo(memory);
        var read = PlanContainer.Read(memory.ToArray(), resourceName);
        if (read.Value is null) throw new TinyMLException(TinyML.DiagnosticIds.InvalidPlanContainer, read.Diagnostics[0].Message);
        return new PlanExecutor(read.Value);
    }

    /// <summary>The plan being run.</summary>
    public ExecutionPlan Plan => _plan;

    private byte* Allocate(long bytes)
    {
        var p = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), Alignment);
        NativeMemory.Clear(p, (nuint)Math.Max(bytes, 1));
        _allocations.Add((IntPtr)p);
        return p;
    }

    private nint Resolve(Pointer pointer, KernelCall call)
    {
        long size = pointer.Region switch
        {
            Region.Arena => _plan.ArenaBytes,
            Region.State => _plan.StateBytes,
            Region.Parameters => _plan.ParameterBytes,
            Region.Constant when pointer.Blob >= 0 && pointer.Blob < _constants.Length => _plan.Constants[pointer.Blob].Length,
            _ => 0,
        };
        if (pointer.Region != Region.Null && (pointer.Offset < 0 || pointer.Offset > size || (pointer.Region == Region.Constant && (pointer.Blob < 0 || pointer.Blob >= _constants.Length))))
            throw Mismatch(call, $"pointer {pointer} lies outside its region");
        return pointer.Region switch
        {
            Region.Null => 0,
            Region.Arena => (nint)(_arena + pointer.Offset),
            Region.State => (nint)(_state + pointer.Offset),
            Region.Parameters => (nint)(_parameters + pointer.Offset),
            _ => _constants[pointer.Blob] + (nint)pointer.Offset,
        };
    }

    private static TinyMLException Mismatch(KernelCall call, string problem) =>
        new(TinyML.DiagnosticIds.KernelFailed, $"operator {call.OperatorIndex} ({call.OperatorType}), {call.Kernel}: {problem}");

    /// <summary>Packs a C struct at the offsets tml_kernels.h gives it; the fields were checked against it.</summary>
    private nint Pack(AbiStruct layout, IReadOnlyList<Field> fields, KernelCall call)
    {
        byte* p = Allocate(layout.Size);
        for (int i = 0; i < fields.Count; i++)
        {
            var f = fields[i];
            int offset = layout.Fields[i].Offset;
            switch (f.Type)
            {
                case FieldType.Int32: *(int*)(p + offset) = f.Int; break;
                case FieldType.Float32: *(float*)(p + offset) = f.Float; break;
                default: *(nint*)(p + offset) = Resolve(f.Pointer, call); break;
            }
        }
        return (nint)p;
    }

    private nint PackPointers(IReadOnlyList<Pointer> pointers, KernelCall call)
    {
        var p = (nint*)Allocate((long)Math.Max(pointers.Count, 1) * IntPtr.Size);
        for (int i = 0; i < pointers.Count; i++) p[i] = Resolve(pointers[i], call);
        return (nint)p;
    }

    /// <summary>Checks a call against its prototype in tml_kernels.h (kinds, struct types, field names, order and types), then packs it.</summary>
    private PreparedCall Prepare(KernelCall call)
    {
        var problems = KernelAbi.Check(call);
        if (problems.Count > 0) throw Mismatch(call, "the plan does not match tml_kernels.h: " + string.Join("; ", problems));
        var prototype = KernelAbi.Prototype(call.Kernel)!;
        string shape = prototype.Shape!;
        if (!KernelSignatures.CanInvoke(shape)) throw Mismatch(call, $"the runtime has no call of shape {shape}");
        var args = call.Args.Select((a, i) => a.Kind switch
        {
            ArgKind.Int32 => (nint)a.Int,
            ArgKind.Pointer => Resolve(a.Pointer, call),
            ArgKind.Struct => Pack(KernelAbi.Struct(prototype.Parameters[i].StructType!)!, a.Fields, call),
            _ => PackPointers(a.Pointers, call),
        }).ToArray();
        return new PreparedCall(NativeKernels.Export(call.Kernel), KernelSignatures.InvokerOf(shape), args, call);
    }

    /// <summary>The bytes of graph input <paramref name="index"/> in the arena.</summary>
    public Span<byte> Input(int index) => View(_plan.Inputs[index]);

    /// <summary>The bytes of graph output <paramref name="index"/> in the arena.</summary>
    public Span<byte> Output(int index) => View(_plan.Outputs[index]);

    private Span<byte> View(PlanTensor tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Span<byte>(_arena + tensor.Offset, checked((int)tensor.Bytes));
    }

    /// <summary>Runs every kernel call once; throws TML0102 when a kernel reports an error.</summary>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Invoke(_calls);
    }

    /// <summary>A kernel call ready to run: its address, its caller of the right shape, its packed arguments.</summary>
    private sealed record PreparedCall(IntPtr Function, KernelSignatures.Invoker Invoke, nint[] Args, KernelCall Call);

    private static void Invoke(PreparedCall[] calls)
    {
        foreach (var call in calls)
        {
            int status = call.Invoke(call.Function, call.Args);
            if (status != 0) throw Mismatch(call.Call, $"returned status {status}");
        }
    }

    // ---- training (docs/training.md) ------------------------------------------------------------------------

    /// <summary>Whether the plan was built with training (<c>Train</c> on the model).</summary>
    public bool CanTrain => _plan.Training is not null;

    private TrainingPlan Training => _plan.Training ?? throw new InvalidOperationException(
        "this model was built without training: set Train=\"head\" on its TinyModel item (docs/training.md)");

    private int* Control => (int*)(_parameters + Training.ControlOffset);

    /// <summary>The learning rate of the next updates; the plan's default at start. Stored as TFLite's fixed-point
    /// multiplier and shift, which the kernels read; throws <see cref="ArgumentOutOfRangeException"/> unless finite and above 0.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var (multiplier, shift) = TrainingPlan.EncodeLearningRate(value);
            Control[TrainingPlan.ControlRateMultiplier] = multiplier;
            Control[TrainingPlan.ControlRateShift] = shift;
            _learningRate = value;
        }
    }

    /// <summary>
    /// Runs the model on the input in place and adds this sample's update to the master weights, divided by
    /// <paramref name="batchSize"/>; the forward pass's weights change only at <see cref="ApplyUpdates"/>. Throws
    /// <see cref="ArgumentOutOfRangeException"/> for a label outside [0, classes) or a batch size below 1.
    /// </summary>
    public void Accumulate(int label, int batchSize = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var training = Training;
        if (label < 0 || label >= training.Classes)
            throw new ArgumentOutOfRangeException(nameof(label), label, $"the label must be a class in [0, {training.Classes})");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the batch size must be at least 1");
        Control[TrainingPlan.ControlLabel] = label;
        Control[TrainingPlan.ControlBatch] = batchSize;
        Invoke(_calls);
        Invoke(_trainStep);
    }

    /// <summary>Rounds the master weights into the weights the forward pass reads.</summary>
    public void ApplyUpdates()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _ = Training;
        Invoke(_trainApply);
    }

    /// <summary>One SGD step on one sample whose input is already in place: <see cref="Accumulate"/> and <see cref="ApplyUpdates"/>.</summary>
    public void Train(int label)
    {
        Accumulate(label);
        ApplyUpdates();
    }

    private Span<byte> Exported => new(_parameters + Training.ExportOffset, checked((int)Training.ExportBytes));

    /// <summary>What training changed (weights, biases and their masters), with a header that identifies the model's
    /// layout; <see cref="ImportWeights"/> takes it back.</summary>
    public byte[] ExportWeights()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TrainedWeights.Write(Training.Fingerprint, Exported);
    }

    /// <summary>Restores weights from <see cref="ExportWeights"/> of the same model; throws <see cref="ArgumentException"/>
    /// for bytes that are not, leaving the weights unchanged.</summary>
    public void ImportWeights(ReadOnlySpan<byte> weights)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TrainedWeights.Read(weights, Training.Fingerprint, Exported);
    }

    /// <summary>Restores the weights the model was built with.</summary>
    public void ResetWeights()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Training.InitialParameters.AsSpan(checked((int)Training.ExportOffset), Exported.Length).CopyTo(Exported);
    }

    /// <summary>Zeroes the persistent state (SVDF memory), as at initialization.</summary>
    public void ResetState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        NativeMemory.Clear(_state, (nuint)Math.Max(_plan.StateBytes, 1));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _allocations) NativeMemory.AlignedFree((void*)p);
        _allocations.Clear();
    }
}
