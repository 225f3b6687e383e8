// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;

namespace TinyML.Samples;

/// <summary>
/// A small float CNN for <see cref="FashionMnist"/>, trained in plain C# with minibatch Adam on softmax cross-entropy:
/// input [1,28,28,1] (pixel / 255) → CONV_2D 3x3 stride 2 SAME, C1, ReLU → CONV_2D 3x3 stride 2 SAME, C2, ReLU →
/// RESHAPE [1, 7·7·C2] → FULLY_CONNECTED H, ReLU → FULLY_CONNECTED 10 (the head) → SOFTMAX.
/// </summary>
/// <remarks>
/// Deterministic: weights are He-uniform from a <see cref="DeterministicRandom"/>, biases zero, and every sum runs in
/// one fixed order on one thread, so a seed and the same calls give the same bits. Training can mask classes: only the
/// listed classes enter the softmax, and the other head rows keep their initial weights and zero bias (the rows an
/// on-device learner fills in later). Until then those rows' random logits still compete in <see cref="Forward"/>'s
/// full softmax, so the 10-class arg-max can trail the source-classes arg-max (most after short training). Layouts are TFLite's: NHWC activations, OHWI convolution weights,
/// [units, inputs] FULLY_CONNECTED weights; SAME padding at stride 2 pads only at the bottom and right (28 → 14 → 7).
/// </remarks>
internal sealed class FashionCnn
{
    private const int Kernel = 3, Stride = 2;
    private const int In = FashionMnist.Side, Mid = In / 2, Out = Mid / 2; // 28 → 14 → 7
    private const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;

    private readonly Parameter _conv1W, _conv1B, _conv2W, _conv2B, _fc1W, _fc1B, _headW, _headB;
    private readonly Parameter[] _parameters;
    private int _adamStep;

    /// <summary>A network with <paramref name="c1"/> and <paramref name="c2"/> convolution channels and
    /// <paramref name="hidden"/> units before the head, initialized from <paramref name="seed"/>.</summary>
    public FashionCnn(int seed, int c1 = 8, int c2 = 16, int hidden = 64)
    {
        if (c1 < 1 || c2 < 1 || hidden < 1) throw new ArgumentOutOfRangeException(nameof(c1), "channel and unit counts must be positive");
        (C1, C2, Hidden) = (c1, c2, hidden);
        var random = new DeterministicRandom((ulong)seed);
        _conv1W = Parameter.HeUniform(c1 * Kernel * Kernel * 1, Kernel * Kernel * 1, random);
        _conv1B = new Parameter(c1);
        _conv2W = Parameter.HeUniform(c2 * Kernel * Kernel * c1, Kernel * Kernel * c1, random);
        _conv2B = new Parameter(c2);
        _fc1W = Parameter.HeUniform(hidden * Flattened, Flattened, random);
        _fc1B = new Parameter(hidden);
        _headW = Parameter.HeUniform(FashionMnist.ClassCount * hidden, hidden, random);
        _headB = new Parameter(FashionMnist.ClassCount);
        _parameters = new[] { _conv1W, _conv1B, _conv2W, _conv2B, _fc1W, _fc1B, _headW, _headB };
    }

    /// <summary>Channels of the first convolution.</summary>
    public int C1 { get; }

    /// <summary>Channels of the second convolution.</summary>
    public int C2 { get; }

    /// <summary>Units of the hidden FULLY_CONNECTED layer: the length of <see cref="HeadInput"/>.</summary>
    public int Hidden { get; }

    private int Flattened => Out * Out * C2;

    /// <summary>Multiply-accumulates of one inference (softmax excluded).</summary>
    public long MacsPerInference =>
        (long)Mid * Mid * C1 * Kernel * Kernel + (long)Out * Out * C2 * Kernel * Kernel * C1 + (long)Flattened * Hidden + (long)Hidden * FashionMnist.ClassCount;

    /// <summary>The head's weights, [10, H] row-major (live: the trainer's own array).</summary>
    public float[] HeadWeights => _headW.Values;

    /// <summary>The head's bias, 10 values (live: the trainer's own array).</summary>
    public float[] HeadBias => _headB.Values;

