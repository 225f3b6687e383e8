// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;

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
            for (int j = i + 1; j < buffers.Count && j < plan.Offsets.Count; j++)
            {
                var o = buffers[j];
                if (b.Bytes == 0 || o.Bytes == 0 || !b.OverlapsInTime(o)) continue;
                long other = plan.Offsets[j];
                if (offset < other + o.Bytes && other < offset + b.Bytes)
                    problems.Add($"{b.Name} [{offset}, {offset + b.Bytes}) and {o.Name} [{other}, {other + o.Bytes}) overlap while both live (operators {System.Math.Max(b.FirstOp, o.FirstOp)}..{System.Math.Min(b.LastOp, o.LastOp)})");
            }
        }
        if (plan.ArenaBytes < plan.LowerBoundBytes) problems.Add($"arena {plan.ArenaBytes} is below the lower bound {plan.LowerBoundBytes}: the bound is wrong");
        return problems;
    }
}
