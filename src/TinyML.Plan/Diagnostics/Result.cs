// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Diagnostics;

/// <summary>A value, when one could be produced, and the diagnostics found on the way.</summary>
public sealed class Result<T> where T : class
{
    /// <summary>Creates a result.</summary>
    public Result(T? value, IReadOnlyList<Diagnostic> diagnostics)
    {
        Value = value;
        Diagnostics = diagnostics;
    }

    /// <summary>The value, or null when errors prevented it.</summary>
    public T? Value { get; }
    /// <summary>Every diagnostic, errors first.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; }
    /// <summary>True when any diagnostic is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
}
