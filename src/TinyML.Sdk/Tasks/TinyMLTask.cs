// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TinyML.Compiler.Diagnostics;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// Base of the TinyML tasks: <see cref="Execute"/> never throws (an unexpected exception is TML9001, without a
/// stack trace in the build log), diagnostics are logged with their code and location, and files are written only
/// when their content changes, so that timestamps stay stable and incremental builds stay incremental.
/// </summary>
public abstract class TinyMLTask : Task
{
    /// <inheritdoc />
    public sealed override bool Execute()
    {
        try
        {
            Run();
        }
        catch (Exception e)
        {
            Log.LogError(subcategory: null, errorCode: TinyML.DiagnosticIds.InternalError, helpKeyword: null,
                helpLink: TinyML.DiagnosticIds.HelpLink(TinyML.DiagnosticIds.InternalError), file: null,
                lineNumber: 0, columnNumber: 0, endLineNumber: 0, endColumnNumber: 0,
                message: $"internal error in {GetType().Name}: {e.GetType().Name}: {e.Message}");
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>The task's work.</summary>
    protected abstract void Run();

    /// <summary>Logs a diagnostic as an MSBuild error, warning or message with its TML code and the link to its page.</summary>
    protected void Report(Diagnostic d)
    {
        string message = d.FullMessage;
        switch (d.Severity)
        {
            case Severity.Error:
                Log.LogError(null, d.Id, null, TinyML.DiagnosticIds.HelpLink(d.Id), d.File, d.Line, 0, 0, 0, message);
                break;
            case Severity.Warning:
                Log.LogWarning(null, d.Id, null, TinyML.DiagnosticIds.HelpLink(d.Id), d.File, d.Line, 0, 0, 0, message);
                break;
            default:
                Log.LogMessage(null, d.Id, null, d.File, d.Line, 0, 0, 0, MessageImportance.Normal, message);
                break;
        }
    }

    /// <summary>Writes a file only when its bytes differ; returns true when it wrote.</summary>
    protected static bool WriteIfChanged(string path, byte[] content)
    {
        if (File.Exists(path))
        {
            var existing = File.ReadAllBytes(path);
            if (existing.AsSpan().SequenceEqual(content)) return false;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return true;
    }

    /// <summary>Writes a UTF-8 text file only when it differs.</summary>
    protected static bool WriteIfChanged(string path, string content) => WriteIfChanged(path, new UTF8Encoding(false).GetBytes(content));
}
