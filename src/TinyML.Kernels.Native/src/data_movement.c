/* SPDX-License-Identifier: Apache-2.0 */
/*
 * data_movement.c: PAD, TRANSPOSE, STRIDED_SLICE, CONCATENATION, DEPTH_TO_SPACE and SPACE_TO_DEPTH as
 * type-agnostic byte movers.
 *
 * element_size is the size of one element in bytes (1 for int8, 2 for int16, 4 for int32/float32). No value is
 * ever converted, so the int8 results are bit-exact with TFLM by construction. All shapes are outermost first;
 * ranks below TML_MAX_DIMS are handled by prepending dimensions of size 1.
 */
#include <string.h>

#include "common.h"

static int element_size_valid(int32_t element_size)
{
    return element_size == 1 || element_size == 2 || element_size == 4 || element_size == 8;
}

/* 1 when the arguments PAD, TRANSPOSE and STRIDED_SLICE all need are usable: both buffers, a supported element
 * size and a rank in 1..TML_MAX_DIMS. */
static int nd_args_valid(const void *input, const void *output, int32_t element_size, int32_t rank)
{
    return input != NULL && output != NULL && element_size_valid(element_size) && rank >= 1 && rank <= TML_MAX_DIMS;
}

/* Writes n copies of the element at `value` to dst. */
static void fill_elements(uint8_t *dst, const uint8_t *value, size_t element_size, size_t n)
{
    if (n == 0) {
        return;
    }
    if (element_size == 1) {
        memset(dst, value[0], n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(dst + i * element_size, value, element_size);
    }
}

/* Copies n elements read with element stride `stride` (may be negative or 0) to the dense dst. */
static void gather_elements(uint8_t *dst, const uint8_t *src, ptrdiff_t stride, size_t element_size, size_t n)
{
    if (stride == 1) {
        memcpy(dst, src, n * element_size);
        return;
    }
    if (element_size == 1) {
        for (size_t i = 0; i < n; i++) {
            dst[i] = src[(ptrdiff_t)i * stride];
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(dst + i * element_size, src + (ptrdiff_t)i * stride * (ptrdiff_t)element_size, element_size);
    }
}

/* ---- PAD ------------------------------------------------------------------------------------------------ */

TML_API tml_status tml_pad(const tml_pad_params *params, int32_t element_size, const void *input,
                           const void *pad_value, void *output)
{
    if (params == NULL || pad_value == NULL || !nd_args_valid(input, output, element_size, params->rank)) {
        return TML_ERROR_ARGUMENT;
    }
    const size_t es = (size_t)element_size;
    int32_t in_dims[TML_MAX_DIMS];
    int32_t before[TML_MAX_DIMS];
    int32_t out_dims[TML_MAX_DIMS];
    ptrdiff_t in_stride[TML_MAX_DIMS];
    const int32_t lead = TML_MAX_DIMS - params->rank;
    for (int32_t k = 0; k < TML_MAX_DIMS; k++) {
        int32_t d = 1, b = 0, a = 0;
        if (k >= lead) {
            d = params->input_dims[k - lead];
            b = params->pad_before[k - lead];
            a = params->pad_after[k - lead];
        }
        if (d < 0 || b < 0 || a < 0) {
            return TML_ERROR_ARGUMENT;
        }
        in_dims[k] = d;
        before[k] = b;
        out_dims[k] = b + d + a;
    }
    ptrdiff_t stride = 1;
    size_t outer = 1;
    for (int32_t k = TML_MAX_DIMS - 1; k >= 0; k--) {
        in_stride[k] = stride;
        stride *= in_dims[k];
        if (k < TML_MAX_DIMS - 1) {
            outer *= (size_t)out_dims[k];
        }
    }
    const uint8_t *in = (const uint8_t *)input;
    const uint8_t *value = (const uint8_t *)pad_value;
    uint8_t *out = (uint8_t *)output;
    const int32_t last = TML_MAX_DIMS - 1;
    const size_t row = (size_t)out_dims[last];
    int32_t idx[TML_MAX_DIMS - 1] = {0};
    for (size_t r = 0; r < outer; r++) {
        int inside = 1;
        ptrdiff_t in_off = 0;
        for (int32_t k = 0; k < last; k++) {
            const int32_t i = idx[k] - before[k];
            if (i < 0 || i >= in_dims[k]) {
                inside = 0;
                break;
            }
            in_off += (ptrdiff_t)i * in_stride[k];
        }
        if (!inside) {
            fill_elements(out, value, es, row);
        } else {
            fill_elements(out, value, es, (size_t)before[last]);
            memcpy(out + (size_t)before[last] * es, in + in_off * (ptrdiff_t)es, (size_t)in_dims[last] * es);
            fill_elements(out + (size_t)(before[last] + in_dims[last]) * es, value, es,
                          row - (size_t)(before[last] + in_dims[last]));
        }
        out += row * es;
        for (int32_t k = last - 1; k >= 0; k--) {
            if (++idx[k] < out_dims[k]) {
                break;
            }
            idx[k] = 0;
        }
    }
    return TML_OK;
}

TML_API tml_status tml_pad_s8(const tml_pad_params *params, const int8_t *input, int8_t pad_value, int8_t *output)
{
    return tml_pad(params, 1, input, &pad_value, output);
}

/* ---- strided gather shared by TRANSPOSE and STRIDED_SLICE ------------------------------------------------ */

/*
 * Dense output of shape dims[0..5]; the input element of output index (i0..i5) is at
 * base + sum_k i_k * step[k] (element units).
 */
static void strided_gather(const uint8_t *input, ptrdiff_t base, const int32_t *dims, const ptrdiff_t *step,
                           size_t es, uint8_t *output)
{
    const int32_t last = TML_MAX_DIMS - 1;
    size_t outer = 1;
    for (int32_t k = 0; k < last; k++) {
        outer *= (size_t)dims[k];
    }
    const size_t row = (size_t)dims[last];
    if (outer == 0 || row == 0) {
        return;
    }
    int32_t idx[TML_MAX_DIMS - 1] = {0};
    ptrdiff_t off = base;
    for (size_t r = 0; r < outer; r++) {
        gather_elements(output, input + off * (ptrdiff_t)es, step[last], es, row);
        output += row * es;
        for (int32_t k = last - 1; k >= 0; k--) {
            idx[k]++;
            off += step[k];
            if (idx[k] < dims[k]) {
                break;
            }
            off -= step[k] * dims[k];
            idx[k] = 0;
        }
    }
}

/* ---- TRANSPOSE ------------------------------------------------------------------------------------------ */

TML_API tml_status tml_transpose(const tml_transpose_params *params, int32_t element_size, const void *input,
                                 void *output)
{
    if (params == NULL || !nd_args_valid(input, output, element_size, params->rank)) {
        return TML_ERROR_ARGUMENT;
    }
    int32_t dims[TML_MAX_DIMS];
    ptrdiff_t step[TML_MAX_DIMS];
    const int32_t lead = TML_MAX_DIMS - params->rank;
    for (int32_t k = 0; k < TML_MAX_DIMS; k++) {
        dims[k] = k < lead ? 1 : params->output_dims[k - lead];
        step[k] = k < lead ? 0 : params->input_strides[k - lead];
        if (dims[k] < 0 || step[k] < 0) {
            return TML_ERROR_ARGUMENT;
        }
    }
    strided_gather((const uint8_t *)input, 0, dims, step, (size_t)element_size, (uint8_t *)output);
    return TML_OK;
}

TML_API tml_status tml_transpose_s8(const tml_transpose_params *params, const int8_t *input, int8_t *output)
{
    return tml_transpose(params, 1, input, output);
}

/* ---- STRIDED_SLICE -------------------------------------------------------------------------------------- */

TML_API tml_status tml_strided_slice(const tml_strided_slice_params *params, int32_t element_size, const void *input,
                                     void *output)
{
    if (params == NULL || !nd_args_valid(input, output, element_size, params->rank)) {
        return TML_ERROR_ARGUMENT;
    }
    int32_t dims[TML_MAX_DIMS];
    ptrdiff_t step[TML_MAX_DIMS];
    const int32_t lead = TML_MAX_DIMS - params->rank;
    ptrdiff_t in_stride = 1;
    ptrdiff_t base = 0;
    for (int32_t k = TML_MAX_DIMS - 1; k >= 0; k--) {
        if (k < lead) {
            dims[k] = 1;
            step[k] = 0;
            continue;
        }
        const int32_t in_dim = params->input_dims[k - lead];
        const int32_t start = params->start[k - lead];
        const int32_t stride = params->stride[k - lead];
        const int32_t count = params->count[k - lead];
        if (in_dim < 0 || count < 0 || stride == 0) {
            return TML_ERROR_ARGUMENT;
        }
        if (count > 0) {
            /* First and last index read must lie inside the axis. */
            const int64_t last = (int64_t)start + (int64_t)(count - 1) * stride;
            if (start < 0 || start >= in_dim || last < 0 || last >= in_dim) {
                return TML_ERROR_ARGUMENT;
            }
            base += (ptrdiff_t)start * in_stride;
        }
        dims[k] = count;
        step[k] = (ptrdiff_t)stride * in_stride;
        in_stride *= in_dim;
    }
    strided_gather((const uint8_t *)input, base, dims, step, (size_t)element_size, (uint8_t *)output);
    return TML_OK;
}

TML_API tml_status tml_strided_slice_s8(const tml_strided_slice_params *params, const int8_t *input, int8_t *output)
{
    return tml_strided_slice(params, 1, input, output);
}

/* ---- CONCATENATION -------------------------------------------------------------------------------------- */

TML_API tml_status tml_concat(const tml_concat_params *params, int32_t element_size, const void *const *inputs,
                              void *output)
{
    if (params == NULL || inputs == NULL || output == NULL || !element_size_valid(element_size) ||
        params->num_inputs < 1 || params->outer_size < 0 || params->copy_sizes == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < params->num_inputs; i++) {
        if (params->copy_sizes[i] < 0 || (inputs[i] == NULL && params->copy_sizes[i] > 0)) {
            return TML_ERROR_ARGUMENT;
        }
    }
    const size_t es = (size_t)element_size;
    uint8_t *out = (uint8_t *)output;
    for (int32_t o = 0; o < params->outer_size; o++) {
        for (int32_t i = 0; i < params->num_inputs; i++) {
            const size_t bytes = (size_t)params->copy_sizes[i] * es;
            if (bytes > 0) {
                memcpy(out, (const uint8_t *)inputs[i] + (size_t)o * bytes, bytes);
                out += bytes;
            }
        }
    }
    return TML_OK;
}

TML_API tml_status tml_concat_s8(const tml_concat_params *params, const int8_t *const *inputs, int8_t *output)
{
    return tml_concat(params, 1, (const void *const *)inputs, output);
}

TML_API tml_status tml_copy_window(const tml_copy_window_params *params, int32_t element_size, const void *input,
                                   void *output)
{
    if (params == NULL || input == NULL || output == NULL || !(element_size == 1 || element_size == 2 || element_size == 4)) {
        return TML_ERROR_ARGUMENT;
    }
    const tml_copy_window_params *p = params;
    if (p->height < 1 || p->width < 1 || p->channels < 1 || p->input_y < 0 || p->input_x < 0 || p->output_y < 0 ||
        p->output_x < 0 || p->input_y > p->input_h - p->height || p->input_x > p->input_w - p->width ||
        p->output_y > p->output_h - p->height || p->output_x > p->output_w - p->width) {
        return TML_ERROR_ARGUMENT;
    }
    const size_t pixel = (size_t)p->channels * (size_t)element_size;
    const size_t row_bytes = (size_t)p->width * pixel;
    const uint8_t *in = (const uint8_t *)input + ((size_t)p->input_y * (size_t)p->input_w + (size_t)p->input_x) * pixel;
    uint8_t *out = (uint8_t *)output + ((size_t)p->output_y * (size_t)p->output_w + (size_t)p->output_x) * pixel;
    for (int32_t y = 0; y < p->height; y++) {
        memcpy(out, in, row_bytes);
        in += (size_t)p->input_w * pixel;
        out += (size_t)p->output_w * pixel;
    }
    return TML_OK;
}

/* ---- DEPTH_TO_SPACE and SPACE_TO_DEPTH ------------------------------------------------------------------ */

static int space_depth_args_valid(const tml_space_depth_params *p, int32_t element_size, const void *input,
                                  const void *output)
{
    return p != NULL && input != NULL && output != NULL && element_size_valid(element_size) && p->batches >= 0 &&
           p->height >= 0 && p->width >= 0 && p->depth >= 0 && p->block_size >= 1;
}

/* Both directions walk the spatial side (height x width, depth channels) and copy each pixel's channels to or from
 * deep pixel (h / block, w / block) at channel ((h % block) * block + w % block) * depth, TFLite's DCR order:
 * to_depth copies spatial (input) -> deep (output), else deep (input) -> spatial (output). */
static void space_depth_move(const tml_space_depth_params *p, size_t es, const uint8_t *input, uint8_t *output,
                             int to_depth)
{
    const size_t block = (size_t)p->block_size;
    const size_t depth = (size_t)p->depth;
    const size_t deep_depth = depth * block * block;
    const size_t deep_width = (size_t)p->width / block;
    const size_t deep_height = (size_t)p->height / block;
    const size_t chunk = depth * es;
    for (size_t b = 0; b < (size_t)p->batches; b++) {
        for (size_t h = 0; h < (size_t)p->height; h++) {
            for (size_t w = 0; w < (size_t)p->width; w++) {
                const size_t spatial = (((b * (size_t)p->height + h) * (size_t)p->width + w) * depth) * es;
                const size_t deep_pixel = (b * deep_height + h / block) * deep_width + w / block;
                const size_t deep = (deep_pixel * deep_depth + ((h % block) * block + w % block) * depth) * es;
                if (to_depth) {
                    memcpy(output + deep, input + spatial, chunk);
                } else {
                    memcpy(output + spatial, input + deep, chunk);
                }
            }
        }
    }
}

TML_API tml_status tml_depth_to_space(const tml_space_depth_params *params, int32_t element_size, const void *input,
                                      void *output)
{
    if (!space_depth_args_valid(params, element_size, input, output) || params->height % params->block_size != 0 ||
        params->width % params->block_size != 0) {
        return TML_ERROR_ARGUMENT;
    }
    space_depth_move(params, (size_t)element_size, (const uint8_t *)input, (uint8_t *)output, 0);
    return TML_OK;
}

TML_API tml_status tml_space_to_depth(const tml_space_depth_params *params, int32_t element_size, const void *input,
                                      void *output)
{
    if (!space_depth_args_valid(params, element_size, input, output) || params->height % params->block_size != 0 ||
        params->width % params->block_size != 0) {
        return TML_ERROR_ARGUMENT;
    }
    space_depth_move(params, (size_t)element_size, (const uint8_t *)input, (uint8_t *)output, 1);
    return TML_OK;
}
