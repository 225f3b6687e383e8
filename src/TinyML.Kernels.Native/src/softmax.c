/* SPDX-License-Identifier: Apache-2.0 */
/*
 * softmax.c: SOFTMAX kernels (int8 -> int8, int8 -> int16, int16 -> int16, float32) and float32 LOG_SOFTMAX.
 *
 * The int8-input path follows TFLM's reference softmax (no look-up table for int8 input): each difference to
 * the row maximum is rescaled to Q5.26, exponentiated in fixed point, summed in Q12.19, and every
 * exponential is multiplied by the fixed-point reciprocal of that sum. The int16 path is TFLM's SoftmaxInt16:
 * exp and 1/(1 + x) come from two 513-entry tables the compiler generates as TFLM's Prepare does.
 */
#include <math.h>

#include "tml_kernels.h"
#include "act_fixedpoint.h"

/* Integer bits of the rescaled input difference (Q5.26) and of the sum of exponentials (Q12.19). */
#define TML_SOFTMAX_DIFF_IB 5
#define TML_SOFTMAX_SUM_IB 12

/* exp(scaled difference) in Q0.31 for one input difference (diff <= 0, diff >= diff_min). */
TML_INLINE int32_t tml_softmax_exp(const tml_softmax_params *p, int32_t diff)
{
    const int32_t scaled = tml_mul_by_quantized_multiplier_greater_than_one(diff, p->input_multiplier,
                                                                             p->input_left_shift);
    return tml_fp_exp_on_negative_values(scaled, TML_SOFTMAX_DIFF_IB);
}

static tml_status tml_softmax_check(const tml_softmax_params *params, const void *input, int32_t rows,
                                    int32_t depth, const void *output)
{
    if (params == NULL || input == NULL || output == NULL || rows < 0 || depth < 0) {
        return TML_ERROR_ARGUMENT;
    }
    if (params->input_left_shift < 0 || params->input_left_shift > 31 || params->diff_min > 0) {
        return TML_ERROR_ARGUMENT;
    }
    return TML_OK;
}

/*
 * Shared int8-input kernel: checks the arguments, then runs the rows. out_bits is 8 or 16; each result is
 * clamped to the output type and stored as int8 or int16. Returns TML_ERROR_ARGUMENT when the reciprocal
 * exponent leaves [0, 31] (TFLM aborts with a TFLITE_CHECK there).
 */
static tml_status tml_softmax_s8_rows(const tml_softmax_params *p, const int8_t *input, int32_t rows,
                                      int32_t depth, int32_t out_bits, void *output)
{
    const int32_t out_min = out_bits == 8 ? INT8_MIN : INT16_MIN;
    const int32_t out_max = out_bits == 8 ? INT8_MAX : INT16_MAX;
    const tml_status st = tml_softmax_check(p, input, rows, depth, output);
    int32_t r;
    if (st != TML_OK) {
        return st;
    }
    for (r = 0; r < rows; r++) {
        const int8_t *in_row = input + (size_t)r * (size_t)depth;
        int32_t max_in_row = INT8_MIN;
        int32_t sum_of_exps = 0;
        int32_t bits_over_unit = 0;
        int32_t reciprocal;
        int32_t exponent;
        int32_t c;
        for (c = 0; c < depth; c++) {
            if (in_row[c] > max_in_row) {
                max_in_row = in_row[c];
            }
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in_row[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t e = tml_softmax_exp(p, diff);
                sum_of_exps = tml_fp_add(sum_of_exps, tml_fp_rescale(e, 0, TML_SOFTMAX_SUM_IB));
            }
        }
        if (sum_of_exps <= 0) {
            /* cannot happen with valid parameters: the maximum itself contributes exp(0) */
            return TML_ERROR_ARGUMENT;
        }
        reciprocal = tml_fp_reciprocal(sum_of_exps, TML_SOFTMAX_SUM_IB, &bits_over_unit);
        exponent = bits_over_unit + 31 - out_bits;
        if (exponent < 0 || exponent > 31) {
            return TML_ERROR_ARGUMENT;
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in_row[c] - max_in_row;
            int32_t value = out_min;
            if (diff >= p->diff_min) {
                const int32_t e = tml_softmax_exp(p, diff);
                const int32_t unsat = tml_rounding_divide_by_pot(tml_fp_mul(reciprocal, e), exponent);
                value = tml_clamp_i32(unsat + out_min, out_min, out_max);
            }
            if (out_bits == 8) {
                ((int8_t *)output)[(size_t)r * (size_t)depth + (size_t)c] = (int8_t)value;
            } else {
                ((int16_t *)output)[(size_t)r * (size_t)depth + (size_t)c] = (int16_t)value;
            }
        }
    }
    return TML_OK;
}

