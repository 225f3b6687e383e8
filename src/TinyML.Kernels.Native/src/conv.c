/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv.c: int8 and 16x8 CONV_2D with per-channel requantization, dilation, grouping and batches.
 *
 * Arithmetic (TFLM reference_integer_ops::ConvPerChannel):
 *   acc  = sum over valid taps and filter input channels of filter * (input + input_offset)   (int32)
 *   acc += bias[oc]                                   (when bias != NULL)
 *   out  = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc], shift[oc]) + output_offset,
 *                activation_min, activation_max)
 * Taps outside the input are skipped (zero padding in the real domain).
 *
 * On DSP cores (TML_USE_DSP) ungrouped int8 convolutions take one of three paths. A pointwise (1x1, unpadded)
 * convolution is a matrix product of pixels by filters, pixels paired across row ends. Windows of at most
 * TML_CONV_PATCH_TAPS taps are copied as int16 patches into the kernel's scratch (conv_s8_dsp_patch). Larger windows,
 * or any window when the caller gave no scratch, take conv_s8_dsp, which reads each window row in place: with
 * dilation_w 1 its valid taps are one contiguous run of input and filter bytes, the same for a pair of neighbouring
 * outputs whose windows are clipped alike, so 2 pixels x 2 output channels share one tml_dot_s8_2x2 per row;
 * unclipped windows fold the input offset into the accumulator. The requantization is tml_requant_apply; all exact
 * (int32 sums wrap in any order), so the result equals the portable loop's bit for bit.
 *
 * tml_conv_s8_float_requant is the portable loop with onnxruntime's float32 requantization (requant_f32.h).
 */
#include "common.h"
#include "dot_s8.h"
#include "requant_f32.h"

/* Taps (k_h x k_w x c) of the largest window the DSP patch path copies, two pixels at a time. */
#define TML_CONV_PATCH_TAPS 144

/* On DSP cores each path of tml_conv_s8 is a function of its own: the static stack bound adds up the frames along a
 * call chain, so one function holding every path would carry the largest path's frame into each of the others.
 * Elsewhere the portable loop stays inlined into tml_conv_s8 (called, it ran kws 34% slower on the M0+). */
#if TML_USE_DSP
#define CONV_PATH __attribute__((noinline)) static
#else
#define CONV_PATH TML_INLINE
#endif

static int conv_params_valid(const tml_conv_params *p)
{
    return tml_window_params_valid(p->stride_h, p->stride_w, p->dilation_h, p->dilation_w, p->pad_h, p->pad_w) &&
           p->activation_min <= p->activation_max;
}

TML_API int32_t tml_conv_s8_get_buffer_size(const tml_conv_params *params, const tml_dims *input_dims,
                                            const tml_dims *filter_dims, const tml_dims *output_dims)
{
    return tml_conv_s8_get_buffer_size_for(TML_SCRATCH_CORE, params, input_dims, filter_dims, output_dims);
}

TML_API int32_t tml_conv_s8_get_buffer_size_for(int32_t core, const tml_conv_params *params,
                                                const tml_dims *input_dims, const tml_dims *filter_dims,
                                                const tml_dims *output_dims)
{
    if (core < 0 || core >= TML_CORES) {
        return -1;
    }
    if (params == NULL || input_dims == NULL || filter_dims == NULL || output_dims == NULL) {
        return -1;
    }
    /* The portable path works directly on the input. DSP cores copy windows of up to TML_CONV_PATCH_TAPS taps as
     * two int16 patches, each rounded to whole words; ungrouped only, and pointwise (1x1, unpadded) needs none. */
    const int32_t taps = filter_dims->h * filter_dims->w * filter_dims->c;
    const int pointwise = filter_dims->h == 1 && filter_dims->w == 1 && params->pad_h == 0 && params->pad_w == 0;
    if (!TML_CORE_USES_DSP(core) || !tml_dims_valid(filter_dims) || input_dims->c != filter_dims->c || pointwise ||
        taps > TML_CONV_PATCH_TAPS) {
        return 0;
    }
    return 2 * (taps + (taps & 1)) * (int32_t)sizeof(int16_t);
}

