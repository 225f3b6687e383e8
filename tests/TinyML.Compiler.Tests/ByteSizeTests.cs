// SPDX-License-Identifier: Apache-2.0
using TinyML.Compiler.Budgets;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>Budget sizes: what parses, and why the rest does not (TML0001 shows the reason).</summary>
public class ByteSizeTests
{
    [Theory]
    [InlineData("65536", 65536)]
    [InlineData("64KB", 64 * 1024)]
    [InlineData("64 KiB", 64 * 1024)]
    [InlineData("64k", 64 * 1024)]
    [InlineData("1.5MB", 3 * 512 * 1024)]
    [InlineData("2MiB", 2 * 1024 * 1024)]
    [InlineData("512B", 512)]
    public void Sizes_Parse(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out long bytes, out string problem), problem);
        Assert.Equal(expected, bytes);
        Assert.Equal("", problem);
        Assert.True(ByteSize.TryParse(text, out long again));
        Assert.Equal(expected, again);
    }

    [Theory]
    [InlineData("1GB", "GB")]
    [InlineData("2TB", "TB")]
    [InlineData("64kbit", "kbit")]
    public void UnknownUnits_AreNamed_WithTheUnitsThatWork(string text, string unit)
    {
        Assert.False(ByteSize.TryParse(text, out _, out string problem));
        Assert.StartsWith($"unsupported unit '{unit}':", problem);
        Assert.Contains("B, KB (KiB) or MB (MiB)", problem);
        Assert.Contains("1 KB = 1,024 bytes", problem);
        Assert.False(ByteSize.TryParse(text, out _));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("1e3")]
    public void NonSizes_AreNotASize_WithAnExample(string? text)
    {
        Assert.False(ByteSize.TryParse(text, out long bytes, out string problem));
        Assert.Equal(0, bytes);
        Assert.StartsWith("not a size", problem);
        Assert.Contains("64KB", problem);
    }

    [Fact]
    public void SizesAbove1TiB_AreTooLarge()
    {
        Assert.False(ByteSize.TryParse("2000000MB", out _, out string problem));
        Assert.StartsWith("too large", problem);
    }
}