TML_API tml_status tml_softmax_s8(const tml_softmax_params *params, const int8_t *input, int32_t rows,
                                  int32_t depth, int8_t *output)
{
    return tml_softmax_s8_rows(params, input, rows, depth, 8, output);
}

TML_API tml_status tml_softmax_s8_s16(const tml_softmax_params *params, const int8_t *input, int32_t rows,
                                      int32_t depth, int16_t *output)
{
    return tml_softmax_s8_rows(params, input, rows, depth, 16, output);
}

/* TFLM's interpolating lookup in a 513-entry table over the int16 range (512 steps of 128, 7 fraction bits). */
TML_INLINE int16_t tml_lut_s16(const int16_t *lut, int16_t value)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7F;
    /* the slope is narrowed to int16 as TFLM stores it */
    const int32_t slope = (int16_t)(lut[index + 1] - lut[index]);
    return (int16_t)(lut[index] + ((slope * offset + 64) >> 7));
}

/* exp(x - max) in Q0.15: the difference is rescaled so that [-65535, 0] covers exp's table range [-10, 0]. */
TML_INLINE int16_t tml_softmax_s16_exp(const tml_softmax_s16_params *p, int32_t diff)
{
    const int32_t scaled = tml_mul_by_quantized_multiplier(diff, p->input_multiplier, p->input_left_shift);
    /* recentred from [-65535, 0] to the table's int16 input range */
    return tml_lut_s16(p->exp_lut, (int16_t)tml_clamp_i32(scaled + INT16_MAX, INT16_MIN, INT16_MAX));
}

