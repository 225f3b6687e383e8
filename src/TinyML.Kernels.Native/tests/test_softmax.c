/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_softmax.c: SOFTMAX int8 -> int8, int8 -> int16 and float32.
 *
 * 1. Hand-computed checkpoints (derivations in the comments).
 * 2. Randomized rows (fixed seed) over many input scales, zero points and betas: the int8 and int16 outputs
 *    against double-precision softmax (within 1 LSB), plus exact properties of TFLM's arithmetic (invariance to
 *    adding a constant to a row, monotonicity inside a row, differences below diff_min give the minimum).
 * 3. Conformance: shared/ops softmax cases and keyword_scrambled's int8 -> int16 softmax (bit-exact), float
 *    cases within a tolerance, when the shared/ folder is found (TML_SHARED_DIR, else ../shared beside the
 *    repository).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tml_kernels.h"
#include "tml_test.h"
#include "act_fixedpoint.h" /* internal: the fixed-point core is also checked directly */

static int g_golden_vectors = 0;

/* ---- parameter derivation (what the compiler computes) ------------------------------------------------------ */

/*
 * PreprocessSoftmaxScaling(beta, input_scale, 5) and -CalculateInputRadius(5, shift, 31), in double:
 *   real = min((double)beta * (double)input_scale * 2^26, 2^31 - 1); (multiplier, shift) = QuantizeMultiplier
 *   diff_min = -floor(31 * 2^26 / 2^shift)
 */
static tml_softmax_params derive_softmax(float beta, float input_scale)
{
    tml_softmax_params p;
    double real = (double)beta * (double)input_scale * (double)(1 << 26);
    const double cap = 2147483647.0;
    if (real > cap) {
        real = cap;
    }
    tml_test_quantize_multiplier(real, &p.input_multiplier, &p.input_left_shift);
    p.diff_min = -(int32_t)floor(31.0 * (double)(1 << 26) / ldexp(1.0, p.input_left_shift));
    return p;
}

/* ---- hand-computed checkpoints ---------------------------------------------------------------------------- */

