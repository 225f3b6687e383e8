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
 * dilation_w 1, the rows an output row reads are copied once more, padded with the value that contributes 0
 * (dw_channel_padded), so every window is whole and reads each row four taps per word against the channel's
 * weights packed once into SXTB16 lane order (two SMLAD per four taps, missing taps weighted 0), starting from
 * input_offset x sum(weights); no per-window tap ranges. The requantization is tml_requant_apply. All exact, so
 * the result is the portable one. Cores without DSP (M0+, M3) take the same padded rows with scalar taps; DSP cores
 * first take four channels at a time where a ring of padded rows fits in the scratch (dw4_channels below).
 */
#include "common.h"
#include "dot_s8.h"
#include "tml_arch.h"
#include "host/host_path.h"

#if TML_USE_DSP || TML_USE_SCALAR_FAST
/* Bytes of the padded input rows of one run of output columns; small, so that the random tests split rows into
 * runs. The packed weights take as many words of four taps. */
#define DW_ROW_BYTES 64
#define DW_MAX_WEIGHTS (DW_ROW_BYTES / 2) /* packed words (DSP) or taps (without) of one channel */
#if TML_USE_DSP
typedef uint32_t dw_weights;
#else
typedef int32_t dw_weights;
#endif
#endif

#if TML_USE_DSP

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
TML_INLINE int32_t dw_window_packed(const int8_t *row, size_t row_step, int32_t k_h, int32_t groups,
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

/* start + a 3-row window of up to four taps a row (rows row_bytes apart) against its six packed weight words. */
TML_INLINE int32_t dw_window3(const int8_t *r, int32_t row_bytes, const uint32_t w[6], int32_t start)
{
    const uint32_t x0 = tml_read_s8x4(r), x1 = tml_read_s8x4(r + row_bytes), x2 = tml_read_s8x4(r + 2 * row_bytes);
    int32_t acc = tml_smlad(tml_sxtb16(x0), w[0], start);
    acc = tml_smlad(tml_sxtb16_ror8(x0), w[1], acc);
    acc = tml_smlad(tml_sxtb16(x1), w[2], acc);
    acc = tml_smlad(tml_sxtb16_ror8(x1), w[3], acc);
    acc = tml_smlad(tml_sxtb16(x2), w[4], acc);
    return tml_smlad(tml_sxtb16_ror8(x2), w[5], acc);
}

/*
 * Channel c of every batch from its saved plane, every window whole: for a run of output columns, the k_h input rows
 * it reads are copied into `rows` (row_bytes each), each tap outside the input set to -input_offset. Such a tap adds
 * w * (-input_offset + input_offset) = 0, as TFLM's skipped tap adds nothing, so no window needs clipping and all
 * read four taps per word; `folded` is input_offset x sum(weights). Needs dilation_w 1, -input_offset in int8 (true
 * for every int8 zero point) and 4 * groups * k_h <= DW_ROW_BYTES.
 */
/* One run of output pixels from padded rows (see dw_channel_padded): window i starts at rows + i * stride_w. Not
 * inlined: on its own it keeps the 3-row filter's six weight words in registers (inlined, they were spilled and
 * reloaded for every output: 53 instructions an output against about 30). */
static __attribute__((noinline)) void dw_run(const int8_t *rows, int32_t row_bytes, int32_t run, int32_t stride_w,
                                             int32_t k_h, int32_t window_w, const uint32_t *packed, int32_t folded,
                                             const int32_t *bias, int32_t c, const tml_requant *q,
                                             const tml_depthwise_conv_params *params, int32_t channels, int8_t *o)
{
    const int32_t groups = window_w / 4;
    const int32_t out_offset = params->output_offset, act_min = params->activation_min;
    const int32_t act_max = params->activation_max;
    if (k_h == 3 && groups == 1) {
        /* The common 3 x (up to 4) filter: its six weight words stay in registers. */
        const uint32_t w[6] = {packed[0], packed[1], packed[2], packed[3], packed[4], packed[5]};
        if (bias != NULL && act_min == -128 && act_max == 127 && q->left_shift == 0 && q->right_shift >= 2) {
            /* The usual layer: the bias folded into the start, tml_requant_shr2 and one SSAT per output. */
            const int32_t start = (int32_t)((uint32_t)folded + (uint32_t)bias[c]);
            /* Locals, not q->: an int8 store may alias the record, which would reload it for every output. */
            const int32_t multiplier = q->multiplier, e = q->right_shift;
            for (int32_t i = 0; i < run; i++, o += channels) {
                const int32_t acc = dw_window3(rows + (size_t)i * stride_w, row_bytes, w, start);
                *o = (int8_t)tml_ssat8(tml_requant_shr2(acc, multiplier, e) + out_offset);
            }
            return;
        }
        for (int32_t i = 0; i < run; i++, o += channels) {
            const int32_t acc = dw_window3(rows + (size_t)i * stride_w, row_bytes, w, folded);
            *o = tml_dot_output_s8(acc, bias, c, q, out_offset, act_min, act_max);
        }
        return;
    }
    for (int32_t i = 0; i < run; i++) {
        const int32_t acc = dw_window_packed(rows + (size_t)i * stride_w, (size_t)row_bytes, k_h, groups, packed,
                                             folded);
        *o = tml_dot_output_s8(acc, bias, c, q, out_offset, act_min, act_max);
        o += channels;
    }
}

#elif TML_USE_SCALAR_FAST
/* The weights of channel c as k_h x k_w int32 taps (cores without DSP); returns their sum. */
static int32_t dw_taps_channel(const int8_t *filter, int32_t c, int32_t channels, int32_t taps, int32_t *w)
{
    int32_t sum = 0;
    for (int32_t t = 0; t < taps; t++) {
        w[t] = filter[(size_t)t * channels + c];
        sum += w[t];
    }
    return sum;
}

/* dw_run without DSP (M0+, M3): scalar taps over whole windows, the 3 x 3 filter unrolled. */
static __attribute__((noinline)) void dw_run(const int8_t *rows, int32_t row_bytes, int32_t run, int32_t stride_w,
                                             int32_t k_h, int32_t k_w, const int32_t *w, int32_t folded,
                                             const int32_t *bias, int32_t c, const tml_requant *q,
                                             const tml_depthwise_conv_params *params, int32_t channels, int8_t *o)
{
    const int32_t out_offset = params->output_offset, act_min = params->activation_min;
    const int32_t act_max = params->activation_max;
    const int32_t start = (int32_t)((uint32_t)folded + (bias != NULL ? (uint32_t)bias[c] : 0u));
    const tml_requant rq = *q; /* a local: the int8 store may alias *q */
    for (int32_t i = 0; i < run; i++, o += channels) {
        const int8_t *r = rows + (size_t)i * stride_w;
        int32_t acc = start;
        if (k_h == 3 && k_w == 3) {
            const int8_t *r1 = r + row_bytes, *r2 = r1 + row_bytes;
            acc += w[0] * r[0] + w[1] * r[1] + w[2] * r[2] + w[3] * r1[0] + w[4] * r1[1] + w[5] * r1[2] +
                   w[6] * r2[0] + w[7] * r2[1] + w[8] * r2[2];
        } else {
            for (int32_t ky = 0; ky < k_h; ky++, r += row_bytes) {
                for (int32_t kx = 0; kx < k_w; kx++) {
                    acc += w[ky * k_w + kx] * r[kx];
                }
            }
        }
        *o = (int8_t)tml_clamp_i32(tml_requant_apply(&rq, acc) + out_offset, act_min, act_max);
    }
}
#endif

#if TML_USE_DSP || TML_USE_SCALAR_FAST
/* Sets n bytes (rows of the padded buffer; no library call), a word at a time where that is one STR, as
 * tml_copy_short copies them. */
TML_INLINE void dw_fill(int8_t *to, int8_t value, int32_t n)
{
    int32_t i = 0;
#if TML_ARCH_UNALIGNED_WORDS
    const uint32_t word = (uint32_t)(uint8_t)value * 0x01010101u;
    for (; i + 4 <= n; i += 4) {
        memcpy(to + i, &word, 4);
    }
#endif
    for (; i < n; i++) {
        to[i] = value;
    }
}

/* GCC would turn the short copy and fill loops back into memcpy/memset calls, which cost more than these few bytes. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void dw_channel_padded(const tml_depthwise_conv_params *params, const int8_t *plane, int32_t batches,
                              int32_t in_h, int32_t in_w, int32_t k_h, int32_t window_w, const dw_weights *packed,
                              int32_t folded, const int32_t *bias, int32_t c, const tml_requant *q, int32_t out_h,
                              int32_t out_w, int32_t channels, int8_t *out)
{
    const int8_t pad = (int8_t)(-params->input_offset);
    const int32_t stride_w = params->stride_w;
    const int32_t row_limit = DW_ROW_BYTES / k_h;
    const int32_t run_limit = (row_limit - window_w) / stride_w + 1; /* output columns per run */
    int8_t rows[DW_ROW_BYTES];
    for (int32_t ox0 = 0; ox0 < out_w; ox0 += run_limit) {
        const int32_t run = out_w - ox0 < run_limit ? out_w - ox0 : run_limit;
        const int32_t row_bytes = (run - 1) * stride_w + window_w;
        const int32_t x0 = ox0 * stride_w - params->pad_w; /* input column of byte 0 */
        /* Bytes [0, lo) and [hi, row_bytes) of a row lie outside the input: padding for the whole run. */
        const int32_t lo = x0 >= 0 ? 0 : (-x0 < row_bytes ? -x0 : row_bytes);
        const int32_t hi = in_w - x0 < lo ? lo : (in_w - x0 < row_bytes ? in_w - x0 : row_bytes);
        dw_fill(rows, pad, k_h * row_bytes);
        for (int32_t b = 0; b < batches; b++) {
            const int8_t *in_plane = plane + (size_t)b * in_h * in_w;
            int8_t *out_b = out + (size_t)b * out_h * out_w * channels;
            for (int32_t oy = 0; oy < out_h; oy++) {
                const int32_t iy0 = oy * params->stride_h - params->pad_h;
                for (int32_t ky = 0; ky < k_h && hi > lo; ky++) {
                    const int32_t iy = iy0 + ky * params->dilation_h;
                    int8_t *dst = rows + (size_t)ky * row_bytes + lo;
                    if (iy < 0 || iy >= in_h) {
                        dw_fill(dst, pad, hi - lo);
                    } else {
                        tml_copy_short(dst, in_plane + (size_t)iy * in_w + x0 + lo, hi - lo);
                    }
                }
                dw_run(rows, row_bytes, run, stride_w, k_h, window_w, packed, folded, bias, c, q, params, channels,
                       out_b + ((size_t)oy * out_w + ox0) * channels);
            }
        }
    }
}
#endif

