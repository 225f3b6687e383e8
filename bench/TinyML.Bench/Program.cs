// SPDX-License-Identifier: Apache-2.0
// Memory of every shared model next to TFLM's figures from ../shared/peers/tflm.json, and host latency next to
// TensorFlow Lite's C library (build/tflite) in the same run.
// Usage: dotnet run -c Release --project bench/TinyML.Bench [-- --seconds S] [--models a,b] [--arm64]
// --arm64 adds instructions per inference on linux-arm64 under qemu-aarch64 (Arm64Counts.cs).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;
using TinyML.Tests;

string? Option(string name) => Array.IndexOf(args, name) is int at && at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
double seconds = Option("--seconds") is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : 0.5;
string[]? only = Option("--models")?.Split(',');
var peers = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "peers", "tflm.json"))).RootElement;
string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
string Ratio(double ours, double theirs) => theirs > 0 ? F(ours / theirs, 2) : "-";
string? tflite = TfliteInterpreter.Find(SharedData.Repo, out string noTflite);
string[] goalModels = { "kws", "ic_resnet", "ad", "micro_speech" };
// TFLite 2.9 reads 2,046 bytes past a heap buffer in Invoke on this model (AddressSanitizer, a C loop over its C API),
// which corrupts the process's heap; it is not run there.
var tfliteFaults = new Dictionary<string, string> { ["keyword_scrambled_8bit"] = "TFLite 2.9 overruns a heap buffer" };

var plans = new Dictionary<string, ExecutionPlan>();
Console.WriteLine("| model | MACs | lower bound B | our arena B | TFLM arena B (x86-64) | ours / TFLM | TFLM head B |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
foreach (string name in SharedData.ModelNames().Where(m => only is null || only.Contains(m)))
{
    var peer = peers.GetProperty(name);
    long? Peer(string field) => peer.GetProperty(field).ValueKind == JsonValueKind.Number ? peer.GetProperty(field).GetInt64() : null;
    long? tflmArena = Peer("tflm_arena_bytes_x86_64"), tflmHead = Peer("tflm_arena_head_bytes_x86_64");
    long macs = peer.GetProperty("macs").GetInt64();
    var lowered = Lowerer.Lower(TfliteReader.ReadFile(SharedData.Model(name)).Value!);
    if (lowered.Value is not { } plan)
    {
        Console.WriteLine($"| {name} | {N(macs)} | - | refused ({lowered.Diagnostics[0].Id}) | {(tflmArena is null ? "refused" : N(tflmArena.Value))} | - | - |");
        continue;
    }
    plans[name] = plan;
    long ours = plan.ArenaBytes + plan.StateBytes;
    Console.WriteLine($"| {name} | {N(macs)} | {N(plan.Memory!.Arena.LowerBoundBytes)} | {N(ours)} | {(tflmArena is null ? "-" : N(tflmArena.Value))} | {Ratio(ours, tflmArena ?? 0)} | {(tflmHead is null ? "-" : N(tflmHead.Value))} |");
}
Console.WriteLine();
Console.WriteLine("Our arena includes kernel scratch and, for keyword_scrambled, the persistent SVDF state. TFLM's arena is");
Console.WriteLine("head (planned activations and scratch) plus tail (interpreter bookkeeping, per-channel data).");
Console.WriteLine();

// A warm loop per engine: as many runs as fill a fifth of the time budget, then five batches of each engine
// alternated, so that both see the same machine load; the median batch is the figure.
int BatchSize(Action run)
{
    for (int i = 0; i < 20; i++) run();
    var clock = Stopwatch.StartNew();
    int perBatch = 1;
    while (true)
    {
        clock.Restart();
        for (int i = 0; i < perBatch; i++) run();
        if (clock.Elapsed.TotalSeconds * 5 >= seconds || perBatch > 1 << 20) return perBatch;
        perBatch *= 2;
    }
}
double Batch(Action run, int perBatch)
{
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < perBatch; i++) run();
    return clock.Elapsed.TotalMilliseconds * 1000 / perBatch;
}
double Median(List<double> samples) => samples.OrderBy(x => x).ElementAt(samples.Count / 2);

