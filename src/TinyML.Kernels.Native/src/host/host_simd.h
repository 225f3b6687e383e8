/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_simd.h (internal): the few vector operations the host kernels (simd_kernels.h) are written with, on one
 * logical 256-bit vector `tml_v` of eight int32 lanes (or sixteen int16 lanes), lanes numbered from 0. One backend
 * per path, chosen by the including file:
 *   TML_SIMD_AVX2   one __m256i;
 *   TML_SIMD_SSE41  two __m128i;
 *   TML_SIMD_NEON   two int32x4_t; with TML_SIMD_DOT also the dot-product instructions (SDOT).
 * Every operation means the same on each backend, lane for lane, so the kernels are written once. Two are optional:
 * tml_v_requant (TML_V_HAS_REQUANT) and tml_v_dot_s8 (TML_V_HAS_DOT).
 */
#ifndef TML_HOST_SIMD_H
#define TML_HOST_SIMD_H

#include <stdint.h>
#include <string.h>

#include "common.h"

#define TML_V static inline __attribute__((always_inline))

#if defined(TML_SIMD_AVX2)
#include <immintrin.h>

typedef __m256i tml_v;

TML_V tml_v tml_v_set1(int32_t x) { return _mm256_set1_epi32(x); }
TML_V tml_v tml_v_load(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }
/* Eight int8 widened to eight int32. */
TML_V tml_v tml_v_s8x8(const int8_t *p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p)); }
/* Sixteen int8 widened to sixteen int16. */
TML_V tml_v tml_v_s8x16(const int8_t *p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p)); }
/* Four int8 widened to int16 and repeated four times: lanes a0 a1 a2 a3 a0 a1 a2 a3 ... */
TML_V tml_v tml_v_s8x4_repeat(const int8_t *p)
{
    int32_t word;
    memcpy(&word, p, 4);
    return _mm256_cvtepi8_epi16(_mm_set1_epi32(word));
}
/* int32 lane i = int16 lanes 2i and 2i+1 of a times those of b, summed. */
TML_V tml_v tml_v_madd16(tml_v a, tml_v b) { return _mm256_madd_epi16(a, b); }
TML_V tml_v tml_v_add(tml_v a, tml_v b) { return _mm256_add_epi32(a, b); }
TML_V tml_v tml_v_sub(tml_v a, tml_v b) { return _mm256_sub_epi32(a, b); }
TML_V tml_v tml_v_mul(tml_v a, tml_v b) { return _mm256_mullo_epi32(a, b); }
/* acc + (x + offset) * w on eight int8 pairs, offset in [-255, 255]. */
TML_V tml_v tml_v_mla_s8x8(tml_v acc, const int8_t *x, const int8_t *w, int32_t offset)
{
    return tml_v_add(acc, tml_v_mul(tml_v_add(tml_v_s8x8(x), tml_v_set1(offset)), tml_v_s8x8(w)));
}
TML_V tml_v tml_v_min(tml_v a, tml_v b) { return _mm256_min_epi32(a, b); }
TML_V tml_v tml_v_max(tml_v a, tml_v b) { return _mm256_max_epi32(a, b); }
/* Adjacent lanes summed: a0+a1, a2+a3, a4+a5, a6+a7, b0+b1, b2+b3, b4+b5, b6+b7. */
TML_V tml_v tml_v_pairsum(tml_v a, tml_v b)
{
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xD8);
}
/* The eight lanes, each in [-128, 127], stored as int8. */
TML_V void tml_v_store_s8(int8_t *p, tml_v v)
{
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(v, v), 0x08);
    const __m128i half = _mm256_castsi256_si128(words);
    _mm_storel_epi64((__m128i *)(void *)p, _mm_packs_epi16(half, half));
}
TML_V void tml_v_store(int32_t *p, tml_v v) { _mm256_storeu_si256((__m256i *)(void *)p, v); }

/*
 * TFLM's MultiplyByQuantizedMultiplier on each lane: left in [0, 31], right in [0, 31], multiplier != INT32_MIN.
 * The high multiply is floor((x * m + 2^30) / 2^31) (gemmlowp's nudge with truncation, common.h), taken from the
 * 64-bit products of the even and the odd lanes; the rounding right shift is RoundingDivideByPOT lane by lane.
 */