#if TML_USE_DSP
/*
 * Four channels at a time (channels c .. c+3 of every pixel are one word in NHWC). Each input row an output row
 * reads is copied once, before any output overwrites it, into a ring of R = (k_h - 1) x dilation_h + 1 rows of
 * words, padded left and right with columns of -input_offset (a tap there adds w x (x + input_offset) = 0, as the
 * reference's skipped tap adds nothing). A tap is then one LDR, two SXTB16 (channels c, c+2 and c+1, c+3) and four
 * SMLABB/SMLATT against the four channels' weights, packed once per group as int16 lanes in the same order.
 * Output row oy overwrites input pixels below row oy + 1 (out_w <= in_w), and the ring already holds every row up
 * to oy x stride_h - pad_h + (k_h - 1) x dilation_h, which is >= oy when (k_h - 1) x dilation_h >= pad_h.
 */
#define DW4_MAX_TAPS 25

typedef struct {
    uint32_t weights[2 * DW4_MAX_TAPS]; /* per tap: channels (c, c+2), then (c+1, c+3), as int16 lanes */
    int32_t start[4];                   /* bias + input_offset x sum(weights), per channel */
    int32_t round[4], shift[4]; /* tml_requant_shr2_prepared's (with q[i].multiplier), the output offset in round */
    tml_requant q[4];
    int fast; /* every shift in [-23, -2], multiplier >= 0, no left shift and the clamp [-128, 127] */
} dw4_group;

