// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Emit;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Device;

namespace TinyML.Cli.Commands;

/// <summary>
/// <c>tinyml compile MODEL|PLAN.tmlmodel --target CORE --out DIR [--name NAME] [--size] [--json] [--work DIR] [--toolchain DIR] [--ram-budget SIZE] [--flash-budget SIZE] [--progress] [--label NAME]</c>:
/// the model as C and static libraries for a firmware project (no interpreter), with a CMake snippet and a Makefile
/// fragment, and its real sizes.
/// </summary>
public static class CompileCommand
{
    /// <summary>The schema of the <c>--json</c> report.</summary>
    public const string Schema = "tinyml.compile/1";

    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr, bool stderrIsTerminal = false)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .tflite or .onnx model to compile, or a plan (.tmlmodel, as the SDK's build writes it) to compile as it is" };
        var target = new Option<string>("--target") { Description = "The core: cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "The folder to write the C, libraries, CMake snippet and Makefile fragment to", Required = true };
        var name = new Option<string>("--name") { Description = "The C name of the model (default: the file name)" };
        var size = new Option<bool>("--size") { Description = "Optimize for size (-Os) instead of speed (-O2)" };
        var json = new Option<bool>("--json") { Description = $"Print the files and sizes as JSON (schema {Schema}) instead of text" };
        var work = new Option<DirectoryInfo>("--work") { Description = "The folder for objects, the sizing ELF and its map (default: a new folder under the temp folder)" };
        var budget = new Option<string>("--ram-budget") { Description = "RAM budget (e.g. 64KB): over it, the memory techniques are tried as the SDK tries them" };
        var flashBudget = new Option<string>("--flash-budget") { Description = "Flash budget (e.g. 512KB): on a Cortex-M4, M7 or M33 the packed weights are widened to int16 only within it (default: every packed layer)" };
        var toolchain = new Option<DirectoryInfo>("--toolchain") { Description = "The folder holding arm-none-eabi-gcc (default: TML_ARM_TOOLCHAIN_DIR, then PATH)" };
        var progress = Cli.ProgressOption();
        var label = new Option<string>("--label") { Description = "What progress lines call the model (default: the file name; the SDK names the .tflite of a .tmlmodel)" };
        var rounding = ModelCompilation.RoundingOption();
        var train = ModelCompilation.TrainOption();
        var learningRate = ModelCompilation.LearningRateOption();
        var command = new Command("compile", "Compile the model to C and static libraries for a Cortex-M firmware") { model, target, output, name, size, json, work, toolchain, budget, flashBudget, progress, label, rounding, train, learningRate };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(target)!, parse.GetValue(output)!, parse.GetValue(name), parse.GetValue(size), stdout, stderr,
            parse.GetValue(json), parse.GetValue(work)?.FullName, parse.GetValue(toolchain)?.FullName, parse.GetValue(budget),
            StepProgress.Choose(parse.GetValue(progress), stderrIsTerminal), parse.GetValue(label), parse.GetValue(rounding), parse.GetValue(train), parse.GetValue(learningRate),
            parse.GetValue(flashBudget)));
        return command;
    }

    /// <summary>Compiles one model, or a plan container (.tmlmodel) as it is; returns the exit code.</summary>
    public static int Run(FileInfo file, string target, DirectoryInfo output, string? name, bool optimizeForSize, TextWriter stdout, TextWriter stderr,
        bool json = false, string? workDirectory = null, string? toolchainDirectory = null, string? ramBudget = null,
        ProgressMode progressMode = ProgressMode.None, string? label = null, string? rounding = null, string? train = null, string? learningRate = null,
        string? flashBudget = null)
    {
        if (!ModelCompilation.TryRamBudget(ramBudget, stderr, out long? budget)) return Cli.UsageError;
        if (!ModelCompilation.TryRamBudget(flashBudget, stderr, out long? flash, "--flash-budget")) return Cli.UsageError;
        // The flash budget decides which packed layers' weights are widened to int16 (WeightWidening).
        var lowering = LoweringOptions.Default with { FlashBudget = flash };
        if (!ModelCompilation.TryRounding(rounding, stderr, ref lowering)) return Cli.UsageError;
        if (!ModelCompilation.TryTraining(train, learningRate, stderr, ref lowering)) return Cli.UsageError;
        bool container = ModelCompilation.IsPlanContainer(file);
        if (container && ModelCompilation.RefuseForPlan(file, stderr, ("--ram-budget", budget), ("--flash-budget", flash), ("--onnx-rounding", rounding), ("--train", train), ("--learning-rate", learningRate))) return Cli.UsageError;
        string cName = name ?? CEmitter.NameOf(file.Name);
        ExecutionPlan? plan;
        DevicePackage? package = null;
        long? planningBudget = null;
        // The progress display ends (a live line is erased) before the result goes to stdout.
        using (var progress = new StepProgress(label ?? file.Name, progressMode, stderr))
        {
            stderr = progress.Error;
            try
            {
                var options = new DeviceBuildOptions
                {
                    Core = CortexM.Get(target),
                    ModelName = cName,
                    OptimizeForSize = optimizeForSize,
                    OutputDirectory = workDirectory,
                    ToolchainDirectory = toolchainDirectory,
                    Progress = progress,
                };
                if (container)
                {
                    // The plan as it was written (by the SDK's build, say): no model is read or lowered again.
                    plan = ModelCompilation.ReadPlan(file, stderr, options.Core.Name, progress);
                    if (plan is null) return Cli.ModelErrors;
                    package = DeviceBuild.Package(plan, options, output.FullName);
                }
                else
                {
                    // Each measurement builds the library; the last one built is the plan's (ModelCompiler's device fit).
                    var compiled = ModelCompilation.Compile(file, stderr, lowering, ramBudget: budget, progress: progress, target: options.Core.Name,
                        measure: p => Measured(options.Core, (package = DeviceBuild.Package(p, options, output.FullName)).Sizes));
                    plan = compiled.Plan;
                    if (plan is null || package is null) return Cli.ModelErrors;
                    planningBudget = compiled.PlanningBudget;
                }
            }
            catch (DeviceException e)
            {
                stderr.WriteLine($"error {e.Message}");
                return Cli.ModelErrors;
            }
        }
        if (json) WriteJson(stdout, file, cName, optimizeForSize, plan, package!, planningBudget);
        else WriteText(stdout, file, cName, optimizeForSize, plan, package!);
        return 0;
    }

    /// <summary>The device sizes the budgets are checked against (docs/sdk.md: RAM from the ELF with the stack bound, flash without the sizing harness).</summary>
    public static MeasuredSizes Measured(CortexMCore core, DeviceSizeReport s)
    {
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        return new MeasuredSizes(core.Name, s.RamBytes, ModelFlashBytes(s),
            $"static data {N(s.DataBytes + s.BssBytes)} + invoke stack {N(s.StackBytes)}",
            $"code {N(s.TextBytes - s.RuntimeCodeBytes)} + constants {N(s.RodataBytes)} + data {N(s.DataBytes)}");
    }

    private static string[] Files(string name) =>
        new[] { name + ".c", name + ".h", $"lib{name}.a", "libtinyml_kernels.a", "tml_kernels.h", name + ".cmake", name + ".mk" };

    /// <summary>Flash a firmware needs for the model: the ELF's flash without the sizing harness's own code
    /// (start-up, semihosting, measurement), which a firmware replaces with its own.</summary>
    public static long ModelFlashBytes(DeviceSizeReport s) => s.FlashBytes - s.RuntimeCodeBytes;

    private static void WriteText(TextWriter stdout, FileInfo file, string cName, bool optimizeForSize, ExecutionPlan plan, DevicePackage package)
    {
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var s = package.Sizes;
        stdout.WriteLine($"{file.Name} for {package.Core.Name} ({(optimizeForSize ? "-Os" : "-O2")}) in {package.Directory}:");
        stdout.WriteLine($"  {string.Join(", ", Files(cName))}");
        stdout.WriteLine($"  flash {N(s.FlashBytes)} B (code {N(s.TextBytes)}, constants {N(s.RodataBytes)}, data {N(s.DataBytes)}); " +
            $"RAM {N(s.RamBytes)} B (arena and state {N(plan.ArenaBytes + plan.StateBytes)}, " +
            (plan.Training is null ? "" : $"training parameters {N(plan.ParameterBytes)}, ") + $"stack of the invoke path {N(s.StackBytes)})");
    }

    private static void WriteJson(TextWriter stdout, FileInfo file, string cName, bool optimizeForSize, ExecutionPlan plan, DevicePackage package, long? planningBudget)
    {
        var s = package.Sizes;
        JsonOutput.Write(stdout, w =>
        {
            w.WriteStartObject();
            w.WriteString("schema", Schema);
            w.WriteString("model", file.FullName);
            w.WriteString("name", cName);
            w.WriteString("target", package.Core.Name);
            w.WriteString("optimization", optimizeForSize ? "-Os" : "-O2");
            w.WriteString("gcc_flags", string.Join(" ", package.Core.GccFlags));
            w.WriteString("directory", package.Directory);
            w.WriteStartArray("files");
            foreach (string f in Files(cName)) w.WriteStringValue(Path.Combine(package.Directory, f));
            w.WriteEndArray();
            w.WriteNumber("flash_bytes", s.FlashBytes);
            w.WriteNumber("model_flash_bytes", ModelFlashBytes(s));
            w.WriteNumber("code_bytes", s.TextBytes);
            w.WriteNumber("rodata_bytes", s.RodataBytes);
            w.WriteNumber("data_bytes", s.DataBytes);
            w.WriteNumber("bss_bytes", s.BssBytes);
            w.WriteNumber("kernel_code_bytes", s.KernelCodeBytes);
            w.WriteNumber("model_code_bytes", s.ModelCodeBytes);
            w.WriteNumber("runtime_code_bytes", s.RuntimeCodeBytes);
            w.WriteNumber("library_code_bytes", s.LibraryCodeBytes);
            w.WriteNumber("ram_bytes", s.RamBytes);
            w.WriteNumber("arena_bytes", plan.ArenaBytes);
            w.WriteNumber("state_bytes", plan.StateBytes);
            w.WriteNumber("stack_bytes", s.StackBytes);
            if (plan.Training is not null) w.WriteNumber("parameter_bytes", plan.ParameterBytes);
            w.WriteNumber("constant_bytes", plan.ConstantBytes);
            w.WriteNumber("macs", plan.Macs);
            if (planningBudget is long planned) w.WriteNumber("planning_budget_bytes", planned);
            w.WriteEndObject();
        });
    }
}
