// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Lowering;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// ONNX's own backend node tests (../shared/onnx/node): each model imported, planned and run on the host, its outputs
/// compared with the test's as ONNX's runner compares them (integers exactly, floats within rtol 1e-3 and atol 1e-7).
/// Many tests feed weights, shapes, axes or scales as graph inputs; where the importer needs those constant, the
/// harness binds inputs after the first to the test's own data as initializers, as a deployed model carries them.
/// A test we do not support must be refused with a TML error, never run to a wrong answer; the list of those is
/// <see cref="OnnxNodeCases.NotYetSupported"/>, and a refusal test fails when support lands.
/// </summary>
public class OnnxNodeTests
{
    public static TheoryData<string> Supported()
    {
        var data = new TheoryData<string>();
        foreach (var name in OnnxCases.NodeTests().Where(n => !OnnxNodeCases.NotYetSupported.ContainsKey(n))) data.Add(name);
        return data;
    }

    public static TheoryData<string> Refused()
    {
        var data = new TheoryData<string>();
        foreach (var name in OnnxNodeCases.NotYetSupported.Keys.OrderBy(n => n, StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    [Fact]
    public void RefusalList_NamesOnlyExistingTests()
    {
        var all = OnnxCases.NodeTests();
        Assert.True(all.Count >= 300, "the ONNX node tests are missing");
        Assert.Empty(OnnxNodeCases.NotYetSupported.Keys.Except(all));
    }

    [Theory]
    [MemberData(nameof(Supported))]
    public void NodeTest_MatchesOnnxOutputs(string name)
    {
        var outcome = OnnxNodeRun.Evaluate(name, LoweringOptions.Default);
        Assert.True(outcome.Kind == OnnxNodeRun.Kind.Passed, $"{name}: {outcome.Kind}: {outcome.Detail}");
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void NodeTest_NotYetSupported_IsRefusedWithItsReason(string name)
    {
        var outcome = OnnxNodeRun.Evaluate(name, LoweringOptions.Default);
        Assert.True(outcome.Kind == OnnxNodeRun.Kind.Refused, $"{name}: {outcome.Kind}: {outcome.Detail} (remove it from OnnxNodeCases.NotYetSupported if it now runs)");
        Assert.Matches("^TML[0-9]{4}: ", outcome.Detail);
        Assert.Contains(OnnxNodeCases.NotYetSupported[name], outcome.Detail);
    }
}
