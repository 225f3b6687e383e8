/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reduce.c: int8 and int16 MEAN over a block of consecutive axes (typically H and W of an NHWC tensor).
 *
 * Arithmetic (tflite-micro EvalIntegerMean<T> -> reference_ops::QuantizedMeanOrSum, integer path; T int8 or int16):
 *   sum     = sum of the raw inputs in int32
 *   shifted = (int32)(sum - input_zero_point * reduce_size)       (computed in 64 bits, then truncated)
 *   out     = clamp(MultiplyByQuantizedMultiplier(shifted, multiplier, shift) + output_zero_point, T min, T max)
 * where multiplier/shift already contain the 1/reduce_size factor folded in by the compiler (see
 * docs/kernels.md, "MEAN").
 */
#include "common.h"

TML_API int32_t tml_mean_s8_get_buffer_size(const tml_mean_params *params)
{
    return tml_mean_s8_get_buffer_size_for(TML_BUILD_CORE, params);
}

TML_API int32_t tml_mean_s8_get_buffer_size_for(int32_t core, const tml_mean_params *params)
{
    if (core < 0 || core >= TML_CORES) {
        return -1;
    }
    if (params == NULL) {
        return -1;
    }
    return 0;
}

/* Checks the parameters of both MEAN kernels. */
static int tml_mean_params_bad(const tml_mean_params *params, const void *input, const void *output)
{
    return params == NULL || input == NULL || output == NULL || params->outer_size < 1 || params->reduce_size < 1 ||
           params->inner_size < 1 || params->quant.multiplier < 0 || params->quant.shift > 31 ||
           params->quant.shift < -31;
}

/* Defines the MEAN kernel of one element type: the int32 sum wraps as TFLM's int32 accumulator, then the
 * zero-point correction, the folded multiplier and the clamp to the type. */
#define TML_DEFINE_MEAN(NAME, T, SATURATE)                                                                     \
    TML_API tml_status NAME(const tml_mean_params *params, const T *input, T *output, void *scratch)          \
    {                                                                                                          \
        (void)scratch;                                                                                         \
        if (tml_mean_params_bad(params, input, output)) {                                                      \
            return TML_ERROR_ARGUMENT;                                                                         \
        }                                                                                                      \
        const int32_t outer = params->outer_size;                                                              \
        const int32_t reduce = params->reduce_size;                                                            \
        const int32_t inner = params->inner_size;                                                              \
        const int64_t offset_total = (int64_t)params->input_offset * (int64_t)reduce;                         \
        for (int32_t o = 0; o < outer; o++) {                                                                  \
            const T *in = input + (size_t)o * reduce * inner;                                                  \
            T *out = output + (size_t)o * inner;                                                               \
            for (int32_t i = 0; i < inner; i++) {                                                              \
                int32_t sum = 0;                                                                               \
                for (int32_t r = 0; r < reduce; r++) {                                                         \
                    sum = tml_add_wrap(sum, in[(size_t)r * inner + i]);                                        \
                }                                                                                              \
                const int32_t shifted = (int32_t)(uint32_t)(uint64_t)((int64_t)sum + offset_total);            \
                const int32_t v = tml_mul_by_quantized_multiplier(shifted, params->quant.multiplier,           \
                                                                  params->quant.shift) +                       \
                                  params->output_offset;                                                       \
                out[i] = SATURATE(v);                                                                          \
            }                                                                                                  \
        }                                                                                                      \
        return TML_OK;                                                                                         \
    }

TML_DEFINE_MEAN(tml_mean_s8, int8_t, tml_sat_i8)
TML_DEFINE_MEAN(tml_mean_s16, int16_t, tml_sat_i16)
