// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Onnx;

/// <summary>ONNX operators that compute: convolutions, matrix products, pooling, element-wise and activations.</summary>
internal sealed partial class OnnxImporter
{
    /// <summary>Every ONNX operator (default domain) we import, and its converter.</summary>
    private static readonly Dictionary<string, Action<OnnxImporter, OnnxNode>> Converters = new(StringComparer.Ordinal)
    {
        ["Conv"] = (m, n) => m.Windowed(n, m.Conv),
        ["ConvTranspose"] = (m, n) => m.Windowed(n, m.ConvTranspose),
        ["Gemm"] = (m, n) => m.Gemm(n),
        ["MatMul"] = (m, n) => m.MatMul(n),
        ["Add"] = (m, n) => m.Binary(n, OpKind.Add),
        ["Sub"] = (m, n) => m.Binary(n, OpKind.Sub),
        ["Mul"] = (m, n) => m.Binary(n, OpKind.Mul),
        ["Div"] = (m, n) => m.Binary(n, OpKind.Div),
        ["Min"] = (m, n) => m.Binary(n, OpKind.Minimum),
        ["Max"] = (m, n) => m.Binary(n, OpKind.Maximum),
        ["PRelu"] = (m, n) => m.Binary(n, OpKind.Prelu),
        ["Relu"] = (m, n) => m.Unary(n, OpKind.Relu),
        ["Sigmoid"] = (m, n) => m.Unary(n, OpKind.Logistic),
        ["Tanh"] = (m, n) => m.Unary(n, OpKind.Tanh),
        ["HardSwish"] = (m, n) => m.Unary(n, OpKind.HardSwish),
        ["HardSigmoid"] = (m, n) => m.HardSigmoid(n),
        ["Mean"] = (m, n) => m.Mean(n),
        ["Sum"] = (m, n) => m.Mean(n),
        ["LeakyRelu"] = (m, n) => m.Unary(n, OpKind.LeakyRelu, new LeakyReluOptions(n.Float("alpha", 0.01f))),
        ["Clip"] = (m, n) => m.Clip(n),
        ["Softmax"] = (m, n) => m.Softmax(n, OpKind.Softmax),
        ["LogSoftmax"] = (m, n) => m.Softmax(n, OpKind.LogSoftmax),
        ["Elu"] = (m, n) => m.Elu(n),
        ["Resize"] = (m, n) => m.Resize(n),
        ["Upsample"] = (m, n) => m.Resize(n),
        ["DepthToSpace"] = (m, n) => m.BlockRearrange(n, OpKind.DepthToSpace),
        ["SpaceToDepth"] = (m, n) => m.BlockRearrange(n, OpKind.SpaceToDepth),
        ["MaxPool"] = (m, n) => m.Windowed(n, x => m.Pool(x, OpKind.MaxPool2D)),
        ["AveragePool"] = (m, n) => m.Windowed(n, x => m.Pool(x, OpKind.AveragePool2D)),
        ["GlobalAveragePool"] = (m, n) => m.Windowed(n, x => m.GlobalPool(x, OpKind.AveragePool2D)),
        ["GlobalMaxPool"] = (m, n) => m.Windowed(n, x => m.GlobalPool(x, OpKind.MaxPool2D)),
        ["BatchNormalization"] = (m, n) => m.BatchNormalization(n),
        ["ReduceMean"] = (m, n) => m.ReduceMean(n),
        ["Reshape"] = (m, n) => m.Reshape(n),
        ["Flatten"] = (m, n) => m.Flatten(n),
        ["Squeeze"] = (m, n) => m.Squeeze(n),
        ["Unsqueeze"] = (m, n) => m.Unsqueeze(n),
        ["Transpose"] = (m, n) => m.Transpose(n),
        ["Concat"] = (m, n) => m.Concat(n),
        ["Split"] = (m, n) => m.Split(n),
        ["Slice"] = (m, n) => m.Slice(n),
        ["Pad"] = (m, n) => m.Pad(n),
        ["Gather"] = (m, n) => m.Gather(n),
        ["Identity"] = (m, n) => m.Alias(n),
        ["Dropout"] = (m, n) => m.Alias(n),
        ["Cast"] = (m, n) => m.Cast(n),
        ["Shape"] = (m, n) => m.Shape(n),
        ["Constant"] = (m, n) => m.Constant(n),
        ["ConstantOfShape"] = (m, n) => m.ConstantOfShape(n),
        ["QuantizeLinear"] = (m, n) => m.QuantizeLinear(n),
        ["DequantizeLinear"] = (m, n) => m.DequantizeLinear(n),
        ["QLinearConv"] = (m, n) => m.QLinearConv(n),
        ["QLinearMatMul"] = (m, n) => m.QLinearMatMul(n),
        ["com.microsoft.QuantizeLinear"] = (m, n) => m.QuantizeLinear(n),
        ["com.microsoft.DequantizeLinear"] = (m, n) => m.DequantizeLinear(n),
        ["com.microsoft.QLinearAdd"] = (m, n) => m.QLinearBinary(n, "Add"),
        ["com.microsoft.QLinearMul"] = (m, n) => m.QLinearBinary(n, "Mul"),
        ["com.microsoft.QLinearSigmoid"] = (m, n) => m.QLinearUnary(n, "Sigmoid"),
        ["com.microsoft.QLinearLeakyRelu"] = (m, n) => m.QLinearUnary(n, "LeakyRelu"),
        ["com.microsoft.QLinearSoftmax"] = (m, n) => m.QLinearUnary(n, "Softmax"),
        ["com.microsoft.QLinearAveragePool"] = (m, n) => m.QLinearUnary(n, "AveragePool"),
        ["com.microsoft.QLinearGlobalAveragePool"] = (m, n) => m.QLinearUnary(n, "GlobalAveragePool"),
        ["com.microsoft.QLinearConcat"] = (m, n) => m.QLinearConcat(n),
        ["Neg"] = (m, n) => m.FoldOnly(n),
        ["Range"] = (m, n) => m.FoldOnly(n),
    };

