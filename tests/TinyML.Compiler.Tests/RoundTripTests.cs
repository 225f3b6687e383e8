// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>Read, write, read reproduces an equal model, and writing is deterministic.</summary>
public class RoundTripTests
{
    public static IEnumerable<object[]> AllModelFiles() =>
        SharedData.ModelNames().Select(n => new object[] { Path.Combine("models", n + ".tflite") })
            .Concat(SharedData.OpCases().Select(c => new object[] { Path.Combine("ops", c, "model.tflite") }))
            .Concat(SharedData.RefusedCases().Select(c => new object[] { Path.Combine("ops", "refused", c, "model.tflite") }));

    [Theory]
    [MemberData(nameof(AllModelFiles))]
    public void ReadWriteRead_GivesAnEqualModel(string relativePath)
    {
        var original = TfliteReader.ReadFile(Path.Combine(SharedData.Root, relativePath));
        Assert.Empty(original.Diagnostics);
        byte[] written = TfliteWriter.Write(original.Value!);
        var reread = TfliteReader.Read(written);
        Assert.Empty(reread.Diagnostics);
        var differences = ModelComparer.Differences(original.Value!, reread.Value!);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
        Assert.Equal(written, TfliteWriter.Write(reread.Value!));
    }

    [Fact]
    public void Writer_AlignsConstantDataTo16Bytes()
    {
        var model = TfliteReader.ReadFile(SharedData.Model("kws")).Value!;
        byte[] written = TfliteWriter.Write(model);
        var reread = TfliteReader.Read(written).Value!;
        var constants = reread.Main.Tensors.Where(t => t.IsConstant).ToList();
        Assert.NotEmpty(constants);
        foreach (var tensor in constants)
        {
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(tensor.Data!.Value, out var segment));
            Assert.True(segment.Offset % 16 == 0, $"{tensor.Name} at file offset {segment.Offset}");
        }
    }

    [Fact]
    public void ComparerReportsDifferences()
    {
        var a = TfliteReader.ReadFile(SharedData.Model("hello_int8")).Value!;
        var b = TfliteReader.Read(TfliteWriter.Write(a)).Value!;
        b.Main.Tensors[1].Name = "renamed";
        b.Main.Operators[0].Options = new FullyConnectedOptions(Activation.Relu6, 0, false, false);
        var differences = ModelComparer.Differences(a, b);
        Assert.Contains(differences, d => d.Contains("tensor 1") && d.Contains("name"));
        Assert.Contains(differences, d => d.Contains("operator 0") && d.Contains("options"));
    }
}
