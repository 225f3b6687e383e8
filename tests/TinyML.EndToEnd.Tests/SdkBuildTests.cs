// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>Real dotnet builds of projects that use the packed SDK, in both forms.</summary>
[Collection(nameof(PackedSdk))]
public sealed class SdkBuildTests
{
    private readonly PackedSdk _sdk;

    public SdkBuildTests(PackedSdk sdk) => _sdk = sdk;

    private const string Program = """
        using System;
        using System.IO;
        using System.Runtime.InteropServices;

        using var model = new App.Kws();
        MemoryMarshal.Cast<byte, sbyte>(File.ReadAllBytes(args[0])).CopyTo(model.Input);
        model.Run();
        File.WriteAllBytes(args[1], MemoryMarshal.AsBytes(model.Output).ToArray());
        Console.WriteLine($"arena {App.Kws.ArenaBytes} macs {App.Kws.Macs}");
        """;

    private string Project(string name, bool sdkForm, string modelMetadata = "", string properties = "", string? model = "kws")
    {
        string dir = _sdk.NewProject(name);
        if (model is not null) File.Copy(SharedData.Model(model), Path.Combine(dir, "kws.tflite"));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), Program);
        string header = sdkForm ? $"<Project Sdk=\"TinyML.Sdk/{PackedSdk.Version}\">" : "<Project Sdk=\"Microsoft.NET.Sdk\">";
        string reference = sdkForm ? "" : $"    <PackageReference Include=\"TinyML.Sdk\" Version=\"{PackedSdk.Version}\" />\n";
        File.WriteAllText(Path.Combine(dir, "App.csproj"), $"""
            {header}
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <RootNamespace>App</RootNamespace>
                <Nullable>enable</Nullable>
            {properties}  </PropertyGroup>
              <ItemGroup>
                <TinyModel Include="kws.tflite" {modelMetadata}/>
            {reference}  </ItemGroup>
            </Project>
            """);
        return dir;
    }

    private (int ExitCode, string Output) Build(string dir, params string[] extra) =>
        _sdk.Dotnet(dir, new[] { "build", "App.csproj", "--nologo", "-v:n" }.Concat(extra).ToArray());

    private void AssertRunsLikeTheGolden(string dir)
    {
        string input = Path.Combine(SharedData.Root, "golden", "kws", "input_1.bin");
        string output = Path.Combine(dir, "out.bin");
        var run = _sdk.Dotnet(dir, Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll"), input, output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("arena 16000 macs 2656768", run.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(SharedData.Root, "golden", "kws", "output_1.bin")), File.ReadAllBytes(output));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Success_BuildsAndRunsByteIdenticalToTinymlRun(bool sdkForm)
    {
        string dir = Project(sdkForm ? "success-sdk" : "success-package", sdkForm, "RamBudget=\"64KB\" ");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.DoesNotContain("warning TML", build.Output);
        AssertRunsLikeTheGolden(dir);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OverBudget_FailsWithTML3001AtTheProjectFile(bool sdkForm)
    {
        string dir = Project(sdkForm ? "budget-sdk" : "budget-package", sdkForm, "RamBudget=\"8KB\" ");
        var build = Build(dir);
        Assert.NotEqual(0, build.ExitCode);
        string project = Path.Combine(dir, "App.csproj");
        // The lowest peak of all attempts: patch-based inference takes kws from 16,000 B to 13,936 B (2.6x the MACs);
        // the peak is then the depthwise step inside the patches.
        Assert.Matches(new Regex(Regex.Escape(project) + @"\(\d+(,\d+)?\): error TML3001: kws\.tflite needs 13,936 bytes \(13\.6 KB\) of RAM"), build.Output);
        Assert.Contains("operator 1 (DEPTHWISE_CONV_2D)", build.Output);
    }

    [Fact]
    public void NearlyFull_WarnsWithTML3003()
    {
        string dir = Project("warning", sdkForm: true, "RamBudget=\"16500\" ");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("warning TML3003", build.Output);
    }

    [Fact]
    public void CorruptModel_FailsWithItsCodeAtTheModelFile_WithoutAStackTrace()
    {
        string dir = Project("corrupt", sdkForm: true, model: null);
        File.WriteAllBytes(Path.Combine(dir, "kws.tflite"), File.ReadAllBytes(SharedData.Model("kws")).Take(5000).ToArray());
        var build = Build(dir);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(new Regex(Regex.Escape(Path.Combine(dir, "kws.tflite")) + @" ?: error TML1002: truncated or corrupt model"), build.Output);
        Assert.DoesNotContain("   at TinyML", build.Output);
    }

    [Fact]
    public void DesignTimeBuild_CompilesTheModel_AndHandsTheManifestToTheGenerator()
    {
        // What an IDE runs for IntelliSense: CoreCompile without running the compiler, asking for its arguments.
        string dir = Project("design-time", sdkForm: true);
        var restore = _sdk.Dotnet(dir, "restore", "App.csproj");
        Assert.True(restore.ExitCode == 0, restore.Output);
        var build = _sdk.Dotnet(dir, "msbuild", "App.csproj", "-t:CoreCompile", "-p:DesignTimeBuild=true",
            "-p:SkipCompilerExecution=true", "-p:ProvideCommandLineArgs=true", "-getItem:CscCommandLineArgs");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Matches(new Regex(@"/additionalfile:[^ ""]*obj/Debug/net10\.0/tinyml/kws\.tmlmodel\.json"), build.Output);
        Assert.Matches(new Regex("/analyzer:[^\"]*TinyML\\.Generators\\.dll"), build.Output);
        Assert.True(File.Exists(Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml", "kws.tmlmodel.json")));
    }

    [Fact]
    public void SecondBuild_SkipsTheModelWork_AndAModelChangeRecompiles()
    {
        string dir = Project("incremental", sdkForm: true);
        var first = Build(dir);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("TinyML: kws.tflite -> App.Kws: RAM", first.Output);
        string plan = Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml", "kws.tmlmodel");
        var stamp = File.GetLastWriteTimeUtc(plan);

        var second = Build(dir);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.DoesNotContain("TinyML: kws.tflite -> App.Kws: RAM", second.Output);
        Assert.Contains("Skipping target \"_TinyMLCompileModelsCore\"", second.Output);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(plan));

        // A different model under the same name, written as an editor or a training script would (a new timestamp).
        File.WriteAllBytes(Path.Combine(dir, "kws.tflite"), File.ReadAllBytes(SharedData.Model("ic_resnet")));
        var third = Build(dir);
        Assert.True(third.ExitCode == 0, third.Output);
        // ic_resnet's arena on the host: its activations' lifetime bound (49,152 B) and the im2col rows of the 3x3x16
        // convolution at the peak (2 x 144 B).
        Assert.Contains("TinyML: kws.tflite -> App.Kws: RAM 49,440 B", third.Output);
    }
}
