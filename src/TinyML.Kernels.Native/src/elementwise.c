/* SPDX-License-Identifier: Apache-2.0 */
/*
 * elementwise.c: int8 and int16 (16x8) ADD, SUB and MUL with N-D broadcast (up to TML_MAX_DIMS).
 *
 * ADD / SUB (TFLM AddFunc, SubElementwise / BroadcastQuantSubSlow):
 *   a = (x1 + input1_offset) << left_shift;           b = (x2 + input2_offset) << left_shift
 *   a = MultiplyByQuantizedMultiplierSmallerThanOneExp(a, input1_quant)
 *   b = MultiplyByQuantizedMultiplierSmallerThanOneExp(b, input2_quant)
 *   out = clamp(MultiplyByQuantizedMultiplierSmallerThanOneExp(a +/- b, output_quant) + output_offset)
 * MUL (TFLM MulElementwise / BroadcastMul4DSlow):
 *   out = clamp(MultiplyByQuantizedMultiplier((x1 + input1_offset) * (x2 + input2_offset), output_quant)
 *               + output_offset)
 * Broadcast and same-shape inputs go through the same per-element arithmetic, so the flat fast path of
 * tml_broadcast_apply is bit-exact with the broadcast path.
 */
#include "common.h"
#include "tml_arch.h"
#include "host/host_path.h"

static int quant_smaller_than_one(const tml_quant *q)
{
    return q->multiplier >= 0 && q->shift <= 0 && q->shift >= -31;
}

static int add_params_valid(const tml_add_params *p)
{
    return p->left_shift >= 0 && p->left_shift <= 30 && quant_smaller_than_one(&p->input1_quant) &&
           quant_smaller_than_one(&p->input2_quant) && quant_smaller_than_one(&p->output_quant) &&
           p->activation_min <= p->activation_max;
}

TML_INLINE int32_t add_scale_input(int32_t x, int32_t offset, int32_t left_shift, const tml_quant *q)
{
    return tml_mul_by_quantized_multiplier_smaller_than_one(tml_shl_wrap(x + offset, left_shift), q->multiplier,
                                                            q->shift);
}

TML_INLINE int8_t add_finish(const tml_add_params *p, int32_t raw)
{
    const int32_t out = tml_mul_by_quantized_multiplier_smaller_than_one(raw, p->output_quant.multiplier,
                                                                         p->output_quant.shift) +
                        p->output_offset;
    return (int8_t)tml_clamp_i32(out, p->activation_min, p->activation_max);
}

/* The fast form's assembly needs the register allocation of an optimized build (-O0 keeps too few registers free). */
#if TML_USE_DSP && defined(__OPTIMIZE__)
#define ADD_FAST 1
#else
#define ADD_FAST 0
#endif

#if ADD_FAST
/*
 * The fast form of int8 ADD / SUB, exact for TFLM's parameters (add_fast_prepare checks them per row, else the
 * general path runs). With v = x + offset (9 bits) and left_shift 20:
 *   - input A has multiplier 2^30, shift 0 (real multiplier 1/2: TFLM's Prepare gives it to the input with the
 *     larger scale), so s_A = floor((v * 2^50 + 2^30) / 2^31) = v * 2^19 and 2 s_A = v << 20, no multiply;
 *   - input B: SRDHM(v << 20, m) = floor((v * 2^21 * m + 2^31) / 2^32) is one SMMLAR of b = v << 21, and its
 *     rounding shift by e >= 1 is (h + 2^(e-1) - [h < 0]) >> e (half away from zero); h < 0 only where b < 0 (else
 *     h is 0, which rounds to 0 either way), so the SMMLAR addend is cb + (b >> 31). A B with multiplier 2^30,
 *     shift 0 (equal scales) is exact too: b = (v + 256) << 21 >= 0, h = (v + 256) * 2^19, cb = -256 * 2^19, e = 0;
 *   - the output: SRDHM(t, m) for t = s_A +- s_B is one SMMLAR of 2t, its shift the same, and output_offset * 2^e
 *     joins the addend (floor((y + o * 2^e) / 2^e) = floor(y / 2^e) + o).
 * Bounds (|v| <= 256, output shift in [1, 22], |output_offset| <= 256): |2t| <= 2^29 + 2 and every addend plus
 * high word stays within +-2^31, so nothing wraps.
 */
