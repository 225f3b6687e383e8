// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>
/// The SDK's tasks (netstandard2.0) also load in Visual Studio's MSBuild, which runs on .NET Framework and carries its
/// own System.Memory, System.Buffers, System.Numerics.Vectors and System.Runtime.CompilerServices.Unsafe, with binding
/// redirects from every older version to them. The packed tasks folder ships those assemblies too (for other .NET
/// Framework hosts); they unify with MSBuild's only while no shipped assembly, and no reference our assemblies make,
/// is newer than MSBuild's. MSBuild's versions come from its own package (Microsoft.Build.Utilities.Core's net472
/// dependencies, and System.Memory's for the rest), for MSBuild 17.12 and 18.0.
/// </summary>
[Collection(nameof(PackedSdk))]
public sealed class VisualStudioMSBuildTests
{
    private static readonly string[] CarriedByMSBuild = { "System.Memory", "System.Buffers", "System.Numerics.Vectors", "System.Runtime.CompilerServices.Unsafe" };

    private readonly PackedSdk _sdk;

    public VisualStudioMSBuildTests(PackedSdk sdk) => _sdk = sdk;

    private static string Packages => typeof(VisualStudioMSBuildTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "NuGetPackageRoot").Value!;

    /// <summary>The dependencies (id → version) a package's nuspec lists for the first of the frameworks given.</summary>
    private static Dictionary<string, string> Dependencies(string id, string version, params string[] frameworks)
    {
        string nuspec = Path.Combine(Packages, id.ToLowerInvariant(), version, id.ToLowerInvariant() + ".nuspec");
        Assert.True(File.Exists(nuspec), $"{nuspec} is missing: add {id} {version} to the PackageDownload items");
        var groups = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "group").ToList();
        var group = frameworks.Select(f => groups.FirstOrDefault(g => (string?)g.Attribute("targetFramework") == f)).First(g => g is not null)!;
        return group.Elements().ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
    }

    /// <summary>The assembly version in a package's newest .NET Framework library folder.</summary>
    private static Version AssemblyVersion(string id, string version)
    {
        string lib = Path.Combine(Packages, id.ToLowerInvariant(), version, "lib");
        Assert.True(Directory.Exists(lib), $"{lib} is missing: add {id} {version} to the PackageDownload items");
        string folder = Directory.GetDirectories(lib).Where(d => Path.GetFileName(d).StartsWith("net4", StringComparison.Ordinal))
            .OrderByDescending(d => Path.GetFileName(d), StringComparer.Ordinal).First();
        using var pe = new PEReader(File.OpenRead(Path.Combine(folder, id + ".dll")));
        return pe.GetMetadataReader().GetAssemblyDefinition().Version;
    }

    /// <summary>The versions of the assemblies MSBuild <paramref name="msbuild"/> carries for .NET Framework.</summary>
    private static Dictionary<string, Version> CarriedVersions(string msbuild)
    {
        var direct = Dependencies("Microsoft.Build.Utilities.Core", msbuild, ".NETFramework4.7.2");
        var memory = Dependencies("System.Memory", direct["System.Memory"], ".NETFramework4.6.2", ".NETFramework4.6.1", ".NETStandard2.0");
        var packages = new Dictionary<string, string>
        {
            ["System.Memory"] = direct["System.Memory"],
            ["System.Runtime.CompilerServices.Unsafe"] = direct.TryGetValue("System.Runtime.CompilerServices.Unsafe", out string? unsafeVersion) ? unsafeVersion : memory["System.Runtime.CompilerServices.Unsafe"],
            ["System.Buffers"] = memory["System.Buffers"],
            ["System.Numerics.Vectors"] = memory["System.Numerics.Vectors"],
        };
        return packages.ToDictionary(p => p.Key, p => AssemblyVersion(p.Key, p.Value));
    }

    [Theory]
    [InlineData("17.12.50")]
    [InlineData("18.0.2")]
    public void TasksFolder_ShipsAndReferencesNothingNewerThanVisualStudiosMSBuild(string msbuild)
    {
        var carried = CarriedVersions(msbuild);
        using var package = ZipFile.OpenRead(Path.Combine(_sdk.Feed, $"TinyML.Sdk.{PackedSdk.Version}.nupkg"));
        var tasks = package.Entries.Where(e => e.FullName.StartsWith("tasks/", StringComparison.Ordinal) && e.FullName.EndsWith(".dll", StringComparison.Ordinal)).ToList();
        Assert.Contains(tasks, e => e.Name == "TinyML.Sdk.dll");
        var problems = new List<string>();
        foreach (var entry in tasks)
        {
            using var stream = new MemoryStream();
            using (var s = entry.Open()) s.CopyTo(stream);
            stream.Position = 0;
            using var pe = new PEReader(stream);
            var metadata = pe.GetMetadataReader();
            var definition = metadata.GetAssemblyDefinition();
            string name = metadata.GetString(definition.Name);
            if (name.StartsWith("System.", StringComparison.Ordinal) && !carried.ContainsKey(name))
                problems.Add($"{entry.Name} is not one MSBuild carries: check it against Visual Studio's MSBuild folder");
            if (carried.TryGetValue(name, out var own) && definition.Version > own)
                problems.Add($"{entry.Name} {definition.Version} is newer than MSBuild {msbuild}'s {own}");
            foreach (var handle in metadata.AssemblyReferences)
            {
                var reference = metadata.GetAssemblyReference(handle);
                string target = metadata.GetString(reference.Name);
                if (carried.TryGetValue(target, out var theirs) && reference.Version > theirs)
                    problems.Add($"{entry.Name} references {target} {reference.Version}, newer than MSBuild {msbuild}'s {theirs}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The check sees real versions: MSBuild carries all four, and the tasks folder ships them.
        Assert.Equal(CarriedByMSBuild.OrderBy(n => n), carried.Keys.OrderBy(n => n));
        Assert.All(CarriedByMSBuild, n => Assert.Contains(tasks, e => e.Name == n + ".dll"));
    }
}