static void test_checkpoints(void)
{
    int8_t in[256], out[256];
    int16_t out16[4];
    int i;
    /*
     * beta 1, input scale 1/32: real = 2^-5 * 2^26 = 2^21 = 0.5 * 2^22 -> multiplier 2^30, shift 22;
     * diff_min = -floor(31 * 2^26 / 2^22) = -496 (below any int8 difference, so nothing is dropped).
     */
    const tml_softmax_params p = derive_softmax(1.0f, 0.03125f);
    TML_CHECK(p.input_multiplier == (1 << 30) && p.input_left_shift == 22 && p.diff_min == -496,
              "params %d %d %d", p.input_multiplier, p.input_left_shift, p.diff_min);
    /*
     * One element: exp(0) = 1 (INT32_MAX in Q0.31); the sum in Q12.19 is round((2^31 - 1) / 2^12) = 2^19, whose
     * reciprocal has 0 bits over unit, so exponent = 0 + 31 - 8 = 23 and the output is (~2^31) / 2^23 = 256
     * -> 256 - 128 = 128, saturated to 127.
     */
    in[0] = 5;
    tml_softmax_s8(&p, in, 1, 1, out);
    TML_CHECK(out[0] == 127, "single element -> %d", out[0]);
    /* Two equal elements: sum 2^20 -> one bit over unit -> exponent 24 -> 2^31 / 2^24 = 128 -> 0 each. */
    in[0] = -7;
    in[1] = -7;
    tml_softmax_s8(&p, in, 1, 2, out);
    TML_CHECK(out[0] == 0 && out[1] == 0, "two equal -> %d %d", out[0], out[1]);
    /* 256 equal elements: sum 2^27 -> 8 bits over unit -> exponent 31 -> 2^31 / 2^31 = 1 -> -127 each. */
    for (i = 0; i < 256; i++) {
        in[i] = 42;
    }
    tml_softmax_s8(&p, in, 1, 256, out);
    for (i = 0; i < 256; i++) {
        if (out[i] != -127) {
            (void)TML_CHECK(0, "256 equal -> [%d] = %d", i, out[i]);
            break;
        }
    }
    /* int16 output, two equal elements: exponent = 1 + 31 - 16 = 16 -> 2^31 / 2^16 = 32768 -> 0. */
    in[0] = 3;
    in[1] = 3;
    tml_softmax_s8_s16(&p, in, 1, 2, out16);
    TML_CHECK(out16[0] == 0 && out16[1] == 0, "int16 two equal -> %d %d", out16[0], out16[1]);
    /* int16 output, one element: 2^31 / 2^15 = 65536 -> 65536 - 32768 = 32768 -> saturates to 32767. */
    tml_softmax_s8_s16(&p, in, 1, 1, out16);
    TML_CHECK(out16[0] == 32767, "int16 single -> %d", out16[0]);
    /*
     * Capped multiplier: beta 1, scale 64: real = 2^32 > 2^31 - 1 -> capped; QuantizeMultiplier(2^31 - 1)
     * = (2147483647, 31) and diff_min = -floor(31 * 2^26 / 2^31) = -floor(0.97) = 0, so only the row maximum
     * counts: [10, 9, 10] -> the two maxima share 1/2 -> 0, the other gets -128.
     */
    {
        const tml_softmax_params c = derive_softmax(1.0f, 64.0f);
        TML_CHECK(c.input_multiplier == INT32_MAX && c.input_left_shift == 31 && c.diff_min == 0,
                  "capped params %d %d %d", c.input_multiplier, c.input_left_shift, c.diff_min);
        in[0] = 10;
        in[1] = 9;
        in[2] = 10;
        tml_softmax_s8(&c, in, 1, 3, out);
        TML_CHECK(out[0] == 0 && out[1] == -128 && out[2] == 0, "capped -> %d %d %d", out[0], out[1], out[2]);
    }
    tml_test_record(tml_test_checks_failed == 0, "hand checkpoints");
}

/* ---- fixed-point core accuracy ------------------------------------------------------------------------------- */

/*
 * The int16 output keeps about 16 bits of the Q0.31 intermediate results, so an error in the core that leaves
 * the int8 results alone can still show there. The raw results must stay within a few hundred units (of 2^31)
 * of double-precision math: gemmlowp's Taylor expansion on [-1/4, 0) is accurate to about 2.5e-7, its
 * three Newton-Raphson steps to far better. Measured maxima: exp 492, 1/(1+x) 7, reciprocal 6 raw units;
 * a wrong constant or a missing iteration shows up as errors in the thousands.
 */