#if TML_USE_DSP
/* The accumulators of output pixels (p0, p1) x channels (c0, c1) over one window, without bias: the rows ky of
 * the window whose taps [kx_start, kx_end) are valid, starting at input columns x0 and (when two) x1. acc as
 * tml_dot_s8_2x2; with one pixel only acc[0..1]. */
static void conv_window_2x2(const tml_conv_params *p, const tml_dims *in_dims, const int8_t *in_batch,
                            const tml_dims *f_dims, const int8_t *f0, const int8_t *f1, int32_t y0, int32_t ky_start,
                            int32_t ky_end, int32_t x0, int32_t x1, int two, int32_t kx_start, int32_t kx_end, int32_t acc[4])
{
    const int32_t c = in_dims->c;
    const int32_t run = p->dilation_w == 1 ? (kx_end - kx_start) * c : c;
    const int32_t steps = p->dilation_w == 1 ? 1 : kx_end - kx_start;
    for (int32_t ky = ky_start; ky < ky_end; ky++) {
        const int8_t *row = in_batch + (size_t)(y0 + ky * p->dilation_h) * in_dims->w * c;
        const size_t f_row = ((size_t)ky * f_dims->w + kx_start) * c;
        for (int32_t step = 0; step < steps; step++) {
            const int32_t kx = kx_start + step;
            const size_t f_at = f_row + (size_t)step * c;
            const int8_t *a0 = row + (size_t)(x0 + kx * p->dilation_w) * c;
            if (!two) {
                int32_t pair[2] = {acc[0], acc[1]};
                tml_dot_s8_1x2(a0, f0 + f_at, f1 + f_at, run, p->input_offset, pair);
                acc[0] = pair[0];
                acc[1] = pair[1];
            } else {
                tml_dot_s8_2x2(a0, row + (size_t)(x1 + kx * p->dilation_w) * c, f0 + f_at, f1 + f_at, run,
                               p->input_offset, acc);
            }
        }
    }
}

/* Ungrouped int8 convolution on a DSP core; arguments already validated. Output channels in pairs, outermost, so
 * that each pair's requantization and filter sum are computed once: a window with every tap inside the input starts
 * from input_offset x sum(filter) and runs without the offset (no SADD16), a clipped one adds it per element. */
CONV_PATH void conv_s8_dsp(const tml_conv_params *p, const tml_per_channel_quant *quant, const tml_dims *in_dims,
                           const int8_t *input, const tml_dims *f_dims, const int8_t *filter, const int32_t *bias,
                           const tml_dims *out_dims, int8_t *output)
{
    const int32_t out_c = f_dims->n;
    const int32_t f_size = f_dims->h * f_dims->w * f_dims->c;
    const size_t out_pixels = (size_t)out_dims->h * out_dims->w;
    for (int32_t oc = 0; oc < out_c; oc += 2) {
        const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc; /* an odd last channel is computed twice */
        const int8_t *f0 = filter + (size_t)oc * f_size;
        const int8_t *f1 = filter + (size_t)oc1 * f_size;
        const tml_requant q0 = tml_requant_prepare(quant->multiplier[oc], quant->shift[oc]);
        const tml_requant q1 = tml_requant_prepare(quant->multiplier[oc1], quant->shift[oc1]);
        const int32_t folded0 = (int32_t)((uint32_t)p->input_offset * (uint32_t)tml_dot_sum_s8(f0, f_size));
        const int32_t folded1 = (int32_t)((uint32_t)p->input_offset * (uint32_t)tml_dot_sum_s8(f1, f_size));
        for (int32_t b = 0; b < in_dims->n; b++) {
            const int8_t *in_batch = input + (size_t)b * in_dims->h * in_dims->w * in_dims->c;
            int8_t *out = output + (size_t)b * out_pixels * out_c;
            for (int32_t oy = 0; oy < out_dims->h; oy++) {
                int32_t ky_start, ky_end;
                const int32_t y0 = tml_window_taps(oy, p->stride_h, p->pad_h, p->dilation_h, in_dims->h, f_dims->h,
                                                   &ky_start, &ky_end);
                for (int32_t ox = 0; ox < out_dims->w;) {
                    int32_t kx_start, kx_end, kx1_start = 0, kx1_end = 0;
                    const int32_t x0 = tml_window_taps(ox, p->stride_w, p->pad_w, p->dilation_w, in_dims->w,
                                                       f_dims->w, &kx_start, &kx_end);
                    int32_t x1 = 0;
                    int two = 0;
                    if (ox + 1 < out_dims->w) {
                        const int32_t next = tml_window_taps(ox + 1, p->stride_w, p->pad_w, p->dilation_w, in_dims->w,
                                                             f_dims->w, &kx1_start, &kx1_end);
                        if (kx1_start == kx_start && kx1_end == kx_end) {
                            x1 = next; /* both windows clipped alike: one pass serves both */
                            two = 1;
                        }
                    }
                    const int full = ky_end - ky_start == f_dims->h && kx_end - kx_start == f_dims->w;
                    tml_conv_params window = *p;
                    int32_t acc[4] = {0, 0, 0, 0};
                    if (full) {
                        acc[0] = acc[2] = folded0;
                        acc[1] = acc[3] = folded1;
                        window.input_offset = 0;
                    }
                    conv_window_2x2(&window, in_dims, in_batch, f_dims, f0, f1, y0, ky_start, ky_end, x0, x1, two,
                                    kx_start, kx_end, acc);
                    int8_t *o0 = out + ((size_t)oy * out_dims->w + ox) * out_c;
                    o0[oc] = tml_dot_output_s8(acc[0], bias, oc, &q0, p->output_offset, p->activation_min,
                                               p->activation_max);
                    o0[oc1] = tml_dot_output_s8(acc[1], bias, oc1, &q1, p->output_offset, p->activation_min,
                                                p->activation_max);
                    if (two) {
                        o0[out_c + oc] = tml_dot_output_s8(acc[2], bias, oc, &q0, p->output_offset, p->activation_min,
                                                           p->activation_max);
                        o0[out_c + oc1] = tml_dot_output_s8(acc[3], bias, oc1, &q1, p->output_offset,
                                                            p->activation_min, p->activation_max);
                    }
                    ox += two ? 2 : 1;
                }
            }
        }
    }
}

