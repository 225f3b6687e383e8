// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using BudgetExceeded;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Validation;
using Xunit;

namespace TinyML.Samples.Tests;

public class BudgetExceededTests
{
    private const long SmallRamBudget = 256 * 1024;

    private static readonly Lazy<SampleModel> Sample = new(() => new SampleModel(new BudgetExceededModel().ToModel()));

    private static SampleModel Big => Sample.Value;

    [Fact]
    public void Model_ReadsBackAndValidatesWithoutDiagnostics()
    {
        Assert.Empty(ModelValidator.Validate(Big.Model));
        Assert.All(Big.Model.Main.Tensors.Where(t => !t.IsConstant), t => Assert.Equal(DataType.Int8, t.Type));
    }

    [Fact]
    public void Model_HasTheExpectedInputAndOutput()
    {
        Assert.Equal(new[] { 1, 96, 96, 3 }, Big.Input.Shape);
        Assert.Equal(DataType.Int8, Big.Input.Type);
        Assert.Equal(new[] { 1, BudgetExceededModel.Classes }, Big.Output.Shape);
        Assert.Equal(DataType.Int8, Big.Output.Type);
        Assert.Equal(new[] { 1, 96, 96, 3 }, Big.Plan.Inputs.Single().Shape);
        Assert.Equal(new[] { 1, 2 }, Big.Plan.Outputs.Single().Shape);
    }

    [Fact]
    public void Arena_IsFarAboveASmallRamBudget()
    {
        // conv_2 reads a 96x96x16 activation while it writes a 96x96x32 one: 147,456 + 294,912 = 442,368 bytes must
        // be live at once, whatever the planner does.
        Assert.True(Big.Plan.ArenaBytes > SmallRamBudget, $"arena {Big.Plan.ArenaBytes} B");
        Assert.InRange(Big.Plan.ArenaBytes, 442_368, 442_368 + 1024);
    }

    [Fact]
    public void Builder_IsDeterministic()
    {
        Assert.Equal(Big.Bytes, new SampleModel(new BudgetExceededModel().ToModel()).Bytes);
        Assert.Equal(Big.Bytes, SampleModel.RunBuilder("BudgetExceeded.ModelBuilder"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Model_RunsAndGivesProbabilities(int seed)
    {
        var output = Big.Run(Big.RandomInput(seed));
        double sum = output.Sum(v => SampleModel.Dequantize(v, Big.Output.Quantization!));
        // Two outputs, each within one 1/256 step of its probability.
        Assert.InRange(sum, 1 - 2.0 / 256, 1 + 2.0 / 256);
    }
}
