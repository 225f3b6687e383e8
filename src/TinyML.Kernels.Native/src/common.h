/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common.h: internal fixed-point arithmetic shared by all kernels (not part of the public API), and the checks
 * and loops several kernels share: shape and argument checks, the window taps of the convolutions and
 * poolings, and the N-D broadcast driver of the element-wise operations.
 *
 * The functions reproduce the integer arithmetic of TFLite Micro's reference kernels with double rounding
 * (TFLITE_SINGLE_ROUNDING not defined): a saturating rounding doubling high multiply followed by a rounding
 * right shift. Every function here is static inline, so each kernel file gets its own copy and nothing is
 * exported.
 *
 * Signed right shifts of negative values are arithmetic on every compiler we support (GCC, Clang, MSVC);
 * left shifts are done on unsigned values so that a wrapping product is well defined.
 */
#ifndef TML_COMMON_H
#define TML_COMMON_H

#include <stdint.h>
#include <string.h>
#include <stddef.h>

#include "tml_kernels.h"
#include "tml_arch.h"

#if defined(__GNUC__)
#define TML_INLINE static inline __attribute__((always_inline))
#else
#define TML_INLINE static inline
#endif

#define TML_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TML_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Clamps v to [lo, hi]. */
TML_INLINE int32_t tml_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Clamps v to the int8 range. */
TML_INLINE int8_t tml_sat_i8(int32_t v)
{
    return (int8_t)tml_clamp_i32(v, INT8_MIN, INT8_MAX);
}

/* Clamps v to the int16 range. */
TML_INLINE int16_t tml_sat_i16(int32_t v)
{
    return (int16_t)tml_clamp_i32(v, INT16_MIN, INT16_MAX);
}

/* Clamps a 64-bit value to the int32 range. */
TML_INLINE int32_t tml_sat_i32_from_i64(int64_t v)
{
    return v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : (int32_t)v);
}

/* Float clamp used by the float32 kernels (same comparisons as TFLM's ActivationFunctionWithMinMax). */
TML_INLINE float tml_clamp_f32(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Where weight [o][d] of a [units][depth] float matrix lies in the layout of tml_fully_connected_f32_packed: groups of
 * eight rows depth-major, then the last units % 8 rows unchanged. */
TML_INLINE size_t tml_f32_packed_index(int32_t units, int32_t depth, int32_t o, int32_t d)
{
    const int32_t whole = units - units % 8;
    return o < whole ? ((size_t)(o - o % 8) * depth + (size_t)d * 8 + (size_t)(o % 8)) : ((size_t)o * depth + (size_t)d);
}

/* x * 2^s with wrap-around on overflow (two's complement), s in [0, 31]. */
TML_INLINE int32_t tml_shl_wrap(int32_t x, int32_t s)
{
    return (int32_t)((uint32_t)x << s);
}

/* x + y with saturation to the int32 range. */
TML_INLINE int32_t tml_sat_add_i32(int32_t x, int32_t y)
{
    return tml_sat_i32_from_i64((int64_t)x + (int64_t)y);
}

/* x - y with saturation to the int32 range. */
TML_INLINE int32_t tml_sat_sub_i32(int32_t x, int32_t y)
{
    return tml_sat_i32_from_i64((int64_t)x - (int64_t)y);
}

/*
 * Saturating rounding doubling high multiply: a * b / 2^31 rounded to nearest with ties toward +infinity
 * (gemmlowp's nudge-then-truncate: +0.5 -> 1 but -0.5 -> 0), with the one overflowing case
 * (INT32_MIN * INT32_MIN) saturated to INT32_MAX. Mirrors gemmlowp's SaturatingRoundingDoublingHighMul.
 */
TML_INLINE int32_t tml_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    /* C division truncates toward zero; with the sign-dependent nudge this rounds ties toward +infinity. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/*
 * Rounding arithmetic right shift: round(x / 2^exponent), ties rounded away from zero, exponent in [0, 31].
 * Mirrors gemmlowp's RoundingDivideByPOT.
 */
TML_INLINE int32_t tml_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/*
 * Requantizes x by multiplier * 2^(shift - 31): TFLM's MultiplyByQuantizedMultiplier (double rounding).
 * A positive shift is applied as a (wrapping) left shift before the high multiply, a negative one as a
 * rounding right shift after it.
 */
TML_INLINE int32_t tml_mul_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left_shift = shift > 0 ? shift : 0;
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    return tml_rounding_divide_by_pot(tml_sat_rounding_doubling_high_mul(tml_shl_wrap(x, left_shift), multiplier),
                                      right_shift);
}

