// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Diagnostics;

/// <summary>Collects diagnostics. Stops collecting after a limit, so a hostile model cannot flood the log.</summary>
public sealed class DiagnosticBag
{
    /// <summary>More diagnostics than this are counted but not kept.</summary>
    public const int MaxKept = 200;

    private readonly List<Diagnostic> _items = new();
    private int _dropped;

    /// <summary>The diagnostics kept, in the order they were reported.</summary>
    public IReadOnlyList<Diagnostic> Items => _items;

    /// <summary>True when any error was reported.</summary>
    public bool HasErrors { get; private set; }

    /// <summary>Adds a diagnostic.</summary>
    public void Add(Diagnostic diagnostic)
    {
        if (diagnostic.Severity == Severity.Error) HasErrors = true;
        if (_items.Count < MaxKept) _items.Add(diagnostic);
        else _dropped++;
    }

    /// <summary>Adds every diagnostic of another list.</summary>
    public void AddRange(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics) Add(d);
    }

    /// <summary>The number of diagnostics reported beyond <see cref="MaxKept"/>.</summary>
    public int Dropped => _dropped;

    /// <summary>Errors first, then warnings, each in report order.</summary>
    public IEnumerable<Diagnostic> Ordered() => _items.OrderByDescending(d => d.Severity);
}
