// SPDX-License-Identifier: Apache-2.0
using System.Linq;
using Xunit;

namespace TinyML.Generators.Tests;

/// <summary>The generated classes compile against TinyML.Runtime without errors or warnings, and read as intended.</summary>
public class CompileTests
{
    /// <summary>A user program that touches the whole generated API (compiled, not run: the run is tested end to end elsewhere).</summary>
    private const string Program = """
        using System;
        using Demo.Audio;
        using Demo.Audio.Streaming;

        namespace User
        {
            /// <summary>Uses the generated classes.</summary>
            public static class Uses
            {
                /// <summary>Keyword spotting.</summary>
                public static string Spot(float[] features)
                {
                    using var kws = new KeywordSpotter();
                    Span<sbyte> raw = kws.Input;
                    raw.Clear();
                    kws.SetInput(features);
                    kws.Run();
                    float[] probabilities = kws.GetOutput();
                    kws.GetOutput(probabilities);
                    ReadOnlySpan<int> shape = KeywordSpotter.InputShape;
                    long total = KeywordSpotter.ArenaBytes + KeywordSpotter.StateBytes + KeywordSpotter.FlashBytes + KeywordSpotter.Macs;
                    float scale = KeywordSpotter.InputScale + KeywordSpotter.OutputScale;
                    int zeroPoints = KeywordSpotter.InputZeroPoint + KeywordSpotter.OutputZeroPoint + KeywordSpotter.InputLength + KeywordSpotter.OutputLength;
                    (KeywordSpotter.Label label, float score) = kws.Predict(features);
                    return $"{KeywordSpotter.LabelText(label)} {score} {KeywordSpotter.LabelText(KeywordSpotter.Label.Yes)} {shape.Length} {total} {scale} {zeroPoints} {KeywordSpotter.LabelCount}";
                }

                /// <summary>Streaming with state.</summary>
                public static WakeWordDetector.Label Stream(WakeWordDetector detector, float[] frame)
                {
                    detector.SetFeatures(frame);
                    Span<float> hidden = detector.HiddenIn;
                    Span<short> state = detector.HiddenOut;
                    state.CopyTo(MemoryMarshalFree(hidden.Length));
                    detector.Run();
                    float[] scores = detector.GetScores();
                    float[] hiddenReal = detector.GetHiddenOut(); // an int16 output with a scale: dequantized like int8
                    detector.ResetState();
                    return scores[1] + hiddenReal[0] * 0 > 0.5f ? WakeWordDetector.Label.HeyTiny : WakeWordDetector.Label._3Other;
                }

                private static short[] MemoryMarshalFree(int length) => new short[length];
            }
        }
        """;

    [Fact]
    public void GeneratedClasses_CompileWithoutWarnings_AndServeAUserProgram()
    {
        var files = new[]
        {
            Harness.Manifest("kws.tmlmodel.json", Manifests.Kws().ToJson()),
            Harness.Manifest("wake.tmlmodel.json", Manifests.Streaming().ToJson()),
        };
        var (run, output) = Harness.Run(files, Program);
        Assert.Empty(run.Diagnostics);
        Assert.Equal(2, run.GeneratedSources.Length);
        Assert.Empty(Harness.Problems(output));
    }

    [Fact]
    public void InternalSineModel_Compiles_WithFloatHelpers()
    {
        const string program = """
            namespace HelloSine
            {
                internal static class Uses
                {
                    internal static float Sine(float x)
                    {
                        using var model = new SineModel();
                        model.Input[0] = x;
                        model.SetInput(new[] { x });
                        model.Run();
                        return model.Output[0] + model.GetOutput()[0];
                    }
                }
            }
            """;
        var (run, output) = Harness.Run(new[] { Harness.Manifest("sine.tmlmodel.json", Manifests.Sine().ToJson()) }, program);
        Assert.Empty(run.Diagnostics);
        Assert.Empty(Harness.Problems(output));
        string text = run.GeneratedSources.Single().SourceText.ToString();
        Assert.DoesNotContain("InputScale", text);
        Assert.DoesNotContain("Predict", text);
        Assert.DoesNotContain("ResetState", text);
    }

    /// <summary>Proves the check above can fail: an undocumented public member is a warning in this compilation.</summary>
    [Fact]
    public void Harness_ReportsMissingDocComments()
    {
        var compilation = Harness.Compilation("/// <summary>Documented.</summary>\npublic class C { public int Undocumented; }");
        Assert.Contains(Harness.Problems(compilation), d => d.Id == "CS1591");
    }
}
