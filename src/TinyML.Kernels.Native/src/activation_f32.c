/* SPDX-License-Identifier: Apache-2.0 */
/*
 * activation_f32.c: float32 LOGISTIC and TANH (TFLM reference_ops::Logistic and Tanh for float), and the
 * piecewise-linear RELU family, LEAKY_RELU and HARD_SWISH, which are exact in float (no library function), and ELU
 * (TFLM reference_ops::Elu: expm1f below 0).
 *
 * LOGISTIC follows TFLM's piecewise form: above 16.619047164916992188 (about where 1 / (1 + e^-x) rounds to 1 in
 * float) the result is exactly 1; below -9 it is e^x, which differs from the true value e^x / (1 + e^x) by a
 * relative e^x <= e^-9 (1.2e-4); in between 1 / (1 + e^-x). TANH is tanhf. Both use the C library's expf/tanhf, so results may differ from TFLM in the last
 * bits on another libm.
 */
#include <math.h>

#include "common.h"

#define TML_LOGISTIC_F32_UPPER 16.619047164916992188f
#define TML_LOGISTIC_F32_LOWER (-9.0f)

TML_API tml_status tml_logistic_f32(const float *input, int32_t size, float *output)
{
    if (input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        const float x = input[i];
        float y;
        if (x > TML_LOGISTIC_F32_UPPER) {
            y = 1.0f;
        } else if (x < TML_LOGISTIC_F32_LOWER) {
            y = expf(x);
        } else {
            y = 1.0f / (1.0f + expf(-x));
        }
        output[i] = y;
    }
    return TML_OK;
}

TML_API tml_status tml_tanh_f32(const float *input, int32_t size, float *output)
{
    if (input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        output[i] = tanhf(input[i]);
    }
    return TML_OK;
}

TML_API tml_status tml_relu_f32(const float *input, int32_t size, float *output)
{
    if (input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        const float x = input[i];
        output[i] = x < 0.0f ? 0.0f : x;
    }
    return TML_OK;
}

TML_API tml_status tml_relu_bounded_f32(const tml_relu_bounded_f32_params *params, const float *input, int32_t size,
                                        float *output)
{
    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        const float x = input[i];
        output[i] = x > params->max ? params->max : (x < params->min ? params->min : x);
    }
    return TML_OK;
}

TML_API tml_status tml_leaky_relu_f32(const tml_leaky_relu_f32_params *params, const float *input, int32_t size,
                                      float *output)
{
    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * params->alpha;
    }
    return TML_OK;
}

TML_API tml_status tml_hard_swish_f32(const float *input, int32_t size, float *output)
{
    if (input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        const float x = input[i];
        const float shifted = x + 3.0f;
        /* TFLM's std::min(6, std::max(0, x + 3)) with its comparisons, so a NaN in x + 3 gives 0 here too. */
        const float relu6 = 0.0f < shifted ? (shifted < 6.0f ? shifted : 6.0f) : 0.0f;
        output[i] = x * relu6 / 6.0f;
    }
    return TML_OK;
}

TML_API tml_status tml_elu_f32(const float *input, int32_t size, float *output)
{
    if (input == NULL || output == NULL || size < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < size; i++) {
        const float x = input[i];
        output[i] = x < 0.0f ? expm1f(x) : x;
    }
    return TML_OK;
}