#define TML_V_HAS_REQUANT 1
TML_V tml_v tml_v_requant(tml_v x, tml_v multiplier, tml_v left, tml_v right)
{
    const __m256i xs = _mm256_sllv_epi32(x, left);
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(xs, multiplier), round);
    const __m256i odd = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64(xs, 32), _mm256_srli_epi64(multiplier, 32)), round);
    /* Bits 31..62 of each product: the even ones into the low word, the odd ones into the high word. */
    const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    const __m256i remainder = _mm256_and_si256(high, mask);
    const __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_srai_epi32(high, 31));
    return _mm256_sub_epi32(_mm256_srav_epi32(high, right), _mm256_cmpgt_epi32(remainder, threshold));
}

/* Eight floats. Multiplies and adds are IEEE single operations, each rounded (no fused multiply-add), as the
 * portable C compiled with -ffp-contract=off. */
typedef __m256 tml_vf;
TML_V tml_vf tml_vf_set1(float x) { return _mm256_set1_ps(x); }
TML_V tml_vf tml_vf_load(const float *p) { return _mm256_loadu_ps(p); }
TML_V void tml_vf_store(float *p, tml_vf v) { _mm256_storeu_ps(p, v); }
TML_V tml_vf tml_vf_add(tml_vf a, tml_vf b) { return _mm256_add_ps(a, b); }
TML_V tml_vf tml_vf_mul(tml_vf a, tml_vf b) { return _mm256_mul_ps(a, b); }
/* v < lo ? lo : (v > hi ? hi : v), lane by lane, as tml_clamp_f32 (NaN and -0 included): MAXPS returns its second
 * operand unless the first is greater. */
TML_V tml_vf tml_vf_clamp(tml_vf v, tml_vf lo, tml_vf hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, v)); }
TML_V tml_vf tml_vf_div(tml_vf a, tml_vf b) { return _mm256_div_ps(a, b); }
/* acc < v ? v : acc, lane by lane (a float max pooling's step). */
TML_V tml_vf tml_vf_keep_max(tml_vf acc, tml_vf v) { return _mm256_max_ps(v, acc); }

#elif defined(TML_SIMD_SSE41)
#include <smmintrin.h>

typedef struct {
    __m128i lo, hi;
} tml_v;

