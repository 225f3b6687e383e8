// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace TinyML.Sdk.Tasks;

/// <summary>
/// Runs one command of the <c>tinyml</c> CLI that the package carries (tools/net10.0/tinyml.dll, framework-dependent)
/// with the dotnet host that runs the build: <c>dotnet tinyml.dll COMMAND ARGUMENTS</c>. Every build step that needs
/// more than the compiler core (a cross compile today, quantization next) goes through this task, so the steps work
/// the same from the command line and from MSBuild and the tasks stay thin.
/// <list type="bullet">
/// <item>Each line the CLI writes on stderr goes through MSBuild's canonical-error parser, so the CLI's
/// <c>file(line): error TMLnnnn: ...</c> and <c>error TMLnnnn: ...</c> lines become build errors with their code.</item>
/// <item>Stdout is logged, or, with <see cref="StandardOutputFile"/>, saved to that file when the command succeeds
/// (for a <c>--json</c> report); a failed command removes the file, so the target that made it runs again.</item>
/// <item>A non-zero exit with no error of its own, or a CLI that cannot be started, is TML0007.</item>
/// </list>
/// </summary>
public sealed class TinyMLCli : Task, ICancelableTask
{
    private Process? _process;
    private volatile bool _cancelled;

    /// <summary>The CLI's command: compile, quantize, ...</summary>
    [Required]
    public string Command { get; set; } = "";

