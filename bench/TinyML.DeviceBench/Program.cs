// SPDX-License-Identifier: Apache-2.0
// Cortex-M instructions per inference (QEMU, -icount shift=0, SysTick), flash and RAM of every shared model, next to
// TFLM + CMSIS-NN's figures from ../shared/peers/tflm.json.
// Usage: dotnet run -c Release --project bench/TinyML.DeviceBench [-- --core cortex-m4] [--Os] [--model kws]
//        [--per-op kws,ic_resnet]: instructions per kernel call instead (one build per prefix of the plan).
//        [--keep]: keep the ELFs and generated C (printed folder) for objdump.
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Device;
using TinyML.Tests;

var core = CortexM.Get(Arg("--core") ?? "cortex-m4");
// The plan a build for this core gets (weights packed in its chunks), as `tinyml compile --target` lowers it.
var coreLowering = LoweringOptions.Default with { Target = core.Name };
bool os = args.Contains("--Os");
var peers = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "peers", "tflm.json"))).RootElement;
var runner = new QemuRunner();
string scratch = Path.Combine(Path.GetTempPath(), $"tml-devicebench-{Environment.ProcessId}");
string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
long? Peer(JsonElement peer, string name) => peer.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
if (Arg("--per-op") is { } perOpModels)
{
    foreach (string name in perOpModels.Split(',')) PerOperator(name);
    return;
}

