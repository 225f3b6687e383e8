// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>The samples build in place against the packed SDK, as on a fresh clone.</summary>
[Collection(nameof(PackedSdk))]
public sealed class SampleTests
{
    private readonly PackedSdk _sdk;

    public SampleTests(PackedSdk sdk) => _sdk = sdk;

    private static string Sample(string name) => Path.Combine(SharedData.Repo, "samples", name);

    [Fact]
    public void HelloSine_TrainsCompilesAndTracksTheSine()
    {
        var run = _sdk.Dotnet(Sample("HelloSine"), "run", "--project", "HelloSine.csproj", "--nologo");
        Assert.True(run.ExitCode == 0, run.Output);
        var match = Regex.Match(run.Output, @"largest error (\d+\.\d+)");
        Assert.True(match.Success, run.Output);
        // The trainer's float model reaches a mean squared error below 0.001. The build quantizes it to int8 (per-tensor
        // FULLY_CONNECTED weights, as TFLite's converter writes them), which costs about 20 dB SQNR and 0.14 at worst on
        // the calibration grid (`tinyml quantize` on the trained model); a point error above 0.2 would mean a broken model.
        Assert.True(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) < 0.2, run.Output);
    }

    [Fact]
    public void KeywordSpotting_PredictsALabelForEveryPattern()
    {
        var run = _sdk.Dotnet(Sample("KeywordSpotting"), "run", "--project", "KeywordSpotting.csproj", "--nologo");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("2,656,768 MACs", run.Output);
        var labels = File.ReadAllLines(Path.Combine(Sample("KeywordSpotting"), "labels.txt"));
        var predictions = Regex.Matches(run.Output, @"pattern \d: (\S+) \((\d+(\.\d+)?) ?%\)");
        Assert.Equal(4, predictions.Count);
        foreach (Match p in predictions)
        {
            Assert.Contains(p.Groups[1].Value, labels);
            Assert.True(double.Parse(p.Groups[2].Value, CultureInfo.InvariantCulture) is > 0 and <= 100, p.Value);
        }
    }

    [Fact]
    public void BudgetExceeded_FailsWithTML3001_AtTheBudgetLine()
    {
        // TinyMLBoard=nano33ble makes the model a Cortex-M4 one, so the budget is checked against the linked ELF.
        string project = Path.Combine(Sample("BudgetExceeded"), "BudgetExceeded.csproj");
        var build = _sdk.Dotnet(Sample("BudgetExceeded"), "build", project, "--nologo");
        Assert.NotEqual(0, build.ExitCode);
        int line = File.ReadAllLines(project).ToList().FindIndex(l => l.Contains("RamBudget=")) + 1;
        Assert.Matches(new Regex(Regex.Escape(project) + $@"\({line}(,\d+)?\): error TML3001: vision\.tflite needs [\d,]+ bytes \([\d.]+ KB\) of RAM on cortex-m4 \(measured from the ELF: static data [\d,]+ \(arena 79,920, state 0\) \+ invoke stack [\d,]+\), but the RAM budget \(RamBudget of vision\.tflite = 64KB\) is 65,536 bytes \(64\.0 KB\)"), build.Output);
    }
}
