// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Samples;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// On-device training of the classifier head (docs/training.md): the integer rule, checked against a transcription
/// of the documented arithmetic and against the float SGD update it stands for; persistence; refusals.
/// </summary>
public sealed class TrainingTests
{
    private static readonly TrainingOptions Head = TrainingCases.Head;

    private static void SetInput(PlanExecutor executor, sbyte[] input) => MemoryMarshal.AsBytes(input.AsSpan()).CopyTo(executor.Input(0));

    /// <summary>The documented rule (docs/training.md), written from the formulas: masters and weights after the steps.</summary>
    private sealed class Oracle
    {
        public readonly long[] MasterWeights, MasterBias;
        public readonly sbyte[] Weights;
        public readonly int[] Bias;
        private readonly int _units, _depth, _inputZeroPoint, _biasBits;
        private readonly (int M, int S)[] _weightStep, _biasStep;

        public Oracle(Model model, int biasBits)
        {
            var g = model.Main;
            var fc = g.Operators.Single(o => o.Kind == OpKind.FullyConnected && g.Operators.Any(s => s.Kind == OpKind.Softmax && s.Inputs[0] == o.Outputs[0]));
            var w = g.Tensors[fc.Inputs[1]];
            var b = g.Tensors[fc.Inputs[2]];
            var x = g.Tensors[fc.Inputs[0]].Quantization!;
            (_units, _depth, _inputZeroPoint, _biasBits) = (w.Shape[0], w.Shape[1], x.ZeroPoint, biasBits);
            Weights = MemoryMarshal.Cast<byte, sbyte>(w.Data!.Value.Span).ToArray();
            Bias = MemoryMarshal.Cast<byte, int>(b.Data!.Value.Span).ToArray();
            MasterWeights = Weights.Select(v => (long)v * 65536).ToArray();
            MasterBias = Bias.Select(v => (long)v << biasBits).ToArray();
            double Ws(int j) => w.Quantization!.Scales.Count > 1 ? w.Quantization.Scales[j] : w.Quantization.Scale;
            double Bs(int j) => b.Quantization!.Scales.Count > 1 ? b.Quantization.Scales[j] : b.Quantization.Scale;
            _weightStep = Enumerable.Range(0, _units).Select(j => FixedPoint.QuantizeMultiplier(x.Scale * 65536.0 / 256 / Ws(j))).ToArray();
            _biasStep = Enumerable.Range(0, _units).Select(j => FixedPoint.QuantizeMultiplier(Math.Pow(2, biasBits) / 256 / Bs(j))).ToArray();
        }

        private static long RoundShift(long x, int n) => n <= 0 ? x << -n : n >= 63 ? 0 : x >= 0 ? (x + (1L << (n - 1))) >> n : -((-x + (1L << (n - 1))) >> n);

        private static long RoundDiv(long x, long d) => x >= 0 ? (x + d / 2) / d : -((-x + d / 2) / d);

        public void Accumulate(sbyte[] input, byte[] probabilities, int label, double rate, int batch)
        {
            var (rm, rs) = FixedPoint.QuantizeMultiplier(rate);
            for (int j = 0; j < _units; j++)
            {
                long grad = (sbyte)probabilities[j] + 128 - (j == label ? 256 : 0);
                long wm = RoundShift((long)rm * _weightStep[j].M, 31), bm = RoundShift((long)rm * _biasStep[j].M, 31);
                int ws = rs + _weightStep[j].S, bs = rs + _biasStep[j].S;
                for (int d = 0; d < _depth; d++)
                {
                    long delta = RoundDiv(RoundShift(grad * (input[d] - _inputZeroPoint) * wm, 31 - ws), batch);
                    MasterWeights[j * _depth + d] = Math.Clamp(MasterWeights[j * _depth + d] - delta, -127L * 65536, 127L * 65536);
                }
                MasterBias[j] = Math.Clamp(MasterBias[j] - RoundDiv(RoundShift(grad * bm, 31 - bs), batch), int.MinValue, int.MaxValue);
            }
        }

        public void Apply()
        {
            for (int i = 0; i < Weights.Length; i++) Weights[i] = (sbyte)Math.Clamp(RoundShift(MasterWeights[i], 16), -128, 127);
            for (int j = 0; j < _units; j++) Bias[j] = (int)RoundShift(MasterBias[j], _biasBits);
        }

