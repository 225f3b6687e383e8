// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Runtime.Tests;

/// <summary>
/// TFLM's int16 integration suite (../shared/seanet): every case either runs byte-identically with TFLM's
/// output_1.bin on the host (through the container, as ConformanceTests run the golden models and op cases), or
/// is refused exactly as <see cref="SeanetCases.NotYetSupported"/> says.
/// </summary>
public class SeanetConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases() => new(SeanetCases.All().Select(c => c.Name));

    public static TheoryData<string, string> CasesWithTechniques()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in SeanetCases.Supported())
            foreach (var technique in ConformanceTests.Techniques.Keys)
                data.Add(c.Name, technique);
        return data;
    }

    [Fact]
    public void Suite_IsPresent() =>
        Assert.True(SeanetCases.All().Count >= 100, $"../shared/seanet has {SeanetCases.All().Count} cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_RunsByteIdentical_OrIsRefusedAsListed(string name)
    {
        var gc = SeanetCases.All().Single(c => c.Name == name);
        var refusal = SeanetCases.Refusal(name);
        if (refusal is null)
        {
            ConformanceTests.AssertByteIdentical(gc, LoweringOptions.Default);
            return;
        }
        // Refused: every error has the listed code and message. When support lands this fails: take the case (or
        // its operator) out of SeanetCases.NotYetSupported.
        var read = TfliteReader.ReadFile(gc.Model);
        Assert.Empty(read.Diagnostics);
        var lowered = Lowerer.Lower(read.Value!, gc.Model);
        var errors = lowered.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        Assert.True(lowered.Value is null && errors.Count > 0,
            $"{name} is listed as not yet supported ({refusal.Code}: {refusal.Message}) but lowers: take it out of SeanetCases.NotYetSupported");
        Assert.All(errors, d =>
        {
            Assert.Equal(refusal.Code, d.Id);
            Assert.Contains(refusal.Message, d.Message);
        });
    }

    [Theory]
    [MemberData(nameof(CasesWithTechniques))]
    public void Case_IsByteIdentical_WithEachMemoryTechnique(string name, string technique) =>
        ConformanceTests.AssertByteIdentical(SeanetCases.All().Single(c => c.Name == name), ConformanceTests.Techniques[technique]);

    [Fact]
    public void Coverage_PerOperator()
    {
        // Prints runs / refused per operator; the sums hold every case.
        var all = SeanetCases.All();
        foreach (var group in all.GroupBy(c => SeanetCases.Operator(c.Name)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int refused = group.Count(c => SeanetCases.Refusal(c.Name) is not null);
            output.WriteLine($"{group.Key,-15} {group.Count(),3} cases: {group.Count() - refused,3} run, {refused,3} refused");
        }
        output.WriteLine($"{"all",-15} {all.Count,3} cases: {SeanetCases.Supported().Count,3} run, {all.Count - SeanetCases.Supported().Count,3} refused");
        Assert.Equal(all.Count, SeanetCases.Supported().Count + all.Count(c => SeanetCases.Refusal(c.Name) is not null));
    }
}
