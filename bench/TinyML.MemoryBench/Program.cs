// SPDX-License-Identifier: Apache-2.0
// Memory techniques on every shared model and the MobileNet-style sample models: lifetime lower bound (no technique), our arena with each technique
// alone and with all, TFLM's arena (../shared/peers/tflm.json) and the MAC overhead. Columns come from
// MemoryTechniques.Evaluate, so a new technique there (patch-based inference) becomes a new column.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Tflite;
using TinyML.Samples;
using TinyML.Tests;

var peers = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "peers", "tflm.json"))).RootElement;
var models = new List<(string Name, string? Path, Model? Model)>();
foreach (string path in Directory.GetFiles(Path.Combine(SharedData.Root, "models"), "*.tflite").OrderBy(f => f, StringComparer.Ordinal))
    models.Add((Path.GetFileNameWithoutExtension(path), path, TfliteReader.ReadFile(path).Value));
models.Add(("MobileNetV2-0.35 144x144", null, MobileNetModels.MobileNetV2(0.35, 144)));
models.Add(("MCUNet-like 5x5/7x7 160x160", null, MobileNetModels.McuNetLike(160)));
models.Add(("MobileNetV2-1.0 224x224", null, MobileNetModels.MobileNetV2(1.0, 224)));
models.Add(("MobileNetV2-1.0 224x224 PyTorch export", null, MobileNetModels.MobileNetV2(1.0, 224, export: MobileNetModels.Export.PyTorch)));
models.Add(("VWW MobileNetV1-0.25 96x96", null, MobileNetModels.MobileNetV1(0.25, 96)));
models.Add(("VWW MobileNetV1-0.25 96x96 PyTorch export", null, MobileNetModels.MobileNetV1(0.25, 96, export: MobileNetModels.Export.PyTorch)));
string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
bool header = false;
// Arguments, if any, keep only the models whose names contain one of them.
foreach (var (name, path, model) in models.Where(m => args.Length == 0 || args.Any(a => m.Name.Contains(a, StringComparison.OrdinalIgnoreCase))))
{
    if (model is null) continue;
    var results = MemoryTechniques.Evaluate(model, path);
    if (results[0].Plan is null) { Console.WriteLine($"| {name} | refused by the lowering |"); continue; }
    if (!header)
    {
        Console.WriteLine("| model | lifetime lower bound (B) | " + string.Join(" | ", results.Select(r => $"{r.Name} (B)")) + " | all vs none | TFLM x86 arena (B) | TFLM head (B) | all vs TFLM head | MAC overhead |");
        Console.WriteLine("|---|---:|" + string.Concat(results.Select(_ => "---:|")) + "---:|---:|---:|---:|---:|");
        header = true;
    }
    long bound = MemoryPlanner.LowerBound(TensorLifetimes.Compute(model.Main).Buffers).Bytes;
    long all = results[^1].ArenaBytes, none = results[0].ArenaBytes;
    string tflm = "-", head = "-", ratio = "-";
    if (peers.TryGetProperty(name, out var p) && p.TryGetProperty("tflm_arena_bytes_x86_64", out var a))
    {
        tflm = N(a.GetInt64());
        long h = p.GetProperty("tflm_arena_head_bytes_x86_64").GetInt64();
        head = N(h);
        ratio = ((double)all / h).ToString("F2", CultureInfo.InvariantCulture) + "x";
    }
    Console.WriteLine($"| {name} | {N(bound)} | " + string.Join(" | ", results.Select(r => N(r.ArenaBytes))) +
        $" | {((double)all / none).ToString("F2", CultureInfo.InvariantCulture)}x | {tflm} | {head} | {ratio} | {results[^1].MacsOverheadPercent.ToString("F1", CultureInfo.InvariantCulture)}% |");
}
