// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;

namespace TinyML.Compiler.Budgets;

/// <summary>A budget and where it was set (for the diagnostic's location).</summary>
public sealed record Budget(long Bytes, string Source, string? File = null, int Line = 0);

/// <summary>
/// Sizes measured from a device build (the linked ELF and the static stack bound) that replace the plan's host
/// estimate in a budget check. <paramref name="RamDetail"/> and <paramref name="FlashDetail"/> say what the figures
/// are made of, for the diagnostic.
/// </summary>
public sealed record MeasuredSizes(string Target, long RamBytes, long FlashBytes, string RamDetail, string FlashDetail);

/// <summary>
/// Checks a plan against RAM and flash budgets. RAM is the arena (activations and scratch) plus persistent state;
/// flash is the plan's constants (weights and precomputed parameters). Over budget is TML3001/TML3002, above 90%
/// TML3003/TML3004. Errors name the need and the budget in bytes and KB, the peak operator and its largest live
/// buffers (or, when the inputs alone exceed the RAM budget, that no plan can fit), the largest constants, and what
/// would bring the model under. Tensors are named by <see cref="TensorNames.Readable(string)"/>.
/// </summary>
public static class BudgetCheck
{
    /// <summary>Warn above this share of a budget.</summary>
    public const double WarningShare = 0.9;

    /// <summary>RAM the plan needs at run time: arena, state and, for a trainable plan, its parameter region.</summary>
    public static long RamBytes(ExecutionPlan plan) => InferenceRamBytes(plan) + plan.ParameterBytes;

    /// <summary>RAM of inference alone: the arena and the persistent state.</summary>
    public static long InferenceRamBytes(ExecutionPlan plan) => plan.ArenaBytes + plan.StateBytes;

    /// <summary>Flash the plan needs besides code: its constants and the parameter region's initial image (code size
    /// is added by device builds).</summary>
    public static long FlashBytes(ExecutionPlan plan) => plan.ConstantBytes + plan.ParameterBytes;

    /// <summary>The budget diagnostics of one model.</summary>
    public static IReadOnlyList<Diagnostic> Check(string modelName, Graph graph, ExecutionPlan plan, Budget? ram, Budget? flash) =>
        Check(modelName, graph, plan, ram, flash, measured: null);

    /// <summary>
    /// The budget diagnostics of one model, against <paramref name="measured"/> sizes when a device build measured
    /// them (the messages then say so and what the sizes are made of), else against the plan's host estimate.
    /// </summary>
    public static IReadOnlyList<Diagnostic> Check(string modelName, Graph graph, ExecutionPlan plan, Budget? ram, Budget? flash, MeasuredSizes? measured)
    {
        var result = new List<Diagnostic>();
        long ramNeed = measured?.RamBytes ?? RamBytes(plan);
        long flashNeed = measured?.FlashBytes ?? FlashBytes(plan);
        string ramSource = measured is null ? "" : $" on {measured.Target} (measured from the ELF: {measured.RamDetail})";
        string flashSource = measured is null ? "" : $" on {measured.Target} (measured from the ELF: {measured.FlashDetail})";
        if (ram is not null && plan.Training is { } training && ramNeed > ram.Bytes && ramNeed - plan.ParameterBytes <= ram.Bytes)
            result.Add(TrainingOverBudget(modelName, plan, training, ramNeed, ramSource, ram));
        else if (ram is not null) Check(result, modelName, "RAM", ramNeed, ramSource, ram, DiagnosticIds.RamBudgetExceeded, DiagnosticIds.RamBudgetNearlyFull, RamAdvice(graph, plan, ramNeed, ram.Bytes));
        if (flash is not null) Check(result, modelName, "flash", flashNeed, flashSource, flash, DiagnosticIds.FlashBudgetExceeded, DiagnosticIds.FlashBudgetNearlyFull, FlashAdvice(graph, plan, flashNeed, flash.Bytes));
        return result;
    }

