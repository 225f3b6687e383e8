// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Reports;
using TinyML.Compiler.Tflite;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// Compiles each <c>TinyModel</c> item: reads and lowers the model, checks the RAM and flash budgets, and writes the
/// plan container (embedded as a resource) and the manifest (read by the source generator). Item metadata:
/// ClassName, Namespace, Access, RamBudget, FlashBudget, Labels, and the private _TinyML_PlanFile and
/// _TinyML_ManifestFile the targets compute.
/// </summary>
public sealed class CompileTinyModels : TinyModelsTask
{
    /// <summary>Project-wide flash budget (TinyMLFlashBudget).</summary>
    public string? FlashBudget { get; set; }

    /// <summary>TinyMLMemoryReport: true writes each model's memory report (item metadata MemoryReport overrides it).</summary>
    public string? MemoryReport { get; set; }

    /// <summary>Where the memory reports go (<c>&lt;model&gt;.memory.html</c>).</summary>
    public string? ReportDirectory { get; set; }

    /// <summary>Every file the task wrote, for FileWrites.</summary>
    [Output]
    public ITaskItem[] WrittenFiles { get; set; } = Array.Empty<ITaskItem>();

    /// <inheritdoc />
    protected override void Run()
    {
        var board = ProjectLines.FindBoard(Board, ProjectFile, Report, out bool badBoard);
        if (badBoard) return;
        var written = new List<ITaskItem>();
        foreach (var item in Models) CompileOne(item, board, written);
        WrittenFiles = written.ToArray();
    }

    private int LineOf(string text) => ProjectLines.LineOf(ProjectFile, text);

    /// <summary>The budget for one model: item metadata, then the project property, then the board preset.</summary>
    private Budget? ResolveBudget(ITaskItem item, string metadata, string? property, string propertyName, long? boardBytes, out bool invalid)
    {
        invalid = false;
        string value = item.GetMetadata(metadata);
        string source = $"{metadata} of {Path.GetFileName(item.ItemSpec)}";
        string marker = $"{metadata}=";
        if (string.IsNullOrWhiteSpace(value))
        {
            value = property ?? "";
            source = propertyName;
            marker = propertyName;
        }
        if (!string.IsNullOrWhiteSpace(value))
        {
            if (ByteSize.TryParse(value, out long bytes)) return new Budget(bytes, $"{source} = {value}", ProjectFile, LineOf(marker));
            Report(new Diagnostic(DiagnosticIds.InvalidBudget, Severity.Error,
                $"{source} is '{value}', which is not a size; write bytes or a size such as 64KB or 1MB") { File = ProjectFile, Line = LineOf(marker) });
            invalid = true;
            return null;
        }
        return boardBytes is long b ? new Budget(b, $"TinyMLBoard = {Board}", ProjectFile, LineOf("TinyMLBoard")) : null;
    }

