/* SPDX-License-Identifier: Apache-2.0 */
/*
 * packed_weights.h (tests): the layout tml_fully_connected_s8_packed documents in tml_kernels.h, written from that
 * description independently of the compiler's packer (TinyML.Compiler), so a test can feed the kernel without the
 * compiler and compare with tml_fully_connected_s8 on the unpacked weights.
 */
#ifndef TML_TEST_PACKED_WEIGHTS_H
#define TML_TEST_PACKED_WEIGHTS_H

#include <stdint.h>

#include "tml_kernels.h"

/* packed[...] = the rows of w [units][depth] in groups of four, interleaved chunk bytes at a time, then the tail
 * rows. */
static inline void tml_test_pack_rows4(const int8_t *w, int32_t units, int32_t depth, int32_t chunk, int8_t *packed)
{
    const int32_t whole = depth - depth % chunk;
    int32_t n = 0;
    for (int32_t g = 0; g + 4 <= units; g += 4) {
        for (int32_t k = 0; k < whole; k += chunk) {
            for (int32_t row = g; row < g + 4; row++) {
                for (int32_t t = 0; t < chunk; t++) {
                    packed[n++] = w[row * depth + k + t];
                }
            }
        }
        for (int32_t k = whole; k < depth; k++) {
            for (int32_t row = g; row < g + 4; row++) {
                packed[n++] = w[row * depth + k];
            }
        }
    }
    for (int32_t i = units - units % 4; i < units; i++) {
        for (int32_t k = 0; k < depth; k++) {
            packed[n++] = w[i * depth + k];
        }
    }
}

/* Stores v as a little-endian int16 at packed + 2 * i. */
static inline void tml_test_put_s16(int8_t *packed, int32_t i, int32_t v)
{
    packed[2 * i] = (int8_t)(uint8_t)((uint32_t)v & 0xFFu);
    packed[2 * i + 1] = (int8_t)(uint8_t)(((uint32_t)v >> 8) & 0xFFu);
}

/* The TML_PACKED_CHUNK_WORD_S16 layout of tml_kernels.h: per group of four rows and 4 depth steps at k, row j's words
 * {w[j][k], w[j][k+2]} and {w[j][k+1], w[j][k+3]} (int16 halves, low first), then the depth's last elements four
 * int16 per element, then the units % 4 rows as int8. */
static inline void tml_test_pack_rows4_s16(const int8_t *w, int32_t units, int32_t depth, int8_t *packed)
{
    const int32_t depth4 = depth - depth % 4;
    int32_t n = 0; /* int16 values written */
    for (int32_t g = 0; g + 4 <= units; g += 4) {
        for (int32_t k = 0; k < depth4; k += 4) {
            for (int32_t row = g; row < g + 4; row++) {
                const int8_t *x = w + row * depth + k;
                tml_test_put_s16(packed, n++, x[0]);
                tml_test_put_s16(packed, n++, x[2]);
                tml_test_put_s16(packed, n++, x[1]);
                tml_test_put_s16(packed, n++, x[3]);
            }
        }
        for (int32_t k = depth4; k < depth; k++) {
            for (int32_t row = g; row < g + 4; row++) {
                tml_test_put_s16(packed, n++, w[row * depth + k]);
            }
        }
    }
    int8_t *rest = packed + 2 * n;
    for (int32_t i = units - units % 4; i < units; i++) {
        for (int32_t k = 0; k < depth; k++) {
            *rest++ = w[i * depth + k];
        }
    }
}

/* Bytes of a packed layout: the int16 one takes two per weight of its groups. */
static inline int32_t tml_test_packed_bytes(int32_t units, int32_t depth, int32_t chunk)
{
    return chunk == TML_PACKED_CHUNK_WORD_S16 ? 2 * depth * (units - units % 4) + depth * (units % 4) : units * depth;
}

/* Packs w in any layout the kernel takes. */
static inline void tml_test_pack(const int8_t *w, int32_t units, int32_t depth, int32_t chunk, int8_t *packed)
{
    if (chunk == TML_PACKED_CHUNK_WORD_S16) {
        tml_test_pack_rows4_s16(w, units, depth, packed);
    } else {
        tml_test_pack_rows4(w, units, depth, chunk, packed);
    }
}

/* The three layouts, for tests that take one at random. */
static const int32_t tml_test_chunks[3] = {TML_PACKED_CHUNK_WORD, TML_PACKED_CHUNK_VECTOR, TML_PACKED_CHUNK_WORD_S16};

static inline const char *tml_test_chunk_name(int32_t chunk)
{
    return chunk == TML_PACKED_CHUNK_WORD ? "chunk 4" : chunk == TML_PACKED_CHUNK_VECTOR ? "chunk 16" : "int16 words";
}

/* The packed kernel's parameters for the unpacked kernel's p (offsets folded or 0). */
static inline tml_fully_connected_packed_params tml_test_packed_params(const tml_fully_connected_params *p, int32_t chunk)
{
    const tml_fully_connected_packed_params packed = {p->output_offset, p->activation_min, p->activation_max,
                                                      p->per_channel, chunk};
    return packed;
}

/* folded[o] = bias[o] (0 without one) + input_offset * sum_d w[o][d], wrapping like TFLM's int32 accumulator. */
static inline void tml_test_fold_bias(const int8_t *w, const int32_t *bias, int32_t units, int32_t depth,
                               int32_t input_offset, int32_t *folded)
{
    for (int32_t o = 0; o < units; o++) {
        int32_t sum = 0;
        for (int32_t d = 0; d < depth; d++) {
            sum += w[o * depth + d];
        }
        folded[o] = (int32_t)((uint32_t)(bias != NULL ? bias[o] : 0) + (uint32_t)input_offset * (uint32_t)sum);
    }
}

#endif
