// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Tests;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// TFLM's int16 integration suite (../shared/seanet) in emitted C under QEMU, byte-identical with TFLM's
/// output_1.bin: every case on Cortex-M4 (a DSP core), and on Cortex-M0+ (no DSP, no 64-bit multiply instruction)
/// the first two of each operator by name.
/// </summary>
public sealed class SeanetDeviceTests
{
    public static TheoryData<string, string> Sample()
    {
        var data = new TheoryData<string, string>();
        foreach (var group in SeanetCases.Supported().GroupBy(c => SeanetCases.Operator(c.Name)).OrderBy(g => g.Key, StringComparer.Ordinal))
            foreach (var (c, k) in group.Select((c, k) => (c, k)))
            {
                data.Add(c.Name, CortexM.M4.Name);
                if (k < 2) data.Add(c.Name, CortexM.M0Plus.Name);
            }
        return data;
    }

    [Fact]
    public void Sample_HasEveryCaseOnM4_AndEveryOperatorOnM0Plus()
    {
        var rows = Sample().Select(row => (Case: (string)row[0], Core: (string)row[1])).ToList();
        Assert.Equal(SeanetCases.Supported().Select(c => c.Name).OrderBy(n => n, StringComparer.Ordinal),
            rows.Where(r => r.Core == CortexM.M4.Name).Select(r => r.Case).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(SeanetCases.Supported().Select(c => SeanetCases.Operator(c.Name)).Distinct().OrderBy(o => o, StringComparer.Ordinal),
            rows.Where(r => r.Core == CortexM.M0Plus.Name).Select(r => SeanetCases.Operator(r.Case)).Distinct().OrderBy(o => o, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Sample))]
    public void SeanetCase_IsByteIdenticalOnTheDevice(string caseName, string core) =>
        DeviceConformanceTests.AssertMatchesGolden(caseName, CortexM.Get(core));
}
