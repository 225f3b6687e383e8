// SPDX-License-Identifier: Apache-2.0
// Memory and host latency of every shared model, next to TFLM's figures from ../shared/peers/tflm.json.
// Usage: dotnet run -c Release --project bench/TinyML.Bench [-- --seconds S]
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;
using TinyML.Tests;

double seconds = args.Length == 2 && args[0] == "--seconds" ? double.Parse(args[1], CultureInfo.InvariantCulture) : 0.5;
var peers = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "peers", "tflm.json"))).RootElement;
string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
string Ratio(double ours, double theirs) => theirs > 0 ? (ours / theirs).ToString("F2", CultureInfo.InvariantCulture) : "-";

Console.WriteLine($"| model | MACs | lower bound B | our arena B | TFLM arena B (x86-64) | ours / TFLM | TFLM head B | µs / inference (host) | MMAC/s |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (string name in SharedData.ModelNames())
{
    var peer = peers.GetProperty(name);
    long? tflmArena = peer.GetProperty("tflm_arena_bytes_x86_64").ValueKind == JsonValueKind.Number ? peer.GetProperty("tflm_arena_bytes_x86_64").GetInt64() : null;
    long? tflmHead = peer.GetProperty("tflm_arena_head_bytes_x86_64").ValueKind == JsonValueKind.Number ? peer.GetProperty("tflm_arena_head_bytes_x86_64").GetInt64() : null;
    long macs = peer.GetProperty("macs").GetInt64();
    var lowered = Lowerer.Lower(TfliteReader.ReadFile(SharedData.Model(name)).Value!);
    if (lowered.Value is not { } plan)
    {
        Console.WriteLine($"| {name} | {N(macs)} | - | refused ({lowered.Diagnostics[0].Id}) | {(tflmArena is null ? "refused" : N(tflmArena.Value))} | - | - | - | - |");
        continue;
    }
    using var executor = new PlanExecutor(plan);
    // Fill inputs with the golden input so the kernels see realistic data, then warm up.
    for (int i = 0; i < plan.Inputs.Count; i++)
    {
        string golden = Path.Combine(SharedData.Root, "golden", name, i == 0 ? "input_1.bin" : $"input_1_{(char)('a' + i)}.bin");
        if (File.Exists(golden)) File.ReadAllBytes(golden).CopyTo(executor.Input(i));
    }
    for (int i = 0; i < 20; i++) executor.Run();
    // A warm loop: as many runs as fit the time budget, the median of 5 batches.
    var clock = Stopwatch.StartNew();
    int perBatch = 1;
    while (true)
    {
        clock.Restart();
        for (int i = 0; i < perBatch; i++) executor.Run();
        if (clock.Elapsed.TotalSeconds * 5 >= seconds || perBatch > 1 << 20) break;
        perBatch *= 2;
    }
    var samples = Enumerable.Range(0, 5).Select(_ =>
    {
        clock.Restart();
        for (int i = 0; i < perBatch; i++) executor.Run();
        return clock.Elapsed.TotalMilliseconds * 1000 / perBatch;
    }).OrderBy(x => x).ToArray();
    double micros = samples[2];
    long ours = plan.ArenaBytes + plan.StateBytes;
    Console.WriteLine($"| {name} | {N(macs)} | {N(plan.Memory!.Arena.LowerBoundBytes)} | {N(ours)} | {(tflmArena is null ? "-" : N(tflmArena.Value))} | {Ratio(ours, tflmArena ?? 0)} | {(tflmHead is null ? "-" : N(tflmHead.Value))} | {micros.ToString("F1", CultureInfo.InvariantCulture)} | {(macs / micros).ToString("F0", CultureInfo.InvariantCulture)} |");
}
Console.WriteLine();
Console.WriteLine("Our arena includes kernel scratch and, for keyword_scrambled, the persistent SVDF state. TFLM's arena is");
Console.WriteLine("head (planned activations and scratch) plus tail (interpreter bookkeeping, per-channel data).");
Console.WriteLine("Host latency: portable C kernels, no SIMD; a warm loop in one process, median of five batches.");
