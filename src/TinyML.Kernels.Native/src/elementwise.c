/* SPDX-License-Identifier: Apache-2.0 */
/*
 * elementwise.c: int8 and int16 (16x8) ADD, SUB and MUL with N-D broadcast (up to TML_MAX_DIMS).
 *
 * ADD / SUB (TFLM AddFunc, SubElementwise / BroadcastQuantSubSlow):
 *   a = (x1 + input1_offset) << left_shift;           b = (x2 + input2_offset) << left_shift
 *   a = MultiplyByQuantizedMultiplierSmallerThanOneExp(a, input1_quant)
 *   b = MultiplyByQuantizedMultiplierSmallerThanOneExp(b, input2_quant)
 *   out = clamp(MultiplyByQuantizedMultiplierSmallerThanOneExp(a +/- b, output_quant) + output_offset)
 * MUL (TFLM MulElementwise / BroadcastMul4DSlow):
 *   out = clamp(MultiplyByQuantizedMultiplier((x1 + input1_offset) * (x2 + input2_offset), output_quant)
 *               + output_offset)
 * Broadcast and same-shape inputs go through the same per-element arithmetic, so the flat fast path of
 * tml_broadcast_apply is bit-exact with the broadcast path.
 */
#include "common.h"
#include "tml_arch.h"
#include "host/host_path.h"

static int quant_smaller_than_one(const tml_quant *q)
{
    return q->multiplier >= 0 && q->shift <= 0 && q->shift >= -31;
}

static int add_params_valid(const tml_add_params *p)
{
    return p->left_shift >= 0 && p->left_shift <= 30 && quant_smaller_than_one(&p->input1_quant) &&
           quant_smaller_than_one(&p->input2_quant) && quant_smaller_than_one(&p->output_quant) &&
           p->activation_min <= p->activation_max;
}

TML_INLINE int32_t add_scale_input(int32_t x, int32_t offset, int32_t left_shift, const tml_quant *q)
{
    return tml_mul_by_quantized_multiplier_smaller_than_one(tml_shl_wrap(x + offset, left_shift), q->multiplier,
                                                            q->shift);
}

TML_INLINE int8_t add_finish(const tml_add_params *p, int32_t raw)
{
    const int32_t out = tml_mul_by_quantized_multiplier_smaller_than_one(raw, p->output_quant.multiplier,
                                                                         p->output_quant.shift) +
                        p->output_offset;
    return (int8_t)tml_clamp_i32(out, p->activation_min, p->activation_max);
}

/* One row of ADD (subtract == 0) or SUB (subtract == 1); subtract is a constant at each call site. */
TML_INLINE void add_sub_row(const tml_add_params *p, const int8_t *x1, int32_t sa, const int8_t *x2, int32_t sb,
                            int8_t *y, int32_t n, int subtract)
{
#if TML_USE_DSP
    /* The three requantizations in one SMLAL each (tml_requant_apply; exact for these multipliers, which are >= 0
     * with shifts in [-31, 0]), prepared once per row. */
    const tml_requant q1 = tml_requant_prepare(p->input1_quant.multiplier, p->input1_quant.shift);
    const tml_requant q2 = tml_requant_prepare(p->input2_quant.multiplier, p->input2_quant.shift);
    const tml_requant qo = tml_requant_prepare(p->output_quant.multiplier, p->output_quant.shift);
    /* Locals, not p->: the int8 stores may alias *p, which would reload every field for every element. */
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset, left_shift = p->left_shift;
    const int32_t out_offset = p->output_offset, act_min = p->activation_min, act_max = p->activation_max;
    for (int32_t i = 0; i < n; i++) {
        const int32_t s1 = tml_requant_apply(&q1, tml_shl_wrap(x1[(ptrdiff_t)i * sa] + offset1, left_shift));
        const int32_t s2 = tml_requant_apply(&q2, tml_shl_wrap(x2[(ptrdiff_t)i * sb] + offset2, left_shift));
        const int32_t out = tml_requant_apply(&qo, subtract ? s1 - s2 : s1 + s2) + out_offset;
        y[i] = (int8_t)tml_clamp_i32(out, act_min, act_max);
    }
#else
    int32_t i = 0;
#if TML_USE_HOST_SIMD
    i = tml_host_add_s8(p, x1, sa, x2, sb, y, n, subtract);
#endif
    for (; i < n; i++) {
        const int32_t s1 = add_scale_input(x1[(ptrdiff_t)i * sa], p->input1_offset, p->left_shift, &p->input1_quant);
        const int32_t s2 = add_scale_input(x2[(ptrdiff_t)i * sb], p->input2_offset, p->left_shift, &p->input2_quant);
        y[i] = add_finish(p, subtract ? s1 - s2 : s1 + s2);
    }
#endif
}

static void add_row(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row((const tml_add_params *)params, (const int8_t *)a, sa, (const int8_t *)b, sb, (int8_t *)out, n, 0);
}

static void sub_row(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row((const tml_add_params *)params, (const int8_t *)a, sa, (const int8_t *)b, sb, (int8_t *)out, n, 1);
}

