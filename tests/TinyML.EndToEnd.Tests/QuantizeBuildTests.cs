// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>Real dotnet builds of a float model with Calibration: quantized to int8 in the build by the bundled CLI.</summary>
[Collection(nameof(PackedSdk))]
public sealed class QuantizeBuildTests
{
    private readonly PackedSdk _sdk;

    public QuantizeBuildTests(PackedSdk sdk) => _sdk = sdk;

    /// <summary>Raw float32 calibration inputs: golden-style int8 inputs dequantized with the official ad model's
    /// input parameters (../shared/golden/ad/info.json), so they cover the range the model was built for.</summary>
    internal static void WriteCalibration(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        using var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "golden", "ad", "info.json")));
        var input = info.RootElement.GetProperty("inputs")[0];
        float scale = input.GetProperty("scale").GetSingle();
        int zeroPoint = input.GetProperty("zero_point").GetInt32();
        int elements = input.GetProperty("bytes").GetInt32();
        for (uint seed = 1; seed <= count; seed++)
        {
            var values = GoldenInputs.Int8(seed, elements).Select(v => scale * (v - zeroPoint)).ToArray();
            var bytes = new byte[values.Length * sizeof(float)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            File.WriteAllBytes(Path.Combine(folder, $"sample_{seed:D2}.bin"), bytes);
        }
    }

    private static void WriteProject(string dir, string modelMetadata) =>
        PackedSdk.WriteProject(dir, $"    <TinyModel Include=\"ad.tflite\" {modelMetadata}/>\n");

    [Fact]
    public void FloatModelWithCalibration_IsQuantizedInTheBuild_ReportsItsAccuracy_AndRunsInt8()
    {
        string dir = _sdk.NewProject("quantize-ad");
        File.Copy(SharedData.Model("ad_float"), Path.Combine(dir, "ad.tflite"));
        WriteCalibration(Path.Combine(dir, "calib"), 16);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using var model = new App.Ad();
            for (int i = 0; i < model.Input.Length; i++) model.Input[i] = (sbyte)(i % 97 - 48);
            model.Run();
            sbyte first = model.Output[0]; // compiles only if the generated output is int8
            System.Console.WriteLine($"int8 in {model.Input.Length} out {model.Output.Length} first {first}");
            """);
        WriteProject(dir, "Calibration=\"calib/*.bin\" ");
        var build = _sdk.Dotnet(dir, "build", "App.csproj", "--nologo", "-v:n");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("tinyml.dll quantize", build.Output);
        // The accuracy report is in the build log: the one output's SQNR against the float model.
        Assert.Matches(new Regex(@"SQNR dB[\s\S]*\| Identity \| \d+\.\d+ \|"), build.Output);
        string quantized = Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml", "quantized", "ad.tflite");
        Assert.True(File.Exists(quantized));

        var run = _sdk.Dotnet(dir, Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("int8 in 640 out 640 first ", run.Output);

        // Nothing changed: no second quantization. A new calibration file: quantized again.
        var again = _sdk.Dotnet(dir, "build", "App.csproj", "--nologo", "-v:n");
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.DoesNotContain("tinyml.dll quantize", again.Output);
        File.Copy(Path.Combine(dir, "calib", "sample_01.bin"), Path.Combine(dir, "calib", "sample_99.bin"));
        var changed = _sdk.Dotnet(dir, "build", "App.csproj", "--nologo", "-v:n");
        Assert.True(changed.ExitCode == 0, changed.Output);
        Assert.Contains("tinyml.dll quantize", changed.Output);
    }

    [Fact]
    public void FloatModelWithoutCalibration_FailsWithTML2001AtTheProject()
    {
        string dir = _sdk.NewProject("quantize-missing");
        File.Copy(SharedData.Model("ad_float"), Path.Combine(dir, "ad.tflite"));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), "System.Console.WriteLine(App.Ad.ArenaBytes);\n");
        WriteProject(dir, "");
        var build = _sdk.Dotnet(dir, "build", "App.csproj", "--nologo");
        Assert.NotEqual(0, build.ExitCode);
        Assert.True(Regex.IsMatch(build.Output, @"App\.csproj\(8\): error TML2001: ad\.tflite is a float32 model"), build.Output);
    }
}
