/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tml_arch.h: what the target core can do, which kernel paths this build may use, and the small inline shims the
 * per-core fast paths are written with. Internal (not installed, not part of the ABI).
 *
 * Capabilities come only from the compiler's predefined macros (ACLE), never from a build option, so the host
 * library, the CMake cross builds and the device build all agree for the same -mcpu/-mfpu:
 *   TML_ARCH_CORTEX_M   1 on an M-profile Arm core (__ARM_ARCH_PROFILE == 'M'), 0 elsewhere (the host)
 *   TML_ARCH_ARM        __ARM_ARCH (6 on Armv6-M, 7 on Armv7-M/7E-M, 8 on Armv8-M and 8.1-M), 0 off Arm
 *   TML_ARCH_HAS_DSP    the DSP extension (SMLAD, SXTB16, SSAT, ...): Cortex-M4, M7, M33, M55
 *   TML_ARCH_HAS_MVE    integer Helium (MVE): Cortex-M55 (bit 0 of __ARM_FEATURE_MVE)
 *   TML_ARCH_X86_64     an x86-64 host (SSE4.1 and AVX2 are chosen at run time: host/host_path.c)
 *   TML_ARCH_AARCH64    an arm64 host (NEON is always there)
 *
 * Which paths a build may use (a kernel tests these, never the HAS_ macros):
 *   TML_USE_DSP, TML_USE_MVE, and TML_PATH_NAME ("mve", "dsp" or "portable");
 *   TML_USE_HOST_SIMD on an x86-64 or arm64 host built with GCC or Clang: the kernels may hand their work to the
 *   SIMD path chosen at run time (host/host_simd.h; TML_PATH_NAME stays "portable", tml_host_path() tells).
 * Defining TML_FORCE_PORTABLE=1 turns every fast path off: that is how the reference library (tml_ref_*), which
 * the fast paths are tested against, is compiled from the same sources.
 *
 * The shims: each tml_X has a portable twin tml_portable_X that computes the same value in plain C. With
 * TML_USE_DSP, tml_X is the ACLE intrinsic (one instruction); without it, tml_X is the portable twin. A test
 * (tests/test_arch.c on the host, the same checks under QEMU on the DSP cores) requires both to agree.
 * Packed values are uint32_t bit patterns; lanes are numbered from the least significant end.
 */
#ifndef TML_ARCH_H
#define TML_ARCH_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define TML_ARCH_CORTEX_M 1
#else
#define TML_ARCH_CORTEX_M 0
#endif

#if defined(__ARM_ARCH)
#define TML_ARCH_ARM __ARM_ARCH
#else
#define TML_ARCH_ARM 0
#endif

/* 1 where a 4-byte memcpy at any alignment is one LDR or STR: hosts, Armv7-M and later. Armv6-M (the M0+) has no
 * unaligned access, so there it is a library call, and short copies and fills go byte by byte. */
#if TML_ARCH_CORTEX_M && TML_ARCH_ARM < 7
#define TML_ARCH_UNALIGNED_WORDS 0
#else
#define TML_ARCH_UNALIGNED_WORDS 1
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define TML_ARCH_HAS_DSP 1
#else
#define TML_ARCH_HAS_DSP 0
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define TML_ARCH_HAS_MVE 1
#else
#define TML_ARCH_HAS_MVE 0
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define TML_ARCH_X86_64 1
#else
#define TML_ARCH_X86_64 0
#endif

#if defined(__aarch64__)
#define TML_ARCH_AARCH64 1
#else
#define TML_ARCH_AARCH64 0
#endif

#if !defined(TML_FORCE_PORTABLE)
#define TML_FORCE_PORTABLE 0
#endif

#if TML_FORCE_PORTABLE
#define TML_USE_DSP 0
#define TML_USE_MVE 0
#define TML_USE_HOST_SIMD 0
#define TML_USE_SCALAR_FAST 0
#else
/* Armv7-A Linux (linux-arm) has the DSP instructions too, but its plans are host plans, made without the Cortex-M
 * paths' scratch: only an M-profile core takes them. */
