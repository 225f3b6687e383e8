// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using TinyML.Compiler.Budgets;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// The fields of a <c>tinyml compile --json</c> report (schema tinyml.compile/1, docs/cli.md) that the budget check
/// uses. The report is a flat object of strings and numbers written by our own CLI, so the top-level fields are read
/// with one pattern each (the task assembly carries no JSON library, which MSBuild hosts would have to bind).
/// </summary>
public sealed record CompileReport(string Target, long FlashBytes, long ModelFlashBytes, long CodeBytes, long RodataBytes, long DataBytes,
    long BssBytes, long RamBytes, long ArenaBytes, long StateBytes, long StackBytes, long RuntimeCodeBytes)
{
    /// <summary>The RAM the cross compile planned the arena and state for (planning_budget_bytes): the budget less the
    /// device's own RAM when the first plan missed it on the device; null without a budget.</summary>
    public long? PlanningBudgetBytes { get; init; }

    /// <summary>The trainable parameter region (parameter_bytes, static data of its own); 0 for inference only.</summary>
    public long ParameterBytes { get; init; }

    /// <summary>The schema this reads.</summary>
    public const string Schema = "tinyml.compile/1";

    private static readonly Regex Field = new("\"(?<key>[a-z_]+)\"\\s*:\\s*(?:\"(?<text>[^\"\\\\]*)\"|(?<number>-?\\d+))", RegexOptions.CultureInvariant);

    /// <summary>Reads a report; null when it is not a tinyml.compile/1 object with every size.</summary>
    public static CompileReport? Parse(string json)
    {
        var fields = new Dictionary<string, string>();
        foreach (Match m in Field.Matches(json))
        {
            string key = m.Groups["key"].Value;
            if (!fields.ContainsKey(key)) fields[key] = m.Groups["number"].Success ? m.Groups["number"].Value : m.Groups["text"].Value;
        }
        if (!fields.TryGetValue("schema", out string? schema) || schema != Schema || !fields.TryGetValue("target", out string? target)) return null;
        var numbers = new Dictionary<string, long>();
        foreach (string key in new[] { "flash_bytes", "model_flash_bytes", "code_bytes", "rodata_bytes", "data_bytes", "bss_bytes", "ram_bytes", "arena_bytes", "state_bytes", "stack_bytes", "runtime_code_bytes" })
        {
            if (!fields.TryGetValue(key, out string? text) || !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)) return null;
            numbers[key] = value;
        }
        return new CompileReport(target, numbers["flash_bytes"], numbers["model_flash_bytes"], numbers["code_bytes"], numbers["rodata_bytes"],
            numbers["data_bytes"], numbers["bss_bytes"], numbers["ram_bytes"], numbers["arena_bytes"], numbers["state_bytes"], numbers["stack_bytes"],
            numbers["runtime_code_bytes"])
        {
            PlanningBudgetBytes = fields.TryGetValue("planning_budget_bytes", out string? planned) &&
                long.TryParse(planned, NumberStyles.Integer, CultureInfo.InvariantCulture, out long plannedBytes) ? plannedBytes : null,
            ParameterBytes = fields.TryGetValue("parameter_bytes", out string? parameters) &&
                long.TryParse(parameters, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parameterBytes) ? parameterBytes : 0,
        };
    }

    /// <summary>
    /// The sizes the budgets are checked against. RAM: .data + .bss (the arena, the state and a few bytes of the
    /// sizing harness) + the static bound of the invoke path's stack. Flash: code + constants (.rodata) + the .data
    /// image, without the sizing harness's own functions (start-up, semihosting), which a firmware brings itself.
    /// </summary>
    public MeasuredSizes ToMeasuredSizes()
    {
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        return new MeasuredSizes(Target, RamBytes, ModelFlashBytes,
            $"static data {N(DataBytes + BssBytes)} (arena {N(ArenaBytes)}, state {N(StateBytes)}" +
            (ParameterBytes > 0 ? $", training parameters {N(ParameterBytes)}" : "") + $") + invoke stack {N(StackBytes)}",
            $"code {N(CodeBytes - RuntimeCodeBytes)} + constants {N(RodataBytes)} + data {N(DataBytes)}");
    }
}
