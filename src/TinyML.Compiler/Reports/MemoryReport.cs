// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;

namespace TinyML.Compiler.Reports;

/// <summary>One plan to show in the report, under a label (for example "none" or "in-place depthwise").</summary>
public sealed record ReportVariant(string Label, ExecutionPlan Plan, double MacsOverheadPercent = 0);

/// <summary>
/// A self-contained HTML page (inline SVG, no scripts, no external files) with, for each variant: the live
/// arena bytes at each step of the execution order (the MCUNetV2 picture of imbalanced memory), and the arena
/// layout over time (each buffer a rectangle: steps across, offset up). A dashed line marks the RAM budget.
/// The output depends only on its inputs: invariant formatting, no dates.
/// </summary>
public static class MemoryReport
{
    private const int ChartWidth = 720, ChartHeight = 220, Margin = 48;

    /// <summary>Renders the page.</summary>
    public static string Render(string modelName, Graph graph, IReadOnlyList<ReportVariant> variants, long? ramBudget)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append($"<title>Memory report: {Escape(modelName)}</title>\n");
        html.Append("<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#eee}h2{margin-top:32px}.budget{stroke:#c00;stroke-dasharray:6 4}</style>\n");
        html.Append("</head>\n<body>\n");
        html.Append($"<h1>Memory report: {Escape(modelName)}</h1>\n");
        html.Append($"<p>{graph.Operators.Count} operators. Arena bytes are aligned to {MemoryPlanner.Alignment} bytes." +
            (ramBudget is long b ? $" RAM budget: {N(b)} B (dashed red line)." : "") + "</p>\n");
        html.Append("<table>\n<tr><th>technique</th><th>arena (B)</th><th>lower bound (B)</th><th>vs first</th><th>extra MACs</th><th>in-place ops</th><th>reordered</th></tr>\n");
        long first = variants.Count > 0 ? variants[0].Plan.ArenaBytes : 0;
        foreach (var v in variants)
        {
            var m = v.Plan.Memory;
            html.Append($"<tr><td style=\"text-align:left\">{Escape(v.Label)}</td><td>{N(v.Plan.ArenaBytes)}</td><td>{N(m?.Arena.LowerBoundBytes ?? 0)}</td>" +
                $"<td>{(first > 0 ? ((double)v.Plan.ArenaBytes / first).ToString("F2", CultureInfo.InvariantCulture) + "x" : "-")}</td>" +
                $"<td>{v.MacsOverheadPercent.ToString("F1", CultureInfo.InvariantCulture)}%</td><td>{m?.InPlace.Count ?? 0}</td>" +
                $"<td>{(m is not null && m.Order.Select((op, i) => op != i).Any(x => x) ? "yes" : "no")}</td></tr>\n");
        }
        html.Append("</table>\n");
        long scale = Math.Max(1, variants.Select(v => v.Plan.ArenaBytes).Concat(ramBudget is long rb ? new[] { rb } : Array.Empty<long>()).DefaultIfEmpty(1).Max());
        int index = 0;
        foreach (var v in variants)
        {
            html.Append($"<h2 id=\"variant-{index}\">{Escape(v.Label)}: arena {N(v.Plan.ArenaBytes)} B</h2>\n");
            if (v.Plan.Memory is { } memory)
            {
                html.Append("<h3>Live memory per operator</h3>\n");
                html.Append(LiveChart(graph, memory, scale, ramBudget, index));
                html.Append("<h3>Arena layout over time</h3>\n");
                html.Append(LayoutChart(memory, scale, ramBudget, index));
            }
            index++;
        }
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static string LiveChart(Graph graph, MemoryLayout memory, long scale, long? budget, int index)
    {
        int steps = Math.Max(1, memory.Order.Count > 0 ? memory.Order.Count : graph.Operators.Count);
        var live = memory.LiveBytesPerOperator(steps);
        var svg = Open($"live-{index}", "live memory per operator");
        double barWidth = (double)ChartWidth / steps;
        for (int s = 0; s < steps; s++)
        {
            int op = s < memory.Order.Count ? memory.Order[s] : s;
            double h = ChartHeight * (double)live[s] / scale;
            string type = op < graph.Operators.Count ? graph.Operators[op].TypeName : "";
            svg.Append($"<rect class=\"live\" x=\"{F(Margin + s * barWidth)}\" y=\"{F(Margin + ChartHeight - h)}\" width=\"{F(Math.Max(0.5, barWidth - 1))}\" height=\"{F(h)}\" fill=\"#4a7fb5\">" +
                $"<title>step {s}: operator {op} {Escape(type)}, {N(live[s])} B live</title></rect>\n");
        }
        return Close(svg, scale, budget, "operator (execution order)");
    }

