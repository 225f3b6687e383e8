/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ref_diff.h: the differential harness. Every MAC-heavy int8 kernel is called on random shapes and parameters
 * twice, once as built for this core (tml_*, which takes whatever fast path tml_arch.h allows) and once from the
 * reference library (tml_ref_*: the same sources compiled with TML_FORCE_PORTABLE=1, symbols renamed), and the
 * two must agree on the status, every output byte, and the guard bytes after the output.
 *
 * Each side gets its own scratch, sized by its own _get_buffer_size, since a fast path may need more.
 * No printf, no heap: static buffers and libm's frexp only, so the same file runs in the host CTest
 * (test_ref_diff.c) and bare metal under QEMU. A failure is reported as (kernel, case index); the cases are a
 * pure function of the seed, so it reproduces.
 */
#ifndef TML_REF_DIFF_H
#define TML_REF_DIFF_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tml_arch.h"
#include "tml_kernels.h"
#include "packed_weights.h"

/* The reference library's entry points: the same signatures as tml_X. */
#define TML_REF_DECLARE(name) extern __typeof__(tml_##name) tml_ref_##name;
TML_REF_DECLARE(conv_s8)
TML_REF_DECLARE(conv_s8_get_buffer_size)
TML_REF_DECLARE(depthwise_conv_s8)
TML_REF_DECLARE(depthwise_conv_s8_get_buffer_size)
TML_REF_DECLARE(depthwise_conv_s8_inplace)
TML_REF_DECLARE(depthwise_conv_s8_inplace_get_buffer_size)
TML_REF_DECLARE(fully_connected_s8)
TML_REF_DECLARE(fully_connected_s8_get_buffer_size)
TML_REF_DECLARE(avg_pool_s8)
TML_REF_DECLARE(avg_pool_s8_get_buffer_size)
TML_REF_DECLARE(max_pool_s8)
TML_REF_DECLARE(add_s8)
TML_REF_DECLARE(sub_s8)
TML_REF_DECLARE(mul_s8)
TML_REF_DECLARE(softmax_s8)
TML_REF_DECLARE(lstm_s8)
TML_REF_DECLARE(svdf_s8)
TML_REF_DECLARE(svdf_s8_state_s8)
extern __typeof__(tml_arch_path) tml_ref_arch_path;

#define TML_RD_BYTES 8192
#define TML_RD_SCRATCH 32768
#define TML_RD_GUARD 16
#define TML_RD_MAX_CH 64

typedef struct {
    uint32_t cases;      /* kernel calls compared */
    uint32_t ok_cases;   /* of which both returned TML_OK (the rest must agree on the error) */
    uint32_t mismatches; /* cases where the two sides differ */
    const char *first_kernel;
    uint32_t first_case;
} tml_ref_diff_result;

typedef struct {
    uint32_t s;
} tml_rd_rng;

static uint32_t tml_rd_next(tml_rd_rng *r)
{
    uint32_t x = r->s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->s = x;
    return x;
}

/* Uniform in [lo, hi]. */
static int32_t tml_rd_int(tml_rd_rng *r, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(tml_rd_next(r) % (uint32_t)(hi - lo + 1));
}

static void tml_rd_fill(tml_rd_rng *r, int8_t *p, int32_t n)
{
    const int saturate = tml_rd_int(r, 0, 7) == 0; /* sometimes only the int8 extremes */
    for (int32_t i = 0; i < n; i++) {
        p[i] = saturate ? ((tml_rd_next(r) & 1u) ? 127 : -128) : (int8_t)(tml_rd_next(r) & 0xFF);
    }
}

/* TFLM's QuantizeMultiplier of a double in (0, 2^8): the kernels' (multiplier, shift). */
static void tml_rd_quantize(double real, int32_t *m, int32_t *s)
{
    int e = 0;
    const double q = frexp(real, &e);
    int64_t f = (int64_t)floor(q * 2147483648.0 + 0.5);
    if (f == (1LL << 31)) {
        f /= 2;
        e++;
    }
    *m = (int32_t)f;
    *s = e;
}

/* A requantization scale: usually small like a real conv (2^-12..2^-4), sometimes > 1 or flushed to zero. */
static void tml_rd_scale(tml_rd_rng *r, int32_t *m, int32_t *s)
{
    const int32_t kind = tml_rd_int(r, 0, 15);
    if (kind == 0) {
        *m = 0;
        *s = 0;
        return;
    }
    const double mant = 1.0 + (double)(tml_rd_next(r) % 100000u) / 100000.0;
    const int32_t exp2 = kind == 1 ? tml_rd_int(r, 0, 2) : tml_rd_int(r, -13, -5);
    tml_rd_quantize(ldexp(mant, exp2), m, s);
}

static void tml_rd_activation(tml_rd_rng *r, int32_t *lo, int32_t *hi)
{
    *lo = -128;
    *hi = 127;
    const int32_t kind = tml_rd_int(r, 0, 11);
    if (kind < 4) {
        *lo = tml_rd_int(r, -128, 20);
        *hi = tml_rd_int(r, *lo, 127);
    } else if (kind == 4) {
        /* Bounds past int8, which no converter makes but the API takes: a clamped value outside int8 is narrowed by
         * wrapping, as TFLM's cast does; a fast path must not saturate it. */
        *lo = tml_rd_int(r, -300, -129);
        *hi = tml_rd_int(r, 128, 300);
    }
}

/* Output size and leading pad of one axis (ComputeOutSize / ComputePaddingHeightWidth); 0 when it has none. */
static int32_t tml_rd_axis(tml_rd_rng *r, int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t *pad)
{
    const int32_t eff = (k - 1) * dilation + 1;
    const int same = (int)(tml_rd_next(r) & 1u);
    const int32_t out = same ? (in + stride - 1) / stride : (in + stride - eff) / stride;
    if (out < 1) {
        return 0;
    }
    const int32_t total = (out - 1) * stride + eff - in;
    *pad = total > 0 ? total / 2 : 0;
    return out;
}

