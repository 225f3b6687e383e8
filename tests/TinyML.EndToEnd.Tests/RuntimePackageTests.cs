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
    /// The managed path on other platforms: the same app published self-contained for the RID (the .NET runtime pack
    /// from NuGet; the package's runtimes/&lt;rid&gt; kernel library) runs under qemu-aarch64 with Debian's arm64
    /// sysroot, or under Wine: generated class, executor, P/Invoke into that platform's kernels, TFLM's bytes.
    /// (linux-arm is not run: this machine's NuGet registry does not serve the .NET linux-arm runtime pack.)
    /// </summary>
    [Theory]
    [InlineData("linux-arm64")]
    [InlineData("win-x64")]
    public void PublishedApp_RunsKwsOnAnotherPlatform_UnderEmulation(string rid)
    {
        bool windows = rid.StartsWith("win", System.StringComparison.Ordinal);
        string dir = KwsApp("published-" + rid);
        string publish = Path.Combine(dir, "publish-" + rid);
        var published = _sdk.Dotnet(dir, "publish", "App.csproj", "-c", "Release", "-r", rid, "--self-contained",
            "-p:InvariantGlobalization=true", "-o", publish, "--nologo");
        Assert.True(published.ExitCode == 0, published.Output);
        string library = windows ? "tinyml_kernels.dll" : "libtinyml_kernels.so";
        Assert.True(File.Exists(Path.Combine(publish, library)), $"the {rid} kernel library is not in the published app");

        // Wine sees this file system as drive Z:.
        string Native(string path) => windows ? "Z:" + path.Replace('/', '\\') : path;
        var environment = new Dictionary<string, string>
        {
            ["WINEDEBUG"] = "-all",
            ["WINEPREFIX"] = Path.Combine(SharedData.Repo, "build", "native-win-x64", "wine"),
        };
        string golden = Path.Combine(SharedData.Root, "golden", "kws");
        foreach (string vector in new[] { "1", "2" })
        {
            string output = Path.Combine(dir, $"output_{vector}.bin");
            string[] app = { Native(Path.Combine(publish, windows ? "App.exe" : "App")), Native(Path.Combine(golden, $"input_{vector}.bin")), Native(output) };
            var run = windows ? _sdk.Run("/usr/lib/wine/wine64", dir, environment, app)
                : _sdk.Run("qemu-aarch64", dir, null, new[] { "-L", "/usr/aarch64-linux-gnu" }.Concat(app).ToArray());
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal(File.ReadAllBytes(Path.Combine(golden, $"output_{vector}.bin")), File.ReadAllBytes(output));
        }
    }
}