/*
 * tml_mul_by_quantized_multiplier as one 64-bit multiply-accumulate and a shift of its high word (SMLAL, ASR on
 * Arm), for the fast paths. Exact, by two facts:
 *   - the high multiply is floor((x * m + 2^30) / 2^31): gemmlowp's sign-dependent nudge followed by truncation
 *     toward zero is the same number;
 *   - floor((floor(a / 2^31) + c) / 2^e) == floor((a + c * 2^31) / 2^(31 + e)), so the rounding right shift by e
 *     (c = 2^(e-1), one less for a negative high product) folds into the same accumulate. Its sign is taken from
 *     x * m, which differs from the high product's only where that is 0 and both round to 0.
 * Requires multiplier != INT32_MIN (the one high multiply that saturates; TFLM's multipliers are in [0, 2^31)),
 * left shift in [0, 31] and right shift in [0, 31]. Prepared once per channel, applied per output.
 */
typedef struct {
    int64_t round;       /* 2^30, plus 2^(30 + e) when e > 0 */
    int32_t multiplier;
    int32_t left_shift;
    int32_t right_shift; /* e */
} tml_requant;

TML_INLINE tml_requant tml_requant_prepare(int32_t multiplier, int32_t shift)
{
    tml_requant q;
    q.multiplier = multiplier;
    q.left_shift = shift > 0 ? shift : 0;
    q.right_shift = shift > 0 ? 0 : -shift;
    q.round = ((int64_t)1 << 30) + (q.right_shift > 0 ? (int64_t)1 << (30 + q.right_shift) : 0);
    return q;
}

TML_INLINE int32_t tml_requant_apply(const tml_requant *q, int32_t x)
{
    const int32_t xs = tml_shl_wrap(x, q->left_shift);
    if (q->right_shift == 0) {
        return (int32_t)(((int64_t)xs * q->multiplier + q->round) >> 31);
    }
    const int64_t negative = (int64_t)((uint32_t)(xs ^ q->multiplier) >> 31);
    const int64_t v = (int64_t)xs * q->multiplier + (q->round - (negative << 31));
    return (int32_t)(v >> 32) >> (q->right_shift - 1);
}

/*
 * tml_mul_by_quantized_multiplier by one (multiplier, shift) applied to many values: on DSP cores through a record
 * prepared once (tml_requant_apply, exact for every multiplier but INT32_MIN, which TFLM never makes), elsewhere
 * (and for INT32_MIN) the generic form.
 */
typedef struct {
    tml_requant q;
    int32_t multiplier, shift;
} tml_rescale;

TML_INLINE tml_rescale tml_rescale_of(int32_t multiplier, int32_t shift)
{
    const tml_rescale s = {tml_requant_prepare(multiplier, shift), multiplier, shift};
    return s;
}

TML_INLINE int32_t tml_rescale_apply(const tml_rescale *s, int32_t x)
{
#if TML_USE_DSP
    if (s->multiplier != INT32_MIN) {
        return tml_requant_apply(&s->q, x);
    }
#endif
    return tml_mul_by_quantized_multiplier(x, s->multiplier, s->shift);
}

/* Copies n bytes, a word at a time where that is one LDR and STR (TML_ARCH_UNALIGNED_WORDS), else byte by byte: the
 * rows of small windows are a few bytes, where a library call costs more than the copy. Each word is read before it
 * is written, so `to` may overlap `from` from below (to < from). Callers built with GCC keep its loop-idiom
 * recognition off, or it turns the loop back into a memcpy call. */
TML_INLINE void tml_copy_short(int8_t *to, const int8_t *from, size_t n)
{
    size_t i = 0;
#if TML_ARCH_UNALIGNED_WORDS
    for (; i + 4 <= n; i += 4) {
        uint32_t word;
        memcpy(&word, from + i, 4);
        memcpy(to + i, &word, 4);
    }
#endif
    for (; i < n; i++) {
        to[i] = from[i];
    }
}

