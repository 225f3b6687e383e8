/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pooling.c: tml_avg_pool_s8/_s16 and tml_max_pool_s8/_s16 against naive references written here (TFLM
 * AveragePool / MaxPool semantics, int8 and int16 alike): windows 1..4 (and global), strides 1..3, SAME/VALID, odd channel counts,
 * batches, clamps, saturated inputs.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

typedef struct {
    int32_t n, h, w, c, fh, fw, sh, sw, ph, pw, oh, ow, lo, hi;
    int same, wide; /* wide: int16 */
} pool_case;

/* Average of the taps inside the input, rounded half away from zero (independent formulation with div()). */
static int32_t ref_avg(const pool_case *k, const int32_t *in, int32_t b, int32_t y, int32_t x, int32_t c)
{
    int32_t sum = 0, count = 0;
    for (int32_t fy = 0; fy < k->fh; fy++) {
        for (int32_t fx = 0; fx < k->fw; fx++) {
            const int32_t iy = y * k->sh - k->ph + fy;
            const int32_t ix = x * k->sw - k->pw + fx;
            if (iy >= 0 && iy < k->h && ix >= 0 && ix < k->w) {
                sum += in[((b * k->h + iy) * k->w + ix) * k->c + c];
                count++;
            }
        }
    }
    const int32_t mag = sum < 0 ? -sum : sum;
    int32_t q = (2 * mag + count) / (2 * count); /* round(mag / count), ties up */
    if (sum < 0) {
        q = -q;
    }
    return tml_ref_clamp(q, k->lo, k->hi);
}

static int32_t ref_max(const pool_case *k, const int32_t *in, int32_t b, int32_t y, int32_t x, int32_t c)
{
    int32_t m = k->wide ? -32768 : -128;
    for (int32_t fy = 0; fy < k->fh; fy++) {
        for (int32_t fx = 0; fx < k->fw; fx++) {
            const int32_t iy = y * k->sh - k->ph + fy;
            const int32_t ix = x * k->sw - k->pw + fx;
            if (iy >= 0 && iy < k->h && ix >= 0 && ix < k->w) {
                const int32_t v = in[((b * k->h + iy) * k->w + ix) * k->c + c];
                m = v > m ? v : m;
            }
        }
    }
    return tml_ref_clamp(m, k->lo, k->hi);
}

static const int32_t k_channels[] = {1, 3, 7, 17, 16};

static void run_case(tml_rng *r, int index, int wide)
{
    pool_case k;
    k.wide = wide;
    k.n = tml_rng_range(r, 1, 3);
    k.c = k_channels[tml_rng_range(r, 0, 4)];
    k.h = tml_rng_range(r, 1, 10);
    k.w = tml_rng_range(r, 1, 10);
    if (tml_rng_range(r, 0, 7) == 0) {
        k.fh = k.h; /* global pooling */
        k.fw = k.w;
    } else {
        k.fh = tml_rng_range(r, 1, 4);
        k.fw = tml_rng_range(r, 1, 4);
    }
    k.sh = tml_rng_range(r, 1, 3);
    k.sw = tml_rng_range(r, 1, 3);
    k.same = tml_rng_range(r, 0, 1);
    tml_ref_window_2d(&k.same, k.h, k.w, k.fh, k.fw, k.sh, k.sw, 1, 1, &k.oh, &k.ow, &k.ph, &k.pw);
    const int32_t type_min = wide ? -32768 : -128, type_max = wide ? 32767 : 127;
    k.lo = type_min;
    k.hi = type_max;
    if (tml_rng_range(r, 0, 1)) {
        k.lo = tml_rng_range(r, type_min, wide ? 2560 : 10);
        k.hi = tml_rng_range(r, k.lo, type_max);
    }
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * k.c;
    int8_t *in = (int8_t *)malloc(n_in), *act = (int8_t *)malloc(n_out);
    int16_t *in16 = (int16_t *)malloc(sizeof(int16_t) * n_in), *act16 = (int16_t *)malloc(sizeof(int16_t) * n_out);
    int16_t *exp16_avg = (int16_t *)malloc(sizeof(int16_t) * n_out), *exp16_max = (int16_t *)malloc(sizeof(int16_t) * n_out);
    int8_t *exp_avg = (int8_t *)malloc(n_out), *exp_max = (int8_t *)malloc(n_out);
    int32_t *values = (int32_t *)malloc(sizeof(int32_t) * n_in);
    tml_rng_fill_s8(r, in, n_in, 25);
    for (size_t i = 0; i < n_in; i++) {
        /* int16: the int8 pattern (saturated values included) widened, plus random low bits */
        in16[i] = (int16_t)(in[i] * 256 + (in[i] == 127 ? 255 : tml_rng_range(r, 0, 255)));
        values[i] = wide ? in16[i] : in[i];
    }
    size_t o = 0;
    for (int32_t b = 0; b < k.n; b++) {
        for (int32_t y = 0; y < k.oh; y++) {
            for (int32_t x = 0; x < k.ow; x++) {
                for (int32_t c = 0; c < k.c; c++, o++) {
                    exp_avg[o] = (int8_t)ref_avg(&k, values, b, y, x, c);
                    exp_max[o] = (int8_t)ref_max(&k, values, b, y, x, c);
                    exp16_avg[o] = (int16_t)ref_avg(&k, values, b, y, x, c);
                    exp16_max[o] = (int16_t)ref_max(&k, values, b, y, x, c);
                }
            }
        }
    }
    tml_pool_params p = {k.sh, k.sw, k.fh, k.fw, k.ph, k.pw, k.lo, k.hi};
    tml_dims in_d = {k.n, k.h, k.w, k.c};
    tml_dims out_d = {k.n, k.oh, k.ow, k.c};
    char label[200];
    snprintf(label, sizeof(label), "pool %s case %d: in %dx%dx%dx%d f %dx%d s %d,%d %s pad %d,%d out %dx%d act [%d,%d]",
             wide ? "s16" : "s8", index, k.n, k.h, k.w, k.c, k.fh, k.fw, k.sh, k.sw, k.same ? "SAME" : "VALID", k.ph, k.pw, k.oh, k.ow,
             k.lo, k.hi);
    int ok = TML_CHECK(tml_avg_pool_s8_get_buffer_size(&p, &in_d, &out_d) == 0, "buffer size");
    if (wide) {
        memset(act16, 0x5A, sizeof(int16_t) * n_out);
        ok &= TML_CHECK(tml_avg_pool_s16(&p, &in_d, in16, &out_d, act16) == TML_OK, "avg s16 status");
        ok &= tml_test_compare_s16("avg s16", exp16_avg, act16, n_out);
        memset(act16, 0x5A, sizeof(int16_t) * n_out);
        ok &= TML_CHECK(tml_max_pool_s16(&p, &in_d, in16, &out_d, act16) == TML_OK, "max s16 status");
        ok &= tml_test_compare_s16("max s16", exp16_max, act16, n_out);
    } else {
        memset(act, 0x5A, n_out);
        ok &= TML_CHECK(tml_avg_pool_s8(&p, &in_d, in, &out_d, act, NULL) == TML_OK, "avg status");
        ok &= tml_test_compare_s8("avg", exp_avg, act, n_out);
        memset(act, 0x5A, n_out);
        ok &= TML_CHECK(tml_max_pool_s8(&p, &in_d, in, &out_d, act) == TML_OK, "max status");
        ok &= tml_test_compare_s8("max", exp_max, act, n_out);
    }
    tml_test_record(ok, label);
    free(in); free(act); free(in16); free(act16); free(exp16_avg); free(exp16_max); free(exp_avg); free(exp_max);
    free(values);
}