// What the kernels of this core's build run: conv and fully connected on weights packed at build time everywhere.
string kernels = core.Name switch
{
    "cortex-m0plus" or "cortex-m3" => "portable C kernels, weights packed at build time",
    "cortex-m55" => "Helium (MVE) packed matrix product for conv and fully connected, DSP depthwise and add/sub, portable C elsewhere",
    _ => "DSP paths for the packed conv and fully connected, depthwise and add/sub, portable C elsewhere",
};
Console.WriteLine($"{core.Name} on {core.QemuMachine}, arm-none-eabi-gcc {(os ? "-Os" : "-O2")}, {kernels}; TFLM: CMSIS-NN on Cortex-M4, -O2.");
Console.WriteLine();
Console.WriteLine("| model | MACs | our instr. | TFLM instr. | ours / TFLM | our MAC/instr. | TFLM MAC/instr. | our code B | TFLM code B | our constants B | TFLM .tflite B | our flash / TFLM | our RAM B | TFLM arena B | our RAM / TFLM |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
// The models issue 12's goal is stated over: geomean of ours / TFLM + CMSIS-NN.
string[] goalModels = { "kws", "ic_resnet", "ad", "micro_speech" };
var goalRatios = new System.Collections.Generic.List<double>();
try
{
    foreach (string name in SharedData.ModelNames().Where(n => Arg("--model") is not { } only || n == only))
    {
        var peer = peers.GetProperty(name);
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        // The peer file's MAC count, so that both MAC/instruction columns use the same numerator (ModelSummary counts
        // keyword_scrambled's SVDF differently: 21,056 against TFLM's 4,160).
        long macs = Peer(peer, "macs") ?? ModelSummary.Of(model).TotalMacs;
        var lowered = Lowerer.Lower(model, SharedData.Model(name), coreLowering);
        if (lowered.Value is not { } plan)
        {
            Console.WriteLine($"| {name} | {N(macs)} | refused ({lowered.Diagnostics[0].Id}) | {(peer.TryGetProperty("tflm_status", out var st) ? "refused" : "-")} | - | - | - | - | - | - | - | - | - | - | - |");
            continue;
        }
        var gc = new GoldenCase(name, SharedData.Model(name), Path.Combine(SharedData.Root, "golden", name));
        var image = DeviceBuild.Build(plan, new DeviceBuildOptions
        {
            Core = core, OptimizeForSize = os,
            CacheDirectory = Path.Combine(SharedData.Repo, "build", "device-cache"),
            OutputDirectory = Path.Combine(scratch, name),
        });
        var runs = runner.Run(image, gc.Vectors().Select(k => (System.Collections.Generic.IReadOnlyList<byte[]>)gc.Inputs(k).Select(File.ReadAllBytes).ToList()).ToList());
        double ours = runs.Average(r => (double)r.Instructions);
        double? tflm = peer.TryGetProperty("tflm_cmsis_nn_cortex_m4_instructions_per_invoke", out var t) && t.ValueKind == JsonValueKind.Array
            ? t.EnumerateArray().Average(x => x.GetDouble()) : null;
        long? tflmText = Peer(peer, "tflm_cortex_m4_text_bytes");
        long? tflmArena = Peer(peer, "tflm_arena_bytes_cortex_m4");
        long tflite = new FileInfo(SharedData.Model(name)).Length;
        var s = image.Sizes;
        long ourFlash = s.InferenceCodeBytes + s.RodataBytes;
        string Cmp(double? theirs, double mine) => theirs is > 0 ? F(mine / theirs.Value, 2) : "-";
        if (goalModels.Contains(name) && tflm is > 0) goalRatios.Add(ours / tflm.Value);
        Console.WriteLine($"| {name} | {N(macs)} | {N(ours)} | {(tflm is null ? "-" : N(tflm.Value))} | {Cmp(tflm, ours)} | {F(macs / ours, 3)} | " +
            $"{(tflm is null ? "-" : F(macs / tflm.Value, 3))} | {N(s.InferenceCodeBytes)} | {(tflmText is null ? "-" : N(tflmText.Value))} | {N(s.RodataBytes)} | {N(tflite)} | " +
            $"{(tflmText is null ? "-" : F(ourFlash / (double)(tflmText.Value + tflite), 2))} | {N(s.RamBytes)} | {(tflmArena is null ? "-" : N(tflmArena.Value))} | {Cmp(tflmArena, s.RamBytes)} |");
    }
}
finally
{
    if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
}
if (goalRatios.Count == goalModels.Length)
    Console.WriteLine($"| geomean ours / TFLM over {string.Join(", ", goalModels)} | | | | {F(Math.Exp(goalRatios.Average(Math.Log)), 2)} | | | | | | | | | | |");
Console.WriteLine();
Console.WriteLine("our instr.: guest instructions of one invoke, mean of the three golden inputs (SysTick, tick-edge synchronised; exact within 2).");
Console.WriteLine("our code: the kernels the model links plus its invoke function (no harness, no libc); TFLM code: framework + kernels + CMSIS-NN .text.");
Console.WriteLine("our constants: .rodata (weights, biases, per-channel multipliers); TFLM keeps the whole .tflite in flash.");
Console.WriteLine("our flash / TFLM = (our code + constants) / (TFLM code + .tflite).");
Console.WriteLine("our RAM: .data + .bss (arena, state, 8 B of harness) + the static stack bound of invoke; TFLM arena: head + tail, without its stack.");

// Exact per-call cost without instrumenting the generated code: the plan's first k calls are built and run for
// every k, and call k costs count(k) - count(k - 1) (the calls before it execute the same instructions in both).
// That includes the call's argument set-up and status check in invoke.
void PerOperator(string name)
{
    var plan = Lowerer.Lower(TfliteReader.ReadFile(SharedData.Model(name)).Value!, SharedData.Model(name), coreLowering).Value!;
    var gc = new GoldenCase(name, SharedData.Model(name), Path.Combine(SharedData.Root, "golden", name));
    var input = new System.Collections.Generic.List<System.Collections.Generic.IReadOnlyList<byte[]>> { gc.Inputs(gc.Vectors().First()).Select(File.ReadAllBytes).ToList() };
    var counts = new long[plan.Calls.Count + 1];
    try
    {
        for (int k = 0; k <= plan.Calls.Count; k++)
        {
            var prefix = Prefix(plan, k);
            var image = DeviceBuild.Build(prefix, new DeviceBuildOptions
            {
                Core = core, OptimizeForSize = os, ModelName = name,
                CacheDirectory = Path.Combine(SharedData.Repo, "build", "device-cache"),
                OutputDirectory = Path.Combine(scratch, $"{name}-{k}"),
            });
            counts[k] = runner.Run(image, input)[0].Instructions;
        }
    }
    finally
    {
        if (args.Contains("--keep")) Console.Error.WriteLine($"kept {scratch}");
        else if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
    }
    long total = counts[^1] - counts[0];
    Console.WriteLine($"{name} on {core.Name} ({(os ? "-Os" : "-O2")}): {N(total)} instructions in kernel calls, {N(plan.Macs)} MACs, first golden input");
    Console.WriteLine();
    Console.WriteLine("| # | operator | kernel | MACs | instr. | share | MAC/instr. |");
    Console.WriteLine("|---:|---|---|---:|---:|---:|---:|");
    for (int i = 0; i < plan.Calls.Count; i++)
    {
        var call = plan.Calls[i];
        long cost = counts[i + 1] - counts[i];
        Console.WriteLine($"| {i} | {call.OperatorType} | {call.Kernel} | {N(call.Macs)} | {N(cost)} | {F(100.0 * cost / total, 1)}% | {(call.Macs > 0 ? F(call.Macs / (double)cost, 3) : "-")} |");
    }
    Console.WriteLine();
}

// The plan's first k calls with only the constants they use (the emitted C may define no unused constant).
static ExecutionPlan Prefix(ExecutionPlan plan, int k)
{
    var calls = plan.Calls.Take(k).ToList();
    var blobs = new System.Collections.Generic.Dictionary<int, int>();
    var prefix = new ExecutionPlan { Target = plan.Target, ArenaBytes = plan.ArenaBytes, StateBytes = plan.StateBytes };
    Pointer Map(Pointer p)
    {
        if (p.Region != Region.Constant) return p;
        if (!blobs.TryGetValue(p.Blob, out int blob))
        {
            blob = blobs[p.Blob] = prefix.Constants.Count;
            prefix.Constants.Add(plan.Constants[p.Blob]);
        }
        return p with { Blob = blob };
    }
    foreach (var call in calls)
    {
        var args = call.Args.Select(a => a with
        {
            Pointer = Map(a.Pointer),
            Fields = a.Fields.Select(f => f with { Pointer = Map(f.Pointer) }).ToArray(),
            Pointers = a.Pointers.Select(Map).ToArray(),
        }).ToArray();
        prefix.Calls.Add(call with { Args = args });
    }
    prefix.Inputs.AddRange(plan.Inputs);
    prefix.Outputs.AddRange(plan.Outputs);
    return prefix;
}

string? Arg(string flag)
{
    int i = Array.IndexOf(args, flag);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
