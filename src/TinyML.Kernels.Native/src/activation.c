/* SPDX-License-Identifier: Apache-2.0 */
/*
 * activation.c: LOGISTIC and TANH (int8, int16), HARD_SWISH, LEAKY_RELU (int8, int16), RELU and RELU6 (int8,
 * RELU6 also int16) kernels, and the 256-entry lookup of int8 ELU.
 *
 * int8 LOGISTIC and TANH evaluate the function in 32-bit fixed point (Q4.27 input, Q0.31 result) exactly as
 * TFLM's reference kernels do; their int16 versions interpolate TFLM's 256-node sigmoid table; HARD_SWISH
 * reproduces TFLM's 16-bit fixed-point pipeline, including its int16 truncations; the RELU family and LEAKY_RELU
 * are requantize-and-clamp loops.
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

/* ---- LOGISTIC / TANH int16 (16x8): TFLM's shared sigmoid table with linear interpolation ------------------- */

/*
 * sigmoid(x) in Q0.16 at x = i/24, i = 0..255, each node lowered by a sixteenth of h^2 * sigmoid''(x) (h = 1/24):
 * half the midpoint error of linear interpolation, so the interpolated curve's error is balanced between nodes.
 * round(65536 * (s - h^2 s (1 - s) (1 - 2 s) / 16)), s = sigmoid(i/24), except the last node, pinned at 65535.
 * No node is within 0.003 of a rounding tie; test_activation recomputes the table from this formula.
 */
static const uint16_t tml_sigmoid_table_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535};

/* TFLM's power-of-two form (multiplier 0): the input shift folds into the 3/4 rescale. */
TML_INLINE int tml_sigmoid_s16_resolve(const tml_sigmoid_s16_params *p, int32_t *multiplier, int32_t *shift)
{
    if (p->input_multiplier == 0) {
        /* 3 << 14 is the largest factor an int16 input can take without overflowing the int32 product */
        if (p->input_left_shift < 0 || p->input_left_shift > 14) {
            return 0;
        }
        *multiplier = 3 << p->input_left_shift;
        *shift = 0;
        return 1;
    }
    if (p->input_multiplier < 0 || p->input_multiplier > INT16_MAX || p->input_left_shift < 0 ||
        p->input_left_shift > 31) {
        return 0;
    }
    *multiplier = p->input_multiplier;
    *shift = p->input_left_shift;
    return 1;
}

/* The input on the table's scale (1/(3 * 4096) for LOGISTIC's 1/4096 grid), rounded half up. */
TML_INLINE int32_t tml_sigmoid_s16_scaled(int16_t x, int32_t multiplier, int32_t shift)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    return ((int32_t)x * multiplier + round) >> shift;
}

/* The table linearly interpolated at magnitude / 2^bits nodes (bits fraction bits kept); saturated past the last. */
TML_INLINE uint32_t tml_sigmoid_table_at(uint32_t magnitude, uint32_t bits, uint32_t saturated)
{
    const uint32_t node = magnitude >> bits;
    if (node >= 255) {
        return saturated;
    }
    const uint32_t a = tml_sigmoid_table_q16[node];
    const uint32_t b = tml_sigmoid_table_q16[node + 1];
    return (a << bits) + (magnitude & ((1u << bits) - 1u)) * (b - a);
}

TML_API tml_status tml_logistic_s16(const tml_sigmoid_s16_params *params, const int16_t *input, int32_t size,
                                    int16_t *output)
{
    int32_t multiplier, shift, i;
    if (tml_unary_args_bad(params, input, size, output) || !tml_sigmoid_s16_resolve(params, &multiplier, &shift)) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        const int32_t x = tml_sigmoid_s16_scaled(input[i], multiplier, shift);
        const uint32_t magnitude = x < 0 ? (uint32_t)0 - (uint32_t)x : (uint32_t)x;
        /* 9 fraction bits between nodes: 2^7 for the input's Q3.12 and 4/3 of the node spacing */
        uint32_t y = tml_sigmoid_table_at(magnitude, 9, (uint32_t)0x7FFF << 10);
        /* sigmoid(-x) = 1 - sigmoid(x), both rounded back from Q0.25 to Q0.15 */
        y = x >= 0 ? y + (1u << 9) : (1u << 25) - y + (1u << 9) - 1u;
        output[i] = (int16_t)(y >> 10);
    }
    return TML_OK;
}

TML_API tml_status tml_tanh_s16(const tml_sigmoid_s16_params *params, const int16_t *input, int32_t size,
                                int16_t *output)
{
    int32_t multiplier, shift, i;
    if (tml_unary_args_bad(params, input, size, output) || !tml_sigmoid_s16_resolve(params, &multiplier, &shift)) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        const int32_t x = tml_sigmoid_s16_scaled(input[i], multiplier, shift);
        const uint32_t magnitude = x < 0 ? (uint32_t)0 - (uint32_t)x : (uint32_t)x;
        /* tanh(x) = 2 sigmoid(2x) - 1: 8 fraction bits between nodes, the doubling is one bit fewer */
        int32_t y = (int32_t)tml_sigmoid_table_at(magnitude, 8, (uint32_t)0xFFFF << 8);
        y = x >= 0 ? y - (1 << 23) + (1 << 7) : -y + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(y >> 8);
    }
    return TML_OK;
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

/* RELU6's clamp, in the input's quantization (TFLM's Relu6Quantized<T>). */
#define TML_RELU6_CLAMP(x, p) ((x) > (p)->six ? (p)->six : ((x) < (p)->zero ? (p)->zero : (x)))

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
        output[i] = (int8_t)TML_RELU6_CLAMP(x, params);
    }
    return TML_OK;
}

TML_API tml_status tml_relu6_s16(const tml_relu6_params *params, const int16_t *input, int32_t size,
                                 int16_t *output)
{
    int32_t i;
    if (tml_unary_args_bad(params, input, size, output) || params->zero < INT16_MIN || params->zero > INT16_MAX ||
        params->six < INT16_MIN || params->six > INT16_MAX) {
        return TML_ERROR_ARGUMENT;
    }
    for (i = 0; i < size; i++) {
        const int32_t x = input[i];
        output[i] = (int16_t)TML_RELU6_CLAMP(x, params);
    }
    return TML_OK;
}

/* ---- 256-entry lookup (int8 ELU) ------------------------------------------------------------------------------ */

TML_API tml_status tml_lookup_s8(const int8_t *params, const int8_t *input, int32_t size, int8_t *output)
{
    const int8_t *table = params;
    if (table == NULL || input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        output[i] = table[(uint8_t)input[i]];
    }
    return TML_OK;
}
