/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_f32.c: float32 CONV_2D and DEPTHWISE_CONV_2D.
 *
 * Follows TFLM's reference_ops::Conv and reference_ops::DepthwiseConv (float) operation by operation so that
 * results match x86 TFLM without FMA: the products are accumulated in one float in the order filter row,
 * filter column, input channel; the bias is added once to the finished sum; then the activation clamp.
 * Build with -ffp-contract=off (the CMake project does) so no multiply-add is fused.
 */
#include "common.h"
#include "host/host_path.h"

/* TFLM's float Conv loop; packed (a constant at each call) reads the weights in tml_conv_f32_packed's layout, and
 * output channels below `first` (written by a host SIMD path) are skipped. */
TML_INLINE tml_status conv_f32(const tml_conv_f32_params *params, const tml_dims *input_dims, const float *input,
                               const tml_dims *filter_dims, const float *filter, const float *bias,
                               const tml_dims *output_dims, float *output, int packed)
{
    if (params == NULL || input == NULL || filter == NULL || output == NULL || !tml_dims_valid(input_dims) ||
        !tml_dims_valid(filter_dims) || !tml_dims_valid(output_dims) ||
        !tml_window_params_valid(params->stride_h, params->stride_w, params->dilation_h, params->dilation_w,
                                 params->pad_h, params->pad_w)) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t out_c = filter_dims->n;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t f_c = filter_dims->c;
    const int32_t taps = k_h * k_w * f_c;
    const int32_t filters_per_group = tml_conv_filters_per_group(input_dims, filter_dims, output_dims);
    if (filters_per_group == 0 || (packed && f_c != in_c)) {
        return TML_ERROR_ARGUMENT;
    }
    int32_t first = 0;
#if TML_USE_HOST_SIMD
    if (packed) {
        first = tml_host_conv_f32(params, input_dims, input, filter_dims, filter, bias, output_dims, output);
    }
#endif
    for (int32_t b = 0; b < input_dims->n; b++) {
        const float *in_batch = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            int32_t ky_start, ky_end;
            const int32_t in_y0 = tml_window_taps(oy, params->stride_h, params->pad_h, params->dilation_h, in_h, k_h,
                                                  &ky_start, &ky_end);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                int32_t kx_start, kx_end;
                const int32_t in_x0 = tml_window_taps(ox, params->stride_w, params->pad_w, params->dilation_w, in_w,
                                                      k_w, &kx_start, &kx_end);
                float *out = output + (((size_t)b * output_dims->h + oy) * output_dims->w + ox) * out_c;
                for (int32_t oc = first; oc < out_c; oc++) {
                    const int32_t group = oc / filters_per_group;
                    float total = 0.0f;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int32_t iy = in_y0 + ky * params->dilation_h;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            const int32_t ix = in_x0 + kx * params->dilation_w;
                            const float *in_px = in_batch + ((size_t)iy * in_w + ix) * in_c + (size_t)group * f_c;
                            const int32_t t0 = (ky * k_w + kx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ic++) {
                                const float w = packed ? filter[tml_f32_packed_index(out_c, taps, oc, t0 + ic)]
                                                       : filter[(size_t)oc * taps + (size_t)(t0 + ic)];
                                total += in_px[ic] * w;
                            }
                        }
                    }
                    const float bias_value = bias != NULL ? bias[oc] : 0.0f;
                    out[oc] = tml_clamp_f32(total + bias_value, params->activation_min, params->activation_max);
                }
            }
        }
    }
    return TML_OK;
}

TML_API tml_status tml_conv_f32(const tml_conv_f32_params *params, const tml_dims *input_dims, const float *input,
                                const tml_dims *filter_dims, const float *filter, const float *bias,
                                const tml_dims *output_dims, float *output)
{
    return conv_f32(params, input_dims, input, filter_dims, filter, bias, output_dims, output, 0);
}

TML_API tml_status tml_conv_f32_packed(const tml_conv_f32_params *params, const tml_dims *input_dims, const float *input,
                                       const tml_dims *filter_dims, const float *filter, const float *bias,
                                       const tml_dims *output_dims, float *output)
{
    return conv_f32(params, input_dims, input, filter_dims, filter, bias, output_dims, output, 1);
}

TML_API tml_status tml_depthwise_conv_f32(const tml_depthwise_conv_f32_params *params, const tml_dims *input_dims,
                                          const float *input, const tml_dims *filter_dims, const float *filter,
                                          const float *bias, const tml_dims *output_dims, float *output)
{
    if (params == NULL || input == NULL || filter == NULL || output == NULL || !tml_dims_valid(input_dims) ||
        !tml_dims_valid(filter_dims) || !tml_dims_valid(output_dims) ||
        !tml_window_params_valid(params->stride_h, params->stride_w, params->dilation_h, params->dilation_w,
                                 params->pad_h, params->pad_w) ||
        params->depth_multiplier < 1) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t mult = params->depth_multiplier;
    const int32_t out_c = in_c * mult;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    if (!tml_depthwise_shapes_valid(input_dims, filter_dims, output_dims, mult)) {
        return TML_ERROR_ARGUMENT;
    }
    int32_t first = 0; /* input channels a host SIMD path computed */
#if TML_USE_HOST_SIMD
    first = tml_host_depthwise_conv_f32(params, input_dims, input, filter_dims, filter, bias, output_dims, output);
#endif
    for (int32_t b = 0; b < input_dims->n; b++) {
        const float *in_batch = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            int32_t ky_start, ky_end;
            const int32_t in_y0 = tml_window_taps(oy, params->stride_h, params->pad_h, params->dilation_h, in_h, k_h,
                                                  &ky_start, &ky_end);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                int32_t kx_start, kx_end;
                const int32_t in_x0 = tml_window_taps(ox, params->stride_w, params->pad_w, params->dilation_w, in_w,
                                                      k_w, &kx_start, &kx_end);
                float *out = output + (((size_t)b * output_dims->h + oy) * output_dims->w + ox) * out_c;
                for (int32_t ic = first; ic < in_c; ic++) {
                    for (int32_t m = 0; m < mult; m++) {
                        const int32_t oc = ic * mult + m;
                        float total = 0.0f;
                        for (int32_t ky = ky_start; ky < ky_end; ky++) {
                            const int32_t iy = in_y0 + ky * params->dilation_h;
                            const float *in_row = in_batch + (size_t)iy * in_w * in_c + ic;
                            const float *f_row = filter + (size_t)ky * k_w * out_c + oc;
                            for (int32_t kx = kx_start; kx < kx_end; kx++) {
                                const int32_t ix = in_x0 + kx * params->dilation_w;
                                total += in_row[(size_t)ix * in_c] * f_row[(size_t)kx * out_c];
                            }
                        }
                        const float bias_value = bias != NULL ? bias[oc] : 0.0f;
                        out[oc] = tml_clamp_f32(total + bias_value, params->activation_min, params->activation_max);
                    }
                }
            }
        }
    }
    return TML_OK;
}