#if TML_ARCH_HAS_DSP && TML_ARCH_CORTEX_M
#define TML_USE_DSP 1
#else
#define TML_USE_DSP 0
#endif
#define TML_USE_MVE TML_ARCH_HAS_MVE
/* Scalar fast paths of the cores without DSP (M0+, M3); never in the reference build (TML_FORCE_PORTABLE). */
#if TML_ARCH_CORTEX_M && !TML_USE_DSP
#define TML_USE_SCALAR_FAST 1
#else
#define TML_USE_SCALAR_FAST 0
#endif
#if (TML_ARCH_X86_64 || TML_ARCH_AARCH64) && !TML_ARCH_CORTEX_M && defined(__GNUC__)
#define TML_USE_HOST_SIMD 1
#else
#define TML_USE_HOST_SIMD 0
#endif
#endif

#if TML_USE_MVE
#define TML_PATH_NAME "mve"
#elif TML_USE_DSP
#define TML_PATH_NAME "dsp"
#else
#define TML_PATH_NAME "portable"
#endif

#if TML_USE_DSP
#include <arm_acle.h>
#endif

/* The core table behind every _get_buffer_size_for (core ids TML_CORE_* of tml_kernels.h): 1 when a default build
 * for that core takes the DSP paths (TML_USE_DSP on the M4, M7, M33 and M55), so that any library, the host's too,
 * sizes a fast path's scratch for any core. TML_SCRATCH_CORE is the core the plain _get_buffer_size functions answer
 * for: TML_BUILD_CORE, or on a DSP build that names none, a core with the same paths (sizes follow the path). */
#define TML_CORE_USES_DSP(core)                                                                                    \
    ((core) == TML_CORE_CORTEX_M4 || (core) == TML_CORE_CORTEX_M7 || (core) == TML_CORE_CORTEX_M33 ||             \
     (core) == TML_CORE_CORTEX_M55)
#define TML_SCRATCH_CORE (TML_USE_DSP && TML_BUILD_CORE == TML_CORE_HOST ? TML_CORE_CORTEX_M4 : TML_BUILD_CORE)

/* TML_PATH_NAME of the library as compiled (arch.c); the reference library's copy is tml_ref_arch_path. */
const char *tml_arch_path(void);

#if defined(__GNUC__)
#define TML_ARCH_INLINE static inline __attribute__((always_inline))
#else
#define TML_ARCH_INLINE static inline
#endif

/* ---- portable definitions (the meaning of each shim) ---------------------------------------------------- */

/* Four int8 at any alignment as one little-endian word (memcpy: one LDR where unaligned loads are allowed). */
TML_ARCH_INLINE uint32_t tml_portable_read_s8x4(const int8_t *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* Two int16 lanes from bytes 0 and 2 of x, each sign-extended (SXTB16). */
TML_ARCH_INLINE uint32_t tml_portable_sxtb16(uint32_t x)
{
    const uint32_t lo = (uint32_t)(int32_t)(int8_t)(uint8_t)x & 0xFFFFu;
    const uint32_t hi = (uint32_t)(int32_t)(int8_t)(uint8_t)(x >> 16) & 0xFFFFu;
    return lo | (hi << 16);
}

/* Two int16 lanes from bytes 1 and 3 of x (SXTB16 with ROR #8). */
TML_ARCH_INLINE uint32_t tml_portable_sxtb16_ror8(uint32_t x)
{
    return tml_portable_sxtb16((x >> 8) | (x << 24));
}

/* acc + lo16(x)*lo16(y) + hi16(x)*hi16(y), lanes signed, the sum wrapping modulo 2^32 (SMLAD). */
TML_ARCH_INLINE int32_t tml_portable_smlad(uint32_t x, uint32_t y, int32_t acc)
{
    const int32_t lo = (int32_t)(int16_t)(uint16_t)x * (int32_t)(int16_t)(uint16_t)y;
    const int32_t hi = (int32_t)(int16_t)(uint16_t)(x >> 16) * (int32_t)(int16_t)(uint16_t)(y >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}

/* acc + lo16(x)*lo16(y), lanes signed, wrapping (SMLABB). */
TML_ARCH_INLINE int32_t tml_portable_smlabb(uint32_t x, uint32_t y, int32_t acc)
{
    const int32_t p = (int32_t)(int16_t)(uint16_t)x * (int32_t)(int16_t)(uint16_t)y;
    return (int32_t)((uint32_t)acc + (uint32_t)p);
}

/* acc + hi16(x)*hi16(y), lanes signed, wrapping (SMLATT). */
TML_ARCH_INLINE int32_t tml_portable_smlatt(uint32_t x, uint32_t y, int32_t acc)
{
    const int32_t p = (int32_t)(int16_t)(uint16_t)(x >> 16) * (int32_t)(int16_t)(uint16_t)(y >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)p);
}

/* Lane-wise x + y of two int16 lanes, each wrapping modulo 2^16 (SADD16 without its GE flags). */
TML_ARCH_INLINE uint32_t tml_portable_sadd16(uint32_t x, uint32_t y)
{
    const uint32_t lo = (x + y) & 0xFFFFu;
    const uint32_t hi = ((x >> 16) + (y >> 16)) & 0xFFFFu;
    return lo | (hi << 16);
}

/* Byte-wise x + y, each byte wrapping modulo 2^8 (UADD8 without its GE flags). */
TML_ARCH_INLINE uint32_t tml_portable_uadd8(uint32_t x, uint32_t y)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        r |= (((x >> i) + (y >> i)) & 0xFFu) << i;
    }
    return r;
}