/* The geometry of the ring: rows, words per row (left padding, input, right padding), and whether it fits. */
typedef struct {
    int32_t rows, row_words, pad_right;
} dw4_ring;

static int dw4_ring_plan(const tml_depthwise_conv_params *p, const tml_dims *in, const tml_dims *f,
                         const tml_dims *out, dw4_ring *ring)
{
    const int32_t reach_h = (f->h - 1) * p->dilation_h, reach_w = (f->w - 1) * p->dilation_w;
    const int32_t last_x = (out->w - 1) * p->stride_w - p->pad_w + reach_w; /* rightmost input column read */
    ring->rows = reach_h + 1;
    ring->pad_right = last_x >= in->w ? last_x - in->w + 1 : 0;
    ring->row_words = p->pad_w + in->w + ring->pad_right;
    const int64_t bytes = (int64_t)ring->rows * ring->row_words * 4 + 3; /* + 3: aligned to a word in scratch */
    return in->c >= 4 && reach_h >= p->pad_h && f->h * f->w <= DW4_MAX_TAPS &&
           bytes <= (int64_t)in->n * in->h * in->w && p->input_offset >= -127 && p->input_offset <= 128;
}

static void dw4_pack(const tml_depthwise_conv_params *p, const tml_per_channel_quant *quant, const int8_t *filter,
                     const int32_t *bias, int32_t taps, int32_t channels, int32_t c, dw4_group *g)
{
    int32_t sum[4] = {0, 0, 0, 0};
    g->fast = p->activation_min == -128 && p->activation_max == 127;
    for (int32_t t = 0; t < taps; t++) {
        const int8_t *w = filter + (size_t)t * channels + c;
        g->weights[2 * t] = ((uint32_t)w[0] & 0xFFFFu) | ((uint32_t)w[2] << 16);
        g->weights[2 * t + 1] = ((uint32_t)w[1] & 0xFFFFu) | ((uint32_t)w[3] << 16);
        for (int32_t i = 0; i < 4; i++) {
            sum[i] += w[i];
        }
    }
    for (int32_t i = 0; i < 4; i++) {
        const uint32_t folded = (uint32_t)p->input_offset * (uint32_t)sum[i];
        g->start[i] = (int32_t)(folded + (bias != NULL ? (uint32_t)bias[c + i] : 0u));
        g->q[i] = tml_requant_prepare(quant->multiplier[c + i], quant->shift[c + i]);
        /* e <= 23: high (below 2^30 in magnitude) + round (below 2^29) stays in int32. */
        const int32_t e = g->q[i].right_shift;
        g->fast &= g->q[i].left_shift == 0 && e >= 2 && e <= 23 && g->q[i].multiplier >= 0;
        g->round[i] = g->fast ? (1 << (e - 2)) + (int32_t)((uint32_t)p->output_offset << (e - 1)) : 0;
        g->shift[i] = e - 1;
    }
}

