// SPDX-License-Identifier: Apache-2.0
using System.Linq;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>Tensor names in messages: the first fused entry, shortened so the layer stays readable.</summary>
public class TensorNamesTests
{
    [Fact]
    public void Readable_IsTheFirstFusedEntry_WhichNamesTheOutput()
    {
        Assert.Equal("model/conv2d_3/Relu", TensorNames.Readable("model/conv2d_3/Relu;model/conv2d_3/BiasAdd;model/conv2d_3/Conv2D"));
        Assert.Equal("input_1", TensorNames.Readable("input_1"));
    }

    [Fact]
    public void Readable_OfALongPath_ElidesTheMiddle_KeepingScopeLayerAndOp()
    {
        // 64 characters: the tail alone ("…/ReadVariableOp/resource") would read like a bias constant.
        const string name = "functional_1/depthwise_conv2d_3/BiasAdd/ReadVariableOp/resource;functional_1/conv2d_4/Conv2D";
        Assert.Equal("functional_1/depthwise_conv2d_3/…/resource", TensorNames.Readable(name));
    }

    [Fact]
    public void Readable_OfOneLongPart_KeepsItsFront()
    {
        string name = new string('a', 40) + new string('b', 40);
        string readable = TensorNames.Readable(name);
        Assert.Equal(TensorNames.MaxLength, readable.Length);
        Assert.StartsWith(new string('a', 40), readable);
        Assert.EndsWith("…", readable);
    }

    [Fact]
    public void ReadableBuffer_ShortensTheTensorNamesInsideComposedNames()
    {
        Assert.Equal("tile of model/conv2d/Relu", TensorNames.ReadableBuffer("tile of model/conv2d/Relu;model/conv2d/BiasAdd"));
        Assert.Equal("input_1 (then model/dw/Relu)", TensorNames.ReadableBuffer("input_1 (then model/dw/Relu;model/dw/depthwise)"));
        Assert.Equal("scratch of operator 3", TensorNames.ReadableBuffer("scratch of operator 3"));
    }

    [Theory]
    [MemberData(nameof(RealModelTests.ModelData), MemberType = typeof(RealModelTests))]
    public void RealModels_EveryReadableName_IsOneShortEntryFromTheFrontOfTheName(string model)
    {
        var graph = TfliteReader.ReadFile(SharedData.Model(model)).Value!.Main;
        foreach (var tensor in graph.Tensors)
        {
            string readable = TensorNames.Readable(tensor.Name);
            string first = tensor.Name.Split(';')[0];
            Assert.True(readable.Length <= TensorNames.MaxLength, readable);
            Assert.DoesNotContain(";", readable);
            // Either the whole first entry, or its front path part kept with an ellipsis.
            if (first.Length <= TensorNames.MaxLength) Assert.Equal(first, readable);
            else Assert.StartsWith(first.Split('/')[0], readable);
        }
    }
}
