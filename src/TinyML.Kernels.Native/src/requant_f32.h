/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requant_f32.h: the requantization of onnxruntime's int8 CONV / MatMul / Gemm (MLAS's MlasRequantizeOutput and
 * the QLinearConv / QLinearMatMul / QGemm kernels it serves), and the choice between it and TFLM's fixed point that
 * the int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED loops share.
 *
 * onnxruntime's arithmetic, per output channel c with scale[c] = (x_scale * w_scale[c]) / y_scale in float32:
 *   v   = (float)(acc + bias[c]) * scale[c]              (int32 sum wraps; int32 -> float32 to nearest even)
 *   v   = clamp(v, qmin - zero_point, qmax - zero_point) (float)
 *   out = round_half_to_even(v) + zero_point
 * Only IEEE single-precision conversions, one multiply and comparisons, no FMA (-ffp-contract=off) and no libm, so
 * an FPU (x86 SSE, Cortex-M4F/M7/M33/M55) and software float (M0+, M3) give the same bits. The fused activation's
 * integer clamp is applied the same way: clamping to integer bounds commutes with rounding.
 */
#ifndef TML_REQUANT_F32_H
#define TML_REQUANT_F32_H

#include "common.h"

/* v rounded to the nearest integer, ties to even; |v| < 2^23. The fraction v - trunc(v) is exact there, so every
 * comparison is exact and no rounding mode is consulted. */
TML_INLINE int32_t tml_round_half_even_f32(float v)
{
    int32_t i = (int32_t)v;
    const float frac = v - (float)i;
    if (frac > 0.5f || (frac == 0.5f && (i & 1))) {
        i++;
    } else if (frac < -0.5f || (frac == -0.5f && (i & 1))) {
        i--;
    }
    return i;
}

/* acc (bias included) requantized as onnxruntime does, clamped to [act_min, act_max]. */
TML_INLINE int32_t tml_requant_f32(int32_t acc, float scale, int32_t output_offset, int32_t act_min, int32_t act_max)
{
    const float lo = (float)(act_min - output_offset);
    const float hi = (float)(act_max - output_offset);
    float v = (float)acc * scale;
    v = v < lo ? lo : (v > hi ? hi : v);
    return tml_round_half_even_f32(v) + output_offset;
}

/* How an int8 weighted kernel requantizes: TFLM's multipliers and shifts (quant) or onnxruntime's float32 scales;
 * exactly one is set. A constant one lets an inlined loop drop the other branch. */
typedef struct {
    const tml_per_channel_quant *quant;
    const float *scales;
} tml_s8_requant;

/* Output channel c of acc (bias included), offset and clamped, as int8. */
TML_INLINE int8_t tml_s8_requant_output(const tml_s8_requant *r, int32_t acc, int32_t c, int32_t output_offset,
                                        int32_t act_min, int32_t act_max)
{
    if (r->scales != NULL) {
        return (int8_t)tml_requant_f32(acc, r->scales[c], output_offset, act_min, act_max);
    }
    const int32_t scaled = tml_mul_by_quantized_multiplier(acc, r->quant->multiplier[c], r->quant->shift[c]);
    return (int8_t)tml_clamp_i32(scaled + output_offset, act_min, act_max);
}

/* 1 when every one of n scales is finite and positive (the lowering's; anything else is a bad argument). */
TML_INLINE int tml_scales_f32_valid(const float *scales, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        if (!(scales[i] > 0.0f && scales[i] < 3.0e38f)) {
            return 0;
        }
    }
    return 1;
}

#endif
