// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TinyML.Compiler.Diagnostics;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// Resolves the <c>TinyModel</c> items before anything is compiled: checks their metadata (TML0009 for a name the
/// SDK does not read, TML0011 for a missing model file), gives each an intermediate name of its own (two items may
/// share a file name in different folders), writes the settings file the compile step's incremental check reads,
/// and decides which models are quantized first and which are also built for a Cortex-M core (TargetCore, else
/// TinyMLTarget, else the TinyMLBoard preset's core).
/// </summary>
public sealed class ResolveTinyModelTargets : TinyModelsTask
{
    /// <summary>The metadata the SDK reads on a TinyModel item.</summary>
    public static readonly IReadOnlyList<string> KnownMetadata = new[]
    {
        "ClassName", "Namespace", "Access", "RamBudget", "FlashBudget", "TargetCore", "Labels", "Quantize", "Calibration",
        "Validation", "QuantizationMethod", "SqnrWarning", "MemoryReport", "OnnxRounding", "Train", "LearningRate",
    };

    /// <summary>Item metadata that MSBuild, NuGet and IDEs put on any item: never reported as unknown.</summary>
    private static readonly HashSet<string> ToolMetadata = new(StringComparer.OrdinalIgnoreCase)
    {
        "Link", "Visible", "DependentUpon", "CopyToOutputDirectory", "CopyToPublishDirectory", "Pack", "PackagePath",
        "PackageCopyToOutput", "Generator", "LastGenOutput", "DesignTime", "DesignTimeSharedInput", "AutoGen", "SubType",
        "ExcludeFromSingleFile", "TargetPath", "IsImplicitlyDefined", "OriginalItemSpec", "MSBuildSourceProjectFile",
        "MSBuildSourceTargetName", "DefiningProjectFullPath", "DefiningProjectDirectory", "DefiningProjectName",
        "DefiningProjectExtension",
    };

    /// <summary>TinyMLOptimizeFor: speed (-O2, the default) or size (-Os).</summary>
    public string? OptimizeFor { get; set; }

    /// <summary>TinyMLSqnrWarning: the SQNR in dB under which quantization warns (TML2005); a model's SqnrWarning overrides it.</summary>
    public string? SqnrWarning { get; set; }

    /// <summary>The namespace of the embedded plans' resource names ($(RootNamespace)).</summary>
    public string? ResourceNamespace { get; set; }

    /// <summary>Where the firmware files go, one folder per core below it (default $(OutDir)tinyml/).</summary>
    [Required]
    public string OutputRoot { get; set; } = "";

    /// <summary>Where the plans, manifests, reports and the cross compiler's work folders go.</summary>
    [Required]
    public string IntermediateRoot { get; set; } = "";

    /// <summary>The file the settings are written to (only when they change): an input of the compile step.</summary>
    public string? SettingsFile { get; set; }

    /// <summary>The models, with _TinyML_PlanFile, _TinyML_ManifestFile, _TinyML_ResourceName, _TinyML_TargetCore and
    /// _TinyML_DeviceReport.</summary>
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
    protected override IEnumerable<(string Property, string? Value)> Settings() =>
        base.Settings().Concat(new[] { ("TinyMLOptimizeFor", OptimizeFor), ("TinyMLSqnrWarning", SqnrWarning), ("RootNamespace", ResourceNamespace) });

