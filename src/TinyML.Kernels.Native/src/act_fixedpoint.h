/* SPDX-License-Identifier: Apache-2.0 */
/*
 * act_fixedpoint.h: Q-format fixed-point math used by the activation kernels (internal, not part of the API).
 *
 * A value is a raw int32 plus a number of integer bits IB known to the caller: raw / 2^(31 - IB). The
 * functions reproduce, operation for operation, the fixed-point evaluation that TFLite Micro's reference
 * kernels rely on (gemmlowp's exp on negative values, 1/(1+x), (1-x)/(1+x), logistic and tanh), because the
 * int8 SOFTMAX, LOGISTIC and TANH outputs depend on every intermediate rounding:
 *
 *   - products are the saturating rounding doubling high multiply (raw a*b / 2^31, ties away from zero);
 *   - changing IB by k is a saturating left shift (k > 0) or a rounding right shift (k < 0) of the raw value;
 *   - sums and differences wrap (they never overflow for the inputs these kernels produce).
 *
 * Only the integer-bit counts that the kernels use are needed: 0, 2, 4 and 5 (IB is always a parameter here).
 */
#ifndef TML_ACT_FIXEDPOINT_H
#define TML_ACT_FIXEDPOINT_H

#include "common.h"

/* Raw representation of 1.0 (saturated to INT32_MAX) in Q0.31 */
#define TML_FP_ONE_Q0 INT32_MAX

/* Wrapping 32-bit addition and subtraction (two's complement, no undefined behaviour). */
TML_INLINE int32_t tml_fp_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

TML_INLINE int32_t tml_fp_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* Fixed-point product: the integer bits of the operands add up, the raw value is the rounding high multiply. */
TML_INLINE int32_t tml_fp_mul(int32_t a, int32_t b)
{
    return tml_sat_rounding_doubling_high_mul(a, b);
}

/*
 * Multiplies a raw value by 2^exponent: a saturating left shift for exponent > 0 (values beyond
 * +-(2^(31-exponent) - 1) saturate to INT32_MAX / INT32_MIN), a rounding right shift for exponent < 0.
 */
TML_INLINE int32_t tml_fp_mul_pot(int32_t x, int32_t exponent)
{
    if (exponent > 0) {
        const int32_t limit = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
        if (x > limit) {
            return INT32_MAX;
        }
        if (x < -limit) {
            return INT32_MIN;
        }
        return tml_shl_wrap(x, exponent);
    }
    if (exponent < 0) {
        return tml_rounding_divide_by_pot(x, -exponent);
    }
    return x;
}

/* Converts a raw value with src_ib integer bits to dst_ib integer bits (saturating / rounding). */
TML_INLINE int32_t tml_fp_rescale(int32_t x, int32_t src_ib, int32_t dst_ib)
{
    return tml_fp_mul_pot(x, src_ib - dst_ib);
}

/* (a + b) / 2 rounded to nearest, ties away from zero, computed without overflow. */
TML_INLINE int32_t tml_fp_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/*
 * exp(a) for a Q0.31 value a in [-1/4, 0): a fourth-order Taylor expansion around -1/8.
 * Constants: exp(-1/8) = 1895147668 / 2^31, 1/3 = 715827883 / 2^31, 1/8 = 2^28 / 2^31.
 */
TML_INLINE int32_t tml_fp_exp_quarter_interval(int32_t a)
{
    const int32_t exp_minus_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = tml_fp_add(a, (int32_t)1 << 28);
    const int32_t x2 = tml_fp_mul(x, x);
    const int32_t x3 = tml_fp_mul(x2, x);
    const int32_t x4 = tml_fp_mul(x2, x2);
    const int32_t x4_quarter = tml_fp_mul_pot(x4, -2);
    /* (x^4/4 + x^3) / 3 + x^2, then halved: x^4/24 + x^3/6 + x^2/2 */
    const int32_t poly = tml_fp_mul_pot(tml_fp_add(tml_fp_mul(tml_fp_add(x4_quarter, x3), one_third), x2), -1);
    return tml_fp_add(exp_minus_eighth, tml_fp_mul(exp_minus_eighth, tml_fp_add(x, poly)));
}

/*
 * exp(a) for a <= 0 given with ib integer bits (ib <= 5); the result is Q0.31 (exp(0) = INT32_MAX).
 * a is split into (a mod 1/4) - 1/4, evaluated by the Taylor expansion above, and a remainder that is a sum
 * of powers of two, each applied as one multiply by a precomputed exp(-2^k), k = -2 .. ib - 1.
 */
