// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TinyML.Tests;

/// <summary>Locates the repository and ../shared (real models, golden outputs, op cases) beside the checkout.</summary>
public static class SharedData
{
    private static readonly Lazy<string> RepoPath = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TinyML.Sdk.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("TinyML.Sdk.sln not found above " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<string> SharedPath = new(() =>
    {
        string shared = Environment.GetEnvironmentVariable("TINYML_SHARED") ?? Path.GetFullPath(Path.Combine(RepoPath.Value, "..", "shared"));
        if (!Directory.Exists(Path.Combine(shared, "models")))
            throw new InvalidOperationException($"shared test data not found at {shared} (set TINYML_SHARED)");
        return shared;
    });

    /// <summary>The repository root (the folder holding TinyML.Sdk.sln).</summary>
    public static string Repo => RepoPath.Value;

    /// <summary>The shared data folder; TINYML_SHARED overrides the default ../shared.</summary>
    public static string Root => SharedPath.Value;

    /// <summary>The path of a real model by name (without .tflite).</summary>
    public static string Model(string name) => Path.Combine(Root, "models", name + ".tflite");

    /// <summary>The names of every model in ../shared/models.</summary>
    public static IReadOnlyList<string> ModelNames() =>
        Directory.GetFiles(Path.Combine(Root, "models"), "*.tflite").Select(f => Path.GetFileNameWithoutExtension(f)!).OrderBy(n => n).ToList();

    /// <summary>Every op conformance case folder name (ops/*, not ops/refused/*).</summary>
    public static IReadOnlyList<string> OpCases() =>
        Directory.GetDirectories(Path.Combine(Root, "ops")).Where(d => File.Exists(Path.Combine(d, "model.tflite")))
            .Select(d => Path.GetFileName(d)!).OrderBy(n => n).ToList();

    /// <summary>Every refused op case folder name (ops/refused/*).</summary>
    public static IReadOnlyList<string> RefusedCases() =>
        Directory.GetDirectories(Path.Combine(Root, "ops", "refused")).Select(d => Path.GetFileName(d)!).OrderBy(n => n).ToList();
}
