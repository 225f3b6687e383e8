/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ref_s16x8.h: test references for the 16x8 weighted kernels (int16 activations, int8 weights, 64-bit
 * accumulator), written from TFLM's definitions with 64-bit divisions rather than the kernels' shifts.
 */
#ifndef TML_REF_S16X8_H
#define TML_REF_S16X8_H

#include "tml_test.h"

/*
 * TFLM's MultiplyByQuantizedMultiplier for an int64 accumulator: the multiplier rounded to 16 bits
 * (floor((m + 2^15) / 2^16), 0x7FFF from 0x7FFF0000 up), then floor((x * m16 + 2^(14 - shift)) / 2^(15 - shift)),
 * truncated to int32.
 */
static inline int32_t tml_ref_requantize_i64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t m16 = multiplier < 0x7FFF0000 ? tml_ref_floor_shift((int64_t)multiplier + 32768, 16) : 0x7FFF;
    const int k = 15 - shift;
    return tml_ref_wrap32(tml_ref_floor_shift(x * m16 + ((int64_t)1 << (k - 1)), k));
}

/* Fills an int16 buffer; with probability sat_percent/100 only -32768 and 32767. */
static inline void tml_rng_fill_s16(tml_rng *r, int16_t *p, size_t n, int sat_percent)
{
    int saturate = tml_rng_range(r, 0, 99) < sat_percent;
    for (size_t i = 0; i < n; i++) {
        p[i] = saturate ? ((tml_rng_next(r) & 1u) ? (int16_t)32767 : (int16_t)-32768)
                        : (int16_t)tml_rng_range(r, -32768, 32767);
    }
}

/* A 16x8 activation range: none, RELU-like [0, max] or an arbitrary window. */
static inline void tml_rng_act_range_s16(tml_rng *r, int32_t *lo, int32_t *hi)
{
    switch (tml_rng_range(r, 0, 2)) {
    case 0:
        *lo = -32768;
        *hi = 32767;
        break;
    case 1:
        *lo = 0;
        *hi = 32767;
        break;
    default:
        *lo = tml_rng_range(r, -32768, 0);
        *hi = tml_rng_range(r, *lo, 32767);
        break;
    }
}

/* Per-channel multipliers for 16x8: effective scales s_in * s_f / s_out around 2^-10..2^0, sometimes one > 1. */
static inline void tml_rng_multipliers_s16(tml_rng *r, int32_t n, int32_t *mult, int32_t *shift)
{
    const int gt_one = tml_rng_range(r, 0, 7) == 0;
    for (int32_t o = 0; o < n; o++) {
        const double eff = gt_one ? tml_rng_double(r, 1.0, 3.0) : tml_rng_scale(r, -5.0, -0.5);
        tml_test_quantize_multiplier(eff, &mult[o], &shift[o]);
    }
}

#endif