static void fixed_cases(void)
{
    /* Rounding of the average: sums -3, -2, 3, 5 over 2 taps -> -2 (-1.5), -1, 2 (1.5), 3 (2.5). */
    const int8_t in[8] = {-1, -2, -1, -1, 1, 2, 2, 3};
    tml_pool_params p = {1, 2, 1, 2, 0, 0, -128, 127};
    tml_dims in_d = {1, 1, 8, 1};
    tml_dims out_d = {1, 1, 4, 1};
    int8_t out[4];
    const int8_t expected[4] = {-2, -1, 2, 3};
    int ok = TML_CHECK(tml_avg_pool_s8(&p, &in_d, in, &out_d, out, NULL) == TML_OK, "status");
    ok &= tml_test_compare_s8("avg ties", expected, out, 4);
    /* A window that lies entirely in the padding has no valid tap: TFLM fails, so do we. */
    tml_pool_params bad = {1, 1, 1, 1, 2, 0, -128, 127};
    tml_dims one = {1, 1, 1, 1};
    tml_dims three = {1, 3, 1, 1};
    int8_t x = 5, y[3];
    ok &= TML_CHECK(tml_avg_pool_s8(&bad, &one, &x, &three, y, NULL) == TML_ERROR_ARGUMENT, "empty window");
    tml_dims bad_out = {1, 1, 4, 2};
    ok &= TML_CHECK(tml_max_pool_s8(&p, &in_d, in, &bad_out, out) == TML_ERROR_ARGUMENT, "channels");
    /* int16: the same ties at 1000 times the values; an empty max window is -32768 before the clamp; bounds
     * outside int16 are refused. */
    const int16_t in16[8] = {-1000, -2000, -1000, -1000, 1000, 2000, 2000, 3000};
    const int16_t expected16[4] = {-1500, -1000, 1500, 2500};
    int16_t out16[4], x16 = 5, y16[3];
    tml_pool_params p16 = {1, 2, 1, 2, 0, 0, -32768, 32767};
    ok &= TML_CHECK(tml_avg_pool_s16(&p16, &in_d, in16, &out_d, out16) == TML_OK, "s16 status");
    ok &= tml_test_compare_s16("avg s16", expected16, out16, 4);
    tml_pool_params bad16 = {1, 1, 1, 1, 2, 0, -32768, 32767};
    ok &= TML_CHECK(tml_avg_pool_s16(&bad16, &one, &x16, &three, y16) == TML_ERROR_ARGUMENT, "s16 empty window");
    ok &= TML_CHECK(tml_max_pool_s16(&bad16, &one, &x16, &three, y16) == TML_OK && y16[0] == -32768 && y16[2] == 5,
                    "s16 empty max window");
    p16.activation_max = 40000;
    ok &= TML_CHECK(tml_max_pool_s16(&p16, &in_d, in16, &out_d, out16) == TML_ERROR_ARGUMENT, "s16 clamp outside int16");
    tml_test_record(ok, "pool fixed cases");
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0004u);
    fixed_cases();
    for (int i = 0; i < 1500; i++) {
        run_case(&r, i, 0);
    }
    for (int i = 0; i < 1000; i++) {
        run_case(&r, i, 1);
    }
    return TML_TEST_SUMMARY("test_pooling");
}
