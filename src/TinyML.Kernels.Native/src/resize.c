/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resize.c: RESIZE_NEAREST_NEIGHBOR (any element size) and RESIZE_BILINEAR (float32 and int8) on NHWC tensors, as
 * TFLM's reference kernels compute them (reference_ops::ResizeNearestNeighbor, ResizeBilinear for float and
 * ResizeBilinearInteger for int8, double rounding). The source coordinates are float arithmetic for nearest and
 * float bilinear (the same single-precision operations in the same order; the build has -ffp-contract=off) and
 * 10-bit fixed point for int8 bilinear.
 */
#include <math.h>
#include <string.h>

#include "common.h"

static int resize_params_valid(const tml_resize_params *p)
{
    return p != NULL && p->batches >= 0 && p->input_height >= 1 && p->input_width >= 1 && p->depth >= 0 &&
           p->output_height >= 1 && p->output_width >= 1 && (p->align_corners == 0 || p->align_corners == 1) &&
           (p->half_pixel_centers == 0 || p->half_pixel_centers == 1);
}

/* The source row (or column) of output coordinate `out` (GetNearestNeighbor): the scale and the product are floats,
 * rounded half away from zero with align_corners, else floored. */
static int32_t nearest_source(int32_t out, int32_t in_size, int32_t out_size, int32_t align_corners,
                              int32_t half_pixel_centers)
{
    const float scale = (align_corners && out_size > 1) ? (float)(in_size - 1) / (float)(out_size - 1)
                                                        : (float)in_size / (float)out_size;
    const float position = ((float)out + (half_pixel_centers ? 0.5f : 0.0f)) * scale;
    int32_t source = align_corners ? (int32_t)roundf(position) : (int32_t)floorf(position);
    source = TML_MIN(source, in_size - 1);
    if (half_pixel_centers) {
        source = TML_MAX(source, 0);
    }
    return source;
}

TML_API tml_status tml_resize_nearest(const tml_resize_params *params, int32_t element_size, const void *input,
                                      void *output)
{
    if (!resize_params_valid(params) || input == NULL || output == NULL ||
        !(element_size == 1 || element_size == 2 || element_size == 4)) {
        return TML_ERROR_ARGUMENT;
    }
    const size_t pixel = (size_t)params->depth * (size_t)element_size;
    const size_t row = pixel * (size_t)params->input_width;
    const size_t image = row * (size_t)params->input_height;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    for (int32_t b = 0; b < params->batches; b++) {
        for (int32_t y = 0; y < params->output_height; y++) {
            const int32_t in_y = nearest_source(y, params->input_height, params->output_height, params->align_corners,
                                                params->half_pixel_centers);
            for (int32_t x = 0; x < params->output_width; x++) {
                const int32_t in_x = nearest_source(x, params->input_width, params->output_width,
                                                    params->align_corners, params->half_pixel_centers);
                memcpy(out, in + (size_t)in_y * row + (size_t)in_x * pixel, pixel);
                out += pixel;
            }
        }
        in += image;
    }
    return TML_OK;
}

/* ---- float32 bilinear ---------------------------------------------------------------------------------- */

/* Input over output size, or (in - 1) / (out - 1) with align_corners when out > 1, in float. */
static float bilinear_scale_f32(int32_t in_size, int32_t out_size, int32_t align_corners)
{
    if (align_corners && out_size > 1) {
        return (float)(in_size - 1) / (float)(out_size - 1);
    }
    return (float)in_size / (float)out_size;
}

/* The source position of output coordinate `out` and its two neighbours, clamped into the input
 * (ComputeInterpolationValues). */
static void bilinear_source_f32(int32_t out, float scale, int32_t half_pixel_centers, int32_t in_size,
                                float *position, int32_t *lower, int32_t *upper)
{
    const float p = half_pixel_centers ? ((float)out + 0.5f) * scale - 0.5f : (float)out * scale;
    *position = p;
    *lower = TML_MAX((int32_t)floorf(p), 0);
    *upper = TML_MIN((int32_t)ceilf(p), in_size - 1);
}

