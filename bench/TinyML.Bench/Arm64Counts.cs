// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TinyML.Compiler.Emit;
using TinyML.Compiler.Plan;
using TinyML.Tests;

/// <summary>
/// Instructions per inference on linux-arm64, counted under qemu-aarch64 by a TCG plugin (Arm64/insn_count.c): our
/// plan as emitted C with the linux-arm64 kernel library on each of its paths, and TFLite 2.9's linux-arm64
/// C library (build/tflite/linux-arm64) on the same model and input. qemu-aarch64's default CPU has the dot-product
/// instructions, and TFLite's kernels (ruy) use them too. Counts, not time: emulated time is not real time,
/// and one NEON instruction does more work than one scalar instruction. A count per inference is the difference of a
/// run with three invokes and one with one, halved, so loading and start-up cancel.
/// </summary>
internal static class Arm64Counts
{
    private static string Repo => SharedData.Repo;
    private static string TfliteArm64 => Path.Combine(Repo, "build", "tflite", "linux-arm64", "libtensorflowlite_c.so");
    private static string KernelsArm64 => Path.Combine(Repo, "build", "native-linux-arm64", "libtinyml_kernels.a");

    /// <summary>Null when everything it needs is here, else what is missing.</summary>
    public static string? Missing()
    {
        foreach (var tool in new[] { "gcc", "aarch64-linux-gnu-gcc", "qemu-aarch64" })
            if (Run(tool, new[] { "--version" }).Code != 0) return $"{tool} is not installed (./build.sh setup installs it)";
        if (!File.Exists(KernelsArm64)) return $"{KernelsArm64} is missing (./build.sh native builds it)";
        if (!File.Exists(TfliteArm64)) return $"{TfliteArm64} is missing (./build.sh setup fetches it)";
        return null;
    }

    public static void Print(IReadOnlyList<(string Name, ExecutionPlan Plan, long Macs)> models)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tml-arm64-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string here = Path.Combine(Repo, "bench", "TinyML.Bench", "Arm64");
            string plugin = Path.Combine(dir, "libinsn_count.so");
            Check(Run("gcc", new[] { "-shared", "-fPIC", "-O2", Path.Combine(here, "insn_count.c"), "-o", plugin }));
            string tflite = Path.Combine(dir, "tflite_main");
            Check(Run("aarch64-linux-gnu-gcc", new[] { "-O2", Path.Combine(here, "tflite_main.c"), "-o", tflite, "-L", Path.GetDirectoryName(TfliteArm64)!,
                "-ltensorflowlite_c", "-Wl,-rpath," + Path.GetDirectoryName(TfliteArm64), "-Wl,-rpath-link,/usr/aarch64-linux-gnu/lib" }));

