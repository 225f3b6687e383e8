// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TinyML.Compiler.Diagnostics;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// Decides, for each <c>TinyModel</c>, whether it is also built for a Cortex-M core and where: the core is the item's
/// TargetCore, else TinyMLTarget, else the TinyMLBoard preset's core. Returns every model with
/// <c>_TinyML_TargetCore</c> and <c>_TinyML_DeviceReport</c> (empty for host-only models), and one
/// <see cref="DeviceModels"/> item per model to cross-compile, with the paths the cross-compile target needs.
/// </summary>
public sealed class ResolveTinyModelTargets : TinyModelsTask
{
    /// <summary>TinyMLOptimizeFor: speed (-O2, the default) or size (-Os).</summary>
    public string? OptimizeFor { get; set; }

    /// <summary>TinyMLSqnrWarning: the SQNR in dB under which quantization warns (TML2005); a model's SqnrWarning overrides it.</summary>
    public string? SqnrWarning { get; set; }

    /// <summary>Where the firmware files go, one folder per core below it (default $(OutDir)tinyml/).</summary>
    [Required]
    public string OutputRoot { get; set; } = "";

    /// <summary>Where the reports and the cross compiler's work folders go, one folder per core below it.</summary>
    [Required]
    public string IntermediateRoot { get; set; } = "";

