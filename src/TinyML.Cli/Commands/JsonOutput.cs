// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Text;
using System.Collections.Generic;
using System.Text.Json;
using TinyML.Compiler.Diagnostics;

namespace TinyML.Cli.Commands;

/// <summary>Writes one indented JSON document to a text writer.</summary>
internal static class JsonOutput
{
    public static void Write(TextWriter output, Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true })) body(writer);
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>Writes the "diagnostics" array every JSON report ends with.</summary>
    public static void WriteDiagnostics(Utf8JsonWriter w, IEnumerable<Diagnostic> diagnostics, bool withFile = false)
    {
        w.WriteStartArray("diagnostics");
        foreach (var d in diagnostics)
        {
            w.WriteStartObject();
            w.WriteString("id", d.Id);
            w.WriteString("severity", d.Severity.ToString().ToLowerInvariant());
            w.WriteString("message", d.Message);
            if (withFile && d.File is not null) w.WriteString("file", d.File);
            if (d.OperatorIndex is int index) w.WriteNumber("operator_index", index);
            if (d.OperatorType is not null) w.WriteString("operator_type", d.OperatorType);
            if (d.TensorName is not null) w.WriteString("tensor", d.TensorName);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
