// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// What can be checked of a macOS kernel library without a Mac (llvm-objdump and llvm-nm read Mach-O): the
/// architecture and file type, the install name the loader records, that it links libSystem alone, the minimum macOS
/// it declares, and on Apple silicon the code signature without which macOS refuses to map the code.
/// </summary>
internal static class MachO
{
    /// <summary>Asserts the load commands of a packaged dylib and returns its exported function names (no leading '_').</summary>
    public static IEnumerable<string> CheckDylib(string path, bool arm64)
    {
        var headers = CEmitterHostTests.Run("llvm-objdump", "--macho", "--private-headers", path);
        Assert.True(headers.Code == 0, headers.Output);
        var lines = headers.Output.Split('\n').Select(l => l.Trim()).ToList();
        string machHeader = lines[lines.FindIndex(l => l.StartsWith("magic cputype", StringComparison.Ordinal)) + 1];
        Assert.Matches($@"^MH_MAGIC_64\s+{(arm64 ? "ARM64" : "X86_64")}\s+\S+\s+\S+\s+DYLIB\b", machHeader);

        // Each load command: its "cmd" line and the lines up to the next "Load command".
        var commands = new List<(string Cmd, List<string> Body)>();
        foreach (string line in lines)
        {
            if (line.StartsWith("cmd ", StringComparison.Ordinal)) commands.Add((line.Substring(4).Trim(), new List<string>()));
            else if (commands.Count > 0 && !line.StartsWith("Load command", StringComparison.Ordinal)) commands[^1].Body.Add(line);
        }
        string Field(List<string> body, string key) => body.Single(l => l.StartsWith(key + " ", StringComparison.Ordinal)).Substring(key.Length).Trim();

        var id = commands.Single(c => c.Cmd == "LC_ID_DYLIB");
        Assert.StartsWith("@rpath/libtinyml_kernels.dylib ", Field(id.Body, "name"));
        var linked = commands.Where(c => c.Cmd is "LC_LOAD_DYLIB" or "LC_LOAD_WEAK_DYLIB" or "LC_REEXPORT_DYLIB").Select(c => Field(c.Body, "name").Split(' ')[0]);
        Assert.Equal(new[] { "/usr/lib/libSystem.B.dylib" }, linked);
        var build = commands.Single(c => c.Cmd == "LC_BUILD_VERSION");
        Assert.Equal("macos", Field(build.Body, "platform"));
        Assert.Equal(arm64 ? "11.0" : "10.15", Field(build.Body, "minos"));
        if (arm64) Assert.Contains(commands, c => c.Cmd == "LC_CODE_SIGNATURE");

        var symbols = CEmitterHostTests.Run("llvm-nm", "--extern-only", "--defined-only", path);
        Assert.True(symbols.Code == 0, symbols.Output);
        // "address T _name": exported functions are in the text section.
        return symbols.Output.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 3 && f[1] == "T").Select(f => f[2].StartsWith('_') ? f[2][1..] : f[2]).ToList();
    }
}
