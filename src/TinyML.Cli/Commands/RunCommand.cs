// SPDX-License-Identifier: Apache-2.0
using System;
using System.CommandLine;
using System.IO;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Compilation;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Onnx;
using TinyML.Compiler.Plan;
using TinyML.Device;
using TinyML.Runtime;

namespace TinyML.Cli.Commands;

/// <summary>
/// <c>tinyml run MODEL|PLAN.tmlmodel --input IN.bin[,IN2.bin] --output OUT.bin [--target cortex-m4] [--json]</c>: runs the model once,
/// on the host through the native kernels, or as generated C on an emulated Cortex-M core under QEMU.
/// </summary>
public static class RunCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr, bool stderrIsTerminal = false)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .tflite or .onnx model to run, or a plan (.tmlmodel, as the SDK's build embeds it) to run as it is" };
        var input = new Option<string>("--input")
        {
            Description = "Input tensor files, comma-separated in graph input order: raw little-endian bytes, or an ONNX TensorProto (.pb, as ONNX's test data sets hold)",
            Required = true,
        };
        var output = new Option<FileInfo>("--output") { Description = "Where to write all outputs, concatenated in graph output order", Required = true };
        var target = new Option<string>("--target") { Description = "Run the generated C on an emulated core: cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55" };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary (schema tinyml.run/1); with --target it includes the guest instructions of one inference" };
        var optimize = new Option<string>("--optimize") { Description = "'memory': every memory technique with the minimum peak; 'none': no technique (default: the ones that cost no MACs)" };
        var budget = new Option<string>("--ram-budget") { Description = "RAM budget (e.g. 64KB): plan within it as the SDK does (with --target, on the device too)" };
        var progress = Cli.ProgressOption();
        var rounding = ModelCompilation.RoundingOption();
        var train = ModelCompilation.TrainOption();
        var learningRate = ModelCompilation.LearningRateOption();
        var command = new Command("run", "Run the model with raw tensor files, on the host or on an emulated Cortex-M") { model, input, output, target, json, optimize, budget, progress, rounding, train, learningRate };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(target), parse.GetValue(json), stdout, stderr,
            parse.GetValue(optimize), StepProgress.Choose(parse.GetValue(progress), stderrIsTerminal), parse.GetValue(budget), parse.GetValue(rounding), parse.GetValue(train), parse.GetValue(learningRate)));
        return command;
    }

    /// <summary>Runs one model, or a plan container (.tmlmodel) as it is; returns the exit code.</summary>
    public static int Run(FileInfo file, string inputs, FileInfo output, string? target, bool json, TextWriter stdout, TextWriter stderr, string? optimize = null,
        ProgressMode progressMode = ProgressMode.None, string? ramBudget = null, string? rounding = null, string? train = null, string? learningRate = null)
    {
        if (!ModelCompilation.TryOptimize(optimize, stderr, out var options)) return Cli.UsageError;
        if (!ModelCompilation.TryRounding(rounding, stderr, ref options)) return Cli.UsageError;
        if (!ModelCompilation.TryTraining(train, learningRate, stderr, ref options)) return Cli.UsageError;
        if (!ModelCompilation.TryRamBudget(ramBudget, stderr, out long? budget)) return Cli.UsageError;
        bool container = ModelCompilation.IsPlanContainer(file);
        if (container && ModelCompilation.RefuseForPlan(file, stderr, ("--optimize", optimize), ("--ram-budget", budget), ("--onnx-rounding", rounding), ("--train", train), ("--learning-rate", learningRate))) return Cli.UsageError;
        ExecutionPlan? plan;
        long? instructions = null;
        DeviceSizeReport? sizes = null;
        // The progress display ends (a live line is erased) before the result goes to stdout.
        using (var progress = new StepProgress(file.Name, progressMode, stderr))
        {
            stderr = progress.Error;
            try
            {
                var core = target is null ? null : CortexM.Get(target);
                DeviceImage? image = null;
                var deviceOptions = core is null ? null : new DeviceBuildOptions { Core = core, Progress = progress };
                if (container) plan = ModelCompilation.ReadPlan(file, stderr, core?.Name, progress);
                else
                {
                    // With a core and a budget, the plan is fitted on the device as the SDK fits it; each measurement builds the image.
                    plan = ModelCompilation.Compile(file, stderr, options, budget, progress, core?.Name ?? ExecutionPlan.HostTarget,
                        deviceOptions is null || budget is null ? null : new DeviceMeasurement(p => CompileCommand.Measured(core!, (image = DeviceBuild.Build(p, deviceOptions)).Sizes))).Plan;
                }
                if (plan is null) return Cli.ModelErrors;
                var data = ReadInputs(plan, inputs, stderr);
                if (data is null) return Cli.ModelErrors;
                if (deviceOptions is null)
                {
                    progress.Report("running on the host");
                    RunOnHost(plan, data, output);
                }
                else
                {
                    (instructions, sizes) = RunOnDevice(image ?? DeviceBuild.Build(plan, deviceOptions), data, output, progress);
                }
            }
            catch (TinyMLException e)
            {
                stderr.WriteLine($"error {e.Message}");
                return Cli.ModelErrors;
            }
            catch (DeviceException e)
            {
                stderr.WriteLine($"error {e.Message}");
                return Cli.ModelErrors;
            }
        }
        if (json) WriteJson(stdout, file, target ?? "host", plan, instructions, sizes);
        else stdout.WriteLine($"wrote {plan.Outputs.Sum(o => o.Bytes)} bytes ({string.Join(", ", plan.Outputs.Select(o => $"'{o.Name}' {DataTypes.Name(o.Type)}{o.Shape}"))}) to {output.FullName}");
        return 0;
    }

    /// <summary>The input files, one per graph input in order; null after printing TML0103 when they do not fit.</summary>
    private static byte[][]? ReadInputs(ExecutionPlan plan, string inputs, TextWriter stderr)
    {
        var paths = inputs.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0).ToArray();
        string Error(string message) => $"error {TinyML.DiagnosticIds.InputMismatch}: {message}";
        if (paths.Length != plan.Inputs.Count)
        {
            stderr.WriteLine(Error($"the model has {plan.Inputs.Count} inputs ({string.Join(", ", plan.Inputs.Select(i => $"'{i.Name}'"))}), but {paths.Length} files were given"));
            return null;
        }
        var data = new byte[paths.Length][];
        for (int i = 0; i < paths.Length; i++)
        {
            var tensor = plan.Inputs[i];
            if (!File.Exists(paths[i]))
            {
                stderr.WriteLine(Error($"input file not found: {paths[i]}"));
                return null;
            }
            data[i] = File.ReadAllBytes(paths[i]);
            if (string.Equals(Path.GetExtension(paths[i]), ".pb", StringComparison.OrdinalIgnoreCase))
            {
                var read = OnnxReader.ReadTensor(data[i], paths[i]);
                if (read.Value is null)
                {
                    foreach (var d in read.Diagnostics) stderr.WriteLine(d.ToString());
                    return null;
                }
                // A TensorProto says its type: one that is not the input's would be reinterpreted bytes.
                if (read.Value.Type != tensor.Type)
                {
                    stderr.WriteLine(Error($"input {i} '{tensor.Name}' is {DataTypes.Name(tensor.Type)}{tensor.Shape}; {paths[i]} holds {DataTypes.Name(read.Value.Type)}{read.Value.Shape}"));
                    return null;
                }
                data[i] = read.Value.Data;
            }
            if (data[i].Length != tensor.Bytes)
            {
                stderr.WriteLine(Error($"input {i} '{tensor.Name}' is {DataTypes.Name(tensor.Type)}{tensor.Shape} = {tensor.Bytes} bytes; {paths[i]} has {data[i].Length} bytes"));
                return null;
            }
        }
        return data;
    }

    private static void RunOnHost(ExecutionPlan plan, byte[][] data, FileInfo output)
    {
        using var executor = new PlanExecutor(plan);
        for (int i = 0; i < data.Length; i++) data[i].CopyTo(executor.Input(i));
        executor.Run();
        using var stream = File.Create(output.FullName);
        for (int i = 0; i < plan.Outputs.Count; i++) stream.Write(executor.Output(i));
    }

    private static (long Instructions, DeviceSizeReport Sizes) RunOnDevice(DeviceImage image, byte[][] data, FileInfo output, IProgress<string> progress)
    {
        progress.Report($"running under QEMU (qemu-system-arm -M {image.Core.QemuMachine})");
        var result = new QemuRunner().Run(image, new[] { (IReadOnlyList<byte[]>)data })[0];
        using var stream = File.Create(output.FullName);
        foreach (var bytes in result.Outputs) stream.Write(bytes);
        return (result.Instructions, image.Sizes);
    }

    private static void WriteJson(TextWriter o, FileInfo file, string target, ExecutionPlan plan, long? instructions, DeviceSizeReport? sizes) =>
        JsonOutput.Write(o, w =>
        {
            long macs = plan.Macs; // the plan's, patches' recomputed halos included
            w.WriteStartObject();
            w.WriteString("schema", "tinyml.run/1");
            w.WriteString("model", file.FullName);
            w.WriteString("target", target);
            w.WriteNumber("macs", macs);
            w.WriteNumber("arena_bytes", plan.ArenaBytes);
            // A plan read from a container does not know what patches added.
            if (plan is CompiledPlan compiled) w.WriteNumber("macs_overhead", MemoryTechniques.OverheadPercent(compiled));
            w.WriteNumber("output_bytes", plan.Outputs.Sum(t => t.Bytes));
            if (instructions is long n)
            {
                w.WriteNumber("instructions", n);
                w.WriteNumber("macs_per_instruction", n == 0 ? 0 : (double)macs / n);
            }
            if (sizes is not null)
            {
                w.WriteNumber("flash_bytes", sizes.FlashBytes);
                w.WriteNumber("ram_bytes", sizes.RamBytes);
                w.WriteNumber("stack_bytes", sizes.StackBytes);
            }
            w.WriteEndObject();
        });
}
