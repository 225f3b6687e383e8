/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pooling.c: int8 and int16 AVERAGE_POOL_2D and MAX_POOL_2D (TFLM reference_integer_ops::AveragePool / MaxPool).
 *
 * The window of output (y, x) starts at input (y * stride_h - pad_h, x * stride_w - pad_w) and is clipped to
 * the input. Average: the raw int8 (int16) values of the valid taps are summed in int32 and divided by their count,
 * rounding half away from zero: sum > 0 ? (sum + n/2) / n : (sum - n/2) / n (C division truncates). No zero
 * point arithmetic: TFLM requires identical input and output quantization.
 */
#include "common.h"
#include "host/host_path.h"

static int pool_args_valid(const tml_pool_params *p, const tml_dims *in, const void *input, const tml_dims *out,
                           const void *output)
{
    return p != NULL && input != NULL && output != NULL && tml_dims_valid(in) && tml_dims_valid(out) &&
           tml_window_params_valid(p->stride_h, p->stride_w, 1, 1, p->pad_h, p->pad_w) && p->filter_h > 0 &&
           p->filter_w > 0 && p->activation_min <= p->activation_max && in->n == out->n && in->c == out->c;
}

TML_API int32_t tml_avg_pool_s8_get_buffer_size(const tml_pool_params *params, const tml_dims *input_dims,
                                                const tml_dims *output_dims)
{
    return tml_avg_pool_s8_get_buffer_size_for(TML_BUILD_CORE, params, input_dims, output_dims);
}

TML_API int32_t tml_avg_pool_s8_get_buffer_size_for(int32_t core, const tml_pool_params *params,
                                                    const tml_dims *input_dims, const tml_dims *output_dims)
{
    if (core < 0 || core >= TML_CORES) {
        return -1;
    }
    if (params == NULL || input_dims == NULL || output_dims == NULL) {
        return -1;
    }
    return 0;
}

/*
 * The int8 and int16 poolings over the same windows (TFLM's int16 AveragePool / MaxPool are the int8 arithmetic on
 * int16 values); is_max and is_16 are constants at each call site, so each entry point gets its own branch-free
 * copy. Average pooling fails on a window without a valid tap before writing its pixel.
 */
TML_INLINE tml_status pool_quantized(const tml_pool_params *params, const tml_dims *input_dims, const void *input,
                                     const tml_dims *output_dims, void *output, int is_max, int is_16)
{
    if (!pool_args_valid(params, input_dims, input, output_dims, output) ||
        (is_16 && (params->activation_min < INT16_MIN || params->activation_max > INT16_MAX))) {
        return TML_ERROR_ARGUMENT;
    }
#if TML_USE_HOST_SIMD
    tml_status status;
    if (!is_16 && tml_host_pool_s8(params, input_dims, (const int8_t *)input, output_dims, (int8_t *)output, is_max, &status)) {
        return status;
    }
#endif
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    size_t out = 0;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const size_t in_batch = (size_t)b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            int32_t fy_start, fy_end;
            const int32_t y0 =
                tml_window_taps(oy, params->stride_h, params->pad_h, 1, in_h, params->filter_h, &fy_start, &fy_end);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                int32_t fx_start, fx_end;
                const int32_t x0 =
                    tml_window_taps(ox, params->stride_w, params->pad_w, 1, in_w, params->filter_w, &fx_start, &fx_end);
                const int32_t count = (fy_end > fy_start && fx_end > fx_start)
                                          ? (fy_end - fy_start) * (fx_end - fx_start)
                                          : 0;
                if (!is_max && count == 0) {
                    return TML_ERROR_ARGUMENT;
                }
                for (int32_t c = 0; c < ch; c++) {
                    int32_t acc = is_max ? (is_16 ? INT16_MIN : INT8_MIN) : 0;
                    for (int32_t fy = fy_start; fy < fy_end; fy++) {
                        const size_t row = in_batch + (size_t)(y0 + fy) * in_w * ch + c;
                        for (int32_t fx = fx_start; fx < fx_end; fx++) {
                            const size_t at = row + (size_t)(x0 + fx) * ch;
                            const int32_t v = is_16 ? ((const int16_t *)input)[at] : ((const int8_t *)input)[at];
                            if (is_max) {
                                acc = v > acc ? v : acc;
                            } else {
                                acc += v;
                            }
                        }
                    }
                    if (!is_max) {
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    acc = tml_clamp_i32(acc, params->activation_min, params->activation_max);
                    if (is_16) {
                        ((int16_t *)output)[out++] = (int16_t)acc;
                    } else {
                        ((int8_t *)output)[out++] = (int8_t)acc;
                    }
                }
            }
        }
    }
    return TML_OK;
}

TML_API tml_status tml_avg_pool_s8(const tml_pool_params *params, const tml_dims *input_dims, const int8_t *input,
                                   const tml_dims *output_dims, int8_t *output, void *scratch)
{
    (void)scratch;
    return pool_quantized(params, input_dims, input, output_dims, output, 0, 0);
}

TML_API tml_status tml_max_pool_s8(const tml_pool_params *params, const tml_dims *input_dims, const int8_t *input,
                                   const tml_dims *output_dims, int8_t *output)
{
    return pool_quantized(params, input_dims, input, output_dims, output, 1, 0);
}

TML_API tml_status tml_avg_pool_s16(const tml_pool_params *params, const tml_dims *input_dims, const int16_t *input,
                                    const tml_dims *output_dims, int16_t *output)
{
    return pool_quantized(params, input_dims, input, output_dims, output, 0, 1);
}

TML_API tml_status tml_max_pool_s16(const tml_pool_params *params, const tml_dims *input_dims, const int16_t *input,
                                    const tml_dims *output_dims, int16_t *output)
{
    return pool_quantized(params, input_dims, input, output_dims, output, 1, 1);
}