static int8_t tml_rd_in[TML_RD_BYTES], tml_rd_in2[TML_RD_BYTES], tml_rd_filter[TML_RD_BYTES];
static int8_t tml_rd_out_fast[TML_RD_BYTES + TML_RD_GUARD], tml_rd_out_ref[TML_RD_BYTES + TML_RD_GUARD];
static int32_t tml_rd_bias[TML_RD_MAX_CH], tml_rd_mult[TML_RD_MAX_CH], tml_rd_shift[TML_RD_MAX_CH];
static int8_t tml_rd_packed[2 * TML_RD_BYTES] __attribute__((aligned(4))); /* int16 layout: twice the bytes */
static int32_t tml_rd_folded[TML_RD_MAX_CH];
static uint8_t tml_rd_scratch_fast[TML_RD_SCRATCH], tml_rd_scratch_ref[TML_RD_SCRATCH];

/* Both output buffers start with the same junk, so bytes a kernel does not write compare equal only if neither
 * side writes them. */
static void tml_rd_prepare_outputs(tml_rd_rng *r)
{
    const uint8_t junk = (uint8_t)tml_rd_next(r);
    memset(tml_rd_out_fast, junk, sizeof tml_rd_out_fast);
    memset(tml_rd_out_ref, junk, sizeof tml_rd_out_ref);
}

static void tml_rd_record(tml_ref_diff_result *res, const char *kernel, int status_fast, int status_ref,
                          int32_t out_bytes)
{
    const int same = status_fast == status_ref &&
                     memcmp(tml_rd_out_fast, tml_rd_out_ref, (size_t)out_bytes + TML_RD_GUARD) == 0;
    if (!same && res->mismatches++ == 0) {
        res->first_kernel = kernel;
        res->first_case = res->cases;
    }
    res->ok_cases += status_fast == TML_OK && status_ref == TML_OK;
    res->cases++;
}

/* Scratch of one side: NULL when it asks for none, else a buffer (a request beyond it fails the case). */
static void *tml_rd_scratch(uint8_t *buffer, int32_t bytes, int *too_big)
{
    if (bytes < 0 || bytes > TML_RD_SCRATCH) {
        *too_big = 1;
        return NULL;
    }
    memset(buffer, 0xA5, (size_t)bytes);
    return bytes == 0 ? NULL : buffer;
}

static void tml_rd_per_channel(tml_rd_rng *r, int32_t channels, int with_bias)
{
    for (int32_t c = 0; c < channels; c++) {
        tml_rd_scale(r, &tml_rd_mult[c], &tml_rd_shift[c]);
        tml_rd_bias[c] = with_bias ? tml_rd_int(r, -40000, 40000) : 0;
    }
}

/*
 * An in-place stem (docs/patches.md) writes output row y over input rows that no output row from y on reads: the
 * input starts `shift` bytes after the output, the least that keeps output rows 0..y below input row
 * max(0, y * stride - pad) for every y. tml_rd_place_input copies tml_rd_in there (batch 1) and returns the shift;
 * tml_rd_record_in_place then compares the output the kernel wrote at tml_rd_overlap with the reference's, which
 * is still in tml_rd_out_ref (status_ref), through tml_rd_out_fast's first bytes.
 */
static int8_t tml_rd_overlap[2 * TML_RD_BYTES];

static int32_t tml_rd_in_place_shift(const tml_dims *in, const tml_dims *out, int32_t stride, int32_t pad)
{
    const int32_t in_row = in->w * in->c, out_row = out->w * out->c;
    int32_t shift = 0;
    for (int32_t y = 0; y < out->h; y++) {
        const int32_t first = y * stride - pad;
        const int32_t need = (y + 1) * out_row - (first > 0 ? first : 0) * in_row;
        shift = need > shift ? need : shift;
    }
    return shift;
}

static int32_t tml_rd_place_input(const tml_dims *in, const tml_dims *out, int32_t stride, int32_t pad)
{
    const int32_t shift = tml_rd_in_place_shift(in, out, stride, pad);
    memset(tml_rd_overlap, 0x3C, sizeof tml_rd_overlap);
    memcpy(tml_rd_overlap + shift, tml_rd_in, (size_t)(in->h * in->w * in->c));
    return shift;
}

static void tml_rd_record_in_place(tml_ref_diff_result *res, const char *kernel, int status_fast, int status_ref,
                                   const tml_dims *out)
{
    const int32_t out_bytes = out->h * out->w * out->c;
    memcpy(tml_rd_out_fast, tml_rd_out_ref, (size_t)out_bytes + TML_RD_GUARD);
    memcpy(tml_rd_out_fast, tml_rd_overlap, (size_t)out_bytes);
    tml_rd_record(res, kernel, status_fast, status_ref, out_bytes);
}