    /// <summary>The 10 softmax probabilities for <paramref name="image"/> (all classes, whatever training masked).</summary>
    public float[] Forward(ReadOnlySpan<byte> image)
    {
        var a = new Activations(this);
        Run(image, a);
        return Softmax(a.Logits, null);
    }

    /// <summary>The H-vector (after ReLU) that enters the head for <paramref name="image"/>.</summary>
    public float[] HeadInput(ReadOnlySpan<byte> image)
    {
        var a = new Activations(this);
        Run(image, a);
        return a.Hidden;
    }

    /// <summary>
    /// One epoch of minibatch Adam over <paramref name="indices"/> of <paramref name="data"/>, shuffled by
    /// <paramref name="seed"/>; images whose label is not in <paramref name="classes"/> are skipped, and only those
    /// classes enter the softmax. Returns the mean cross-entropy of the images trained on.
    /// </summary>
    public double TrainEpoch(FashionMnist.Split data, IReadOnlyList<int> indices, IReadOnlyList<int> classes,
        float learningRate, int batch, int seed)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "the batch must hold at least one image");
        var active = new bool[FashionMnist.ClassCount];
        foreach (int c in classes)
        {
            if ((uint)c >= FashionMnist.ClassCount) throw new ArgumentOutOfRangeException(nameof(classes), c, "classes are 0-9");
            active[c] = true;
        }
        var order = new List<int>(indices.Count);
        foreach (int i in indices)
            if (active[data.Labels[i]]) order.Add(i);
        Shuffle(order, new DeterministicRandom((ulong)seed));

        var a = new Activations(this);
        var g = new Gradients(this);
        double totalLoss = 0;
        for (int start = 0; start < order.Count; start += batch)
        {
            int end = Math.Min(start + batch, order.Count);
            foreach (var p in _parameters) Array.Clear(p.Gradient);
            for (int n = start; n < end; n++)
            {
                int label = data.Labels[order[n]];
                Run(data.Image(order[n]), a);
                var probabilities = Softmax(a.Logits, active);
                totalLoss -= Math.Log(Math.Max(probabilities[label], 1e-30f));
                for (int k = 0; k < probabilities.Length; k++) g.Logits[k] = probabilities[k] - (k == label ? 1f : 0f);
                Backward(data.Image(order[n]), a, g);
            }
            AdamStep(learningRate, 1f / (end - start));
        }
        return order.Count == 0 ? 0 : totalLoss / order.Count;
    }

    /// <summary>The trained network as a float32 TFLite model (input "image" [1,28,28,1], output "probabilities" [1,10]).</summary>
    public Model ToModel()
    {
        var b = new ModelBuilder();
        int image = b.Tensor("image", DataType.Float32, new[] { 1, In, In, 1 });
        int Conv(int input, string name, int channels, int inputChannels, int side, Parameter w, Parameter bias)
        {
            int weights = b.Constant(name + "/weights", new[] { channels, Kernel, Kernel, inputChannels }, w.Values);
            int biases = b.Constant(name + "/bias", new[] { channels }, bias.Values);
            int output = b.Tensor(name, DataType.Float32, new[] { 1, side, side, channels });
            b.Operator(OpKind.Conv2D, new[] { input, weights, biases }, new[] { output },
                new Conv2DOptions(Padding.Same, Stride, Stride, Activation.Relu), version: 1);
            return output;
        }
        int Dense(int input, string name, int units, int inputs, Parameter w, Parameter bias, Activation activation)
        {
            int weights = b.Constant(name + "/weights", new[] { units, inputs }, w.Values);
            int biases = b.Constant(name + "/bias", new[] { units }, bias.Values);
            int output = b.Tensor(name, DataType.Float32, new[] { 1, units });
            b.Operator(OpKind.FullyConnected, new[] { input, weights, biases }, new[] { output },
                new FullyConnectedOptions(activation, 0, false, false), version: 1);
            return output;
        }
        int conv1 = Conv(image, "conv1", C1, 1, Mid, _conv1W, _conv1B);
        int conv2 = Conv(conv1, "conv2", C2, C1, Out, _conv2W, _conv2B);
        int shape = b.Constant("flatten/shape", new[] { 2 }, new[] { 1, Flattened });
        int flat = b.Tensor("flatten", DataType.Float32, new[] { 1, Flattened });
        b.Operator(OpKind.Reshape, new[] { conv2, shape }, new[] { flat }, new ReshapeOptions(new[] { 1, Flattened }), version: 1);
        int hidden = Dense(flat, "hidden", Hidden, Flattened, _fc1W, _fc1B, Activation.Relu);
        int logits = Dense(hidden, "logits", FashionMnist.ClassCount, Hidden, _headW, _headB, Activation.None);
        int probabilities = b.Tensor("probabilities", DataType.Float32, new[] { 1, FashionMnist.ClassCount });
        b.Operator(OpKind.Softmax, new[] { logits }, new[] { probabilities }, new SoftmaxOptions(1f), version: 1);
        return b.Inputs(image).Outputs(probabilities)
            .Signature("serving_default", new[] { "image" }, new[] { "probabilities" }).Build();
    }

    private void Run(ReadOnlySpan<byte> image, Activations a)
    {
        if (image.Length != FashionMnist.ImageSize)
            throw new ArgumentException($"an image has {FashionMnist.ImageSize} bytes, not {image.Length}", nameof(image));
        for (int i = 0; i < a.Input.Length; i++) a.Input[i] = image[i] / 255f;
        ConvForward(a.Input, In, 1, _conv1W.Values, _conv1B.Values, C1, a.Conv1);
        ConvForward(a.Conv1, Mid, C1, _conv2W.Values, _conv2B.Values, C2, a.Conv2);
        DenseForward(a.Conv2, _fc1W.Values, _fc1B.Values, a.Hidden, relu: true);
        DenseForward(a.Hidden, _headW.Values, _headB.Values, a.Logits, relu: false);
    }

    // 3x3 stride 2 SAME with ReLU, NHWC; the padding row and column are past the end, so they are skipped.
    private static void ConvForward(float[] input, int side, int channels, float[] w, float[] bias, int outChannels, float[] output)
    {
        int outSide = side / 2;
        for (int oy = 0; oy < outSide; oy++)
            for (int ox = 0; ox < outSide; ox++)
                for (int o = 0; o < outChannels; o++)
                {
                    float sum = bias[o];
                    for (int ky = 0; ky < Kernel; ky++)
                    {
                        int iy = oy * Stride + ky;
                        if (iy >= side) break;
                        for (int kx = 0; kx < Kernel; kx++)
                        {
                            int ix = ox * Stride + kx;
                            if (ix >= side) break;
                            int wBase = ((o * Kernel + ky) * Kernel + kx) * channels, iBase = (iy * side + ix) * channels;
                            for (int c = 0; c < channels; c++) sum += w[wBase + c] * input[iBase + c];
                        }
                    }
                    output[(oy * outSide + ox) * outChannels + o] = Math.Max(sum, 0f);
                }
    }

    // Gradients of the weights and bias; the input's gradient too unless inputGradient is null. outputGradient
    // already has the ReLU mask applied.
    private static void ConvBackward(float[] input, int side, int channels, float[] w, int outChannels, float[] outputGradient,
        float[] wGradient, float[] biasGradient, float[]? inputGradient)
    {
        int outSide = side / 2;
        if (inputGradient is not null) Array.Clear(inputGradient);
        for (int oy = 0; oy < outSide; oy++)
            for (int ox = 0; ox < outSide; ox++)
                for (int o = 0; o < outChannels; o++)
                {
                    float d = outputGradient[(oy * outSide + ox) * outChannels + o];
                    if (d == 0f) continue;
                    biasGradient[o] += d;
                    for (int ky = 0; ky < Kernel; ky++)
                    {
                        int iy = oy * Stride + ky;
                        if (iy >= side) break;
                        for (int kx = 0; kx < Kernel; kx++)
                        {
                            int ix = ox * Stride + kx;
                            if (ix >= side) break;
                            int wBase = ((o * Kernel + ky) * Kernel + kx) * channels, iBase = (iy * side + ix) * channels;
                            for (int c = 0; c < channels; c++) wGradient[wBase + c] += d * input[iBase + c];
                            if (inputGradient is null) continue;
                            for (int c = 0; c < channels; c++) inputGradient[iBase + c] += d * w[wBase + c];
                        }
                    }
                }
    }

    private static void DenseForward(float[] input, float[] w, float[] bias, float[] output, bool relu)
    {
        int inputs = input.Length;
        for (int u = 0; u < output.Length; u++)
        {
            float sum = bias[u];
            int row = u * inputs;
            for (int i = 0; i < inputs; i++) sum += w[row + i] * input[i];
            output[u] = relu ? Math.Max(sum, 0f) : sum;
        }
    }

    private static void DenseBackward(float[] input, float[] w, float[] outputGradient, float[] wGradient, float[] biasGradient,
        float[] inputGradient)
    {
        int inputs = input.Length;
        Array.Clear(inputGradient);
        for (int u = 0; u < outputGradient.Length; u++)
        {
            float d = outputGradient[u];
            if (d == 0f) continue;
            biasGradient[u] += d;
            int row = u * inputs;
            for (int i = 0; i < inputs; i++)
            {
                wGradient[row + i] += d * input[i];
                inputGradient[i] += d * w[row + i];
            }
        }
    }

    private static void ReluMask(float[] gradient, float[] activation)
    {
        for (int i = 0; i < gradient.Length; i++)
            if (activation[i] <= 0f) gradient[i] = 0f;
    }

    // g.Logits holds dLoss/dlogits (zero for masked classes), so masked head rows get no gradient.
    private void Backward(ReadOnlySpan<byte> image, Activations a, Gradients g)
    {
        DenseBackward(a.Hidden, _headW.Values, g.Logits, _headW.Gradient, _headB.Gradient, g.Hidden);
        ReluMask(g.Hidden, a.Hidden);
        DenseBackward(a.Conv2, _fc1W.Values, g.Hidden, _fc1W.Gradient, _fc1B.Gradient, g.Conv2);
        ReluMask(g.Conv2, a.Conv2);
        ConvBackward(a.Conv1, Mid, C1, _conv2W.Values, C2, g.Conv2, _conv2W.Gradient, _conv2B.Gradient, g.Conv1);
        ReluMask(g.Conv1, a.Conv1);
        ConvBackward(a.Input, In, 1, _conv1W.Values, C1, g.Conv1, _conv1W.Gradient, _conv1B.Gradient, null);
    }

    private void AdamStep(float learningRate, float gradientScale)
    {
        _adamStep++;
        float correction1 = 1f - MathF.Pow(Beta1, _adamStep), correction2 = 1f - MathF.Pow(Beta2, _adamStep);
        float stepSize = learningRate / correction1;
        foreach (var p in _parameters)
        {
            float[] values = p.Values, gradient = p.Gradient, m = p.Moment, v = p.Velocity;
            for (int i = 0; i < values.Length; i++)
            {
                float gi = gradient[i] * gradientScale;
                // A parameter that has never had a gradient (a masked head row) stays exactly where it is.
                if (gi == 0f && m[i] == 0f) continue;
                m[i] = Beta1 * m[i] + (1f - Beta1) * gi;
                v[i] = Beta2 * v[i] + (1f - Beta2) * gi * gi;
                values[i] -= stepSize * m[i] / (MathF.Sqrt(v[i] / correction2) + Epsilon);
            }
        }
    }

    /// <summary>Softmax over the classes marked in <paramref name="active"/> (all when null); the others get 0.</summary>
    internal static float[] Softmax(float[] logits, bool[]? active)
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < logits.Length; k++)
            if (active is null || active[k]) max = Math.Max(max, logits[k]);
        var result = new float[logits.Length];
        double sum = 0;
        var exps = new double[logits.Length];
        for (int k = 0; k < logits.Length; k++)
            if (active is null || active[k]) sum += exps[k] = Math.Exp(logits[k] - max);
        for (int k = 0; k < logits.Length; k++) result[k] = (float)(exps[k] / sum);
        return result;
    }

    private static void Shuffle(List<int> items, DeterministicRandom random)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private sealed class Parameter
    {
        public Parameter(int count) =>
            (Values, Gradient, Moment, Velocity) = (new float[count], new float[count], new float[count], new float[count]);

        public float[] Values { get; }
        public float[] Gradient { get; }
        public float[] Moment { get; }
        public float[] Velocity { get; }

        public static Parameter HeUniform(int count, int fanIn, DeterministicRandom random)
        {
            var p = new Parameter(count);
            double limit = Math.Sqrt(6.0 / fanIn);
            for (int i = 0; i < count; i++) p.Values[i] = (float)random.Uniform(-limit, limit);
            return p;
        }
    }

    private sealed class Activations
    {
        public Activations(FashionCnn n)
        {
            Input = new float[FashionMnist.ImageSize];
            Conv1 = new float[Mid * Mid * n.C1];
            Conv2 = new float[n.Flattened];
            Hidden = new float[n.Hidden];
            Logits = new float[FashionMnist.ClassCount];
        }

        public float[] Input { get; }
        public float[] Conv1 { get; }
        public float[] Conv2 { get; }
        public float[] Hidden { get; }
        public float[] Logits { get; }
    }

    private sealed class Gradients
    {
        public Gradients(FashionCnn n)
        {
            Conv1 = new float[Mid * Mid * n.C1];
            Conv2 = new float[n.Flattened];
            Hidden = new float[n.Hidden];
            Logits = new float[FashionMnist.ClassCount];
        }

        public float[] Conv1 { get; }
        public float[] Conv2 { get; }
        public float[] Hidden { get; }
        public float[] Logits { get; }
    }
}

