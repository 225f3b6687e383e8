// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TinyML.Compiler;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Compilation;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Reports;
using TinyML.Compiler.Tflite;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// Compiles each <c>TinyModel</c> item through <see cref="ModelCompiler"/>: reads and lowers the model, fits the RAM
/// budget (on the device too, cross-compiling the plan with <c>tinyml compile PLAN.tmlmodel</c> for a model with a
/// core), checks the budgets, and writes the plan container (embedded as a resource, and the one the device library
/// is built from), the compile report and the manifest (read by the source generator). Item metadata:
/// ClassName, Namespace, Access, RamBudget, FlashBudget, Labels, OnnxRounding, Train, LearningRate, and the private _TinyML_PlanFile and
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

    /// <summary>tinyml.dll, which cross-compiles the plans of the models with a core (TinyMLCliPath); empty: no cross
    /// compile, the budgets use the host estimate (as in a design-time build).</summary>
    public string? CliPath { get; set; }

    /// <summary>The dotnet host that runs <see cref="CliPath"/> (default: the build's).</summary>
    public string? DotnetHostPath { get; set; }

    /// <summary>Options of every cross compile (--size, --toolchain DIR), one item each.</summary>
    public ITaskItem[] DeviceOptions { get; set; } = Array.Empty<ITaskItem>();

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
        if (badCore || !TryRounding(item, out var rounding) || !TryTraining(item, out var training)) return;
        var labels = ReadLabels(item);
        if (badRam || badFlash || labels is null) return;

        var read = ModelReader.ReadFile(modelPath);
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
        bool device = core is not null && !DesignTimeBuild && !string.IsNullOrEmpty(CliPath);
        var options = new CompilationOptions
        {
            Target = core ?? ExecutionPlan.HostTarget,
            Lowering = LoweringOptions.Default with { Rounding = rounding, Train = training },
            RamBudget = ram,
            FlashBudget = flash,
            // A design-time build does not cross-compile: it makes the plan the last full build made for the device.
            PlanWithin = core is not null && DesignTimeBuild ? PreviousPlanningBudget(planFile, ram) : null,
        };
        // Over the RAM budget the memory techniques are tried, and with a core the plan is fitted on the device: each
        // measurement writes the plan and cross-compiles exactly that .tmlmodel (tinyml compile), so the library and the
        // embedded plan are one artifact.
        var compiled = ModelCompiler.Compile(read.Value, modelPath, options,
            device ? plan => CrossCompile(item, core!, name, planFile, plan) : null, new LogProgress(Log, name));
        var plan = compiled.Plan;
        // Before the budget diagnostics: a model over its budget is when the picture helps most.
        if (plan is not null) WriteMemoryReport(item, read.Value, plan, ram?.Bytes, modelPath, written);
        bool overBudget = false;
        foreach (var d in compiled.Diagnostics)
        {
            bool budget = d.Id is TinyML.DiagnosticIds.RamBudgetExceeded or TinyML.DiagnosticIds.FlashBudgetExceeded or TinyML.DiagnosticIds.TrainingRamBudgetExceeded;
            overBudget |= budget && d.Severity == Severity.Error;
            Report(budget && DesignTimeBuild && d.Severity == Severity.Error
                ? d with { Severity = Severity.Warning, Message = d.Message + " (design-time build: the generated class is kept; the build fails)" }
                : d);
        }
        if (plan is null || compiled.MeasurementFailed)
        {
            // A failed cross compile leaves no plan behind, so the next build compiles again and reports again.
            if (File.Exists(planFile)) File.Delete(planFile);
            return;
        }

        var manifest = compiled.Manifest();
        manifest.ClassName = item.GetMetadata("ClassName") is { Length: > 0 } className ? className : DefaultClassName(modelPath);
        manifest.Namespace = item.GetMetadata("Namespace");
        manifest.Access = access.Length > 0 ? access : "public";
        manifest.ResourceName = item.GetMetadata("_TinyML_ResourceName");
        manifest.Labels.AddRange(labels);
        // The manifest (and so the generated class) stays even over budget, so that the editor keeps the API while
        // the user fixes the model; without the plan the next build compiles the model again and reports again.
        WriteIfChanged(manifestFile, manifest.ToJson());
        written.Add(new TaskItem(manifestFile));
        string reportFile = ReportFileOf(planFile);
        WriteIfChanged(reportFile, System.Text.Encoding.UTF8.GetBytes(compiled.Report()));
        written.Add(new TaskItem(reportFile));
        if (overBudget)
        {
            if (File.Exists(planFile)) File.Delete(planFile);
            return;
        }
        WriteIfChanged(planFile, PlanContainer.Write(plan));
        written.Add(new TaskItem(planFile));
        Log.LogMessage(MessageImportance.High, Summary(name, manifest, compiled, ram));
    }

    /// <summary>The compile report beside the plan (docs/plan-format.md): kws.tmlmodel -> kws.report.json.</summary>
    public static string ReportFileOf(string planFile) => Path.ChangeExtension(planFile, ".report.json");

    /// <summary>The budget the last full build planned within (its compile report), when it had to leave room on the device.</summary>
    private static long? PreviousPlanningBudget(string planFile, Budget? ram)
    {
        string path = ReportFileOf(planFile);
        if (ram is null || !File.Exists(path)) return null;
        var match = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(path), "\"planning_budget_bytes\":\\s*(\\d+)");
        return match.Success && long.TryParse(match.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long bytes) && bytes < ram.Bytes ? bytes : null;
    }

    /// <summary>
    /// The device measurement of <see cref="ModelCompiler"/>: writes the plan, runs <c>tinyml compile PLAN.tmlmodel</c>
    /// (the library, headers and snippets of exactly this plan, and the sizes from the ELF), and reads its report.
    /// Null when it failed; the CLI's diagnostics are logged.
    /// </summary>
    private MeasuredSizes? CrossCompile(ITaskItem item, string core, string name, string planFile, CompiledPlan plan)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(planFile)!);
        WriteIfChanged(planFile, PlanContainer.Write(plan));
        string output = item.GetMetadata("_TinyML_DeviceOutput");
        Log.LogMessage(MessageImportance.High, $"TinyML: {name}: cross-compiling for {core} with arm-none-eabi-gcc");
        var arguments = new List<string>
        {
            planFile, "--target", core, "--name", item.GetMetadata("_TinyML_CName"), "--out", output,
            "--work", item.GetMetadata("_TinyML_DeviceWork"), "--json", "--progress", "--label", name,
        };
        arguments.AddRange(DeviceOptions.Select(o => o.ItemSpec));
        var cli = new TinyMLCli
        {
            BuildEngine = BuildEngine,
            HostObject = HostObject,
            Command = "compile",
            CliPath = CliPath ?? "",
            DotnetHostPath = DotnetHostPath,
            DiagnosticFile = ProjectFile,
            StandardOutputFile = item.GetMetadata("_TinyML_DeviceReport"),
            Arguments = arguments.Select(a => (ITaskItem)new TaskItem(a)).ToArray(),
        };
        if (!cli.Execute()) return null;
        var report = ReadDeviceReport(item);
        if (report is null) return null;
        Log.LogMessage(MessageImportance.High, $"TinyML: {name} -> {output} ({core})");
        return report.ToMeasuredSizes();
    }

    /// <summary>Logs the compiler's steps (planning again within a tighter budget, say) as the build goes.</summary>
    private sealed class LogProgress : IProgress<string>
    {
        private readonly TaskLoggingHelper _log;
        private readonly string _name;

        public LogProgress(TaskLoggingHelper log, string name) => (_log, _name) = (log, name);

        public void Report(string value) => _log.LogMessage(MessageImportance.Normal, $"TinyML: {_name}: {value}");
    }

    /// <summary>
    /// The one line per model at the default verbosity: the class, RAM, flash and MACs the app gets, the sizes from
    /// the ELF when a core was built, and, when the RAM budget made the build go beyond the default techniques,
    /// which ones it applied and what they cost in MACs.
    /// </summary>
    private static string Summary(string name, ModelManifest manifest, CompiledModel compiled, Budget? ram)
    {
        var plan = compiled.Plan!;
        var measured = compiled.Measured;
        var fit = compiled.Fit;
        string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder($"TinyML: {name} -> {(manifest.Namespace.Length > 0 ? manifest.Namespace + "." : "")}{manifest.ClassName}: " +
            $"RAM {Count(BudgetCheck.RamBytes(plan))} B (arena {Count(plan.ArenaBytes)} + state {Count(plan.StateBytes)}" +
            (plan.Training is not null ? $" + training {Count(plan.ParameterBytes)}" : "") + "), " +
            $"flash {Count(BudgetCheck.FlashBytes(plan))} B of constants{(plan.Training is null ? "" : " and initial trained weights")}, {Count(manifest.Macs)} MACs" +
            (plan.Training is { } t ? $"; trainable (Train=\"{t.Mode}\", {t.Classes} classes, learning rate {t.LearningRate.ToString("R", CultureInfo.InvariantCulture)})" : ""));
        if (measured is not null)
            text.Append($"; on {measured.Target} from the ELF: RAM {Count(measured.RamBytes)} B, flash {Count(measured.FlashBytes)} B");
        if (fit is not null && compiled.WentBeyondRequested)
        {
            var chosen = compiled.Chosen!;
            long baseMacs = plan.Macs - plan.ExtraMacs;
            var patches = plan.Patches;
            text.Append($"; to fit the RAM budget ({ram!.Source}) the build applied {MemoryTechniques.Describe(chosen.Options)} " +
                $"(peak {Count(fit.Attempts[0].ArenaBytes)} -> {Count(plan.ArenaBytes)} B" +
                (compiled.PlanningBudget is long planned && planned < ram.Bytes ? $", planned within {Count(planned)} B to leave room for the device's static data and stack)" : ")"));
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

    /// <summary>The cross compile's report (the tinyml.compile/1 report in _TinyML_DeviceReport: the sizes it measured);
    /// null after TML0007 when it is missing or not such a report.</summary>
    private CompileReport? ReadDeviceReport(ITaskItem item)
    {
        string path = item.GetMetadata("_TinyML_DeviceReport");
        if (!File.Exists(path))
        {
            Report(new Diagnostic(TinyML.DiagnosticIds.TinyMLCommandFailed, Severity.Error,
                $"tinyml compile wrote no size report ({path})") { File = ProjectFile });
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
