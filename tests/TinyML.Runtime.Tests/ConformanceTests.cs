// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The bar: for every golden model and every op case in ../shared, our host output is byte-identical to TFLM's
/// reference kernels. Float cases are compared bit for bit too: the kernels keep TFLM's order of summation and are
/// built without floating-point contraction (-ffp-contract=off), on the same x86-64 arithmetic the goldens used.
/// </summary>
public class ConformanceTests
{
    // Listed by name so that no case is skipped silently; CaseList_MatchesSharedFolders keeps the lists complete.
    public static readonly string[] Models =
    {
        "ad", "ad_float", "hello_float", "hello_int8", "ic_resnet", "ic_resnet_float", "keyword_scrambled", "keyword_scrambled_8bit", "kws",
        "micro_speech", "mnist_lstm_float", "mnist_lstm_int8", "simple_add", "toycar",
    };

    /// <summary>Memory technique sets: each one alone, all of them (the default), and none; and the default plans a
    /// Cortex-M55 build gets (weights packed in Helium's 16-byte chunks) and a Cortex-M4 build gets (weights widened to
    /// int16), which the host's portable kernels run too.</summary>
    public static readonly IReadOnlyDictionary<string, LoweringOptions> Techniques = new Dictionary<string, LoweringOptions>
    {
        ["none"] = LoweringOptions.None,
        ["inplace-depthwise"] = LoweringOptions.None with { InPlaceDepthwise = true },
        ["inplace-elementwise"] = LoweringOptions.None with { InPlaceElementwise = true },
        ["reorder"] = LoweringOptions.None with { Reorder = true },
        ["patches"] = LoweringOptions.None with { Patch = PatchMode.MinimumPeak },
        ["all"] = LoweringOptions.Default,
        ["all, cortex-m55 plan"] = LoweringOptions.Default with { Target = "cortex-m55" },
        ["all, cortex-m4 plan"] = LoweringOptions.Default with { Target = "cortex-m4" },
    };

