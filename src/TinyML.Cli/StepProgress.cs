// SPDX-License-Identifier: Apache-2.0
using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;

namespace TinyML.Cli;

/// <summary>How <c>tinyml compile</c> and <c>tinyml run</c> show the steps of a long build.</summary>
public enum ProgressMode
{
    /// <summary>Nothing (stderr is not a terminal and --progress was not given).</summary>
    None,
    /// <summary>--progress: each step as its own flushed line on stderr, <c>tinyml: MODEL: STEP</c>. The SDK's
    /// MSBuild task streams these lines into the build log, so the form is a contract (docs/cli.md).</summary>
    Lines,
    /// <summary>stderr is a terminal: one line rewritten in place, with the seconds spent on the current step.</summary>
    Live,
}

/// <summary>
/// Shows the steps a command reports (<see cref="IProgress{T}"/>, called in order on the working thread) on stderr,
/// as <see cref="ProgressMode"/> says. <see cref="Error"/> is the stderr the command writes its own messages to:
/// in live mode it erases the status line first, so a diagnostic never lands in the middle of it.
/// </summary>
public sealed class StepProgress : IProgress<string>, IDisposable
{
    /// <summary>The prefix of every progress line, before the model's file name.</summary>
    public const string Prefix = "tinyml: ";

    private readonly string _model;
    private readonly ProgressMode _mode;
    private readonly TextWriter _stderr;
    private readonly object _lock = new();
    private readonly Stopwatch _sinceStep = new();
    private readonly Timer? _ticker;
    private string? _step;
    private bool _shown;

    /// <summary>Shows the steps of work on <paramref name="modelFileName"/> on <paramref name="stderr"/>.</summary>
    public StepProgress(string modelFileName, ProgressMode mode, TextWriter stderr)
    {
        _model = modelFileName;
        _mode = mode;
        _stderr = stderr;
        Error = mode == ProgressMode.Live ? new ErasingWriter(this) : stderr;
        // Redraws the elapsed seconds, so that a single long step (a large model's C) still shows it is alive.
        if (mode == ProgressMode.Live) _ticker = new Timer(_ => Draw(), null, 1000, 1000);
    }

    /// <summary>The mode for the options: --progress wins; otherwise live when stderr is a terminal.</summary>
    public static ProgressMode Choose(bool progressOption, bool stderrIsTerminal) =>
        progressOption ? ProgressMode.Lines : stderrIsTerminal ? ProgressMode.Live : ProgressMode.None;

    /// <summary>The line --progress writes for a step.</summary>
    public static string Line(string modelFileName, string step) => $"{Prefix}{modelFileName}: {step}";

    /// <summary>Where the command writes its own stderr messages while progress is shown.</summary>
    public TextWriter Error { get; }

    /// <inheritdoc />
    public void Report(string step)
    {
        switch (_mode)
        {
            case ProgressMode.Lines:
                lock (_lock)
                {
                    _stderr.WriteLine(Line(_model, step));
                    _stderr.Flush(); // the build log shows it now, not when the process ends
                }
                break;
            case ProgressMode.Live:
                lock (_lock)
                {
                    _step = step;
                    _sinceStep.Restart();
                }
                Draw();
                break;
        }
    }

    /// <summary>Erases the live line; nothing else to undo in the other modes.</summary>
    public void Dispose()
    {
        _ticker?.Dispose();
        lock (_lock)
        {
            Erase();
            _step = null;
        }
    }

    private void Draw()
    {
        lock (_lock)
        {
            if (_step is null) return;
            long seconds = (long)_sinceStep.Elapsed.TotalSeconds;
            string text = Line(_model, _step), elapsed = seconds >= 1 ? $" ({seconds} s)" : "";
            // One row, or the \r would rewrite only the last of several; the seconds stay visible.
            int room = TerminalWidth() - 1 - elapsed.Length;
            if (text.Length > room) text = text.Substring(0, Math.Max(0, room - 1)) + "…";
            _stderr.Write("\r\u001b[K" + text + elapsed);
            _stderr.Flush();
            _shown = true;
        }
    }

    private void Erase()
    {
        if (!_shown) return;
        _stderr.Write("\r\u001b[K");
        _stderr.Flush();
        _shown = false;
    }

    private static int TerminalWidth()
    {
        try { return Console.WindowWidth > 10 ? Console.WindowWidth : 80; }
        catch (IOException) { return 80; }
        catch (PlatformNotSupportedException) { return 80; }
    }

    /// <summary>stderr for the command in live mode: erases the status line before the command's own text.</summary>
    private sealed class ErasingWriter : TextWriter
    {
        private readonly StepProgress _owner;

        public ErasingWriter(StepProgress owner) => _owner = owner;

        public override Encoding Encoding => _owner._stderr.Encoding;

        public override void Write(char value)
        {
            lock (_owner._lock)
            {
                _owner.Erase();
                _owner._stderr.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_owner._lock)
            {
                _owner.Erase();
                _owner._stderr.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_owner._lock)
            {
                _owner.Erase();
                _owner._stderr.WriteLine(value);
            }
        }

        public override void Flush() => _owner._stderr.Flush();
    }
}
