// SPDX-License-Identifier: Apache-2.0
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>Every real model in ../shared/models loads, validates and is summarized with the published numbers.</summary>
public class RealModelTests
{
    // Listed by name so that no model is skipped silently; ModelList_MatchesSharedFolder keeps it complete.
    public static readonly string[] Models =
    {
        "ad", "ad_float", "hello_float", "hello_int8", "ic_resnet", "ic_resnet_float", "keyword_scrambled",
        "keyword_scrambled_8bit", "kws", "kws_float", "micro_speech", "mnist_lstm_float", "mnist_lstm_int8", "simple_add",
        "toycar",
    };

    public static TheoryData<string> ModelData() => new(Models);

    private static JsonElement Info(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "golden", name, "info.json"))).RootElement;

    [Fact]
    public void ModelList_MatchesSharedFolder() => Assert.Equal(SharedData.ModelNames(), Models.OrderBy(m => m));

    [Theory]
    [MemberData(nameof(ModelData))]
    public void Loads_WithoutDiagnostics(string name)
    {
        var result = TfliteReader.ReadFile(SharedData.Model(name));
        Assert.Empty(result.Diagnostics);
        Assert.NotNull(result.Value);
        Assert.NotEmpty(result.Value!.Main.Operators);
    }

    [Theory]
    [InlineData("kws", 2_656_768L)]
    [InlineData("ic_resnet", 12_501_632L)]
    [InlineData("ad", 264_192L)]
    public void TotalMacs_EqualPublishedMlPerfTinyFigures(string name, long published)
    {
        var summary = ModelSummary.Of(TfliteReader.ReadFile(SharedData.Model(name)).Value!);
        Assert.Equal(published, summary.TotalMacs);
    }

    [Theory]
    [MemberData(nameof(ModelData))]
    public void MacsAndWeights_EqualGoldenInfo(string name)
    {
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        var summary = ModelSummary.Of(model);
        var info = Info(name);
        Assert.Equal(info.GetProperty("weights_bytes").GetInt64(), summary.WeightsBytes);
        // The golden info's "macs" counts no SVDF work; we count its feature and time projections as well.
        long withoutSvdf = summary.Operators.Where(o => o.Type != "SVDF").Sum(o => o.Macs);
        long expected = info.GetProperty("macs").GetInt64();
        // The LSTM's count (four gates, each an FC of the input and of the hidden state, per step) is the golden's.
        if (summary.Operators.Any(o => o.Type == "UNIDIRECTIONAL_SEQUENCE_LSTM"))
            Assert.Equal(info.GetProperty("extra").GetProperty("macs_by_op").GetProperty("UNIDIRECTIONAL_SEQUENCE_LSTM").GetInt64(),
                summary.Operators.Where(o => o.Type == "UNIDIRECTIONAL_SEQUENCE_LSTM").Sum(o => o.Macs));
        Assert.Equal(expected, withoutSvdf);
        if (summary.Operators.Any(o => o.Type == "SVDF"))
            Assert.True(summary.TotalMacs > withoutSvdf, "SVDF layers add MACs");
        else
            Assert.Equal(withoutSvdf, summary.TotalMacs);
    }

    [Theory]
    [MemberData(nameof(ModelData))]
    public void InputsAndOutputs_MatchGoldenInfo(string name)
    {
        var summary = ModelSummary.Of(TfliteReader.ReadFile(SharedData.Model(name)).Value!);
        var info = Info(name);
        void Compare(JsonElement expected, TensorSummary actual)
        {
            Assert.Equal(expected.GetProperty("type").GetString(), DataTypes.Name(actual.Type));
            Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), actual.Shape);
            Assert.Equal(expected.GetProperty("bytes").GetInt64(), actual.Bytes);
            if (expected.TryGetProperty("scale", out var scale) && scale.ValueKind == JsonValueKind.Number)
                Assert.Equal(scale.GetSingle(), actual.Quantization!.Scale);
        }
        if (info.GetProperty("inputs").ValueKind == JsonValueKind.Null)
        {
            // TFLM refused the model, so the golden info records no tensors to compare with.
            Assert.Equal("error", info.GetProperty("golden").GetProperty("status").GetString());
            Assert.Single(summary.Inputs);
            return;
        }
        var inputs = info.GetProperty("inputs").EnumerateArray().ToList();
        var outputs = info.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(inputs.Count, summary.Inputs.Count);
        Assert.Equal(outputs.Count, summary.Outputs.Count);
        for (int i = 0; i < inputs.Count; i++) Compare(inputs[i], summary.Inputs[i]);
        for (int i = 0; i < outputs.Count; i++) Compare(outputs[i], summary.Outputs[i]);
    }

    [Theory]
    [MemberData(nameof(ModelData))]
    public void Validation_AcceptsEveryModelButTheHybridAndTheNotYetSupportedOnes(string name)
    {
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        var diagnostics = ModelValidator.Validate(model);
        if (name == "kws_float")
        {
            // int8 weights with float32 activations: TFLM refuses it too ("Hybrid models are not supported").
            Assert.NotEmpty(diagnostics);
            Assert.All(diagnostics, d => Assert.Equal(DiagnosticIds.UnsupportedTypeCombination, d.Id));
            Assert.Contains("hybrid", diagnostics[0].Message);
        }
        else if (GoldenCase.NotYetSupported.ContainsKey(name))
        {
            Assert.NotEmpty(diagnostics); // NotYetSupported_IsRefusedWithItsCode checks which
        }
        else
        {
            Assert.Empty(diagnostics);
        }
    }

    [Fact]
    public void NotYetSupported_IsExactlyTheModelsRefused_EachWithItsCode()
    {
        // A Fact over the whole list rather than a theory per entry, so that an empty list still runs: every model
        // with TFLM goldens validates unless it is listed, and a listed one is refused with its code alone. When
        // support lands this fails until the model leaves GoldenCase.NotYetSupported and joins every conformance test.
        foreach (var name in SharedData.ModelNames().Where(n => !GoldenCase.WithoutGolden.ContainsKey(n)))
        {
            var read = TfliteReader.ReadFile(SharedData.Model(name));
            Assert.Empty(read.Diagnostics);
            var diagnostics = ModelValidator.Validate(read.Value!, SharedData.Model(name));
            if (!GoldenCase.NotYetSupported.TryGetValue(name, out var expected))
            {
                Assert.True(diagnostics.Count == 0, $"{name} is refused but not listed: {string.Join("; ", diagnostics)}");
                continue;
            }
            Assert.NotEmpty(diagnostics);
            Assert.All(diagnostics, d =>
            {
                Assert.Equal(expected.Code, d.Id);
                Assert.Equal(Severity.Error, d.Severity);
                Assert.Contains(expected.Message, d.Message);
                Assert.NotNull(d.OperatorIndex);
            });
            // Lowering validates first, so it stops at the same diagnostics.
            var lowered = TinyML.Compiler.Lowering.Lowerer.Lower(read.Value!, SharedData.Model(name));
            Assert.Null(lowered.Value);
            Assert.Equal(diagnostics.Select(d => d.ToString()), lowered.Diagnostics.Select(d => d.ToString()));
        }
    }

    [Fact]
    public void NotYetSupported_AreSharedModelsWithGoldenOutputs()
    {
        // Each has TFLM's outputs, so that it joins the conformance tests the moment it leaves the list.
        foreach (var (name, model) in GoldenCase.NotYetSupported)
        {
            Assert.Contains(name, SharedData.ModelNames());
            Assert.False(GoldenCase.WithoutGolden.ContainsKey(name), name);
            Assert.True(File.Exists(Path.Combine(SharedData.Root, "golden", name, "output_1.bin")), name);
            Assert.False(string.IsNullOrWhiteSpace(model.Reason), name);
        }
    }

    [Fact]
    public void OpCases_AllValidate()
    {
        var failures = SharedData.OpCases()
            .Select(c => (c, ModelValidator.Validate(TfliteReader.ReadFile(Path.Combine(SharedData.Root, "ops", c, "model.tflite")).Value!)))
            .Where(x => x.Item2.Count > 0)
            .Select(x => $"{x.c}: {string.Join("; ", x.Item2)}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("neg_avgpool_requant", DiagnosticIds.QuantizationSpecViolation)]
    [InlineData("neg_concat_diffscale", DiagnosticIds.QuantizationSpecViolation)]
    [InlineData("neg_conv_hybrid", DiagnosticIds.UnsupportedTypeCombination)]
    [InlineData("neg_logistic_out_zp", DiagnosticIds.QuantizationSpecViolation)]
    [InlineData("neg_padv2_const_q", DiagnosticIds.QuantizationSpecViolation)]
    [InlineData("neg_softmax_out_scale", DiagnosticIds.QuantizationSpecViolation)]
    public void RefusedCases_AreRejectedWithTheirCode(string name, string id)
    {
        var model = TfliteReader.ReadFile(Path.Combine(SharedData.Root, "ops", "refused", name, "model.tflite")).Value!;
        var diagnostic = Assert.Single(ModelValidator.Validate(model));
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(0, diagnostic.OperatorIndex);
    }

    [Fact]
    public void RefusedCases_AreAllCovered()
    {
        // neg_dw_nobias is legal TFLite (an omitted bias); we accept and run it rather than refuse it.
        var covered = new[] { "neg_avgpool_requant", "neg_concat_diffscale", "neg_conv_hybrid", "neg_dw_nobias",
            "neg_logistic_out_zp", "neg_padv2_const_q", "neg_softmax_out_scale" };
        Assert.Equal(SharedData.RefusedCases(), covered);
        var model = TfliteReader.ReadFile(Path.Combine(SharedData.Root, "ops", "refused", "neg_dw_nobias", "model.tflite")).Value!;
        Assert.Empty(ModelValidator.Validate(model));
    }
}