TML_API tml_status tml_softmax_s16(const tml_softmax_s16_params *params, const int16_t *input, int32_t rows,
                                   int32_t depth, int16_t *output)
{
    int32_t r;
    if (params == NULL || input == NULL || output == NULL || rows < 0 || depth < 0 || params->exp_lut == NULL ||
        params->one_over_one_plus_x_lut == NULL || params->input_left_shift < -31 || params->input_left_shift > 30) {
        return TML_ERROR_ARGUMENT;
    }
    for (r = 0; r < rows; r++) {
        const int16_t *in_row = input + (size_t)r * (size_t)depth;
        int16_t *out_row = output + (size_t)r * (size_t)depth;
        int32_t max_in_row = INT16_MIN;
        int32_t sum_of_exps = 0; /* Q16.15 */
        int32_t headroom_plus_one, right_shift, c;
        int16_t reciprocal;
        for (c = 0; c < depth; c++) {
            max_in_row = in_row[c] > max_in_row ? in_row[c] : max_in_row;
        }
        /* the exponentials are kept in the output row until the reciprocal is known, as TFLM does */
        for (c = 0; c < depth; c++) {
            out_row[c] = tml_softmax_s16_exp(params, (int32_t)in_row[c] - max_in_row);
            sum_of_exps = tml_add_wrap(sum_of_exps, out_row[c]);
        }
        if (sum_of_exps <= 0) {
            /* only a row of more than 65536 elements can wrap the sum; TFLM's shifts are undefined there */
            return TML_ERROR_ARGUMENT;
        }
        headroom_plus_one = tml_fp_clz32((uint32_t)sum_of_exps);
        {
            /* the sum normalised to [1, 2) in Q1.14 (rounded), minus 1, recentred on the table's int16 range */
            const int32_t shifted_sum =
                (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
            const int32_t centred = shifted_sum - ((1 << 15) + (1 << 16));
            reciprocal = tml_lut_s16(params->one_over_one_plus_x_lut,
                                     (int16_t)tml_clamp_i32(centred, INT16_MIN, INT16_MAX));
        }
        right_shift = 31 - headroom_plus_one;
        for (c = 0; c < depth; c++) {
            const int64_t round = (int64_t)1 << (right_shift - 1);
            const int32_t y = (int32_t)(((int64_t)out_row[c] * reciprocal + round) >> right_shift);
            out_row[c] = (int16_t)tml_clamp_i32(y, 0, INT16_MAX);
        }
    }
    return TML_OK;
}

TML_API tml_status tml_softmax_f32(const tml_softmax_f32_params *params, const float *input, int32_t rows,
                                   int32_t depth, float *output)
{
    int32_t r;
    float beta;
    if (params == NULL || input == NULL || output == NULL || rows < 0 || depth < 0) {
        return TML_ERROR_ARGUMENT;
    }
    beta = params->beta;
    for (r = 0; r < rows; r++) {
        const float *in_row = input + (size_t)r * (size_t)depth;
        float *out_row = output + (size_t)r * (size_t)depth;
        float max_value = -3.402823466e+38f; /* lowest finite float, as TFLM starts from */
        float sum = 0.0f;
        int32_t c;
        for (c = 0; c < depth; c++) {
            /* std::max(max, x) keeps max unless max < x */
            if (max_value < in_row[c]) {
                max_value = in_row[c];
            }
        }
        for (c = 0; c < depth; c++) {
            const float scaled = (in_row[c] - max_value) * beta;
            const float e = expf(scaled);
            out_row[c] = e;
            sum += e;
        }
        for (c = 0; c < depth; c++) {
            out_row[c] = out_row[c] / sum;
        }
    }
    return TML_OK;
}

TML_API tml_status tml_log_softmax_f32(const float *input, int32_t rows, int32_t depth, float *output)
{
    if (input == NULL || output == NULL || rows < 0 || depth < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t r = 0; r < rows; r++) {
        const float *in_row = input + (size_t)r * (size_t)depth;
        float *out_row = output + (size_t)r * (size_t)depth;
        float max_value = -3.402823466e+38f; /* lowest finite float, as TFLM starts from */
        for (int32_t c = 0; c < depth; c++) {
            if (max_value < in_row[c]) {
                max_value = in_row[c];
            }
        }
        float sum = 0.0f;
        for (int32_t c = 0; c < depth; c++) {
            sum += expf(in_row[c] - max_value);
        }
        const float log_sum = logf(sum);
        /* In TFLM's order, (x - max) - log_sum; the row is read again, so in place is allowed. */
        for (int32_t c = 0; c < depth; c++) {
            out_row[c] = in_row[c] - max_value - log_sum;
        }
    }
    return TML_OK;
}

/* int8 LOG_SOFTMAX (TFLM reference_ops::LogSoftmaxQuantized): differences to the row max rescaled to Q5.26, their
 * exponentials summed in Q12.19, log of the sum in Q5.26; each output is (diff - log_sum) in 2^-4 steps plus 127,
 * or -128 at or below the adjusted minimum difference. */
TML_API tml_status tml_log_softmax_s8(const tml_log_softmax_params *params, const int8_t *input, int32_t rows,
                                      int32_t depth, int8_t *output)
{
    if (params == NULL || input == NULL || output == NULL || rows < 0 || depth < 0 || params->input_left_shift < 0 ||
        params->input_left_shift > 31 || params->reverse_shift > 0 || params->reverse_shift < -31) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t input_ib = 5, accumulation_ib = 12, output_ib = 4;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *in_row = input + (size_t)r * (size_t)depth;
        int8_t *out_row = output + (size_t)r * (size_t)depth;
        int32_t max_value = -128;
        for (int32_t c = 0; c < depth; c++) {
            max_value = TML_MAX(max_value, (int32_t)in_row[c]);
        }
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in_row[c] - max_value;
            if (diff >= params->diff_min) {
                const int32_t diff_q5 = tml_mul_by_quantized_multiplier(diff, params->input_multiplier, params->input_left_shift);
                sum_of_exps = tml_fp_add(sum_of_exps, tml_fp_rescale(tml_fp_exp_on_negative_values(diff_q5, input_ib), 0, accumulation_ib));
            }
        }
        const int32_t log_sum_q5 = tml_fp_log_x_ge_1(sum_of_exps, accumulation_ib, input_ib);
        /* The smallest Q5.26 value plus the log sum, in input steps: lower differences would underflow. */
        const int32_t adjusted_diff_min =
            TML_MAX(params->diff_min - 1, tml_mul_by_quantized_multiplier(tml_fp_add(log_sum_q5, INT32_MIN), params->reverse_multiplier,
                                                                           params->reverse_shift));
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in_row[c] - max_value;
            if (diff > adjusted_diff_min) {
                const int32_t diff_q5 = tml_mul_by_quantized_multiplier(diff, params->input_multiplier, params->input_left_shift);
                const int32_t value = tml_rounding_divide_by_pot(tml_fp_sub(diff_q5, log_sum_q5), 31 - input_ib - output_ib) + 127;
                out_row[c] = (int8_t)tml_clamp_i32(value, -128, 127);
            } else {
                out_row[c] = -128;
            }
        }
    }
    return TML_OK;
}
