// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>Tests that switch the host SIMD path: run alone, so that no other test sees a path change mid-run.</summary>
[CollectionDefinition(nameof(HostPathCollection), DisableParallelization = true)]
public sealed class HostPathCollection { }

/// <summary>
/// The host SIMD paths (tml_host_path, docs/kernels.md): the library picks the best path the CPU has, and every path
/// computes TFLM's bytes on every golden model and op case. The conformance tests run the default path; here the
/// others run the same cases, and the C tests (test_ref_diff) compare each path with the reference on random shapes.
/// </summary>
[Collection(nameof(HostPathCollection))]
public sealed class HostPathTests
{
    /// <summary>The best path the CPU has, as .NET's own feature detection sees it.</summary>
    private static HostKernelPath Expected() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 when System.Runtime.Intrinsics.X86.Avx2.IsSupported => HostKernelPath.Avx2,
        Architecture.X64 when System.Runtime.Intrinsics.X86.Sse41.IsSupported => HostKernelPath.Sse41,
        Architecture.Arm64 when System.Runtime.Intrinsics.Arm.Dp.IsSupported => HostKernelPath.NeonDot,
        Architecture.Arm64 => HostKernelPath.Neon,
        _ => HostKernelPath.Portable,
    };

    /// <summary>Every path the CPU has besides the default one.</summary>
    private static HostKernelPath[] OtherPaths() => Expected() switch
    {
        HostKernelPath.Avx2 => new[] { HostKernelPath.Sse41, HostKernelPath.Portable },
        HostKernelPath.NeonDot => new[] { HostKernelPath.Neon, HostKernelPath.Portable },
        HostKernelPath.Portable => Array.Empty<HostKernelPath>(),
        _ => new[] { HostKernelPath.Portable },
    };

    [Fact]
    public void HostPath_IsTheBestTheCpuHas()
    {
        Assert.Equal(Expected(), NativeKernels.HostPath);
        Assert.True(NativeKernels.TrySetHostPath(HostKernelPath.Portable));
        Assert.Equal(HostKernelPath.Portable, NativeKernels.HostPath);
        // A path the CPU lacks is refused and changes nothing.
        var foreign = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? HostKernelPath.Avx2 : HostKernelPath.Neon;
        Assert.False(NativeKernels.TrySetHostPath(foreign));
        Assert.Equal(HostKernelPath.Portable, NativeKernels.HostPath);
        Assert.True(NativeKernels.TrySetHostPath(Expected()));
        Assert.Equal(Expected(), NativeKernels.HostPath);
    }

    public static TheoryData<string> Paths()
    {
        var data = new TheoryData<string>();
        foreach (var p in OtherPaths()) data.Add(p.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void EveryGoldenCase_IsByteIdentical_OnEachOtherPath(string path)
    {
        Assert.True(NativeKernels.TrySetHostPath(Enum.Parse<HostKernelPath>(path)), $"the CPU has no {path} path");
        try
        {
            var cases = GoldenCase.Supported();
            Assert.True(cases.Count > 100, "the golden models and op cases are missing");
            foreach (var gc in cases) ConformanceTests.AssertByteIdentical(gc, LoweringOptions.Default);
        }
        finally
        {
            NativeKernels.TrySetHostPath(Expected());
        }
    }

    [Fact]
    public void Run_AllocatesNothing()
    {
        var plan = Lowerer.Lower(TfliteReader.ReadFile(SharedData.Model("kws")).Value!).Value!;
        using var executor = new PlanExecutor(plan);
        File.ReadAllBytes(Path.Combine(SharedData.Root, "golden", "kws", "input_1.bin")).CopyTo(executor.Input(0));
        executor.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) executor.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