/*
 * tml_requant_apply without a prepared record, for a rounding right shift e >= 2 (shift <= -2: effective scales
 * below 1/4, the usual case of conv and fully connected layers). The nudge is +-2^30 by the sign of x * multiplier,
 * added as a sign-extended SMLAL addend, and the shift's rounding 2^(30 + e) is a multiple of 2^32, so it is added to
 * the high word: floor((x * m + nudge + 2^(30+e)) / 2^(31+e)) = (high(x * m + nudge) + 2^(e-2)) >> (e - 1).
 */
TML_INLINE int32_t tml_requant_shr2(int32_t x, int32_t multiplier, int32_t e)
{
    const uint32_t sign = (uint32_t)(x ^ multiplier) & 0x80000000u;
    const int64_t nudge = (int32_t)(sign | 0x40000000u);
    const int32_t high = (int32_t)(((int64_t)x * multiplier + nudge) >> 32);
    return (high + (1 << (e - 2))) >> (e - 1);
}

/*
 * tml_requant_shr2 for a multiplier >= 0 (every TFLM multiplier is), with round = 2^(e-2) and shift = e - 1 prepared
 * per channel: x * multiplier then has the sign of x, or is 0, where either nudge gives 0 after the shift; so the
 * nudge is +-2^30 by x's sign, whose high word is x >> 31. A multiple k * 2^(e-1) added to round adds k to the
 * result (an output offset), exactly, while high + round stays in int32.
 */
TML_INLINE int32_t tml_requant_shr2_prepared(int32_t x, int32_t multiplier, int32_t round, int32_t shift)
{
    const int32_t sign = x >> 31;
    const uint64_t nudge = ((uint64_t)(uint32_t)sign << 32) | (((uint32_t)x & 0x80000000u) | 0x40000000u);
    const int32_t high = (int32_t)(((int64_t)x * multiplier + (int64_t)nudge) >> 32);
    return (high + round) >> shift;
}

/*
 * TFLM's MultiplyByQuantizedMultiplierSmallerThanOneExp: the multiplier is < 1, so shift <= 0 and only the
 * rounding right shift by -shift follows the high multiply.
 */
TML_INLINE int32_t tml_mul_by_quantized_multiplier_smaller_than_one(int32_t x, int32_t multiplier, int32_t shift)
{
    return tml_rounding_divide_by_pot(tml_sat_rounding_doubling_high_mul(x, multiplier), -shift);
}

/*
 * TFLM's MultiplyByQuantizedMultiplierGreaterThanOne: the multiplier is >= 1, so shift >= 0 and only the left
 * shift precedes the high multiply.
 */
TML_INLINE int32_t tml_mul_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier, int32_t shift)
{
    return tml_sat_rounding_doubling_high_mul(tml_shl_wrap(x, shift), multiplier);
}

/*
 * TFLM's MultiplyByQuantizedMultiplier overload for a 64-bit accumulator (used by 16-bit kernels): the
 * multiplier is first reduced to 16 bits with rounding, then one rounding right shift by 15 - shift is applied
 * (ties rounded up). TFLM requires shift in [-31, 7] and |x| < 2^47 and truncates the result to int32 (it
 * only asserts the range); so do we.
 */
TML_INLINE int32_t tml_mul_by_quantized_multiplier_i64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced_multiplier = multiplier < 0x7FFF0000 ? ((int64_t)multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total_shift = 15 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    int64_t result = x * reduced_multiplier + round;
    result = result >> total_shift;
    return (int32_t)(uint32_t)(uint64_t)result;
}

/*
 * The int16 output of a 16x8 weighted kernel (conv, depthwise, fully connected) from its 64-bit accumulator:
 * the 64-bit MultiplyByQuantizedMultiplier, then the activation clamp. No output offset: int16 zero points are 0.
 */
TML_INLINE int16_t tml_requantize_s16_from_i64(int64_t acc, int32_t multiplier, int32_t shift, int32_t act_min,
                                               int32_t act_max)
{
    return (int16_t)tml_clamp_i32(tml_mul_by_quantized_multiplier_i64(acc, multiplier, shift), act_min, act_max);
}

/*
 * The same for TFLM's 16x8 variants with an int32 accumulator (an int32 bias or none): the wrapping int32 sum is the
 * low 32 bits of the 64-bit one; the 32-bit MultiplyByQuantizedMultiplier, then the clamp.
 */
