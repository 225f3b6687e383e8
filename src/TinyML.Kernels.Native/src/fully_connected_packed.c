/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fully_connected_packed.c: tml_fully_connected_s8_packed, the int8 matrix product on weights the compiler packed at
 * build time. It serves FULLY_CONNECTED and CONV_2D 1x1 stride 1 (whose pixels are the rows of a matrix product).
 *
 * What the compiler did, once, that an interpreter would do per call or not at all:
 *   - the input offset is folded into the bias: sum_d w[o][d] * (x[d] + offset) + bias[o]
 *     = sum_d w[o][d] * x[d] + (bias[o] + offset * sum_d w[o][d]), equal in wrapping int32 arithmetic, so the inner
 *     loop multiplies raw activations;
 *   - the rows are interleaved four at a time (TML_PACKED_ROWS, layout in tml_kernels.h) in chunks of the depth
 *     the target's inner loop reads at once: 4 bytes for the DSP path (one word per row, LDRD/LDM), 16 for
 *     Helium (one vector per row, VMLADAVA). One pass over the activations feeds four output units;
 *   - on a DSP core, where the flash allows, the weights are widened to int16 in SXTB16's lane order
 *     (TML_PACKED_CHUNK_WORD_S16), so the inner loop widens only the activations: twice the flash for that layer,
 *     about a third fewer instructions per MAC.
 * Requantization, offsets and clamping are TFLM's (FullyConnectedPerChannel, or FullyConnected with a zero filter
 * offset): the result is byte-identical with tml_fully_connected_s8 on the unpacked weights.
 */
#include "common.h"
#include "dot_s8.h"
#include "packed_matmul.h"
#include "host/host_path.h"

#if TML_USE_MVE
#include <arm_mve.h>
#endif

#define TML_PACKED_ROWS 4

/* The bias of output o (0 without one). */
TML_INLINE int32_t packed_bias(const int32_t *bias, int32_t o)
{
    return bias != NULL ? bias[o] : 0;
}

/* acc[j] += row j of a packed group . in: each activation is read once for the four rows (the reuse that matters
 * on a core without SIMD). chunk is a constant at each call, so the inner loop unrolls. */
