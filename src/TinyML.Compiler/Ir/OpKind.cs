// SPDX-License-Identifier: Apache-2.0
namespace TinyML.Compiler.Ir;

/// <summary>
/// Builtin operator codes. Values equal TFLite's BuiltinOperator; only those we name are listed, others keep
/// their number and print as BUILTIN_n.
/// </summary>
public enum OpKind
{
    /// <summary>Element-wise addition.</summary>
    Add = 0,
    /// <summary>2-D average pooling.</summary>
    AveragePool2D = 1,
    /// <summary>Concatenation along an axis.</summary>
    Concatenation = 2,
    /// <summary>2-D convolution.</summary>
    Conv2D = 3,
    /// <summary>Depthwise 2-D convolution.</summary>
    DepthwiseConv2D = 4,
    /// <summary>Depth to space.</summary>
    DepthToSpace = 5,
    /// <summary>Quantized to float.</summary>
    Dequantize = 6,
    /// <summary>Floor.</summary>
    Floor = 8,
    /// <summary>Fully connected (dense).</summary>
    FullyConnected = 9,
    /// <summary>L2 normalization.</summary>
    L2Normalization = 11,
    /// <summary>L2 pooling.</summary>
    L2Pool2D = 12,
    /// <summary>Sigmoid.</summary>
    Logistic = 14,
    /// <summary>LSTM.</summary>
    Lstm = 16,
    /// <summary>2-D max pooling.</summary>
    MaxPool2D = 17,
    /// <summary>Element-wise multiplication.</summary>
    Mul = 18,
    /// <summary>max(x, 0).</summary>
    Relu = 19,
    /// <summary>clamp(x, -1, 1).</summary>
    ReluN1To1 = 20,
    /// <summary>clamp(x, 0, 6).</summary>
    Relu6 = 21,
    /// <summary>Reshape (an alias at run time).</summary>
    Reshape = 22,
    /// <summary>Bilinear resize.</summary>
    ResizeBilinear = 23,
    /// <summary>Softmax.</summary>
    Softmax = 25,
    /// <summary>Space to depth.</summary>
    SpaceToDepth = 26,
    /// <summary>Singular value decomposition filter (keyword spotting).</summary>
    Svdf = 27,
    /// <summary>Hyperbolic tangent.</summary>
    Tanh = 28,
    /// <summary>Call a subgraph.</summary>
    Call = 31,
    /// <summary>A custom operator, named by its custom code.</summary>
    Custom = 32,
    /// <summary>Constant padding.</summary>
    Pad = 34,
    /// <summary>Gather.</summary>
    Gather = 36,
    /// <summary>Permutation of dimensions.</summary>
    Transpose = 39,
    /// <summary>Mean over axes.</summary>
    Mean = 40,
    /// <summary>Element-wise subtraction.</summary>
    Sub = 41,
    /// <summary>Element-wise division.</summary>
    Div = 42,
    /// <summary>Removes size-1 dimensions (an alias at run time).</summary>
    Squeeze = 43,
    /// <summary>Unidirectional sequence LSTM.</summary>
    UnidirectionalSequenceLstm = 44,
    /// <summary>Strided slice.</summary>
    StridedSlice = 45,
    /// <summary>Exponential.</summary>
    Exp = 47,
    /// <summary>Split.</summary>
    Split = 49,
    /// <summary>Log softmax.</summary>
    LogSoftmax = 50,
    /// <summary>Type cast.</summary>
    Cast = 53,
    /// <summary>Parametric ReLU.</summary>
    Prelu = 54,
    /// <summary>Element-wise maximum.</summary>
    Maximum = 55,
    /// <summary>Arg max.</summary>
    ArgMax = 56,
    /// <summary>Element-wise minimum.</summary>
    Minimum = 57,
    /// <summary>Padding with a given constant.</summary>
    PadV2 = 60,
    /// <summary>Slice.</summary>
    Slice = 65,
    /// <summary>Transposed convolution.</summary>
    TransposeConv = 67,
    /// <summary>Adds a size-1 dimension.</summary>
    ExpandDims = 70,
    /// <summary>Sum over axes.</summary>
    Sum = 74,
    /// <summary>Shape.</summary>
    Shape = 77,
    /// <summary>Max over axes.</summary>
    ReduceMax = 82,
    /// <summary>Pack.</summary>
    Pack = 83,
    /// <summary>Unpack.</summary>
    Unpack = 88,
    /// <summary>Nearest-neighbour resize.</summary>
    ResizeNearestNeighbor = 97,
    /// <summary>max(x, alpha * x).</summary>
    LeakyRelu = 98,
    /// <summary>Mirror padding.</summary>
    MirrorPad = 100,
    /// <summary>x &lt; 0 ? e^x - 1 : x.</summary>
    Elu = 111,
    /// <summary>Split with sizes.</summary>
    SplitV = 102,
    /// <summary>Float or int to int, or int to int with new parameters.</summary>
    Quantize = 114,
    /// <summary>x * relu6(x + 3) / 6.</summary>
    HardSwish = 117,
    /// <summary>Batched matrix multiply.</summary>
    BatchMatMul = 126,
}

