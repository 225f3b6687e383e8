// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM beyond mnist_lstm's one shape (batch 1, batch-major, no clip, which the goldens pin):
/// random int8 models (1-3 batches, 1-5 steps, time-major and batch-major, with and without cell clip, cell scales
/// 2^-9 to 2^-13, hidden zero points off 0) are run through the file writer and reader and the plan, three invokes in a
/// row and one after ResetState, each byte-equal with <see cref="LstmCases.Reference"/>, the C# transcription of TFLM's
/// integer LSTM.
/// </summary>
public sealed class LstmTests
{
    private readonly ITestOutputHelper _output;

    public LstmTests(ITestOutputHelper output) => _output = output;

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
