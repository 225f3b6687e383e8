// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using TinyML.Sdk.Tasks;
using TinyML.Tests;
using Xunit;

namespace TinyML.Sdk.Tests;

/// <summary>
/// On Windows the TinyMLCli task hands the dotnet host one command-line string, which the child splits with the C
/// runtime's rules (backslashes before a quote, quoted spaces). Whether <see cref="TinyMLCli.Quote"/> survives that
/// is checked against a Windows C runtime rather than against our reading of the rules: under Wine, a small launcher
/// passes the string unchanged to CreateProcessW, and the child (MinGW, msvcrt's parser) writes back the arguments it
/// received.
/// </summary>
public sealed class WindowsCommandLineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-windows-cmdline-{Guid.NewGuid():N}");

    public WindowsCommandLineTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Reads a UTF-8 command line from the file argv[1] and runs it as it is.
    private const string Launcher = """
        #include <windows.h>
        #include <stdio.h>
        int main(int argc, char **argv) {
            static char utf8[65536]; static wchar_t line[65536];
            FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
            if (!f) return 90;
            size_t n = fread(utf8, 1, sizeof utf8 - 1, f); fclose(f); utf8[n] = 0;
            if (!MultiByteToWideChar(CP_UTF8, 0, utf8, -1, line, 65536)) return 91;
            STARTUPINFOW si = { sizeof si }; PROCESS_INFORMATION pi; DWORD code = 92;
            if (!CreateProcessW(NULL, line, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 93;
            WaitForSingleObject(pi.hProcess, INFINITE); GetExitCodeProcess(pi.hProcess, &code);
            return (int)code;
        }
        """;

    // Writes each argument after argv[0] as UTF-8, one per line, to the file named by TML_ARGS_OUT.
    private const string Echo = """
        #include <windows.h>
        #include <stdio.h>
        int wmain(int argc, wchar_t **argv) {
            static char utf8[65536]; char out[1024];
            if (!GetEnvironmentVariableA("TML_ARGS_OUT", out, sizeof out)) return 80;
            FILE *f = fopen(out, "wb");
            if (!f) return 81;
            for (int i = 1; i < argc; i++) {
                int n = WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, utf8, sizeof utf8, NULL, NULL);
                fwrite(utf8, 1, n > 0 ? (size_t)n - 1 : 0, f); fputc('\n', f);
            }
            fclose(f);
            return 0;
        }
        """;

    private string Compile(string name, string source, params string[] flags)
    {
        string c = Path.Combine(_dir, name + ".c"), exe = Path.Combine(_dir, name + ".exe");
        File.WriteAllText(c, source);
        var (code, output) = Run("x86_64-w64-mingw32-gcc", new[] { "-O1", c, "-o", exe }.Concat(flags), null);
        Assert.True(code == 0, output);
        return exe;
    }

    private static (int Code, string Output) Run(string file, IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    // Wine sees this file system as drive Z:.
    private static string WindowsPath(string path) => "Z:" + path.Replace('/', '\\');

    public static TheoryData<string[]> Arguments() => new()
    {
        new[] { @"C:\Program Files (x86)\Arm GNU Toolchain arm-none-eabi\13.3 rel1\bin\arm-none-eabi-gcc.exe", "--version" },
        new[] { @"C:\Users\Jane Doe\source\repos\My App\obj\Debug\net10.0\tinyml\", @"C:\obj\", @"C:\a b\\" },
        new[] { @"\\server\share\models\kws model.tflite", "--ram-budget=64KB", "" },
        new[] { "say \"hi\"", "a\\\"b", "a\\\\\"b", "\"", "\\", "tab\there", "O'Brien\\models" },
        new[] { @"C:\Users\Zoë Ångström\projets\modèle 音声\kws.tflite" },
        new[] { @"C:\" + string.Join(@"\", Enumerable.Range(0, 30).Select(i => $"folder {i:D2}")) + @"\kws.tflite" }, // 360 characters
    };

    [Theory]
    [MemberData(nameof(Arguments))]
    public void QuotedArguments_ReachAWindowsProcessUnchanged(string[] arguments)
    {
        string launcher = Compile("launch", Launcher);
        string echo = Compile("echo", Echo, "-municode");
        string line = TinyMLCli.Quote(WindowsPath(echo)) + " " + string.Join(" ", arguments.Select(TinyMLCli.Quote));
        string lineFile = Path.Combine(_dir, "line.txt"), received = Path.Combine(_dir, "received.txt");
        File.WriteAllText(lineFile, line, new UTF8Encoding(false));
        var environment = new Dictionary<string, string>
        {
            ["WINEDEBUG"] = "-all",
            ["WINEPREFIX"] = Path.Combine(SharedData.Repo, "build", "native-win-x64", "wine"),
            ["TML_ARGS_OUT"] = WindowsPath(received),
        };
        var (code, output) = Run("/usr/lib/wine/wine64", new[] { launcher, WindowsPath(lineFile) }, environment);
        Assert.True(code == 0, $"exit {code}: {output}");
        var lines = File.ReadAllText(received, Encoding.UTF8).Split('\n');
        Assert.Equal(arguments, lines.Take(lines.Length - 1));
    }
}
