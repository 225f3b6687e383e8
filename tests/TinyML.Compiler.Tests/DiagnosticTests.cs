// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>One test per loading and validation diagnostic: the code, the severity and where it points.</summary>
public class DiagnosticTests
{
    private static Diagnostic SingleError(Result<Model> result, string id)
    {
        Assert.Null(result.Value);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(id, error.Id);
        Assert.Equal(Severity.Error, error.Severity);
        return error;
    }

    /// <summary>Writes a model after a change, reads it back and validates it.</summary>
    private static Diagnostic ValidationError(Action<Model> change, string id)
    {
        var model = TestModels.FullyConnected();
        change(model);
        var read = TfliteReader.Read(TfliteWriter.Write(model), "test.tflite");
        Assert.Empty(read.Diagnostics);
        var diagnostics = ModelValidator.Validate(read.Value!, "test.tflite");
        var match = diagnostics.FirstOrDefault(d => d.Id == id);
        Assert.True(match is not null, $"expected {id}, got: {string.Join("; ", diagnostics)}");
        Assert.Equal("test.tflite", match!.File);
        return match;
    }

    [Fact]
    public void ValidTestModel_HasNoDiagnostics()
    {
        var read = TfliteReader.Read(TfliteWriter.Write(TestModels.FullyConnected()));
        Assert.Empty(read.Diagnostics);
        Assert.Empty(ModelValidator.Validate(read.Value!));
    }

    [Fact]
    public void TML1001_NotATfliteFile()
    {
        var error = SingleError(TfliteReader.Read(System.Text.Encoding.ASCII.GetBytes("{\"not\": \"a model\"}"), "x.tflite"), DiagnosticIds.NotATfliteFile);
        Assert.Contains("TFL3", error.Message);
        Assert.StartsWith("x.tflite: error TML1001:", error.ToString());
        SingleError(TfliteReader.Read(new byte[3]), DiagnosticIds.NotATfliteFile);
    }

    [Fact]
    public void TML1002_TruncatedFile()
    {
        byte[] bytes = TfliteWriter.Write(TestModels.FullyConnected());
        var error = SingleError(TfliteReader.Read(bytes.Take(bytes.Length / 3).ToArray()), DiagnosticIds.CorruptFlatBuffer);
        Assert.Contains("outside the file", error.Message);
    }

    [Fact]
    public void TML1003_BufferIndexOutOfRange()
    {
        var error = SingleError(TfliteReader.Read(RawTflite.SingleRelu(bufferIndex: 7, bufferCount: 2)), DiagnosticIds.BufferOutOfRange);
        Assert.Contains("buffer 7", error.Message);
    }

    [Fact]
    public void TML1003_ExternalBufferOutsideTheFile()
    {
        var error = SingleError(TfliteReader.Read(RawTflite.SingleRelu(1, 2, externalOffset: 1 << 20, externalSize: 4)), DiagnosticIds.BufferOutOfRange);
        Assert.Contains("outside", error.Message);
    }