TML_INLINE int16_t tml_requantize_s16_from_i32(int64_t sum, int32_t bias, int32_t multiplier, int32_t shift,
                                               int32_t act_min, int32_t act_max)
{
    const int32_t acc = (int32_t)((uint32_t)(uint64_t)sum + (uint32_t)bias);
    return (int16_t)tml_clamp_i32(tml_mul_by_quantized_multiplier(acc, multiplier, shift), act_min, act_max);
}

/* ---- shape and window helpers ------------------------------------------------------------------------- */

/* 1 when every dimension of d is >= 1. */
TML_INLINE int tml_dims_valid(const tml_dims *d)
{
    return d != NULL && d->n > 0 && d->h > 0 && d->w > 0 && d->c > 0;
}

/* Number of elements of d (as size_t; callers validate first). */
TML_INLINE size_t tml_dims_count(const tml_dims *d)
{
    return (size_t)d->n * (size_t)d->h * (size_t)d->w * (size_t)d->c;
}

/*
 * 1 when the arguments of an element-by-element kernel over `size` elements are unusable: no parameters, a
 * negative size, or a missing buffer for a non-empty one (size 0 accepts NULL buffers).
 */
TML_INLINE int tml_unary_args_bad(const void *params, const void *input, int32_t size, const void *output)
{
    return params == NULL || size < 0 || (size > 0 && (input == NULL || output == NULL));
}

/*
 * Range [*start, *end) of filter taps k (0 <= k < filter_size) whose input coordinate origin + dilation * k
 * lies inside [0, in_size). Skipping the others is TFLM's "zero padding by omitting the areas outside the
 * image". dilation >= 1.
 */
TML_INLINE void tml_tap_range(int32_t origin, int32_t dilation, int32_t in_size, int32_t filter_size, int32_t *start,
                              int32_t *end)
{
    int32_t s = 0;
    int32_t e;
    if (origin < 0) {
        s = (-origin + dilation - 1) / dilation;
    }
    if (in_size - 1 - origin < 0) {
        e = 0;
    } else {
        e = (in_size - 1 - origin) / dilation + 1;
    }
    if (e > filter_size) {
        e = filter_size;
    }
    if (s > e) {
        s = e;
    }
    *start = s;
    *end = e;
}

/*
 * Taps of one output coordinate of a sliding window (convolution, depthwise convolution, pooling): the window
 * of output index `out_index` starts at input coordinate out_index * stride - pad, which is returned; [*start,
 * *end) are the taps of tml_tap_range that lie inside the input. Pooling passes a dilation of 1.
 */
TML_INLINE int32_t tml_window_taps(int32_t out_index, int32_t stride, int32_t pad, int32_t dilation, int32_t in_size,
                                   int32_t filter_size, int32_t *start, int32_t *end)
{
    const int32_t origin = out_index * stride - pad;
    tml_tap_range(origin, dilation, in_size, filter_size, start, end);
    return origin;
}

/* 1 when the window geometry shared by the convolution and pooling kernels is usable: strides and dilations
 * >= 1, paddings >= 0. */
TML_INLINE int tml_window_params_valid(int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w,
                                       int32_t pad_h, int32_t pad_w)
{
    return stride_h > 0 && stride_w > 0 && dilation_h > 0 && dilation_w > 0 && pad_h >= 0 && pad_w >= 0;
}

/*
 * Output channels per group of a (grouped) convolution with valid dims: input [n, h, w, in_c], filter
 * [out_c, kh, kw, in_c / groups], output [n, oh, ow, out_c], out_c a multiple of groups. Returns 0 when the
 * shapes do not fit together.
 */
TML_INLINE int32_t tml_conv_filters_per_group(const tml_dims *input, const tml_dims *filter, const tml_dims *output)
{
    if (output->n != input->n || output->c != filter->n || input->c % filter->c != 0) {
        return 0;
    }
    const int32_t groups = input->c / filter->c;
    if (filter->n % groups != 0) {
        return 0;
    }
    return filter->n / groups;
}

/* 1 when valid dims fit a depthwise convolution: filter [1, kh, kw, in_c * depth_multiplier], output
 * [n, oh, ow, in_c * depth_multiplier]. */
