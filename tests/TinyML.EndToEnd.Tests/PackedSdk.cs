// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>
/// Packs TinyML.Sdk, TinyML.Runtime and TinyML.Plan (the packages an app restores; the SDK carries the compiler in
/// its tasks folder) into the repository's local feed (feed/, as ./build.sh pack does) once, and builds projects
/// against it with the real dotnet CLI and a private NUGET_PACKAGES, so that no stale cached 0.1.0 package can stand
/// in for the one just packed. Samples build in place; throwaway projects in a
/// temporary folder.
/// </summary>
public sealed class PackedSdk : IDisposable
{
    public const string Version = "0.1.0";

    public PackedSdk()
    {
        Root = Path.Combine(Path.GetTempPath(), $"tml-e2e-{Guid.NewGuid():N}");
        Feed = Path.Combine(SharedData.Repo, "feed");
        Packages = Path.Combine(Root, "packages");
        Directory.CreateDirectory(Feed);
        foreach (string project in new[] { "src/TinyML.Plan", "src/TinyML.Runtime", "src/TinyML.Sdk" })
        {
            var result = Dotnet(SharedData.Repo, "pack", Path.Combine(SharedData.Repo, project), "-c", "Release", "-o", Feed, "--nologo");
            if (result.ExitCode != 0) throw new InvalidOperationException($"packing {project} failed:\n{result.Output}");
        }
    }

    public string Root { get; }
    public string Feed { get; }
    public string Packages { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A new project folder with a NuGet.config that adds the feed.</summary>
    public string NewProject(string name)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "NuGet.config"),
            $"<configuration><packageSources><add key=\"tinyml-test\" value=\"{Feed}\" /></packageSources></configuration>");
        return dir;
    }

    /// <summary>
    /// Writes App.csproj in the Sdk form: an Exe with RootNamespace App, the <paramref name="properties"/> and
    /// <paramref name="items"/> (whole lines, each ending in a newline). The first item is on line 8.
    /// </summary>
    public static void WriteProject(string dir, string items, string properties = "") =>
        File.WriteAllText(Path.Combine(dir, "App.csproj"), $"""
            <Project Sdk="TinyML.Sdk/{Version}">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <RootNamespace>App</RootNamespace>
            {properties}  </PropertyGroup>
              <ItemGroup>
            {items}  </ItemGroup>
            </Project>
            """);

    public (int ExitCode, string Output) Dotnet(string workingDirectory, params string[] args) => Dotnet(workingDirectory, null, args);

    /// <summary>Runs dotnet with <paramref name="environment"/> overriding variables (PATH, to hide a toolchain).</summary>
    public (int ExitCode, string Output) Dotnet(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Run("dotnet", workingDirectory, environment, args);

    /// <summary>Runs a program (dotnet, or an emulator running a published app) with this fixture's environment.</summary>
    public (int ExitCode, string Output) Run(string program, string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(program, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["NUGET_PACKAGES"] = Packages;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment.Remove("TINYML_NATIVE_LIBRARY");
        start.Environment.Remove("TML_ARM_TOOLCHAIN_DIR");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(600_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(" ", args)} did not finish in 10 minutes");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }
}

[CollectionDefinition(nameof(PackedSdk))]
public sealed class PackedSdkCollection : ICollectionFixture<PackedSdk>
{
}
