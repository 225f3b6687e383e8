// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Diagnostics;

namespace TinyML.Sdk.Tasks;

/// <summary>The inputs every task over the <c>TinyModel</c> items shares: the items, the project, the project-wide
/// settings that item metadata overrides, and where each setting was written (for the diagnostics' locations).</summary>
public abstract class TinyModelsTask : TinyMLTask
{
    /// <summary>The models.</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project file: relative paths start at its folder and diagnostics point at it.</summary>
    [Required]
    public string ProjectFile { get; set; } = "";

    /// <summary>Project files besides <see cref="ProjectFile"/> where a setting may be written (Directory.Build.props
    /// and .targets), searched in this order for the line a diagnostic points at.</summary>
    public string[] ImportedProjects { get; set; } = Array.Empty<string>();

    /// <summary>Project-wide RAM budget (TinyMLRamBudget); item metadata RamBudget overrides it.</summary>
    public string? RamBudget { get; set; }

    /// <summary>Project-wide flash budget (TinyMLFlashBudget); item metadata FlashBudget overrides it.</summary>
    public string? FlashBudget { get; set; }

    /// <summary>The project-wide target core (TinyMLTarget); item metadata TargetCore overrides it.</summary>
    public string? Target { get; set; }

    /// <summary>A board preset (TinyMLBoard): default budgets from its memories, its core the default target.</summary>
    public string? Board { get; set; }

    /// <summary>TinyMLMemoryReport: true writes each model's memory report (item metadata MemoryReport overrides it).</summary>
    public string? MemoryReport { get; set; }

    /// <summary>TinyMLTrain: the training mode of every model ("head"; empty: inference only); item metadata Train overrides it.</summary>
    public string? Train { get; set; }

    /// <summary>TinyMLLearningRate: the starting learning rate of trainable models; item metadata LearningRate overrides it.</summary>
    public string? LearningRate { get; set; }

    /// <summary>The project-wide settings by their MSBuild property names: every one changes what the build produces.</summary>
    protected virtual IEnumerable<(string Property, string? Value)> Settings() => new[]
    {
        ("TinyMLRamBudget", RamBudget), ("TinyMLFlashBudget", FlashBudget), ("TinyMLTarget", Target), ("TinyMLBoard", Board),
        ("TinyMLMemoryReport", MemoryReport), ("TinyMLTrain", Train), ("TinyMLLearningRate", LearningRate),
    };

