// SPDX-License-Identifier: Apache-2.0
using System;
using System.CommandLine;
using System.IO;
using TinyML.Cli.Commands;

namespace TinyML.Cli;

/// <summary>The <c>tinyml</c> command line. Exit codes: 0 success, 1 the model has errors, 2 bad usage,
/// 3 internal error.</summary>
public static class Cli
{
    /// <summary>Exit code when the model has error diagnostics.</summary>
    public const int ModelErrors = 1;
    /// <summary>Exit code for bad command-line usage.</summary>
    public const int UsageError = 2;
    /// <summary>Exit code for an unexpected internal error (TML9001).</summary>
    public const int InternalError = 3;

    /// <summary>--progress of compile and run: each step as its own line on stderr (the SDK's build reads them).</summary>
    internal static Option<bool> ProgressOption() => new("--progress")
    {
        Description = $"Write each step as its own line on stderr as it starts: {StepProgress.Prefix}MODEL: STEP",
    };

    /// <summary>Runs the command line with the given output streams. <paramref name="stderrIsTerminal"/>: show the
    /// steps of long commands as a live line on stderr (without --progress).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal = false)
    {
        var root = new RootCommand("tinyml: compile neural networks for microcontrollers")
        {
            InspectCommand.Create(stdout, stderr),
            PlanCommand.Create(stdout, stderr),
            RunCommand.Create(stdout, stderr, stderrIsTerminal),
            CompileCommand.Create(stdout, stderr, stderrIsTerminal),
            QuantizeCommand.Create(stdout, stderr),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is null)
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"error: {error.Message}");
            return UsageError;
        }
        try
        {
            int code = parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
            return parsed.Errors.Count > 0 ? UsageError : code;
        }
        catch (Exception e)
        {
            // Never a stack trace: one coded line the user can report.
            stderr.WriteLine($"error {TinyML.DiagnosticIds.InternalError}: internal error: {e.GetType().Name}: {e.Message}");
            return InternalError;
        }
    }
}
