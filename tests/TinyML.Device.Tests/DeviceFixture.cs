// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>
/// Shared by every device test: one kernel/runtime cache per core for the whole run (build/device-cache, kept
/// between runs; its key is a hash of the sources, flags and compiler), and a scratch folder for the builds.
/// </summary>
public static class Device
{
    /// <summary>The compiled kernels and runtime, per core and source hash.</summary>
    public static string Cache { get; } = Path.Combine(SharedData.Repo, "build", "device-cache");

    private static readonly Lazy<string> Scratch = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tml-device-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        return dir;
    });

    private static readonly Lazy<QemuRunner> LazyRunner = new(() => new QemuRunner());

    /// <summary>The QEMU runner (PATH).</summary>
    public static QemuRunner Runner => LazyRunner.Value;

    /// <summary>Options for a build into a fresh folder under the scratch folder.</summary>
    public static DeviceBuildOptions Options(CortexMCore core, string label, bool optimizeForSize = false) => new()
    {
        Core = core,
        OptimizeForSize = optimizeForSize,
        CacheDirectory = Cache,
        OutputDirectory = Path.Combine(Scratch.Value, $"{label.Replace('/', '_')}-{core.Name}{(optimizeForSize ? "-Os" : "")}-{Guid.NewGuid():N}"),
    };

    private static readonly ConcurrentDictionary<(string Model, string Target), ExecutionPlan> Plans = new();

    /// <summary>The execution plan of a golden case (lowered once per run), for the host (which a device build
    /// accepts: kernels then take their paths that need no scratch) or for <paramref name="core"/>, as
    /// <c>tinyml compile --target</c> makes it.</summary>
    public static ExecutionPlan Plan(GoldenCase gc, CortexMCore? core = null) => Plans.GetOrAdd((gc.Model, core?.Name ?? ExecutionPlan.HostTarget), key =>
    {
        var read = TfliteReader.ReadFile(key.Model);
        Assert.Empty(read.Diagnostics);
        var lowered = Lowerer.Lower(read.Value!, key.Model, LoweringOptions.Default with { Target = key.Target });
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    });

    /// <summary>A golden case by name (a model in ../shared/golden, or ops/&lt;case&gt;).</summary>
    public static GoldenCase Case(string name) =>
        name.StartsWith("seanet_", System.StringComparison.Ordinal) ? SeanetCases.All().Single(c => c.Name == name) : GoldenCase.All().Single(c => c.Name == name);

    /// <summary>
    /// A test model (one input) written and read back as a file, lowered, built for the core and run on every input
    /// vector from reset state (the harness resets it before each); each output must equal
    /// <paramref name="reference"/>'s bytes for its input.
    /// </summary>
    public static void AssertMatchesReference(TinyML.Compiler.Ir.Model model, string core, string label,
        IReadOnlyList<byte[]> inputs, Func<byte[], byte[]> reference, Xunit.Abstractions.ITestOutputHelper output)
    {
        var lowered = Lowerer.Lower(TfliteReader.Read(TfliteWriter.Write(model)).Value!);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        var image = DeviceBuild.Build(lowered.Value!, Options(CortexM.Get(core), label));
        var results = Runner.Run(image, inputs.Select(i => (IReadOnlyList<byte[]>)new[] { i }).ToList());
        Assert.Equal(inputs.Count, results.Count);
        for (int v = 0; v < inputs.Count; v++)
            Assert.True(reference(inputs[v]).AsSpan().SequenceEqual(Assert.Single(results[v].Outputs)),
                $"{label} on {core}, vector {v}: differs from the TFLM reference");
        output.WriteLine($"{label} on {core}: {inputs.Count} vectors byte-identical");
    }

    /// <summary>The input vectors of a golden case, in vector order.</summary>
    public static IReadOnlyList<IReadOnlyList<byte[]>> Vectors(GoldenCase gc) =>
        gc.Vectors().Select(k => (IReadOnlyList<byte[]>)gc.Inputs(k).Select(File.ReadAllBytes).ToList()).ToList();
}