        /// <summary>The exported region as docs/training.md lays it out: weights, bias, master weights, master bias, each 16-byte aligned.</summary>
        public byte[] Region(int length)
        {
            var bytes = new List<byte>();
            void Add(byte[] part)
            {
                bytes.AddRange(part);
                while (bytes.Count % 16 != 0) bytes.Add(0);
            }
            Add(MemoryMarshal.AsBytes(Weights.AsSpan()).ToArray());
            Add(MemoryMarshal.AsBytes(Bias.AsSpan()).ToArray());
            Add(MemoryMarshal.AsBytes(MasterWeights.Select(v => (int)v).ToArray().AsSpan()).ToArray());
            Add(MemoryMarshal.AsBytes(MasterBias.Select(v => (int)v).ToArray().AsSpan()).ToArray());
            Assert.Equal(length, bytes.Count);
            return bytes.ToArray();
        }
    }

    private static int BiasBits(ExecutionPlan plan) =>
        plan.Training!.Apply.Single().Args[0].Fields.Single(f => f.Name == "bias_fraction_bits").Int;

    [Theory]
    [InlineData(1, 0.05)]
    [InlineData(4, 0.2)]
    [InlineData(3, 0.0007)]
    public void Head_training_follows_the_documented_integer_rule(int batch, double rate)
    {
        var model = TrainingCases.HeadOnly(24, 6, seed: 7);
        var plan = TrainingCases.Plan(model);
        using var executor = new PlanExecutor(plan);
        executor.LearningRate = rate;
        var oracle = new Oracle(model, BiasBits(plan));
        var random = new DeterministicRandom(11);
        for (int step = 0; step < 24; step++)
        {
            var input = TrainingCases.RandomInput(random, 24);
            int label = random.Int(0, 6);
            SetInput(executor, input);
            executor.Accumulate(label, batch);
            oracle.Accumulate(input, executor.Output(0).ToArray(), label, rate, batch);
            if ((step + 1) % batch == 0)
            {
                executor.ApplyUpdates();
                oracle.Apply();
            }
        }
        var exported = executor.ExportWeights();
        Assert.Equal(oracle.Region(exported.Length - 16), exported.Skip(16).ToArray());
        Assert.NotEqual(plan.Training!.InitialParameters.Skip((int)plan.Training.ExportOffset).ToArray(), exported.Skip(16).ToArray());
    }

    [Fact]
    public void One_step_moves_the_real_weights_as_float_SGD_does()
    {
        // The scaling check: the master update, in real units, is lr * (p - y) * x for the weights and lr * (p - y)
        // for the bias, with p the int8 softmax output; only the masters' rounding (2^-16 of a weight step) differs.
        var model = TrainingCases.HeadOnly(16, 4, seed: 3);
        var plan = TrainingCases.Plan(model);
        var g = model.Main;
        var fc = g.Operators.Single(o => o.Kind == OpKind.FullyConnected);
        var (wq, bq, xq) = (g.Tensors[fc.Inputs[1]].Quantization!, g.Tensors[fc.Inputs[2]].Quantization!, g.Tensors[fc.Inputs[0]].Quantization!);
        const double Rate = 0.1;
        using var executor = new PlanExecutor(plan) { LearningRate = Rate };
        var input = TrainingCases.RandomInput(new DeterministicRandom(5), 16);
        SetInput(executor, input);
        var before = Masters(executor.ExportWeights(), 4, 16, out var biasBefore);
        executor.Train(label: 2);
        var p = executor.Output(0).ToArray().Select(q => ((sbyte)q + 128) / 256.0).ToArray();
        var after = Masters(executor.ExportWeights(), 4, 16, out var biasAfter);
        int biasBits = BiasBits(plan);
        for (int j = 0; j < 4; j++)
        {
            double error = p[j] - (j == 2 ? 1 : 0);
            for (int d = 0; d < 16; d++)
            {
                double expected = -Rate * error * xq.Scale * (input[d] - xq.ZeroPoint);
                // A master at the int8 limit stays there.
                double limit = 127 * 65536.0;
                if (before[j * 16 + d] + expected / wq.Scale * 65536 is var target && (target > limit || target < -limit))
                    expected = (Math.Clamp(target, -limit, limit) - before[j * 16 + d]) / 65536.0 * wq.Scale;
                double actual = (after[j * 16 + d] - before[j * 16 + d]) / 65536.0 * wq.Scale;
                Assert.True(Math.Abs(actual - expected) <= 1e-3 * Math.Abs(expected) + wq.Scale / 65536.0, $"w[{j},{d}]: {actual} vs {expected}");
            }
            double expectedBias = -Rate * error;
            double actualBias = (biasAfter[j] - biasBefore[j]) / Math.Pow(2, biasBits) * bq.Scale;
            Assert.True(Math.Abs(actualBias - expectedBias) <= 1e-3 * Math.Abs(expectedBias) + bq.Scale, $"b[{j}]: {actualBias} vs {expectedBias}");
        }
    }

