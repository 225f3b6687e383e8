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
        // Where each trained tensor lives in the parameter region (docs/training.md has the layout).
        private readonly Dictionary<int, long> _parameterOffset = new();
        private TrainingLayout? _training;

        private sealed record TrainingLayout(TrainableHead Head, TrainingOptions Options, long Grad, long Weights, long Bias,
            long MasterWeights, long MasterBias, long Bytes, int BiasFractionBits);

        /// <summary>Places the head's state in the parameter region before any operator is lowered, so that the
        /// forward pass's FULLY_CONNECTED reads its weights and bias there.</summary>
        private void PlaceTrainedTensors(TrainableHead head, TrainingOptions options)
        {
            long offset = TrainingPlan.ControlWords * 4;
            long Take(long bytes)
            {
                long at = MemoryPlanner.Align(offset);
                offset = at + bytes;
                return at;
            }
            long grad = Take(head.Units * 4L);
            long weights = Take((long)head.Units * head.Depth);
            long bias = head.Bias >= 0 ? Take(head.Units * 4L) : -1;
            long masterWeights = Take((long)head.Units * head.Depth * 4);
            long masterBias = head.Bias >= 0 ? Take(head.Units * 4L) : -1;
            int biasBits = 0;
            if (head.Bias >= 0)
            {
                // Room for the bias to grow 128-fold (2^24 of 2^31) before its master saturates.
                long largest = BiasValues(head).Select(v => Math.Abs((long)v)).DefaultIfEmpty(0).Max();
                int bits = 0;
                while (bits < 40 && (1L << bits) <= largest) bits++;
                biasBits = Math.Max(0, Math.Min(12, 24 - bits));
            }
            _training = new TrainingLayout(head, options, grad, weights, bias, masterWeights, masterBias, MemoryPlanner.Align(offset), biasBits);
            _parameterOffset[head.Weights] = weights;
            if (head.Bias >= 0) _parameterOffset[head.Bias] = bias;
        }

        private int[] BiasValues(TrainableHead head) => MemoryMarshal.Cast<byte, int>(T(head.Bias).Data!.Value.Span).ToArray();

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
            if (head.Bias >= 0)
            {
                var bias = BiasValues(head);
                MemoryMarshal.AsBytes(bias.AsSpan()).CopyTo(region.AsSpan(checked((int)layout.Bias)));
                var masterBias = MemoryMarshal.Cast<byte, int>(region.AsSpan(checked((int)layout.MasterBias), bias.Length * 4));
                for (int j = 0; j < bias.Length; j++) masterBias[j] = checked((int)((long)bias[j] << layout.BiasFractionBits));
            }

            // The real gradient of a logit is beta * (p - y) = grad * beta / 256 (tml_train_softmax_grad_s8).
            double gradScale = head.Beta / 256.0;
            var input = Q(T(head.Input));
            var wq = Q(weights);
            double WeightScale(int j) => wq.IsPerChannel ? wq.Scales[j] : wq.Scale;
            double BiasScale(int j) => head.Bias >= 0 && T(head.Bias).Quantization is { HasScales: true } bq
                ? (bq.IsPerChannel ? bq.Scales[j] : bq.Scale) : input.Scale * WeightScale(j);
            var weightStep = Enumerable.Range(0, head.Units).Select(j => Multiplier(gradScale * input.Scale * (1 << WeightFractionBits) / WeightScale(j))).ToArray();
            var biasStep = Enumerable.Range(0, head.Units).Select(j => Multiplier(gradScale * (1L << layout.BiasFractionBits) / BiasScale(j))).ToArray();
            Arg Steps((int Multiplier, int Shift)[] steps) => PerChannel(
                _plan.AddConstant(MemoryMarshal.AsBytes(steps.Select(s => s.Multiplier).ToArray().AsSpan()).ToArray()),
                _plan.AddConstant(MemoryMarshal.AsBytes(steps.Select(s => s.Shift).ToArray().AsSpan()).ToArray()));
            var parameters = Arg.Struct("tml_train_fc_params", Field.I("units", head.Units), Field.I("depth", head.Depth),
                Field.I("input_offset", -input.ZeroPoint), Field.I("weight_fraction_bits", WeightFractionBits),
                Field.I("bias_fraction_bits", layout.BiasFractionBits));
            var controlPointer = Pointer.Parameters(0);
            Pointer Region(long offset) => offset < 0 ? Pointer.Null : Pointer.Parameters(offset);

            var training = new TrainingPlan
            {
                InitialParameters = region,
                Mode = layout.Options.Mode,
                Classes = head.Units,
                LearningRate = layout.Options.LearningRate,
                ControlOffset = 0,
                ExportOffset = layout.Weights,
                ExportBytes = layout.Bytes - layout.Weights,
                TrainedValues = (long)head.Units * head.Depth + (head.Bias >= 0 ? head.Units : 0),
            };
            string op = _graph.Operators[head.FullyConnected].TypeName;
            int index = _modelIndex[head.FullyConnected];
            training.Step.Add(new KernelCall(index, op, "tml_train_softmax_grad_s8", new[]
            {
                Arg.Ptr(controlPointer), Arg.Int32(head.Units), Arg.Ptr(Ptr(head.Probabilities)), Arg.Ptr(Pointer.Parameters(layout.Grad)),
            }, $"train: softmax cross-entropy gradient of {head.Units} classes"));
            var weightSteps = Steps(weightStep);
            training.Step.Add(new KernelCall(index, op, "tml_train_fc_update_s8", new[]
            {
                // Without a bias the kernel reads no bias steps; the weights' fill the argument.
                parameters, weightSteps, head.Bias >= 0 ? Steps(biasStep) : weightSteps, Arg.Ptr(controlPointer),
                Arg.Ptr(Ptr(head.Input)), Arg.Ptr(Pointer.Parameters(layout.Grad)), Arg.Ptr(Region(layout.MasterWeights)), Arg.Ptr(Region(layout.MasterBias)),
            }, $"train: SGD of the head's {head.Depth} -> {head.Units} weights{(head.Bias >= 0 ? " and bias" : "")}", (long)head.Units * head.Depth));
            training.Apply.Add(new KernelCall(index, op, "tml_train_fc_apply_s8", new[]
            {
                parameters, Arg.Ptr(Region(layout.MasterWeights)), Arg.Ptr(Region(layout.MasterBias)), Arg.Ptr(Region(layout.Weights)), Arg.Ptr(Region(layout.Bias)),
            }, "train: masters into the head's int8 weights and int32 bias"));
            training.Fingerprint = Fingerprint(training, weights, layout);
            _plan.Training = training;
        }

        /// <summary>FNV-1a of what exported weights depend on: the mode, the head's shape, scales and fraction bits.</summary>
        private static uint Fingerprint(TrainingPlan training, Tensor weights, TrainingLayout layout)
        {
            var text = new StringBuilder();
            text.Append(training.Mode).Append('|').Append(weights.Name).Append('|').Append(string.Join(",", weights.Shape))
                .Append('|').Append(string.Join(",", Q(weights).Scales.Select(s => BitConverter.ToInt32(BitConverter.GetBytes(s), 0))))
                .Append('|').Append(layout.BiasFractionBits).Append('|').Append(training.ExportBytes);
            uint hash = 2166136261;
            foreach (byte b in Encoding.UTF8.GetBytes(text.ToString())) hash = (hash ^ b) * 16777619;
            return hash;
        }
    }
}
