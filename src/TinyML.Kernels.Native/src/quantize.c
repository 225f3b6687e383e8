/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quantize.c: QUANTIZE (float32 -> int8/int16, integer -> integer requantization) and DEQUANTIZE kernels.
 */
#include <math.h>

#include "tml_kernels.h"
#include "common.h"

/*
 * (int32)round_half_away(q) with x86-64 semantics outside the int32 range: an out-of-range or NaN value
 * converts to INT32_MIN ("integer indefinite" of cvttss2si), which is what TFLM's static_cast produced for the
 * golden outputs. Written without the undefined float -> int conversion so every target agrees.
 */
TML_INLINE int32_t tml_round_to_i32_x86(float q)
{
    const float r = roundf(q);
    if (r >= -2147483648.0f && r < 2147483648.0f) {
        return (int32_t)r;
    }
    return INT32_MIN;
}

/* The quantized value before clamping: zero point added with 32-bit wrap-around (as TFLM's int addition). */
TML_INLINE int32_t tml_affine_quantize_one(float x, float scale, int32_t zero_point)
{
    return (int32_t)((uint32_t)tml_round_to_i32_x86(x / scale) + (uint32_t)zero_point);
}

TML_API tml_status tml_quantize_f32_s8(const tml_quantize_params *params, const float *input, int32_t size,
                                       int8_t *output)
{
    int32_t i;
    if (params == NULL || size < 0 || (size > 0 && (input == NULL || output == NULL))) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        output[i] = tml_sat_i8(tml_affine_quantize_one(input[i], params->scale, params->zero_point));
    }
    return TML_OK;
}

TML_API tml_status tml_quantize_f32_s16(const tml_quantize_params *params, const float *input, int32_t size,
                                        int16_t *output)
{
    int32_t i;
    if (params == NULL || size < 0 || (size > 0 && (input == NULL || output == NULL))) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        output[i] = tml_sat_i16(tml_affine_quantize_one(input[i], params->scale, params->zero_point));
    }
    return TML_OK;
}

/* Requantizes one value: MBQM(x - input_zp) + output_zp (TFLM reference_ops::Requantize, before clamping; the
 * zero point is added with 32-bit wrap-around). */
TML_INLINE int32_t tml_requantize_one(const tml_requantize_params *p, int32_t x)
{
    const int32_t scaled = tml_mul_by_quantized_multiplier(x - p->input_zero_point, p->multiplier, p->shift);
    return (int32_t)((uint32_t)scaled + (uint32_t)p->output_zero_point);
}

/* Defines one integer -> integer QUANTIZE entry point; SAT narrows the int32 result to the output type. */
#define TML_DEFINE_REQUANTIZE(NAME, IN_T, OUT_T, SAT)                                                          \
    TML_API tml_status NAME(const tml_requantize_params *params, const IN_T *input, int32_t size,              \
                            OUT_T *output)                                                                     \
    {                                                                                                          \
        int32_t i;                                                                                             \
        if (params == NULL || size < 0 || (size > 0 && (input == NULL || output == NULL))) {                   \
            return TML_ERROR_ARGUMENT;                                                                         \
        }                                                                                                      \
        for (i = 0; i < size; i++) {                                                                           \
            output[i] = SAT(tml_requantize_one(params, (int32_t)input[i]));                                    \
        }                                                                                                      \
        return TML_OK;                                                                                         \
    }

/* the int32 output needs no clamp: the requantized value is already an int32 */
#define TML_SAT_I32(v) (v)

TML_DEFINE_REQUANTIZE(tml_requantize_s8_s8, int8_t, int8_t, tml_sat_i8)
TML_DEFINE_REQUANTIZE(tml_requantize_s8_s16, int8_t, int16_t, tml_sat_i16)
TML_DEFINE_REQUANTIZE(tml_requantize_s8_s32, int8_t, int32_t, TML_SAT_I32)
TML_DEFINE_REQUANTIZE(tml_requantize_s16_s8, int16_t, int8_t, tml_sat_i8)
TML_DEFINE_REQUANTIZE(tml_requantize_s16_s16, int16_t, int16_t, tml_sat_i16)
TML_DEFINE_REQUANTIZE(tml_requantize_s16_s32, int16_t, int32_t, TML_SAT_I32)

TML_API tml_status tml_dequantize_s8_f32(const tml_dequantize_params *params, const int8_t *input, int32_t size,
                                         float *output)
{
    int32_t i;
    if (params == NULL || size < 0 || (size > 0 && (input == NULL || output == NULL))) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        output[i] = params->scale * (float)((int32_t)input[i] - params->zero_point);
    }
    return TML_OK;
}

TML_API tml_status tml_dequantize_s16_f32(const tml_dequantize_params *params, const int16_t *input,
                                          int32_t size, float *output)
{
    int32_t i;
    if (params == NULL || size < 0 || (size > 0 && (input == NULL || output == NULL))) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        output[i] = params->scale * (float)((int32_t)input[i] - params->zero_point);
    }
    return TML_OK;
}
