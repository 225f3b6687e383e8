// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;

namespace TinyML.Compiler.Lowering;

public static partial class Lowerer
{
    /// <summary>Fraction bits of a master weight: int8 * 2^16 leaves room for updates of 1/65536 of a weight step.</summary>
    internal const int WeightFractionBits = 16;

    private sealed partial class Context
    {
        // Where each trained tensor lives in the parameter region (docs/training.md has the layout), and the constant
        // weights a gradient passes back through, which must stay as the model has them.
        private readonly Dictionary<int, long> _parameterOffset = new();
        private readonly HashSet<int> _readByTraining = new();
        private TrainingLayout? _training;

        /// <summary>A trained bias: its place, its master's, and its fraction bits.</summary>
        private sealed record TrainedBias(int Tensor, long Offset, long Master, int FractionBits);

        /// <summary>A layer's gradient buffers: of its output, and (-1 without one) of the global average after it.</summary>
        private sealed record LayerGradients(long Output, long Average);

        private sealed record TrainingLayout(TrainableHead Head, TrainingOptions Options, long Logits, LayerGradients[] Gradients, long Weights,
            long MasterWeights, TrainedBias? HeadBias, TrainedBias[] LayerBiases, long Export, long Bytes);

        /// <summary>Places what training changes in the parameter region before any operator is lowered, so that the
        /// forward pass reads the trained weights and biases there.</summary>
        private void PlaceTrainedTensors(TrainableHead head, TrainingOptions options)
        {
            long offset = TrainingPlan.ControlWords * 4;
            long Take(long bytes)
            {
                long at = MemoryPlanner.Align(offset);
                offset = at + bytes;
                return at;
            }
            // Gradient buffers (an exponent word, then the values): the logits', then per layer its average's and its output's.
            long logits = Take(4 * (1L + head.Units));
            var gradients = head.Layers.Select(l =>
            {
                long average = l.Averaged ? Take(4 * (1L + l.Channels)) : -1;
                return new LayerGradients(Take(4 * (1 + T(l.Output).ElementCount)), average);
            }).ToArray();
            long export = MemoryPlanner.Align(offset);
            long weights = Take((long)head.Units * head.Depth);
            var biases = new[] { head.Bias }.Where(b => b >= 0).Concat(head.Layers.Select(l => l.Bias)).ToArray();
            var biasOffsets = biases.Select(b => Take(T(b).ElementCount * 4)).ToArray();
            long masterWeights = Take((long)head.Units * head.Depth * 4);
            var trained = biases.Select((b, i) => new TrainedBias(b, biasOffsets[i], Take(T(b).ElementCount * 4), FractionBits(b))).ToArray();
            var headBias = head.Bias >= 0 ? trained[0] : null;
            _training = new TrainingLayout(head, options, logits, gradients, weights, masterWeights, headBias, trained.Skip(head.Bias >= 0 ? 1 : 0).ToArray(),
                export, MemoryPlanner.Align(offset));
            _parameterOffset[head.Weights] = weights;
            foreach (var b in trained) _parameterOffset[b.Tensor] = b.Offset;
            foreach (var layer in head.Layers) _readByTraining.Add(_graph.Operators[layer.Consumer].Inputs[1]);
        }

        private int[] Ints(int tensor) => MemoryMarshal.Cast<byte, int>(T(tensor).Data!.Value.Span).ToArray();

        /// <summary>Fraction bits of a master bias: room for the bias to grow 128-fold (2^24 of 2^31) before it saturates.</summary>
        private int FractionBits(int bias)
        {
            long largest = Ints(bias).Select(v => Math.Abs((long)v)).DefaultIfEmpty(0).Max();
            int bits = 0;
            while (bits < 40 && (1L << bits) <= largest) bits++;
            return Math.Max(0, Math.Min(12, 24 - bits));
        }

        private double ChannelScale(Quantization q, int channel) => q.IsPerChannel ? q.Scales[channel] : q.Scale;

        /// <summary>The real scale of one bias channel: its own, or input scale x weight scale as TFLite defines it.</summary>
        private double BiasScale(int op, int bias, int channel) => T(bias).Quantization is { HasScales: true } bq
            ? ChannelScale(bq, channel)
            : Q(T(_graph.Operators[op].Inputs[0])).Scale * ChannelScale(Q(T(_graph.Operators[op].Inputs[1])), channel);