TML_INLINE void packed_group_dot(const int8_t *w, const int8_t *in, int32_t depth, int32_t chunk, int32_t acc[4])
{
    const int32_t whole = depth - depth % chunk;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t k = 0;
    for (; k < whole; k += chunk, w += TML_PACKED_ROWS * chunk) {
        for (int32_t t = 0; t < chunk; t++) {
            const int32_t x = in[k + t];
            a0 += w[t] * x;
            a1 += w[chunk + t] * x;
            a2 += w[2 * chunk + t] * x;
            a3 += w[3 * chunk + t] * x;
        }
    }
    for (; k < depth; k++, w += TML_PACKED_ROWS) {
        const int32_t x = in[k];
        a0 += w[0] * x;
        a1 += w[1] * x;
        a2 += w[2] * x;
        a3 += w[3] * x;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* TFLM's requantization, offset and clamp of one output. */
TML_INLINE int8_t packed_output_portable(int32_t acc, const tml_per_channel_quant *quant, int32_t qi,
                                         const tml_fully_connected_packed_params *p)
{
    acc = tml_mul_by_quantized_multiplier(acc, quant->multiplier[qi], quant->shift[qi]) + p->output_offset;
    return (int8_t)tml_clamp_i32(acc, p->activation_min, p->activation_max);
}

/* Weight i of an int16 group (TML_PACKED_CHUNK_WORD_S16), stored little-endian; read by bytes, so any alignment and
 * host byte order will do. */
TML_INLINE int32_t packed_s16_at(const int8_t *group, int32_t i)
{
    const uint8_t *b = (const uint8_t *)group + 2 * (size_t)i;
    return (int16_t)(uint16_t)(b[0] | (uint16_t)(b[1] << 8));
}

/* acc[j] += row j of an int16 group . in: per 4 depth steps, row j's words 2j = {k, k+2} and 2j+1 = {k+1, k+3}. */
static void packed_group_dot_s16(const int8_t *group, const int8_t *in, int32_t depth, int32_t acc[4])
{
    const int32_t depth4 = depth & ~3;
    int32_t i = 0;
    for (int32_t k = 0; k < depth4; k += 4) {
        for (int32_t j = 0; j < TML_PACKED_ROWS; j++, i += 4) {
            acc[j] += packed_s16_at(group, i) * in[k] + packed_s16_at(group, i + 1) * in[k + 2] +
                      packed_s16_at(group, i + 2) * in[k + 1] + packed_s16_at(group, i + 3) * in[k + 3];
        }
    }
    for (int32_t k = depth4; k < depth; k++) {
        for (int32_t j = 0; j < TML_PACKED_ROWS; j++, i++) {
            acc[j] += packed_s16_at(group, i) * in[k];
        }
    }
}

/* The four outputs of one group: bias, then row j's dot product from `dot`, requantized. */
#define PACKED_PORTABLE_GROUP(dot)                                                                                  \
    do {                                                                                                           \
        int32_t acc[4] = {packed_bias(bias, o), packed_bias(bias, o + 1), packed_bias(bias, o + 2),                  \
                          packed_bias(bias, o + 3)};                                                               \
        dot;                                                                                                       \
        for (int32_t j = 0; j < TML_PACKED_ROWS; j++) {                                                            \
            output[(size_t)b * units + o + j] = packed_output_portable(acc[j], quant, (o + j) * q_step, p);         \
        }                                                                                                          \
    } while (0)

/* The groups of an int16-layout plan (made for a DSP core) on a core without DSP: a function of its own, so that
 * the int8 layouts' loops below keep their registers (inlined, it cost the M0+ 10-15% on every packed layer). */
static __attribute__((noinline)) void packed_portable_s16(const tml_fully_connected_packed_params *p,
                                                           const tml_per_channel_quant *quant, int32_t batches,
                                                           int32_t depth, int32_t units, const int8_t *input,
                                                           const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t q_step = p->per_channel ? 1 : 0;
    for (int32_t o = 0; o + TML_PACKED_ROWS <= units; o += TML_PACKED_ROWS) {
        const int8_t *w = filter + (size_t)o * depth * 2;
        for (int32_t b = 0; b < batches; b++) {
            PACKED_PORTABLE_GROUP(packed_group_dot_s16(w, input + (size_t)b * depth, depth, acc));
        }
    }
}

/* noinline (as the DSP paths below): its frame stays out of tml_packed_rows's, which every path's chain carries. */
static __attribute__((noinline)) void packed_portable(const tml_fully_connected_packed_params *p,
                                                      const tml_per_channel_quant *quant,
                            int32_t batches, int32_t depth, int32_t units, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output)
{
    const int32_t q_step = p->per_channel ? 1 : 0;
    int32_t o = units - units % TML_PACKED_ROWS;
    if (p->chunk == TML_PACKED_CHUNK_WORD_S16) {
        packed_portable_s16(p, quant, batches, depth, units, input, filter, bias, output);
    } else {
        for (o = 0; o + TML_PACKED_ROWS <= units; o += TML_PACKED_ROWS) {
            const int8_t *w = filter + (size_t)o * depth;
            for (int32_t b = 0; b < batches; b++) {
                const int8_t *in = input + (size_t)b * depth;
                if (p->chunk == TML_PACKED_CHUNK_WORD) {
                    /* unrolled: the M0+'s and M3's plans */
                    PACKED_PORTABLE_GROUP(packed_group_dot(w, in, depth, TML_PACKED_CHUNK_WORD, acc));
                } else {
                    PACKED_PORTABLE_GROUP(packed_group_dot(w, in, depth, p->chunk, acc));
                }
            }
        }
    }
    const int8_t *rest = filter + tml_packed_group_bytes(p->chunk, depth, units);
    for (; o < units; o++) {
        const int8_t *w = rest + (size_t)(o - (units & ~3)) * depth;
        for (int32_t b = 0; b < batches; b++) {
            const int8_t *in = input + (size_t)b * depth;
            int32_t acc = packed_bias(bias, o);
            for (int32_t k = 0; k < depth; k++) {
                acc += w[k] * in[k];
            }
            output[(size_t)b * units + o] = packed_output_portable(acc, quant, o * q_step, p);
        }
    }
}

#if TML_USE_DSP
/* Two rows of a packed group (w points at their first word: the group's start, or its third word) times two
 * activation rows, over the whole-word part of the depth: acc = {x0.w0, x0.w1, x1.w0, x1.w1} added. */
TML_INLINE void packed_dot_2x2(const uint32_t *w, const int8_t *x0, const int8_t *x1, int32_t depth4, int32_t acc[4])
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    for (int32_t k = 0; k < depth4; k += 4, w += TML_PACKED_ROWS) {
        const uint32_t a0 = tml_read_s8x4(x0 + k), a1 = tml_read_s8x4(x1 + k);
        const uint32_t w0 = w[0], w1 = w[1];
        const uint32_t a0e = tml_sxtb16(a0), a0o = tml_sxtb16_ror8(a0);
        const uint32_t a1e = tml_sxtb16(a1), a1o = tml_sxtb16_ror8(a1);
        const uint32_t w0e = tml_sxtb16(w0), w0o = tml_sxtb16_ror8(w0);
        s00 = tml_smlad(a0o, w0o, tml_smlad(a0e, w0e, s00));
        s10 = tml_smlad(a1o, w0o, tml_smlad(a1e, w0e, s10));
        const uint32_t w1e = tml_sxtb16(w1), w1o = tml_sxtb16_ror8(w1);
        s01 = tml_smlad(a0o, w1o, tml_smlad(a0e, w1e, s01));
        s11 = tml_smlad(a1o, w1o, tml_smlad(a1e, w1e, s11));
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

/* The four rows of a packed group times one activation row, over the whole-word part of the depth. */
TML_INLINE void packed_dot_4x1(const uint32_t *w, const int8_t *x, int32_t depth4, int32_t acc[4])
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    for (int32_t k = 0; k < depth4; k += 4, w += TML_PACKED_ROWS) {
        const uint32_t a = tml_read_s8x4(x + k);
        const uint32_t ae = tml_sxtb16(a), ao = tml_sxtb16_ror8(a);
        const uint32_t w0 = w[0], w1 = w[1];
        s0 = tml_smlad(ao, tml_sxtb16_ror8(w0), tml_smlad(ae, tml_sxtb16(w0), s0));
        s1 = tml_smlad(ao, tml_sxtb16_ror8(w1), tml_smlad(ae, tml_sxtb16(w1), s1));
        const uint32_t w2 = w[2], w3 = w[3];
        s2 = tml_smlad(ao, tml_sxtb16_ror8(w2), tml_smlad(ae, tml_sxtb16(w2), s2));
        s3 = tml_smlad(ao, tml_sxtb16_ror8(w3), tml_smlad(ae, tml_sxtb16(w3), s3));
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* Adds the depth's last (depth & 3) elements to the accumulators of rows j0 and j0 + 1 of a group (its tail
 * holds one byte per row per element) for activations x, or of all four rows when all4. */
static void packed_tails(const int8_t *tail, const int8_t *x, int32_t depth4, int32_t depth, int32_t j0, int all4,
                         int32_t *acc)
{
    for (int32_t j = 0; j < (all4 ? TML_PACKED_ROWS : 2); j++) {
        for (int32_t k = depth4; k < depth; k++) {
            acc[j] += tail[(k - depth4) * TML_PACKED_ROWS + j0 + j] * x[k];
        }
    }
}

/*
 * The int16 layout's inner loop, four rows x one activation row, 4 depth steps per step: one LDR of activations,
 * two SXTB16, two LDM of four weight words, eight SMLAD (16 MACs in 13 instructions, four steps per pass of the
 * loop). Assembly because GCC 12 neither keeps the four accumulators, two activation halves and four weight words in
 * registers nor loads the weights with LDM. The weights go through r8-r11 (an LDM needs named registers).
 */
#define PACKED_S16_STEP                                                                                             \
    "ldr %[xo], [%[x]], #4\n\t"                                                                                     \
    "sxtb16 %[xe], %[xo]\n\t"                                                                                       \
    "sxtb16 %[xo], %[xo], ror #8\n\t"                                                                               \
    "ldmia %[w]!, {r8, r9, r10, r11}\n\t"                                                                           \
    "smlad %[s0], %[xe], r8, %[s0]\n\t"                                                                             \
    "smlad %[s0], %[xo], r9, %[s0]\n\t"                                                                             \
    "smlad %[s1], %[xe], r10, %[s1]\n\t"                                                                            \
    "smlad %[s1], %[xo], r11, %[s1]\n\t"                                                                            \
    "ldmia %[w]!, {r8, r9, r10, r11}\n\t"                                                                           \
    "smlad %[s2], %[xe], r8, %[s2]\n\t"                                                                             \
    "smlad %[s2], %[xo], r9, %[s2]\n\t"                                                                             \
    "smlad %[s3], %[xe], r10, %[s3]\n\t"                                                                            \
    "smlad %[s3], %[xo], r11, %[s3]\n\t"
#define PACKED_S16_OPERANDS                                                                                         \
    : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [w] "+r"(w), [x] "+r"(x), [xe] "=&r"(xe),          \
      [xo] "=&r"(xo)                                                                                                \
    : [end] "r"(end)                                                                                                \
    : "r8", "r9", "r10", "r11", "cc", "memory"

/* The four rows of an int16 group (w: its first word, word-aligned) times one activation row x, over depth4 (a
 * multiple of 4) elements; returns w past them. One assembly block: the one or two steps of depth4 % 16 first
 * (picked by bits 2 and 3 of the distance left, which a step of 4 does not change in bit 3), then four steps per
 * pass. */
TML_INLINE const uint32_t *packed_s16_dot_4x1(const uint32_t *w, const int8_t *x, int32_t depth4, int32_t acc[4])
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    uint32_t xe, xo;
    const int8_t *const end = x + depth4;
    __asm__ volatile("sub %[xe], %[end], %[x]\n\t"
                     "tst %[xe], #4\n\t"
                     "beq 1f\n\t" PACKED_S16_STEP
                     "1:\n\t"
                     "sub %[xe], %[end], %[x]\n\t"
                     "tst %[xe], #8\n\t"
                     "beq 2f\n\t" PACKED_S16_STEP PACKED_S16_STEP
                     "2:\n\t"
                     "cmp %[x], %[end]\n\t"
                     "beq 4f\n\t"
                     "3:\n\t" PACKED_S16_STEP PACKED_S16_STEP PACKED_S16_STEP PACKED_S16_STEP
                     "cmp %[x], %[end]\n\t"
                     "bne 3b\n\t"
                     "4:\n\t" PACKED_S16_OPERANDS);
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
    return w;
}

/* The depth's last n (1 to 3) elements x[0..n) of an int16 group: four int16 weights per element, two words (row 0
 * low, row 1 high; rows 2 and 3), each half times the activation by SMLABB / SMLATB; returns the tail's end (the
 * next group). Assembly, as the dot product: in C the loop's registers cost the group loop a few spills. */
TML_INLINE const uint32_t *packed_s16_tails(const uint32_t *w, const int8_t *x, int32_t n, int32_t acc[4])
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    int32_t v;
    uint32_t a, b;
    __asm__ volatile("1:\n\t"
                     "ldrsb %[v], [%[x]], #1\n\t"
                     "ldrd %[a], %[b], [%[w]], #8\n\t"
                     "smlabb %[s0], %[a], %[v], %[s0]\n\t"
                     "smlatb %[s1], %[a], %[v], %[s1]\n\t"
                     "smlabb %[s2], %[b], %[v], %[s2]\n\t"
                     "smlatb %[s3], %[b], %[v], %[s3]\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [w] "+r"(w), [x] "+r"(x),
                       [n] "+r"(n), [v] "=&r"(v), [a] "=&r"(a), [b] "=&r"(b)
                     :
                     : "cc", "memory");
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
    return w;
}

/* What the DSP path's output stage may assume, proven once per call (tml_packed_choose); a constant at each call, so
 * each combination compiles to its own loops. */
#define PACKED_SHR2 1       /* every shift <= -2: tml_requant_shr2 */
#define PACKED_FULL_RANGE 2 /* the clamp is [-128, 127]: one SSAT */

/* What one call's outputs share, read once into locals: an int8 store may alias the structs they come from, which
 * would reload them for every output. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t offset, min, max;
} packed_out_params;

TML_INLINE packed_out_params packed_out_params_of(const tml_fully_connected_packed_params *p,
                                                  const tml_per_channel_quant *quant)
{
    const packed_out_params o = {quant->multiplier, quant->shift, p->output_offset, p->activation_min,
                                 p->activation_max};
    return o;
}

/* The int8 output of an accumulator that already holds its bias. */
TML_INLINE int8_t packed_output(int32_t acc, const packed_out_params *o, int32_t qi, int mode)
{
    int32_t v;
    if (mode & PACKED_SHR2) {
        v = tml_requant_shr2(acc, o->multiplier[qi], -o->shift[qi]);
    } else {
        const tml_requant q = tml_requant_prepare(o->multiplier[qi], o->shift[qi]);
        v = tml_requant_apply(&q, acc);
    }
    v += o->offset;
    return (int8_t)((mode & PACKED_FULL_RANGE) ? tml_ssat8(v) : tml_clamp_i32(v, o->min, o->max));
}

/* The groups of four rows on the DSP path (mode is a constant at each call); filter word-aligned, arguments
 * validated. */
TML_INLINE void packed_dsp_groups_body(const tml_fully_connected_packed_params *p, const tml_per_channel_quant *quant,
                                       int32_t batches, int32_t depth, int32_t units, const int8_t *input,
                                       const int8_t *filter, const int32_t *bias, int8_t *output, int mode)
{
    const int32_t depth4 = depth & ~3;
    const int32_t q_step = p->per_channel ? 1 : 0;
    const packed_out_params stage = packed_out_params_of(p, quant);
    for (int32_t o = 0; o + TML_PACKED_ROWS <= units; o += TML_PACKED_ROWS) {
        const int8_t *group = filter + (size_t)o * depth;
        const uint32_t *words = (const uint32_t *)(const void *)group;
        const int8_t *tail = group + (size_t)depth4 * TML_PACKED_ROWS;
        int32_t b = 0;
        for (; b + 2 <= batches; b += 2) {
            const int8_t *x0 = input + (size_t)b * depth, *x1 = x0 + depth;
            int8_t *out0 = output + (size_t)b * units + o, *out1 = out0 + units;
            for (int32_t j = 0; j < TML_PACKED_ROWS; j += 2) {
                const int32_t b0 = packed_bias(bias, o + j), b1 = packed_bias(bias, o + j + 1);
                int32_t acc[4] = {b0, b1, b0, b1};
                packed_dot_2x2(words + j, x0, x1, depth4, acc);
                if (depth4 != depth) {
                    packed_tails(tail, x0, depth4, depth, j, 0, acc);
                    packed_tails(tail, x1, depth4, depth, j, 0, acc + 2);
                }
                const int32_t q0 = (o + j) * q_step, q1 = (o + j + 1) * q_step;
                out0[j] = packed_output(acc[0], &stage, q0, mode);
                out0[j + 1] = packed_output(acc[1], &stage, q1, mode);
                out1[j] = packed_output(acc[2], &stage, q0, mode);
                out1[j + 1] = packed_output(acc[3], &stage, q1, mode);
            }
        }
        if (b < batches) {
            const int8_t *x = input + (size_t)b * depth;
            int8_t *out = output + (size_t)b * units + o;
            int32_t acc[4] = {packed_bias(bias, o), packed_bias(bias, o + 1), packed_bias(bias, o + 2),
                              packed_bias(bias, o + 3)};
            packed_dot_4x1(words, x, depth4, acc);
            if (depth4 != depth) {
                packed_tails(tail, x, depth4, depth, 0, 1, acc);
            }
            out[0] = packed_output(acc[0], &stage, o * q_step, mode);
            out[1] = packed_output(acc[1], &stage, (o + 1) * q_step, mode);
            out[2] = packed_output(acc[2], &stage, (o + 2) * q_step, mode);
            out[3] = packed_output(acc[3], &stage, (o + 3) * q_step, mode);
        }
    }
}

/* packed_output for PACKED_SHR2 | PACKED_FULL_RANGE, a group's four accumulators stored at out[0..3], in one
 * assembly block: 12 instructions per output with its loads and store (GCC spills the quantization pointers around
 * separate blocks, and builds -shift - 2 in three instructions). Exact: tml_requant_shr2's nudge is the 64-bit 2^30
 * or -2^30 by the sign of acc * multiplier, i.e. high word h = -1 or 0 and low word 2^30 | (h << 31); its rounding
 * shift (high + 2^(e-2)) >> (e-1), e = -shift >= 2, equals ((high >> (e-2)) + 1) >> 1 (floor((y + 1) / 2) =
 * floor((floor(y) + 1) / 2)), and high >> (e-2) is (2 high) >> (e-1) (|high| <= 2^30, so 2 high fits), e - 1 being
 * ~shift; the output offset, doubled, joins the + 1 so that SSAT's own ASR #1 ends it: k2 = 1 + 2 * offset
 * (tml_packed_choose bounds the offset: no overflow). step is "#4" when each output has its own multiplier and
 * shift (read in turn), "#0" when all share the first. */
#define PACKED_OUT4_ONE(acc, step)                                                                                  \
    "ldr %[m], [%[mp]], " step "\n\t"                                                                               \
    "ldr %[sh], [%[shp]], " step "\n\t"                                                                             \
    "eor %[high], %[" acc "], %[m]\n\t"                                                                           \
    "asr %[high], %[high], #31\n\t"                                                                              \
    "orr %[low], %[nudge], %[high], lsl #31\n\t"                                                                 \
    "smlal %[low], %[high], %[" acc "], %[m]\n\t"                                                                 \
    "mvn %[sh], %[sh]\n\t"                                                                                        \
    "lsl %[high], %[high], #1\n\t"                                                                               \
    "asr %[high], %[high], %[sh]\n\t"                                                                            \
    "add %[high], %[high], %[k2]\n\t"                                                                            \
    "ssat %[" acc "], #8, %[high], asr #1\n\t"                                                                    \
    "strb %[" acc "], [%[out]], #1\n\t"
#define PACKED_OUT4(step)                                                                                           \
    __asm__ volatile(PACKED_OUT4_ONE("s0", step) PACKED_OUT4_ONE("s1", step) PACKED_OUT4_ONE("s2", step)             \
                         PACKED_OUT4_ONE("s3", step)                                                                \
                     : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [mp] "+r"(mp), [shp] "+r"(shp),  \
                       [out] "+r"(out), [high] "=&r"(high), [low] "=&r"(low), [m] "=&r"(m), [sh] "=&r"(sh)          \
                     : [nudge] "r"(0x40000000), [k2] "r"(k2)                                                        \
                     : "cc", "memory")

/* Returns out + 4; mp and shp step past the group's four multipliers and shifts when per_channel. */
TML_INLINE int8_t *packed_out4_fast(const int32_t acc[4], const int32_t **mult, const int32_t **shift, int32_t k2,
                                    int8_t *out, int per_channel)
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    const int32_t *mp = *mult, *shp = *shift;
    int32_t high, low, m, sh;
    if (per_channel) {
        PACKED_OUT4("#4");
    } else {
        PACKED_OUT4("#0");
    }
    *mult = mp;
    *shift = shp;
    return out;
}

