// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.PostTraining;

namespace TinyML.Samples;

/// <summary>
/// MobileNet-style int8 models for memory work: MobileNetV2 (inverted residual blocks with linear bottlenecks and
/// residual ADDs) at any width multiplier and resolution, and an MCUNet-like network with 3×3, 5×5 and 7×7
/// inverted residual blocks. Weights are deterministic (He-uniform from a seed); every activation's int8 range
/// is calibrated on a float run of the network on one deterministic input, and weights are quantized per channel,
/// biases at input_scale × weight_scale, as the TFLite converter does (the compiler's QuantizationMath). The classifier head is global average
/// pooling, FULLY_CONNECTED and SOFTMAX.
/// </summary>
internal static class MobileNetModels
{
    /// <summary>One inverted residual block: expansion factor, output channels, kernel size, stride.</summary>
    public readonly record struct Block(int Expansion, int Channels, int Kernel, int Stride);

    /// <summary>How the graph is laid out: as TensorFlow's converter writes it, or as a PyTorch export through TFLite
    /// writes it (an NCHW input and a TRANSPOSE to NHWC; an explicit PAD, PyTorch's symmetric k/2, before every
    /// convolution wider than 1×1, which then is VALID).</summary>
    public enum Export { TensorFlow, PyTorch }

    /// <summary>MobileNetV2 at a width multiplier (0.35 by default) and square resolution (144 by default).</summary>
    public static Model MobileNetV2(double alpha = 0.35, int resolution = 144, int classes = 10, ulong seed = 1, Export export = Export.TensorFlow)
    {
        var settings = new (int T, int C, int N, int S)[] { (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1) };
        var blocks = settings.SelectMany(s => Enumerable.Range(0, s.N).Select(i => new Block(s.T, Divisible(s.C * alpha), 3, i == 0 ? s.S : 1))).ToList();
        string name = $"mobilenetv2_{alpha:0.##}_{resolution}{(export == Export.PyTorch ? "_pytorch" : "")}";
        return Build(name, resolution, Divisible(32 * alpha), blocks, alpha > 1 ? Divisible(1280 * alpha) : 1280, classes, seed, export);
    }

    /// <summary>
    /// MobileNetV1 (depthwise-separable blocks, ReLU6) at a width multiplier and resolution; 0.25 at 96×96 with two
    /// classes is MLPerf Tiny's Visual Wake Words architecture.
    /// </summary>
    public static Model MobileNetV1(double alpha = 0.25, int resolution = 96, int classes = 2, ulong seed = 3, Export export = Export.TensorFlow)
    {
        var widths = new (int C, int S)[] { (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1) };
        var net = new Network(seed, resolution, export);
        var x = net.Conv(net.Input, Math.Max(8, (int)(32 * alpha)), 3, 2, depthwise: false, Activation.Relu6, "stem");
        for (int i = 0; i < widths.Length; i++)
        {
            x = net.Conv(x, x.C, 3, widths[i].S, depthwise: true, Activation.Relu6, $"block{i}/depthwise");
            x = net.Conv(x, Math.Max(8, (int)(widths[i].C * alpha)), 1, 1, depthwise: false, Activation.Relu6, $"block{i}/pointwise");
        }
        x = net.GlobalAveragePool(x, "head/pool");
        x = net.FullyConnected(x, classes, "head/logits");
        x = net.Softmax(x, "output");
        return net.Finish(x, $"mobilenetv1_{alpha:0.##}_{resolution}{(export == Export.PyTorch ? "_pytorch" : "")}");
    }

    /// <summary>An MCUNet-like network (large-kernel inverted residual blocks, as MCUNet's searched models) at 128×128 by default.</summary>
    public static Model McuNetLike(int resolution = 128, int classes = 10, ulong seed = 2)
    {
        var blocks = new[]
        {
            new Block(1, 8, 3, 1),
            new Block(4, 16, 7, 2), new Block(3, 16, 3, 1),
            new Block(4, 24, 5, 2), new Block(3, 24, 7, 1), new Block(3, 24, 5, 1),
            new Block(4, 40, 7, 2), new Block(3, 40, 5, 1), new Block(3, 40, 5, 1),
            new Block(5, 48, 5, 1), new Block(4, 48, 5, 1),
            new Block(5, 96, 7, 2), new Block(4, 96, 5, 1), new Block(4, 96, 3, 1),
            new Block(5, 160, 3, 1),
        };
        return Build($"mcunet_like_{resolution}", resolution, 16, blocks, 320, classes, seed);
    }

