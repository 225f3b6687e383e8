/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_arch.c: tml_arch.h on the host. The host has no fast path, so the capabilities must say so; the portable
 * shims must mean what their comments say (checked against an int64 spec written here); and the shims the fast
 * paths call must equal the portable twins (arch_checks.h; the same checks run under QEMU on every core).
 */
#include "tml_test.h"

#include "arch_checks.h"

static int16_t lane16(uint32_t x, int k) { return (int16_t)(uint16_t)(x >> (16 * k)); }
static int8_t lane8(uint32_t x, int k) { return (int8_t)(uint8_t)(x >> (8 * k)); }

static void test_host_capabilities(void)
{
    int ok = TML_CHECK(TML_ARCH_CORTEX_M == 0, "host is not a Cortex-M") &
             /* Armv7-A (linux-arm) has the DSP instructions, but host plans never take the Cortex-M paths. */
             TML_CHECK(TML_USE_DSP == 0, "no DSP path on the host") &
             TML_CHECK(TML_ARCH_HAS_MVE == 0 && TML_USE_MVE == 0, "no MVE path on the host") &
             TML_CHECK(strcmp(TML_PATH_NAME, "portable") == 0, "path %s", TML_PATH_NAME);
    tml_test_record(ok, "host capabilities");
}

/* The portable twins against an independent statement of each instruction's result. */
static void test_portable_meaning(void)
{
    tml_rng rng = tml_rng_seed(11);
    int ok = 1;
    for (int i = 0; i < 200000 && ok; i++) {
        const uint32_t x = tml_rng_next(&rng), y = tml_rng_next(&rng);
        const int32_t acc = (int32_t)tml_rng_next(&rng);
        const uint32_t sx = tml_portable_sxtb16(x), sr = tml_portable_sxtb16_ror8(x);
        ok &= TML_CHECK(lane16(sx, 0) == lane8(x, 0) && lane16(sx, 1) == lane8(x, 2), "sxtb16 %08x -> %08x", x, sx);
        ok &= TML_CHECK(lane16(sr, 0) == lane8(x, 1) && lane16(sr, 1) == lane8(x, 3), "sxtb16 ror8 %08x -> %08x", x, sr);
        const int64_t smlad = (int64_t)acc + (int64_t)lane16(x, 0) * lane16(y, 0) + (int64_t)lane16(x, 1) * lane16(y, 1);
        ok &= TML_CHECK(tml_portable_smlad(x, y, acc) == (int32_t)(uint32_t)(uint64_t)smlad, "smlad %08x %08x %d", x, y, acc);
        const int64_t smlabb = (int64_t)acc + (int64_t)lane16(x, 0) * lane16(y, 0);
        ok &= TML_CHECK(tml_portable_smlabb(x, y, acc) == (int32_t)(uint32_t)(uint64_t)smlabb, "smlabb %08x %08x %d", x, y, acc);
        const int32_t v = (int32_t)x >> (i % 32);
        ok &= TML_CHECK(tml_portable_ssat8(v) == (v < -128 ? -128 : v > 127 ? 127 : v), "ssat8 %d", v);
        int8_t b[4] = {lane8(x, 0), lane8(x, 1), lane8(x, 2), lane8(x, 3)};
        ok &= TML_CHECK(tml_portable_read_s8x4(b) == x, "read_s8x4 %08x", x);
    }
    ok &= TML_CHECK(tml_portable_smlatt(0x8000FFFFu, 0x80000001u, 5) == 5 + 32768 * 32768, "smlatt takes the top lanes");
    ok &= TML_CHECK(tml_portable_sadd16(0x7FFF0001u, 0x0001FFFFu) == 0x80000000u, "sadd16 wraps each lane alone");
    ok &= TML_CHECK(tml_portable_uadd8(0xFF807F01u, 0x01808102u) == 0x00000003u, "uadd8 wraps each byte alone");
    tml_test_record(ok, "portable shims match their specification");
}

static void test_shims_equal_portable(void)
{
    uint32_t cases = 0;
    const uint32_t bad = tml_arch_check_shims(2026u, 100000u, &cases);
    tml_test_record(TML_CHECK(bad == 0 && cases > 1000000u, "%u of %u comparisons differ", bad, cases),
                    "shims equal their portable twins");
}

static void test_requant_equals_portable(void)
{
    uint32_t cases = 0;
    const uint32_t bad = tml_arch_check_requant(7u, 2000000u, &cases);
    tml_test_record(TML_CHECK(bad == 0 && cases > 2000000u, "%u of %u requantizations differ", bad, cases),
                    "tml_requant_apply and the shr2 forms equal tml_mul_by_quantized_multiplier");
}

int main(void)
{
    test_host_capabilities();
    test_portable_meaning();
    test_shims_equal_portable();
    test_requant_equals_portable();
    return TML_TEST_SUMMARY("test_arch");
}
