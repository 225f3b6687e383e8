// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Device;

/// <summary>
/// One Cortex-M core: the arm-none-eabi-gcc flags that select it, and the QEMU machine that emulates it.
/// </summary>
/// <param name="Name">The core, as TinyMLTarget spells it (for example <c>cortex-m4</c>).</param>
/// <param name="CpuFlags">-mcpu, -mfpu and -mfloat-abi; -mthumb is always added.</param>
/// <param name="QemuMachine">The qemu-system-arm machine (-M).</param>
/// <param name="LinkerScript">The machine's linker script in device/ld.</param>
/// <param name="InstructionsPerTick">
/// Guest instructions per SysTick tick under <c>-icount shift=0</c> (1 ns per instruction): 1e9 / the machine's
/// SysTick clock. The calibration test checks it.
/// </param>
/// <param name="Note">How the core is emulated when QEMU has no machine with exactly that core.</param>
public sealed record CortexMCore(string Name, string CpuFlags, string QemuMachine, string LinkerScript, double InstructionsPerTick, string? Note = null)
{
    /// <summary>The gcc flags as separate arguments, -mthumb included.</summary>
    public IReadOnlyList<string> GccFlags => CpuFlags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("-mthumb").ToList();

    /// <summary>The -mcpu value, for example <c>cortex-m4</c>.</summary>
    public string Cpu => FlagValue("-mcpu=");

    /// <summary>The -mfloat-abi value: <c>soft</c> or <c>hard</c>.</summary>
    public string FloatAbi => FlagValue("-mfloat-abi=");

    private string FlagValue(string prefix) =>
        GccFlags.Single(f => f.StartsWith(prefix, StringComparison.Ordinal)).Substring(prefix.Length);

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>The Cortex-M cores the device build supports.</summary>
public static class CortexM
{
    /// <summary>Cortex-M0+ (Armv6-M, no FPU). QEMU has no M0+ machine: its code runs on mps2-an385's Cortex-M3, which
    /// executes Armv6-M code unchanged, so results and instruction counts are those of the M0+ binary.</summary>
    public static readonly CortexMCore M0Plus = new("cortex-m0plus", "-mcpu=cortex-m0plus -mfloat-abi=soft", "mps2-an385", "mps2.ld", 40,
        "runs on mps2-an385 (Cortex-M3), which executes Armv6-M code unchanged");

    /// <summary>Cortex-M3 (Armv7-M, no FPU) on mps2-an385, SysTick at 25 MHz.</summary>
    public static readonly CortexMCore M3 = new("cortex-m3", "-mcpu=cortex-m3 -mfloat-abi=soft", "mps2-an385", "mps2.ld", 40);

    /// <summary>Cortex-M4 (Armv7E-M, FPv4-SP, hard float) on mps2-an386, SysTick at 25 MHz.</summary>
    public static readonly CortexMCore M4 = new("cortex-m4", "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard", "mps2-an386", "mps2.ld", 40);

    /// <summary>Cortex-M7 (Armv7E-M, FPv5 double precision, hard float) on mps2-an500, SysTick at 25 MHz.</summary>
    public static readonly CortexMCore M7 = new("cortex-m7", "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard", "mps2-an500", "mps2.ld", 40);

    /// <summary>Cortex-M33 (Armv8-M Mainline, FPv5-SP, hard float) on mps2-an505 (Secure state), SysTick at 20 MHz.</summary>
    public static readonly CortexMCore M33 = new("cortex-m33", "-mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard", "mps2-an505", "an505.ld", 50);

    /// <summary>Cortex-M55 (Armv8.1-M, FPU and MVE, hard float) on mps3-an547 (Secure state), SysTick at 32 MHz
    /// (31.25 instructions per tick, so counts are exact within about 4 instructions rather than 2).</summary>
    public static readonly CortexMCore M55 = new("cortex-m55", "-mcpu=cortex-m55 -mfpu=auto -mfloat-abi=hard", "mps3-an547", "an547.ld", 31.25);

    /// <summary>Every supported core.</summary>
    public static IReadOnlyList<CortexMCore> Cores { get; } = new[] { M0Plus, M3, M4, M7, M33, M55 };

    /// <summary>Finds a core by name: <c>cortex-m4</c>, <c>m4</c> or <c>M4</c>.</summary>
    public static CortexMCore? Find(string name)
    {
        string key = name.Trim().ToLowerInvariant();
        if (!key.StartsWith("cortex-", StringComparison.Ordinal)) key = "cortex-" + key;
        if (key == "cortex-m0+") key = "cortex-m0plus";
        return Cores.FirstOrDefault(c => c.Name == key);
    }

    /// <summary>Finds a core by name or throws <see cref="DeviceException"/> (TML0004) naming the supported ones.</summary>
    public static CortexMCore Get(string name) => Find(name) ?? throw new DeviceException(DiagnosticIds.UnknownTarget,
        $"'{name}' is not a supported core; use one of {string.Join(", ", Cores.Select(c => c.Name))}.");
}
