// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Tests;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// TFLM's int16 integration suite (../shared/seanet) in emitted C under QEMU: a sample of the cases that run on the
/// host (SeanetConformanceTests holds every case there), the first two of each operator by name, on Cortex-M4 and
/// Cortex-M0+, byte-identical with TFLM's output_1.bin.
/// </summary>
public sealed class SeanetDeviceTests
{
    public static TheoryData<string, string> Sample()
    {
        var data = new TheoryData<string, string>();
        foreach (var group in SeanetCases.Supported().GroupBy(c => SeanetCases.Operator(c.Name)).OrderBy(g => g.Key, StringComparer.Ordinal))
            foreach (var c in group.Take(2))
                foreach (var core in new[] { CortexM.M4, CortexM.M0Plus })
                    data.Add(c.Name, core.Name);
        return data;
    }

    [Fact]
    public void Sample_HasEveryOperatorThatRuns() =>
        Assert.Equal(SeanetCases.Supported().Select(c => SeanetCases.Operator(c.Name)).Distinct().OrderBy(o => o, StringComparer.Ordinal),
            Sample().Select(row => SeanetCases.Operator((string)row[0])).Distinct().OrderBy(o => o, StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Sample))]
    public void SeanetCase_IsByteIdenticalOnTheDevice(string caseName, string core) =>
        DeviceConformanceTests.AssertMatchesGolden(caseName, CortexM.Get(core));
}