/* What packed_dsp_s16_groups_body may assume besides the output stage's modes: one multiplier per output unit. */
#define PACKED_PER_CHANNEL 4

/* The groups of four rows in the int16 layout, one activation row at a time (mode as above), activation row r at
 * input + r * stride; filter word-aligned, arguments validated. Rows outermost: a group's weights, tail included,
 * end where the next group's start, so the weight, bias and quantization pointers only step forward within a row. */
TML_INLINE void packed_dsp_s16_groups_body(const tml_fully_connected_packed_params *p,
                                           const tml_per_channel_quant *quant, int32_t rows, int32_t depth,
                                           int32_t units, const int8_t *input, size_t stride, const int8_t *filter,
                                           const int32_t *bias, int8_t *output, int mode)
{
    const int32_t depth4 = depth & ~3;
    const int32_t q_step = p->per_channel ? 1 : 0;
    const packed_out_params stage = packed_out_params_of(p, quant);
    const int fast = (mode & (PACKED_SHR2 | PACKED_FULL_RANGE)) == (PACKED_SHR2 | PACKED_FULL_RANGE);
    const int32_t k2 = 1 + 2 * p->output_offset;
    const int32_t groups_end = units & ~3;
    for (int32_t r = 0; r < rows; r++, input += stride, output += units) {
        const uint32_t *w = (const uint32_t *)(const void *)filter;
        const int32_t *mult = quant->multiplier, *shift = quant->shift;
        for (int32_t o = 0; o < groups_end; o += TML_PACKED_ROWS) {
            int32_t acc[4] = {0, 0, 0, 0};
            if (bias != NULL) {
                acc[0] = bias[o];
                acc[1] = bias[o + 1];
                acc[2] = bias[o + 2];
                acc[3] = bias[o + 3];
            }
            w = packed_s16_dot_4x1(w, input, depth4, acc);
            if (depth4 != depth) {
                w = packed_s16_tails(w, input + depth4, depth - depth4, acc);
            }
            int8_t *out = output + o;
            if (fast) {
                packed_out4_fast(acc, &mult, &shift, k2, out, mode & PACKED_PER_CHANNEL);
            } else {
                out[0] = packed_output(acc[0], &stage, o * q_step, mode);
                out[1] = packed_output(acc[1], &stage, (o + 1) * q_step, mode);
                out[2] = packed_output(acc[2], &stage, (o + 2) * q_step, mode);
                out[3] = packed_output(acc[3], &stage, (o + 3) * q_step, mode);
            }
        }
    }
}

