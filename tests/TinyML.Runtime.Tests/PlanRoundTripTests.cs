// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// A plan read back from its container equals the plan written, field by field, and the plan's per-call MACs add up
/// to the model's MACs plus what patch-based inference recomputes.
/// </summary>
public class PlanRoundTripTests
{
    public static TheoryData<string> Models() => new(SharedData.ModelNames());

    /// <summary>The default techniques, every technique with the minimum peak (patches on), and a device target.</summary>
    private static readonly LoweringOptions[] Options =
    {
        LoweringOptions.Default,
        MemoryTechniques.Everything(LoweringOptions.MinimumMemory),
        LoweringOptions.Default with { Target = "cortex-m4" },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryPublicPropertyOfThePlan_SurvivesWriteAndRead(string name)
    {
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        foreach (var options in Options)
        {
            var written = Lowerer.Lower(model, null, options).Value;
            if (written is null) return; // refused models: PlanContainerWireTests.MostSharedModelsLower covers how many
            var read = PlanContainer.Read(PlanContainer.Write(written));
            Assert.Empty(read.Diagnostics);
            AssertSamePlan(written, read.Value!);
            Assert.Equal(options.Target, read.Value!.Target);
        }
    }

    /// <summary>
    /// Compares every public property ExecutionPlan declares (by reflection, so a property added later is compared
    /// too): calls with their arguments, struct fields and pointers, constants byte by byte, sizes, tensors, target, MACs.
    /// </summary>
    private static void AssertSamePlan(ExecutionPlan expected, ExecutionPlan actual)
    {
        var properties = typeof(ExecutionPlan).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        Assert.Contains(properties, p => p.Name == nameof(ExecutionPlan.Target));
        Assert.Contains(properties, p => p.Name == nameof(ExecutionPlan.Macs));
        foreach (var property in properties)
            AssertDeepEqual(property.GetValue(expected), property.GetValue(actual), property.Name);
    }

    private static void AssertDeepEqual(object? expected, object? actual, string path)
    {
        if (expected is IEnumerable e && expected is not string)
        {
            var left = e.Cast<object?>().ToList();
            var right = ((IEnumerable)actual!).Cast<object?>().ToList();
            Assert.True(left.Count == right.Count, $"{path}: {left.Count} items written, {right.Count} read");
            for (int i = 0; i < left.Count; i++) AssertDeepEqual(left[i], right[i], $"{path}[{i}]");
            return;
        }
        // Records (KernelCall, Arg, Field, Pointer, PlanTensor) compare every member, ValueArrays element-wise.
        Assert.True(Equals(expected, actual), $"{path}: wrote {expected}, read {actual}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ThePlansMacs_AreTheModelsPlusTheRecomputedHalos_WithAndWithoutPatches(string name)
    {
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        long modelMacs = ModelSummary.Of(model).TotalMacs;
        var plain = Lowerer.Lower(model, null, LoweringOptions.Default).Value;
        if (plain is null) return;
        Assert.Equal(modelMacs, plain.Macs);
        Assert.Equal(0, plain.ExtraMacs);
        var patched = Lowerer.Lower(model, null, MemoryTechniques.Everything(LoweringOptions.MinimumMemory)).Value!;
        Assert.Equal(modelMacs + patched.ExtraMacs, patched.Macs);
        // Copies of windows compute nothing.
        Assert.All(patched.Calls.Where(c => c.Kernel == "tml_copy_window"), c => Assert.Equal(0, c.Macs));
    }

    [Fact]
    public void PatchesApplyToSomeSharedModels_SoTheMacsTestCoversRecomputedHalos()
    {
        var patched = SharedData.ModelNames()
            .Select(n => Lowerer.Lower(TfliteReader.ReadFile(SharedData.Model(n)).Value!, null, MemoryTechniques.Everything(LoweringOptions.MinimumMemory)).Value)
            .Where(p => p is { Patches.Applied: true, ExtraMacs: > 0 }).ToList();
        Assert.True(patched.Count >= 2, $"{patched.Count} models with patches and recomputed MACs");
    }

    [Fact]
    public void AVersion1Container_ReadsAsAHostPlanWithoutMacs()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"));
        var read = PlanContainer.Read(ProtobufPlanWriter.Write(plan, formatVersion: 1));
        Assert.Empty(read.Diagnostics);
        Assert.Equal(ExecutionPlan.HostTarget, read.Value!.Target);
        Assert.Equal(0, read.Value.Macs);
        Assert.Equal(plan.Calls.Select(c => c with { Macs = 0 }), read.Value.Calls);
        Assert.Equal(plan.ArenaBytes, read.Value.ArenaBytes);
    }

    [Fact]
    public void ANewerContainer_IsTML3010_SayingToUpdate()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"));
        var diagnostic = Assert.Single(PlanContainer.Read(ProtobufPlanWriter.Write(plan, formatVersion: ExecutionPlan.FormatVersion + 1), "app.tmlmodel").Diagnostics);
        Assert.Equal("TML3010", diagnostic.Id);
        Assert.Contains($"plan format version {ExecutionPlan.FormatVersion + 1}", diagnostic.Message);
        Assert.Contains("written by a newer TinyML.Sdk", diagnostic.Message);
    }
}