    private static string LayoutChart(MemoryLayout memory, long scale, long? budget, int index)
    {
        var arena = memory.Arena;
        int steps = Math.Max(1, arena.Buffers.Select(b => b.LastOp + 1).DefaultIfEmpty(1).Max());
        var svg = Open($"layout-{index}", "arena layout over time");
        double stepWidth = (double)ChartWidth / steps;
        string[] colors = { "#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69", "#fccde5", "#bc80bd" };
        for (int i = 0; i < arena.Buffers.Count; i++)
        {
            var b = arena.Buffers[i];
            double y = Margin + ChartHeight - ChartHeight * (double)(arena.Offsets[i] + b.Bytes) / scale;
            double h = ChartHeight * (double)b.Bytes / scale;
            bool scratch = b.Name.StartsWith("scratch of operator", StringComparison.Ordinal);
            string fill = scratch ? "#999999" : colors[i % colors.Length];
            string tie = b.SameOffsetAs >= 0 ? $", in place over {Escape(arena.Buffers[b.SameOffsetAs].Name)}" : "";
            svg.Append($"<rect class=\"tensor\" x=\"{F(Margin + b.FirstOp * stepWidth)}\" y=\"{F(y)}\" width=\"{F((b.LastOp - b.FirstOp + 1) * stepWidth)}\" height=\"{F(Math.Max(0.5, h))}\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"0.5\">" +
                $"<title>{Escape(b.Name)}: {N(b.Bytes)} B at offset {N(arena.Offsets[i])}, steps {b.FirstOp}..{b.LastOp}{tie}</title></rect>\n");
        }
        return Close(svg, scale, budget, "operator (execution order)");
    }

    private static StringBuilder Open(string id, string label)
    {
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" width=\"{ChartWidth + 2 * Margin}\" height=\"{ChartHeight + 2 * Margin}\" role=\"img\" aria-label=\"{label}\">\n");
        return svg;
    }

    private static string Close(StringBuilder svg, long scale, long? budget, string xLabel)
    {
        int x0 = Margin, y0 = Margin + ChartHeight;
        svg.Append($"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0 + ChartWidth}\" y2=\"{y0}\" stroke=\"#000\"/>\n");
        svg.Append($"<line x1=\"{x0}\" y1=\"{Margin}\" x2=\"{x0}\" y2=\"{y0}\" stroke=\"#000\"/>\n");
        svg.Append($"<text x=\"{x0}\" y=\"{Margin - 8}\" font-size=\"11\">{N(scale)} B</text>\n");
        svg.Append($"<text x=\"{x0 + ChartWidth / 2}\" y=\"{y0 + 30}\" font-size=\"11\" text-anchor=\"middle\">{xLabel}</text>\n");
        if (budget is long b)
        {
            double y = Margin + ChartHeight - ChartHeight * (double)b / scale;
            svg.Append($"<line class=\"budget\" x1=\"{x0}\" y1=\"{F(y)}\" x2=\"{x0 + ChartWidth}\" y2=\"{F(y)}\"/>\n");
            svg.Append($"<text x=\"{x0 + ChartWidth - 4}\" y=\"{F(y - 4)}\" font-size=\"11\" text-anchor=\"end\" fill=\"#c00\">budget {N(b)} B</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
