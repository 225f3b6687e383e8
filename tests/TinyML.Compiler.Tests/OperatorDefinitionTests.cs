// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Building;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>Each operator has one definition, and the stages that read it agree with each other.</summary>
public class OperatorDefinitionTests
{
    [Fact]
    public void EveryOperatorWeRun_HasOneDefinition_AndTheQuantizerWritesVersionsTheValidatorAccepts()
    {
        Assert.NotEmpty(ModelValidator.SupportedOperators);
        foreach (var kind in ModelValidator.SupportedOperators)
            Assert.Contains(kind, OperatorRegistry.Of(kind)!.Kinds);
        foreach (var pair in PostTrainingQuantizer.Int8Versions)
        {
            var rule = OperatorRegistry.RuleOf(pair.Key);
            Assert.True(rule is not null && pair.Value <= rule.MaxVersion, $"{OpKinds.Name(pair.Key)} version {pair.Value}");
        }
    }

    [Theory]
    [MemberData(nameof(RealModelTests.ModelData), MemberType = typeof(RealModelTests))]
    public void PatchMacs_EqualInspectMacs(string name)
    {
        var graph = TfliteReader.ReadFile(SharedData.Model(name)).Value!.Main;
        Assert.Equal(graph.Operators.Sum(op => Macs.Of(graph, op)), PatchPlanner.Macs(graph));
        foreach (var op in PatchGraph.Analyze(graph).Ops)
        {
            var output = graph.Tensors[op.Output].Shape;
            Assert.Equal(Macs.Of(graph, graph.Operators[op.Index]), op.MacsPerOutputPixel * output[1] * output[2]);
        }
    }

    [Fact]
    public void PatchMacs_CountSvdf()
    {
        var graph = TfliteReader.ReadFile(SharedData.Model("keyword_scrambled")).Value!.Main;
        var svdf = graph.Operators.Where(op => op.Kind == OpKind.Svdf).ToList();
        Assert.NotEmpty(svdf);
        Assert.All(svdf, op => Assert.True(Macs.Of(graph, op) > 0));
        Assert.Equal(ModelSummary.Of(TfliteReader.ReadFile(SharedData.Model("keyword_scrambled")).Value!).TotalMacs, PatchPlanner.Macs(graph));
    }

    private static Model Pad(OpKind kind, Quantization input, Quantization output)
    {
        var b = new ModelBuilder();
        int x = b.Tensor("input", DataType.Int8, new[] { 1, 4 }, input);
        int paddings = b.Constant("paddings", new[] { 2, 2 }, new[] { 0, 0, 1, 1 });
        var inputs = kind == OpKind.PadV2
            ? new[] { x, paddings, b.Constant("value", new[] { 1 }, new sbyte[] { (sbyte)output.ZeroPoint }, output) }
            : new[] { x, paddings };
        int y = b.Tensor("output", DataType.Int8, new[] { 1, 6 }, output);
        b.Operator(kind, inputs, new[] { y });
        return b.Inputs(x).Outputs(y).Build();
    }

    [Theory]
    [InlineData(OpKind.Pad)]
    [InlineData(OpKind.PadV2)]
    public void Int8Pad_ThatChangesTheQuantization_BreaksTheSpecification_AsAToleratedDeviation(OpKind kind)
    {
        // The kernel copies the input's bytes, so they mean other values under another scale or zero point; the
        // quantizer ties PAD's output to its input for that reason, and the validator checks it. TFLM's kernel copies
        // the same bytes and checks nothing, so the output is TFLM's: a warning (TML1018), not a refusal.
        var same = ModelValidator.Validate(Pad(kind, Quantization.PerTensor(0.05f, 3), Quantization.PerTensor(0.05f, 3)));
        Assert.Empty(same);
        foreach (var output in new[] { Quantization.PerTensor(0.1f, 3), Quantization.PerTensor(0.05f, 4) })
        {
            var warning = Assert.Single(ModelValidator.Validate(Pad(kind, Quantization.PerTensor(0.05f, 3), output)));
            Assert.Equal(DiagnosticIds.ToleratedSpecDeviation, warning.Id);
            Assert.Equal(Severity.Warning, warning.Severity);
            Assert.Contains("must keep the input quantization", warning.Message);
        }
    }

    [Theory]
    [InlineData(DataType.Int16, DataType.Int16, null)]
    [InlineData(DataType.Int8, DataType.Int8, null)]
    [InlineData(DataType.Int8, DataType.Int16, "SVDF state is INT8 with INT16 time weights")]
    [InlineData(DataType.Int16, DataType.Int8, "SVDF state is INT16 with INT8 time weights")]
    public void Svdf_StateTakesTheTimeWeightsType(DataType stateType, DataType timeType, string? refusal)
    {
        // TFLM's EvalIntegerSvdfReference<T> reads the time weights and the state as one type T.
        var b = new ModelBuilder();
        var act = Quantization.PerTensor(0.05f, 0);
        int input = b.Tensor("input", DataType.Int8, new[] { 1, 4 }, act);
        int feature = b.Constant("feature", new[] { 2, 4 }, new sbyte[8], Quantization.PerTensor(0.02f, 0));
        int size = timeType == DataType.Int16 ? 2 : 1;
        int time = b.Constant("time", timeType, new[] { 2, 3 }, new byte[6 * size], Quantization.PerTensor(0.002f, 0));
        int bias = b.Constant("b", new[] { 2 }, new int[2], Quantization.PerTensor(0.01f * 0.002f, 0));
        int state = b.Tensor("state", stateType, new[] { 1, 6 }, Quantization.PerTensor(0.01f, 0));
        b.Graph.Tensors[state].IsVariable = true;
        int output = b.Tensor("output", DataType.Int8, new[] { 1, 2 }, act);
        b.Operator(OpKind.Svdf, new[] { input, feature, time, bias, state }, new[] { output }, new SvdfOptions(1, Activation.None, false));
        var diagnostics = ModelValidator.Validate(b.Inputs(input).Outputs(output).Build());
        if (refusal is null)
            Assert.Empty(diagnostics);
        else
        {
            var error = Assert.Single(diagnostics);
            Assert.Equal(DiagnosticIds.InvalidOperator, error.Id);
            Assert.Contains(refusal, error.Message);
        }
    }

    [Fact]
    public void FixedOutputs_AreTheOnesTheQuantizerWrites()
    {
        Assert.Same(PostTrainingQuantizer.SoftmaxOutput, OperatorRegistry.Of(OpKind.Softmax)!.FixedOutput(OpKind.Softmax, DataType.Int8));
        Assert.Same(PostTrainingQuantizer.LogisticOutput, OperatorRegistry.Of(OpKind.Logistic)!.FixedOutput(OpKind.Logistic, DataType.Int8));
        Assert.Same(PostTrainingQuantizer.TanhOutput, OperatorRegistry.Of(OpKind.Tanh)!.FixedOutput(OpKind.Tanh, DataType.Int8));
    }
}
