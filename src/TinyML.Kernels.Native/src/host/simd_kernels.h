/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simd_kernels.h (internal): the host kernels, written once on the vector layer of host_simd.h and compiled once
 * per path by host/x86_avx2.c, host/x86_sse41.c and host/arm64_neon.c (TML_SIMD_NAME gives each its names).
 *
 * Every sum is the portable kernel's int32 sum, wrapping the same (the order of a wrapping sum does not change it),
 * and the requantization is TFLM's MultiplyByQuantizedMultiplier, so the bytes are the portable ones.
 */
#ifndef TML_SIMD_KERNELS_H
#define TML_SIMD_KERNELS_H

#include <float.h>

#include "host_path.h"
#include "host_simd.h"

#define TML_SIMD_LANES 8
#define TML_SIMD_PACKED_ROWS 4 /* rows per packed group (TML_PACKED_ROWS in fully_connected_packed.c) */

/* Eight requantizations, TFLM's MultiplyByQuantizedMultiplier with a left shift before the high multiply and a
 * rounding right shift after it; lanes not in use get a multiplier of 0 (their results are not stored). */
typedef struct {
    tml_v multiplier, left, right;
    int32_t m[TML_SIMD_LANES], l[TML_SIMD_LANES], r[TML_SIMD_LANES];
} tml_simd_requant;

TML_V void TML_SIMD_NAME(requant_lane)(tml_simd_requant *q, int32_t j, int32_t multiplier, int32_t left, int32_t right)
{
    q->m[j] = multiplier;
    q->l[j] = left;
    q->r[j] = right;
}

TML_V void TML_SIMD_NAME(requant_load)(tml_simd_requant *q)
{
    q->multiplier = tml_v_load(q->m);
    q->left = tml_v_load(q->l);
    q->right = tml_v_load(q->r);
}

TML_V tml_v TML_SIMD_NAME(requant)(const tml_simd_requant *q, tml_v x)
{
#if TML_V_HAS_REQUANT
    return tml_v_requant(x, q->multiplier, q->left, q->right);
#else
    int32_t lanes[TML_SIMD_LANES];
    tml_v_store(lanes, x);
    for (int32_t j = 0; j < TML_SIMD_LANES; j++) {
        lanes[j] = tml_rounding_divide_by_pot(tml_sat_rounding_doubling_high_mul(tml_shl_wrap(lanes[j], q->l[j]), q->m[j]),
                                              q->r[j]);
    }
    return tml_v_load(lanes);
#endif
}

/* The output stage of eight channels: requantization, offset, clamp. */
typedef struct {
    tml_simd_requant q;
    tml_v offset, min, max;
} tml_simd_out;

/* 1 when every multiplier and shift suits tml_v_requant (and TFLM's arithmetic): no INT32_MIN multiplier (the one
 * saturating high multiply), shifts in [-31, 31]. */
static int TML_SIMD_NAME(quant_ok)(const int32_t *multiplier, const int32_t *shift, int32_t count)
{
    for (int32_t i = 0; i < count; i++) {
        if (multiplier[i] == INT32_MIN || shift[i] < -31 || shift[i] > 31) {
            return 0;
        }
    }
    return 1;
}

/* Channels [first, first + count) of a per-channel quantization (or its one entry when !per_channel). */
TML_V void TML_SIMD_NAME(out_prepare)(tml_simd_out *o, const tml_per_channel_quant *quant, int per_channel,
                                      int32_t first, int32_t count, int32_t offset, int32_t min, int32_t max)
{
    for (int32_t j = 0; j < TML_SIMD_LANES; j++) {
        const int32_t q = per_channel ? first + j : 0;
        const int32_t shift = j < count ? quant->shift[q] : 0;
        TML_SIMD_NAME(requant_lane)(&o->q, j, j < count ? quant->multiplier[q] : 0, shift > 0 ? shift : 0,
                                    shift > 0 ? 0 : -shift);
    }
    TML_SIMD_NAME(requant_load)(&o->q);
    o->offset = tml_v_set1(offset);
    o->min = tml_v_set1(min);
    o->max = tml_v_set1(max);
}

TML_V tml_v TML_SIMD_NAME(out_apply)(const tml_simd_out *o, tml_v acc)
{
    acc = TML_SIMD_NAME(requant)(&o->q, acc);
    return tml_v_min(tml_v_max(tml_v_add(acc, o->offset), o->min), o->max);
}

/* Stores the first count (4 or 8) int8 lanes. */
TML_V void TML_SIMD_NAME(store_s8)(int8_t *p, tml_v v, int32_t count)
{
    if (count == TML_SIMD_LANES) {
        tml_v_store_s8(p, v);
        return;
    }
    int8_t bytes[TML_SIMD_LANES];
    tml_v_store_s8(bytes, v);
    memcpy(p, bytes, (size_t)count);
}