    [Fact]
    public void ExternalBufferAfterTheFlatbuffer_IsRead()
    {
        byte[] flatbuffer = RawTflite.SingleRelu(1, 2, externalOffset: 1, externalSize: 4);
        // Place the 4 data bytes after the flatbuffer, then point buffer 1 at them.
        ulong offset = (ulong)flatbuffer.Length;
        byte[] withData = RawTflite.SingleRelu(1, 2, externalOffset: offset, externalSize: 4).Concat(new byte[] { 1, 2, 3, 4 }).ToArray();
        Assert.Equal(flatbuffer.Length, withData.Length - 4);
        var result = TfliteReader.Read(withData);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, result.Value!.Main.Tensors[0].Data!.Value.ToArray());
    }

    [Fact]
    public void TML1004_UnsupportedSchemaVersion()
    {
        var model = TestModels.FullyConnected();
        model.Version = 2;
        var error = SingleError(TfliteReader.Read(TfliteWriter.Write(model)), DiagnosticIds.UnsupportedSchemaVersion);
        Assert.Contains("version 2", error.Message);
    }

    [Fact]
    public void TML1005_UnsupportedOperator()
    {
        var error = ValidationError(m => m.Main.Operators[0].Kind = OpKind.Exp, DiagnosticIds.UnsupportedOperator);
        Assert.Equal(0, error.OperatorIndex);
        Assert.Equal("EXP", error.OperatorType);
        Assert.Contains("CONV_2D", error.Message); // lists what is supported
    }

    [Fact]
    public void TML1005_CustomOperator()
    {
        var error = ValidationError(m =>
        {
            m.Main.Operators[0].Kind = OpKind.Custom;
            m.Main.Operators[0].CustomCode = "TFLite_Detection_PostProcess";
            m.Main.Operators[0].Options = null;
        }, DiagnosticIds.UnsupportedOperator);
        Assert.Contains("TFLite_Detection_PostProcess", error.Message);
    }

    [Fact]
    public void TML1006_UnsupportedOperatorVersion()
    {
        var error = ValidationError(m => m.Main.Operators[0].Version = 99, DiagnosticIds.UnsupportedOperatorVersion);
        Assert.Equal("FULLY_CONNECTED", error.OperatorType);
        Assert.Contains("version 99", error.Message);
    }

    [Fact]
    public void TML1007_DynamicShape()
    {
        var error = ValidationError(m => m.Main.Tensors[0].ShapeSignature = new[] { 1, -1 }, DiagnosticIds.DynamicShape);
        Assert.Equal("input", error.TensorName);
    }

    [Fact]
    public void DynamicBatchOfOne_IsAccepted()
    {
        var model = TestModels.FullyConnected();
        model.Main.Tensors[0].ShapeSignature = new[] { -1, 4 };
        Assert.Empty(ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!));
    }

    [Fact]
    public void TML1008_UnsupportedTypeCombination()
    {
        var error = ValidationError(m => m.Main.Tensors[3].Type = DataType.Float32, DiagnosticIds.UnsupportedTypeCombination);
        Assert.Contains("INT8 input with FLOAT32 output", error.Message);
        Assert.Contains("INT8->INT8", error.Message);
    }

    [Fact]
    public void TML1009_MissingQuantization()
    {
        var error = ValidationError(m => m.Main.Tensors[3].Quantization = null, DiagnosticIds.MissingQuantization);
        Assert.Equal("output", error.TensorName);
        Assert.Equal(0, error.OperatorIndex);
    }

    [Fact]
    public void TML1010_ScaleCountDoesNotMatchChannels()
    {
        var error = ValidationError(m => m.Main.Tensors[1].Quantization = new Quantization(new[] { 0.1f, 0.2f }, new[] { 0L, 0L }, 0),
            DiagnosticIds.InconsistentQuantization);
        Assert.Equal("weights", error.TensorName);
        Assert.Contains("2 scales for 3 channels", error.Message);
    }

    [Fact]
    public void TML1010_NonPositiveScale()
    {
        var error = ValidationError(m => m.Main.Tensors[0].Quantization = Quantization.PerTensor(0f, 0), DiagnosticIds.InconsistentQuantization);
        Assert.Equal("input", error.TensorName);
    }

    [Fact]
    public void TML1011_TensorIndexOutOfRange()
    {
        var result = TfliteReader.Read(RawTflite.SingleRelu(0, 1, tensorIndex: 5));
        Assert.Null(result.Value);
        Assert.All(result.Diagnostics, d => Assert.Equal(DiagnosticIds.IndexOutOfRange, d.Id));
        Assert.Contains(result.Diagnostics, d => d.OperatorIndex == 0 && d.OperatorType == "RELU" && d.Message.Contains("tensor 5"));
    }

    [Fact]
    public void TML1011_OperatorCodeOutOfRange()
    {
        var error = SingleError(TfliteReader.Read(RawTflite.SingleRelu(0, 1, opcodeIndex: 3)), DiagnosticIds.IndexOutOfRange);
        Assert.Contains("operator code 3", error.Message);
    }

    [Fact]
    public void TML1012_NegativeDimension()
    {
        var model = TestModels.FullyConnected();
        model.Main.Tensors[3].Shape = new[] { 1, -3 };
        var error = SingleError(TfliteReader.Read(TfliteWriter.Write(model)), DiagnosticIds.InvalidShape);
        Assert.Equal("output", error.TensorName);
    }

    [Fact]
    public void TML1012_HugeShape()
    {
        var model = TestModels.FullyConnected();
        model.Main.Tensors[3].Shape = new[] { 65536, 65536, 65536 };
        SingleError(TfliteReader.Read(TfliteWriter.Write(model)), DiagnosticIds.InvalidShape);
    }

    [Fact]
    public void TML1013_NoSubgraph()
    {
        var model = TestModels.FullyConnected();
        model.Subgraphs.Clear();
        model.Signatures.Clear();
        SingleError(TfliteReader.Read(TfliteWriter.Write(model)), DiagnosticIds.UnsupportedModelStructure);
    }

    [Fact]
    public void TML1013_SeveralSubgraphs()
    {
        var model = TestModels.FullyConnected();
        model.Subgraphs.Add(TestModels.FullyConnected().Main);
        var diagnostics = ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        Assert.Equal(DiagnosticIds.UnsupportedModelStructure, Assert.Single(diagnostics).Id);
    }

    [Fact]
    public void TML1014_ConstantSizeMismatch()
    {
        var error = ValidationError(m => m.Main.Tensors[1].Data = new byte[5], DiagnosticIds.ConstantSizeMismatch);
        Assert.Equal("weights", error.TensorName);
        Assert.Contains("5 bytes", error.Message);
    }

    [Fact]
    public void TML1015_WrongInputCount()
    {
        var error = ValidationError(m => m.Main.Operators[0].Inputs = new[] { 0 }, DiagnosticIds.InvalidOperator);
        Assert.Contains("1 inputs", error.Message);
    }

    [Fact]
    public void TML1015_ZeroStride()
    {
        var model = TfliteReader.ReadFile(Path.Combine(TinyML.Tests.SharedData.Root, "ops", "conv_1x1_s1", "model.tflite")).Value!;
        model.Main.Operators[0].Options = ((Conv2DOptions)model.Main.Operators[0].Options!) with { StrideW = 0 };
        var diagnostics = ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        Assert.Equal(DiagnosticIds.InvalidOperator, Assert.Single(diagnostics).Id);
    }

    [Fact]
    public void TML1016_UnreadableFile()
    {
        var error = SingleError(TfliteReader.ReadFile("/definitely/not/here.tflite"), DiagnosticIds.UnreadableFile);
        Assert.Contains("not found", error.Message);
    }

    [Fact]
    public void TML1017_SoftmaxOutputScale()
    {
        var model = TfliteReader.ReadFile(Path.Combine(TinyML.Tests.SharedData.Root, "ops", "softmax_1x10_b1", "model.tflite")).Value!;
        model.Main.Tensors[model.Main.Outputs[0]].Quantization = Quantization.PerTensor(1f / 255, -128);
        var diagnostics = ModelValidator.Validate(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        var error = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticIds.QuantizationSpecViolation, error.Id);
        Assert.Contains("1/256", error.Message);
    }

    [Fact]
    public void TML1017_AsymmetricWeights()
    {
        var error = ValidationError(m => m.Main.Tensors[1].Quantization = Quantization.PerTensor(0.02f, 3), DiagnosticIds.QuantizationSpecViolation);
        Assert.Contains("symmetric", error.Message);
    }

    [Fact]
    public void TML1017_BiasScaleIsNotInputTimesWeightScale()
    {
        // input 0.5 x weights 0.02 = 0.01 is the bias scale; 0.05 is off by 0.04, far beyond 2% of the output's 0.25.
        var error = ValidationError(m => m.Main.Tensors[2].Quantization = Quantization.PerTensor(0.05f, 0), DiagnosticIds.QuantizationSpecViolation);
        Assert.Equal("bias", error.TensorName);
        Assert.Contains("input scale x weight scale", error.Message);
    }

    [Fact]
    public void DiagnosticIds_EachHasADocumentationPage()
    {
        var ids = typeof(DiagnosticIds).GetFields().Where(f => f.Name != nameof(DiagnosticIds.HelpLinkBase)).Select(f => (string)f.GetValue(null)!).ToList();
        Assert.All(ids, id => Assert.Matches("^TML[0-9]{4}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var missing = ids.Where(id => !File.Exists(Path.Combine(TinyML.Tests.SharedData.Repo, "docs", "diagnostics", id + ".md"))).ToList();
        Assert.True(missing.Count == 0, "no docs/diagnostics page for: " + string.Join(", ", missing));
        // The help link of every diagnostic (tasks, CLI lines in the build, generator) is that page in the repository.
        Assert.All(ids, id => Assert.EndsWith("/docs/diagnostics/" + id + ".md", DiagnosticIds.HelpLink(id)));
    }
}