/* The window of output pixel i (row-major over out_w) as int16 input + input_offset, in the filter's (ky, kx, c)
 * order, each whole group of four taps in SXTB16 lane order (taps 0, 2, 1, 3: a word of filter bytes widened by
 * SXTB16 and its ROR #8 then meets two patch words), the tail of taps % 4 plain. A tap outside the input is 0, so
 * it adds nothing, as TFLM skips it. */
/* n int16 values x + offset from n bytes, in tap order; with `lanes` (n a multiple of 4) each group of four in
 * SXTB16 lane order straight from SXTB16 and its ROR #8. */
TML_INLINE void conv_patch_copy(int16_t *dst, const int8_t *src, int32_t n, int32_t offset, int lanes)
{
    if (lanes) {
        const uint32_t off2 = tml_dot_offset2(offset);
        uint32_t *d = (uint32_t *)(void *)dst;
        for (int32_t i = 0; i < n; i += 4, d += 2) {
            const uint32_t x = tml_read_s8x4(src + i);
            d[0] = tml_sadd16(tml_sxtb16(x), off2);
            d[1] = tml_sadd16(tml_sxtb16_ror8(x), off2);
        }
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        dst[i] = (int16_t)(src[i] + offset);
    }
}

TML_INLINE void conv_patch(const tml_conv_params *p, const tml_dims *in_dims, const int8_t *in_batch,
                           const tml_dims *f_dims, int32_t i, int32_t out_w, int16_t *patch)
{
    const int32_t c = in_dims->c, k_w = f_dims->w, row = k_w * c, taps = f_dims->h * row;
    const int lanes = (c & 3) == 0; /* every tap run starts and ends on a group of four */
    const int32_t oy = i / out_w, ox = i - oy * out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    int32_t kx_lo, kx_hi; /* the taps of a row inside the input */
    tml_tap_range(x0, p->dilation_w, in_dims->w, k_w, &kx_lo, &kx_hi);
    memset(patch, 0, (size_t)taps * sizeof *patch);
    for (int32_t ky = 0; ky < f_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_dims->h) {
            continue;
        }
        const int8_t *src_row = in_batch + (size_t)iy * in_dims->w * c;
        int16_t *dst = patch + (size_t)ky * row;
        if (p->dilation_w == 1) {
            /* The row's inside taps are one run of input bytes. */
            conv_patch_copy(dst + kx_lo * c, src_row + (size_t)(x0 + kx_lo) * c, (kx_hi - kx_lo) * c,
                            p->input_offset, lanes);
            continue;
        }
        for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
            conv_patch_copy(dst + kx * c, src_row + (size_t)(x0 + kx * p->dilation_w) * c, c, p->input_offset, lanes);
        }
    }
    if (!lanes) {
        /* Written in tap order: whole groups of four to SXTB16 lane order (swap taps 1 and 2); the tail stays. */
        for (int32_t g = 0; g + 4 <= taps; g += 4) {
            const int16_t t1 = patch[g + 1];
            patch[g + 1] = patch[g + 2];
            patch[g + 2] = t1;
        }
    }
}

