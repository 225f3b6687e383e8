// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TinyML.Tests;

/// <summary>
/// TFLM's int16 integration suite (../shared/seanet, README.md there): single-layer 16x8 models with TFLM's
/// inputs and outputs. Cases are discovered from the folder (held-back cases join the same way); each one either
/// runs byte-identically or is refused as <see cref="NotYetSupported"/> says.
/// </summary>
public static class SeanetCases
{
    /// <summary>The seanet folder.</summary>
    public static string Root => Path.Combine(SharedData.Root, "seanet");

    /// <summary>Every case, named <c>seanet_&lt;op&gt;_&lt;n&gt;</c>, as a <see cref="GoldenCase"/> (model.tflite, input_1.bin,
    /// input_1_b.bin, output_1.bin).</summary>
    public static IReadOnlyList<GoldenCase> All() =>
        Directory.GetDirectories(Root).Where(d => File.Exists(Path.Combine(d, "model.tflite")))
            .Select(d => new GoldenCase(Path.GetFileName(d)!, Path.Combine(d, "model.tflite"), d))
            .OrderBy(c => c.Name, StringComparer.Ordinal).ToList();

    /// <summary>The operator part of a case name: <c>seanet_leaky_relu_3</c> → <c>leaky_relu</c>.</summary>
    public static string Operator(string name)
    {
        if (!name.StartsWith("seanet_", StringComparison.Ordinal)) throw new ArgumentException(name);
        string rest = name.Substring("seanet_".Length);
        return rest.Substring(0, rest.LastIndexOf('_'));
    }

    /// <summary>
    /// What we do not run yet, by operator (every case of it, held-back ones too) or by case name (which wins): the
    /// diagnostic id every error of its refusal has and a part of each message. SeanetConformanceTests'
    /// refusal test fails when support lands, until the entry leaves this list and the cases join the byte-identical
    /// test.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, NotYetSupportedModel> NotYetSupported = new Dictionary<string, NotYetSupportedModel>
    {
        // Empty: every operator of the suite runs. A held-back case we refuse would be listed here by name.
    };

    /// <summary>The refusal a case is expected to end in, or null if it must run.</summary>
    public static NotYetSupportedModel? Refusal(string name) =>
        NotYetSupported.TryGetValue(name, out var byCase) ? byCase
        : NotYetSupported.TryGetValue(Operator(name), out var byOperator) ? byOperator : null;

    /// <summary>The cases that must run byte-identically.</summary>
    public static IReadOnlyList<GoldenCase> Supported() => All().Where(c => Refusal(c.Name) is null).ToList();
}
