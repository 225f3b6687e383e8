// SPDX-License-Identifier: Apache-2.0
namespace TinyML.Compiler.Ir;

/// <summary>Padding scheme of convolution and pooling.</summary>
public enum Padding : byte
{
    /// <summary>Output size = ceil(input / stride); zero points fill the border.</summary>
    Same = 0,
    /// <summary>Only windows fully inside the input.</summary>
    Valid = 1,
}

/// <summary>
/// Rows and columns of a PAD folded into a convolution or max pooling (<c>Lowering/PadFolding</c>): the operator reads
/// its input as if padded by these first, then applies its own <see cref="Padding"/>. Set only by the lowering; TFLite
/// has no such field.
/// </summary>
public sealed record FoldedPadding(int Top, int Bottom, int Left, int Right)
{
    /// <summary>"PAD top,bottom,left,right folded", for plan comments.</summary>
    public override string ToString() => $"PAD {Top},{Bottom},{Left},{Right} folded";
}

/// <summary>Activation fused into an operator. Values equal TFLite's ActivationFunctionType.</summary>
public enum Activation : byte
{
    /// <summary>No activation.</summary>
    None = 0,
    /// <summary>max(x, 0).</summary>
    Relu = 1,
    /// <summary>clamp(x, -1, 1).</summary>
    ReluN1To1 = 2,
    /// <summary>clamp(x, 0, 6).</summary>
    Relu6 = 3,
    /// <summary>tanh (not supported fused).</summary>
    Tanh = 4,
    /// <summary>sign bit (not supported fused).</summary>
    SignBit = 5,
}

/// <summary>Builtin options of an operator. Each record knows its TFLite union type.</summary>
public abstract record OperatorOptions
{
    /// <summary>The BuiltinOptions union type of the record.</summary>
    public abstract byte UnionType { get; }
}

/// <summary>Options of an operator whose option table carries no fields (PAD, TRANSPOSE, QUANTIZE, ...), or
/// whose fields we do not read.</summary>
public sealed record EmptyOptions(byte Type) : OperatorOptions
{
    /// <inheritdoc />
    public override byte UnionType => Type;
}

/// <summary>CONV_2D options.</summary>
public sealed record Conv2DOptions(Padding Padding, int StrideW, int StrideH, Activation Activation,
    int DilationW = 1, int DilationH = 1) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 1;
    /// <inheritdoc />
    public override byte UnionType => Union;
    /// <summary>A PAD folded into the operator by the lowering, or null.</summary>
    public FoldedPadding? FoldedPad { get; init; }
}

/// <summary>TRANSPOSE_CONV options (the fused activation is field 3, from version 4).</summary>
public sealed record TransposeConvOptions(Padding Padding, int StrideW, int StrideH, Activation Activation = Activation.None) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 49;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>DEPTHWISE_CONV_2D options.</summary>
public sealed record DepthwiseConv2DOptions(Padding Padding, int StrideW, int StrideH, int DepthMultiplier,
    Activation Activation, int DilationW = 1, int DilationH = 1) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 2;
    /// <inheritdoc />
    public override byte UnionType => Union;
    /// <summary>A PAD folded into the operator by the lowering, or null.</summary>
    public FoldedPadding? FoldedPad { get; init; }
}

/// <summary>AVERAGE_POOL_2D and MAX_POOL_2D options.</summary>
public sealed record Pool2DOptions(Padding Padding, int StrideW, int StrideH, int FilterW, int FilterH,
    Activation Activation) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 5;
    /// <inheritdoc />
    public override byte UnionType => Union;
    /// <summary>A PAD folded into the operator by the lowering, or null.</summary>
    public FoldedPadding? FoldedPad { get; init; }
}

/// <summary>SVDF options.</summary>
public sealed record SvdfOptions(int Rank, Activation Activation, bool AsymmetricQuantizeInputs) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 6;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>UNIDIRECTIONAL_SEQUENCE_LSTM options (schema.fbs UnidirectionalSequenceLSTMOptions; a clip of 0 is none).</summary>
public sealed record UnidirectionalSequenceLstmOptions(Activation Activation, float CellClip, float ProjectionClip,
    bool TimeMajor, bool AsymmetricQuantizeInputs) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 71;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>FULLY_CONNECTED options.</summary>
public sealed record FullyConnectedOptions(Activation Activation, byte WeightsFormat, bool KeepNumDims,
    bool AsymmetricQuantizeInputs) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 8;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>SOFTMAX options.</summary>
public sealed record SoftmaxOptions(float Beta) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 9;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>CONCATENATION options.</summary>
public sealed record ConcatenationOptions(int Axis, Activation Activation) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 10;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>ADD options.</summary>
public sealed record AddOptions(Activation Activation, bool PotScaleInt16 = true) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 11;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>RESHAPE options.</summary>
public sealed record ReshapeOptions(ValueArray<int>? NewShape) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 17;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>MUL options.</summary>
public sealed record MulOptions(Activation Activation) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 21;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>MEAN, SUM and REDUCE_MAX options.</summary>
public sealed record ReducerOptions(bool KeepDims) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 27;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>SUB options.</summary>
public sealed record SubOptions(Activation Activation, bool PotScaleInt16 = true) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 28;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>SQUEEZE options.</summary>
public sealed record SqueezeOptions(ValueArray<int> SqueezeDims) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 30;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>STRIDED_SLICE options.</summary>
public sealed record StridedSliceOptions(int BeginMask, int EndMask, int EllipsisMask, int NewAxisMask,
    int ShrinkAxisMask, bool Offset) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 32;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>LEAKY_RELU options.</summary>
public sealed record LeakyReluOptions(float Alpha) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 75;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>DIV: fused activation.</summary>
public sealed record DivOptions(Activation Activation) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 29;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>RESIZE_BILINEAR: corner alignment and half-pixel centres (TFLite forbids both at once).</summary>
public sealed record ResizeBilinearOptions(bool AlignCorners, bool HalfPixelCenters) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 15;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>RESIZE_NEAREST_NEIGHBOR: corner alignment and half-pixel centres.</summary>
public sealed record ResizeNearestNeighborOptions(bool AlignCorners, bool HalfPixelCenters) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 74;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>DEPTH_TO_SPACE: the block size.</summary>
public sealed record DepthToSpaceOptions(int BlockSize) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 94;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>SPACE_TO_DEPTH: the block size.</summary>
public sealed record SpaceToDepthOptions(int BlockSize) : OperatorOptions
{
    /// <summary>TFLite union type.</summary>
    public const byte Union = 19;
    /// <inheritdoc />
    public override byte UnionType => Union;
}

/// <summary>BuiltinOptions union types of the option tables that carry no fields we need.</summary>
public static class EmptyOptionUnions
{
    /// <summary>PadOptions.</summary>
    public const byte Pad = 22;
    /// <summary>TransposeOptions.</summary>
    public const byte Transpose = 26;
    /// <summary>DequantizeOptions.</summary>
    public const byte Dequantize = 38;
    /// <summary>PadV2Options.</summary>
    public const byte PadV2 = 43;
    /// <summary>QuantizeOptions.</summary>
    public const byte Quantize = 89;
    /// <summary>HardSwishOptions.</summary>
    public const byte HardSwish = 91;
    /// <summary>MaximumMinimumOptions (MAXIMUM and MINIMUM).</summary>
    public const byte MaximumMinimum = 39;
    /// <summary>LogSoftmaxOptions.</summary>
    public const byte LogSoftmax = 36;
}