/*
 * R activation rows (R = 1, 2 or 4: rows > 2 means 4) times one or two packed groups of four weight rows (ga, and gb when two):
 * each step of four depth elements widens the group's 16 weights once and each row's four activations once
 * (repeated across the four weight rows), and one int16 multiply-add per group and row sums two products per lane;
 * with dot-product instructions, one of them per group and row takes the 16 int8 products. R and two are constants
 * at each call.
 */
TML_V void TML_SIMD_NAME(packed_block)(const int8_t *ga, const int8_t *gb, int two, const int8_t *x, int32_t rows,
                                       int32_t depth, tml_v bias, const tml_simd_out *o, int8_t *y, int32_t units)
{
    const int32_t depth4 = depth & ~3;
    /* Named accumulators, not arrays: GCC keeps these in registers (the arrays it kept in memory). */
    const tml_v zero = tml_v_set1(0);
    const int8_t *x1 = x + depth, *x2 = x + 2 * (size_t)depth, *x3 = x + 3 * (size_t)depth;
#if TML_V_HAS_DOT
    /* One dot-product instruction per group and row: lanes 0-3 are group A's rows, 4-7 group B's. */
    tml_v s0 = zero, s1 = zero, s2 = zero, s3 = zero;
    for (int32_t k = 0; k < depth4; k += 4) {
        const int8_t *wa = ga + 4 * k, *wb = two ? gb + 4 * k : NULL;
        s0 = tml_v_dot_s8(s0, wa, wb, x + k);
        if (rows > 1) {
            s1 = tml_v_dot_s8(s1, wa, wb, x1 + k);
        }
        if (rows > 2) {
            s2 = tml_v_dot_s8(s2, wa, wb, x2 + k);
            s3 = tml_v_dot_s8(s3, wa, wb, x3 + k);
        }
    }
    const tml_v sums[4] = {s0, s1, s2, s3};
#else
    tml_v a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    for (int32_t k = 0; k < depth4; k += 4) {
        const tml_v wa = tml_v_s8x16(ga + 4 * k);
        const tml_v wb = two ? tml_v_s8x16(gb + 4 * k) : zero;
        const tml_v r0 = tml_v_s8x4_repeat(x + k);
        a0 = tml_v_add(a0, tml_v_madd16(wa, r0));
        b0 = two ? tml_v_add(b0, tml_v_madd16(wb, r0)) : b0;
        if (rows > 1) {
            const tml_v r1 = tml_v_s8x4_repeat(x1 + k);
            a1 = tml_v_add(a1, tml_v_madd16(wa, r1));
            b1 = two ? tml_v_add(b1, tml_v_madd16(wb, r1)) : b1;
        }
        if (rows > 2) {
            const tml_v r2 = tml_v_s8x4_repeat(x2 + k), r3 = tml_v_s8x4_repeat(x3 + k);
            a2 = tml_v_add(a2, tml_v_madd16(wa, r2));
            b2 = two ? tml_v_add(b2, tml_v_madd16(wb, r2)) : b2;
            a3 = tml_v_add(a3, tml_v_madd16(wa, r3));
            b3 = two ? tml_v_add(b3, tml_v_madd16(wb, r3)) : b3;
        }
    }
    /* The adjacent-lane sums give each weight row's dot product. */
    const tml_v sums[4] = {tml_v_pairsum(a0, b0), tml_v_pairsum(a1, b1), tml_v_pairsum(a2, b2), tml_v_pairsum(a3, b3)};
#endif
    const int32_t count = two ? 8 : 4;
    for (int32_t r = 0; r < rows; r++) {
        tml_v sum = tml_v_add(sums[r], bias);
        if (depth4 != depth) {
            /* The depth's last (depth & 3) elements: one byte per weight row per element after the group's words. */
            int32_t lanes[TML_SIMD_LANES];
            tml_v_store(lanes, sum);
            const int8_t *xr = x + (size_t)r * depth;
            for (int32_t k = depth4; k < depth; k++) {
                for (int32_t j = 0; j < TML_SIMD_PACKED_ROWS; j++) {
                    lanes[j] += ga[(size_t)depth4 * 4 + (k - depth4) * 4 + j] * xr[k];
                    if (two) {
                        lanes[4 + j] += gb[(size_t)depth4 * 4 + (k - depth4) * 4 + j] * xr[k];
                    }
                }
            }
            sum = tml_v_load(lanes);
        }
        TML_SIMD_NAME(store_s8)(y + (size_t)r * units, TML_SIMD_NAME(out_apply)(o, sum), count);
    }
}

/* Units [o, o + 4) (!two) or [o, o + 8) for every row: blocks of four rows, then two, then one. bias: the units'
 * biases or NULL. */