/* x saturated to the int8 range (SSAT #8). */
TML_ARCH_INLINE int32_t tml_portable_ssat8(int32_t x)
{
    return x < -128 ? -128 : (x > 127 ? 127 : x);
}

/* ---- what the fast paths call ----------------------------------------------------------------------------- */

#if TML_USE_DSP
TML_ARCH_INLINE uint32_t tml_read_s8x4(const int8_t *p) { return tml_portable_read_s8x4(p); }
TML_ARCH_INLINE uint32_t tml_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int8x4_t)x); }
TML_ARCH_INLINE uint32_t tml_sxtb16_ror8(uint32_t x)
{
    /* GCC 12 has no __ror and does not fold a C rotate into SXTB16's operand: one instruction instead of two. */
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
TML_ARCH_INLINE int32_t tml_smlad(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlad((int16x2_t)x, (int16x2_t)y, acc);
}
TML_ARCH_INLINE int32_t tml_smlabb(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlabb((int32_t)x, (int32_t)y, acc);
}
TML_ARCH_INLINE int32_t tml_smlatt(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlatt((int32_t)x, (int32_t)y, acc);
}
TML_ARCH_INLINE int32_t tml_ssat8(int32_t x) { return __ssat(x, 8); }
TML_ARCH_INLINE uint32_t tml_sadd16(uint32_t x, uint32_t y) { return (uint32_t)__sadd16((int16x2_t)x, (int16x2_t)y); }
TML_ARCH_INLINE uint32_t tml_uadd8(uint32_t x, uint32_t y) { return (uint32_t)__uadd8((uint8x4_t)x, (uint8x4_t)y); }
#else
TML_ARCH_INLINE uint32_t tml_read_s8x4(const int8_t *p) { return tml_portable_read_s8x4(p); }
TML_ARCH_INLINE uint32_t tml_sxtb16(uint32_t x) { return tml_portable_sxtb16(x); }
TML_ARCH_INLINE uint32_t tml_sxtb16_ror8(uint32_t x) { return tml_portable_sxtb16_ror8(x); }
TML_ARCH_INLINE int32_t tml_smlad(uint32_t x, uint32_t y, int32_t acc) { return tml_portable_smlad(x, y, acc); }
TML_ARCH_INLINE int32_t tml_smlabb(uint32_t x, uint32_t y, int32_t acc) { return tml_portable_smlabb(x, y, acc); }
TML_ARCH_INLINE int32_t tml_smlatt(uint32_t x, uint32_t y, int32_t acc) { return tml_portable_smlatt(x, y, acc); }
TML_ARCH_INLINE int32_t tml_ssat8(int32_t x) { return tml_portable_ssat8(x); }
TML_ARCH_INLINE uint32_t tml_sadd16(uint32_t x, uint32_t y) { return tml_portable_sadd16(x, y); }
TML_ARCH_INLINE uint32_t tml_uadd8(uint32_t x, uint32_t y) { return tml_portable_uadd8(x, y); }
#endif

#endif /* TML_ARCH_H */
