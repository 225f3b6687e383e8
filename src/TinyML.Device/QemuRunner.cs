// SPDX-License-Identifier: Apache-2.0
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace TinyML.Device;

/// <summary>The result of one input vector on the device.</summary>
/// <param name="Outputs">The bytes of each model output.</param>
/// <param name="Instructions">Guest instructions of one invoke (SysTick, tick-edge synchronised; docs/device.md).</param>
/// <param name="Ticks">SysTick ticks between the two tick edges around the invoke.</param>
/// <param name="StackBytes">The stack the invoke actually used (painted stack, high-water mark); a SysTick wrap
/// during the invoke adds its exception frame.</param>
/// <param name="Wraps">SysTick wraps (interrupts) during the invoke: each adds a few handler instructions to the
/// count and an exception frame to the stack.</param>
public sealed record DeviceVectorResult(IReadOnlyList<byte[]> Outputs, long Instructions, long Ticks, long StackBytes, long Wraps);

/// <summary>One calibration point: a loop of known length measured with the harness's counter.</summary>
/// <param name="Iterations">n of tml_calibration_loop(n).</param>
/// <param name="ExpectedInstructions">2n + 1.</param>
/// <param name="MeasuredInstructions">What the counter says (not rounded).</param>
/// <param name="Ticks">SysTick ticks between the two edges.</param>
/// <param name="Wraps">SysTick wraps (interrupts) during the measurement.</param>
public sealed record CalibrationPoint(long Iterations, long ExpectedInstructions, double MeasuredInstructions, long Ticks, long Wraps)
{
    /// <summary>Measured minus expected.</summary>
    public double Error => MeasuredInstructions - ExpectedInstructions;
}

/// <summary>
/// Runs a linked program on qemu-system-arm (<c>-M machine -nographic -semihosting-config enable=on,target=native
/// -icount shift=0</c>) in a fresh working folder: inputs go in as files the harness reads through semihosting,
/// outputs and the raw SysTick readings come back as files. A run that does not finish in <see cref="Timeout"/>
/// is killed with its whole process tree.
/// </summary>
public sealed class QemuRunner
{
    /// <summary>Instructions of the measuring sequence between its two edge-detecting reads (TML_MEASURE_OVERHEAD
    /// in tml_device.h): the count derived from measure.S is 10; the calibration centres the error on 9.</summary>
    public const int MeasureOverhead = 9;

    /// <summary>Finds QEMU (<paramref name="qemuPath"/>, TML_QEMU, then PATH); TML0006 when it is missing.</summary>
    public QemuRunner(string? qemuPath = null) => QemuPath = Qemu.Locate(qemuPath);

    /// <summary>The qemu-system-arm in use.</summary>
    public string QemuPath { get; }

