/* SPDX-License-Identifier: Apache-2.0 */
/* x86_avx2.c: the host kernels (simd_kernels.h) on AVX2, compiled for AVX2 whatever the library's baseline;
 * host_path.c calls them only on a CPU that has it. */
#include "tml_arch.h"

#if TML_USE_HOST_SIMD && TML_ARCH_X86_64
/* Clang (the macOS build) has no "#pragma GCC target"; its attribute pragma does the same. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC target("avx2")
#endif
#define TML_SIMD_AVX2 1
#define TML_SIMD_NAME(name) name##_avx2
#include "simd_kernels.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
