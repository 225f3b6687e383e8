/* SPDX-License-Identifier: Apache-2.0 */
/* x86_sse41.c: the host kernels (simd_kernels.h) on SSE4.1, for x86-64 CPUs without AVX2; host_path.c calls them
 * only on a CPU that has SSE4.1. */
#include "tml_arch.h"

#if TML_USE_HOST_SIMD && TML_ARCH_X86_64
/* Clang (the macOS build) has no "#pragma GCC target"; its attribute pragma does the same. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("sse4.1"))), apply_to = function)
#else
#pragma GCC target("sse4.1")
#endif
#define TML_SIMD_SSE41 1
#define TML_SIMD_NAME(name) name##_sse41
#include "simd_kernels.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