typedef struct {
    int32_t oa, ob, cb, mb, eb, ko, mo, eo;
    int swap; /* input 2 is A */
} add_fast;

static int add_fast_prepare(const tml_add_params *p, add_fast *f)
{
    const int exact1 = p->input1_quant.multiplier == (1 << 30) && p->input1_quant.shift == 0;
    const int exact2 = p->input2_quant.multiplier == (1 << 30) && p->input2_quant.shift == 0;
    if (p->left_shift != 20 || (!exact1 && !exact2) || p->input1_offset < -128 || p->input1_offset > 128 ||
        p->input2_offset < -128 || p->input2_offset > 128 || p->output_quant.shift > -1 ||
        p->output_quant.shift < -22 || p->output_offset < -256 || p->output_offset > 256 ||
        p->activation_min < -128 || p->activation_max > 127) {
        return 0;
    }
    f->swap = !exact1;
    const tml_quant *qb = f->swap ? &p->input1_quant : &p->input2_quant;
    const int32_t offset_b = f->swap ? p->input1_offset : p->input2_offset;
    const int b_exact = qb->multiplier == (1 << 30) && qb->shift == 0;
    if (!b_exact && qb->shift > -1) {
        return 0; /* shift 0 with another multiplier: not from TFLM's Prepare */
    }
    f->oa = (f->swap ? p->input2_offset : p->input1_offset) * (1 << 20);
    f->ob = (offset_b + (b_exact ? 256 : 0)) * (1 << 21);
    f->mb = b_exact ? (1 << 30) : qb->multiplier;
    f->eb = b_exact ? 0 : -qb->shift;
    f->cb = b_exact ? -(256 << 19) : 1 << (f->eb - 1);
    f->eo = -p->output_quant.shift;
    f->mo = p->output_quant.multiplier;
    f->ko = (1 << (f->eo - 1)) + p->output_offset * (1 << f->eo);
    return 1;
}

/* One element of the four-output loop below: u and t are its two temporaries, w the packed outputs; the constants
 * ob, mb, eb, oa, ko, mo are in r4-r6, r8, r10, r11, cb and eo on the stack. The loads follow element 0's
 * post-increment (offsets -3..-1). */
#define ADD_FAST_STEP(LOAD_B, LOAD_A, SUM, PACK)                                                                   \
    "ldrsb %[u], " LOAD_B "\n\t"                                                                                   \
    "add %[u], r4, %[u], lsl #21\n\t"                                                                              \
    "ldr %[t], %[cb]\n\t"                                                                                          \
    "add %[t], %[t], %[u], asr #31\n\t"                                                                            \
    "smmlar %[u], %[u], r5, %[t]\n\t"                                                                              \
    "asr %[u], %[u], r6\n\t"                                                                                       \
    "ldrsb %[t], " LOAD_A "\n\t"                                                                                   \
    "add %[t], r8, %[t], lsl #20\n\t" SUM " %[t], %[t], %[u], lsl #1\n\t"                                          \
    "add %[u], r10, %[t], asr #31\n\t"                                                                             \
    "smmlar %[t], %[t], r11, %[u]\n\t"                                                                             \
    "ldr %[u], %[eo]\n\t"                                                                                          \
    "asr %[t], %[t], %[u]\n\t" PACK "\n\t"

/* Four outputs per iteration (n4 of them, a multiple of 4, > 0), in assembly: the C version spilled a third of its
 * instructions. Twelve registers: eight constants, three pointers and three temporaries would be fourteen, which GCC
 * cannot give at -Os or with a frame pointer, so cb, eo, the clamp bounds and the end are reloaded from the stack and
 * six constants sit in fixed registers, loaded once. SEL after SSUB8 picks per byte by the GE flags: the max with lo,
 * then the min with hi. */
