// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Compiler.Plan;
using TinyML.Runtime;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Issue 13 item 1: a deviation from the TFLite specification that does not change the arithmetic is a warning
/// (TML1018) and the model runs as TFLM runs it. Each test writes a copy of a shared model with the deviation
/// (TfliteWriter), reads it back, and checks the warning and that the outputs are byte-identical with TFLM's goldens
/// of the unmodified model.
/// </summary>
public class ToleratedDeviationTests
{
    /// <summary>Writes and reads back a copy of <paramref name="gc"/>'s model after <paramref name="change"/>.</summary>
    internal static Model Deviated(GoldenCase gc, Func<Graph, int> change, out int changed)
    {
        var model = TfliteReader.ReadFile(gc.Model).Value!;
        changed = change(model.Main);
        var read = TfliteReader.Read(TfliteWriter.Write(model), "deviated.tflite");
        Assert.Empty(read.Diagnostics);
        return read.Value!;
    }

    /// <summary>Sets quantized_dimension 3 on every quantized rank-1 INT32 constant (the biases), as in TFLM's person_detect.tflite.</summary>
    internal static int BiasDimensionThree(Graph graph)
    {
        int n = 0;
        foreach (var t in graph.Tensors.Where(t => t.IsConstant && t.Type == DataType.Int32 && t.Shape.Count == 1 && t.Quantization is { HasScales: true }))
        {
            t.Quantization = t.Quantization! with { QuantizedDimension = 3 };
            n++;
        }
        return n;
    }

    private static void AssertTflmOutputs(GoldenCase gc, Model model)
    {
        var lowered = Lowerer.Lower(model, "deviated.tflite", LoweringOptions.Default);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        var plan = PlanContainer.Read(PlanContainer.Write(lowered.Value!)).Value!;
        using var executor = new PlanExecutor(plan);
        Assert.NotEmpty(gc.Vectors());
        foreach (int k in gc.Vectors())
        {
            executor.ResetState();
            var inputs = gc.Inputs(k);
            for (int i = 0; i < inputs.Count; i++) File.ReadAllBytes(inputs[i]).CopyTo(executor.Input(i));
            executor.Run();
            byte[] actual = Enumerable.Range(0, plan.Outputs.Count).SelectMany(i => executor.Output(i).ToArray()).ToArray();
            Assert.True(File.ReadAllBytes(gc.Output(k)).AsSpan().SequenceEqual(actual), $"{gc.Name} vector {k} differs from TFLM's golden");
        }
    }

    [Theory]
    [InlineData("ad")]           // one scale per bias (per-tensor FULLY_CONNECTED)
    [InlineData("hello_int8")]   // one scale per bias
    [InlineData("micro_speech")] // one scale per element (per-channel CONV_2D, DEPTHWISE_CONV_2D): rank 1, so dimension 0
    [InlineData("kws")]
    public void BiasQuantizedDimensionOutsideItsRank_WarnsAndRunsAsTflm(string name)
    {
        var gc = GoldenCase.All().Single(c => c.Name == name);
        var model = Deviated(gc, BiasDimensionThree, out int changed);
        Assert.True(changed > 0);

        var diagnostics = ModelValidator.Validate(model, "deviated.tflite");
        Assert.DoesNotContain(diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal(changed, diagnostics.Count(d => d.Id == DiagnosticIds.ToleratedSpecDeviation && d.Severity == Severity.Warning));
        Assert.All(diagnostics, d => Assert.Contains("quantized_dimension 3 is outside rank 1", d.Message));
        AssertTflmOutputs(gc, model);
    }

    [Fact]
    public void WeightsQuantizedDimensionOutsideTheirRank_StaysAnError()
    {
        // Several scales on a rank-4 tensor with no dimension to put them on: which scale is whose is undefined.
        var gc = GoldenCase.All().Single(c => c.Name == "kws");
        var model = Deviated(gc, g =>
        {
            var w = g.Tensors.First(t => t.IsConstant && t.Type == DataType.Int8 && t.Shape.Count == 4 && t.Quantization is { IsPerChannel: true });
            w.Quantization = w.Quantization! with { QuantizedDimension = 4 };
            return 1;
        }, out _);
        var diagnostics = ModelValidator.Validate(model, "deviated.tflite");
        Assert.Contains(diagnostics, d => d.Id == DiagnosticIds.InconsistentQuantization && d.Severity == Severity.Error && d.Message.Contains("quantized_dimension 4 is outside rank 4"));
        Assert.DoesNotContain(diagnostics, d => d.Id == DiagnosticIds.ToleratedSpecDeviation);
    }

    [Theory]
    [InlineData("ops/pad_all_dims")]
    [InlineData("ops/pad_asym_zpmin")]
    [InlineData("ops/reshape_options_only")]
    [InlineData("ops/reshape_shape_tensor")]
    public void CopyingOperatorWithAnotherOutputScale_WarnsAndRunsAsTflm(string name)
    {
        // TFLM's PAD and RESHAPE copy the input's bytes and check no same-scale rule (PAD fills with the output's
        // zero point, kept here): with another output scale TFLM writes the very bytes of the golden. (A PADV2 with
        // another output scale is refused: its value must then have the output's quantization, TFLM checks that.)
        var gc = GoldenCase.All().Single(c => c.Name == name);
        var model = Deviated(gc, g =>
        {
            var op = Assert.Single(g.Operators);
            var output = g.Tensors[op.Outputs[0]];
            var q = output.Quantization!;
            output.Quantization = q with { Scales = new ValueArray<float>(new[] { q.Scales[0] * 2 }) };
            return 1;
        }, out _);

        var diagnostics = ModelValidator.Validate(model, "deviated.tflite");
        var warning = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticIds.ToleratedSpecDeviation, warning.Id);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Contains("must keep the input quantization", warning.Message);
        AssertTflmOutputs(gc, model);
    }

    [Fact]
    public void PoolingWithAnotherOutputScale_StaysAnError()
    {
        var gc = GoldenCase.All().First(c => c.Name.StartsWith("ops/", StringComparison.Ordinal) &&
            TfliteReader.ReadFile(c.Model).Value!.Main.Operators is { Count: 1 } ops && ops[0].Kind == OpKind.MaxPool2D &&
            TfliteReader.ReadFile(c.Model).Value!.Main.Tensors[ops[0].Inputs[0]].Type == DataType.Int8);
        var model = Deviated(gc, g =>
        {
            var output = g.Tensors[g.Operators[0].Outputs[0]];
            var q = output.Quantization!;
            output.Quantization = q with { Scales = new ValueArray<float>(new[] { q.Scales[0] * 2 }) };
            return 1;
        }, out _);
        var diagnostics = ModelValidator.Validate(model, "deviated.tflite");
        Assert.Contains(diagnostics, d => d.Id == DiagnosticIds.QuantizationSpecViolation && d.Severity == Severity.Error);
    }
}
