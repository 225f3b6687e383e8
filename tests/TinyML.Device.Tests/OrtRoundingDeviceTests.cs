// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Plan;
using TinyML.Runtime;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// onnxruntime's rounding (LoweringOptions.Rounding = OnnxRuntime) in the emitted C under QEMU: the OrtRoundingCases
/// models (int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED built with ModelBuilder as the ONNX importer builds them)
/// give the host executor's bytes on a core with an FPU (M4F, M33) and with software float (M0+). The float32
/// requantization is IEEE single with no FMA (-ffp-contract=off) and no libm, so every core gets the same bits.
/// </summary>
public sealed class OrtRoundingDeviceTests
{
    private readonly ITestOutputHelper _output;

    public OrtRoundingDeviceTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("cortex-m4")]
    [InlineData("cortex-m0plus")]
    [InlineData("cortex-m33")]
    public void OnnxRuntimeRounding_OnTheDevice_GivesTheHostsBytes(string coreName)
    {
        var core = CortexM.Get(coreName);
        foreach (int seed in OrtRoundingCases.Seeds)
        {
            var hostPlan = OrtRoundingCases.Plan(seed, ExecutionPlan.HostTarget);
            var plan = OrtRoundingCases.Plan(seed, core.Name);
            Assert.Contains(plan.Calls, c => c.Kernel == "tml_conv_s8_float_requant");
            var inputs = OrtRoundingCases.Inputs(seed, 3);
            var image = DeviceBuild.Build(plan, Device.Options(core, $"ort_rounding_{seed}"));
            var results = Device.Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
            Assert.Equal(inputs.Count, results.Count);
            for (int v = 0; v < inputs.Count; v++)
            {
                using var executor = new PlanExecutor(hostPlan);
                inputs[v].CopyTo(executor.Input(0));
                executor.Run();
                Assert.True(executor.Output(0).SequenceEqual(Assert.Single(results[v].Outputs)),
                    $"seed {seed} on {core.Name}, vector {v}: differs from the host executor's bytes");
            }
            _output.WriteLine($"seed {seed} on {core.Name}: {inputs.Count} vectors byte-identical with the host");
        }
    }
}
