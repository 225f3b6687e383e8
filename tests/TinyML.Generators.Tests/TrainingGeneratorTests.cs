// SPDX-License-Identifier: Apache-2.0
using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace TinyML.Generators.Tests;

/// <summary>
/// The training members of a model built with Train (the manifest's "training"): a snapshot of the trainable class,
/// which overloads each input type gets, that a user program compiles against them, and that a model built without
/// Train has none of them.
/// </summary>
public class TrainingGeneratorTests
{
    /// <summary>kws.tflite built with Train="head" LearningRate="0.05": 12 classes, as the compile task writes it.</summary>
    public static ModelManifest TrainableKws()
    {
        var m = Manifests.Kws();
        m.ClassName = "TrainableKeywordSpotter";
        m.Training = new ManifestTraining { Mode = "head", Classes = 12, LearningRate = 0.05, ParameterBytes = 20_064 };
        return m;
    }

    private static string Source(ModelManifest manifest) =>
        Harness.Generate("m.tmlmodel.json", manifest.ToJson()).SourceText.ToString();

    /// <summary>The parameter lists of the generated Train overloads, in order.</summary>
    private static string[] TrainOverloads(string source) =>
        Regex.Matches(source, @"public void Train\(([^)]*)\)").Select(m => m.Groups[1].Value).ToArray();

    [Fact]
    public void TrainableInt8Classifier_Snapshot()
    {
        var file = Harness.Generate("kws.tmlmodel.json", TrainableKws().ToJson());
        Assert.Equal("Demo.Audio.TrainableKeywordSpotter.g.cs", file.HintName);
        Snapshot.Match(file.SourceText.ToString(), "TrainableKeywordSpotter");
    }

    [Fact]
    public void TheManifest_CarriesTraining_AndOmitsItWithoutTrain()
    {
        var parsed = ModelManifest.Parse(TrainableKws().ToJson());
        Assert.NotNull(parsed.Training);
        Assert.Equal("head", parsed.Training!.Mode);
        Assert.Equal(12, parsed.Training.Classes);
        Assert.Equal(0.05, parsed.Training.LearningRate);
        Assert.Equal(20_064, parsed.Training.ParameterBytes);

        string plain = Manifests.Kws().ToJson();
        Assert.DoesNotContain("training", plain);
        Assert.Null(ModelManifest.Parse(plain).Training);
    }

    [Fact]
    public void AModelWithoutTrain_HasNoTrainingMembers()
    {
        foreach (var manifest in new[] { Manifests.Kws(), Manifests.Sine(), Manifests.Streaming() })
        {
            string source = Source(manifest);
            Assert.Empty(TrainOverloads(source));
            foreach (string member in new[] { "LearningRate", "ExportWeights", "ImportWeights", "ResetWeights", "Classes", "ParameterBytes" })
                Assert.DoesNotContain(member, source);
        }
    }

    [Fact]
    public void TheInputForms_FollowThoseOfTheInput()
    {
        const string int8 = "global::System.ReadOnlySpan<sbyte>", int16 = "global::System.ReadOnlySpan<short>", real = "global::System.ReadOnlySpan<float>";
        const string labels = "global::System.ReadOnlySpan<int> labels";
        // A quantized int8 input: raw and real values (quantized as SetInput does), one sample and a batch of each.
        Assert.Equal(new[] { $"{int8} input, int label", $"{int8} inputs, {labels}", $"{real} input, int label", $"{real} inputs, {labels}" },
            TrainOverloads(Source(TrainableKws())));

        var int16Input = TrainableKws();
        int16Input.Inputs[0] = new ManifestTensor { Name = "input_1", Type = "INT16", Shape = new[] { 1, 49, 10, 1 }, Bytes = 980, Scale = 0.001, ZeroPoint = 0 };
        Assert.Equal(new[] { $"{int16} input, int label", $"{int16} inputs, {labels}", $"{real} input, int label", $"{real} inputs, {labels}" },
            TrainOverloads(Source(int16Input)));

        // An int8 input without a scale has no real-valued Set, so no real-valued Train.
        var unscaled = TrainableKws();
        unscaled.Inputs[0].Scale = 0;
        Assert.Equal(new[] { $"{int8} input, int label", $"{int8} inputs, {labels}" }, TrainOverloads(Source(unscaled)));

        // Several inputs: they are written through their own members, then Train(label) trains on them.
        var streaming = Manifests.Streaming();
        streaming.Training = new ManifestTraining { Mode = "head", Classes = 3, LearningRate = 0.01, ParameterBytes = 1_024 };
        Assert.Equal(new[] { "int label" }, TrainOverloads(Source(streaming)));
    }