TML_INLINE int tml_depthwise_shapes_valid(const tml_dims *input, const tml_dims *filter, const tml_dims *output,
                                          int32_t depth_multiplier)
{
    const int32_t out_c = input->c * depth_multiplier;
    return filter->n == 1 && filter->c == out_c && output->c == out_c && output->n == input->n;
}

/* x + y with two's complement wrap-around (what TFLM's int32 accumulations do on every target). */
TML_INLINE int32_t tml_add_wrap(int32_t x, int32_t y)
{
    return (int32_t)((uint32_t)x + (uint32_t)y);
}

/* ---- N-D broadcast driver ----------------------------------------------------------------------------- */

/*
 * Processes one innermost row of an element-wise operation: n outputs (dense) from inputs a and b read with
 * element strides sa and sb (0 = broadcast). `params` is the kernel's parameter struct.
 */
typedef void (*tml_broadcast_row_fn)(const void *params, const void *a, int32_t sa, const void *b, int32_t sb,
                                     void *out, int32_t n);

/*
 * Runs `row` over every innermost row of the broadcast described by `shape` (see tml_broadcast_shape).
 * Same-shape inputs (dense strides on both sides) are processed as one flat row. Dimensions of size 0 give an
 * empty output. Returns TML_ERROR_ARGUMENT for a rank outside 1..TML_MAX_DIMS or a negative size or stride.
 */
static inline tml_status tml_broadcast_apply(const tml_broadcast_shape *shape, size_t elem_size, const void *params,
                                             const void *input1, const void *input2, void *output,
                                             tml_broadcast_row_fn row)
{
    int32_t dims[TML_MAX_DIMS];
    ptrdiff_t s1[TML_MAX_DIMS];
    ptrdiff_t s2[TML_MAX_DIMS];
    const int32_t rank = shape->rank;
    if (rank < 1 || rank > TML_MAX_DIMS) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t lead = TML_MAX_DIMS - rank;
    size_t total = 1;
    for (int32_t k = 0; k < TML_MAX_DIMS; k++) {
        if (k < lead) {
            dims[k] = 1;
            s1[k] = 0;
            s2[k] = 0;
            continue;
        }
        dims[k] = shape->output_dims[k - lead];
        s1[k] = shape->input1_strides[k - lead];
        s2[k] = shape->input2_strides[k - lead];
        if (dims[k] < 0 || s1[k] < 0 || s2[k] < 0) {
            return TML_ERROR_ARGUMENT;
        }
        total *= (size_t)dims[k];
    }
    if (total == 0) {
        return TML_OK;
    }
    /* Flat fast path: both inputs dense with the output's shape (dims of size 1 may carry any stride). */
    {
        int dense = 1;
        ptrdiff_t expect = 1;
        for (int32_t k = TML_MAX_DIMS - 1; k >= 0; k--) {
            if (dims[k] != 1 && (s1[k] != expect || s2[k] != expect)) {
                dense = 0;
                break;
            }
            expect *= dims[k];
        }
        if (dense && total <= (size_t)INT32_MAX) {
            row(params, input1, 1, input2, 1, output, (int32_t)total);
            return TML_OK;
        }
    }
    const uint8_t *p1 = (const uint8_t *)input1;
    const uint8_t *p2 = (const uint8_t *)input2;
    uint8_t *po = (uint8_t *)output;
    const int32_t inner = dims[TML_MAX_DIMS - 1];
    const size_t outer = total / (size_t)inner;
    int32_t idx[TML_MAX_DIMS - 1] = {0};
    ptrdiff_t o1 = 0;
    ptrdiff_t o2 = 0;
    for (size_t r = 0; r < outer; r++) {
        row(params, p1 + o1 * (ptrdiff_t)elem_size, (int32_t)s1[TML_MAX_DIMS - 1], p2 + o2 * (ptrdiff_t)elem_size,
            (int32_t)s2[TML_MAX_DIMS - 1], po, inner);
        po += (size_t)inner * elem_size;
        for (int32_t k = TML_MAX_DIMS - 2; k >= 0; k--) {
            idx[k]++;
            o1 += s1[k];
            o2 += s2[k];
            if (idx[k] < dims[k]) {
                break;
            }
            o1 -= s1[k] * dims[k];
            o2 -= s2[k] * dims[k];
            idx[k] = 0;
        }
    }
    return TML_OK;
}

#endif /* TML_COMMON_H */
