// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary>
/// --onnx-rounding on plan, run and compile: 'onnxruntime' lowers the int8 convolutions and fully connected layers to
/// the _float_requant kernels (accepted for a .tflite too: kws), 'tflite' is the default, anything else is a usage
/// error naming the values, and a plan container (.tmlmodel), whose kernels are chosen, refuses it.
/// </summary>
public sealed class OnnxRoundingCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-rounding-cli-{Guid.NewGuid():N}");

    public OnnxRoundingCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Kws => SharedData.Model("kws");

    private static ExecutionPlan Lowered(RequantizationRounding rounding) =>
        Lowerer.Lower(TfliteReader.ReadFile(Kws).Value!, Kws, LoweringOptions.Default with { Rounding = rounding }).Value!;

    private static byte[] OnTheHost(ExecutionPlan plan, byte[] input)
    {
        using var executor = new PlanExecutor(plan);
        input.CopyTo(executor.Input(0));
        executor.Run();
        return executor.Output(0).ToArray();
    }

    [Fact]
    public void Run_WithEachRounding_GivesThatLoweringsBytes()
    {
        var onnxRuntime = Lowered(RequantizationRounding.OnnxRuntime);
        var tflite = Lowered(RequantizationRounding.Tflite);
        Assert.Contains(onnxRuntime.Calls, c => c.Kernel == "tml_depthwise_conv_s8_float_requant");
        Assert.Contains(onnxRuntime.Calls, c => c.Kernel == "tml_fully_connected_s8_float_requant");
        var input = new byte[onnxRuntime.Inputs[0].Bytes];
        new Random(5).NextBytes(input);
        string inputFile = Path.Combine(_dir, "in.bin");
        File.WriteAllBytes(inputFile, input);
        foreach (var (value, plan) in new[] { ("onnxruntime", onnxRuntime), ("OnnxRuntime", onnxRuntime), ("tflite", tflite) })
        {
            string output = Path.Combine(_dir, $"out-{value}.bin");
            var (code, _, error) = Run("run", Kws, "--input", inputFile, "--output", output, "--onnx-rounding", value);
            Assert.True(code == 0, error);
            Assert.Equal(OnTheHost(plan, input), File.ReadAllBytes(output));
        }
        // Every memory technique (patches, in place) keeps the bytes.
        string memoryOutput = Path.Combine(_dir, "out-memory.bin");
        var memory = Run("run", Kws, "--input", inputFile, "--output", memoryOutput, "--onnx-rounding", "onnxruntime", "--optimize", "memory");
        Assert.True(memory.Code == 0, memory.Err);
        Assert.Equal(OnTheHost(onnxRuntime, input), File.ReadAllBytes(memoryOutput));
        string defaultOutput = Path.Combine(_dir, "out-default.bin");
        Assert.Equal(0, Run("run", Kws, "--input", inputFile, "--output", defaultOutput).Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "out-tflite.bin")), File.ReadAllBytes(defaultOutput));
    }

    [Fact]
    public void PlanAndCompile_WithOnnxRuntimeRounding_UseTheFloatRequantKernels()
    {
        var (code, json, error) = Run("plan", Kws, "--json", "--onnx-rounding", "onnxruntime");
        Assert.True(code == 0, error);
        Assert.Contains("\"arena_bytes\"", json);
        string container = Path.Combine(_dir, "kws.tmlmodel");
        Assert.Equal(0, Run("plan", Kws, "--onnx-rounding", "onnxruntime", "--out", container).Code);
        var plan = PlanContainer.Read(File.ReadAllBytes(container), container).Value!;
        Assert.Contains(plan.Calls, c => c.Kernel.EndsWith("_float_requant", StringComparison.Ordinal));

        string output = Path.Combine(_dir, "c");
        var compile = Run("compile", Kws, "--target", "cortex-m0plus", "--out", output, "--onnx-rounding", "onnxruntime");
        Assert.True(compile.Code == 0, compile.Err);
        Assert.Contains("tml_depthwise_conv_s8_float_requant(", File.ReadAllText(Path.Combine(output, "kws.c")));
    }

    [Theory]
    [InlineData("plan")]
    [InlineData("run")]
    [InlineData("compile")]
    public void AnUnknownRounding_IsAUsageError_NamingTheValues(string command)
    {
        var args = command switch
        {
            "plan" => new[] { "plan", Kws },
            "run" => new[] { "run", Kws, "--input", Path.Combine(_dir, "in.bin"), "--output", Path.Combine(_dir, "out.bin") },
            _ => new[] { "compile", Kws, "--target", "cortex-m4", "--out", Path.Combine(_dir, "c") },
        };
        var (code, _, error) = Run(args.Concat(new[] { "--onnx-rounding", "mlas" }).ToArray());
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("--onnx-rounding takes 'onnxruntime' or 'tflite', not 'mlas'", error);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("compile")]
    public void APlanContainer_RefusesTheRounding(string command)
    {
        string container = Path.Combine(_dir, "kws.tmlmodel");
        File.WriteAllBytes(container, PlanContainer.Write(Lowered(RequantizationRounding.Tflite)));
        var args = command == "run"
            ? new[] { "run", container, "--input", Path.Combine(_dir, "in.bin"), "--output", Path.Combine(_dir, "out.bin") }
            : new[] { "compile", container, "--target", "cortex-m4", "--out", Path.Combine(_dir, "c") };
        var (code, _, error) = Run(args.Concat(new[] { "--onnx-rounding", "onnxruntime" }).ToArray());
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("--onnx-rounding applies to a .tflite model", error);
    }
}