/* acc[0..3] + one tap: channels c, c+2 from the even bytes of x, c+1, c+3 from the odd ones. */
#define DW4_TAP(x, w, acc)                                                                                          \
    do {                                                                                                           \
        const uint32_t x_ = (x), even_ = tml_sxtb16(x_), odd_ = tml_sxtb16_ror8(x_);                                \
        acc##0 = tml_smlabb(even_, (w)[0], acc##0);                                                                \
        acc##2 = tml_smlatt(even_, (w)[0], acc##2);                                                                \
        acc##1 = tml_smlabb(odd_, (w)[1], acc##1);                                                                 \
        acc##3 = tml_smlatt(odd_, (w)[1], acc##3);                                                                 \
    } while (0)

/* One output of channel i. fast: every shift <= -2, no left shift and the clamp [-128, 127]. */
TML_INLINE int8_t dw4_output(const dw4_group *g, int32_t i, int fast, int32_t acc, int32_t out_offset,
                             int32_t act_min, int32_t act_max)
{
    return fast ? (int8_t)tml_ssat8(tml_requant_shr2_prepared(acc, g->q[i].multiplier, g->round[i], g->shift[i]))
                : (int8_t)tml_clamp_i32(tml_requant_apply(&g->q[i], acc) + out_offset, act_min, act_max);
}

