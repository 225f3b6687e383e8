// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>
/// Hostile ONNX files through every compiler stage (PipelineFuzz): truncations and byte mutations of real ONNX files end
/// in a plan or TML diagnostics, never an exception, a hang or a runaway allocation.
/// </summary>
public class OnnxRobustnessTests
{
    private static readonly string[] Files =
    {
        "models/mnist-8/model.onnx", "models/sine/model.onnx", "node/test_averagepool_2d_pads_count_include_pad/model.onnx",
        "node/test_maxpool_2d_pads/model.onnx", "node/test_split_equal_parts_2d/model.onnx", "node/test_softmax_axis_1/model.onnx",
        QdqCnn,
    };

    /// <summary>A QDQ CNN written by the tests (OnnxTestModels): mutations reach the QDQ passes.</summary>
    private const string QdqCnn = "written/qdq-cnn.onnx";

    public static TheoryData<string> Cases() => new(Files);

    private static byte[] Bytes(string file) => file == QdqCnn
        ? Runtime.Tests.OnnxTestModels.QdqCnn(4, Runtime.Tests.OnnxGraphWriter.UInt8, out _, out _, out _)
        : File.ReadAllBytes(Path.Combine(OnnxCases.Root, file));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Truncations_EndInDiagnostics(string file)
    {
        byte[] original = Bytes(file);
        var failures = new List<string>();
        // Every length for small files; 200 spread over a large one.
        int step = Math.Max(1, original.Length / 200);
        for (int length = 0; length < original.Length; length += step)
            if (PipelineFuzz.Run(original.Take(length).ToArray(), $"{file} cut at {length}", "fuzz.onnx", out _) is { } failure) failures.Add(failure);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ByteMutations_EndInAPlanOrDiagnostics(string file)
    {
        byte[] original = Bytes(file);
        var failures = new List<string>();
        int lowered = 0;
        for (int i = 0; i < 150; i++)
        {
            var random = new Random(i * 7919 + original.Length);
            byte[] mutated = (byte[])original.Clone();
            // A few bytes set to values that stress varints, lengths and tags.
            byte[] values = { 0, 1, 0x7f, 0x80, 0xff, 0x08, 0x12, (byte)random.Next(256) };
            for (int k = 1 + random.Next(3); k > 0; k--) mutated[random.Next(mutated.Length)] = values[random.Next(values.Length)];
            if (PipelineFuzz.Run(mutated, $"{file} mutation {i}", "fuzz.onnx", out bool planned) is { } failure) failures.Add(failure);
            else if (planned) lowered++;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(lowered > 0, "no mutant was lowered: the mutations never reach lowering and emission");
    }
}
