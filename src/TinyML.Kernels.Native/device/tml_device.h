/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tml_device.h: the bare-metal runtime that runs a generated model on an emulated Cortex-M (QEMU mps2/mps3).
 *
 * Not part of the kernel library: the kernels stay pure. This runtime is what the device build links around
 * them: a vector table and reset handler (startup.c), Arm semihosting file I/O (semihost.c), an instruction
 * counter built on SysTick (measure.S) and a harness main (harness.c) that reads inputs, invokes and writes
 * outputs and counts. A model is described to the harness by the tml_device_model the device build generates.
 */
#ifndef TML_DEVICE_H
#define TML_DEVICE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the harness needs to know of one generated model (filled in by the generated glue file). */
typedef struct {
    uint8_t *(*arena)(void);              /* {name}_arena */
    int32_t (*invoke)(void *arena);       /* calls {name}_invoke (one tail-call branch in the glue) */
    void (*reset_state)(void);            /* {name}_reset_state */
    uint32_t input_count;
    const uint32_t *input_offset;         /* arena offsets of the inputs */
    const uint32_t *input_bytes;
    uint32_t output_count;
    const uint32_t *output_offset;
    const uint32_t *output_bytes;
} tml_device_model;

/* The model the harness runs (defined by the generated glue file). */
extern const tml_device_model tml_device_the_model;

/* ---- semihosting (semihost.c) ------------------------------------------------------------------------- */

/* Opens a file on the host; mode "rb" or "wb". Returns a handle >= 0, or -1. */
int32_t tml_sh_open(const char *path, int write);
/* Reads exactly `bytes` bytes. Returns 0 on success, -1 on a short read or an error. */
int32_t tml_sh_read(int32_t handle, void *to, uint32_t bytes);
/* Writes exactly `bytes` bytes. Returns 0 on success, -1 on an error. */
int32_t tml_sh_write(int32_t handle, const void *from, uint32_t bytes);
/* Closes a handle. */
void tml_sh_close(int32_t handle);
/* Writes a NUL-terminated string to the host console (QEMU's stdout). */
void tml_sh_print(const char *text);
/* Ends the emulation; QEMU exits with `code` (SYS_EXIT_EXTENDED). Does not return. */
void tml_sh_exit(int32_t code) __attribute__((noreturn));

/* ---- instruction counting (measure.S, startup.c) ------------------------------------------------------ */

/*
 * The raw SysTick readings around one call, synchronised to tick edges (see docs/device.md):
 *   ticks = (end_wraps - start_wraps) * 2^24 + start_value - end_value
 *   instructions of fn = ticks * (instructions per tick) - 4 * spins - TML_MEASURE_OVERHEAD, within -2..+3.
 */
typedef struct {
    uint32_t start_value;
    uint32_t start_wraps;
    uint32_t end_value;
    uint32_t end_wraps;
    uint32_t spins;
    uint32_t sp_at_call; /* SP when fn was called: sp_at_call - tml_stack_low_water() is fn's stack depth */
} tml_measurement;

/* Instructions of the measuring sequence itself between its two edge-detecting reads: 10 by the hand count in
 * measure.S, 9 as calibrated (QEMU shows the new counter value one instruction earlier; docs/device.md). The host
 * (QemuRunner.MeasureOverhead) applies it. */
#define TML_MEASURE_OVERHEAD 9

/* Starts SysTick on the processor clock, reload 0xFFFFFF, counting wraps in its handler. */
void tml_counter_start(void);
/* Calls fn(arg) between two tick-edge-synchronised SysTick reads. Returns fn's result. */
int32_t tml_measure(int32_t (*fn)(void *), void *arg, tml_measurement *out);
/* SysTick wraps so far (incremented by the SysTick handler). */
extern volatile uint32_t tml_systick_wraps;

/* ---- stack (measure.S, startup.c, linker script) ------------------------------------------------------ */

/* Fills the free stack (from the stack limit up to the current SP) with a pattern (measure.S). */
void tml_stack_paint(void);
/* The lowest stack address written since tml_stack_paint (the painting point if none was). */
uint32_t tml_stack_low_water(void);

#ifdef __cplusplus
}
#endif

#endif