    /// <summary>
    /// Every setting and every model's metadata as text, one per line in a stable order: written to a file that is an
    /// input of the compile step, so that a setting changed anywhere (the project, Directory.Build.props, -p:) makes
    /// the next build compile again, and an unchanged one leaves the file and the build incremental.
    /// </summary>
    protected string SettingsText()
    {
        var text = new StringBuilder();
        foreach (var (property, value) in Settings()) text.Append(property).Append('=').Append(value ?? "").Append('\n');
        foreach (var model in Models)
        {
            text.Append("model ").Append(model.ItemSpec).Append('\n');
            foreach (string name in model.CloneCustomMetadata().Keys.Cast<string>().OrderBy(n => n, StringComparer.OrdinalIgnoreCase))
                text.Append("  ").Append(name).Append('=').Append(model.GetMetadata(name)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// A model's OnnxRounding metadata: empty or "tflite" is TFLite's fixed point, "onnxruntime" onnxruntime's float32
    /// requantization of the int8 convolutions and fully connected layers (any model format; other operators keep
    /// TFLite's arithmetic). False after TML0003 naming the allowed values.
    /// </summary>
    protected bool TryRounding(ITaskItem model, out TinyML.Compiler.Lowering.RequantizationRounding rounding)
    {
        string value = model.GetMetadata("OnnxRounding").Trim();
        rounding = TinyML.Compiler.Lowering.RequantizationRounding.Tflite;
        if (value.Length == 0 || value.Equals("tflite", StringComparison.OrdinalIgnoreCase)) return true;
        if (value.Equals("onnxruntime", StringComparison.OrdinalIgnoreCase))
        {
            rounding = TinyML.Compiler.Lowering.RequantizationRounding.OnnxRuntime;
            return true;
        }
        Report(new Diagnostic(TinyML.DiagnosticIds.InvalidModelItem, Severity.Error,
            $"OnnxRounding of {model.ItemSpec} is '{value}'; use onnxruntime (onnxruntime's float32 requantization) or tflite (TFLite's fixed point, the default)")
        { File = ProjectFile, Line = LineOf("OnnxRounding=") });
        return false;
    }

    /// <summary>
    /// A model's training (docs/training.md): Train and LearningRate metadata, else TinyMLTrain and TinyMLLearningRate;
    /// null options for inference only. False after TML0012 naming the item and pointing at the setting.
    /// </summary>
    protected bool TryTraining(ITaskItem model, out TinyML.Compiler.Lowering.TrainingOptions? training)
    {
        string mode = model.GetMetadata("Train").Trim(), rate = model.GetMetadata("LearningRate").Trim();
        bool itemMode = mode.Length > 0, itemRate = rate.Length > 0;
        if (!itemMode) mode = (Train ?? "").Trim();
        if (!itemRate) rate = (LearningRate ?? "").Trim();
        var (options, error) = TinyML.Compiler.Lowering.TrainingOptions.Parse(mode, rate);
        training = options;
        if (error is null) return true;
        bool aboutRate = error.Message.StartsWith("LearningRate=", StringComparison.Ordinal);
        var (file, line, where) = aboutRate
            ? itemRate ? (ProjectFile, LineOf("LearningRate="), "") : Locate("TinyMLLearningRate")
            : itemMode ? (ProjectFile, LineOf("Train="), "") : Locate("TinyMLTrain");
        string setting = aboutRate ? (itemRate ? "" : " (TinyMLLearningRate)") : (itemMode ? "" : " (TinyMLTrain)");
        Report(error with { Message = $"{model.ItemSpec}: {error.Message}{setting}{(where.Length > 0 ? ", " + where : "")}", File = file, Line = line });
        return false;
    }

    /// <summary>The 1-based line of the first occurrence of <paramref name="text"/> in the project, or 0.</summary>
    protected int LineOf(string text) => ProjectLines.LineOf(ProjectFile, text);

    /// <summary>
    /// Where a project-wide property was set: "the command line" for a global property (-p:), else the first of the
    /// project and <see cref="ImportedProjects"/> with an element of that name, at its line; the project otherwise.
    /// </summary>
    protected (string File, int Line, string Where) Locate(string property)
    {
        if (BuildEngine is IBuildEngine6 engine && engine.GetGlobalProperties().Keys.Any(k => string.Equals(k, property, StringComparison.OrdinalIgnoreCase)))
            return (ProjectFile, 0, "set on the command line");
        foreach (string file in new[] { ProjectFile }.Concat(ImportedProjects.Where(f => !string.IsNullOrWhiteSpace(f))))
        {
            int line = ProjectLines.LineOf(file, "<" + property + ">");
            if (line == 0) line = ProjectLines.LineOf(file, "<" + property + " ");
            if (line > 0) return (file, line, string.Equals(file, ProjectFile, StringComparison.Ordinal) ? "" : $"set in {Path.GetFileName(file)}");
        }
        return (ProjectFile, 0, "");
    }

    /// <summary>The TinyMLBoard preset, null when none is set; TML0002 when it names no preset.</summary>
    protected Board? FindBoard(out bool invalid)
    {
        invalid = false;
        if (string.IsNullOrWhiteSpace(Board)) return null;
        var board = Compiler.Budgets.Board.Find(Board!.Trim());
        if (board is not null) return board;
        var (file, line, _) = Locate("TinyMLBoard");
        Report(new Diagnostic(TinyML.DiagnosticIds.UnknownBoard, Severity.Error,
            $"TinyMLBoard '{Board}' is not a known board; known: {string.Join(", ", Compiler.Budgets.Board.Presets.Select(b => $"{b.Name} ({b.Description})"))}")
        { File = file, Line = line });
        invalid = true;
        return null;
    }

    /// <summary>The model's core in lower case (TargetCore, else TinyMLTarget, else the board's), null for a host-only
    /// model; TML0004 when it is not a supported core.</summary>
    protected string? ResolveCore(ITaskItem model, Board? board, out bool invalid)
    {
        invalid = false;
        string itemCore = model.GetMetadata("TargetCore").Trim();
        string core = itemCore.Length > 0 ? itemCore : (Target ?? "").Trim() is { Length: > 0 } target ? target : board?.Core ?? "";
        if (core.Length == 0) return null;
        string? known = Compiler.Budgets.Board.Cores.FirstOrDefault(c => string.Equals(c, core, StringComparison.OrdinalIgnoreCase));
        if (known is not null) return known;
        var (file, line, _) = itemCore.Length > 0 ? (ProjectFile, LineOf("TargetCore="), "") : Locate("TinyMLTarget");
        Report(new Diagnostic(TinyML.DiagnosticIds.UnknownTarget, Severity.Error,
            $"target core '{core}' is not supported; supported: {string.Join(", ", Compiler.Budgets.Board.Cores)}") { File = file, Line = line });
        invalid = true;
        return null;
    }

    /// <summary>
    /// The budget of one model: item metadata, then the project property, then the board preset; null when none is
    /// set. TML0001 when the value is not a size. The budget's source and location name where it was set.
    /// </summary>
    protected Budget? ResolveBudget(ITaskItem item, string metadata, string property, string? propertyValue, long? boardBytes, Board? board, out bool invalid, bool reportInvalid = true)
    {
        invalid = false;
        string value = item.GetMetadata(metadata).Trim();
        string source;
        (string File, int Line, string Where) at;
        if (value.Length > 0)
        {
            source = $"{metadata} of {Path.GetFileName(item.ItemSpec)}";
            at = (ProjectFile, LineOf(metadata + "="), "");
        }
        else if ((propertyValue ?? "").Trim() is { Length: > 0 } fromProperty)
        {
            value = fromProperty;
            source = property;
            at = Locate(property);
        }
        else
        {
            if (boardBytes is not long bytesOfBoard) return null;
            var (file, line, where) = Locate("TinyMLBoard");
            return new Budget(bytesOfBoard, $"TinyMLBoard = {board!.Name}{(where.Length > 0 ? ", " + where : "")}", file, line);
        }
        if (ByteSize.TryParse(value, out long bytes, out string problem)) return new Budget(bytes, $"{source} = {value}{(at.Where.Length > 0 ? ", " + at.Where : "")}", at.File, at.Line);
        if (reportInvalid)
            Report(new Diagnostic(TinyML.DiagnosticIds.InvalidBudget, Severity.Error, $"{source} is '{value}': {problem}") { File = at.File, Line = at.Line });
        invalid = true;
        return null;
    }
}

/// <summary>Finding the project line a diagnostic points at.</summary>
internal static class ProjectLines
{
    /// <summary>The 1-based line of the first occurrence of <paramref name="text"/> in the file, or 0.</summary>
    public static int LineOf(string projectFile, string text)
    {
        try
        {
            var lines = File.ReadAllLines(projectFile);
            return Array.FindIndex(lines, l => l.IndexOf(text, StringComparison.Ordinal) >= 0) + 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 0;
        }
    }
}
