// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;

namespace TinyML.Compiler.Planning;

/// <summary>
/// Checks an arena plan without trusting the planner: every offset is aligned, every buffer lies inside the arena,
/// and no two buffers that are live at the same operator share a byte.
/// </summary>
public static class PlanVerifier
{
    /// <summary>The violations found; empty when the plan is sound.</summary>
    public static IReadOnlyList<string> Verify(ArenaPlan plan)
    {
        var problems = new List<string>();
        var buffers = plan.Buffers;
        if (plan.Offsets.Count != buffers.Count) problems.Add($"{plan.Offsets.Count} offsets for {buffers.Count} buffers");
        for (int i = 0; i < buffers.Count && i < plan.Offsets.Count; i++)
        {
            long offset = plan.Offsets[i];
            var b = buffers[i];
            if (offset % MemoryPlanner.Alignment != 0) problems.Add($"{b.Name}: offset {offset} is not {MemoryPlanner.Alignment}-byte aligned");
            if (offset < 0 || offset + b.Bytes > plan.ArenaBytes) problems.Add($"{b.Name}: [{offset}, {offset + b.Bytes}) lies outside the {plan.ArenaBytes}-byte arena");
            if (b.SameOffsetAs >= 0)
            {
                if (b.SameOffsetAs >= i) problems.Add($"{b.Name}: shares its offset with a later buffer");
                else if (plan.Offsets[b.SameOffsetAs] + b.RelativeOffset != offset) problems.Add($"{b.Name}: written in place over {buffers[b.SameOffsetAs].Name} but placed at {offset}, not {plan.Offsets[b.SameOffsetAs] + b.RelativeOffset}");
                else if (!InPlacePair(buffers[b.SameOffsetAs], b)) problems.Add($"{b.Name}: written in place over {buffers[b.SameOffsetAs].Name} (or it over {b.Name}), but neither dies where the other is born");
            }
            for (int j = i + 1; j < buffers.Count && j < plan.Offsets.Count; j++)
            {
                var o = buffers[j];
                if (b.Bytes == 0 || o.Bytes == 0 || !b.OverlapsInTime(o)) continue;
                // The one legal overlap: an in-place output and the input it overwrites, at the operator joining them.
                if (o.SameOffsetAs == i && InPlacePair(b, o)) continue;
                long other = plan.Offsets[j];
                if (offset < other + o.Bytes && other < offset + b.Bytes)
                    problems.Add($"{b.Name} [{offset}, {offset + b.Bytes}) and {o.Name} [{other}, {other + o.Bytes}) overlap while both live (operators {System.Math.Max(b.FirstOp, o.FirstOp)}..{System.Math.Min(b.LastOp, o.LastOp)})");
            }
        }
        if (plan.ArenaBytes < plan.LowerBoundBytes) problems.Add($"arena {plan.ArenaBytes} is below the lower bound {plan.LowerBoundBytes}: the bound is wrong");
        return problems;
    }

    /// <summary>One of two linked buffers dies at the operator where the other is born: an output written over its input
    /// (the input may be the later buffer in the list: an in-place stem's input is placed relative to its output).</summary>
    private static bool InPlacePair(ArenaBuffer a, ArenaBuffer b) => a.LastOp == b.FirstOp || b.LastOp == a.FirstOp;