TML_API tml_status tml_resize_bilinear_f32(const tml_resize_params *params, const float *input, float *output)
{
    if (!resize_params_valid(params) || input == NULL || output == NULL ||
        (params->align_corners && params->half_pixel_centers)) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t in_h = params->input_height, in_w = params->input_width, depth = params->depth;
    const float height_scale = bilinear_scale_f32(in_h, params->output_height, params->align_corners);
    const float width_scale = bilinear_scale_f32(in_w, params->output_width, params->align_corners);
    for (int32_t b = 0; b < params->batches; b++) {
        const float *image = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)depth;
        for (int32_t y = 0; y < params->output_height; y++) {
            float in_y;
            int32_t y0, y1;
            bilinear_source_f32(y, height_scale, params->half_pixel_centers, in_h, &in_y, &y0, &y1);
            const float dy = in_y - (float)y0;
            for (int32_t x = 0; x < params->output_width; x++) {
                float in_x;
                int32_t x0, x1;
                bilinear_source_f32(x, width_scale, params->half_pixel_centers, in_w, &in_x, &x0, &x1);
                const float dx = in_x - (float)x0;
                const float *p00 = image + ((size_t)y0 * (size_t)in_w + (size_t)x0) * (size_t)depth;
                const float *p10 = image + ((size_t)y1 * (size_t)in_w + (size_t)x0) * (size_t)depth;
                const float *p01 = image + ((size_t)y0 * (size_t)in_w + (size_t)x1) * (size_t)depth;
                const float *p11 = image + ((size_t)y1 * (size_t)in_w + (size_t)x1) * (size_t)depth;
                for (int32_t c = 0; c < depth; c++) {
                    /* TFLM's order: each corner times its y weight, then its x weight; the sum left to right; the
                     * final + 0 (its rounding offset for float) turns a -0 sum into +0. */
                    const float sum = p00[c] * (1.0f - dy) * (1.0f - dx) + p10[c] * dy * (1.0f - dx) +
                                      p01[c] * (1.0f - dy) * dx + p11[c] * dy * dx;
                    *output++ = sum + 0.0f;
                }
            }
        }
    }
    return TML_OK;
}

/* ---- int8 bilinear --------------------------------------------------------------------------------------- */

/* The scale in 1/1024 steps, rounded half up (ResizeBilinearInteger). */
static int32_t bilinear_scale_q10(int32_t in_size, int32_t out_size, int32_t align_corners)
{
    if (align_corners && out_size > 1) {
        return ((1 << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
    }
    return ((1 << 10) * in_size + out_size / 2) / out_size;
}

/* ComputeInterpolationValuesInteger: the position in 1/1024 steps (negative near the edge with half-pixel centres),
 * its neighbours by truncating division. */
static void bilinear_source_q10(int32_t out, int32_t scale_q10, int32_t half_pixel_centers, int32_t in_size,
                                int32_t *position, int32_t *lower, int32_t *upper)
{
    const int32_t p = half_pixel_centers ? out * scale_q10 + scale_q10 / 2 - (1 << 9) : out * scale_q10;
    *position = p;
    *lower = TML_MAX(p / (1 << 10), 0);
    *upper = TML_MIN((p + (1 << 10) - 1) / (1 << 10), in_size - 1);
}

TML_API tml_status tml_resize_bilinear_s8(const tml_resize_params *params, const int8_t *input, int8_t *output)
{
    if (!resize_params_valid(params) || input == NULL || output == NULL ||
        (params->align_corners && params->half_pixel_centers)) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t in_h = params->input_height, in_w = params->input_width, depth = params->depth;
    const int32_t height_scale = bilinear_scale_q10(in_h, params->output_height, params->align_corners);
    const int32_t width_scale = bilinear_scale_q10(in_w, params->output_width, params->align_corners);
    for (int32_t b = 0; b < params->batches; b++) {
        const int8_t *image = input + (size_t)b * (size_t)in_h * (size_t)in_w * (size_t)depth;
        for (int32_t y = 0; y < params->output_height; y++) {
            int32_t in_y, y0, y1;
            bilinear_source_q10(y, height_scale, params->half_pixel_centers, in_h, &in_y, &y0, &y1);
            const int64_t wy1 = in_y - (1 << 10) * y0;
            const int64_t wy0 = (1 << 10) - wy1;
            for (int32_t x = 0; x < params->output_width; x++) {
                int32_t in_x, x0, x1;
                bilinear_source_q10(x, width_scale, params->half_pixel_centers, in_w, &in_x, &x0, &x1);
                const int64_t wx1 = in_x - (1 << 10) * x0;
                const int64_t wx0 = (1 << 10) - wx1;
                const int8_t *p00 = image + ((size_t)y0 * (size_t)in_w + (size_t)x0) * (size_t)depth;
                const int8_t *p10 = image + ((size_t)y1 * (size_t)in_w + (size_t)x0) * (size_t)depth;
                const int8_t *p01 = image + ((size_t)y0 * (size_t)in_w + (size_t)x1) * (size_t)depth;
                const int8_t *p11 = image + ((size_t)y1 * (size_t)in_w + (size_t)x1) * (size_t)depth;
                for (int32_t c = 0; c < depth; c++) {
                    /* 20 fractional bits; rounded half away from zero, then a truncating division. */
                    const int64_t q20 = p00[c] * wy0 * wx0 + p10[c] * wy1 * wx0 + p01[c] * wy0 * wx1 +
                                        p11[c] * wy1 * wx1;
                    const int64_t round = q20 > 0 ? ((int64_t)1 << 19) : -((int64_t)1 << 19);
                    *output++ = (int8_t)((q20 + round) / ((int64_t)1 << 20));
                }
            }
        }
    }
    return TML_OK;
}