TML_V void TML_SIMD_NAME(packed_units)(const int8_t *ga, const int8_t *gb, int two, const int8_t *input,
                                       int32_t rows, int32_t depth, const int32_t *bias, const tml_simd_out *o,
                                       int8_t *output, int32_t units)
{
    int32_t lanes[TML_SIMD_LANES] = {0};
    for (int32_t j = 0; j < (two ? 8 : 4) && bias != NULL; j++) {
        lanes[j] = bias[j];
    }
    const tml_v b8 = tml_v_load(lanes);
    int32_t b = 0;
    for (; b + 4 <= rows; b += 4) {
        TML_SIMD_NAME(packed_block)(ga, gb, two, input + (size_t)b * depth, 4, depth, b8, o, output + (size_t)b * units, units);
    }
    if (b + 2 <= rows) {
        TML_SIMD_NAME(packed_block)(ga, gb, two, input + (size_t)b * depth, 2, depth, b8, o, output + (size_t)b * units, units);
        b += 2;
    }
    if (b < rows) {
        TML_SIMD_NAME(packed_block)(ga, gb, two, input + (size_t)b * depth, 1, depth, b8, o, output + (size_t)b * units, units);
    }
}

/* The int8 kernels' clamp bounds within int8: tml_v_store_s8 saturates, where the portable code narrows a clamped
 * value outside int8 by wrapping (as TFLM's cast does); such bounds are left to it. */
TML_V int TML_SIMD_NAME(s8_range_ok)(int32_t lo, int32_t hi)
{
    return lo >= INT8_MIN && hi <= INT8_MAX;
}

int TML_SIMD_NAME(tml_host_packed_rows)(TML_HOST_PACKED_ROWS_ARGS)
{
    if (p->chunk != TML_PACKED_CHUNK_WORD || !TML_SIMD_NAME(s8_range_ok)(p->activation_min, p->activation_max) || !TML_SIMD_NAME(quant_ok)(quant->multiplier, quant->shift, p->per_channel ? units : 1)) {
        return 0;
    }
    const int per_channel = p->per_channel;
    int32_t o = 0;
    for (; o + TML_SIMD_LANES <= units; o += TML_SIMD_LANES) {
        tml_simd_out out;
        TML_SIMD_NAME(out_prepare)(&out, quant, per_channel, o, 8, p->output_offset, p->activation_min, p->activation_max);
        const int8_t *ga = filter + (size_t)o * depth;
        TML_SIMD_NAME(packed_units)(ga, ga + (size_t)4 * depth, 1, input, rows, depth, bias != NULL ? bias + o : NULL,
                                    &out, output + o, units);
    }
    if (o + TML_SIMD_PACKED_ROWS <= units) {
        tml_simd_out out;
        TML_SIMD_NAME(out_prepare)(&out, quant, per_channel, o, 4, p->output_offset, p->activation_min, p->activation_max);
        TML_SIMD_NAME(packed_units)(filter + (size_t)o * depth, NULL, 0, input, rows, depth, bias != NULL ? bias + o : NULL,
                                    &out, output + o, units);
        o += TML_SIMD_PACKED_ROWS;
    }
    /* The last units % 4 rows, stored plainly. */
    for (; o < units; o++) {
        const int8_t *w = filter + (size_t)o * depth;
        const int32_t q = per_channel ? o : 0;
        for (int32_t b = 0; b < rows; b++) {
            const int8_t *x = input + (size_t)b * depth;
            int32_t acc = bias != NULL ? bias[o] : 0;
            for (int32_t k = 0; k < depth; k++) {
                acc += w[k] * x[k];
            }
            acc = tml_mul_by_quantized_multiplier(acc, quant->multiplier[q], quant->shift[q]) + p->output_offset;
            output[(size_t)b * units + o] = (int8_t)tml_clamp_i32(acc, p->activation_min, p->activation_max);
        }
    }
    return 1;
}

/* ---- depthwise ------------------------------------------------------------------------------------------------ */

#define TML_SIMD_DW_MAX_KH 16     /* filter rows the SIMD path takes */
#define TML_SIMD_DW_RING 16384    /* bytes of saved input rows, in place */

/* One output row of eight channels: rows[ky] is input row (origin + ky * dilation_h) of those channels, pixel_step
 * bytes between pixels, or NULL outside the input (a skipped tap, as TFLM's). */
TML_V void TML_SIMD_NAME(dw_row)(const tml_depthwise_conv_params *p, const int8_t *const *rows, int32_t pixel_step,
                                 int32_t in_w, const int8_t *filter, int32_t k_h, int32_t k_w, int32_t channels,
                                 tml_v bias, const tml_simd_out *o, int32_t out_w, int8_t *out)
{
    for (int32_t ox = 0; ox < out_w; ox++) {
        int32_t kx_start, kx_end;
        const int32_t x0 = tml_window_taps(ox, p->stride_w, p->pad_w, p->dilation_w, in_w, k_w, &kx_start, &kx_end);
        tml_v acc = bias;
        for (int32_t ky = 0; ky < k_h; ky++) {
            if (rows[ky] == NULL) {
                continue;
            }
            const int8_t *w = filter + (size_t)ky * k_w * channels;
            for (int32_t kx = kx_start; kx < kx_end; kx++) {
                acc = tml_v_mla_s8x8(acc, rows[ky] + (size_t)(x0 + kx * p->dilation_w) * pixel_step,
                                     w + (size_t)kx * channels, p->input_offset);
            }
        }
        tml_v_store_s8(out + (size_t)ox * channels, TML_SIMD_NAME(out_apply)(o, acc));
    }
}

