// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// TRANSPOSE_CONV has no int8 or float32 goldens from TFLM in ../shared, so randomized models (shapes, strides 1-3,
/// SAME and VALID, per-channel and per-tensor weights, with and without bias, output shapes off the usual size)
/// are checked against two oracles:
/// <list type="bullet">
/// <item>a C# transcription of TFLM's reference arithmetic (reference_integer_ops::TransposeConv: the int32 scatter,
/// bias, MultiplyByQuantizedMultiplier per channel, output offset, clamp to [-128, 127] since TFLM's Prepare takes
/// the range for kTfLiteActNone; reference_ops::TransposeConv for float in the same loop order). Our kernel must
/// equal it bit for bit, int8 and float32. This is the proof of bit-exactness with TFLM.</item>
/// <item>TFLite 2.9's interpreter (build/tflite). Its int8 TRANSPOSE_CONV (kGenericOptimized, TransposeConvV2) sums
/// the same int32 products in another order (gemm + col2im), which cannot change an int32 sum, then adds the bias
/// and requantizes each element with the per-channel multipliers of PopulateConvolutionQuantizationParams (the same
/// double arithmetic as TFLM's Prepare) and MultiplyByQuantizedMultiplier, so byte equality is required of it too;
/// it also proves the files we write are models TFLite reads and prepares. TFLite is asked only where the output size
/// is one the forward convolution maps back to the input size: its col2im derives the input geometry from the output
/// size and paddings, so it computes something else for other sizes (seen in this sweep), where TFLM's scatter (and ours) simply drops the taps
/// that fall outside; those "odd size" models are held to the C# reference alone. Its float kernel sums in gemm order, so
/// float32 is held to a bound on reordering a sum of N products: |ours - tflite| &lt;= 2 (N + 2) 2^-24 (sum |x w| +
/// |bias|), twice the worst-case rounding of any summation order (Higham's gamma_N).</item>
/// </list>
/// </summary>
public sealed class TransposeConvTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TfliteInterpreterTests.Tflite _tflite = TfliteInterpreterTests.Tflite.Load();

    public TransposeConvTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _tflite.Dispose();

    /// <summary>The float bound per element: 2 (N + 2) u (sum |x w| + |bias|), N the products summed.</summary>
    private static double[] FloatBounds(TransposeConvCases.Case c, byte[] inputBytes)
    {
        int count = c.Out.Aggregate(1, (a, x) => a * x);
        var x = MemoryMarshal.Cast<byte, float>(inputBytes).ToArray();
        var magnitude = new double[count];
        var terms = new int[count];
        TransposeConvCases.Scatter(c, (o, i, w) => { magnitude[o] += Math.Abs((double)x[i] * c.WeightsF[w]); terms[o]++; });
        return magnitude.Select((m, e) => 2.0 * (terms[e] + 2) * Math.Pow(2, -24) * (m + (c.BiasF is null ? 0 : Math.Abs(c.BiasF[e % c.Out[3]])))).ToArray();
    }

    internal static byte[] RunOurs(Model model, byte[] input)
    {
        var lowered = Lowerer.Lower(model);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        using var ours = new PlanExecutor(lowered.Value!);
        input.CopyTo(ours.Input(0));
        ours.Run();
        return ours.Output(0).ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RandomModels_MatchTflmReferenceBitForBit_AndTflite(bool isFloat)
    {
        var rng = new Random(isFloat ? 29 : 17);
        int cases = 0, nonTrivial = 0, compared = 0;
        double worstUlpShare = 0;
        foreach (var c in TransposeConvCases.Cases(isFloat ? 1009 : 1013, 60, isFloat))
        {
            byte[] file = TfliteWriter.Write(c.Model);
            var read = TfliteReader.Read(file).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            for (int k = 0; k < 2; k++)
            {
                byte[] input = TransposeConvCases.RandomInput(c, rng);
                byte[] ours = RunOurs(read, input);
                byte[] reference = TransposeConvCases.Reference(c, input);
                Assert.True(reference.SequenceEqual(ours), $"{c.Label}: differs from the TFLM reference arithmetic");
                if (!c.Consistent) continue;
                byte[] tflite = _tflite.Run(file, input);
                compared++;
                if (!isFloat)
                {
                    Assert.True(tflite.SequenceEqual(ours), $"{c.Label}: differs from TFLite 2.9");
                    if (ours.Any(v => v != ours[0])) nonTrivial++;
                }
                else
                {
                    var a = MemoryMarshal.Cast<byte, float>(ours).ToArray();
                    var t = MemoryMarshal.Cast<byte, float>(tflite).ToArray();
                    var bound = FloatBounds(c, input);
                    for (int e = 0; e < a.Length; e++)
                    {
                        double d = Math.Abs((double)a[e] - t[e]);
                        Assert.True(d <= bound[e], $"{c.Label}: element {e} ours {a[e]} TFLite {t[e]} beyond the bound {bound[e]}");
                        if (bound[e] > 0) worstUlpShare = Math.Max(worstUlpShare, d / bound[e]);
                    }
                    nonTrivial++;
                }
            }
            cases++;
            _output.WriteLine(c.Label);
        }
        _output.WriteLine($"{cases} models x 2 inputs; {compared} runs compared with TFLite, {nonTrivial} of them non-constant; float: worst difference / bound {worstUlpShare:F3}");
        Assert.True(compared >= 60 && nonTrivial >= compared * 9 / 10, "too few TFLite comparisons, or too many constant (saturated) outputs, to prove anything");
    }

    /// <summary>
    /// 16x8 (int16 activations, int8 weights, int64 bias beyond the int32 range): bit-exact with the C# transcription
    /// of TFLM's int16 template (int64 scatter, the 64-bit MultiplyByQuantizedMultiplier with its 16-bit multiplier).
    /// TFLite 2.9 runs that same reference template when the model has a bias, and is then byte-equal with us at
    /// every output size (all the runs with a bias in this sweep). Without a bias it runs another kernel (col2im with the
    /// 32-bit requantization: its results differ from TFLM's by 1 LSB in places, and at odd sizes by more), so those
    /// models are held to the C# reference alone.
    /// </summary>
    [Fact]
    public void RandomModels16x8_MatchTflmReferenceBitForBit_AndTflite()
    {
        var rng = new Random(19);
        int runs = 0, nonTrivial = 0, compared = 0;
        foreach (var c in TransposeConvCases.Cases(1019, 60, DataType.Int16))
        {
            byte[] file = TfliteWriter.Write(c.Model);
            var read = TfliteReader.Read(file).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            for (int k = 0; k < 2; k++)
            {
                byte[] input = TransposeConvCases.RandomInput(c, rng);
                byte[] ours = RunOurs(read, input);
                Assert.True(TransposeConvCases.Reference(c, input).SequenceEqual(ours), $"{c.Label}: differs from the TFLM reference arithmetic");
                runs++;
                var values = MemoryMarshal.Cast<byte, short>(ours).ToArray();
                if (values.Distinct().Count() > 1 && values.Count(v => v is short.MinValue or short.MaxValue) < values.Length / 2) nonTrivial++;
                if (c.Bias64 is null) continue;
                byte[] tflite = _tflite.Run(file, input);
                compared++;
                Assert.True(tflite.SequenceEqual(ours), $"{c.Label}: differs from TFLite 2.9: ours [{string.Join(", ", MemoryMarshal.Cast<byte, short>(ours).ToArray())}], TFLite [{string.Join(", ", MemoryMarshal.Cast<byte, short>(tflite).ToArray())}]");
            }
            _output.WriteLine(c.Label);
        }
        _output.WriteLine($"{runs} runs, {nonTrivial} neither constant nor mostly saturated; {compared} compared with TFLite");
        Assert.True(nonTrivial >= runs * 8 / 10 && compared >= 60, "too few TFLite comparisons, or too many constant or saturated outputs, to prove anything");
    }

    public static TheoryData<string, string> SeanetTechniques()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in SeanetCases.Supported().Where(c => SeanetCases.Operator(c.Name) == "transpose_conv"))
            foreach (var t in TinyML.Runtime.Tests.ConformanceTests.Techniques.Keys) data.Add(c.Name, t);
        return data;
    }

    /// <summary>TFLM's 16x8 seanet cases with every memory technique: byte-identical with TFLM's outputs (in place and
    /// patches leave an int16 TRANSPOSE_CONV alone; its int64 scratch is planned like any other).</summary>
    [Theory]
    [MemberData(nameof(SeanetTechniques))]
    public void Seanet16x8_EveryMemoryTechnique_ByteIdenticalWithTflm(string name, string technique) =>
        TinyML.Runtime.Tests.ConformanceTests.AssertByteIdentical(SeanetCases.All().Single(c => c.Name == name),
            TinyML.Runtime.Tests.ConformanceTests.Techniques[technique]);

    /// <summary>A 16x8 bias that is not INT64 (TFLM would read an INT32 one as int64) and nonzero activation zero points
    /// (its kernel applies no offsets) are refused with a diagnostic, not run.</summary>
    [Fact]
    public void Bad16x8Operands_AreRefusedWithDiagnostics()
    {
        var c = TransposeConvCases.Cases(1021, 10, DataType.Int16).First(k => k.Bias64 is not null);
        var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
        var op = model.Main.Operators.Single();
        var bias = model.Main.Tensors[op.Inputs[3]];
        model.Main.Tensors[op.Inputs[3]] = new Tensor(bias.Name, DataType.Int32, bias.Shape)
            { Quantization = bias.Quantization, HasRank = true, Data = new byte[4 * bias.Shape[0]] };
        var diagnostics = ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        Assert.Contains(diagnostics, d => d.Id == "TML1008" && d.Message.Contains("must be INT64"));

        model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
        var input = model.Main.Tensors[model.Main.Inputs[0]];
        input.Quantization = Quantization.PerTensor(input.Quantization!.Scale, 3);
        diagnostics = ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        Assert.Contains(diagnostics, d => d.Id == "TML1017" && d.Message.Contains("zero point 0"));
        Assert.Null(Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(model)).Value!).Value);
    }

    /// <summary>
    /// Between two RELUs (element-wise, so the in-place planner looks at them) every memory technique gives the bytes
    /// of the plain plan: TRANSPOSE_CONV's output is its accumulator and must never share the input's bytes, and it
    /// is not a window operator, so patches stop at it.
    /// </summary>
    [Fact]
    public void EveryMemoryTechnique_GivesThePlainPlansBytes()
    {
        var rng = new Random(5);
        foreach (var c in TransposeConvCases.Cases(31, 12, isFloat: false))
        {
            var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            var graph = model.Main;
            var op = graph.Operators.Single();
            int input = op.Inputs[2], output = op.Outputs[0];
            Tensor Copy(Tensor t, string name) => new(name, t.Type, t.Shape) { Quantization = t.Quantization, HasRank = true };
            graph.Tensors.Add(Copy(graph.Tensors[input], "relu_in"));
            int reluIn = graph.Tensors.Count - 1;
            graph.Tensors.Add(Copy(graph.Tensors[output], "relu_out"));
            int reluOut = graph.Tensors.Count - 1;
            op.Inputs = op.Inputs.Select((t, k) => k == 2 ? reluIn : t).ToArray();
            graph.Operators.Insert(0, new Operator(OpKind.Relu, new[] { input }, new[] { reluIn }));
            graph.Operators.Add(new Operator(OpKind.Relu, new[] { output }, new[] { reluOut }));
            graph.Outputs = new[] { reluOut };
            var chain = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
            Assert.Empty(ModelValidator.Validate(chain));
            byte[] x = TransposeConvCases.RandomInput(c, rng);
            byte[]? plain = null;
            foreach (var (name, options) in TinyML.Runtime.Tests.ConformanceTests.Techniques)
            {
                var lowered = Lowerer.Lower(chain, null, options);
                Assert.True(lowered.Value is not null, $"{c.Label} with {name}: {string.Join("\n", lowered.Diagnostics)}");
                using var run = new PlanExecutor(lowered.Value!);
                x.CopyTo(run.Input(0));
                run.Run();
                byte[] bytes = run.Output(0).ToArray();
                plain ??= bytes;
                Assert.True(plain.SequenceEqual(bytes), $"{c.Label}: {name} differs from the plain plan");
            }
        }
    }

    /// <summary>An output_shape fed as a graph input (TFLM's seanet models do that) is not read, as TFLM does not read it.</summary>
    [Fact]
    public void OutputShapeAsAGraphInput_IsIgnored()
    {
        var rng = new Random(3);
        foreach (var c in TransposeConvCases.Cases(37, 6, isFloat: false).Concat(TransposeConvCases.Cases(39, 6, isFloat: true)))
        {
            var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            var op = model.Main.Operators.Single();
            model.Main.Tensors[op.Inputs[0]].Data = null;
            model.Main.Inputs = model.Main.Inputs.Append(op.Inputs[0]).ToArray();
            var read = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            var lowered = Lowerer.Lower(read);
            Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
            using var run = new PlanExecutor(lowered.Value!);
            byte[] x = TransposeConvCases.RandomInput(c, rng);
            x.CopyTo(run.Input(0));
            BitConverter.GetBytes(-7).CopyTo(run.Input(1));
            run.Run();
            Assert.True(TransposeConvCases.Reference(c, x).SequenceEqual(run.Output(0).ToArray()), c.Label);
        }
    }
}