var best = NativeKernels.HostPath;
Console.WriteLine($"Host latency, one thread (our kernels on the {best} path and on the portable C; TFLite 2.9's C library, its optimized kernels):");
Console.WriteLine();
Console.WriteLine($"| model | MACs | ours µs | ours, portable C µs | {best} / portable | TFLite µs | ours / TFLite | our MMAC/s | TFLite MMAC/s | outputs, ours vs TFLite |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
var goalRatios = new List<double>();
foreach (var (name, plan) in plans)
{
    long macs = peers.GetProperty(name).GetProperty("macs").GetInt64();
    using var executor = new PlanExecutor(plan);
    using var theirs = tflite is null || tfliteFaults.ContainsKey(name) ? null : new TfliteInterpreter(tflite, SharedData.Model(name));
    // The golden inputs, so that the kernels see realistic data. Our plan reuses the input's bytes once it is read, so
    // each of our runs sets the input first, as an application does; TFLite's input tensor keeps its bytes.
    var inputs = Enumerable.Range(0, plan.Inputs.Count).Select(i => Path.Combine(SharedData.Root, "golden", name, i == 0 ? "input_1.bin" : $"input_1_{(char)('a' + i)}.bin"))
        .Select(file => File.Exists(file) ? File.ReadAllBytes(file) : new byte[0]).ToArray();
    void RunOurs()
    {
        for (int i = 0; i < inputs.Length; i++) inputs[i].CopyTo(executor.Input(i));
        executor.Run();
    }
    for (int i = 0; i < inputs.Length && theirs is not null; i++) inputs[i].CopyTo(theirs.Input(i));
    // Our best path and the portable C alternate too (the path is the library's global, switched between batches).
    int oursBatch = BatchSize(RunOurs), theirBatch = theirs is null ? 0 : BatchSize(theirs.Run);
    NativeKernels.TrySetHostPath(HostKernelPath.Portable);
    int portableBatch = BatchSize(RunOurs);
    NativeKernels.TrySetHostPath(best);
    var oursSamples = new List<double>();
    var portableSamples = new List<double>();
    var theirSamples = new List<double>();
    for (int round = 0; round < 5; round++)
    {
        oursSamples.Add(Batch(RunOurs, oursBatch));
        NativeKernels.TrySetHostPath(HostKernelPath.Portable);
        portableSamples.Add(Batch(RunOurs, portableBatch));
        NativeKernels.TrySetHostPath(best);
        if (theirs is not null) theirSamples.Add(Batch(theirs.Run, theirBatch));
    }
    double ours = Median(oursSamples), portable = Median(portableSamples);
    string oursColumns = $"{F(ours, 1)} | {F(portable, 1)} | {Ratio(ours, portable)}";
    if (theirs is null)
    {
        Console.WriteLine($"| {name} | {N(macs)} | {oursColumns} | - | - | {F(macs / ours, 0)} | - | {tfliteFaults.GetValueOrDefault(name, "-")} |");
        continue;
    }
    double their = Median(theirSamples);
    if (goalModels.Contains(name)) goalRatios.Add(ours / their);
    byte[] a = executor.Output(0).ToArray(), b = theirs.Output(0).ToArray();
    string same = a.SequenceEqual(b) ? "identical" : plan.Outputs[0].Type == DataType.Int8
        ? $"differ by up to {a.Zip(b, (x, y) => Math.Abs((sbyte)x - (sbyte)y)).Max()} LSB" : "differ (float)";
    Console.WriteLine($"| {name} | {N(macs)} | {oursColumns} | {F(their, 1)} | {Ratio(ours, their)} | {F(macs / ours, 0)} | {F(macs / their, 0)} | {same} |");
}
if (goalRatios.Count > 0)
    Console.WriteLine($"| geomean of {string.Join(", ", goalModels)} | | | | | | {F(Math.Exp(goalRatios.Average(Math.Log)), 2)} | | | |");
if (tflite is null) Console.WriteLine($"\nNo TFLite column: {noTflite}.");
Console.WriteLine();
Console.WriteLine("Medians of five alternated batches after a warm-up, in one process; compare ratios, not runs: the machine is shared.");

if (args.Contains("--arm64"))
{
    Console.WriteLine();
    if (Arm64Counts.Missing() is { } missing) Console.WriteLine($"No linux-arm64 table: {missing}.");
    else Arm64Counts.Print(goalModels.Where(plans.ContainsKey).Select(m => (m, plans[m], peers.GetProperty(m).GetProperty("macs").GetInt64())).ToList());
}
