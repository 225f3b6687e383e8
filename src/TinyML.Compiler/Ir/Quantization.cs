// SPDX-License-Identifier: Apache-2.0
namespace TinyML.Compiler.Ir;

/// <summary>
/// Affine quantization: real = scale * (q - zero_point). Per-tensor when there is one scale; per-channel along
/// <see cref="QuantizedDimension"/> otherwise.
/// </summary>
public sealed record Quantization(ValueArray<float> Scales, ValueArray<long> ZeroPoints, int QuantizedDimension = 0)
{
    /// <summary>Calibration minimums, kept for round trips.</summary>
    public ValueArray<float> Min { get; init; } = ValueArray<float>.Empty;
    /// <summary>Calibration maximums, kept for round trips.</summary>
    public ValueArray<float> Max { get; init; } = ValueArray<float>.Empty;

    /// <summary>True when there are scales to quantize with.</summary>
    public bool HasScales => Scales.Count > 0;

    /// <summary>True when there is more than one scale.</summary>
    public bool IsPerChannel => Scales.Count > 1;

    /// <summary>The single scale of a per-tensor quantization.</summary>
    public float Scale => Scales[0];

    /// <summary>The single zero point of a per-tensor quantization (0 when none is given).</summary>
    public int ZeroPoint => ZeroPoints.Count > 0 ? (int)ZeroPoints[0] : 0;

    /// <summary>Per-tensor quantization.</summary>
    public static Quantization PerTensor(float scale, long zeroPoint) =>
        new(new[] { scale }, new[] { zeroPoint });
}
