// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using TinyML.Compiler.Onnx;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary>Every tinyml command on an ONNX model (../shared/onnx): mnist-8 and the refused node tests.</summary>
public sealed class OnnxCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-onnx-cli-{Guid.NewGuid():N}");

    public OnnxCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Mnist => Path.Combine(OnnxCases.Root, "models", "mnist-8", "model.onnx");

    private static string MnistData(string file) => Path.Combine(OnnxCases.Root, "models", "mnist-8", "test_data_set_0", file);

    private static float[] Floats(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes).ToArray();

    /// <summary>A refused node test whose reason is an operator we lack (TML1005), picked from the refusal list so that
    /// it stays a refused one when support for some operator lands.</summary>
    private static string RefusedForAnOperator() =>
        OnnxNodeCases.NotYetSupported.Where(p => p.Value.StartsWith("operators that are not supported", StringComparison.Ordinal))
            .Select(p => p.Key).OrderBy(n => n, StringComparer.Ordinal).First();

    [Fact]
    public void Inspect_NamesTheFormatAndOpset_InTheTableAndTheJson()
    {
        var (code, table, error) = Run("inspect", Mnist);
        Assert.True(code == 0, error);
        string header = table.Split('\n')[0];
        Assert.StartsWith("model.onnx: ", header);
        Assert.Contains(", ONNX (imported, opset 8), ", header);
        Assert.DoesNotContain("TFLite", header);

        var json = JsonDocument.Parse(Run("inspect", Mnist, "--json").Out).RootElement;
        Assert.Equal("onnx", json.GetProperty("format").GetString());
        Assert.Equal(8, json.GetProperty("opset").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("schema_version").ValueKind);
        Assert.Contains("CONV_2D", json.GetProperty("ops").EnumerateArray().Select(o => o.GetProperty("type").GetString()));

        // A .tflite stays what it was.
        var tflite = JsonDocument.Parse(Run("inspect", SharedData.Model("kws"), "--json").Out).RootElement;
        Assert.Equal("tflite", tflite.GetProperty("format").GetString());
        Assert.Equal(3, tflite.GetProperty("schema_version").GetInt32());
        Assert.False(tflite.TryGetProperty("opset", out _));
    }

    [Fact]
    public void Run_GivesTheReferenceOutput_FromATensorProtoOrRawBytes()
    {
        var expected = Floats(OnnxReader.ReadTensor(File.ReadAllBytes(MnistData("output_0.pb"))).Value!.Data);
        string fromProto = Path.Combine(_dir, "proto.bin");
        var (code, output, error) = Run("run", Mnist, "--input", MnistData("input_0.pb"), "--output", fromProto);
        Assert.True(code == 0, error);
        Assert.Contains("wrote 40 bytes", output);
        var actual = Floats(File.ReadAllBytes(fromProto));
        Assert.Equal(expected.Length, actual.Length);
        // The vectors came from the exporting framework; onnxruntime is within 3.4e-3 of them (onnx/README.md).
        double worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        Assert.True(worst <= 5e-3, $"largest difference {worst}");

        // The same tensor as raw little-endian bytes gives the same output bytes.
        string raw = Path.Combine(_dir, "input.bin"), fromRaw = Path.Combine(_dir, "raw.bin");
        File.WriteAllBytes(raw, OnnxReader.ReadTensor(File.ReadAllBytes(MnistData("input_0.pb"))).Value!.Data);
        Assert.Equal(0, Run("run", Mnist, "--input", raw, "--output", fromRaw).Code);
        Assert.Equal(File.ReadAllBytes(fromProto), File.ReadAllBytes(fromRaw));
    }

    [Fact]
    public void Run_RefusesATensorProtoOfAnotherTypeOrSize_WithTML0103()
    {
        // mnist-8's output tensor (float32 1x10) is no input for it; an int64 tensor is of another type.
        var (code, _, error) = Run("run", Mnist, "--input", MnistData("output_0.pb"), "--output", Path.Combine(_dir, "o.bin"));
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("error TML0103: input 0 'Input3' is FLOAT32[1,1,28,28] = 3136 bytes;", error);

        string ints = OnnxCases.Files(Path.Combine(OnnxCases.Node("test_reshape_extended_dims"), "test_data_set_0"), "input")[1];
        (code, _, error) = Run("run", Mnist, "--input", ints, "--output", Path.Combine(_dir, "o.bin"));
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains($"error TML0103: input 0 'Input3' is FLOAT32[1,1,28,28]; {ints} holds INT64[", error);

        string corrupt = Path.Combine(_dir, "corrupt.pb");
        File.WriteAllBytes(corrupt, new byte[] { 0xff, 0xff, 0xff });
        (code, _, error) = Run("run", Mnist, "--input", corrupt, "--output", Path.Combine(_dir, "o.bin"));
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("TML1020", error);
    }

    [Fact]
    public void ARefusedModel_ExitsWith1AndTML1005_InEveryCommand()
    {
        string name = RefusedForAnOperator();
        string model = Path.Combine(OnnxCases.Node(name), "model.onnx");
        string input = OnnxCases.Files(Path.Combine(OnnxCases.Node(name), "test_data_set_0"), "input")[0];
        foreach (var args in new[]
        {
            new[] { "inspect", model },
            new[] { "plan", model },
            new[] { "run", model, "--input", input, "--output", Path.Combine(_dir, "o.bin") },
            new[] { "compile", model, "--target", "cortex-m4", "--out", Path.Combine(_dir, "out") },
        })
        {
            var (code, _, error) = Run(args);
            Assert.True(code == Cli.ModelErrors, $"{args[0]} {name}: exit {code} {error}");
            Assert.Contains("error TML1005: ", error);
            Assert.Contains(OnnxNodeCases.NotYetSupported[name], error);
        }
        Assert.False(File.Exists(Path.Combine(_dir, "o.bin")));
    }

    [Fact]
    public void PlanAndCompile_TakeAnOnnxModel()
    {
        var (code, output, error) = Run("plan", Mnist, "--json");
        Assert.True(code == 0, error);
        var plan = JsonDocument.Parse(output).RootElement;
        Assert.True(plan.GetProperty("arena_bytes").GetInt64() > 0);
        Assert.Equal(plan.GetProperty("lower_bound_bytes").GetInt64(), plan.GetProperty("arena_bytes").GetInt64());

        string package = Path.Combine(_dir, "package");
        (code, output, error) = Run("compile", Mnist, "--target", "cortex-m4", "--name", "mnist", "--out", package, "--json", "--work", Path.Combine(_dir, "work"));
        Assert.True(code == 0, error);
        var compiled = JsonDocument.Parse(output).RootElement;
        Assert.Equal("cortex-m4", compiled.GetProperty("target").GetString());
        foreach (string file in new[] { "mnist.c", "mnist.h", "libmnist.a", "libtinyml_kernels.a", "mnist.cmake", "mnist.mk" })
            Assert.True(File.Exists(Path.Combine(package, file)), file);
        Assert.Contains("#define MNIST_INPUT0_BYTES 3136", File.ReadAllText(Path.Combine(package, "mnist.h")));
    }
}