static void test_fixed_point_core(tml_rng *rng)
{
    double worst_exp = 0.0, worst_recip = 0.0, worst_reciprocal = 0.0;
    int i, ok = 1;
    for (i = 0; i < 200000; i++) {
        const int32_t a = -(int32_t)(tml_rng_next(rng) & 0x7fffffffu);
        const int32_t x = (int32_t)(tml_rng_next(rng) & 0x7fffffffu);
        int32_t sum = (int32_t)(tml_rng_next(rng) & 0x7fffffffu);
        int32_t bits_over_unit = 0;
        int32_t reciprocal;
        const double e5 = exp(ldexp((double)a, -26)) * 2147483648.0;
        const double e4 = exp(ldexp((double)a, -27)) * 2147483648.0;
        const double d5 = fabs((double)tml_fp_exp_on_negative_values(a, 5) - e5);
        const double d4 = fabs((double)tml_fp_exp_on_negative_values(a, 4) - e4);
        const double dr = fabs((double)tml_fp_one_over_one_plus_x(x) - 2147483648.0 / (1.0 + ldexp((double)x, -31)));
        double drc;
        sum = sum < 1 ? 1 : sum;
        reciprocal = tml_fp_reciprocal(sum, 12, &bits_over_unit);
        /* reciprocal * 2^-31 ~= 2^bits_over_unit / (sum * 2^-19) */
        drc = fabs((double)reciprocal - 2147483648.0 * ldexp(1.0, bits_over_unit) / ldexp((double)sum, -19));
        worst_exp = d5 > worst_exp ? d5 : worst_exp;
        worst_exp = d4 > worst_exp ? d4 : worst_exp;
        worst_recip = dr > worst_recip ? dr : worst_recip;
        worst_reciprocal = drc > worst_reciprocal ? drc : worst_reciprocal;
    }
    printf("fixed-point core: worst raw error exp %.0f, 1/(1+x) %.0f, reciprocal %.0f (of 2^31)\n", worst_exp,
           worst_recip, worst_reciprocal);
    ok &= TML_CHECK(worst_exp <= 1000.0, "exp error %.0f", worst_exp);
    ok &= TML_CHECK(worst_recip <= 32.0, "1/(1+x) error %.0f", worst_recip);
    ok &= TML_CHECK(worst_reciprocal <= 32.0, "reciprocal error %.0f", worst_reciprocal);
    /* exact points: exp(0) = 1 (saturated), exp(-32) underflows to 0, 1/(1+0) = 1 (saturated) */
    ok &= TML_CHECK(tml_fp_exp_on_negative_values(0, 5) == INT32_MAX, "exp(0)");
    ok &= TML_CHECK(tml_fp_exp_on_negative_values(INT32_MIN, 5) == 0, "exp(-32) = %d",
                    tml_fp_exp_on_negative_values(INT32_MIN, 5));
    ok &= TML_CHECK(tml_fp_one_over_one_plus_x(0) >= INT32_MAX - 8, "1/(1+0) = %d", tml_fp_one_over_one_plus_x(0));
    tml_test_record(ok, "fixed-point core");
}

/* ---- randomized sweeps --------------------------------------------------------------------------------------- */

static void sweep_int8(tml_rng *rng)
{
    enum { MAX_DEPTH = 200 };
    int8_t in[MAX_DEPTH], shifted[MAX_DEPTH], out[MAX_DEPTH], out_shifted[MAX_DEPTH];
    int16_t out16[MAX_DEPTH];
    int t, c;
    int worst8 = 0, worst16 = 0;
    for (t = 0; t < 2000; t++) {
        const float scale = (float)exp(tml_rng_double(rng, log(0.002), log(0.6)));
        const float beta = t % 3 == 0 ? 1.0f : (float)tml_rng_double(rng, 0.1, 2.0);
        const int32_t depth = tml_rng_range(rng, 1, MAX_DEPTH);
        const int32_t spread = tml_rng_range(rng, 1, 255);
        const int32_t base = tml_rng_range(rng, -128, 127 - (spread < 255 ? spread : 254));
        const tml_softmax_params p = derive_softmax(beta, scale);
        double x[MAX_DEPTH];
        double maxv = -1e300, sum = 0.0;
        int ok = 1;
        char label[64];
        if ((double)beta * (double)scale * 67108864.0 <= 1.0) {
            continue; /* TFLM refuses these (QuantizeMultiplierGreaterThanOne) */
        }
        for (c = 0; c < depth; c++) {
            int32_t v = base + tml_rng_range(rng, 0, spread);
            in[c] = (int8_t)(v > 127 ? 127 : v);
        }
        tml_softmax_s8(&p, in, 1, depth, out);
        tml_softmax_s8_s16(&p, in, 1, depth, out16);
        for (c = 0; c < depth; c++) {
            x[c] = (double)in[c] * (double)scale * (double)beta;
            maxv = x[c] > maxv ? x[c] : maxv;
        }
        for (c = 0; c < depth; c++) {
            sum += exp(x[c] - maxv);
        }
        for (c = 0; c < depth; c++) {
            const double prob = exp(x[c] - maxv) / sum;
            long e8 = lround(prob * 256.0) - 128;
            long e16 = lround(prob * 65536.0) - 32768;
            int d8, d16;
            e8 = e8 > 127 ? 127 : e8;
            e16 = e16 > 32767 ? 32767 : e16;
            d8 = abs(out[c] - (int)e8);
            d16 = abs(out16[c] - (int)e16);
            worst8 = d8 > worst8 ? d8 : worst8;
            worst16 = d16 > worst16 ? d16 : worst16;
            if (d8 > 1 || d16 > 2) {
                ok = TML_CHECK(0, "scale %g beta %g depth %d [%d]=%d: int8 %d vs %ld, int16 %d vs %ld",
                               (double)scale, (double)beta, depth, c, in[c], out[c], e8, out16[c], e16);
            }
            if ((int32_t)in[c] - (int32_t)in[0] + 0 < 0) {
                /* checked below */
            }
        }
        /* monotonic within the row: a larger input never gets a smaller probability */
        for (c = 1; c < depth; c++) {
            if ((in[c] > in[0] && out[c] < out[0]) || (in[c] < in[0] && out[c] > out[0])) {
                ok = TML_CHECK(0, "not monotonic: depth %d [%d]", depth, c);
            }
        }
        /* exact invariance to a common offset (only differences to the maximum matter) */
        {
            int32_t lo = 127, hi = -128, off;
            for (c = 0; c < depth; c++) {
                lo = in[c] < lo ? in[c] : lo;
                hi = in[c] > hi ? in[c] : hi;
            }
            off = tml_rng_range(rng, -128 - lo, 127 - hi);
            for (c = 0; c < depth; c++) {
                shifted[c] = (int8_t)(in[c] + off);
            }
            tml_softmax_s8(&p, shifted, 1, depth, out_shifted);
            if (memcmp(out, out_shifted, (size_t)depth) != 0) {
                ok = TML_CHECK(0, "offset %d changed the output (depth %d)", off, depth);
            }
        }
        snprintf(label, sizeof label, "softmax sweep %d", t);
        tml_test_record(ok, label);
    }
    printf("softmax: worst deviation from double math: int8 %d LSB, int16 %d LSB\n", worst8, worst16);
}

