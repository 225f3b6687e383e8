/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pooling.c: tml_avg_pool_s8 and tml_max_pool_s8 against naive references written here (TFLM
 * AveragePool / MaxPool semantics): windows 1..4 (and global), strides 1..3, SAME/VALID, odd channel counts,
 * batches, clamps, saturated inputs.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

typedef struct {
    int32_t n, h, w, c, fh, fw, sh, sw, ph, pw, oh, ow, lo, hi;
    int same;
} pool_case;

/* Average of the taps inside the input, rounded half away from zero (independent formulation with div()). */
static int8_t ref_avg(const pool_case *k, const int8_t *in, int32_t b, int32_t y, int32_t x, int32_t c)
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
    return (int8_t)tml_ref_clamp(q, k->lo, k->hi);
}

static int8_t ref_max(const pool_case *k, const int8_t *in, int32_t b, int32_t y, int32_t x, int32_t c)
{
    int32_t m = -128;
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
    return (int8_t)tml_ref_clamp(m, k->lo, k->hi);
}

static const int32_t k_channels[] = {1, 3, 7, 17, 16};

static void run_case(tml_rng *r, int index)
{
    pool_case k;
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
    k.lo = -128;
    k.hi = 127;
    if (tml_rng_range(r, 0, 1)) {
        k.lo = tml_rng_range(r, -128, 10);
        k.hi = tml_rng_range(r, k.lo, 127);
    }
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * k.c;
    int8_t *in = (int8_t *)malloc(n_in);
    int8_t *exp_avg = (int8_t *)malloc(n_out);
    int8_t *exp_max = (int8_t *)malloc(n_out);
    int8_t *act = (int8_t *)malloc(n_out);
    tml_rng_fill_s8(r, in, n_in, 25);
    size_t o = 0;
    for (int32_t b = 0; b < k.n; b++) {
        for (int32_t y = 0; y < k.oh; y++) {
            for (int32_t x = 0; x < k.ow; x++) {
                for (int32_t c = 0; c < k.c; c++, o++) {
                    exp_avg[o] = ref_avg(&k, in, b, y, x, c);
                    exp_max[o] = ref_max(&k, in, b, y, x, c);
                }
            }
        }
    }
    tml_pool_params p = {k.sh, k.sw, k.fh, k.fw, k.ph, k.pw, k.lo, k.hi};
    tml_dims in_d = {k.n, k.h, k.w, k.c};
    tml_dims out_d = {k.n, k.oh, k.ow, k.c};
    char label[200];
    snprintf(label, sizeof(label), "pool case %d: in %dx%dx%dx%d f %dx%d s %d,%d %s pad %d,%d out %dx%d act [%d,%d]",
             index, k.n, k.h, k.w, k.c, k.fh, k.fw, k.sh, k.sw, k.same ? "SAME" : "VALID", k.ph, k.pw, k.oh, k.ow,
             k.lo, k.hi);
    int ok = TML_CHECK(tml_avg_pool_s8_get_buffer_size(&p, &in_d, &out_d) == 0, "buffer size");
    memset(act, 0x5A, n_out);
    ok &= TML_CHECK(tml_avg_pool_s8(&p, &in_d, in, &out_d, act, NULL) == TML_OK, "avg status");
    ok &= tml_test_compare_s8("avg", exp_avg, act, n_out);
    memset(act, 0x5A, n_out);
    ok &= TML_CHECK(tml_max_pool_s8(&p, &in_d, in, &out_d, act) == TML_OK, "max status");
    ok &= tml_test_compare_s8("max", exp_max, act, n_out);
    tml_test_record(ok, label);
    free(in);
    free(exp_avg);
    free(exp_max);
    free(act);
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
    tml_test_record(ok, "pool fixed cases");
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0004u);
    fixed_cases();
    for (int i = 0; i < 1500; i++) {
        run_case(&r, i);
    }
    return TML_TEST_SUMMARY("test_pooling");
}
