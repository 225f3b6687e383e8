// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Text;
using System.Text.Json;

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
}