/* diff_min: differences below it give exactly the minimum output. */
static void test_diff_min(void)
{
    /* scale 0.25, beta 1: real = 2^24 -> shift 25 -> diff_min = -floor(31 * 2^26 / 2^25) = -62 */
    const tml_softmax_params p = derive_softmax(1.0f, 0.25f);
    int8_t in[4] = {100, 38, 37, -128};
    int8_t out[4];
    int16_t out16[4];
    int ok = TML_CHECK(p.diff_min == -62, "diff_min %d", p.diff_min);
    tml_softmax_s8(&p, in, 1, 4, out);
    tml_softmax_s8_s16(&p, in, 1, 4, out16);
    /* 38 - 100 = -62 >= diff_min: evaluated (exp(-15.5) * 256 rounds to 0 -> -128 anyway); 37 and -128 dropped */
    ok &= TML_CHECK(out[0] == 127 && out[2] == -128 && out[3] == -128, "int8 %d %d %d", out[0], out[2], out[3]);
    /* in int16, exp(-15.5) * 65536 = 0.012 -> still the minimum */
    ok &= TML_CHECK(out16[2] == -32768 && out16[3] == -32768, "int16 %d %d", out16[2], out16[3]);
    tml_test_record(ok, "diff_min");
}

/* Several rows are independent; in-place operation gives the same bytes. */
static void test_rows_and_in_place(tml_rng *rng)
{
    enum { ROWS = 7, DEPTH = 33 };
    int8_t in[ROWS * DEPTH], out[ROWS * DEPTH], row_out[DEPTH];
    const tml_softmax_params p = derive_softmax(0.7f, 0.07f);
    int r, ok = 1;
    tml_rng_fill_s8(rng, in, ROWS * DEPTH, 0);
    tml_softmax_s8(&p, in, ROWS, DEPTH, out);
    for (r = 0; r < ROWS; r++) {
        tml_softmax_s8(&p, in + r * DEPTH, 1, DEPTH, row_out);
        ok &= tml_test_compare_s8("row independence", row_out, out + r * DEPTH, DEPTH);
    }
    tml_softmax_s8(&p, in, ROWS, DEPTH, in);
    ok &= tml_test_compare_s8("in place", out, in, ROWS * DEPTH);
    tml_test_record(ok, "rows and in place");
}