    [Fact]
    public void TheStartingLearningRate_IsTheManifests()
    {
        string source = Source(TrainableKws());
        Assert.Contains("public const float DefaultLearningRate = 0.05f;", source);
        Assert.Contains("public const int Classes = 12;", source);
        Assert.Contains("public const long ParameterBytes = 20064;", source);
    }

    [Theory]
    [InlineData("", 12, 0.01)]
    [InlineData("head", 1, 0.01)]
    [InlineData("head", 12, 0.0)]
    [InlineData("head", 12, double.PositiveInfinity)]
    public void AnInvalidTrainingSection_IsTML4001(string mode, int classes, double rate)
    {
        var manifest = TrainableKws();
        manifest.Training = new ManifestTraining { Mode = mode, Classes = classes, LearningRate = rate, ParameterBytes = 100 };
        // Infinity is not JSON: the writer's "Infinity" is a malformed manifest, which is TML4001 too.
        var (run, _) = Harness.Run(new[] { Harness.Manifest("kws.tmlmodel.json", manifest.ToJson()) });
        var diagnostic = Assert.Single(run.Diagnostics);
        Assert.Equal(DiagnosticIds.InvalidManifest, diagnostic.Id);
        Assert.Empty(run.GeneratedSources);
        if (!double.IsInfinity(rate)) Assert.Contains("'training' needs", diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void TheTrainingMembers_CompileWithoutWarnings_AndServeAUserProgram()
    {
        const string program = """
            using System;
            using Demo.Audio;

            namespace User
            {
                /// <summary>Uses the training members.</summary>
                public static class Uses
                {
                    /// <summary>Personalizes the keyword spotter, saves and restores what it learned.</summary>
                    public static byte[] Personalize(sbyte[] sample, float[] features, sbyte[] batch, int[] labels)
                    {
                        using var kws = new TrainableKeywordSpotter();
                        kws.LearningRate = TrainableKeywordSpotter.DefaultLearningRate / 2;
                        kws.Train(sample, (int)TrainableKeywordSpotter.Label.Yes);
                        kws.Train(features, TrainableKeywordSpotter.Classes - 1);
                        kws.Train(batch, labels);
                        kws.Train(new float[TrainableKeywordSpotter.InputLength * 2], new[] { 0, 1 });
                        byte[] weights = kws.ExportWeights();
                        kws.ResetWeights();
                        kws.ImportWeights(weights);
                        long ram = TrainableKeywordSpotter.ArenaBytes + TrainableKeywordSpotter.ParameterBytes;
                        return ram > 0 && kws.LearningRate > 0 ? weights : Array.Empty<byte>();
                    }
                }
            }
            """;
        var streaming = Manifests.Streaming();
        streaming.Training = new ManifestTraining { Mode = "head", Classes = 3, LearningRate = 0.01, ParameterBytes = 1_024 };
        const string severalInputs = """
            namespace User
            {
                /// <summary>Trains a model of two inputs.</summary>
                public static class Streams
                {
                    /// <summary>Writes both inputs, then trains toward a label.</summary>
                    public static void Step(Demo.Audio.Streaming.WakeWordDetector detector, float[] features, float[] hidden)
                    {
                        detector.SetFeatures(features);
                        detector.SetHiddenIn(hidden);
                        detector.Train((int)Demo.Audio.Streaming.WakeWordDetector.Label.HeyTiny);
                    }
                }
            }
            """;
        var (run, output) = Harness.Run(new[]
        {
            Harness.Manifest("kws.tmlmodel.json", TrainableKws().ToJson()),
            Harness.Manifest("wake.tmlmodel.json", streaming.ToJson()),
        }, program, severalInputs);
        Assert.Empty(run.Diagnostics);
        Assert.Empty(Harness.Problems(output));
    }
}
