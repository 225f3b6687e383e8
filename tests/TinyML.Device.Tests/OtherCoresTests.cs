// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Tests;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// The golden models and op cases on the other cores: Cortex-M0+ (Armv6-M code on mps2-an385's Cortex-M3), Cortex-M3 (no FPU:
/// float models in software floating point), Cortex-M33 (mps2-an505, Secure) and Cortex-M55 (mps3-an547, MVE
/// enabled, auto-vectorised by GCC). Same bar as M4/M7.
/// </summary>
public sealed class OtherCoresTests
{
    public static TheoryData<string, string> GoldenModels() => DeviceConformanceTests.Matrix(
        GoldenCase.All().Where(c => !c.Name.StartsWith("ops/", StringComparison.Ordinal)), CortexM.M0Plus, CortexM.M3, CortexM.M33, CortexM.M55);

    public static TheoryData<string, string> OpCases() => DeviceConformanceTests.Matrix(
        GoldenCase.All().Where(c => c.Name.StartsWith("ops/", StringComparison.Ordinal)), CortexM.M0Plus, CortexM.M3, CortexM.M33, CortexM.M55);

    [Theory]
    [MemberData(nameof(GoldenModels))]
    public void GoldenModel_IsByteIdentical(string caseName, string core) => DeviceConformanceTests.AssertMatchesGolden(caseName, CortexM.Get(core));

    [Theory]
    [MemberData(nameof(OpCases))]
    public void OpCase_IsByteIdentical(string caseName, string core) => DeviceConformanceTests.AssertMatchesGolden(caseName, CortexM.Get(core));
}