static void test_float(tml_rng *rng)
{
    enum { ROWS = 5, DEPTH = 40 };
    float in[ROWS * DEPTH], out[ROWS * DEPTH], expected[ROWS * DEPTH];
    const float beta = 0.75f;
    int r, c;
    tml_rng_fill_f32(rng, in, ROWS * DEPTH, -20.0f, 20.0f);
    { tml_softmax_f32_params fp; fp.beta = beta; tml_softmax_f32(&fp, in, ROWS, DEPTH, out); }
    for (r = 0; r < ROWS; r++) {
        double maxv = -1e300, sum = 0.0;
        for (c = 0; c < DEPTH; c++) {
            maxv = in[r * DEPTH + c] > maxv ? in[r * DEPTH + c] : maxv;
        }
        for (c = 0; c < DEPTH; c++) {
            sum += exp(((double)in[r * DEPTH + c] - maxv) * (double)beta);
        }
        for (c = 0; c < DEPTH; c++) {
            expected[r * DEPTH + c] = (float)(exp(((double)in[r * DEPTH + c] - maxv) * (double)beta) / sum);
        }
    }
    tml_test_record(tml_test_compare_f32_tol("float softmax", expected, out, ROWS * DEPTH, 1e-9f, 2e-6f),
                    "float softmax vs double");
}

static void test_argument_errors(void)
{
    const tml_softmax_params p = derive_softmax(1.0f, 0.1f);
    tml_softmax_params bad = p;
    int8_t buf[4] = {0, 0, 0, 0};
    int ok = 1;
    bad.input_left_shift = -1;
    ok &= TML_CHECK(tml_softmax_s8(NULL, buf, 1, 4, buf) == TML_ERROR_ARGUMENT, "NULL params");
    ok &= TML_CHECK(tml_softmax_s8(&p, buf, -1, 4, buf) == TML_ERROR_ARGUMENT, "negative rows");
    ok &= TML_CHECK(tml_softmax_s8(&bad, buf, 1, 4, buf) == TML_ERROR_ARGUMENT, "negative shift");
    ok &= TML_CHECK(tml_softmax_f32(NULL, NULL, 1, 4, NULL) == TML_ERROR_ARGUMENT, "NULL float buffers");
    tml_test_record(ok, "argument errors");
}

/* ---- conformance ---------------------------------------------------------------------------------------------- */

/* One int8 softmax case: parameters and shape. */
typedef struct {
    tml_softmax_params params;
    int32_t rows, depth;
} softmax_case;

/* tml_golden_run_fn: int8 -> int8 softmax of one vector (rows x depth). */
static int run_softmax_s8_vector(const void *sc, const char *label, const void *in, long n_in, const void *expected,
                                 long n_out)
{
    const softmax_case *c = (const softmax_case *)sc;
    int8_t *out;
    int ok;
    if (n_in != (long)c->rows * c->depth || n_out != n_in) {
        return 0;
    }
    out = (int8_t *)malloc((size_t)n_in);
    ok = tml_softmax_s8(&c->params, (const int8_t *)in, c->rows, c->depth, out) == TML_OK &&
         tml_test_compare_s8(label, (const int8_t *)expected, out, (size_t)n_in);
    free(out);
    return ok;
}

static void golden_s8_case(const char *name, float beta, float scale, int32_t rows, int32_t depth)
{
    softmax_case c;
    c.params = derive_softmax(beta, scale);
    c.rows = rows;
    c.depth = depth;
    g_golden_vectors += tml_golden_op_case(name, run_softmax_s8_vector, &c);
}

