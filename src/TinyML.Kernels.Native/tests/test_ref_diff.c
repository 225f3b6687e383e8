/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ref_diff.c: the differential harness (ref_diff.h) on the host: every MAC-heavy kernel as built against
 * the reference library (tml_ref_*, the portable path). On the host both take the portable path; the test
 * proves the mechanism (two distinct copies, the comparison catches a planted difference) and becomes a real
 * comparison on every core whose build selects a fast path.
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
    const tml_ref_diff_result res = tml_ref_diff_run(20261206u, 400u);
    printf("ref_diff: %u cases, %u with TML_OK on both sides, %u mismatches\n", res.cases, res.ok_cases,
           res.mismatches);
    tml_test_record(TML_CHECK(res.mismatches == 0, "first mismatch: %s, case %u", res.first_kernel, res.first_case),
                    "fast path equals the reference");
    tml_test_record(TML_CHECK(res.cases > 3000u && res.ok_cases * 10u >= res.cases * 9u,
                              "%u cases, %u ok: too few kernel calls succeeded to compare anything", res.cases,
                              res.ok_cases),
                    "the cases exercise the kernels");
    return TML_TEST_SUMMARY("test_ref_diff");
}
