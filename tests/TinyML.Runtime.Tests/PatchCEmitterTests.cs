// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Emit;
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
        const string name = "model";
        var source = CEmitter.Emit(plan, name);
        Assert.Contains("tml_copy_window(", source.Source);
        File.WriteAllText(Path.Combine(_dir, source.HeaderName), source.Header);
        File.WriteAllText(Path.Combine(_dir, source.SourceName), source.Source);
        File.WriteAllText(Path.Combine(_dir, "main.c"), CEmitterHostTests.Harness(name, plan));
        string exe = Path.Combine(_dir, "model");
        var compile = CEmitterHostTests.Run("cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
            "-I", Path.Combine(SharedData.Repo, "src", "TinyML.Kernels.Native", "include"), "-I", _dir,
            Path.Combine(_dir, "model.c"), Path.Combine(_dir, "main.c"), Path.Combine(SharedData.Repo, "build", "native", "libtinyml_kernels.a"), "-lm", "-o", exe);
        Assert.True(compile.Code == 0, compile.Output);
        foreach (int k in gc.Vectors())
        {
            string output = Path.Combine(_dir, $"out_{k}.bin");
            var run = CEmitterHostTests.Run(exe, gc.Inputs(k).Append(output).ToArray());
            Assert.True(run.Code == 0, $"vector {k}: exit {run.Code} {run.Output}");
            Assert.Equal(File.ReadAllBytes(gc.Output(k)), File.ReadAllBytes(output));
        }
    }
}
