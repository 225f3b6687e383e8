/* SPDX-License-Identifier: Apache-2.0 */
/*
 * depthwise_conv.c: int8 and 16x8 DEPTHWISE_CONV_2D with depth multiplier, dilation, per-channel requantization and
 * batches.
 *
 * Arithmetic (TFLM reference_integer_ops::DepthwiseConvPerChannel), for output channel oc = ic * mult + m:
 *   acc  = sum over valid taps of filter[ky][kx][oc] * (input[iy][ix][ic] + input_offset)
 *   acc += bias[oc]                                   (when bias != NULL)
 *   out  = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc], shift[oc]) + output_offset,
 *                activation_min, activation_max)
 */
#include "common.h"

static int dw_params_valid(const tml_depthwise_conv_params *p)
{
    return tml_window_params_valid(p->stride_h, p->stride_w, p->dilation_h, p->dilation_w, p->pad_h, p->pad_w) &&
           p->depth_multiplier > 0 && p->activation_min <= p->activation_max;
}

TML_API int32_t tml_depthwise_conv_s8_get_buffer_size(const tml_depthwise_conv_params *params,
                                                      const tml_dims *input_dims, const tml_dims *filter_dims,
                                                      const tml_dims *output_dims)
{
    return tml_depthwise_conv_s8_get_buffer_size_for(TML_BUILD_CORE, params, input_dims, filter_dims, output_dims);
}

TML_API int32_t tml_depthwise_conv_s8_get_buffer_size_for(int32_t core, const tml_depthwise_conv_params *params,
                                                          const tml_dims *input_dims, const tml_dims *filter_dims,
                                                          const tml_dims *output_dims)
{
    if (core < 0 || core >= TML_CORES) {
        return -1;
    }
    if (params == NULL || input_dims == NULL || filter_dims == NULL || output_dims == NULL) {
        return -1;
    }
    return 0;
}

TML_API tml_status tml_depthwise_conv_s8(const tml_depthwise_conv_params *params, const tml_per_channel_quant *quant,
                                         const tml_dims *input_dims, const int8_t *input,
                                         const tml_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                         const tml_dims *output_dims, int8_t *output, void *scratch)
{
    (void)scratch;
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) ||
        !tml_dims_valid(output_dims) || !dw_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t mult = params->depth_multiplier;
    const int32_t out_c = in_c * mult;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    if (!tml_depthwise_shapes_valid(input_dims, filter_dims, output_dims, mult)) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t input_offset = params->input_offset;
    const int32_t output_offset = params->output_offset;
    const int32_t act_min = params->activation_min;
    const int32_t act_max = params->activation_max;

    int8_t *out = output;
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *in_batch = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; oy++) {
            int32_t ky_start, ky_end;
            const int32_t in_y0 = tml_window_taps(oy, params->stride_h, params->pad_h, params->dilation_h, in_h, k_h,
                                                  &ky_start, &ky_end);
            for (int32_t ox = 0; ox < out_w; ox++) {
                int32_t kx_start, kx_end;
                const int32_t in_x0 = tml_window_taps(ox, params->stride_w, params->pad_w, params->dilation_w, in_w,
                                                      k_w, &kx_start, &kx_end);
                for (int32_t ic = 0; ic < in_c; ic++) {
                    for (int32_t m = 0; m < mult; m++) {
                        const int32_t oc = ic * mult + m;
                        int32_t acc = 0;
                        for (int32_t ky = ky_start; ky < ky_end; ky++) {
                            const int32_t iy = in_y0 + ky * params->dilation_h;
                            const int8_t *in_row = in_batch + (size_t)iy * in_w * in_c + ic;
                            const int8_t *f_row = filter + (size_t)ky * k_w * out_c + oc;
                            for (int32_t kx = kx_start; kx < kx_end; kx++) {
                                const int32_t ix = in_x0 + kx * params->dilation_w;
                                acc += (int32_t)f_row[(size_t)kx * out_c] *
                                       ((int32_t)in_row[(size_t)ix * in_c] + input_offset);
                            }
                        }
                        if (bias != NULL) {
                            acc = tml_add_wrap(acc, bias[oc]);
                        }
                        acc = tml_mul_by_quantized_multiplier(acc, quant->multiplier[oc], quant->shift[oc]);
                        acc += output_offset;
                        *out++ = (int8_t)tml_clamp_i32(acc, act_min, act_max);
                    }
                }
            }
        }
    }
    return TML_OK;
}

/*
 * 16x8 (TFLM DepthwiseConvPerChannel for int16 input): no input or output offset (int16 zero points are 0), an
 * int64 accumulator and bias, the 64-bit MultiplyByQuantizedMultiplier. TFLM has no int32-bias variant.
 */
TML_API tml_status tml_depthwise_conv_s16(const tml_depthwise_conv_params *params, const tml_per_channel_quant *quant,
                                          const tml_dims *input_dims, const int16_t *input,
                                          const tml_dims *filter_dims, const int8_t *filter, const int64_t *bias,
                                          const tml_dims *output_dims, int16_t *output, void *scratch)
{
    (void)scratch;
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) ||
        !tml_dims_valid(output_dims) || !dw_params_valid(params) || params->input_offset != 0 ||
        params->output_offset != 0 ||
        !tml_depthwise_shapes_valid(input_dims, filter_dims, output_dims, params->depth_multiplier)) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t mult = params->depth_multiplier;
    const int32_t out_c = in_c * mult;
    const int32_t k_w = filter_dims->w;

    int16_t *out = output;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in_batch = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            int32_t ky_start, ky_end;
            const int32_t in_y0 = tml_window_taps(oy, params->stride_h, params->pad_h, params->dilation_h, in_h,
                                                  filter_dims->h, &ky_start, &ky_end);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                int32_t kx_start, kx_end;
                const int32_t in_x0 = tml_window_taps(ox, params->stride_w, params->pad_w, params->dilation_w, in_w,
                                                      k_w, &kx_start, &kx_end);
                for (int32_t oc = 0; oc < out_c; oc++) {
                    const int32_t ic = oc / mult;
                    int64_t acc = bias != NULL ? bias[oc] : 0;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int32_t iy = in_y0 + ky * params->dilation_h;
                        const int16_t *in_row = in_batch + (size_t)iy * in_w * in_c + ic;
                        const int8_t *f_row = filter + (size_t)ky * k_w * out_c + oc;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            const int32_t ix = in_x0 + kx * params->dilation_w;
                            acc += (int32_t)f_row[(size_t)kx * out_c] * (int32_t)in_row[(size_t)ix * in_c];
                        }
                    }
                    *out++ = tml_requantize_s16_from_i64(acc, quant->multiplier[oc], quant->shift[oc],
                                                         params->activation_min, params->activation_max);
                }
            }
        }
    }
    return TML_OK;
}
