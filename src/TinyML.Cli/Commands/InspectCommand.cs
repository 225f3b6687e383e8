// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;

namespace TinyML.Cli.Commands;

/// <summary><c>tinyml inspect MODEL [--json]</c>: operators, tensors, MACs, parameter and activation bytes.</summary>
public static class InspectCommand
{
    /// <summary>The JSON schema identifier; docs/cli.md documents it.</summary>
    public const string JsonSchema = "tinyml.inspect/1";

    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .tflite or .onnx model to inspect" };
        var json = new Option<bool>("--json") { Description = "Print JSON (schema tinyml.inspect/1) instead of a table" };
        var command = new Command("inspect", "Show a model's operators, tensors, MACs and memory") { model, json };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(json), stdout, stderr));
        return command;
    }

    /// <summary>Inspects one model; returns the exit code.</summary>
    public static int Run(FileInfo file, bool json, TextWriter stdout, TextWriter stderr)
    {
        var read = ModelReader.ReadFile(file.FullName);
        var diagnostics = read.Diagnostics.ToList();
        if (read.Value is { } model) diagnostics.AddRange(ModelValidator.Validate(model, file.FullName));
        var summary = read.Value is null ? null : ModelSummary.Of(read.Value);
        var format = read.Value is null ? null : ModelFormat.Of(file.FullName, read.Value);
        if (json) WriteJson(stdout, file, read.Value, summary, format, diagnostics);
        else if (summary is not null) WriteTable(stdout, file, summary, format!);
        foreach (var d in diagnostics) stderr.WriteLine(d.ToString());
        return diagnostics.Any(d => d.Severity == Severity.Error) ? Cli.ModelErrors : 0;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Quant(Quantization? q) => q switch
    {
        null or { HasScales: false } => "",
        { IsPerChannel: true } => $"per-channel x{q.Scales.Count} (dim {q.QuantizedDimension})",
        _ => $"scale {q.Scale.ToString("G6", CultureInfo.InvariantCulture)} zp {q.ZeroPoint}",
    };

    private static string Fit(string text, int width) =>
        text.Length <= width ? text.PadRight(width) : "…" + text.Substring(text.Length - width + 1);

    private static void WriteTable(TextWriter o, FileInfo file, ModelSummary s, ModelFormat format)
    {
        o.WriteLine($"{file.Name}: {N(file.Length)} bytes, {format.Label}, {s.Operators.Count} operators");
        foreach (var (label, tensors) in new[] { ("input ", s.Inputs), ("output", s.Outputs) })
            foreach (var t in tensors)
                o.WriteLine($"  {label} {t.Name}  {DataTypes.Name(t.Type)}{t.Shape}  {Quant(t.Quantization)}");
        o.WriteLine();
        // The operator column widens for long type names (UNIDIRECTIONAL_SEQUENCE_LSTM v1): a type is never cut.
        int width = s.Operators.Select(op => (op.Type + " v" + op.Version).Length).Append(22).Max();
        o.WriteLine($"{"#",3}  {"operator".PadRight(width)} {"MACs",12} {"activations",12} {"params",10}");
        foreach (var op in s.Operators)
        {
            o.WriteLine($"{op.Index,3}  {(op.Type + " v" + op.Version).PadRight(width)} {N(op.Macs),12} {N(op.ActivationBytes) + " B",12} {N(op.ParameterBytes) + " B",10}");
            foreach (var t in op.Inputs)
                o.WriteLine(t is null ? "       in   (omitted)" :
                    $"       in   {Fit(t.Name + (t.IsConstant ? " (const)" : ""), 44)} {DataTypes.Name(t.Type) + t.Shape,-20} {Quant(t.Quantization)}");
            foreach (var t in op.Outputs)
                o.WriteLine($"       out  {Fit(t.Name, 44)} {DataTypes.Name(t.Type) + t.Shape,-20} {Quant(t.Quantization)}");
        }
        o.WriteLine();
        o.WriteLine($"total MACs {N(s.TotalMacs)}   weights {N(s.WeightsBytes)} B   largest operator activations {N(s.PeakOperatorActivationBytes)} B");
    }

    private static void WriteJson(TextWriter o, FileInfo file, Model? model, ModelSummary? s, ModelFormat? format, List<Diagnostic> diagnostics)
    {
        JsonOutput.Write(o, w =>
        {
            w.WriteStartObject();
            w.WriteString("schema", JsonSchema);
            w.WriteString("model", file.FullName);
            if (model is not null && s is not null)
            {
                w.WriteNumber("file_bytes", file.Length);
                w.WriteString("format", format!.Name);
                // An imported model has no TFLite schema: its version is ONNX's opset.
                if (format.Opset is int opset)
                {
                    w.WriteNull("schema_version");
                    w.WriteNumber("opset", opset);
                }
                else
                {
                    w.WriteNumber("schema_version", model.Version);
                }
                w.WriteString("description", model.Description);
                w.WritePropertyName("inputs");
                TensorList(w, s.Inputs);
                w.WritePropertyName("outputs");
                TensorList(w, s.Outputs);
                w.WriteStartArray("ops");
                foreach (var op in s.Operators)
                {
                    w.WriteStartObject();
                    w.WriteNumber("index", op.Index);
                    w.WriteString("type", op.Type);
                    w.WriteNumber("version", op.Version);
                    w.WriteNumber("macs", op.Macs);
                    w.WriteNumber("activation_bytes", op.ActivationBytes);
                    w.WriteNumber("parameter_bytes", op.ParameterBytes);
                    w.WritePropertyName("inputs");
                    TensorList(w, op.Inputs);
                    w.WritePropertyName("outputs");
                    TensorList(w, op.Outputs);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("total_macs", s.TotalMacs);
                w.WriteNumber("weights_bytes", s.WeightsBytes);
                w.WriteNumber("peak_operator_activation_bytes", s.PeakOperatorActivationBytes);
            }
            JsonOutput.WriteDiagnostics(w, diagnostics);
            w.WriteEndObject();
        });
    }

    private static void TensorList(Utf8JsonWriter w, IEnumerable<TensorSummary?> tensors)
    {
        w.WriteStartArray();
        foreach (var t in tensors)
        {
            if (t is null)
            {
                w.WriteNullValue();
                continue;
            }
            w.WriteStartObject();
            w.WriteNumber("tensor_index", t.Index);
            w.WriteString("name", t.Name);
            w.WriteString("type", DataTypes.Name(t.Type));
            w.WriteStartArray("shape");
            foreach (int d in t.Shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteNumber("bytes", t.Bytes);
            w.WriteBoolean("constant", t.IsConstant);
            var q = t.Quantization;
            if (q is { HasScales: true, IsPerChannel: false })
            {
                w.WriteNumber("scale", q.Scale);
                w.WriteNumber("zero_point", q.ZeroPoint);
            }
            else
            {
                w.WriteNull("scale");
                w.WriteNull("zero_point");
            }
            if (q is { IsPerChannel: true })
            {
                w.WriteNumber("quantized_dimension", q.QuantizedDimension);
                w.WriteStartArray("channel_scales");
                foreach (float scale in q.Scales) w.WriteNumberValue(scale);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
