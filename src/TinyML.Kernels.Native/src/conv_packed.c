/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_packed.c: tml_conv_s8_packed, an int8 CONV_2D as a matrix product on build-time packed weights. Two output
 * pixels at a time, each pixel's window is copied (im2col) into a row of kernel_h x kernel_w x channels int8 values
 * in the filter's OHWI order, and the two rows go through the packed matrix product (packed_matmul.h), whose inner
 * loops and requantization serve FULLY_CONNECTED too.
 *
 * Exact: the compiler folded input_offset x sum(weights) into the bias, so a tap contributes w * x_raw and the bias
 * carries w * input_offset; a tap outside the input gets x_raw = input zero point (= -input_offset), which makes
 * its net contribution w * (x_raw + input_offset) = 0, as TFLM's skipped tap. Sums wrap as TFLM's int32 does.
 */
#include <string.h>

#include "common.h"
#include "packed_matmul.h"
#include "host/host_path.h"

/* Bytes of im2col rows a host SIMD path gathers per matrix product (on the host's stack, not in the plan). */
#define TML_CONV_PACKED_HOST_ROW_BYTES 16384

/* Taps (kernel_h x kernel_w x channels) of one im2col row. */
TML_INLINE int32_t conv_packed_taps(const tml_dims *f)
{
    return f->h * f->w * f->c;
}

TML_API int32_t tml_conv_s8_packed_get_buffer_size_for(int32_t core, const tml_conv_packed_params *params,
                                                       const tml_dims *input_dims, const tml_dims *filter_dims,
                                                       const tml_dims *output_dims)
{
    (void)input_dims;
    (void)output_dims;
    if (core < 0 || core >= TML_CORES || params == NULL || filter_dims == NULL) {
        return -1;
    }
    return 2 * conv_packed_taps(filter_dims); /* two im2col rows, on every core and layout */
}

TML_API int32_t tml_conv_s8_packed_get_buffer_size(const tml_conv_packed_params *params, const tml_dims *input_dims,
                                                   const tml_dims *filter_dims, const tml_dims *output_dims)
{
    return tml_conv_s8_packed_get_buffer_size_for(TML_BUILD_CORE, params, input_dims, filter_dims, output_dims);
}

TML_INLINE void conv_packed_fill(int8_t *to, int8_t value, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        to[i] = value;
    }
}

/* Copies a run of taps: word copies on a core (a library call costs more than these few bytes there), the C
 * library's memcpy on a host. */
TML_INLINE void conv_packed_copy(int8_t *to, const int8_t *from, int32_t n)
{
#if TML_USE_HOST_SIMD
    memcpy(to, from, (size_t)n);
#else
    tml_copy_short(to, from, n);
#endif
}

/* The im2col row of output pixel (n, oy, ox): taps in (ky, kx, c) order, padding as the input zero point. GCC would
 * turn the short fill and copy loops back into library calls, which cost more than these few bytes. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void conv_packed_im2col(const tml_conv_packed_params *p, const tml_dims *in, const int8_t *input,
                               const tml_dims *f, int32_t n, int32_t oy, int32_t ox, int8_t *row)
{
    /* Locals, not p-> and in->: the int8 stores below may alias those structs, which would reload them per row. */
    const int8_t pad = (int8_t)p->input_zero_point;
    const int32_t c = in->c, in_h = in->h, in_w = in->w, k_h = f->h, k_w = f->w;
    const int32_t dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t run = k_w * c; /* one filter row's taps */
    /* With dilation_w 1 a filter row is padding, then taps [lo, hi) inside the input, then padding. */
    const int32_t lo = x0 < 0 ? (-x0 < k_w ? -x0 : k_w) : 0;
    const int32_t hi = in_w - x0 < k_w ? (in_w - x0 > lo ? in_w - x0 : lo) : k_w;
    const int8_t *image = input + (size_t)n * in_h * in_w * c;
    for (int32_t ky = 0; ky < k_h; ky++, row += run) {
        const int32_t iy = y0 + ky * dilation_h;
        if (iy < 0 || iy >= in_h) {
            conv_packed_fill(row, pad, run);
            continue;
        }
        const int8_t *line = image + (size_t)iy * in_w * c;
        if (dilation_w == 1) {
            conv_packed_fill(row, pad, lo * c);
            conv_packed_copy(row + lo * c, line + (size_t)(x0 + lo) * c, (hi - lo) * c);
            conv_packed_fill(row + hi * c, pad, (k_w - hi) * c);
            continue;
        }
        for (int32_t kx = 0; kx < k_w; kx++) {
            const int32_t ix = x0 + kx * dilation_w;
            if (ix < 0 || ix >= in_w) {
                conv_packed_fill(row + kx * c, pad, c);
            } else {
                conv_packed_copy(row + kx * c, line + (size_t)ix * c, c);
            }
        }
    }
}

