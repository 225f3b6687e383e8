/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.c: runs the model described by tml_device_the_model on every input vector the runner provides.
 *
 * Files, relative to QEMU's working directory (semihosting):
 *   in<k>_<i>.bin   input i of vector k (k = 0, 1, ...; the first missing in<k>_0.bin ends the run)
 *   out<k>_<j>.bin  output j of vector k, exactly OUTPUT<j>_BYTES bytes
 *   counts.bin      per vector, seven little-endian uint32: start_value, start_wraps, end_value, end_wraps,
 *                   spins, sp_at_call, stack_low_water (see tml_measurement and docs/device.md)
 * Each vector starts from zeroed state (reset_state), as TFLM's golden outputs do.
 * Exit codes: 0 ok, 2 an input file is missing or short, 3 an output cannot be written, 4 the model returned a
 * non-zero status (printed), 127 a fault (printed by startup.c).
 */
#include "tml_device.h"

/* "<prefix><a>_<b>.bin" */
static void tml_name(char *to, const char *prefix, uint32_t a, uint32_t b)
{
    char digits[10];
    uint32_t values[2];
    int v;
    values[0] = a;
    values[1] = b;
    while (*prefix != '\0') *to++ = *prefix++;
    for (v = 0; v < 2; v++) {
        int n = 0;
        uint32_t x = values[v];
        do {
            digits[n++] = (char)('0' + x % 10u);
            x /= 10u;
        } while (x != 0);
        while (n > 0) *to++ = digits[--n];
        *to++ = v == 0 ? '_' : '.';
    }
    *to++ = 'b';
    *to++ = 'i';
    *to++ = 'n';
    *to = '\0';
}

static void tml_print_status(int32_t status)
{
    char text[12];
    int n = 0;
    uint32_t x = status < 0 ? 0u - (uint32_t)status : (uint32_t)status;
    char digits[10];
    int d = 0;
    if (status < 0) text[n++] = '-';
    do {
        digits[d++] = (char)('0' + x % 10u);
        x /= 10u;
    } while (x != 0);
    while (d > 0) text[n++] = digits[--d];
    text[n] = '\0';
    tml_sh_print("tml-device: invoke returned status ");
    tml_sh_print(text);
    tml_sh_print("\n");
}

int main(void)
{
    const tml_device_model *m = &tml_device_the_model;
    uint8_t *arena = m->arena();
    int32_t counts = tml_sh_open("counts.bin", 1);
    uint32_t k;
    char name[32];
    if (counts < 0) return 3;
    tml_counter_start();
    for (k = 0;; k++) {
        uint32_t i;
        tml_measurement t;
        uint32_t record[7];
        int32_t status;
        for (i = 0; i < m->input_count; i++) {
            int32_t h;
            tml_name(name, "in", k, i);
            h = tml_sh_open(name, 0);
            if (h < 0) {
                if (k > 0 && i == 0) {
                    tml_sh_close(counts);
                    return 0;
                }
                tml_sh_print("tml-device: cannot open ");
                tml_sh_print(name);
                tml_sh_print("\n");
                return 2;
            }
            if (tml_sh_read(h, arena + m->input_offset[i], m->input_bytes[i]) != 0) {
                tml_sh_print("tml-device: short input ");
                tml_sh_print(name);
                tml_sh_print("\n");
                return 2;
            }
            tml_sh_close(h);
        }
        m->reset_state();
        tml_stack_paint();
        status = tml_measure(m->invoke, arena, &t);
        if (status != 0) {
            tml_print_status(status);
            return 4;
        }
        record[0] = t.start_value;
        record[1] = t.start_wraps;
        record[2] = t.end_value;
        record[3] = t.end_wraps;
        record[4] = t.spins;
        record[5] = t.sp_at_call;
        record[6] = tml_stack_low_water();
        if (tml_sh_write(counts, record, sizeof record) != 0) return 3;
        for (i = 0; i < m->output_count; i++) {
            int32_t h;
            tml_name(name, "out", k, i);
            h = tml_sh_open(name, 1);
            if (h < 0 || tml_sh_write(h, arena + m->output_offset[i], m->output_bytes[i]) != 0) return 3;
            tml_sh_close(h);
        }
        if (m->input_count == 0) break;
    }
    tml_sh_close(counts);
    return 0;
}
