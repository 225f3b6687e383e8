// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary>
/// Issue 13 item 1 through the command line: a copy of a shared model whose biases say quantized_dimension 3 (as in
/// TFLM's person_detect.tflite) is inspected, planned and run with a TML1018 warning, and its output is TFLM's golden
/// of the unmodified model.
/// </summary>
public class ToleratedDeviationCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tinyml-tolerated-{Guid.NewGuid():N}");

    public ToleratedDeviationCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Deviated(string name)
    {
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        int changed = 0;
        foreach (var t in model.Main.Tensors.Where(t => t.IsConstant && t.Type == DataType.Int32 && t.Shape.Count == 1 && t.Quantization is { HasScales: true }))
        {
            t.Quantization = t.Quantization! with { QuantizedDimension = 3 };
            changed++;
        }
        Assert.True(changed > 0);
        string path = Path.Combine(_dir, name + "_dim3.tflite");
        File.WriteAllBytes(path, TfliteWriter.Write(model));
        return path;
    }

    [Theory]
    [InlineData("micro_speech")]
    [InlineData("ad")]
    public void InspectPlanAndRun_WarnWithTML1018_AndRunAsTflm(string name)
    {
        string model = Deviated(name);

        var inspect = CliRunner.Run("inspect", model);
        Assert.Equal(0, inspect.Code);
        Assert.Contains("warning TML1018", inspect.Err);
        Assert.Contains("quantized_dimension 3 is outside rank 1", inspect.Err);
        Assert.DoesNotContain("error", inspect.Err);

        var plan = CliRunner.Run("plan", model);
        Assert.Equal(0, plan.Code);
        Assert.Contains("warning TML1018", plan.Err);

        string golden = Path.Combine(SharedData.Root, "golden", name);
        foreach (int k in new[] { 1, 2, 3 })
        {
            string output = Path.Combine(_dir, $"out_{k}.bin");
            var run = CliRunner.Run("run", model, "--input", Path.Combine(golden, $"input_{k}.bin"), "--output", output);
            Assert.True(run.Code == 0, run.Err);
            Assert.Contains("warning TML1018", run.Err);
            Assert.Equal(File.ReadAllBytes(Path.Combine(golden, $"output_{k}.bin")), File.ReadAllBytes(output));
        }
    }
}
