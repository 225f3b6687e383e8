// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// int16 MUL, AVERAGE_POOL_2D, MAX_POOL_2D, CONCATENATION, TRANSPOSE, RESHAPE and SQUEEZE in the emitted C under QEMU: the first two random
/// models of each (Int16OpsCases, the generator of the host tests) give the bytes of the C# transcription of TFLM's
/// reference arithmetic, which the host kernels equal bit for bit (Int16OpsTests).
/// </summary>
public sealed class Int16OpsDeviceTests
{
    private readonly ITestOutputHelper _output;

    public Int16OpsDeviceTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, string> KindsAndCores()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in Int16OpsCases.Kinds)
            foreach (var core in new[] { CortexM.M4, CortexM.M0Plus })
                data.Add(kind.ToString(), core.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndCores))]
    public void RandomModels_MatchTflmReferenceOnTheDevice(string kindName, string core)
    {
        var kind = Enum.Parse<OpKind>(kindName);
        var rng = new Random(83 + (int)kind);
        foreach (var c in Int16OpsCases.Cases(kind, 4001 + (int)kind, 2))
            Device.AssertMatchesReference(c.Model, core, $"int16 {c.Label}",
                Enumerable.Range(0, 2).Select(_ => Int16OpsCases.RandomInput(c, rng)).ToList(), i => Int16OpsCases.Reference(c, i), _output);
    }
}
