// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TinyML.Tests;

/// <summary>A conformance case: a model and its TFLM reference inputs and outputs.</summary>
public sealed record GoldenCase(string Name, string Model, string Folder)
{
    /// <summary>The input files of vector k (graph inputs in order: input_k.bin, input_k_b.bin, input_k_c.bin).</summary>
    public IReadOnlyList<string> Inputs(int k) => new[] { "", "_b", "_c" }
        .Select(suffix => Path.Combine(Folder, $"input_{k}{suffix}.bin")).Where(File.Exists).ToList();

    /// <summary>The golden output file of vector k.</summary>
    public string Output(int k) => Path.Combine(Folder, $"output_{k}.bin");

    /// <summary>The vector numbers the case has.</summary>
    public IReadOnlyList<int> Vectors() => Enumerable.Range(1, 9).Where(k => File.Exists(Output(k))).ToList();

    /// <summary>Every golden model (../shared/golden) and every op case (../shared/ops) by name.</summary>
    public static IReadOnlyList<GoldenCase> All() =>
        Directory.GetDirectories(Path.Combine(SharedData.Root, "golden")).Select(d => Path.GetFileName(d)!)
            .Select(n => new GoldenCase(n, SharedData.Model(n), Path.Combine(SharedData.Root, "golden", n)))
            .Concat(SharedData.OpCases().Select(c => new GoldenCase("ops/" + c, Path.Combine(SharedData.Root, "ops", c, "model.tflite"), Path.Combine(SharedData.Root, "ops", c))))
            .OrderBy(c => c.Name).ToList();

    /// <summary>Cases without golden outputs, each with the reason (TFLM refused the model).</summary>
    public static readonly IReadOnlyDictionary<string, string> WithoutGolden = new Dictionary<string, string>
    {
        ["kws_float"] = "hybrid model (int8 weights, float activations): TFLM refuses it, and so do we (TML1008)",
    };
}
