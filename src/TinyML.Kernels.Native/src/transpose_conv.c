/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transpose_conv.c: TRANSPOSE_CONV in int8 (per-channel requantization) and float32.
 *
 * Both follow TFLM's reference kernels (reference_integer_ops::TransposeConv, reference_ops::TransposeConv): a
 * "scatter" over the input. Every input pixel (b, iy, ix) adds its contribution to the output pixels
 * (b, iy * stride_h - pad_h + ky, ix * stride_w - pad_w + kx) that lie inside the output, for every filter tap
 * (ky, kx) and output channel:
 *   acc[b, oy, ox, oc] += (input[b, iy, ix, ic] + input_offset) * filter[oc, ky, kx, ic]
 * in the loop order batch, iy, ix, ic, ky, kx, oc. int8 accumulates in int32 scratch (output_dims elements),
 * then, per output element: acc += bias[oc]; out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc],
 * shift[oc]) + output_offset, activation_min, activation_max). float32 accumulates in the output itself (the loop
 * order above fixes the order of the float additions), then adds the bias (when there is one) and clamps.
 * int16 (16x8: int16 activations with zero point 0, int8 weights, int64 bias) accumulates in int64 scratch without
 * offsets and requantizes with the 64-bit MultiplyByQuantizedMultiplier (its multiplier reduced to 16 bits).
 * Build with -ffp-contract=off (the CMake project does) so no multiply-add is fused.
 */
#include "common.h"

static int transpose_conv_shapes_valid(const tml_dims *input_dims, const tml_dims *filter_dims,
                                       const tml_dims *output_dims)
{
    return tml_dims_valid(input_dims) && tml_dims_valid(filter_dims) && tml_dims_valid(output_dims) &&
           filter_dims->c == input_dims->c && filter_dims->n == output_dims->c && output_dims->n == input_dims->n;
}

static int transpose_conv_window_valid(int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w)
{
    return stride_h >= 1 && stride_w >= 1 && pad_h >= 0 && pad_w >= 0;
}

/*
 * The scatter, once per element type, in the loop order above (float needs it; the int32 sums wrap and the int64
 * ones are exact, so their order cannot change a bit). acc holds output_dims elements, zeroed here.
 */
