// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TinyML.Compiler.Onnx;
using TinyML.Tests;
using Xunit;

namespace TinyML.EndToEnd.Tests;

/// <summary>
/// ONNX models in user projects built with the packed SDK (../shared/onnx/models, copied into the temporary project at
/// run time): mnist-8 as a float32 class on the host and as a Cortex-M4 library linked into a firmware under QEMU, and
/// float models with a Calibration quantized in the build.
/// </summary>
[Collection(nameof(PackedSdk))]
public sealed class OnnxProjectTests
{
    private readonly PackedSdk _sdk;

    public OnnxProjectTests(PackedSdk sdk) => _sdk = sdk;

    private static string OnnxModel(string name, string file = "model.onnx") => Path.Combine(OnnxCases.Root, "models", name, file);

    private static byte[] TensorBytes(string file) => OnnxReader.ReadTensor(File.ReadAllBytes(file), file).Value!.Data;

    private (int ExitCode, string Output) Build(string dir, params string[] extra) =>
        _sdk.Dotnet(dir, new[] { "build", "App.csproj", "--nologo", "-v:n" }.Concat(extra).ToArray());

    /// <summary>A firmware for QEMU's MPS2 AN386 (Cortex-M4) around the SDK's library: reads the input file over
    /// semihosting into the arena, invokes the model and writes the output file.</summary>
    private static string FirmwareMain(string input, string output) => $$"""
        #include <stdint.h>
        #include "mnist.h"
        #include "tml_device.h"

        int main(void)
        {
            uint8_t *arena = mnist_arena();
            int32_t in = tml_sh_open("{{input}}", 0), out;
            if (in < 0 || tml_sh_read(in, arena + MNIST_INPUT0_OFFSET, MNIST_INPUT0_BYTES) != 0) tml_sh_exit(2);
            tml_sh_close(in);
            mnist_reset_state();
            if (mnist_invoke(arena) != 0) tml_sh_exit(3);
            out = tml_sh_open("{{output}}", 1);
            if (out < 0 || tml_sh_write(out, arena + MNIST_OUTPUT0_OFFSET, MNIST_OUTPUT0_BYTES) != 0) tml_sh_exit(4);
            tml_sh_close(out);
            tml_sh_exit(0);
        }

        """;