TML_INLINE int32_t tml_fp_exp_on_negative_values(int32_t a, int32_t ib)
{
    /* exp(-2^k) in Q0.31 for k = -2, -1, 0, 1, 2, 3, 4 */
    static const int32_t exp_neg_pot[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t frac_bits = 31 - ib;
    const int32_t quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mod_minus_quarter = tml_fp_sub(a & (quarter - 1), quarter);
    int32_t result = tml_fp_exp_quarter_interval(tml_fp_rescale(mod_minus_quarter, ib, 0));
    const int32_t remainder = tml_fp_sub(mod_minus_quarter, a);
    int32_t k;
    for (k = -2; k <= 4; k++) {
        if (ib > k) {
            const int32_t bit = frac_bits + k;
            if ((remainder & ((int32_t)1 << bit)) != 0) {
                result = tml_fp_mul(result, exp_neg_pot[k + 2]);
            }
        }
    }
    /* (ib > 5 would need the clamp of inputs below -32; the kernels never use more than 5 integer bits) */
    return a == 0 ? TML_FP_ONE_Q0 : result;
}

/*
 * Newton-Raphson reciprocal used by 1/(1+x) and (1-x)/(1+x) for x in [0, 1) (Q0.31): returns an estimate of
 * 1 / half_denominator in Q2.29 after three iterations started from 48/17 - 32/17 * d.
 */
TML_INLINE int32_t tml_fp_newton_reciprocal_q2(int32_t half_denominator)
{
    const int32_t c48_over_17 = 1515870810;     /* 48/17 in Q2.29 */
    const int32_t c_neg32_over_17 = -1010580540; /* -32/17 in Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = tml_fp_add(c48_over_17, tml_fp_mul(half_denominator, c_neg32_over_17));
    int i;
    for (i = 0; i < 3; i++) {
        const int32_t d_times_x = tml_fp_mul(half_denominator, x);     /* Q2 */
        const int32_t one_minus = tml_fp_sub(one_q2, d_times_x);       /* Q2 */
        const int32_t correction = tml_fp_mul(x, one_minus);           /* Q4 */
        x = tml_fp_add(x, tml_fp_rescale(correction, 4, 2));
    }
    return x;
}

/* 1 / (1 + a) for a Q0.31 value a in [0, 1); the result is Q0.31. */
TML_INLINE int32_t tml_fp_one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = tml_fp_rounding_half_sum(a, TML_FP_ONE_Q0);
    const int32_t x = tml_fp_newton_reciprocal_q2(half_denominator);
    /* x / 2 read as Q1.30 (same raw), then rescaled to Q0.31 */
    return tml_fp_rescale(x, 1, 0);
}

/* (1 - a) / (1 + a) for a Q0.31 value a in [0, 1); the result is Q0.31. */
TML_INLINE int32_t tml_fp_one_minus_x_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = tml_fp_rounding_half_sum(a, TML_FP_ONE_Q0);
    const int32_t x = tml_fp_newton_reciprocal_q2(half_denominator);
    return tml_fp_rescale(tml_fp_sub(x, (int32_t)1 << 29), 2, 0);
}

/* logistic(a) = 1 / (1 + exp(-a)) for a raw value with ib integer bits; the result is Q0.31. */
TML_INLINE int32_t tml_fp_logistic(int32_t a, int32_t ib)
{
    if (a == 0) {
        return (int32_t)1 << 30; /* exactly one half */
    }
    {
        const int32_t magnitude = a > 0 ? a : tml_fp_sub(0, a);
        const int32_t positive_result =
            tml_fp_one_over_one_plus_x(tml_fp_exp_on_negative_values(tml_fp_sub(0, magnitude), ib));
        return a > 0 ? positive_result : tml_fp_sub(TML_FP_ONE_Q0, positive_result);
    }
}

/* tanh(a) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)) with the sign of a, for a raw value with ib integer bits. */
TML_INLINE int32_t tml_fp_tanh(int32_t a, int32_t ib)
{
    if (a == 0) {
        return 0;
    }
    {
        const int32_t non_positive = a < 0 ? a : tml_fp_sub(0, a);
        /* doubling the value is exact: same raw with one more integer bit */
        const int32_t t = tml_fp_one_minus_x_over_one_plus_x(tml_fp_exp_on_negative_values(non_positive, ib + 1));
        return a < 0 ? tml_fp_sub(0, t) : t;
    }
}

/* Number of leading zero bits of a 32-bit value (32 for 0). */
TML_INLINE int32_t tml_fp_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

