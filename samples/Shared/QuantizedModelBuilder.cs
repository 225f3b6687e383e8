// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Lowering;

namespace TinyML.Samples;

/// <summary>
/// Describes a float network layer by layer (batch 1, NHWC), initializes its weights deterministically, runs it in
/// double precision, and writes it as a fully int8 TFLite model: post-training quantization with activation ranges
/// calibrated on inputs the caller gives. Weights are He-uniform (U(±√(6 / fan_in))), biases uniform in ±0.1, all
/// from one <see cref="DeterministicRandom"/>, so a seed fixes the model to the byte.
/// </summary>
/// <remarks>
/// Operator versions are those the TFLite converter writes for int8 models: CONV_2D 3, DEPTHWISE_CONV_2D 3,
/// AVERAGE_POOL_2D 2, RESHAPE 1, FULLY_CONNECTED 4, SOFTMAX 2. Convolutions are quantized per channel (dimension 0,
/// or 3 for depthwise); FULLY_CONNECTED per tensor, as the converter does.
/// </remarks>
internal sealed class QuantizedModelBuilder
{
    private readonly string _inputName;
    private readonly int[] _inputShape;
    private readonly DeterministicRandom _random;
    private readonly List<Layer> _layers = new();

    /// <summary>Starts a network on an input of <paramref name="inputShape"/> (batch 1).</summary>
    public QuantizedModelBuilder(string inputName, int[] inputShape, ulong seed)
    {
        if (inputShape.Length == 0 || inputShape[0] != 1) throw new ArgumentException("the batch must be 1", nameof(inputShape));
        _inputName = inputName;
        _inputShape = inputShape;
        _random = new DeterministicRandom(seed);
    }

    /// <summary>The input shape.</summary>
    public int[] InputShape => _inputShape.ToArray();

    /// <summary>The shape the last layer produces.</summary>
    public int[] OutputShape => (_layers.Count == 0 ? _inputShape : _layers[_layers.Count - 1].OutputShape).ToArray();

    /// <summary>Appends CONV_2D with <paramref name="filters"/> output channels.</summary>
    public QuantizedModelBuilder Conv2D(string name, int filters, int kernelH, int kernelW, int strideH, int strideW,
        Padding padding, Activation activation)
    {
        var input = Nhwc(OutputShape);
        int fanIn = kernelH * kernelW * input[3];
        var weights = HeUniform(filters * fanIn, fanIn);
        _layers.Add(new ConvLayer(name, input, new[] { filters, kernelH, kernelW, input[3] }, weights, SmallBias(filters),
            strideH, strideW, padding, activation, depthwise: false));
        return this;
    }

    /// <summary>Appends DEPTHWISE_CONV_2D with depth multiplier 1.</summary>
    public QuantizedModelBuilder DepthwiseConv2D(string name, int kernelH, int kernelW, int strideH, int strideW,
        Padding padding, Activation activation)
    {
        var input = Nhwc(OutputShape);
        int fanIn = kernelH * kernelW;
        var weights = HeUniform(fanIn * input[3], fanIn);
        _layers.Add(new ConvLayer(name, input, new[] { 1, kernelH, kernelW, input[3] }, weights, SmallBias(input[3]),
            strideH, strideW, padding, activation, depthwise: true));
        return this;
    }

    /// <summary>Appends a VALID AVERAGE_POOL_2D whose stride equals its window (Keras' default).</summary>
    public QuantizedModelBuilder AveragePool2D(string name, int filterH, int filterW)
    {
        _layers.Add(new AveragePoolLayer(name, Nhwc(OutputShape), filterH, filterW));
        return this;
    }

    /// <summary>Appends RESHAPE to [1, n] (Keras' Flatten).</summary>
    public QuantizedModelBuilder Flatten(string name)
    {
        _layers.Add(new FlattenLayer(name, OutputShape));
        return this;
    }

