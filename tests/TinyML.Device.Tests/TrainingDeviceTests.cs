// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Plan;
using TinyML.Runtime;
using TinyML.Runtime.Tests;
using TinyML.Samples;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// On-device training in the emitted C under QEMU: after the same training steps on the same samples, the trained
/// weights (and each step's probabilities) are byte-identical with the host executor's, on a core with the DSP
/// extension and one without. A build that never calls the training step does not link it.
/// </summary>
public sealed class TrainingDeviceTests
{
    private readonly ITestOutputHelper _output;

    public TrainingDeviceTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("cortex-m4", "head", "cnn")]
    [InlineData("cortex-m0plus", "head", "cnn")]
    [InlineData("cortex-m4", "biases:2", "cnn")]
    [InlineData("cortex-m0plus", "biases:2", "cnn")]
    [InlineData("cortex-m4", "biases:1", "pooled")]
    [InlineData("cortex-m0plus", "biases:1", "pooled")]
    [InlineData("cortex-m4", "biases:2", "deep")]
    [InlineData("cortex-m0plus", "biases:2", "deep")]
    public void Training_steps_on_the_device_give_the_hosts_weights_byte_for_byte(string coreName, string mode, string shape)
    {
        var core = CortexM.Get(coreName);
        // cnn: conv -> FC -> head; pooled: conv -> global average -> head; deep: conv -> conv -> head.
        var (model, inputBytes, classes) = shape switch
        {
            "pooled" => (TrainingCases.Pooled(seed: 33), 108, 4),
            "deep" => (TrainingCases.DeepCnn(seed: 33), 128, 3),
            _ => (TrainingCases.Cnn(seed: 33), 128, 5),
        };
        var random = new DeterministicRandom(17);
        var steps = Enumerable.Range(0, 12).Select(_ => (Input: TrainingCases.RandomInput(random, inputBytes), Label: random.Int(0, classes))).ToList();
        string label = $"train_{shape}_{mode.Replace(':', '_')}";
        var image = DeviceBuild.Build(TrainingCases.Plan(model, core.Name, mode), Device.Options(core, label) with { TrainingHarness = true });
        Assert.True(image.HasSymbol("tml_train_fc_update_s8"));
        var results = Device.Runner.Run(image, steps.Select(s => (IReadOnlyList<byte[]>)new[]
        {
            MemoryMarshal.AsBytes(s.Input.AsSpan()).ToArray(), BitConverter.GetBytes(s.Label),
        }).ToList());

        using var host = new PlanExecutor(TrainingCases.Plan(model, mode: mode));
        Assert.Equal(steps.Count, results.Count);
        for (int k = 0; k < steps.Count; k++)
        {
            MemoryMarshal.AsBytes(steps[k].Input.AsSpan()).CopyTo(host.Input(0));
            host.Train(steps[k].Label);
            Assert.True(host.Output(0).SequenceEqual(results[k].Outputs[0]), $"step {k} on {core.Name}: the probabilities differ");
            Assert.True(host.ExportWeights().AsSpan(16).SequenceEqual(results[k].Outputs[1]), $"step {k} on {core.Name}: the trained weights differ");
        }
        Assert.NotEqual(host.Plan.Training!.InitialParameters.Skip((int)host.Plan.Training!.ExportOffset), results[^1].Outputs[1]);
        _output.WriteLine($"{core.Name}, {label}: {steps.Count} training steps byte-identical with the host; {results[^1].Instructions:N0} instructions for the last step");
    }

    [Fact]
    public void A_trainable_model_built_for_inference_links_no_training_code()
    {
        var core = CortexM.Get("cortex-m4");
        var image = DeviceBuild.Build(TrainingCases.Plan(TrainingCases.Cnn(seed: 33), core.Name), Device.Options(core, "train_cnn_inference"));
        Assert.False(image.HasSymbol("tml_train_fc_update_s8"));
        Assert.False(image.HasSymbol("tml_train_fc_apply_s8"));
        Assert.True(image.HasSymbol("tml_fully_connected_s8"));
    }
}