static void tml_rd_conv(tml_rd_rng *r, tml_ref_diff_result *res)
{
    tml_conv_params p;
    const int32_t groups = tml_rd_int(r, 1, 3) == 1 ? 2 : 1;
    const int32_t f_c = tml_rd_int(r, 1, 12);
    const int32_t fpg = tml_rd_int(r, 1, 9);
    tml_dims in = {tml_rd_int(r, 1, 2), tml_rd_int(r, 1, 10), tml_rd_int(r, 1, 10), f_c * groups};
    tml_dims f = {fpg * groups, tml_rd_int(r, 1, 4), tml_rd_int(r, 1, 4), f_c};
    if (tml_rd_int(r, 0, 3) == 0) {
        f.h = f.w = 1; /* 1x1, the most common conv */
    }
    if (groups == 1 && tml_rd_int(r, 0, 3) == 0) {
        /* A stem: one to three channels, a window up to micro_speech's 10 x 8 or 3 x 3 on three channels, an input
         * up to 20 x 20 (the packed conv's whole-row copies, one pass per row for rows of 8 or 9 bytes, and its
         * clipped windows). */
        in.c = f.c = tml_rd_int(r, 1, 3);
        in.h = tml_rd_int(r, 1, 20);
        in.w = tml_rd_int(r, 1, 20);
        f.h = tml_rd_int(r, 1, 10);
        f.w = tml_rd_int(r, 1, 8);
        if (tml_rd_int(r, 0, 2) == 0) {
            in.c = f.c = f.h = f.w = 3; /* an RGB stem: 9-byte window rows */
        }
    }
    p.stride_h = tml_rd_int(r, 1, 3);
    p.stride_w = tml_rd_int(r, 1, 3);
    p.dilation_h = tml_rd_int(r, 0, 3) == 0 ? tml_rd_int(r, 2, 3) : 1;
    p.dilation_w = tml_rd_int(r, 0, 3) == 0 ? tml_rd_int(r, 2, 3) : 1;
    tml_dims out = {in.n, tml_rd_axis(r, in.h, f.h, p.stride_h, p.dilation_h, &p.pad_h),
                    tml_rd_axis(r, in.w, f.w, p.stride_w, p.dilation_w, &p.pad_w), f.n};
    if (out.h == 0 || out.w == 0 || out.n * out.h * out.w * out.c > TML_RD_BYTES) {
        return;
    }
    p.input_offset = tml_rd_int(r, -127, 128);
    p.output_offset = tml_rd_int(r, -128, 127);
    tml_rd_activation(r, &p.activation_min, &p.activation_max);
    const int with_bias = tml_rd_int(r, 0, 4) != 0;
    tml_rd_per_channel(r, f.n, with_bias);
    tml_rd_fill(r, tml_rd_in, in.n * in.h * in.w * in.c);
    tml_rd_fill(r, tml_rd_filter, f.n * f.h * f.w * f.c);
    const tml_per_channel_quant q = {tml_rd_mult, tml_rd_shift};
    int too_big = 0;
    void *sf = tml_rd_scratch(tml_rd_scratch_fast, tml_conv_s8_get_buffer_size(&p, &in, &f, &out), &too_big);
    void *sr = tml_rd_scratch(tml_rd_scratch_ref, tml_ref_conv_s8_get_buffer_size(&p, &in, &f, &out), &too_big);
    if (tml_rd_int(r, 0, 3) == 0) {
        sf = NULL; /* a plan made for the host: DSP cores must take a path that needs no scratch */
    }
    tml_rd_prepare_outputs(r);
    const int32_t *bias = with_bias ? tml_rd_bias : NULL;
    const int a = too_big ? -100 : tml_conv_s8(&p, &q, &in, tml_rd_in, &f, tml_rd_filter, bias, &out, tml_rd_out_fast, sf);
    const int b = tml_ref_conv_s8(&p, &q, &in, tml_rd_in, &f, tml_rd_filter, bias, &out, tml_rd_out_ref, sr);
    tml_rd_record(res, "conv_s8", a, b, out.n * out.h * out.w * out.c);
    if (groups == 1) {
        /* The packed conv (im2col rows, build-time layout, any of them) against the reference's plain conv. */
        const int32_t taps = f.h * f.w * f.c;
        const int32_t chunk = tml_test_chunks[tml_rd_next(r) % 3u];
        tml_test_pack(tml_rd_filter, f.n, taps, chunk, tml_rd_packed);
        tml_test_fold_bias(tml_rd_filter, bias, f.n, taps, p.input_offset, tml_rd_folded);
        const tml_conv_packed_params pp = {p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_h, p.pad_w,
                                           -p.input_offset, p.output_offset, p.activation_min, p.activation_max, chunk};
        void *sp = tml_rd_scratch(tml_rd_scratch_fast, tml_conv_s8_packed_get_buffer_size(&pp, &in, &f, &out), &too_big);
        tml_rd_prepare_outputs(r);
        const int c = too_big ? -100 : tml_conv_s8_packed(&pp, &q, &in, tml_rd_in, &f, tml_rd_packed, tml_rd_folded, &out, tml_rd_out_fast, sp);
        const int d = tml_ref_conv_s8(&p, &q, &in, tml_rd_in, &f, tml_rd_filter, bias, &out, tml_rd_out_ref, sr);
        tml_rd_record(res, chunk == TML_PACKED_CHUNK_WORD     ? "conv_s8_packed chunk 4"
                           : chunk == TML_PACKED_CHUNK_VECTOR ? "conv_s8_packed chunk 16"
                                                              : "conv_s8_packed int16 words",
                      c, d, out.n * out.h * out.w * out.c);
        if (in.n == 1 && !too_big) {
            /* In place, as an in-place stem runs (docs/patches.md): the output written over its own input. */
            int32_t shift = tml_rd_place_input(&in, &out, p.stride_h, p.pad_h);
            const int e = tml_conv_s8_packed(&pp, &q, &in, tml_rd_overlap + shift, &f, tml_rd_packed, tml_rd_folded, &out,
                                             tml_rd_overlap, sp);
            tml_rd_record_in_place(res, "conv_s8_packed in place", e, d, &out);
            /* The portable loop (tml_conv_s8_float_requant's too) in place. tml_conv_s8's DSP paths run a filter pair
             * over every pixel first, so the compiler never writes their output over their input. */
            shift = tml_rd_place_input(&in, &out, p.stride_h, p.pad_h);
            const int g = tml_ref_conv_s8(&p, &q, &in, tml_rd_overlap + shift, &f, tml_rd_filter, bias, &out, tml_rd_overlap, sr);
            tml_rd_record_in_place(res, "portable conv loop in place", g, d, &out);
        }
    }
}

