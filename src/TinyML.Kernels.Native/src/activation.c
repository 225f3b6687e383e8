/* SPDX-License-Identifier: Apache-2.0 */
/*
 * activation.c: int8 LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, RELU and RELU6 kernels.
 *
 * LOGISTIC and TANH evaluate the function in 32-bit fixed point (Q4.27 input, Q0.31 result) exactly as TFLM's
 * reference kernels do; HARD_SWISH reproduces TFLM's 16-bit fixed-point pipeline, including its int16
 * truncations; the RELU family and LEAKY_RELU are requantize-and-clamp loops.
 */
#include "tml_kernels.h"
#include "act_fixedpoint.h"

/* Integer bits of the fixed-point input of LOGISTIC and TANH (Q4.27). */
#define TML_SIGMOID_INPUT_IB 4

/* ---- LOGISTIC / TANH ---------------------------------------------------------------------------------------- */

/* Shifts the fixed-point evaluation could not apply (it only runs for |x - zp| < radius). */
static int tml_sigmoid_params_bad(const tml_logistic_params *p)
{
    return p->input_left_shift < -31 || (p->input_left_shift > 31 && p->input_range_radius > 0);
}

/*
 * LOGISTIC (is_tanh == 0) or TANH (is_tanh == 1); is_tanh is a constant at each call site. Inputs at least the
 * radius away from the zero point saturate; the others are evaluated in fixed point from Q4.27.
 */
TML_INLINE tml_status tml_sigmoid_s8(const tml_logistic_params *params, const int8_t *input, int32_t size,
                                     int8_t *output, int is_tanh)
{
    int32_t i;
    if (tml_unary_args_bad(params, input, size, output) || tml_sigmoid_params_bad(params)) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        const int32_t x = (int32_t)input[i] - params->input_zero_point;
        int32_t y;
        if (x <= -params->input_range_radius) {
            y = INT8_MIN;
        } else if (x >= params->input_range_radius) {
            y = INT8_MAX;
        } else {
            const int32_t x_q4 = tml_mul_by_quantized_multiplier(x, params->input_multiplier,
                                                                 params->input_left_shift);
            if (is_tanh) {
                const int32_t t_q0 = tml_fp_tanh(x_q4, TML_SIGMOID_INPUT_IB);
                /* Q0.31 -> 1/128 units (zero point 0) */
                y = tml_clamp_i32(tml_rounding_divide_by_pot(t_q0, 24), INT8_MIN, INT8_MAX);
            } else {
                const int32_t s_q0 = tml_fp_logistic(x_q4, TML_SIGMOID_INPUT_IB);
                /* Q0.31 -> 1/256 units, then the -128 zero point */
                y = tml_clamp_i32(tml_rounding_divide_by_pot(s_q0, 23) - 128, INT8_MIN, INT8_MAX);
            }
        }
        output[i] = (int8_t)y;
    }
    return TML_OK;
}

TML_API tml_status tml_logistic_s8(const tml_logistic_params *params, const int8_t *input, int32_t size,
                                   int8_t *output)
{
    return tml_sigmoid_s8(params, input, size, output, 0);
}

TML_API tml_status tml_tanh_s8(const tml_tanh_params *params, const int8_t *input, int32_t size, int8_t *output)
{
    return tml_sigmoid_s8(params, input, size, output, 1);
}

/* ---- HARD_SWISH: 16-bit helpers that keep TFLM's int16 truncations ------------------------------------------ */

/* Two's-complement narrowing to int16 (what C++ does when TFLM assigns an int to an int16_t). */
TML_INLINE int16_t tml_wrap_i16(int32_t v)
{
    return (int16_t)(uint16_t)(uint32_t)v;
}

/* gemmlowp SaturatingRoundingDoublingHighMul on int16: round(a * b / 2^15), -1 * -1 saturated. */
TML_INLINE int16_t tml_srdhm_i16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    {
        const int32_t ab = (int32_t)a * (int32_t)b;
        const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
        return tml_wrap_i16((ab + nudge) / (1 << 15));
    }
}

/* TFLM's SaturatingDoublingHighMul on int16: a * b / 2^15 truncated toward zero, -1 * -1 saturated. */
TML_INLINE int16_t tml_sdhm_i16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return tml_wrap_i16(((int32_t)a * (int32_t)b) / (1 << 15));
}

/* TFLM's SaturatingLeftShift on int16: value * 2^amount saturated to the int16 range (amount in [0, 30]). */
TML_INLINE int16_t tml_sat_shl_i16(int16_t value, int32_t amount)
{
    const int64_t v = (int64_t)value * ((int64_t)1 << amount);
    return (int16_t)(v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : v));
}

/*
 * gemmlowp RoundingDivideByPOT instantiated for int16: the mask and threshold are int16 values, so exponents
 * of 16 or more behave as the int16 template does (mask truncated to -1), not as a plain rounding shift.
 */