TML_V tml_v tml_v_pair(__m128i lo, __m128i hi)
{
    tml_v v;
    v.lo = lo;
    v.hi = hi;
    return v;
}
TML_V __m128i tml_v_load32x1(const int8_t *p)
{
    int32_t word;
    memcpy(&word, p, 4);
    return _mm_cvtsi32_si128(word);
}
TML_V tml_v tml_v_set1(int32_t x) { return tml_v_pair(_mm_set1_epi32(x), _mm_set1_epi32(x)); }
TML_V tml_v tml_v_load(const int32_t *p)
{
    return tml_v_pair(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_loadu_si128((const __m128i *)(const void *)(p + 4)));
}
TML_V tml_v tml_v_s8x8(const int8_t *p)
{
    return tml_v_pair(_mm_cvtepi8_epi32(tml_v_load32x1(p)), _mm_cvtepi8_epi32(tml_v_load32x1(p + 4)));
}
TML_V tml_v tml_v_s8x16(const int8_t *p)
{
    return tml_v_pair(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)p)),
                      _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)(p + 8))));
}
TML_V tml_v tml_v_s8x4_repeat(const int8_t *p)
{
    int32_t word;
    memcpy(&word, p, 4);
    const __m128i v = _mm_cvtepi8_epi16(_mm_set1_epi32(word));
    return tml_v_pair(v, v);
}
TML_V tml_v tml_v_madd16(tml_v a, tml_v b) { return tml_v_pair(_mm_madd_epi16(a.lo, b.lo), _mm_madd_epi16(a.hi, b.hi)); }
TML_V tml_v tml_v_add(tml_v a, tml_v b) { return tml_v_pair(_mm_add_epi32(a.lo, b.lo), _mm_add_epi32(a.hi, b.hi)); }
TML_V tml_v tml_v_sub(tml_v a, tml_v b) { return tml_v_pair(_mm_sub_epi32(a.lo, b.lo), _mm_sub_epi32(a.hi, b.hi)); }
TML_V tml_v tml_v_mul(tml_v a, tml_v b) { return tml_v_pair(_mm_mullo_epi32(a.lo, b.lo), _mm_mullo_epi32(a.hi, b.hi)); }
TML_V tml_v tml_v_mla_s8x8(tml_v acc, const int8_t *x, const int8_t *w, int32_t offset)
{
    return tml_v_add(acc, tml_v_mul(tml_v_add(tml_v_s8x8(x), tml_v_set1(offset)), tml_v_s8x8(w)));
}
TML_V tml_v tml_v_min(tml_v a, tml_v b) { return tml_v_pair(_mm_min_epi32(a.lo, b.lo), _mm_min_epi32(a.hi, b.hi)); }
TML_V tml_v tml_v_max(tml_v a, tml_v b) { return tml_v_pair(_mm_max_epi32(a.lo, b.lo), _mm_max_epi32(a.hi, b.hi)); }
TML_V tml_v tml_v_pairsum(tml_v a, tml_v b) { return tml_v_pair(_mm_hadd_epi32(a.lo, a.hi), _mm_hadd_epi32(b.lo, b.hi)); }
TML_V void tml_v_store_s8(int8_t *p, tml_v v)
{
    const __m128i words = _mm_packs_epi32(v.lo, v.hi);
    _mm_storel_epi64((__m128i *)(void *)p, _mm_packs_epi16(words, words));
}
TML_V void tml_v_store(int32_t *p, tml_v v)
{
    _mm_storeu_si128((__m128i *)(void *)p, v.lo);
    _mm_storeu_si128((__m128i *)(void *)(p + 4), v.hi);
}
typedef struct {
    __m128 lo, hi;
} tml_vf;
TML_V tml_vf tml_vf_pair(__m128 lo, __m128 hi)
{
    tml_vf v;
    v.lo = lo;
    v.hi = hi;
    return v;
}
TML_V tml_vf tml_vf_set1(float x) { return tml_vf_pair(_mm_set1_ps(x), _mm_set1_ps(x)); }
TML_V tml_vf tml_vf_load(const float *p) { return tml_vf_pair(_mm_loadu_ps(p), _mm_loadu_ps(p + 4)); }
TML_V void tml_vf_store(float *p, tml_vf v)
{
    _mm_storeu_ps(p, v.lo);
    _mm_storeu_ps(p + 4, v.hi);
}
TML_V tml_vf tml_vf_add(tml_vf a, tml_vf b) { return tml_vf_pair(_mm_add_ps(a.lo, b.lo), _mm_add_ps(a.hi, b.hi)); }
TML_V tml_vf tml_vf_mul(tml_vf a, tml_vf b) { return tml_vf_pair(_mm_mul_ps(a.lo, b.lo), _mm_mul_ps(a.hi, b.hi)); }
TML_V tml_vf tml_vf_clamp(tml_vf v, tml_vf lo, tml_vf hi)
{
    return tml_vf_pair(_mm_min_ps(hi.lo, _mm_max_ps(lo.lo, v.lo)), _mm_min_ps(hi.hi, _mm_max_ps(lo.hi, v.hi)));
}
TML_V tml_vf tml_vf_div(tml_vf a, tml_vf b) { return tml_vf_pair(_mm_div_ps(a.lo, b.lo), _mm_div_ps(a.hi, b.hi)); }
TML_V tml_vf tml_vf_keep_max(tml_vf acc, tml_vf v) { return tml_vf_pair(_mm_max_ps(v.lo, acc.lo), _mm_max_ps(v.hi, acc.hi)); }

/* SSE4.1 has no per-lane shifts: the requantization is the portable one, lane by lane (TML_V_HAS_REQUANT 0). */
#define TML_V_HAS_REQUANT 0

#elif defined(TML_SIMD_NEON)
#include <arm_neon.h>

typedef struct {
    int32x4_t lo, hi;
} tml_v;