    /// <summary>The converter's key: the op type in the default domain, "domain.op type" in another.</summary>
    private static string ConverterKey(Proto.NodeProto node) => node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";

    private void Convert(OnnxNode node)
    {
        if (TryFold(node)) return;
        Converters[ConverterKey(node.Proto)](this, node);
    }

    private OnnxConstant RequireConstant(OnnxNode node, int input, string what) =>
        Value(node.Input(input)).Constant ?? throw Refuse(DiagnosticIds.UnsupportedOperator,
            $"its {what} ('{node.Input(input)}') must be a constant (an initializer or computed from constants); weights computed at run time are not supported");

    /// <summary>A run-time input of a float computation; int inputs reach here only through QDQ import.</summary>
    private OnnxValue RunTimeInput(OnnxNode node, int input)
    {
        var value = Value(node.Input(input));
        if (value.Constant is not null) throw Refuse(DiagnosticIds.UnsupportedModelStructure, $"input {input} is a constant, but this node needs it at run time");
        return value;
    }

    private static int[] Pair(long[]? values, int fallback, string name)
    {
        if (values is null) return new[] { fallback, fallback };
        if (values.Length != 2 || values.Any(v => v < 1 || v > 1 << 16))
            throw Refuse(DiagnosticIds.InvalidOperator, $"{name} [{string.Join(",", values)}] must be two values from 1 (2-D)");
        return values.Select(v => (int)v).ToArray();
    }

    /// <summary>The padding of one spatial axis, and the output size.</summary>
    private readonly record struct AxisPadding(int Begin, int End, int Output);

    /// <summary>ONNX's pads, auto_pad and ceil_mode for one axis (ONNX's Conv and pooling output-size rules).</summary>
    private static AxisPadding Padding(OnnxNode node, int axis, int input, int kernel, int stride, int dilation, bool ceil)
    {
        int effective = (kernel - 1) * dilation + 1;
        string autoPad = node.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "SAME_UPPER" or "SAME_LOWER":
            {
                int output = (input + stride - 1) / stride;
                int total = Math.Max((output - 1) * stride + effective - input, 0);
                int small = total / 2, large = total - small;
                return autoPad == "SAME_UPPER" ? new AxisPadding(small, large, output) : new AxisPadding(large, small, output);
            }
            case "VALID":
                if (input < effective) throw Refuse(DiagnosticIds.InvalidShape, $"the window ({effective}) is larger than the input ({input})");
                return new AxisPadding(0, 0, (input - effective) / stride + 1);
            case "NOTSET":
            {
                var pads = node.Ints("pads") ?? new long[4];
                if (pads.Length != 4 || pads.Any(p => p < 0 || p > 1 << 16))
                    throw Refuse(DiagnosticIds.InvalidOperator, $"pads [{string.Join(",", pads)}] must be four values from 0 (2-D)");
                int begin = (int)pads[axis], end = (int)pads[axis + 2];
                long span = (long)input + begin + end - effective;
                if (span < 0) throw Refuse(DiagnosticIds.InvalidShape, $"the window ({effective}) is larger than the padded input ({input + begin + end})");
                int output = (int)(span / stride) + 1;
                if (ceil && span % stride != 0)
                {
                    // Ceil mode adds a last window, unless it would start inside the end padding.
                    if ((long)output * stride < input + begin) output++;
                }
                return new AxisPadding(begin, end, output);
            }
            default:
                throw Refuse(DiagnosticIds.InvalidOperator, $"auto_pad '{autoPad}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
        }
    }

    /// <summary>True when TFLite's SAME padding is this padding (TFLite puts the odd row at the end, like SAME_UPPER).</summary>
    private static bool IsTfliteSame(AxisPadding p, int input, int kernel, int stride, int dilation)
    {
        int output = (input + stride - 1) / stride;
        int total = Math.Max((output - 1) * stride + (kernel - 1) * dilation + 1 - input, 0);
        return p.Output == output && p.Begin == total / 2 && p.End == total - total / 2;
    }

    /// <summary>
    /// The NHWC input of a windowed operator with its padding: SAME or VALID when TFLite's match, else an explicit PAD
    /// (or PADV2 with <paramref name="fill"/>) in front and VALID; the lowering folds such a PAD back into the window.
    /// The end padding grows when an extra last window (ceil mode) needs rows the explicit pads do not give. TFLite's
    /// average pooling leaves SAME padding out of the count, so an average that counts the padding always gets the PAD.
    /// On a dequantized input, QdqFusion moves the PAD onto the integers.
    /// </summary>
    private (int Tensor, Padding Padding) PaddedInput(OnnxValue x, AxisPadding h, AxisPadding w, int kh, int kw, int sh, int sw, int dh, int dw, float fill, bool sameExcludesPadding = false)
    {
        int input = TensorIn(x, ChannelsLast(4));
        int height = x.Shape[2], width = x.Shape[3];
        int bottom = Math.Max(h.End, (h.Output - 1) * sh + (kh - 1) * dh + 1 - height - h.Begin);
        int right = Math.Max(w.End, (w.Output - 1) * sw + (kw - 1) * dw + 1 - width - w.Begin);
        if (h.Begin == 0 && w.Begin == 0 && bottom == 0 && right == 0 && h.End == 0 && w.End == 0) return (input, Ir.Padding.Valid);
        if (!sameExcludesPadding && bottom == h.End && right == w.End && IsTfliteSame(h, height, kh, sh, dh) && IsTfliteSame(w, width, kw, sw, dw)) return (input, Ir.Padding.Same);
        var shape = new[] { x.Shape[0], height + h.Begin + bottom, width + w.Begin + right, x.Shape[1] };
        int paddings = AddConstant(x.Name + "/paddings", DataType.Int32, new[] { 4, 2 },
            OnnxConstant.Of(new long[] { 0, 0, h.Begin, bottom, w.Begin, right, 0, 0 }, 4, 2).Bytes(DataType.Int32));
        var source = _graph.Tensors[input];
        int padded = AddTensor(x.Name + "/padded", source.Type, shape);
        if (fill == 0)
            Emit(OpKind.Pad, new[] { input, paddings }, new[] { padded });
        else
            Emit(OpKind.PadV2, new[] { input, paddings, FloatScalar(x.Name + "/fill", fill) }, new[] { padded });
        return (padded, Ir.Padding.Valid);
    }