TML_INLINE void dw4_store(const dw4_group *g, int fast, int32_t out_offset, int32_t act_min, int32_t act_max,
                          int32_t a0, int32_t a1, int32_t a2, int32_t a3, int8_t *o)
{
    o[0] = dw4_output(g, 0, fast, a0, out_offset, act_min, act_max);
    o[1] = dw4_output(g, 1, fast, a1, out_offset, act_min, act_max);
    o[2] = dw4_output(g, 2, fast, a2, out_offset, act_min, act_max);
    o[3] = dw4_output(g, 3, fast, a3, out_offset, act_min, act_max);
}

/* One output row of one group: `rows` are the ring rows of its taps (k_h of them), column j of a row is word j. */
TML_INLINE void dw4_row(const uint32_t *const *rows, int32_t k_h, int32_t k_w, int32_t dilation_w, int32_t stride_w,
                        int32_t out_w, const dw4_group *g, int fast, const tml_depthwise_conv_params *p,
                        int32_t channels, int8_t *o)
{
    const int32_t out_offset = p->output_offset, act_min = p->activation_min, act_max = p->activation_max;
    for (int32_t ox = 0, j = 0; ox < out_w; ox++, j += stride_w, o += channels) {
        int32_t a0 = g->start[0], a1 = g->start[1], a2 = g->start[2], a3 = g->start[3];
        const uint32_t *w = g->weights;
        for (int32_t ky = 0; ky < k_h; ky++) {
            const uint32_t *r = rows[ky] + j;
            for (int32_t kx = 0; kx < k_w; kx++, w += 2) {
                DW4_TAP(r[kx * dilation_w], w, a);
            }
        }
        dw4_store(g, fast, out_offset, act_min, act_max, a0, a1, a2, a3, o);
    }
}

/*
 * One tap of the 3 x 3 filter in assembly: GCC 12 computes the four accumulators one after another, keeping the
 * widened inputs on the stack (about 180 instructions a pixel against these 72).
 */
#define DW4_ASM_TAP(row, x_offset, w_offset)                                                                       \
    "ldr %[x], [%[" row "], #" x_offset "]\n\t"                                                                   \
    "ldrd %[wa], %[wb], [%[w], #" w_offset "]\n\t"                                                                \
    "sxtb16 %[e], %[x]\n\t"                                                                                       \
    "sxtb16 %[x], %[x], ror #8\n\t"                                                                               \
    "smlabb %[a0], %[e], %[wa], %[a0]\n\t"                                                                        \
    "smlatt %[a2], %[e], %[wa], %[a2]\n\t"                                                                        \
    "smlabb %[a1], %[x], %[wb], %[a1]\n\t"                                                                        \
    "smlatt %[a3], %[x], %[wb], %[a3]\n\t"

