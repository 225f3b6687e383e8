// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;

namespace TinyML.Compiler.Budgets;

/// <summary>
/// One constant blob of a plan, with the operator that first uses it and, when the blob is the bytes of one of that
/// operator's constant inputs or derived from one (packed weights, a folded bias), that tensor's name. Blobs the
/// lowering computed from no single tensor (multipliers, shifts) have none.
/// </summary>
public sealed record PlanConstant(int Blob, long Bytes, int Operator, string? OperatorType, string? TensorName)
{
    /// <summary>How a message names it: 'conv2d_3/Conv2D' (operator 4, CONV_2D), or what it is for.</summary>
    public string Label
    {
        get
        {
            string op = Operator >= 0 ? $"operator {Operator}, {OperatorType}" : "no operator";
            if (TensorName is not null) return $"'{TensorNames.Readable(TensorName)}' ({op})";
            return Operator >= 0 ? $"constant #{Blob} (parameters computed for {op})" : $"constant #{Blob}";
        }
    }
}

/// <summary>Maps a plan's constant blobs back to the graph: the plan keeps bytes, not names.</summary>
public static class PlanConstants
{
    /// <summary>Every constant blob of <paramref name="plan"/>, in blob order.</summary>
    public static IReadOnlyList<PlanConstant> Describe(Graph graph, ExecutionPlan plan)
    {
        var user = Enumerable.Repeat(-1, plan.Constants.Count).ToArray();
        var userType = new string?[plan.Constants.Count];
        foreach (var call in plan.Calls)
            foreach (var pointer in Pointers(call))
                if (pointer.Region == Region.Constant && pointer.Blob >= 0 && pointer.Blob < user.Length && user[pointer.Blob] < 0)
                {
                    user[pointer.Blob] = call.OperatorIndex;
                    userType[pointer.Blob] = call.OperatorType;
                }

        var result = new List<PlanConstant>(plan.Constants.Count);
        for (int b = 0; b < plan.Constants.Count; b++)
        {
            byte[] blob = plan.Constants[b];
            string? tensor = null;
            // Named when the lowering derived the blob from one tensor (packed weights, a folded bias), or when the
            // bytes are exactly a constant input of the operator that uses them.
            if (plan is CompiledPlan compiled && compiled.ConstantSources.TryGetValue(b, out int source) && source < graph.Tensors.Count)
                tensor = graph.Tensors[source].Name.Length > 0 ? graph.Tensors[source].Name : $"tensor {source}";
            else if (user[b] >= 0 && user[b] < graph.Operators.Count)
                foreach (int t in graph.Operators[user[b]].Inputs)
                    if (t >= 0 && t < graph.Tensors.Count && graph.Tensors[t].Data is { } data && data.Span.SequenceEqual(blob.AsSpan()))
                    {
                        tensor = graph.Tensors[t].Name.Length > 0 ? graph.Tensors[t].Name : $"tensor {t}";
                        break;
                    }
            result.Add(new PlanConstant(b, blob.Length, user[b], userType[b], tensor));
        }
        return result;
    }

    private static IEnumerable<Pointer> Pointers(KernelCall call)
    {
        foreach (var arg in call.Args)
        {
            yield return arg.Pointer;
            foreach (var field in arg.Fields)
                if (field.Type == FieldType.Pointer) yield return field.Pointer;
            foreach (var pointer in arg.Pointers) yield return pointer;
        }
    }
}
