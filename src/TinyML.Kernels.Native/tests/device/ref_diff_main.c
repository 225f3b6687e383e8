/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ref_diff_main.c: the differential harness (ref_diff.h) as a bare-metal program, linked with the core's kernel
 * archive and its reference archive (tml_ref_*). Prints the paths and counts; exits 0 when every case agrees.
 */
#include "tml_device.h"

#include "ref_diff.h"

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
    const int selftest = tml_ref_diff_selftest();
    const tml_ref_diff_result res = tml_ref_diff_run(20261206u, 150u);
    tml_sh_print("ref_diff path=");
    tml_sh_print(tml_arch_path());
    tml_sh_print(" reference=");
    tml_sh_print(tml_ref_arch_path());
    tml_sh_print(" cases=");
    put_u32(res.cases);
    tml_sh_print(" ok=");
    put_u32(res.ok_cases);
    tml_sh_print(" mismatches=");
    put_u32(res.mismatches);
    if (res.mismatches != 0) {
        tml_sh_print(" first=");
        tml_sh_print(res.first_kernel);
        tml_sh_print(" case=");
        put_u32(res.first_case);
    }
    tml_sh_print(selftest ? " selftest=ok\n" : " selftest=FAILED\n");
    return selftest && res.mismatches == 0 && res.cases > 0 ? 0 : 1;
}