int TML_SIMD_NAME(tml_host_depthwise)(TML_HOST_DEPTHWISE_ARGS)
{
    *done = 0;
    const int32_t channels = in_dims->c, k_h = f_dims->h, k_w = f_dims->w;
    const int32_t in_h = in_dims->h, in_w = in_dims->w, out_h = out_dims->h, out_w = out_dims->w;
    const int inplace = (const void *)input == (const void *)output;
    /* In place, the input rows an output row reads are saved first (see below): this many slots suffice. */
    const int32_t slots = (k_h - 1) * params->dilation_h + 1 + params->pad_h;
    const int32_t blocks = channels / TML_SIMD_LANES;
    if (params->depth_multiplier != 1 || blocks == 0 || k_h > TML_SIMD_DW_MAX_KH || params->input_offset < -255 ||
        !TML_SIMD_NAME(s8_range_ok)(params->activation_min, params->activation_max) ||
        params->input_offset > 255 ||
        (inplace && (int64_t)slots * in_w * TML_SIMD_LANES > TML_SIMD_DW_RING) ||
        !TML_SIMD_NAME(quant_ok)(quant->multiplier, quant->shift, blocks * TML_SIMD_LANES)) {
        return 0;
    }
    int8_t ring[TML_SIMD_DW_RING];
    for (int32_t c0 = 0; c0 < blocks * TML_SIMD_LANES; c0 += TML_SIMD_LANES) {
        tml_simd_out o;
        TML_SIMD_NAME(out_prepare)(&o, quant, 1, c0, TML_SIMD_LANES, params->output_offset, params->activation_min,
                                   params->activation_max);
        const tml_v bias8 = bias != NULL ? tml_v_load(bias + c0) : tml_v_set1(0);
        for (int32_t b = 0; b < in_dims->n; b++) {
            const int8_t *image = input + (size_t)b * in_h * in_w * channels + c0;
            int8_t *out_image = output + (size_t)b * out_h * out_w * channels + c0;
            /*
             * In place, output row oy overwrites input pixels [oy * out_w, (oy + 1) * out_w) of this image (out_w <=
             * in_w), which lie in rows <= oy: rows up to max(oy, the last row it reads) are saved into the ring first,
             * eight channels a pixel, and read from there. Later rows and other channels are not touched yet.
             */
            int32_t saved = 0;
            for (int32_t oy = 0; oy < out_h; oy++) {
                const int32_t y0 = oy * params->stride_h - params->pad_h;
                const int8_t *rows[TML_SIMD_DW_MAX_KH];
                if (inplace) {
                    int32_t last = y0 + (k_h - 1) * params->dilation_h;
                    last = last > oy ? last : oy;
                    last = last < in_h - 1 ? last : in_h - 1;
                    for (; saved <= last; saved++) {
                        int8_t *slot = ring + (size_t)(saved % slots) * in_w * TML_SIMD_LANES;
                        const int8_t *from = image + (size_t)saved * in_w * channels;
                        for (int32_t x = 0; x < in_w; x++) {
                            memcpy(slot + (size_t)x * TML_SIMD_LANES, from + (size_t)x * channels, TML_SIMD_LANES);
                        }
                    }
                }
                for (int32_t ky = 0; ky < k_h; ky++) {
                    const int32_t iy = y0 + ky * params->dilation_h;
                    rows[ky] = iy < 0 || iy >= in_h ? NULL
                               : inplace        ? ring + (size_t)(iy % slots) * in_w * TML_SIMD_LANES
                                                : image + (size_t)iy * in_w * channels;
                }
                TML_SIMD_NAME(dw_row)(params, rows, inplace ? TML_SIMD_LANES : channels, in_w, filter + c0, k_h, k_w,
                                      channels, bias8, &o, out_w, out_image + (size_t)oy * out_w * channels);
            }
        }
    }
    *done = blocks * TML_SIMD_LANES;
    return 1;
}

/* ---- ADD and SUB ----------------------------------------------------------------------------------------------- */

/* One requantization in every lane. */
TML_V void TML_SIMD_NAME(requant_uniform)(tml_simd_requant *q, int32_t multiplier, int32_t left, int32_t right)
{
    for (int32_t j = 0; j < TML_SIMD_LANES; j++) {
        TML_SIMD_NAME(requant_lane)(q, j, multiplier, left, right);
    }
    TML_SIMD_NAME(requant_load)(q);
}

/* Eight int8 from x at stride 0 (one value repeated) or 1. */
TML_V tml_v TML_SIMD_NAME(s8x8_strided)(const int8_t *x, int32_t stride)
{
    return stride == 0 ? tml_v_set1(*x) : tml_v_s8x8(x);
}

