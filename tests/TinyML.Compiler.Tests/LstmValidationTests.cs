// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>
/// What UNIDIRECTIONAL_SEQUENCE_LSTM refuses, each on mnist_lstm_int8 changed in one place: the LSTM variants TFLM's
/// kernel rejects (CIFG, peephole, projection, layer norm), options it cannot run, hybrid weights and states that
/// are not variables; for 16x8 (on a random LstmCases model), biases that are not int64, weights that are not int8,
/// an int8 output state, zero points off 0 and a gate scale TFLM's 64-bit requantization cannot take. Each is a coded
/// diagnostic on the operator, and lowering stops at it (no crash).
/// </summary>
public class LstmValidationTests
{
    private static Model Mnist(bool isFloat = false) => TfliteReader.ReadFile(SharedData.Model(isFloat ? "mnist_lstm_float" : "mnist_lstm_int8")).Value!;

    private static Operator Lstm(Model model) => model.Main.Operators.Single(o => o.Kind == OpKind.UnidirectionalSequenceLstm);

    private static void SetInput(Operator op, int position, int tensor)
    {
        var inputs = op.Inputs.ToArray();
        inputs[position] = tensor;
        op.Inputs = inputs;
    }

    private static void AssertRefused(Model model, string id, string text)
    {
        var read = TfliteReader.Read(TfliteWriter.Write(model), "lstm.tflite").Value!;
        var diagnostics = ModelValidator.Validate(read, "lstm.tflite");
        var match = diagnostics.FirstOrDefault(d => d.Id == id && d.Message.Contains(text, StringComparison.Ordinal));
        Assert.True(match is not null, $"expected {id} with '{text}', got: {string.Join("; ", diagnostics)}");
        Assert.Equal(0, match!.OperatorIndex);
        Assert.Null(Lowerer.Lower(read, "lstm.tflite").Value);
    }

    [Fact]
    public void TheGoldenModels_Validate()
    {
        Assert.Empty(ModelValidator.Validate(Mnist()));
        Assert.Empty(ModelValidator.Validate(Mnist(isFloat: true)));
    }

    [Theory]
    [InlineData(9, "peephole")]
    [InlineData(11, "peephole")]
    [InlineData(16, "projection")]
    [InlineData(17, "projection")]
    [InlineData(20, "layer normalization")]
    [InlineData(23, "layer normalization")]
    public void AVariantsInput_IsRefusedByName(int position, string variant)
    {
        var model = Mnist();
        var op = Lstm(model);
        SetInput(op, position, op.Inputs[12]); // any constant: the variant's presence is what TFLM rejects
        AssertRefused(model, DiagnosticIds.InvalidOperator, variant);
    }

    [Fact]
    public void Cifg_IsRefusedByName()
    {
        var model = Mnist();
        var op = Lstm(model);
        SetInput(op, 1, -1);
        SetInput(op, 5, -1);
        AssertRefused(model, DiagnosticIds.InvalidOperator, "CIFG");
    }

    [Theory]
    [InlineData(Activation.Relu, 0f, "activation Relu is not supported")]
    [InlineData(Activation.None, 0f, "activation None is not supported")]
    [InlineData(Activation.Tanh, -1f, "cell_clip is -1")]
    public void OptionsTflmCannotRun_AreRefused(Activation activation, float cellClip, string text)
    {
        var model = Mnist();
        var op = Lstm(model);
        op.Options = op.OptionsAs<UnidirectionalSequenceLstmOptions>()! with { Activation = activation, CellClip = cellClip };
        AssertRefused(model, DiagnosticIds.InvalidOperator, text);
    }

    [Fact]
    public void HybridWeights_AreTML1008()
    {
        // Float activations with one gate's weights in int8: TFLM's hybrid path, which we do not run.
        var model = Mnist(isFloat: true);
        var op = Lstm(model);
        var int8Weights = Mnist().Main.Tensors[Lstm(Mnist()).Inputs[2]];
        model.Main.Tensors.Add(int8Weights);
        SetInput(op, 2, model.Main.Tensors.Count - 1);
        AssertRefused(model, DiagnosticIds.UnsupportedTypeCombination, "hybrid");
    }

    [Fact]
    public void AStateThatIsNotAVariable_IsRefused()
    {
        var model = Mnist();
        var op = Lstm(model);
        model.Main.Tensors[op.Inputs[19]].IsVariable = false;
        AssertRefused(model, DiagnosticIds.InvalidOperator, "cell state (input 19) one of type INT16");
    }

