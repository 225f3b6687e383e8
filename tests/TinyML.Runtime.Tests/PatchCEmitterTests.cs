// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>The C emitter runs patched plans: the emitted C of the golden models where patches apply, compiled on the host, gives the golden bytes.</summary>
public sealed class PatchCEmitterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-patch-c-{Guid.NewGuid():N}");

    public PatchCEmitterTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("ic_resnet")]
    [InlineData("ic_resnet_float")]
    public void PatchedPlan_EmittedC_IsByteIdenticalToTheGolden(string caseName)
    {
        var gc = GoldenCase.All().Single(c => c.Name == caseName);
        var plan = PatchTests.Lower(gc, LoweringOptions.MinimumMemory);
        Assert.True(plan.Patches!.Applied, plan.Patches.Reason);
        var (exe, source) = CEmitterHostTests.BuildHostProgram(plan, _dir);
        Assert.Contains("tml_copy_window(", source.Source);
        CEmitterHostTests.AssertGivesTheGolden(exe, gc, _dir);
    }
}
