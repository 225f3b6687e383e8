// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis.Text;

namespace TinyML.Generators;

/// <summary>Turns the text of a .tmlmodel.json manifest into a <see cref="ModelSpec"/> and its diagnostics.</summary>
internal static class ManifestParser
{
    /// <summary>Members every generated class has (or may have), which tensor-derived names must avoid.</summary>
    private static readonly string[] FixedMembers =
    {
        "ArenaBytes", "StateBytes", "FlashBytes", "Macs", "Run", "ResetState", "Dispose", "Predict",
        "Label", "LabelCount", "LabelText",
        // Training members (only on trainable models, but reserved on all so a tensor keeps its name when Train is set).
        "Train", "LearningRate", "DefaultLearningRate", "ExportWeights", "ImportWeights", "ResetWeights", "Classes", "ParameterBytes", "CheckBatch",
        // Inherited from object: a property of the same name would hide them.
        "Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "ReferenceEquals", "Finalize",
    };

    private static readonly Regex CharacterPosition = new(@"at character (\d+)", RegexOptions.CultureInvariant);

    public static ModelResult Parse(string path, SourceText? text, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        ModelSpec? model = null;
        try
        {
            model = Build(path, text, diagnostics, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Never throw out of the generator: an unexpected failure is a diagnostic on the manifest.
            diagnostics.Add(new DiagnosticInfo(DiagnosticIds.InternalError, path, default, default,
                new[] { path, ex.GetType().Name + ": " + ex.Message }.ToEquatableArray()));
            model = null;
        }
        return new ModelResult(path, model, diagnostics.ToEquatableArray());
    }

    private static ModelSpec? Build(string path, SourceText? text, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        if (text is null)
        {
            diagnostics.Add(Info(DiagnosticIds.InvalidManifest, path, null, 0, path, "the file cannot be opened"));
            return null;
        }
        string json = text.ToString();
        ModelManifest manifest;
        try
        {
            manifest = ModelManifest.Parse(json);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or InvalidCastException)
        {
            var at = CharacterPosition.Match(ex.Message);
            int position = at.Success && int.TryParse(at.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? Math.Min(p, json.Length) : 0;
            diagnostics.Add(Info(DiagnosticIds.InvalidManifest, path, text, position, path, ex.Message));
            return null;
        }
        cancellationToken.ThrowIfCancellationRequested();

        string model = FileName(manifest.ModelPath.Length > 0 ? manifest.ModelPath : path);
        if (manifest.ResourceName.Length == 0)
            diagnostics.Add(Info(DiagnosticIds.InvalidManifest, path, text, Find(json, "resource"), path, "'resource' is empty"));

        string access = manifest.Access;
        if (access != "public" && access != "internal")
            diagnostics.Add(Info(DiagnosticIds.InvalidAccess, path, text, Find(json, "access"), model, access));

        if (!Identifiers.IsValidNamespace(manifest.Namespace))
            diagnostics.Add(Info(DiagnosticIds.InvalidNamespace, path, text, Find(json, "namespace"), model, manifest.Namespace));

        string className = manifest.ClassName;
        var singles = Identifiers.TensorMembers("Input").Concat(Identifiers.TensorMembers("Output"));
        if (!Identifiers.IsValidTypeName(className))
            diagnostics.Add(Info(DiagnosticIds.InvalidClassName, path, text, Find(json, "class_name"), model, className, ""));
        else if (FixedMembers.Contains(className) || singles.Contains(className))
            diagnostics.Add(Info(DiagnosticIds.InvalidClassName, path, text, Find(json, "class_name"), model, className, " (the generated class has a member of that name)"));

        if (manifest.Training is { } t && (t.Mode.Length == 0 || t.Classes < 2 || !(t.LearningRate > 0) || double.IsInfinity(t.LearningRate) || t.ParameterBytes < 0))
            diagnostics.Add(Info(DiagnosticIds.InvalidManifest, path, text, Find(json, "training"), path,
                $"'training' needs a mode, at least 2 classes, a learning rate above 0 and parameter bytes (mode '{t.Mode}', {t.Classes} classes, rate {t.LearningRate.ToString("R", CultureInfo.InvariantCulture)})"));

        var inputs = Tensors(manifest.Inputs, "input", path, model, text, json, diagnostics);
        var outputs = Tensors(manifest.Outputs, "output", path, model, text, json, diagnostics);
        if (inputs is null || outputs is null || diagnostics.Count > 0) return null;

        var labels = manifest.Labels;
        if (labels.Count > 0 && (outputs.Count == 0 || outputs[0].Elements != labels.Count))
        {
            diagnostics.Add(Info(DiagnosticIds.LabelCountMismatch, path, text, Find(json, "labels"), model,
                labels.Count.ToString(CultureInfo.InvariantCulture), outputs.Count == 0 ? "0" : outputs[0].Elements.ToString(CultureInfo.InvariantCulture)));
            labels = new List<string>();
        }

        // Names: the fixed members and the class name first, then single tensors (Input, Output), then named ones.
        var taken = new HashSet<string>(FixedMembers, StringComparer.Ordinal) { className };
        if (inputs.Count == 1) taken.UnionWith(Identifiers.TensorMembers("Input"));
        if (outputs.Count == 1) taken.UnionWith(Identifiers.TensorMembers("Output"));
        string[] inputNames = Identifiers.TensorNames(inputs.Select(t => t.Name).ToList(), "Input", taken);
        string[] outputNames = Identifiers.TensorNames(outputs.Select(t => t.Name).ToList(), "Output", taken);
        string[] labelNames = Identifiers.LabelNames(labels);

        var inputSpecs = inputs.Select((t, i) => t with { Member = inputNames[i] }).ToEquatableArray();
        var outputSpecs = outputs.Select((t, i) => t with { Member = outputNames[i] }).ToEquatableArray();
        bool hasPredict = labels.Count > 0 && inputSpecs.Count == 1 && inputSpecs[0].HasFloatAccess && outputSpecs[0].HasFloatAccess;

        return new ModelSpec(
            manifest.Namespace, className, access, manifest.ResourceName, model,
            manifest.ArenaBytes, manifest.StateBytes, manifest.FlashBytes, manifest.Macs,
            inputSpecs, outputSpecs,
            labels.Select((l, i) => new LabelSpec(l, labelNames[i])).ToEquatableArray(),
            hasPredict,
            manifest.Training is { } training ? new TrainingSpec(training.Mode, training.Classes, training.LearningRate, training.ParameterBytes) : null);
    }

    /// <summary>Types and checks the tensors of one side; null when one cannot be typed or is inconsistent.</summary>
    private static List<TensorSpec>? Tensors(List<ManifestTensor> tensors, string side, string path, string model, SourceText text, string json, List<DiagnosticInfo> diagnostics)
    {
        var result = new List<TensorSpec>();
        bool ok = true;
        int where = Find(json, side + "s");
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            string index = i.ToString(CultureInfo.InvariantCulture);
            TensorType? type = t.Type switch
            {
                "INT8" => TensorType.Int8,
                "INT16" => TensorType.Int16,
                "INT32" => TensorType.Int32,
                "FLOAT32" => TensorType.Float32,
                _ => null,
            };
            if (type is null)
            {
                diagnostics.Add(Info(DiagnosticIds.UnsupportedTensorType, path, text, where, model, side, index, t.Name, t.Type));
                ok = false;
                continue;
            }
            long elements = 1;
            foreach (int d in t.Shape)
            {
                elements = d > 0 ? elements * d : -1;
                if (elements < 0 || elements > int.MaxValue / 4) break;
            }
            string shape = "[" + string.Join(", ", t.Shape) + "]";
            if (elements < 0 || elements > int.MaxValue / 4)
            {
                diagnostics.Add(Info(DiagnosticIds.InvalidManifest, path, text, where, path, $"{side} {index} ('{t.Name}') has the invalid shape {shape}"));
                ok = false;
                continue;
            }
            long expected = elements * ElementSize(type.Value);
            if (t.Bytes != expected)
            {
                diagnostics.Add(Info(DiagnosticIds.InvalidManifest, path, text, where, path, $"{side} {index} ('{t.Name}') is {t.Bytes} bytes, but {t.Type} {shape} takes {expected}"));
                ok = false;
                continue;
            }
            result.Add(new TensorSpec(t.Name, "", i, type.Value, t.Shape.ToEquatableArray(), (int)elements, t.Bytes, t.Scale, t.ZeroPoint));
        }
        return ok ? result : null;
    }

    public static int ElementSize(TensorType type) => type switch
    {
        TensorType.Int8 => 1,
        TensorType.Int16 => 2,
        _ => 4,
    };

    /// <summary>The last segment of a path written on any OS (the manifest may come from Windows).</summary>
    public static string FileName(string path)
    {
        int slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        return path.Substring(slash + 1);
    }

    /// <summary>The position of a property name in the JSON text, to point a diagnostic at it (0 when absent).</summary>
    private static int Find(string json, string key)
    {
        int at = json.IndexOf("\"" + key + "\"", StringComparison.Ordinal);
        return at < 0 ? 0 : at;
    }

    private static DiagnosticInfo Info(string id, string path, SourceText? text, int position, params string[] arguments)
    {
        var span = new TextSpan(position, 0);
        var lines = text is null ? default : text.Lines.GetLinePositionSpan(span);
        return new DiagnosticInfo(id, path, span, lines, arguments.ToEquatableArray());
    }
}