    private void CompileOne(ITaskItem item, Board? board, List<ITaskItem> written)
    {
        string modelPath = item.GetMetadata("FullPath");
        string planFile = item.GetMetadata("_TinyML_PlanFile");
        string manifestFile = item.GetMetadata("_TinyML_ManifestFile");
        var ram = ResolveBudget(item, "RamBudget", RamBudget, "TinyMLRamBudget", board?.SramBytes, out bool badRam);
        var flash = ResolveBudget(item, "FlashBudget", FlashBudget, "TinyMLFlashBudget", board?.FlashBytes, out bool badFlash);
        string access = item.GetMetadata("Access");
        if (access.Length > 0 && access != "public" && access != "internal")
        {
            Report(new Diagnostic(DiagnosticIds.InvalidModelItem, Severity.Error, $"Access of {item.ItemSpec} is '{access}'; use public or internal") { File = ProjectFile, Line = LineOf("Access=") });
            return;
        }
        string? core = ProjectLines.ResolveCore(item, Target, board, ProjectFile, Report, out bool badCore);
        if (badCore) return;
        var labels = ReadLabels(item);
        if (badRam || badFlash || labels is null) return;

        var read = TfliteReader.ReadFile(modelPath);
        foreach (var d in read.Diagnostics) Report(d);
        if (read.Value is null) return;
        if (item.GetMetadata("Quantize").Trim().Length == 0 && item.GetMetadata("_TinyML_Source").Length == 0 && PostTrainingQuantizer.HasFloatActivations(read.Value))
        {
            Report(new Diagnostic(DiagnosticIds.MissingCalibrationData, Severity.Error,
                $"{Path.GetFileName(modelPath)} is a float32 model: give it Calibration=\"calib/**/*.npy\" (float32 .npy or .bin inputs) to quantize it to int8 in the build, or Quantize=\"none\" to run it in float32")
            { File = ProjectFile, Line = LineOf(Path.GetFileName(modelPath)) });
            return;
        }
        // Over the RAM budget, the memory techniques are tried before the build fails (MemoryTechniques.FitToBudget).
        var fit = ram is null ? null : MemoryTechniques.FitToBudget(read.Value, modelPath, ram.Bytes);
        var lowered = fit?.Lowered ?? Lowerer.Lower(read.Value, modelPath);
        foreach (var d in lowered.Diagnostics) Report(d);
        if (lowered.Value is not { } plan) return;

        string name = Path.GetFileName(modelPath);
        // Before the budget check: a model over its budget is when the picture helps most.
        WriteMemoryReport(item, read.Value, plan, ram?.Bytes, modelPath, written);
        var measured = core is null ? null : ReadDeviceReport(item, core, name);
        var budgetDiagnostics = BudgetCheck.Check(name, read.Value.Main, plan, ram, flash, measured).Select(d => fit?.Explain(d) ?? d).ToList();
        foreach (var d in budgetDiagnostics) Report(d);
        if (budgetDiagnostics.Any(d => d.Severity == Severity.Error))
        {
            // No outputs on failure, so that the next build compiles the model again and reports again.
            foreach (string stale in new[] { planFile, manifestFile })
                if (File.Exists(stale)) File.Delete(stale);
            return;
        }

        var summary = ModelSummary.Of(read.Value);
        var manifest = new ModelManifest
        {
            ModelPath = modelPath,
            ClassName = item.GetMetadata("ClassName") is { Length: > 0 } className ? className : DefaultClassName(modelPath),
            Namespace = item.GetMetadata("Namespace"),
            Access = access.Length > 0 ? access : "public",
            ResourceName = item.GetMetadata("_TinyML_ResourceName"),
            ArenaBytes = plan.ArenaBytes,
            StateBytes = plan.StateBytes,
            FlashBytes = BudgetCheck.FlashBytes(plan),
            Macs = summary.TotalMacs,
        };
        manifest.Inputs.AddRange(plan.Inputs.Select(Describe));
        manifest.Outputs.AddRange(plan.Outputs.Select(Describe));
        manifest.Labels.AddRange(labels);
        WriteIfChanged(planFile, PlanContainer.Write(plan));
        WriteIfChanged(manifestFile, manifest.ToJson());
        written.Add(new TaskItem(planFile));
        written.Add(new TaskItem(manifestFile));
        Log.LogMessage(MessageImportance.Normal,
            $"TinyML: {name}: arena {ByteSize.Format(plan.ArenaBytes)}, state {plan.StateBytes} bytes, flash {ByteSize.Format(BudgetCheck.FlashBytes(plan))}, {summary.TotalMacs:N0} MACs" +
            (measured is null ? "" : $"; on {measured.Target}: flash {ByteSize.Format(measured.FlashBytes)}, RAM {ByteSize.Format(measured.RamBytes)} (from the ELF)"));
    }

