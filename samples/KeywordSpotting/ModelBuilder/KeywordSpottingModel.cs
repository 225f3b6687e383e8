// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Samples;

namespace KeywordSpotting;

/// <summary>
/// The MLPerf Tiny keyword-spotting network (DS-CNN, kws_ref_model) as a fully int8 model: 49 frames of 10 MFCC
/// features in, 12 class probabilities out. The weights are untrained: deterministic He-uniform values, so the model
/// has the reference architecture, size and cost (2,656,768 MACs) without a data set.
/// </summary>
public sealed class KeywordSpottingModel
{
    /// <summary>The input shape: one clip of 49 frames x 10 MFCC coefficients.</summary>
    public static readonly int[] InputShape = { 1, 49, 10, 1 };

    /// <summary>The class labels in output order: MLPerf Tiny's (the tfds speech_commands order).</summary>
    public static readonly IReadOnlyList<string> Labels = new[]
    {
        "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "_silence_", "_unknown_",
    };

    private const int Filters = 64;
    private readonly QuantizedModelBuilder _network;

    /// <summary>Creates the network with weights fixed by <paramref name="seed"/>.</summary>
    public KeywordSpottingModel(ulong seed = 42)
    {
        _network = new QuantizedModelBuilder("input", InputShape, seed)
            .Conv2D("conv_1", Filters, 10, 4, 2, 2, Padding.Same, Activation.Relu);
        for (int block = 1; block <= 4; block++)
            _network
                .DepthwiseConv2D($"block_{block}/depthwise", 3, 3, 1, 1, Padding.Same, Activation.Relu)
                .Conv2D($"block_{block}/pointwise", Filters, 1, 1, 1, 1, Padding.Same, Activation.Relu);
        _network
            .AveragePool2D("average_pool", 25, 5)
            .Flatten("flatten")
            .FullyConnected("dense", Labels.Count, Activation.None)
            .Softmax("softmax");
    }

    /// <summary>
    /// The calibration set: 16 inputs uniform in [-1, 1] from a fixed seed. The model never saw real features, so
    /// any fixed range will do; this one gives the input an int8 scale of about 2/255.
    /// </summary>
    public static IReadOnlyList<float[]> CalibrationInputs()
    {
        var random = new DeterministicRandom(1);
        int size = InputShape.Aggregate(1, (a, d) => a * d);
        return Enumerable.Range(0, 16)
            .Select(_ => Enumerable.Range(0, size).Select(_ => (float)random.Uniform(-1, 1)).ToArray())
            .ToArray();
    }

    /// <summary>The float network's class probabilities for one input of 490 values (before quantization).</summary>
    public float[] Predict(float[] input) => _network.Predict(input);

    /// <summary>The int8 model, calibrated on <see cref="CalibrationInputs"/>.</summary>
    public Model ToModel() => _network.Build(CalibrationInputs(), "probabilities");
}
