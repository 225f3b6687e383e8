/* SPDX-License-Identifier: Apache-2.0 *
 * tml_depthwise_conv_s8_float_requant is the portable loop with onnxruntime's float32 requantization (requant_f32.h).
 */
/*
 * depthwise_conv.c: int8 and 16x8 DEPTHWISE_CONV_2D with depth multiplier, dilation, per-channel requantization and
 * batches.
 *
 * Arithmetic (TFLM reference_integer_ops::DepthwiseConvPerChannel), for output channel oc = ic * mult + m:
 *   acc  = sum over valid taps of filter[ky][kx][oc] * (input[iy][ix][ic] + input_offset)
 *   acc += bias[oc]                                   (when bias != NULL)
 *   out  = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc], shift[oc]) + output_offset,
 *                activation_min, activation_max)
 *
 * On DSP cores (TML_USE_DSP) depth multiplier 1 or a multiple of 4 takes depthwise_s8_dsp: four output channels
 * per filter word, SXTB16 splits them into two int16 pairs, SMLABB/SMLATT accumulate each lane into its own
 * channel; tml_requant_apply. Exact, so equal to the portable loop bit for bit. With one input channel the operator
 * is a convolution: the compiler lowers it as tml_conv_s8, its filter transposed to OHWI at build time.
 */
#include "common.h"
#include "requant_f32.h"
#include "dot_s8.h"
#include "host/host_path.h"

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

#if TML_USE_DSP
/* The output channels [oc, oc + 4) of one output pixel over the window's valid rows and taps. With depth
 * multiplier 1 the four lanes read four input channels; with a multiple of 4 (`shared`) all four read input channel
 * oc / multiplier, its offset value copied into both int16 lanes. */
static void depthwise_4ch(const tml_depthwise_conv_params *p, const tml_dims *in_dims, const int8_t *in_batch,
                          const tml_dims *f_dims, const int8_t *filter, int32_t oc, int shared, int32_t y0,
                          int32_t ky_start, int32_t ky_end, int32_t x0, int32_t kx_start, int32_t kx_end,
                          int32_t acc[4])
{
    const int32_t in_c = in_dims->c;
    const int32_t out_c = f_dims->c;
    const int32_t ic = shared ? oc / p->depth_multiplier : oc;
    const uint32_t off2 = tml_dot_offset2(p->input_offset);
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t ky = ky_start; ky < ky_end; ky++) {
        const int8_t *row = in_batch + (size_t)(y0 + ky * p->dilation_h) * in_dims->w * in_c + ic;
        const int8_t *f_row = filter + (size_t)ky * f_dims->w * out_c + oc;
        for (int32_t kx = kx_start; kx < kx_end; kx++) {
            const int8_t *px = row + (size_t)(x0 + kx * p->dilation_w) * in_c;
            const uint32_t w = tml_read_s8x4(f_row + (size_t)kx * out_c);
            const uint32_t we = tml_sxtb16(w), wo = tml_sxtb16_ror8(w);
            uint32_t xe, xo;
            if (shared) {
                xe = xo = tml_dot_offset2(*px + p->input_offset);
            } else {
                const uint32_t x = tml_read_s8x4(px);
                xe = tml_sadd16(tml_sxtb16(x), off2);
                xo = tml_sadd16(tml_sxtb16_ror8(x), off2);
            }
            a0 = tml_smlabb(xe, we, a0);
            a2 = tml_smlatt(xe, we, a2);
            a1 = tml_smlabb(xo, wo, a1);
            a3 = tml_smlatt(xo, wo, a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Depth multiplier 1 or a multiple of 4 on a DSP core; arguments already validated. */
static void depthwise_s8_dsp(const tml_depthwise_conv_params *p, const tml_per_channel_quant *quant,
                             const tml_dims *in_dims, const int8_t *input, const tml_dims *f_dims,
                             const int8_t *filter, const int32_t *bias, const tml_dims *out_dims, int8_t *output)
{
    const int32_t in_c = in_dims->c;
    const int32_t out_c = f_dims->c;
    const int32_t mult = p->depth_multiplier;
    const int shared = mult != 1;
    int8_t *out = output;
    for (int32_t b = 0; b < in_dims->n; b++) {
        const int8_t *in_batch = input + (size_t)b * in_dims->h * in_dims->w * in_c;
        for (int32_t oy = 0; oy < out_dims->h; oy++) {
            int32_t ky_start, ky_end;
            const int32_t y0 = tml_window_taps(oy, p->stride_h, p->pad_h, p->dilation_h, in_dims->h, f_dims->h,
                                               &ky_start, &ky_end);
            for (int32_t ox = 0; ox < out_dims->w; ox++) {
                int32_t kx_start, kx_end;
                const int32_t x0 = tml_window_taps(ox, p->stride_w, p->pad_w, p->dilation_w, in_dims->w, f_dims->w,
                                                   &kx_start, &kx_end);
                int32_t oc = 0;
                for (; oc + 4 <= out_c; oc += 4) {
                    int32_t acc[4];
                    depthwise_4ch(p, in_dims, in_batch, f_dims, filter, oc, shared, y0, ky_start, ky_end, x0,
                                  kx_start, kx_end, acc);
                    for (int32_t i = 0; i < 4; i++) {
                        const tml_requant q = tml_requant_prepare(quant->multiplier[oc + i], quant->shift[oc + i]);
                        out[oc + i] = tml_dot_output_s8(acc[i], bias, oc + i, &q, p->output_offset,
                                                        p->activation_min, p->activation_max);
                    }
                }
                for (; oc < out_c; oc++) { /* mult 1: the last in_c % 4 channels */
                    int32_t acc = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int8_t *row = in_batch + (size_t)(y0 + ky * p->dilation_h) * in_dims->w * in_c + oc;
                        const int8_t *f_row = filter + (size_t)ky * f_dims->w * out_c + oc;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            acc += f_row[(size_t)kx * out_c] * (row[(size_t)(x0 + kx * p->dilation_w) * in_c] +
                                                                 p->input_offset);
                        }
                    }
                    const tml_requant q = tml_requant_prepare(quant->multiplier[oc], quant->shift[oc]);
                    out[oc] = tml_dot_output_s8(acc, bias, oc, &q, p->output_offset, p->activation_min,
                                                p->activation_max);
                }
                out += out_c;
            }
        }
    }
}
#endif

/* The portable loop (TFLM's DepthwiseConvPerChannel order) over input channels [first, in_c); arguments and shapes
 * already validated. */
TML_INLINE void depthwise_s8_portable(const tml_depthwise_conv_params *params, const tml_s8_requant *requant,
                                      const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                                      const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                      int8_t *output, int32_t first)
{
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
    const int32_t input_offset = params->input_offset;
    const int32_t output_offset = params->output_offset;
    const int32_t act_min = params->activation_min;
    const int32_t act_max = params->activation_max;

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
                int8_t *out = output + (((size_t)b * out_h + oy) * out_w + ox) * out_c;
                for (int32_t ic = first; ic < in_c; ic++) {
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
                        out[oc] = tml_s8_requant_output(requant, acc, oc, output_offset, act_min, act_max);
                    }
                }
            }
        }
    }
}

