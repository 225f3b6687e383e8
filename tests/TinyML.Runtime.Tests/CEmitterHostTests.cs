// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using TinyML.Compiler.Emit;
using TinyML.Compiler.Plan;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// One plan, two back ends: the C emitted from a plan, compiled by the host C compiler with the same kernels
/// (-std=c99 -Wall -Wextra -Werror), gives TFLM's golden bytes on every golden model and op case, as the host
/// executor does, and on every case of TFLM's int16 suite (../shared/seanet). The device build runs the same C under QEMU.
/// </summary>
public sealed class CEmitterHostTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-c-{Guid.NewGuid():N}");

    public CEmitterHostTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Cases() => new(GoldenCase.Supported().Select(c => c.Name));

    public static TheoryData<string> SeanetCaseNames() => new(SeanetCases.Supported().Select(c => c.Name));

    /// <summary>C that reads exactly a file's bytes into memory (0 when it cannot).</summary>
    internal const string ReadExact =
        "static int read_exact(const char *path, uint8_t *to, long bytes) {\n" +
        "    FILE *f = fopen(path, \"rb\"); long n;\n    if (!f) return 0;\n    n = (long)fread(to, 1, (size_t)bytes, f);\n    fclose(f);\n    return n == bytes;\n}\n\n";

    /// <summary>C function <c>run_NAME(count, inputs, output)</c>: reads the inputs into the model's arena, invokes it and
    /// writes its outputs; 0 on success, 2-4 for bad arguments, a failed invoke or an unwritable output.</summary>
    internal static string RunFunction(string name, ExecutionPlan plan)
    {
        string upper = name.ToUpperInvariant();
        var c = new StringBuilder($"static int run_{name}(int count, char **inputs, const char *output) {{\n    uint8_t *arena = {name}_arena();\n    FILE *out;\n");
        c.Append($"    if (count != {plan.Inputs.Count}) return 2;\n");
        for (int i = 0; i < plan.Inputs.Count; i++)
            c.Append($"    if (!read_exact(inputs[{i}], arena + {upper}_INPUT{i}_OFFSET, {upper}_INPUT{i}_BYTES)) return 2;\n");
        c.Append($"    {name}_reset_state();\n    if ({name}_invoke(arena) != 0) return 3;\n    out = fopen(output, \"wb\");\n    if (!out) return 4;\n");
        for (int i = 0; i < plan.Outputs.Count; i++)
            c.Append($"    fwrite(arena + {upper}_OUTPUT{i}_OFFSET, 1, {upper}_OUTPUT{i}_BYTES, out);\n");
        c.Append("    fclose(out);\n    return 0;\n}\n\n");
        return c.ToString();
    }

    /// <summary>A main for one model: its inputs, then the output file, as arguments.</summary>
    internal static string Harness(string name, ExecutionPlan plan) =>
        $"#include <stdio.h>\n#include <stdlib.h>\n#include \"{name}.h\"\n\n" + ReadExact + RunFunction(name, plan) +
        $"int main(int argc, char **argv) {{\n    return argc < 2 ? 2 : run_{name}(argc - 2, argv + 1, argv[argc - 1]);\n}}\n";

    /// <summary>Emits the plan as C (<paramref name="name"/>.c/.h in <paramref name="dir"/>), compiles it with a main
    /// that reads the inputs and writes the outputs and with the host kernel library, and returns the executable.</summary>
    internal static (string Executable, CSource Source) BuildHostProgram(ExecutionPlan plan, string dir, string name = "model")
    {
        var source = CEmitter.Emit(plan, name);
        File.WriteAllText(Path.Combine(dir, source.HeaderName), source.Header);
        File.WriteAllText(Path.Combine(dir, source.SourceName), source.Source);
        File.WriteAllText(Path.Combine(dir, "main.c"), Harness(name, plan));
        string exe = Path.Combine(dir, name);
        var compile = Run("cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
            "-I", Path.Combine(SharedData.Repo, "src", "TinyML.Kernels.Native", "include"), "-I", dir,
            Path.Combine(dir, source.SourceName), Path.Combine(dir, "main.c"), Path.Combine(SharedData.Repo, "build", "native", "libtinyml_kernels.a"), "-lm", "-o", exe);
        Assert.True(compile.Code == 0, compile.Output);
        return (exe, source);
    }

    /// <summary>Runs the program on every vector of the golden case and compares with TFLM's output bytes.</summary>
    internal static void AssertGivesTheGolden(string exe, GoldenCase gc, string dir)
    {
        foreach (int k in gc.Vectors())
        {
            string output = Path.Combine(dir, $"out_{k}.bin");
            var run = Run(exe, gc.Inputs(k).Append(output).ToArray());
            Assert.True(run.Code == 0, $"vector {k}: exit {run.Code} {run.Output}");
            Assert.Equal(File.ReadAllBytes(gc.Output(k)), File.ReadAllBytes(output));
        }
    }

    internal static (int Code, string Output) Run(string file, params string[] args) => Run(file, args, null);

    internal static (int Code, string Output) Run(string file, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var pair in environment ?? new Dictionary<string, string>()) start.Environment[pair.Key] = pair.Value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EmittedC_IsByteIdenticalToTheGolden(string caseName)
    {
        var gc = GoldenCase.All().Single(c => c.Name == caseName);
        var plan = ConformanceTests.Lower(gc);
        AssertGivesTheGolden(BuildHostProgram(plan, _dir).Executable, gc, _dir);
    }

    [Theory]
    [MemberData(nameof(SeanetCaseNames))]
    public void EmittedC_IsByteIdenticalToTflm_OnTheInt16Suite(string caseName)
    {
        var gc = SeanetCases.All().Single(c => c.Name == caseName);
        AssertGivesTheGolden(BuildHostProgram(ConformanceTests.Lower(gc), _dir).Executable, gc, _dir);
    }

    [Fact]
    public void EmittedC_IsStraightLine_WithTheSizesAsDefines()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "kws"));
        var source = CEmitter.Emit(plan, "kws");
        Assert.Contains("#define KWS_ARENA_BYTES 16000", source.Header);
        Assert.Contains("#define KWS_MACS 2656768", source.Header); // the plan's MACs: ../shared/golden/kws/info.json
        Assert.Equal(plan.Calls.Count, source.Source.Split("status = tml_").Length - 1);
        Assert.Contains("static const uint8_t kws_c0[", source.Source);
        Assert.Contains("TML_ALIGNED16", source.Source);
        Assert.DoesNotContain("malloc", source.Source);
        Assert.Contains(".input_offset = ", source.Source);
        Assert.Equal(source.Source, CEmitter.Emit(plan, "kws").Source);
    }
}
