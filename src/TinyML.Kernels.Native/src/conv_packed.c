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

/* Fills n bytes with value, a word at a time where an unaligned word store is one STR (TML_ARCH_UNALIGNED_WORDS; on
 * the M0+ it is a library call). */
TML_INLINE void conv_packed_fill(int8_t *to, int8_t value, int32_t n)
{
    const uint32_t word = 0x01010101u * (uint8_t)value;
    if (n < 4 || !TML_ARCH_UNALIGNED_WORDS) {
        for (int32_t i = 0; i < n; i++) {
            to[i] = value;
        }
        return;
    }
    /* Whole words, then one more ending at the last byte (overlapping), instead of a byte loop. */
    for (int32_t i = 0; i < n - 4; i += 4) {
        memcpy(to + i, &word, 4);
    }
    memcpy(to + n - 4, &word, 4);
}

/* Copies a run of taps: word copies on a core, the last one ending at the last byte (overlapping: a library call,
 * or a byte loop, costs more than these few bytes there), the C library's memcpy on a host; bytes where a word copy
 * is not one LDR and STR (tml_copy_short). */
TML_INLINE void conv_packed_copy(int8_t *to, const int8_t *from, int32_t n)
{
#if TML_USE_HOST_SIMD
    memcpy(to, from, (size_t)n);
#else
    if (n < 4 || !TML_ARCH_UNALIGNED_WORDS) {
        tml_copy_short(to, from, (size_t)n);
        return;
    }
    uint32_t word;
    for (int32_t i = 0; i < n - 4; i += 4) {
        memcpy(&word, from + i, 4);
        memcpy(to + i, &word, 4);
    }
    memcpy(&word, from + n - 4, 4);
    memcpy(to + n - 4, &word, 4);
#endif
}

/* The im2col row of a window wholly inside the input with dilation_w 1: k_h runs of `run` bytes, `step` apart in
 * the input, from line. Word copies without per-row tests: the path of most pixels. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void conv_packed_copy_window(int8_t *row, const int8_t *line, size_t step, int32_t k_h, int32_t run)
{
    int8_t *const end = row + k_h * run;
    if ((run & 7) == 0) {
#if TML_USE_DSP
        /* Two words per pass (a one-channel filter 8 wide, channels a multiple of 8): 6 instructions per 8 bytes and
         * 3 per row, which GCC 12's loop counters double. Unaligned LDR/STR: every DSP core has them. */
        const int8_t *from;
        int8_t *row_end;
        uint32_t a, b;
        if (run == 8) { /* micro_speech's one-channel 8-wide filter: one pass per row, 7 instructions */
            __asm__ volatile("1:\n\t"
                             "ldr %[a], [%[line]]\n\t"
                             "ldr %[b], [%[line], #4]\n\t"
                             "add %[line], %[line], %[step]\n\t"
                             "str %[a], [%[row]], #4\n\t"
                             "str %[b], [%[row]], #4\n\t"
                             "cmp %[row], %[end]\n\t"
                             "bne 1b\n\t"
                             : [row] "+r"(row), [line] "+r"(line), [a] "=&r"(a), [b] "=&r"(b)
                             : [step] "r"(step), [end] "r"(end)
                             : "cc", "memory");
            return;
        }
        __asm__ volatile("1:\n\t"
                         "mov %[from], %[line]\n\t"
                         "add %[row_end], %[row], %[run]\n\t"
                         "2:\n\t"
                         "ldr %[a], [%[from]], #4\n\t"
                         "ldr %[b], [%[from]], #4\n\t"
                         "str %[a], [%[row]], #4\n\t"
                         "str %[b], [%[row]], #4\n\t"
                         "cmp %[row], %[row_end]\n\t"
                         "bne 2b\n\t"
                         "add %[line], %[line], %[step]\n\t"
                         "cmp %[row], %[end]\n\t"
                         "bne 1b\n\t"
                         : [row] "+r"(row), [line] "+r"(line), [from] "=&r"(from), [row_end] "=&r"(row_end),
                           [a] "=&r"(a), [b] "=&r"(b)
                         : [run] "r"(run), [step] "r"(step), [end] "r"(end)
                         : "cc", "memory");
        return;
#endif
    }
#if TML_USE_DSP
    if (run == 9) { /* a 3x3 filter on three channels (an RGB stem): one pass per row, 10 instructions */
        uint32_t a, b, t;
        __asm__ volatile("1:\n\t"
                         "ldr %[a], [%[line]]\n\t"
                         "ldr %[b], [%[line], #4]\n\t"
                         "ldrb %[t], [%[line], #8]\n\t"
                         "add %[line], %[line], %[step]\n\t"
                         "str %[a], [%[row]]\n\t"
                         "str %[b], [%[row], #4]\n\t"
                         "strb %[t], [%[row], #8]\n\t"
                         "add %[row], %[row], #9\n\t"
                         "cmp %[row], %[end]\n\t"
                         "bne 1b\n\t"
                         : [row] "+r"(row), [line] "+r"(line), [a] "=&r"(a), [b] "=&r"(b), [t] "=&r"(t)
                         : [step] "r"(step), [end] "r"(end)
                         : "cc", "memory");
        return;
    }
#endif
    do {
        tml_copy_short(row, line, (size_t)run);
        row += run;
        line += step;
    } while (row != end);
}

/* First k in [0, k_n] with origin + k * dilation >= 0, and the first with origin + k * dilation >= size (the taps
 * of one window axis inside the input are [*first, *last)). */