TML_V tml_v tml_v_pair(int32x4_t lo, int32x4_t hi)
{
    tml_v v;
    v.lo = lo;
    v.hi = hi;
    return v;
}
TML_V tml_v tml_v_pair16(int16x8_t lo, int16x8_t hi) { return tml_v_pair(vreinterpretq_s32_s16(lo), vreinterpretq_s32_s16(hi)); }
TML_V tml_v tml_v_set1(int32_t x) { return tml_v_pair(vdupq_n_s32(x), vdupq_n_s32(x)); }
TML_V tml_v tml_v_load(const int32_t *p) { return tml_v_pair(vld1q_s32(p), vld1q_s32(p + 4)); }
TML_V tml_v tml_v_s8x8(const int8_t *p)
{
    const int16x8_t x = vmovl_s8(vld1_s8(p));
    return tml_v_pair(vmovl_s16(vget_low_s16(x)), vmovl_high_s16(x));
}
TML_V tml_v tml_v_s8x16(const int8_t *p)
{
    const int8x16_t x = vld1q_s8(p);
    return tml_v_pair16(vmovl_s8(vget_low_s8(x)), vmovl_high_s8(x));
}
TML_V tml_v tml_v_s8x4_repeat(const int8_t *p)
{
    uint32_t word;
    memcpy(&word, p, 4);
    const int16x8_t x = vmovl_s8(vreinterpret_s8_u32(vdup_n_u32(word)));
    return tml_v_pair16(x, x);
}
TML_V int32x4_t tml_v_madd16_half(int32x4_t a, int32x4_t b)
{
    const int16x8_t x = vreinterpretq_s16_s32(a), y = vreinterpretq_s16_s32(b);
    return vpaddq_s32(vmull_s16(vget_low_s16(x), vget_low_s16(y)), vmull_high_s16(x, y));
}
TML_V tml_v tml_v_madd16(tml_v a, tml_v b) { return tml_v_pair(tml_v_madd16_half(a.lo, b.lo), tml_v_madd16_half(a.hi, b.hi)); }
TML_V tml_v tml_v_add(tml_v a, tml_v b) { return tml_v_pair(vaddq_s32(a.lo, b.lo), vaddq_s32(a.hi, b.hi)); }
TML_V tml_v tml_v_sub(tml_v a, tml_v b) { return tml_v_pair(vsubq_s32(a.lo, b.lo), vsubq_s32(a.hi, b.hi)); }
TML_V tml_v tml_v_mul(tml_v a, tml_v b) { return tml_v_pair(vmulq_s32(a.lo, b.lo), vmulq_s32(a.hi, b.hi)); }
/* Widening multiply-accumulates of int16 lanes: x + offset fits int16 for the offsets callers pass ([-255, 255]). */
TML_V tml_v tml_v_mla_s8x8(tml_v acc, const int8_t *x, const int8_t *w, int32_t offset)
{
    const int16x8_t xs = vaddq_s16(vmovl_s8(vld1_s8(x)), vdupq_n_s16((int16_t)offset));
    const int16x8_t ws = vmovl_s8(vld1_s8(w));
    return tml_v_pair(vmlal_s16(acc.lo, vget_low_s16(xs), vget_low_s16(ws)), vmlal_high_s16(acc.hi, xs, ws));
}
TML_V tml_v tml_v_min(tml_v a, tml_v b) { return tml_v_pair(vminq_s32(a.lo, b.lo), vminq_s32(a.hi, b.hi)); }
TML_V tml_v tml_v_max(tml_v a, tml_v b) { return tml_v_pair(vmaxq_s32(a.lo, b.lo), vmaxq_s32(a.hi, b.hi)); }
TML_V tml_v tml_v_pairsum(tml_v a, tml_v b) { return tml_v_pair(vpaddq_s32(a.lo, a.hi), vpaddq_s32(b.lo, b.hi)); }
TML_V void tml_v_store_s8(int8_t *p, tml_v v)
{
    vst1_s8(p, vmovn_s16(vcombine_s16(vmovn_s32(v.lo), vmovn_s32(v.hi))));
}
TML_V void tml_v_store(int32_t *p, tml_v v)
{
    vst1q_s32(p, v.lo);
    vst1q_s32(p + 4, v.hi);
}
typedef struct {
    float32x4_t lo, hi;
} tml_vf;
TML_V tml_vf tml_vf_pair(float32x4_t lo, float32x4_t hi)
{
    tml_vf v;
    v.lo = lo;
    v.hi = hi;
    return v;
}
TML_V tml_vf tml_vf_set1(float x) { return tml_vf_pair(vdupq_n_f32(x), vdupq_n_f32(x)); }
TML_V tml_vf tml_vf_load(const float *p) { return tml_vf_pair(vld1q_f32(p), vld1q_f32(p + 4)); }
TML_V void tml_vf_store(float *p, tml_vf v)
{
    vst1q_f32(p, v.lo);
    vst1q_f32(p + 4, v.hi);
}
TML_V tml_vf tml_vf_add(tml_vf a, tml_vf b) { return tml_vf_pair(vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)); }
TML_V tml_vf tml_vf_mul(tml_vf a, tml_vf b) { return tml_vf_pair(vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)); }
/* Comparisons and selects, not FMAX/FMIN (which order -0 below +0 and propagate NaN differently). */
TML_V float32x4_t tml_vf_clamp_half(float32x4_t v, float32x4_t lo, float32x4_t hi)
{
    const float32x4_t low = vbslq_f32(vcltq_f32(v, lo), lo, v);
    return vbslq_f32(vcgtq_f32(low, hi), hi, low);
}
TML_V tml_vf tml_vf_clamp(tml_vf v, tml_vf lo, tml_vf hi)
{
    return tml_vf_pair(tml_vf_clamp_half(v.lo, lo.lo, hi.lo), tml_vf_clamp_half(v.hi, lo.hi, hi.hi));
}
TML_V tml_vf tml_vf_div(tml_vf a, tml_vf b) { return tml_vf_pair(vdivq_f32(a.lo, b.lo), vdivq_f32(a.hi, b.hi)); }
TML_V tml_vf tml_vf_keep_max(tml_vf acc, tml_vf v)
{
    return tml_vf_pair(vbslq_f32(vcltq_f32(acc.lo, v.lo), v.lo, acc.lo), vbslq_f32(vcltq_f32(acc.hi, v.hi), v.hi, acc.hi));
}

