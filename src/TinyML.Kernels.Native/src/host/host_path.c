/* SPDX-License-Identifier: Apache-2.0 */
/* host_path.c: which host SIMD path the kernels take (host_path.h), and the calls into it. */
#include "host_path.h"

#include "tml_kernels.h"

#if TML_USE_HOST_SIMD && TML_ARCH_AARCH64 && defined(__linux__)
#include <sys/auxv.h>
#endif

#if TML_USE_HOST_SIMD
/* The best path this CPU has. */
static int32_t host_best_path(void)
{
#if TML_ARCH_X86_64
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        return TML_HOST_PATH_AVX2;
    }
    return __builtin_cpu_supports("sse4.1") ? TML_HOST_PATH_SSE41 : TML_HOST_PATH_PORTABLE;
#elif defined(__linux__) && defined(HWCAP_ASIMDDP)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0 ? TML_HOST_PATH_NEON_DOT : TML_HOST_PATH_NEON;
#else
    return TML_HOST_PATH_NEON;
#endif
}

/* -1 until the first call chooses. Racing first calls all store the same value. */
static volatile int32_t host_path = -1;

static int32_t host_current(void)
{
    int32_t path = host_path;
    if (path < 0) {
        path = host_best_path();
        host_path = path;
    }
    return path;
}
#endif

TML_API int32_t tml_host_path(void)
{
#if TML_USE_HOST_SIMD
    return host_current();
#else
    return TML_HOST_PATH_PORTABLE;
#endif
}

TML_API int32_t tml_host_path_set(int32_t path)
{
#if TML_USE_HOST_SIMD
    const int32_t best = host_best_path();
    /* Every path below the best on its architecture runs there too. */
    const int ok = path == TML_HOST_PATH_PORTABLE || path == best ||
                   (path == TML_HOST_PATH_SSE41 && best == TML_HOST_PATH_AVX2) ||
                   (path == TML_HOST_PATH_NEON && best == TML_HOST_PATH_NEON_DOT);
    if (!ok) {
        return -1;
    }
    host_path = path;
    return path;
#else
    return path == TML_HOST_PATH_PORTABLE ? path : -1;
#endif
}

#if TML_USE_HOST_SIMD
#if TML_ARCH_X86_64
#define TML_HOST_CALL(kernel, ...)                                                                                 \
    switch (host_current()) {                                                                                      \
    case TML_HOST_PATH_AVX2:                                                                                       \
        return kernel##_avx2(__VA_ARGS__);                                                                         \
    case TML_HOST_PATH_SSE41:                                                                                      \
        return kernel##_sse41(__VA_ARGS__);                                                                        \
    default:                                                                                                       \
        return 0;                                                                                                  \
    }
#else
#define TML_HOST_CALL(kernel, ...)                                                                                 \
    switch (host_current()) {                                                                                      \
    case TML_HOST_PATH_NEON_DOT:                                                                                   \
        return kernel##_neon_dot(__VA_ARGS__);                                                                     \
    case TML_HOST_PATH_NEON:                                                                                       \
        return kernel##_neon(__VA_ARGS__);                                                                         \
    default:                                                                                                       \
        return 0;                                                                                                  \
    }
#endif

int tml_host_packed_rows(TML_HOST_PACKED_ROWS_ARGS)
{
    TML_HOST_CALL(tml_host_packed_rows, p, quant, rows, depth, units, input, filter, bias, output)
}

int32_t tml_host_add_s8(TML_HOST_ADD_ARGS)
{
    TML_HOST_CALL(tml_host_add_s8, p, x1, sa, x2, sb, y, n, subtract)
}

int32_t tml_host_mul_s8(TML_HOST_MUL_ARGS)
{
    TML_HOST_CALL(tml_host_mul_s8, p, x1, sa, x2, sb, y, n)
}

int tml_host_pool_s8(TML_HOST_POOL_ARGS)
{
    TML_HOST_CALL(tml_host_pool_s8, p, in_dims, input, out_dims, output, is_max, status)
}

int32_t tml_host_fully_connected_f32(TML_HOST_FC_F32_ARGS)
{
    TML_HOST_CALL(tml_host_fully_connected_f32, p, batches, depth, units, input, filter, bias, output)
}

int32_t tml_host_conv_f32(TML_HOST_CONV_F32_ARGS)
{
    TML_HOST_CALL(tml_host_conv_f32, p, in_dims, input, f_dims, filter, bias, out_dims, output)
}

int32_t tml_host_depthwise_conv_f32(TML_HOST_DW_F32_ARGS)
{
    TML_HOST_CALL(tml_host_depthwise_conv_f32, p, in_dims, input, f_dims, filter, bias, out_dims, output)
}

int tml_host_pool_f32(TML_HOST_POOL_F32_ARGS)
{
    TML_HOST_CALL(tml_host_pool_f32, p, in_dims, input, out_dims, output, is_max, status)
}

int tml_host_depthwise(TML_HOST_DEPTHWISE_ARGS)
{
    *done = 0;
    TML_HOST_CALL(tml_host_depthwise, params, quant, in_dims, input, f_dims, filter, bias, out_dims, output, done)
}
#endif
