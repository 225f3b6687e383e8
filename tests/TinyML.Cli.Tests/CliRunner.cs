// SPDX-License-Identifier: Apache-2.0
using System.IO;

namespace TinyML.Cli.Tests;

/// <summary>Runs the tinyml command line in process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cli.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
