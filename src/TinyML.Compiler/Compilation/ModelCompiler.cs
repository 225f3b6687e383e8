// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TinyML.Compiler;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;

namespace TinyML.Compiler.Compilation;

/// <summary>What to compile a model for.</summary>
public sealed record CompilationOptions
{
    /// <summary>"host" or a Cortex-M core (<see cref="Board.Cores"/>); the plan records it.</summary>
    public string Target { get; init; } = ExecutionPlan.HostTarget;

    /// <summary>The RAM budget: over it, the memory techniques are tried (<see cref="MemoryTechniques.FitToBudget"/>).</summary>
    public Budget? RamBudget { get; init; }

    /// <summary>
    /// Plan within this many bytes instead of the RAM budget: the budget a device fit planned within before, so that a
    /// build that cannot measure the device (an IDE's design-time build) makes the plan the last full build made.
    /// </summary>
    public long? PlanWithin { get; init; }

    /// <summary>The flash budget (checked, never planned for).</summary>
    public Budget? FlashBudget { get; init; }

    /// <summary>The memory techniques asked for (default: those that cost no MACs; <c>--optimize memory</c>: all).</summary>
    public LoweringOptions Lowering { get; init; } = LoweringOptions.Default;

    /// <summary>
    /// Check the budgets (TML3001-TML3004) against the plan, or the device's measured sizes. Off for the commands that
    /// only plan within a budget and say themselves whether it fits (<c>tinyml plan/compile/run --ram-budget</c>).
    /// </summary>
    public bool CheckBudgets { get; init; } = true;

    /// <summary>How often the plan is made again when the device's own RAM pushes it over the budget.</summary>
    public int DeviceRefits { get; init; } = 3;
}

/// <summary>
/// Measures a plan on the device: builds it for the target and returns the sizes from the ELF, or null when it could
/// not (the builder reported why). The core cannot run a cross compiler; the CLI builds in-process and the SDK runs
/// <c>tinyml compile plan.tmlmodel</c>.
/// </summary>
public delegate MeasuredSizes? DeviceMeasurement(CompiledPlan plan);

/// <summary>The result of one compilation: the plan, how it was chosen, the budget diagnostics and the report.</summary>
public sealed class CompiledModel
{
    internal CompiledModel(string? file, Model? model, CompiledPlan? plan, BudgetFit? fit, long? planningBudget, MeasuredSizes? measured,
        IReadOnlyList<Diagnostic> diagnostics, CompilationOptions options, bool measurementFailed)
    {
        File = file;
        Model = model;
        Plan = plan;
        Fit = fit;
        PlanningBudget = planningBudget;
        Measured = measured;
        Diagnostics = diagnostics;
        Options = options;
        MeasurementFailed = measurementFailed;
    }

    /// <summary>The model file (null for a model built in memory).</summary>
    public string? File { get; }
    /// <summary>The model; null when it could not be read.</summary>
    public Model? Model { get; }
    /// <summary>The plan; null when reading or lowering failed (see <see cref="Diagnostics"/>).</summary>
    public CompiledPlan? Plan { get; }
    /// <summary>The budget-driven planning, when a RAM budget was given.</summary>
    public BudgetFit? Fit { get; }
    /// <summary>The RAM the arena and state were planned within: the budget, or less to leave room for the device's own RAM.</summary>
    public long? PlanningBudget { get; }
    /// <summary>The device sizes of <see cref="Plan"/>, when a measurement was given and succeeded.</summary>
    public MeasuredSizes? Measured { get; }
    /// <summary>The measurement was asked for and failed (its diagnostics came from the measurer).</summary>
    public bool MeasurementFailed { get; }
    /// <summary>Reading, validation, lowering and budget diagnostics, in that order.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; }
    /// <summary>What was asked.</summary>
    public CompilationOptions Options { get; }

    /// <summary>True when there is a plan and no error.</summary>
    public bool Succeeded => Plan is not null && !MeasurementFailed && Diagnostics.All(d => d.Severity != Severity.Error);

    /// <summary>The technique attempt the plan came from, when a budget made the techniques be tried.</summary>
    public TechniqueResult? Chosen => Fit?.Attempts.FirstOrDefault(a => ReferenceEquals(a.Plan, Plan));

    /// <summary>True when the RAM budget made the build go beyond the requested techniques.</summary>
    public bool WentBeyondRequested => Fit is not null && Chosen is { } chosen && chosen != Fit.Attempts[0];

    /// <summary>The plan's facts for the generated class (class name, namespace, access, resource, labels are the caller's).</summary>
    public ModelManifest Manifest()
    {
        var plan = Plan ?? throw new InvalidOperationException("no plan");
        var manifest = new ModelManifest
        {
            ModelPath = File ?? "",
            ArenaBytes = plan.ArenaBytes,
            StateBytes = plan.StateBytes,
            FlashBytes = BudgetCheck.FlashBytes(plan),
            Macs = plan.Macs,
        };
        if (plan.Training is { } training)
            manifest.Training = new ManifestTraining
            {
                Mode = training.Mode,
                Classes = training.Classes,
                // The float's shortest spelling, so the generated class starts at 0.01, not 0.009999999776482582.
                LearningRate = double.Parse(training.LearningRate.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                ParameterBytes = plan.ParameterBytes,
            };
        manifest.Inputs.AddRange(plan.Inputs.Select(Describe));
        manifest.Outputs.AddRange(plan.Outputs.Select(Describe));
        return manifest;
    }

    private static ManifestTensor Describe(PlanTensor t) => new()
    {
        Name = t.Name,
        Type = DataTypes.Name(t.Type),
        Shape = t.Shape.ToArray(),
        Bytes = t.Bytes,
        Scale = t.Scale,
        ZeroPoint = t.ZeroPoint,
    };

    /// <summary>The compile report (schema <see cref="ModelCompiler.ReportSchema"/>, docs/plan-format.md).</summary>
    public string Report() => CompileReportJson.Write(this);
}

/// <summary>
/// The one way a model becomes a plan, for the MSBuild task and every CLI command: read, lower with the requested
/// memory techniques, fit the RAM budget (trying the techniques), fit it on the device (planning again within the
/// budget less the device's own RAM, measured by a callback), and check the budgets.
/// </summary>
public static class ModelCompiler
{
    /// <summary>The schema of <see cref="CompiledModel.Report"/>.</summary>
    public const string ReportSchema = "tinyml.compile-report/1";