    /// <summary>The arguments after the command, one item each (quoted by the task).</summary>
    public ITaskItem[] Arguments { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>tinyml.dll (TinyMLCliPath; by default the one in the package's tools/net10.0).</summary>
    [Required]
    public string CliPath { get; set; } = "";

    /// <summary>The dotnet host; default DOTNET_HOST_PATH (set by the .NET SDK for the build), else dotnet on PATH.</summary>
    public string? DotnetHostPath { get; set; }

    /// <summary>Where to save the command's stdout when it succeeds; empty: stdout is logged.</summary>
    public string? StandardOutputFile { get; set; }

    /// <summary>Where a diagnostic the CLI prints without a location points (default: the project file), so that
    /// it reads <c>App.csproj : error TML0005: ...</c> rather than naming the task.</summary>
    public string? DiagnosticFile { get; set; }

    /// <summary>How loudly logged stdout shows: high (the default build log shows it), normal (the default) or low.</summary>
    public string? OutputImportance { get; set; }

    /// <summary>The working directory; default the project's.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>The exit code of the command.</summary>
    [Output]
    public int ExitCode { get; set; }

    /// <summary>The full command line, for the log and for tests.</summary>
    public string CommandLine => $"{Quote(Host)} {string.Join(" ", AllArguments().Select(Quote))}";

    private string Host => DotnetHostPath is { Length: > 0 } ? DotnetHostPath!
        : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } fromSdk ? fromSdk : "dotnet";

    private IEnumerable<string> AllArguments() => new[] { CliPath, Command }.Concat(Arguments.Select(a => a.ItemSpec));

    /// <inheritdoc />
    public void Cancel()
    {
        _cancelled = true;
        try
        {
            _process?.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <inheritdoc />
    public override bool Execute()
    {
        if (!File.Exists(CliPath))
        {
            Fail($"the tinyml command was not found at {CliPath}; the TinyML.Sdk package is incomplete, or TinyMLCliPath points elsewhere");
            return false;
        }
        if (StandardOutputFile is { Length: > 0 } stale && File.Exists(stale)) File.Delete(stale);
        var start = new ProcessStartInfo(Host, string.Join(" ", AllArguments().Select(Quote)))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = WorkingDirectory is { Length: > 0 } ? WorkingDirectory : Directory.GetCurrentDirectory(),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        Log.LogMessage(MessageImportance.Normal, $"TinyML: {CommandLine}");
        var stdout = new StringBuilder();
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        string where = DiagnosticFile is { Length: > 0 } ? DiagnosticFile! : BuildEngine?.ProjectFileOfTaskNode ?? "";
        try
        {
            using var process = _process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.Enqueue(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            // Stderr is logged as it arrives (from this thread, as MSBuild wants), so a long step shows its progress.
            while (!process.WaitForExit(200)) LogStandardError(stderr, where);
            process.WaitForExit();
            ExitCode = process.ExitCode;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            Fail($"could not start '{Host}' to run the tinyml command: {e.Message}");
            return false;
        }
        finally
        {
            _process = null;
        }
        LogStandardError(stderr, where);
        if (_cancelled) return false;
        if (ExitCode == 0 && StandardOutputFile is { Length: > 0 } file)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            File.WriteAllText(file, stdout.ToString(), new UTF8Encoding(false));
        }
        else if (stdout.Length > 0)
        {
            Log.LogMessage(ExitCode == 0 ? Importance(OutputImportance) : MessageImportance.High, stdout.ToString().TrimEnd());
        }
        if (ExitCode != 0 && !Log.HasLoggedErrors)
            Fail($"tinyml {Command} exited with code {ExitCode}{(_stderrText.Length > 0 ? ": " + _stderrText.ToString().Trim() : "")}");
        return ExitCode == 0 && !Log.HasLoggedErrors;
    }

    private static MessageImportance Importance(string? name) => (name ?? "").Trim().ToLowerInvariant() switch
    {
        "high" => MessageImportance.High,
        "low" => MessageImportance.Low,
        _ => MessageImportance.Normal,
    };

    private readonly StringBuilder _stderrText = new();

    /// <summary>
    /// Logs the stderr lines received so far: the CLI's diagnostics (<c>file(line): error TMLnnnn: ...</c>, or without a
    /// location, which then points at <paramref name="where"/>) become errors and warnings with their code and help
    /// link, progress lines (<c>tinyml: ...</c>, docs/cli.md) show at the default verbosity, and any other line goes
    /// through MSBuild's canonical-error parser (a compiler's own error lines).
    /// </summary>
    private void LogStandardError(System.Collections.Concurrent.ConcurrentQueue<string> lines, string where)
    {
        while (lines.TryDequeue(out string? line))
        {
            _stderrText.Append(line).Append(' ');
            var diagnostic = Diagnostic.Match(line);
            if (diagnostic.Success)
            {
                string code = diagnostic.Groups["code"].Value, text = diagnostic.Groups["text"].Value;
                string file = diagnostic.Groups["file"].Success ? diagnostic.Groups["file"].Value : where;
                int lineNumber = diagnostic.Groups["line"].Success ? int.Parse(diagnostic.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
                if (diagnostic.Groups["severity"].Value == "error") Log.LogError(null, code, null, TinyML.DiagnosticIds.HelpLink(code), file, lineNumber, 0, 0, 0, text);
                else Log.LogWarning(null, code, null, TinyML.DiagnosticIds.HelpLink(code), file, lineNumber, 0, 0, 0, text);
            }
            else if (line.StartsWith("tinyml: ", StringComparison.Ordinal))
                Log.LogMessage(MessageImportance.High, "TinyML: " + line.Substring("tinyml: ".Length));
            else
                Log.LogMessageFromText(line, MessageImportance.High);
        }
    }

    /// <summary>A diagnostic line of the CLI: <c>[file[(line[,column])] : ]error|warning TMLnnnn: text</c>.</summary>
    private static readonly System.Text.RegularExpressions.Regex Diagnostic = new(
        @"^(?:(?<file>[^\s].*?)(?:\((?<line>\d+)(?:,\d+)?\))?\s*:\s*)?(?<severity>error|warning) (?<code>TML\d{4}): (?<text>.*)$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private void Fail(string message) =>
        Log.LogError(null, TinyML.DiagnosticIds.TinyMLCommandFailed, null, DiagnosticFile is { Length: > 0 } ? DiagnosticFile : BuildEngine?.ProjectFileOfTaskNode,
            0, 0, 0, 0, message);

    /// <summary>Quotes an argument for the process command line (Windows and Unix .NET parse the same rules).</summary>
    public static string Quote(string argument)
    {
        if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '"', '\'' }) < 0) return argument;
        var quoted = new StringBuilder("\"");
        int backslashes = 0;
        foreach (char c in argument)
        {
            if (c == '\\') { backslashes++; continue; }
            if (c == '"') quoted.Append('\\', backslashes * 2 + 1).Append('"');
            else quoted.Append('\\', backslashes).Append(c);
            backslashes = 0;
        }
        return quoted.Append('\\', backslashes * 2).Append('"').ToString();
    }
}
