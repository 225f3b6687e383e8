// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Onnx;
using TinyML.Compiler.Plan;
using TinyML.Runtime;
using TinyML.Runtime.Tests;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// Imported ONNX models in emitted C under QEMU on Cortex-M4 and Cortex-M0+: mnist-8 (Conv, MaxPool, MatMul), sine
/// (three Dense layers) and node tests of pooling, softmax, concat, split and transpose. Each output equals the host
/// executor's bytes for the same input; where the plan calls expf (softmax), float outputs may differ within
/// <see cref="FloatTolerance"/>: newlib's expf on these cores is not x86 glibc's (DeviceConformanceTests).
/// </summary>
public sealed class OnnxDeviceTests
{
    private readonly ITestOutputHelper _output;

    public OnnxDeviceTests(ITestOutputHelper output) => _output = output;

    private static readonly string[] NodeTests =
    {
        "test_averagepool_2d_pads_count_include_pad", "test_maxpool_2d_same_upper", "test_globalaveragepool",
        "test_softmax_example", "test_softmax_axis_1", "test_concat_2d_axis_1", "test_split_equal_parts_2d", "test_transpose_all_permutations_4",
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in new[] { "mnist-8", "sine" }.Concat(NodeTests))
            foreach (var core in new[] { CortexM.M4, CortexM.M0Plus })
                data.Add(name, core.Name);
        return data;
    }

    private static string ModelPath(string name) => name.StartsWith("test_", StringComparison.Ordinal)
        ? Path.Combine(OnnxCases.Node(name), "model.onnx")
        : Path.Combine(OnnxCases.Root, "models", name, "model.onnx");

    private static byte[] TensorBytes(string file) => OnnxReader.ReadTensor(File.ReadAllBytes(file), file).Value!.Data;

    /// <summary>The input vectors: a node test's data set, mnist-8's three reference inputs, sine's seeded inputs.</summary>
    private static IReadOnlyList<IReadOnlyList<byte[]>> Vectors(string name, ExecutionPlan plan)
    {
        if (name.StartsWith("test_", StringComparison.Ordinal))
            return new[] { OnnxCases.Files(Path.Combine(OnnxCases.Node(name), "test_data_set_0"), "input").Select(TensorBytes).ToList() };
        if (name == "mnist-8")
            return Enumerable.Range(0, 3).Select(set => (IReadOnlyList<byte[]>)new[] { TensorBytes(Path.Combine(OnnxCases.Root, "models", name, $"test_data_set_{set}", "input_0.pb")) }).ToList();
        var random = new Random(11);
        int elements = (int)(plan.Inputs[0].Bytes / sizeof(float));
        return Enumerable.Range(0, 6).Select(_ => (IReadOnlyList<byte[]>)new[]
        {
            MemoryMarshal.AsBytes(Enumerable.Range(0, elements).Select(_ => (float)(random.NextDouble() * 4 * Math.PI - 2 * Math.PI)).ToArray().AsSpan()).ToArray(),
        }).ToList();
    }

    private static ExecutionPlan Lower(Model model, string name, string target)
    {
        var lowered = Lowerer.Lower(model, name, LoweringOptions.Default with { Target = target });
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    private static byte[][] OnTheHost(ExecutionPlan plan, IReadOnlyList<byte[]> inputs)
    {
        using var executor = new PlanExecutor(plan);
        for (int i = 0; i < inputs.Count; i++) inputs[i].CopyTo(executor.Input(i));
        executor.Run();
        return Enumerable.Range(0, plan.Outputs.Count).Select(o => executor.Output(o).ToArray()).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxModel_OnTheDevice_GivesTheHostsBytes(string name, string coreName)
    {
        var core = CortexM.Get(coreName);
        var read = ModelReader.ReadFile(ModelPath(name));
        Assert.True(read.Value is not null, string.Join("\n", read.Diagnostics));
        var plan = Lower(read.Value!, name, core.Name);
        AssertDeviceMatchesHost(name, Lower(read.Value!, name, ExecutionPlan.HostTarget), plan, core, Vectors(name, plan));
    }

    public static TheoryData<string> SupportedNodeTests() =>
        new(OnnxCases.NodeTests().Where(n => !OnnxNodeCases.NotYetSupported.ContainsKey(n)));

    /// <summary>Every node test the host runs, on the Cortex-M4, as the host tests prepare it.</summary>
    [Theory]
    [MemberData(nameof(SupportedNodeTests))]
    public void NodeTest_OnCortexM4_GivesTheHostsBytes(string name)
    {
        var core = CortexM.Get("cortex-m4");
        var host = OnnxNodeRun.Prepare(name, LoweringOptions.Default);
        var device = OnnxNodeRun.Prepare(name, LoweringOptions.Default with { Target = core.Name });
        Assert.True(host.Plan is not null && device.Plan is not null, host.Refusal?.Detail ?? device.Refusal?.Detail);
        AssertDeviceMatchesHost(name, host.Plan!, device.Plan!, core, new[] { host.Inputs });
    }

    /// <summary>A QDQ CNN, int8 inside (convolutions grouped and depthwise, pooling, requantizations, a dense layer).</summary>
    [Theory]
    [InlineData("cortex-m4")]
    [InlineData("cortex-m0plus")]
    public void QdqCnn_OnTheDevice_GivesTheHostsBytes(string coreName)
    {
        var core = CortexM.Get(coreName);
        var model = ModelReader.Read(OnnxTestModels.QdqCnn(3, OnnxGraphWriter.Int8, out float scale, out int zeroPoint, out _), "qdq-cnn.onnx").Value!;
        var random = new Random(3);
        var vectors = Enumerable.Range(0, 3).Select(_ => (IReadOnlyList<byte[]>)new[]
        {
            MemoryMarshal.AsBytes(Enumerable.Range(0, 3 * 12 * 12).Select(_ => (random.Next(-128, 128) - zeroPoint) * scale).ToArray().AsSpan()).ToArray(),
        }).ToList();
        AssertDeviceMatchesHost("qdq-cnn", Lower(model, "qdq-cnn", ExecutionPlan.HostTarget), Lower(model, "qdq-cnn", core.Name), core, vectors);
    }

    private void AssertDeviceMatchesHost(string name, ExecutionPlan hostPlan, ExecutionPlan plan, CortexMCore core, IReadOnlyList<IReadOnlyList<byte[]>> vectors)
    {
        var image = DeviceBuild.Build(plan, Device.Options(core, name));
        var results = Device.Runner.Run(image, vectors);
        Assert.Equal(vectors.Count, results.Count);
        // newlib's expf, expm1f and logf may differ from glibc's in the last bit.
        bool tolerant = (image.HasSymbol("expf") || image.HasSymbol("expm1f") || image.HasSymbol("logf")) && !DeviceConformanceTests.ExpfMatchesGlibc.Contains(core.Name);
        int worst = 0;
        for (int v = 0; v < vectors.Count; v++)
        {
            var host = OnTheHost(hostPlan, vectors[v]);
            Assert.Equal(plan.Outputs.Count, results[v].Outputs.Count);
            for (int o = 0; o < host.Length; o++)
            {
                var device = results[v].Outputs[o];
                string where = $"{name} on {core.Name}, vector {v}, output {o}";
                Assert.Equal(host[o].Length, device.Length);
                if (tolerant && plan.Outputs[o].Type == DataType.Float32)
                {
                    int ulps = FloatTolerance.MaxUlps(host[o], device);
                    worst = Math.Max(worst, ulps);
                    Assert.True(ulps <= FloatTolerance.Ulps(plan), $"{where}: {ulps} ULP apart (tolerance {FloatTolerance.Ulps(plan)}, newlib libm)");
                }
                else
                {
                    Assert.True(host[o].AsSpan().SequenceEqual(device), $"{where}: differs from the host's bytes");
                }
            }
        }
        _output.WriteLine($"{name} on {core.Name}: {vectors.Count} vectors, " + (tolerant ? $"within {worst} ULP (libm)" : "byte-identical"));
    }
}
