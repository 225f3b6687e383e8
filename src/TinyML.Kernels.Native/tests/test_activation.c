/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_activation.c: int8 LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, RELU and RELU6.
 *
 * 1. Hand-computed checkpoints (derivations in the comments).
 * 2. Exhaustive sweeps over all 256 inputs for many scales / zero points:
 *    - RELU, RELU6, LEAKY_RELU against an independent 64-bit reference of double-rounding requantization;
 *    - LOGISTIC, TANH, HARD_SWISH against float math (within 1 LSB) plus the properties TFLM's arithmetic
 *      guarantees (monotonicity, exact odd symmetry of TANH, LOGISTIC(-x) + LOGISTIC(x) in {-1, 0}).
 * 3. Conformance: the shared/ops golden vectors from TFLM (bit-exact), when the shared/ folder is found
 *    (TML_SHARED_DIR, else ../shared beside the repository); a missing folder fails the test.
 * The parameter derivations below mirror what the compiler does (see tml_kernels.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tml_kernels.h"
#include "tml_test.h"
#include "act_fixedpoint.h" /* internal: the fixed-point core is also checked directly */

/* ---- golden vectors (shared/ops) ---------------------------------------------------------------------------- */

typedef tml_status (*unary_s8_fn)(const void *params, const int8_t *in, int32_t n, int8_t *out);

static int g_golden_vectors = 0;

/* A unary int8 kernel and its parameters, for tml_golden_op_case. */
typedef struct {
    unary_s8_fn fn;
    const void *params;
} unary_s8_kernel;

/* tml_golden_run_fn: runs the kernel on one input vector and compares with the expected output. */
static int run_unary_vector(const void *kernel, const char *label, const void *in, long n_in, const void *expected,
                            long n_out)
{
    const unary_s8_kernel *u = (const unary_s8_kernel *)kernel;
    int8_t *actual;
    int ok;
    if (n_out != n_in) {
        return 0;
    }
    actual = (int8_t *)malloc((size_t)n_in);
    ok = u->fn(u->params, (const int8_t *)in, (int32_t)n_in, actual) == TML_OK &&
         tml_test_compare_s8(label, (const int8_t *)expected, actual, (size_t)n_in);
    free(actual);
    return ok;
}

/* Runs a unary int8 kernel on every input_K.bin of a case and compares with output_K.bin. */
static void golden_unary_s8(const char *case_name, unary_s8_fn fn, const void *params)
{
    const unary_s8_kernel kernel = {fn, params};
    g_golden_vectors += tml_golden_op_case(case_name, run_unary_vector, &kernel);
}

/* Adapters from the typed kernels to unary_s8_fn. */
static tml_status run_logistic(const void *p, const int8_t *in, int32_t n, int8_t *out)
{
    return tml_logistic_s8((const tml_logistic_params *)p, in, n, out);
}
static tml_status run_tanh(const void *p, const int8_t *in, int32_t n, int8_t *out)
{
    return tml_tanh_s8((const tml_tanh_params *)p, in, n, out);
}
static tml_status run_hard_swish(const void *p, const int8_t *in, int32_t n, int8_t *out)
{
    return tml_hard_swish_s8((const tml_hard_swish_params *)p, in, n, out);
}
static tml_status run_leaky(const void *p, const int8_t *in, int32_t n, int8_t *out)
{
    return tml_leaky_relu_s8((const tml_leaky_relu_params *)p, in, n, out);
}
static tml_status run_relu(const void *p, const int8_t *in, int32_t n, int8_t *out)
{
    return tml_relu_s8((const tml_relu_params *)p, in, n, out);
}
static tml_status run_relu6(const void *p, const int8_t *in, int32_t n, int8_t *out)
{
    return tml_relu6_s8((const tml_relu6_params *)p, in, n, out);
}

/* ---- parameter derivations (what the compiler computes, in the documented precision) -------------------- */

/* LOGISTIC / TANH: frexp of input_scale * 2^27 (double), radius floor(15 * 2^27 / 2^shift). */
static tml_logistic_params derive_sigmoid(float input_scale, int32_t input_zero_point)
{
    tml_logistic_params p;
    int e = 0;
    const double real = (double)input_scale * (double)(1 << 27);
    const double q = frexp(real, &e);
    p.input_zero_point = input_zero_point;
    p.input_multiplier = (int32_t)round(q * 2147483648.0);
    p.input_left_shift = e;
    p.input_range_radius = (int32_t)floor(15.0 * (double)(1LL << 27) / ldexp(1.0, e));
    return p;
}

/* TFLM's DownScaleInt32ToInt16Multiplier. */
static int32_t downscale_to_int16(int32_t m)
{
    return m >= INT32_MAX - 32768 ? 32767 : (m + 32768) >> 16;
}

static tml_hard_swish_params derive_hard_swish(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp)
{
    tml_hard_swish_params p;
    volatile float hires = (1.0f / 128.0f) * in_scale; /* volatile: force float32 rounding of each step */
    volatile float reluish_scale = 3.0f / 32768.0f;
    volatile float out_ratio = hires / out_scale;
    volatile float reluish_ratio = hires / reluish_scale;
    int32_t m;
    p.input_zero_point = in_zp;
    p.output_zero_point = out_zp;
    tml_test_quantize_multiplier((double)out_ratio, &m, &p.output_multiplier_exponent);
    p.output_multiplier_fixedpoint_int16 = downscale_to_int16(m);
    tml_test_quantize_multiplier((double)reluish_ratio, &m, &p.reluish_multiplier_exponent);
    p.reluish_multiplier_fixedpoint_int16 = downscale_to_int16(m);
    return p;
}

static tml_leaky_relu_params derive_leaky(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp,
                                          float alpha)
{
    tml_leaky_relu_params p;
    volatile float a = in_scale * alpha;
    volatile float alpha_ratio = a / out_scale;
    volatile float identity_ratio = in_scale / out_scale;
    p.input_offset = in_zp;
    p.output_offset = out_zp;
    tml_test_quantize_multiplier((double)alpha_ratio, &p.output_multiplier_alpha, &p.output_shift_alpha);
    tml_test_quantize_multiplier((double)identity_ratio, &p.output_multiplier_identity, &p.output_shift_identity);
    return p;
}

/* RELU: act_min 0, act_max +inf. */
static tml_relu_params derive_relu(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp)
{
    tml_relu_params p;
    volatile float zero_over_scale = 0.0f / out_scale;
    const int32_t lo = out_zp + (int32_t)roundf(zero_over_scale);
    p.input_offset = in_zp;
    p.output_offset = out_zp;
    tml_test_quantize_multiplier((double)in_scale / (double)out_scale, &p.output_multiplier, &p.output_shift);
    p.quantized_activation_min = lo < -128 ? -128 : lo;
    p.quantized_activation_max = 127;
    return p;
}

/* RELU6: clamp in the input quantization; six = clamp(round(6 / scale) + zp). */
static tml_relu6_params derive_relu6(float in_scale, int32_t in_zp)
{
    tml_relu6_params p;
    volatile float six_over_scale = 6.0f / in_scale;
    int32_t six = (int32_t)round((double)six_over_scale) + in_zp;
    p.zero = in_zp;
    p.six = six < -128 ? -128 : (six > 127 ? 127 : six);
    return p;
}

static int32_t clamp_s8(int32_t v)
{
    return v < -128 ? -128 : (v > 127 ? 127 : v);
}

static int32_t float_to_s8(double real, double scale, int32_t zp)
{
    return clamp_s8((int32_t)lround(real / scale) + zp);
}

/* ---- hand-computed checkpoints ---------------------------------------------------------------------------- */

static void test_checkpoints(void)
{
    int8_t in[8], out[8];

    /*
     * LOGISTIC, input scale 1/16, zp 0 (the logistic_256 case): real = 2^-4 * 2^27 = 2^23 = 0.5 * 2^24, so
     * multiplier = 2^30, shift = 24, radius = floor(15 * 2^27 / 2^24) = 120.
     *   x = 0    -> exactly 1/2 = 2^30 in Q0.31 -> 2^30 / 2^23 = 128 -> 128 - 128 = 0
     *   x = 120  -> |x| >= radius -> 127;  x = -120 -> -128
     *   x = 16   -> sigma(1) * 256 = 187.15 -> 187 - 128 = 59 (0.35 LSB from a tie, far beyond the fixed-point
     *              error)
     *   x = -16  -> sigma(-1) * 256 = 68.85 -> 69 - 128 = -59
     */
    {
        const tml_logistic_params p = derive_sigmoid(0.0625f, 0);
        TML_CHECK(p.input_multiplier == (1 << 30) && p.input_left_shift == 24 && p.input_range_radius == 120,
                  "logistic params %d %d %d", p.input_multiplier, p.input_left_shift, p.input_range_radius);
        in[0] = 0; in[1] = 120; in[2] = -120; in[3] = 16; in[4] = -16;
        tml_logistic_s8(&p, in, 5, out);
        TML_CHECK(out[0] == 0 && out[1] == 127 && out[2] == -128 && out[3] == 59 && out[4] == -59,
                  "logistic checkpoints %d %d %d %d %d", out[0], out[1], out[2], out[3], out[4]);
    }
    /*
     * TANH, input scale 1/32, zp 0: real = 2^22 -> multiplier 2^30, shift 23, radius floor(15*2^27/2^23) = 240
     * (never reached by int8).
     *   x = 0    -> 0
     *   x = 32   -> tanh(1) * 128 = 97.48 -> 97
     *   x = -32  -> -97 (the fixed-point tanh is exactly odd)
     *   x = 127  -> tanh(3.97) * 128 = 127.9 -> 128 -> saturates to 127;  x = -128 -> -127.9 -> -128
     */
    {
        const tml_tanh_params p = derive_sigmoid(0.03125f, 0);
        TML_CHECK(p.input_multiplier == (1 << 30) && p.input_left_shift == 23 && p.input_range_radius == 240,
                  "tanh params %d %d %d", p.input_multiplier, p.input_left_shift, p.input_range_radius);
        in[0] = 0; in[1] = 32; in[2] = -32; in[3] = 127; in[4] = -128;
        tml_tanh_s8(&p, in, 5, out);
        TML_CHECK(out[0] == 0 && out[1] == 97 && out[2] == -97 && out[3] == 127 && out[4] == -128,
                  "tanh checkpoints %d %d %d %d %d", out[0], out[1], out[2], out[3], out[4]);
    }
    /*
     * LEAKY_RELU alpha 0.2, input = output = (0.05, zp 10).
     * identity: 0.05f / 0.05f = 1 = 0.5 * 2^1 -> multiplier 2^30, shift 1: SRDHM(2d, 2^30) = d, so x >= 10 maps
     * to itself. alpha, in float32: 0.05f * 0.2f = 0.0100000007 (0.56 ulp above the exact product, rounds up
     * to the float after 0.01f), / 0.05f = 0.2000000112 -> nearest float 0.2000000179 (one ulp above 0.2f)
     * -> q = 0.80000007, shift -2, multiplier round(q * 2^31) = 1717987072 (not the 1717986918 of 0.8).
     *   x = 0: d = -10 -> SRDHM = round(-10 * 0.80000007) = -8 -> round(-8 / 4) = -2 -> 10 - 2 = 8
     *   x = 3: d = -7  -> SRDHM = round(-5.6000005) = -6 -> -6 / 4 = -1.5 -> ties away: -2 -> 8
     *          (single rounding of -7 * 0.2 = -1.4 would give 9: the double rounding shows)
     *   x = 5: d = -5  -> round(-4.0000004) = -4 -> -1 -> 9
     */
    {
        const tml_leaky_relu_params p = derive_leaky(0.05f, 10, 0.05f, 10, 0.2f);
        TML_CHECK(p.output_multiplier_identity == (1 << 30) && p.output_shift_identity == 1 &&
                      p.output_multiplier_alpha == 1717987072 && p.output_shift_alpha == -2,
                  "leaky params %d %d %d %d", p.output_multiplier_identity, p.output_shift_identity,
                  p.output_multiplier_alpha, p.output_shift_alpha);
        in[0] = 0; in[1] = 3; in[2] = 5; in[3] = 10; in[4] = 127; in[5] = -128;
        tml_leaky_relu_s8(&p, in, 6, out);
        /* x = -128: d = -138 -> round(-110.40001) = -110 -> -27.5 -> -28 -> 10 - 28 = -18 */
        TML_CHECK(out[0] == 8 && out[1] == 8 && out[2] == 9 && out[3] == 10 && out[4] == 127 && out[5] == -18,
                  "leaky checkpoints %d %d %d %d %d %d", out[0], out[1], out[2], out[3], out[4], out[5]);
    }
    {
        /* int16: the same arithmetic on the same values, saturated to int16 (x = 32767 with output offset 20:
         * 32757 + 20 saturates). */
        const tml_leaky_relu_params p = derive_leaky(0.05f, 10, 0.05f, 10, 0.2f);
        const tml_leaky_relu_params q = derive_leaky(0.05f, 10, 0.05f, 20, 0.2f);
        const int16_t in16[7] = {0, 3, 5, 10, 127, -128, 32767};
        int16_t out16[7];
        TML_CHECK(tml_leaky_relu_s16(&p, in16, 6, out16) == TML_OK, "leaky s16 status");
        TML_CHECK(out16[0] == 8 && out16[1] == 8 && out16[2] == 9 && out16[3] == 10 && out16[4] == 127 &&
                      out16[5] == -18,
                  "leaky s16 checkpoints %d %d %d %d %d %d", out16[0], out16[1], out16[2], out16[3], out16[4],
                  out16[5]);
        TML_CHECK(tml_leaky_relu_s16(&q, in16, 7, out16) == TML_OK && out16[6] == 32767 && out16[3] == 20,
                  "leaky s16 saturation %d %d", out16[6], out16[3]);
    }
    /*
     * RELU6 with (0.05, -100): 6.0f / 0.05f rounds to 120.0f -> six = 120 - 100 = 20, zero = -100.
     * RELU6 with (0.01, 0): 6 / 0.01 = 600 -> saturates to 127, so it behaves as RELU.
     */
    {
        tml_relu6_params p = derive_relu6(0.05f, -100);
        TML_CHECK(p.zero == -100 && p.six == 20, "relu6 params %d %d", p.zero, p.six);
        in[0] = -128; in[1] = -100; in[2] = 0; in[3] = 20; in[4] = 21; in[5] = 127;
        tml_relu6_s8(&p, in, 6, out);
        TML_CHECK(out[0] == -100 && out[1] == -100 && out[2] == 0 && out[3] == 20 && out[4] == 20 && out[5] == 20,
                  "relu6 checkpoints");
        p = derive_relu6(0.01f, 0);
        TML_CHECK(p.zero == 0 && p.six == 127, "relu6 below 6 params %d %d", p.zero, p.six);
    }
    /*
     * RELU with equal quantization (0.05, 20): multiplier 2^30, shift 1 (identity), min = 20 + 0 = 20.
     */
    {
        const tml_relu_params p = derive_relu(0.05f, 20, 0.05f, 20);
        in[0] = -128; in[1] = 19; in[2] = 20; in[3] = 21; in[4] = 127;
        tml_relu_s8(&p, in, 5, out);
        TML_CHECK(out[0] == 20 && out[1] == 20 && out[2] == 20 && out[3] == 21 && out[4] == 127,
                  "relu checkpoints %d %d %d %d %d", out[0], out[1], out[2], out[3], out[4]);
    }
    /*
     * HARD_SWISH maps the input zero point to the output zero point exactly (every product of 0 is 0), and
     * (0.05, 0) -> (0.026372550, -114) at x = 127: 6.35 * relu6(9.35) / 6 = 6.35 -> 240.8 -> saturates 127.
     */
    {
        const tml_hard_swish_params p = derive_hard_swish(0.05f, 0, 0.026372550055384636f, -114);
        in[0] = 0; in[1] = 127;
        tml_hard_swish_s8(&p, in, 2, out);
        TML_CHECK(out[0] == -114 && out[1] == 127, "hard swish checkpoints %d %d", out[0], out[1]);
    }
    tml_test_record(tml_test_checks_failed == 0, "hand checkpoints");
}

/* ---- fixed-point core accuracy ------------------------------------------------------------------------------- */

/*
 * Raw Q0.31 logistic and tanh of Q4.27 inputs against double math. int8 outputs keep only 8 of the 31 bits, so
 * this is what catches a slightly wrong constant or a missing Newton iteration. Measured maxima: logistic 151,
 * tanh 303 raw units; such defects give thousands.
 */
static void test_fixed_point_core(tml_rng *rng)
{
    double worst_l = 0.0, worst_t = 0.0;
    int i, ok = 1;
    for (i = 0; i < 200000; i++) {
        const int32_t b = (int32_t)tml_rng_next(rng);
        const double x = ldexp((double)b, -27);
        double lv = 2147483648.0 / (1.0 + exp(-x));
        double tv = tanh(x) * 2147483648.0;
        double dl, dt;
        lv = lv > 2147483647.0 ? 2147483647.0 : lv;
        tv = tv > 2147483647.0 ? 2147483647.0 : tv;
        dl = fabs((double)tml_fp_logistic(b, 4) - lv);
        dt = fabs((double)tml_fp_tanh(b, 4) - tv);
        worst_l = dl > worst_l ? dl : worst_l;
        worst_t = dt > worst_t ? dt : worst_t;
    }
    printf("fixed-point core: worst raw error logistic %.0f, tanh %.0f (of 2^31)\n", worst_l, worst_t);
    ok &= TML_CHECK(worst_l <= 400.0, "logistic error %.0f", worst_l);
    ok &= TML_CHECK(worst_t <= 800.0, "tanh error %.0f", worst_t);
    ok &= TML_CHECK(tml_fp_logistic(0, 4) == (1 << 30) && tml_fp_tanh(0, 4) == 0, "logistic(0), tanh(0)");
    tml_test_record(ok, "fixed-point core");
}

/* ---- sweeps ------------------------------------------------------------------------------------------------- */

static void all_inputs(int8_t *in)
{
    int i;
    for (i = 0; i < 256; i++) {
        in[i] = (int8_t)(i - 128);
    }
}

static void sweep_relu_family(tml_rng *rng)
{
    int8_t in[256], out[256], expected[256];
    int t, i;
    all_inputs(in);
    for (t = 0; t < 200; t++) {
        const float in_scale = (float)tml_rng_double(rng, 0.001, 0.5);
        /* multipliers from 1/20 to 20: both > 1 and < 1; the first 28 are exact powers of two (2^-3 .. 2^3),
         * whose multiplier 2^30 makes the high multiply hit exact ties */
        const float out_scale =
            t < 28 ? ldexpf(in_scale, t % 7 - 3) : in_scale * (float)exp(tml_rng_double(rng, -3.0, 3.0));
        const int32_t in_zp = tml_rng_range(rng, -128, 127);
        const int32_t out_zp = tml_rng_range(rng, -128, 127);
        const float alpha = (float)tml_rng_double(rng, -2.0, 2.0);
        char label[96];
        /* RELU */
        {
            const tml_relu_params p = derive_relu(in_scale, in_zp, out_scale, out_zp);
            for (i = 0; i < 256; i++) {
                int32_t y = out_zp + tml_ref_requantize(in[i] - in_zp, p.output_multiplier, p.output_shift);
                y = y < p.quantized_activation_min ? p.quantized_activation_min : y;
                y = y > p.quantized_activation_max ? p.quantized_activation_max : y;
                expected[i] = (int8_t)y;
            }
            tml_relu_s8(&p, in, 256, out);
            snprintf(label, sizeof label, "relu sweep %d", t);
            tml_test_record(tml_test_compare_s8(label, expected, out, 256), label);
        }
        /* LEAKY_RELU */
        {
            const tml_leaky_relu_params p = derive_leaky(in_scale, in_zp, out_scale, out_zp, alpha);
            for (i = 0; i < 256; i++) {
                const int32_t d = in[i] - in_zp;
                const int32_t s = d >= 0 ? tml_ref_requantize(d, p.output_multiplier_identity, p.output_shift_identity)
                                         : tml_ref_requantize(d, p.output_multiplier_alpha, p.output_shift_alpha);
                expected[i] = (int8_t)clamp_s8(out_zp + s);
            }
            tml_leaky_relu_s8(&p, in, 256, out);
            snprintf(label, sizeof label, "leaky relu sweep %d (alpha %g)", t, (double)alpha);
            tml_test_record(tml_test_compare_s8(label, expected, out, 256), label);
        }
        /* RELU6: pure clamp */
        {
            const tml_relu6_params p = derive_relu6(in_scale, in_zp);
            for (i = 0; i < 256; i++) {
                expected[i] = (int8_t)(in[i] > p.six ? p.six : (in[i] < p.zero ? p.zero : in[i]));
            }
            tml_relu6_s8(&p, in, 256, out);
            snprintf(label, sizeof label, "relu6 sweep %d", t);
            tml_test_record(tml_test_compare_s8(label, expected, out, 256), label);
        }
    }
}

static void sweep_sigmoids(tml_rng *rng)
{
    int8_t in[256], lo[256], th[256];
    int t, i;
    all_inputs(in);
    for (t = 0; t < 300; t++) {
        /* input scales from 1/1000 to 1 (log-uniform), several exact powers of two first */
        const float in_scale = t < 12 ? ldexpf(1.0f, -t) : (float)exp(tml_rng_double(rng, log(0.001), 0.0));
        const int32_t zp = t < 12 ? 0 : tml_rng_range(rng, -128, 127);
        const tml_logistic_params p = derive_sigmoid(in_scale, zp);
        int ok = 1;
        char label[96];
        tml_logistic_s8(&p, in, 256, lo);
        tml_tanh_s8(&p, in, 256, th);
        for (i = 0; i < 256; i++) {
            const double x = (double)in_scale * (double)(in[i] - zp);
            const int32_t lf = float_to_s8(1.0 / (1.0 + exp(-x)), 1.0 / 256.0, -128);
            const int32_t tf = float_to_s8(tanh(x), 1.0 / 128.0, 0);
            if (abs(lo[i] - lf) > 1) {
                ok = TML_CHECK(0, "logistic scale %g zp %d x %d: got %d, float %d", (double)in_scale, zp, in[i],
                               lo[i], lf);
            }
            if (abs(th[i] - tf) > 1) {
                ok = TML_CHECK(0, "tanh scale %g zp %d x %d: got %d, float %d", (double)in_scale, zp, in[i],
                               th[i], tf);
            }
            if (i > 0 && (lo[i] < lo[i - 1] || th[i] < th[i - 1])) {
                ok = TML_CHECK(0, "not monotonic at scale %g zp %d x %d", (double)in_scale, zp, in[i]);
            }
        }
        /* symmetry around the zero point, for inputs inside the radius on both sides */
        for (i = 0; i < 256; i++) {
            const int32_t d = in[i] - zp;
            const int32_t j = zp - d + 128; /* index of the mirrored input */
            if (d > 0 && j >= 0 && j < 256 && d < p.input_range_radius) {
                const int32_t sum = lo[i] + lo[j];
                /* +128/128 is not representable: a positive result of 128 saturates to 127 */
                if (th[i] != -th[j] && !(th[i] == 127 && th[j] == -128)) {
                    ok = TML_CHECK(0, "tanh not odd: scale %g zp %d d %d: %d vs %d", (double)in_scale, zp, d,
                                   th[i], th[j]);
                }
                if (sum != 0 && sum != -1) {
                    ok = TML_CHECK(0, "logistic symmetry: scale %g zp %d d %d: %d + %d", (double)in_scale, zp, d,
                                   lo[i], lo[j]);
                }
            }
        }
        snprintf(label, sizeof label, "logistic/tanh sweep %d", t);
        tml_test_record(ok, label);
    }
}

static void sweep_hard_swish(tml_rng *rng)
{
    int8_t in[256], out[256];
    int t, i;
    int worst = 0;
    all_inputs(in);
    for (t = 0; t < 300; t++) {
        const float in_scale = (float)exp(tml_rng_double(rng, log(0.005), log(0.5)));
        const int32_t in_zp = tml_rng_range(rng, -128, 127);
        /* output scale between in_scale/8 and in_scale*2 keeps the output exponent <= 0 */
        const float out_scale = in_scale * (float)exp(tml_rng_double(rng, log(0.125), log(2.0)));
        const int32_t out_zp = tml_rng_range(rng, -128, 127);
        const tml_hard_swish_params p = derive_hard_swish(in_scale, in_zp, out_scale, out_zp);
        int ok = 1;
        char label[96];
        if (p.output_multiplier_exponent > 0) {
            continue;
        }
        tml_hard_swish_s8(&p, in, 256, out);
        for (i = 0; i < 256; i++) {
            const double x = (double)in_scale * (double)(in[i] - in_zp);
            const double r6 = x + 3.0 < 0.0 ? 0.0 : (x + 3.0 > 6.0 ? 6.0 : x + 3.0);
            const int32_t f = float_to_s8(x * r6 / 6.0, (double)out_scale, out_zp);
            const int diff = abs(out[i] - f);
            worst = diff > worst ? diff : worst;
            /* TFLM's 16-bit pipeline is accurate to about 1 output LSB plus 2^-8 of the input's relative error */
            if (diff > 2) {
                ok = TML_CHECK(0, "hard swish in (%g,%d) out (%g,%d) x %d: got %d, float %d", (double)in_scale,
                               in_zp, (double)out_scale, out_zp, in[i], out[i], f);
            }
        }
        if (out[in_zp + 128] != out_zp) {
            ok = TML_CHECK(0, "hard swish(zero point) != output zero point");
        }
        snprintf(label, sizeof label, "hard swish sweep %d", t);
        tml_test_record(ok, label);
    }
    printf("hard swish: worst deviation from float math %d LSB\n", worst);
}

static void test_argument_errors(void)
{
    int8_t buf[4] = {0, 0, 0, 0};
    const tml_logistic_params lp = derive_sigmoid(0.1f, 0);
    tml_hard_swish_params hp = derive_hard_swish(0.05f, 0, 0.05f, 0);
    tml_relu6_params r6 = {0, 200};
    int ok = 1;
    ok &= TML_CHECK(tml_logistic_s8(NULL, buf, 4, buf) == TML_ERROR_ARGUMENT, "NULL params");
    ok &= TML_CHECK(tml_tanh_s8(&lp, buf, -1, buf) == TML_ERROR_ARGUMENT, "negative size");
    ok &= TML_CHECK(tml_tanh_s8(&lp, NULL, 0, NULL) == TML_OK, "empty input is fine");
    hp.output_multiplier_exponent = 1;
    ok &= TML_CHECK(tml_hard_swish_s8(&hp, buf, 4, buf) == TML_ERROR_ARGUMENT, "positive output exponent");
    ok &= TML_CHECK(tml_relu6_s8(&r6, buf, 4, buf) == TML_ERROR_ARGUMENT, "six out of range");
    /*
     * Input scale 32: real = 2^32 -> shift 33, radius floor(15 * 2^27 / 2^33) = 0: every input saturates, and
     * TFLM tests x <= -radius first, so even x == zero point gives -128 (not the 0 of logistic(0) = 1/2).
     */
    {
        const tml_logistic_params big = derive_sigmoid(32.0f, 0);
        const int8_t in[3] = {-5, 0, 5};
        int8_t out[3];
        tml_logistic_params bad = big;
        ok &= TML_CHECK(big.input_left_shift == 33 && big.input_range_radius == 0, "big scale params");
        ok &= TML_CHECK(tml_logistic_s8(&big, in, 3, out) == TML_OK && out[0] == -128 && out[1] == -128 &&
                            out[2] == 127,
                        "big scale logistic %d %d %d", out[0], out[1], out[2]);
        bad.input_range_radius = 5;
        ok &= TML_CHECK(tml_tanh_s8(&bad, in, 3, out) == TML_ERROR_ARGUMENT, "shift 33 with a radius");
    }
    tml_test_record(ok, "argument errors");
}

/* ---- conformance with TFLM (shared/ops) -------------------------------------------------------------------- */

static void test_golden(void)
{
    char ops_dir[1024];
    if (!TML_REQUIRE_SHARED("ops/README.md")) {
        return;
    }
    {
        const tml_logistic_params a = derive_sigmoid(0.0625f, 0);
        const tml_logistic_params b = derive_sigmoid(0.25f, 30);
        const tml_tanh_params c = derive_sigmoid(0.03125f, 0);
        const tml_tanh_params d = derive_sigmoid(0.009999999776482582f, 5);
        golden_unary_s8("logistic_256", run_logistic, &a);
        golden_unary_s8("logistic_wide_asym", run_logistic, &b);
        golden_unary_s8("tanh_256", run_tanh, &c);
        golden_unary_s8("tanh_narrow_asym", run_tanh, &d);
    }
    {
        const tml_hard_swish_params a = derive_hard_swish(0.05000000074505806f, 0, 0.026372550055384636f, -114);
        const tml_hard_swish_params b =
            derive_hard_swish(0.10000000149011612f, -60, 0.019999999552965164f, -100);
        golden_unary_s8("hard_swish_256", run_hard_swish, &a);
        golden_unary_s8("hard_swish_asym", run_hard_swish, &b);
    }
    {
        const tml_leaky_relu_params a =
            derive_leaky(0.10000000149011612f, -20, 0.0580705888569355f, -126, 0.01f);
        const tml_leaky_relu_params b =
            derive_leaky(0.05000000074505806f, 10, 0.05000000074505806f, 10, 0.2f);
        golden_unary_s8("leaky_relu_a001_requant", run_leaky, &a);
        golden_unary_s8("leaky_relu_a02", run_leaky, &b);
    }
    {
        const tml_relu_params a = derive_relu(0.07999999821186066f, -50, 0.055529411882162094f, -128);
        const tml_relu_params b = derive_relu(0.05000000074505806f, 20, 0.05000000074505806f, 20);
        const tml_relu6_params c = derive_relu6(0.009999999776482582f, 0);
        const tml_relu6_params d = derive_relu6(0.05000000074505806f, -100);
        golden_unary_s8("relu_requant", run_relu, &a);
        golden_unary_s8("relu_same_q", run_relu, &b);
        golden_unary_s8("relu6_range_below6", run_relu6, &c);
        golden_unary_s8("relu6_range_m1p4_11", run_relu6, &d);
    }
    printf("golden: %d TFLM vectors compared from %s\n", g_golden_vectors,
           tml_shared_path(ops_dir, sizeof ops_dir, "ops"));
}

/* ---- int16 LOGISTIC / TANH / RELU6 (16x8) ------------------------------------------------------------------ */

/*
 * The sigmoid table derived here from its formula, independently of activation.c: sigmoid(i/24) in Q0.16, each
 * node lowered by h^2 sigmoid''/16 (h = 1/24), rounded; the last node 65535.
 */
static void sigmoid_table_from_formula(uint16_t table[256])
{
    int i;
    for (i = 0; i < 255; i++) {
        const double h = 1.0 / 24.0, s = 1.0 / (1.0 + exp(-i * h));
        table[i] = (uint16_t)lround(65536.0 * (s - h * h * s * (1.0 - s) * (1.0 - 2.0 * s) / 16.0));
    }
    table[255] = 65535;
}

/* TFLM's int16 sigmoid evaluation (reference_integer_ops::Logistic / Tanh), on the given table. */
static int16_t ref_sigmoid_s16(const uint16_t *table, int is_tanh, int16_t x, int32_t m, int32_t shift)
{
    /* the power-of-two form multiplies by 3 << shift and does not shift */
    const int64_t factor = m == 0 ? (int64_t)3 << shift : m;
    const int32_t right = m == 0 ? 0 : shift;
    const int64_t round = right > 0 ? (int64_t)1 << (right - 1) : 0;
    const int32_t v = (int32_t)(((int64_t)x * factor + round) >> right);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const int32_t frac_bits = is_tanh ? 8 : 9;
    const uint32_t node = a >> frac_bits, frac = a & ((1u << frac_bits) - 1u);
    const int saturated = node >= 255;
    const uint32_t lo = saturated ? 0 : table[node], hi = saturated ? 0 : table[node + 1];
    const uint32_t interpolated = (lo << frac_bits) + frac * (hi - lo);
    if (!is_tanh) {
        uint32_t r = saturated ? 0x7FFFu << 10 : interpolated;
        r = v >= 0 ? r + 512 : (1u << 25) - r + 511;
        return (int16_t)(r >> 10);
    } else {
        int32_t r = saturated ? 0xFFFF << 8 : (int32_t)interpolated;
        r = v >= 0 ? r - (1 << 23) + 128 : -r + (1 << 23) + 127;
        return (int16_t)(r >> 8);
    }
}

/*
 * Every int16 input at several (multiplier, shift) pairs, including both power-of-two forms, against the
 * formula-derived table; then checkpoints: sigmoid(0) = 1/2 -> 16384, tanh(0) = 0, and the saturated ends.
 */
static void sweep_sigmoids_s16(void)
{
    /* ... and the LSTM gates' pairs in TFLM's lstm_eval: (0, 12 + p) or (3, -(12 + p)) for a cell scale 2^p */
    static const int32_t params[][2] = {{0, 0}, {0, 1}, {24576, 15}, {19660, 13}, {30000, 1}, {16384, 0}, {2, 0},
                                        {1, 0}, {32767, 31}, {3, 1}, {3, 3}, {0, 4}, {0, 14}};
    static int16_t in[65536], out[65536];
    uint16_t table[256];
    size_t k;
    int32_t i, bad = 0;
    sigmoid_table_from_formula(table);
    for (i = 0; i < 65536; i++) {
        in[i] = (int16_t)(i - 32768);
    }
    for (k = 0; k < sizeof params / sizeof params[0]; k++) {
        const tml_sigmoid_s16_params p = {params[k][0], params[k][1]};
        int is_tanh;
        for (is_tanh = 0; is_tanh < 2; is_tanh++) {
            TML_CHECK((is_tanh ? tml_tanh_s16 : tml_logistic_s16)(&p, in, 65536, out) == TML_OK, "int16 sigmoid ok");
            for (i = 0; i < 65536; i++) {
                if (out[i] != ref_sigmoid_s16(table, is_tanh, in[i], p.input_multiplier, p.input_left_shift)) {
                    bad++;
                }
            }
        }
    }
    TML_CHECK(bad == 0, "int16 LOGISTIC/TANH: %d outputs differ from the formula table's reference", (int)bad);
    {
        const tml_sigmoid_s16_params p = {0, 0};
        int16_t x[3] = {0, 32767, -32768}, y[3];
        tml_logistic_s16(&p, x, 3, y);
        /* 0 -> (32768 << 9 + 512) >> 10 = 16384; 32767 * 3 >> 9 = 191 (not saturated): sigmoid(8) ~ 0.99966 */
        TML_CHECK(y[0] == 16384 && y[1] > 32740 && y[2] < 20, "logistic s16 checkpoints %d %d %d", y[0], y[1], y[2]);
        tml_tanh_s16(&p, x, 3, y);
        TML_CHECK(y[0] == 0 && y[1] == 32767 && y[2] == -32767, "tanh s16 checkpoints %d %d %d", y[0], y[1], y[2]);
    }
    {
        /* parameters the kernel cannot evaluate without overflow */
        const tml_sigmoid_s16_params too_big = {32768, 3}, bad_pot = {0, 15};
        int16_t x = 0, y;
        TML_CHECK(tml_logistic_s16(&too_big, &x, 1, &y) == TML_ERROR_ARGUMENT &&
                      tml_tanh_s16(&bad_pot, &x, 1, &y) == TML_ERROR_ARGUMENT,
                  "int16 sigmoid parameter errors");
    }
}

/* RELU6 int16: the clamp to [zero, six] over every input. */
static void sweep_relu6_s16(void)
{
    static int16_t in[65536], out[65536];
    const tml_relu6_params p = {-100, 30000};
    int32_t i, bad = 0;
    for (i = 0; i < 65536; i++) {
        in[i] = (int16_t)(i - 32768);
    }
    TML_CHECK(tml_relu6_s16(&p, in, 65536, out) == TML_OK, "relu6 s16 ok");
    for (i = 0; i < 65536; i++) {
        const int32_t x = in[i], e = x < -100 ? -100 : (x > 30000 ? 30000 : x);
        bad += out[i] != e;
    }
    TML_CHECK(bad == 0, "relu6 s16: %d outputs differ", (int)bad);
    {
        const tml_relu6_params wide = {0, 40000};
        TML_CHECK(tml_relu6_s16(&wide, in, 1, out) == TML_ERROR_ARGUMENT, "relu6 s16 rejects six beyond int16");
    }
}

int main(void)
{
    tml_rng rng = tml_rng_seed(20240611u);
    test_checkpoints();
    test_fixed_point_core(&rng);
    sweep_relu_family(&rng);
    sweep_sigmoids(&rng);
    sweep_hard_swish(&rng);
    sweep_sigmoids_s16();
    sweep_relu6_s16();
    test_argument_errors();
    test_golden();
    return TML_TEST_SUMMARY("test_activation");
}