int32_t TML_SIMD_NAME(tml_host_add_s8)(TML_HOST_ADD_ARGS)
{
    if ((sa != 0 && sa != 1) || (sb != 0 && sb != 1) || !TML_SIMD_NAME(s8_range_ok)(p->activation_min, p->activation_max)) {
        return 0;
    }
    tml_simd_requant q1, q2, qo;
    TML_SIMD_NAME(requant_uniform)(&q1, p->input1_quant.multiplier, p->left_shift, -p->input1_quant.shift);
    TML_SIMD_NAME(requant_uniform)(&q2, p->input2_quant.multiplier, p->left_shift, -p->input2_quant.shift);
    TML_SIMD_NAME(requant_uniform)(&qo, p->output_quant.multiplier, 0, -p->output_quant.shift);
    const tml_v offset1 = tml_v_set1(p->input1_offset), offset2 = tml_v_set1(p->input2_offset);
    const tml_v offset = tml_v_set1(p->output_offset);
    const tml_v min = tml_v_set1(p->activation_min), max = tml_v_set1(p->activation_max);
    int32_t i = 0;
    for (; i + TML_SIMD_LANES <= n; i += TML_SIMD_LANES) {
        const tml_v a = TML_SIMD_NAME(requant)(&q1, tml_v_add(TML_SIMD_NAME(s8x8_strided)(x1 + i * sa, sa), offset1));
        const tml_v b = TML_SIMD_NAME(requant)(&q2, tml_v_add(TML_SIMD_NAME(s8x8_strided)(x2 + i * sb, sb), offset2));
        const tml_v sum = TML_SIMD_NAME(requant)(&qo, subtract ? tml_v_sub(a, b) : tml_v_add(a, b));
        tml_v_store_s8(y + i, tml_v_min(tml_v_max(tml_v_add(sum, offset), min), max));
    }
    return i;
}

int32_t TML_SIMD_NAME(tml_host_mul_s8)(TML_HOST_MUL_ARGS)
{
    if ((sa != 0 && sa != 1) || (sb != 0 && sb != 1) || p->output_quant.multiplier == INT32_MIN ||
        !TML_SIMD_NAME(s8_range_ok)(p->activation_min, p->activation_max)) {
        return 0;
    }
    const int32_t shift = p->output_quant.shift;
    tml_simd_requant q;
    TML_SIMD_NAME(requant_uniform)(&q, p->output_quant.multiplier, shift > 0 ? shift : 0, shift > 0 ? 0 : -shift);
    const tml_v offset1 = tml_v_set1(p->input1_offset), offset2 = tml_v_set1(p->input2_offset);
    const tml_v offset = tml_v_set1(p->output_offset);
    const tml_v min = tml_v_set1(p->activation_min), max = tml_v_set1(p->activation_max);
    int32_t i = 0;
    for (; i + TML_SIMD_LANES <= n; i += TML_SIMD_LANES) {
        const tml_v a = tml_v_add(TML_SIMD_NAME(s8x8_strided)(x1 + i * sa, sa), offset1);
        const tml_v b = tml_v_add(TML_SIMD_NAME(s8x8_strided)(x2 + i * sb, sb), offset2);
        const tml_v product = TML_SIMD_NAME(requant)(&q, tml_v_mul(a, b));
        tml_v_store_s8(y + i, tml_v_min(tml_v_max(tml_v_add(product, offset), min), max));
    }
    return i;
}

/* ---- pooling ------------------------------------------------------------------------------------------------- */