    /// <summary>The models, with _TinyML_TargetCore and _TinyML_DeviceReport.</summary>
    [Output]
    public ITaskItem[] ResolvedModels { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The float models to quantize: the model file, with QuantizedFile (the int8 model the build uses instead),
    /// Calibration, Validation, QuantizationMethod and SqnrWarning, paths made absolute.</summary>
    [Output]
    public ITaskItem[] QuantizeModels { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The calibration and validation files of <see cref="QuantizeModels"/>: inputs of the quantize step.</summary>
    [Output]
    public ITaskItem[] CalibrationFiles { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The models to cross-compile: the model file, with TargetCore, CName, OutputDirectory, Library,
    /// WorkDirectory and ReportFile.</summary>
    [Output]
    public ITaskItem[] DeviceModels { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>True when TinyMLOptimizeFor is size.</summary>
    [Output]
    public bool OptimizeForSize { get; set; }

    /// <inheritdoc />
    protected override void Run()
    {
        string optimize = (OptimizeFor ?? "").Trim();
        if (optimize.Length > 0 && !optimize.Equals("speed", StringComparison.OrdinalIgnoreCase) && !optimize.Equals("size", StringComparison.OrdinalIgnoreCase))
        {
            Report(new Diagnostic(TinyML.DiagnosticIds.InvalidOptimizeFor, Severity.Error,
                $"TinyMLOptimizeFor is '{optimize}'; use speed (-O2, the default) or size (-Os)") { File = ProjectFile, Line = ProjectLines.LineOf(ProjectFile, "TinyMLOptimizeFor") });
            return;
        }
        OptimizeForSize = optimize.Equals("size", StringComparison.OrdinalIgnoreCase);
        var board = ProjectLines.FindBoard(Board, ProjectFile, Report, out bool badBoard);
        if (badBoard) return;
        string projectDir = Path.GetDirectoryName(Path.GetFullPath(ProjectFile))!;
        string Full(string path) => Path.GetFullPath(Path.Combine(projectDir, path));
        var resolved = new List<ITaskItem>();
        var device = new List<ITaskItem>();
        var quantize = new List<ITaskItem>();
        var calibrationFiles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var model in Models)
        {
            string? core = ProjectLines.ResolveCore(model, Target, board, ProjectFile, Report, out bool badCore);
            if (badCore) continue;
            if (!ResolveQuantization(model, Full, out var quantizeItem)) continue;
            // A quantized model is compiled (host and device) from the int8 file the quantize step writes.
            var copy = quantizeItem is null ? new TaskItem(model) : new TaskItem(quantizeItem.GetMetadata("QuantizedFile"), model.CloneCustomMetadata());
            if (quantizeItem is not null)
            {
                copy.SetMetadata("_TinyML_Source", model.GetMetadata("FullPath"));
                quantize.Add(quantizeItem);
                foreach (string pattern in new[] { quantizeItem.GetMetadata("Calibration"), quantizeItem.GetMetadata("Validation") }.Where(p => p.Length > 0))
                    foreach (string file in Compiler.PostTraining.CalibrationData.ResolveFiles(pattern)) calibrationFiles.Add(file);
            }
            copy.SetMetadata("_TinyML_TargetCore", core ?? "");
            copy.SetMetadata("_TinyML_DeviceReport", "");
            if (core is not null)
            {
                string name = Compiler.Emit.CEmitter.NameOf(model.ItemSpec);
                string work = Path.Combine(Full(IntermediateRoot), core);
                string output = Path.Combine(Full(OutputRoot), core) + Path.DirectorySeparatorChar;
                string report = Path.Combine(work, name + ".compile.json");
                copy.SetMetadata("_TinyML_DeviceReport", report);
                var item = new TaskItem(copy.GetMetadata("FullPath"));
                item.SetMetadata("TargetCore", core);
                item.SetMetadata("CName", name);
                item.SetMetadata("OutputDirectory", output);
                item.SetMetadata("Library", Path.Combine(output, $"lib{name}.a"));
                item.SetMetadata("WorkDirectory", Path.Combine(work, name) + Path.DirectorySeparatorChar);
                item.SetMetadata("ReportFile", report);
                item.SetMetadata("RamBudgetArgument", RamBudgetArgument(model, board));
                device.Add(item);
            }
            resolved.Add(copy);
        }
        foreach (var clash in device.GroupBy(d => d.GetMetadata("Library"), StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            Report(new Diagnostic(TinyML.DiagnosticIds.InvalidModelItem, Severity.Error,
                $"{string.Join(" and ", clash.Select(c => c.ItemSpec))} would both be written as {clash.Key}; give the model files different names")
            { File = ProjectFile });
        ResolvedModels = resolved.ToArray();
        DeviceModels = device.ToArray();
        QuantizeModels = quantize.ToArray();
        CalibrationFiles = calibrationFiles.Select(f => (ITaskItem)new TaskItem(f)).ToArray();
    }

    /// <summary>
    /// Whether a model is quantized in the build: Quantize="int8", or a Calibration without Quantize. Quantize="none"
    /// keeps a float model in float32. A float model with neither is refused later by CompileTinyModels (TML2001),
    /// which reads the model. False after TML0003 for a Quantize value that is neither.
    /// </summary>
    private bool ResolveQuantization(ITaskItem model, Func<string, string> full, out ITaskItem? item)
    {
        item = null;
        string mode = model.GetMetadata("Quantize").Trim().ToLowerInvariant();
        string calibration = model.GetMetadata("Calibration").Trim();
        if (mode is not ("" or "int8" or "none"))
        {
            Report(new Diagnostic(TinyML.DiagnosticIds.InvalidModelItem, Severity.Error,
                $"Quantize of {model.ItemSpec} is '{model.GetMetadata("Quantize")}'; use int8 (quantize with Calibration) or none (run in float32)")
            { File = ProjectFile, Line = ProjectLines.LineOf(ProjectFile, "Quantize=") });
            return false;
        }
        if (mode == "none" || (mode == "" && calibration.Length == 0)) return true;
        item = new TaskItem(model.GetMetadata("FullPath"));
        item.SetMetadata("QuantizedFile", Path.Combine(full(IntermediateRoot), "quantized", Path.GetFileName(model.ItemSpec)));
        item.SetMetadata("Calibration", calibration.Length == 0 ? "" : full(calibration));
        string validation = model.GetMetadata("Validation").Trim();
        item.SetMetadata("Validation", validation.Length == 0 ? "" : full(validation));
        item.SetMetadata("QuantizationMethod", model.GetMetadata("QuantizationMethod").Trim());
        string sqnr = model.GetMetadata("SqnrWarning").Trim();
        item.SetMetadata("SqnrWarning", sqnr.Length > 0 ? sqnr : (SqnrWarning ?? "").Trim());
        return true;
    }

    /// <summary>
    /// "--ram-budget=BYTES" for the cross compile, so that it applies the memory techniques exactly as the host
    /// compile (CompileTinyModels) does; empty without a budget or with one that is not a size (CompileTinyModels
    /// reports that).
    /// </summary>
    private string RamBudgetArgument(ITaskItem model, Compiler.Budgets.Board? board)
    {
        string value = model.GetMetadata("RamBudget");
        if (string.IsNullOrWhiteSpace(value)) value = RamBudget ?? "";
        if (!string.IsNullOrWhiteSpace(value))
            return Compiler.Budgets.ByteSize.TryParse(value, out long bytes) ? $"--ram-budget={bytes}" : "";
        return board is null ? "" : $"--ram-budget={board.SramBytes}";
    }

}

/// <summary>Checks shared by the tasks: the board preset, the core of a model, the project line that set them.</summary>
internal static class ProjectLines
{
    /// <summary>The 1-based line of the first occurrence of <paramref name="text"/> in the project, or 0.</summary>
    public static int LineOf(string projectFile, string text)
    {
        try
        {
            var lines = File.ReadAllLines(projectFile);
            return Array.FindIndex(lines, l => l.IndexOf(text, StringComparison.Ordinal) >= 0) + 1;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The TinyMLBoard preset, null when none is set; TML0002 when it names no preset.</summary>
    public static Compiler.Budgets.Board? FindBoard(string? name, string projectFile, Action<Diagnostic> report, out bool invalid)
    {
        invalid = false;
        if (string.IsNullOrWhiteSpace(name)) return null;
        var board = Compiler.Budgets.Board.Find(name!.Trim());
        if (board is not null) return board;
        report(new Diagnostic(TinyML.DiagnosticIds.UnknownBoard, Severity.Error,
            $"TinyMLBoard '{name}' is not a known board; known: {string.Join(", ", Compiler.Budgets.Board.Presets.Select(b => $"{b.Name} ({b.Description})"))}")
        { File = projectFile, Line = LineOf(projectFile, "TinyMLBoard") });
        invalid = true;
        return null;
    }

    /// <summary>The model's core in lower case (TargetCore, else TinyMLTarget, else the board's), null for a host-only
    /// model; TML0004 when it is not a supported core.</summary>
    public static string? ResolveCore(ITaskItem model, string? target, Compiler.Budgets.Board? board, string projectFile, Action<Diagnostic> report, out bool invalid)
    {
        invalid = false;
        string core = (model.GetMetadata("TargetCore") is { Length: > 0 } itemCore ? itemCore : target is { Length: > 0 } ? target : board?.Core ?? "").Trim();
        if (core.Length == 0) return null;
        string? known = Compiler.Budgets.Board.Cores.FirstOrDefault(c => string.Equals(c, core, StringComparison.OrdinalIgnoreCase));
        if (known is not null) return known;
        report(new Diagnostic(TinyML.DiagnosticIds.UnknownTarget, Severity.Error,
            $"target core '{core}' is not supported; supported: {string.Join(", ", Compiler.Budgets.Board.Cores)}") { File = projectFile, Line = LineOf(projectFile, core) });
        invalid = true;
        return null;
    }
}