#define TML_DEFINE_TRANSPOSE_CONV_SCATTER(NAME, IN_T, W_T, ACC_T, X_T, ADD)                                          \
    static void NAME(int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, const tml_dims *input_dims,   \
                     const IN_T *input, X_T input_offset, const tml_dims *filter_dims, const W_T *filter,            \
                     const tml_dims *output_dims, ACC_T *acc)                                                        \
    {                                                                                                                \
        const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;                              \
        const int32_t k_h = filter_dims->h, k_w = filter_dims->w;                                                    \
        const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;                        \
        const size_t f_step = (size_t)k_h * k_w * in_c;                                                              \
        const size_t count = tml_dims_count(output_dims);                                                            \
        for (size_t i = 0; i < count; i++) {                                                                         \
            acc[i] = 0;                                                                                              \
        }                                                                                                            \
        for (int32_t b = 0; b < input_dims->n; b++) {                                                                \
            for (int32_t iy = 0; iy < in_h; iy++) {                                                                  \
                for (int32_t ix = 0; ix < in_w; ix++) {                                                              \
                    const IN_T *in_px = input + (((size_t)b * in_h + iy) * in_w + ix) * in_c;                        \
                    const int32_t oy0 = iy * stride_h - pad_h;                                                       \
                    const int32_t ox0 = ix * stride_w - pad_w;                                                       \
                    for (int32_t ic = 0; ic < in_c; ic++) {                                                          \
                        const X_T x = (X_T)in_px[ic] + input_offset;                                                 \
                        for (int32_t ky = 0; ky < k_h; ky++) {                                                       \
                            const int32_t oy = oy0 + ky;                                                             \
                            if (oy < 0 || oy >= out_h) {                                                             \
                                continue;                                                                            \
                            }                                                                                        \
                            for (int32_t kx = 0; kx < k_w; kx++) {                                                   \
                                const int32_t ox = ox0 + kx;                                                         \
                                if (ox < 0 || ox >= out_w) {                                                         \
                                    continue;                                                                        \
                                }                                                                                    \
                                ACC_T *acc_px = acc + (((size_t)b * out_h + oy) * out_w + ox) * out_c;               \
                                const W_T *f = filter + ((size_t)ky * k_w + kx) * in_c + ic;                         \
                                for (int32_t oc = 0; oc < out_c; oc++) {                                             \
                                    acc_px[oc] = ADD(acc_px[oc], x * (X_T)f[(size_t)oc * f_step]);                   \
                                }                                                                                    \
                            }                                                                                        \
                        }                                                                                            \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }

#define TML_ADD_I64(a, b) ((a) + (int64_t)(b))
#define TML_ADD_F32(a, b) ((a) + (b))
TML_DEFINE_TRANSPOSE_CONV_SCATTER(transpose_conv_scatter_s8, int8_t, int8_t, int32_t, int32_t, tml_add_wrap)
TML_DEFINE_TRANSPOSE_CONV_SCATTER(transpose_conv_scatter_s16, int16_t, int8_t, int64_t, int32_t, TML_ADD_I64)
TML_DEFINE_TRANSPOSE_CONV_SCATTER(transpose_conv_scatter_f32, float, float, float, float, TML_ADD_F32)

TML_API int32_t tml_transpose_conv_s8_get_buffer_size(const tml_dims *output_dims)
{
    return tml_transpose_conv_s8_get_buffer_size_for(TML_BUILD_CORE, output_dims);
}

TML_API int32_t tml_transpose_conv_s8_get_buffer_size_for(int32_t core, const tml_dims *output_dims)
{
    if (core < 0 || core >= TML_CORES || !tml_dims_valid(output_dims)) {
        return -1;
    }
    const size_t bytes = tml_dims_count(output_dims) * sizeof(int32_t);
    return bytes > (size_t)INT32_MAX ? -1 : (int32_t)bytes;
}

TML_API tml_status tml_transpose_conv_s8(const tml_transpose_conv_params *params, const tml_per_channel_quant *quant,
                                         const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                                         const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                         int8_t *output, void *scratch)
{
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || scratch == NULL ||
        !transpose_conv_shapes_valid(input_dims, filter_dims, output_dims) ||
        !transpose_conv_window_valid(params->stride_h, params->stride_w, params->pad_h, params->pad_w) ||
        params->activation_min > params->activation_max) {
        return TML_ERROR_ARGUMENT;
    }
    int32_t *acc = (int32_t *)scratch;
    transpose_conv_scatter_s8(params->stride_h, params->stride_w, params->pad_h, params->pad_w, input_dims, input,
                              params->input_offset, filter_dims, filter, output_dims, acc);
    const size_t count = tml_dims_count(output_dims);
    const int32_t out_c = output_dims->c;
    for (size_t i = 0; i < count; i++) {
        const int32_t oc = (int32_t)(i % (size_t)out_c);
        int32_t v = acc[i];
        if (bias != NULL) {
            v = tml_add_wrap(v, bias[oc]);
        }
        v = tml_mul_by_quantized_multiplier(v, quant->multiplier[oc], quant->shift[oc]);
        v += params->output_offset;
        output[i] = (int8_t)tml_clamp_i32(v, params->activation_min, params->activation_max);
    }
    return TML_OK;
}

TML_API int32_t tml_transpose_conv_s16_get_buffer_size(const tml_dims *output_dims)
{
    return tml_transpose_conv_s16_get_buffer_size_for(TML_BUILD_CORE, output_dims);
}

TML_API int32_t tml_transpose_conv_s16_get_buffer_size_for(int32_t core, const tml_dims *output_dims)
{
    if (core < 0 || core >= TML_CORES || !tml_dims_valid(output_dims)) {
        return -1;
    }
    const size_t bytes = tml_dims_count(output_dims) * sizeof(int64_t);
    return bytes > (size_t)INT32_MAX ? -1 : (int32_t)bytes;
}

TML_API tml_status tml_transpose_conv_s16(const tml_transpose_conv_params *params, const tml_per_channel_quant *quant,
                                          const tml_dims *input_dims, const int16_t *input, const tml_dims *filter_dims,
                                          const int8_t *filter, const int64_t *bias, const tml_dims *output_dims,
                                          int16_t *output, void *scratch)
{
    /* TFLM's 16x8 kernel applies no offsets, so a nonzero one means a model it would compute differently. */
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || scratch == NULL ||
        !transpose_conv_shapes_valid(input_dims, filter_dims, output_dims) ||
        !transpose_conv_window_valid(params->stride_h, params->stride_w, params->pad_h, params->pad_w) ||
        params->input_offset != 0 || params->output_offset != 0 || params->activation_min > params->activation_max) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t oc = 0; oc < output_dims->c; oc++) {
        /* The 64-bit requantization shifts right by 15 - shift, which TFLM bounds to 8 .. 46. */
        if (quant->shift[oc] < -31 || quant->shift[oc] > 7) {
            return TML_ERROR_ARGUMENT;
        }
    }
    int64_t *acc = (int64_t *)scratch;
    transpose_conv_scatter_s16(params->stride_h, params->stride_w, params->pad_h, params->pad_w, input_dims, input, 0,
                               filter_dims, filter, output_dims, acc);
    const size_t count = tml_dims_count(output_dims);
    const int32_t out_c = output_dims->c;
    for (size_t i = 0; i < count; i++) {
        const int32_t oc = (int32_t)(i % (size_t)out_c);
        int64_t v = acc[i];
        if (bias != NULL) {
            v += bias[oc];
        }
        const int32_t scaled = tml_mul_by_quantized_multiplier_i64(v, quant->multiplier[oc], quant->shift[oc]);
        output[i] = (int16_t)tml_clamp_i32(scaled, params->activation_min, params->activation_max);
    }
    return TML_OK;
}

TML_API tml_status tml_transpose_conv_f32(const tml_transpose_conv_f32_params *params, const tml_dims *input_dims,
                                          const float *input, const tml_dims *filter_dims, const float *filter,
                                          const float *bias, const tml_dims *output_dims, float *output)
{
    if (params == NULL || input == NULL || filter == NULL || output == NULL ||
        !transpose_conv_shapes_valid(input_dims, filter_dims, output_dims) ||
        !transpose_conv_window_valid(params->stride_h, params->stride_w, params->pad_h, params->pad_w)) {
        return TML_ERROR_ARGUMENT;
    }
    transpose_conv_scatter_f32(params->stride_h, params->stride_w, params->pad_h, params->pad_w, input_dims, input,
                               0.0f, filter_dims, filter, output_dims, output);
    const size_t count = tml_dims_count(output_dims);
    const int32_t out_c = output_dims->c;
    for (size_t i = 0; i < count; i++) {
        float v = output[i];
        if (bias != NULL) {
            v += bias[i % (size_t)out_c];
        }
        output[i] = tml_clamp_f32(v, params->activation_min, params->activation_max);
    }
    return TML_OK;
}