int TML_SIMD_NAME(tml_host_pool_s8)(TML_HOST_POOL_ARGS)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, channels = in_dims->c;
    const int32_t blocks = channels / TML_SIMD_LANES;
    if (!TML_SIMD_NAME(s8_range_ok)(p->activation_min, p->activation_max)) {
        return 0;
    }
    const tml_v min = tml_v_set1(p->activation_min), max = tml_v_set1(p->activation_max);
    int8_t *out = output;
    for (int32_t b = 0; b < in_dims->n; b++) {
        const int8_t *image = input + (size_t)b * in_h * in_w * channels;
        for (int32_t oy = 0; oy < out_dims->h; oy++) {
            int32_t fy_start, fy_end;
            const int32_t y0 = tml_window_taps(oy, p->stride_h, p->pad_h, 1, in_h, p->filter_h, &fy_start, &fy_end);
            for (int32_t ox = 0; ox < out_dims->w; ox++, out += channels) {
                int32_t fx_start, fx_end;
                const int32_t x0 = tml_window_taps(ox, p->stride_w, p->pad_w, 1, in_w, p->filter_w, &fx_start, &fx_end);
                const int32_t count = fy_end > fy_start && fx_end > fx_start ? (fy_end - fy_start) * (fx_end - fx_start) : 0;
                if (!is_max && count == 0) {
                    *status = TML_ERROR_ARGUMENT; /* as the portable kernel: the pixels before this one are written */
                    return 1;
                }
                for (int32_t c = 0; c < channels; c += TML_SIMD_LANES) {
                    const int32_t lanes = c < blocks * TML_SIMD_LANES ? TML_SIMD_LANES : channels - c;
                    int32_t acc[TML_SIMD_LANES];
                    if (lanes == TML_SIMD_LANES) {
                        tml_v v = tml_v_set1(is_max ? INT8_MIN : 0);
                        for (int32_t fy = fy_start; fy < fy_end; fy++) {
                            const int8_t *row = image + ((size_t)(y0 + fy) * in_w + x0) * channels + c;
                            for (int32_t fx = fx_start; fx < fx_end; fx++) {
                                const tml_v x = tml_v_s8x8(row + (size_t)fx * channels);
                                v = is_max ? tml_v_max(v, x) : tml_v_add(v, x);
                            }
                        }
                        tml_v_store(acc, v);
                    } else {
                        for (int32_t j = 0; j < lanes; j++) {
                            acc[j] = is_max ? INT8_MIN : 0;
                            for (int32_t fy = fy_start; fy < fy_end; fy++) {
                                for (int32_t fx = fx_start; fx < fx_end; fx++) {
                                    const int32_t x = image[((size_t)(y0 + fy) * in_w + x0 + fx) * channels + c + j];
                                    acc[j] = is_max ? (x > acc[j] ? x : acc[j]) : acc[j] + x;
                                }
                            }
                        }
                    }
                    for (int32_t j = 0; j < lanes && !is_max; j++) {
                        acc[j] = acc[j] > 0 ? (acc[j] + count / 2) / count : (acc[j] - count / 2) / count;
                    }
                    if (lanes == TML_SIMD_LANES) {
                        tml_v_store_s8(out + c, tml_v_min(tml_v_max(tml_v_load(acc), min), max));
                    } else {
                        for (int32_t j = 0; j < lanes; j++) {
                            out[c + j] = (int8_t)tml_clamp_i32(acc[j], p->activation_min, p->activation_max);
                        }
                    }
                }
            }
        }
    }
    *status = TML_OK;
    return 1;
}

/* ---- float32 on packed weights ----------------------------------------------------------------------------- */

/* Each lane is one output's float sum, in TFLM's order (products added one by one to 0.0f, then the bias, then the
 * clamp), every multiply and add a separately rounded IEEE operation: the portable bytes. Up to four groups at a time
 * keep four independent chains of additions in flight. */

TML_V int TML_SIMD_NAME(f32_range_ok)(float lo, float hi)
{
    return lo <= hi; /* also false for NaN: the clamp's order then matters, the portable code takes it */
}

/* The bias, the clamp and the store of `count` groups of eight outputs. */
TML_V void TML_SIMD_NAME(f32_groups_finish)(tml_vf *acc, int32_t count, const float *bias, tml_vf lo, tml_vf hi,
                                            float *out)
{
    for (int32_t g = 0; g < count; g++) {
        const tml_vf b = bias != NULL ? tml_vf_load(bias + 8 * g) : tml_vf_set1(0.0f);
        tml_vf_store(out + 8 * g, tml_vf_clamp(tml_vf_add(acc[g], b), lo, hi));
    }
}

/* Accumulates n consecutive inputs into `count` groups' sums (1, 2 or 4: a constant at each call, so the sums stay in
 * registers), against the groups' packed rows, `group_step` floats apart: an FC row, or one tap's channels. */
TML_V void TML_SIMD_NAME(f32_run)(tml_vf *a0, tml_vf *a1, tml_vf *a2, tml_vf *a3, const float *x, int32_t n,
                                  const float *w, size_t group_step, int32_t count)
{
    for (int32_t c = 0; c < n; c++) {
        const tml_vf xv = tml_vf_set1(x[c]);
        const float *wc = w + (size_t)c * 8;
        *a0 = tml_vf_add(*a0, tml_vf_mul(xv, tml_vf_load(wc)));
        if (count > 1) {
            *a1 = tml_vf_add(*a1, tml_vf_mul(xv, tml_vf_load(wc + group_step)));
        }
        if (count > 2) {
            *a2 = tml_vf_add(*a2, tml_vf_mul(xv, tml_vf_load(wc + 2 * group_step)));
            *a3 = tml_vf_add(*a3, tml_vf_mul(xv, tml_vf_load(wc + 3 * group_step)));
        }
    }
}

/* One FC row's outputs of `count` groups. */
TML_V void TML_SIMD_NAME(f32_groups)(const float *x, int32_t n, const float *w, size_t group_step, int32_t count,
                                     const float *bias, tml_vf lo, tml_vf hi, float *out)
{
    const tml_vf zero = tml_vf_set1(0.0f);
    tml_vf a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    TML_SIMD_NAME(f32_run)(&a0, &a1, &a2, &a3, x, n, w, group_step, count);
    tml_vf acc[4] = {a0, a1, a2, a3};
    TML_SIMD_NAME(f32_groups_finish)(acc, count, bias, lo, hi, out);
}

