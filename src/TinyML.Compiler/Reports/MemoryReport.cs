// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;

namespace TinyML.Compiler.Reports;

/// <summary>
/// One plan to show in the report, under a label (for example "none" or "inplace-depthwise"). <paramref name="Reason"/>
/// says why its techniques did not lower the peak (<see cref="TechniqueResult.Reason"/>); <paramref name="Chosen"/>
/// marks the plan the build uses, which the verdict judges and whose section is open.
/// </summary>
public sealed record ReportVariant(string Label, CompiledPlan Plan, double MacsOverheadPercent = 0, string? Reason = null, bool Chosen = false);

/// <summary>
/// A self-contained HTML page (inline SVG, no scripts, no external files): a verdict against the RAM budget, a table
/// of every variant with the reason a technique did not help, and for each variant (folded, the chosen one open) the
/// live arena bytes at each step of the execution order (the MCUNetV2 picture of imbalanced memory) and the arena
/// layout over time (each buffer a rectangle: steps across, offset up; the largest ones numbered and named in a
/// legend). Both x axes carry operator ticks ("3 CONV_2D"). A dashed line marks the RAM budget. The page is
/// well-formed XML, and depends only on its inputs: invariant formatting, no dates.
/// </summary>
public static class MemoryReport
{
    /// <summary>Where the documentation the page links to lives.</summary>
    public const string DocsBase = "https://github.com/tinyml-sdk/TinyML.Sdk/blob/main/docs/";

    /// <summary>At most this many x-axis labels per chart; with more steps every k-th step is labelled (<see cref="TickLabelStride"/>).</summary>
    public const int MaxTickLabels = 40;

    /// <summary>The legend of an arena layout names this many of the largest buffers.</summary>
    public const int LegendBuffers = 10;

    private const int PlotWidth = 720, PlotHeight = 220, Left = 72, Right = 24, Top = 40, AxisBelow = 140;
    private const double CharWidth = 5.6; // average advance of the 10 px sans-serif labels, to decide what fits in a block

    /// <summary>
    /// The report's variants for a model: every result of <see cref="MemoryTechniques.Evaluate"/> that lowered (with
    /// its reason), then <paramref name="chosen"/> as "chosen". <paramref name="all"/> is the option set of the "all"
    /// variant (Evaluate's default when null).
    /// </summary>
    public static IReadOnlyList<ReportVariant> Variants(Model model, string? file, CompiledPlan chosen, LoweringOptions? all = null) =>
        Variants(model, MemoryTechniques.Evaluate(model, file, all), chosen);

    /// <summary>The report's variants from results already evaluated (the CLI prints them too), then the chosen plan.</summary>
    public static IReadOnlyList<ReportVariant> Variants(Model model, IReadOnlyList<TechniqueResult> techniques, CompiledPlan chosen)
    {
        var variants = techniques.Where(t => t.Plan is not null).Select(t => new ReportVariant(t.Name, t.Plan!, t.MacsOverheadPercent, t.Reason)).ToList();
        // The chosen plan's options are not known here, only whether it beats the plain plan.
        string? reason = techniques.FirstOrDefault(t => t.Name == "none") is { Plan: not null } none && chosen.ArenaBytes >= none.ArenaBytes
            ? $"no lower than with no technique ({N(none.ArenaBytes)} B)" : null;
        variants.Add(new ReportVariant("chosen", chosen, MemoryTechniques.OverheadPercent(chosen), reason, Chosen: true));
        return variants;
    }

    /// <summary>Every k-th step gets an x-axis label so that at most <see cref="MaxTickLabels"/> labels share a chart.</summary>
    public static int TickLabelStride(int steps) => Math.Max(1, (steps + MaxTickLabels - 1) / MaxTickLabels);

    /// <summary>
    /// A readable tensor name: the first ';'-separated part of a TFLite fused name, without <paramref name="scope"/>
    /// (see <see cref="CommonScope"/>) where a name starts with it, shortened from the left past 40 characters.
    /// </summary>
    public static string ReadableName(string name, string scope = "")
    {
        string first = name.Split(';')[0];
        if (scope.Length > 0) first = Regex.Replace(first, "(?<=^|[ (])" + Regex.Escape(scope), "");
        return first.Length <= 40 ? first : "…" + first.Substring(first.Length - 39);
    }

