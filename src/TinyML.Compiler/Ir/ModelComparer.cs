// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Ir;

/// <summary>Compares two models structurally and names every difference (used by round-trip checks).</summary>
public static class ModelComparer
{
    /// <summary>The differences between two models, empty when they are equal.</summary>
    public static IReadOnlyList<string> Differences(Model a, Model b)
    {
        var diffs = new List<string>();
        void Check<T>(string what, T x, T y)
        {
            if (!EqualityComparer<T>.Default.Equals(x, y)) diffs.Add($"{what}: {x} != {y}");
        }
        Check("version", a.Version, b.Version);
        Check("description", a.Description, b.Description);
        Check("subgraph count", a.Subgraphs.Count, b.Subgraphs.Count);
        for (int s = 0; s < Math.Min(a.Subgraphs.Count, b.Subgraphs.Count); s++)
        {
            Graph ga = a.Subgraphs[s], gb = b.Subgraphs[s];
            string at = $"subgraph {s}";
            Check($"{at} name", ga.Name, gb.Name);
            Check($"{at} inputs", ga.Inputs, gb.Inputs);
            Check($"{at} outputs", ga.Outputs, gb.Outputs);
            Check($"{at} tensor count", ga.Tensors.Count, gb.Tensors.Count);
            for (int t = 0; t < Math.Min(ga.Tensors.Count, gb.Tensors.Count); t++)
            {
                Tensor ta = ga.Tensors[t], tb = gb.Tensors[t];
                string tt = $"{at} tensor {t} '{ta.Name}'";
                Check($"{tt} name", ta.Name, tb.Name);
                Check($"{tt} type", ta.Type, tb.Type);
                Check($"{tt} shape", ta.Shape, tb.Shape);
                Check($"{tt} shape_signature", ta.ShapeSignature, tb.ShapeSignature);
                Check($"{tt} quantization", ta.Quantization, tb.Quantization);
                Check($"{tt} is_variable", ta.IsVariable, tb.IsVariable);
                Check($"{tt} has_rank", ta.HasRank, tb.HasRank);
                Check($"{tt} constant", ta.IsConstant, tb.IsConstant);
                if (ta.Data is { } da && tb.Data is { } db && !da.Span.SequenceEqual(db.Span))
                    diffs.Add($"{tt} data differs");
            }
            Check($"{at} operator count", ga.Operators.Count, gb.Operators.Count);
            for (int o = 0; o < Math.Min(ga.Operators.Count, gb.Operators.Count); o++)
            {
                Operator oa = ga.Operators[o], ob = gb.Operators[o];
                string ot = $"{at} operator {o} ({oa.TypeName})";
                Check($"{ot} kind", oa.Kind, ob.Kind);
                Check($"{ot} custom code", oa.CustomCode, ob.CustomCode);
                Check($"{ot} version", oa.Version, ob.Version);
                Check($"{ot} inputs", oa.Inputs, ob.Inputs);
                Check($"{ot} outputs", oa.Outputs, ob.Outputs);
                Check($"{ot} intermediates", oa.Intermediates, ob.Intermediates);
                Check($"{ot} options", oa.Options, ob.Options);
                if (!(oa.CustomOptions?.ToArray() ?? new byte[0]).SequenceEqual(ob.CustomOptions?.ToArray() ?? new byte[0]))
                    diffs.Add($"{ot} custom options differ");
            }
        }
        Check("metadata", string.Join(",", a.Metadata.Select(m => m.Name)), string.Join(",", b.Metadata.Select(m => m.Name)));
        for (int m = 0; m < Math.Min(a.Metadata.Count, b.Metadata.Count); m++)
            if (!a.Metadata[m].Data.Span.SequenceEqual(b.Metadata[m].Data.Span))
                diffs.Add($"metadata '{a.Metadata[m].Name}' data differs");
        Check("signature count", a.Signatures.Count, b.Signatures.Count);
        for (int i = 0; i < Math.Min(a.Signatures.Count, b.Signatures.Count); i++)
            Check($"signature {i}", a.Signatures[i], b.Signatures[i]);
        return diffs;
    }
}