    [Fact]
    public void Mnist8_BuildsRunsToItsReference_AndTheCortexM4LibraryGivesTheHostClassBytesUnderQemu()
    {
        string dir = _sdk.NewProject("onnx-mnist");
        File.Copy(OnnxModel("mnist-8"), Path.Combine(dir, "mnist.onnx"));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using var model = new App.Mnist();
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(System.IO.File.ReadAllBytes(args[0])).CopyTo(model.Input);
            model.Run();
            System.IO.File.WriteAllBytes(args[1], System.Runtime.InteropServices.MemoryMarshal.AsBytes(model.Output).ToArray());
            System.Console.WriteLine($"arena {App.Mnist.ArenaBytes} in {model.Input.Length} out {model.Output.Length}");
            """);
        // A float model runs in float32 only when asked to (Quantize="none"); without it the build asks for a Calibration.
        PackedSdk.WriteProject(dir, "    <TinyModel Include=\"mnist.onnx\" RamBudget=\"64KB\" />\n");
        var bare = Build(dir);
        Assert.NotEqual(0, bare.ExitCode);
        Assert.Matches(new Regex(@"App\.csproj\(8\): error TML2001: mnist\.onnx is a float32 model"), bare.Output);

        PackedSdk.WriteProject(dir, "    <TinyModel Include=\"mnist.onnx\" RamBudget=\"64KB\" Quantize=\"none\" />\n");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Matches(new Regex(@"TinyML: mnist\.onnx -> App\.Mnist: RAM [\d,]+ B"), build.Output);

        string input = Path.Combine(dir, "input.bin"), hostOutput = Path.Combine(dir, "host.bin");
        File.WriteAllBytes(input, TensorBytes(OnnxModel("mnist-8", Path.Combine("test_data_set_0", "input_0.pb"))));
        var run = _sdk.Dotnet(dir, Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll"), input, hostOutput);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("in 784 out 10", run.Output);
        var expected = MemoryMarshal.Cast<byte, float>(TensorBytes(OnnxModel("mnist-8", Path.Combine("test_data_set_0", "output_0.pb")))).ToArray();
        var actual = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(hostOutput)).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        // The vectors came from the exporting framework; onnxruntime is within 3.4e-3 of them (onnx/README.md).
        double worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        Assert.True(worst <= 5e-3, $"largest difference {worst}");

        // The same project for a Cortex-M4: the library the build writes, linked into a firmware, run under QEMU.
        var device = Build(dir, "-p:TinyMLTarget=cortex-m4");
        Assert.True(device.ExitCode == 0, device.Output);
        Assert.Matches(new Regex(@"TinyML: mnist\.onnx -> App\.Mnist: .*; on cortex-m4 from the ELF: RAM [\d,]+ B, flash [\d,]+ B"), device.Output);
        string package = Path.Combine(dir, "bin", "Debug", "net10.0", "tinyml", "cortex-m4");
        string runtime = Path.Combine(SharedData.Repo, "src", "TinyML.Kernels.Native", "device");
        string deviceOutput = Path.Combine(dir, "device.bin");
        File.WriteAllText(Path.Combine(dir, "main.c"), FirmwareMain(input, deviceOutput));
        string elf = Path.Combine(dir, "firmware.elf");
        var link = _sdk.Run("arm-none-eabi-gcc", dir, null, "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb", "-O2", "-std=c99",
            "-Wall", "-Wextra", "-Werror", "-I", package, "-I", runtime, Path.Combine(dir, "main.c"), Path.Combine(runtime, "startup.c"), Path.Combine(runtime, "semihost.c"),
            "-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", "-Wl,--defsym=TML_STACK_SIZE=8192", "-L", Path.Combine(runtime, "ld"), "-T", "mps2.ld",
            Path.Combine(package, "libmnist.a"), Path.Combine(package, "libtinyml_kernels.a"), "-lm", "-o", elf);
        Assert.True(link.ExitCode == 0, link.Output);
        var qemu = _sdk.Run("qemu-system-arm", dir, null, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-semihosting-config", "enable=on,target=native", "-kernel", elf);
        Assert.True(qemu.ExitCode == 0, $"qemu exit {qemu.ExitCode}: {qemu.Output}");
        // mnist-8's kernels call no libm function: the device's float arithmetic is the host's, bit for bit.
        Assert.Equal(File.ReadAllBytes(hostOutput), File.ReadAllBytes(deviceOutput));
    }

    [Fact]
    public void ARefusedOnnxModel_FailsTheBuildWithItsReason_AtTheModel()
    {
        // A node test refused for an operator we lack (TML1005), from the refusal list so it stays refused.
        string name = OnnxNodeCases.NotYetSupported.Where(p => p.Value.StartsWith("operators that are not supported", StringComparison.Ordinal))
            .Select(p => p.Key).OrderBy(n => n, StringComparer.Ordinal).First();
        string dir = _sdk.NewProject("onnx-refused");
        File.Copy(Path.Combine(OnnxCases.Node(name), "model.onnx"), Path.Combine(dir, "node.onnx"));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), "System.Console.WriteLine(App.Node.ArenaBytes);\n");
        PackedSdk.WriteProject(dir, "    <TinyModel Include=\"node.onnx\" Quantize=\"none\" />\n");
        var build = Build(dir);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains($"{Path.Combine(dir, "node.onnx")} : error TML1005: the ONNX model uses operators that are not supported: ", build.Output);
        Assert.Contains(OnnxNodeCases.NotYetSupported[name], build.Output);
        Assert.False(File.Exists(Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll")));
    }

    [Fact]
    public void FloatOnnxWithCalibration_IsQuantizedInTheBuild_AndRuns()
    {
        // sine (three Dense layers) quantizes to int8 and runs.
        string dir = _sdk.NewProject("onnx-quantize-sine");
        File.Copy(OnnxModel("sine"), Path.Combine(dir, "sine.onnx"));
        string calibration = Path.Combine(dir, "calib");
        Directory.CreateDirectory(calibration);
        for (int i = 0; i < 16; i++)
            File.WriteAllBytes(Path.Combine(calibration, $"x{i:D2}.bin"), BitConverter.GetBytes((float)(2 * Math.PI * i / 15)));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using var model = new App.Sine();
            model.SetInput(new[] { 1.5707964f });
            model.Run();
            sbyte raw = model.Output[0]; // compiles only if the generated output is int8
            System.Console.WriteLine($"sine(pi/2) {model.GetOutput()[0]:F3} raw {raw}");
            """);
        PackedSdk.WriteProject(dir, "    <TinyModel Include=\"sine.onnx\" Calibration=\"calib/*.bin\" />\n");
        var build = Build(dir);
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("tinyml.dll quantize", build.Output);
        Assert.True(File.Exists(Path.Combine(dir, "obj", "Debug", "net10.0", "tinyml", "quantized", "sine.tflite")));
        var run = _sdk.Dotnet(dir, Path.Combine(dir, "bin", "Debug", "net10.0", "App.dll"));
        Assert.True(run.ExitCode == 0, run.Output);
        var value = Regex.Match(run.Output, @"sine\(pi/2\) (-?\d+\.\d+)");
        Assert.True(value.Success, run.Output);
        // An int8 regressor of sin: near 1 at pi/2 (the float model itself is an approximation).
        Assert.InRange(double.Parse(value.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0.8, 1.2);

        // mnist-8 (convolutions, pooling, a flatten into a dense layer) quantizes too, calibrated on its three
        // reference digits, and the int8 app classifies them as the float model's reference outputs do.
        string mnist = _sdk.NewProject("onnx-quantize-mnist");
        File.Copy(OnnxModel("mnist-8"), Path.Combine(mnist, "mnist.onnx"));
        Directory.CreateDirectory(Path.Combine(mnist, "calib"));
        var digits = new List<int>();
        for (int set = 0; set < 3; set++)
        {
            File.WriteAllBytes(Path.Combine(mnist, "calib", $"digit{set}.bin"), TensorBytes(OnnxModel("mnist-8", Path.Combine($"test_data_set_{set}", "input_0.pb"))));
            var logits = MemoryMarshal.Cast<byte, float>(TensorBytes(OnnxModel("mnist-8", Path.Combine($"test_data_set_{set}", "output_0.pb")))).ToArray();
            digits.Add(Array.IndexOf(logits, logits.Max()));
        }
        File.WriteAllText(Path.Combine(mnist, "Program.cs"), """
            using System.Linq;
            foreach (var file in System.IO.Directory.GetFiles("calib", "*.bin").OrderBy(f => f))
            {
                var bytes = System.IO.File.ReadAllBytes(file);
                var input = new float[bytes.Length / 4];
                System.Buffer.BlockCopy(bytes, 0, input, 0, bytes.Length);
                using var model = new App.Mnist();
                model.SetInput(input);
                model.Run();
                sbyte raw = model.Output[0]; // compiles only if the generated output is int8
                var scores = model.GetOutput();
                System.Console.WriteLine($"digit {System.Array.IndexOf(scores, scores.Max())}");
            }
            """);
        PackedSdk.WriteProject(mnist, "    <TinyModel Include=\"mnist.onnx\" Calibration=\"calib/*.bin\" />\n");
        var mnistBuild = Build(mnist);
        Assert.True(mnistBuild.ExitCode == 0, mnistBuild.Output);
        var mnistRun = _sdk.Dotnet(mnist, Path.Combine(mnist, "bin", "Debug", "net10.0", "App.dll"));
        Assert.True(mnistRun.ExitCode == 0, mnistRun.Output);
        Assert.Equal(digits, Regex.Matches(mnistRun.Output, @"digit (\d)").Select(m => int.Parse(m.Groups[1].Value)).ToList());
    }
}
