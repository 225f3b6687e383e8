// SPDX-License-Identifier: Apache-2.0
extern alias gen;

using System.Collections.Generic;
using gen::TinyML.Generators;
using Xunit;

namespace TinyML.Generators.Tests;

/// <summary>How tensor names and labels become C# identifiers.</summary>
public class IdentifierTests
{
    [Theory]
    [InlineData("input_1", "Input1")]
    [InlineData("serving_default_dense_input:0", "ServingDefaultDenseInput0")]
    [InlineData("StatefulPartitionedCall:0", "StatefulPartitionedCall0")]
    [InlineData("_silence_", "Silence")]
    [InlineData("hey tiny", "HeyTiny")]
    [InlineData("3 other", "_3Other")]
    [InlineData("0", "_0")]
    [InlineData("audioFeatures", "AudioFeatures")]
    [InlineData("ñandú", "Ñandú")]
    [InlineData("", "")]
    [InlineData("::", "")]
    public void ToPascalCase(string text, string expected) => Assert.Equal(expected, Identifiers.ToPascalCase(text));

    [Fact]
    public void SingleTensors_AreInputAndOutput_WhateverTheirNames()
    {
        Assert.Equal(new[] { "Input" }, Identifiers.TensorNames(new[] { "class" }, "Input", new HashSet<string>()));
    }

    [Fact]
    public void SeveralTensors_FallBack_OnEmptyKeywordOrCollidingNames()
    {
        var taken = new HashSet<string> { "Run", "Label", "Model" };
        string[] names = Identifiers.TensorNames(new[] { "audio", "", "audio", "run", "a_shape", "audio_shape", "input3", "model" }, "Input", taken);
        // "audio_shape" would make AudioShape, which "audio" already has; "input3" takes Input3, so tensor 3 gets Input3_2.
        Assert.Equal(new[] { "Audio", "Input1", "Input2", "Input3_2", "AShape", "Input5", "Input3", "Input7" }, names);
        Assert.Contains("SetAudio", taken);
        Assert.Contains("GetAudio", taken);
    }

    [Fact]
    public void Labels_AreUnique_WithFallbacks()
    {
        // Case matters in C#: "YES" and "Yes" are different members. "label 0" claims Label0 before the empty label falls back.
        Assert.Equal(new[] { "Label0_2", "Yes", "YES", "Label3", "_1", "Label0" },
            Identifiers.LabelNames(new[] { "", "yes", "YES", "Yes!", "1", "label 0" }));
    }

    [Theory]
    [InlineData("Kws", true)]
    [InlineData("_Kws", true)]
    [InlineData("class", false)]
    [InlineData("var", false)]
    [InlineData("@Kws", false)]
    [InlineData("Kws.Model", false)]
    public void TypeNames(string name, bool valid) => Assert.Equal(valid, Identifiers.IsValidTypeName(name));
}
