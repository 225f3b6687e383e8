// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Runtime;
using TinyML.Runtime.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM beyond mnist_lstm's one shape (batch 1, batch-major, no clip, which the goldens pin):
/// random int8 models (1-3 batches, 1-5 steps, time-major and batch-major, with and without cell clip, cell scales
/// 2^-9 to 2^-13, hidden zero points off 0) are run through the file writer and reader and the plan, three invokes in a
/// row and one after ResetState, each byte-equal with <see cref="LstmCases.Reference"/>, the C# transcription of TFLM's
/// integer LSTM; random 16x8 models (int16 activations, int64 biases, some beyond int32) the same way against
/// <see cref="LstmCases.Reference16"/>.
/// </summary>
public sealed class LstmTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-lstm-{Guid.NewGuid():N}");

    public LstmTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Random16x8Models_InEmittedC_MatchTflm16x8Lstm()
    {
        // The emitted C compiled with the host's cc; its harness zeroes the state and invokes once per vector.
        var rng = new Random(59);
        var all = LstmCases.Cases(4127, 40, wide: true).ToList();
        var picked = new[]
        {
            all.First(c => c.TimeMajor && c.Batches > 1 && c.Steps > 1),
            all.First(c => !c.TimeMajor && c.Batches > 1 && c.CellClip > 0),
            all.First(c => c.Biases.Any(b => b.Any(v => v > int.MaxValue || v < int.MinValue))),
            all.First(c => c.CellClip == 0 && c.Steps > 2),
        }.Distinct().ToList();
        foreach (var c in picked)
        {
            var plan = Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!).Value!;
            string exe = CEmitterHostTests.BuildHostProgram(plan, _dir).Executable;
            for (int v = 0; v < 3; v++)
            {
                var input = LstmCases.RandomInput(c, rng);
                string inFile = Path.Combine(_dir, "in.bin"), outFile = Path.Combine(_dir, "out.bin");
                File.WriteAllBytes(inFile, input);
                var run = CEmitterHostTests.Run(exe, inFile, outFile);
                Assert.True(run.Code == 0, $"{c.Label}: exit {run.Code} {run.Output}");
                var expected = LstmCases.Reference16(c, LstmCases.AsShorts(input), new LstmCases.State(c));
                Assert.True(expected.SequenceEqual(LstmCases.AsShorts(File.ReadAllBytes(outFile))), $"{c.Label}, vector {v}: the emitted C differs from TFLM's 16x8 arithmetic");
            }
            _output.WriteLine($"{c.Label}: 3 vectors byte-identical in emitted C");
        }
        Assert.True(picked.Count >= 3, "the picks collapsed");
    }

    [Fact]
    public void RandomInt8Models_MatchTflmIntegerLstm_AcrossInvokesAndAfterReset()
    {
        var rng = new Random(41);
        int cases = 0, clipped = 0, timeMajor = 0, varied = 0, clipHits = 0;
        foreach (var c in LstmCases.Cases(4099, 40))
        {
            var read = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            var lowered = Lowerer.Lower(read);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            using var ours = new PlanExecutor(lowered.Value!);
            var state = new LstmCases.State(c);
            sbyte[] Invoke(byte[] input)
            {
                input.CopyTo(ours.Input(0));
                ours.Run();
                return LstmCases.AsSbytes(ours.Output(0).ToArray());
            }
            var first = LstmCases.RandomInput(c, rng);
            for (int invoke = 0; invoke < 3; invoke++)
            {
                var input = invoke == 0 ? first : LstmCases.RandomInput(c, rng);
                var expected = LstmCases.Reference(c, LstmCases.AsSbytes(input), state);
                Assert.True(expected.SequenceEqual(Invoke(input)), $"{c.Label}: invoke {invoke + 1} differs from TFLM's arithmetic");
                if (expected.Distinct().Count() > 2) varied++;
            }
            clipHits += state.ClipHits;
            ours.ResetState();
            Assert.True(LstmCases.Reference(c, LstmCases.AsSbytes(first), new LstmCases.State(c)).SequenceEqual(Invoke(first)),
                $"{c.Label}: after ResetState the first invoke differs");
            cases++;
            if (c.CellClip > 0) clipped++;
            if (c.TimeMajor) timeMajor++;
        }
        _output.WriteLine($"{cases} models, {clipped} with cell clip ({clipHits} cell values clipped), {timeMajor} time-major, {varied} invokes with varied outputs");
        Assert.True(clipped >= 10 && clipHits > 0 && timeMajor >= 10 && cases - timeMajor >= 10, "the sweep lost a variant");
        Assert.True(varied >= cases, "the outputs are mostly saturated: the comparison would say little");
    }

    [Fact]
    public void Random16x8Models_MatchTflm16x8Lstm_AcrossInvokesAndAfterReset()
    {
        var rng = new Random(53);
        int cases = 0, clipped = 0, timeMajor = 0, varied = 0, clipHits = 0, hugeBias = 0;
        foreach (var c in LstmCases.Cases(4111, 40, wide: true))
        {
            var read = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            var lowered = Lowerer.Lower(read);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            Assert.Contains(lowered.Value!.Calls, call => call.Kernel == "tml_lstm_s16");
            using var ours = new PlanExecutor(lowered.Value!);
            var state = new LstmCases.State(c);
            short[] Invoke(byte[] input)
            {
                input.CopyTo(ours.Input(0));
                ours.Run();
                return LstmCases.AsShorts(ours.Output(0).ToArray());
            }
            var first = LstmCases.RandomInput(c, rng);
            for (int invoke = 0; invoke < 3; invoke++)
            {
                var input = invoke == 0 ? first : LstmCases.RandomInput(c, rng);
                var expected = LstmCases.Reference16(c, LstmCases.AsShorts(input), state);
                var actual = Invoke(input);
                Assert.True(expected.SequenceEqual(actual), $"{c.Label}: invoke {invoke + 1} differs from TFLM's 16x8 arithmetic");
                if (expected.Distinct().Count() > 2) varied++;
            }
            clipHits += state.ClipHits;
            ours.ResetState();
            Assert.True(LstmCases.Reference16(c, LstmCases.AsShorts(first), new LstmCases.State(c)).SequenceEqual(Invoke(first)),
                $"{c.Label}: after ResetState the first invoke differs");
            cases++;
            if (c.CellClip > 0) clipped++;
            if (c.TimeMajor) timeMajor++;
            if (c.Biases.Any(b => b.Any(v => v is > int.MaxValue or < int.MinValue))) hugeBias++;
        }
        _output.WriteLine($"{cases} 16x8 models, {clipped} with cell clip ({clipHits} cell values clipped), {timeMajor} time-major, {hugeBias} with int64 biases beyond int32, {varied} invokes with varied outputs");
        Assert.True(clipped >= 10 && clipHits > 0 && timeMajor >= 10 && cases - timeMajor >= 10 && hugeBias > 0, "the sweep lost a variant");
        Assert.True(varied >= cases, "the outputs are mostly saturated: the comparison would say little");
    }

    [Fact]
    public void RandomFloatModels_MatchTflmFloatLstmBitForBit_AcrossInvokes()
    {
        // The C# transcription calls the same libm (MathF.Exp and MathF.Tanh are glibc's expf and tanhf on the host)
        // and rounds every float operation where TFLM's float path does, so the bits must agree.
        var rng = new Random(43);
        int cases = 0, clipped = 0;
        for (int k = 0; k < 30; k++)
        {
            bool clip = rng.Next(2) == 0;
            var c = LstmCases.FloatModel(rng, rng.Next(1, 4), rng.Next(1, 6), rng.Next(1, 10), rng.Next(1, 10), rng.Next(2) == 0,
                clip ? (float)(0.1 + rng.NextDouble()) : 0);
            var read = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            var lowered = Lowerer.Lower(read);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            using var ours = new PlanExecutor(lowered.Value!);
            var hidden = new float[c.Batches * c.Units];
            var cell = new float[c.Batches * c.Units];
            for (int invoke = 0; invoke < 3; invoke++)
            {
                var input = Enumerable.Range(0, c.Batches * c.Steps * c.InputSize).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
                var expected = LstmCases.FloatReference(c, input, hidden, cell);
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).CopyTo(ours.Input(0));
                ours.Run();
                var actual = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(ours.Output(0)).ToArray();
                Assert.True(expected.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual.Select(BitConverter.SingleToInt32Bits)),
                    $"{c.Label}: invoke {invoke + 1} differs from TFLM's float arithmetic");
            }
            cases++;
            if (clip && cell.Any(v => Math.Abs(v) == c.CellClip)) clipped++;
        }
        _output.WriteLine($"{cases} float models, {clipped} with the clip binding");
        Assert.True(clipped > 0, "no clip bound");
    }
}
