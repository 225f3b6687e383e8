// SPDX-License-Identifier: Apache-2.0
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Cli;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The quantizer's observer: every intermediate tensor it reads back for the seed-1 golden input equals, to the bit,
/// the tensor TFLM's reference kernels left after the same invocation (../shared/golden/&lt;model&gt;/tensors_1).
/// </summary>
public class PlanModelRunnerTests
{
    [Theory]
    [InlineData("ic_resnet_float")]
    [InlineData("ad_float")]
    [InlineData("hello_float")]
    public void EveryObservedIntermediate_EqualsTflmsTensor(string name)
    {
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        var graph = model.Main;
        var observed = Enumerable.Range(0, graph.Tensors.Count).Where(t => !graph.Tensors[t].IsConstant && !graph.Inputs.Contains(t)).ToArray();
        using var session = new PlanModelRunner().Prepare(model, observed).Value!;
        string folder = Path.Combine(SharedData.Root, "golden", name);
        var values = session.Run(new[] { File.ReadAllBytes(Path.Combine(folder, "input_1.bin")) });

        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tensors_1", "manifest.json"))).RootElement.GetProperty("tensors");
        int compared = 0;
        foreach (var entry in manifest.EnumerateArray())
        {
            int index = entry.GetProperty("index").GetInt32();
            int position = System.Array.IndexOf(observed, index);
            if (position < 0) continue;
            var expected = File.ReadAllBytes(Path.Combine(folder, "tensors_1", entry.GetProperty("file").GetString()!));
            Assert.True(expected.SequenceEqual(values[position]), $"tensor {index} '{graph.Tensors[index].Name}' differs from TFLM's");
            compared++;
        }
        Assert.Equal(observed.Length, compared);
    }
}
