// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.PostTraining;
using TinyML.Samples;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// PAD folding (docs/memory.md): a folded plan computes the bytes of the plan that runs the PAD (tml_pad, then the
/// reader on the padded copy, both held to TFLM by the conformance tests), on random PAD → reader graphs; it folds
/// exactly where the fill equals what the reader skips (the zero point before a convolution, the type's lowest value
/// before a max pooling; never before an average pooling), and the padded copy leaves the plan.
/// </summary>
public class PadFoldingTests
{
    private enum Reader { Conv, Depthwise, MaxPool, AveragePool }

    private sealed record Case(string Name, Model Model, bool ShouldFold, byte[] Input, bool MaxPoolAboveLowest = false);

    /// <summary>A random PAD (or PADV2) feeding one or two readers; whether it should fold follows from the rule.</summary>
    private static Case RandomCase(int seed)
    {
        var r = new Random(seed);
        bool isFloat = r.Next(4) == 0;
        var type = isFloat ? DataType.Float32 : DataType.Int8;
        int h = r.Next(1, 9), w = r.Next(1, 9), c = r.Next(1, 5);
        int top = r.Next(4), bottom = r.Next(4), left = r.Next(4), right = r.Next(4);
        int zp = r.Next(-20, 21);
        var q = isFloat ? null : Quantization.PerTensor(0.02f + (float)r.NextDouble() * 0.1f, zp);
        // The fill: PAD's implicit zero point (0.0 in float), or PADV2 with the zero point, the lowest value or another.
        int fillKind = r.Next(4);
        double lowest = isFloat ? float.MinValue : sbyte.MinValue;
        double fill = fillKind switch { 0 or 1 => isFloat ? 0 : zp, 2 => lowest, _ => isFloat ? 0.75 : zp + r.Next(1, 30) };
        // Sometimes the PAD's input comes from a 1x1 convolution with a fused RELU (nothing below the zero point),
        // often followed by a max pooling, as in a ResNet stem.
        bool relu = !isFloat && r.Next(2) == 0;
        var readers = new List<Reader> { relu && r.Next(2) == 0 ? Reader.MaxPool : (Reader)r.Next(4) };
        if (r.Next(3) == 0) readers.Add((Reader)r.Next(4));
        int hp = h + top + bottom, wp = w + left + right;
        var geometry = readers.Select(reader =>
        {
            var padding = r.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int k = r.Next(1, 5), stride = r.Next(1, 4), dilation = reader is Reader.Conv or Reader.Depthwise ? r.Next(1, 3) : 1;
            int effective = (k - 1) * dilation + 1;
            return (Padding: padding == Padding.Valid && (effective > hp || effective > wp) ? Padding.Same : padding, K: k, Stride: stride, Dilation: dilation);
        }).ToList();
        // Whether every window of a pooling reader holds a tap of the unpadded input, by brute force over its outputs.
        bool WindowsReadInput(int i)
        {
            var g = geometry[i];
            bool Axis(int padded, int before, int n)
            {
                int outputs = QuantMath.OutputSize(g.Padding, padded, g.K, g.Stride, 1);
                int same = QuantMath.PaddingBefore(g.Stride, 1, padded, g.K, outputs);
                return Enumerable.Range(0, outputs).All(o => Enumerable.Range(0, g.K).Select(j => o * g.Stride - same + j).Any(row => row >= before && row < before + n));
            }
            return Axis(hp, top, h) && Axis(wp, left, w);
        }
        // Which PADs fold, stated independently of the lowering: every reader must skip taps as it reads the fill.
        bool Skips(Reader reader, int i) => reader switch
        {
            Reader.Conv or Reader.Depthwise => fill == (isFloat ? 0 : zp),
            Reader.MaxPool => fill == lowest || relu && fill == zp && WindowsReadInput(i),
            _ => false,
        };
        bool shouldFold = readers.Select(Skips).All(x => x);

        var b = new ModelBuilder();
        int x = b.Tensor("x", type, new[] { 1, h, w, c }, q);
        int graphInput = x;
        if (relu)
        {
            graphInput = b.Tensor("in", type, new[] { 1, h, w, c }, Quantization.PerTensor(0.05f, r.Next(-10, 11)));
            var weights = Enumerable.Range(0, c * c).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
            var (qw, wq) = QuantizationMath.SymmetricWeights(weights, new[] { c, 1, 1, c }, channelDim: 0);
            var (qb, bq) = QuantizationMath.Bias(new float[c], 0.05f, wq);
            b.Operator(OpKind.Conv2D, new[] { graphInput, b.Constant("pw", new[] { c, 1, 1, c }, qw, wq), b.Constant("pb", new[] { c }, qb, bq) }, new[] { x },
                new Conv2DOptions(Padding.Valid, 1, 1, Activation.Relu), version: 3);
        }
        int padded = b.Tensor("padded", type, new[] { 1, hp, wp, c }, q);
        int paddings = b.Constant("paddings", new[] { 4, 2 }, new[] { 0, 0, top, bottom, left, right, 0, 0 });
        if (fillKind == 0)
        {
            b.Operator(OpKind.Pad, new[] { x, paddings }, new[] { padded }, version: 2);
        }
        else
        {
            int value = isFloat ? b.Constant("fill", new[] { 1 }, new[] { (float)fill })
                : b.Constant("fill", new[] { 1 }, new[] { (sbyte)fill }, q!);
            b.Operator(OpKind.PadV2, new[] { x, paddings, value }, new[] { padded }, version: 2);
        }
        var outputs = new List<int>();
        for (int i = 0; i < readers.Count; i++)
        {
            var (padding, k, stride, dilation) = geometry[i];
            int oh = QuantMath.OutputSize(padding, hp, k, stride, dilation), ow = QuantMath.OutputSize(padding, wp, k, stride, dilation);
            var activation = r.Next(3) == 0 ? Activation.Relu : Activation.None;
            switch (readers[i])
            {
                case Reader.Conv or Reader.Depthwise:
                {
                    bool depthwise = readers[i] == Reader.Depthwise;
                    int outC = depthwise ? c * r.Next(1, 3) : r.Next(1, 7);
                    var shape = depthwise ? new[] { 1, k, k, outC } : new[] { outC, k, k, c };
                    var weights = Enumerable.Range(0, shape.Aggregate(1, (p, d) => p * d)).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
                    var bias = Enumerable.Range(0, outC).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
                    int output = b.Tensor($"y{i}", type, new[] { 1, oh, ow, outC }, isFloat ? null : Quantization.PerTensor(0.05f + (float)r.NextDouble() * 0.2f, r.Next(-10, 11)));
                    int wt, bt;
                    if (isFloat)
                    {
                        wt = b.Constant($"w{i}", shape, weights);
                        bt = b.Constant($"b{i}", new[] { outC }, bias);
                    }
                    else
                    {
                        var (qw, wq) = QuantizationMath.SymmetricWeights(weights, shape, channelDim: depthwise ? 3 : 0);
                        var (qb, bq) = QuantizationMath.Bias(bias, q!.Scale, wq);
                        wt = b.Constant($"w{i}", shape, qw, wq);
                        bt = b.Constant($"b{i}", new[] { outC }, qb, bq);
                    }
                    b.Operator(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, new[] { padded, wt, bt }, new[] { output },
                        depthwise ? new DepthwiseConv2DOptions(padding, stride, stride, outC / c, activation, dilation, dilation)
                            : new Conv2DOptions(padding, stride, stride, activation, dilation, dilation), version: depthwise ? 3 : 3);
                    outputs.Add(output);
                    break;
                }
                default:
                {
                    // Pooling keeps the input's quantization.
                    int output = b.Tensor($"y{i}", type, new[] { 1, oh, ow, c }, q);
                    b.Operator(readers[i] == Reader.MaxPool ? OpKind.MaxPool2D : OpKind.AveragePool2D, new[] { padded }, new[] { output },
                        new Pool2DOptions(padding, stride, stride, k, k, activation), version: 2);
                    outputs.Add(output);
                    break;
                }
            }
        }
        b.Inputs(graphInput).Outputs(outputs.ToArray());
        byte[] input = isFloat
            ? MemoryMarshal.AsBytes(Enumerable.Range(0, h * w * c).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray().AsSpan()).ToArray()
            : Enumerable.Range(0, h * w * c).Select(_ => (byte)r.Next(256)).ToArray();
        string name = $"seed {seed}: {type} {h}x{w}x{c}{(relu ? " from a RELU" : "")}, pads {top},{bottom},{left},{right}, fill {fill} ({(fillKind == 0 ? "PAD" : "PADV2")}), readers {string.Join("+", readers)}";
        return new Case(name, b.Build(), shouldFold, input, shouldFold && readers.Contains(Reader.MaxPool) && fill != lowest);
    }

