// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;

namespace TinyML.Runtime;

/// <summary>
/// The argument shapes of the kernels in tml_kernels.h: one letter an argument, P for a pointer (tensor, struct,
/// pointer array) and I for an int32_t. Every kernel returns tml_status (int32_t). The executor calls a kernel only
/// when the plan's arguments have exactly this shape, and calls it through a function pointer of that shape.
/// </summary>
public static class KernelSignatures
{
    private static readonly Dictionary<string, string> Shapes = new()
    {
        ["tml_conv_s8"] = "PPPPPPPPPP",
        ["tml_depthwise_conv_s8"] = "PPPPPPPPPP",
        ["tml_depthwise_conv_s8_inplace"] = "PPPPPPPPPP",
        ["tml_fully_connected_s8"] = "PPIIIPPPPP",
        ["tml_avg_pool_s8"] = "PPPPPP",
        ["tml_max_pool_s8"] = "PPPPP",
        ["tml_add_s8"] = "PPPPP",
        ["tml_sub_s8"] = "PPPPP",
        ["tml_mul_s8"] = "PPPPP",
        ["tml_pad"] = "PIPPP",
        ["tml_transpose"] = "PIPP",
        ["tml_strided_slice"] = "PIPP",
        ["tml_concat"] = "PIPP",
        ["tml_copy_window"] = "PIPP",
        ["tml_mean_s8"] = "PPPP",
        ["tml_conv_f32"] = "PPPPPPPP",
        ["tml_depthwise_conv_f32"] = "PPPPPPPP",
        ["tml_fully_connected_f32"] = "PIIIPPPP",
        ["tml_avg_pool_f32"] = "PPPPP",
        ["tml_max_pool_f32"] = "PPPPP",
        ["tml_add_f32"] = "PPPPP",
        ["tml_softmax_s8"] = "PPIIP",
        ["tml_softmax_s8_s16"] = "PPIIP",
        ["tml_softmax_f32"] = "PPIIP",
        ["tml_logistic_s8"] = "PPIP",
        ["tml_tanh_s8"] = "PPIP",
        ["tml_logistic_f32"] = "PIP",
        ["tml_tanh_f32"] = "PIP",
        ["tml_hard_swish_s8"] = "PPIP",
        ["tml_leaky_relu_s8"] = "PPIP",
        ["tml_relu_s8"] = "PPIP",
        ["tml_relu6_s8"] = "PPIP",
        ["tml_quantize_f32_s8"] = "PPIP",
        ["tml_quantize_f32_s16"] = "PPIP",
        ["tml_requantize_s8_s8"] = "PPIP",
        ["tml_requantize_s8_s16"] = "PPIP",
        ["tml_requantize_s8_s32"] = "PPIP",
        ["tml_requantize_s16_s8"] = "PPIP",
        ["tml_requantize_s16_s16"] = "PPIP",
        ["tml_requantize_s16_s32"] = "PPIP",
        ["tml_dequantize_s8_f32"] = "PPIP",
        ["tml_dequantize_s16_f32"] = "PPIP",
        ["tml_svdf_s8"] = "PPPPPPPP",
    };

    /// <summary>The argument shape of a kernel, or null for an unknown kernel.</summary>
    public static string? Of(string kernel) => Shapes.TryGetValue(kernel, out var shape) ? shape : null;

    /// <summary>Every kernel the runtime can call.</summary>
    public static IEnumerable<string> Kernels => Shapes.Keys;

    /// <summary>Calls a kernel through a function pointer of the given shape.</summary>
    internal static unsafe int Invoke(IntPtr f, string shape, nint[] a) => shape switch
    {
        "PPPPPPPPPP" => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]),
        "PPIIIPPPPP" => ((delegate* unmanaged[Cdecl]<nint, nint, int, int, int, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], (int)a[2], (int)a[3], (int)a[4], a[5], a[6], a[7], a[8], a[9]),
        "PPPPPPPP" => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]),
        "PIIIPPPP" => ((delegate* unmanaged[Cdecl]<nint, int, int, int, nint, nint, nint, nint, int>)f)(a[0], (int)a[1], (int)a[2], (int)a[3], a[4], a[5], a[6], a[7]),
        "PPPPPP" => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4], a[5]),
        "PPPPP" => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3], a[4]),
        "PIPPP" => ((delegate* unmanaged[Cdecl]<nint, int, nint, nint, nint, int>)f)(a[0], (int)a[1], a[2], a[3], a[4]),
        "PPIIP" => ((delegate* unmanaged[Cdecl]<nint, nint, int, int, nint, int>)f)(a[0], a[1], (int)a[2], (int)a[3], a[4]),
        "PIPP" => ((delegate* unmanaged[Cdecl]<nint, int, nint, nint, int>)f)(a[0], (int)a[1], a[2], a[3]),
        "PPIP" => ((delegate* unmanaged[Cdecl]<nint, nint, int, nint, int>)f)(a[0], a[1], (int)a[2], a[3]),
        "PIP" => ((delegate* unmanaged[Cdecl]<nint, int, nint, int>)f)(a[0], (int)a[1], a[2]),
        "PPPP" => ((delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int>)f)(a[0], a[1], a[2], a[3]),
        _ => throw new InvalidOperationException($"no call shape {shape}"),
    };
}