/* VQRDMULH is gemmlowp's SaturatingRoundingDoublingHighMul exactly; VRSHL by -e rounds half up, so a negative
 * lane first takes 1 off (saturating, where e > 0) to round half away from zero as RoundingDivideByPOT does. */
#define TML_V_HAS_REQUANT 1
TML_V int32x4_t tml_v_requant_half(int32x4_t x, int32x4_t multiplier, int32x4_t left, int32x4_t right)
{
    const int32x4_t high = vqrdmulhq_s32(vshlq_s32(x, left), multiplier);
    const int32x4_t minus_right = vnegq_s32(right);
    const int32x4_t fix = vshrq_n_s32(vandq_s32(high, minus_right), 31);
    return vrshlq_s32(vqaddq_s32(high, fix), minus_right);
}
TML_V tml_v tml_v_requant(tml_v x, tml_v multiplier, tml_v left, tml_v right)
{
    return tml_v_pair(tml_v_requant_half(x.lo, multiplier.lo, left.lo, right.lo),
                      tml_v_requant_half(x.hi, multiplier.hi, left.hi, right.hi));
}

#if defined(TML_SIMD_DOT)
/* Lanes 0-3 += the four 4-byte rows at ga . x[0..3], lanes 4-7 += those at gb (SDOT: 16 int8 products each). */
#define TML_V_HAS_DOT 1
TML_V tml_v tml_v_dot_s8(tml_v acc, const int8_t *ga, const int8_t *gb, const int8_t *x)
{
    uint32_t word;
    memcpy(&word, x, 4);
    const int8x16_t repeated = vreinterpretq_s8_u32(vdupq_n_u32(word));
    return tml_v_pair(vdotq_s32(acc.lo, vld1q_s8(ga), repeated), gb != NULL ? vdotq_s32(acc.hi, vld1q_s8(gb), repeated) : acc.hi);
}
#endif

#else
#error "host_simd.h: define TML_SIMD_AVX2, TML_SIMD_SSE41 or TML_SIMD_NEON"
#endif

#if !defined(TML_V_HAS_DOT)
#define TML_V_HAS_DOT 0
#endif

#endif
