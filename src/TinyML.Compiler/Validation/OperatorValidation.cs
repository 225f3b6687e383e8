// SPDX-License-Identifier: Apache-2.0
using System;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Validation;

/// <summary>What an operator definition may use while the validator checks one operator: the graph and the report.</summary>
internal sealed class OperatorValidation
{
    private readonly Action<string, string, Tensor?, Severity> _report;

    /// <summary>Reports through <paramref name="report"/> (id, message, tensor, severity) for the operator being checked.</summary>
    public OperatorValidation(Graph graph, Action<string, string, Tensor?, Severity> report)
    {
        Graph = graph;
        _report = report;
    }

    /// <summary>The graph.</summary>
    public Graph Graph { get; }

    /// <summary>Reports a problem of the operator.</summary>
    public void Report(string id, string message, Tensor? tensor = null) => _report(id, message, tensor, Severity.Error);

    /// <summary>Reports a deviation from the specification that does not change what the kernels compute
    /// (<see cref="DiagnosticIds.ToleratedSpecDeviation"/>, a warning): the model runs as TFLM runs it.</summary>
    public void Tolerate(string message, Tensor? tensor = null) => _report(DiagnosticIds.ToleratedSpecDeviation, message, tensor, Severity.Warning);

    /// <summary>Reports a violation of the int8 specification on <paramref name="output"/> unless <paramref name="ok"/>.</summary>
    public void Require(bool ok, string message, Tensor output)
    {
        if (!ok) Report(DiagnosticIds.QuantizationSpecViolation, message, output);
    }
}
