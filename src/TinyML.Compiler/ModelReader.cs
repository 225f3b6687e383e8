// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Onnx;
using TinyML.Compiler.Tflite;

namespace TinyML.Compiler;

/// <summary>
/// Reads a model file of either format we take: a TFLite flatbuffer (by its TFL3 identifier) or an ONNX model (by its
/// .onnx extension or its protobuf header). Every entry point (the SDK's tasks, each tinyml command) reads through here.
/// </summary>
public static class ModelReader
{
    /// <summary>Reads a model file.</summary>
    public static Result<Model> ReadFile(string path)
    {
        var (bytes, failure) = ReadBytes(path);
        return bytes is null ? failure! : Read(bytes, path);
    }

    /// <summary>Reads a model from memory; <paramref name="fileName"/> names it in diagnostics and its extension counts.</summary>
    public static Result<Model> Read(byte[] bytes, string? fileName = null) =>
        IsOnnx(bytes, fileName) ? OnnxReader.Read(bytes, fileName) : TfliteReader.Read(bytes, fileName);

    /// <summary>True for bytes the ONNX importer reads: no TFLite identifier, and an ONNX header or a .onnx name.</summary>
    public static bool IsOnnx(byte[] bytes, string? fileName) => !TfliteReader.HasTfliteIdentifier(bytes) && OnnxModel.Describe(bytes, fileName) is not null;

    /// <summary>A model file's bytes, or the TML1016 failure: missing, unreadable, or larger than any model we take.</summary>
    internal static (byte[]? Bytes, Result<Model>? Failure) ReadBytes(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return (null, Fail($"model file not found: {path}", path));
            if (info.Length > TfliteReader.MaxFileBytes)
                return (null, Fail($"model file is {info.Length} bytes; the limit is {TfliteReader.MaxFileBytes} bytes", path));
            return (File.ReadAllBytes(path), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return (null, Fail($"cannot read model file: {e.Message}", path));
        }
    }

    private static Result<Model> Fail(string message, string file) =>
        new(null, new[] { new Diagnostic(DiagnosticIds.UnreadableFile, Severity.Error, message) { File = file } });
}
