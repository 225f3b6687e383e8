/* SPDX-License-Identifier: Apache-2.0 */
/* arm64_neon_dot.c: the host kernels (simd_kernels.h) on NEON with the Armv8.2 dot-product instructions (SDOT),
 * compiled for them whatever the library's baseline; host_path.c calls them only on a CPU that has them. */
#include "tml_arch.h"

#if TML_USE_HOST_SIMD && TML_ARCH_AARCH64
/* Clang 14's arm_neon.h offers the dot-product intrinsics only when the baseline has them (the osx-arm64 build
 * targets apple-m1, which does); GCC enables them for this file alone. */
#if defined(__clang__)
#if !defined(__ARM_FEATURE_DOTPROD)
#error "a clang build of the arm64 host paths needs a baseline with the dot-product instructions (-mcpu=apple-m1)"
#endif
#else
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif
#define TML_SIMD_NEON 1
#define TML_SIMD_DOT 1
#define TML_SIMD_NAME(name) name##_neon_dot
#include "simd_kernels.h"
#endif
