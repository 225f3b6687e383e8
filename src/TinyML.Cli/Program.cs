// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Cli;

internal static class Program
{
    private static int Main(string[] args) => Cli.Run(args, Console.Out, Console.Error,
        stderrIsTerminal: !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb");
}
