/* SPDX-License-Identifier: Apache-2.0 */
/* arm64_neon_dot.c: the host kernels (simd_kernels.h) on NEON with the Armv8.2 dot-product instructions (SDOT),
 * compiled for them whatever the library's baseline; host_path.c calls them only on a CPU that has them. */
#include "tml_arch.h"

#if TML_USE_HOST_SIMD && TML_ARCH_AARCH64
#pragma GCC target("arch=armv8.2-a+dotprod")
#define TML_SIMD_NEON 1
#define TML_SIMD_DOT 1
#define TML_SIMD_NAME(name) name##_neon_dot
#include "simd_kernels.h"
#endif