    /// <summary>Reads and compiles a .tflite file.</summary>
    public static CompiledModel Compile(string file, CompilationOptions options, DeviceMeasurement? measure = null, IProgress<string>? progress = null)
    {
        progress?.Report("reading the model");
        var read = ModelReader.ReadFile(file);
        if (read.Value is null) return new CompiledModel(file, null, null, null, null, null, read.Diagnostics.ToList(), options, false);
        var compiled = Compile(read.Value, file, options, measure, progress);
        return new CompiledModel(file, compiled.Model, compiled.Plan, compiled.Fit, compiled.PlanningBudget, compiled.Measured,
            read.Diagnostics.Concat(compiled.Diagnostics).ToList(), options, compiled.MeasurementFailed);
    }

    /// <summary>Compiles a model; <paramref name="file"/> names it in diagnostics.</summary>
    public static CompiledModel Compile(Model model, string? file, CompilationOptions options, DeviceMeasurement? measure = null, IProgress<string>? progress = null)
    {
        // The flash budget reaches the lowering, which widens packed weights to int16 only within it.
        var lowering = options.Lowering with { Target = options.Target, FlashBudget = options.FlashBudget?.Bytes ?? options.Lowering.FlashBudget };
        long? budget = options.RamBudget?.Bytes;
        long? planFor = options.PlanWithin ?? budget;
        progress?.Report(planFor is long b
            ? $"lowering the model and planning its memory within {N(b)} bytes"
            : "lowering the model and planning its memory");
        var fit = planFor is long ram ? FitToBudget(model, file, ram, lowering) : null;
        var lowered = fit?.Lowered ?? Lowerer.Lower(model, file, lowering);
        var diagnostics = lowered.Diagnostics.ToList();
        var plan = lowered.Value;
        long? planningBudget = planFor;
        MeasuredSizes? measured = null;
        if (plan is not null && measure is not null)
        {
            measured = measure(plan);
            if (measured is null) return new CompiledModel(file, model, plan, fit, planningBudget, null, diagnostics, options, true);
            // The device adds static data of its own and the invoke path's stack, so a plan that fits the budget may
            // miss it there: plan again within the budget less that overhead while that lowers the device's RAM.
            for (int attempt = 0; attempt < options.DeviceRefits && budget is long limit && measured.RamBytes > limit; attempt++)
            {
                long overhead = measured.RamBytes - BudgetCheck.RamBytes(plan);
                long tighter = limit - overhead;
                if (tighter <= 0 || tighter >= planningBudget) break;
                progress?.Report($"{N(measured.RamBytes)} B of RAM on {measured.Target} is over the budget: planning the memory again within {N(tighter)} B");
                var refit = FitToBudget(model, file, tighter, lowering);
                if (refit.Lowered.Value is not { } tighterPlan || BudgetCheck.RamBytes(tighterPlan) >= BudgetCheck.RamBytes(plan)) break;
                var remeasured = measure(tighterPlan);
                if (remeasured is null) return new CompiledModel(file, model, tighterPlan, refit, tighter, null, refit.Lowered.Diagnostics.ToList(), options, true);
                (plan, fit, planningBudget, measured) = (tighterPlan, refit, tighter, remeasured);
                diagnostics = refit.Lowered.Diagnostics.ToList();
            }
        }
        if (plan is not null && options.CheckBudgets)
            diagnostics.AddRange(BudgetCheck.Check(System.IO.Path.GetFileName(file ?? "model"), model.Main, plan, options.RamBudget, options.FlashBudget, measured)
                .Select(d => fit?.Explain(d) ?? d));
        return new CompiledModel(file, model, plan, fit, planningBudget, measured, diagnostics, options, false);
    }

    /// <summary>
    /// Budget-driven planning of the arena and state. A trainable plan's parameter region sits beside them whatever
    /// the techniques do, so when it pushes the plan over, the arena is planned again within the budget less it.
    /// </summary>
    private static BudgetFit FitToBudget(Model model, string? file, long ramBudget, LoweringOptions lowering)
    {
        var fit = MemoryTechniques.FitToBudget(model, file, ramBudget, lowering);
        if (fit.Lowered.Value is { ParameterBytes: > 0 } plan && BudgetCheck.RamBytes(plan) > ramBudget && ramBudget > plan.ParameterBytes)
            return MemoryTechniques.FitToBudget(model, file, ramBudget - plan.ParameterBytes, lowering);
        return fit;
    }

    /// <summary>A plan container's plan for a device build: TML3010 when it was made for another core.</summary>
    public static Result<ExecutionPlan> ForTarget(Result<ExecutionPlan> read, string target, string? file)
    {
        if (read.Value is not { } plan || plan.Target == target || plan.Target == ExecutionPlan.HostTarget) return read;
        return new Result<ExecutionPlan>(null, new[]
        {
            new Diagnostic(DiagnosticIds.InvalidPlanContainer, Severity.Error,
                $"the plan was made for {plan.Target}, not {target}: its kernel buffers may differ; compile the model for {target} again") { File = file },
        });
    }

    internal static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