/* The last (units % 4) rows, stored plainly (int8) after the groups. */
static __attribute__((noinline)) void packed_dsp_rest(const tml_fully_connected_packed_params *p, const tml_per_channel_quant *quant, int32_t batches,
                            int32_t depth, int32_t units, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output)
{
    const int32_t q_step = p->per_channel ? 1 : 0;
    const int8_t *rest = filter + tml_packed_group_bytes(p->chunk, depth, units);
    for (int32_t o = units - units % TML_PACKED_ROWS; o < units; o++) {
        const tml_requant q = tml_requant_prepare(quant->multiplier[o * q_step], quant->shift[o * q_step]);
        const int8_t *w = rest + (size_t)(o - (units & ~3)) * depth;
        for (int32_t b = 0; b < batches; b++) {
            const int32_t acc = tml_dot_s8_1x1(input + (size_t)b * depth, w, depth, 0, packed_bias(bias, o));
            output[(size_t)b * units + o] =
                (int8_t)tml_clamp_i32(tml_requant_apply(&q, acc) + p->output_offset, p->activation_min, p->activation_max);
        }
    }
}
#endif

#if TML_USE_MVE
/*
 * TFLM's MultiplyByQuantizedMultiplier on four lanes, exact: VQRDMULH is SaturatingRoundingDoublingHighMul (its
 * rounding, floor((2ab + 2^31) / 2^32), equals gemmlowp's sign-dependent nudge with truncation, and both saturate
 * only at INT32_MIN x INT32_MIN); VRSHL by -e rounds half up, so a negative lane takes 1 off first to round half
 * away from zero as RoundingDivideByPOT does (only where e > 0: the mask is -1 there).
 */
