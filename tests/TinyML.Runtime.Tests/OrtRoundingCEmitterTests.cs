// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Runtime.Tests;

/// <summary>
/// onnxruntime's rounding (<see cref="RequantizationRounding.OnnxRuntime"/>) in the emitted C on the host: the
/// OrtRoundingCases models give the host executor's bytes, call the _float_requant kernels, and differ from the TFLite
/// rounding's bytes on some outputs.
/// </summary>
public sealed class OrtRoundingCEmitterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-ort-{Guid.NewGuid():N}");
    private readonly ITestOutputHelper _output;

    public OrtRoundingCEmitterTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EmittedC_GivesTheHostExecutorsBytes()
    {
        int differing = 0, total = 0;
        foreach (int seed in OrtRoundingCases.Seeds)
        {
            var plan = OrtRoundingCases.Plan(seed, ExecutionPlan.HostTarget);
            Assert.Equal(new[] { "tml_conv_s8_float_requant", "tml_depthwise_conv_s8_float_requant", "tml_fully_connected_s8_float_requant" },
                plan.Calls.Select(c => c.Kernel).Where(k => k.EndsWith("_float_requant", StringComparison.Ordinal)).ToArray());
            var tflite = OrtRoundingCases.Plan(seed, ExecutionPlan.HostTarget, RequantizationRounding.Tflite);
            string dir = Path.Combine(_dir, $"seed{seed}");
            Directory.CreateDirectory(dir);
            var (exe, _) = CEmitterHostTests.BuildHostProgram(plan, dir);
            var inputs = OrtRoundingCases.Inputs(seed, 4);
            for (int v = 0; v < inputs.Count; v++)
            {
                string input = Path.Combine(dir, $"in_{v}.bin"), output = Path.Combine(dir, $"out_{v}.bin");
                File.WriteAllBytes(input, inputs[v]);
                var run = CEmitterHostTests.Run(exe, input, output);
                Assert.True(run.Code == 0, run.Output);
                var expected = PatchTests.Run(plan, inputs[v]);
                Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(output)), $"seed {seed}, vector {v}: the emitted C differs from the host executor");
                var other = PatchTests.Run(tflite, inputs[v]);
                differing += expected.Zip(other, (a, b) => a != b ? 1 : 0).Sum();
                total += expected.Length;
            }
        }
        _output.WriteLine($"{differing} of {total} outputs differ between the onnxruntime and the TFLite rounding");
        Assert.True(differing > 0, "the two roundings gave the same bytes everywhere");
    }
}
