// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Emit;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Device;

namespace TinyML.Cli.Commands;

/// <summary>
/// <c>tinyml compile MODEL --target CORE --out DIR [--name NAME] [--size] [--json] [--work DIR] [--toolchain DIR] [--ram-budget SIZE] [--progress]</c>:
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
        var model = new Argument<FileInfo>("model") { Description = "The .tflite model to compile" };
        var target = new Option<string>("--target") { Description = "The core: cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "The folder to write the C, libraries, CMake snippet and Makefile fragment to", Required = true };
        var name = new Option<string>("--name") { Description = "The C name of the model (default: the file name)" };
        var size = new Option<bool>("--size") { Description = "Optimize for size (-Os) instead of speed (-O2)" };
        var json = new Option<bool>("--json") { Description = $"Print the files and sizes as JSON (schema {Schema}) instead of text" };
        var work = new Option<DirectoryInfo>("--work") { Description = "The folder for objects, the sizing ELF and its map (default: a new folder under the temp folder)" };
        var budget = new Option<string>("--ram-budget") { Description = "RAM budget (e.g. 64KB): over it, the memory techniques are tried as the SDK tries them" };
        var toolchain = new Option<DirectoryInfo>("--toolchain") { Description = "The folder holding arm-none-eabi-gcc (default: TML_ARM_TOOLCHAIN_DIR, then PATH)" };
        var progress = Cli.ProgressOption();
        var command = new Command("compile", "Compile the model to C and static libraries for a Cortex-M firmware") { model, target, output, name, size, json, work, toolchain, budget, progress };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(target)!, parse.GetValue(output)!, parse.GetValue(name), parse.GetValue(size), stdout, stderr,
            parse.GetValue(json), parse.GetValue(work)?.FullName, parse.GetValue(toolchain)?.FullName, parse.GetValue(budget),
            StepProgress.Choose(parse.GetValue(progress), stderrIsTerminal)));
        return command;
    }

    /// <summary>Compiles one model; returns the exit code.</summary>
    public static int Run(FileInfo file, string target, DirectoryInfo output, string? name, bool optimizeForSize, TextWriter stdout, TextWriter stderr,
        bool json = false, string? workDirectory = null, string? toolchainDirectory = null, string? ramBudget = null,
        ProgressMode progressMode = ProgressMode.None)
    {
        if (!ModelCompilation.TryRamBudget(ramBudget, stderr, out long? budget)) return Cli.UsageError;
        string cName = name ?? CEmitter.NameOf(file.Name);
        CompiledPlan? plan;
        DevicePackage package;
        long? planningBudget = budget;
        // The progress display ends (a live line is erased) before the result goes to stdout.
        using (var progress = new StepProgress(file.Name, progressMode, stderr))
        {
            stderr = progress.Error;
            Model? model;
            (model, plan) = ModelCompilation.Compile(file, stderr, ramBudget: budget, progress: progress);
            if (model is null || plan is null) return Cli.ModelErrors;
            try
            {
                var options = new DeviceBuildOptions
                {
                    Core = CortexM.Get(target),
                    ModelName = cName,
                    Macs = ModelSummary.Of(model).TotalMacs + plan.ExtraMacs,
                    OptimizeForSize = optimizeForSize,
                    OutputDirectory = workDirectory,
                    ToolchainDirectory = toolchainDirectory,
                    Progress = progress,
                };
                package = DeviceBuild.Package(plan, options, output.FullName);
                if (budget is long ramBudgetBytes)
                    (plan, package, planningBudget) = FitTheDevice(model, file, plan, package, ramBudgetBytes, options, output.FullName, stderr, progress);
            }
            catch (DeviceException e)
            {
                stderr.WriteLine($"error {e.Message}");
                return Cli.ModelErrors;
            }
        }
        if (json) WriteJson(stdout, file, cName, optimizeForSize, plan, package, planningBudget);
        else WriteText(stdout, file, cName, optimizeForSize, plan, package);
        return 0;
    }

    /// <summary>
    /// The device needs more RAM than the plan (static data of its own and the invoke path's stack), so a plan that
    /// fits the budget on the host may miss it on the device. Then the plan is made again for the budget less that
    /// overhead, and the library rebuilt, while that lowers the device's RAM (at most three times; the overhead
    /// changes a little with the plan). Returns the plan built and the budget its memory was planned for, which the
    /// SDK reads from the report (planning_budget_bytes) so that the host class runs the same plan.
    /// </summary>
    private static (CompiledPlan Plan, DevicePackage Package, long PlanningBudget) FitTheDevice(Model model, FileInfo file, CompiledPlan plan,
        DevicePackage package, long budget, DeviceBuildOptions options, string output, TextWriter stderr, System.IProgress<string> progress)
    {
        long planningBudget = budget;
        for (int attempt = 0; attempt < 3 && package.Sizes.RamBytes > budget; attempt++)
        {
            long overhead = package.Sizes.RamBytes - (plan.ArenaBytes + plan.StateBytes);
            long tighter = budget - overhead;
            if (tighter <= 0 || tighter >= planningBudget) break;
            progress.Report($"{package.Sizes.RamBytes.ToString("N0", CultureInfo.InvariantCulture)} B of RAM on {options.Core.Name} is over the budget: " +
                $"planning the memory again within {tighter.ToString("N0", CultureInfo.InvariantCulture)} B");
            var fit = TinyML.Compiler.Lowering.MemoryTechniques.FitToBudget(model, file.FullName, tighter);
            foreach (var d in fit.Lowered.Diagnostics) stderr.WriteLine(d.ToString());
            if (fit.Lowered.Value is not { } tighterPlan || tighterPlan.ArenaBytes + tighterPlan.StateBytes >= plan.ArenaBytes + plan.StateBytes) break;
            plan = tighterPlan;
            planningBudget = tighter;
            package = DeviceBuild.Package(plan, options with { Macs = ModelSummary.Of(model).TotalMacs + plan.ExtraMacs }, output);
        }
        return (plan, package, planningBudget);
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
            $"RAM {N(s.RamBytes)} B (arena and state {N(plan.ArenaBytes + plan.StateBytes)}, stack of the invoke path {N(s.StackBytes)})");
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
            w.WriteNumber("constant_bytes", plan.ConstantBytes);
            if (planningBudget is long planned) w.WriteNumber("planning_budget_bytes", planned);
            w.WriteEndObject();
        });
    }
}