/* acc[0] += p0.w0, acc[1] += p0.w1, acc[2] += p1.w0, acc[3] += p1.w1 over `taps` (patches from conv_patch). */
TML_INLINE void conv_patch_dot_2x2(const int16_t *p0, const int16_t *p1, const int8_t *w0, const int8_t *w1,
                                   int32_t taps, int32_t acc[4])
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    int32_t k = 0;
    for (; k + 4 <= taps; k += 4) {
        const uint32_t a0e = tml_read_s8x4((const int8_t *)(p0 + k)), a0o = tml_read_s8x4((const int8_t *)(p0 + k + 2));
        const uint32_t a1e = tml_read_s8x4((const int8_t *)(p1 + k)), a1o = tml_read_s8x4((const int8_t *)(p1 + k + 2));
        const uint32_t y0 = tml_read_s8x4(w0 + k), y1 = tml_read_s8x4(w1 + k);
        const uint32_t y0e = tml_sxtb16(y0), y0o = tml_sxtb16_ror8(y0);
        const uint32_t y1e = tml_sxtb16(y1), y1o = tml_sxtb16_ror8(y1);
        s00 = tml_smlad(a0o, y0o, tml_smlad(a0e, y0e, s00));
        s10 = tml_smlad(a1o, y0o, tml_smlad(a1e, y0e, s10));
        s01 = tml_smlad(a0o, y1o, tml_smlad(a0e, y1e, s01));
        s11 = tml_smlad(a1o, y1o, tml_smlad(a1e, y1e, s11));
    }
    for (; k < taps; k++) {
        s00 += p0[k] * w0[k];
        s01 += p0[k] * w1[k];
        s10 += p1[k] * w0[k];
        s11 += p1[k] * w1[k];
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

/*
 * conv_s8_dsp for windows of at most TML_CONV_PATCH_TAPS taps: two output pixels' windows are copied once into
 * `scratch` as int16 patches (offset added, clipped taps 0; tml_conv_s8_get_buffer_size bytes, 4-byte aligned) and
 * then serve every output channel pair, each window one run as long as the filter row (OHWI: the window's taps in
 * order), with no per-row set-up and no SXTB16 on the activations. Pixels pair across row ends; an odd last pixel
 * is computed twice and written once.
 */
CONV_PATH void conv_s8_dsp_patch(const tml_conv_params *p, const tml_per_channel_quant *quant,
                                 const tml_dims *in_dims, const int8_t *input, const tml_dims *f_dims,
                                 const int8_t *filter, const int32_t *bias, const tml_dims *out_dims, int8_t *output,
                                 int16_t *scratch)
{
    const int32_t taps = f_dims->h * f_dims->w * f_dims->c;
    int16_t *const patches[2] = {scratch, scratch + taps + (taps & 1)}; /* the second starts on a word */
    const int32_t out_c = f_dims->n;
    const int32_t out_w = out_dims->w;
    const int32_t pixels = out_dims->h * out_w;
    const int32_t out_offset = p->output_offset, act_min = p->activation_min, act_max = p->activation_max;
    for (int32_t b = 0; b < in_dims->n; b++) {
        const int8_t *in_batch = input + (size_t)b * in_dims->h * in_dims->w * in_dims->c;
        int8_t *out = output + (size_t)b * pixels * out_c;
        for (int32_t i = 0; i < pixels; i += 2) {
            const int two = i + 1 < pixels;
            conv_patch(p, in_dims, in_batch, f_dims, i, out_w, patches[0]);
            if (two) {
                conv_patch(p, in_dims, in_batch, f_dims, i + 1, out_w, patches[1]);
            }
            int8_t *o = out + (size_t)i * out_c;
            for (int32_t oc = 0; oc < out_c; oc += 2) {
                const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc;
                const tml_requant q0 = tml_requant_prepare(quant->multiplier[oc], quant->shift[oc]);
                const tml_requant q1 = tml_requant_prepare(quant->multiplier[oc1], quant->shift[oc1]);
                int32_t acc[4] = {0, 0, 0, 0};
                conv_patch_dot_2x2(patches[0], patches[two], filter + (size_t)oc * taps, filter + (size_t)oc1 * taps,
                                   taps, acc);
                o[oc] = tml_dot_output_s8(acc[0], bias, oc, &q0, out_offset, act_min, act_max);
                o[oc1] = tml_dot_output_s8(acc[1], bias, oc1, &q1, out_offset, act_min, act_max);
                if (two) {
                    o[out_c + oc] = tml_dot_output_s8(acc[2], bias, oc, &q0, out_offset, act_min, act_max);
                    o[out_c + oc1] = tml_dot_output_s8(acc[3], bias, oc1, &q1, out_offset, act_min, act_max);
                }
            }
        }
    }
}

/* 1 when every output pixel of a 1x1 convolution reads one whole input pixel: no padding, strides inside. */
static int conv_is_pointwise(const tml_conv_params *p, const tml_dims *in_dims, const tml_dims *f_dims,
                             const tml_dims *out_dims)
{
    return f_dims->h == 1 && f_dims->w == 1 && p->pad_h == 0 && p->pad_w == 0 &&
           (out_dims->h - 1) * p->stride_h < in_dims->h && (out_dims->w - 1) * p->stride_w < in_dims->w;
}

/* The input pixel output pixel i of a batch reads (row-major i over out_w columns). */
TML_INLINE const int8_t *conv_pointwise_pixel(const tml_conv_params *p, const tml_dims *in_dims,
                                              const int8_t *in_batch, int32_t i, int32_t out_w)
{
    const int32_t oy = i / out_w, ox = i - oy * out_w;
    return in_batch + ((size_t)oy * p->stride_h * in_dims->w + (size_t)ox * p->stride_w) * in_dims->c;
}

/* conv_s8_dsp for a pointwise (1x1, unpadded) convolution: a matrix product of pixels by filters, so the pixels of a
 * batch are one list, taken two at a time across row ends, with no window bookkeeping; the offset is folded. */
CONV_PATH void conv_s8_dsp_pointwise(const tml_conv_params *p, const tml_per_channel_quant *quant,
                                     const tml_dims *in_dims, const int8_t *input, const tml_dims *f_dims,
                                     const int8_t *filter, const int32_t *bias, const tml_dims *out_dims,
                                     int8_t *output)
{
    const int32_t c = in_dims->c;
    const int32_t out_c = f_dims->n;
    const int32_t out_w = out_dims->w;
    const int32_t pixels = out_dims->h * out_w;
    const int32_t out_offset = p->output_offset, act_min = p->activation_min, act_max = p->activation_max;
    for (int32_t oc = 0; oc < out_c; oc += 2) {
        const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc; /* an odd last channel is computed twice */
        const int8_t *f0 = filter + (size_t)oc * c;
        const int8_t *f1 = filter + (size_t)oc1 * c;
        const tml_requant q0 = tml_requant_prepare(quant->multiplier[oc], quant->shift[oc]);
        const tml_requant q1 = tml_requant_prepare(quant->multiplier[oc1], quant->shift[oc1]);
        const int32_t folded0 = (int32_t)((uint32_t)p->input_offset * (uint32_t)tml_dot_sum_s8(f0, c));
        const int32_t folded1 = (int32_t)((uint32_t)p->input_offset * (uint32_t)tml_dot_sum_s8(f1, c));
        for (int32_t b = 0; b < in_dims->n; b++) {
            const int8_t *in_batch = input + (size_t)b * in_dims->h * in_dims->w * c;
            int8_t *out = output + (size_t)b * pixels * out_c;
            int32_t i = 0;
            for (; i + 1 < pixels; i += 2) {
                int32_t acc[4] = {folded0, folded1, folded0, folded1};
                tml_dot_s8_2x2(conv_pointwise_pixel(p, in_dims, in_batch, i, out_w),
                               conv_pointwise_pixel(p, in_dims, in_batch, i + 1, out_w), f0, f1, c, 0, acc);
                int8_t *o = out + (size_t)i * out_c;
                o[oc] = tml_dot_output_s8(acc[0], bias, oc, &q0, out_offset, act_min, act_max);
                o[oc1] = tml_dot_output_s8(acc[1], bias, oc1, &q1, out_offset, act_min, act_max);
                o[out_c + oc] = tml_dot_output_s8(acc[2], bias, oc, &q0, out_offset, act_min, act_max);
                o[out_c + oc1] = tml_dot_output_s8(acc[3], bias, oc1, &q1, out_offset, act_min, act_max);
            }
            if (i < pixels) {
                int32_t acc[2] = {folded0, folded1};
                tml_dot_s8_1x2(conv_pointwise_pixel(p, in_dims, in_batch, i, out_w), f0, f1, c, 0, acc);
                int8_t *o = out + (size_t)i * out_c;
                o[oc] = tml_dot_output_s8(acc[0], bias, oc, &q0, out_offset, act_min, act_max);
                o[oc1] = tml_dot_output_s8(acc[1], bias, oc1, &q1, out_offset, act_min, act_max);
            }
        }
    }
}
#endif

/* The portable loop (TFLM's ConvPerChannel order); arguments already validated but the grouping. */
CONV_PATH tml_status conv_s8_portable(const tml_conv_params *params, const tml_s8_requant *requant,
                                      const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                                      const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                      int8_t *output)
{
    const int32_t batches = input_dims->n;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t out_c = filter_dims->n;
    const int32_t k_h = filter_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t f_c = filter_dims->c; /* input channels per group */
    const int32_t out_h = output_dims->h;
    const int32_t out_w = output_dims->w;
    const int32_t filters_per_group = tml_conv_filters_per_group(input_dims, filter_dims, output_dims);
    if (filters_per_group == 0) {
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
                for (int32_t oc = 0; oc < out_c; oc++) {
                    const int32_t group = oc / filters_per_group;
                    const int8_t *f_oc = filter + (size_t)oc * k_h * k_w * f_c;
                    int32_t acc = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int32_t iy = in_y0 + ky * params->dilation_h;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            const int32_t ix = in_x0 + kx * params->dilation_w;
                            const int8_t *in_px = in_batch + ((size_t)iy * in_w + ix) * in_c + (size_t)group * f_c;
                            const int8_t *f_px = f_oc + ((size_t)ky * k_w + kx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ic++) {
                                acc += (int32_t)f_px[ic] * ((int32_t)in_px[ic] + input_offset);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc = tml_add_wrap(acc, bias[oc]);
                    }
                    *out++ = tml_s8_requant_output(requant, acc, oc, output_offset, act_min, act_max);
                }
            }
        }
    }
    return TML_OK;
}

