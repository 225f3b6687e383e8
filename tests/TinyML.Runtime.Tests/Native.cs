// SPDX-License-Identifier: Apache-2.0
using System.Runtime.InteropServices;

namespace TinyML.Runtime.Tests;

/// <summary>Direct calls of kernel companions, to check the compiler's sizes against the C code.</summary>
internal static unsafe class Native
{
    public static int SvdfBufferSize(int[] svdfParams)
    {
        NativeKernels.EnsureLoaded();
        var f = (delegate* unmanaged[Cdecl]<int*, int>)NativeKernels.Export("tml_svdf_s8_get_buffer_size");
        fixed (int* p = svdfParams) return f(p);
    }
}