TML_INLINE int32x4_t packed_requant_mve(int32x4_t x, int32x4_t multiplier, int32x4_t left, int32x4_t minus_right,
                                        int32x4_t negative_fix_mask)
{
    const int32x4_t high = vqrdmulhq_s32(vshlq_s32(x, left), multiplier);
    const int32x4_t fixed = vaddq_s32(high, vandq_s32(vshrq_n_s32(high, 31), negative_fix_mask));
    return vrshlq_s32(fixed, minus_right);
}

/* Helium: chunk 16, one VMLADAVA per row per 16 elements, the four outputs of a group requantized as one vector.
 * Filter 4-byte aligned (vector loads of bytes need none, the int32 ones below read the quant arrays). */
static __attribute__((noinline)) void packed_mve(const tml_fully_connected_packed_params *p, const tml_per_channel_quant *quant,
                       int32_t batches, int32_t depth, int32_t units, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output)
{
    const int32_t whole = depth & ~15;
    const int32x4_t offset = vdupq_n_s32(p->output_offset);
    const int32x4_t lo = vdupq_n_s32(p->activation_min), hi = vdupq_n_s32(p->activation_max);
    for (int32_t o = 0; o + TML_PACKED_ROWS <= units; o += TML_PACKED_ROWS) {
        const int8_t *group = filter + (size_t)o * depth;
        const int8_t *tail = group + (size_t)whole * TML_PACKED_ROWS;
        const int32x4_t shift = p->per_channel ? vldrwq_s32(quant->shift + o) : vdupq_n_s32(quant->shift[0]);
        const int32x4_t multiplier =
            p->per_channel ? vldrwq_s32(quant->multiplier + o) : vdupq_n_s32(quant->multiplier[0]);
        const int32x4_t left = vmaxq_s32(shift, vdupq_n_s32(0)), minus_right = vminq_s32(shift, vdupq_n_s32(0));
        const int32x4_t negative_fix_mask = vshrq_n_s32(minus_right, 31);
        const int32x4_t bias4 = bias != NULL ? vldrwq_s32(bias + o) : vdupq_n_s32(0);
        for (int32_t b = 0; b < batches; b++) {
            const int8_t *x = input + (size_t)b * depth;
            const int8_t *w = group;
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (int32_t k = 0; k < whole; k += 16, w += 16 * TML_PACKED_ROWS) {
                const int8x16_t xv = vldrbq_s8(x + k);
                a0 = vmladavaq_s8(a0, xv, vldrbq_s8(w));
                a1 = vmladavaq_s8(a1, xv, vldrbq_s8(w + 16));
                a2 = vmladavaq_s8(a2, xv, vldrbq_s8(w + 32));
                a3 = vmladavaq_s8(a3, xv, vldrbq_s8(w + 48));
            }
            for (int32_t k = whole; k < depth; k++) {
                const int8_t *t = tail + (k - whole) * TML_PACKED_ROWS;
                a0 += t[0] * x[k];
                a1 += t[1] * x[k];
                a2 += t[2] * x[k];
                a3 += t[3] * x[k];
            }
            int32x4_t acc = vsetq_lane_s32(a0, vdupq_n_s32(0), 0);
            acc = vsetq_lane_s32(a1, acc, 1);
            acc = vsetq_lane_s32(a2, acc, 2);
            acc = vsetq_lane_s32(a3, acc, 3);
            acc = packed_requant_mve(vaddq_s32(acc, bias4), multiplier, left, minus_right, negative_fix_mask);
            acc = vminq_s32(vmaxq_s32(vaddq_s32(acc, offset), lo), hi);
            vstrbq_s32(output + (size_t)b * units + o, acc);
        }
    }
}
#endif

