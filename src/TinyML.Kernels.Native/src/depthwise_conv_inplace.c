/* SPDX-License-Identifier: Apache-2.0 */
/*
 * depthwise_conv_inplace.c: int8 DEPTHWISE_CONV_2D (depth multiplier 1) whose output overwrites its input.
 *
 * Why it is safe in NHWC: input and output have the same channel count C, so output element (pixel p, channel c)
 * lives at byte p * C + c, which is input pixel p of the same channel c. Before channel c is computed, its input
 * plane (all batches) is gathered into `channel` (n * h * w bytes); computing channel c then writes only bytes of
 * channel c, whose input is already saved, and channels not yet computed keep their input. A convolution never
 * has more output pixels than input pixels (SAME: ceil(h / stride) <= h; VALID: smaller), so the output stays
 * inside the input's bytes for every stride, dilation and padding. Padding taps are skipped exactly as in
 * tml_depthwise_conv_s8 (tml_window_taps), and the accumulation order (ky, then kx) is the same, so the result is
 * bit-exact with it.
 *
 * On DSP cores the saved plane is what makes taps cheap: a window row's taps are consecutive bytes there. With
 * dilation_w 1, a window with every tap inside the input reads each row four taps per word against the channel's
 * weights packed once into SXTB16 lane order (two SMLAD per four taps, missing taps weighted 0), starting from
 * input_offset x sum(weights); clipped windows take the loop below. The requantization is tml_requant_apply.
 * All exact, so the result is the portable one.
 */
#include "common.h"
#include "tml_arch.h"

#if TML_USE_DSP
#define DW_PACKED_GROUPS 32 /* rows x words of four taps the packed weights hold */

/* Channel c's weights, row by row in words of four taps: packed[2g] holds taps 4g and 4g+2, packed[2g+1] taps
 * 4g+1 and 4g+3, as int16 lanes (the order SXTB16 and its ROR #8 form widen input bytes in). Returns their sum. */
static int32_t dw_pack_channel(const int8_t *filter, int32_t c, int32_t channels, int32_t k_h, int32_t k_w,
                               int32_t groups, uint32_t *packed)
{
    int32_t sum = 0;
    for (int32_t ky = 0; ky < k_h; ky++) {
        for (int32_t g = 0; g < groups; g++) {
            int32_t w[4];
            for (int32_t t = 0; t < 4; t++) {
                const int32_t kx = 4 * g + t;
                w[t] = kx < k_w ? filter[((size_t)ky * k_w + kx) * channels + c] : 0;
                sum += w[t];
            }
            uint32_t *word = packed + 2 * ((size_t)ky * groups + g);
            word[0] = ((uint32_t)w[0] & 0xFFFFu) | ((uint32_t)w[2] << 16);
            word[1] = ((uint32_t)w[1] & 0xFFFFu) | ((uint32_t)w[3] << 16);
        }
    }
    return sum;
}

/* acc + the window's taps: rows of `groups` words from `row`, `row_step` bytes apart (offset already folded). */
static int32_t dw_window_packed(const int8_t *row, size_t row_step, int32_t k_h, int32_t groups,
                                const uint32_t *packed, int32_t acc)
{
    for (int32_t ky = 0; ky < k_h; ky++) {
        for (int32_t g = 0; g < groups; g++) {
            const uint32_t x = tml_read_s8x4(row + 4 * g);
            acc = tml_smlad(tml_sxtb16(x), packed[0], acc);
            acc = tml_smlad(tml_sxtb16_ror8(x), packed[1], acc);
            packed += 2;
        }
        row += row_step;
    }
    return acc;
}
#endif

TML_API int32_t tml_depthwise_conv_s8_inplace_get_buffer_size(const tml_depthwise_conv_params *params,
                                                              const tml_dims *input_dims,
                                                              const tml_dims *filter_dims,
                                                              const tml_dims *output_dims)
{
    return tml_depthwise_conv_s8_inplace_get_buffer_size_for(TML_BUILD_CORE, params, input_dims, filter_dims,
                                                             output_dims);
}

TML_API int32_t tml_depthwise_conv_s8_inplace_get_buffer_size_for(int32_t core,
                                                                  const tml_depthwise_conv_params *params,
                                                                  const tml_dims *input_dims,
                                                                  const tml_dims *filter_dims,
                                                                  const tml_dims *output_dims)
{
    if (core < 0 || core >= TML_CORES) {
        return -1;
    }
    if (params == NULL || input_dims == NULL || filter_dims == NULL || output_dims == NULL ||
        !tml_dims_valid(input_dims)) {
        return -1;
    }
    return input_dims->n * input_dims->h * input_dims->w;
}

