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

/* Requantizes one value: MBQM(x - input_zp) + output_zp (TFLM reference_ops::Requantize, before clamping; the
 * zero point is added with 32-bit wrap-around). */
TML_INLINE int32_t tml_requantize_one(const tml_requantize_params *p, int32_t x)
{
    /* an int32 input minus its zero point wraps as two's complement (TFLM's int32 subtraction on its hosts and
     * cores); narrower inputs never reach the wrap */
    const int32_t centred = (int32_t)((uint32_t)x - (uint32_t)p->input_zero_point);
    const int32_t scaled = tml_mul_by_quantized_multiplier(centred, p->multiplier, p->shift);
    return (int32_t)((uint32_t)scaled + (uint32_t)p->output_zero_point);
}

/* ---- the per-element operations, narrowed to the output type -------------------------------------------- */

TML_INLINE int8_t quantize_to_s8(const tml_quantize_params *p, float x)
{
    return tml_sat_i8(tml_affine_quantize_one(x, p->scale, p->zero_point));
}

TML_INLINE int16_t quantize_to_s16(const tml_quantize_params *p, float x)
{
    return tml_sat_i16(tml_affine_quantize_one(x, p->scale, p->zero_point));
}

TML_INLINE int8_t requantize_to_s8(const tml_requantize_params *p, int32_t x)
{
    return tml_sat_i8(tml_requantize_one(p, x));
}

TML_INLINE int16_t requantize_to_s16(const tml_requantize_params *p, int32_t x)
{
    return tml_sat_i16(tml_requantize_one(p, x));
}

/* the int32 output needs no clamp: the requantized value is already an int32 */
TML_INLINE int32_t requantize_to_s32(const tml_requantize_params *p, int32_t x)
{
    return tml_requantize_one(p, x);
}

TML_INLINE float dequantize_one(const tml_dequantize_params *p, int32_t x)
{
    return p->scale * (float)(x - p->zero_point);
}

/* ---- entry points --------------------------------------------------------------------------------------- */

/* Defines NAME(params, input, size, output): checks the arguments, then output[i] = ONE(params, input[i]). */
#define TML_DEFINE_UNARY(NAME, PARAMS_T, IN_T, OUT_T, ONE)                                                     \
    TML_API tml_status NAME(const PARAMS_T *params, const IN_T *input, int32_t size, OUT_T *output)            \
    {                                                                                                          \
        int32_t i;                                                                                             \
        if (tml_unary_args_bad(params, input, size, output)) {                                                 \
            return TML_ERROR_ARGUMENT;                                                                         \
        }                                                                                                      \
        for (i = 0; i < size; i++) {                                                                           \
            output[i] = ONE(params, input[i]);                                                                 \
        }                                                                                                      \
        return TML_OK;                                                                                         \
    }

TML_DEFINE_UNARY(tml_quantize_f32_s8, tml_quantize_params, float, int8_t, quantize_to_s8)
TML_DEFINE_UNARY(tml_quantize_f32_s16, tml_quantize_params, float, int16_t, quantize_to_s16)
TML_DEFINE_UNARY(tml_requantize_s8_s8, tml_requantize_params, int8_t, int8_t, requantize_to_s8)
TML_DEFINE_UNARY(tml_requantize_s8_s16, tml_requantize_params, int8_t, int16_t, requantize_to_s16)
TML_DEFINE_UNARY(tml_requantize_s8_s32, tml_requantize_params, int8_t, int32_t, requantize_to_s32)
TML_DEFINE_UNARY(tml_requantize_s16_s8, tml_requantize_params, int16_t, int8_t, requantize_to_s8)
TML_DEFINE_UNARY(tml_requantize_s16_s16, tml_requantize_params, int16_t, int16_t, requantize_to_s16)
TML_DEFINE_UNARY(tml_requantize_s16_s32, tml_requantize_params, int16_t, int32_t, requantize_to_s32)
TML_DEFINE_UNARY(tml_requantize_s32_s8, tml_requantize_params, int32_t, int8_t, requantize_to_s8)
TML_DEFINE_UNARY(tml_requantize_s32_s16, tml_requantize_params, int32_t, int16_t, requantize_to_s16)
TML_DEFINE_UNARY(tml_dequantize_s8_f32, tml_dequantize_params, int8_t, float, dequantize_one)
TML_DEFINE_UNARY(tml_dequantize_s16_f32, tml_dequantize_params, int16_t, float, dequantize_one)