    /// <summary>
    /// Checks a schedule against the graph, recomputing what it relies on: the order is a permutation that runs
    /// every operator after the producers of its inputs, and every in-place pair is legal (the operator reads the
    /// input and writes the output, the kind allows it, the sizes fit, both tensors start at the same offset, the
    /// input is no graph input or output, and no later operator reads the input or a RESHAPE/SQUEEZE alias of it).
    /// </summary>
    public static IReadOnlyList<string> VerifySchedule(Graph graph, MemorySchedule schedule)
    {
        var problems = new List<string>();
        var order = schedule.Order;
        int n = graph.Operators.Count;
        if (order.Count != n || order.Distinct().Count() != n || order.Any(op => op < 0 || op >= n))
        {
            problems.Add($"the order [{string.Join(", ", order)}] is not a permutation of {n} operators");
            return problems;
        }
        var stepOf = new int[n];
        for (int s = 0; s < n; s++) stepOf[order[s]] = s;
        var producer = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
            foreach (int t in graph.Operators[i].Outputs) if (t >= 0) producer[t] = i;
        for (int i = 0; i < n; i++)
            foreach (int t in graph.Operators[i].Inputs)
                if (t >= 0 && producer.TryGetValue(t, out int p) && !graph.Tensors[t].IsVariable && stepOf[p] >= stepOf[i])
                    problems.Add($"operator {i} runs at step {stepOf[i]} but its input '{graph.Tensors[t].Name}' is produced by operator {p} at step {stepOf[p]}");

        // Alias closure: RESHAPE and SQUEEZE outputs are their input's bytes.
        var aliasOf = new Dictionary<int, int>();
        int Root(int t) { while (aliasOf.TryGetValue(t, out int a)) t = a; return t; }
        foreach (var op in graph.Operators)
            if (op.Kind is OpKind.Reshape or OpKind.Squeeze && op.Inputs.Count > 0 && op.Inputs[0] >= 0 && op.Outputs.Count > 0
                && !graph.Tensors[op.Inputs[0]].IsConstant && Root(op.Inputs[0]) != Root(op.Outputs[0]))
                aliasOf[Root(op.Outputs[0])] = Root(op.Inputs[0]);

        foreach (var pair in schedule.InPlace)
        {
            string what = $"in-place operator {pair.Operator}";
            if (pair.Operator < 0 || pair.Operator >= n) { problems.Add($"{what} does not exist"); continue; }
            var op = graph.Operators[pair.Operator];
            if (!op.Inputs.Contains(pair.InputTensor) || op.Outputs.Count != 1 || op.Outputs[0] != pair.OutputTensor)
            {
                problems.Add($"{what} ({op.TypeName}) does not read tensor {pair.InputTensor} and write tensor {pair.OutputTensor}");
                continue;
            }
            var input = graph.Tensors[pair.InputTensor];
            var output = graph.Tensors[pair.OutputTensor];
            if (pair.Kind == InPlaceKind.Depthwise)
            {
                var weights = op.Inputs.Count > 1 && op.Inputs[1] >= 0 ? graph.Tensors[op.Inputs[1]] : null;
                if (op.Kind != OpKind.DepthwiseConv2D || weights is null || input.Shape.Count != 4 || weights.Shape.Count != 4
                    || weights.Shape[3] != input.Shape[3] || input.Type != DataType.Int8 || output.Type != DataType.Int8)
                    problems.Add($"{what} ({op.TypeName}) is not an int8 depthwise convolution with depth multiplier 1");
                else if (pair.ScratchBytes < (long)input.Shape[0] * input.Shape[1] * input.Shape[2])
                    problems.Add($"{what}: {pair.ScratchBytes} scratch bytes cannot hold one input channel");
                if (output.Bytes > input.Bytes) problems.Add($"{what}: the output ({output.Bytes} bytes) is larger than the input ({input.Bytes})");
            }
            else if (!InPlace.IsElementwiseKind(op.Kind) || input.Type != output.Type || !input.Shape.SequenceEqual(output.Shape))
                problems.Add($"{what} ({op.TypeName}): an element-wise in-place input must have the output's kind, type and shape");
            if (!schedule.TensorOffsets.TryGetValue(pair.InputTensor, out long a) || !schedule.TensorOffsets.TryGetValue(pair.OutputTensor, out long b) || a != b)
                problems.Add($"{what}: '{input.Name}' and '{output.Name}' do not start at the same arena offset");
            int root = Root(pair.InputTensor);
            if (graph.Inputs.Concat(graph.Outputs).Any(t => Root(t) == root))
                problems.Add($"{what}: '{input.Name}' is (an alias of) a graph input or output and must keep its bytes");
            for (int i = 0; i < n; i++)
                if (stepOf[i] > stepOf[pair.Operator] && graph.Operators[i].Inputs.Any(t => t >= 0 && Root(t) == root))
                    problems.Add($"{what} overwrites '{input.Name}', which operator {i} reads later (step {stepOf[i]})");
        }
        return problems;
    }

    /// <summary>
    /// Checks every call of a plan against tml_kernels.h (<see cref="KernelAbi"/>): the kernel exists and a plan can
    /// call it, the arguments have the parameters' kinds, and each struct has the header's fields in order with their
    /// types. Lowering writes field lists by name, so this is what keeps them honest at compile time.
    /// </summary>
    public static IReadOnlyList<string> VerifyCalls(ExecutionPlan plan) =>
        plan.Calls.SelectMany((call, i) => KernelAbi.Check(call).Select(p => $"call {i}, operator {call.OperatorIndex} ({call.OperatorType}), {call.Kernel}: {p}")).ToList();

    /// <summary><see cref="VerifyCalls"/> as TML0102 errors (a plan that does not match the kernel library).</summary>
    public static IReadOnlyList<Diagnostic> VerifyCallDiagnostics(ExecutionPlan plan, string? file = null) =>
        plan.Calls.SelectMany(call => KernelAbi.Check(call).Select(p => new Diagnostic(TinyML.DiagnosticIds.KernelFailed, Severity.Error,
            $"{call.Kernel}: the plan does not match tml_kernels.h: {p}")
        {
            File = file, OperatorIndex = call.OperatorIndex, OperatorType = call.OperatorType,
        })).ToList();
}