tml_packed_path tml_packed_choose(const tml_fully_connected_packed_params *p, const tml_per_channel_quant *quant,
                                  int32_t units, const int8_t *filter)
{
#if TML_USE_DSP
    const int32_t channels = p->per_channel ? units : 1;
    if (((uintptr_t)filter & 3u) != 0 || !tml_dot_multipliers_ok(quant->multiplier, channels)) {
        return TML_PACKED_PORTABLE;
    }
#if TML_USE_MVE
    if (p->chunk == TML_PACKED_CHUNK_VECTOR) {
        return TML_PACKED_MVE;
    }
#endif
    if (p->chunk == TML_PACKED_CHUNK_WORD || p->chunk == TML_PACKED_CHUNK_WORD_S16) {
        int shr2 = 1;
        for (int32_t i = 0; i < channels; i++) {
            shr2 &= quant->shift[i] <= -2;
        }
        /* The offset bound keeps PACKED_OUT4's 1 + 2 * offset and its sums in range. */
        const int fast_output = shr2 && p->activation_min == -128 && p->activation_max == 127 &&
                                p->output_offset >= -65536 && p->output_offset <= 65536;
        if (p->chunk == TML_PACKED_CHUNK_WORD_S16) {
            return fast_output ? TML_PACKED_DSP_S16_SHR2_FULL_RANGE : TML_PACKED_DSP_S16;
        }
        return fast_output ? TML_PACKED_DSP_SHR2_FULL_RANGE : TML_PACKED_DSP;
    }
#else
    (void)quant;
    (void)units;
    (void)filter;
#endif
    (void)p;
    return TML_PACKED_PORTABLE;
}