    /// <summary>A deterministic int8 input for a model's first input.</summary>
    public static byte[] Input(Model model, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var bytes = new byte[model.Main.Tensors[model.Main.Inputs[0]].Bytes];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)random.NextUInt64();
        return bytes;
    }

    /// <summary>TensorFlow's _make_divisible(v, 8): round to a multiple of 8, never below 90% of v.</summary>
    private static int Divisible(double v)
    {
        int rounded = Math.Max(8, (int)(v + 4) / 8 * 8);
        return rounded < 0.9 * v ? rounded + 8 : rounded;
    }

    private static Model Build(string name, int resolution, int stem, IReadOnlyList<Block> blocks, int last, int classes, ulong seed, Export export = Export.TensorFlow)
    {
        var net = new Network(seed, resolution, export);
        var x = net.Conv(net.Input, stem, 3, 2, depthwise: false, Activation.Relu6, "stem");
        for (int i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            var input = x;
            int hidden = input.C * block.Expansion;
            if (block.Expansion != 1) x = net.Conv(x, hidden, 1, 1, depthwise: false, Activation.Relu6, $"block{i}/expand");
            x = net.Conv(x, hidden, block.Kernel, block.Stride, depthwise: true, Activation.Relu6, $"block{i}/depthwise");
            x = net.Conv(x, block.Channels, 1, 1, depthwise: false, Activation.None, $"block{i}/project");
            if (block.Stride == 1 && input.C == block.Channels) x = net.Add(input, x, $"block{i}/add");
        }
        x = net.Conv(x, last, 1, 1, depthwise: false, Activation.Relu6, "head/conv");
        x = net.GlobalAveragePool(x, "head/pool");
        x = net.FullyConnected(x, classes, "head/logits");
        x = net.Softmax(x, "output");
        return net.Finish(x, name);
    }

    /// <summary>A value of the network: its int8 tensor, and its float values on the calibration input.</summary>
    private sealed record Value(int Tensor, int H, int W, int C, float[] Data, Quantization Q);

    /// <summary>Builds the int8 graph while running the float network on the calibration input.</summary>
    private sealed class Network
    {
        private readonly ModelBuilder _b = new();
        private readonly DeterministicRandom _random;
        private readonly Export _export;

        public Network(ulong seed, int resolution, Export export)
        {
            _random = new DeterministicRandom(seed);
            _export = export;
            var data = Enumerable.Range(0, resolution * resolution * 3).Select(_ => (float)_random.Uniform(-1, 1)).ToArray();
            var q = QuantizationMath.Asymmetric(-1, 1);
            if (export == Export.TensorFlow)
            {
                Input = new Value(_b.Tensor("input", DataType.Int8, new[] { 1, resolution, resolution, 3 }, q), resolution, resolution, 3, data, q);
                _b.Inputs(Input.Tensor);
                return;
            }
            // PyTorch's NCHW input, transposed to the NHWC the TFLite graph computes in.
            int nchw = _b.Tensor("input", DataType.Int8, new[] { 1, 3, resolution, resolution }, q);
            _b.Inputs(nchw);
            Input = new Value(_b.Tensor("input/nhwc", DataType.Int8, new[] { 1, resolution, resolution, 3 }, q), resolution, resolution, 3, data, q);
            int perm = _b.Constant("input/perm", new[] { 4 }, new[] { 0, 2, 3, 1 });
            _b.Operator(OpKind.Transpose, new[] { nchw, perm }, new[] { Input.Tensor }, version: 2);
        }

        public Value Input { get; }

        private float[] HeUniform(int count, int fanIn)
        {
            double limit = Math.Sqrt(6.0 / fanIn);
            return Enumerable.Range(0, count).Select(_ => (float)_random.Uniform(-limit, limit)).ToArray();
        }

        private Value Output(string name, int h, int w, int c, float[] data)
        {
            var q = QuantizationMath.Asymmetric(data.Min(), data.Max());
            return new Value(_b.Tensor(name, DataType.Int8, new[] { 1, h, w, c }, q), h, w, c, data, q);
        }

        private static float Activate(double v, Activation activation) =>
            activation == Activation.Relu6 ? (float)Math.Min(6, Math.Max(0, v)) : (float)v;

        /// <summary>CONV_2D or DEPTHWISE_CONV_2D (depth multiplier 1): SAME-padded, or in a PyTorch export a PAD of
        /// k/2 on every side and a VALID convolution.</summary>
        public Value Conv(Value x, int channels, int kernel, int stride, bool depthwise, Activation activation, string name)
        {
            bool explicitPad = _export == Export.PyTorch && kernel > 1;
            int outH = (x.H + stride - 1) / stride, outW = (x.W + stride - 1) / stride;
            int padH = QuantMath.PaddingBefore(stride, 1, x.H, kernel, outH), padW = QuantMath.PaddingBefore(stride, 1, x.W, kernel, outW);
            int convInput = x.Tensor;
            if (explicitPad)
            {
                padH = padW = kernel / 2;
                outH = (x.H + 2 * padH - kernel) / stride + 1;
                outW = (x.W + 2 * padW - kernel) / stride + 1;
                // PAD fills with the zero point, the real 0 PyTorch pads with; it keeps the input's quantization.
                convInput = _b.Tensor(name + "/pad", DataType.Int8, new[] { 1, x.H + 2 * padH, x.W + 2 * padW, x.C }, x.Q);
                int paddings = _b.Constant(name + "/paddings", new[] { 4, 2 }, new[] { 0, 0, padH, padH, padW, padW, 0, 0 });
                _b.Operator(OpKind.Pad, new[] { x.Tensor, paddings }, new[] { convInput }, version: 2);
            }
            var padding = explicitPad ? Padding.Valid : Padding.Same;
            int fanIn = kernel * kernel * (depthwise ? 1 : x.C);
            var weights = HeUniform(channels * fanIn, fanIn);
            var bias = Enumerable.Range(0, channels).Select(_ => (float)_random.Uniform(-0.1, 0.1)).ToArray();
            var y = FloatReference.Convolution(x.Data, x.H, x.W, x.C, weights, kernel, kernel, bias, outH, outW, channels,
                stride, stride, padH, padW, depthwise, sum => Activate(sum, activation));
            var result = Output(name, outH, outW, channels, y);
            var shape = depthwise ? new[] { 1, kernel, kernel, channels } : new[] { channels, kernel, kernel, x.C };
            var (qw, wq) = QuantizationMath.SymmetricWeights(weights, shape, channelDim: depthwise ? 3 : 0);
            var (qb, bq) = QuantizationMath.Bias(bias, x.Q.Scale, wq);
            int w = _b.Constant(name + "/weights", shape, qw, wq);
            int b = _b.Constant(name + "/bias", new[] { channels }, qb, bq);
            if (depthwise)
                _b.Operator(OpKind.DepthwiseConv2D, new[] { convInput, w, b }, new[] { result.Tensor }, new DepthwiseConv2DOptions(padding, stride, stride, 1, activation), version: 3);
            else
                _b.Operator(OpKind.Conv2D, new[] { convInput, w, b }, new[] { result.Tensor }, new Conv2DOptions(padding, stride, stride, activation), version: 3);
            return result;
        }

        public Value Add(Value a, Value b, string name)
        {
            var y = a.Data.Zip(b.Data, (p, q) => p + q).ToArray();
            var result = Output(name, a.H, a.W, a.C, y);
            _b.Operator(OpKind.Add, new[] { a.Tensor, b.Tensor }, new[] { result.Tensor }, new AddOptions(Activation.None), version: 2);
            return result;
        }

        public Value GlobalAveragePool(Value x, string name)
        {
            var y = new float[x.C];
            for (int i = 0; i < x.H * x.W; i++)
                for (int c = 0; c < x.C; c++) y[c] += x.Data[i * x.C + c] / (x.H * x.W);
            // AVERAGE_POOL_2D keeps the input's quantization (TFLite requires it).
            var result = new Value(_b.Tensor(name, DataType.Int8, new[] { 1, 1, 1, x.C }, x.Q), 1, 1, x.C, y, x.Q);
            _b.Operator(OpKind.AveragePool2D, new[] { x.Tensor }, new[] { result.Tensor }, new Pool2DOptions(Padding.Valid, 1, 1, x.W, x.H, Activation.None), version: 2);
            int flat = _b.Tensor(name + "/flatten", DataType.Int8, new[] { 1, x.C }, x.Q);
            int shape = _b.Constant(name + "/shape", new[] { 2 }, new[] { 1, x.C });
            _b.Operator(OpKind.Reshape, new[] { result.Tensor, shape }, new[] { flat }, new ReshapeOptions(new[] { 1, x.C }), version: 1);
            return result with { Tensor = flat };
        }

        public Value FullyConnected(Value x, int units, string name)
        {
            var weights = HeUniform(units * x.C, x.C);
            var bias = Enumerable.Range(0, units).Select(_ => (float)_random.Uniform(-0.1, 0.1)).ToArray();
            var y = Enumerable.Range(0, units).Select(u => (float)(bias[u] + Enumerable.Range(0, x.C).Sum(i => (double)x.Data[i] * weights[u * x.C + i]))).ToArray();
            var q = QuantizationMath.Asymmetric(y.Min(), y.Max());
            int output = _b.Tensor(name, DataType.Int8, new[] { 1, units }, q);
            var (qw, wq) = QuantizationMath.SymmetricWeights(weights, new[] { units, x.C }, channelDim: null);
            var (qb, bq) = QuantizationMath.Bias(bias, x.Q.Scale, wq);
            int w = _b.Constant(name + "/weights", new[] { units, x.C }, qw, wq);
            int b = _b.Constant(name + "/bias", new[] { units }, qb, bq);
            _b.Operator(OpKind.FullyConnected, new[] { x.Tensor, w, b }, new[] { output }, new FullyConnectedOptions(Activation.None, 0, false, false), version: 4);
            return new Value(output, 1, 1, units, y, q);
        }

        public Value Softmax(Value x, string name)
        {
            var q = Quantization.PerTensor(1f / 256, -128);
            int output = _b.Tensor(name, DataType.Int8, new[] { 1, x.C }, q);
            _b.Operator(OpKind.Softmax, new[] { x.Tensor }, new[] { output }, new SoftmaxOptions(1f), version: 2);
            return new Value(output, 1, 1, x.C, x.Data, q);
        }

        public Model Finish(Value output, string name)
        {
            var model = _b.Outputs(output.Tensor).Signature("serving_default", new[] { "input" }, new[] { "output" }).Build();
            model.Description = name;
            return model;
        }
    }
}