/* The 3 x 3 filter with dilation_w 1 and the fast requantization (its rounding carries the output offset). */
static __attribute__((noinline)) void dw4_row_3x3(const uint32_t *const *rows, int32_t stride_w, int32_t out_w,
                                                  const dw4_group *g, int32_t channels, int8_t *o)
{
    const uint32_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2];
    const uint32_t *w = g->weights;
    for (int32_t ox = 0; ox < out_w; ox++, r0 += stride_w, r1 += stride_w, r2 += stride_w, o += channels) {
        int32_t a0 = g->start[0], a1 = g->start[1], a2 = g->start[2], a3 = g->start[3];
        uint32_t x, e, wa, wb;
        __asm__(DW4_ASM_TAP("r0", "0", "0") DW4_ASM_TAP("r0", "4", "8") DW4_ASM_TAP("r0", "8", "16")
                DW4_ASM_TAP("r1", "0", "24") DW4_ASM_TAP("r1", "4", "32") DW4_ASM_TAP("r1", "8", "40")
                DW4_ASM_TAP("r2", "0", "48") DW4_ASM_TAP("r2", "4", "56") DW4_ASM_TAP("r2", "8", "64")
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "=&r"(x), [e] "=&r"(e),
                  [wa] "=&r"(wa), [wb] "=&r"(wb)
                : [r0] "r"(r0), [r1] "r"(r1), [r2] "r"(r2), [w] "r"(w), "m"(*(const uint32_t(*)[18])w),
                  "m"(*(const uint32_t(*)[3])r0), "m"(*(const uint32_t(*)[3])r1), "m"(*(const uint32_t(*)[3])r2));
        dw4_store(g, 1, 0, -128, 127, a0, a1, a2, a3, o);
    }
}

static __attribute__((noinline)) void dw4_row_any(const uint32_t *const *rows, int32_t k_h, int32_t k_w,
                                                  int32_t stride_w, int32_t out_w, const dw4_group *g, int fast,
                                                  const tml_depthwise_conv_params *p, int32_t channels, int8_t *o)
{
    dw4_row(rows, k_h, k_w, p->dilation_w, stride_w, out_w, g, fast, p, channels, o);
}