#define ADD_FAST_LOOP(SUM)                                                                                          \
    __asm__ volatile(                                                                                              \
        "ldr r4, %[ob]\n\t"                                                                                        \
        "ldr r5, %[mb]\n\t"                                                                                        \
        "ldr r6, %[eb]\n\t"                                                                                        \
        "ldr r8, %[oa]\n\t"                                                                                        \
        "ldr r10, %[ko]\n\t"                                                                                       \
        "ldr r11, %[mo]\n\t"                                                                                       \
        "1:\n\t" ADD_FAST_STEP("[%[xb]], #4", "[%[xa]], #4", SUM, "ssat %[w], #8, %[t]")                            \
            ADD_FAST_STEP("[%[xb], #-3]", "[%[xa], #-3]", SUM, "ssat %[t], #8, %[t]\n\tbfi %[w], %[t], #8, #8")   \
                ADD_FAST_STEP("[%[xb], #-2]", "[%[xa], #-2]", SUM, "ssat %[t], #8, %[t]\n\tbfi %[w], %[t], #16, #8") \
                    ADD_FAST_STEP("[%[xb], #-1]", "[%[xa], #-1]", SUM,                                              \
                                  "ssat %[t], #8, %[t]\n\tbfi %[w], %[t], #24, #8")                               \
        "ldr %[u], %[lo]\n\t"                                                                                      \
        "ssub8 %[t], %[w], %[u]\n\t"                                                                               \
        "sel %[w], %[w], %[u]\n\t"                                                                                 \
        "ldr %[u], %[hi]\n\t"                                                                                      \
        "ssub8 %[t], %[u], %[w]\n\t"                                                                               \
        "sel %[w], %[w], %[u]\n\t"                                                                                 \
        "str %[w], [%[y]], #4\n\t"                                                                                 \
        "ldr %[u], %[end]\n\t"                                                                                     \
        "cmp %[xa], %[u]\n\t"                                                                                      \
        "bne 1b\n\t"                                                                                               \
        : [xa] "+r"(xa), [xb] "+r"(xb), [y] "+r"(y), [w] "=&r"(w), [t] "=&r"(t), [u] "=&r"(u)                     \
        : [oa] "m"(oa), [ob] "m"(ob), [cb] "m"(cb), [mb] "m"(mb), [eb] "m"(eb), [ko] "m"(ko), [mo] "m"(mo),       \
          [eo] "m"(eo), [lo] "m"(lo4), [hi] "m"(hi4), [end] "m"(end)                                               \
        : "r4", "r5", "r6", "r8", "r10", "r11", "cc", "memory")

/* n4 outputs (a multiple of 4, > 0) of a row with both inputs dense: xa is input A, xb input B (add_fast). */
TML_INLINE void add_fast_row(const add_fast *f, const int8_t *xa, const int8_t *xb, int8_t *y, int32_t n4,
                             int32_t act_min, int32_t act_max, int op)
{
    const int32_t oa = f->oa, ob = f->ob, cb = f->cb, mb = f->mb, eb = f->eb, ko = f->ko, mo = f->mo, eo = f->eo;
    const uint32_t lo4 = (uint8_t)act_min * 0x01010101u, hi4 = (uint8_t)act_max * 0x01010101u;
    const int8_t *const end = xa + n4;
    uint32_t w, t, u;
    if (op == 0) {
        ADD_FAST_LOOP("add");
    } else if (op == 1) {
        ADD_FAST_LOOP("sub");
    } else {
        ADD_FAST_LOOP("rsb");
    }
}
#endif

#if TML_USE_DSP
/* Outputs [from, n) of a row through the three requantizations, one SMLAL each (tml_requant_apply; exact for these
 * multipliers, which are >= 0 with shifts in [-31, 0]), prepared once per call. A function of its own: its records
 * and the fast form's constants are never live together, so the static stack bound takes the larger frame only. */
static __attribute__((noinline)) void add_sub_row_general(const tml_add_params *p, const int8_t *x1, int32_t sa,
                                                          const int8_t *x2, int32_t sb, int8_t *y, int32_t from,
                                                          int32_t n, int subtract)
{
    const tml_requant q1 = tml_requant_prepare(p->input1_quant.multiplier, p->input1_quant.shift);
    const tml_requant q2 = tml_requant_prepare(p->input2_quant.multiplier, p->input2_quant.shift);
    const tml_requant qo = tml_requant_prepare(p->output_quant.multiplier, p->output_quant.shift);
    /* Locals, not p->: the int8 stores may alias *p, which would reload every field for every element. */
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset, left_shift = p->left_shift;
    const int32_t out_offset = p->output_offset, act_min = p->activation_min, act_max = p->activation_max;
    for (int32_t i = from; i < n; i++) {
        const int32_t s1 = tml_requant_apply(&q1, tml_shl_wrap(x1[(ptrdiff_t)i * sa] + offset1, left_shift));
        const int32_t s2 = tml_requant_apply(&q2, tml_shl_wrap(x2[(ptrdiff_t)i * sb] + offset2, left_shift));
        const int32_t out = tml_requant_apply(&qo, subtract ? s1 - s2 : s1 + s2) + out_offset;
        y[i] = (int8_t)tml_clamp_i32(out, act_min, act_max);
    }
}
#endif