    public static TheoryData<string, string> ModelData()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in Models) foreach (var t in Techniques.Keys) data.Add(m, t);
        return data;
    }

    public static TheoryData<string, string> OpData()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in SharedData.OpCases()) foreach (var t in Techniques.Keys) data.Add(m, t);
        return data;
    }

    [Fact]
    public void CaseList_MatchesSharedFolders()
    {
        var golden = Directory.GetDirectories(Path.Combine(SharedData.Root, "golden")).Select(Path.GetFileName).OrderBy(n => n);
        // Every golden model is run (Models), refused as TFLM refuses it (WithoutGolden), or not run yet (NotYetSupported).
        Assert.Equal(golden, Models.Concat(GoldenCase.WithoutGolden.Keys).Concat(GoldenCase.NotYetSupported.Keys).OrderBy(n => n));
        Assert.Equal(Models.OrderBy(n => n), GoldenCase.Supported().Where(c => !c.Name.StartsWith("ops/", StringComparison.Ordinal)).Select(c => c.Name));
        Assert.True(SharedData.OpCases().Count >= 100, "the op cases are missing");
    }

    [Theory]
    [MemberData(nameof(ModelData))]
    public void GoldenModel_IsByteIdentical(string name, string techniques) =>
        AssertByteIdentical(GoldenCase.All().Single(c => c.Name == name), Techniques[techniques]);

    [Theory]
    [MemberData(nameof(OpData))]
    public void OpCase_IsByteIdentical(string name, string techniques) =>
        AssertByteIdentical(GoldenCase.All().Single(c => c.Name == "ops/" + name), Techniques[techniques]);

    [Fact]
    public void Techniques_AreExercisedByTheSharedCases()
    {
        // The parameterized runs above prove something only if the techniques change some plans.
        // (No shared case gains from reordering: their branches are too short. MemoryTechniqueTests covers it.)
        int depthwise = 0, elementwise = 0;
        foreach (var gc in GoldenCase.Supported())
        {
            var plan = Lower(gc, LoweringOptions.Default);
            depthwise += plan.Calls.Count(c => c.Kernel == "tml_depthwise_conv_s8_inplace");
            elementwise += plan.Memory!.InPlace.Count(p => p.Kind == TinyML.Compiler.Planning.InPlaceKind.Elementwise);
        }
        Assert.True(depthwise > 0, "no shared case runs a depthwise convolution in place");
        Assert.True(elementwise > 0, "no shared case runs an element-wise operator in place");
    }

    [Fact]
    public void HybridModel_IsRefusedWithTML1008()
    {
        var lowered = Lowerer.Lower(TfliteReader.ReadFile(SharedData.Model("kws_float")).Value!);
        Assert.Null(lowered.Value);
        Assert.All(lowered.Diagnostics, d => Assert.Equal("TML1008", d.Id));
    }

    [Theory]
    [InlineData("keyword_scrambled")]       // int16 SVDF state
    [InlineData("keyword_scrambled_8bit")]  // int8 SVDF state: TFLM resets it to its zero point
    [InlineData("mnist_lstm_int8")]         // LSTM: int8 output state and int16 cell state
    [InlineData("mnist_lstm_float")]        // LSTM: float states
    public void StatefulModel_StateCarriesAcrossInvocations(string name)
    {
        // Its output saturates on random inputs (both goldens are the same 8 bytes), so the operators' outputs are
        // observed: the first run equals TFLM's tensors (a first invoke after zeroed state); the same input run again
        // sees the state the first run left and must differ; after a reset it equals TFLM's tensors again.
        var gc = GoldenCase.All().Single(c => c.Name == name);
        var model = TfliteReader.ReadFile(gc.Model).Value!;
        var graph = model.Main;
        var observed = graph.Operators.SelectMany(o => o.Outputs).Distinct().ToArray();
        var view = new TinyML.Compiler.Ir.Graph { Name = graph.Name, Inputs = graph.Inputs, Outputs = observed };
        view.Tensors.AddRange(graph.Tensors);
        view.Operators.AddRange(graph.Operators);
        var copy = new TinyML.Compiler.Ir.Model { Version = model.Version };
        copy.Subgraphs.Add(view);
        var plan = Lowerer.Lower(copy, gc.Model).Value!;
        Assert.True(plan.StateBytes > 0);

        var tensors = Path.Combine(Path.GetDirectoryName(gc.Output(1))!, "tensors_1");
        var golden = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(tensors, "manifest.json"))).RootElement.GetProperty("tensors")
            .EnumerateArray().Where(e => e.GetProperty("file").ValueKind == System.Text.Json.JsonValueKind.String) // the LSTM's empty intermediates have none
            .ToDictionary(e => e.GetProperty("index").GetInt32(), e => File.ReadAllBytes(Path.Combine(tensors, e.GetProperty("file").GetString()!)));
        Assert.All(observed, t => Assert.True(golden.ContainsKey(t), $"TFLM's tensors lack {t}"));
        using var executor = new PlanExecutor(plan);
        byte[][] Run(int seed = 1)
        {
            File.ReadAllBytes(gc.Inputs(seed)[0]).CopyTo(executor.Input(0));
            executor.Run();
            return observed.Select((_, i) => executor.Output(i).ToArray()).ToArray();
        }
        bool AllEqualTflm(byte[][] values) => observed.Select((t, i) => golden[t].AsSpan().SequenceEqual(values[i])).All(b => b);

        Assert.True(AllEqualTflm(Run()), "the first invoke differs from TFLM's");
        Run(2);
        Run(3);
        // keyword_scrambled_8bit's operator outputs saturate on these inputs whatever its state holds, so it does not
        // show the carried state here; test_svdf.c compares the int8 state with TFLM's, invoke after invoke. The LSTM
        // models' final outputs do not change either, but the LSTM's own output does.
        if (name != "keyword_scrambled_8bit")
            Assert.False(AllEqualTflm(Run()), "an invoke without a reset saw no state");
        executor.ResetState();
        Assert.True(AllEqualTflm(Run()), "an invoke after ResetState differs from TFLM's first invoke");
    }

    internal static CompiledPlan Lower(GoldenCase gc, LoweringOptions? options = null)
    {
        var read = TfliteReader.ReadFile(gc.Model);
        Assert.Empty(read.Diagnostics);
        var lowered = Lowerer.Lower(read.Value!, gc.Model, options ?? LoweringOptions.Default);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    internal static void AssertByteIdentical(GoldenCase gc, LoweringOptions options)
    {
        // Through the container, as the SDK and tinyml run load it.
        var plan = PlanContainer.Read(PlanContainer.Write(Lower(gc, options))).Value!;
        using var executor = new PlanExecutor(plan);
        var vectors = gc.Vectors();
        Assert.NotEmpty(vectors);
        foreach (int k in vectors)
        {
            executor.ResetState();
            var inputs = gc.Inputs(k);
            Assert.Equal(plan.Inputs.Count, inputs.Count);
            for (int i = 0; i < inputs.Count; i++)
            {
                var bytes = File.ReadAllBytes(inputs[i]);
                Assert.Equal(plan.Inputs[i].Bytes, bytes.Length);
                bytes.CopyTo(executor.Input(i));
            }
            executor.Run();
            byte[] actual = Enumerable.Range(0, plan.Outputs.Count).SelectMany(i => executor.Output(i).ToArray()).ToArray();
            byte[] expected = File.ReadAllBytes(gc.Output(k));
            Assert.Equal(expected.Length, actual.Length);
            var mismatches = Enumerable.Range(0, expected.Length).Where(i => expected[i] != actual[i]).ToList();
            Assert.True(mismatches.Count == 0,
                $"{gc.Name} vector {k}: {mismatches.Count} of {expected.Length} bytes differ; first at " +
                string.Join(", ", mismatches.Take(10).Select(i => $"[{i}] expected {expected[i]} got {actual[i]}")));
        }
    }
}
