/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pooling_f32.c: float32 AVERAGE_POOL_2D and MAX_POOL_2D (TFLM reference_ops::AveragePool / MaxPool, float).
 * Average: the valid taps are summed in one float (filter row, then column) and divided by their count
 * converted to float.
 */
#include <float.h>

#include "common.h"
#include "host/host_path.h"

static int pool_f32_args_valid(const tml_pool_f32_params *p, const tml_dims *in, const float *input,
                               const tml_dims *out, const float *output)
{
    return p != NULL && input != NULL && output != NULL && tml_dims_valid(in) && tml_dims_valid(out) &&
           tml_window_params_valid(p->stride_h, p->stride_w, 1, 1, p->pad_h, p->pad_w) && p->filter_h > 0 &&
           p->filter_w > 0 && in->n == out->n && in->c == out->c;
}

static tml_status pool_f32(const tml_pool_f32_params *params, const tml_dims *input_dims, const float *input,
                           const tml_dims *output_dims, float *output, int is_max)
{
    if (!pool_f32_args_valid(params, input_dims, input, output_dims, output)) {
        return TML_ERROR_ARGUMENT;
    }
#if TML_USE_HOST_SIMD
    tml_status status;
    if (tml_host_pool_f32(params, input_dims, input, output_dims, output, is_max, &status)) {
        return status;
    }
#endif
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    float *out = output;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const float *in_batch = input + (size_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            int32_t fy_start, fy_end;
            const int32_t y0 =
                tml_window_taps(oy, params->stride_h, params->pad_h, 1, in_h, params->filter_h, &fy_start, &fy_end);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                int32_t fx_start, fx_end;
                const int32_t x0 =
                    tml_window_taps(ox, params->stride_w, params->pad_w, 1, in_w, params->filter_w, &fx_start, &fx_end);
                for (int32_t c = 0; c < ch; c++) {
                    float acc = is_max ? -FLT_MAX : 0.0f;
                    float count = 0.0f;
                    for (int32_t fy = fy_start; fy < fy_end; fy++) {
                        const float *row = in_batch + (size_t)(y0 + fy) * in_w * ch + c;
                        for (int32_t fx = fx_start; fx < fx_end; fx++) {
                            const float v = row[(size_t)(x0 + fx) * ch];
                            if (is_max) {
                                acc = acc < v ? v : acc;
                            } else {
                                acc += v;
                                count += 1.0f;
                            }
                        }
                    }
                    if (!is_max) {
                        if (count == 0.0f) {
                            return TML_ERROR_ARGUMENT;
                        }
                        acc = acc / count;
                    }
                    *out++ = tml_clamp_f32(acc, params->activation_min, params->activation_max);
                }
            }
        }
    }
    return TML_OK;
}

TML_API tml_status tml_avg_pool_f32(const tml_pool_f32_params *params, const tml_dims *input_dims, const float *input,
                                    const tml_dims *output_dims, float *output)
{
    return pool_f32(params, input_dims, input, output_dims, output, 0);
}

TML_API tml_status tml_max_pool_f32(const tml_pool_f32_params *params, const tml_dims *input_dims, const float *input,
                                    const tml_dims *output_dims, float *output)
{
    return pool_f32(params, input_dims, input, output_dims, output, 1);
}