    private static int[] Masters(byte[] exported, int units, int depth, out int[] bias)
    {
        int Align(int n) => (n + 15) / 16 * 16;
        int offset = 16 + Align(units * depth) + Align(units * 4);
        var all = MemoryMarshal.Cast<byte, int>(exported.AsSpan(offset)).ToArray();
        bias = all.Skip(Align(units * depth * 4) / 4).Take(units).ToArray();
        return all.Take(units * depth).ToArray();
    }

    [Fact]
    public void Training_a_cnn_head_learns_a_separable_task_and_mini_batches_differ_from_single_steps()
    {
        var model = TrainingCases.Cnn(seed: 21);
        var plan = TrainingCases.Plan(model);
        Assert.Equal(5, plan.Training!.Classes);
        var random = new DeterministicRandom(4);
        // Five prototypes plus noise: the head must map them to their labels.
        var prototypes = Enumerable.Range(0, 5).Select(_ => TrainingCases.RandomInput(random, 128)).ToArray();
        (sbyte[] Input, int Label) Sample()
        {
            int label = random.Int(0, 5);
            return (prototypes[label].Select(v => (sbyte)Math.Clamp(v + random.Int(-20, 21), -128, 127)).ToArray(), label);
        }
        var test = Enumerable.Range(0, 100).Select(_ => Sample()).ToArray();
        double Accuracy(PlanExecutor e) => test.Count(s =>
        {
            SetInput(e, s.Input);
            e.Run();
            var output = e.Output(0).ToArray();
            return Array.IndexOf(output, output.OrderByDescending(b => (sbyte)b).First()) == s.Label;
        }) / (double)test.Length;

        using var single = new PlanExecutor(plan) { LearningRate = 0.05 };
        // Four samples per update: four times the rate for the same progress.
        using var batched = new PlanExecutor(plan) { LearningRate = 0.2 };
        double before = Accuracy(single);
        var train = Enumerable.Range(0, 200).Select(_ => Sample()).ToArray();
        for (int i = 0; i < train.Length; i++)
        {
            SetInput(single, train[i].Input);
            single.Train(train[i].Label);
            SetInput(batched, train[i].Input);
            batched.Accumulate(train[i].Label, batchSize: 4);
            if (i % 4 == 3) batched.ApplyUpdates();
        }
        double after = Accuracy(single);
        Assert.True(after >= 0.9 && after > before + 0.2, $"accuracy {before:P0} -> {after:P0}");
        Assert.True(Accuracy(batched) >= 0.8, $"mini-batch accuracy {Accuracy(batched):P0}");
        Assert.NotEqual(single.ExportWeights(), batched.ExportWeights());
    }

    [Fact]
    public void Exported_weights_restore_what_was_learned_and_foreign_bytes_are_refused()
    {
        var model = TrainingCases.Cnn(seed: 21);
        var plan = TrainingCases.Plan(model);
        using var trained = new PlanExecutor(plan);
        var random = new DeterministicRandom(9);
        for (int i = 0; i < 10; i++)
        {
            SetInput(trained, TrainingCases.RandomInput(random, 128));
            trained.Train(i % 5);
        }
        var weights = trained.ExportWeights();
        var probe = TrainingCases.RandomInput(random, 128);
        SetInput(trained, probe);
        trained.Run();
        var expected = trained.Output(0).ToArray();

        using var fresh = new PlanExecutor(PlanContainer.Read(PlanContainer.Write(plan)).Value!);
        SetInput(fresh, probe);
        fresh.Run();
        Assert.NotEqual(expected, fresh.Output(0).ToArray());
        fresh.ImportWeights(weights);
        SetInput(fresh, probe); // a run reuses the input's bytes
        fresh.Run();
        Assert.Equal(expected, fresh.Output(0).ToArray());
        Assert.Equal(weights, fresh.ExportWeights());
        fresh.ResetWeights();
        Assert.Equal(plan.Training!.InitialParameters.Skip((int)plan.Training.ExportOffset), fresh.ExportWeights().Skip(16));

        Assert.Contains("TMLW", Assert.Throws<ArgumentException>(() => fresh.ImportWeights(new byte[40])).Message);
        var truncated = weights.Take(weights.Length - 1).ToArray();
        Assert.Contains("bytes", Assert.Throws<ArgumentException>(() => fresh.ImportWeights(truncated)).Message);
        using var other = new PlanExecutor(TrainingCases.Plan(TrainingCases.HeadOnly(24, 6, seed: 7)));
        Assert.Contains("another model", Assert.Throws<ArgumentException>(() => other.ImportWeights(weights)).Message);
        Assert.Equal(plan.Training.InitialParameters.Skip((int)plan.Training.ExportOffset), fresh.ExportWeights().Skip(16));
    }

