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
    private readonly nint[] _constants;
    private readonly (IntPtr Function, string Shape, nint[] Args, KernelCall Call)[] _calls;
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
        _calls = plan.Calls.Select(Prepare).ToArray();
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
    private (IntPtr, string, nint[], KernelCall) Prepare(KernelCall call)
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
        return (NativeKernels.Export(call.Kernel), shape, args, call);
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
        foreach (var (function, shape, args, call) in _calls)
        {
            int status = KernelSignatures.Invoke(function, shape, args);
            if (status != 0) throw Mismatch(call, $"returned status {status}");
        }
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