#if TML_USE_DSP
/* Each instantiation of the int8 and int16 DSP loops is a function of its own: the static stack bound adds the
 * frames along a call chain, and one function holding them all (or the dispatcher holding one) carries the largest
 * spill area of every loop, on top of its callers'. */
#define PACKED_PATH static __attribute__((noinline)) void
#define PACKED_JOB_ARGS const tml_packed_job *job, int32_t rows, const int8_t *input, size_t stride, int8_t *output
#define PACKED_JOB_PASS job->p, job->quant, rows, job->depth, job->units, input

PACKED_PATH packed_s16_fast_per_channel(PACKED_JOB_ARGS)
{
    packed_dsp_s16_groups_body(PACKED_JOB_PASS, stride, job->filter, job->bias, output,
                               PACKED_SHR2 | PACKED_FULL_RANGE | PACKED_PER_CHANNEL);
}

PACKED_PATH packed_s16_fast(PACKED_JOB_ARGS)
{
    packed_dsp_s16_groups_body(PACKED_JOB_PASS, stride, job->filter, job->bias, output, PACKED_SHR2 | PACKED_FULL_RANGE);
}

PACKED_PATH packed_s16_any(PACKED_JOB_ARGS)
{
    packed_dsp_s16_groups_body(PACKED_JOB_PASS, stride, job->filter, job->bias, output, 0);
}

