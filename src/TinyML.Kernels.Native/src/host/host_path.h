/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_path.h (internal): the host SIMD paths (x86-64: SSE4.1, AVX2; arm64: NEON) behind the portable kernels.
 *
 * x86-64: AVX2, else SSE4.1; arm64: NEON with the dot-product instructions where the CPU has them, else NEON.
 * A kernel whose work a host path can take calls tml_host_X first; it returns 1 when the path did the work and 0
 * when the portable code must (no SIMD path on this CPU, or a case the path does not take). Each path computes the
 * bytes the portable code computes: tests/test_ref_diff.c compares every path with the reference library on random
 * shapes. The path is chosen once, from the CPU's features, the best first; tml_host_path_set may lower it (tests,
 * benchmarks). This choice is the library's one global.
 */
#ifndef TML_HOST_PATH_H
#define TML_HOST_PATH_H

#include "common.h"
#include "tml_arch.h"

#if TML_USE_HOST_SIMD

/* The int8 matrix product on packed weights (chunk 4; packed_matmul.h): output[r][o] for rows r < rows. */
#define TML_HOST_PACKED_ROWS_ARGS                                                                                  \
    const tml_fully_connected_packed_params *p, const tml_per_channel_quant *quant, int32_t rows, int32_t depth,  \
        int32_t units, const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output
int tml_host_packed_rows(TML_HOST_PACKED_ROWS_ARGS);

/* DEPTHWISE_CONV_2D, depth multiplier 1, eight channels at a time from channel 0; *done is the number of channels
 * written (the caller computes the rest). in and out may be the same buffer (in place). */
#define TML_HOST_DEPTHWISE_ARGS                                                                                    \
    const tml_depthwise_conv_params *params, const tml_per_channel_quant *quant, const tml_dims *in_dims,          \
        const int8_t *input, const tml_dims *f_dims, const int8_t *filter, const int32_t *bias,                   \
        const tml_dims *out_dims, int8_t *output, int32_t *done
int tml_host_depthwise(TML_HOST_DEPTHWISE_ARGS);

/* int8 ADD (subtract 0) or SUB (1) of one row of n elements, inputs at strides sa and sb; returns the elements
 * done from the start (the caller computes the rest): strides 0 and 1 only, eight at a time. */
#define TML_HOST_ADD_ARGS                                                                                          \
    const tml_add_params *p, const int8_t *x1, int32_t sa, const int8_t *x2, int32_t sb, int8_t *y, int32_t n,    \
        int subtract
int32_t tml_host_add_s8(TML_HOST_ADD_ARGS);

/* int8 MUL of one row, as tml_host_add_s8. */
#define TML_HOST_MUL_ARGS                                                                                          \
    const tml_mul_params *p, const int8_t *x1, int32_t sa, const int8_t *x2, int32_t sb, int8_t *y, int32_t n
int32_t tml_host_mul_s8(TML_HOST_MUL_ARGS);

/* int8 AVERAGE_POOL_2D (is_max 0) or MAX_POOL_2D (1), the whole kernel, arguments validated; *status is what the
 * kernel returns (an average over a window without a valid tap fails at that pixel, as the portable kernel). */
#define TML_HOST_POOL_ARGS                                                                                         \
    const tml_pool_params *p, const tml_dims *in_dims, const int8_t *input, const tml_dims *out_dims,             \
        int8_t *output, int is_max, tml_status *status
int tml_host_pool_s8(TML_HOST_POOL_ARGS);

/* float32 FULLY_CONNECTED and CONV_2D (ungrouped) on weights packed eight outputs at a time (tml_kernels.h): the
 * outputs of the whole groups; returns how many outputs per row it wrote (from the first), the caller the rest. */
#define TML_HOST_FC_F32_ARGS                                                                                       \
    const tml_fully_connected_f32_params *p, int32_t batches, int32_t depth, int32_t units, const float *input,   \
        const float *filter, const float *bias, float *output
int32_t tml_host_fully_connected_f32(TML_HOST_FC_F32_ARGS);
#define TML_HOST_CONV_F32_ARGS                                                                                     \
    const tml_conv_f32_params *p, const tml_dims *in_dims, const float *input, const tml_dims *f_dims,            \
        const float *filter, const float *bias, const tml_dims *out_dims, float *output
int32_t tml_host_conv_f32(TML_HOST_CONV_F32_ARGS);

/* float32 DEPTHWISE_CONV_2D, depth multiplier 1: the first channels, eight at a time; returns how many. */
#define TML_HOST_DW_F32_ARGS                                                                                       \
    const tml_depthwise_conv_f32_params *p, const tml_dims *in_dims, const float *input, const tml_dims *f_dims,  \
        const float *filter, const float *bias, const tml_dims *out_dims, float *output
int32_t tml_host_depthwise_conv_f32(TML_HOST_DW_F32_ARGS);

/* float32 AVERAGE_POOL_2D (is_max 0) or MAX_POOL_2D (1), the whole kernel, as tml_host_pool_s8. */
#define TML_HOST_POOL_F32_ARGS                                                                                     \
    const tml_pool_f32_params *p, const tml_dims *in_dims, const float *input, const tml_dims *out_dims,          \
        float *output, int is_max, tml_status *status
int tml_host_pool_f32(TML_HOST_POOL_F32_ARGS);

/* The per-path entry points (host/x86_avx2.c, host/x86_sse41.c, host/arm64_neon.c, host/arm64_neon_dot.c). */
#define TML_HOST_DECLARE(suffix)                                                                                   \
    int tml_host_packed_rows_##suffix(TML_HOST_PACKED_ROWS_ARGS);                                                  \
    int tml_host_depthwise_##suffix(TML_HOST_DEPTHWISE_ARGS);                                                      \
    int32_t tml_host_add_s8_##suffix(TML_HOST_ADD_ARGS);                                                           \
    int32_t tml_host_mul_s8_##suffix(TML_HOST_MUL_ARGS);                                                           \
    int tml_host_pool_s8_##suffix(TML_HOST_POOL_ARGS);                                                             \
    int32_t tml_host_fully_connected_f32_##suffix(TML_HOST_FC_F32_ARGS);                                           \
    int32_t tml_host_conv_f32_##suffix(TML_HOST_CONV_F32_ARGS);                                                     \
    int32_t tml_host_depthwise_conv_f32_##suffix(TML_HOST_DW_F32_ARGS);                                             \
    int tml_host_pool_f32_##suffix(TML_HOST_POOL_F32_ARGS);
#if TML_ARCH_X86_64
TML_HOST_DECLARE(avx2)
TML_HOST_DECLARE(sse41)
#endif
#if TML_ARCH_AARCH64
TML_HOST_DECLARE(neon)
TML_HOST_DECLARE(neon_dot)
#endif

#endif /* TML_USE_HOST_SIMD */

#endif
