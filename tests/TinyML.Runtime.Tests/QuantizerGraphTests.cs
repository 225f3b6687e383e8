// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Cli;
using TinyML.Compiler.Building;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>The quantizer's graph rules on small models built here: folding, tied and fixed scales, errors.</summary>
public class QuantizerGraphTests
{
    private static readonly PlanModelRunner Runner = new();

    private static CalibrationSet Samples(int elements, int count, float low = -1, float high = 1, int seed = 7)
    {
        var random = new Random(seed);
        return new CalibrationSet(Enumerable.Range(0, count)
            .Select(_ => new[] { Enumerable.Range(0, elements).Select(_ => (float)(low + (high - low) * random.NextDouble())).ToArray() }).ToList(), Array.Empty<string>());
    }

    private static float[] Ramp(int n, float scale) => Enumerable.Range(0, n).Select(i => scale * ((i * 37 % 11) - 5)).ToArray();

    /// <summary>float [1,4,4,2] → CONV 3x3 (no activation) → MUL by per-channel constant → ADD per-channel constant → RELU.</summary>
    private static Model ConvBatchNormRelu()
    {
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, new[] { 1, 4, 4, 2 });
        int w = b.Constant("w", new[] { 3, 3, 3, 2 }, Ramp(54, 0.1f));
        int bias = b.Constant("b", new[] { 3 }, new[] { 0.1f, -0.2f, 0.3f });
        int conv = b.Tensor("conv", DataType.Float32, new[] { 1, 4, 4, 3 });
        b.Operator(OpKind.Conv2D, new[] { x, w, bias }, new[] { conv }, new Conv2DOptions(Padding.Same, 1, 1, Activation.None));
        int gamma = b.Constant("gamma", new[] { 3 }, new[] { 0.5f, 2f, -1f });
        int scaled = b.Tensor("scaled", DataType.Float32, new[] { 1, 4, 4, 3 });
        b.Operator(OpKind.Mul, new[] { conv, gamma }, new[] { scaled }, new MulOptions(Activation.None));
        int beta = b.Constant("beta", new[] { 1, 1, 1, 3 }, new[] { 0.25f, -0.5f, 1f });
        int shifted = b.Tensor("shifted", DataType.Float32, new[] { 1, 4, 4, 3 });
        b.Operator(OpKind.Add, new[] { scaled, beta }, new[] { shifted }, new AddOptions(Activation.None));
        int y = b.Tensor("y", DataType.Float32, new[] { 1, 4, 4, 3 });
        b.Operator(OpKind.Relu, new[] { shifted }, new[] { y });
        return b.Inputs(x).Outputs(y).Build();
    }

    [Fact]
    public void BatchNormAndRelu_FoldIntoTheConvolution_AndComputeTheSameFunction()
    {
        var model = ConvBatchNormRelu();
        var (prepared, notes) = FloatGraphPreparation.Prepare(model);
        var op = Assert.Single(prepared.Main.Operators);
        Assert.Equal(OpKind.Conv2D, op.Kind);
        Assert.Equal(Activation.Relu, op.OptionsAs<Conv2DOptions>()!.Activation);
        Assert.Equal(2, notes.Count);
        // The reference: conv in float by hand, then MUL, ADD, RELU exactly as the graph states them.
        var sample = Samples(32, 1).Samples[0][0];
        var session = Runner.Prepare(prepared, prepared.Main.Outputs.ToArray()).Value!;
        var folded = MemoryMarshal.Cast<byte, float>(session.Run(new[] { MemoryMarshal.AsBytes(sample.AsSpan()).ToArray() })[0]).ToArray();
        session.Dispose();
        var expected = ReferenceConvBatchNormRelu(sample);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], folded[i], 4);
        Assert.Contains(expected, v => v > 0);
    }

    private static float[] ReferenceConvBatchNormRelu(float[] x)
    {
        var w = Ramp(54, 0.1f);
        float[] bias = { 0.1f, -0.2f, 0.3f }, gamma = { 0.5f, 2f, -1f }, beta = { 0.25f, -0.5f, 1f };
        var y = new float[48];
        for (int oy = 0; oy < 4; oy++)
            for (int ox = 0; ox < 4; ox++)
                for (int oc = 0; oc < 3; oc++)
                {
                    double sum = bias[oc];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                            for (int ic = 0; ic < 2; ic++)
                            {
                                int iy = oy + ky - 1, ix = ox + kx - 1;
                                if (iy < 0 || iy >= 4 || ix < 0 || ix >= 4) continue;
                                sum += x[(iy * 4 + ix) * 2 + ic] * w[((oc * 3 + ky) * 3 + kx) * 2 + ic];
                            }
                    y[(oy * 4 + ox) * 3 + oc] = (float)Math.Max(0, sum * gamma[oc] + beta[oc]);
                }
        return y;
    }

    [Fact]
    public void ConvBatchNormRelu_Quantizes_WithRelusZeroPointAndTrackingTheFloat()
    {
        var q = PostTrainingQuantizer.Quantize(ConvBatchNormRelu(), Samples(32, 256), Runner);
        Assert.True(q.Value is not null, string.Join("\n", q.Diagnostics));
        var g = q.Value!.Model.Main;
        var output = g.Tensors[g.Outputs[0]];
        // Observed minimum 0 after ReLU: zero point -128, the whole int8 range for positive values.
        Assert.Equal(-128, output.Quantization!.ZeroPoint);
        var report = AccuracyEvaluator.Measure(q.Value.FloatReference, q.Value.Model, Samples(32, 16, seed: 99), Runner, "validation").Value!;
        // One layer, three roundings: the input (uniform over its whole int8 range: 48 dB), the weights (multiples of
        // 0.1 on a grid of 0.5/127: about 49 dB) and the output (whose RMS is a fraction of its range: about 45 dB).
        // Together about 43 dB when no validation value leaves the calibrated range; 38 dB leaves 5 dB of margin.
        Assert.True(report.Outputs[0].SqnrDb > 38, $"{report.Outputs[0].SqnrDb} dB");
    }

    /// <summary>float [1,4,4,2] → MAX_POOL 2x2 → RESHAPE [1,8]; [1,4,4,2] → AVERAGE_POOL → RESHAPE; CONCATENATION; FC; SOFTMAX.</summary>
    private static Model PoolConcatSoftmax()
    {
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, new[] { 1, 4, 4, 2 });
        int max = b.Tensor("max", DataType.Float32, new[] { 1, 2, 2, 2 });
        b.Operator(OpKind.MaxPool2D, new[] { x }, new[] { max }, new Pool2DOptions(Padding.Valid, 2, 2, 2, 2, Activation.None));
        int avg = b.Tensor("avg", DataType.Float32, new[] { 1, 2, 2, 2 });
        b.Operator(OpKind.AveragePool2D, new[] { x }, new[] { avg }, new Pool2DOptions(Padding.Valid, 2, 2, 2, 2, Activation.None));
        int shape = b.Constant("shape", new[] { 2 }, new[] { 1, 8 });
        int flatMax = b.Tensor("flat_max", DataType.Float32, new[] { 1, 8 });
        b.Operator(OpKind.Reshape, new[] { max, shape }, new[] { flatMax }, new ReshapeOptions(new[] { 1, 8 }));
        int flatAvg = b.Tensor("flat_avg", DataType.Float32, new[] { 1, 8 });
        b.Operator(OpKind.Reshape, new[] { avg, shape }, new[] { flatAvg }, new ReshapeOptions(new[] { 1, 8 }));
        int both = b.Tensor("both", DataType.Float32, new[] { 1, 16 });
        b.Operator(OpKind.Concatenation, new[] { flatMax, flatAvg }, new[] { both }, new ConcatenationOptions(1, Activation.None));
        int w = b.Constant("w", new[] { 4, 16 }, Ramp(64, 0.2f));
        int logits = b.Tensor("logits", DataType.Float32, new[] { 1, 4 });
        b.Operator(OpKind.FullyConnected, new[] { both, w, -1 }, new[] { logits }, new FullyConnectedOptions(Activation.None, 0, false, false));
        int probs = b.Tensor("probs", DataType.Float32, new[] { 1, 4 });
        b.Operator(OpKind.Softmax, new[] { logits }, new[] { probs }, new SoftmaxOptions(1f));
        return b.Inputs(x).Outputs(probs).Build();
    }

    [Fact]
    public void PoolingReshapeAndConcatenation_ShareOneScale_AndSoftmaxHasItsFixedOutput()
    {
        var q = PostTrainingQuantizer.Quantize(PoolConcatSoftmax(), Samples(32, 16), Runner);
        Assert.True(q.Value is not null, string.Join("\n", q.Diagnostics));
        var g = q.Value!.Model.Main;
        Quantization Of(string name) => g.Tensors.Single(t => t.Name == name).Quantization!;
        var shared = Of("x");
        foreach (string name in new[] { "max", "avg", "flat_max", "flat_avg", "both" }) Assert.Equal(shared, Of(name));
        Assert.Equal(Quantization.PerTensor(1f / 256, -128), Of("probs"));
        Assert.False(g.Tensors.Single(t => t.Name == "w").Quantization!.IsPerChannel);
        Assert.NotNull(Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(q.Value.Model)).Value!).Value);
        var report = AccuracyEvaluator.Measure(q.Value.FloatReference, q.Value.Model, Samples(32, 16, seed: 5), Runner, "validation").Value!;
        Assert.NotNull(report.Outputs[0].Top1Agreement);
    }

    [Fact]
    public void MissingCalibration_IsTML2001()
    {
        var result = PostTrainingQuantizer.Quantize(ConvBatchNormRelu(), null, Runner);
        Assert.Equal(DiagnosticIds.MissingCalibrationData, Assert.Single(result.Diagnostics).Id);
        Assert.Null(result.Value);
    }

    [Fact]
    public void AnInt8Model_IsTML2007()
    {
        var model = TfliteReader.ReadFile(TinyML.Tests.SharedData.Model("hello_int8")).Value!;
        Assert.Equal(DiagnosticIds.NothingToQuantize, Assert.Single(PostTrainingQuantizer.Quantize(model, Samples(1, 1), Runner).Diagnostics).Id);
    }

    [Fact]
    public void AnOperatorWeCannotQuantize_IsTML2006()
    {
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, new[] { 1, 4 });
        int y = b.Tensor("y", DataType.Float32, new[] { 1, 4 });
        b.Operator(OpKind.HardSwish, new[] { x }, new[] { y });
        var d = Assert.Single(PostTrainingQuantizer.Quantize(b.Inputs(x).Outputs(y).Build(), Samples(4, 2), Runner).Diagnostics);
        Assert.Equal(DiagnosticIds.UnsupportedFloatOperator, d.Id);
        Assert.Equal("HARD_SWISH", d.OperatorType);
    }

    [Fact]
    public void AFloatLstm_IsRefusedWithTML2006()
    {
        // The quantizer does not write int8 LSTMs (their int16 cell state and intermediate scales): mnist_lstm_float
        // is refused by name rather than quantized wrongly.
        var model = TfliteReader.ReadFile(TinyML.Tests.SharedData.Model("mnist_lstm_float")).Value!;
        var result = PostTrainingQuantizer.Quantize(model, Samples(28 * 28, 2), Runner);
        Assert.Null(result.Value);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.UnsupportedFloatOperator, d.Id);
        Assert.Equal("UNIDIRECTIONAL_SEQUENCE_LSTM", d.OperatorType);
        Assert.Contains("cannot be quantized", d.Message);
    }

    private static Model FullyConnected(float[] weights)
    {
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, new[] { 1, 2 });
        int w = b.Constant("w", new[] { 1, 2 }, weights);
        int y = b.Tensor("y", DataType.Float32, new[] { 1, 1 });
        b.Operator(OpKind.FullyConnected, new[] { x, w, -1 }, new[] { y }, new FullyConnectedOptions(Activation.None, 0, false, false));
        return b.Inputs(x).Outputs(y).Build();
    }

    [Fact]
    public void NaNInASampleGivenInMemory_IsTML2004()
    {
        var samples = new CalibrationSet(new[] { new[] { new[] { 0.5f, 1f } }, new[] { new[] { float.NaN, 1f } } }, Array.Empty<string>());
        var d = Assert.Single(PostTrainingQuantizer.Quantize(FullyConnected(new[] { 1f, 2f }), samples, Runner).Diagnostics);
        Assert.Equal(DiagnosticIds.NonFiniteCalibrationData, d.Id);
        Assert.Contains("'x' element 0 is NaN", d.Message);
        Assert.Contains("sample 1", d.Message);
    }

    [Fact]
    public void AWeightThatIsNaN_IsTML2004()
    {
        var d = Assert.Single(PostTrainingQuantizer.Quantize(FullyConnected(new[] { 1f, float.NaN }), Samples(2, 2), Runner).Diagnostics);
        Assert.Equal(DiagnosticIds.NonFiniteCalibrationData, d.Id);
    }

    [Fact]
    public void ConstantAndAllZeroTensors_QuantizeToValidParameters()
    {
        // FC whose weights are all zero: its output is the bias, a constant 0.75 for every sample.
        var b = new ModelBuilder();
        int x = b.Tensor("x", DataType.Float32, new[] { 1, 3 });
        int w = b.Constant("w", new[] { 2, 3 }, new float[6]);
        int bias = b.Constant("b", new[] { 2 }, new[] { 0.75f, 0.75f });
        int y = b.Tensor("y", DataType.Float32, new[] { 1, 2 });
        b.Operator(OpKind.FullyConnected, new[] { x, w, bias }, new[] { y }, new FullyConnectedOptions(Activation.None, 0, false, false));
        var q = PostTrainingQuantizer.Quantize(b.Inputs(x).Outputs(y).Build(), Samples(3, 4), Runner);
        Assert.True(q.Value is not null, string.Join("\n", q.Diagnostics));
        var g = q.Value!.Model.Main;
        Assert.Equal(1f, g.Tensors[g.Operators[0].Inputs[1]].Quantization!.Scale);
        var report = AccuracyEvaluator.Measure(q.Value.FloatReference, q.Value.Model, Samples(3, 4), Runner, "calibration").Value!;
        // 0.75 in [0, 0.75]: scale 0.75/255, exactly q = 127; the bias 0.75 / (input scale × 1) rounds to within
        // half an input step, far under the output step.
        Assert.Equal(0.0, report.Outputs[0].MaxAbsError, 6);
    }
}