TML_API tml_status tml_depthwise_conv_s8_inplace(const tml_depthwise_conv_params *params,
                                                 const tml_per_channel_quant *quant, const tml_dims *input_dims,
                                                 const int8_t *input, const tml_dims *filter_dims,
                                                 const int8_t *filter, const int32_t *bias,
                                                 const tml_dims *output_dims, int8_t *output, void *scratch)
{
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || scratch == NULL || (const void *)input != (const void *)output ||
        !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) || !tml_dims_valid(output_dims) ||
        params->depth_multiplier != 1 ||
        !tml_window_params_valid(params->stride_h, params->stride_w, params->dilation_h, params->dilation_w,
                                 params->pad_h, params->pad_w) ||
        params->activation_min > params->activation_max ||
        !tml_depthwise_shapes_valid(input_dims, filter_dims, output_dims, 1) ||
        output_dims->h > input_dims->h || output_dims->w > input_dims->w) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t channels = input_dims->c;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t input_offset = params->input_offset;
    const int32_t output_offset = params->output_offset;
    const int32_t act_min = params->activation_min;
    const int32_t act_max = params->activation_max;
    int8_t *plane = (int8_t *)scratch;
    int8_t *data = output;
    const size_t in_pixels = (size_t)in_h * in_w;
#if TML_USE_DSP
    uint32_t packed[2 * DW_PACKED_GROUPS];
    const int32_t groups = (k_w + 3) / 4;
    const int packed_ok = params->dilation_w == 1 && k_h * groups <= DW_PACKED_GROUPS;
    const int8_t *plane_end = plane + (size_t)batches * in_pixels;
    int32_t folded = 0;
#endif

    for (int32_t c = 0; c < channels; c++) {
        const int fast_requant = TML_USE_DSP && quant->multiplier[c] != INT32_MIN;
        const tml_requant q = tml_requant_prepare(quant->multiplier[c], quant->shift[c]);
#if TML_USE_DSP
        if (packed_ok) {
            folded = (int32_t)((uint32_t)input_offset *
                               (uint32_t)dw_pack_channel(filter, c, channels, k_h, k_w, groups, packed));
        }
#endif
        /* Save channel c of every batch: plane[(b * in_h + y) * in_w + x]. */
        for (size_t p = 0; p < (size_t)batches * in_pixels; p++) {
            plane[p] = data[p * (size_t)channels + (size_t)c];
        }
        for (int32_t b = 0; b < batches; b++) {
            const int8_t *in_plane = plane + (size_t)b * in_pixels;
            int8_t *out = data + (size_t)b * out_h * out_w * channels + c;
            for (int32_t oy = 0; oy < out_h; oy++) {
                int32_t ky_start, ky_end;
                const int32_t in_y0 = tml_window_taps(oy, params->stride_h, params->pad_h, params->dilation_h, in_h,
                                                      k_h, &ky_start, &ky_end);
                for (int32_t ox = 0; ox < out_w; ox++) {
                    int32_t kx_start, kx_end;
                    const int32_t in_x0 = tml_window_taps(ox, params->stride_w, params->pad_w, params->dilation_w,
                                                          in_w, k_w, &kx_start, &kx_end);
                    int32_t acc = 0;
                    int32_t rows_left = ky_end; /* rows the loop below still sums */
#if TML_USE_DSP
                    const size_t row_step = (size_t)params->dilation_h * in_w;
                    if (packed_ok && ky_end - ky_start == k_h && kx_end - kx_start == k_w) {
                        const int8_t *first = in_plane + (size_t)in_y0 * in_w + in_x0;
                        /* The last row's last word must stay inside the plane (it may read up to 3 bytes past
                         * the window, weighted 0). */
                        if (first + (size_t)(k_h - 1) * row_step + 4 * groups <= plane_end) {
                            acc = dw_window_packed(first, row_step, k_h, groups, packed, folded);
                            rows_left = ky_start;
                        }
                    }
#endif
                    for (int32_t ky = ky_start; ky < rows_left; ky++) {
                        const int32_t iy = in_y0 + ky * params->dilation_h;
                        const int8_t *in_row = in_plane + (size_t)iy * in_w;
                        const int8_t *f_row = filter + (size_t)ky * k_w * channels + c;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            const int32_t ix = in_x0 + kx * params->dilation_w;
                            acc += (int32_t)f_row[(size_t)kx * channels] * ((int32_t)in_row[ix] + input_offset);
                        }
                    }
                    if (bias != NULL) {
                        acc = tml_add_wrap(acc, bias[c]);
                    }
                    acc = fast_requant ? tml_requant_apply(&q, acc)
                                       : tml_mul_by_quantized_multiplier(acc, quant->multiplier[c], quant->shift[c]);
                    acc += output_offset;
                    out[((size_t)oy * out_w + ox) * channels] = (int8_t)tml_clamp_i32(acc, act_min, act_max);
                }
            }
        }
    }
    return TML_OK;
}