TML_INLINE void conv_packed_inside(int32_t origin, int32_t dilation, int32_t size, int32_t k_n, int32_t *first,
                                   int32_t *last)
{
    int32_t a, b;
    if (dilation == 1) { /* no division on the common path */
        a = origin < 0 ? -origin : 0;
        b = size - origin > 0 ? size - origin : 0;
    } else {
        a = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
        b = size - origin > 0 ? (size - origin + dilation - 1) / dilation : 0;
    }
    a = a < k_n ? a : k_n;
    b = b < k_n ? b : k_n;
    *first = a;
    *last = b > a ? b : a;
}

/* The im2col row of the output pixel whose window starts at input (y0, x0) of image, a window that is not wholly
 * inside the input: taps in (ky, kx, c) order, padding as the input zero point. Window rows above and below the
 * input are one fill each; rows inside are a copy_window when no column is outside, else the whole window is
 * filled first and only the columns inside copied, so no row takes a per-tap test. GCC would turn the short fill
 * and copy loops back into library calls, which cost more than these few bytes. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void conv_packed_im2col(const tml_conv_packed_params *p, const tml_dims *in, const int8_t *image,
                               const tml_dims *f, int32_t y0, int32_t x0, int8_t *row)
{
    /* Locals, not p-> and in->: the int8 stores below may alias those structs, which would reload them per row. */
    const int8_t pad = (int8_t)p->input_zero_point;
    const int32_t c = in->c, in_w = in->w, k_h = f->h, k_w = f->w;
    const int32_t dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t run = k_w * c; /* one filter row's taps */
    int32_t ky0, ky1, lo, hi;
    conv_packed_inside(y0, dilation_h, in->h, k_h, &ky0, &ky1);
    conv_packed_inside(x0, dilation_w, in_w, k_w, &lo, &hi);
    if (ky0 == ky1 || lo == hi) {
        conv_packed_fill(row, pad, k_h * run);
        return;
    }
    const size_t step = (size_t)dilation_h * in_w * c;
    /* The input row of window row ky0. */
    const int8_t *line = image + (size_t)(y0 + ky0 * dilation_h) * in_w * c;
    if (dilation_w == 1 && lo == 0 && hi == k_w) {
        conv_packed_fill(row, pad, ky0 * run);
        conv_packed_fill(row + ky1 * run, pad, (k_h - ky1) * run);
        conv_packed_copy_window(row + ky0 * run, line + (size_t)x0 * c, step, ky1 - ky0, run);
        return;
    }
    conv_packed_fill(row, pad, k_h * run);
    int8_t *const end = row + ky1 * run;
    row += ky0 * run;
    if (dilation_w == 1) {
        const int32_t inside = (hi - lo) * c;
        row += lo * c;
        line += (size_t)(x0 + lo) * c;
        for (; row != end + lo * c; row += run, line += step) {
            conv_packed_copy(row, line, inside);
        }
        return;
    }
    for (; row != end; row += run, line += step) {
        for (int32_t kx = lo; kx < hi; kx++) {
            conv_packed_copy(row + kx * c, line + (size_t)(x0 + kx * dilation_w) * c, c);
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
    const tml_packed_job job = {path, &matmul, quant, taps, units, filter, bias};
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
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
#if TML_USE_DSP
    /* A 1x1 window inside the input (a strided 1x1 conv) is one run of the input's channels: each output row's
     * pixels go to the matrix product straight from the input, stride_w pixels apart, without im2col. */
    if (tml_packed_any_stride(path) && filter_dims->h == 1 &&
        filter_dims->w == 1 && params->pad_h == 0 && params->pad_w == 0 &&
        (out_h - 1) * params->stride_h < in_h && (out_w - 1) * params->stride_w < in_w) {
        const size_t row_bytes = (size_t)in_w * c;
        for (int32_t n = 0; n < input_dims->n; n++) {
            const int8_t *image = input + (size_t)n * in_h * row_bytes;
            for (int32_t oy = 0; oy < out_h; oy++, output += (size_t)out_w * units) {
                tml_packed_rows(&job, out_w, image + (size_t)oy * params->stride_h * row_bytes,
                                (size_t)params->stride_w * c, output);
            }
        }
        return TML_OK;
    }
#endif
    const int32_t k_h = filter_dims->h, run = filter_dims->w * c;
    /* A window row with dilation_w 1 and 0 <= x0 < x_end lies inside the input. */
    const int32_t x_end = params->dilation_w == 1 && filter_dims->w <= in_w ? in_w - filter_dims->w + 1 : 0;
    const size_t step = (size_t)params->dilation_h * in_w * c;
    int32_t filled = 0;
    int8_t *row = rows;
    for (int32_t n = 0; n < input_dims->n; n++) {
        const int8_t *image = input + (size_t)n * in_h * in_w * c;
        for (int32_t oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            int32_t ky0, ky1;
            conv_packed_inside(y0, params->dilation_h, in_h, k_h, &ky0, &ky1);
            /* The windows of this output row whose rows are all inside: x0 in [0, x_lim). */
            const uint32_t x_lim = ky0 == 0 && ky1 == k_h ? (uint32_t)x_end : 0u;
            int32_t x0 = -params->pad_w;
            for (int32_t ox = 0; ox < out_w; ox++, x0 += params->stride_w) {
                if ((uint32_t)x0 < x_lim) {
                    conv_packed_copy_window(row, image + ((size_t)y0 * in_w + x0) * c, step, k_h, run);
                } else {
                    conv_packed_im2col(params, input_dims, image, filter_dims, y0, x0, row);
                }
                row += taps;
                if (++filled == block) {
                    tml_packed_rows(&job, block, rows, (size_t)taps, output);
                    output += (size_t)block * units;
                    filled = 0;
                    row = rows;
                }
            }
        }
    }
    if (filled > 0) {
        tml_packed_rows(&job, filled, rows, (size_t)taps, output);
    }
    return TML_OK;
}
