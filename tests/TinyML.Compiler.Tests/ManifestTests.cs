// SPDX-License-Identifier: Apache-2.0
using System;
using Xunit;

namespace TinyML.Compiler.Tests;

public class ManifestTests
{
    private static ModelManifest Sample()
    {
        var m = new ModelManifest
        {
            ModelPath = "/p/kws \"q\".tflite", ClassName = "Kws", Namespace = "App.Models", Access = "internal",
            ResourceName = "App.kws.tmlmodel", ArenaBytes = 16000, StateBytes = 0, FlashBytes = 28984, Macs = 2656768,
        };
        m.Inputs.Add(new ManifestTensor { Name = "input_1", Type = "INT8", Shape = new[] { 1, 49, 10, 1 }, Bytes = 490, Scale = 0.584702909f, ZeroPoint = 83 });
        m.Outputs.Add(new ManifestTensor { Name = "Identity", Type = "INT8", Shape = new[] { 1, 12 }, Bytes = 12, Scale = 0.00390625, ZeroPoint = -128 });
        m.Labels.AddRange(new[] { "_silence_", "yes", "tab\there" });
        return m;
    }

    [Fact]
    public void RoundTrips_AndIsDeterministic()
    {
        string json = Sample().ToJson();
        var read = ModelManifest.Parse(json);
        Assert.Equal(json, read.ToJson());
        Assert.Equal("/p/kws \"q\".tflite", read.ModelPath);
        Assert.Equal(new[] { 1, 49, 10, 1 }, read.Inputs[0].Shape);
        Assert.Equal((double)0.584702909f, read.Inputs[0].Scale);
        Assert.Equal("tab\there", read.Labels[2]);
        Assert.Equal(json, Sample().ToJson());
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"version\": 1}")]
    [InlineData("{\"version\": 2, \"model\": \"\"}")]
    [InlineData("{\"version\": \"1\"")]
    public void MalformedManifests_ThrowFormatException(string json) =>
        Assert.Throws<FormatException>(() => ModelManifest.Parse(json));

    [Fact]
    public void EveryTruncation_ThrowsFormatException()
    {
        // The text ends with "}\n": every cut before the closing brace is malformed JSON.
        string json = Sample().ToJson();
        for (int n = 0; n < json.Length - 1; n++)
            Assert.Throws<FormatException>(() => ModelManifest.Parse(json.Substring(0, n)));
        Assert.Equal("Kws", ModelManifest.Parse(json.Substring(0, json.Length - 1)).ClassName);
    }
}
