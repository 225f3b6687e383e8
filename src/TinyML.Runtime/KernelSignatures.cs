// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Plan;

namespace TinyML.Runtime;

/// <summary>
/// The argument shapes of the kernels, from the ABI description generated from tml_kernels.h
/// (<see cref="KernelAbi"/>): one letter an argument, P for a pointer (tensor, struct, pointer array) and I for an
/// int32_t. Every kernel returns tml_status (int32_t). The executor calls a kernel only when the plan's arguments
/// match its prototype, through a function pointer of that shape.
/// </summary>
public static unsafe class KernelSignatures
{
    /// <summary>The argument shape of a kernel, or null for a function a plan cannot call.</summary>
    public static string? Of(string kernel) => KernelAbi.Prototype(kernel) is { IsKernel: true } p ? p.Shape : null;

    /// <summary>Every kernel a plan can call: the header's functions that return tml_status and take pointers and int32s.</summary>
    public static IEnumerable<string> Kernels => KernelAbi.Prototypes.Where(p => p.IsKernel).Select(p => p.Name);

    /// <summary>Whether <see cref="InvokerOf"/> has a function pointer type for this shape.</summary>
    public static bool CanInvoke(string shape) => Invokers.ContainsKey(shape);

    /// <summary>What calls a kernel of the given shape through a function pointer (looked up once per call site, not per run).</summary>
    internal static Invoker InvokerOf(string shape) =>
        Invokers.TryGetValue(shape, out var invoke) ? invoke : throw new InvalidOperationException($"no call shape {shape}");

    internal delegate int Invoker(IntPtr f, nint[] a);

    // One function pointer type a shape: adding a kernel of a new shape means adding its line here.
    private static readonly Dictionary<string, Invoker> Invokers = new()
    {
        ["PPPPPPPPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]),
        ["PPIIIPPPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, int, int, int, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], (int)a[2], (int)a[3], (int)a[4], a[5], a[6], a[7], a[8], a[9]),
        ["PPPPPPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]),
        ["PIIIPPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, int, int, int, nint, nint, nint, nint, int>)f)(a[0], (int)a[1], (int)a[2], (int)a[3], a[4], a[5], a[6], a[7]),
        ["PPPPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4], a[5]),
        ["PPPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4]),
        ["PIPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, int, nint, nint, nint, int>)f)(a[0], (int)a[1], a[2], a[3], a[4]),
        ["PPIIP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, int, int, nint, int>)f)(a[0], a[1], (int)a[2], (int)a[3], a[4]),
        ["PIIP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, int, int, nint, int>)f)(a[0], (int)a[1], (int)a[2], a[3]),
        ["PIPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, int, nint, nint, int>)f)(a[0], (int)a[1], a[2], a[3]),
        ["PPIP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, int, nint, int>)f)(a[0], a[1], (int)a[2], a[3]),
        ["PIP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, int, nint, int>)f)(a[0], (int)a[1], a[2]),
        ["PPPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3]),
        ["PPP"] = (f, a) => ((delegate* unmanaged[Cdecl]<nint, nint, nint, int>)f)(a[0], a[1], a[2]),
    };
}