    /// <inheritdoc />
    protected override void Run()
    {
        string optimize = (OptimizeFor ?? "").Trim();
        if (optimize.Length > 0 && !optimize.Equals("speed", StringComparison.OrdinalIgnoreCase) && !optimize.Equals("size", StringComparison.OrdinalIgnoreCase))
        {
            var (file, line, _) = Locate("TinyMLOptimizeFor");
            Report(new Diagnostic(TinyML.DiagnosticIds.InvalidOptimizeFor, Severity.Error,
                $"TinyMLOptimizeFor is '{optimize}'; use speed (-O2, the default) or size (-Os)") { File = file, Line = line });
            return;
        }
        OptimizeForSize = optimize.Equals("size", StringComparison.OrdinalIgnoreCase);
        var board = FindBoard(out bool badBoard);
        if (badBoard) return;
        if (SettingsFile is { Length: > 0 } settingsFile) WriteIfChanged(settingsFile, SettingsText());
        string projectDir = Path.GetDirectoryName(Path.GetFullPath(ProjectFile))!;
        string Full(string path) => Path.GetFullPath(Path.Combine(projectDir, path));
        var stems = IntermediateStems(projectDir);
        var resolved = new List<ITaskItem>();
        var device = new List<ITaskItem>();
        var quantize = new List<ITaskItem>();
        var calibrationFiles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var model in Models)
        {
            WarnOnUnknownMetadata(model);
            string modelFile = Full(model.ItemSpec);
            if (!File.Exists(modelFile))
            {
                int line = new[] { $"\"{model.ItemSpec}\"", Path.GetFileName(model.ItemSpec), "<TinyModel" }.Select(LineOf).FirstOrDefault(l => l > 0);
                Report(new Diagnostic(TinyML.DiagnosticIds.ModelFileNotFound, Severity.Error,
                    $"the model file {model.ItemSpec} of this TinyModel item was not found (looked for {modelFile})")
                { File = ProjectFile, Line = line });
                continue;
            }
            string? core = ResolveCore(model, board, out bool badCore);
            if (badCore || !TryRounding(model, out _) || !TryTraining(model, out _)) continue;
            string stem = stems[model];
            if (!ResolveQuantization(model, stem, Full, out var quantizeItem)) continue;
            // A quantized model is compiled (host and device) from the int8 file the quantize step writes.
            var copy = quantizeItem is null ? new TaskItem(model) : new TaskItem(quantizeItem.GetMetadata("QuantizedFile"), model.CloneCustomMetadata());
            if (quantizeItem is not null)
            {
                copy.SetMetadata("_TinyML_Source", model.GetMetadata("FullPath"));
                quantize.Add(quantizeItem);
                foreach (string pattern in new[] { quantizeItem.GetMetadata("Calibration"), quantizeItem.GetMetadata("Validation") }.Where(p => p.Length > 0))
                    foreach (string file in Compiler.PostTraining.CalibrationData.ResolveFiles(pattern)) calibrationFiles.Add(file);
            }
            copy.SetMetadata("_TinyML_PlanFile", Path.Combine(Full(IntermediateRoot), stem + ".tmlmodel"));
            copy.SetMetadata("_TinyML_ManifestFile", Path.Combine(Full(IntermediateRoot), stem + ".tmlmodel.json"));
            copy.SetMetadata("_TinyML_ResourceName", (ResourceNamespace is { Length: > 0 } ns ? ns + "." : "") + stem + ".tmlmodel");
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
                item.SetMetadata("ModelName", Path.GetFileName(model.ItemSpec));
                item.SetMetadata("ModelItem", model.ItemSpec);
                item.SetMetadata("TargetCore", core);
                item.SetMetadata("CName", name);
                item.SetMetadata("OutputDirectory", output);
                item.SetMetadata("Library", Path.Combine(output, $"lib{name}.a"));
                item.SetMetadata("WorkDirectory", Path.Combine(work, name) + Path.DirectorySeparatorChar);
                item.SetMetadata("ReportFile", report);
                // The compile task cross-compiles the plan it makes (CompileTinyModels.CrossCompile).
                copy.SetMetadata("_TinyML_CName", name);
                copy.SetMetadata("_TinyML_DeviceOutput", output);
                copy.SetMetadata("_TinyML_DeviceWork", Path.Combine(work, name) + Path.DirectorySeparatorChar);
                device.Add(item);
            }
            resolved.Add(copy);
        }
        foreach (var clash in device.GroupBy(d => d.GetMetadata("Library"), StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            Report(new Diagnostic(TinyML.DiagnosticIds.InvalidModelItem, Severity.Error,
                $"{string.Join(" and ", clash.Select(c => c.GetMetadata("ModelItem")))} would both be written as {clash.Key} for the device build; give the model files different names")
            { File = ProjectFile, Line = LineOf(clash.First().GetMetadata("ModelName")) });
        ResolvedModels = resolved.ToArray();
        DeviceModels = device.ToArray();
        QuantizeModels = quantize.ToArray();
        CalibrationFiles = calibrationFiles.Select(f => (ITaskItem)new TaskItem(f)).ToArray();
    }

    /// <summary>
    /// Each model's name for its intermediate files and resource: the file name without extension, and where two
    /// items share it (a/model.tflite and b/model.tflite) the name plus a short hash of the project-relative path.
    /// </summary>
    private Dictionary<ITaskItem, string> IntermediateStems(string projectDir)
    {
        var stems = new Dictionary<ITaskItem, string>();
        foreach (var group in Models.GroupBy(m => Path.GetFileNameWithoutExtension(m.ItemSpec), StringComparer.OrdinalIgnoreCase))
            foreach (var model in group)
            {
                string stem = group.Key;
                if (group.Count() > 1)
                {
                    string relative = PathRelativeTo(projectDir, model.GetMetadata("FullPath")).Replace('\\', '/');
                    using var sha = System.Security.Cryptography.SHA256.Create();
                    byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(relative.ToLowerInvariant()));
                    stem += "-" + string.Concat(hash.Take(4).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
                }
                stems[model] = stem;
            }
        return stems;
    }

    private static string PathRelativeTo(string directory, string path)
    {
        string prefix = directory.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? path.Substring(prefix.Length) : path;
    }

    /// <summary>TML0009 for each metadata name the SDK does not read, with the closest known name.</summary>
    private void WarnOnUnknownMetadata(ITaskItem model)
    {
        foreach (string name in model.CloneCustomMetadata().Keys.Cast<string>().OrderBy(n => n, StringComparer.Ordinal))
        {
            if (name.StartsWith("_", StringComparison.Ordinal) || ToolMetadata.Contains(name) || KnownMetadata.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
            string? suggestion = ClosestKnown(name);
            int line = LineOf(name + "=");
            Report(new Diagnostic(TinyML.DiagnosticIds.UnknownModelMetadata, Severity.Warning,
                $"{Path.GetFileName(model.ItemSpec)}: TinyModel metadata '{name}' is not a TinyML.Sdk setting and has no effect" +
                (suggestion is null ? $"; known: {string.Join(", ", KnownMetadata)}" : $"; did you mean '{suggestion}'?"))
            { File = ProjectFile, Line = line > 0 ? line : LineOf(name) });
        }
    }

    /// <summary>The known name nearest to <paramref name="name"/> (edit distance, case-insensitive), if near enough to be a typo.</summary>
    public static string? ClosestKnown(string name)
    {
        var best = KnownMetadata.Select(k => (Name: k, Distance: EditDistance(name.ToLowerInvariant(), k.ToLowerInvariant())))
            .OrderBy(c => c.Distance).First();
        if (best.Distance <= Math.Max(2, best.Name.Length / 3)) return best.Name;
        // A known name the user shortened or lengthened ("Target" for TargetCore, "Budget" for RamBudget).
        var contained = KnownMetadata.FirstOrDefault(k => k.IndexOf(name, StringComparison.OrdinalIgnoreCase) >= 0 || name.IndexOf(k, StringComparison.OrdinalIgnoreCase) >= 0);
        return name.Length >= 4 ? contained : null;
    }

    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    /// <summary>
    /// Whether a model is quantized in the build: Quantize="int8", or a Calibration without Quantize. Quantize="none"
    /// keeps a float model in float32. A float model with neither is refused later by CompileTinyModels (TML2001),
    /// which reads the model. False after TML0003 for a Quantize value that is neither.
    /// </summary>
    private bool ResolveQuantization(ITaskItem model, string stem, Func<string, string> full, out ITaskItem? item)
    {
        item = null;
        string mode = model.GetMetadata("Quantize").Trim().ToLowerInvariant();
        string calibration = model.GetMetadata("Calibration").Trim();
        if (mode is not ("" or "int8" or "none"))
        {
            Report(new Diagnostic(TinyML.DiagnosticIds.InvalidModelItem, Severity.Error,
                $"Quantize of {model.ItemSpec} is '{model.GetMetadata("Quantize")}'; use int8 (quantize with Calibration) or none (run in float32)")
            { File = ProjectFile, Line = LineOf("Quantize=") });
            return false;
        }
        if (mode == "none" || (mode == "" && calibration.Length == 0)) return true;
        item = new TaskItem(model.GetMetadata("FullPath"));
        // The quantized model is TFLite whatever the source format (a float .onnx too).
        item.SetMetadata("QuantizedFile", Path.Combine(full(IntermediateRoot), "quantized", stem + ".tflite"));
        item.SetMetadata("Calibration", calibration.Length == 0 ? "" : full(calibration));
        string validation = model.GetMetadata("Validation").Trim();
        item.SetMetadata("Validation", validation.Length == 0 ? "" : full(validation));
        item.SetMetadata("QuantizationMethod", model.GetMetadata("QuantizationMethod").Trim());
        string sqnr = model.GetMetadata("SqnrWarning").Trim();
        item.SetMetadata("SqnrWarning", sqnr.Length > 0 ? sqnr : (SqnrWarning ?? "").Trim());
        return true;
    }
}
