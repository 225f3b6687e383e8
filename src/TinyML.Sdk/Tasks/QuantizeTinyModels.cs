// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// Quantizes the float models that <see cref="ResolveTinyModelTargets"/> chose, one <c>tinyml quantize</c> run each
/// through <see cref="TinyMLCli"/>: the int8 model goes to the item's QuantizedFile, the accuracy report (SQNR, max error,
/// top-1 agreement per output) goes to the build log, and the CLI's TML2xxx diagnostics become build errors and
/// warnings.
/// </summary>
public sealed class QuantizeTinyModels : Task, ICancelableTask
{
    private TinyMLCli? _running;
    private volatile bool _cancelled;

    /// <summary>The models to quantize (ResolveTinyModelTargets.QuantizeModels).</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>tinyml.dll.</summary>
    [Required]
    public string CliPath { get; set; } = "";

    /// <summary>The project file: diagnostics without a location point at it.</summary>
    [Required]
    public string ProjectFile { get; set; } = "";

    /// <summary>The arguments of <c>tinyml quantize</c> for one model.</summary>
    public static IReadOnlyList<string> ArgumentsOf(ITaskItem model)
    {
        var arguments = new List<string> { model.ItemSpec, "--out", model.GetMetadata("QuantizedFile") };
        void Add(string option, string metadata)
        {
            string value = model.GetMetadata(metadata);
            if (value.Length > 0) arguments.AddRange(new[] { option, value });
        }
        // Without Calibration the CLI reports TML2001, which says what to set.
        Add("--calibration", "Calibration");
        Add("--validation", "Validation");
        Add("--method", "QuantizationMethod");
        Add("--sqnr-warn", "SqnrWarning");
        return arguments;
    }

    /// <inheritdoc />
    public void Cancel()
    {
        _cancelled = true;
        _running?.Cancel();
    }

    /// <inheritdoc />
    public override bool Execute()
    {
        bool ok = true;
        foreach (var model in Models)
        {
            if (_cancelled) return false;
            // A failed run must not leave last time's model behind for the compile step to pick up.
            string output = model.GetMetadata("QuantizedFile");
            if (System.IO.File.Exists(output)) System.IO.File.Delete(output);
            _running = new TinyMLCli
            {
                BuildEngine = BuildEngine,
                HostObject = HostObject,
                Command = "quantize",
                CliPath = CliPath,
                DiagnosticFile = ProjectFile,
                OutputImportance = "high",
                Arguments = ArgumentsOf(model).Select(a => (ITaskItem)new TaskItem(a)).ToArray(),
            };
            ok &= _running.Execute();
        }
        _running = null;
        return ok && !_cancelled;
    }
}
