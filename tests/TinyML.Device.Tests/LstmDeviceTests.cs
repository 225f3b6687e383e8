// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM int8 and 16x8 in the emitted C under QEMU beyond mnist_lstm's shape: random models
/// (LstmCases, the host tests' generator) time-major and batch-major, with several batches and a cell clip (16x8 also
/// with int64 biases beyond int32), give the bytes of the C# transcription of TFLM's integer LSTM, each vector from
/// zeroed state as the harness runs it.
/// </summary>
public sealed class LstmDeviceTests
{
    private readonly ITestOutputHelper _output;

    public LstmDeviceTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("cortex-m4")]
    [InlineData("cortex-m0plus")]
    public void RandomInt8Models_MatchTflmIntegerLstmOnTheDevice(string core)
    {
        var rng = new Random(47);
        var all = LstmCases.Cases(6007, 40).ToList();
        var picked = new[]
        {
            all.First(c => c.TimeMajor && c.Batches > 1 && c.Steps > 1),
            all.First(c => !c.TimeMajor && c.Batches > 1 && c.CellClip > 0),
            all.First(c => c.CellClip == 0 && c.Steps > 2),
        }.Distinct().ToList();
        foreach (var c in picked)
            Device.AssertMatchesReference(c.Model, core, $"lstm {c.Label}", Enumerable.Range(0, 2).Select(_ => LstmCases.RandomInput(c, rng)).ToList(),
                i => MemoryMarshal.AsBytes<sbyte>(LstmCases.Reference(c, LstmCases.AsSbytes(i), new LstmCases.State(c))).ToArray(), _output);
    }

    [Theory]
    [InlineData("cortex-m4")]
    [InlineData("cortex-m0plus")]
    public void Random16x8Models_MatchTflm16x8LstmOnTheDevice(string core)
    {
        var rng = new Random(61);
        var all = LstmCases.Cases(6011, 40, wide: true).ToList();
        var picked = new[]
        {
            all.First(c => c.TimeMajor && c.Batches > 1 && c.Steps > 1),
            all.First(c => !c.TimeMajor && c.Batches > 1 && c.CellClip > 0),
            all.First(c => c.Biases.Any(b => b.Any(v => v > int.MaxValue || v < int.MinValue))),
        }.Distinct().ToList();
        foreach (var c in picked)
            Device.AssertMatchesReference(c.Model, core, $"lstm 16x8 {c.Label}", Enumerable.Range(0, 2).Select(_ => LstmCases.RandomInput(c, rng)).ToList(),
                i => MemoryMarshal.AsBytes<short>(LstmCases.Reference16(c, LstmCases.AsShorts(i), new LstmCases.State(c))).ToArray(), _output);
    }
}
