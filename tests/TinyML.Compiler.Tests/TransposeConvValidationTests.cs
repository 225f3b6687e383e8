// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>TRANSPOSE_CONV: what the validator accepts and refuses, its options on disk, its MAC count and lowering checks.</summary>
public class TransposeConvValidationTests
{
    /// <summary>A random int8 (or float) model with bias, read back from the file we write.</summary>
    private static (Model Model, Operator Op) Sample(bool isFloat = false, Action<Model, Operator>? change = null)
    {
        var c = TransposeConvCases.Cases(5, 20, isFloat).First(x => x.Bias8 is not null || x.BiasF is not null);
        var model = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
        var op = model.Main.Operators.Single();
        change?.Invoke(model, op);
        var read = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
        return (read, read.Main.Operators.Single());
    }

    private static Diagnostic Error(Action<Model, Operator> change, string id, bool isFloat = false)
    {
        var diagnostics = ModelValidator.Validate(Sample(isFloat, change).Model);
        var match = diagnostics.FirstOrDefault(d => d.Id == id && d.Severity == Severity.Error);
        Assert.True(match is not null, $"expected {id}, got: {string.Join("; ", diagnostics)}");
        return match!;
    }

    private static Tensor In(Model m, Operator op, int position) => m.Main.Tensors[op.Inputs[position]];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RandomModels_AreValid_AndKeepTheirOptions(bool isFloat)
    {
        foreach (var c in TransposeConvCases.Cases(7, 20, isFloat))
        {
            var read = TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            Assert.Equal(c.Model.Main.Operators.Single().Options, read.Main.Operators.Single().Options);
        }
        var relu = new TransposeConvOptions(Padding.Valid, 2, 3, Activation.Relu);
        var (m, op) = Sample(isFloat, (_, o) => o.Options = relu);
        Assert.Equal(relu, op.Options);
    }

    [Fact]
    public void FusedActivation_IsRefused_WithTheReason()
    {
        var error = Error((_, op) => { op.Options = ((TransposeConvOptions)op.Options!) with { Activation = Activation.Relu }; op.Version = 4; }, DiagnosticIds.InvalidOperator);
        Assert.Contains("fused activation Relu on TRANSPOSE_CONV is not supported", error.Message);
    }

    [Fact]
    public void Version5_IsRefused() => Error((_, op) => op.Version = 5, DiagnosticIds.UnsupportedOperatorVersion);

    [Fact]
    public void WeightsWithAZeroPoint_BreakTheSpecification() =>
        Error((m, op) => In(m, op, 1).Quantization = new Quantization(In(m, op, 1).Quantization!.Scales.ToArray(),
            Enumerable.Repeat(3L, In(m, op, 1).Quantization!.Scales.Count).ToArray(), 0), DiagnosticIds.QuantizationSpecViolation);

    [Fact]
    public void PerChannelWeights_MustBeAlongTheOutputChannels() =>
        Error((m, op) =>
        {
            var w = In(m, op, 1);
            w.Quantization = new Quantization(Enumerable.Repeat(0.02f, w.Shape[3]).ToArray(), new long[w.Shape[3]], 3);
        }, DiagnosticIds.InconsistentQuantization);

    [Fact]
    public void Int8Bias_IsRefused() =>
        Error((m, op) => { var b = In(m, op, 3); b.Type = DataType.Int8; b.Data = new byte[b.ElementCount]; }, DiagnosticIds.UnsupportedTypeCombination);

    [Fact]
    public void HybridWeights_AreRefused() =>
        Error((m, op) =>
        {
            var w = In(m, op, 1);
            w.Type = DataType.Int8;
            w.Data = new byte[w.ElementCount];
            w.Quantization = Quantization.PerTensor(0.01f, 0);
        }, DiagnosticIds.UnsupportedTypeCombination, isFloat: true);

    [Fact]
    public void InputAndOutputTypes_MustAgree() =>
        Error((m, op) => { m.Main.Tensors[op.Outputs[0]].Type = DataType.Float32; m.Main.Tensors[op.Outputs[0]].Quantization = null; }, DiagnosticIds.UnsupportedTypeCombination);

    [Fact]
    public void OutputShape_MayBeAGraphInput_AsInTflmsSeanetModels()
    {
        // TFLM never reads it; TFLM's seanet TRANSPOSE_CONV cases feed it as an input.
        var (model, _) = Sample(change: (m, op) => { In(m, op, 0).Data = null; m.Main.Inputs = m.Main.Inputs.Append(op.Inputs[0]).ToArray(); });
        Assert.Empty(ModelValidator.Validate(model));
        Assert.NotNull(Lowerer.Lower(model).Value);
        var diagnostics = ModelValidator.Validate(Sample(change: (m, op) => In(m, op, 0).Shape = new[] { 3 }).Model);
        Assert.Contains(diagnostics, d => d.Id == DiagnosticIds.InvalidOperator && d.Message.Contains("output_shape (input 0) must be an INT32 tensor of 4 values"));
    }

    [Fact]
    public void Int16_RandomModelsAreValid_AndAnInt32BiasIsRefused()
    {
        foreach (var c in TransposeConvCases.Cases(9, 10, DataType.Int16))
            Assert.Empty(ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!));
        // TFLM's 16x8 kernel reads any non-INT16 bias as int64: an INT32 one would be misread, so it is refused.
        var model = TransposeConvCases.Cases(9, 10, DataType.Int16).First(c => c.Bias64 is not null).Model;
        var op = model.Main.Operators.Single();
        var bias = model.Main.Tensors[op.Inputs[3]];
        bias.Type = DataType.Int32;
        bias.Data = new byte[4 * bias.ElementCount];
        var diagnostics = ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        Assert.Contains(diagnostics, d => d.Id == DiagnosticIds.UnsupportedTypeCombination && d.Message.Contains("a 16x8 TRANSPOSE_CONV bias must be INT64, not INT32"));
    }

    [Fact]
    public void Int16WithInt16Weights_IsRefused() =>
        Error((m, op) =>
        {
            foreach (int t in new[] { op.Inputs[2], op.Outputs[0] })
                m.Main.Tensors[t].Type = DataType.Int16;
            var w = In(m, op, 1);
            w.Type = DataType.Int16;
            w.Data = new byte[2 * w.ElementCount];
        }, DiagnosticIds.UnsupportedTypeCombination);

    [Fact]
    public void OutputShape_ThatIsNotTheOutputsShape_FailsLowering()
    {
        var (model, _) = Sample(change: (m, op) =>
        {
            var shape = In(m, op, 0);
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(shape.Data!.Value.Span).ToArray();
            values[1] += 1;
            shape.Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        });
        var lowered = Lowerer.Lower(model);
        Assert.Null(lowered.Value);
        Assert.Contains(lowered.Diagnostics, d => d.Id == DiagnosticIds.InvalidOperator && d.Message.Contains("output_shape"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Macs_CountTheTapsThatLandInTheOutput(bool isFloat)
    {
        foreach (var c in TransposeConvCases.Cases(9, 30, isFloat))
        {
            long taps = 0;
            TransposeConvCases.Scatter(c, (_, _, _) => taps++);
            Assert.Equal(taps, Macs.Of(c.Model.Main, c.Model.Main.Operators.Single()));
        }
    }
}