TML_INLINE int16_t tml_rdbpot_i16(int16_t x, int32_t exponent)
{
    const int16_t mask = tml_wrap_i16((int32_t)(((uint32_t)1 << exponent) - 1u));
    const int16_t remainder = (int16_t)(x & mask);
    const int16_t threshold = tml_wrap_i16((mask >> 1) + (x < 0 ? 1 : 0));
    return tml_wrap_i16(((int32_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

TML_API tml_status tml_hard_swish_s8(const tml_hard_swish_params *params, const int8_t *input, int32_t size,
                                     int8_t *output)
{
    int32_t i;
    if (tml_unary_args_bad(params, input, size, output)) {
        return TML_ERROR_ARGUMENT;
    }
    if (params->output_multiplier_exponent > 0 || params->output_multiplier_exponent < -31 ||
        params->reluish_multiplier_exponent > 31 || params->reluish_multiplier_exponent < -31) {
        return TML_ERROR_ARGUMENT;
    }
    {
        const int16_t out_mult = (int16_t)params->output_multiplier_fixedpoint_int16;
        const int16_t reluish_mult = (int16_t)params->reluish_multiplier_fixedpoint_int16;
        const int32_t reluish_exp = params->reluish_multiplier_exponent;
        const int16_t in_zp = (int16_t)params->input_zero_point;
        const int16_t out_zp = (int16_t)params->output_zero_point;
        for (i = 0; i < size; i++) {
            const int16_t x = tml_wrap_i16((int32_t)input[i] - in_zp);
            /* x on a scale 128 times finer: uses the high bits of the int16 (|x| <= 255, so no overflow) */
            const int16_t x_hires = tml_wrap_i16((int32_t)x * 128);
            /* x on the output scale, not yet right-shifted */
            const int16_t x_preshift = tml_srdhm_i16(x_hires, out_mult);
            /* "relu-ish" factor: x mapped from [-3, 3] to [-1, 1] (saturating), then to [0, 1] */
            int16_t reluish = x_hires;
            int16_t preshift_out;
            int16_t y;
            if (reluish_exp > 0) {
                reluish = tml_sat_shl_i16(reluish, reluish_exp - 1);
            }
            reluish = tml_srdhm_i16(reluish, reluish_mult);
            if (reluish_exp > 0) {
                reluish = tml_sat_shl_i16(reluish, 1);
            }
            if (reluish_exp < 0) {
                reluish = tml_rdbpot_i16(reluish, -reluish_exp);
            }
            reluish = tml_wrap_i16(((int32_t)reluish + (1 << 15)) >> 1);
            preshift_out = tml_sdhm_i16(reluish, x_preshift);
            y = tml_rdbpot_i16(preshift_out, -params->output_multiplier_exponent);
            y = tml_wrap_i16((int32_t)y + out_zp);
            output[i] = (int8_t)(y > INT8_MAX ? INT8_MAX : (y < INT8_MIN ? INT8_MIN : y));
        }
    }
    return TML_OK;
}

/* ---- LEAKY_RELU, RELU, RELU6 ------------------------------------------------------------------------------- */

/* One LEAKY_RELU element before the output offset: the identity or the alpha rescale by the input's sign. */
static int32_t tml_leaky_relu_scaled(const tml_leaky_relu_params *params, int32_t input)
{
    const int32_t x = input - params->input_offset;
    return x >= 0 ? tml_mul_by_quantized_multiplier(x, params->output_multiplier_identity, params->output_shift_identity)
                  : tml_mul_by_quantized_multiplier(x, params->output_multiplier_alpha, params->output_shift_alpha);
}

TML_API tml_status tml_leaky_relu_s8(const tml_leaky_relu_params *params, const int8_t *input, int32_t size,
                                     int8_t *output)
{
    int32_t i;
    if (tml_unary_args_bad(params, input, size, output)) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        output[i] = tml_sat_i8(params->output_offset + tml_leaky_relu_scaled(params, input[i]));
    }
    return TML_OK;
}

TML_API tml_status tml_leaky_relu_s16(const tml_leaky_relu_params *params, const int16_t *input, int32_t size,
                                      int16_t *output)
{
    int32_t i;
    if (tml_unary_args_bad(params, input, size, output)) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        output[i] = tml_sat_i16(params->output_offset + tml_leaky_relu_scaled(params, input[i]));
    }
    return TML_OK;
}

TML_API tml_status tml_relu_s8(const tml_relu_params *params, const int8_t *input, int32_t size, int8_t *output)
{
    int32_t i;
    if (tml_unary_args_bad(params, input, size, output) || params->quantized_activation_min < INT8_MIN ||
        params->quantized_activation_max > INT8_MAX || params->quantized_activation_min > INT8_MAX ||
        params->quantized_activation_max < INT8_MIN) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        int32_t y = params->output_offset +
                    tml_mul_by_quantized_multiplier((int32_t)input[i] - params->input_offset,
                                                    params->output_multiplier, params->output_shift);
        /* max first, then min, as TFLM (matters only if min > max) */
        y = y < params->quantized_activation_min ? params->quantized_activation_min : y;
        y = y > params->quantized_activation_max ? params->quantized_activation_max : y;
        output[i] = (int8_t)y;
    }
    return TML_OK;
}

TML_API tml_status tml_relu6_s8(const tml_relu6_params *params, const int8_t *input, int32_t size,
                                int8_t *output)
{
    int32_t i;
    if (tml_unary_args_bad(params, input, size, output) || params->zero < INT8_MIN || params->zero > INT8_MAX ||
        params->six < INT8_MIN || params->six > INT8_MAX) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        const int32_t x = input[i];
        output[i] = (int8_t)(x > params->six ? params->six : (x < params->zero ? params->zero : x));
    }
    return TML_OK;
}