#if ADD_FAST
/* The row's first n & ~3 outputs in the fast form when both inputs are dense and the parameters allow it; returns how
 * many it wrote (0 otherwise). Called through add_row_fast / sub_row_fast, functions of their own as
 * add_sub_row_general, so the two frames are never stacked; subtract is a constant in each. */
TML_INLINE int32_t add_sub_row_fast(const tml_add_params *p, const int8_t *x1, const int8_t *x2, int8_t *y, int32_t n,
                                    int subtract)
{
    add_fast f;
    const int32_t n4 = n & ~3;
    if (n4 == 0 || !add_fast_prepare(p, &f)) {
        return 0;
    }
    if (!subtract) {
        add_fast_row(&f, f.swap ? x2 : x1, f.swap ? x1 : x2, y, n4, p->activation_min, p->activation_max, 0);
    } else if (!f.swap) {
        add_fast_row(&f, x1, x2, y, n4, p->activation_min, p->activation_max, 1);
    } else {
        add_fast_row(&f, x2, x1, y, n4, p->activation_min, p->activation_max, 2); /* s_1 - s_2 = s_B - s_A */
    }
    return n4;
}

static __attribute__((noinline)) int32_t add_row_fast(const tml_add_params *p, const int8_t *x1, const int8_t *x2,
                                                       int8_t *y, int32_t n)
{
    return add_sub_row_fast(p, x1, x2, y, n, 0);
}

static __attribute__((noinline)) int32_t sub_row_fast(const tml_add_params *p, const int8_t *x1, const int8_t *x2,
                                                       int8_t *y, int32_t n)
{
    return add_sub_row_fast(p, x1, x2, y, n, 1);
}
#endif

/* One row of ADD (subtract == 0) or SUB (subtract == 1); subtract is a constant at each call site. */
TML_INLINE void add_sub_row(const tml_add_params *p, const int8_t *x1, int32_t sa, const int8_t *x2, int32_t sb,
                            int8_t *y, int32_t n, int subtract)
{
#if TML_USE_DSP
    int32_t done = 0;
#if ADD_FAST
    if (sa == 1 && sb == 1) {
        done = subtract ? sub_row_fast(p, x1, x2, y, n) : add_row_fast(p, x1, x2, y, n);
    }
#endif
    if (done < n) {
        add_sub_row_general(p, x1, sa, x2, sb, y, done, n, subtract);
    }
#else
    int32_t i = 0;
#if TML_USE_HOST_SIMD
    i = tml_host_add_s8(p, x1, sa, x2, sb, y, n, subtract);
#endif
    for (; i < n; i++) {
        const int32_t s1 = add_scale_input(x1[(ptrdiff_t)i * sa], p->input1_offset, p->left_shift, &p->input1_quant);
        const int32_t s2 = add_scale_input(x2[(ptrdiff_t)i * sb], p->input2_offset, p->left_shift, &p->input2_quant);
        y[i] = add_finish(p, subtract ? s1 - s2 : s1 + s2);
    }
#endif
}

static void add_row(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row((const tml_add_params *)params, (const int8_t *)a, sa, (const int8_t *)b, sb, (int8_t *)out, n, 0);
}

static void sub_row(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row((const tml_add_params *)params, (const int8_t *)a, sa, (const int8_t *)b, sb, (int8_t *)out, n, 1);
}

/* int16 ADD / SUB (16x8): TFLM's general int16 path (AddElementwise / SubElementwise with left_shift 15, never the
 * power-of-two path in TFLM's kernels); the same arithmetic as int8 on int16 elements. */
