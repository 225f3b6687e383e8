/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch_checks.h: the shims of tml_arch.h against their portable twins over random and edge inputs. No printf and
 * no libc beyond memcpy, so the same checks run in the host CTest (test_arch.c) and bare metal under QEMU
 * (device/arch_main.c), where the DSP cores take the intrinsic side.
 */
#ifndef TML_ARCH_CHECKS_H
#define TML_ARCH_CHECKS_H

#include <stdint.h>

#include "common.h"
#include "tml_arch.h"

static uint32_t tml_arch_checks_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Words that sit on every lane boundary: sign bits, extremes of int8 and int16 lanes, zero. */
static const uint32_t tml_arch_checks_edges[] = {
    0x00000000u, 0xFFFFFFFFu, 0x7F7F7F7Fu, 0x80808080u, 0x7FFF7FFFu, 0x80008000u, 0x80007FFFu, 0x7FFF8000u,
    0x00800080u, 0x007F007Fu, 0xFF80FF80u, 0x01020304u, 0x80000000u, 0x7FFFFFFFu, 0x0000FFFFu, 0xFFFF0000u,
};
#define TML_ARCH_CHECKS_EDGES (sizeof tml_arch_checks_edges / sizeof tml_arch_checks_edges[0])

/* A random word, or (one time in four) an edge word. */
static uint32_t tml_arch_checks_word(uint32_t *s)
{
    const uint32_t r = tml_arch_checks_next(s);
    return (r & 3u) == 0 ? tml_arch_checks_edges[(r >> 2) % TML_ARCH_CHECKS_EDGES] : tml_arch_checks_next(s);
}

/* Number of disagreements between each shim and its portable twin over n random cases (0 = all agree). Every
 * edge pair is also checked. *cases is set to the number of comparisons made. */
static uint32_t tml_arch_check_shims(uint32_t seed, uint32_t n, uint32_t *cases)
{
    uint32_t s = seed != 0 ? seed : 1u;
    uint32_t bad = 0;
    uint32_t count = 0;
    int8_t bytes[8];
    for (uint32_t i = 0; i < n + TML_ARCH_CHECKS_EDGES * TML_ARCH_CHECKS_EDGES; i++) {
        uint32_t x, y;
        int32_t acc;
        if (i < TML_ARCH_CHECKS_EDGES * TML_ARCH_CHECKS_EDGES) {
            x = tml_arch_checks_edges[i / TML_ARCH_CHECKS_EDGES];
            y = tml_arch_checks_edges[i % TML_ARCH_CHECKS_EDGES];
            acc = (int32_t)tml_arch_checks_edges[(i * 7u) % TML_ARCH_CHECKS_EDGES];
        } else {
            x = tml_arch_checks_word(&s);
            y = tml_arch_checks_word(&s);
            acc = (int32_t)tml_arch_checks_word(&s);
        }
        bad += tml_sxtb16(x) != tml_portable_sxtb16(x);
        bad += tml_sxtb16_ror8(x) != tml_portable_sxtb16_ror8(x);
        bad += tml_smlad(x, y, acc) != tml_portable_smlad(x, y, acc);
        bad += tml_smlabb(x, y, acc) != tml_portable_smlabb(x, y, acc);
        bad += tml_smlatt(x, y, acc) != tml_portable_smlatt(x, y, acc);
        bad += tml_sadd16(x, y) != tml_portable_sadd16(x, y);
        bad += tml_uadd8(x, y) != tml_portable_uadd8(x, y);
        bad += tml_ssat8((int32_t)x) != tml_portable_ssat8((int32_t)x);
        bad += tml_ssat8((int32_t)x >> 23) != tml_portable_ssat8((int32_t)x >> 23); /* near the int8 limits */
        memcpy(bytes, &x, 4);
        memcpy(bytes + 4, &y, 4);
        for (uint32_t at = 0; at < 4; at++) {
            bad += tml_read_s8x4(bytes + at) != tml_portable_read_s8x4(bytes + at);
        }
        count += 13;
    }
    *cases = count;
    return bad;
}

/* Multipliers at the edges of what tml_requant accepts, near 0.5 (where ties are common) and negative ones. */
static const int32_t tml_arch_checks_multipliers[] = {
    0, 1, 2, 3, 0x40000000, 0x40000001, 0x60000000, 0x7FFFFFFF, 0x7FFFFFFE, 0x5A827999, -1, -0x40000000,
    INT32_MIN + 1,
};
#define TML_ARCH_CHECKS_MULTIPLIERS (sizeof tml_arch_checks_multipliers / sizeof tml_arch_checks_multipliers[0])

