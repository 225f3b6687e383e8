/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reduce_f32.c: float32 MEAN (TFLM reference_ops::Mean for float, and its 4-D keep_dims special case over H and W,
 * which sums in the same order). The output doubles as TFLM's float temp_sum: zeroed, accumulated in the input's
 * row-major order, then divided by the count in float.
 */
#include "common.h"

TML_API tml_status tml_mean_f32(const tml_mean_f32_params *params, const float *input, float *output)
{
    if (params == NULL || input == NULL || output == NULL || params->rank < 1 || params->rank > TML_MAX_DIMS) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t rank = params->rank;
    /* Output stride of each input dimension: 0 where it is averaged. */
    ptrdiff_t out_stride[TML_MAX_DIMS];
    int32_t index[TML_MAX_DIMS];
    size_t outputs = 1;
    size_t count = 1;
    size_t total = 1;
    for (int32_t d = rank - 1; d >= 0; d--) {
        const int32_t dim = params->input_dims[d];
        if (dim < 0) {
            return TML_ERROR_ARGUMENT;
        }
        out_stride[d] = params->reduced[d] ? 0 : (ptrdiff_t)outputs;
        if (params->reduced[d]) {
            count *= (size_t)dim;
        } else {
            outputs *= (size_t)dim;
        }
        total *= (size_t)dim;
        index[d] = 0;
    }
    for (size_t o = 0; o < outputs; o++) {
        output[o] = 0.0f;
    }
    if (total == 0) {
        return TML_OK;
    }
    ptrdiff_t out = 0;
    for (size_t i = 0; i < total; i++) {
        output[out] += input[i];
        /* Next input index, row-major; carry into outer dimensions. */
        for (int32_t d = rank - 1; d >= 0; d--) {
            out += out_stride[d];
            if (++index[d] < params->input_dims[d]) {
                break;
            }
            out -= out_stride[d] * params->input_dims[d];
            index[d] = 0;
        }
    }
    const float divisor = (float)count;
    for (size_t o = 0; o < outputs; o++) {
        output[o] = output[o] / divisor;
    }
    return TML_OK;
}