        private Arg Steps(IEnumerable<double> reals)
        {
            var steps = reals.Select(Multiplier).ToArray();
            return PerChannel(Lowering.Int32Blob(steps.Select(s => s.Multiplier)), Lowering.Int32Blob(steps.Select(s => s.Shift)));
        }

        /// <summary>The training plan: the region's initial bytes and the step and apply calls.</summary>
        private void LowerTraining()
        {
            var layout = _training!;
            var head = layout.Head;
            _op = head.FullyConnected;
            var region = new byte[layout.Bytes];
            var (rateMultiplier, rateShift) = TrainingPlan.EncodeLearningRate(layout.Options.LearningRate);
            var control = MemoryMarshal.Cast<byte, int>(region.AsSpan(0, TrainingPlan.ControlWords * 4));
            control[TrainingPlan.ControlRateMultiplier] = rateMultiplier;
            control[TrainingPlan.ControlRateShift] = rateShift;
            control[TrainingPlan.ControlBatch] = 1;

            var weights = T(head.Weights);
            var weightValues = MemoryMarshal.Cast<byte, sbyte>(weights.Data!.Value.Span);
            weights.Data!.Value.Span.CopyTo(region.AsSpan(checked((int)layout.Weights)));
            var masters = MemoryMarshal.Cast<byte, int>(region.AsSpan(checked((int)layout.MasterWeights), weightValues.Length * 4));
            for (int i = 0; i < weightValues.Length; i++) masters[i] = weightValues[i] << WeightFractionBits;
            foreach (var b in layout.LayerBiases.Prepend(layout.HeadBias).OfType<TrainedBias>())
            {
                var values = Ints(b.Tensor);
                MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(region.AsSpan(checked((int)b.Offset)));
                var master = MemoryMarshal.Cast<byte, int>(region.AsSpan(checked((int)b.Master), values.Length * 4));
                for (int j = 0; j < values.Length; j++) master[j] = checked((int)((long)values[j] << b.FractionBits));
            }

            var training = new TrainingPlan
            {
                InitialParameters = region,
                Mode = layout.Options.Mode,
                Classes = head.Units,
                LearningRate = layout.Options.LearningRate,
                ControlOffset = 0,
                ExportOffset = layout.Export,
                ExportBytes = layout.Bytes - layout.Export,
                TrainedValues = (long)head.Units * head.Depth + (head.Bias >= 0 ? head.Units : 0) + head.Layers.Sum(l => l.Channels),
            };
            var controlPointer = Pointer.Parameters(0);
            // The gradient the i-th layer's comes back from: the logits' for the first, else the layer after it's.
            Pointer Gradient(int i) => Pointer.Parameters(i == 0 ? layout.Logits : layout.Gradients[i - 1].Output);
            Pointer Region(long offset) => offset < 0 ? Pointer.Null : Pointer.Parameters(offset);
            KernelCall Call(int op, string kernel, string comment, long macs, params Arg[] args) =>
                new(_modelIndex[op], _graph.Operators[op].TypeName, kernel, args, "train: " + comment, macs);

            // The real gradient of a logit is beta * (p - y) = grad * beta / 256 (tml_train_softmax_grad_s8); each
            // layer's gradient scale is the one after it times the weight scale it came back through.
            double gradScale = head.Beta / 256.0;
            var input = Q(T(head.Input));
            var wq = Q(weights);
            var headParameters = Arg.Struct("tml_train_fc_params", Field.I("units", head.Units), Field.I("depth", head.Depth),
                Field.I("input_offset", -input.ZeroPoint), Field.I("weight_fraction_bits", WeightFractionBits),
                Field.I("bias_fraction_bits", layout.HeadBias?.FractionBits ?? 0));
            training.Step.Add(Call(head.FullyConnected, "tml_train_softmax_grad_s8", $"softmax cross-entropy gradient of {head.Units} classes", 0,
                Arg.Ptr(controlPointer), Arg.Int32(head.Units), Arg.Ptr(Ptr(head.Probabilities)), Arg.Ptr(Pointer.Parameters(layout.Logits))));
            double scale = gradScale;
            for (int i = 0; i < head.Layers.Count; i++)
            {
                var layer = head.Layers[i];
                var through = _graph.Operators[layer.Consumer];
                var throughWeights = T(through.Inputs[1]);
                var bias = layout.LayerBiases[i];
                var buffers = layout.Gradients[i];
                var backTo = Pointer.Parameters(layer.Averaged ? buffers.Average : buffers.Output);
                string back = $"gradient of {T(through.Inputs[0]).Name} back through the weights";
                if (through.Kind == OpKind.Conv2D)
                    training.Step.Add(ConvBackward(layer.Consumer, back, Gradient(i), backTo, ref scale));
                else
                {
                    scale *= Q(throughWeights).Scale;
                    training.Step.Add(Call(layer.Consumer, "tml_train_fc_backward_s8", back, throughWeights.ElementCount,
                        Arg.Struct("tml_train_fc_params", Field.I("units", throughWeights.Shape[0]), Field.I("depth", throughWeights.Shape[1]),
                            Field.I("input_offset", 0), Field.I("weight_fraction_bits", 0), Field.I("bias_fraction_bits", 0)),
                        Arg.Ptr(Ptr(through.Inputs[1])), Arg.Ptr(Gradient(i)), Arg.Ptr(backTo)));
                }
                if (layer.Averaged)
                {
                    // Each of the average's inputs moves its output by 1 / positions.
                    scale /= layer.Positions;
                    training.Step.Add(Call(layer.Operator, "tml_train_spread", $"gradient spread over the {layer.Positions} positions of the global average", 0,
                        Arg.Struct("tml_train_spread_params", Field.I("positions", layer.Positions), Field.I("channels", layer.Channels)),
                        Arg.Ptr(backTo), Arg.Ptr(Pointer.Parameters(buffers.Output))));
                }
                var op = _graph.Operators[layer.Operator];
                var output = T(layer.Output);
                var oq = Q(output);
                var activation = Operators.OperatorRegistry.Of(op.Kind)!.FusedActivation(op);
                var (min, max) = QuantMath.ActivationRange(activation, oq.Scale, oq.ZeroPoint, output.Type);
                training.Step.Add(Call(layer.Operator, "tml_train_mask_s8", $"through the clamp of {activation} to [{min}, {max}]", 0,
                    Arg.Struct("tml_train_mask_params", Field.I("count", checked((int)output.ElementCount)), Field.I("activation_min", min), Field.I("activation_max", max)),
                    Arg.Ptr(Ptr(layer.Output)), Arg.Ptr(Pointer.Parameters(buffers.Output))));
                var biasParameters = Arg.Struct("tml_train_bias_params", Field.I("channels", layer.Channels), Field.I("positions", layer.Positions),
                    Field.I("bias_fraction_bits", bias.FractionBits));
                double layerScale = scale;
                training.Step.Add(Call(layer.Operator, "tml_train_bias_update_s8", $"SGD of the {layer.Channels} biases", output.ElementCount,
                    biasParameters, Steps(Enumerable.Range(0, layer.Channels).Select(c => layerScale * (1L << bias.FractionBits) / BiasScale(layer.Operator, layer.Bias, c))),
                    Arg.Ptr(controlPointer), Arg.Ptr(Pointer.Parameters(buffers.Output)), Arg.Ptr(Region(bias.Master))));
                training.Apply.Add(Call(layer.Operator, "tml_train_bias_apply", "master into the bias", 0,
                    biasParameters, Arg.Ptr(Region(bias.Master)), Arg.Ptr(Region(bias.Offset))));
            }
            var weightSteps = Steps(Enumerable.Range(0, head.Units).Select(j => gradScale * input.Scale * (1 << WeightFractionBits) / ChannelScale(wq, j)));
            var headBias = layout.HeadBias;
            training.Step.Add(Call(head.FullyConnected, "tml_train_fc_update_s8", $"SGD of the head's {head.Depth} -> {head.Units} weights{(headBias is null ? "" : " and bias")}",
                (long)head.Units * head.Depth,
                // Without a bias the kernel reads no bias steps; the weights' fill the argument.
                headParameters, weightSteps,
                headBias is null ? weightSteps : Steps(Enumerable.Range(0, head.Units).Select(j => gradScale * (1L << headBias.FractionBits) / BiasScale(head.FullyConnected, headBias.Tensor, j))),
                Arg.Ptr(controlPointer), Arg.Ptr(Ptr(head.Input)), Arg.Ptr(Pointer.Parameters(layout.Logits)), Arg.Ptr(Region(layout.MasterWeights)), Arg.Ptr(Region(headBias?.Master ?? -1))));
            training.Apply.Insert(0, Call(head.FullyConnected, "tml_train_fc_apply_s8", "masters into the head's int8 weights and int32 bias", 0,
                headParameters, Arg.Ptr(Region(layout.MasterWeights)), Arg.Ptr(Region(headBias?.Master ?? -1)), Arg.Ptr(Region(layout.Weights)), Arg.Ptr(Region(headBias?.Offset ?? -1))));
            training.Fingerprint = Fingerprint(training, layout);
            _plan.Training = training;
        }