static void tml_rd_depthwise(tml_rd_rng *r, tml_ref_diff_result *res, int inplace)
{
    tml_depthwise_conv_params p;
    /* Multipliers 1 and 4 or 8 take the DSP path, 2 and 3 do not. */
    p.depth_multiplier = inplace ? 1 : (tml_rd_int(r, 0, 3) == 0 ? 4 * tml_rd_int(r, 1, 2) : tml_rd_int(r, 1, 3));
    /* One input channel: a quarter of the copying cases (the compiler lowers these as convolutions). */
    int32_t in_c = !inplace && tml_rd_int(r, 0, 3) == 0
                             ? 1
                             : tml_rd_int(r, 1, TML_RD_MAX_CH / p.depth_multiplier < 20 ? TML_RD_MAX_CH / p.depth_multiplier : 20);
    tml_dims in = {tml_rd_int(r, 1, 2), tml_rd_int(r, 1, 12), tml_rd_int(r, 1, 12), in_c};
    const int tall = inplace && tml_rd_int(r, 0, 1) == 0;
    if (tall) {
        /* Tall and narrow, 4 or more channels: the DSP path's ring of padded rows fits in the planned scratch (one
         * channel plane) only when the plane has many rows. */
        in.h = tml_rd_int(r, 13, 40);
        in.w = tml_rd_int(r, 1, 8);
        const int32_t most = TML_RD_BYTES / (in.n * in.h * in.w);
        in.c = in_c = tml_rd_int(r, 4, most < 24 ? most : 24);
    }
    tml_dims f = {1, tml_rd_int(r, 1, 5), tml_rd_int(r, 1, 5), in_c * p.depth_multiplier};
    if (tml_rd_int(r, 0, 2) == 0) {
        f.h = f.w = 3;
    }
    p.stride_h = tml_rd_int(r, 1, 3);
    p.stride_w = tml_rd_int(r, 1, 3);
    p.dilation_h = tml_rd_int(r, 0, 3) == 0 ? tml_rd_int(r, 2, 3) : 1;
    p.dilation_w = tml_rd_int(r, 0, 3) == 0 ? tml_rd_int(r, 2, 3) : 1;
    if (tall && tml_rd_int(r, 0, 1) == 0) {
        f.h = f.w = 3; /* the DSP path's unrolled filter */
        p.dilation_w = 1;
    }
    tml_dims out = {in.n, tml_rd_axis(r, in.h, f.h, p.stride_h, p.dilation_h, &p.pad_h),
                    tml_rd_axis(r, in.w, f.w, p.stride_w, p.dilation_w, &p.pad_w), f.c};
    if (out.h == 0 || out.w == 0) {
        return;
    }
    const int32_t in_bytes = in.n * in.h * in.w * in.c;
    const int32_t out_bytes = out.n * out.h * out.w * out.c;
    if (out_bytes > TML_RD_BYTES || (inplace && out_bytes > in_bytes)) {
        return; /* too large for the buffers; in place, the output must fit in the input's buffer */
    }
    p.input_offset = tml_rd_int(r, -127, 128);
    p.output_offset = tml_rd_int(r, -128, 127);
    tml_rd_activation(r, &p.activation_min, &p.activation_max);
    const int with_bias = tml_rd_int(r, 0, 4) != 0;
    tml_rd_per_channel(r, f.c, with_bias);
    tml_rd_fill(r, tml_rd_in, in_bytes);
    tml_rd_fill(r, tml_rd_filter, f.h * f.w * f.c);
    const tml_per_channel_quant q = {tml_rd_mult, tml_rd_shift};
    const int32_t *bias = with_bias ? tml_rd_bias : NULL;
    int too_big = 0;
    tml_rd_prepare_outputs(r);
    int a, b;
    if (inplace) {
        void *sf = tml_rd_scratch(tml_rd_scratch_fast, tml_depthwise_conv_s8_inplace_get_buffer_size(&p, &in, &f, &out), &too_big);
        void *sr = tml_rd_scratch(tml_rd_scratch_ref, tml_ref_depthwise_conv_s8_inplace_get_buffer_size(&p, &in, &f, &out), &too_big);
        /* The output overwrites the input: each side runs on its own copy in its output buffer. */
        memcpy(tml_rd_out_fast, tml_rd_in, (size_t)in_bytes);
        memcpy(tml_rd_out_ref, tml_rd_in, (size_t)in_bytes);
        a = too_big ? -100 : tml_depthwise_conv_s8_inplace(&p, &q, &in, tml_rd_out_fast, &f, tml_rd_filter, bias, &out, tml_rd_out_fast, sf);
        b = tml_ref_depthwise_conv_s8_inplace(&p, &q, &in, tml_rd_out_ref, &f, tml_rd_filter, bias, &out, tml_rd_out_ref, sr);
        tml_rd_record(res, "depthwise_conv_s8_inplace", a, b, in_bytes);
    } else {
        void *sf = tml_rd_scratch(tml_rd_scratch_fast, tml_depthwise_conv_s8_get_buffer_size(&p, &in, &f, &out), &too_big);
        void *sr = tml_rd_scratch(tml_rd_scratch_ref, tml_ref_depthwise_conv_s8_get_buffer_size(&p, &in, &f, &out), &too_big);
        a = too_big ? -100 : tml_depthwise_conv_s8(&p, &q, &in, tml_rd_in, &f, tml_rd_filter, bias, &out, tml_rd_out_fast, sf);
        b = tml_ref_depthwise_conv_s8(&p, &q, &in, tml_rd_in, &f, tml_rd_filter, bias, &out, tml_rd_out_ref, sr);
        tml_rd_record(res, "depthwise_conv_s8", a, b, out_bytes);
    }
}