    /// <summary>
    /// The first path component ("functional_1/", "model/") that every activation tensor name with a '/' starts with,
    /// when at least two do; empty otherwise. Every label repeats it, so the legend drops it and says so.
    /// </summary>
    public static string CommonScope(Graph graph)
    {
        var scoped = graph.Tensors.Where(t => !t.IsConstant && t.Name.Split(';')[0].Contains('/')).Select(t => t.Name.Split(';')[0]).ToList();
        if (scoped.Count < 2) return "";
        string scope = scoped[0].Substring(0, scoped[0].IndexOf('/') + 1);
        return scoped.All(n => n.StartsWith(scope, StringComparison.Ordinal)) ? scope : "";
    }

    /// <summary>
    /// The headline: with a budget, "Fits: X B of B B" or "Does not fit: best Y B &gt; B B", where X is the chosen plan's
    /// arena plus state and Y the lowest among the variants; without one, the chosen plan's peak and lower bound.
    /// </summary>
    public static string Verdict(IReadOnlyList<ReportVariant> variants, long? ramBudget)
    {
        if (variants.Count == 0) return "No plan.";
        var chosen = Chosen(variants);
        long training = chosen.Plan.ParameterBytes;
        long Ram(CompiledPlan plan) => MemoryReport.Ram(plan, training);
        long need = Ram(chosen.Plan);
        var best = variants.OrderBy(v => Ram(v.Plan)).First();
        if (ramBudget is not long budget)
            return $"Peak: {N(need)} B (arena {N(chosen.Plan.ArenaBytes)} B + state {N(chosen.Plan.StateBytes)} B{(training > 0 ? $" + training {N(training)} B" : "")}); lower bound {N(chosen.Plan.Memory?.Arena.LowerBoundBytes ?? 0)} B.";
        if (need <= budget) return $"Fits: {N(need)} B of {N(budget)} B ({(100.0 * need / budget).ToString("F0", CultureInfo.InvariantCulture)}%).";
        if (Ram(best.Plan) <= budget) return $"Does not fit as chosen: {N(need)} B > {N(budget)} B; '{best.Label}' needs {N(Ram(best.Plan))} B, which fits.";
        return $"Does not fit: best {N(Ram(best.Plan))} B > {N(budget)} B.";
    }

