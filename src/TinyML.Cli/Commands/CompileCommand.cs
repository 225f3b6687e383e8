// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using TinyML.Compiler.Analysis;
using TinyML.Device;

namespace TinyML.Cli.Commands;

/// <summary>
/// <c>tinyml compile MODEL --target CORE --out DIR [--name NAME] [--size]</c>: the model as C and static libraries for
/// a firmware project (no interpreter), with a CMake snippet and a Makefile fragment, and its real sizes.
/// </summary>
public static class CompileCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .tflite model to compile" };
        var target = new Option<string>("--target") { Description = "The core: cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "The folder to write the C, libraries, CMake snippet and Makefile fragment to", Required = true };
        var name = new Option<string>("--name") { Description = "The C name of the model (default: the file name)" };
        var size = new Option<bool>("--size") { Description = "Optimize for size (-Os) instead of speed (-O2)" };
        var command = new Command("compile", "Compile the model to C and static libraries for a Cortex-M firmware") { model, target, output, name, size };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(target)!, parse.GetValue(output)!, parse.GetValue(name), parse.GetValue(size), stdout, stderr));
        return command;
    }

    /// <summary>Compiles one model; returns the exit code.</summary>
    public static int Run(FileInfo file, string target, DirectoryInfo output, string? name, bool optimizeForSize, TextWriter stdout, TextWriter stderr)
    {
        var (model, plan) = ModelCompilation.Compile(file, stderr);
        if (model is null || plan is null) return Cli.ModelErrors;
        string cName = name ?? new string(Path.GetFileNameWithoutExtension(file.Name).Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray());
        if (cName.Length == 0 || char.IsDigit(cName[0])) cName = "model_" + cName;
        try
        {
            var package = DeviceBuild.Package(plan, new DeviceBuildOptions
            {
                Core = CortexM.Get(target),
                ModelName = cName,
                Macs = ModelSummary.Of(model).TotalMacs,
                OptimizeForSize = optimizeForSize,
            }, output.FullName);
            string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
            var s = package.Sizes;
            stdout.WriteLine($"{file.Name} for {package.Core.Name} ({(optimizeForSize ? "-Os" : "-O2")}) in {package.Directory}:");
            stdout.WriteLine($"  {cName}.c/.h, lib{cName}.a, libtinyml_kernels.a, tml_kernels.h, {cName}.cmake, {cName}.mk");
            stdout.WriteLine($"  flash {N(s.FlashBytes)} B (code {N(s.TextBytes)}, constants {N(s.RodataBytes)}, data {N(s.DataBytes)}); " +
                $"RAM {N(s.RamBytes)} B (arena and state {N(plan.ArenaBytes + plan.StateBytes)}, stack of the invoke path {N(s.StackBytes)})");
            return 0;
        }
        catch (DeviceException e)
        {
            stderr.WriteLine($"error {e.Message}");
            return Cli.ModelErrors;
        }
    }
}
