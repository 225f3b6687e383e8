// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Operators;

/// <summary>Maps each operator code to its one definition.</summary>
internal static class OperatorRegistry
{
    private static readonly OperatorDefinition[] Definitions =
    {
        new Convolution(), new FullyConnected(), new Pooling(), new Elementwise(), new Softmax(), new LogisticOrTanh(),
        new HardSwish(), new LeakyRelu(), new Relu(), new Quantize(), new Dequantize(), new Alias(), new Pad(),
        new Transpose(), new StridedSlice(), new Concatenation(), new Mean(), new Svdf(), new TransposeConv(), new Lstm(),
        new Resize(), new SpaceDepth(), new Elu(), new LogSoftmax(),
    };

    private static readonly Dictionary<OpKind, OperatorDefinition> ByKind = Build();

    private static Dictionary<OpKind, OperatorDefinition> Build()
    {
        var byKind = new Dictionary<OpKind, OperatorDefinition>();
        foreach (var definition in Definitions)
            foreach (var kind in definition.Kinds)
                byKind.Add(kind, definition); // throws on a code defined twice
        return byKind;
    }

    /// <summary>The definition of an operator code, or null for codes no family knows.</summary>
    public static OperatorDefinition? Of(OpKind kind) => ByKind.TryGetValue(kind, out var definition) ? definition : null;

    /// <summary>The rule of an operator code we run, or null.</summary>
    public static OperatorRule? RuleOf(OpKind kind) => Of(kind)?.Rule(kind);

    /// <summary>The operators we run, by code.</summary>
    public static IEnumerable<OpKind> Supported => ByKind.Keys.Where(k => RuleOf(k) is not null).OrderBy(k => (int)k);
}