    [Fact]
    public void AnOutputQuantizedUnlikeTheOutputState_IsATolerated_TML1018()
    {
        var model = Mnist();
        var output = model.Main.Tensors[Lstm(model).Outputs[0]];
        output.Quantization = Quantization.PerTensor(output.Quantization!.Scale * 2, 3);
        var read = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
        // The RESHAPE after it then changes the scale back, which it tolerates too; the LSTM's warning is on operator 0.
        var diagnostic = Assert.Single(ModelValidator.Validate(read), d => d.OperatorIndex == 0);
        Assert.Equal(DiagnosticIds.ToleratedSpecDeviation, diagnostic.Id);
        Assert.Equal(Severity.Warning, diagnostic.Severity);
        Assert.Contains("output state", diagnostic.Message);
        Assert.NotNull(Lowerer.Lower(read).Value);
    }

    /// <summary>A random 16x8 LSTM (LstmCases), the base of the 16x8 refusals.</summary>
    private static Model Lstm16x8() => LstmCases.Cases(17, 1, wide: true).Single().Model;

    [Fact]
    public void A16x8Lstm_Validates()
    {
        var model = Lstm16x8();
        Assert.Empty(ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!));
        Assert.Contains(Lowerer.Lower(model).Value!.Calls, c => c.Kernel == "tml_lstm_s16");
    }

    [Fact]
    public void A16x8LstmWithInt32Biases_IsTML1008()
    {
        // TFLM's 16x8 step reads int64 biases; an int32 bias tensor would be misread.
        var model = Lstm16x8();
        var op = Lstm(model);
        var bias = model.Main.Tensors[op.Inputs[13]];
        bias.Type = DataType.Int32;
        bias.Data = bias.Data!.Value.ToArray().Where((_, i) => i % 8 < 4).ToArray(); // the low words
        AssertRefused(model, DiagnosticIds.UnsupportedTypeCombination, "needs constant INT64 gate biases");
    }

    [Fact]
    public void A16x8LstmWithInt16Weights_IsTML1008()
    {
        var model = Lstm16x8();
        var w = model.Main.Tensors[Lstm(model).Inputs[6]];
        w.Type = DataType.Int16;
        w.Data = w.Data!.Value.ToArray().SelectMany(b => new[] { b, (byte)((sbyte)b < 0 ? 0xFF : 0) }).ToArray();
        AssertRefused(model, DiagnosticIds.UnsupportedTypeCombination, "needs constant INT8 weights");
    }

    [Fact]
    public void A16x8LstmWithAnInt8OutputState_IsRefused()
    {
        var model = Lstm16x8();
        var state = model.Main.Tensors[Lstm(model).Inputs[18]];
        state.Type = DataType.Int8;
        AssertRefused(model, DiagnosticIds.InvalidOperator, "output state (input 18) to be a variable tensor of type INT16");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(18)]
    public void A16x8LstmWithAZeroPointOff0_IsTML1017(int position)
    {
        // TFLM's 16x8 gate FC has no input offset: the zero point would be dropped silently.
        var model = Lstm16x8();
        var t = model.Main.Tensors[Lstm(model).Inputs[position]];
        t.Quantization = Quantization.PerTensor(t.Quantization!.Scale, 7);
        AssertRefused(model, DiagnosticIds.QuantizationSpecViolation, "int16 UNIDIRECTIONAL_SEQUENCE_LSTM activations must have zero point 0");
    }

    [Fact]
    public void A16x8LstmGateScaleBeyondThe64BitRequantization_StopsLowering()
    {
        // input scale x weight scale / 2^-12 >= 2^7 needs a shift above 7, which TFLM's 64-bit requantization cannot take.
        var model = Lstm16x8();
        var op = Lstm(model);
        model.Main.Tensors[op.Inputs[2]].Quantization = Quantization.PerTensor(1e4f, 0); // with an input scale >= 2^-16: >= 2^9
        var read = TfliteReader.Read(TfliteWriter.Write(model)).Value!;
        var lowered = Lowerer.Lower(read);
        Assert.Null(lowered.Value);
        Assert.Contains(lowered.Diagnostics, d => d.Id == DiagnosticIds.InvalidOperator && d.Message.Contains("64-bit requantization", StringComparison.Ordinal));
    }

    [Fact]
    public void OptionsRoundTrip()
    {
        var model = Mnist();
        var options = Lstm(model).OptionsAs<UnidirectionalSequenceLstmOptions>()!;
        Assert.Equal(new UnidirectionalSequenceLstmOptions(Activation.Tanh, 10f, 0f, false, false), options);
        var back = Lstm(TfliteReader.Read(TfliteWriter.Write(model)).Value!).OptionsAs<UnidirectionalSequenceLstmOptions>();
        Assert.Equal(options, back);
    }
}