    /// <summary>
    /// TML3005: inference fits the RAM budget, training does not. The parameter region is split as it is laid out
    /// (docs/training.md): the control block, the gradient buffers (with the padding before the trained part), the
    /// trained int8 weights and int32 biases, and one int32 master per trained value.
    /// </summary>
    private static Diagnostic TrainingOverBudget(string model, ExecutionPlan plan, TrainingPlan training, long need, string source, Budget budget)
    {
        long parameters = plan.ParameterBytes;
        long masters = 4 * training.TrainedValues;
        long trained = training.ExportBytes - masters;
        // The region is the control block, the gradient buffers (up to the exported part), then the exported part.
        long control = TrainingPlan.ControlWords * 4;
        long gradients = training.ExportOffset - control;
        string percent = (100.0 * need / budget.Bytes).ToString("F0", CultureInfo.InvariantCulture);
        string inference = ByteSize.Format(need - parameters) + (source.Length > 0 ? "" : $" (arena {N(plan.ArenaBytes)} + state {N(plan.StateBytes)})");
        return new Diagnostic(DiagnosticIds.TrainingRamBudgetExceeded, Severity.Error,
            $"{model} fits the RAM budget for inference, but not with training (Train=\"{training.Mode}\"): it needs {ByteSize.Format(need)} of RAM{source}, " +
            $"and the RAM budget ({budget.Source}) is {ByteSize.Format(budget.Bytes)}: {percent}%. Inference needs {inference}; training adds " +
            $"{ByteSize.Format(parameters)}: the trained int8 weights and int32 biases moved to RAM {N(trained)}, their int32 masters {N(masters)}, " +
            $"gradients {N(gradients)}, control block {N(control)}. To fit, raise the budget to at least {ByteSize.Format(need)}, train a smaller head " +
            $"(fewer classes or a narrower layer before it) or fewer layers' biases, or build without Train for inference only.")
        { File = budget.File, Line = budget.Line };
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void Check(List<Diagnostic> result, string model, string memory, long need, string source, Budget budget, string errorId, string warningId, string advice)
    {
        string percent = (100.0 * need / budget.Bytes).ToString("F0", CultureInfo.InvariantCulture);
        if (need > budget.Bytes)
            result.Add(new Diagnostic(errorId, Severity.Error,
                $"{model} needs {ByteSize.Format(need)} of {memory}{source}, but the {memory} budget ({budget.Source}) is {ByteSize.Format(budget.Bytes)}: {percent}%. {advice}")
            { File = budget.File, Line = budget.Line });
        else if (need > WarningShare * budget.Bytes)
            result.Add(new Diagnostic(warningId, Severity.Warning,
                $"{model} uses {ByteSize.Format(need)} of its {ByteSize.Format(budget.Bytes)} {memory} budget{source} ({budget.Source}): {percent}%, above 90%")
            { File = budget.File, Line = budget.Line });
    }

    private static string RamAdvice(Graph graph, ExecutionPlan plan, long need, long budget)
    {
        var board = Board.Presets.Where(b => b.SramBytes >= need).OrderBy(b => b.SramBytes).FirstOrDefault();
        string raise = $"raise the budget to at least {ByteSize.Format(need)}" +
            (board is null ? "." : $" (for example TinyMLBoard={board.Name}, {board.Description}, {board.SramBytes / 1024} KB SRAM).");

        // The inputs are whole in the arena while the first operator runs (the caller writes them before it), so
        // a budget below their bytes cannot be met by any plan.
        long inputBytes = plan.Inputs.Sum(i => i.Bytes);
        if (plan.Inputs.Count > 0 && inputBytes > budget)
        {
            string inputs = string.Join(" and ", plan.Inputs.Select(i => $"'{TensorNames.Readable(i.Name)}' ({Shapes.Format(i.Shape)} {DataTypes.Name(i.Type)})"));
            bool one = plan.Inputs.Count == 1;
            return $"{(one ? "The input" : "The inputs")} {inputs} alone {(one ? "holds" : "hold")} {ByteSize.Format(inputBytes)}, more than the whole budget; " +
                $"{(one ? "the input is" : "the inputs are")} whole in RAM while the first operator runs, " +
                $"so this budget is impossible whatever the memory techniques cut elsewhere. To fit, give the model a smaller input " +
                $"(a lower resolution or fewer input channels), or " + raise;
        }

        // Persistent state (SVDF memories, variable tensors) lives beside the arena for the model's lifetime and no
        // memory technique moves it; with the inputs, which the arena must hold whole, it bounds every plan.
        if (plan.StateBytes > 0 && plan.StateBytes + inputBytes > budget)
            return $"Its persistent state (variable tensors kept between invocations, such as SVDF memories) holds {ByteSize.Format(plan.StateBytes)}" +
                (inputBytes > 0 ? $" and its input{(plan.Inputs.Count == 1 ? "" : "s")} {ByteSize.Format(inputBytes)}" : "") +
                ", more than the whole budget together; no memory technique moves either, so this budget is impossible whatever is cut " +
                "elsewhere. To fit, give the model less state (fewer memory steps or filters in its SVDF layers), or " + raise;

        // A plan read back from a container carries no layout, so there is no peak to point at.
        if ((plan as CompiledPlan)?.Memory is not { } memory) return "";
        var arena = memory.Arena;
        int step = arena.PeakOperator, peak = memory.PeakOperator;
        var live = arena.Buffers.Where(b => b.FirstOp <= step && step <= b.LastOp).OrderByDescending(b => b.Bytes).Take(3)
            .Select(b => $"'{TensorNames.ReadableBuffer(b.Name)}' {ByteSize.Format(b.Bytes)}");
        string where = peak >= 0 && peak < graph.Operators.Count
            ? $"The peak is at operator {peak} ({graph.Operators[peak].TypeName}), where {string.Join(", ", live)} are live. "
            : "";
        long over = need - budget;
        return where + $"To fit, cut {ByteSize.Format(over)} at that operator (a smaller input resolution or fewer channels there), or " + raise;
    }

    /// <summary>How many of the largest constants TML3002 names.</summary>
    public const int LargestConstantsNamed = 3;

    private static string FlashAdvice(Graph graph, ExecutionPlan plan, long need, long budget)
    {
        long over = need - budget;
        string raise = $"raise the budget to at least {ByteSize.Format(need)}.";
        var largest = PlanConstants.Describe(graph, plan).OrderByDescending(c => c.Bytes).ThenBy(c => c.Blob).Take(LargestConstantsNamed).ToList();
        if (largest.Count == 0) return $"To fit, cut {ByteSize.Format(over)} of weights (fewer or smaller layers), or " + raise;

        var biggest = largest[0];
        if (biggest.Bytes > budget)
            return $"Its largest constant, {biggest.Label}, alone holds {ByteSize.Format(biggest.Bytes)}, more than the whole budget, " +
                $"so no cut elsewhere can fit this model. To fit, make that layer smaller (fewer filters or units, or a smaller kernel), or " + raise;

        long total = plan.ConstantBytes;
        string Share(long bytes) => (100.0 * bytes / total).ToString("F0", CultureInfo.InvariantCulture) + "%";
        string list = string.Join("; ", largest.Select((c, i) =>
            $"{c.Label} with {ByteSize.Format(c.Bytes)}, {Share(c.Bytes)}" + (i == 0 ? $" of the {ByteSize.Format(total)} of constants" : "")));
        string heading = largest.Count == 1 ? "Its one constant is" : "Its largest constants are";
        return $"{heading} {list}. To fit, cut {ByteSize.Format(over)} of weights " +
            $"(fewer or smaller layers, starting with the largest), or " + raise;
    }
}
