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
    public static (Model? Model, ExecutionPlan? Plan) Compile(FileInfo file, TextWriter stderr) => Compile(file, stderr, LoweringOptions.Default);

    public static (Model? Model, ExecutionPlan? Plan) Compile(FileInfo file, TextWriter stderr, LoweringOptions options)
    {
        var read = TfliteReader.ReadFile(file.FullName);
        foreach (var d in read.Diagnostics) stderr.WriteLine(d.ToString());
        if (read.Value is null) return (null, null);
        var lowered = Lowerer.Lower(read.Value, file.FullName, options);
        foreach (var d in lowered.Diagnostics) stderr.WriteLine(d.ToString());
        return (read.Value, lowered.Value);
    }

    /// <summary>The options for --optimize: "memory" is every technique with the minimum-peak choice; null is the default.</summary>
    public static bool TryOptimize(string? value, TextWriter stderr, out LoweringOptions options)
    {
        options = LoweringOptions.Default;
        if (value is null) return true;
        if (value == "memory")
        {
            options = MemoryTechniques.Everything(LoweringOptions.MinimumMemory);
            return true;
        }
        if (value == "none")
        {
            options = LoweringOptions.None;
            return true;
        }
        stderr.WriteLine($"error: --optimize takes 'memory' (every memory technique, minimum peak) or 'none', not '{value}'");
        return false;
    }
}