TML_API tml_status tml_conv_s8(const tml_conv_params *params, const tml_per_channel_quant *quant,
                               const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                               int8_t *output, void *scratch)
{
    (void)scratch; /* the DSP patch path's */
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) ||
        !tml_dims_valid(output_dims) || !conv_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
#if TML_USE_DSP
    if (input_dims->c == filter_dims->c && tml_conv_filters_per_group(input_dims, filter_dims, output_dims) != 0 &&
        tml_dot_multipliers_ok(quant->multiplier, filter_dims->n)) {
        if (conv_is_pointwise(params, input_dims, filter_dims, output_dims)) {
            conv_s8_dsp_pointwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
        } else if (scratch != NULL && ((uintptr_t)scratch & 3u) == 0 &&
                   tml_conv_s8_get_buffer_size(params, input_dims, filter_dims, output_dims) > 0) {
            /* Planned patch scratch; a caller that sized it for another core (none, or unaligned) gets the window
             * path, which needs none. */
            conv_s8_dsp_patch(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                              (int16_t *)scratch);
        } else {
            conv_s8_dsp(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output);
        }
        return TML_OK;
    }
#endif
    const tml_s8_requant requant = {quant, NULL};
    return conv_s8_portable(params, &requant, input_dims, input, filter_dims, filter, bias, output_dims, output);
}

