// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Linq;
using System.Text;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Lowering;

namespace TinyML.Compiler.Compilation;

/// <summary>
/// Writes the compile report: what the compiler knew when it made the plan and the container does not store (the
/// budgets, the techniques tried and chosen, the patch report, the extra MACs, the device sizes). Kept beside the
/// .tmlmodel; docs/plan-format.md lists its fields.
/// </summary>
internal static class CompileReportJson
{
    public static string Write(CompiledModel c)
    {
        var plan = c.Plan!;
        var b = new StringBuilder("{\n");
        void Field(string name, string value) => b.Append("  \"").Append(name).Append("\": ").Append(value).Append(",\n");
        string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
        string Pct(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        Field("schema", Quote(ModelCompiler.ReportSchema));
        Field("model", Quote(c.File ?? ""));
        Field("target", Quote(plan.Target));
        Field("arena_bytes", Num(plan.ArenaBytes));
        Field("state_bytes", Num(plan.StateBytes));
        Field("constant_bytes", Num(plan.ConstantBytes));
        if (plan.Training is { } training)
            Field("training", $"{{\"mode\": {Quote(training.Mode)}, \"classes\": {training.Classes}, " +
                $"\"learning_rate\": {training.LearningRate.ToString("R", CultureInfo.InvariantCulture)}, \"parameter_bytes\": {Num(plan.ParameterBytes)}, " +
                $"\"trained_values\": {Num(training.TrainedValues)}, \"exported_bytes\": {Num(training.ExportBytes)}, " +
                $"\"inference_ram_bytes\": {Num(BudgetCheck.InferenceRamBytes(plan))}, \"ram_bytes\": {Num(BudgetCheck.RamBytes(plan))}}}");
        Field("macs", Num(plan.Macs));
        Field("extra_macs", Num(plan.ExtraMacs));
        Field("macs_overhead", Pct(MemoryTechniques.OverheadPercent(plan)));
        if (c.Options.RamBudget is { } ram) Field("ram_budget_bytes", Num(ram.Bytes));
        if (c.Options.FlashBudget is { } flash) Field("flash_budget_bytes", Num(flash.Bytes));
        if (c.PlanningBudget is long planned) Field("planning_budget_bytes", Num(planned));
        Field("techniques", Quote(MemoryTechniques.Describe(c.Chosen?.Options ?? c.Options.Lowering)));
        if (c.Fit is { } fit)
            Field("attempts", "[" + string.Join(",", fit.Attempts.Select(a =>
                $"\n    {{\"name\": {Quote(a.Name)}, \"arena_bytes\": {Num(a.ArenaBytes)}, \"macs_overhead\": {Pct(a.MacsOverheadPercent)}" +
                (a.Reason is null ? "" : $", \"reason\": {Quote(a.Reason)}") + (ReferenceEquals(a.Plan, plan) ? ", \"chosen\": true" : "") + "}")) + "\n  ]");
        if (plan.Patches is { Applied: true } patches)
            Field("patches", $"{{\"grid\": {Quote(patches.Grid)}, \"prefix_operators\": {patches.PrefixOperators}}}");
        if (plan.Memory is { } memory)
            Field("lower_bound_bytes", Num(memory.Arena.LowerBoundBytes));
        if (c.Measured is { } m)
            Field("device", $"{{\"target\": {Quote(m.Target)}, \"ram_bytes\": {Num(m.RamBytes)}, \"flash_bytes\": {Num(m.FlashBytes)}}}");
        b.Length -= 2; // the last ",\n"
        b.Append("\n}\n");
        return b.ToString();
    }

    private static string Quote(string text)
    {
        var b = new StringBuilder("\"");
        foreach (char ch in text)
        {
            switch (ch)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                default:
                    if (ch < 0x20) b.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    else b.Append(ch);
                    break;
            }
        }
        return b.Append('"').ToString();
    }
}
