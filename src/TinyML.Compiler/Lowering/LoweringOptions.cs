// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TinyML.Compiler.Diagnostics;

namespace TinyML.Compiler.Lowering;

/// <summary>How patch-based inference (MCUNetV2) is chosen.</summary>
public enum PatchMode
{
    /// <summary>Layer by layer only.</summary>
    Off,
    /// <summary>The split point and patch grid with the lowest peak.</summary>
    MinimumPeak,
    /// <summary>The least recompute that meets <see cref="LoweringOptions.RamBudget"/> (off when it already fits).</summary>
    Budget,
}

/// <summary>How the int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels requantize their int32 accumulators.</summary>
public enum RequantizationRounding
{
    /// <summary>TFLite's fixed-point multiplier and shift (double rounding): bit-exact with TFLM.</summary>
    Tflite,
    /// <summary>onnxruntime's: the accumulator as float32 times the float32 (x_scale * w_scale) / y_scale, rounded
    /// half to even: bit-exact with onnxruntime on quantized ONNX models. Other int8 operators keep TFLite's arithmetic.</summary>
    OnnxRuntime,
}

/// <summary>The memory techniques lowering applies. Each is switchable; the default turns on those that never cost MACs.</summary>
public sealed record LoweringOptions
{
    /// <summary>The defaults: PAD folding, in-place operators and reordering on, patches off.</summary>
    public static LoweringOptions Default { get; } = new();

    /// <summary>Every technique off: the plain lifetime plan.</summary>
    public static LoweringOptions None { get; } = new() { FoldPads = false, InPlaceDepthwise = false, InPlaceElementwise = false, Reorder = false };

    /// <summary>Every technique on with the minimum-peak choice (`--optimize memory`).</summary>
    public static LoweringOptions MinimumMemory { get; } = new() { Patch = PatchMode.MinimumPeak };

    /// <summary>A PAD that fills with what its convolution or max pooling reads for padding becomes their padding
    /// (<see cref="PadFolding"/>): its copy and buffer disappear.</summary>
    public bool FoldPads { get; init; } = true;

    /// <summary>Depthwise convolution overwrites its input channel by channel.</summary>
    public bool InPlaceDepthwise { get; init; } = true;

    /// <summary>Element-wise operators write over an input that dies at them.</summary>
    public bool InPlaceElementwise { get; init; } = true;

    /// <summary>Branchy graphs run in the topological order with the lowest peak.</summary>
    public bool Reorder { get; init; } = true;

    /// <summary>Patch-based inference of the first stage.</summary>
    public PatchMode Patch { get; init; } = PatchMode.Off;

    /// <summary>The RAM budget in bytes that <see cref="PatchMode.Budget"/> aims for.</summary>
    public long? RamBudget { get; init; }

    /// <summary>How the int8 convolutions and fully connected layers requantize (the in-place depthwise kernel has
    /// TFLite's only, so <see cref="RequantizationRounding.OnnxRuntime"/> plans depthwise convolutions out of place).</summary>
    public RequantizationRounding Rounding { get; init; } = RequantizationRounding.Tflite;

    /// <summary>What the plan is for: "host" or a Cortex-M core; recorded in the plan (<c>ExecutionPlan.Target</c>).</summary>
    public string Target { get; init; } = Plan.ExecutionPlan.HostTarget;

    /// <summary>
    /// The flash budget in bytes, when one is known. On a core whose packed matrix product has an int16-weight path
    /// (Cortex-M4, M7, M33: <see cref="Operators.WeightWidening"/>) the packed int8 weights are widened to int16 at build
    /// time, twice their flash for about a third fewer instructions per MAC, the layers with the most MACs per weight
    /// byte first, while the estimated flash stays within <see cref="Budgets.BudgetCheck.WarningShare"/> of this
    /// budget less a reserve for code. Null: no budget, every packed layer is widened.
    /// </summary>
    public long? FlashBudget { get; init; }

    /// <summary>False keeps every packed weight int8 (the least flash) whatever the budget.</summary>
    public bool WidenWeights { get; init; } = true;

    /// <summary>On-device training to plan (<see cref="TrainingOptions"/>); null for inference only.</summary>
    public TrainingOptions? Train { get; init; }
}

/// <summary>
/// What a trainable build trains (docs/training.md): <c>Train="head"</c>, the classifier's FULLY_CONNECTED before the
/// SOFTMAX (weights and bias), or <c>Train="biases:K"</c>, the head plus the biases of the K weighted layers before it;
/// <see cref="LearningRate"/> is the starting rate.
/// </summary>
public sealed record TrainingOptions(string Mode, float LearningRate = TrainingOptions.DefaultLearningRate)
{
    /// <summary>The starting learning rate when none is given.</summary>
    public const float DefaultLearningRate = 0.01f;

    /// <summary>The most layers <c>biases:K</c> takes.</summary>
    public const int MaxBiasLayers = 64;

    /// <summary>K of <c>biases:K</c>; 0 for <c>head</c>.</summary>
    public int BiasLayers => Mode.StartsWith("biases:", StringComparison.Ordinal) ? int.Parse(Mode.Substring(7), CultureInfo.InvariantCulture) : 0;

    /// <summary>Reads a <c>Train</c> value: null or empty (or "none") for inference only; an unknown mode or a rate that
    /// is not a finite number above 0 is the TML0012 error.</summary>
    public static (TrainingOptions? Options, Diagnostic? Error) Parse(string? mode, string? learningRate = null)
    {
        if (string.IsNullOrWhiteSpace(mode) || string.Equals(mode!.Trim(), "none", StringComparison.OrdinalIgnoreCase))
            return (null, null);
        string m = mode.Trim().ToLowerInvariant();
        if (m.StartsWith("biases:", StringComparison.Ordinal))
        {
            if (!int.TryParse(m.Substring(7), NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1 || k > MaxBiasLayers)
                return Error($"Train=\"{mode}\": K in biases:K must be a whole number from 1 to {MaxBiasLayers} (the biases of the K layers before the head)");
            m = "biases:" + k.ToString(CultureInfo.InvariantCulture);
        }
        else if (m != "head")
            return Error($"Train=\"{mode}\" is not a training mode; use head or biases:K (or leave it empty for inference only)");
        float rate = DefaultLearningRate;
        if (!string.IsNullOrWhiteSpace(learningRate) &&
            (!float.TryParse(learningRate, NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || !(rate > 0) || float.IsInfinity(rate) || rate > 1e6f))
            return Error($"LearningRate=\"{learningRate}\" is not a number above 0 (for example 0.01)");
        return (new TrainingOptions(m, rate), null);
    }

    private static (TrainingOptions?, Diagnostic?) Error(string message) =>
        (null, new Diagnostic(DiagnosticIds.InvalidTrainMode, Severity.Error, message));
}
