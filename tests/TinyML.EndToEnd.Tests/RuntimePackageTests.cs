// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Xml.Linq;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>
/// An app that runs a model carries the runtime and the plan, not the compiler: neither the packed TinyML.Runtime
/// nor anything it depends on needs TinyML.Compiler, Google.FlatBuffers or Google.Protobuf, and a published app
/// has none of their assemblies yet runs its model byte-identically.
/// </summary>
[Collection(nameof(PackedSdk))]
public sealed class RuntimePackageTests
{
    private static readonly string[] CompilerOnly = { "TinyML.Compiler", "Google.FlatBuffers", "Google.Protobuf" };

    private readonly PackedSdk _sdk;

    public RuntimePackageTests(PackedSdk sdk) => _sdk = sdk;

    /// <summary>The dependency ids the .nuspec inside a packed package lists, over every target framework.</summary>
    private IReadOnlyList<string> Dependencies(string id)
    {
        using var package = ZipFile.OpenRead(Path.Combine(_sdk.Feed, $"{id}.{PackedSdk.Version}.nupkg"));
        var entry = package.Entries.Single(e => e.FullName == $"{id}.nuspec");
        using var stream = entry.Open();
        return XDocument.Load(stream).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (string)e.Attribute("id")!).Distinct().ToList();
    }

    [Fact]
    public void PackedRuntime_AndEverythingItDependsOn_NeedNoCompilerFlatBuffersOrProtobuf()
    {
        // Follows the dependencies that are our own packages (in the feed) down to the leaves.
        var closure = new SortedSet<string>();
        var pending = new Stack<string>(new[] { "TinyML.Runtime" });
        while (pending.Count > 0)
        {
            string id = pending.Pop();
            if (!closure.Add(id)) continue;
            foreach (string dependency in Dependencies(id))
            {
                Assert.DoesNotContain(dependency, CompilerOnly);
                if (File.Exists(Path.Combine(_sdk.Feed, $"{dependency}.{PackedSdk.Version}.nupkg"))) pending.Push(dependency);
            }
        }
        Assert.Equal(new[] { "TinyML.Plan", "TinyML.Runtime" }, closure);
        Assert.Empty(Dependencies("TinyML.Plan"));
    }

    /// <summary>A project whose app runs kws on the input file argv[0] and writes its output to argv[1].</summary>
    private string KwsApp(string name)
    {
        string dir = _sdk.NewProject(name);
        File.Copy(SharedData.Model("kws"), Path.Combine(dir, "kws.tflite"));
        PackedSdk.WriteProject(dir, "    <TinyModel Include=\"kws.tflite\" />\n");
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using var kws = new App.Kws();
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(System.IO.File.ReadAllBytes(args[0])).CopyTo(kws.Input);
            kws.Run();
            System.IO.File.WriteAllBytes(args[1], System.Runtime.InteropServices.MemoryMarshal.AsBytes(kws.Output).ToArray());
            """);
        return dir;
    }

    [Fact]
    public void PublishedApp_HasNoCompilerAssemblies_AndRunsKwsAsTheGoldenOutput()
    {
        string dir = KwsApp("published-runtime");
        string publish = Path.Combine(dir, "publish");
        var published = _sdk.Dotnet(dir, "publish", "App.csproj", "-c", "Release", "-o", publish, "--nologo");
        Assert.True(published.ExitCode == 0, published.Output);

        var files = Directory.GetFiles(publish, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("TinyML.Runtime.dll", files);
        Assert.Contains("TinyML.Plan.dll", files);
        foreach (string assembly in CompilerOnly) Assert.DoesNotContain(assembly + ".dll", files);
        string deps = File.ReadAllText(Path.Combine(publish, "App.deps.json"));
        foreach (string assembly in CompilerOnly) Assert.DoesNotContain(assembly, deps);

        string golden = Path.Combine(SharedData.Root, "golden", "kws");
        string output = Path.Combine(dir, "output_1.bin");
        var run = _sdk.Dotnet(dir, Path.Combine(publish, "App.dll"), Path.Combine(golden, "input_1.bin"), output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(golden, "output_1.bin")), File.ReadAllBytes(output));
    }

    /// <summary>
    /// The managed path on another platform: the same app published self-contained for linux-arm64 (the .NET runtime
    /// pack from NuGet; the package's runtimes/linux-arm64 kernel library) runs under qemu-aarch64 with Debian's arm64
    /// sysroot: generated class, executor, P/Invoke into the arm64 kernels, TFLM's bytes.
    /// </summary>
    [Fact]
    public void PublishedApp_RunsKwsOnLinuxArm64_UnderQemu()
    {
        string dir = KwsApp("published-linux-arm64");
        string publish = Path.Combine(dir, "publish-arm64");
        var published = _sdk.Dotnet(dir, "publish", "App.csproj", "-c", "Release", "-r", "linux-arm64", "--self-contained",
            "-p:InvariantGlobalization=true", "-o", publish, "--nologo");
        Assert.True(published.ExitCode == 0, published.Output);
        Assert.True(File.Exists(Path.Combine(publish, "libtinyml_kernels.so")), "the arm64 kernel library is not in the published app");

        string golden = Path.Combine(SharedData.Root, "golden", "kws");
        foreach (string vector in new[] { "1", "2" })
        {
            string output = Path.Combine(dir, $"output_{vector}.bin");
            var run = _sdk.Run("qemu-aarch64", dir, null, "-L", "/usr/aarch64-linux-gnu", Path.Combine(publish, "App"), Path.Combine(golden, $"input_{vector}.bin"), output);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal(File.ReadAllBytes(Path.Combine(golden, $"output_{vector}.bin")), File.ReadAllBytes(output));
        }
    }
}
