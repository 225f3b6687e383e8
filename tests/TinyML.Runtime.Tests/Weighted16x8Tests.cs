// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// 16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED on random models (Weighted16x8Cases: odd channels, strides
/// 1-3, dilation, SAME and VALID, depth multipliers 1-3, batches, fused RELU/RELU6, int64 / int32 / no bias). Only
/// CONV_2D has TFLM goldens in ../shared (seanet, all int64 biases), so two oracles:
/// <list type="bullet">
/// <item>a C# transcription of TFLM's reference arithmetic (ConvPerChannel&lt;int64_t&gt; and &lt;int32_t&gt;,
/// DepthwiseConvPerChannel, FullyConnected and FullyConnectedPerChannel &lt;int64_t&gt; and &lt;int32_t&gt;): our plan
/// must equal it bit for bit;</item>
/// <item>TFLite 2.9's interpreter, whose 16x8 kernels for these operators are the same reference_integer_ops
/// functions with the same Prepare arithmetic, so byte equality is required where it runs what TFLM runs: every model
/// with an int64 bias, and depthwise and fully connected without a bias. Not compared: CONV_2D without a bias (TFLite
/// 2.9's Prepare refuses it) and the int32-bias 16x8 kernels (ConvPerChannel / FullyConnected &lt;int32_t&gt;, newer
/// than 2.9), and per-channel FULLY_CONNECTED (TFLite 2.9 requantizes it otherwise; seen in this sweep). FULLY_CONNECTED
/// without a bias is the int32 path in both.</item>
/// </list>
/// </summary>
public sealed class Weighted16x8Tests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TfliteInterpreterTests.Tflite _tflite = TfliteInterpreterTests.Tflite.Load();

    public Weighted16x8Tests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _tflite.Dispose();

    private static bool TfliteRunsTflmsKernel(Weighted16x8Cases.Case c) =>
        !(c.Kind == OpKind.FullyConnected && c.PerChannel)
        && (c.Bias == Weighted16x8Cases.BiasKind.Int64 || (c.Bias == Weighted16x8Cases.BiasKind.None && c.Kind != OpKind.Conv2D));

    [Theory]
    [InlineData(OpKind.Conv2D, 101)]
    [InlineData(OpKind.DepthwiseConv2D, 103)]
    [InlineData(OpKind.FullyConnected, 107)]
    public void RandomModels_MatchTflmReferenceBitForBit_AndTflite(OpKind kind, int seed)
    {
        var rng = new Random(seed);
        int cases = 0, compared = 0, nonTrivial = 0;
        foreach (var c in Weighted16x8Cases.Cases(kind, seed * 10, kind == OpKind.FullyConnected ? 150 : 60))
        {
            byte[] file = TfliteWriter.Write(c.Model);
            var read = TfliteReader.Read(file).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            for (int k = 0; k < 2; k++)
            {
                byte[] input = Weighted16x8Cases.RandomInput(c, rng);
                byte[] ours = TransposeConvTests.RunOurs(read, input);
                Assert.True(Weighted16x8Cases.Reference(c, input).SequenceEqual(ours), $"{c.Label}: differs from the TFLM reference arithmetic");
                if (Weighted16x8Cases.IsInformative(c, ours)) nonTrivial++;
                if (!TfliteRunsTflmsKernel(c)) continue;
                Assert.True(_tflite.Run(file, input).SequenceEqual(ours), $"{c.Label}: differs from TFLite 2.9");
                compared++;
            }
            cases++;
            _output.WriteLine(c.Label);
        }
        _output.WriteLine($"{cases} models x 2 inputs; {compared} runs byte-equal with TFLite; {nonTrivial} non-constant outputs");
        Assert.True(compared >= (kind == OpKind.Conv2D ? 30 : 100) && nonTrivial >= cases * 2 * 8 / 10,
            "too few TFLite comparisons, or too many constant (saturated) outputs, to prove anything");
    }

    /// <summary>
    /// Between two int16 LEAKY_RELUs every memory technique gives the plain plan's bytes: in-place depthwise and
    /// patches are int8 (and float) only and must leave an int16 operator alone; in place element-wise may take the
    /// LEAKY_RELUs.
    /// </summary>
    [Theory]
    [InlineData(OpKind.Conv2D)]
    [InlineData(OpKind.DepthwiseConv2D)]
    [InlineData(OpKind.FullyConnected)]
    public void EveryMemoryTechnique_GivesThePlainPlansBytes(OpKind kind)
    {
        var rng = new Random(7);
        foreach (var c in Weighted16x8Cases.Cases(kind, 71, 10))
        {
            var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            var graph = model.Main;
            var op = graph.Operators.Single();
            int input = op.Inputs[0], output = op.Outputs[0];
            Tensor Copy(Tensor t, string name) => new(name, t.Type, t.Shape) { Quantization = t.Quantization, HasRank = true };
            graph.Tensors.Add(Copy(graph.Tensors[input], "leaky_in"));
            int leakyIn = graph.Tensors.Count - 1;
            graph.Tensors.Add(Copy(graph.Tensors[output], "leaky_out"));
            int leakyOut = graph.Tensors.Count - 1;
            op.Inputs = op.Inputs.Select((t, k) => k == 0 ? leakyIn : t).ToArray();
            graph.Operators.Insert(0, new Operator(OpKind.LeakyRelu, new[] { input }, new[] { leakyIn }) { Options = new LeakyReluOptions(0.25f), Version = 2 });
            graph.Operators.Add(new Operator(OpKind.LeakyRelu, new[] { output }, new[] { leakyOut }) { Options = new LeakyReluOptions(0.25f), Version = 2 });
            graph.Outputs = new[] { leakyOut };
            var chain = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
            Assert.Empty(ModelValidator.Validate(chain));
            byte[] x = Weighted16x8Cases.RandomInput(c, rng);
            byte[]? plain = null;
            foreach (var (name, options) in TinyML.Runtime.Tests.ConformanceTests.Techniques)
            {
                var lowered = Lowerer.Lower(chain, null, options);
                Assert.True(lowered.Value is not null, $"{c.Label} with {name}: {string.Join("\n", lowered.Diagnostics)}");
                Assert.DoesNotContain(lowered.Value!.Calls, call => call.Kernel.EndsWith("_inplace", StringComparison.Ordinal) && call.Kernel.Contains("conv"));
                using var run = new PlanExecutor(lowered.Value!);
                x.CopyTo(run.Input(0));
                run.Run();
                byte[] bytes = run.Output(0).ToArray();
                plain ??= bytes;
                Assert.True(plain.SequenceEqual(bytes), $"{c.Label}: {name} differs from the plain plan");
            }
        }
    }

    /// <summary>What TFLM's 16x8 kernels do not take is refused with a code and a message, never lowered.</summary>
    [Theory]
    [InlineData(OpKind.Conv2D, "input zero point", "TML1017", "zero point 0")]
    [InlineData(OpKind.FullyConnected, "output zero point", "TML1017", "zero point 0")]
    [InlineData(OpKind.DepthwiseConv2D, "int32 bias", "TML1008", "bias must be INT64, not INT32")]
    [InlineData(OpKind.Conv2D, "int16 weights", "TML1008", "16x8 takes INT8 weights")]
    [InlineData(OpKind.FullyConnected, "float bias", "TML1008", "bias must be INT64 or INT32, not FLOAT32")]
    [InlineData(OpKind.Conv2D, "float bias", "TML1008", "bias must be INT64 or INT32, not FLOAT32")]
    public void Unsupported16x8_IsRefusedWithADiagnostic(OpKind kind, string change, string id, string message)
    {
        var c = Weighted16x8Cases.Cases(kind, 5, 20).First(c => c.Bias == Weighted16x8Cases.BiasKind.Int64 && c.Out[^1] > 1);
        var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
        var graph = model.Main;
        var op = graph.Operators.Single();
        Tensor T(int i) => graph.Tensors[op.Inputs[i]];
        byte[] Bytes(int i) => T(i).Data!.Value.ToArray();
        switch (change)
        {
            case "input zero point": T(0).Quantization = Quantization.PerTensor(c.InScale, 3); break;
            case "output zero point": graph.Tensors[op.Outputs[0]].Quantization = Quantization.PerTensor(c.OutScale, -2); break;
            case "int32 bias":
                T(2).Type = DataType.Int32;
                T(2).Data = Bytes(2).Take(Bytes(2).Length / 2).ToArray();
                break;
            case "float bias":
                T(2).Type = DataType.Float32;
                T(2).Data = Bytes(2).Take(Bytes(2).Length / 2).ToArray();
                break;
            case "int16 weights":
                T(1).Type = DataType.Int16;
                T(1).Data = Bytes(1).SelectMany(v => new[] { v, (byte)((sbyte)v < 0 ? 0xFF : 0) }).ToArray();
                break;
        }
        var read = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
        var errors = ModelValidator.Validate(read).Where(d => d.Severity == Compiler.Diagnostics.Severity.Error).ToList();
        Assert.True(errors.Any(d => d.Id == id && d.Message.Contains(message, StringComparison.Ordinal)),
            $"{c.Label} with {change}: expected {id} '{message}', got: {string.Join(" | ", errors)}");
        Assert.Null(Lowerer.Lower(read).Value);
    }
}
