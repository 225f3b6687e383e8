/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch_main.c: the shim checks of arch_checks.h as a bare-metal program (linked with device/startup.c and
 * semihost.c). Prints which path the build takes and the result; exits 0 when every shim equals its portable
 * twin and the fast requantization equals the portable one, 1 otherwise.
 */
#include "tml_device.h"

#include "arch_checks.h"

static void put_u32(uint32_t v)
{
    char text[11];
    int i = 10;
    text[i] = '\0';
    do {
        text[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && i > 0);
    tml_sh_print(text + i);
}

int main(void)
{
    uint32_t cases = 0;
    const uint32_t bad = tml_arch_check_shims(2026u, 20000u, &cases);
    tml_sh_print("tml_arch path=" TML_PATH_NAME " comparisons=");
    put_u32(cases);
    tml_sh_print(" mismatches=");
    put_u32(bad);
    uint32_t requant_cases = 0;
    const uint32_t requant_bad = tml_arch_check_requant(7u, 200000u, &requant_cases);
    tml_sh_print(" requant_comparisons=");
    put_u32(requant_cases);
    tml_sh_print(" requant_mismatches=");
    put_u32(requant_bad);
    tml_sh_print("\n");
    return bad == 0 && cases > 0 && requant_bad == 0 && requant_cases > 0 ? 0 : 1;
}
