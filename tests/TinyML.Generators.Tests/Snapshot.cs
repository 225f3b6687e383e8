// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using Xunit;

namespace TinyML.Generators.Tests;

/// <summary>
/// Snapshot comparison for generated source: the expected text lives in {name}.verified.cs.txt beside the tests and
/// is compared exactly (line ends normalized to "\n"). When it differs or is missing, the actual text is written to
/// {name}.received.cs.txt and the test fails with the first differing line. TINYML_ACCEPT_SNAPSHOTS=1 writes the
/// actual text as the new verified file instead (review the diff before committing it).
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "TINYML_ACCEPT_SNAPSHOTS";

    /// <summary>This test project's source folder (found from the output folder, so it works with path maps too).</summary>
    public static string Directory { get; } = FindDirectory();

    public static void Match(string actual, string name)
    {
        actual = Normalize(actual);
        string verifiedPath = Path.Combine(Directory, name + ".verified.cs.txt");
        string receivedPath = Path.Combine(Directory, name + ".received.cs.txt");
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(verifiedPath, actual);
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }
        if (!File.Exists(verifiedPath))
        {
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"No snapshot {verifiedPath}; the output is in {receivedPath}. Run with {AcceptVariable}=1 to accept it.");
        }
        string expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == actual)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"{name} differs from its snapshot; the output is in {receivedPath}. {FirstDifference(expected, actual)}\n" +
                    $"Run with {AcceptVariable}=1 to accept it.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string left = i < e.Length ? e[i] : "<end of file>";
            string right = i < a.Length ? a[i] : "<end of file>";
            if (left != right) return $"First difference at line {i + 1}:\n  expected: {left}\n  actual:   {right}";
        }
        return "";
    }

    private static string FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "TinyML.Generators.Tests");
            if (File.Exists(Path.Combine(candidate, "TinyML.Generators.Tests.csproj"))) return candidate;
        }
        throw new InvalidOperationException("tests/TinyML.Generators.Tests not found above " + AppContext.BaseDirectory);
    }
}
