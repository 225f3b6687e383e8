// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.PostTraining;

/// <summary>Calibration samples: each sample holds one float32 array per graph input, in graph input order.</summary>
public sealed class CalibrationSet
{
    /// <summary>Creates a set.</summary>
    public CalibrationSet(IReadOnlyList<float[][]> samples, IReadOnlyList<string> files)
    {
        Samples = samples;
        Files = files;
    }

    /// <summary>The samples.</summary>
    public IReadOnlyList<float[][]> Samples { get; }

    /// <summary>The files the samples came from.</summary>
    public IReadOnlyList<string> Files { get; }
}

/// <summary>
/// Loads calibration data for a model's single input from .npy (float32) and .bin (raw little-endian float32)
/// files. A file holds one sample, or a batch of samples along its first dimension. A .npy shape matches the input
/// when it equals the input shape once size-1 dimensions are dropped (so (49, 10) fits [1, 49, 10, 1]).
/// </summary>
public static class CalibrationData
{
    /// <summary>The file extensions read from a folder.</summary>
    public static readonly IReadOnlyList<string> Extensions = new[] { ".npy", ".bin" };

    /// <summary>
    /// Resolves <paramref name="pattern"/> (a folder, a file, or a glob such as calib/**/*.bin) into files, sorted by
    /// path so runs are repeatable.
    /// </summary>
    public static IReadOnlyList<string> ResolveFiles(string pattern)
    {
        if (Directory.Exists(pattern))
            return Directory.EnumerateFiles(pattern, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (File.Exists(pattern)) return new[] { pattern };
        int wildcard = pattern.IndexOfAny(new[] { '*', '?' });
        if (wildcard < 0) return Array.Empty<string>();
        int split = pattern.LastIndexOfAny(new[] { '/', '\\' }, wildcard);
        string root = split < 0 ? "." : pattern.Substring(0, split + 1);
        if (!Directory.Exists(root)) return Array.Empty<string>();
        string relative = pattern.Substring(split + 1).Replace('\\', '/');
        // ** matches any folders (or none), * and ? stay inside one path segment.
        string regex = "^" + Regex.Escape(relative).Replace(@"\*\*/", "(.*/)?").Replace(@"\*\*", ".*")
            .Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "$";
        var matcher = new Regex(regex, RegexOptions.CultureInvariant);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => matcher.IsMatch(GetRelativePath(root, f)))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
    }

    private static string GetRelativePath(string root, string file)
    {
        string full = Path.GetFullPath(root).TrimEnd('/', '\\') + "/";
        return Path.GetFullPath(file).Substring(full.Length).Replace('\\', '/');
    }

    /// <summary>Loads every file <paramref name="pattern"/> names as samples for <paramref name="model"/>.</summary>
    public static Result<CalibrationSet> Load(string pattern, Model model)
    {
        var files = ResolveFiles(pattern);
        if (files.Count == 0)
            return Fail(DiagnosticIds.MissingCalibrationData,
                $"no calibration files (.npy or .bin) found at '{pattern}'; the float model needs calibration data to be quantized", null);
        return Load(files, model);
    }

    /// <summary>Loads the given files as samples for <paramref name="model"/>.</summary>
    public static Result<CalibrationSet> Load(IReadOnlyList<string> files, Model model)
    {
        var graph = model.Main;
        if (graph.Inputs.Count != 1)
            return Fail(DiagnosticIds.CalibrationShapeMismatch,
                $"the model has {graph.Inputs.Count} inputs; calibration files can only feed single-input models", null);
        var input = graph.Tensors[graph.Inputs[0]];
        var samples = new List<float[][]>();
        var diagnostics = new List<Diagnostic>();
        foreach (string file in files)
        {
            try
            {
                foreach (var sample in ReadFile(file, input)) samples.Add(new[] { sample });
            }
            catch (CalibrationFileException e)
            {
                diagnostics.Add(new Diagnostic(e.Id, Severity.Error, e.Message) { File = file, TensorName = input.Name });
            }
            catch (IOException e)
            {
                diagnostics.Add(new Diagnostic(DiagnosticIds.InvalidCalibrationFile, Severity.Error, $"cannot read the file: {e.Message}") { File = file });
            }
            catch (UnauthorizedAccessException e)
            {
                diagnostics.Add(new Diagnostic(DiagnosticIds.InvalidCalibrationFile, Severity.Error, $"cannot read the file: {e.Message}") { File = file });
            }
        }
        if (diagnostics.Count > 0) return new Result<CalibrationSet>(null, diagnostics);
        return new Result<CalibrationSet>(new CalibrationSet(samples, files), diagnostics);
    }

    private static Result<CalibrationSet> Fail(string id, string message, string? file) =>
        new(null, new[] { new Diagnostic(id, Severity.Error, message) { File = file } });

    private sealed class CalibrationFileException : Exception
    {
        public CalibrationFileException(string id, string message) : base(message) => Id = id;
        public string Id { get; }
    }

    /// <summary>The samples in one file for an input tensor.</summary>
    private static IEnumerable<float[]> ReadFile(string file, Tensor input)
    {
        if (input.Type != DataType.Float32)
            throw new CalibrationFileException(DiagnosticIds.NothingToQuantize,
                $"input '{input.Name}' is {DataTypes.Name(input.Type)}, not FLOAT32; calibration data is for float models");
        long perSample = input.ElementCount;
        string shapeText = input.Shape.ToString();
        var bytes = File.ReadAllBytes(file);
        float[] values;
        if (Path.GetExtension(file).Equals(".npy", StringComparison.OrdinalIgnoreCase))
        {
            NpyArray array;
            try
            {
                array = NpyFile.Read(bytes);
            }
            catch (NpyFormatException e)
            {
                throw new CalibrationFileException(DiagnosticIds.InvalidCalibrationFile, e.Message);
            }
            values = array.Values;
            var wanted = input.Shape.Where(d => d != 1).ToArray();
            var got = array.Shape.Where(d => d != 1).ToArray();
            var batchless = array.Shape.Skip(1).Where(d => d != 1).ToArray();
            bool single = got.SequenceEqual(wanted);
            bool batch = array.Shape.Length > 0 && batchless.SequenceEqual(wanted);
            if (!single && !batch)
                throw new CalibrationFileException(DiagnosticIds.CalibrationShapeMismatch,
                    $".npy shape ({string.Join(", ", array.Shape)}) does not match input '{input.Name}' {shapeText} " +
                    "(size-1 dimensions aside), nor a batch of it along the first dimension");
        }
        else
        {
            if (bytes.Length % 4 != 0 || bytes.Length == 0 || bytes.Length / 4 % perSample != 0)
                throw new CalibrationFileException(DiagnosticIds.CalibrationShapeMismatch,
                    $"raw file has {bytes.Length} bytes; input '{input.Name}' FLOAT32{shapeText} needs a multiple of {perSample * 4} (raw little-endian float32)");
            values = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        }
        for (int i = 0; i < values.Length; i++)
            if (float.IsNaN(values[i]) || float.IsInfinity(values[i]))
                throw new CalibrationFileException(DiagnosticIds.NonFiniteCalibrationData,
                    $"element {i} is {values[i]}; calibration data must be finite");
        for (long start = 0; start < values.Length; start += perSample)
        {
            var sample = new float[perSample];
            Array.Copy(values, start, sample, 0, perSample);
            yield return sample;
        }
    }
}
