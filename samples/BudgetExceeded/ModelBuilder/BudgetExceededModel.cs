// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Samples;

namespace BudgetExceeded;

/// <summary>
/// A small image classifier that is deliberately too big for a microcontroller with 256 KB of RAM: two full
/// resolution convolutions on a 96x96 RGB image keep a 96x96x16 and a 96x96x32 activation alive at once (432 KB).
/// Untrained, deterministic weights; fully int8.
/// </summary>
public sealed class BudgetExceededModel
{
    /// <summary>The input shape: one 96x96 RGB image.</summary>
    public static readonly int[] InputShape = { 1, 96, 96, 3 };

    /// <summary>The number of output classes.</summary>
    public const int Classes = 2;

    private readonly QuantizedModelBuilder _network;

    /// <summary>Creates the network with weights fixed by <paramref name="seed"/>.</summary>
    public BudgetExceededModel(ulong seed = 42)
    {
        _network = new QuantizedModelBuilder("image", InputShape, seed)
            .Conv2D("conv_1", 16, 3, 3, 1, 1, Padding.Same, Activation.Relu)
            .Conv2D("conv_2", 32, 3, 3, 1, 1, Padding.Same, Activation.Relu)
            .Conv2D("conv_3", 32, 3, 3, 2, 2, Padding.Same, Activation.Relu)
            .AveragePool2D("average_pool", 48, 48)
            .Flatten("flatten")
            .FullyConnected("dense", Classes, Activation.None)
            .Softmax("softmax");
    }

    /// <summary>The calibration set: 4 images with pixels uniform in [0, 1] from a fixed seed.</summary>
    public static IReadOnlyList<float[]> CalibrationInputs()
    {
        var random = new DeterministicRandom(1);
        int size = InputShape.Aggregate(1, (a, d) => a * d);
        return Enumerable.Range(0, 4)
            .Select(_ => Enumerable.Range(0, size).Select(_ => (float)random.NextDouble()).ToArray())
            .ToArray();
    }

    /// <summary>The float network's class probabilities for one image (row-major NHWC).</summary>
    public float[] Predict(float[] input) => _network.Predict(input);

    /// <summary>The int8 model, calibrated on <see cref="CalibrationInputs"/>.</summary>
    public Model ToModel() => _network.Build(CalibrationInputs(), "probabilities");
}