    /// <summary>The hard limit of one QEMU run (default 2 minutes).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Runs every input vector (each a list of the model's input tensors' bytes) through one QEMU process,
    /// from zeroed state each time.</summary>
    public IReadOnlyList<DeviceVectorResult> Run(DeviceImage image, IReadOnlyList<IReadOnlyList<byte[]>> vectors)
    {
        if (vectors.Count == 0) throw new ArgumentException("no input vectors", nameof(vectors));
        string dir = NewRunDirectory(image);
        try
        {
            for (int k = 0; k < vectors.Count; k++)
            {
                if (vectors[k].Count != image.InputBytes.Count)
                    throw new DeviceException(DiagnosticIds.InputMismatch, $"vector {k} has {vectors[k].Count} inputs; the model has {image.InputBytes.Count}");
                for (int i = 0; i < vectors[k].Count; i++)
                {
                    if (vectors[k][i].Length != image.InputBytes[i])
                        throw new DeviceException(DiagnosticIds.InputMismatch, $"vector {k} input {i} has {vectors[k][i].Length} bytes; the model expects {image.InputBytes[i]}");
                    File.WriteAllBytes(Path.Combine(dir, $"in{k}_{i}.bin"), vectors[k][i]);
                }
            }
            Execute(image, dir);
            var counts = File.ReadAllBytes(Path.Combine(dir, "counts.bin"));
            if (counts.Length != vectors.Count * 28)
                throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"the harness measured {counts.Length / 28} of {vectors.Count} vectors");
            var results = new List<DeviceVectorResult>();
            for (int k = 0; k < vectors.Count; k++)
            {
                var outputs = new List<byte[]>();
                for (int j = 0; j < image.OutputBytes.Count; j++)
                {
                    string file = Path.Combine(dir, $"out{k}_{j}.bin");
                    var bytes = File.Exists(file) ? File.ReadAllBytes(file) : Array.Empty<byte>();
                    if (bytes.Length != image.OutputBytes[j])
                        throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"vector {k} output {j}: {bytes.Length} bytes, expected {image.OutputBytes[j]}");
                    outputs.Add(bytes);
                }
                var r = Record(counts, k * 28, 7);
                var (ticks, instructions) = Count(image.Core, r[0], r[1], r[2], r[3], r[4]);
                results.Add(new DeviceVectorResult(outputs, (long)Math.Round(instructions), ticks, (long)r[5] - r[6], (long)r[3] - r[1]));
            }
            return results;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Runs the calibration program (<see cref="DeviceBuild.BuildCalibration"/>).</summary>
    public IReadOnlyList<CalibrationPoint> Calibrate(DeviceImage calibration)
    {
        string dir = NewRunDirectory(calibration);
        try
        {
            Execute(calibration, dir);
            var data = File.ReadAllBytes(Path.Combine(dir, "calibration.bin"));
            var points = new List<CalibrationPoint>();
            for (int at = 0; at + 32 <= data.Length; at += 32)
            {
                var r = Record(data, at, 8);
                var (ticks, instructions) = Count(calibration.Core, r[1], r[2], r[3], r[4], r[5]);
                points.Add(new CalibrationPoint(r[0], 2L * r[0] + 1, instructions, ticks, r[4] - r[2]));
            }
            return points;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>ticks = wraps * 2^24 + start - end; instructions = ticks * per-tick - 4 * spins - overhead.</summary>
    internal static (long Ticks, double Instructions) Count(CortexMCore core, uint startValue, uint startWraps, uint endValue, uint endWraps, uint spins)
    {
        long ticks = (long)(endWraps - startWraps) * (1L << 24) + startValue - endValue;
        return (ticks, ticks * core.InstructionsPerTick - 4.0 * spins - MeasureOverhead);
    }

    private static uint[] Record(byte[] data, int at, int words) =>
        Enumerable.Range(0, words).Select(w => BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 4 * w))).ToArray();

    private static string NewRunDirectory(DeviceImage image)
    {
        string dir = Path.Combine(image.Directory, $"run-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private void Execute(DeviceImage image, string dir)
    {
        var args = new[]
        {
            "-M", image.Core.QemuMachine, "-nographic", "-semihosting-config", "enable=on,target=native",
            "-icount", "shift=0", "-kernel", image.ElfPath,
        };
        var result = ToolProcess.Run(QemuPath, args, dir, Timeout);
        string where = $"{Path.GetFileName(image.ElfPath)} on {image.Core.Name} ({image.Core.QemuMachine})";
        if (result.TimedOut)
            throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"{where} did not finish within {Timeout.TotalSeconds:0} s; QEMU was killed");
        switch (result.ExitCode)
        {
            case 0:
                return;
            case 4:
                throw new DeviceException(DiagnosticIds.KernelFailed, $"{where}: {result.Output}");
            case 127:
                throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"{where} faulted: {result.Output}");
            case 2:
                throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"{where} could not read its input: {result.Output}");
            case 3:
                throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"{where} could not write its output: {result.Output}");
            default:
                throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"{where} exited with code {result.ExitCode}: {result.Output}");
        }
    }
}
