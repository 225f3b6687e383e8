// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
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
        {
            var lowered = Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            var image = DeviceBuild.Build(lowered.Value!, Device.Options(CortexM.Get(core), "lstm"));
            var inputs = Enumerable.Range(0, 2).Select(_ => LstmCases.RandomInput(c, rng)).ToList();
            var results = Device.Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
            Assert.Equal(inputs.Count, results.Count);
            for (int v = 0; v < inputs.Count; v++)
            {
                var expected = LstmCases.Reference(c, LstmCases.AsSbytes(inputs[v]), new LstmCases.State(c));
                var ours = LstmCases.AsSbytes(Assert.Single(results[v].Outputs));
                Assert.True(expected.SequenceEqual(ours), $"{c.Label} on {core}, vector {v}: differs from TFLM's integer LSTM");
            }
            _output.WriteLine($"{c.Label} on {core}: 2 vectors byte-identical");
        }
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
        {
            var lowered = Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            var image = DeviceBuild.Build(lowered.Value!, Device.Options(CortexM.Get(core), "lstm16"));
            var inputs = Enumerable.Range(0, 2).Select(_ => LstmCases.RandomInput(c, rng)).ToList();
            var results = Device.Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
            Assert.Equal(inputs.Count, results.Count);
            for (int v = 0; v < inputs.Count; v++)
            {
                var expected = LstmCases.Reference16(c, LstmCases.AsShorts(inputs[v]), new LstmCases.State(c));
                var ours = LstmCases.AsShorts(Assert.Single(results[v].Outputs));
                Assert.True(expected.SequenceEqual(ours), $"{c.Label} on {core}, vector {v}: differs from TFLM's 16x8 LSTM");
            }
            _output.WriteLine($"{c.Label} on {core}: 2 vectors byte-identical");
        }
    }
}
