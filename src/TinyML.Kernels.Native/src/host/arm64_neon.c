/* SPDX-License-Identifier: Apache-2.0 */
/* arm64_neon.c: the host kernels (simd_kernels.h) on NEON, which every arm64 CPU has. */
#include "tml_arch.h"

#if TML_USE_HOST_SIMD && TML_ARCH_AARCH64
#define TML_SIMD_NEON 1
#define TML_SIMD_NAME(name) name##_neon
#include "simd_kernels.h"
#endif
