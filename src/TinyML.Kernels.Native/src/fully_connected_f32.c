/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fully_connected_f32.c: float32 FULLY_CONNECTED (TFLM reference_ops::FullyConnected, float): the products
 * input[b][d] * weights[o][d] are accumulated in one float in increasing d; the bias is added to the finished
 * sum; then the activation clamp.
 */
#include "common.h"
#include "host/host_path.h"

/* TFLM's float FullyConnected loop; packed (a constant at each call) reads the weights in
 * tml_fully_connected_f32_packed's layout, whose whole groups a host SIMD path may have written first. */
TML_INLINE tml_status fully_connected_f32(const tml_fully_connected_f32_params *params, int32_t batches,
                                          int32_t accum_depth, int32_t output_depth, const float *input,
                                          const float *filter, const float *bias, float *output, int packed)
{
    if (params == NULL || input == NULL || filter == NULL || output == NULL || batches <= 0 || accum_depth <= 0 ||
        output_depth <= 0) {
        return TML_ERROR_ARGUMENT;
    }
    int32_t first = 0; /* outputs per row a host SIMD path wrote */
#if TML_USE_HOST_SIMD
    if (packed) {
        first = tml_host_fully_connected_f32(params, batches, accum_depth, output_depth, input, filter, bias, output);
    }
#endif
    for (int32_t b = 0; b < batches; b++) {
        const float *in = input + (size_t)b * accum_depth;
        float *out = output + (size_t)b * output_depth;
        for (int32_t o = first; o < output_depth; o++) {
            float total = 0.0f;
            for (int32_t d = 0; d < accum_depth; d++) {
                total += in[d] * filter[packed ? tml_f32_packed_index(output_depth, accum_depth, o, d)
                                               : (size_t)o * accum_depth + (size_t)d];
            }
            const float bias_value = bias != NULL ? bias[o] : 0.0f;
            out[o] = tml_clamp_f32(total + bias_value, params->activation_min, params->activation_max);
        }
    }
    return TML_OK;
}

TML_API tml_status tml_fully_connected_f32(const tml_fully_connected_f32_params *params, int32_t batches,
                                           int32_t accum_depth, int32_t output_depth, const float *input,
                                           const float *filter, const float *bias, float *output)
{
    return fully_connected_f32(params, batches, accum_depth, output_depth, input, filter, bias, output, 0);
}

TML_API tml_status tml_fully_connected_f32_packed(const tml_fully_connected_f32_params *params, int32_t batches,
                                                  int32_t accum_depth, int32_t output_depth, const float *input,
                                                  const float *filter, const float *bias, float *output)
{
    return fully_connected_f32(params, batches, accum_depth, output_depth, input, filter, bias, output, 1);
}
