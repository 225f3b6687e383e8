// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TinyML.Tests;

/// <summary>ONNX's backend node tests in ../shared/onnx/node: a model.onnx and test_data_set_0 with input_N.pb and output_N.pb.</summary>
public static class OnnxCases
{
    public static string Root => Path.Combine(SharedData.Root, "onnx");

    public static string Node(string name) => Path.Combine(Root, "node", name);

    public static IReadOnlyList<string> NodeTests() =>
        Directory.GetDirectories(Path.Combine(Root, "node")).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToList()!;

    /// <summary>The data files of a node test's first data set, in graph order.</summary>
    public static IReadOnlyList<string> Files(string directory, string prefix)
    {
        var files = new List<string>();
        for (int i = 0; File.Exists(Path.Combine(directory, $"{prefix}_{i}.pb")); i++) files.Add(Path.Combine(directory, $"{prefix}_{i}.pb"));
        return files;
    }
}
