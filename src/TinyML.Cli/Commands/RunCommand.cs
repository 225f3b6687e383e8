// SPDX-License-Identifier: Apache-2.0
using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Runtime;

namespace TinyML.Cli.Commands;

/// <summary><c>tinyml run MODEL --input IN.bin[,IN2.bin] --output OUT.bin</c>: runs the model once on the host.</summary>
public static class RunCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .tflite model to run" };
        var input = new Option<string>("--input") { Description = "Raw input tensor files, comma-separated in graph input order", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "Where to write all outputs, concatenated in graph output order", Required = true };
        var command = new Command("run", "Run the model on the host with raw tensor files") { model, input, output };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(input)!, parse.GetValue(output)!, stdout, stderr));
        return command;
    }

    /// <summary>Runs one model; returns the exit code.</summary>
    public static int Run(FileInfo file, string inputs, FileInfo output, TextWriter stdout, TextWriter stderr)
    {
        var (_, plan) = ModelCompilation.Compile(file, stderr);
        if (plan is null) return Cli.ModelErrors;
        var paths = inputs.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0).ToArray();
        string Error(string message) => $"error {TinyML.DiagnosticIds.InputMismatch}: {message}";
        if (paths.Length != plan.Inputs.Count)
        {
            stderr.WriteLine(Error($"the model has {plan.Inputs.Count} inputs ({string.Join(", ", plan.Inputs.Select(i => $"'{i.Name}'"))}), but {paths.Length} files were given"));
            return Cli.ModelErrors;
        }
        var data = new byte[paths.Length][];
        for (int i = 0; i < paths.Length; i++)
        {
            var tensor = plan.Inputs[i];
            if (!File.Exists(paths[i]))
            {
                stderr.WriteLine(Error($"input file not found: {paths[i]}"));
                return Cli.ModelErrors;
            }
            data[i] = File.ReadAllBytes(paths[i]);
            if (data[i].Length != tensor.Bytes)
            {
                stderr.WriteLine(Error($"input {i} '{tensor.Name}' is {DataTypes.Name(tensor.Type)}{tensor.Shape} = {tensor.Bytes} bytes; {paths[i]} has {data[i].Length} bytes"));
                return Cli.ModelErrors;
            }
        }
        try
        {
            using var executor = new PlanExecutor(plan);
            for (int i = 0; i < data.Length; i++) data[i].CopyTo(executor.Input(i));
            executor.Run();
            using var stream = File.Create(output.FullName);
            for (int i = 0; i < plan.Outputs.Count; i++) stream.Write(executor.Output(i));
        }
        catch (TinyMLException e)
        {
            stderr.WriteLine($"error {e.Message}");
            return Cli.ModelErrors;
        }
        stdout.WriteLine($"wrote {plan.Outputs.Sum(o => o.Bytes)} bytes ({string.Join(", ", plan.Outputs.Select(o => $"'{o.Name}' {DataTypes.Name(o.Type)}{o.Shape}"))}) to {output.FullName}");
        return 0;
    }
}