    /// <summary>Appends FULLY_CONNECTED with <paramref name="units"/> outputs.</summary>
    public QuantizedModelBuilder FullyConnected(string name, int units, Activation activation)
    {
        var input = OutputShape;
        if (input.Length != 2) throw new InvalidOperationException("FULLY_CONNECTED needs a [1, n] input; add Flatten first");
        _layers.Add(new FullyConnectedLayer(name, input[1], units, HeUniform(units * input[1], input[1]), SmallBias(units), activation));
        return this;
    }

    /// <summary>Appends SOFTMAX (beta 1); its int8 output has the fixed scale 1/256 and zero point -128.</summary>
    public QuantizedModelBuilder Softmax(string name)
    {
        _layers.Add(new SoftmaxLayer(name, OutputShape));
        return this;
    }

    /// <summary>The float network's output for one input (row-major NHWC), computed in double.</summary>
    public float[] Predict(float[] input) => Run(input, null);

    /// <summary>
    /// Calibrates every activation range on <paramref name="calibration"/> (the min and max the float network
    /// reaches), then writes the int8 model with one input and one output named in its serving_default signature.
    /// </summary>
    public Model Build(IReadOnlyList<float[]> calibration, string outputName)
    {
        if (calibration.Count == 0) throw new ArgumentException("calibration needs at least one input", nameof(calibration));
        // ranges[0] is the input's; ranges[i + 1] is layer i's output.
        var ranges = Enumerable.Range(0, _layers.Count + 1).Select(_ => (Min: double.MaxValue, Max: double.MinValue)).ToArray();
        foreach (var sample in calibration) Run(sample, ranges);

        var b = new ModelBuilder();
        var quantization = QuantizationMath.Asymmetric(ranges[0].Min, ranges[0].Max);
        int tensor = b.Tensor(_inputName, DataType.Int8, _inputShape, quantization);
        int input = tensor;
        for (int i = 0; i < _layers.Count; i++)
        {
            var layer = _layers[i];
            var outputQuantization = layer.OutputRule switch
            {
                OutputRule.SameAsInput => quantization,
                OutputRule.Softmax => Quantization.PerTensor(1f / 256, -128),
                _ => QuantizationMath.Asymmetric(ranges[i + 1].Min, ranges[i + 1].Max),
            };
            string name = i == _layers.Count - 1 ? outputName : layer.Name;
            int output = b.Tensor(name, DataType.Int8, layer.OutputShape, outputQuantization);
            layer.Emit(b, tensor, quantization, output);
            (tensor, quantization) = (output, outputQuantization);
        }
        return b.Inputs(input).Outputs(tensor).Signature("serving_default", new[] { _inputName }, new[] { outputName }).Build();
    }