    [Fact]
    public void Bad_labels_rates_and_untrainable_plans_throw_documented_exceptions()
    {
        var plan = TrainingCases.Plan(TrainingCases.HeadOnly(8, 3, seed: 1));
        using var executor = new PlanExecutor(plan);
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.Train(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.Train(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.Accumulate(0, batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.LearningRate = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.LearningRate = double.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.LearningRate = 1e-12);
        Assert.Equal(Head.LearningRate, executor.LearningRate, 6);

        var inference = Lowerer.Lower(TrainingCases.HeadOnly(8, 3, seed: 1), "m.tflite").Value!;
        Assert.Null(inference.Training);
        using var plain = new PlanExecutor(inference);
        Assert.False(plain.CanTrain);
        Assert.Contains("Train=", Assert.Throws<InvalidOperationException>(() => plain.Train(0)).Message);
        Assert.Throws<InvalidOperationException>(() => plain.ExportWeights());
    }

    [Fact]
    public void A_plan_without_training_keeps_container_version_2_and_one_with_it_round_trips()
    {
        var inference = Lowerer.Lower(TrainingCases.HeadOnly(8, 3, seed: 1), "m.tflite").Value!;
        Assert.Equal(2, ContainerVersion(PlanContainer.Write(inference)));
        var plan = TrainingCases.Plan(TrainingCases.Cnn(seed: 2));
        var bytes = PlanContainer.Write(plan);
        Assert.Equal(ExecutionPlan.FormatVersion, ContainerVersion(bytes));
        Assert.Equal(ProtobufPlanWriter.Write(plan), bytes);
        var read = PlanContainer.Read(bytes).Value!;
        Assert.Equal(PlanContainer.Write(read), bytes);
        Assert.Equal(plan.Training!.Step.Count, read.Training!.Step.Count);
        Assert.Equal(plan.ParameterBytes, read.ParameterBytes);
    }

    private static int ContainerVersion(byte[] container)
    {
        // Field 1 is the magic string, field 2 the version (a varint).
        int at = 2 + container[1];
        Assert.Equal(0x10, container[at]);
        return container[at + 1];
    }

    [Fact]
    public void Models_without_a_trainable_head_give_TML1030_naming_why()
    {
        string Why(Model model)
        {
            var result = Lowerer.Lower(model, "m.tflite", LoweringOptions.Default with { Train = Head });
            Assert.Null(result.Value);
            var error = Assert.Single(result.Diagnostics, d => d.Severity == TinyML.Compiler.Diagnostics.Severity.Error);
            Assert.Equal(DiagnosticIds.ModelNotTrainable, error.Id);
            return error.Message;
        }
        Assert.Contains("SOFTMAX", Why(new QuantizedModelBuilder("x", new[] { 1, 8 }, 1).FullyConnected("y", 3, Activation.None).Build(TrainingCases.Samples(8, 4, 2), "y")));
        Assert.Contains("fused activation", Why(new QuantizedModelBuilder("x", new[] { 1, 8 }, 1).FullyConnected("y", 3, Activation.Relu).Softmax("p").Build(TrainingCases.Samples(8, 4, 2), "p")));
        Assert.Contains("not a FULLY_CONNECTED", Why(new QuantizedModelBuilder("x", new[] { 1, 4, 4, 3 }, 1).AveragePool2D("pool", 4, 4).Softmax("p").Build(TrainingCases.Samples(48, 4, 2), "p")));
        Assert.Contains("float32", Why(TinyML.Compiler.Tflite.TfliteReader.ReadFile(TinyML.Tests.SharedData.Model("ic_resnet_float")).Value!));
    }

    [Theory]
    [InlineData("heads", null, "not a training mode")]
    [InlineData("head", "0", "above 0")]
    [InlineData("head", "fast", "above 0")]
    public void Bad_train_settings_are_TML0012(string mode, string? rate, string message)
    {
        var (options, error) = TrainingOptions.Parse(mode, rate);
        Assert.Null(options);
        Assert.Equal(DiagnosticIds.InvalidTrainMode, error!.Id);
        Assert.Contains(message, error.Message);
        Assert.Equal(new TrainingOptions("head", 0.5f), TrainingOptions.Parse(" Head ", "0.5").Options);
        Assert.Null(TrainingOptions.Parse("", null).Options);
    }

    [Fact]
    public void The_emitted_C_trains_to_the_executors_bytes_with_single_steps_and_a_mini_batch()
    {
        var plan = TrainingCases.Plan(TrainingCases.Cnn(seed: 21));
        var random = new DeterministicRandom(3);
        var steps = Enumerable.Range(0, 10).Select(_ => (Input: TrainingCases.RandomInput(random, 128), Label: random.Int(0, 5))).ToList();
        string dir = Path.Combine(Path.GetTempPath(), $"tml-train-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var source = TinyML.Compiler.Emit.CEmitter.Emit(plan, "cnn");
            File.WriteAllText(Path.Combine(dir, source.HeaderName), source.Header);
            File.WriteAllText(Path.Combine(dir, source.SourceName), source.Source);
            // Six single steps at the built-in rate, then a mini-batch of four at rate 0.2.
            var (multiplier, shift) = TrainingPlan.EncodeLearningRate(0.2);
            File.WriteAllText(Path.Combine(dir, "main.c"), "#include <stdio.h>\n#include <string.h>\n#include \"cnn.h\"\n\n" + CEmitterHostTests.ReadExact +
                "int main(int argc, char **argv) {\n    static uint8_t inputs[10 * 128];\n    static int32_t labels[10];\n    uint8_t *arena = cnn_arena();\n    FILE *out;\n    int k;\n" +
                "    if (argc != 4 || !read_exact(argv[1], inputs, sizeof inputs) || !read_exact(argv[2], (uint8_t *)labels, sizeof labels)) return 2;\n" +
                "    for (k = 0; k < 6; k++) {\n        memcpy(arena + CNN_INPUT0_OFFSET, inputs + 128 * k, 128);\n        if (cnn_train_step(arena, labels[k]) != 0) return 3;\n    }\n" +
                $"    cnn_set_learning_rate({multiplier}, {shift});\n" +
                "    for (k = 6; k < 10; k++) {\n        memcpy(arena + CNN_INPUT0_OFFSET, inputs + 128 * k, 128);\n        if (cnn_train_accumulate(arena, labels[k], 4) != 0) return 3;\n    }\n" +
                "    if (cnn_train_apply() != 0 || cnn_train_step(arena, 5) != -1) return 3;\n" +
                "    out = fopen(argv[3], \"wb\");\n    if (!out) return 4;\n    fwrite(cnn_trained_weights(), 1, CNN_TRAINED_WEIGHT_BYTES, out);\n    fclose(out);\n    return 0;\n}\n");
            File.WriteAllBytes(Path.Combine(dir, "inputs.bin"), steps.SelectMany(s => MemoryMarshal.AsBytes(s.Input.AsSpan()).ToArray()).ToArray());
            File.WriteAllBytes(Path.Combine(dir, "labels.bin"), steps.SelectMany(s => BitConverter.GetBytes(s.Label)).ToArray());
            string exe = Path.Combine(dir, "train");
            var compile = CEmitterHostTests.Run("cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                "-I", Path.Combine(TinyML.Tests.SharedData.Repo, "src", "TinyML.Kernels.Native", "include"), "-I", dir,
                Path.Combine(dir, source.SourceName), Path.Combine(dir, "main.c"), Path.Combine(TinyML.Tests.SharedData.Repo, "build", "native", "libtinyml_kernels.a"), "-lm", "-o", exe);
            Assert.True(compile.Code == 0, compile.Output);
            var run = CEmitterHostTests.Run(exe, Path.Combine(dir, "inputs.bin"), Path.Combine(dir, "labels.bin"), Path.Combine(dir, "weights.bin"));
            Assert.True(run.Code == 0, run.Output);

            using var executor = new PlanExecutor(plan);
            for (int k = 0; k < 10; k++)
            {
                if (k == 6) executor.LearningRate = 0.2;
                SetInput(executor, steps[k].Input);
                if (k < 6) executor.Train(steps[k].Label);
                else executor.Accumulate(steps[k].Label, batchSize: 4);
            }
            executor.ApplyUpdates();
            Assert.Equal(executor.ExportWeights().Skip(16).ToArray(), File.ReadAllBytes(Path.Combine(dir, "weights.bin")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Biases_of_the_layers_before_the_head_move_as_their_float_gradient_says()
    {
        // biases:2 on conv -> flatten -> hidden FC (ReLU) -> head: one step, against the gradient computed in double
        // from the int8 forward pass's tensors (PlanModelRunner) and the dequantized weights.
        var model = TrainingCases.Cnn(seed: 21);
        var g = model.Main;
        var plan = TrainingCases.Plan(model, mode: "biases:2");
        var ops = g.Operators;
        var head = ops.Single(o => o.Kind == OpKind.FullyConnected && g.Tensors[o.Outputs[0]].Shape[^1] == 5);
        var hidden = ops.Single(o => o.Kind == OpKind.FullyConnected && o != head);
        var conv = ops.Single(o => o.Kind == OpKind.Conv2D);
        var input = TrainingCases.RandomInput(new DeterministicRandom(8), 128);
        var bytes = MemoryMarshal.AsBytes(input.AsSpan()).ToArray();
        using var session = new TinyML.Cli.PlanModelRunner().Prepare(model, new[] { hidden.Outputs[0], conv.Outputs[0], g.Outputs[0] }).Value!;
        var observed = session.Run(new[] { bytes });
        sbyte[] S(byte[] b) => MemoryMarshal.Cast<byte, sbyte>(b).ToArray();
        var (h, c, p) = (S(observed[0]), S(observed[1]), observed[2].Select(q => ((sbyte)q + 128) / 256.0).ToArray());

        const double Rate = 0.05;
        const int Label = 1;
        using var executor = new PlanExecutor(plan) { LearningRate = Rate };
        SetInput(executor, input);
        var before = executor.ExportWeights();
        executor.Train(Label);
        var after = executor.ExportWeights();

        double[] Weights(Operator op) => S(g.Tensors[op.Inputs[1]].Data!.Value.ToArray()).Select(w => w * (double)g.Tensors[op.Inputs[1]].Quantization!.Scale).ToArray();
        bool Passes(Operator op, sbyte q)
        {
            var oq = g.Tensors[op.Outputs[0]].Quantization!;
            var (min, max) = QuantMath.ActivationRange(op.OptionsAs<Conv2DOptions>()?.Activation ?? op.OptionsAs<FullyConnectedOptions>()!.Activation, oq.Scale, oq.ZeroPoint, DataType.Int8);
            return q > min && q < max;
        }
        var logits = Enumerable.Range(0, 5).Select(j => p[j] - (j == Label ? 1 : 0)).ToArray();
        var wHead = Weights(head);
        var gHidden = Enumerable.Range(0, 12).Select(d => Passes(hidden, h[d]) ? Enumerable.Range(0, 5).Sum(j => logits[j] * wHead[j * 12 + d]) : 0).ToArray();
        var wHidden = Weights(hidden);
        var gConv = Enumerable.Range(0, c.Length).Select(k => Passes(conv, c[k]) ? Enumerable.Range(0, 12).Sum(d => gHidden[d] * wHidden[d * c.Length + k]) : 0).ToArray();
        var gConvBias = Enumerable.Range(0, 4).Select(ch => Enumerable.Range(0, c.Length / 4).Sum(pos => gConv[pos * 4 + ch])).ToArray();

        void Check(Operator op, double[] gradient)
        {
            // The bias's master: where its apply call reads it, and its fraction bits.
            var apply = plan.Training!.Apply.Single(a => a.Kernel == "tml_train_bias_apply" && a.OperatorIndex == ops.IndexOf(op));
            int bits = apply.Args[0].Fields.Single(f => f.Name == "bias_fraction_bits").Int;
            int at = 16 + (int)(apply.Args[1].Pointer.Offset - plan.Training.ExportOffset);
            var bq = g.Tensors[op.Inputs[2]].Quantization!;
            for (int ch = 0; ch < gradient.Length; ch++)
            {
                double scale = bq.Scales.Count > 1 ? bq.Scales[ch] : bq.Scale;
                double moved = (BitConverter.ToInt32(after, at + 4 * ch) - BitConverter.ToInt32(before, at + 4 * ch)) / Math.Pow(2, bits) * scale;
                double expected = -Rate * gradient[ch];
                Assert.True(Math.Abs(moved - expected) <= 2e-3 * Math.Abs(expected) + scale, $"{op.TypeName} bias {ch}: {moved} vs {expected}");
            }
            Assert.Contains(gradient, v => Math.Abs(v) > 1e-3);
        }
        Check(hidden, gHidden);
        Check(conv, gConvBias);
    }

    [Fact]
    public void Biases_past_what_training_can_pass_back_give_TML1030_with_the_largest_K()
    {
        var result = Lowerer.Lower(TrainingCases.Cnn(seed: 21), "m.tflite", LoweringOptions.Default with { Train = new TrainingOptions("biases:3") });
        var error = Assert.Single(result.Diagnostics, d => d.Severity == TinyML.Compiler.Diagnostics.Severity.Error);
        Assert.Equal(DiagnosticIds.ModelNotTrainable, error.Id);
        Assert.Contains("reaches the model's input after 2 layers; the largest K for this model is 2", error.Message);
        // A layer the gradient cannot pass back through stops the walk there.
        var pooledDeeper = Lowerer.Lower(TrainingCases.Pooled(seed: 2), "m.tflite", LoweringOptions.Default with { Train = new TrainingOptions("biases:2") });
        Assert.Contains("the largest K for this model is 1", Assert.Single(pooledDeeper.Diagnostics, d => d.Severity == TinyML.Compiler.Diagnostics.Severity.Error).Message);
        var noLayers = Lowerer.Lower(TrainingCases.HeadOnly(8, 3, seed: 1), "m.tflite", LoweringOptions.Default with { Train = new TrainingOptions("biases:1") });
        Assert.Contains("the largest K for this model is 0", Assert.Single(noLayers.Diagnostics).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_conv_bias_behind_a_global_average_moves_as_its_float_gradient_says(bool mean)
    {
        // biases:1 on CONV_2D (ReLU) -> global AVERAGE_POOL_2D or MEAN -> head: the conv bias's gradient is the
        // head's input gradient over the positions, through the ReLU's clamp.
        var model = TrainingCases.Pooled(seed: 5, mean);
        var g = model.Main;
        var plan = TrainingCases.Plan(model, mode: "biases:1");
        Assert.Contains(plan.Training!.Step, c => c.Kernel == "tml_train_spread");
        var head = g.Operators.Single(o => o.Kind == OpKind.FullyConnected);
        var conv = g.Operators.Single(o => o.Kind == OpKind.Conv2D);
        var input = TrainingCases.RandomInput(new DeterministicRandom(12), 108);
        using var session = new TinyML.Cli.PlanModelRunner().Prepare(model, new[] { conv.Outputs[0], g.Outputs[0] }).Value!;
        var observed = session.Run(new[] { MemoryMarshal.AsBytes(input.AsSpan()).ToArray() });
        var c = MemoryMarshal.Cast<byte, sbyte>(observed[0]).ToArray();
        var p = observed[1].Select(q => ((sbyte)q + 128) / 256.0).ToArray();

        const double Rate = 0.05;
        using var executor = new PlanExecutor(plan) { LearningRate = Rate };
        SetInput(executor, input);
        var before = executor.ExportWeights();
        executor.Train(label: 3);
        var after = executor.ExportWeights();

        var w = g.Tensors[head.Inputs[1]];
        var wHead = MemoryMarshal.Cast<byte, sbyte>(w.Data!.Value.Span).ToArray();
        var oq = g.Tensors[conv.Outputs[0]].Quantization!;
        var (min, max) = QuantMath.ActivationRange(Activation.Relu, oq.Scale, oq.ZeroPoint, DataType.Int8);
        var bq = g.Tensors[conv.Inputs[2]].Quantization!;
        var apply = plan.Training.Apply.Single(a => a.Kernel == "tml_train_bias_apply");
        int bits = apply.Args[0].Fields.Single(f => f.Name == "bias_fraction_bits").Int;
        int at = 16 + (int)(apply.Args[1].Pointer.Offset - plan.Training.ExportOffset);
        for (int ch = 0; ch < 8; ch++)
        {
            double pooled = Enumerable.Range(0, 4).Sum(j => (p[j] - (j == 3 ? 1 : 0)) * wHead[j * 8 + ch] * w.Quantization!.Scale);
            double gradient = Enumerable.Range(0, 36).Sum(pos => c[pos * 8 + ch] > min && c[pos * 8 + ch] < max ? pooled / 36 : 0);
            double moved = (BitConverter.ToInt32(after, at + 4 * ch) - BitConverter.ToInt32(before, at + 4 * ch)) / Math.Pow(2, bits) * bq.Scales[ch];
            Assert.True(Math.Abs(moved + Rate * gradient) <= 2e-3 * Math.Abs(Rate * gradient) + bq.Scales[ch], $"bias {ch}: {moved} vs {-Rate * gradient}");
        }
        var beyond = Lowerer.Lower(model, "m.tflite", LoweringOptions.Default with { Train = new TrainingOptions("biases:2") });
        Assert.Contains("the largest K for this model is 1", Assert.Single(beyond.Diagnostics, d => d.Severity == TinyML.Compiler.Diagnostics.Severity.Error).Message);
    }

    [Fact]
    public void A_bias_behind_another_convolution_moves_as_its_float_gradient_says()
    {
        // biases:2 on conv1 -> conv2 (stride 2) -> head: conv1's bias gradient comes back through conv2's per-channel
        // weights, computed here in double with TFLite's SAME padding.
        var model = TrainingCases.DeepCnn(seed: 9);
        var g = model.Main;
        var plan = TrainingCases.Plan(model, mode: "biases:2");
        Assert.Contains(plan.Training!.Step, c => c.Kernel == "tml_train_conv_backward_s8");
        var convs = g.Operators.Where(o => o.Kind == OpKind.Conv2D).ToArray();
        var head = g.Operators.Single(o => o.Kind == OpKind.FullyConnected);
        var input = TrainingCases.RandomInput(new DeterministicRandom(4), 128);
        using var session = new TinyML.Cli.PlanModelRunner().Prepare(model, new[] { convs[0].Outputs[0], convs[1].Outputs[0], g.Outputs[0] }).Value!;
        var observed = session.Run(new[] { MemoryMarshal.AsBytes(input.AsSpan()).ToArray() });
        sbyte[] S(byte[] b) => MemoryMarshal.Cast<byte, sbyte>(b).ToArray();
        var (c1, c2, p) = (S(observed[0]), S(observed[1]), observed[2].Select(q => ((sbyte)q + 128) / 256.0).ToArray());

        const double Rate = 0.1;
        const int Label = 2;
        using var executor = new PlanExecutor(plan) { LearningRate = Rate };
        SetInput(executor, input);
        var before = executor.ExportWeights();
        executor.Train(Label);
        var after = executor.ExportWeights();

        bool Passes(Operator op, sbyte q)
        {
            var oq = g.Tensors[op.Outputs[0]].Quantization!;
            var (min, max) = QuantMath.ActivationRange(Activation.Relu, oq.Scale, oq.ZeroPoint, DataType.Int8);
            return q > min && q < max;
        }
        double W(Operator op, int index, int channel) =>
            (sbyte)g.Tensors[op.Inputs[1]].Data!.Value.Span[index] * (double)g.Tensors[op.Inputs[1]].Quantization!.Scales[channel];
        // conv2's output gradient, [4, 4, 6], from the head.
        var headWeights = g.Tensors[head.Inputs[1]];
        var g2 = Enumerable.Range(0, 96).Select(k => Passes(convs[1], c2[k])
            ? Enumerable.Range(0, 3).Sum(j => (p[j] - (j == Label ? 1 : 0)) * (sbyte)headWeights.Data!.Value.Span[j * 96 + k] * (double)headWeights.Quantization!.Scale) : 0).ToArray();
        // conv1's output gradient, [8, 8, 4]: every conv2 tap that read it. SAME, stride 2, 3x3 on 8 -> 4: pad 0 above.
        var g1 = new double[256];
        for (int oh = 0; oh < 4; oh++)
            for (int ow = 0; ow < 4; ow++)
                for (int oc = 0; oc < 6; oc++)
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++)
                            for (int ic = 0; ic < 4; ic++)
                            {
                                int ih = oh * 2 + kh, iw = ow * 2 + kw;
                                if (ih < 8 && iw < 8) g1[(ih * 8 + iw) * 4 + ic] += g2[(oh * 4 + ow) * 6 + oc] * W(convs[1], ((oc * 3 + kh) * 3 + kw) * 4 + ic, oc);
                            }
        for (int k = 0; k < 256; k++)
            if (!Passes(convs[0], c1[k])) g1[k] = 0;

        void Check(Operator op, double[] gradient, int channels)
        {
            var apply = plan.Training.Apply.Single(a => a.Kernel == "tml_train_bias_apply" && a.OperatorIndex == g.Operators.IndexOf(op));
            int bits = apply.Args[0].Fields.Single(f => f.Name == "bias_fraction_bits").Int;
            int at = 16 + (int)(apply.Args[1].Pointer.Offset - plan.Training.ExportOffset);
            var bq = g.Tensors[op.Inputs[2]].Quantization!;
            for (int ch = 0; ch < channels; ch++)
            {
                double expected = -Rate * Enumerable.Range(0, gradient.Length / channels).Sum(pos => gradient[pos * channels + ch]);
                double moved = (BitConverter.ToInt32(after, at + 4 * ch) - BitConverter.ToInt32(before, at + 4 * ch)) / Math.Pow(2, bits) * bq.Scales[ch];
                Assert.True(Math.Abs(moved - expected) <= 3e-3 * Math.Abs(expected) + bq.Scales[ch], $"{g.Tensors[op.Outputs[0]].Name} bias {ch}: {moved} vs {expected}");
            }
        }
        Check(convs[1], g2, 6);
        Check(convs[0], g1, 4);
        Assert.Contains(g1, v => Math.Abs(v) > 1e-3);
    }
}