int32_t TML_SIMD_NAME(tml_host_fully_connected_f32)(TML_HOST_FC_F32_ARGS)
{
    if (!TML_SIMD_NAME(f32_range_ok)(p->activation_min, p->activation_max)) {
        return 0;
    }
    const int32_t groups = units / 8;
    const size_t step = (size_t)8 * depth;
    const tml_vf lo = tml_vf_set1(p->activation_min), hi = tml_vf_set1(p->activation_max);
    for (int32_t b = 0; b < batches; b++) {
        const float *x = input + (size_t)b * depth;
        float *out = output + (size_t)b * units;
        int32_t g = 0;
        for (; g + 4 <= groups; g += 4) {
            TML_SIMD_NAME(f32_groups)(x, depth, filter + g * step, step, 4, bias != NULL ? bias + 8 * g : NULL, lo, hi, out + 8 * g);
        }
        if (g + 2 <= groups) {
            TML_SIMD_NAME(f32_groups)(x, depth, filter + g * step, step, 2, bias != NULL ? bias + 8 * g : NULL, lo, hi, out + 8 * g);
            g += 2;
        }
        if (g < groups) {
            TML_SIMD_NAME(f32_groups)(x, depth, filter + g * step, step, 1, bias != NULL ? bias + 8 * g : NULL, lo, hi, out + 8 * g);
        }
    }
    return groups * 8;
}

/* One output pixel's `count` groups: every valid tap in TFLM's order (filter rows, columns, input channels). */
TML_V void TML_SIMD_NAME(conv_f32_groups)(const tml_conv_f32_params *p, const float *image, int32_t in_w, int32_t channels,
                                          int32_t k_w, int32_t y0, int32_t ky_start, int32_t ky_end, int32_t x0,
                                          int32_t kx_start, int32_t kx_end, const float *w, size_t group_step,
                                          int32_t count, const float *bias, tml_vf lo, tml_vf hi, float *out)
{
    const tml_vf zero = tml_vf_set1(0.0f);
    tml_vf a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (int32_t ky = ky_start; ky < ky_end; ky++) {
        const float *row = image + (size_t)(y0 + ky * p->dilation_h) * in_w * channels;
        for (int32_t kx = kx_start; kx < kx_end; kx++) {
            TML_SIMD_NAME(f32_run)(&a0, &a1, &a2, &a3, row + (size_t)(x0 + kx * p->dilation_w) * channels, channels,
                                   w + ((size_t)ky * k_w + kx) * channels * 8, group_step, count);
        }
    }
    tml_vf acc[4] = {a0, a1, a2, a3};
    TML_SIMD_NAME(f32_groups_finish)(acc, count, bias, lo, hi, out);
}

int32_t TML_SIMD_NAME(tml_host_conv_f32)(TML_HOST_CONV_F32_ARGS)
{
    if (!TML_SIMD_NAME(f32_range_ok)(p->activation_min, p->activation_max) || f_dims->c != in_dims->c) {
        return 0;
    }
    const int32_t in_h = in_dims->h, in_w = in_dims->w, channels = in_dims->c, k_w = f_dims->w;
    const int32_t out_c = f_dims->n, groups = out_c / 8;
    const size_t step = (size_t)8 * f_dims->h * k_w * channels;
    const tml_vf lo = tml_vf_set1(p->activation_min), hi = tml_vf_set1(p->activation_max);
    for (int32_t b = 0; b < in_dims->n; b++) {
        const float *image = input + (size_t)b * in_h * in_w * channels;
        for (int32_t oy = 0; oy < out_dims->h; oy++) {
            int32_t ky_start, ky_end;
            const int32_t y0 = tml_window_taps(oy, p->stride_h, p->pad_h, p->dilation_h, in_h, f_dims->h, &ky_start, &ky_end);
            for (int32_t ox = 0; ox < out_dims->w; ox++) {
                int32_t kx_start, kx_end;
                const int32_t x0 = tml_window_taps(ox, p->stride_w, p->pad_w, p->dilation_w, in_w, k_w, &kx_start, &kx_end);
                float *out = output + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * out_c;
#define TML_CONV_F32_GROUPS(count)                                                                                 \
    TML_SIMD_NAME(conv_f32_groups)(p, image, in_w, channels, k_w, y0, ky_start, ky_end, x0, kx_start, kx_end,      \
                                   filter + g * step, step, count, bias != NULL ? bias + 8 * g : NULL, lo, hi, out + 8 * g)
                int32_t g = 0;
                for (; g + 4 <= groups; g += 4) {
                    TML_CONV_F32_GROUPS(4);
                }
                if (g + 2 <= groups) {
                    TML_CONV_F32_GROUPS(2);
                    g += 2;
                }
                if (g < groups) {
                    TML_CONV_F32_GROUPS(1);
                }
#undef TML_CONV_F32_GROUPS
            }
        }
    }
    return groups * 8;
}

