// SPDX-License-Identifier: Apache-2.0
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

public class InspectCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    public static TheoryData<string> Models() => new(SharedData.ModelNames());

    [Theory]
    [MemberData(nameof(Models))]
    public void Table_ListsEveryOperatorAndTheTotals(string name)
    {
        var (code, output, error) = Run("inspect", SharedData.Model(name));
        var json = JsonDocument.Parse(Run("inspect", SharedData.Model(name), "--json").Out).RootElement;
        long totalMacs = json.GetProperty("total_macs").GetInt64();
        int operators = json.GetProperty("ops").GetArrayLength();
        Assert.Contains($"{operators} operators", output);
        Assert.Contains("total MACs " + totalMacs.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), output);
        foreach (var op in json.GetProperty("ops").EnumerateArray())
            Assert.Contains($"{op.GetProperty("type").GetString()} v{op.GetProperty("version").GetInt32()}", output);
        if (name == "kws_float")
        {
            Assert.Equal(Cli.ModelErrors, code);
            Assert.Contains("error TML1008", error);
        }
        else if (GoldenCase.NotYetSupported.TryGetValue(name, out var refusal))
        {
            // inspect lists any readable model, and reports why we cannot run it yet.
            Assert.Equal(Cli.ModelErrors, code);
            Assert.Contains($"error {refusal.Code}", error);
            Assert.Contains(refusal.Message, error);
        }
        else
        {
            Assert.Equal(0, code);
            Assert.Equal("", error);
        }
    }

    [Fact]
    public void Table_ShowsLongOperatorTypesWhole_AndKeepsTheColumnsAligned()
    {
        // The operator column used to cut long types from the left ("…ONAL_SEQUENCE_LSTM v1").
        var (_, output, _) = Run("inspect", SharedData.Model("mnist_lstm_int8"));
        var lines = output.Split('\n');
        string header = lines.Single(l => l.StartsWith("  #  operator", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("  0  UNIDIRECTIONAL_SEQUENCE_LSTM v1 ", StringComparison.Ordinal));
        // The model's one fully connected layer: 10 outputs x 560 features (golden info: 5,600 MACs).
        string fc = lines.Single(l => l.StartsWith("  2  FULLY_CONNECTED v4 ", StringComparison.Ordinal));
        Assert.Equal(header.IndexOf("MACs", StringComparison.Ordinal) + "MACs".Length, fc.IndexOf("5,600", StringComparison.Ordinal) + "5,600".Length);
        Assert.DoesNotContain(lines, l => l.Length > 5 && char.IsDigit(l[2]) && l[5] == '…');
    }

    [Theory]
    [InlineData("kws", 2_656_768L)]
    [InlineData("ic_resnet", 12_501_632L)]
    [InlineData("ad", 264_192L)]
    public void Json_HasTheDocumentedSchema(string name, long macs)
    {
        var (code, output, _) = Run("inspect", SharedData.Model(name), "--json");
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("tinyml.inspect/1", root.GetProperty("schema").GetString());
        Assert.Equal(macs, root.GetProperty("total_macs").GetInt64());
        Assert.Equal(macs, root.GetProperty("ops").EnumerateArray().Sum(o => o.GetProperty("macs").GetInt64()));
        Assert.True(root.GetProperty("weights_bytes").GetInt64() > 0);
        var ops = root.GetProperty("ops").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, ops.Count), ops.Select(o => o.GetProperty("index").GetInt32()));
        Assert.All(ops, o => Assert.False(string.IsNullOrEmpty(o.GetProperty("type").GetString())));
        foreach (var list in new[] { "inputs", "outputs" })
        {
            var tensor = Assert.Single(root.GetProperty(list).EnumerateArray());
            Assert.Equal("INT8", tensor.GetProperty("type").GetString());
            Assert.True(tensor.GetProperty("shape").GetArrayLength() >= 2);
            Assert.Equal(JsonValueKind.Number, tensor.GetProperty("scale").ValueKind);
            Assert.Equal(JsonValueKind.Number, tensor.GetProperty("zero_point").ValueKind);
            Assert.False(string.IsNullOrEmpty(tensor.GetProperty("name").GetString()));
        }
        Assert.Equal(0, root.GetProperty("diagnostics").GetArrayLength());
    }

    [Fact]
    public void Json_KwsInputMatchesTheModel()
    {
        var root = JsonDocument.Parse(Run("inspect", SharedData.Model("kws"), "--json").Out).RootElement;
        var input = root.GetProperty("inputs")[0];
        Assert.Equal("input_1", input.GetProperty("name").GetString());
        Assert.Equal(new[] { 1, 49, 10, 1 }, input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(83, input.GetProperty("zero_point").GetInt32());
        Assert.Equal(0.584702909f, input.GetProperty("scale").GetSingle());
    }

    [Fact]
    public void NotAModel_GivesDiagnosticsAndExitCode1()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tinyml-not-a-model-{Guid.NewGuid():N}.tflite");
        File.WriteAllText(path, "hello");
        try
        {
            var (code, output, error) = Run("inspect", path);
            Assert.Equal(Cli.ModelErrors, code);
            Assert.Equal("", output);
            Assert.Contains("error TML1001", error);
            Assert.Contains(path, error);
            var json = JsonDocument.Parse(Run("inspect", path, "--json").Out).RootElement;
            Assert.Equal("TML1001", json.GetProperty("diagnostics")[0].GetProperty("id").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MissingFile_IsTML1016()
    {
        var (code, _, error) = Run("inspect", "/no/such/model.tflite");
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("error TML1016", error);
    }

    [Fact]
    public void MissingArgument_IsAUsageError()
    {
        var (code, _, error) = Run("inspect");
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("Required argument missing", error);
    }

    [Fact]
    public void CorruptModel_InARealProcess_PrintsNoStackTrace()
    {
        byte[] model = File.ReadAllBytes(SharedData.Model("kws"));
        string path = Path.Combine(Path.GetTempPath(), $"tinyml-corrupt-{Guid.NewGuid():N}.tflite");
        File.WriteAllBytes(path, model.Take(model.Length / 2).ToArray());
        try
        {
            var start = new ProcessStartInfo("dotnet", new[] { Path.Combine(AppContext.BaseDirectory, "tinyml.dll"), "inspect", path })
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            string stderr = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(60_000));
            Assert.Equal(Cli.ModelErrors, process.ExitCode);
            Assert.Contains("TML1002", stderr);
            Assert.DoesNotContain("   at ", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
