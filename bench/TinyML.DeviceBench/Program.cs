// SPDX-License-Identifier: Apache-2.0
// Cortex-M instructions per inference (QEMU, -icount shift=0, SysTick), flash and RAM of every shared model, next to
// TFLM + CMSIS-NN's figures from ../shared/peers/tflm.json.
// Usage: dotnet run -c Release --project bench/TinyML.DeviceBench [-- --core cortex-m4] [--Os] [--model kws]
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Tflite;
using TinyML.Device;
using TinyML.Tests;

var core = CortexM.Get(Arg("--core") ?? "cortex-m4");
bool os = args.Contains("--Os");
var peers = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "peers", "tflm.json"))).RootElement;
var runner = new QemuRunner();
string scratch = Path.Combine(Path.GetTempPath(), $"tml-devicebench-{Environment.ProcessId}");
string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
long? Peer(JsonElement peer, string name) => peer.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

string kernels = core.Name is "cortex-m0plus" or "cortex-m3" ? "portable C kernels" : "DSP paths for int8 conv, depthwise and fully connected, portable C elsewhere";
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
        var lowered = Lowerer.Lower(model, SharedData.Model(name));
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

string? Arg(string flag)
{
    int i = Array.IndexOf(args, flag);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