            Console.WriteLine("linux-arm64, instructions per inference counted under qemu-aarch64 7.2 (one thread; counts, not time):");
            Console.WriteLine();
            Console.WriteLine("| model | MACs | ours, NEON + SDOT | ours, NEON | ours, portable | NEON + SDOT / portable | TFLite 2.9 | ours (NEON + SDOT) / TFLite | outputs, ours vs TFLite |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
            var ratios = new List<double>();
            foreach (var (name, plan, macs) in models)
            {
                string input = Path.Combine(SharedData.Root, "golden", name, "input_1.bin");
                string ours = BuildOurs(name, plan, dir);
                long Count(string program, IEnumerable<string> arguments, string output) =>
                    PerInference(runs => Counted(plugin, program, arguments.Append(output).Append(runs.ToString(CultureInfo.InvariantCulture))));
                long dot = Count(ours, new[] { "4", input }, Path.Combine(dir, name + ".dot.bin"));
                long neon = Count(ours, new[] { "3", input }, Path.Combine(dir, name + ".neon.bin"));
                long portable = Count(ours, new[] { "0", input }, Path.Combine(dir, name + ".portable.bin"));
                long theirs = Count(tflite, new[] { SharedData.Model(name), input }, Path.Combine(dir, name + ".tflite.bin"));
                byte[] a = File.ReadAllBytes(Path.Combine(dir, name + ".dot.bin")), b = File.ReadAllBytes(Path.Combine(dir, name + ".tflite.bin"));
                if (!a.SequenceEqual(File.ReadAllBytes(Path.Combine(dir, name + ".portable.bin"))) || !a.SequenceEqual(File.ReadAllBytes(Path.Combine(dir, name + ".neon.bin"))))
                    throw new InvalidOperationException($"{name}: the paths disagree");
                string same = a.SequenceEqual(b) ? "identical" : $"differ by up to {a.Zip(b, (x, y) => Math.Abs((sbyte)x - (sbyte)y)).Max()} LSB";
                ratios.Add((double)dot / theirs);
                Console.WriteLine($"| {name} | {macs:N0} | {dot:N0} | {neon:N0} | {portable:N0} | {(double)dot / portable:F2} | {theirs:N0} | {(double)dot / theirs:F2} | {same} |");
            }
            Console.WriteLine($"| geomean | | | | | | | {Math.Exp(ratios.Average(Math.Log)):F2} | |");
            Console.WriteLine();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The plan as C with a main: argv path input output runs; sets the host path, copies the input into the
    /// arena before each invoke (the plan reuses its bytes), writes the first output.</summary>
    private static string BuildOurs(string name, ExecutionPlan plan, string dir)
    {
        var source = CEmitter.Emit(plan, name);
        File.WriteAllText(Path.Combine(dir, source.HeaderName), source.Header);
        File.WriteAllText(Path.Combine(dir, source.SourceName), source.Source);
        string upper = name.ToUpperInvariant();
        string main = $$"""
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include "tml_kernels.h"
            #include "{{name}}.h"

            int main(int argc, char **argv)
            {
                static uint8_t input[{{upper}}_INPUT0_BYTES];
                if (argc != 5 || tml_host_path_set(atoi(argv[1])) != atoi(argv[1])) return 2;
                FILE *f = fopen(argv[2], "rb");
                if (f == NULL || fread(input, 1, sizeof input, f) != sizeof input) return 3;
                fclose(f);
                uint8_t *arena = {{name}}_arena();
                for (long r = 0; r < atol(argv[4]); r++) {
                    memcpy(arena + {{upper}}_INPUT0_OFFSET, input, sizeof input);
                    {{name}}_reset_state();
                    if ({{name}}_invoke(arena) != 0) return 4;
                }
                f = fopen(argv[3], "wb");
                if (f == NULL) return 5;
                fwrite(arena + {{upper}}_OUTPUT0_OFFSET, 1, {{upper}}_OUTPUT0_BYTES, f);
                fclose(f);
                return 0;
            }
            """;
        File.WriteAllText(Path.Combine(dir, name + "_main.c"), main);
        string program = Path.Combine(dir, name + "_ours");
        Check(Run("aarch64-linux-gnu-gcc", new[] { "-std=c99", "-O2", "-ffp-contract=off", "-I", Path.Combine(Repo, "src", "TinyML.Kernels.Native", "include"), "-I", dir,
            Path.Combine(dir, source.SourceName), Path.Combine(dir, name + "_main.c"), KernelsArm64, "-lm", "-o", program }));
        return program;
    }

    private static long PerInference(Func<int, long> count) => (count(3) - count(1)) / 2;

    private static long Counted(string plugin, string program, IEnumerable<string> arguments)
    {
        var result = Run("qemu-aarch64", new[] { "-L", "/usr/aarch64-linux-gnu", "-plugin", plugin, program }.Concat(arguments).ToArray());
        Check(result);
        var match = Regex.Match(result.Output, @"instructions: (\d+)");
        if (!match.Success) throw new InvalidOperationException($"no count from the plugin: {result.Output}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static void Check((int Code, string Output) result)
    {
        if (result.Code != 0) throw new InvalidOperationException($"exit {result.Code}: {result.Output}");
    }

    private static (int Code, string Output) Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
