// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Runtime;
using TinyML.Runtime.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// The float32 element-wise operators and activations have no TFLM goldens in ../shared, so random models
/// (FloatOpsCases: broadcasts between ranks 1 and 4, fused activations, negatives, zeros, overflowing products and
/// quotients) are held to two oracles, bit for bit: the C# transcription of TFLM's reference arithmetic, with every
/// memory technique, and TFLite 2.9's interpreter. None of these operators calls a library function (exp, tanh), so
/// IEEE arithmetic in the same operation order must give the same bits on any machine; a difference is a bug.
/// </summary>
public sealed class FloatOpsTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TfliteInterpreterTests.Tflite _tflite = TfliteInterpreterTests.Tflite.Load();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-f32ops-{Guid.NewGuid():N}");

    public FloatOpsTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        _tflite.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string> Kinds() => new(FloatOpsCases.Kinds.Select(k => k.ToString()));

    private static TinyML.Compiler.Plan.ExecutionPlan Lower(Model model, LoweringOptions options)
    {
        var lowered = Lowerer.Lower(model, null, options);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    /// <summary>TFLite 2.9's float HARD_SWISH as this build computes it: x * min(max(x + 3, 0), 6) times the float
    /// nearest 1/6 (a reciprocal for TFLM's division by 6), which can differ from TFLM's in the last bit.</summary>
    private static float ReciprocalHardSwish(float x)
    {
        float shifted = x + 3f;
        float relu6 = Math.Min(Math.Max(shifted, 0f), 6f);
        float product = x * relu6;
        return product * (1f / 6f);
    }

    /// <summary>The first element where two outputs differ, with the input elements (for a same-shape operator).</summary>
    private static string FirstDifference(byte[] actual, byte[] expected, byte[] input)
    {
        var a = MemoryMarshal.Cast<byte, float>(actual).ToArray();
        var e = MemoryMarshal.Cast<byte, float>(expected).ToArray();
        var x = MemoryMarshal.Cast<byte, float>(input).ToArray();
        int i = Enumerable.Range(0, Math.Min(a.Length, e.Length)).FirstOrDefault(k => BitConverter.SingleToInt32Bits(a[k]) != BitConverter.SingleToInt32Bits(e[k]));
        return $"element {i} of {a.Length}: {a[i]:R} (0x{BitConverter.SingleToInt32Bits(a[i]):X8}), expected {e[i]:R} (0x{BitConverter.SingleToInt32Bits(e[i]):X8})" +
            (x.Length == a.Length ? $", input {x[i]:R}" : "");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RandomModels_MatchTflmReference_WithEveryTechnique_AndTflite_BitForBit(string kindName)
    {
        var kind = Enum.Parse<OpKind>(kindName);
        var rng = new Random(71 + (int)kind);
        int runs = 0, nonTrivial = 0, flushed = 0, reciprocal = 0;
        foreach (var c in FloatOpsCases.Cases(kind, 5001 + (int)kind, 30))
        {
            byte[] file = TfliteWriter.Write(c.Model);
            var read = TfliteReader.Read(file).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            for (int k = 0; k < 2; k++)
            {
                byte[] input = FloatOpsCases.RandomInput(c, rng);
                byte[] expected = FloatOpsCases.Reference(c, input);
                foreach (var (technique, options) in ConformanceTests.Techniques)
                {
                    byte[] ours = PatchTests.Run(Lower(read, options), input);
                    Assert.True(expected.SequenceEqual(ours), $"{c.Label} ({technique}): differs from the TFLM reference arithmetic at {FirstDifference(ours, expected, input)}");
                }
                byte[] tflite = _tflite.Run(file, input);
                if (!tflite.SequenceEqual(expected))
                {
                    var t = MemoryMarshal.Cast<byte, float>(tflite).ToArray();
                    var e = MemoryMarshal.Cast<byte, float>(expected).ToArray();
                    var x = MemoryMarshal.Cast<byte, float>(input).ToArray();
                    for (int i = 0; i < e.Length; i++)
                    {
                        if (BitConverter.SingleToInt32Bits(t[i]) == BitConverter.SingleToInt32Bits(e[i])) continue;
                        if (float.IsSubnormal(e[i]) && t[i] == 0 && float.IsNegative(t[i]) == float.IsNegative(e[i])) { flushed++; continue; }
                        if (kind == OpKind.HardSwish && BitConverter.SingleToInt32Bits(t[i]) == BitConverter.SingleToInt32Bits(ReciprocalHardSwish(x[i]))) { reciprocal++; continue; }
                        Assert.Fail($"{c.Label}: TFLite 2.9 differs at {FirstDifference(tflite, expected, input)}");
                    }
                }
                runs++;
                if (MemoryMarshal.Cast<byte, float>(expected).ToArray().Any(v => v is not (0f or 1f or -1f or 6f or float.MaxValue or float.MinValue))) nonTrivial++;
            }
            _output.WriteLine(c.Label);
        }
        _output.WriteLine($"{runs} runs, {nonTrivial} with values other than 0, 1, -1, 6 and the float limits; TFLite flushed {flushed} subnormal results to zero, multiplied {reciprocal} HARD_SWISH values by 1/6 instead of dividing");
        Assert.True(nonTrivial >= runs * 8 / 10, "too many clamped or zero outputs to prove anything");
    }

    /// <summary>The emitted C, compiled for the host with the kernel library, gives the executor's bytes (which the
    /// theory above holds to TFLM's arithmetic and TFLite) on the first two models of each operator.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void EmittedC_MatchesTheReference(string kindName)
    {
        var kind = Enum.Parse<OpKind>(kindName);
        var rng = new Random(73 + (int)kind);
        foreach (var (c, n) in FloatOpsCases.Cases(kind, 5101 + (int)kind, 2).Select((c, n) => (c, n)))
        {
            var plan = Lower(TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!, LoweringOptions.Default);
            string dir = Path.Combine(_dir, $"{kindName}_{n}");
            Directory.CreateDirectory(dir);
            string exe = CEmitterHostTests.BuildHostProgram(plan, dir).Executable;
            byte[] input = FloatOpsCases.RandomInput(c, rng);
            string inputFile = Path.Combine(dir, "in.bin"), outputFile = Path.Combine(dir, "out.bin");
            File.WriteAllBytes(inputFile, input);
            var run = CEmitterHostTests.Run(exe, inputFile, outputFile);
            Assert.True(run.Code == 0, $"{c.Label}: exit {run.Code} {run.Output}");
            Assert.True(FloatOpsCases.Reference(c, input).SequenceEqual(File.ReadAllBytes(outputFile)), $"{c.Label}: the emitted C differs from the TFLM reference");
        }
    }

    /// <summary>The quantizer takes only ADD of these; the others stay float models it refuses by name (TML2006),
    /// before running anything.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Quantizer_RefusesWhatItCannotQuantize_ByName(string kindName)
    {
        var kind = Enum.Parse<OpKind>(kindName);
        if (kind == OpKind.Add) return;
        var c = FloatOpsCases.Cases(kind, 5201, 1).Single();
        var samples = new CalibrationSet(Enumerable.Range(0, 2).Select(_ => new[] { new float[c.InputElements] }).ToList(), Array.Empty<string>());
        var result = PostTrainingQuantizer.Quantize(c.Model, samples, new TinyML.Cli.PlanModelRunner());
        Assert.Null(result.Value);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.UnsupportedFloatOperator, d.Id);
        Assert.Equal(OpKinds.Name(kind), d.OperatorType);
    }

    /// <summary>What stays unsupported is refused with a diagnostic: the float-only kinds (and RELU_N1_TO_1) in int8 (TML1008), PRELU
    /// above rank 4 (TFLite's limit) and a MEAN axis outside the rank (TML1015 from lowering).</summary>
    [Fact]
    public void Unsupported_IsRefusedWithADiagnostic()
    {
        var q = Quantization.PerTensor(0.1f, 0);
        foreach (var kind in new[] { OpKind.Div, OpKind.Maximum, OpKind.Minimum, OpKind.Prelu })
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", DataType.Int8, new[] { 1, 4 }, q);
            int z = b.Tensor("z", DataType.Int8, new[] { 1, 4 }, q);
            int y = b.Tensor("y", DataType.Int8, new[] { 1, 4 }, q);
            b.Operator(kind, new[] { x, z }, new[] { y });
            var d = ModelValidator.Validate(b.Inputs(x, z).Outputs(y).Build());
            Assert.Contains(d, e => e.Id == DiagnosticIds.UnsupportedTypeCombination && e.Message.Contains("FLOAT32->FLOAT32"));
        }
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", DataType.Int8, new[] { 1, 4 }, q);
            int y = b.Tensor("y", DataType.Int8, new[] { 1, 4 }, q);
            b.Operator(OpKind.ReluN1To1, new[] { x }, new[] { y });
            Assert.Contains(ModelValidator.Validate(b.Inputs(x).Outputs(y).Build()), e => e.Id == DiagnosticIds.UnsupportedTypeCombination);
        }
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", DataType.Float32, new[] { 1, 2, 2, 2, 3 });
            int alpha = b.Constant("alpha", new[] { 3 }, new[] { 0.1f, 0.2f, 0.3f });
            int y = b.Tensor("y", DataType.Float32, new[] { 1, 2, 2, 2, 3 });
            b.Operator(OpKind.Prelu, new[] { x, alpha }, new[] { y });
            var lowered = Lowerer.Lower(b.Inputs(x).Outputs(y).Build());
            Assert.Null(lowered.Value);
            Assert.Contains(lowered.Diagnostics, e => e.Id == DiagnosticIds.InvalidOperator && e.Message.Contains("PRELU of rank 5"));
        }
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", DataType.Float32, new[] { 2, 3 });
            int axes = b.Constant("axes", new[] { 1 }, new[] { 2 });
            int y = b.Tensor("y", DataType.Float32, new[] { 2 });
            b.Operator(OpKind.Mean, new[] { x, axes }, new[] { y }, new ReducerOptions(false));
            var lowered = Lowerer.Lower(b.Inputs(x).Outputs(y).Build());
            Assert.Null(lowered.Value);
            Assert.Contains(lowered.Diagnostics, e => e.Id == DiagnosticIds.InvalidOperator && e.Message.Contains("axes outside rank 2"));
        }
    }
}
