// SPDX-License-Identifier: Apache-2.0
using System.IO;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>An ONNX model given to the reader: TML1001 says what it is and how to convert it.</summary>
public class OnnxFileTests
{
    private static string Onnx(params string[] path) => Path.Combine(new[] { SharedData.Root, "onnx" }.Concat(path).ToArray());

    private static Diagnostic SingleError(Result<Ir.Model> result)
    {
        Assert.Null(result.Value);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.NotATfliteFile, error.Id);
        Assert.Equal(Severity.Error, error.Severity);
        return error;
    }

    [Fact]
    public void TML1001_OnnxFile_GivenToTheTfliteReader_SaysItIsOnnx_AndWhereItIsRead()
    {
        string path = Onnx("models", "sine", "model.onnx");
        var error = SingleError(TfliteReader.ReadFile(path));
        Assert.Equal(path, error.File);
        Assert.Contains("is an ONNX model", error.Message);
        Assert.Contains("keras2onnx", error.Message);  // the producer, as /work/shared/onnx/README.md says
        Assert.Contains("read by the ONNX importer (ModelReader", error.Message);
    }

    [Fact]
    public void ModelReader_ImportsOnnx_ByContentOrExtension_AndTfliteByItsIdentifier()
    {
        byte[] onnx = File.ReadAllBytes(Onnx("models", "mnist-8", "model.onnx"));
        foreach (string name in new[] { "model.onnx", "model.bin", "model.tflite" })
        {
            var read = ModelReader.Read(onnx, name);
            Assert.NotNull(read.Value);
            Assert.Equal(new[] { 1, 1, 28, 28 }, read.Value!.Main.Tensors[read.Value.Main.Inputs[0]].Shape);
        }
        var tflite = ModelReader.Read(TfliteWriter.Write(TestModels.FullyConnected()), "m.onnx");
        Assert.NotNull(tflite.Value);
    }

    [Fact]
    public void ModelReader_OnnxExtension_OnGarbage_IsTML1020()
    {
        var read = ModelReader.Read(System.Text.Encoding.ASCII.GetBytes("not really a model"), "m.onnx");
        Assert.Null(read.Value);
        Assert.Equal(DiagnosticIds.CorruptOnnxModel, Assert.Single(read.Diagnostics).Id);
    }

    [Fact]
    public void TML1001_OnnxContent_IsRecognizedWithoutTheExtension()
    {
        byte[] bytes = File.ReadAllBytes(Onnx("models", "mnist-8", "model.onnx"));
        var error = SingleError(TfliteReader.Read(bytes, "model.bin"));
        // ir_version is field 1, a one-byte varint in any current file.
        Assert.Equal(0x08, bytes[0]);
        Assert.Contains($"ONNX model (IR version {bytes[1]}", error.Message);
    }

    [Fact]
    public void TML1001_EveryOnnxNodeTestModel_IsRecognizedByContent()
    {
        var models = Directory.GetDirectories(Onnx("node")).Select(d => Path.Combine(d, "model.onnx")).Where(File.Exists).ToList();
        Assert.NotEmpty(models);
        foreach (string model in models)
            Assert.Contains("ONNX model (IR version", SingleError(TfliteReader.Read(File.ReadAllBytes(model), "model")).Message);
    }

    [Fact]
    public void TML1001_OnnxExtension_IsEnough()
    {
        var error = SingleError(TfliteReader.Read(System.Text.Encoding.ASCII.GetBytes("not really a model"), "m.onnx"));
        Assert.Contains("ONNX model (by its .onnx extension)", error.Message);
    }

    [Fact]
    public void ATfliteModel_NamedOnnx_StillReads()
    {
        var read = TfliteReader.Read(TfliteWriter.Write(TestModels.FullyConnected()), "m.onnx");
        Assert.Empty(read.Diagnostics);
        Assert.NotNull(read.Value);
    }

    [Fact]
    public void TextAndJson_AreNotTakenForOnnx()
    {
        foreach (string text in new[] { "{\"not\": \"a model\"}", "hello world, this is text" })
        {
            var error = SingleError(TfliteReader.Read(System.Text.Encoding.ASCII.GetBytes(text), "x.tflite"));
            Assert.DoesNotContain("ONNX", error.Message);
        }
    }
}
