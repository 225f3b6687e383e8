// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>
/// Projects as users write them, built with the real dotnet CLI against the packed packages: settings from outside
/// the project, every documented metadata at once, two models with one file name, budget-driven planning, the IDE's
/// design-time build over budget, a misspelt metadata, and a runtime identifier without native kernels.
/// </summary>
[Collection(nameof(PackedSdk))]
public sealed class UserProjectTests
{
    private const long KwsMacs = 2_656_768; // ../shared/golden/kws/info.json, the layer-by-layer count

    private readonly PackedSdk _sdk;

    public UserProjectTests(PackedSdk sdk) => _sdk = sdk;

    /// <summary>A project with the given items (each line an element of the ItemGroup) and a program.</summary>
    private string Project(string name, string items, string program, string properties = "")
    {
        string dir = _sdk.NewProject(name);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        PackedSdk.WriteProject(dir, items, properties);
        return dir;
    }

    private static string CopyModel(string dir, string model, string relativePath)
    {
        string path = Path.Combine(dir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(SharedData.Model(model), path);
        return path;
    }

    private static int LineOf(string file, string text) => Array.FindIndex(File.ReadAllLines(file), l => l.Contains(text, StringComparison.Ordinal)) + 1;

    private (int ExitCode, string Output) Build(string dir, params string[] extra) =>
        _sdk.Dotnet(dir, new[] { "build", "App.csproj", "--nologo" }.Concat(extra).ToArray());

    private (int ExitCode, string Output) RunApp(string dir, params string[] args) =>
        _sdk.Dotnet(dir, new[] { Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll") }.Concat(args).ToArray());

    private static string Golden(string model, string file) => Path.Combine(SharedData.Root, "golden", model, file);

    /// <summary>Runs an int8 model class on a golden input file and writes its output (statements for Program.cs).</summary>
    private static string RunGolden(string variable, string className, int inputArg, int outputArg) => $$"""
        using (var {{variable}} = new {{className}}())
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(System.IO.File.ReadAllBytes(args[{{inputArg}}])).CopyTo({{variable}}.Input);
            {{variable}}.Run();
            System.IO.File.WriteAllBytes(args[{{outputArg}}], System.Runtime.InteropServices.MemoryMarshal.AsBytes({{variable}}.Output).ToArray());
        }

        """;

    [Fact]
    public void ABudgetFromTheCommandLineOrDirectoryBuildProps_IsCheckedOnTheNextBuild()
    {
        string dir = Project("budget-outside", "    <TinyModel Include=\"kws.tflite\" />\n", "System.Console.WriteLine(App.Kws.ArenaBytes);\n");
        CopyModel(dir, "kws", "kws.tflite");
        var first = Build(dir);
        Assert.True(first.ExitCode == 0, first.Output);

        var commandLine = Build(dir, "-p:TinyMLRamBudget=8KB");
        Assert.NotEqual(0, commandLine.ExitCode);
        Assert.Matches(new Regex(Regex.Escape(Path.Combine(dir, "App.csproj")) + @" ?: error TML3001: kws\.tflite needs [\d,]+ bytes .* of RAM, but the RAM budget \(TinyMLRamBudget = 8KB, set on the command line\)"), commandLine.Output);

        string props = Path.Combine(dir, "Directory.Build.props");
        File.WriteAllText(props, "<Project>\n  <PropertyGroup>\n    <TinyMLRamBudget>8KB</TinyMLRamBudget>\n  </PropertyGroup>\n</Project>\n");
        var fromProps = Build(dir);
        Assert.NotEqual(0, fromProps.ExitCode);
        Assert.Matches(new Regex(Regex.Escape(props) + @"\(3\): error TML3001: kws\.tflite needs .* \(TinyMLRamBudget = 8KB, set in Directory\.Build\.props\)"), fromProps.Output);

        // Back to no budget: builds again (the settings changed once more), and a build after it is incremental.
        File.Delete(props);
        var withoutBudget = Build(dir);
        Assert.True(withoutBudget.ExitCode == 0, withoutBudget.Output);
        // One summary line per model at the default verbosity.
        Assert.Contains($"TinyML: kws.tflite -> App.Kws: RAM 16,000 B (arena 16,000 + state 0), flash ", withoutBudget.Output);
        Assert.Contains($"{KwsMacs:N0} MACs", withoutBudget.Output);
        var again = Build(dir, "-v:n");
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Skipping target \"_TinyMLCompileModelsCore\"", again.Output);
    }

    [Fact]
    public void EveryDocumentedMetadata_TogetherInOneProject_BuildsRunsAndCleans()
    {
        string items = """
                <TinyModel Include="kws.tflite" ClassName="Spotter" Namespace="My.Models" Access="internal" RamBudget="64KB" FlashBudget="1MB"
                           TargetCore="cortex-m4" Labels="labels.txt" MemoryReport="true" />
                <TinyModel Include="ad.tflite" Access="internal" Quantize="int8" Calibration="calib/*.bin" Validation="valid/*.bin"
                           QuantizationMethod="percentile" SqnrWarning="5" />

            """;
        string program = RunGolden("spotter", "My.Models.Spotter", 0, 1) + """
            System.Console.WriteLine($"public {typeof(My.Models.Spotter).IsPublic} {typeof(App.Ad).IsPublic} labels {System.Enum.GetNames<My.Models.Spotter.Label>().Length}");
            using var ad = new App.Ad();
            ad.Run();
            System.Console.WriteLine($"ad {ad.Output.Length}");
            """;
        string dir = Project("every-metadata", items, program);
        CopyModel(dir, "kws", "kws.tflite");
        CopyModel(dir, "ad_float", "ad.tflite");
        File.WriteAllLines(Path.Combine(dir, "labels.txt"), Enumerable.Range(0, 12).Select(i => $"word{i}"));
        QuantizeBuildTests.WriteCalibration(Path.Combine(dir, "calib"), 8);
        QuantizeBuildTests.WriteCalibration(Path.Combine(dir, "valid"), 4);

        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.DoesNotContain("TML0009", build.Output);
        // The long steps say what they do at the default verbosity, before they run.
        Assert.Contains("TinyML: ad.tflite: quantizing to int8", build.Output);
        // The cross compile's steps arrive from the tinyml command (--progress) between its first line and the summary.
        int crossCompile = build.Output.IndexOf("TinyML: kws.tflite: cross-compiling for cortex-m4", StringComparison.Ordinal);
        int linking = build.Output.IndexOf("TinyML: kws.tflite: linking kws.elf", StringComparison.Ordinal);
        int summary = build.Output.IndexOf("TinyML: kws.tflite -> My.Models.Spotter: RAM", StringComparison.Ordinal);
        Assert.True(crossCompile >= 0 && linking > crossCompile && summary > linking, build.Output);

        string output = Path.Combine(dir, "out.bin");
        var run = RunApp(dir, Golden("kws", "input_1.bin"), output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(File.ReadAllBytes(Golden("kws", "output_1.bin")), File.ReadAllBytes(output));
        Assert.Contains("public False False labels 12", run.Output);
        Assert.Contains("ad 640", run.Output);

        string bin = Path.Combine(dir, "bin", "Debug", "net10.0", "tinyml");
        string obj = Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml");
        Assert.True(File.Exists(Path.Combine(bin, "kws.memory.html")));
        Assert.True(File.Exists(Path.Combine(bin, "cortex-m4", "libkws.a")));
        Assert.True(Directory.EnumerateFiles(Path.Combine(obj, "cortex-m4"), "*.o", SearchOption.AllDirectories).Any(), "the cross compiler's objects");

        var clean = _sdk.Dotnet(dir, "clean", "App.csproj", "--nologo");
        Assert.True(clean.ExitCode == 0, clean.Output);
        Assert.False(Directory.Exists(obj), "dotnet clean leaves " + obj);
        Assert.False(Directory.Exists(bin), "dotnet clean leaves " + bin);
    }

    [Fact]
    public void TwoModelsWithOneFileNameInTwoFolders_BothBuildAndRun()
    {
        string items = "    <TinyModel Include=\"a/model.tflite\" ClassName=\"Kws\" />\n    <TinyModel Include=\"b/model.tflite\" ClassName=\"Ad\" />\n";
        string dir = Project("same-file-name", items, RunGolden("kws", "App.Kws", 0, 1) + RunGolden("ad", "App.Ad", 2, 3));
        CopyModel(dir, "kws", Path.Combine("a", "model.tflite"));
        CopyModel(dir, "ad", Path.Combine("b", "model.tflite"));
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);

        string kwsOut = Path.Combine(dir, "kws.bin"), adOut = Path.Combine(dir, "ad.bin");
        var run = RunApp(dir, Golden("kws", "input_1.bin"), kwsOut, Golden("ad", "input_1.bin"), adOut);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(File.ReadAllBytes(Golden("kws", "output_1.bin")), File.ReadAllBytes(kwsOut));
        Assert.Equal(File.ReadAllBytes(Golden("ad", "output_1.bin")), File.ReadAllBytes(adOut));
    }

    [Fact]
    public void BudgetDrivenPlanning_SaysWhatItAppliedAndCost_AndTheClassReportsThePlansMacs()
    {
        // kws peaks at 16,000 B layer by layer; 15,500 B is reachable only with patch-based inference.
        string program = RunGolden("kws", "App.Kws", 0, 1) + "System.Console.WriteLine($\"macs {App.Kws.Macs} arena {App.Kws.ArenaBytes}\");\n";
        string dir = Project("budget-driven", "    <TinyModel Include=\"kws.tflite\" RamBudget=\"15500\" />\n", program);
        CopyModel(dir, "kws", "kws.tflite");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        var line = new Regex(@"TinyML: kws\.tflite -> App\.Kws: RAM (?<ram>[\d,]+) B .*, (?<macs>[\d,]+) MACs; to fit the RAM budget \(RamBudget of kws\.tflite = 15500\) " +
            @"the build applied .*patches.* \(peak 16,000 -> [\d,]+ B\): the first \d+ operators run in \d+x\d+ patches, at \+(?<extra>[\d,]+) MACs \(\+(?<percent>[\d.]+)%\)").Match(build.Output);
        Assert.True(line.Success, build.Output);
        long Number(string group) => long.Parse(line.Groups[group].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(Number("ram") <= 15500);
        Assert.Equal(KwsMacs + Number("extra"), Number("macs"));
        Assert.InRange(double.Parse(line.Groups["percent"].Value, CultureInfo.InvariantCulture) - 100.0 * Number("extra") / KwsMacs, -0.051, 0.051);

        string output = Path.Combine(dir, "out.bin");
        var run = RunApp(dir, Golden("kws", "input_1.bin"), output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains($"macs {Number("macs")} arena ", run.Output);
        Assert.Equal(File.ReadAllBytes(Golden("kws", "output_1.bin")), File.ReadAllBytes(output));
    }

    [Fact]
    public void ADesignTimeBuildOverBudget_KeepsTheGeneratedClass_AndTheRealBuildStillFails()
    {
        string dir = Project("design-time-over", "    <TinyModel Include=\"kws.tflite\" RamBudget=\"8KB\" />\n", "System.Console.WriteLine(App.Kws.ArenaBytes);\n");
        CopyModel(dir, "kws", "kws.tflite");
        var restore = _sdk.Dotnet(dir, "restore", "App.csproj");
        Assert.True(restore.ExitCode == 0, restore.Output);
        var designTime = _sdk.Dotnet(dir, "msbuild", "App.csproj", "-t:CoreCompile", "-p:DesignTimeBuild=true",
            "-p:SkipCompilerExecution=true", "-p:ProvideCommandLineArgs=true", "-getItem:CscCommandLineArgs");
        Assert.True(designTime.ExitCode == 0, designTime.Output);
        Assert.Matches(new Regex(@"/additionalfile:[^ ""]*obj/Debug/net10\.0/tinyml/kws\.tmlmodel\.json"), designTime.Output);

        var build = Build(dir);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains("error TML3001", build.Output);
        Assert.True(File.Exists(Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml", "kws.tmlmodel.json")), "the failed build keeps the manifest");
    }

    [Fact]
    public void AMisspeltMetadata_WarnsWithTheNameItMeant()
    {
        string dir = Project("misspelt", "    <TinyModel Include=\"kws.tflite\" RamBuget=\"16KB\" Visible=\"false\" />\n", "System.Console.WriteLine(App.Kws.ArenaBytes);\n");
        CopyModel(dir, "kws", "kws.tflite");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        string project = Path.Combine(dir, "App.csproj");
        Assert.Matches(new Regex(Regex.Escape(project) + $@"\({LineOf(project, "RamBuget")}\): warning TML0009: kws\.tflite: TinyModel metadata 'RamBuget' is not a TinyML\.Sdk setting and has no effect; did you mean 'RamBudget'\?"), build.Output);
        Assert.DoesNotContain("'Visible'", build.Output);
    }

    [Fact]
    public void ABuildForARuntimeWithoutNativeKernels_Warns_AndABuildForOneWithThem_CarriesTheLibrary()
    {
        string dir = Project("other-rids", "    <TinyModel Include=\"kws.tflite\" />\n", "System.Console.WriteLine(App.Kws.ArenaBytes);\n");
        CopyModel(dir, "kws", "kws.tflite");
        // Framework-dependent and without an app host: nothing platform-specific needs downloading.
        var build = Build(dir, "-r", "linux-musl-x64", "--self-contained", "false", "-p:UseAppHost=false");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.True(build.Output.Contains("warning TML0010: TinyML.Runtime 0.1.0 carries native kernels for linux-x64, linux-arm64, linux-arm, win-x64, win-arm64, osx-x64, osx-arm64, not for linux-musl-x64"), build.Output);

        foreach (var (carried, library) in new[] { ("linux-x64", "libtinyml_kernels.so"), ("win-x64", "tinyml_kernels.dll"), ("win-arm64", "tinyml_kernels.dll"), ("osx-arm64", "libtinyml_kernels.dylib"), ("osx-x64", "libtinyml_kernels.dylib") })
        {
            var other = Build(dir, "-r", carried, "--self-contained", "false", "-p:UseAppHost=false");
            Assert.True(other.ExitCode == 0, other.Output);
            Assert.DoesNotContain("TML0010", other.Output);
            // NuGet copies the RID's native asset beside the app, where the resolver looks.
            Assert.True(File.Exists(Path.Combine(dir, "bin", "Debug", "net10.0", carried, library)), $"{carried}: no {library} in the output");
        }
    }
}
