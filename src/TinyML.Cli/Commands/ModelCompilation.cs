// SPDX-License-Identifier: Apache-2.0
using System.IO;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;

namespace TinyML.Cli.Commands;

/// <summary>Reads and lowers a model for the commands that need a plan, printing every diagnostic on stderr.</summary>
internal static class ModelCompilation
{
    public static (Model? Model, ExecutionPlan? Plan) Compile(FileInfo file, TextWriter stderr)
    {
        var read = TfliteReader.ReadFile(file.FullName);
        foreach (var d in read.Diagnostics) stderr.WriteLine(d.ToString());
        if (read.Value is null) return (null, null);
        var lowered = Lowerer.Lower(read.Value, file.FullName);
        foreach (var d in lowered.Diagnostics) stderr.WriteLine(d.ToString());
        return (read.Value, lowered.Value);
    }
}
