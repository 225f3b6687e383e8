// SPDX-License-Identifier: Apache-2.0
using System;
using System.CommandLine;
using System.IO;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Compilation;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;

namespace TinyML.Cli.Commands;

/// <summary>The commands' way to a plan: the compilation facade for a .tflite, the container for a .tmlmodel; every diagnostic on stderr.</summary>
internal static class ModelCompilation
{
    /// <summary>
    /// Compiles with <see cref="ModelCompiler"/>: with a RAM budget the techniques are tried as the SDK tries them, and
    /// with <paramref name="measure"/> the plan is fitted on the device too, so the CLI and the SDK make the same plan.
    /// The commands plan within the budget and say themselves whether it fits: no TML3001 from here.
    /// </summary>
    public static CompiledModel Compile(FileInfo file, TextWriter stderr, LoweringOptions? options = null, long? ramBudget = null,
        IProgress<string>? progress = null, string target = ExecutionPlan.HostTarget, DeviceMeasurement? measure = null)
    {
        var result = ModelCompiler.Compile(file.FullName, new CompilationOptions
        {
            Target = target,
            Lowering = options ?? LoweringOptions.Default,
            RamBudget = ramBudget is long bytes ? new Budget(bytes, "--ram-budget") : null,
            CheckBudgets = false,
        }, measure, progress);
        foreach (var d in result.Diagnostics) stderr.WriteLine(d.ToString());
        return result;
    }

    /// <summary>True for a plan container (.tmlmodel), which the commands run or compile without reading a model.</summary>
    public static bool IsPlanContainer(FileInfo file) => file.Extension.Equals(".tmlmodel", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads a .tmlmodel; with a core, checks that the plan was made for it (or for the host). Null after printing
    /// TML1016 or TML3010.
    /// </summary>
    public static ExecutionPlan? ReadPlan(FileInfo file, TextWriter stderr, string? core, IProgress<string>? progress = null)
    {
        progress?.Report("reading the plan");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine(new Diagnostic(TinyML.DiagnosticIds.UnreadableFile, Severity.Error, $"cannot read the plan: {e.Message}") { File = file.FullName }.ToString());
            return null;
        }
        var read = PlanContainer.Read(bytes, file.FullName);
        if (core is not null) read = ModelCompiler.ForTarget(read, core, file.FullName);
        foreach (var d in read.Diagnostics) stderr.WriteLine(d.ToString());
        return read.Value;
    }

    /// <summary>Options that only a .tflite takes: an error for a .tmlmodel, whose memory is already planned.</summary>
    public static bool RefuseForPlan(FileInfo file, TextWriter stderr, params (string Option, object? Value)[] options)
    {
        foreach (var (option, value) in options)
            if (value is not null && value is not false)
            {
                stderr.WriteLine($"error: {option} applies to a .tflite model; {file.Name} is a plan whose memory is already planned");
                return true;
            }
        return false;
    }

    /// <summary>Parses --ram-budget (or <paramref name="option"/>; null when absent); false after printing the error when it is not a size.</summary>
    public static bool TryRamBudget(string? value, TextWriter stderr, out long? bytes, string option = "--ram-budget")
    {
        bytes = null;
        if (value is null) return true;
        if (!ByteSize.TryParse(value, out long parsed, out string problem))
        {
            stderr.WriteLine($"error: {option} is '{value}': {problem}");
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

    /// <summary>The --train option of plan, run and compile.</summary>
    public static Option<string> TrainOption() => new("--train")
    {
        Description = "Plan on-device training: 'head' trains the int8 FULLY_CONNECTED before the SOFTMAX output, 'biases:K' also the biases of the K layers before it (docs/training.md)",
    };

    /// <summary>The --learning-rate option of plan, run and compile.</summary>
    public static Option<string> LearningRateOption() => new("--learning-rate")
    {
        Description = $"The starting learning rate of --train (default {TrainingOptions.DefaultLearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)})",
    };

    /// <summary>Applies --train and --learning-rate (absent: inference only); false after printing TML0012 when either is invalid.</summary>
    public static bool TryTraining(string? mode, string? learningRate, TextWriter stderr, ref LoweringOptions options)
    {
        if (mode is null && learningRate is null) return true;
        if (mode is null)
        {
            stderr.WriteLine($"error: --learning-rate applies to training; add --train head (or biases:K)");
            return false;
        }
        var (training, error) = TrainingOptions.Parse(mode, learningRate);
        if (error is not null)
        {
            // The parser names the MSBuild settings; on the command line they are the options.
            stderr.WriteLine((error with { Message = error.Message.Replace("LearningRate=", "--learning-rate ").Replace("Train=", "--train ") }).ToString());
            return false;
        }
        options = options with { Train = training };
        return true;
    }

    /// <summary>The values --onnx-rounding takes, as docs/cli.md lists them.</summary>
    public const string RoundingValues = "'onnxruntime' or 'tflite'";

    /// <summary>The --onnx-rounding option of plan, run and compile.</summary>
    public static Option<string> RoundingOption() => new("--onnx-rounding")
    {
        Description = "How int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED requantize: 'tflite' (default: TFLite's fixed point, " +
            "bit-exact with TFLM) or 'onnxruntime' (float32 scale, round half to even: bit-exact with onnxruntime); other operators keep TFLite's",
    };

    /// <summary>Parses a rounding name (case-insensitive); null when it is not one.</summary>
    public static RequantizationRounding? ParseRounding(string value) =>
        value.Equals("onnxruntime", StringComparison.OrdinalIgnoreCase) ? RequantizationRounding.OnnxRuntime
        : value.Equals("tflite", StringComparison.OrdinalIgnoreCase) ? RequantizationRounding.Tflite
        : null;

    /// <summary>Applies --onnx-rounding (absent: unchanged); false after printing the error when it is not a rounding.</summary>
    public static bool TryRounding(string? value, TextWriter stderr, ref LoweringOptions options)
    {
        if (value is null) return true;
        if (ParseRounding(value) is not { } rounding)
        {
            stderr.WriteLine($"error: --onnx-rounding takes {RoundingValues}, not '{value}'");
            return false;
        }
        options = options with { Rounding = rounding };
        return true;
    }
}
