// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace TinyML.Compiler.Diagnostics;

/// <summary>How serious a diagnostic is.</summary>
public enum Severity
{
    /// <summary>Information only.</summary>
    Info,
    /// <summary>The model works, but something deserves attention.</summary>
    Warning,
    /// <summary>The model cannot be compiled or run.</summary>
    Error,
}

/// <summary>One problem found in a model, with a TML code and the place it concerns.</summary>
public sealed record Diagnostic(string Id, Severity Severity, string Message)
{
    /// <summary>The model file the diagnostic is about, when known.</summary>
    public string? File { get; init; }
    /// <summary>The line in <see cref="File"/>, when known (budgets point at the project line that set them).</summary>
    public int Line { get; init; }
    /// <summary>The operator index in subgraph 0, when the problem is at an operator.</summary>
    public int? OperatorIndex { get; init; }
    /// <summary>The operator type (for example CONV_2D), when the problem is at an operator.</summary>
    public string? OperatorType { get; init; }
    /// <summary>The tensor name, when the problem is at a tensor.</summary>
    public string? TensorName { get; init; }

    /// <summary>The message with its location: operator index and type, and tensor name.</summary>
    public string FullMessage
    {
        get
        {
            var where = new List<string>();
            if (OperatorIndex is int index) where.Add($"operator {index} ({OperatorType ?? "?"})");
            if (TensorName is not null) where.Add($"tensor '{TensorName}'");
            return where.Count == 0 ? Message : $"{string.Join(", ", where)}: {Message}";
        }
    }

    /// <summary>Formats as MSBuild and compilers do: <c>file: error TML1001: message</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (File is not null) text.Append(File).Append(Line > 0 ? $"({Line})" : "").Append(": ");
        text.Append(Severity switch { Severity.Error => "error", Severity.Warning => "warning", _ => "info" });
        text.Append(' ').Append(Id).Append(": ").Append(FullMessage);
        return text.ToString();
    }
}