    /// <summary>
    /// A convolution or pooling node: 2-D as it is; 1-D ([N, C, L], PyTorch's Conv1d) as 2-D over [N, C, 1, L], its
    /// weights and window attributes given a height of 1, the result's height axis dropped again (aliases both ways:
    /// a 1-D chain stays channels-last without transposes).
    /// </summary>
    private void Windowed(OnnxNode node, Action<OnnxNode> convert)
    {
        if (Value(node.Input(0)).Rank != 3)
        {
            convert(node);
            return;
        }
        var proto = new Proto.NodeProto { OpType = node.OpType, Name = node.Proto.Name };
        proto.Input.Add(InsertAxes(node.Name("as_2d"), Value(node.Input(0)), new[] { 2 }).Name);
        for (int i = 1; i < node.Proto.Input.Count; i++)
        {
            string input = node.Proto.Input[i];
            // Weights [M, C, k] become [M, C, 1, k].
            if (i == 1 && input.Length > 0 && Value(input).Rank == 3) input = InsertAxes(node.Name("weights_2d"), Value(input), new[] { 2 }).Name;
            proto.Input.Add(input);
        }
        proto.Output.Add(node.Name("output_2d"));
        foreach (var attribute in node.Proto.Attribute)
        {
            var copy = attribute.Clone();
            if (attribute.Name is "strides" or "dilations" or "kernel_shape" or "output_padding" or "output_shape")
                copy.Ints.Insert(0, attribute.Name == "output_shape" ? 1L : attribute.Name == "output_padding" ? 0L : 1L);
            else if (attribute.Name == "pads" && attribute.Ints.Count == 2)
            {
                copy.Ints.Clear();
                copy.Ints.Add(new long[] { 0, attribute.Ints[0], 0, attribute.Ints[1] });
            }
            proto.Attribute.Add(copy);
        }
        convert(new OnnxNode(proto, node.Index));
        DropAxes(node.Output(0), Value(node.Name("output_2d")), new[] { 2 });
    }

    private void Conv(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        var weights = RequireConstant(node, 1, "weights");
        if (x.Rank != 4 || weights.Shape.Length != 4)
            throw Refuse(DiagnosticIds.UnsupportedOperator, $"only 1-D and 2-D convolutions are supported (input {Shapes.Format(x.Shape)}, weights {Shapes.Format(weights.Shape)})");
        int group = checked((int)node.Int("group", 1));
        int channels = x.Shape[1], filters = weights.Shape[0], kh = weights.Shape[2], kw = weights.Shape[3];
        if (group < 1 || channels % group != 0 || filters % group != 0 || weights.Shape[1] * group != channels)
            throw Refuse(DiagnosticIds.InvalidShape, $"weights {Shapes.Format(weights.Shape)} with group={group} do not fit {channels} input channels");
        bool depthwise = group > 1 && group == channels && weights.Shape[1] == 1;
        if (group > 1 && !depthwise)
        {
            GroupedConv(node, x, weights, group);
            return;
        }
        if (node.Ints("kernel_shape") is { } kernelShape && !kernelShape.SequenceEqual(new long[] { kh, kw }))
            throw Refuse(DiagnosticIds.InvalidOperator, $"kernel_shape [{string.Join(",", kernelShape)}] differs from the weights' {kh}x{kw}");
        var strides = Pair(node.Ints("strides"), 1, "strides");
        var dilations = Pair(node.Ints("dilations"), 1, "dilations");
        var h = Padding(node, 0, x.Shape[2], kh, strides[0], dilations[0], ceil: false);
        var w = Padding(node, 1, x.Shape[3], kw, strides[1], dilations[1], ceil: false);
        var (input, padding) = PaddedInput(x, h, w, kh, kw, strides[0], strides[1], dilations[0], dilations[1], 0);
        int bias = -1;
        if (node.HasInput(2))
        {
            var b = RequireConstant(node, 2, "bias");
            if (b.Count != filters) throw Refuse(DiagnosticIds.InvalidShape, $"the bias has {b.Count} values for {filters} filters");
            bias = ConstantTensor(node.Input(2), b.WithShape(new[] { filters }));
        }
        var shape = new[] { x.Shape[0], filters, h.Output, w.Output };
        if (depthwise)
        {
            // ONNX [M, 1, kh, kw] becomes TFLite's [1, kh, kw, M].
            var dw = weights.Transposed(new[] { 1, 2, 3, 0 });
            int wt = ConstantTensor(node.Input(1), dw);
            var options = new DepthwiseConv2DOptions(padding, strides[1], strides[0], filters / channels, Activation.None, dilations[1], dilations[0]);
            Produce(node.Output(0), x.Type, shape, ChannelsLast(4), t => Emit(OpKind.DepthwiseConv2D, new[] { input, wt, bias }, new[] { t }, options, 2));
        }
        else
        {
            // ONNX [M, C, kh, kw] becomes TFLite's OHWI.
            var ohwi = weights.Transposed(new[] { 0, 2, 3, 1 });
            int wt = ConstantTensor(node.Input(1), ohwi);
            var options = new Conv2DOptions(padding, strides[1], strides[0], Activation.None, dilations[1], dilations[0]);
            Produce(node.Output(0), x.Type, shape, ChannelsLast(4), t => Emit(OpKind.Conv2D, new[] { input, wt, bias }, new[] { t }, options));
        }
    }