static void tml_rd_fully_connected(tml_rd_rng *r, tml_ref_diff_result *res)
{
    tml_fully_connected_params p;
    const int32_t batches = tml_rd_int(r, 1, 4);
    const int32_t depth = tml_rd_int(r, 1, 70);
    const int32_t units = tml_rd_int(r, 1, TML_RD_MAX_CH);
    if (batches * depth > TML_RD_BYTES || units * depth > TML_RD_BYTES) {
        return;
    }
    p.per_channel = (int32_t)(tml_rd_next(r) & 1u);
    p.input_offset = tml_rd_int(r, -127, 128);
    p.filter_offset = tml_rd_int(r, 0, 3) == 0 ? tml_rd_int(r, -5, 5) : 0;
    p.output_offset = tml_rd_int(r, -128, 127);
    tml_rd_activation(r, &p.activation_min, &p.activation_max);
    const int with_bias = tml_rd_int(r, 0, 4) != 0;
    tml_rd_per_channel(r, units, with_bias);
    tml_rd_fill(r, tml_rd_in, batches * depth);
    tml_rd_fill(r, tml_rd_filter, units * depth);
    const tml_per_channel_quant q = {tml_rd_mult, tml_rd_shift};
    const int32_t *bias = with_bias ? tml_rd_bias : NULL;
    int too_big = 0;
    void *sf = tml_rd_scratch(tml_rd_scratch_fast, tml_fully_connected_s8_get_buffer_size(&p, batches, depth, units), &too_big);
    void *sr = tml_rd_scratch(tml_rd_scratch_ref, tml_ref_fully_connected_s8_get_buffer_size(&p, batches, depth, units), &too_big);
    tml_rd_prepare_outputs(r);
    const int a = too_big ? -100 : tml_fully_connected_s8(&p, &q, batches, depth, units, tml_rd_in, tml_rd_filter, bias, tml_rd_out_fast, sf);
    const int b = tml_ref_fully_connected_s8(&p, &q, batches, depth, units, tml_rd_in, tml_rd_filter, bias, tml_rd_out_ref, sr);
    tml_rd_record(res, "fully_connected_s8", a, b, batches * units);
    if (p.per_channel || p.filter_offset == 0) {
        /* The packed kernel on a build-time layout (any of them) against the reference on the plain one. */
        const int32_t chunk = tml_test_chunks[tml_rd_next(r) % 3u];
        tml_test_pack(tml_rd_filter, units, depth, chunk, tml_rd_packed);
        tml_test_fold_bias(tml_rd_filter, bias, units, depth, p.input_offset, tml_rd_folded);
        const tml_fully_connected_packed_params packed = tml_test_packed_params(&p, chunk);
        tml_rd_prepare_outputs(r);
        const int c = tml_fully_connected_s8_packed(&packed, &q, batches, depth, units, tml_rd_in, tml_rd_packed, tml_rd_folded, tml_rd_out_fast, NULL);
        const int d = tml_ref_fully_connected_s8(&p, &q, batches, depth, units, tml_rd_in, tml_rd_filter, bias, tml_rd_out_ref, sr);
        tml_rd_record(res, chunk == TML_PACKED_CHUNK_WORD     ? "fully_connected_s8_packed chunk 4"
                           : chunk == TML_PACKED_CHUNK_VECTOR ? "fully_connected_s8_packed chunk 16"
                                                              : "fully_connected_s8_packed int16 words",
                      c, d, batches * units);
    }
}

static void tml_rd_pool(tml_rd_rng *r, tml_ref_diff_result *res, int is_max)
{
    tml_pool_params p;
    tml_dims in = {tml_rd_int(r, 1, 2), tml_rd_int(r, 1, 12), tml_rd_int(r, 1, 12), tml_rd_int(r, 1, 20)};
    p.filter_h = tml_rd_int(r, 1, 4);
    p.filter_w = tml_rd_int(r, 1, 4);
    p.stride_h = tml_rd_int(r, 1, 3);
    p.stride_w = tml_rd_int(r, 1, 3);
    tml_dims out = {in.n, tml_rd_axis(r, in.h, p.filter_h, p.stride_h, 1, &p.pad_h),
                    tml_rd_axis(r, in.w, p.filter_w, p.stride_w, 1, &p.pad_w), in.c};
    if (out.h == 0 || out.w == 0) {
        return;
    }
    tml_rd_activation(r, &p.activation_min, &p.activation_max);
    tml_rd_fill(r, tml_rd_in, in.n * in.h * in.w * in.c);
    tml_rd_prepare_outputs(r);
    int a, b;
    if (is_max) {
        a = tml_max_pool_s8(&p, &in, tml_rd_in, &out, tml_rd_out_fast);
        b = tml_ref_max_pool_s8(&p, &in, tml_rd_in, &out, tml_rd_out_ref);
    } else {
        int too_big = 0;
        void *sf = tml_rd_scratch(tml_rd_scratch_fast, tml_avg_pool_s8_get_buffer_size(&p, &in, &out), &too_big);
        void *sr = tml_rd_scratch(tml_rd_scratch_ref, tml_ref_avg_pool_s8_get_buffer_size(&p, &in, &out), &too_big);
        a = too_big ? -100 : tml_avg_pool_s8(&p, &in, tml_rd_in, &out, tml_rd_out_fast, sf);
        b = tml_ref_avg_pool_s8(&p, &in, tml_rd_in, &out, tml_rd_out_ref, sr);
    }
    tml_rd_record(res, is_max ? "max_pool_s8" : "avg_pool_s8", a, b, out.n * out.h * out.w * out.c);
}

/* A broadcast shape of rank 1..4: each input dimension is the output's or (sometimes) 1. */
static int32_t tml_rd_broadcast(tml_rd_rng *r, tml_broadcast_shape *s, int32_t *n1, int32_t *n2)
{
    const int same = tml_rd_int(r, 0, 1) == 0;
    int32_t total = 1, st1 = 1, st2 = 1;
    memset(s, 0, sizeof *s);
    s->rank = tml_rd_int(r, 1, 4);
    for (int32_t d = s->rank - 1; d >= 0; d--) {
        s->output_dims[d] = tml_rd_int(r, 1, 9);
        total *= s->output_dims[d];
        const int b1 = !same && tml_rd_int(r, 0, 3) == 0;
        const int b2 = !same && !b1 && tml_rd_int(r, 0, 3) == 0;
        s->input1_strides[d] = b1 ? 0 : st1;
        s->input2_strides[d] = b2 ? 0 : st2;
        st1 *= b1 ? 1 : s->output_dims[d];
        st2 *= b2 ? 1 : s->output_dims[d];
    }
    *n1 = st1;
    *n2 = st2;
    return total;
}

/* ADD / SUB: TFLM's Prepare from random scales, with what the DSP fast form relies on pushed to its edges (equal
 * scales, input 2 the larger, input shifts 1..31, output shifts past 22, offsets at and past +-128 / 256, left
 * shifts other than 20, raw multipliers TFLM would not give), same-shape rows up to the whole buffer (the four-wide
 * loop and its 0..3 tail), often on consecutive input pairs, and unaligned inputs and output. */