    /// <summary>Renders the page. The variant marked <see cref="ReportVariant.Chosen"/> (else the last) is the chosen plan.</summary>
    public static string Render(string modelName, Graph graph, IReadOnlyList<ReportVariant> variants, long? ramBudget)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append($"<title>Memory report: {Escape(modelName)}</title>\n");
        html.Append("<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}table{border-collapse:collapse;font-size:14px}" +
            "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right;white-space:nowrap}th{background:#eee}td.name{text-align:left}" +
            "tr.reason td{text-align:left;color:#555;font-size:90%;border-top:none;white-space:normal}" +
            ".verdict{font-size:140%;font-weight:bold;padding:8px 12px;border-radius:4px;display:inline-block}" +
            ".fits{background:#e3f4e1;color:#1d6b1d}.misses{background:#fbe3e1;color:#a01d1d}.info{background:#eef2f7}" +
            "details{margin-top:16px;border:1px solid #ddd;border-radius:4px;padding:4px 12px}summary{font-size:120%;cursor:pointer;padding:4px 0}" +
            ".budget{stroke:#c00;stroke-dasharray:6 4}</style>\n");
        html.Append("</head>\n<body>\n");
        html.Append($"<h1>Memory report: {Escape(modelName)}</h1>\n");
        var chosen = variants.Count > 0 ? Chosen(variants) : null;
        long training = chosen?.Plan.ParameterBytes ?? 0;
        long Ram(CompiledPlan plan) => MemoryReport.Ram(plan, training);
        string verdictClass = ramBudget is long limit && chosen is not null ? (Ram(chosen.Plan) <= limit ? "fits" : "misses") : "info";
        html.Append($"<p id=\"verdict\" class=\"verdict {verdictClass}\">{Escape(Verdict(variants, ramBudget))}</p>\n");
        if (chosen is not null)
        {
            var best = variants.OrderBy(v => Ram(v.Plan)).First();
            html.Append($"<p>Chosen plan: arena {N(chosen.Plan.ArenaBytes)} B + state {N(chosen.Plan.StateBytes)} B, lower bound " +
                $"{N(chosen.Plan.Memory?.Arena.LowerBoundBytes ?? 0)} B. Lowest among the variants: {N(Ram(best.Plan))} B ({Escape(best.Label)}).</p>\n");
            if (chosen.Plan.Training is { } t)
                html.Append($"<p id=\"training\">Training (Train=&quot;{Escape(t.Mode)}&quot;, {t.Classes} classes): a parameter region of {N(training)} B in RAM " +
                    $"beside the arena (the head's {N(t.TrainedValues)} trained values, their int32 masters, gradients and a control block; " +
                    $"its initial image is {N(training)} B of flash), counted in every RAM figure above. " +
                    $"<a href=\"{DocsBase}training.md\">On-device training</a>.</p>\n");
        }
        html.Append($"<p>{graph.Operators.Count} operators. Arena bytes are aligned to {MemoryPlanner.Alignment} bytes." +
            (ramBudget is long b ? $" RAM budget: {N(b)} B (dashed red line)." : "") +
            $" How the techniques work: <a href=\"{DocsBase}memory.md\">memory techniques</a>, <a href=\"{DocsBase}patches.md\">patch-based inference</a>.</p>\n");
        AppendTable(html, graph, variants);
        long scale = Math.Max(1, variants.Select(v => v.Plan.ArenaBytes).Concat(ramBudget is long rb ? new[] { rb } : Array.Empty<long>()).DefaultIfEmpty(1).Max());
        for (int index = 0; index < variants.Count; index++)
        {
            var v = variants[index];
            int same = Enumerable.Range(0, index).Where(j => SameLayout(variants[j].Plan, v.Plan)).DefaultIfEmpty(-1).First();
            html.Append($"<details id=\"variant-{index}\"{(ReferenceEquals(v, chosen) ? " open=\"open\"" : "")}>\n<summary>{Escape(v.Label)}: arena {N(v.Plan.ArenaBytes)} B" +
                (same >= 0 ? $" (same layout as {Escape(variants[same].Label)})" : "") + "</summary>\n");
            if (v.Reason is { } why) html.Append($"<p>Why it did not lower the peak: {Escape(why)}.</p>\n");
            if (v.Plan.Memory is { } memory)
            {
                html.Append("<h3>Live memory per operator</h3>\n");
                html.Append(LiveChart(graph, memory, scale, ramBudget, index));
                html.Append("<h3>Arena layout over time</h3>\n");
                html.Append(LayoutChart(graph, memory, scale, ramBudget, index));
            }
            html.Append("</details>\n");
        }
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendTable(StringBuilder html, Graph graph, IReadOnlyList<ReportVariant> variants)
    {
        string firstLabel = variants.Count > 0 ? variants[0].Label : "first";
        html.Append($"<table id=\"variants\">\n<tr><th>technique</th><th>arena (B)</th><th>lower bound (B)</th><th>vs {Escape(firstLabel)}</th>" +
            "<th>extra MACs</th><th>in-place ops</th><th>reordered</th><th>peak at</th></tr>\n");
        long first = variants.Count > 0 ? variants[0].Plan.ArenaBytes : 0;
        for (int i = 0; i < variants.Count; i++)
        {
            var v = variants[i];
            var m = v.Plan.Memory;
            int peak = m?.PeakOperator ?? -1;
            html.Append($"<tr><td class=\"name\"><a href=\"#variant-{i}\">{Escape(v.Label)}</a></td><td>{N(v.Plan.ArenaBytes)}</td><td>{N(m?.Arena.LowerBoundBytes ?? 0)}</td>" +
                $"<td>{(first > 0 ? ((double)v.Plan.ArenaBytes / first).ToString("F2", CultureInfo.InvariantCulture) + "x" : "-")}</td>" +
                $"<td>{v.MacsOverheadPercent.ToString("F1", CultureInfo.InvariantCulture)}%</td><td>{m?.InPlace.Count ?? 0}</td>" +
                $"<td>{(m is not null && m.Reordered ? "yes" : "no")}</td>" +
                $"<td class=\"name\">{(peak >= 0 && peak < graph.Operators.Count ? Escape(OperatorLabel(graph, peak)) : "-")}</td></tr>\n");
            if (v.Reason is { } why) html.Append($"<tr class=\"reason\"><td colspan=\"8\">no gain: {Escape(why)}</td></tr>\n");
        }
        html.Append("</table>\n");
    }

    private static string LiveChart(Graph graph, MemoryLayout memory, long scale, long? budget, int index)
    {
        var live = memory.LiveBytesInOrder();
        int steps = Math.Max(1, live.Count);
        int OpAt(int s) => s < memory.Order.Count ? memory.Order[s] : s;
        var svg = Open($"live-{index}", "live memory per operator", 0);
        double barWidth = (double)PlotWidth / steps;
        int peakStep = Enumerable.Range(0, steps).OrderByDescending(s => live[s]).ThenBy(s => s).First();
        for (int s = 0; s < steps; s++)
        {
            double h = PlotHeight * (double)live[s] / scale;
            svg.Append($"<rect class=\"live\" x=\"{F(Left + s * barWidth)}\" y=\"{F(Top + PlotHeight - h)}\" width=\"{F(Math.Max(0.5, barWidth - 1))}\" height=\"{F(h)}\" fill=\"{(s == peakStep ? "#d9822b" : "#4a7fb5")}\">" +
                $"<title>step {s}: operator {Escape(OperatorLabel(graph, OpAt(s)))}, {N(live[s])} B live</title></rect>\n");
        }
        // The peak is named above the plot, with a leader to its bar, so a screenshot shows it without hovering.
        double peakX = Left + (peakStep + 0.5) * barWidth, barTop = Top + PlotHeight - PlotHeight * (double)live[peakStep] / scale;
        string anchor = peakX < Left + PlotWidth * 0.25 ? "start" : peakX > Left + PlotWidth * 0.75 ? "end" : "middle";
        svg.Append($"<line x1=\"{F(peakX)}\" y1=\"{Top - 14}\" x2=\"{F(peakX)}\" y2=\"{F(barTop)}\" stroke=\"#9a4f0c\" stroke-width=\"0.8\"/>" +
            $"<text class=\"peak\" x=\"{F(peakX)}\" y=\"{Top - 18}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#9a4f0c\">peak {N(live[peakStep])} B at {Escape(OperatorLabel(graph, OpAt(peakStep)))}</text>\n");
        Ticks(svg, steps, s => OperatorLabel(graph, OpAt(s)));
        return Close(svg, scale, budget, "operator (execution order)");
    }

    private static string LayoutChart(Graph graph, MemoryLayout memory, long scale, long? budget, int index)
    {
        var arena = memory.Arena;
        string scope = CommonScope(graph);
        var firstOfLast = FirstSegmentOfLast(graph);
        string Name(string buffer) => ReadableName(PatchNameWithFirstSegments(buffer, firstOfLast), scope);
        int steps = Math.Max(1, arena.Buffers.Select(b => b.LastOp + 1).DefaultIfEmpty(1).Max());
        int OpAt(int s) => memory.OperatorOfStep is { } map && s < map.Count ? map[s] : s < memory.Order.Count ? memory.Order[s] : s;
        var legend = Enumerable.Range(0, arena.Buffers.Count).OrderByDescending(i => arena.Buffers[i].Bytes).ThenBy(i => i).Take(LegendBuffers).ToList();
        var svg = Open($"layout-{index}", "arena layout over time", 16 + 15 * legend.Count);
        double stepWidth = (double)PlotWidth / steps;
        string[] colors = { "#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69", "#fccde5", "#bc80bd", "#ffed6f", "#ccebc5" };
        // The numbered buffers get distinct colours, so a swatch in the legend finds its block; the rest stay pale.
        string Fill(int i) => arena.Buffers[i].Name.StartsWith("scratch of operator", StringComparison.Ordinal) ? "#999999"
            : legend.IndexOf(i) is int rank and >= 0 ? colors[rank % colors.Length] : "#eeeeee";
        var labels = new StringBuilder();
        for (int i = 0; i < arena.Buffers.Count; i++)
        {
            var b = arena.Buffers[i];
            double x = Left + b.FirstOp * stepWidth, w = (b.LastOp - b.FirstOp + 1) * stepWidth;
            double y = Top + PlotHeight - PlotHeight * (double)(arena.Offsets[i] + b.Bytes) / scale;
            double h = Math.Max(0.5, PlotHeight * (double)b.Bytes / scale);
            string tie = b.SameOffsetAs >= 0 ? $", in place over {Escape(Name(arena.Buffers[b.SameOffsetAs].Name))}" : "";
            svg.Append($"<rect class=\"tensor\" x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(w)}\" height=\"{F(h)}\" fill=\"{Fill(i)}\" stroke=\"#333\" stroke-width=\"0.5\">" +
                $"<title>{Escape(Name(b.Name))}: {N(b.Bytes)} B at offset {N(arena.Offsets[i])}, steps {b.FirstOp}..{b.LastOp}{tie}</title></rect>\n");
            int rank = legend.IndexOf(i);
            if (rank < 0 || h < 10) continue;
            // The block shows the name when it fits, else the legend number.
            string name = $"{rank + 1} {Name(b.Name)}";
            string text = name.Length * CharWidth + 6 <= w && h >= 12 ? name : (rank + 1).ToString(CultureInfo.InvariantCulture).Length * CharWidth + 4 <= w ? (rank + 1).ToString(CultureInfo.InvariantCulture) : "";
            if (text.Length > 0)
                labels.Append($"<text class=\"block-label\" x=\"{F(x + w / 2)}\" y=\"{F(y + h / 2 + 3.5)}\" font-size=\"10\" text-anchor=\"middle\">{Escape(text)}</text>\n");
        }
        svg.Append(labels);
        Ticks(svg, steps, s => OperatorLabel(graph, OpAt(s)));
        double legendTop = Top + PlotHeight + AxisBelow + 8;
        for (int k = 0; k < legend.Count; k++)
        {
            int i = legend[k];
            var b = arena.Buffers[i];
            double y = legendTop + 15 * k;
            svg.Append($"<g class=\"legend\"><rect x=\"{Left}\" y=\"{F(y)}\" width=\"12\" height=\"11\" fill=\"{Fill(i)}\" stroke=\"#333\" stroke-width=\"0.5\"/>" +
                $"<text x=\"{Left + 18}\" y=\"{F(y + 9.5)}\" font-size=\"11\">{k + 1}  {Escape(Name(b.Name))}: {N(b.Bytes)} B at offset {N(arena.Offsets[i])}, steps {b.FirstOp}..{b.LastOp}</text></g>\n");
        }
        return Close(svg, scale, budget, "step (execution order); " +
            (arena.Buffers.Count > legend.Count ? $"the {legend.Count} largest of {arena.Buffers.Count} buffers are numbered; " : "") +
            "grey is kernel scratch" + (scope.Length > 0 ? $"; names without '{scope}'" : ""));
    }

    /// <summary>
    /// Patch buffers are named after the last ';'-part of a tensor name ("tile of X", "A (then B)"); the report names
    /// tensors by their first part, so X, A and B are mapped back to it where that is unambiguous.
    /// </summary>
    private static string PatchNameWithFirstSegments(string name, IReadOnlyDictionary<string, string> firstOfLast)
    {
        string First(string part) => firstOfLast.TryGetValue(part, out var first) ? first : part;
        var tile = Regex.Match(name, "^tile of (.+)$");
        if (tile.Success) return "tile of " + First(tile.Groups[1].Value);
        var then = Regex.Match(name, @"^(.+) \(then (.+)\)$");
        if (then.Success) return $"{First(then.Groups[1].Value)} (then {First(then.Groups[2].Value)})";
        return name;
    }

    private static Dictionary<string, string> FirstSegmentOfLast(Graph graph)
    {
        var pairs = graph.Tensors.Where(t => !t.IsConstant && t.Name.Contains(';')).Select(t => t.Name.Split(';')).Select(p => (Last: p[p.Length - 1], First: p[0]));
        return pairs.GroupBy(p => p.Last, StringComparer.Ordinal).Where(g => g.Select(p => p.First).Distinct().Count() == 1)
            .ToDictionary(g => g.Key, g => g.First().First, StringComparer.Ordinal);
    }

    /// <summary>One tick per step; a rotated label on every <see cref="TickLabelStride"/>-th.</summary>
    private static void Ticks(StringBuilder svg, int steps, Func<int, string> label)
    {
        double width = (double)PlotWidth / steps;
        int stride = TickLabelStride(steps);
        int y0 = Top + PlotHeight;
        for (int s = 0; s < steps; s++)
        {
            double x = Left + (s + 0.5) * width;
            svg.Append($"<line class=\"tick\" x1=\"{F(x)}\" y1=\"{y0}\" x2=\"{F(x)}\" y2=\"{y0 + 4}\" stroke=\"#000\"/>\n");
            if (s % stride == 0)
                svg.Append($"<text class=\"tick-label\" transform=\"translate({F(x + 3)},{y0 + 8}) rotate(-60)\" font-size=\"10\" text-anchor=\"end\">{Escape(label(s))}</text>\n");
        }
    }

    private static StringBuilder Open(string id, string label, int extraHeight)
    {
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" width=\"{Left + PlotWidth + Right}\" height=\"{Top + PlotHeight + AxisBelow + extraHeight}\" role=\"img\" aria-label=\"{label}\">\n");
        return svg;
    }

    private static string Close(StringBuilder svg, long scale, long? budget, string xLabel)
    {
        int x0 = Left, y0 = Top + PlotHeight;
        svg.Append($"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0 + PlotWidth}\" y2=\"{y0}\" stroke=\"#000\"/>\n");
        svg.Append($"<line x1=\"{x0}\" y1=\"{Top}\" x2=\"{x0}\" y2=\"{y0}\" stroke=\"#000\"/>\n");
        long step = NiceStep(scale);
        for (long v = 0; v <= scale; v += step)
        {
            double y = y0 - PlotHeight * (double)v / scale;
            svg.Append($"<line class=\"ytick\" x1=\"{x0 - 4}\" y1=\"{F(y)}\" x2=\"{x0}\" y2=\"{F(y)}\" stroke=\"#000\"/>" +
                $"<text x=\"{x0 - 6}\" y=\"{F(y + 3.5)}\" font-size=\"10\" text-anchor=\"end\">{N(v)}</text>\n");
        }
        svg.Append($"<text x=\"{x0 - 6}\" y=\"{Top - 12}\" font-size=\"10\" text-anchor=\"end\">bytes</text>\n");
        svg.Append($"<text x=\"{x0 + PlotWidth / 2}\" y=\"{y0 + AxisBelow - 4}\" font-size=\"11\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        if (budget is long b)
        {
            double y = y0 - PlotHeight * (double)b / scale;
            svg.Append($"<line class=\"budget\" x1=\"{x0}\" y1=\"{F(y)}\" x2=\"{x0 + PlotWidth}\" y2=\"{F(y)}\"/>\n");
            svg.Append($"<text x=\"{x0 + PlotWidth - 4}\" y=\"{F(y - 4)}\" font-size=\"11\" text-anchor=\"end\" fill=\"#c00\">budget {N(b)} B</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, so that the y axis gets 3 to 6 labelled ticks.</summary>
    private static long NiceStep(long scale)
    {
        double raw = scale / 4.0;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(1, raw))));
        foreach (double m in new[] { 1.0, 2.0, 5.0, 10.0 })
            if (m * magnitude >= raw) return Math.Max(1, (long)(m * magnitude));
        return Math.Max(1, (long)(10 * magnitude));
    }

    private static ReportVariant Chosen(IReadOnlyList<ReportVariant> variants) => variants.LastOrDefault(v => v.Chosen) ?? variants[variants.Count - 1];

    // Training's parameter region is the same whatever the technique, and the variants may be lowered for inference
    // only: each is charged the chosen plan's region, so that the verdict compares what the device needs.
    private static long Ram(CompiledPlan plan, long training) => plan.ArenaBytes + plan.StateBytes + training;

    private static bool SameLayout(CompiledPlan a, CompiledPlan b) =>
        a.ArenaBytes == b.ArenaBytes && a.Memory is { } x && b.Memory is { } y
        && x.Arena.Buffers.SequenceEqual(y.Arena.Buffers) && x.Arena.Offsets.SequenceEqual(y.Arena.Offsets);

    private static string OperatorLabel(Graph graph, int op) => op >= 0 && op < graph.Operators.Count ? $"{op} {graph.Operators[op].TypeName}" : op.ToString(CultureInfo.InvariantCulture);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