        /// <summary>The backward call through an ungrouped CONV_2D, with the stride, dilation and padding its forward
        /// call has; per-channel weight scales become ratios to the largest, which joins <paramref name="scale"/>.</summary>
        private KernelCall ConvBackward(int op, string comment, Pointer gradOut, Pointer gradIn, ref double scale)
        {
            var conv = _graph.Operators[op];
            var forward = _plan.Calls.FirstOrDefault(c => c.OperatorIndex == _modelIndex[op] && c.Kernel == "tml_conv_s8")
                ?? throw Fail($"training passes the gradient back through CONV_2D '{T(conv.Outputs[0]).Name}' only when it runs as tml_conv_s8 (not in patches)");
            int Setting(string name) => forward.Args[0].Fields.Single(f => f.Name == name).Int;
            var (input, weights, output) = (T(conv.Inputs[0]), T(conv.Inputs[1]), T(conv.Outputs[0]));
            var wq = Q(weights);
            double largest = wq.Scales.Max();
            scale *= largest / 32768;
            var ratios = Enumerable.Range(0, output.Shape[3]).Select(oc => (int)Math.Round(32768 * ChannelScale(wq, oc) / largest)).ToArray();
            return new KernelCall(_modelIndex[op], conv.TypeName, "tml_train_conv_backward_s8", new[]
            {
                Arg.Struct("tml_train_conv_backward_params",
                    Field.I("in_h", input.Shape[1]), Field.I("in_w", input.Shape[2]), Field.I("in_c", input.Shape[3]),
                    Field.I("out_h", output.Shape[1]), Field.I("out_w", output.Shape[2]), Field.I("out_c", output.Shape[3]),
                    Field.I("kernel_h", weights.Shape[1]), Field.I("kernel_w", weights.Shape[2]),
                    Field.I("stride_h", Setting("stride_h")), Field.I("stride_w", Setting("stride_w")),
                    Field.I("dilation_h", Setting("dilation_h")), Field.I("dilation_w", Setting("dilation_w")),
                    Field.I("pad_h", Setting("pad_h")), Field.I("pad_w", Setting("pad_w"))),
                Arg.Ptr(Lowering.Int32Blob(ratios)), Arg.Ptr(Ptr(conv.Inputs[1])), Arg.Ptr(gradOut), Arg.Ptr(gradIn),
            }, "train: " + comment, output.ElementCount * weights.Shape[1] * weights.Shape[2] * input.Shape[3]);
        }

        /// <summary>FNV-1a of what exported weights depend on: the mode, the trained tensors' names, shapes and scales,
        /// and the fraction bits.</summary>
        private uint Fingerprint(TrainingPlan training, TrainingLayout layout)
        {
            var text = new StringBuilder(training.Mode);
            foreach (var b in layout.LayerBiases.Prepend(layout.HeadBias).OfType<TrainedBias>().Select(b => (b.Tensor, b.FractionBits)).Prepend((layout.Head.Weights, WeightFractionBits)))
            {
                var t = T(b.Item1);
                text.Append('|').Append(t.Name).Append(':').Append(string.Join(",", t.Shape)).Append(':').Append(b.Item2).Append(':')
                    .Append(string.Join(",", (t.Quantization is { } q ? q.Scales : ValueArray<float>.Empty).Select(s => BitConverter.ToInt32(BitConverter.GetBytes(s), 0))));
            }
            text.Append('|').Append(training.ExportBytes);
            uint hash = 2166136261;
            foreach (byte c in Encoding.UTF8.GetBytes(text.ToString())) hash = (hash ^ c) * 16777619;
            return hash;
        }
    }
}