static void tml_rd_add_sub(tml_rd_rng *r, tml_ref_diff_result *res, int op, tml_broadcast_shape *s, int32_t total)
{
    const int32_t kind = tml_rd_int(r, 0, 9);
    if (tml_rd_int(r, 0, 2) == 0) {
        memset(s, 0, sizeof *s);
        s->rank = 1;
        s->output_dims[0] = tml_rd_int(r, 1, TML_RD_BYTES - 3);
        s->input1_strides[0] = 1;
        s->input2_strides[0] = 1;
        total = s->output_dims[0];
        tml_rd_fill(r, tml_rd_in, total + 3);
        tml_rd_fill(r, tml_rd_in2, total + 3);
        if (tml_rd_int(r, 0, 1)) {
            /* A slice of all 65,536 input pairs: rounding ties are rare, this meets them. */
            const int32_t first = tml_rd_int(r, 0, 65535);
            for (int32_t i = 0; i < total + 3; i++) {
                tml_rd_in[i] = (int8_t)(uint8_t)(first + i);
                tml_rd_in2[i] = (int8_t)(uint8_t)((first + i) >> 8);
            }
        }
    }
    const int32_t skew = total <= TML_RD_BYTES - 3 && tml_rd_int(r, 0, 1) ? 1 : 0;
    const int32_t o1 = skew * tml_rd_int(r, 0, 3), o2 = skew * tml_rd_int(r, 0, 3), oy = skew * tml_rd_int(r, 0, 3);
    double s1 = ldexp(1.0 + (double)(tml_rd_next(r) % 1000u) / 1000.0, tml_rd_int(r, -8, -5));
    double s2 = ldexp(1.0 + (double)(tml_rd_next(r) % 1000u) / 1000.0, tml_rd_int(r, -8, -5));
    double so = ldexp(1.0 + (double)(tml_rd_next(r) % 1000u) / 1000.0, tml_rd_int(r, -7, -4));
    if (kind == 1) {
        s2 = s1; /* both at multiplier 1/2 */
    } else if (kind == 2) {
        s2 = ldexp(s1, -tml_rd_int(r, 1, 32)); /* the smaller input's shift down to -32 (rejected) */
    } else if (kind == 3) {
        so = ldexp(so, tml_rd_int(r, -16, 8)); /* output shift from > 0 (rejected) through 0 to -32 (rejected) */
    }
    if (tml_rd_int(r, 0, 1)) {
        const double t = s1; /* input 2 the larger as often as input 1 */
        s1 = s2;
        s2 = t;
    }
    const double twice_max = 2.0 * (s1 > s2 ? s1 : s2);
    tml_add_params p;
    p.input1_offset = tml_rd_int(r, -127, 128);
    p.input2_offset = tml_rd_int(r, -127, 128);
    p.output_offset = tml_rd_int(r, -128, 127);
    p.left_shift = 20;
    tml_rd_quantize(s1 / twice_max, &p.input1_quant.multiplier, &p.input1_quant.shift);
    tml_rd_quantize(s2 / twice_max, &p.input2_quant.multiplier, &p.input2_quant.shift);
    tml_rd_quantize(twice_max / (1048576.0 * so), &p.output_quant.multiplier, &p.output_quant.shift);
    tml_rd_activation(r, &p.activation_min, &p.activation_max);
    if (kind == 4) {
        static const int32_t edges[] = {-129, -128, -127, 127, 128, 129};
        p.input1_offset = edges[tml_rd_int(r, 0, 5)];
        p.input2_offset = edges[tml_rd_int(r, 0, 5)];
        p.output_offset = tml_rd_int(r, 0, 1) ? tml_rd_int(r, -300, 300) : edges[tml_rd_int(r, 0, 5)] * 2;
    } else if (kind == 5) {
        p.left_shift = tml_rd_int(r, 0, 22);
    } else if (kind == 6) {
        tml_quant *q = tml_rd_int(r, 0, 1) ? &p.input1_quant : &p.input2_quant;
        q->multiplier = (int32_t)(tml_rd_next(r) >> 1);
        q->shift = -tml_rd_int(r, 0, 2);
    } else if (kind == 7) {
        /* Any int8 bounds (beyond them the host SIMD path saturates where the reference's cast wraps). */
        p.activation_min = tml_rd_int(r, -128, 127);
        p.activation_max = tml_rd_int(r, p.activation_min, 127);
    }
    const int8_t *x1 = tml_rd_in + o1, *x2 = tml_rd_in2 + o2;
    int a, b;
    if (op == 0) {
        a = tml_add_s8(&p, s, x1, x2, tml_rd_out_fast + oy);
        b = tml_ref_add_s8(&p, s, x1, x2, tml_rd_out_ref + oy);
    } else {
        a = tml_sub_s8(&p, s, x1, x2, tml_rd_out_fast + oy);
        b = tml_ref_sub_s8(&p, s, x1, x2, tml_rd_out_ref + oy);
    }
    tml_rd_record(res, op == 0 ? "add_s8" : "sub_s8", a, b, total + oy);
}

static void tml_rd_add_mul(tml_rd_rng *r, tml_ref_diff_result *res, int op)
{
    tml_broadcast_shape s;
    int32_t n1, n2;
    if (op != 2) {
        for (int32_t k = 0; k < 4; k++) { /* four ADD / SUB cases a round: their rounding ties are rare */
            const int32_t total = tml_rd_broadcast(r, &s, &n1, &n2);
            tml_rd_fill(r, tml_rd_in, n1);
            tml_rd_fill(r, tml_rd_in2, n2);
            tml_rd_prepare_outputs(r);
            tml_rd_add_sub(r, res, op, &s, total);
        }
        return;
    }
    const int32_t total = tml_rd_broadcast(r, &s, &n1, &n2);
    tml_rd_fill(r, tml_rd_in, n1);
    tml_rd_fill(r, tml_rd_in2, n2);
    tml_rd_prepare_outputs(r);
    tml_mul_params p;
    p.input1_offset = tml_rd_int(r, -127, 128);
    p.input2_offset = tml_rd_int(r, -127, 128);
    p.output_offset = tml_rd_int(r, -128, 127);
    tml_rd_quantize(ldexp(1.0 + (double)(tml_rd_next(r) % 1000u) / 1000.0, tml_rd_int(r, -14, 1)),
                    &p.output_quant.multiplier, &p.output_quant.shift);
    tml_rd_activation(r, &p.activation_min, &p.activation_max);
    const int a = tml_mul_s8(&p, &s, tml_rd_in, tml_rd_in2, tml_rd_out_fast);
    const int b = tml_ref_mul_s8(&p, &s, tml_rd_in, tml_rd_in2, tml_rd_out_ref);
    tml_rd_record(res, "mul_s8", a, b, total);
}