TML_API tml_status tml_conv_s8_float_requant(const tml_conv_params *params, const float *scales,
                                             const tml_dims *input_dims, const int8_t *input,
                                             const tml_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                             const tml_dims *output_dims, int8_t *output, void *scratch)
{
    (void)scratch;
    if (params == NULL || scales == NULL || input == NULL || filter == NULL || output == NULL ||
        !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) || !tml_dims_valid(output_dims) ||
        !conv_params_valid(params) || !tml_scales_f32_valid(scales, filter_dims->n)) {
        return TML_ERROR_ARGUMENT;
    }
    const tml_s8_requant requant = {NULL, scales};
    return conv_s8_portable(params, &requant, input_dims, input, filter_dims, filter, bias, output_dims, output);
}

/*
 * 16x8 (TFLM ConvPerChannel<AccumScalar> for int16 input): no input or output offset (int16 zero points are 0).
 * The products are summed in 64 bits. With an int64 bias TFLM keeps the sum in int64 and requantizes with the
 * 64-bit MultiplyByQuantizedMultiplier; with an int32 bias or none its accumulator is int32 (a wrapping sum, so
 * the low 32 bits of ours) and it requantizes with the 32-bit one.
 */
static tml_status conv_s16(const tml_conv_params *params, const tml_per_channel_quant *quant,
                           const tml_dims *input_dims, const int16_t *input, const tml_dims *filter_dims,
                           const int8_t *filter, const int64_t *bias64, const int32_t *bias32,
                           const tml_dims *output_dims, int16_t *output)
{
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || !tml_dims_valid(input_dims) || !tml_dims_valid(filter_dims) ||
        !tml_dims_valid(output_dims) || !conv_params_valid(params) || params->input_offset != 0 ||
        params->output_offset != 0) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    const int32_t in_c = input_dims->c;
    const int32_t out_c = filter_dims->n;
    const int32_t k_w = filter_dims->w;
    const int32_t f_c = filter_dims->c;
    const int32_t filters_per_group = tml_conv_filters_per_group(input_dims, filter_dims, output_dims);
    if (filters_per_group == 0) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t act_min = params->activation_min;
    const int32_t act_max = params->activation_max;

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
                    const int32_t group = oc / filters_per_group;
                    const int8_t *f_oc = filter + (size_t)oc * filter_dims->h * k_w * f_c;
                    int64_t acc = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int32_t iy = in_y0 + ky * params->dilation_h;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            const int32_t ix = in_x0 + kx * params->dilation_w;
                            const int16_t *in_px = in_batch + ((size_t)iy * in_w + ix) * in_c + (size_t)group * f_c;
                            const int8_t *f_px = f_oc + ((size_t)ky * k_w + kx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ic++) {
                                acc += (int32_t)f_px[ic] * (int32_t)in_px[ic];
                            }
                        }
                    }
                    *out++ = bias64 != NULL ? tml_requantize_s16_from_i64(acc + bias64[oc], quant->multiplier[oc],
                                                                          quant->shift[oc], act_min, act_max)
                                            : tml_requantize_s16_from_i32(acc, bias32 != NULL ? bias32[oc] : 0,
                                                                          quant->multiplier[oc], quant->shift[oc],
                                                                          act_min, act_max);
                }
            }
        }
    }
    return TML_OK;
}

TML_API tml_status tml_conv_s16(const tml_conv_params *params, const tml_per_channel_quant *quant,
                                const tml_dims *input_dims, const int16_t *input, const tml_dims *filter_dims,
                                const int8_t *filter, const int64_t *bias, const tml_dims *output_dims,
                                int16_t *output, void *scratch)
{
    (void)scratch;
    if (bias == NULL) {
        return TML_ERROR_ARGUMENT; /* without a bias TFLM takes the int32 accumulator: tml_conv_s16_bias32 */
    }
    return conv_s16(params, quant, input_dims, input, filter_dims, filter, bias, NULL, output_dims, output);
}

TML_API tml_status tml_conv_s16_bias32(const tml_conv_params *params, const tml_per_channel_quant *quant,
                                       const tml_dims *input_dims, const int16_t *input, const tml_dims *filter_dims,
                                       const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                       int16_t *output, void *scratch)
{
    (void)scratch;
    return conv_s16(params, quant, input_dims, input, filter_dims, filter, NULL, bias, output_dims, output);
}
