// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;

namespace TinyML.Tests;

/// <summary>
/// A float model of ../shared/models and its official int8 variant. Calibration and validation inputs come from the
/// golden input generator of ../shared/golden (xorshift32, int8 = low byte of a draw), dequantized with the official
/// int8 model's input parameters, so they span the input range the official converter calibrated for.
/// </summary>
/// <param name="FloatModel">The float model's name in ../shared/models.</param>
/// <param name="Int8Model">The official int8 model's name.</param>
/// <param name="SameFloatWeights">True when the official int8 model was converted from exactly these float weights
/// (its int8 weights are what TFLite's converter writes for them); false for kws (the float model holds int8 hybrid
/// weights) and hello (hello_float and hello_int8 were trained separately: their weights differ everywhere).</param>
public sealed record QuantizationCase(string FloatModel, string Int8Model, bool SameFloatWeights)
{
    /// <summary>Every float model in ../shared/models with its official int8 variant.</summary>
    public static readonly IReadOnlyList<QuantizationCase> All = new[]
    {
        new QuantizationCase("kws_float", "kws", SameFloatWeights: false),
        new QuantizationCase("ic_resnet_float", "ic_resnet", SameFloatWeights: true),
        new QuantizationCase("ad_float", "ad", SameFloatWeights: true),
        new QuantizationCase("hello_float", "hello_int8", SameFloatWeights: false),
    };

    /// <summary>Seeds 1 to 3 are the golden input files; more seeds continue the same generator.</summary>
    public const int CalibrationSeeds = 64;

    /// <summary>The official int8 model's input tensor.</summary>
    public Tensor OfficialInput()
    {
        var model = TfliteReader.ReadFile(SharedData.Model(Int8Model)).Value!;
        return model.Main.Tensors[model.Main.Inputs[0]];
    }

    /// <summary>Float samples for seeds [first, first + count): golden int8 inputs dequantized with the official
    /// int8 model's input scale and zero point.</summary>
    public CalibrationSet Samples(uint first, int count)
    {
        var input = OfficialInput();
        var q = input.Quantization!;
        var samples = new List<float[][]>();
        for (uint seed = first; seed < first + count; seed++)
        {
            var raw = GoldenInputs.Int8(seed, input.ElementCount);
            samples.Add(new[] { raw.Select(v => (float)(q.Scale * (v - q.ZeroPoint))).ToArray() });
        }
        return new CalibrationSet(samples, Array.Empty<string>());
    }

    /// <summary>The calibration set: seeds 1 to 64 (the first three are the golden input files).</summary>
    public CalibrationSet Calibration() => Samples(1, CalibrationSeeds);

    /// <summary>A separate validation set: seeds 1001 to 1064.</summary>
    public CalibrationSet Validation() => Samples(1001, CalibrationSeeds);

    /// <summary>The golden input file of the official int8 model for a seed.</summary>
    public string GoldenInputFile(int seed) => Path.Combine(SharedData.Root, "golden", Int8Model, $"input_{seed}.bin");
}
