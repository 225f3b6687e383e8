// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Compiler.Ir;

/// <summary>One operator of a graph, in execution order.</summary>
public sealed class Operator
{
    /// <summary>Creates an operator.</summary>
    public Operator(OpKind kind, ValueArray<int> inputs, ValueArray<int> outputs)
    {
        Kind = kind;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>The builtin operator code.</summary>
    public OpKind Kind { get; set; }
    /// <summary>The custom code, for CUSTOM operators.</summary>
    public string? CustomCode { get; set; }
    /// <summary>The operator version from the model's operator code.</summary>
    public int Version { get; set; } = 1;
    /// <summary>Input tensor indices; -1 marks an omitted optional input.</summary>
    public ValueArray<int> Inputs { get; set; }
    /// <summary>Output tensor indices.</summary>
    public ValueArray<int> Outputs { get; set; }
    /// <summary>Intermediate tensor indices (kept for round trips).</summary>
    public ValueArray<int> Intermediates { get; set; } = ValueArray<int>.Empty;
    /// <summary>Builtin options, or null when the operator has none.</summary>
    public OperatorOptions? Options { get; set; }
    /// <summary>Custom options (flexbuffer bytes), for CUSTOM operators.</summary>
    public ReadOnlyMemory<byte>? CustomOptions { get; set; }

    /// <summary>The operator's name: the TFLite builtin spelling, or the custom code.</summary>
    public string TypeName => Kind == OpKind.Custom && CustomCode is not null ? CustomCode : OpKinds.Name(Kind);

    /// <summary>The options cast to the expected record, or null.</summary>
    public T? OptionsAs<T>() where T : OperatorOptions => Options as T;

    /// <inheritdoc />
    public override string ToString() => $"{TypeName} v{Version} in{Inputs} out{Outputs}";
}
