/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dot_s8.h: the DSP inner kernels of the int8 conv and fully connected fast paths (internal). Each sums products
 * of contiguous int8 rows: an activation row a (plus its offset) against a weight row w, over n elements, into
 * int32 accumulators that wrap as TFLM's do (the order of a wrapping sum does not change it).
 *
 * Four elements at a time: SXTB16 widens bytes 0,2 and (rotated) 1,3 of a word into int16 pairs, SADD16 adds the
 * activation offset to both lanes (a + offset lies in [-255, 255], so it fits), and SMLAD multiplies and adds both
 * pairs. Blocking 2 activation rows x 2 weight rows reuses each widened word twice. Only with TML_USE_DSP.
 */
#ifndef TML_DOT_S8_H
#define TML_DOT_S8_H

#include "common.h"
#include "tml_arch.h"

#if TML_USE_DSP

/* The activation offset in both int16 lanes. */
TML_INLINE uint32_t tml_dot_offset2(int32_t a_offset)
{
    return ((uint32_t)a_offset & 0xFFFFu) * 0x00010001u;
}

/* Two activation words widened to int16 pairs (bytes 0,2 and 1,3), the offset added when add_offset. */
TML_INLINE void tml_dot_widen(uint32_t x, uint32_t off2, int add_offset, uint32_t *even, uint32_t *odd)
{
    *even = add_offset ? tml_sadd16(tml_sxtb16(x), off2) : tml_sxtb16(x);
    *odd = add_offset ? tml_sadd16(tml_sxtb16_ror8(x), off2) : tml_sxtb16_ror8(x);
}

/* The body of tml_dot_s8_2x2; add_offset is a constant at each call, so each call compiles to one loop. */
TML_INLINE void tml_dot_s8_2x2_body(const int8_t *a0, const int8_t *a1, const int8_t *w0, const int8_t *w1,
                                    int32_t n, int32_t a_offset, int add_offset, int32_t acc[4])
{
    const uint32_t off2 = tml_dot_offset2(a_offset);
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        uint32_t x0e, x0o, x1e, x1o;
        tml_dot_widen(tml_read_s8x4(a0 + k), off2, add_offset, &x0e, &x0o);
        tml_dot_widen(tml_read_s8x4(a1 + k), off2, add_offset, &x1e, &x1o);
        const uint32_t y0 = tml_read_s8x4(w0 + k);
        const uint32_t y1 = tml_read_s8x4(w1 + k);
        const uint32_t y0e = tml_sxtb16(y0), y0o = tml_sxtb16_ror8(y0);
        const uint32_t y1e = tml_sxtb16(y1), y1o = tml_sxtb16_ror8(y1);
        s00 = tml_smlad(x0o, y0o, tml_smlad(x0e, y0e, s00));
        s01 = tml_smlad(x0o, y1o, tml_smlad(x0e, y1e, s01));
        s10 = tml_smlad(x1o, y0o, tml_smlad(x1e, y0e, s10));
        s11 = tml_smlad(x1o, y1o, tml_smlad(x1e, y1e, s11));
    }
    for (; k < n; k++) {
        const int32_t x0 = a0[k] + a_offset, x1 = a1[k] + a_offset;
        s00 += x0 * w0[k];
        s01 += x0 * w1[k];
        s10 += x1 * w0[k];
        s11 += x1 * w1[k];
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

/* acc[0] += a0.w0, acc[1] += a0.w1, acc[2] += a1.w0, acc[3] += a1.w1 (activations offset). An offset of 0 skips
 * the SADD16s: callers that fold offset x sum(w) into the accumulators pass 0. */
TML_INLINE void tml_dot_s8_2x2(const int8_t *a0, const int8_t *a1, const int8_t *w0, const int8_t *w1, int32_t n,
                               int32_t a_offset, int32_t acc[4])
{
    if (a_offset == 0) {
        tml_dot_s8_2x2_body(a0, a1, w0, w1, n, 0, 0, acc);
    } else {
        tml_dot_s8_2x2_body(a0, a1, w0, w1, n, a_offset, 1, acc);
    }
}

/* Returns sum(w[0..n)): with it, sum(w * (a + offset)) = sum(w * a) + offset * sum(w). */
TML_INLINE int32_t tml_dot_sum_s8(const int8_t *w, int32_t n)
{
    int32_t sum = 0;
    for (int32_t k = 0; k < n; k++) {
        sum += w[k];
    }
    return sum;
}

/* acc[0] += a.w0, acc[1] += a.w1. */
TML_INLINE void tml_dot_s8_1x2(const int8_t *a, const int8_t *w0, const int8_t *w1, int32_t n, int32_t a_offset,
                               int32_t acc[2])
{
    const uint32_t off2 = tml_dot_offset2(a_offset);
    int32_t s0 = acc[0], s1 = acc[1];
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const uint32_t x = tml_read_s8x4(a + k);
        const uint32_t y0 = tml_read_s8x4(w0 + k);
        const uint32_t y1 = tml_read_s8x4(w1 + k);
        const uint32_t xe = tml_sadd16(tml_sxtb16(x), off2), xo = tml_sadd16(tml_sxtb16_ror8(x), off2);
        s0 = tml_smlad(xo, tml_sxtb16_ror8(y0), tml_smlad(xe, tml_sxtb16(y0), s0));
        s1 = tml_smlad(xo, tml_sxtb16_ror8(y1), tml_smlad(xe, tml_sxtb16(y1), s1));
    }
    for (; k < n; k++) {
        const int32_t x = a[k] + a_offset;
        s0 += x * w0[k];
        s1 += x * w1[k];
    }
    acc[0] = s0;
    acc[1] = s1;
}

/* Returns acc + a.w. */
TML_INLINE int32_t tml_dot_s8_1x1(const int8_t *a, const int8_t *w, int32_t n, int32_t a_offset, int32_t acc)
{
    const uint32_t off2 = tml_dot_offset2(a_offset);
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const uint32_t x = tml_read_s8x4(a + k);
        const uint32_t y = tml_read_s8x4(w + k);
        acc = tml_smlad(tml_sadd16(tml_sxtb16_ror8(x), off2), tml_sxtb16_ror8(y),
                        tml_smlad(tml_sadd16(tml_sxtb16(x), off2), tml_sxtb16(y), acc));
    }
    for (; k < n; k++) {
        acc += (a[k] + a_offset) * w[k];
    }
    return acc;
}

/* 1 when every multiplier suits tml_requant (none is INT32_MIN). */
TML_INLINE int tml_dot_multipliers_ok(const int32_t *multiplier, int32_t count)
{
    for (int32_t i = 0; i < count; i++) {
        if (multiplier[i] == INT32_MIN) {
            return 0;
        }
    }
    return 1;
}

/* The int8 output of one accumulator: bias, the fast requantization, offset and clamp. */
TML_INLINE int8_t tml_dot_output_s8(int32_t acc, const int32_t *bias, int32_t channel, const tml_requant *q,
                                    int32_t output_offset, int32_t act_min, int32_t act_max)
{
    if (bias != NULL) {
        acc = tml_add_wrap(acc, bias[channel]);
    }
    return (int8_t)tml_clamp_i32(tml_requant_apply(q, acc) + output_offset, act_min, act_max);
}

#endif /* TML_USE_DSP */

#endif /* TML_DOT_S8_H */
