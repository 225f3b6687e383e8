// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;

namespace TinyML.Samples;

/// <summary>The command line of the sample model builders: <c>Builder OUTPUT.tflite</c>.</summary>
public static class ModelFileWriter
{
    /// <summary>Builds the model and writes it to the one path in <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, string builderName, Func<Model> build)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine($"usage: {builderName} OUTPUT.tflite");
            return 2;
        }
        var model = build();
        var bytes = TfliteWriter.Write(model);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[0]))!);
        File.WriteAllBytes(args[0], bytes);
        var summary = ModelSummary.Of(model);
        Console.WriteLine($"wrote {args[0]} ({bytes.Length:N0} bytes, {summary.Operators.Count} operators, {summary.TotalMacs:N0} MACs)");
        return 0;
    }
}