TML_INLINE void add_sub_row_s16(const tml_add_params *p, const int16_t *x1, int32_t sa, const int16_t *x2, int32_t sb,
                                int16_t *y, int32_t n, int subtract)
{
    for (int32_t i = 0; i < n; i++) {
        const int32_t s1 = add_scale_input(x1[(ptrdiff_t)i * sa], p->input1_offset, p->left_shift, &p->input1_quant);
        const int32_t s2 = add_scale_input(x2[(ptrdiff_t)i * sb], p->input2_offset, p->left_shift, &p->input2_quant);
        const int32_t out = tml_mul_by_quantized_multiplier_smaller_than_one(subtract ? s1 - s2 : s1 + s2,
                                                                             p->output_quant.multiplier,
                                                                             p->output_quant.shift) +
                            p->output_offset;
        y[i] = (int16_t)tml_clamp_i32(out, p->activation_min, p->activation_max);
    }
}

static void add_row_s16(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row_s16((const tml_add_params *)params, (const int16_t *)a, sa, (const int16_t *)b, sb, (int16_t *)out, n,
                    0);
}

static void sub_row_s16(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    add_sub_row_s16((const tml_add_params *)params, (const int16_t *)a, sa, (const int16_t *)b, sb, (int16_t *)out, n,
                    1);
}

/* One MUL element before the cast: the same for int8 and int16 (TFLM's MulElementwise template). */
TML_INLINE int32_t mul_element(const tml_mul_params *p, int32_t x1, int32_t x2)
{
    const int32_t r = tml_mul_by_quantized_multiplier((x1 + p->input1_offset) * (x2 + p->input2_offset),
                                                      p->output_quant.multiplier, p->output_quant.shift) +
                      p->output_offset;
    return tml_clamp_i32(r, p->activation_min, p->activation_max);
}

static void mul_row(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    const int8_t *x1 = (const int8_t *)a;
    const int8_t *x2 = (const int8_t *)b;
    int8_t *y = (int8_t *)out;
    int32_t i = 0;
#if TML_USE_HOST_SIMD
    i = tml_host_mul_s8((const tml_mul_params *)params, x1, sa, x2, sb, y, n);
#endif
    for (; i < n; i++) {
        y[i] = (int8_t)mul_element((const tml_mul_params *)params, x1[(ptrdiff_t)i * sa], x2[(ptrdiff_t)i * sb]);
    }
}

static void mul_row_s16(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out, int32_t n)
{
    const int16_t *x1 = (const int16_t *)a;
    const int16_t *x2 = (const int16_t *)b;
    int16_t *y = (int16_t *)out;
    for (int32_t i = 0; i < n; i++) {
        y[i] = (int16_t)mul_element((const tml_mul_params *)params, x1[(ptrdiff_t)i * sa], x2[(ptrdiff_t)i * sb]);
    }
}

/* tml_add_s8 and tml_sub_s8: checks the arguments, then runs `row` over the broadcast. */
static tml_status add_sub_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                             const int8_t *input2, int8_t *output, tml_broadcast_row_fn row)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !add_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 1, params, input1, input2, output, row);
}

TML_API tml_status tml_add_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    return add_sub_s8(params, shape, input1, input2, output, add_row);
}

TML_API tml_status tml_sub_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    return add_sub_s8(params, shape, input1, input2, output, sub_row);
}

/* tml_add_s16 and tml_sub_s16: the int16 clamp bounds must fit int16. */
static tml_status add_sub_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                              const int16_t *input2, int16_t *output, tml_broadcast_row_fn row)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !add_params_valid(params) || params->activation_min < INT16_MIN || params->activation_max > INT16_MAX) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 2, params, input1, input2, output, row);
}

TML_API tml_status tml_add_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output)
{
    return add_sub_s16(params, shape, input1, input2, output, add_row_s16);
}

TML_API tml_status tml_sub_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output)
{
    return add_sub_s16(params, shape, input1, input2, output, sub_row_s16);
}

static int mul_params_valid(const tml_mul_params *p)
{
    return p->output_quant.multiplier >= 0 && p->output_quant.shift <= 31 && p->output_quant.shift >= -31 &&
           p->activation_min <= p->activation_max;
}

TML_API tml_status tml_mul_s8(const tml_mul_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !mul_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 1, params, input1, input2, output, mul_row);
}

/* TFLM's int16 MUL requires zero points 0 (so the int32 product cannot overflow) and int16 clamp bounds. */
TML_API tml_status tml_mul_s16(const tml_mul_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !mul_params_valid(params) || params->input1_offset != 0 || params->input2_offset != 0 ||
        params->output_offset != 0 || params->activation_min < INT16_MIN || params->activation_max > INT16_MAX) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, 2, params, input1, input2, output, mul_row_s16);
}
