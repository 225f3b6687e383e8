// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Budgets;

/// <summary>A microcontroller board preset: its core and memories.</summary>
public sealed record Board(string Name, string Description, string Core, long SramBytes, long FlashBytes)
{
    /// <summary>The presets <c>TinyMLBoard</c> accepts (names are case-insensitive).</summary>
    public static IReadOnlyList<Board> Presets { get; } = new[]
    {
        new Board("stm32f746-disco", "STM32F746 Discovery", "cortex-m7", 320 * 1024, 1024 * 1024),
        new Board("nucleo-h743zi", "NUCLEO-H743ZI", "cortex-m7", 512 * 1024, 2 * 1024 * 1024),
        new Board("nucleo-l4r5zi", "NUCLEO-L4R5ZI", "cortex-m4", 640 * 1024, 2 * 1024 * 1024),
        new Board("nano33ble", "Arduino Nano 33 BLE / nRF52840", "cortex-m4", 256 * 1024, 1024 * 1024),
        new Board("pico", "Raspberry Pi Pico (RP2040)", "cortex-m0plus", 264 * 1024, 2 * 1024 * 1024),
        new Board("pico2", "Raspberry Pi Pico 2 (RP2350)", "cortex-m33", 520 * 1024, 4 * 1024 * 1024),
    };

    /// <summary>The cores a model can target (TinyMLTarget, TargetCore).</summary>
    public static IReadOnlyList<string> Cores { get; } = new[] { "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55" };

    /// <summary>The preset with this name, or null.</summary>
    public static Board? Find(string name) => Presets.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase));
}