/* Accumulators at the edges of int32, around 0 and around powers of two. */
static int32_t tml_arch_checks_accumulator(uint32_t *s)
{
    const uint32_t r = tml_arch_checks_next(s);
    switch (r & 7u) {
    case 0: {
        static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
        return edges[(r >> 3) % (sizeof edges / sizeof edges[0])];
    }
    case 1:
        return (int32_t)((uint32_t)1 << ((r >> 3) & 31u)) + (int32_t)((r >> 8) & 3u) - 1;
    case 2:
        return (int32_t)(tml_arch_checks_next(s) & 0xFFFFu) - 0x8000; /* a typical conv accumulator */
    default:
        return (int32_t)tml_arch_checks_next(s);
    }
}

/* 1 when tml_requant_shr2_prepared, given a multiplier >= 0 and a shift <= -2, disagrees with
 * tml_mul_by_quantized_multiplier + offset, the output offset folded into its rounding where e <= 23 (its range); 0
 * otherwise. *count grows by the cases compared. */
static uint32_t tml_arch_check_shr2_prepared(int32_t x, int32_t m, int32_t shift, int32_t offset, uint32_t *count)
{
    if (m < 0 || shift > -2) {
        return 0;
    }
    const int32_t e = -shift;
    const int32_t k = e <= 23 ? offset : 0;
    const int32_t round = (1 << (e - 2)) + (int32_t)((uint32_t)k << (e - 1));
    (*count)++;
    return tml_requant_shr2_prepared(x, m, round, e - 1) != tml_mul_by_quantized_multiplier(x, m, shift) + k;
}

/* Disagreements between tml_requant_apply (and tml_requant_shr2 and tml_requant_shr2_prepared where shift <= -2) and tml_mul_by_quantized_multiplier: every edge multiplier with every
 * shift in [-31, 31] on random accumulators, then n random (multiplier, shift, accumulator) triples. */
static uint32_t tml_arch_check_requant(uint32_t seed, uint32_t n, uint32_t *cases)
{
    uint32_t s = seed != 0 ? seed : 1u;
    uint32_t bad = 0;
    uint32_t count = 0;
    for (uint32_t k = 0; k < TML_ARCH_CHECKS_MULTIPLIERS; k++) {
        for (int32_t shift = -31; shift <= 31; shift++) {
            const int32_t m = tml_arch_checks_multipliers[k];
            const tml_requant q = tml_requant_prepare(m, shift);
            for (uint32_t i = 0; i < 64; i++) {
                const int32_t x = tml_arch_checks_accumulator(&s);
                bad += tml_requant_apply(&q, x) != tml_mul_by_quantized_multiplier(x, m, shift);
                count++;
                if (shift <= -2) {
                    bad += tml_requant_shr2(x, m, -shift) != tml_mul_by_quantized_multiplier(x, m, shift);
                    count++;
                }
                bad += tml_arch_check_shr2_prepared(x, m, shift, (int32_t)((i * 37u) & 0xFFu) - 128, &count);
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t r = tml_arch_checks_next(&s);
        int32_t m = (int32_t)tml_arch_checks_next(&s);
        if ((r & 3u) != 0) {
            m = (int32_t)(((uint32_t)m >> 1) | 0x40000000u); /* QuantizeMultiplier's range [2^30, 2^31) */
        }
        if (m == INT32_MIN) {
            m = INT32_MAX;
        }
        const int32_t shift = (r & 4u) != 0 ? (int32_t)((r >> 3) % 39u) - 31 : (int32_t)((r >> 3) % 63u) - 31;
        const int32_t x = tml_arch_checks_accumulator(&s);
        const tml_requant q = tml_requant_prepare(m, shift);
        bad += tml_requant_apply(&q, x) != tml_mul_by_quantized_multiplier(x, m, shift);
        count++;
        if (shift <= -2) {
            bad += tml_requant_shr2(x, m, -shift) != tml_mul_by_quantized_multiplier(x, m, shift);
            count++;
        }
        bad += tml_arch_check_shr2_prepared(x, m, shift, (int32_t)((r >> 9) & 0xFFu) - 128, &count);
    }
    *cases = count;
    return bad;
}

#endif /* TML_ARCH_CHECKS_H */