TML_API tml_status tml_conv_s8_packed(const tml_conv_packed_params *params, const tml_per_channel_quant *quant,
                                      const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                                      const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                      int8_t *output, void *scratch)
{
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input_dims == NULL ||
        input == NULL || filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        scratch == NULL || params->stride_h < 1 || params->stride_w < 1 || params->dilation_h < 1 ||
        params->dilation_w < 1 || params->pad_h < 0 || params->pad_w < 0 || params->input_zero_point < -128 ||
        params->input_zero_point > 127 || input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 ||
        input_dims->c < 1 || filter_dims->n < 1 || filter_dims->h < 1 || filter_dims->w < 1 ||
        filter_dims->c != input_dims->c || output_dims->n != input_dims->n || output_dims->h < 1 ||
        output_dims->w < 1 || output_dims->c != filter_dims->n) {
        return TML_ERROR_ARGUMENT;
    }
    const tml_fully_connected_packed_params matmul = {params->output_offset, params->activation_min,
                                                      params->activation_max, 1, params->chunk};
    if (!tml_packed_params_valid(&matmul)) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t taps = conv_packed_taps(filter_dims);
    const int32_t units = output_dims->c;
    const tml_packed_path path = tml_packed_choose(&matmul, quant, units, filter);
    int8_t *rows = (int8_t *)scratch;
    /* Pixels per matrix product: the planned scratch holds two rows. The int16 layout's inner loop takes one row at
     * a time, but a call per pixel would pay the groups' set-up per pixel (one row measured 4.5% slower on
     * ic_resnet, 7% on micro_speech). */
    int32_t block = 2;
#if TML_USE_HOST_SIMD
    /* A host SIMD path takes many rows per call (blocks of four pixels, its set-up paid once per call): they are
     * gathered on the stack when they fit. */
    int8_t host_rows[TML_CONV_PACKED_HOST_ROW_BYTES];
    if (path == TML_PACKED_PORTABLE && tml_host_path() != TML_HOST_PATH_PORTABLE &&
        taps * 4 <= TML_CONV_PACKED_HOST_ROW_BYTES) {
        rows = host_rows;
        block = TML_CONV_PACKED_HOST_ROW_BYTES / taps;
    }
#endif
    const int32_t per_image = output_dims->h * output_dims->w;
    const int32_t pixels = output_dims->n * per_image;
    for (int32_t px = 0; px < pixels; px += block) {
        const int32_t count = pixels - px < block ? pixels - px : block;
        for (int32_t i = 0; i < count; i++) {
            const int32_t q = px + i, n = q / per_image, r = q % per_image;
            conv_packed_im2col(params, input_dims, input, filter_dims, n, r / output_dims->w, r % output_dims->w,
                               rows + (size_t)i * taps);
        }
        tml_packed_rows(path, &matmul, quant, count, taps, units, rows, filter, bias, output + (size_t)px * units);
    }
    return TML_OK;
}
