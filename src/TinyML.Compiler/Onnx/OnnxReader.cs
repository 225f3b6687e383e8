// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using Google.Protobuf;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Onnx.Proto;
using TinyML.Compiler.PostTraining;

namespace TinyML.Compiler.Onnx;

/// <summary>
/// Reads an ONNX model (a protobuf ModelProto) into the IR: NCHW convolutions become NHWC kernels with their weights
/// transposed at import, inputs and outputs keep the model's own layout, and float graphs get the same preparation a
/// float .tflite gets (batch norm and activations folded into their producers). Corrupt or unsupported files are
/// diagnostics, never exceptions. docs/onnx.md lists what is imported.
/// </summary>
public static class OnnxReader
{
    /// <summary>
    /// Protobuf nesting allowed: a graph inside an attribute inside a node is a few levels; a hostile file nesting
    /// deeper stops here.
    /// </summary>
    private const int RecursionLimit = 64;

    /// <summary>Reads a model from memory; <paramref name="fileName"/> names it in diagnostics.</summary>
    public static Result<Model> Read(byte[] bytes, string? fileName = null)
    {
        ModelProto proto;
        try
        {
            var input = CodedInputStream.CreateWithLimits(new System.IO.MemoryStream(bytes, false), bytes.Length, RecursionLimit);
            proto = ModelProto.Parser.WithDiscardUnknownFields(true).ParseFrom(input);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
        {
            return Fail($"not a readable ONNX model: {e.Message}", fileName);
        }
        var importer = new OnnxImporter(proto, fileName);
        Model? model;
        try
        {
            model = importer.Import();
        }
        catch (OnnxImportException e)
        {
            importer.Diagnostics.Add(new Diagnostic(e.Id, Severity.Error, e.Message) { File = fileName });
            model = null;
        }
        if (model is not null && !importer.Diagnostics.HasErrors)
        {
            ReshapeCleanup.Clean(model.Main);
            QdqFusion.Fuse(model.Main);
            FlattenFolding.Fold(model.Main);
            FloatGraphPreparation.Compact(model);
            if (model.Main.Tensors.Any(t => t.Type == DataType.Float32 && !t.IsConstant))
                model = FloatGraphPreparation.Prepare(model).Model;
        }
        return new Result<Model>(importer.Diagnostics.HasErrors ? null : model, importer.Diagnostics.Ordered().ToList());
    }

    /// <summary>
    /// Reads a serialized TensorProto (ONNX's test-data .pb files) as our element type, shape and little-endian bytes:
    /// what <c>tinyml run --input</c> and the generated class take for that tensor.
    /// </summary>
    public static Result<OnnxTensor> ReadTensor(byte[] bytes, string? fileName = null)
    {
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.WithDiscardUnknownFields(true).ParseFrom(CodedInputStream.CreateWithLimits(new System.IO.MemoryStream(bytes, false), bytes.Length, RecursionLimit));
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
        {
            return new(null, new[] { new Diagnostic(DiagnosticIds.CorruptOnnxModel, Severity.Error, $"not a readable ONNX tensor: {e.Message}") { File = fileName } });
        }
        var constant = OnnxConstant.Decode(proto, out string? problem);
        DataType? type = proto.DataType switch
        {
            OnnxTypes.Float => DataType.Float32,
            OnnxTypes.Int64 => DataType.Int64,
            OnnxTypes.Bool => DataType.Bool,
            var t => OnnxTypes.RunTime(t),
        };
        if (constant is null || type is null)
            return new(null, new[] { new Diagnostic(DiagnosticIds.UnsupportedTypeCombination, Severity.Error, $"tensor '{proto.Name}' cannot be read: {problem ?? $"its type {OnnxTypes.Name(proto.DataType)} is not supported"}") { File = fileName } });
        var data = type == DataType.Bool ? constant.Bytes(DataType.UInt8) : constant.Bytes(type.Value);
        return new(new OnnxTensor(proto.Name, type.Value, constant.Shape, data), Array.Empty<Diagnostic>());
    }

    private static Result<Model> Fail(string message, string? file) =>
        new(null, new[] { new Diagnostic(DiagnosticIds.CorruptOnnxModel, Severity.Error, message) { File = file } });
}

/// <summary>A tensor read from an ONNX TensorProto: its name, our element type, its shape and its little-endian bytes.</summary>
public sealed record OnnxTensor(string Name, DataType Type, ValueArray<int> Shape, byte[] Data);
