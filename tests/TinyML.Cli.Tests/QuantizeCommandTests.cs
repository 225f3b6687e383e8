// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary><c>tinyml quantize</c>: the report, the written model, the JSON schema, exit codes and diagnostics.</summary>
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tml-quantize-" + Guid.NewGuid().ToString("N"));

    public QuantizeCommandTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "calib"));
        // hello_float takes one float x in [0, 2π]: 64 samples as one .npy batch, and a few as raw .bin files.
        var xs = Enumerable.Range(0, 64).Select(i => (float)(i * 2 * Math.PI / 63)).ToArray();
        File.WriteAllBytes(Path.Combine(_dir, "calib", "batch.npy"), NpyFile.Write(new[] { 64, 1 }, xs));
        Directory.CreateDirectory(Path.Combine(_dir, "valid"));
        for (int i = 0; i < 8; i++)
            File.WriteAllBytes(Path.Combine(_dir, "valid", $"x{i}.bin"), BitConverter.GetBytes((float)(0.4 + 0.7 * i)));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Quantize_WritesAnInt8Model_AndPrintsTheAccuracyTable()
    {
        var (code, output, error) = CliRunner.Run("quantize", SharedData.Model("hello_float"), "--calibration", P("calib"), "--out", P("out/hello.int8.tflite"));
        Assert.True(code == 0, error);
        Assert.Contains("calibration: 64 samples from 1 file(s)", output);
        Assert.Contains("| StatefulPartitionedCall:0 |", output);
        var model = TfliteReader.ReadFile(P("out/hello.int8.tflite")).Value!;
        Assert.All(model.Main.Operators, op => Assert.Equal("FULLY_CONNECTED v4", $"{op.TypeName} v{op.Version}"));
        Assert.Equal(Compiler.Ir.DataType.Int8, model.Main.Tensors[model.Main.Inputs[0]].Type);
        // The written model runs through the CLI's own run command.
        File.WriteAllBytes(P("in.bin"), new byte[] { 0 });
        var run = CliRunner.Run("run", P("out/hello.int8.tflite"), "--input", P("in.bin"), "--output", P("o.bin"));
        Assert.True(run.Code == 0, run.Err);
    }

    [Fact]
    public void Json_HasTheDocumentedFields_AndMeasuresOnTheValidationSet()
    {
        var (code, output, error) = CliRunner.Run("quantize", SharedData.Model("hello_float"), "--calibration", P("calib/*.npy"),
            "--validation", P("valid"), "--out", P("h.tflite"), "--float-io", "--method", "percentile", "--json");
        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal(Commands.QuantizeCommand.JsonSchema, root.GetProperty("schema").GetString());
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("validation", root.GetProperty("evaluated_on").GetString());
        Assert.Equal(8, root.GetProperty("evaluation_samples").GetInt32());
        Assert.Equal(64, root.GetProperty("calibration_samples").GetInt32());
        Assert.True(root.GetProperty("float_io").GetBoolean());
        Assert.Equal("percentile", root.GetProperty("method").GetString());
        Assert.True(root.GetProperty("weights_bytes_int8").GetInt64() < root.GetProperty("weights_bytes_float").GetInt64());
        var o = Assert.Single(root.GetProperty("outputs").EnumerateArray());
        // A sine approximated by a 16-16-1 network: in int8 it tracks the float model to well over 20 dB.
        Assert.True(o.GetProperty("sqnr_db").GetDouble() > 20, o.ToString());
        Assert.True(o.GetProperty("max_abs_error").GetDouble() < 0.2);
        Assert.Equal(JsonValueKind.Null, o.GetProperty("top1_agreement").ValueKind);
        Assert.Empty(root.GetProperty("diagnostics").EnumerateArray());
        var model = TfliteReader.ReadFile(P("h.tflite")).Value!;
        Assert.Equal("QUANTIZE", model.Main.Operators[0].TypeName);
        Assert.Equal("DEQUANTIZE", model.Main.Operators[^1].TypeName);
    }

    [Fact]
    public void SqnrUnderTheThreshold_IsAWarning_AndExitsZero()
    {
        var (code, output, error) = CliRunner.Run("quantize", SharedData.Model("hello_float"), "--calibration", P("calib"), "--out", P("h.tflite"), "--sqnr-warn", "200", "--json");
        Assert.Equal(0, code);
        Assert.Contains("warning TML2005", error);
        var d = Assert.Single(JsonDocument.Parse(output).RootElement.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal("TML2005", d.GetProperty("id").GetString());
        Assert.Equal("warning", d.GetProperty("severity").GetString());
    }

    [Fact]
    public void MissingCalibration_IsTML2001_ExitOne_AndWritesNothing()
    {
        var (code, _, error) = CliRunner.Run("quantize", SharedData.Model("kws_float"), "--out", P("k.tflite"));
        Assert.Equal(1, code);
        Assert.Contains("error TML2001", error);
        Assert.False(File.Exists(P("k.tflite")));
        var empty = CliRunner.Run("quantize", SharedData.Model("kws_float"), "--calibration", P("nothing/*.npy"), "--out", P("k.tflite"), "--json");
        Assert.Equal(1, empty.Code);
        var root = JsonDocument.Parse(empty.Out).RootElement;
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal("TML2001", root.GetProperty("diagnostics")[0].GetProperty("id").GetString());
    }

    [Fact]
    public void WrongShape_IsTML2003()
    {
        Directory.CreateDirectory(P("bad"));
        File.WriteAllBytes(P("bad/x.npy"), NpyFile.Write(new[] { 10, 49 }, new float[490]));
        var (code, _, error) = CliRunner.Run("quantize", SharedData.Model("kws_float"), "--calibration", P("bad"), "--out", P("k.tflite"));
        Assert.Equal(1, code);
        Assert.Contains("error TML2003", error);
        Assert.Contains("(10, 49)", error);
    }

    [Fact]
    public void NaNInCalibration_IsTML2004()
    {
        Directory.CreateDirectory(P("nan"));
        File.WriteAllBytes(P("nan/x.bin"), BitConverter.GetBytes(float.NaN));
        var (code, _, error) = CliRunner.Run("quantize", SharedData.Model("hello_float"), "--calibration", P("nan"), "--out", P("h.tflite"));
        Assert.Equal(1, code);
        Assert.Contains("error TML2004", error);
    }

    [Fact]
    public void AnInt8Model_IsTML2007()
    {
        var (code, _, error) = CliRunner.Run("quantize", SharedData.Model("hello_int8"), "--calibration", P("calib"), "--out", P("h.tflite"));
        Assert.Equal(1, code);
        Assert.Contains("TML2007", error);
    }

    [Fact]
    public void AFloatModelWithLogistic_Quantizes_WithTheFixedLogisticOutput_AndRuns()
    {
        // float x [1, 4] → FULLY_CONNECTED (3 units) → LOGISTIC, written as a .tflite file.
        var b = new Compiler.Building.ModelBuilder();
        int x = b.Tensor("x", Compiler.Ir.DataType.Float32, new[] { 1, 4 });
        int w = b.Constant("w", new[] { 3, 4 }, Enumerable.Range(0, 12).Select(i => (i % 5 - 2) / 4f).ToArray());
        int z = b.Tensor("z", Compiler.Ir.DataType.Float32, new[] { 1, 3 });
        b.Operator(Compiler.Ir.OpKind.FullyConnected, new[] { x, w, -1 }, new[] { z }, new Compiler.Ir.FullyConnectedOptions(Compiler.Ir.Activation.None, 0, false, false));
        int y = b.Tensor("y", Compiler.Ir.DataType.Float32, new[] { 1, 3 });
        b.Operator(Compiler.Ir.OpKind.Logistic, new[] { z }, new[] { y });
        File.WriteAllBytes(P("logistic.tflite"), TfliteWriter.Write(b.Inputs(x).Outputs(y).Build()));
        var values = Enumerable.Range(0, 32 * 4).Select(i => (float)Math.Sin(i * 0.7) * 2).ToArray();
        File.WriteAllBytes(P("logistic_calib.npy"), NpyFile.Write(new[] { 32, 4 }, values));

        var (code, output, error) = CliRunner.Run("quantize", P("logistic.tflite"), "--calibration", P("logistic_calib.npy"), "--out", P("logistic.int8.tflite"));
        Assert.True(code == 0, error + output);
        var g = TfliteReader.ReadFile(P("logistic.int8.tflite")).Value!.Main;
        Assert.Equal("LOGISTIC v2", g.Operators.Select(o => $"{o.TypeName} v{o.Version}").Last());
        Assert.Equal(Compiler.Ir.Quantization.PerTensor(1f / 256, -128), g.Tensors[g.Outputs[0]].Quantization);
        File.WriteAllBytes(P("logistic_in.bin"), new byte[4]);
        var run = CliRunner.Run("run", P("logistic.int8.tflite"), "--input", P("logistic_in.bin"), "--output", P("logistic_out.bin"));
        Assert.True(run.Code == 0, run.Err);
        Assert.Equal(3, File.ReadAllBytes(P("logistic_out.bin")).Length);
    }

    [Fact]
    public void AnUnknownMethod_IsAUsageError()
    {
        var (code, _, _) = CliRunner.Run("quantize", SharedData.Model("hello_float"), "--calibration", P("calib"), "--out", P("h.tflite"), "--method", "magic");
        Assert.Equal(2, code);
    }
}