/* int16 ADD / SUB (16x8): TFLM's general int16 path (AddElementwise / SubElementwise with left_shift 15, never the
 * power-of-two path in TFLM's kernels); the same arithmetic as int8 on int16 elements. */
TML_INLINE void add_sub_row_s16(const tml_add_params *p, const int16_t *x1, int32_t sa, const int16_t *x2, int32_t sb,
                                int16_t *y, int32_t n, int subtract)
{
    for (int32_t i = 0; i < n; i++) {
        const int32_t s1 = add_scale_input(x1[(ptrdiff_t)i * sa], p->input1_offset, p->left_shift, &p->input1_quant);
        const int32_t s2 = add_scale_input(x2[(ptrdiff_t)i * sb], p->input2_offset, p->left_shift, &p->input2_quant);
        const int32_t out = tml_mul_by_quantized_multiplier_smaller_than_one(subtract ? s1 - s2 : s1 + s2,
                                                                             p->output_quant.multiplier,
                                                                             p->output_quant.shift) +
                            p->output_offset;
        y[i] = (int16_t)tml_clamp_i32(out, p->activation_min, p->activation_max);
    }
}

static void add_row_s16(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row_s16((const tml_add_params *)params, (const int16_t *)a, sa, (const int16_t *)b, sb, (int16_t *)out, n,
                    0);
}

static void sub_row_s16(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row_s16((const tml_add_params *)params, (const int16_t *)a, sa, (const int16_t *)b, sb, (int16_t *)out, n,
                    1);
}

/* One MUL element before the cast: the same for int8 and int16 (TFLM's MulElementwise template). */
TML_INLINE int32_t mul_element(const tml_mul_params *p, int32_t x1, int32_t x2)
{
    const int32_t r = tml_mul_by_quantized_multiplier((x1 + p->input1_offset) * (x2 + p->input2_offset),
                                                      p->output_quant.multiplier, p->output_quant.shift) +
                      p->output_offset;
    return tml_clamp_i32(r, p->activation_min, p->activation_max);
}

static void mul_row(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    const int8_t *x1 = (const int8_t *)a;
    const int8_t *x2 = (const int8_t *)b;
    int8_t *y = (int8_t *)out;
    int32_t i = 0;
#if TML_USE_HOST_SIMD
    i = tml_host_mul_s8((const tml_mul_params *)params, x1, sa, x2, sb, y, n);
#endif
    for (; i < n; i++) {
        y[i] = (int8_t)mul_element((const tml_mul_params *)params, x1[(ptrdiff_t)i * sa], x2[(ptrdiff_t)i * sb]);
    }
}

static void mul_row_s16(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    const int16_t *x1 = (const int16_t *)a;
    const int16_t *x2 = (const int16_t *)b;
    int16_t *y = (int16_t *)out;
    for (int32_t i = 0; i < n; i++) {
        y[i] = (int16_t)mul_element((const tml_mul_params *)params, x1[(ptrdiff_t)i * sa], x2[(ptrdiff_t)i * sb]);
    }
}

/* tml_add_s8 and tml_sub_s8: checks the arguments, then runs `row` over the broadcast. */
static tml_status add_sub_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                             const int8_t *input2, int8_t *output, tml_broadcast_row_fn row)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !add_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 1, params, input1, input2, output, row);
}

TML_API tml_status tml_add_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    return add_sub_s8(params, shape, input1, input2, output, add_row);
}

TML_API tml_status tml_sub_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    return add_sub_s8(params, shape, input1, input2, output, sub_row);
}

/* tml_add_s16 and tml_sub_s16: the int16 clamp bounds must fit int16. */
static tml_status add_sub_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                              const int16_t *input2, int16_t *output, tml_broadcast_row_fn row)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !add_params_valid(params) || params->activation_min < INT16_MIN || params->activation_max > INT16_MAX) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 2, params, input1, input2, output, row);
}

TML_API tml_status tml_add_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output)
{
    return add_sub_s16(params, shape, input1, input2, output, add_row_s16);
}

TML_API tml_status tml_sub_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output)
{
    return add_sub_s16(params, shape, input1, input2, output, sub_row_s16);
}

static int mul_params_valid(const tml_mul_params *p)
{
    return p->output_quant.multiplier >= 0 && p->output_quant.shift <= 31 && p->output_quant.shift >= -31 &&
           p->activation_min <= p->activation_max;
}

TML_API tml_status tml_mul_s8(const tml_mul_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !mul_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 1, params, input1, input2, output, mul_row);
}

/* TFLM's int16 MUL requires zero points 0 (so the int32 product cannot overflow) and int16 clamp bounds. */
TML_API tml_status tml_mul_s16(const tml_mul_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !mul_params_valid(params) || params->input1_offset != 0 || params->input2_offset != 0 ||
        params->output_offset != 0 || params->activation_min < INT16_MIN || params->activation_max > INT16_MAX) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 2, params, input1, input2, output, mul_row_s16);
}