    private float[] Run(float[] input, (double Min, double Max)[]? ranges)
    {
        int expected = _inputShape.Aggregate(1, (a, d) => a * d);
        if (input.Length != expected) throw new ArgumentException($"the input needs {expected} values, not {input.Length}", nameof(input));
        void Observe(int index, float[] values)
        {
            if (ranges is null) return;
            foreach (float v in values) ranges[index] = (Math.Min(ranges[index].Min, v), Math.Max(ranges[index].Max, v));
        }
        Observe(0, input);
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            x = _layers[i].Forward(x);
            Observe(i + 1, x);
        }
        return x;
    }

    private float[] HeUniform(int count, int fanIn)
    {
        double limit = Math.Sqrt(6.0 / fanIn);
        return Enumerable.Range(0, count).Select(_ => (float)_random.Uniform(-limit, limit)).ToArray();
    }

    private float[] SmallBias(int count) => Enumerable.Range(0, count).Select(_ => (float)_random.Uniform(-0.1, 0.1)).ToArray();

    private static int[] Nhwc(int[] shape) =>
        shape.Length == 4 ? shape : throw new InvalidOperationException($"this layer needs an NHWC input, not [{string.Join(",", shape)}]");

    private static float Activate(double x, Activation activation) => activation switch
    {
        Activation.None => (float)x,
        Activation.Relu => (float)Math.Max(0, x),
        Activation.Relu6 => (float)Math.Min(6, Math.Max(0, x)),
        _ => throw new NotSupportedException($"activation {activation}"),
    };

    private enum OutputRule
    {
        Calibrated,
        SameAsInput,
        Softmax,
    }

    private abstract class Layer
    {
        protected Layer(string name, int[] outputShape, OutputRule outputRule)
        {
            Name = name;
            OutputShape = outputShape;
            OutputRule = outputRule;
        }

        public string Name { get; }
        public int[] OutputShape { get; }
        public OutputRule OutputRule { get; }
        public abstract float[] Forward(float[] x);
        public abstract void Emit(ModelBuilder b, int input, Quantization inputQuantization, int output);
    }

    private sealed class ConvLayer : Layer
    {
        private readonly int[] _in, _weightShape;
        private readonly float[] _weights, _bias;
        private readonly int _strideH, _strideW, _padH, _padW;
        private readonly Padding _padding;
        private readonly Activation _activation;
        private readonly bool _depthwise;

        public ConvLayer(string name, int[] input, int[] weightShape, float[] weights, float[] bias, int strideH, int strideW,
            Padding padding, Activation activation, bool depthwise)
            : base(name, new[]
            {
                1, QuantMath.OutputSize(padding, input[1], weightShape[1], strideH, 1),
                QuantMath.OutputSize(padding, input[2], weightShape[2], strideW, 1), depthwise ? input[3] : weightShape[0],
            }, OutputRule.Calibrated)
        {
            (_in, _weightShape, _weights, _bias) = (input, weightShape, weights, bias);
            (_strideH, _strideW, _padding, _activation, _depthwise) = (strideH, strideW, padding, activation, depthwise);
            _padH = QuantMath.PaddingBefore(strideH, 1, input[1], weightShape[1], OutputShape[1]);
            _padW = QuantMath.PaddingBefore(strideW, 1, input[2], weightShape[2], OutputShape[2]);
        }

        public override float[] Forward(float[] x) => FloatReference.Convolution(x, _in[1], _in[2], _in[3], _weights,
            _weightShape[1], _weightShape[2], _bias, OutputShape[1], OutputShape[2], OutputShape[3], _strideH, _strideW, _padH, _padW,
            _depthwise, sum => Activate(sum, _activation));

        public override void Emit(ModelBuilder b, int input, Quantization inputQuantization, int output)
        {
            var (weights, wq) = QuantizationMath.SymmetricWeights(_weights, _weightShape, _depthwise ? 3 : 0);
            var (bias, bq) = QuantizationMath.Bias(_bias, inputQuantization.Scale, wq);
            int w = b.Constant(Name + "/weights", _weightShape, weights, wq);
            int bb = b.Constant(Name + "/bias", new[] { _bias.Length }, bias, bq);
            if (_depthwise)
                b.Operator(OpKind.DepthwiseConv2D, new[] { input, w, bb }, new[] { output },
                    new DepthwiseConv2DOptions(_padding, _strideW, _strideH, 1, _activation), version: 3);
            else
                b.Operator(OpKind.Conv2D, new[] { input, w, bb }, new[] { output },
                    new Conv2DOptions(_padding, _strideW, _strideH, _activation), version: 3);
        }
    }

    private sealed class AveragePoolLayer : Layer
    {
        private readonly int[] _in;
        private readonly int _filterH, _filterW;

        public AveragePoolLayer(string name, int[] input, int filterH, int filterW)
            : base(name, new[]
            {
                1, QuantMath.OutputSize(Padding.Valid, input[1], filterH, filterH, 1),
                QuantMath.OutputSize(Padding.Valid, input[2], filterW, filterW, 1), input[3],
            }, OutputRule.SameAsInput)
        {
            (_in, _filterH, _filterW) = (input, filterH, filterW);
        }

        public override float[] Forward(float[] x)
        {
            int inW = _in[2], c = _in[3], outH = OutputShape[1], outW = OutputShape[2];
            var y = new float[outH * outW * c];
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        double sum = 0;
                        for (int ky = 0; ky < _filterH; ky++)
                            for (int kx = 0; kx < _filterW; kx++)
                                sum += x[((oy * _filterH + ky) * inW + ox * _filterW + kx) * c + ch];
                        y[(oy * outW + ox) * c + ch] = (float)(sum / (_filterH * _filterW));
                    }
            return y;
        }

        public override void Emit(ModelBuilder b, int input, Quantization inputQuantization, int output) =>
            b.Operator(OpKind.AveragePool2D, new[] { input }, new[] { output },
                new Pool2DOptions(Padding.Valid, _filterW, _filterH, _filterW, _filterH, Activation.None), version: 2);
    }

    private sealed class FlattenLayer : Layer
    {
        public FlattenLayer(string name, int[] input)
            : base(name, new[] { 1, input.Skip(1).Aggregate(1, (a, d) => a * d) }, OutputRule.SameAsInput)
        {
        }

        public override float[] Forward(float[] x) => x;

        public override void Emit(ModelBuilder b, int input, Quantization inputQuantization, int output)
        {
            int shape = b.Constant(Name + "/shape", new[] { 2 }, OutputShape.ToArray());
            b.Operator(OpKind.Reshape, new[] { input, shape }, new[] { output }, new ReshapeOptions(OutputShape), version: 1);
        }
    }

    private sealed class FullyConnectedLayer : Layer
    {
        private readonly int _inputs;
        private readonly float[] _weights, _bias;
        private readonly Activation _activation;

        public FullyConnectedLayer(string name, int inputs, int units, float[] weights, float[] bias, Activation activation)
            : base(name, new[] { 1, units }, OutputRule.Calibrated)
        {
            (_inputs, _weights, _bias, _activation) = (inputs, weights, bias, activation);
        }

        public override float[] Forward(float[] x)
        {
            int units = OutputShape[1];
            var y = new float[units];
            for (int u = 0; u < units; u++)
            {
                double sum = _bias[u];
                for (int i = 0; i < _inputs; i++) sum += (double)x[i] * _weights[u * _inputs + i];
                y[u] = Activate(sum, _activation);
            }
            return y;
        }

        public override void Emit(ModelBuilder b, int input, Quantization inputQuantization, int output)
        {
            var shape = new[] { OutputShape[1], _inputs };
            var (weights, wq) = QuantizationMath.SymmetricWeights(_weights, shape, channelDim: null);
            var (bias, bq) = QuantizationMath.Bias(_bias, inputQuantization.Scale, wq);
            int w = b.Constant(Name + "/weights", shape, weights, wq);
            int bb = b.Constant(Name + "/bias", new[] { _bias.Length }, bias, bq);
            b.Operator(OpKind.FullyConnected, new[] { input, w, bb }, new[] { output },
                new FullyConnectedOptions(_activation, 0, false, false), version: 4);
        }
    }

    private sealed class SoftmaxLayer : Layer
    {
        public SoftmaxLayer(string name, int[] input) : base(name, input, OutputRule.Softmax)
        {
        }

        public override float[] Forward(float[] x)
        {
            double max = x.Max();
            var e = x.Select(v => Math.Exp(v - max)).ToArray();
            double sum = e.Sum();
            return e.Select(v => (float)(v / sum)).ToArray();
        }

        public override void Emit(ModelBuilder b, int input, Quantization inputQuantization, int output) =>
            b.Operator(OpKind.Softmax, new[] { input }, new[] { output }, new SoftmaxOptions(1f), version: 2);
    }
}