/* Channels [0, 4 x groups) through the ring; returns how many channels it computed (0 when the ring does not fit). */
static int32_t dw4_channels(const tml_depthwise_conv_params *p, const tml_per_channel_quant *quant,
                            const tml_dims *in, const tml_dims *f, const int8_t *filter, const int32_t *bias,
                            const tml_dims *out, int8_t *data, void *scratch)
{
    dw4_ring ring;
    if (!dw4_ring_plan(p, in, f, out, &ring) || !tml_dot_multipliers_ok(quant->multiplier, in->c)) {
        return 0;
    }
    const int32_t channels = in->c, k_h = f->h, k_w = f->w, in_h = in->h, in_w = in->w;
    uint32_t *words = (uint32_t *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
    const uint32_t pad = (uint32_t)(uint8_t)(int8_t)(-p->input_offset) * 0x01010101u;
    const int32_t ring_words = ring.rows * ring.row_words;
    for (int32_t i = 0; i < ring_words; i++) {
        words[i] = pad; /* the padding columns stay; copies write only the input columns */
    }
    /* Locals, not p-> and out->: the ring's word stores may alias those structs, which would reload them. */
    const int32_t pad_h = p->pad_h, pad_w = p->pad_w, stride_h = p->stride_h, dilation_h = p->dilation_h;
    const int32_t out_h = out->h, out_w = out->w, rows_in_ring = ring.rows, row_words = ring.row_words;
    const int unrolled = k_h == 3 && k_w == 3 && p->dilation_w == 1;
    dw4_group g;
    const int32_t groups = channels / 4;
    for (int32_t gi = 0; gi < groups; gi++) {
        const int32_t c = 4 * gi;
        dw4_pack(p, quant, filter, bias, k_h * k_w, channels, c, &g);
        for (int32_t b = 0; b < in->n; b++) {
            const int8_t *image = data + (size_t)b * in_h * in_w * channels + c;
            int8_t *out_b = data + (size_t)b * out_h * out_w * channels + c;
            /* Ring slot of input row iy: (iy + pad_h) mod rows; `first` is that of the window's first row. */
            int32_t next = -pad_h, next_slot = 0, first = 0;
            for (int32_t oy = 0; oy < out_h; oy++, first = (first + stride_h) % rows_in_ring) {
                const int32_t y0 = oy * stride_h - pad_h, y1 = y0 + (k_h - 1) * dilation_h;
                if (next < y0) {
                    next = y0;
                    next_slot = first;
                }
                for (; next <= y1; next++, next_slot = next_slot + 1 == rows_in_ring ? 0 : next_slot + 1) {
                    uint32_t *row = words + (size_t)next_slot * row_words + pad_w;
                    if (next < 0 || next >= in_h) {
                        for (int32_t x = 0; x < in_w; x++) {
                            row[x] = pad;
                        }
                        continue;
                    }
                    const int8_t *src = image + (size_t)next * in_w * channels;
                    for (int32_t x = 0; x < in_w; x++) {
                        row[x] = tml_read_s8x4(src + (size_t)x * channels);
                    }
                }
                const uint32_t *rows[DW4_MAX_TAPS];
                for (int32_t ky = 0, slot = first; ky < k_h; ky++) {
                    rows[ky] = words + (size_t)slot * row_words;
                    slot += dilation_h;
                    slot -= slot >= rows_in_ring ? rows_in_ring : 0;
                }
                int8_t *o = out_b + (size_t)oy * out_w * channels;
                if (g.fast && unrolled) {
                    dw4_row_3x3(rows, p->stride_w, out_w, &g, channels, o);
                } else {
                    dw4_row_any(rows, k_h, k_w, p->stride_w, out_w, &g, g.fast, p, channels, o);
                }
            }
        }
    }
    return 4 * groups;
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
#if TML_USE_DSP || TML_USE_SCALAR_FAST
    /* Windows from padded rows (dw_channel_padded): with DSP, whole words of four taps a row. */
    dw_weights packed[DW_MAX_WEIGHTS];
    const int32_t window_w = TML_USE_DSP ? 4 * ((k_w + 3) / 4) : k_w;
    const int padded_ok = params->dilation_w == 1 && window_w * k_h <= (TML_USE_DSP ? DW_ROW_BYTES : DW_MAX_WEIGHTS) &&
                          input_offset >= -127 && input_offset <= 128;
    int32_t folded = 0;
#endif

    int32_t first = 0; /* channels a host SIMD path or the four-channel path computed */
#if TML_USE_DSP
    first = dw4_channels(params, quant, input_dims, filter_dims, filter, bias, output_dims, data, scratch);
#endif
#if TML_USE_HOST_SIMD
    tml_host_depthwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output, &first);
#endif
    for (int32_t c = first; c < channels; c++) {
        const int fast_requant = (TML_USE_DSP || TML_USE_SCALAR_FAST) && quant->multiplier[c] != INT32_MIN;
        const tml_requant q = tml_requant_prepare(quant->multiplier[c], quant->shift[c]);
#if TML_USE_DSP
        if (padded_ok) {
            folded = (int32_t)((uint32_t)input_offset *
                               (uint32_t)dw_pack_channel(filter, c, channels, k_h, k_w, window_w / 4, packed));
        }
#elif TML_USE_SCALAR_FAST
        if (padded_ok) {
            folded = (int32_t)((uint32_t)input_offset * (uint32_t)dw_taps_channel(filter, c, channels, k_h * k_w, packed));
        }
#endif
        /* Save channel c of every batch: plane[(b * in_h + y) * in_w + x]. */
        for (size_t p = 0; p < (size_t)batches * in_pixels; p++) {
            plane[p] = data[p * (size_t)channels + (size_t)c];
        }
#if TML_USE_DSP || TML_USE_SCALAR_FAST
        if (padded_ok && fast_requant) {
            dw_channel_padded(params, plane, batches, in_h, in_w, k_h, window_w, packed, folded, bias, c, &q, out_h,
                              out_w, channels, data + c);
            continue;
        }
#endif
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
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
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
