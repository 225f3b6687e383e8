// SPDX-License-Identifier: Apache-2.0
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;
using Xunit;

namespace TinyML.Samples.Tests;

/// <summary>
/// A sample model as the tests see it: the bytes its builder writes, the model read back from those bytes, and its
/// execution plan. Everything below starts from the file bytes, as a user's build would.
/// </summary>
public sealed class SampleModel
{
    public SampleModel(Model built)
    {
        Bytes = TfliteWriter.Write(built);
        var read = TfliteReader.Read(Bytes, "sample.tflite");
        Assert.Empty(read.Diagnostics);
        Model = read.Value!;
        Assert.Empty(ModelComparer.Differences(built, Model));
        var lowered = Lowerer.Lower(Model, "sample.tflite");
        Assert.Empty(lowered.Diagnostics);
        Plan = lowered.Value!;
    }

    public byte[] Bytes { get; }
    public Model Model { get; }
    public ExecutionPlan Plan { get; }

    public Tensor Input => Model.Main.Tensors[Model.Main.Inputs.Single()];
    public Tensor Output => Model.Main.Tensors[Model.Main.Outputs.Single()];

    /// <summary>Runs the plan on the native kernels for one int8 input; returns the int8 output.</summary>
    public sbyte[] Run(sbyte[] input)
    {
        using var executor = new PlanExecutor(Plan);
        var span = executor.Input(0);
        Assert.Equal(span.Length, input.Length);
        for (int i = 0; i < input.Length; i++) span[i] = (byte)input[i];
        executor.Run();
        return executor.Output(0).ToArray().Select(b => (sbyte)b).ToArray();
    }

    /// <summary>A deterministic int8 input spread over the whole int8 range.</summary>
    public sbyte[] RandomInput(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, (int)Input.ElementCount).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
    }

    public static double Dequantize(sbyte value, Quantization q) => q.Scale * (value - q.ZeroPoint);

    /// <summary>Runs a builder console app (copied beside the tests) the way a user does: <c>Builder OUTPUT.tflite</c>.</summary>
    public static byte[] RunBuilder(string assemblyName)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        string output = Path.Combine(Path.GetTempPath(), $"tinyml-samples-{Guid.NewGuid():N}", "model.tflite");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(output);
        try
        {
            using var process = Process.Start(start)!;
            string stdout = process.StandardOutput.ReadToEnd();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{assemblyName} exited with {process.ExitCode}: {stdout}{stderr}");
            Assert.Contains("wrote " + output, stdout);
            return File.ReadAllBytes(output);
        }
        finally
        {
            string folder = Path.GetDirectoryName(output)!;
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
