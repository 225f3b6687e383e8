// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using TinyML.Compiler;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;

namespace TinyML.Cli.Commands;

/// <summary>
/// <c>tinyml quantize MODEL --calibration DIR|GLOB --out OUT.tflite [--validation DIR|GLOB] [--method minmax|percentile|mse]
/// [--percentile P] [--sqnr-warn DB] [--float-io] [--json]</c>: post-training int8 quantization with an accuracy report.
/// </summary>
public static class QuantizeCommand
{
    /// <summary>The JSON schema identifier; docs/cli.md documents it.</summary>
    public const string JsonSchema = "tinyml.quantize/1";

    /// <summary>The default SQNR under which an output gets a TML2005 warning.</summary>
    public const double DefaultSqnrWarnDb = 15;

    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<FileInfo>("model") { Description = "The float32 .tflite or .onnx model to quantize" };
        var calibration = new Option<string>("--calibration") { Description = "Calibration data: a folder of .npy/.bin files, a file, or a glob (calib/**/*.npy)" };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the int8 .tflite", Required = true };
        var validation = new Option<string>("--validation") { Description = "A separate data set to measure the accuracy on (default: the calibration set)" };
        var method = new Option<string>("--method") { Description = "Range choice: minmax (default), percentile or mse", DefaultValueFactory = _ => "minmax" };
        method.AcceptOnlyFromAmong("minmax", "percentile", "mse");
        var percentile = new Option<double>("--percentile") { Description = "Upper percentile for --method percentile (default 99.99)", DefaultValueFactory = _ => 99.99 };
        var sqnrWarn = new Option<double>("--sqnr-warn") { Description = $"Warn (TML2005) when an output's SQNR is under this many dB (default {DefaultSqnrWarnDb})", DefaultValueFactory = _ => DefaultSqnrWarnDb };
        var floatIo = new Option<bool>("--float-io") { Description = "Keep float32 inputs and outputs (QUANTIZE and DEQUANTIZE at the edges)" };
        var json = new Option<bool>("--json") { Description = $"Print a JSON report (schema {JsonSchema})" };
        var command = new Command("quantize", "Quantize a float32 model to int8 with calibration data, and report the accuracy cost")
        {
            model, calibration, output, validation, method, percentile, sqnrWarn, floatIo, json,
        };
        command.SetAction(parse => Run(new Request(parse.GetValue(model)!, parse.GetValue(calibration), parse.GetValue(output)!,
            parse.GetValue(validation), parse.GetValue(method)!, parse.GetValue(percentile), parse.GetValue(sqnrWarn),
            parse.GetValue(floatIo), parse.GetValue(json)), stdout, stderr));
        return command;
    }

    /// <summary>The command's arguments.</summary>
    public sealed record Request(FileInfo Model, string? Calibration, FileInfo Output, string? Validation, string Method,
        double Percentile, double SqnrWarnDb, bool FloatIo, bool Json);

    /// <summary>Quantizes one model; returns the exit code (0 also when there are only warnings).</summary>
    public static int Run(Request request, TextWriter stdout, TextWriter stderr)
    {
        var diagnostics = new List<Diagnostic>();
        var report = Quantize(request, diagnostics, out var summary);
        if (request.Json) WriteJson(stdout, request, summary, report, diagnostics);
        else if (report is not null) WriteText(stdout, request, summary!, report);
        foreach (var d in diagnostics) stderr.WriteLine(d.ToString());
        return diagnostics.Any(d => d.Severity == Severity.Error) ? Cli.ModelErrors : 0;
    }

    /// <summary>Facts about a finished quantization, for the report.</summary>
    private sealed record Summary(int CalibrationSamples, int CalibrationFiles, int EvaluationSamples, IReadOnlyList<string> Notes,
        long FloatWeightBytes, long Int8WeightBytes, long FileBytes);

    private static AccuracyReport? Quantize(Request request, List<Diagnostic> diagnostics, out Summary? summary)
    {
        summary = null;
        string file = request.Model.FullName;
        var read = ModelReader.ReadFile(file);
        diagnostics.AddRange(read.Diagnostics);
        if (read.Value is not { } model) return null;
        CalibrationSet? calibration = null;
        if (request.Calibration is not null)
        {
            var loaded = CalibrationData.Load(request.Calibration, model);
            diagnostics.AddRange(loaded.Diagnostics);
            if (loaded.Value is null) return null;
            calibration = loaded.Value;
        }
        var options = new QuantizationOptions
        {
            Method = request.Method switch { "percentile" => RangeMethod.Percentile, "mse" => RangeMethod.Mse, _ => RangeMethod.MinMax },
            Percentile = request.Percentile,
            FloatIo = request.FloatIo,
        };
        var runner = new PlanModelRunner();
        var quantized = PostTrainingQuantizer.Quantize(model, calibration, runner, options, file);
        diagnostics.AddRange(quantized.Diagnostics);
        if (quantized.Value is null) return null;

        var evaluation = calibration!;
        string dataSet = "calibration";
        if (request.Validation is not null)
        {
            var loaded = CalibrationData.Load(request.Validation, model);
            diagnostics.AddRange(loaded.Diagnostics);
            if (loaded.Value is null) return null;
            evaluation = loaded.Value;
            dataSet = "validation";
        }
        var bytes = TfliteWriter.Write(quantized.Value.Model);
        var measured = AccuracyEvaluator.Measure(quantized.Value.FloatReference, quantized.Value.Model, evaluation, runner, dataSet);
        diagnostics.AddRange(measured.Diagnostics);
        if (measured.Value is null) return null;
        diagnostics.AddRange(measured.Value.Warnings(request.SqnrWarnDb, file));
        string? directory = Path.GetDirectoryName(request.Output.FullName);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        File.WriteAllBytes(request.Output.FullName, bytes);
        summary = new Summary(calibration!.Samples.Count, calibration.Files.Count, evaluation.Samples.Count, quantized.Value.Notes,
            WeightBytes(model), WeightBytes(quantized.Value.Model), bytes.Length);
        return measured.Value;
    }

    /// <summary>Bytes of every constant tensor (weights, biases, shapes).</summary>
    public static long WeightBytes(Model model) => model.Main.Tensors.Where(t => t.IsConstant).Sum(t => (long)t.Data!.Value.Length);

    private static string Db(double db) => double.IsPositiveInfinity(db) ? "inf" : db.ToString("F2", CultureInfo.InvariantCulture);

    private static void WriteText(TextWriter o, Request request, Summary s, AccuracyReport report)
    {
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        o.WriteLine($"{request.Model.Name} -> {request.Output.FullName}: {N(s.FileBytes)} bytes, int8 ({(request.FloatIo ? "float32" : "int8")} inputs and outputs), method {request.Method}");
        o.WriteLine($"calibration: {s.CalibrationSamples} samples from {s.CalibrationFiles} file(s); weights {N(s.FloatWeightBytes)} -> {N(s.Int8WeightBytes)} bytes");
        foreach (string note in s.Notes) o.WriteLine($"prepared: {note}");
        o.WriteLine($"accuracy against the float model on the {report.DataSet} set ({s.EvaluationSamples} samples):");
        o.WriteLine("| output | SQNR dB | max abs error | top-1 agreement |");
        o.WriteLine("|---|---:|---:|---:|");
        foreach (var output in report.Outputs)
            o.WriteLine($"| {output.Name} | {Db(output.SqnrDb)} | {output.MaxAbsError.ToString("G4", CultureInfo.InvariantCulture)} | " +
                $"{(output.Top1Agreement is double a ? a.ToString("P1", CultureInfo.InvariantCulture) : "-")} |");
    }

    private static void WriteJson(TextWriter o, Request request, Summary? s, AccuracyReport? report, List<Diagnostic> diagnostics) =>
        JsonOutput.Write(o, w =>
        {
            w.WriteStartObject();
            w.WriteString("schema", JsonSchema);
            w.WriteString("model", request.Model.FullName);
            w.WriteBoolean("ok", report is not null && !diagnostics.Any(d => d.Severity == Severity.Error));
            if (s is not null && report is not null)
            {
                w.WriteString("output", request.Output.FullName);
                w.WriteNumber("file_bytes", s.FileBytes);
                w.WriteString("method", request.Method);
                w.WriteBoolean("float_io", request.FloatIo);
                w.WriteNumber("calibration_samples", s.CalibrationSamples);
                w.WriteNumber("calibration_files", s.CalibrationFiles);
                w.WriteString("evaluated_on", report.DataSet);
                w.WriteNumber("evaluation_samples", s.EvaluationSamples);
                w.WriteNumber("weights_bytes_float", s.FloatWeightBytes);
                w.WriteNumber("weights_bytes_int8", s.Int8WeightBytes);
                w.WriteNumber("sqnr_warn_db", request.SqnrWarnDb);
                w.WriteStartArray("notes");
                foreach (string note in s.Notes) w.WriteStringValue(note);
                w.WriteEndArray();
                w.WriteStartArray("outputs");
                foreach (var output in report.Outputs)
                {
                    w.WriteStartObject();
                    w.WriteString("name", output.Name);
                    // JSON has no infinity: identical outputs give null.
                    if (double.IsFinite(output.SqnrDb)) w.WriteNumber("sqnr_db", output.SqnrDb);
                    else w.WriteNull("sqnr_db");
                    w.WriteNumber("max_abs_error", output.MaxAbsError);
                    if (output.Top1Agreement is double agreement) w.WriteNumber("top1_agreement", agreement);
                    else w.WriteNull("top1_agreement");
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            JsonOutput.WriteDiagnostics(w, diagnostics, withFile: true);
            w.WriteEndObject();
        });
}
