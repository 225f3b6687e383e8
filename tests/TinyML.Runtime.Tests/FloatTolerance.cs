// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Plan;

namespace TinyML.Tests;

/// <summary>
/// Where float results may differ from TFLM's goldens in the last bits: the kernels that call the C library's expf
/// or tanhf, on a C library whose results differ from the x86 glibc that computed the goldens (newlib on cores
/// without a double FPU, the Windows C runtime). Softmax's normalisation turns a 1 ULP expf difference into at most 2
/// ULP, and a float LSTM feeds each step's results into the next: 2 ULP per LSTM time step plus the softmax's 2.
/// </summary>
public static class FloatTolerance
{
    /// <summary>The float kernels whose results depend on the C library's expf or tanhf.</summary>
    public static readonly string[] LibmKernels = { "tml_logistic_f32", "tml_tanh_f32", "tml_softmax_f32", "tml_lstm_f32" };

    /// <summary>The ULP difference per expf result that the softmax's normalisation can grow to.</summary>
    public const int ExpfUlps = 2;

    /// <summary>The tolerance in ULP for a plan's float outputs where the C library differs.</summary>
    public static int Ulps(ExecutionPlan plan) =>
        ExpfUlps * (1 + plan.Calls.Where(c => c.Kernel == "tml_lstm_f32").Sum(c => c.Args[0].Fields.Single(f => f.Name == "time_steps").Int));

    /// <summary>The largest difference in ULP between two float32 arrays' bytes; int.MaxValue where signs differ.</summary>
    public static int MaxUlps(byte[] a, byte[] b)
    {
        int worst = 0;
        for (int i = 0; i + 4 <= a.Length; i += 4)
        {
            int x = BitConverter.ToInt32(a, i), y = BitConverter.ToInt32(b, i);
            if (x == y) continue;
            if ((x < 0) != (y < 0)) return int.MaxValue; // different signs: not a rounding difference
            worst = (int)Math.Min(int.MaxValue, Math.Max(worst, Math.Abs((long)x - y)));
        }
        return worst;
    }
}
