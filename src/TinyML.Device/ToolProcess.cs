// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading.Tasks;

namespace TinyML.Device;

/// <summary>The exit code and the output of a finished tool.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    /// <summary>Standard output and error together, for messages.</summary>
    public string Output => (StandardOutput + StandardError).Trim();
}

/// <summary>Runs a tool with arguments (no shell), captures its output, and kills its process tree on a timeout.</summary>
internal static class ToolProcess
{
    public static ToolResult Run(string file, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = new Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool exited = process.WaitForExit(timeout ?? TimeSpan.FromMinutes(10));
        if (!exited)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* exited meanwhile */ }
            process.WaitForExit();
        }
        else
        {
            process.WaitForExit(); // drains the asynchronous readers
        }
        lock (stdout) lock (stderr)
            return new ToolResult(exited ? process.ExitCode : -1, stdout.ToString(), stderr.ToString(), !exited);
    }

    /// <summary>Runs several independent tool invocations, at most <paramref name="parallelism"/> at a time.</summary>
    public static void RunAll<T>(IReadOnlyList<T> items, int parallelism, Action<T> action) =>
        Parallel.ForEach(items, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, action);
}
