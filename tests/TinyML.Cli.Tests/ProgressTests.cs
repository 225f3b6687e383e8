// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary>
/// --progress: each step of compile and run --target as its own line on stderr, "tinyml: MODEL: STEP", written as the
/// step starts (the SDK's build streams them into its log); never on stdout, and nothing without the option.
/// </summary>
public sealed class ProgressTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-progress-{Guid.NewGuid():N}");

    public ProgressTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record StderrLine(string Text, bool ProcessHadExited);

    [Fact]
    public async Task Compile_WithProgress_StreamsEveryStepOnStderrInOrder_WhileStdoutStaysJson()
    {
        // A temp folder of its own gives the CLI an empty kernel cache, so the kernel compile is one of the steps.
        string temp = Path.Combine(_dir, "tmp");
        Directory.CreateDirectory(temp);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["TMPDIR"] = temp },
        };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "tinyml.dll"), "compile", SharedData.Model("hello_int8"),
            "--target", "cortex-m0plus", "--out", Path.Combine(_dir, "out"), "--json", "--progress" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var reading = process.StandardOutput.ReadToEndAsync();
        var lines = new List<StderrLine>();
        while (await process.StandardError.ReadLineAsync() is { } line) lines.Add(new StderrLine(line, process.HasExited));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5))) await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, string.Join("\n", lines.Select(l => l.Text)));

        string stdout = await reading;
        Assert.Equal("tinyml.compile/1", JsonDocument.Parse(stdout).RootElement.GetProperty("schema").GetString());
        Assert.DoesNotContain("tinyml: ", stdout);

        const string prefix = "tinyml: hello_int8.tflite: ";
        Assert.All(lines, l => Assert.StartsWith(prefix, l.Text));
        int kernelSources = Directory.GetFiles(Path.Combine(SharedData.Repo, "src", "TinyML.Kernels.Native", "src"), "*.c", SearchOption.AllDirectories).Length; // every .c below src/
        AssertInOrder(lines.Select(l => l.Text.Substring(prefix.Length)).ToList(),
            "^reading the model$",
            "^lowering the model",
            $"^compiling {kernelSources} kernel sources and \\d+ runtime sources for cortex-m0plus \\(-O2\\)$",
            "^emitting hello_int8\\.c$",
            "^compiling hello_int8\\.c for cortex-m0plus",
            "^linking hello_int8\\.elf$",
            "^measuring the stack bound",
            "^writing libhello_int8\\.a, hello_int8\\.cmake and hello_int8\\.mk$");
        // Written as each step starts: the kernel compile alone takes seconds, so the first line is read long before the end.
        Assert.False(lines[0].ProcessHadExited, "the first progress line arrived only after the process had exited");
    }

    [Fact]
    public void RunOnATarget_WithProgress_ReportsTheBuildThenQemu_AndStdoutIsJson()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cli.Run(new[] { "run", SharedData.Model("kws"), "--input", Path.Combine(SharedData.Root, "golden", "kws", "input_2.bin"),
            "--output", Path.Combine(_dir, "out.bin"), "--target", "cortex-m4", "--json", "--progress" }, stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        Assert.Equal("tinyml.run/1", JsonDocument.Parse(stdout.ToString()).RootElement.GetProperty("schema").GetString());

        var steps = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.All(steps, s => Assert.StartsWith("tinyml: kws.tflite: ", s));
        AssertInOrder(steps, "reading the model", "lowering the model", "linking", "stack bound", ": running under QEMU \\(qemu-system-arm -M mps2-an386\\)$");
        Assert.Matches("running under QEMU", steps[^1]);
    }

    [Fact]
    public void WithoutProgress_AndStderrNotATerminal_NoStepIsPrinted()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cli.Run(new[] { "compile", SharedData.Model("hello_int8"), "--target", "cortex-m0plus", "--out", Path.Combine(_dir, "quiet") }, stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        Assert.Equal("", stderr.ToString());
        Assert.Contains("flash ", stdout.ToString());

        code = Cli.Run(new[] { "run", SharedData.Model("hello_int8"), "--input", Path.Combine(SharedData.Root, "golden", "hello_int8", "input_1.bin"),
            "--output", Path.Combine(_dir, "quiet.bin"), "--target", "cortex-m0plus" }, stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        Assert.Equal("", stderr.ToString());
    }

    [Fact]
    public void ProgressOption_WinsOverATerminal_AndATerminalAloneGetsTheLiveLine()
    {
        Assert.Equal(ProgressMode.Lines, StepProgress.Choose(progressOption: true, stderrIsTerminal: true));
        Assert.Equal(ProgressMode.Live, StepProgress.Choose(progressOption: false, stderrIsTerminal: true));
        Assert.Equal(ProgressMode.None, StepProgress.Choose(progressOption: false, stderrIsTerminal: false));
    }

    [Fact]
    public void LiveLine_IsErasedBeforeADiagnostic_AndWhenTheCommandEnds()
    {
        const string eraseLine = "\r\u001b[K";
        var stderr = new StringWriter();
        using (var progress = new StepProgress("kws.tflite", ProgressMode.Live, stderr))
        {
            progress.Report("linking kws.elf");
            progress.Error.WriteLine("warning TML0000: something to read");
        }
        string text = stderr.ToString();
        Assert.StartsWith(eraseLine + "tinyml: kws.tflite: linking kws.elf", text);
        // The status line is gone before the warning starts, so the warning begins at column 0 of a clean line.
        Assert.Contains("linking kws.elf" + eraseLine + "warning TML0000: something to read" + Environment.NewLine, text);
        Assert.DoesNotContain('\n', text.Substring(0, text.IndexOf("warning", StringComparison.Ordinal)));

        stderr = new StringWriter();
        using (var progress = new StepProgress("kws.tflite", ProgressMode.Live, stderr))
            progress.Report("emitting kws.c");
        Assert.Equal(eraseLine + "tinyml: kws.tflite: emitting kws.c" + eraseLine, stderr.ToString());
    }

    /// <summary>Each pattern matches a later line than the one before it.</summary>
    private static void AssertInOrder(IReadOnlyList<string> lines, params string[] patterns)
    {
        int at = -1;
        foreach (string pattern in patterns)
        {
            int found = -1;
            for (int i = at + 1; i < lines.Count && found < 0; i++)
                if (Regex.IsMatch(lines[i], pattern)) found = i;
            Assert.True(found >= 0, $"no line matching /{pattern}/ after line {at} in:\n{string.Join("\n", lines)}");
            at = found;
        }
    }
}