static void golden_f32_case(const char *name, float beta, int32_t rows, int32_t depth)
{
    char rel[256], label[128];
    void *in = NULL, *expected = NULL;
    long n;
    snprintf(rel, sizeof rel, "ops/%s/input_1.bin", name);
    n = tml_read_shared_file(rel, &in);
    snprintf(rel, sizeof rel, "ops/%s/output_1.bin", name);
    snprintf(label, sizeof label, "golden %s", name);
    if (n != (long)rows * depth * 4 || tml_read_shared_file(rel, &expected) != n) {
        tml_test_record(0, label);
    } else {
        float *out = (float *)malloc((size_t)n);
        int exact = 0, i;
        { tml_softmax_f32_params fp; fp.beta = beta; tml_softmax_f32(&fp, (const float *)in, rows, depth, out); }
        for (i = 0; i < rows * depth; i++) {
            exact += memcmp(&out[i], &((const float *)expected)[i], 4) == 0;
        }
        printf("%s: %d of %d floats bit-identical with TFLM\n", name, exact, rows * depth);
        /* x86 TFLM vs this build: same algorithm, libm expf may differ by an ulp: allow 4 ulp-ish (rel 5e-7) */
        tml_test_record(tml_test_compare_f32_tol(label, (const float *)expected, out, (size_t)(rows * depth), 0.0f,
                                                 5e-7f),
                        label);
        free(out);
        g_golden_vectors++;
    }
    free(in);
    free(expected);
}