/// <summary>Names of operator codes.</summary>
public static class OpKinds
{
    /// <summary>The TFLite spelling, for example CONV_2D; BUILTIN_n for codes we do not name.</summary>
    public static string Name(OpKind kind) => kind switch
    {
        OpKind.Add => "ADD",
        OpKind.AveragePool2D => "AVERAGE_POOL_2D",
        OpKind.Concatenation => "CONCATENATION",
        OpKind.Conv2D => "CONV_2D",
        OpKind.DepthwiseConv2D => "DEPTHWISE_CONV_2D",
        OpKind.DepthToSpace => "DEPTH_TO_SPACE",
        OpKind.Dequantize => "DEQUANTIZE",
        OpKind.Floor => "FLOOR",
        OpKind.FullyConnected => "FULLY_CONNECTED",
        OpKind.L2Normalization => "L2_NORMALIZATION",
        OpKind.L2Pool2D => "L2_POOL_2D",
        OpKind.Logistic => "LOGISTIC",
        OpKind.Lstm => "LSTM",
        OpKind.MaxPool2D => "MAX_POOL_2D",
        OpKind.Mul => "MUL",
        OpKind.Relu => "RELU",
        OpKind.ReluN1To1 => "RELU_N1_TO_1",
        OpKind.Relu6 => "RELU6",
        OpKind.Reshape => "RESHAPE",
        OpKind.ResizeBilinear => "RESIZE_BILINEAR",
        OpKind.Softmax => "SOFTMAX",
        OpKind.SpaceToDepth => "SPACE_TO_DEPTH",
        OpKind.Svdf => "SVDF",
        OpKind.Tanh => "TANH",
        OpKind.Call => "CALL",
        OpKind.Custom => "CUSTOM",
        OpKind.Pad => "PAD",
        OpKind.Gather => "GATHER",
        OpKind.Transpose => "TRANSPOSE",
        OpKind.Mean => "MEAN",
        OpKind.Sub => "SUB",
        OpKind.Div => "DIV",
        OpKind.Squeeze => "SQUEEZE",
        OpKind.UnidirectionalSequenceLstm => "UNIDIRECTIONAL_SEQUENCE_LSTM",
        OpKind.StridedSlice => "STRIDED_SLICE",
        OpKind.Exp => "EXP",
        OpKind.Split => "SPLIT",
        OpKind.LogSoftmax => "LOG_SOFTMAX",
        OpKind.Cast => "CAST",
        OpKind.Prelu => "PRELU",
        OpKind.Maximum => "MAXIMUM",
        OpKind.ArgMax => "ARG_MAX",
        OpKind.Minimum => "MINIMUM",
        OpKind.PadV2 => "PADV2",
        OpKind.Slice => "SLICE",
        OpKind.TransposeConv => "TRANSPOSE_CONV",
        OpKind.ExpandDims => "EXPAND_DIMS",
        OpKind.Sum => "SUM",
        OpKind.Shape => "SHAPE",
        OpKind.ReduceMax => "REDUCE_MAX",
        OpKind.Pack => "PACK",
        OpKind.Unpack => "UNPACK",
        OpKind.ResizeNearestNeighbor => "RESIZE_NEAREST_NEIGHBOR",
        OpKind.LeakyRelu => "LEAKY_RELU",
        OpKind.MirrorPad => "MIRROR_PAD",
        OpKind.Elu => "ELU",
        OpKind.SplitV => "SPLIT_V",
        OpKind.Quantize => "QUANTIZE",
        OpKind.HardSwish => "HARD_SWISH",
        OpKind.BatchMatMul => "BATCH_MATMUL",
        _ => $"BUILTIN_{(int)kind}",
    };
}