int32_t TML_SIMD_NAME(tml_host_depthwise_conv_f32)(TML_HOST_DW_F32_ARGS)
{
    const int32_t channels = in_dims->c, blocks = channels / 8;
    if (!TML_SIMD_NAME(f32_range_ok)(p->activation_min, p->activation_max) || p->depth_multiplier != 1 || blocks == 0) {
        return 0;
    }
    const int32_t in_h = in_dims->h, in_w = in_dims->w, k_w = f_dims->w;
    const tml_vf lo = tml_vf_set1(p->activation_min), hi = tml_vf_set1(p->activation_max);
    for (int32_t b = 0; b < in_dims->n; b++) {
        const float *image = input + (size_t)b * in_h * in_w * channels;
        for (int32_t oy = 0; oy < out_dims->h; oy++) {
            int32_t ky_start, ky_end;
            const int32_t y0 = tml_window_taps(oy, p->stride_h, p->pad_h, p->dilation_h, in_h, f_dims->h, &ky_start, &ky_end);
            for (int32_t ox = 0; ox < out_dims->w; ox++) {
                int32_t kx_start, kx_end;
                const int32_t x0 = tml_window_taps(ox, p->stride_w, p->pad_w, p->dilation_w, in_w, k_w, &kx_start, &kx_end);
                float *out = output + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * channels;
                for (int32_t c = 0; c < blocks * 8; c += 8) {
                    /* Each lane one channel's sum over the valid taps, rows then columns, as TFLM's loop. */
                    tml_vf acc = tml_vf_set1(0.0f);
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const float *row = image + (size_t)(y0 + ky * p->dilation_h) * in_w * channels + c;
                        const float *w = filter + (size_t)ky * k_w * channels + c;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            acc = tml_vf_add(acc, tml_vf_mul(tml_vf_load(row + (size_t)(x0 + kx * p->dilation_w) * channels),
                                                             tml_vf_load(w + (size_t)kx * channels)));
                        }
                    }
                    const tml_vf bias8 = bias != NULL ? tml_vf_load(bias + c) : tml_vf_set1(0.0f);
                    tml_vf_store(out + c, tml_vf_clamp(tml_vf_add(acc, bias8), lo, hi));
                }
            }
        }
    }
    return blocks * 8;
}

int TML_SIMD_NAME(tml_host_pool_f32)(TML_HOST_POOL_F32_ARGS)
{
    if (!TML_SIMD_NAME(f32_range_ok)(p->activation_min, p->activation_max)) {
        return 0;
    }
    const int32_t in_h = in_dims->h, in_w = in_dims->w, channels = in_dims->c, blocks = channels / 8;
    const tml_vf lo = tml_vf_set1(p->activation_min), hi = tml_vf_set1(p->activation_max);
    float *out = output;
    for (int32_t b = 0; b < in_dims->n; b++) {
        const float *image = input + (size_t)b * in_h * in_w * channels;
        for (int32_t oy = 0; oy < out_dims->h; oy++) {
            int32_t fy_start, fy_end;
            const int32_t y0 = tml_window_taps(oy, p->stride_h, p->pad_h, 1, in_h, p->filter_h, &fy_start, &fy_end);
            for (int32_t ox = 0; ox < out_dims->w; ox++, out += channels) {
                int32_t fx_start, fx_end;
                const int32_t x0 = tml_window_taps(ox, p->stride_w, p->pad_w, 1, in_w, p->filter_w, &fx_start, &fx_end);
                const int32_t taps = fy_end > fy_start && fx_end > fx_start ? (fy_end - fy_start) * (fx_end - fx_start) : 0;
                if (!is_max && taps == 0) {
                    *status = TML_ERROR_ARGUMENT; /* as the portable kernel: the pixels before this one are written */
                    return 1;
                }
                /* The portable kernel's count: 1.0f added once per tap, exact for any window. */
                const float count = (float)taps;
                for (int32_t c = 0; c < channels; c++) {
                    if (c < blocks * 8 && c % 8 == 0) {
                        tml_vf acc = tml_vf_set1(is_max ? -FLT_MAX : 0.0f);
                        for (int32_t fy = fy_start; fy < fy_end; fy++) {
                            const float *row = image + ((size_t)(y0 + fy) * in_w + x0) * channels + c;
                            for (int32_t fx = fx_start; fx < fx_end; fx++) {
                                const tml_vf v = tml_vf_load(row + (size_t)fx * channels);
                                acc = is_max ? tml_vf_keep_max(acc, v) : tml_vf_add(acc, v);
                            }
                        }
                        acc = is_max ? acc : tml_vf_div(acc, tml_vf_set1(count));
                        tml_vf_store(out + c, tml_vf_clamp(acc, lo, hi));
                        c += 7;
                        continue;
                    }
                    float acc = is_max ? -FLT_MAX : 0.0f;
                    for (int32_t fy = fy_start; fy < fy_end; fy++) {
                        for (int32_t fx = fx_start; fx < fx_end; fx++) {
                            const float v = image[((size_t)(y0 + fy) * in_w + x0 + fx) * channels + c];
                            acc = is_max ? (acc < v ? v : acc) : acc + v;
                        }
                    }
                    out[c] = tml_clamp_f32(is_max ? acc : acc / count, p->activation_min, p->activation_max);
                }
            }
        }
    }
    *status = TML_OK;
    return 1;
}

#endif
