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

    /// <summary>
    /// The one list of shared models that TFLM runs (they have golden outputs) but we do not run yet: each is refused
    /// with exactly <see cref="NotYetSupportedModel.Code"/> (NotYetSupported tests in Compiler.Tests and Cli.Tests
    /// check it), and the conformance tests take <see cref="Supported"/>. When support lands, the refusal test fails
    /// until the model leaves this list and joins every conformance test.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, NotYetSupportedModel> NotYetSupported = new Dictionary<string, NotYetSupportedModel>
    {
        // Empty: every shared model with TFLM goldens runs (mnist_lstm_int8 and mnist_lstm_float since issue 13).
    };

    /// <summary>Every case we must run byte-identically: <see cref="All"/> without the cases TFLM refuses
    /// (<see cref="WithoutGolden"/>) and the models we do not run yet (<see cref="NotYetSupported"/>).</summary>
    public static IReadOnlyList<GoldenCase> Supported() =>
        All().Where(c => !WithoutGolden.ContainsKey(c.Name) && !NotYetSupported.ContainsKey(c.Name)).ToList();

    /// <summary>The models in ../shared/models that we run: without <see cref="WithoutGolden"/> and <see cref="NotYetSupported"/>.</summary>
    public static IReadOnlyList<string> RunnableModelNames() =>
        SharedData.ModelNames().Where(n => !WithoutGolden.ContainsKey(n) && !NotYetSupported.ContainsKey(n)).ToList();
}

/// <summary>A shared model we do not run yet: the diagnostic id it is refused with, a part of that diagnostic's
/// message, and why (the issue that adds it).</summary>
public sealed record NotYetSupportedModel(string Code, string Message, string Reason);
