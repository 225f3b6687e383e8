/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ref_diff.c: the differential harness (ref_diff.h) on the host: every MAC-heavy kernel as built against
 * the reference library (tml_ref_*, the portable path), once for each host SIMD path the CPU has (AVX2 and SSE4.1
 * on x86-64; NEON with and without the dot-product instructions on arm64, under qemu-user) and once for the
 * portable path. The same harness runs under QEMU on every Cortex-M core whose build selects a fast path.
 */
#include "tml_test.h"

#include "ref_diff.h"

int main(void)
{
    tml_test_record(TML_CHECK(tml_conv_s8 != tml_ref_conv_s8 && tml_softmax_s8 != tml_ref_softmax_s8,
                              "the reference entry points are distinct functions"),
                    "two libraries linked");
    tml_test_record(TML_CHECK(strcmp(tml_ref_arch_path(), "portable") == 0 &&
                                  strcmp(tml_arch_path(), TML_PATH_NAME) == 0,
                              "library path %s, reference path %s", tml_arch_path(), tml_ref_arch_path()),
                    "the reference library takes the portable path");
    tml_test_record(TML_CHECK(tml_ref_diff_selftest(), "a planted difference was not found"), "comparison self-test");
    /* Every host SIMD path this CPU has (host/host_path.h), then the portable one; on Cortex-M only the latter. */
    const int32_t best = tml_host_path();
    const int32_t paths[] = {TML_HOST_PATH_AVX2, TML_HOST_PATH_SSE41, TML_HOST_PATH_NEON_DOT, TML_HOST_PATH_NEON,
                             TML_HOST_PATH_PORTABLE};
    int ran = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (tml_host_path_set(paths[i]) != paths[i]) {
            continue;
        }
        ran++;
        const tml_ref_diff_result res = tml_ref_diff_run(20261206u, 400u);
        printf("ref_diff, host path %d: %u cases, %u with TML_OK on both sides, %u mismatches\n", (int)paths[i],
               res.cases, res.ok_cases, res.mismatches);
        tml_test_record(TML_CHECK(res.mismatches == 0, "host path %d, first mismatch: %s, case %u", (int)paths[i],
                                  res.first_kernel, res.first_case),
                        "fast path equals the reference");
        tml_test_record(TML_CHECK(res.cases > 3000u && res.ok_cases * 10u >= res.cases * 9u,
                                  "%u cases, %u ok: too few kernel calls succeeded to compare anything", res.cases,
                                  res.ok_cases),
                        "the cases exercise the kernels");
    }
    tml_test_record(TML_CHECK(ran >= 1 && (best == TML_HOST_PATH_PORTABLE || ran >= 2), "%d paths ran, best %d", ran,
                              (int)best),
                    "every path the CPU has was compared");
    tml_host_path_set(best);
    return TML_TEST_SUMMARY("test_ref_diff");
}
