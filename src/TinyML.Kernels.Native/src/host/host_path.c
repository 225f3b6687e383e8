/* SPDX-License-Identifier: Apache-2.0 */
/* host_path.c: which host SIMD path the kernels take (host_path.h), and the calls into it. */
#include "host_path.h"

#include "tml_kernels.h"

#if TML_USE_HOST_SIMD && TML_ARCH_AARCH64 && defined(__linux__)
#include <sys/auxv.h>
#endif
#if TML_USE_HOST_SIMD && TML_ARCH_X86_64
#include <cpuid.h>
#endif
#if TML_USE_HOST_SIMD && TML_ARCH_AARCH64 && defined(_WIN32)
/* kernel32.dll's, declared here: the win-arm64 build has no Windows headers (cmake/sdk-stubs/README.md). */
__declspec(dllimport) int __stdcall IsProcessorFeaturePresent(unsigned long feature);
#define PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE 43
#endif

#if TML_USE_HOST_SIMD
#if TML_ARCH_X86_64
/* From CPUID itself rather than __builtin_cpu_supports, which needs the compiler's runtime library (a clang build
 * for macOS has none here). AVX2 also needs the OS to save the YMM registers: OSXSAVE set and XCR0 bits 1-2. */
static int32_t x86_best_path(void)
{
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        return TML_HOST_PATH_PORTABLE;
    }
    const int sse41 = (ecx >> 19) & 1u;
    int avx_enabled = 0;
    if (((ecx >> 27) & 1u) && ((ecx >> 28) & 1u)) { /* OSXSAVE, AVX */
        unsigned int xcr0_low, xcr0_high;
        __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
        (void)xcr0_high;
        avx_enabled = (xcr0_low & 6u) == 6u;
    }
    if (avx_enabled && __get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        if ((ebx >> 5) & 1u) {
            return TML_HOST_PATH_AVX2;
        }
    }
    return sse41 ? TML_HOST_PATH_SSE41 : TML_HOST_PATH_PORTABLE;
}
#endif

/* The best path this CPU has. */
static int32_t host_best_path(void)
{
#if TML_ARCH_X86_64
    return x86_best_path();
#elif defined(__linux__) && defined(HWCAP_ASIMDDP)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0 ? TML_HOST_PATH_NEON_DOT : TML_HOST_PATH_NEON;
#elif defined(_WIN32)
    return IsProcessorFeaturePresent(PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE) ? TML_HOST_PATH_NEON_DOT : TML_HOST_PATH_NEON;
#elif defined(__ARM_FEATURE_DOTPROD)
    return TML_HOST_PATH_NEON_DOT; /* the library's baseline has it (osx-arm64: apple-m1), so the CPU does */
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
