// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;
using TinyML.Samples;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.EndToEnd.Tests;

/// <summary>
/// On-device training as an ordinary build option: a project with <c>Train="head"</c> built with the packed SDK, whose
/// app trains the generated class on a separable toy task and round-trips what it learned; the same project for a
/// Cortex-M4 gets <c>toy_train_step</c> in its library; a bad Train or a budget only training misses fails the build.
/// </summary>
[Collection(nameof(PackedSdk))]
public sealed class TrainingProjectTests
{
    private readonly PackedSdk _sdk;
    private readonly ITestOutputHelper _output;

    public TrainingProjectTests(PackedSdk sdk, ITestOutputHelper output) => (_sdk, _output) = (sdk, output);

    private const int Features = 4, Classes = 3;

    /// <summary>int8 [1, 4] -> FULLY_CONNECTED(16, relu) -> FULLY_CONNECTED(3) -> SOFTMAX, random weights: only the
    /// head learns, through 16 fixed random features.</summary>
    private static byte[] ToyModel()
    {
        var random = new DeterministicRandom(11);
        var calibration = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, Features).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToList();
        var model = new QuantizedModelBuilder("x", new[] { 1, Features }, 3)
            .FullyConnected("hidden", 16, Activation.Relu).FullyConnected("logits", Classes, Activation.None).Softmax("p")
            .Build(calibration, "probabilities");
        return TfliteWriter.Write(model);
    }

    /// <summary>
    /// The app: the class of a point in [-1, 1]^4 is its largest of the first three coordinates (separable). It
    /// measures accuracy on 300 held-out points, trains 600 single steps and 20 batches of 10, measures again,
    /// then checks the exported weights in a new instance, the reset, and a foreign import.
    /// </summary>
    private const string Program = """
        using System;
        using System.Linq;
        using App;

        var random = new Random(5);
        float[] Point() => Enumerable.Range(0, Toy.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int ClassOf(float[] x) => x[0] >= x[1] && x[0] >= x[2] ? 0 : x[1] >= x[2] ? 1 : 2;
        var test = Enumerable.Range(0, 300).Select(_ => Point()).ToArray();

        int Predict(Toy model, float[] x)
        {
            model.SetInput(x);
            model.Run();
            float[] p = model.GetOutput();
            return Array.IndexOf(p, p.Max());
        }
        int[] Predictions(Toy model) => test.Select(x => Predict(model, x)).ToArray();
        double Accuracy(int[] predictions) => predictions.Where((p, i) => p == ClassOf(test[i])).Count() / (double)test.Length;

        using var toy = new Toy();
        double before = Accuracy(Predictions(toy));
        Console.WriteLine($"classes {Toy.Classes} rate {toy.LearningRate:F3} default {Toy.DefaultLearningRate} {(toy.LearningRate == Toy.DefaultLearningRate ? "exactly" : "differs")}");
        for (int step = 0; step < 600; step++)
        {
            var x = Point();
            toy.Train(x, ClassOf(x));
        }
        for (int batch = 0; batch < 20; batch++)
        {
            var points = Enumerable.Range(0, 10).Select(_ => Point()).ToArray();
            toy.Train(points.SelectMany(p => p).ToArray(), points.Select(ClassOf).ToArray());
        }
        int[] trained = Predictions(toy);
        Console.WriteLine($"accuracy before {before:F3} after {Accuracy(trained):F3}");

        byte[] weights = toy.ExportWeights();
        using var restored = new Toy();
        restored.ImportWeights(weights);
        Console.WriteLine($"round trip {(Predictions(restored).SequenceEqual(trained) ? "same" : "different")} {weights.Length} bytes");
        restored.ResetWeights();
        Console.WriteLine($"reset {(Accuracy(Predictions(restored)) == before ? "as built" : "changed")}");
        try
        {
            restored.ImportWeights(new byte[weights.Length]);
            Console.WriteLine("foreign import accepted");
        }
        catch (ArgumentException)
        {
            Console.WriteLine("foreign import refused");
        }
        try
        {
            toy.Train(test[0], Toy.Classes);
        }
        catch (ArgumentOutOfRangeException)
        {
            Console.WriteLine("label out of range refused");
        }
        """;

    private string ToyProject(string name, string metadata)
    {
        string dir = _sdk.NewProject(name);
        File.WriteAllBytes(Path.Combine(dir, "toy.tflite"), ToyModel());
        File.WriteAllText(Path.Combine(dir, "Program.cs"), Program);
        PackedSdk.WriteProject(dir, $"    <TinyModel Include=\"toy.tflite\" {metadata} />\n");
        return dir;
    }

    private (int ExitCode, string Output) Build(string dir, params string[] extra) =>
        _sdk.Dotnet(dir, new[] { "build", "App.csproj", "--nologo", "-v:n" }.Concat(extra).ToArray());

    [Fact]
    public void ATrainHeadProject_LearnsTheToyTask_AndRoundTripsItsWeights()
    {
        string dir = ToyProject("train-head", "Train=\"head\" LearningRate=\"0.05\"");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Matches(new Regex(@"TinyML: toy\.tflite -> App\.Toy: RAM [\d,]+ B \(arena [\d,]+ \+ state 0 \+ training [\d,]+\).*trainable \(Train=""head"", 3 classes, learning rate 0\.05\)"), build.Output);

        var run = _sdk.Dotnet(dir, Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll"));
        _output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("classes 3 rate 0.050 default 0.05 exactly", run.Output);
        var accuracy = Regex.Match(run.Output, @"accuracy before ([\d.]+) after ([\d.]+)");
        Assert.True(accuracy.Success, run.Output);
        double before = double.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture);
        double after = double.Parse(accuracy.Groups[2].Value, CultureInfo.InvariantCulture);
        // Random head weights are about chance (1/3); the head alone, on 16 random ReLU features, learns most of it.
        Assert.True(before < 0.5, run.Output);
        Assert.True(after >= 0.75, run.Output);
        Assert.Matches(new Regex(@"round trip same \d+ bytes"), run.Output);
        Assert.Contains("reset as built", run.Output);
        Assert.Contains("foreign import refused", run.Output);
        Assert.Contains("label out of range refused", run.Output);

        // The same project for a Cortex-M4: the library the build cross-compiles from that plan has the training step.
        var device = Build(dir, "-p:TinyMLTarget=cortex-m4");
        Assert.True(device.ExitCode == 0, device.Output);
        string header = File.ReadAllText(Path.Combine(dir, "bin", "Debug", "net10.0", "tinyml", "cortex-m4", "toy.h"));
        Assert.Contains("int32_t toy_train_step(uint8_t *arena, int32_t label);", header);
        Assert.Contains("#define TOY_CLASSES 3", header);
    }

    [Fact]
    public void ABogusTrain_AndABudgetOnlyTrainingMisses_FailTheBuild()
    {
        string dir = ToyProject("train-bogus", "Train=\"bogus\"");
        var build = Build(dir);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(new Regex(@"App\.csproj\(8\): error TML0012: .*Train=""bogus"" is not a training mode; use head or biases:K"), build.Output);

        // A budget of the inference plan's arena: inference fits, and no technique cuts the arena by the region's bytes.
        dir = ToyProject("train-budget", "Train=\"head\"");
        build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        var ram = Regex.Match(build.Output, @"RAM ([\d,]+) B \(arena ([\d,]+) \+ state 0 \+ training ([\d,]+)\)");
        Assert.True(ram.Success, build.Output);
        long arena = long.Parse(ram.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        long training = long.Parse(ram.Groups[3].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        PackedSdk.WriteProject(dir, $"    <TinyModel Include=\"toy.tflite\" Train=\"head\" RamBudget=\"{arena}\" />\n");
        build = Build(dir);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(new Regex(@"App\.csproj\(8\): error TML3005: toy\.tflite fits the RAM budget for inference, but not with training"), build.Output);
        Assert.Contains($"training adds {training:N0} bytes", build.Output);
    }
}