/* keyword_scrambled op 13: SOFTMAX int8 (tensor 50, scale 0.0699627325) -> int16 (tensor 51), beta 1. */
static void golden_keyword_scrambled(void)
{
    void *in = NULL, *expected = NULL;
    int16_t out[2];
    const tml_softmax_params p = derive_softmax(1.0f, 0.0699627325f);
    if (tml_read_shared_file("golden/keyword_scrambled/tensors_1/t050.bin", &in) != 2 ||
        tml_read_shared_file("golden/keyword_scrambled/tensors_1/t051.bin", &expected) != 4) {
        tml_test_record(0, "keyword_scrambled softmax tensors");
    } else {
        tml_test_record(tml_softmax_s8_s16(&p, (const int8_t *)in, 1, 2, out) == TML_OK &&
                            tml_test_compare_s16("keyword_scrambled softmax", (const int16_t *)expected, out, 2),
                        "keyword_scrambled softmax int8 -> int16");
        g_golden_vectors++;
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
    golden_s8_case("softmax_1x10_b1", 1.0f, 0.10000000149011612f, 1, 10);
    golden_s8_case("softmax_1x256_b1", 1.0f, 0.03125f, 1, 256);
    golden_s8_case("softmax_2x16_b05", 0.5f, 0.05000000074505806f, 2, 16);
    golden_s8_case("softmax_4d_large_scale", 1.0f, 0.5f, 4, 16);
    golden_f32_case("softmax_f32_b1", 1.0f, 2, 10);
    golden_f32_case("softmax_f32_b05_4d", 0.5f, 4, 8);
    golden_keyword_scrambled();
    printf("golden: %d TFLM vectors compared from %s\n", g_golden_vectors,
           tml_shared_path(shared_dir, sizeof shared_dir, NULL));
}

/* ---- int16 -> int16 (16x8) ------------------------------------------------------------------------------------ */

/* TFLM's gen_lut<float, int16_t, int16_t> over [lo, hi] with the output range [-1, 1] (float arithmetic). */
static void gen_lut_s16(float (*f)(float), float lo, float hi, int16_t lut[513])
{
    const float step = (hi - lo) / 512, half = step / 2, inv = 65536.0f / 2.0f;
    int i;
    for (i = 0; i < 512; i++) {
        const float v = f(lo + i * step), mid = f(lo + i * step + half), next = f(lo + (i + 1) * step);
        const float sample = roundf(v * inv), interp = roundf((next * inv + roundf(v * inv)) / 2);
        const float bias = roundf((interp - roundf(mid * inv)) / 2);
        lut[i] = (int16_t)fminf(fmaxf(sample - bias, -32768.0f), 32767.0f);
    }
    lut[512] = (int16_t)fminf(fmaxf(roundf(f(hi) * inv), -32768.0f), 32767.0f);
}

static float reciprocal_1px(float x)
{
    return 1.0f / (1.0f + x);
}

/*
 * Checkpoints of the int16 softmax (bit-exactness with TFLM is Int16ActivationTests' C# transcription):
 * equal inputs share 1 evenly; a row whose other elements lie at exp's table floor (-10) puts nearly everything
 * on its maximum; every row sums to 1 within the table error; the outputs are never negative.
 */
static void test_int16(tml_rng *rng)
{
    static int16_t exp_lut[513], rec_lut[513];
    int16_t in[64], out[64];
    tml_softmax_s16_params p;
    int32_t i, r;
    gen_lut_s16(expf, -10.0f, 0.0f, exp_lut);
    gen_lut_s16(reciprocal_1px, 0.0f, 1.0f, rec_lut);
    TML_CHECK(exp_lut[512] == 32767 && rec_lut[0] == 32767 && rec_lut[512] == 16384, "int16 tables' ends %d %d %d",
              exp_lut[512], rec_lut[0], rec_lut[512]);
    p.exp_lut = exp_lut;
    p.one_over_one_plus_x_lut = rec_lut;
    /* input scale 10/65535 with beta 1: the multiplier is exactly 1 (2^30, shift 1) */
    p.input_multiplier = 1 << 30;
    p.input_left_shift = 1;
    for (i = 0; i < 4; i++) {
        in[i] = 1234;
    }
    TML_CHECK(tml_softmax_s16(&p, in, 1, 4, out) == TML_OK, "softmax s16 ok");
    TML_CHECK(abs(out[0] - 8192) <= 2 && out[0] == out[1] && out[1] == out[2] && out[2] == out[3],
              "softmax s16 uniform %d %d", out[0], out[3]);
    in[0] = 32767; in[1] = -32768; in[2] = -32768;
    tml_softmax_s16(&p, in, 1, 3, out);
    /* exp(-10) is the table's floor: 1.5 in Q0.15, not 0 */
    TML_CHECK(out[0] >= 32760 && out[1] <= 2 && out[1] == out[2], "softmax s16 one-hot %d %d %d", out[0], out[1],
              out[2]);
    for (r = 0; r < 200; r++) {
        const int32_t depth = 1 + (int32_t)(tml_rng_next(rng) % 64);
        int32_t sum = 0;
        p.input_multiplier = (int32_t)(1u << 30) + (int32_t)(tml_rng_next(rng) % (1u << 30));
        p.input_left_shift = -4 + (int32_t)(tml_rng_next(rng) % 6);
        for (i = 0; i < depth; i++) {
            in[i] = (int16_t)tml_rng_next(rng);
        }
        TML_CHECK(tml_softmax_s16(&p, in, 1, depth, out) == TML_OK, "softmax s16 random ok");
        for (i = 0; i < depth; i++) {
            sum += out[i];
            TML_CHECK(out[i] >= 0, "softmax s16 negative output");
        }
        TML_CHECK(abs(sum - 32768) <= 4 + depth, "softmax s16 row sum %d (depth %d)", (int)sum, (int)depth);
    }
    p.exp_lut = NULL;
    TML_CHECK(tml_softmax_s16(&p, in, 1, 4, out) == TML_ERROR_ARGUMENT, "softmax s16 without tables");
}

int main(void)
{
    tml_rng rng = tml_rng_seed(77u);
    test_checkpoints();
    test_fixed_point_core(&rng);
    sweep_int8(&rng);
    test_diff_min();
    test_rows_and_in_place(&rng);
    test_float(&rng);
    test_int16(&rng);
    test_argument_errors();
    test_golden();
    return TML_TEST_SUMMARY("test_softmax");
}
