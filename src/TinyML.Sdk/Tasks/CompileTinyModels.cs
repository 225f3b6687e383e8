// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
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
    /// <summary>Where the memory reports go (<c>&lt;model&gt;.memory.html</c>).</summary>
    public string? ReportDirectory { get; set; }

    /// <summary>
    /// True in an IDE's design-time build: a model over its budget is then reported as a warning and its manifest is
    /// still written, so that the generated class stays available while the user fixes the model; the plan is not
    /// written, so the real build compiles again and fails.
    /// </summary>
    public bool DesignTimeBuild { get; set; }

    /// <summary>Every file the task wrote, for FileWrites.</summary>
    [Output]
    public ITaskItem[] WrittenFiles { get; set; } = Array.Empty<ITaskItem>();

    /// <inheritdoc />
    protected override void Run()
    {
        var board = FindBoard(out bool badBoard);
        if (badBoard) return;
        var written = new List<ITaskItem>();
        foreach (var item in Models) CompileOne(item, board, written);
        WrittenFiles = written.ToArray();
    }

    private void CompileOne(ITaskItem item, Board? board, List<ITaskItem> written)
    {
        string modelPath = item.GetMetadata("FullPath");
        string planFile = item.GetMetadata("_TinyML_PlanFile");
        string manifestFile = item.GetMetadata("_TinyML_ManifestFile");
        var ram = ResolveBudget(item, "RamBudget", "TinyMLRamBudget", RamBudget, board?.SramBytes, board, out bool badRam);
        var flash = ResolveBudget(item, "FlashBudget", "TinyMLFlashBudget", FlashBudget, board?.FlashBytes, board, out bool badFlash);
        string access = item.GetMetadata("Access");
        if (access.Length > 0 && access != "public" && access != "internal")
        {
            Report(new Diagnostic(DiagnosticIds.InvalidModelItem, Severity.Error, $"Access of {item.ItemSpec} is '{access}'; use public or internal") { File = ProjectFile, Line = LineOf("Access=") });
            return;
        }
        string? core = ResolveCore(item, board, out bool badCore);
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
        string name = Path.GetFileName(modelPath);
        var deviceReport = core is null ? null : ReadDeviceReport(item, core, name);
        var measured = deviceReport?.ToMeasuredSizes();
        // Over the RAM budget, the memory techniques are tried before the build fails (MemoryTechniques.FitToBudget),
        // for the budget the cross compile planned for when it had to leave room for the device's own RAM.
        long? planFor = deviceReport?.PlanningBudgetBytes ?? ram?.Bytes;
        var fit = planFor is long planningBudget ? MemoryTechniques.FitToBudget(read.Value, modelPath, planningBudget) : null;
        var lowered = fit?.Lowered ?? Lowerer.Lower(read.Value, modelPath);
        foreach (var d in lowered.Diagnostics) Report(d);
        if (lowered.Value is not { } plan) return;

        // Before the budget check: a model over its budget is when the picture helps most.
        WriteMemoryReport(item, read.Value, plan, ram?.Bytes, modelPath, written);
        var budgetDiagnostics = BudgetCheck.Check(name, read.Value.Main, plan, ram, flash, measured).Select(d => fit?.Explain(d) ?? d).ToList();
        bool overBudget = budgetDiagnostics.Any(d => d.Severity == Severity.Error);
        foreach (var d in budgetDiagnostics)
            Report(DesignTimeBuild && d.Severity == Severity.Error
                ? d with { Severity = Severity.Warning, Message = d.Message + " (design-time build: the generated class is kept; the build fails)" }
                : d);

        long macs = ModelSummary.Of(read.Value).TotalMacs + plan.ExtraMacs;
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
            Macs = macs,
        };
        manifest.Inputs.AddRange(plan.Inputs.Select(Describe));
        manifest.Outputs.AddRange(plan.Outputs.Select(Describe));
        manifest.Labels.AddRange(labels);
        // The manifest (and so the generated class) stays even over budget, so that the editor keeps the API while
        // the user fixes the model; without the plan the next build compiles the model again and reports again.
        WriteIfChanged(manifestFile, manifest.ToJson());
        written.Add(new TaskItem(manifestFile));
        if (overBudget)
        {
            if (File.Exists(planFile)) File.Delete(planFile);
            return;
        }
        WriteIfChanged(planFile, PlanContainer.Write(plan));
        written.Add(new TaskItem(planFile));
        Log.LogMessage(MessageImportance.High, Summary(name, manifest, plan, fit, ram, measured, planFor));
    }

    /// <summary>
    /// The one line per model at the default verbosity: the class, RAM, flash and MACs the app gets, the sizes from
    /// the ELF when a core was built, and, when the RAM budget made the build go beyond the default techniques,
    /// which ones it applied and what they cost in MACs.
    /// </summary>
    private static string Summary(string name, ModelManifest manifest, CompiledPlan plan, BudgetFit? fit, Budget? ram, MeasuredSizes? measured, long? plannedFor)
    {
        string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder($"TinyML: {name} -> {(manifest.Namespace.Length > 0 ? manifest.Namespace + "." : "")}{manifest.ClassName}: " +
            $"RAM {Count(plan.ArenaBytes + plan.StateBytes)} B (arena {Count(plan.ArenaBytes)} + state {Count(plan.StateBytes)}), " +
            $"flash {Count(BudgetCheck.FlashBytes(plan))} B of constants, {Count(manifest.Macs)} MACs");
        if (measured is not null)
            text.Append($"; on {measured.Target} from the ELF: RAM {Count(measured.RamBytes)} B, flash {Count(measured.FlashBytes)} B");
        var chosen = fit?.Attempts.FirstOrDefault(a => ReferenceEquals(a.Plan, plan));
        if (fit is not null && chosen is not null && chosen != fit.Attempts[0])
        {
            long baseMacs = manifest.Macs - plan.ExtraMacs;
            var patches = plan.Patches;
            text.Append($"; to fit the RAM budget ({ram!.Source}) the build applied {MemoryTechniques.Describe(chosen.Options)} " +
                $"(peak {Count(fit.Attempts[0].ArenaBytes)} -> {Count(plan.ArenaBytes)} B" +
                (plannedFor is long planned && planned < ram.Bytes ? $", planned within {Count(planned)} B to leave room for the device's static data and stack)" : ")"));
            if (patches is { Applied: true })
                text.Append($": the first {patches.PrefixOperators} operators run in {patches.Grid} patches");
            text.Append(plan.ExtraMacs == 0 ? ", at no extra MACs"
                : $", at +{Count(plan.ExtraMacs)} MACs (+{(100.0 * plan.ExtraMacs / Math.Max(1, baseMacs)).ToString("F1", CultureInfo.InvariantCulture)}%)");
        }
        return text.ToString();
    }

    /// <summary>
    /// The self-contained HTML/SVG memory report (per-operator live memory, arena layout over time, each technique and
    /// the budget line) when MemoryReport or TinyMLMemoryReport is true.
    /// </summary>
    private void WriteMemoryReport(ITaskItem item, Model model, CompiledPlan plan, long? ramBudget, string modelPath, List<ITaskItem> written)
    {
        string wanted = item.GetMetadata("MemoryReport").Trim();
        if (wanted.Length == 0) wanted = (MemoryReport ?? "").Trim();
        if (!wanted.Equals("true", StringComparison.OrdinalIgnoreCase)) return;
        var variants = TinyML.Compiler.Reports.MemoryReport.Variants(model, modelPath, plan);
        string directory = string.IsNullOrEmpty(ReportDirectory) ? Path.GetDirectoryName(item.GetMetadata("_TinyML_PlanFile"))! : ReportDirectory!;
        Directory.CreateDirectory(directory);
        string stem = Path.GetFileNameWithoutExtension(item.GetMetadata("_TinyML_PlanFile"));
        string path = Path.GetFullPath(Path.Combine(directory, stem + ".memory.html"));
        WriteIfChanged(path, System.Text.Encoding.UTF8.GetBytes(TinyML.Compiler.Reports.MemoryReport.Render(Path.GetFileName(modelPath), model.Main, variants, ramBudget)));
        written.Add(new TaskItem(path));
        Log.LogMessage(MessageImportance.High, $"TinyML: {Path.GetFileName(modelPath)}: memory report {path}");
    }

    /// <summary>
    /// The cross compile's report (the tinyml.compile/1 report in _TinyML_DeviceReport: the sizes it measured and the
    /// budget it planned for), or null when
    /// there is none: a design-time build does not cross-compile, so its budget check uses the host estimate (a lower
    /// bound of the real sizes), and the next real build checks again once the report is there.
    /// </summary>
    private CompileReport? ReadDeviceReport(ITaskItem item, string core, string name)
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
        return report;
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
