/* SPDX-License-Identifier: Apache-2.0 */
/*
 * calibrate.c: measures tml_calibration_loop(n), which executes exactly 2n + 1 instructions, for a range of n
 * with the same counter the harness uses. Writes calibration.bin: per n, eight little-endian uint32: n, then
 * the seven words of a harness counts.bin record. The host checks ticks * (instructions per tick) - 4 * spins
 * - TML_MEASURE_OVERHEAD against 2n + 1 (docs/device.md).
 */
#include "tml_device.h"

int32_t tml_calibration_loop(void *iterations);

/* Every n from 1 to 100 (each phase of a 2n + 1 workload against the 40-instruction tick, several times),
   then long workloads; the last one crosses a SysTick wrap (2^24 ticks). */
static const uint32_t tml_calibration_long[] = {1000u, 12345u, 100000u, 1000000u, 10000000u, 400000000u};

#define TML_SHORT_N 100u

int main(void)
{
    int32_t h = tml_sh_open("calibration.bin", 1);
    uint32_t i;
    const uint32_t count = TML_SHORT_N + sizeof tml_calibration_long / sizeof tml_calibration_long[0];
    if (h < 0) return 3;
    tml_counter_start();
    for (i = 0; i < count; i++) {
        tml_measurement t;
        uint32_t record[8];
        const uint32_t n = i < TML_SHORT_N ? i + 1u : tml_calibration_long[i - TML_SHORT_N];
        tml_stack_paint();
        (void)tml_measure(tml_calibration_loop, (void *)(uintptr_t)n, &t);
        record[0] = n;
        record[1] = t.start_value;
        record[2] = t.start_wraps;
        record[3] = t.end_value;
        record[4] = t.end_wraps;
        record[5] = t.spins;
        record[6] = t.sp_at_call;
        record[7] = tml_stack_low_water();
        if (tml_sh_write(h, record, sizeof record) != 0) return 3;
    }
    tml_sh_close(h);
    return 0;
}
