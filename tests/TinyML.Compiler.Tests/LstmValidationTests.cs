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
/// are not variables. Each is a coded diagnostic on the operator, and lowering stops at it (no crash).
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
