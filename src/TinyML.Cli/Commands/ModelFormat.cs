// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Text.RegularExpressions;
using TinyML.Compiler;
using TinyML.Compiler.Ir;

namespace TinyML.Cli.Commands;

/// <summary>What a model file is, as <c>inspect</c> names it: a TFLite flatbuffer, or an ONNX model imported into the IR.</summary>
internal sealed record ModelFormat(string Name, string Label, int? Opset)
{
    /// <summary>The importer writes "imported from ONNX (producer, opset N)" into the model's description.</summary>
    private static readonly Regex ImportedOpset = new(@"^imported from ONNX \(.*opset (\d+)\)$", RegexOptions.CultureInvariant);

    /// <summary>The format of a model read from <paramref name="path"/>. By the file, not the description: a .tflite
    /// written from an ONNX import (tinyml quantize) keeps the description but is TFLite.</summary>
    public static ModelFormat Of(string path, Model model)
    {
        bool onnx;
        try
        {
            onnx = ModelReader.IsOnnx(File.ReadAllBytes(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            onnx = false;
        }
        if (!onnx) return new ModelFormat("tflite", $"TFLite schema v{model.Version}", null);
        var match = model.Description is null ? Match.Empty : ImportedOpset.Match(model.Description);
        int? opset = match.Success && int.TryParse(match.Groups[1].Value, out int n) ? n : null;
        return new ModelFormat("onnx", opset is null ? "ONNX (imported)" : $"ONNX (imported, opset {opset})", opset);
    }
}
