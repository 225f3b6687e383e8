// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Device.Tests;

/// <summary>
/// The instruction counter, checked against a workload of known length: tml_calibration_loop(n) executes exactly
/// 2n + 1 instructions (hand-written Thumb). Measured with the harness's own counter (tick-edge synchronised
/// SysTick), every n from 1 to 100 and long runs up to 800 million instructions (across a SysTick wrap) must come
/// out within 2 instructions (4 on mps3-an547, whose 32 MHz SysTick is 31.25 instructions per tick), plus at most
/// 8 per SysTick wrap (the wrap handler's own instructions, counted as part of the measured code).
/// </summary>
public sealed class CalibrationTests
{
    private readonly ITestOutputHelper _output;

    public CalibrationTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Cores() => new(CortexM.Cores.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cores))]
    public void KnownLoop_IsCountedExactly(string coreName)
    {
        var core = CortexM.Get(coreName);
        var image = DeviceBuild.BuildCalibration(Device.Options(core, "calibration"));
        var points = Device.Runner.Calibrate(image);
        Assert.Equal(106, points.Count);
        double tolerance = core.InstructionsPerTick == Math.Floor(core.InstructionsPerTick) ? 2 : 4;
        foreach (var p in points)
        {
            Assert.True(Math.Abs(p.Error) <= tolerance + 8 * p.Wraps,
                $"{core.Name}: n = {p.Iterations}: measured {p.MeasuredInstructions}, expected {p.ExpectedInstructions} ({p.Ticks} ticks)");
        }
        var errors = points.Where(p => p.Wraps == 0).Select(p => p.Error).ToList();
        _output.WriteLine($"{core.Name} ({core.QemuMachine}, {core.InstructionsPerTick} instructions/tick): error min {errors.Min()}, max {errors.Max()}, mean {errors.Average():F2}");
        foreach (var p in points.Where(p => p.Iterations >= 1000))
            _output.WriteLine($"  n = {p.Iterations}: expected {p.ExpectedInstructions}, measured {p.MeasuredInstructions} ({p.Ticks} ticks, {p.Wraps} wraps)");
    }
}
