// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TinyML.Compiler;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Onnx;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Runtime.Tests;

/// <summary>The ONNX models in ../shared/onnx/models, imported and run on the host.</summary>
public class OnnxModelTests
{
    private readonly ITestOutputHelper _output;

    public OnnxModelTests(ITestOutputHelper output) => _output = output;

    private static string ModelPath(string name) => Path.Combine(OnnxCases.Root, "models", name, "model.onnx");

    private static float[] Run(Model model, float[] input)
    {
        var plan = Lowerer.Lower(model).Value!;
        using var executor = new PlanExecutor(plan);
        MemoryMarshal.AsBytes(input.AsSpan()).CopyTo(executor.Input(0));
        executor.Run();
        return MemoryMarshal.Cast<byte, float>(executor.Output(0)).ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Mnist8_MatchesItsReferenceVectors(int set)
    {
        var model = ModelReader.ReadFile(ModelPath("mnist-8")).Value!;
        string data = Path.Combine(OnnxCases.Root, "models", "mnist-8", $"test_data_set_{set}");
        var input = OnnxReader.ReadTensor(File.ReadAllBytes(Path.Combine(data, "input_0.pb"))).Value!;
        var expected = MemoryMarshal.Cast<byte, float>(OnnxReader.ReadTensor(File.ReadAllBytes(Path.Combine(data, "output_0.pb"))).Value!.Data).ToArray();
        var actual = Run(model, MemoryMarshal.Cast<byte, float>(input.Data).ToArray());
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        _output.WriteLine($"largest difference {worst:G3} on logits up to {expected.Max(Math.Abs):G3}");
        // The vectors came from the exporting framework; onnxruntime differs from them by up to 3.4e-3 (onnx/README.md).
        Assert.True(worst <= 5e-3, $"largest difference {worst}");
        Assert.Equal(Array.IndexOf(expected, expected.Max()), Array.IndexOf(actual, actual.Max()));
    }

    [Theory]
    [InlineData("mnist-8")]
    [InlineData("sine")]
    public void Model_AgreesWithOnnxRuntime_OnRandomInputs(string name)
    {
        string path = ModelPath(name);
        var model = ModelReader.ReadFile(path).Value!;
        var shape = model.Main.Tensors[model.Main.Inputs[0]].Shape.ToArray();
        using var oracle = new OnnxRuntimeOracle(path, Lowerer.Lower(model).Value!, shape);
        var random = new Random(17);
        for (int trial = 0; trial < 5; trial++)
        {
            var input = Enumerable.Range(0, shape.Aggregate(1, (p, d) => p * d)).Select(_ => (float)(random.NextDouble() * 2 - 1) * (name == "sine" ? 3.2f : 1f)).ToArray();
            var (expected, actual) = oracle.Run(input);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"{name} trial {trial} element {i}: {actual[i]} vs onnxruntime {expected[i]}");
        }
    }
}