    private void ConvTranspose(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        var weights = RequireConstant(node, 1, "weights");
        if (x.Rank != 4 || weights.Shape.Length != 4)
            throw Refuse(DiagnosticIds.UnsupportedOperator, $"only 1-D and 2-D transposed convolutions are supported (input {Shapes.Format(x.Shape)}, weights {Shapes.Format(weights.Shape)})");
        node.RefuseUnless("group", 1, "grouped transposed convolution");
        var dilations = Pair(node.Ints("dilations"), 1, "dilations");
        if (dilations[0] != 1 || dilations[1] != 1) throw Refuse(DiagnosticIds.UnsupportedOperator, "dilated transposed convolution is not supported");
        int channels = x.Shape[1], filters = weights.Shape[1], kh = weights.Shape[2], kw = weights.Shape[3];
        if (weights.Shape[0] != channels) throw Refuse(DiagnosticIds.InvalidShape, $"weights {Shapes.Format(weights.Shape)} do not fit {channels} input channels");
        var strides = Pair(node.Ints("strides"), 1, "strides");
        var outputPadding = node.Ints("output_padding") ?? new long[2];
        if (outputPadding.Length != 2) throw Refuse(DiagnosticIds.InvalidOperator, "output_padding must give two values (2-D)");
        // TRANSPOSE_CONV with VALID computes the full output, (in - 1) * stride + kernel; ONNX's output is a window of it
        // that starts at the begin pads.
        int[] full = { (x.Shape[2] - 1) * strides[0] + kh, (x.Shape[3] - 1) * strides[1] + kw };
        var begin = new int[2];
        var size = new int[2];
        var outputShape = node.Ints("output_shape");
        string autoPad = node.String("auto_pad", "NOTSET");
        var pads = node.Ints("pads") ?? new long[4];
        for (int a = 0; a < 2; a++)
        {
            int natural = full[a] + (int)outputPadding[a];
            if (outputShape is not null)
            {
                int wanted = (int)outputShape[outputShape.Length - 2 + a];
                int total = natural - wanted;
                // ONNX: SAME_UPPER puts the larger half of the padding at the end, as does an explicit output_shape.
                begin[a] = autoPad == "SAME_LOWER" ? total - total / 2 : total / 2;
                size[a] = wanted;
            }
            else if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                int wanted = x.Shape[2 + a] * strides[a];
                int total = natural - wanted;
                begin[a] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                size[a] = wanted;
            }
            else
            {
                if (pads.Length != 4 || pads.Any(p => p < 0)) throw Refuse(DiagnosticIds.InvalidOperator, $"pads [{string.Join(",", pads)}] must be four values from 0 (2-D)");
                begin[a] = (int)pads[a];
                size[a] = natural - (int)pads[a] - (int)pads[a + 2];
            }
            if (begin[a] < 0 || size[a] < 1)
                throw Refuse(DiagnosticIds.InvalidShape, $"the output window of {size[a]} from {begin[a]} is empty or starts before the output");
        }
        // output_padding may reach past the full output: those rows and columns get only the bias.
        int[] excess = { Math.Max(0, begin[0] + size[0] - full[0]), Math.Max(0, begin[1] + size[1] - full[1]) };
        // ONNX [C_in, C_out, kh, kw] becomes TFLite's [C_out, kh, kw, C_in].
        int wt = ConstantTensor(node.Input(1), weights.Transposed(new[] { 1, 2, 3, 0 }));
        bool extended = excess[0] > 0 || excess[1] > 0;
        var biasConstant = node.HasInput(2) ? RequireConstant(node, 2, "bias").WithShape(new[] { filters }) : null;
        int bias = biasConstant is not null && !extended ? ConstantTensor(node.Input(2), biasConstant) : -1;
        int input = TensorIn(x, ChannelsLast(4));
        var fullShape = new[] { x.Shape[0], filters, full[0], full[1] };
        bool cropped = extended || begin[0] != 0 || begin[1] != 0 || size[0] != full[0] || size[1] != full[1];
        string fullName = cropped ? node.Name("full") : node.Output(0);
        int outputShapeTensor = AddInts(node.Name("output_shape"), Permute(fullShape, ChannelsLast(4)));
        var options = new TransposeConvOptions(Ir.Padding.Valid, strides[1], strides[0]);
        var value = Produce(fullName, x.Type, fullShape, ChannelsLast(4), t =>
            Emit(OpKind.TransposeConv, new[] { outputShapeTensor, wt, input, bias }, new[] { t }, options, bias >= 0 ? 3 : 1));
        if (extended)
        {
            // Zero rows and columns at the end, then the bias on everything.
            var padded = new[] { fullShape[0], filters, full[0] + excess[0], full[1] + excess[1] };
            int paddings = AddConstant(node.Name("paddings"), DataType.Int32, new[] { 4, 2 }, OnnxConstant.Of(new long[] { 0, 0, 0, excess[0], 0, excess[1], 0, 0 }, 4, 2).Bytes(DataType.Int32));
            int source = value.Tensor;
            value = Produce(node.Name("extended"), x.Type, padded, ChannelsLast(4), t => Emit(OpKind.Pad, new[] { source, paddings }, new[] { t }));
            if (biasConstant is not null)
            {
                var perChannel = new OnnxValue(node.Name("bias_per_channel"), OnnxTypes.Float, new[] { 1, filters, 1, 1 }) { Constant = biasConstant.WithShape(new[] { 1, filters, 1, 1 }) };
                int operand = TensorIn(perChannel, ChannelsLast(4)), summed = value.Tensor;
                value = Produce(node.Name("biased"), x.Type, padded, ChannelsLast(4), t => Emit(OpKind.Add, new[] { summed, operand }, new[] { t }, BinaryOptions(OpKind.Add)));
            }
        }
        if (!cropped) return;
        var ends = new[] { fullShape[0], filters, begin[0] + size[0], begin[1] + size[1] };
        StridedSlice(node.Output(0), value, new[] { 0, 0, begin[0], begin[1] }, ends, new[] { 1, 1, 1, 1 }, new[] { x.Shape[0], filters, size[0], size[1] });
    }

    /// <summary>
    /// A grouped convolution (neither 1 group nor depthwise) as one convolution per group on a slice of the channels,
    /// concatenated: each group is an ordinary CONV_2D, in float and in int8 alike.
    /// </summary>
    private void GroupedConv(OnnxNode node, OnnxValue x, OnnxConstant weights, int group)
    {
        int perGroup = x.Shape[1] / group, filtersPerGroup = weights.Shape[0] / group;
        var bias = node.HasInput(2) ? RequireConstant(node, 2, "bias") : null;
        var parts = new List<OnnxValue>();
        for (int g = 0; g < group; g++)
        {
            var starts = new int[4];
            var ends = x.Shape.ToArray();
            starts[1] = g * perGroup;
            ends[1] = (g + 1) * perGroup;
            var channels = StridedSlice(node.Name($"group{g}_input"), x, starts, ends, new[] { 1, 1, 1, 1 }, new[] { x.Shape[0], perGroup, x.Shape[2], x.Shape[3] });
            var proto = new Proto.NodeProto { OpType = "Conv", Name = node.Name($"group{g}") };
            proto.Input.Add(channels.Name);
            proto.Input.Add(DefineConstant(node.Name($"group{g}_weights"), weights.Rows(g * filtersPerGroup, filtersPerGroup)));
            if (bias is not null) proto.Input.Add(DefineConstant(node.Name($"group{g}_bias"), bias.Rows(g * filtersPerGroup, filtersPerGroup)));
            proto.Output.Add(node.Name($"group{g}_output"));
            proto.Attribute.Add(node.Proto.Attribute.Where(a => a.Name != "group"));
            Conv(new OnnxNode(proto, node.Index));
            parts.Add(Value(proto.Output[0]));
        }
        var shape = parts[0].Shape.ToArray();
        shape[1] = parts.Sum(p => p.Shape[1]);
        var layout = parts[0].Layout;
        var tensors = parts.Select(p => TensorIn(p, layout)).ToArray();
        int irAxis = Array.IndexOf(layout, 1);
        Produce(node.Output(0), x.Type, shape, layout, t => Emit(OpKind.Concatenation, tensors, new[] { t }, new ConcatenationOptions(irAxis, Activation.None)));
    }

    private string DefineConstant(string name, OnnxConstant constant)
    {
        Define(name, new OnnxValue(name, constant.Type, constant.Shape) { Constant = constant });
        return name;
    }

    /// <summary>A fully-connected layer: <paramref name="a"/> [.., K] times constant weights [N, K], plus a bias.</summary>
    private OnnxValue FullyConnected(OnnxNode node, OnnxValue a, OnnxConstant weights, OnnxConstant? bias)
    {
        int k = weights.Shape[1], n = weights.Shape[0];
        if (a.Shape[a.Rank - 1] != k) throw Refuse(DiagnosticIds.InvalidShape, $"{Shapes.Format(a.Shape)} cannot be multiplied by {k}x{n} weights");
        int input = TensorIn(a, Identity(a.Rank));
        int wt = ConstantTensor(node.Input(1), weights);
        int bt = bias is null ? -1 : ConstantTensor(node.Name("bias"), bias);
        var shape = a.Shape.Take(a.Rank - 1).Concat(new[] { n }).ToArray();
        bool keep = a.Rank != 2;
        return Produce(node.Output(0), a.Type, shape, Identity(shape.Length), t =>
            Emit(OpKind.FullyConnected, new[] { input, wt, bt }, new[] { t }, new FullyConnectedOptions(Activation.None, 0, keep, false), keep ? 5 : 1));
    }

    private void Gemm(OnnxNode node)
    {
        var a = RunTimeInput(node, 0);
        var b = RequireConstant(node, 1, "B matrix");
        if (a.Rank != 2 || b.Shape.Length != 2) throw Refuse(DiagnosticIds.InvalidShape, $"Gemm takes 2-D matrices, not {Shapes.Format(a.Shape)} and {Shapes.Format(b.Shape)}");
        node.RefuseUnless("transA", 0, "the run-time matrix A must not be transposed");
        float alpha = node.Float("alpha", 1f), beta = node.Float("beta", 1f);
        // FULLY_CONNECTED takes weights as [N, K]: B transposed unless transB says it already is.
        var weights = node.Int("transB", 0) != 0 ? b : b.Transposed(new[] { 1, 0 });
        if (alpha != 1f) weights = OnnxConstant.Of(weights.AsFloats().Select(v => v * alpha).ToArray(), weights.Shape);
        int n = weights.Shape[0];
        OnnxConstant? bias = null;
        if (node.HasInput(2))
        {
            var c = RequireConstant(node, 2, "C matrix");
            bool perColumn = c.Count == n && (c.Shape.Length == 1 || c.Shape.Length == 2 && c.Shape[0] == 1);
            if (!perColumn && c.Count != 1) throw Refuse(DiagnosticIds.UnsupportedOperator, $"a C matrix of shape {Shapes.Format(c.Shape)} is not supported (only a bias of {n} values or a scalar)");
            // A quantized bias (int32 behind DequantizeLinear) stays integer when nothing scales it.
            bias = beta == 1f && c.Shape.Length == 1 && c.Count == n ? c
                : OnnxConstant.Of(Enumerable.Range(0, n).Select(j => beta * c.Float(perColumn ? j : 0)).ToArray(), n);
        }
        FullyConnected(node, a, weights, bias);
    }

    private void MatMul(OnnxNode node)
    {
        var a = RunTimeInput(node, 0);
        var b = Value(node.Input(1)).Constant ?? throw Refuse(DiagnosticIds.UnsupportedOperator, "a matrix product of two run-time tensors (batch matmul) is not supported; the second operand must be constant");
        if (a.Rank < 2 || b.Shape.Length != 2) throw Refuse(DiagnosticIds.UnsupportedOperator, $"only [.., K] x [K, N] products with constant 2-D weights are supported, not {Shapes.Format(a.Shape)} x {Shapes.Format(b.Shape)}");
        FullyConnected(node, a, b.Transposed(new[] { 1, 0 }), null);
    }

    /// <summary>Element-wise operators with numpy broadcasting; the output takes a run-time input's layout.</summary>
    private void Binary(OnnxNode node, OpKind kind)
    {
        var x = Value(node.Input(0));
        var y = Value(node.Input(1));
        var shape = Broadcast(x.Shape, y.Shape);
        int rank = shape.Length;
        var lead = new[] { x, y }.FirstOrDefault(v => v.Constant is null && v.Rank == rank);
        var layout = lead?.Layout ?? Identity(rank);
        int a = TensorIn(Unsqueezed(x, rank), layout), b = TensorIn(Unsqueezed(y, rank), layout);
        int type = (x.Constant is null ? x : y).Type;
        if (node.InputCount != 2) throw Refuse(DiagnosticIds.UnsupportedOperator, $"{node.OpType} of {node.InputCount} inputs is supported only with two");
        Produce(node.Output(0), type, shape, layout, t => Emit(kind, new[] { a, b }, new[] { t }, BinaryOptions(kind)));
    }

    /// <summary>The options of a binary element-wise operator, without a fused activation.</summary>
    private static OperatorOptions? BinaryOptions(OpKind kind) => kind switch
    {
        OpKind.Add => new AddOptions(Activation.None),
        OpKind.Sub => new SubOptions(Activation.None),
        OpKind.Mul => new MulOptions(Activation.None),
        OpKind.Div => new DivOptions(Activation.None),
        OpKind.Minimum or OpKind.Maximum => new EmptyOptions(EmptyOptionUnions.MaximumMinimum),
        _ => null,
    };

    private void Unary(OnnxNode node, OpKind kind, OperatorOptions? options = null)
    {
        var x = RunTimeInput(node, 0);
        int input = x.Tensor;
        Produce(node.Output(0), x.Type, x.Shape, x.Layout, t => Emit(kind, new[] { input }, new[] { t }, options));
    }

    /// <summary>HardSigmoid: max(0, min(1, alpha * x + beta)), as MUL, ADD, RELU and MINIMUM in ONNX's order.</summary>
    private void HardSigmoid(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        float alpha = node.Float("alpha", 0.2f), beta = node.Float("beta", 0.5f);
        var irShape = Permute(x.Shape, x.Layout);
        int Step(OpKind kind, int input, int operand, OperatorOptions? options, string name)
        {
            int t = AddTensor(node.Name(name), DataType.Float32, irShape);
            Emit(kind, operand < 0 ? new[] { input } : new[] { input, operand }, new[] { t }, options);
            return t;
        }
        int scaled = Step(OpKind.Mul, x.Tensor, FloatScalar(node.Name("alpha"), alpha), BinaryOptions(OpKind.Mul), "scaled");
        int shifted = Step(OpKind.Add, scaled, FloatScalar(node.Name("beta"), beta), new AddOptions(Activation.Relu), "shifted");
        int one = FloatScalar(node.Name("one"), 1f);
        Produce(node.Output(0), x.Type, x.Shape, x.Layout, t => Emit(OpKind.Minimum, new[] { shifted, one }, new[] { t }, BinaryOptions(OpKind.Minimum)));
    }

    /// <summary>Sum and Mean of any number of inputs: ADDs left to right, then for Mean a DIV by the count.</summary>
    private void Mean(OnnxNode node)
    {
        var inputs = Enumerable.Range(0, node.InputCount).Select(i => Value(node.Input(i))).ToList();
        if (inputs.Count == 1 && node.OpType == "Sum")
        {
            Alias(node);
            return;
        }
        var shape = Broadcast(inputs.Select(v => v.Shape).ToArray());
        var lead = inputs.FirstOrDefault(v => v.Constant is null && v.Rank == shape.Length) ?? throw Refuse(DiagnosticIds.UnsupportedOperator, $"{node.OpType} needs a run-time input of the output's rank");
        var layout = lead.Layout;
        var irShape = Permute(shape, layout);
        int sum = TensorIn(Unsqueezed(inputs[0], shape.Length), layout);
        for (int i = 1; i < inputs.Count; i++)
        {
            int operand = TensorIn(Unsqueezed(inputs[i], shape.Length), layout);
            bool last = i == inputs.Count - 1 && node.OpType == "Sum";
            int previous = sum;
            if (last)
            {
                Produce(node.Output(0), lead.Type, shape, layout, t => Emit(OpKind.Add, new[] { previous, operand }, new[] { t }, BinaryOptions(OpKind.Add)));
                return;
            }
            sum = AddTensor(node.Name($"sum{i}"), DataType.Float32, irShape);
            Emit(OpKind.Add, new[] { previous, operand }, new[] { sum }, BinaryOptions(OpKind.Add));
        }
        int count = FloatScalar(node.Name("count"), inputs.Count);
        int total = sum;
        Produce(node.Output(0), lead.Type, shape, layout, t => Emit(OpKind.Div, new[] { total, count }, new[] { t }, BinaryOptions(OpKind.Div)));
    }

    private void Clip(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        // Opset 11 moved min and max from attributes to optional inputs.
        float min = _opset < 11 ? node.Float("min", float.NegativeInfinity) : node.HasInput(1) ? RequireConstant(node, 1, "min").Float(0) : float.NegativeInfinity;
        float max = _opset < 11 ? node.Float("max", float.PositiveInfinity) : node.HasInput(2) ? RequireConstant(node, 2, "max").Float(0) : float.PositiveInfinity;
        OpKind? relu = (min, max) switch
        {
            (0f, float.PositiveInfinity) => OpKind.Relu,
            (0f, 6f) => OpKind.Relu6,
            (-1f, 1f) => OpKind.ReluN1To1,
            _ => null,
        };
        if (relu is OpKind k)
        {
            Unary(node, k);
            return;
        }
        // Any other range: MAXIMUM with min, then MINIMUM with max, each where bounded.
        var bounds = new List<(OpKind Kind, float Bound)>();
        if (!float.IsNegativeInfinity(min)) bounds.Add((OpKind.Maximum, min));
        if (!float.IsPositiveInfinity(max)) bounds.Add((OpKind.Minimum, max));
        if (bounds.Count == 0)
        {
            Alias(node);
            return;
        }
        int current = x.Tensor;
        for (int i = 0; i < bounds.Count; i++)
        {
            var (kind, bound) = bounds[i];
            int input = current;
            int limit = FloatScalar(node.Name(kind == OpKind.Maximum ? "min" : "max"), bound);
            if (i == bounds.Count - 1)
                Produce(node.Output(0), x.Type, x.Shape, x.Layout, t => Emit(kind, new[] { input, limit }, new[] { t }, BinaryOptions(kind)));
            else
            {
                current = AddTensor(node.Name("at_least_min"), DataType.Float32, Permute(x.Shape, x.Layout));
                Emit(kind, new[] { input, limit }, new[] { current }, BinaryOptions(kind));
            }
        }
    }

    /// <summary>SOFTMAX or LOG_SOFTMAX (TFLite's run over the last axis).</summary>
    private void Softmax(OnnxNode node, OpKind kind)
    {
        var x = RunTimeInput(node, 0);
        int axis = Axis(node.Int("axis", _opset < 13 ? 1 : -1), x.Rank);
        OperatorOptions options = kind == OpKind.Softmax ? new SoftmaxOptions(1f) : new EmptyOptions(EmptyOptionUnions.LogSoftmax);
        if (_opset < 13 && axis != x.Rank - 1)
        {
            // Before opset 13, softmax runs over the input flattened to 2-D at axis.
            int outer = x.Shape.Take(axis).Aggregate(1, (p, d) => p * d), inner = x.Shape.Skip(axis).Aggregate(1, (p, d) => p * d);
            int flat = ReshapeTo(x, new[] { outer, inner }, node.Name("2d"));
            int soft = AddTensor(node.Name("softmax_2d"), DataType.Float32, new[] { outer, inner });
            Emit(kind, new[] { flat }, new[] { soft }, options);
            var irShape = x.Shape;
            Produce(node.Output(0), x.Type, x.Shape, Identity(x.Rank), t =>
                Emit(OpKind.Reshape, new[] { soft, AddInts(node.Name("shape"), irShape) }, new[] { t }, new ReshapeOptions(irShape)));
            return;
        }
        // Keep the layout if the axis is last in the IR, else move it last.
        var layout = x.Layout[x.Rank - 1] == axis ? x.Layout : Identity(x.Rank).Where(a => a != axis).Concat(new[] { axis }).ToArray();
        int input = TensorIn(x, layout);
        Produce(node.Output(0), x.Type, x.Shape, layout, t => Emit(kind, new[] { input }, new[] { t }, options));
    }

    private void Pool(OnnxNode node, OpKind kind)
    {
        var x = RunTimeInput(node, 0);
        if (x.Rank != 4) throw Refuse(DiagnosticIds.UnsupportedOperator, $"only 1-D and 2-D pooling is supported (input {Shapes.Format(x.Shape)})");
        if (node.OutputCount > 1 && node.Proto.Output[1].Length > 0) throw Refuse(DiagnosticIds.UnsupportedOperator, "the Indices output of MaxPool is not supported");
        var kernel = Pair(node.Ints("kernel_shape") ?? throw Refuse(DiagnosticIds.InvalidOperator, "kernel_shape is required"), 1, "kernel_shape");
        var strides = Pair(node.Ints("strides"), 1, "strides");
        var dilations = Pair(node.Ints("dilations"), 1, "dilations");
        if (dilations[0] != 1 || dilations[1] != 1) throw Refuse(DiagnosticIds.UnsupportedOperator, "dilated pooling is not supported");
        bool ceil = node.Int("ceil_mode", 0) != 0;
        var h = Padding(node, 0, x.Shape[2], kernel[0], strides[0], 1, ceil);
        var w = Padding(node, 1, x.Shape[3], kernel[1], strides[1], 1, ceil);
        int input;
        Padding padding;
        if (kind == OpKind.MaxPool2D)
            (input, padding) = PaddedInput(x, h, w, kernel[0], kernel[1], strides[0], strides[1], 1, 1, float.MinValue);
        else if (node.Int("count_include_pad", 0) != 0)
            (input, padding) = PaddedInput(x, h, w, kernel[0], kernel[1], strides[0], strides[1], 1, 1, 0, sameExcludesPadding: true);
        else
        {
            // TFLite averages over the taps inside the input, as ONNX does without count_include_pad: that holds for
            // no padding and for TFLite's SAME, and a PAD in front would change the divisor.
            bool none = h.Begin == 0 && h.End == 0 && w.Begin == 0 && w.End == 0 && h.Output == (x.Shape[2] - kernel[0]) / strides[0] + 1 && w.Output == (x.Shape[3] - kernel[1]) / strides[1] + 1;
            bool same = IsTfliteSame(h, x.Shape[2], kernel[0], strides[0], 1) && IsTfliteSame(w, x.Shape[3], kernel[1], strides[1], 1);
            if (!none && !same)
                throw Refuse(DiagnosticIds.UnsupportedOperator, $"average pooling with pads [{h.Begin},{w.Begin},{h.End},{w.End}]{(ceil ? " and ceil_mode" : "")} excluded from the count is not supported (only none, or TFLite's SAME)");
            (input, padding) = (TensorIn(x, ChannelsLast(4)), none ? Ir.Padding.Valid : Ir.Padding.Same);
        }
        var options = new Pool2DOptions(padding, strides[1], strides[0], kernel[1], kernel[0], Activation.None);
        Produce(node.Output(0), x.Type, new[] { x.Shape[0], x.Shape[1], h.Output, w.Output }, ChannelsLast(4), t => Emit(kind, new[] { input }, new[] { t }, options));
    }

    private void GlobalPool(OnnxNode node, OpKind kind)
    {
        var x = RunTimeInput(node, 0);
        if (x.Rank != 4) throw Refuse(DiagnosticIds.UnsupportedOperator, $"only 1-D and 2-D global pooling is supported (input {Shapes.Format(x.Shape)})");
        int input = TensorIn(x, ChannelsLast(4));
        var options = new Pool2DOptions(Ir.Padding.Valid, 1, 1, x.Shape[3], x.Shape[2], Activation.None);
        Produce(node.Output(0), x.Type, new[] { x.Shape[0], x.Shape[1], 1, 1 }, ChannelsLast(4), t => Emit(kind, new[] { input }, new[] { t }, options));
    }

    /// <summary>Inference batch norm as a per-channel MUL and ADD (folded into a convolution before it by float preparation).</summary>
    private void BatchNormalization(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        if (node.Int("training_mode", 0) != 0 || node.OutputCount > 1 && node.Proto.Output.Skip(1).Any(o => o.Length > 0))
            throw Refuse(DiagnosticIds.UnsupportedOperator, "batch normalization in training mode (running statistics as outputs) is not supported");
        if (x.Rank < 2) throw Refuse(DiagnosticIds.InvalidShape, $"batch normalization needs a channel axis (input {Shapes.Format(x.Shape)})");
        int channels = x.Shape[1];
        var scale = RequireConstant(node, 1, "scale");
        var b = RequireConstant(node, 2, "bias");
        var mean = RequireConstant(node, 3, "mean");
        var variance = RequireConstant(node, 4, "variance");
        if (new[] { scale, b, mean, variance }.Any(c => c.Count != channels))
            throw Refuse(DiagnosticIds.InvalidShape, $"scale, bias, mean and variance must hold {channels} values each");
        float epsilon = node.Float("epsilon", 1e-5f);
        // y = (x - mean) * scale / sqrt(var + eps) + bias = x * m + a.
        var m = new float[channels];
        var add = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            m[c] = (float)(scale.Float(c) / Math.Sqrt(variance.Float(c) + epsilon));
            add[c] = b.Float(c) - mean.Float(c) * m[c];
        }
        // Per-channel constants shaped [C, 1, ...] broadcast along ONNX axis 1.
        var shape = new[] { channels }.Concat(Enumerable.Repeat(1, x.Rank - 2)).ToArray();
        var layout = x.Layout;
        var multiplier = new OnnxValue(node.Name("multiplier"), OnnxTypes.Float, shape) { Constant = OnnxConstant.Of(m, shape) };
        var offset = new OnnxValue(node.Name("offset"), OnnxTypes.Float, shape) { Constant = OnnxConstant.Of(add, shape) };
        int scaled = AddTensor(node.Name("scaled"), DataType.Float32, Permute(x.Shape, layout));
        Emit(OpKind.Mul, new[] { x.Tensor, TensorIn(Unsqueezed(multiplier, x.Rank), layout) }, new[] { scaled }, BinaryOptions(OpKind.Mul));
        int offsetTensor = TensorIn(Unsqueezed(offset, x.Rank), layout);
        Produce(node.Output(0), x.Type, x.Shape, layout, t => Emit(OpKind.Add, new[] { scaled, offsetTensor }, new[] { t }, BinaryOptions(OpKind.Add)));
    }

    private void ReduceMean(OnnxNode node)
    {
        var x = RunTimeInput(node, 0);
        // Opset 18 moved axes from an attribute to an optional input.
        long[]? axes = _opset < 18 ? node.Ints("axes") : node.HasInput(1) ? RequireConstant(node, 1, "axes").AsInts() : null;
        if (axes is null || axes.Length == 0)
        {
            if (node.Int("noop_with_empty_axes", 0) != 0)
            {
                Alias(node);
                return;
            }
            axes = Identity(x.Rank).Select(a => (long)a).ToArray();
        }
        var reduced = axes.Select(a => Axis(a, x.Rank)).Distinct().OrderBy(a => a).ToArray();
        bool keep = node.Int("keepdims", 1) != 0;
        int input = x.Tensor;
        var irAxes = reduced.Select(a => IrAxis(x, a)).OrderBy(a => a).ToArray();
        int[] shape, layout;
        if (keep)
        {
            shape = x.Shape.Select((d, i) => reduced.Contains(i) ? 1 : d).ToArray();
            layout = x.Layout;
        }
        else
        {
            shape = x.Shape.Where((_, i) => !reduced.Contains(i)).ToArray();
            // The kept IR axes, in IR order, renumbered to the kept ONNX axes.
            var keptOnnx = Identity(x.Rank).Where(a => !reduced.Contains(a)).ToList();
            layout = x.Layout.Where(a => !reduced.Contains(a)).Select(a => keptOnnx.IndexOf(a)).ToArray();
        }
        int axesTensor = AddInts(node.Name("axes"), irAxes);
        Produce(node.Output(0), x.Type, shape, layout, t => Emit(OpKind.Mean, new[] { input, axesTensor }, new[] { t }, new ReducerOptions(keep)));
    }
}