/// <summary>
/// Float SGD of a copy of a <see cref="FashionCnn"/> head (weights [10, H], bias 10) on given H-vectors, full
/// 10-class softmax cross-entropy: the float upper reference for learning the head on a device.
/// </summary>
internal sealed class SoftmaxHead
{
    /// <summary>Copies <paramref name="weights"/> ([classes, inputs] row-major) and <paramref name="bias"/>.</summary>
    public SoftmaxHead(float[] weights, float[] bias)
    {
        if (bias.Length == 0 || weights.Length % bias.Length != 0)
            throw new ArgumentException($"{weights.Length} weights do not make {bias.Length} rows", nameof(weights));
        Weights = (float[])weights.Clone();
        Bias = (float[])bias.Clone();
        Inputs = weights.Length / bias.Length;
    }

    /// <summary>The head of <paramref name="network"/>, copied.</summary>
    public SoftmaxHead(FashionCnn network) : this(network.HeadWeights, network.HeadBias)
    {
    }

    /// <summary>Length of an input vector.</summary>
    public int Inputs { get; }

    /// <summary>The weights, [classes, inputs] row-major.</summary>
    public float[] Weights { get; }

    /// <summary>The bias, one per class.</summary>
    public float[] Bias { get; }

    /// <summary>The logits for <paramref name="headInput"/>.</summary>
    public float[] Logits(float[] headInput)
    {
        if (headInput.Length != Inputs) throw new ArgumentException($"the head takes {Inputs} values, not {headInput.Length}", nameof(headInput));
        var logits = new float[Bias.Length];
        for (int k = 0; k < logits.Length; k++)
        {
            float sum = Bias[k];
            for (int i = 0; i < Inputs; i++) sum += Weights[k * Inputs + i] * headInput[i];
            logits[k] = sum;
        }
        return logits;
    }

    /// <summary>One SGD step on one example; returns its cross-entropy before the step.</summary>
    public double Step(float[] headInput, int label, float learningRate)
    {
        if ((uint)label >= (uint)Bias.Length) throw new ArgumentOutOfRangeException(nameof(label), label, $"labels are 0-{Bias.Length - 1}");
        var p = FashionCnn.Softmax(Logits(headInput), null);
        for (int k = 0; k < p.Length; k++)
        {
            float d = (p[k] - (k == label ? 1f : 0f)) * learningRate;
            Bias[k] -= d;
            for (int i = 0; i < Inputs; i++) Weights[k * Inputs + i] -= d * headInput[i];
        }
        return -Math.Log(Math.Max(p[label], 1e-30f));
    }

    /// <summary>The class with the largest logit (the first on a tie).</summary>
    public int Predict(float[] headInput)
    {
        var logits = Logits(headInput);
        int best = 0;
        for (int k = 1; k < logits.Length; k++)
            if (logits[k] > logits[best]) best = k;
        return best;
    }
}