TML_API tml_status tml_depthwise_conv_s8(const tml_depthwise_conv_params *params, const tml_per_channel_quant *quant,
                                         const tml_dims *input_dims, const int8_t *input,
                                         const tml_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                         const tml_dims *output_dims, int8_t *output, void *scratch)
{
    (void)scratch;
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) ||
        !tml_dims_valid(output_dims) || !dw_params_valid(params) ||
        !tml_depthwise_shapes_valid(input_dims, filter_dims, output_dims, params->depth_multiplier)) {
        return TML_ERROR_ARGUMENT;
    }
#if TML_USE_DSP
    const int32_t mult = params->depth_multiplier;
    if ((mult == 1 || mult % 4 == 0) && tml_dot_multipliers_ok(quant->multiplier, input_dims->c * mult)) {
        depthwise_s8_dsp(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
        return TML_OK;
    }
#endif
    int32_t first = 0; /* input channels a host SIMD path computed */
#if TML_USE_HOST_SIMD
    tml_host_depthwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output, &first);
#endif
    const tml_s8_requant requant = {quant, NULL};
    depthwise_s8_portable(params, &requant, input_dims, input, filter_dims, filter, bias, output_dims, output, first);
    return TML_OK;
}

TML_API tml_status tml_depthwise_conv_s8_float_requant(const tml_depthwise_conv_params *params, const float *scales,
                                                       const tml_dims *input_dims, const int8_t *input,
                                                       const tml_dims *filter_dims, const int8_t *filter,
                                                       const int32_t *bias, const tml_dims *output_dims,
                                                       int8_t *output, void *scratch)
{
    (void)scratch;
    if (params == NULL || scales == NULL || input == NULL || filter == NULL || output == NULL ||
        !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) || !tml_dims_valid(output_dims) ||
        !dw_params_valid(params) ||
        !tml_depthwise_shapes_valid(input_dims, filter_dims, output_dims, params->depth_multiplier) ||
        !tml_scales_f32_valid(scales, filter_dims->c)) {
        return TML_ERROR_ARGUMENT;
    }
    const tml_s8_requant requant = {NULL, scales};
    depthwise_s8_portable(params, &requant, input_dims, input, filter_dims, filter, bias, output_dims, output, 0);
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
