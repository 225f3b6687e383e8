// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;
using System.IO;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;

namespace TinyML.Cli.Commands;

/// <summary>Reads and lowers a model for the commands that need a plan, printing every diagnostic on stderr.</summary>
internal static class ModelCompilation
{
    /// <summary>
    /// Reads and lowers with <paramref name="options"/>. With a RAM budget, a plan over it is replaced as the SDK does
    /// it (<see cref="MemoryTechniques.FitToBudget"/>), so the plan the CLI compiles for a device is the plan the build
    /// runs on the host.
    /// </summary>
    public static (Model? Model, CompiledPlan? Plan) Compile(FileInfo file, TextWriter stderr, LoweringOptions? options = null, long? ramBudget = null,
        IProgress<string>? progress = null)
    {
        options ??= LoweringOptions.Default;
        progress?.Report("reading the model");
        var read = TfliteReader.ReadFile(file.FullName);
        foreach (var d in read.Diagnostics) stderr.WriteLine(d.ToString());
        if (read.Value is null) return (null, null);
        progress?.Report(ramBudget is long b
            ? $"lowering the model and planning its memory within {b.ToString("N0", CultureInfo.InvariantCulture)} bytes"
            : "lowering the model and planning its memory");
        var lowered = ramBudget is long budget
            ? MemoryTechniques.FitToBudget(read.Value, file.FullName, budget, options).Lowered
            : Lowerer.Lower(read.Value, file.FullName, options);
        foreach (var d in lowered.Diagnostics) stderr.WriteLine(d.ToString());
        return (read.Value, lowered.Value);
    }

    /// <summary>Parses --ram-budget (null when absent); false after printing the error when it is not a size.</summary>
    public static bool TryRamBudget(string? value, TextWriter stderr, out long? bytes)
    {
        bytes = null;
        if (value is null) return true;
        if (!ByteSize.TryParse(value, out long parsed, out string problem))
        {
            stderr.WriteLine($"error: --ram-budget is '{value}': {problem}");
            return false;
        }
        bytes = parsed;
        return true;
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
