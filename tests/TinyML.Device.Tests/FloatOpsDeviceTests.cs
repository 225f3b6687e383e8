// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Ir;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// The float32 element-wise operators and activations in the emitted C under QEMU: the first random model of each
/// (FloatOpsCases, the generator of the host tests) gives the bytes of the C# transcription of TFLM's reference
/// arithmetic, which the host kernels and TFLite 2.9 equal bit for bit (FloatOpsTests). On the Cortex-M4 the FPU
/// computes in hardware, on the M0+ libgcc's soft float does: both are IEEE single precision with subnormals. The one
/// difference from the host is the NaN an invalid operation (0 / 0) makes, which is the machine's: x86 gives
/// 0xFFC00000, Arm's default NaN is 0x7FC00000; TFLM's reference gives whichever its machine gives, so the device's
/// reference carries Arm's.
/// </summary>
public sealed class FloatOpsDeviceTests
{
    private readonly ITestOutputHelper _output;

    public FloatOpsDeviceTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, string> KindsAndCores()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in FloatOpsCases.Kinds)
            foreach (var core in new[] { CortexM.M4, CortexM.M0Plus })
                data.Add(kind.ToString(), core.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndCores))]
    public void RandomModel_MatchesTflmReferenceOnTheDevice(string kindName, string core)
    {
        var kind = Enum.Parse<OpKind>(kindName);
        var rng = new Random(97 + (int)kind);
        var c = FloatOpsCases.Cases(kind, 6001 + (int)kind, 1).Single();
        Device.AssertMatchesReference(c.Model, core, $"float32 {c.Label}",
            Enumerable.Range(0, 3).Select(_ => FloatOpsCases.RandomInput(c, rng)).ToList(), i => ArmNaN(FloatOpsCases.Reference(c, i)), _output);
    }

    /// <summary>The bytes with every NaN as Arm's default NaN.</summary>
    private static byte[] ArmNaN(byte[] reference)
    {
        var values = MemoryMarshal.Cast<byte, float>(reference.AsSpan().ToArray().AsSpan());
        for (int i = 0; i < values.Length; i++)
            if (float.IsNaN(values[i])) values[i] = BitConverter.Int32BitsToSingle(0x7FC00000);
        return MemoryMarshal.AsBytes(values).ToArray();
    }
}
