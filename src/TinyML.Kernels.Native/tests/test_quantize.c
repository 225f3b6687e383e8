/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_quantize.c: QUANTIZE (float32 -> int8/int16, integer -> integer) and DEQUANTIZE.
 *
 * 1. Hand-computed checkpoints (derivations in the comments), including rounding ties and out-of-range floats.
 * 2. Sweeps: every int8 value (and every int16 value for the int16 inputs) against an independent 64-bit
 *    reference of the double-rounding requantization, for many scale ratios (< 1, > 1, exact powers of two);
 *    random floats against a reference that divides in float32 and rounds half away from zero.
 * 3. Conformance: shared/ops QUANTIZE / DEQUANTIZE cases, concat_axis3_requant's two requantizations, and
 *    keyword_scrambled's int16 -> int8 and int16 -> int32 QUANTIZE ops (bit-exact), when the shared/ folder
 *    is found (TML_SHARED_DIR, else ../shared beside the repository).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tml_kernels.h"
#include "tml_test.h"

static int g_golden_vectors = 0;

/* ---- derivations and independent references ---------------------------------------------------------------- */

/* Integer QUANTIZE: QuantizeMultiplier((double)input_scale / (double)output_scale). */
static tml_requantize_params derive_requantize(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp)
{
    tml_requantize_params p;
    tml_test_quantize_multiplier((double)in_scale / (double)out_scale, &p.multiplier, &p.shift);
    p.input_zero_point = in_zp;
    p.output_zero_point = out_zp;
    return p;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/*
 * float -> int reference: the quotient in float32 (a double division rounded once to float is the correctly
 * rounded float quotient), rounded half away from zero; out-of-range / NaN become INT32_MIN (x86-64); the zero
 * point is added with 32-bit wrap-around, then the result is clamped.
 */
static int64_t ref_quantize(float x, float scale, int32_t zp, int64_t lo, int64_t hi)
{
    const float q = (float)((double)x / (double)scale);
    double r;
    int32_t i;
    if (q != q) {
        i = INT32_MIN;
    } else {
        r = q < 0 ? -floor(-(double)q + 0.5) : floor((double)q + 0.5);
        i = (r >= -2147483648.0 && r < 2147483648.0) ? (int32_t)r : INT32_MIN;
    }
    return clamp64((int64_t)(int32_t)((uint32_t)i + (uint32_t)zp), lo, hi);
}

/* ---- hand-computed checkpoints ---------------------------------------------------------------------------- */

static void test_checkpoints(void)
{
    /*
     * float -> int8 with scale 1/128, zp 0: x / scale is exact for these inputs.
     *   0.5/128 -> 0.5 -> 1 (half away from zero, not to even);  -0.5/128 -> -1;  2.5/128 -> 3;  -2.5/128 -> -3
     *   1.0 -> 128 -> saturates to 127;  -1.0 -> -128;  -0.0 -> 0;  1e-30 -> 0
     *   1e30 -> quotient beyond int32 -> INT32_MIN (x86 TFLM) + 0 -> clamps to -128 (not 127!)
     *   NaN -> INT32_MIN -> -128
     */
    {
        const tml_quantize_params p = {0.0078125f, 0};
        const float in[10] = {0.5f / 128, -0.5f / 128, 2.5f / 128, -2.5f / 128, 1.0f, -1.0f, -0.0f, 1e-30f,
                              1e30f, 0.0f};
        const int8_t expected[10] = {1, -1, 3, -3, 127, -128, 0, 0, -128, -128};
        float in2[10];
        int8_t out[10];
        memcpy(in2, in, sizeof in);
        in2[9] = (float)(0.0 / 1.0);
        in2[9] = in2[9] / in2[9]; /* NaN */
        tml_quantize_f32_s8(&p, in2, 10, out);
        tml_test_record(tml_test_compare_s8("quantize checkpoints", expected, out, 10), "quantize checkpoints");
    }
    /*
     * With zp -17 the out-of-range quotient wraps: INT32_MIN + (-17) = 2^31 - 17 -> clamps to 127, while
     * 0.5 * scale -> 0.5 -> 1 -> 1 - 17 = -16.
     */
    {
        const tml_quantize_params p = {0.25f, -17};
        const float in[2] = {0.125f, -3e38f};
        const int8_t expected[2] = {-16, 127};
        int8_t out[2];
        tml_quantize_f32_s8(&p, in, 2, out);
        tml_test_record(tml_test_compare_s8("quantize wrap", expected, out, 2), "quantize wrap checkpoints");
    }
    /*
     * int8 -> int8, 0.05 -> 0.1 (the quantize_i8_i8_down case): (double)0.05f / (double)0.1f = 0.5 exactly
     * (0.1f is exactly 2 * 0.05f), so multiplier 2^30, shift 0, and the high multiply is (x * 2^30 + 2^30)
     * / 2^31 rounded down, i.e. x / 2 with ties toward +inf:
     *   x = 97  -> 48.5 -> 49 -> 49 - 20 = 29
     *   x = -97 -> -48.5 -> -48 -> -68       (the README's "-48.5 becomes -48 but 48.5 becomes 49")
     *   x = -128 -> -64 -> -84;  x = 127 -> 63.5 -> 64 -> 44
     */
    {
        const tml_requantize_params p = derive_requantize(0.05000000074505806f, 0, 0.10000000149011612f, -20);
        const int8_t in[4] = {97, -97, -128, 127};
        const int8_t expected[4] = {29, -68, -84, 44};
        int8_t out[4];
        (void)TML_CHECK(p.multiplier == (1 << 30) && p.shift == 0, "params %d %d", p.multiplier, p.shift);
        tml_requantize_s8_s8(&p, in, 4, out);
        tml_test_record(tml_test_compare_s8("requantize down", expected, out, 4), "requantize checkpoints");
    }
    /*
     * DEQUANTIZE scale 1/256, zp -128: x = -128 -> 0.0; x = 127 -> 255/256 = 0.99609375; x = 0 -> 0.5.
     */
    {
        const tml_dequantize_params p = {0.00390625f, -128};
        const int8_t in[3] = {-128, 127, 0};
        const float expected[3] = {0.0f, 0.99609375f, 0.5f};
        float out[3];
        tml_dequantize_s8_f32(&p, in, 3, out);
        tml_test_record(tml_test_compare_f32_exact("dequantize checkpoints", expected, out, 3),
                        "dequantize checkpoints");
    }
}

/* ---- sweeps ------------------------------------------------------------------------------------------------- */

static float random_ratio(tml_rng *rng, int t)
{
    /* the first 13 ratios are exact powers of two (2^-6 .. 2^6), the others log-uniform in [1/50, 50] */
    return t < 13 ? ldexpf(1.0f, t - 6) : (float)exp(tml_rng_double(rng, log(0.02), log(50.0)));
}

static void sweep_requantize(tml_rng *rng)
{
    static int16_t in16[65536];
    static int8_t o8[65536], e8[65536];
    static int16_t o16[65536], e16[65536];
    static int32_t o32[65536], e32[65536];
    int8_t in8[256];
    int t, i;
    for (i = 0; i < 256; i++) {
        in8[i] = (int8_t)(i - 128);
    }
    for (i = 0; i < 65536; i++) {
        in16[i] = (int16_t)(i - 32768);
    }
    for (t = 0; t < 120; t++) {
        const float in_scale = (float)exp(tml_rng_double(rng, log(1e-4), log(1.0)));
        const float out_scale = in_scale / random_ratio(rng, t);
        const int32_t zp8_in = tml_rng_range(rng, -128, 127);
        const int32_t zp8_out = tml_rng_range(rng, -128, 127);
        const int32_t zp16_out = t % 2 ? 0 : tml_rng_range(rng, -32768, 32767);
        char label[96];
        /* int8 inputs: s8, s16, s32 outputs */
        {
            const tml_requantize_params p8 = derive_requantize(in_scale, zp8_in, out_scale, zp8_out);
            const tml_requantize_params p16 = derive_requantize(in_scale, zp8_in, out_scale, zp16_out);
            for (i = 0; i < 256; i++) {
                e8[i] = (int8_t)clamp64((int64_t)tml_ref_requantize(in8[i] - zp8_in, p8.multiplier, p8.shift) + zp8_out,
                                        -128, 127);
                e16[i] = (int16_t)clamp64(
                    (int64_t)tml_ref_requantize(in8[i] - zp8_in, p16.multiplier, p16.shift) + zp16_out, -32768, 32767);
                e32[i] = tml_ref_requantize(in8[i] - zp8_in, p16.multiplier, p16.shift) + zp16_out;
            }
            tml_requantize_s8_s8(&p8, in8, 256, o8);
            tml_requantize_s8_s16(&p16, in8, 256, o16);
            tml_requantize_s8_s32(&p16, in8, 256, o32);
            snprintf(label, sizeof label, "requantize s8 sweep %d", t);
            tml_test_record(tml_test_compare_s8(label, e8, o8, 256) && tml_test_compare_s16(label, e16, o16, 256) &&
                                tml_test_compare_s32(label, e32, o32, 256),
                            label);
        }
        /* int16 inputs (zero point 0 as TFLM's int16 tensors, or -32768 like a softmax output) */
        {
            const int32_t zp_in = t % 3 == 0 ? -32768 : 0;
            const tml_requantize_params p8 = derive_requantize(in_scale, zp_in, out_scale * 256.0f, zp8_out);
            const tml_requantize_params p16 = derive_requantize(in_scale, zp_in, out_scale, zp16_out);
            for (i = 0; i < 65536; i++) {
                const int32_t d = in16[i] - zp_in;
                e8[i] = (int8_t)clamp64((int64_t)tml_ref_requantize(d, p8.multiplier, p8.shift) + zp8_out, -128, 127);
                e16[i] = (int16_t)clamp64((int64_t)tml_ref_requantize(d, p16.multiplier, p16.shift) + zp16_out, -32768,
                                          32767);
                e32[i] = tml_ref_requantize(d, p16.multiplier, p16.shift) + zp16_out;
            }
            tml_requantize_s16_s8(&p8, in16, 65536, o8);
            tml_requantize_s16_s16(&p16, in16, 65536, o16);
            tml_requantize_s16_s32(&p16, in16, 65536, o32);
            snprintf(label, sizeof label, "requantize s16 sweep %d", t);
            tml_test_record(tml_test_compare_s8(label, e8, o8, 65536) &&
                                tml_test_compare_s16(label, e16, o16, 65536) &&
                                tml_test_compare_s32(label, e32, o32, 65536),
                            label);
        }
    }
}

static void sweep_float(tml_rng *rng)
{
    enum { N = 4096 };
    static float in[N];
    static int8_t o8[N], e8[N];
    static int16_t o16[N], e16[N];
    static float deq[N], edeq[N];
    int t, i;
    for (t = 0; t < 60; t++) {
        const float scale = (float)exp(tml_rng_double(rng, log(1e-4), log(10.0)));
        const int32_t zp8 = tml_rng_range(rng, -128, 127);
        const int32_t zp16 = t % 2 ? 0 : tml_rng_range(rng, -32768, 32767);
        const tml_quantize_params q8 = {scale, zp8};
        const tml_quantize_params q16 = {scale, zp16};
        const tml_dequantize_params d8 = {scale, zp8};
        char label[96];
        for (i = 0; i < N; i++) {
            const int kind = tml_rng_range(rng, 0, 9);
            if (kind == 0) {
                /* exact ties: (k + 0.5) * scale, which may or may not divide back exactly */
                in[i] = ((float)tml_rng_range(rng, -200, 200) + 0.5f) * scale;
            } else if (kind == 1) {
                in[i] = (float)tml_rng_double(rng, -1e6, 1e6);
            } else {
                in[i] = (float)tml_rng_double(rng, -300.0, 300.0) * scale;
            }
        }
        for (i = 0; i < N; i++) {
            e8[i] = (int8_t)ref_quantize(in[i], scale, zp8, -128, 127);
            e16[i] = (int16_t)ref_quantize(in[i], scale, zp16, -32768, 32767);
        }
        tml_quantize_f32_s8(&q8, in, N, o8);
        tml_quantize_f32_s16(&q16, in, N, o16);
        snprintf(label, sizeof label, "quantize float sweep %d", t);
        tml_test_record(tml_test_compare_s8(label, e8, o8, N) && tml_test_compare_s16(label, e16, o16, N), label);
        /* DEQUANTIZE every int8 value: one float multiply of exact operands = double product rounded once */
        for (i = 0; i < 256; i++) {
            o8[i] = (int8_t)(i - 128);
            edeq[i] = (float)((double)scale * (double)(i - 128 - zp8));
        }
        tml_dequantize_s8_f32(&d8, o8, 256, deq);
        snprintf(label, sizeof label, "dequantize sweep %d", t);
        tml_test_record(tml_test_compare_f32_exact(label, edeq, deq, 256), label);
        /* QUANTIZE(DEQUANTIZE(x)) == x for every int8 value */
        tml_quantize_f32_s8(&q8, deq, 256, e8);
        tml_test_record(tml_test_compare_s8("round trip", o8, e8, 256), "quantize(dequantize(x)) == x");
    }
    {
        int16_t in16[5] = {-32768, -1, 0, 1, 32767};
        float out[5];
        const tml_dequantize_params d16 = {0.5f, -1};
        const float expected[5] = {-16383.5f, 0.0f, 0.5f, 1.0f, 16384.0f};
        tml_dequantize_s16_f32(&d16, in16, 5, out);
        tml_test_record(tml_test_compare_f32_exact("dequantize s16", expected, out, 5), "dequantize s16");
    }
}

static void test_argument_errors(void)
{
    const tml_requantize_params p = derive_requantize(0.1f, 0, 0.2f, 0);
    const tml_quantize_params q = {0.1f, 0};
    int8_t buf[2] = {0, 0};
    int ok = 1;
    ok &= TML_CHECK(tml_requantize_s8_s8(NULL, buf, 2, buf) == TML_ERROR_ARGUMENT, "NULL params");
    ok &= TML_CHECK(tml_requantize_s8_s8(&p, buf, -2, buf) == TML_ERROR_ARGUMENT, "negative size");
    ok &= TML_CHECK(tml_quantize_f32_s8(&q, NULL, 2, buf) == TML_ERROR_ARGUMENT, "NULL input");
    ok &= TML_CHECK(tml_quantize_f32_s8(&q, NULL, 0, NULL) == TML_OK, "empty");
    tml_test_record(ok, "argument errors");
}

/* ---- conformance ---------------------------------------------------------------------------------------------- */

/* tml_golden_run_fn for QUANTIZE float32 -> int8: n_in / 4 floats in, as many int8 out. */
static int run_quantize_f32_vector(const void *params, const char *label, const void *in, long n_in,
                                   const void *expected, long n_out)
{
    int8_t *out;
    int ok;
    if (n_out != n_in / 4) {
        return 0;
    }
    out = (int8_t *)malloc((size_t)(n_in / 4));
    tml_quantize_f32_s8((const tml_quantize_params *)params, (const float *)in, (int32_t)(n_in / 4), out);
    ok = tml_test_compare_s8(label, (const int8_t *)expected, out, (size_t)(n_in / 4));
    free(out);
    return ok;
}

/* tml_golden_run_fn for QUANTIZE int8 -> int8 (requantization). */
static int run_requantize_s8_vector(const void *params, const char *label, const void *in, long n_in,
                                    const void *expected, long n_out)
{
    int8_t *out;
    int ok;
    if (n_out != n_in) {
        return 0;
    }
    out = (int8_t *)malloc((size_t)n_in);
    tml_requantize_s8_s8((const tml_requantize_params *)params, (const int8_t *)in, (int32_t)n_in, out);
    ok = tml_test_compare_s8(label, (const int8_t *)expected, out, (size_t)n_in);
    free(out);
    return ok;
}

/* tml_golden_run_fn for DEQUANTIZE int8 -> float32. */
static int run_dequantize_vector(const void *params, const char *label, const void *in, long n_in,
                                 const void *expected, long n_out)
{
    float *out;
    int ok;
    if (n_out != n_in * 4) {
        return 0;
    }
    out = (float *)malloc((size_t)n_in * 4);
    tml_dequantize_s8_f32((const tml_dequantize_params *)params, (const int8_t *)in, (int32_t)n_in, out);
    ok = tml_test_compare_f32_exact(label, (const float *)expected, out, (size_t)n_in);
    free(out);
    return ok;
}

static void golden_quantize_f32(const char *name, float scale, int32_t zp)
{
    const tml_quantize_params p = {scale, zp};
    g_golden_vectors += tml_golden_op_case(name, run_quantize_f32_vector, &p);
}

static void golden_requantize_s8(const char *name, const tml_requantize_params *p)
{
    g_golden_vectors += tml_golden_op_case(name, run_requantize_s8_vector, p);
}

static void golden_dequantize(const char *name, float scale, int32_t zp)
{
    const tml_dequantize_params p = {scale, zp};
    g_golden_vectors += tml_golden_op_case(name, run_dequantize_vector, &p);
}

/* concat_axis3_requant: QUANTIZE each input to (0.06, -10), then concatenate 3 + 5 channels per pixel. */
static void golden_concat_requant(void)
{
    void *a = NULL, *b = NULL, *expected = NULL;
    const tml_requantize_params pa = derive_requantize(0.05000000074505806f, 0, 0.05999999865889549f, -10);
    const tml_requantize_params pb = derive_requantize(0.019999999552965164f, -30, 0.05999999865889549f, -10);
    if (tml_read_shared_file("ops/concat_axis3_requant/input_1.bin", &a) != 48 ||
        tml_read_shared_file("ops/concat_axis3_requant/input_1_b.bin", &b) != 80 ||
        tml_read_shared_file("ops/concat_axis3_requant/output_1.bin", &expected) != 128) {
        tml_test_record(0, "golden concat_axis3_requant files");
    } else {
        int8_t qa[48], qb[80], out[128];
        int px, c;
        tml_requantize_s8_s8(&pa, (const int8_t *)a, 48, qa);
        tml_requantize_s8_s8(&pb, (const int8_t *)b, 80, qb);
        for (px = 0; px < 16; px++) {
            for (c = 0; c < 3; c++) {
                out[px * 8 + c] = qa[px * 3 + c];
            }
            for (c = 0; c < 5; c++) {
                out[px * 8 + 3 + c] = qb[px * 5 + c];
            }
        }
        tml_test_record(tml_test_compare_s8("golden concat_axis3_requant", (const int8_t *)expected, out, 128),
                        "golden concat_axis3_requant");
        g_golden_vectors++;
    }
    free(a);
    free(b);
    free(expected);
}

/* keyword_scrambled op 0: int16 (t052) -> int8 (t000); op 14: int16 (t051) -> int32 (t053). */
static void golden_keyword_scrambled(void)
{
    void *in = NULL, *expected = NULL;
    if (tml_read_shared_file("golden/keyword_scrambled/tensors_1/t052.bin", &in) == 192 &&
        tml_read_shared_file("golden/keyword_scrambled/tensors_1/t000.bin", &expected) == 96) {
        const tml_requantize_params p = derive_requantize(0.000624999986f, 0, 0.0592083335f, -128);
        int8_t out[96];
        tml_requantize_s16_s8(&p, (const int16_t *)in, 96, out);
        tml_test_record(tml_test_compare_s8("keyword_scrambled quantize s16->s8", (const int8_t *)expected, out, 96),
                        "keyword_scrambled quantize s16 -> s8");
        g_golden_vectors++;
    } else {
        tml_test_record(0, "keyword_scrambled tensors 52/0");
    }
    free(in);
    free(expected);
    in = NULL;
    expected = NULL;
    if (tml_read_shared_file("golden/keyword_scrambled/tensors_1/t051.bin", &in) == 4 &&
        tml_read_shared_file("golden/keyword_scrambled/tensors_1/t053.bin", &expected) == 8) {
        const tml_requantize_params p = derive_requantize(1.52590219e-05f, -32768, 3.05185094e-05f, 0);
        int32_t out[2];
        tml_requantize_s16_s32(&p, (const int16_t *)in, 2, out);
        tml_test_record(tml_test_compare_s32("keyword_scrambled quantize s16->s32", (const int32_t *)expected, out, 2),
                        "keyword_scrambled quantize s16 -> s32");
        g_golden_vectors++;
    } else {
        tml_test_record(0, "keyword_scrambled tensors 51/53");
    }
    free(in);
    free(expected);
}

/* seanet's quantize0 (../shared/seanet): int32 (scale 2^-26) -> int16, TFLM's output. */
static void golden_seanet_s32_s16(void)
{
    void *in = NULL;
    void *expected = NULL;
    if (tml_read_shared_file("seanet/seanet_quantize_0/input_1.bin", &in) == 2560 &&
        tml_read_shared_file("seanet/seanet_quantize_0/output_1.bin", &expected) == 1280) {
        const tml_requantize_params p = derive_requantize(1.49011612e-07f, 0, 0.000921971456f, 0);
        int16_t out[640];
        tml_test_record(tml_requantize_s32_s16(&p, (const int32_t *)in, 640, out) == TML_OK, "s32 -> s16 status");
        tml_test_record(tml_test_compare_s16("seanet quantize0 s32->s16", (const int16_t *)expected, out, 640),
                        "seanet quantize0 s32 -> s16");
        g_golden_vectors++;
    } else {
        tml_test_record(0, "seanet_quantize_0 files");
    }
    free(in);
    free(expected);
}

static void test_golden(void)
{
    char shared_dir[1024];
    if (!TML_REQUIRE_SHARED("ops/README.md")) {
        return;
    }
    golden_quantize_f32("quantize_f32_pow2", 0.0078125f, 0);
    golden_quantize_f32("quantize_f32_asym", 0.023529399186372757f, -17);
    {
        const tml_requantize_params down = derive_requantize(0.05000000074505806f, 0, 0.10000000149011612f, -20);
        const tml_requantize_params up = derive_requantize(0.10000000149011612f, 10, 0.029999999329447746f, -5);
        golden_requantize_s8("quantize_i8_i8_down", &down);
        golden_requantize_s8("quantize_i8_i8_up", &up);
    }
    golden_dequantize("dequantize_256", 0.05000000074505806f, -7);
    golden_dequantize("dequantize_zpmin", 0.00390625f, -128);
    golden_concat_requant();
    golden_keyword_scrambled();
    golden_seanet_s32_s16();
    printf("golden: %d TFLM vectors compared from %s\n", g_golden_vectors,
           tml_shared_path(shared_dir, sizeof shared_dir, NULL));
}

int main(void)
{
    tml_rng rng = tml_rng_seed(4242u);
    test_checkpoints();
    sweep_requantize(&rng);
    sweep_float(&rng);
    test_argument_errors();
    test_golden();
    return TML_TEST_SUMMARY("test_quantize");
}