    private static bool RunsPad(ExecutionPlan plan) => plan.Calls.Any(call => call.Kernel == "tml_pad");

    [Fact]
    public void RandomPads_FoldExactlyWhereTheRuleSays_AndKeepEveryByte()
    {
        int folded = 0, kept = 0, maxPoolAboveLowest = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            var c = RandomCase(seed);
            var unfolded = Lowerer.Lower(c.Model, null, LoweringOptions.None);
            Assert.True(unfolded.Value is not null, c.Name + "\n" + string.Join("\n", unfolded.Diagnostics));
            var plan = Lowerer.Lower(c.Model, null, LoweringOptions.None with { FoldPads = true }).Value!;
            Assert.True(RunsPad(unfolded.Value!), c.Name);
            Assert.True(c.ShouldFold != RunsPad(plan), $"{c.Name}: expected {(c.ShouldFold ? "a fold" : "no fold")}");
            Assert.True(PatchTests.Run(unfolded.Value!, c.Input).SequenceEqual(PatchTests.Run(plan, c.Input)), c.Name + ": outputs differ");
            Assert.Empty(PlanVerifier.Verify(plan.Memory!.Arena));
            Assert.True(plan.ArenaBytes <= unfolded.Value!.ArenaBytes, c.Name);
            if (c.ShouldFold) folded++; else kept++;
            if (c.MaxPoolAboveLowest) maxPoolAboveLowest++;
        }
        // Both outcomes are exercised, not one by accident.
        Assert.True(folded > 80 && kept > 80 && maxPoolAboveLowest >= 3, $"{folded} folded, {kept} kept, {maxPoolAboveLowest} max poolings folded on a RELU's zero point");
    }

    /// <summary>
    /// int16 (16x8) convolutions, whose zero point is 0, fold a PAD in front of them too: the random 16x8 CONV_2D and
    /// DEPTHWISE_CONV_2D models of Weighted16x8Cases (batches, odd channel counts, strides, dilations, SAME and VALID,
    /// int64, int32 and no bias) with a random PAD inserted before the convolution.
    /// </summary>
    [Theory]
    [InlineData(OpKind.Conv2D)]
    [InlineData(OpKind.DepthwiseConv2D)]
    public void Int16Convolutions_FoldAPad_AndKeepEveryByte(OpKind kind)
    {
        var rng = new Random(17);
        int tried = 0;
        foreach (var c in Weighted16x8Cases.Cases(kind, seed: 23, count: 40))
        {
            var graph = c.Model.Main;
            var conv = graph.Operators.Single();
            var padded = graph.Tensors[conv.Inputs[0]];
            int top = rng.Next(3), bottom = rng.Next(3), left = rng.Next(3), right = rng.Next(3);
            int hp = c.In[1] + top + bottom, wp = c.In[2] + left + right;
            var padding = conv.Options is Conv2DOptions co ? co.Padding : ((DepthwiseConv2DOptions)conv.Options!).Padding;
            int oh = QuantMath.OutputSize(padding, hp, c.W[1], c.StrideH, c.DilationH), ow = QuantMath.OutputSize(padding, wp, c.W[2], c.StrideW, c.DilationW);
            if (oh < 1 || ow < 1) continue;
            // The graph input becomes the unpadded tensor; the PAD writes the tensor the convolution reads.
            graph.Tensors.Add(new Tensor("unpadded", DataType.Int16, c.In) { Quantization = padded.Quantization });
            int unpadded = graph.Tensors.Count - 1;
            graph.Tensors.Add(new Tensor("paddings", DataType.Int32, new[] { 4, 2 })
            {
                Data = MemoryMarshal.AsBytes(new[] { 0, 0, top, bottom, left, right, 0, 0 }.AsSpan()).ToArray(),
            });
            graph.Operators.Insert(0, new Operator(OpKind.Pad, new[] { unpadded, graph.Tensors.Count - 1 }, new[] { conv.Inputs[0] }) { Version = 4 });
            padded.Shape = new[] { c.In[0], hp, wp, c.In[3] };
            var output = graph.Tensors[conv.Outputs[0]];
            output.Shape = new[] { c.Out[0], oh, ow, c.Out[3] };
            graph.Inputs = new[] { unpadded };

            var unfolded = Lowerer.Lower(c.Model, null, LoweringOptions.None);
            Assert.True(unfolded.Value is not null, c.Label + "\n" + string.Join("\n", unfolded.Diagnostics));
            var plan = Lowerer.Lower(c.Model, null, LoweringOptions.None with { FoldPads = true }).Value!;
            Assert.DoesNotContain(plan.Calls, call => call.Kernel == "tml_pad");
            var input = Enumerable.Range(0, c.In.Aggregate(1, (a, d) => a * d) * 2).Select(_ => (byte)rng.Next(256)).ToArray();
            Assert.True(PatchTests.Run(unfolded.Value!, input).SequenceEqual(PatchTests.Run(plan, input)), $"{c.Label}, pads {top},{bottom},{left},{right}: outputs differ");
            tried++;
        }
        Assert.True(tried > 20, $"{tried} cases");
    }

    [Theory]
    [InlineData("mobilenetv2")]
    [InlineData("mobilenetv1")]
    public void PyTorchExport_FoldsEveryPad_AndLosesThePaddedCopies(string name)
    {
        Model Build(MobileNetModels.Export export) => name == "mobilenetv2"
            ? MobileNetModels.MobileNetV2(0.35, 96, export: export)
            : MobileNetModels.MobileNetV1(0.25, 96, export: export);
        var model = Build(MobileNetModels.Export.PyTorch);
        int pads = model.Main.Operators.Count(op => op.Kind == OpKind.Pad);
        Assert.True(pads > 10, $"{pads} PADs");
        var unfolded = Lowerer.Lower(model, null, LoweringOptions.None).Value!;
        var plan = Lowerer.Lower(model, null, LoweringOptions.None with { FoldPads = true }).Value!;
        Assert.False(RunsPad(plan));
        // Every operator but the PADs and the RESHAPE (an alias, no call) runs.
        Assert.Equal(model.Main.Operators.Count(op => op.Kind is not (OpKind.Pad or OpKind.Reshape)), plan.Calls.Select(call => call.OperatorIndex).Distinct().Count());
        // Calls keep the model's operator indices: none is a PAD's.
        Assert.All(plan.Calls, call => Assert.NotEqual(OpKind.Pad, model.Main.Operators[call.OperatorIndex].Kind));
        Assert.All(plan.Memory!.Order, op => Assert.NotEqual(OpKind.Pad, model.Main.Operators[op].Kind));
        // Folded, the export holds the same activations as TensorFlow's SAME-padded graph: its peak is that graph's
        // (the 96x96x3 NCHW input and its transpose are smaller than the peak).
        var tensorFlow = Lowerer.Lower(Build(MobileNetModels.Export.TensorFlow), null, LoweringOptions.None).Value!;
        Assert.Equal(tensorFlow.ArenaBytes, plan.ArenaBytes);
        Assert.True(plan.ArenaBytes < unfolded.ArenaBytes, $"{plan.ArenaBytes} B, unfolded {unfolded.ArenaBytes} B");
        foreach (ulong seed in new ulong[] { 1, 2 })
        {
            var input = MobileNetModels.Input(model, seed);
            Assert.True(PatchTests.Run(unfolded, input).SequenceEqual(PatchTests.Run(plan, input)), $"input {seed}: outputs differ");
        }
    }

    [Fact]
    public void Techniques_ListPadFolding_AndSayWhyItDidNotHelp()
    {
        var model = MobileNetModels.MobileNetV1(0.25, 96, export: MobileNetModels.Export.PyTorch);
        var results = MemoryTechniques.Evaluate(model, null);
        var fold = results.Single(t => t.Name == "fold-pad");
        Assert.True(fold.ArenaBytes < results[0].ArenaBytes);
        Assert.Null(fold.Reason);
        // A model without PADs: the reason says so.
        var plain = MemoryTechniques.Evaluate(MobileNetModels.MobileNetV1(0.25, 96), null).Single(t => t.Name == "fold-pad");
        Assert.Contains("PAD folding: the model has no PAD", plain.Reason);
    }
}