/*
 * Reciprocal of a positive raw value x with x_ib integer bits, as TFLM's GetReciprocal: x is normalised to
 * [1, 2) by a left shift of clz(x) bits, 1/(1 + (x_norm - 1)) is evaluated in Q0.31, and
 * num_bits_over_unit = x_ib - clz(x) tells how many more right shifts the caller owes.
 */
TML_INLINE int32_t tml_fp_reciprocal(int32_t x, int32_t x_ib, int32_t *num_bits_over_unit)
{
    const int32_t headroom_plus_one = tml_fp_clz32((uint32_t)x);
    const int32_t shifted_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - 0x80000000u);
    *num_bits_over_unit = x_ib - headroom_plus_one;
    return tml_fp_one_over_one_plus_x(shifted_minus_one);
}

/*
 * log(x) for x >= 1 given with input_ib integer bits, as TFLM's log_x_for_x_greater_than_or_equal_to_1 (common.h):
 * x = 2^k * r with r normalised twice (once directly, once premultiplied by sqrt(1/2)), the candidate with the
 * smaller r taken, then log(r) from a rational approximation around sqrt(sqrt(1/2)) and k * log(2) added, both with
 * output_ib + 1 integer bits; the result has output_ib integer bits. Constants are TFLM's Q0.31 values.
 */
TML_INLINE int32_t tml_fp_log_x_ge_1(int32_t x, int32_t input_ib, int32_t output_ib)
{
    const int32_t log_2 = 1488522236;          /* log(2) */
    const int32_t sqrt_sqrt_half = 1805811301; /* 0.5^(1/4) */
    const int32_t sqrt_half = 1518500250;      /* 0.5^(1/2) */
    const int32_t one_quarter = 536870912;
    const int32_t alpha_n = 117049297;         /* 11/240 * 2^(1/4) */
    const int32_t alpha_d = 127690142;         /* 1/20 * 2^(1/4) */
    const int32_t alpha_i = 1057819769;        /* 2 / 2^(1/4) - 2^(1/4) */
    const int32_t alpha_f = 638450708;         /* 1/4 * 2^(1/4) */
    const int32_t accum_ib = output_ib + 1;
    const int32_t shifted_quarter = tml_fp_rescale(one_quarter, 0, accum_ib);

    /* x read as Q0.31: its binary exponent is input_ib minus its headroom. */
    const int32_t a_headroom_plus_1 = tml_fp_clz32((uint32_t)x);
    const int32_t r_a_tmp = tml_fp_mul_pot(x, a_headroom_plus_1 - 1);
    const int32_t r_a = tml_fp_mul_pot(tml_fp_mul(r_a_tmp, sqrt_half), 1);
    const int32_t a_pow_2_adj = tml_sat_add_i32(tml_fp_mul_pot(input_ib - a_headroom_plus_1, 31 - accum_ib), shifted_quarter);

    const int32_t b = tml_fp_mul(x, sqrt_half);
    const int32_t b_headroom = tml_fp_clz32((uint32_t)b) - 1;
    const int32_t r_b = tml_fp_mul_pot(x, b_headroom);
    const int32_t b_pow_2_adj = tml_sat_sub_i32(tml_fp_mul_pot(input_ib - b_headroom, 31 - accum_ib), shifted_quarter);

    const int32_t r = TML_MIN(r_a, r_b);
    const int32_t pow_2_adj = TML_MAX(a_pow_2_adj, b_pow_2_adj);

    const int32_t p = tml_fp_rounding_half_sum(r, sqrt_sqrt_half);
    int32_t q = tml_fp_sub(r, sqrt_sqrt_half);
    q = tml_fp_add(q, q);
    const int32_t q_sq = tml_fp_mul(q, q);
    const int32_t num = tml_fp_add(tml_fp_mul(q, r), tml_fp_mul(tml_fp_mul(q, q_sq), alpha_n));
    const int32_t denom_minus_one =
        tml_fp_add(tml_fp_mul(p, tml_fp_add(tml_fp_add(alpha_i, q), tml_fp_mul(alpha_d, q_sq))), tml_fp_mul(alpha_f, q));
    const int32_t recip_denom = tml_fp_one_over_one_plus_x(denom_minus_one);

    const int32_t num_scaled = tml_fp_rescale(num, 0, accum_ib);
    const int32_t sum = tml_fp_add(tml_fp_mul(pow_2_adj, log_2), tml_fp_mul(num_scaled, recip_denom));
    return tml_fp_rescale(sum, accum_ib, output_ib);
}

#endif /* TML_ACT_FIXEDPOINT_H */
