// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// int16 (16x8) MUL, AVERAGE_POOL_2D, MAX_POOL_2D, CONCATENATION, TRANSPOSE, RESHAPE and SQUEEZE have no TFLM goldens
/// in ../shared, so randomized models (Int16OpsCases: shapes, broadcasts, windows, strides, paddings, fused
/// activations, axes, permutations) are held to two
/// oracles: the C# transcription of TFLM's reference arithmetic, bit for bit, with every memory technique; and TFLite
/// 2.9's interpreter, byte for byte where it runs the same reference arithmetic for int16, which these tests check.
/// </summary>
public sealed class Int16OpsTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TfliteInterpreterTests.Tflite _tflite = TfliteInterpreterTests.Tflite.Load();

    public Int16OpsTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _tflite.Dispose();

    public static TheoryData<string> Kinds() => new(Int16OpsCases.Kinds.Select(k => k.ToString()));

    private static byte[] Run(Model model, byte[] input, LoweringOptions options)
    {
        var lowered = Lowerer.Lower(model, null, options);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        using var run = new PlanExecutor(lowered.Value!);
        input.CopyTo(run.Input(0));
        run.Run();
        return run.Output(0).ToArray();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RandomModels_MatchTflmReferenceBitForBit_WithEveryTechnique_AndTflite(string kindName)
    {
        var kind = Enum.Parse<OpKind>(kindName);
        var rng = new Random(61 + (int)kind);
        int runs = 0, nonTrivial = 0;
        foreach (var c in Int16OpsCases.Cases(kind, 3001 + (int)kind, 40))
        {
            byte[] file = TfliteWriter.Write(c.Model);
            var read = TfliteReader.Read(file).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            for (int k = 0; k < 2; k++)
            {
                byte[] input = Int16OpsCases.RandomInput(c, rng);
                byte[] expected = Int16OpsCases.Reference(c, input);
                foreach (var (technique, options) in TinyML.Runtime.Tests.ConformanceTests.Techniques)
                    Assert.True(expected.SequenceEqual(Run(read, input, options)), $"{c.Label} ({technique}): differs from the TFLM reference arithmetic");
                byte[] tflite = _tflite.Run(file, input);
                Assert.True(tflite.SequenceEqual(expected), $"{c.Label}: differs from TFLite 2.9");
                runs++;
                var values = MemoryMarshal.Cast<byte, short>(expected).ToArray();
                if (values.Distinct().Count() > 2) nonTrivial++;
            }
            _output.WriteLine(c.Label);
        }
        _output.WriteLine($"{runs} runs, {nonTrivial} with more than two distinct output values");
        Assert.True(nonTrivial >= runs * 7 / 10, "too many constant or saturated outputs to prove anything");
    }

    /// <summary>What TFLM refuses is refused with a diagnostic: an int16 MUL with a nonzero zero point (TFLM's
    /// mul_common.cc), int16 pooling or CONCATENATION that changes the quantization (the kernels never requantize).</summary>
    [Fact]
    public void Int16SpecViolations_AreRefusedWithTml1017()
    {
        foreach (var kind in new[] { OpKind.Mul, OpKind.AveragePool2D, OpKind.MaxPool2D, OpKind.Concatenation })
        {
            var c = Int16OpsCases.Cases(kind, 77, 5).First(k => kind != OpKind.Concatenation || k.Model.Main.Operators[0].Inputs.Distinct().Count() > 1);
            var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            var output = model.Main.Tensors[model.Main.Outputs[0]];
            output.Quantization = kind == OpKind.Mul
                ? Quantization.PerTensor(output.Quantization!.Scale, 5)
                : Quantization.PerTensor(output.Quantization!.Scale * 2, 0);
            var reread = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
            var errors = ModelValidator.Validate(reread).Where(d => d.Severity == Severity.Error).ToList();
            Assert.True(errors.Count > 0 && errors.All(d => d.Id == "TML1017"), $"{c.Label}: {string.Join("; ", errors)}");
            Assert.Null(Lowerer.Lower(reread).Value);
            _output.WriteLine($"{kind}: {errors[0].Message}");
        }
    }

    /// <summary>RESHAPE and SQUEEZE copy bytes exactly as TFLM's kernels do, so an int16 scale change is the TML1018
    /// warning, as in int8, and the model runs with TFLM's bytes.</summary>
    [Theory]
    [InlineData(OpKind.Reshape)]
    [InlineData(OpKind.Squeeze)]
    public void Int16ByteCopyWithAScaleChange_IsATolerated1018Warning(OpKind kind)
    {
        var c = Int16OpsCases.Cases(kind, 79, 1).Single();
        var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
        var output = model.Main.Tensors[model.Main.Outputs[0]];
        output.Quantization = Quantization.PerTensor(output.Quantization!.Scale * 2, 0);
        var reread = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
        var diagnostics = ModelValidator.Validate(reread);
        Assert.True(diagnostics.Count > 0 && diagnostics.All(d => d.Id == "TML1018" && d.Severity == Severity.Warning), string.Join("; ", diagnostics));
        byte[] input = Int16OpsCases.RandomInput(c, new Random(5));
        Assert.Equal(Int16OpsCases.Reference(c, input), Run(reread, input, LoweringOptions.Default));
    }
}