static void tml_rd_softmax(tml_rd_rng *r, tml_ref_diff_result *res)
{
    /* PreprocessSoftmaxScaling(beta 1, input scale) and the input radius, as the compiler derives them. */
    tml_softmax_params p;
    const int32_t rows = tml_rd_int(r, 1, 5);
    const int32_t depth = tml_rd_int(r, 1, 200);
    double real = ldexp(1.0 + (double)(tml_rd_next(r) % 1000u) / 1000.0, tml_rd_int(r, -8, 1)) * 67108864.0;
    if (real > 2147483647.0) {
        real = 2147483647.0;
    }
    tml_rd_quantize(real, &p.input_multiplier, &p.input_left_shift);
    p.diff_min = -(int32_t)floor(31.0 * 67108864.0 / ldexp(1.0, p.input_left_shift));
    tml_rd_fill(r, tml_rd_in, rows * depth);
    tml_rd_prepare_outputs(r);
    const int a = tml_softmax_s8(&p, tml_rd_in, rows, depth, tml_rd_out_fast);
    const int b = tml_ref_softmax_s8(&p, tml_rd_in, rows, depth, tml_rd_out_ref);
    tml_rd_record(res, "softmax_s8", a, b, rows * depth);
}

/*
 * An 8x8 LSTM over 1-3 steps from random states: the output, then the output state and the cell state after the
 * steps, laid end to end in the output buffers. Gate scales as tml_rd_scale draws them; recurrent rows reach the DSP
 * path's stack copy of the stored state (hidden zero point != 0).
 */
static void tml_rd_lstm(tml_rd_rng *r, tml_ref_diff_result *res)
{
    tml_lstm_s8_params p;
    p.batches = tml_rd_int(r, 1, 2);
    p.time_steps = tml_rd_int(r, 1, 3);
    p.input_size = tml_rd_int(r, 1, 40);
    p.state_size = tml_rd_int(r, 1, 24);
    if (tml_rd_int(r, 0, 5) == 0) {
        p.input_size = tml_rd_int(r, 129, 200); /* past the DSP path's widened row */
        p.state_size = tml_rd_int(r, 1, 8);
    }
    p.time_major = tml_rd_int(r, 0, 1);
    p.input_zero_point = tml_rd_int(r, -128, 127);
    p.hidden_zero_point = tml_rd_int(r, -128, 127);
    for (int32_t g = 0; g < 4; g++) {
        tml_rd_scale(r, &p.input_multiplier[g], &p.input_shift[g]);
        tml_rd_scale(r, &p.recurrent_multiplier[g], &p.recurrent_shift[g]);
    }
    p.cell_gate_activation = tml_rd_int(r, 0, 1) ? TML_LSTM_GATE_SIGMOID : TML_LSTM_GATE_TANH;
    p.cell_scale_power = tml_rd_int(r, -20, 2);
    tml_rd_scale(r, &p.forget_multiplier, &p.forget_shift);
    tml_rd_scale(r, &p.input_gate_multiplier, &p.input_gate_shift);
    tml_rd_scale(r, &p.hidden_multiplier, &p.hidden_shift);
    p.use_cell_clip = tml_rd_int(r, 0, 1);
    p.quantized_cell_clip = tml_rd_int(r, 1, 32767);
    const int32_t in_bytes = p.batches * p.time_steps * p.input_size;
    const int32_t state = p.batches * p.state_size, out_bytes = p.time_steps * state;
    const int32_t x_weights = p.state_size * p.input_size, h_weights = p.state_size * p.state_size;
    static int32_t biases[4][24];
    const void *weights[8], *bias_of[4];
    for (int32_t g = 0; g < 4; g++) {
        weights[g] = tml_rd_filter + (size_t)g * x_weights;
        weights[4 + g] = tml_rd_filter + (size_t)4 * x_weights + (size_t)g * h_weights;
        bias_of[g] = biases[g];
        for (int32_t u = 0; u < p.state_size; u++) {
            biases[g][u] = tml_rd_int(r, -40000, 40000);
        }
    }
    tml_rd_fill(r, tml_rd_filter, 4 * (x_weights + h_weights));
    tml_rd_fill(r, tml_rd_in, in_bytes);
    tml_rd_fill(r, tml_rd_in2, 3 * state); /* the states both sides start from */
    tml_rd_prepare_outputs(r);
    int8_t *sides[2] = {tml_rd_out_fast, tml_rd_out_ref};
    int status[2];
    const int32_t cell_at = (out_bytes + state + 1) & ~1; /* int16 cell state, 2-byte aligned */
    for (int32_t side = 0; side < 2; side++) {
        int8_t *o = sides[side];
        memcpy(o + out_bytes, tml_rd_in2, (size_t)state);
        memcpy(o + cell_at, tml_rd_in2 + state, (size_t)state * 2);
        int16_t *scratch = (int16_t *)(void *)(side == 0 ? tml_rd_scratch_fast : tml_rd_scratch_ref);
        status[side] = (side == 0 ? tml_lstm_s8 : tml_ref_lstm_s8)(&p, tml_rd_in, weights, bias_of, o + out_bytes,
                                                                   (int16_t *)(void *)(o + cell_at), scratch, o);
    }
    tml_rd_record(res, "lstm_s8", status[0], status[1], cell_at + 2 * state);
}

/*
 * An SVDF step with an int16 state (int8 when state8) from a random state: the output, then the state after the
 * step, end to end in the output buffers. The int16 state's zero point is 0 in three cases of four (every int16-state
 * model: the DSP path's SMLAD time stage), else any int16.
 */
