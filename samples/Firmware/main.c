/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal bare-metal program for the MPS2 AN386 board (Cortex-M4), as QEMU emulates it: it runs the
 * KeywordSpotting sample model (compiled by `tinyml compile`, no interpreter) on a synthetic feature map and prints
 * the 12 scores over semihosting. Start-up code, linker script and semihosting come from the TinyML device runtime.
 */
#include <stdint.h>
#include "kws.h"
#include "tml_device.h"

static const char *const labels[12] = {
    "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "_silence_", "_unknown_",
};

static void print_int(int32_t value)
{
    char text[12];
    int n = 0;
    uint32_t magnitude = value < 0 ? (uint32_t)(-(value + 1)) + 1u : (uint32_t)value;
    char digits[11];
    do {
        digits[n++] = (char)('0' + magnitude % 10u);
        magnitude /= 10u;
    } while (magnitude != 0u);
    int i = 0;
    if (value < 0) text[i++] = '-';
    while (n > 0) text[i++] = digits[--n];
    text[i] = '\0';
    tml_sh_print(text);
}

int main(void)
{
    uint8_t *arena = kws_arena();
    int8_t *input = (int8_t *)(arena + KWS_INPUT0_OFFSET);
    const int8_t *scores = (const int8_t *)(arena + KWS_OUTPUT0_OFFSET);
    int32_t i;

    /* A deterministic ripple standing in for 49 frames of 10 features (int8, the model's input quantization). */
    for (i = 0; i < KWS_INPUT0_BYTES; i++) input[i] = (int8_t)((i * 37 % 251) - 125);
    kws_reset_state();
    if (kws_invoke(arena) != 0) {
        tml_sh_print("kws_invoke failed\n");
        tml_sh_exit(1);
    }
    tml_sh_print("keyword scores (int8, scale 1/256, zero point -128):\n");
    for (i = 0; i < KWS_OUTPUT0_BYTES; i++) {
        tml_sh_print("  ");
        tml_sh_print(labels[i]);
        tml_sh_print(" ");
        print_int((int32_t)scores[i] + 128);
        tml_sh_print("/256\n");
    }
    tml_sh_exit(0);
}
