/* SPDX-License-Identifier: Apache-2.0 */
/*
 * packed_matmul.h (internal): the int8 matrix product on build-time packed weights (fully_connected_packed.c), shared
 * by tml_fully_connected_s8_packed and tml_conv_s8_packed (which feeds it im2col rows).
 */
#ifndef TML_PACKED_MATMUL_H
#define TML_PACKED_MATMUL_H

#include "common.h"
#include "tml_arch.h"

/* The path one call takes, chosen once per kernel call (it scans the shifts). */
typedef enum {
    TML_PACKED_PORTABLE,
    TML_PACKED_DSP,      /* chunk 4 on a DSP core, word-aligned filter */
    TML_PACKED_DSP_SHR2_FULL_RANGE, /* the same, every shift <= -2 (tml_requant_shr2) and the clamp [-128, 127] (SSAT) */
    TML_PACKED_MVE,      /* chunk 16 on a Helium core */
    TML_PACKED_DSP_S16,  /* TML_PACKED_CHUNK_WORD_S16 on a DSP core, word-aligned filter */
    TML_PACKED_DSP_S16_SHR2_FULL_RANGE, /* the same with tml_requant_shr2 and SSAT, as above */
} tml_packed_path;

/* Bytes of the packed weights before the units % 4 rows that stay int8 (TML_PACKED_CHUNK_WORD_S16: int16 groups). */
TML_INLINE size_t tml_packed_group_bytes(int32_t chunk, int32_t depth, int32_t units)
{
    return (size_t)(units & ~3) * (size_t)depth * (chunk == TML_PACKED_CHUNK_WORD_S16 ? 2u : 1u);
}


/* 1 when the parameters are valid (clamps ordered, per_channel 0 or 1, a known chunk). */
int tml_packed_params_valid(const tml_fully_connected_packed_params *p);

tml_packed_path tml_packed_choose(const tml_fully_connected_packed_params *p, const tml_per_channel_quant *quant,
                                  int32_t units, const int8_t *filter);

/* What one matrix product's calls share (set once per kernel call): the path (tml_packed_choose), the parameters,
 * quantization, depth, output units, packed weights and folded bias. */
typedef struct {
    tml_packed_path path;
    const tml_fully_connected_packed_params *p;
    const tml_per_channel_quant *quant;
    int32_t depth, units;
    const int8_t *filter;
    const int32_t *bias;
} tml_packed_job;

/* 1 when the path takes activation rows any stride apart (the DSP int16 loops); the others need stride == depth. */
TML_INLINE int tml_packed_any_stride(tml_packed_path path)
{
    return path == TML_PACKED_DSP_S16 || path == TML_PACKED_DSP_S16_SHR2_FULL_RANGE;
}

/* output[r][o] for rows r < rows of depth int8 activations, row r at input + r * stride (stride == depth unless
 * tml_packed_any_stride: a strided 1x1 conv's pixels without im2col), weights packed as tml_kernels.h documents,
 * the folded bias; arguments validated. One pointer to what the calls share: every im2col block of a conv calls it. */
void tml_packed_rows(const tml_packed_job *job, int32_t rows, const int8_t *input, size_t stride, int8_t *output);

#endif