PACKED_PATH packed_int8_fast(PACKED_JOB_ARGS)
{
    (void)stride;
    packed_dsp_groups_body(PACKED_JOB_PASS, job->filter, job->bias, output, PACKED_SHR2 | PACKED_FULL_RANGE);
}

PACKED_PATH packed_int8_any(PACKED_JOB_ARGS)
{
    (void)stride;
    packed_dsp_groups_body(PACKED_JOB_PASS, job->filter, job->bias, output, 0);
}
#endif

#ifndef PACKED_JOB_PASS
#define PACKED_JOB_PASS job->p, job->quant, rows, job->depth, job->units, input
#endif
#define PACKED_JOB_PASS_PORTABLE PACKED_JOB_PASS, job->filter, job->bias, output

void tml_packed_rows(const tml_packed_job *job, int32_t rows, const int8_t *input, size_t stride, int8_t *output)
{
    (void)stride; /* read by the DSP int16 loops only; the other paths are given depth */
    switch (job->path) {
#if TML_USE_DSP
#if TML_USE_MVE
    case TML_PACKED_MVE:
        packed_mve(PACKED_JOB_PASS, job->filter, job->bias, output);
        break;
#endif
    case TML_PACKED_DSP_SHR2_FULL_RANGE:
        packed_int8_fast(job, rows, input, stride, output);
        break;
    case TML_PACKED_DSP:
        packed_int8_any(job, rows, input, stride, output);
        break;
    case TML_PACKED_DSP_S16_SHR2_FULL_RANGE:
        if (job->p->per_channel) {
            packed_s16_fast_per_channel(job, rows, input, stride, output);
        } else {
            packed_s16_fast(job, rows, input, stride, output);
        }
        break;
    case TML_PACKED_DSP_S16:
        packed_s16_any(job, rows, input, stride, output);
        break;
#endif
    default:
#if TML_USE_HOST_SIMD
        if (tml_host_packed_rows(PACKED_JOB_PASS_PORTABLE)) {
            return;
        }
#endif
        packed_portable(PACKED_JOB_PASS_PORTABLE);
        return;
    }
#if TML_USE_DSP
    /* The units % 4 rows stored plainly after the groups. */
    if (job->units % TML_PACKED_ROWS != 0 && stride == (size_t)job->depth) {
        packed_dsp_rest(job->p, job->quant, rows, job->depth, job->units, input, job->filter, job->bias, output);
    } else if (job->units % TML_PACKED_ROWS != 0) {
        for (int32_t r = 0; r < rows; r++) {
            packed_dsp_rest(job->p, job->quant, 1, job->depth, job->units, input + r * stride, job->filter, job->bias,
                            output + (size_t)r * job->units);
        }
    }
#endif
}

int tml_packed_params_valid(const tml_fully_connected_packed_params *p)
{
    return p->activation_min <= p->activation_max && (p->per_channel == 0 || p->per_channel == 1) &&
           (p->chunk == TML_PACKED_CHUNK_WORD || p->chunk == TML_PACKED_CHUNK_VECTOR ||
            p->chunk == TML_PACKED_CHUNK_WORD_S16);
}

TML_API tml_status tml_fully_connected_s8_packed(const tml_fully_connected_packed_params *params,
                                                 const tml_per_channel_quant *quant, int32_t batches,
                                                 int32_t accum_depth, int32_t output_depth, const int8_t *input,
                                                 const int8_t *filter, const int32_t *bias, int8_t *output,
                                                 void *scratch)
{
    (void)scratch;
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || batches <= 0 || accum_depth <= 0 || output_depth <= 0 ||
        !tml_packed_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    const tml_packed_job job = {tml_packed_choose(params, quant, output_depth, filter), params, quant, accum_depth,
                                output_depth, filter, bias};
    tml_packed_rows(&job, batches, input, (size_t)accum_depth, output);
    return TML_OK;
}