static void tml_rd_svdf(tml_rd_rng *r, tml_ref_diff_result *res, int state8)
{
    tml_svdf_params p;
    p.batches = tml_rd_int(r, 1, 2);
    p.input_size = tml_rd_int(r, 1, 40);
    p.rank = tml_rd_int(r, 1, 2);
    p.num_filters = p.rank * tml_rd_int(r, 1, 16);
    p.memory_size = tml_rd_int(r, 1, 12);
    p.input_zero_point = tml_rd_int(r, -128, 127);
    p.output_zero_point = tml_rd_int(r, -128, 127);
    p.state_zero_point = state8 ? tml_rd_int(r, -128, 127) : (tml_rd_int(r, 0, 3) == 0 ? tml_rd_int(r, -32768, 32767) : 0);
    tml_rd_scale(r, &p.multiplier_1, &p.shift_1);
    tml_rd_scale(r, &p.multiplier_2, &p.shift_2);
    const int32_t units = p.num_filters / p.rank, width = state8 ? 1 : 2;
    const int32_t out_bytes = p.batches * units;
    const int32_t state_bytes = p.batches * p.num_filters * p.memory_size * width;
    const int32_t state_at = (out_bytes + 1) & ~1;
    tml_rd_fill(r, tml_rd_in, p.batches * p.input_size);
    tml_rd_fill(r, tml_rd_filter, p.num_filters * p.input_size);
    tml_rd_fill(r, tml_rd_in2, p.num_filters * p.memory_size * width + state_bytes); /* time weights, then state */
    for (int32_t u = 0; u < units; u++) {
        tml_rd_bias[u] = tml_rd_int(r, -40000, 40000);
    }
    const int32_t *bias = tml_rd_int(r, 0, 4) != 0 ? tml_rd_bias : NULL;
    const int8_t *time = tml_rd_in2, *start = tml_rd_in2 + p.num_filters * p.memory_size * width;
    tml_rd_prepare_outputs(r);
    int8_t *sides[2] = {tml_rd_out_fast, tml_rd_out_ref};
    int status[2];
    for (int32_t side = 0; side < 2; side++) {
        int8_t *o = sides[side];
        int32_t *scratch = (int32_t *)(void *)(side == 0 ? tml_rd_scratch_fast : tml_rd_scratch_ref);
        memcpy(o + state_at, start, (size_t)state_bytes);
        if (state8) {
            status[side] = (side == 0 ? tml_svdf_s8_state_s8 : tml_ref_svdf_s8_state_s8)(
                &p, tml_rd_in, tml_rd_filter, time, bias, o + state_at, scratch, o);
        } else {
            status[side] = (side == 0 ? tml_svdf_s8 : tml_ref_svdf_s8)(&p, tml_rd_in, tml_rd_filter,
                                                                     (const int16_t *)(const void *)time, bias,
                                                                     (int16_t *)(void *)(o + state_at), scratch, o);
        }
    }
    tml_rd_record(res, state8 ? "svdf_s8_state_s8" : "svdf_s8", status[0], status[1], state_at + state_bytes);
}

/* Buffer sizes: inputs and filters are at most 2*12*12*24 and 18*4*4*12 bytes (below TML_RD_BYTES); outputs
 * that could exceed it are checked where they are drawn. */
typedef char tml_rd_buffers_fit[(2 * 12 * 12 * 24 <= TML_RD_BYTES && 18 * 4 * 4 * 12 <= TML_RD_BYTES) ? 1 : -1];
/* A stem conv's input (2 x 20 x 20 x 3) and filter (9 x 10 x 8 x 3); its in-place input fits the overlap too. */
typedef char tml_rd_stem_fits[(2 * 20 * 20 * 3 <= TML_RD_BYTES && 9 * 10 * 8 * 3 <= TML_RD_BYTES) ? 1 : -1];
/* An in-place conv's input (at most 10 x 10 x 24 bytes, batch 1) after its output (at most TML_RD_BYTES). */
typedef char tml_rd_overlap_fits[(TML_RD_BYTES + 10 * 10 * 24 <= 2 * TML_RD_BYTES) ? 1 : -1];

/* Runs `rounds` rounds; each calls every kernel once on fresh random shapes and parameters. */
static tml_ref_diff_result tml_ref_diff_run(uint32_t seed, uint32_t rounds)
{
    tml_ref_diff_result res = {0, 0, 0, "", 0};
    tml_rd_rng r = {seed != 0 ? seed : 1u};
    for (uint32_t i = 0; i < rounds; i++) {
        tml_rd_conv(&r, &res);
        tml_rd_depthwise(&r, &res, 0);
        tml_rd_depthwise(&r, &res, 1);
        tml_rd_fully_connected(&r, &res);
        tml_rd_pool(&r, &res, 0);
        tml_rd_pool(&r, &res, 1);
        tml_rd_add_mul(&r, &res, 0);
        tml_rd_add_mul(&r, &res, 1);
        tml_rd_add_mul(&r, &res, 2);
        tml_rd_softmax(&r, &res);
        tml_rd_lstm(&r, &res);
        tml_rd_svdf(&r, &res, 0);
        tml_rd_svdf(&r, &res, 1);
    }
    return res;
}

/* The comparison itself: a planted difference in one output byte, or in a guard byte, must count as a mismatch. */
static int tml_ref_diff_selftest(void)
{
    tml_ref_diff_result res = {0, 0, 0, "", 0};
    tml_rd_rng r = {7u};
    tml_rd_prepare_outputs(&r);
    tml_rd_record(&res, "identical", TML_OK, TML_OK, 100);
    tml_rd_out_fast[57] ^= 1;
    tml_rd_record(&res, "output byte", TML_OK, TML_OK, 100);
    tml_rd_out_fast[57] ^= 1;
    tml_rd_out_ref[100 + TML_RD_GUARD - 1] ^= 0x80;
    tml_rd_record(&res, "guard byte", TML_OK, TML_OK, 100);
    tml_rd_out_ref[100 + TML_RD_GUARD - 1] ^= 0x80;
    tml_rd_record(&res, "status", TML_OK, TML_ERROR_ARGUMENT, 100);
    return res.cases == 4 && res.mismatches == 3 && res.first_case == 1;
}

#endif /* TML_REF_DIFF_H */
