// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

public class RuntimeTests
{
    [Fact]
    public void NativeLibrary_HasTheExpectedAbiVersion() => Assert.Equal(NativeKernels.ExpectedAbiVersion, NativeKernels.AbiVersion());

    [Fact]
    public void NativeLibraryNotFound_SaysWhichPlatformsThePackageCarries()
    {
        // The list comes from the build (TinyMLNativeRuntimeIdentifiers), the same one the SDK's TML0010 warning names.
        Assert.Equal(new[] { "linux-x64", "linux-arm64", "linux-arm", "win-x64", "win-arm64", "osx-x64", "osx-arm64" }, NativeKernels.PackagedRuntimeIdentifiers());
        string elsewhere = NativeKernels.NotFoundMessage("freebsd-x64", new[] { "/app/runtimes/freebsd-x64/native/libtinyml_kernels.so" });
        Assert.Contains("the native kernel library for freebsd-x64 was not found (tried: /app/runtimes/freebsd-x64/native/libtinyml_kernels.so)", elsewhere);
        Assert.Contains("TinyML.Runtime carries native kernels for linux-x64, linux-arm64, linux-arm, win-x64, win-arm64, osx-x64, osx-arm64, not for freebsd-x64", elsewhere);
        Assert.Contains("set TINYML_NATIVE_LIBRARY", elsewhere);
        string carried = NativeKernels.NotFoundMessage("linux-x64", new[] { "/app/runtimes/linux-x64/native/libtinyml_kernels.so" });
        Assert.Contains("the package's runtimes folder did not reach the application", carried);
    }

    [Fact]
    public void EveryKernelInTheSignatureTable_IsExported()
    {
        NativeKernels.EnsureLoaded();
        foreach (string kernel in KernelSignatures.Kernels) Assert.NotEqual(IntPtr.Zero, NativeKernels.Export(kernel));
    }

    [Fact]
    public void PlanContainer_RoundTripsAndIsDeterministic()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"));
        byte[] bytes = PlanContainer.Write(plan);
        var read = PlanContainer.Read(bytes);
        Assert.Empty(read.Diagnostics);
        Assert.Equal(bytes, PlanContainer.Write(read.Value!));
        Assert.Equal(plan.Calls, read.Value!.Calls);
        Assert.Equal(bytes, PlanContainer.Write(ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"))));
    }

    [Fact]
    public void PlanContainer_CorruptBytesGiveTML3010()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "hello_int8"));
        byte[] bytes = PlanContainer.Write(plan);
        Assert.Equal("TML3010", Assert.Single(PlanContainer.Read(bytes.Take(bytes.Length / 2).ToArray()).Diagnostics).Id);
        Assert.Equal("TML3010", Assert.Single(PlanContainer.Read(new byte[] { 1, 2, 3 }).Diagnostics).Id);
        var random = new Random(3);
        for (int i = 0; i < 500; i++)
        {
            var mutated = (byte[])bytes.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            var result = PlanContainer.Read(mutated); // must not throw
            Assert.True(result.Value is not null || result.HasErrors);
        }
    }

    [Fact]
    public void RESHAPE_IsAnAlias_NotACall()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"));
        Assert.DoesNotContain(plan.Calls, c => c.OperatorType == "RESHAPE");
        Assert.Equal(12, plan.Calls.Count); // 13 operators, one of them RESHAPE
    }

    [Fact]
    public void OutputViews_MatchThePlannedArena()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "ic_resnet"));
        Assert.Equal(plan.ArenaBytes, MemoryPlanner.Align(plan.ArenaBytes));
        using var executor = new PlanExecutor(plan);
        Assert.Equal(32 * 32 * 3, executor.Input(0).Length);
        Assert.Equal(10, executor.Output(0).Length);
        executor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => executor.Run());
    }
}