    /// <summary>
    /// The self-contained HTML/SVG memory report (per-operator live memory, arena layout over time, each technique and
    /// the budget line) when MemoryReport or TinyMLMemoryReport is true.
    /// </summary>
    private void WriteMemoryReport(ITaskItem item, Model model, ExecutionPlan plan, long? ramBudget, string modelPath, List<ITaskItem> written)
    {
        string wanted = item.GetMetadata("MemoryReport").Trim();
        if (wanted.Length == 0) wanted = (MemoryReport ?? "").Trim();
        if (!wanted.Equals("true", StringComparison.OrdinalIgnoreCase)) return;
        var variants = MemoryTechniques.Evaluate(model, modelPath).Where(t => t.Plan is not null)
            .Select(t => new ReportVariant(t.Name, t.Plan!, t.MacsOverheadPercent)).ToList();
        long macs = ModelSummary.Of(model).TotalMacs;
        variants.Add(new ReportVariant("chosen", plan, macs <= 0 ? 0 : 100.0 * plan.ExtraMacs / macs));
        string directory = string.IsNullOrEmpty(ReportDirectory) ? Path.GetDirectoryName(item.GetMetadata("_TinyML_PlanFile"))! : ReportDirectory!;
        Directory.CreateDirectory(directory);
        string path = Path.GetFullPath(Path.Combine(directory, Path.GetFileNameWithoutExtension(modelPath) + ".memory.html"));
        WriteIfChanged(path, System.Text.Encoding.UTF8.GetBytes(TinyML.Compiler.Reports.MemoryReport.Render(Path.GetFileName(modelPath), model.Main, variants, ramBudget)));
        written.Add(new TaskItem(path));
        Log.LogMessage(MessageImportance.High, $"TinyML: {Path.GetFileName(modelPath)}: memory report {path}");
    }

    /// <summary>
    /// The sizes the cross compile measured (the tinyml.compile/1 report in _TinyML_DeviceReport), or null when
    /// there is none: a design-time build does not cross-compile, so its budget check uses the host estimate (a lower
    /// bound of the real sizes), and the next real build checks again once the report is there.
    /// </summary>
    private MeasuredSizes? ReadDeviceReport(ITaskItem item, string core, string name)
    {
        string path = item.GetMetadata("_TinyML_DeviceReport");
        if (path.Length == 0 || !File.Exists(path))
        {
            Log.LogMessage(MessageImportance.Low, $"TinyML: {name}: no {core} size report yet; budgets use the host estimate");
            return null;
        }
        var report = CompileReport.Parse(File.ReadAllText(path));
        if (report is null)
        {
            Report(new Diagnostic(TinyML.DiagnosticIds.TinyMLCommandFailed, Severity.Error,
                $"the size report {path} of tinyml compile is not a {CompileReport.Schema} object; delete it and build again") { File = ProjectFile });
            return null;
        }
        return report.ToMeasuredSizes();
    }

    /// <summary>The model file name in PascalCase: hello_sine.tflite becomes HelloSine (the generator checks it).</summary>
    public static string DefaultClassName(string modelPath)
    {
        var parts = Path.GetFileNameWithoutExtension(modelPath).Split(new[] { '_', '-', '.', ' ' }, StringSplitOptions.RemoveEmptyEntries);
        string name = string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1)));
        return name.Length > 0 && char.IsDigit(name[0]) ? "Model" + name : name.Length > 0 ? name : "Model";
    }

    private static ManifestTensor Describe(PlanTensor t) => new()
    {
        Name = t.Name,
        Type = DataTypes.Name(t.Type),
        Shape = t.Shape.ToArray(),
        Bytes = t.Bytes,
        Scale = t.Scale,
        ZeroPoint = t.ZeroPoint,
    };

    private List<string>? ReadLabels(ITaskItem item)
    {
        string labels = item.GetMetadata("Labels");
        if (labels.Length == 0) return new List<string>();
        string path = Path.IsPathRooted(labels) ? labels : Path.Combine(Path.GetDirectoryName(ProjectFile)!, labels);
        if (!File.Exists(path))
        {
            Report(new Diagnostic(DiagnosticIds.InvalidModelItem, Severity.Error, $"the Labels file of {item.ItemSpec} was not found: {path}") { File = ProjectFile, Line = LineOf("Labels=") });
            return null;
        }
        return File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }
}
