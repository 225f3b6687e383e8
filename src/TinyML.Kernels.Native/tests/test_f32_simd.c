/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_f32_simd.c: the float kernels that have host SIMD paths, bit for bit, on random shapes (padding on every side,
 * strides, dilations, batches, output counts around multiples of 8) and values with -0 and infinities, once for each
 * host path the CPU has:
 *   - tml_fully_connected_f32_packed and tml_conv_f32_packed (weights packed eight outputs at a time) against
 *     tml_fully_connected_f32 and tml_conv_f32 on the plain weights (which have no SIMD path);
 *   - tml_depthwise_conv_f32, tml_avg_pool_f32 and tml_max_pool_f32 against themselves on the portable path (the
 *     status too: an average over a window without a valid tap fails at that pixel).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tml_kernels.h"
#include "tml_test.h"

/* The layout tml_kernels.h documents, transcribed here independently of the library. */
static void pack8(const float *w, int32_t units, int32_t depth, float *packed)
{
    const int32_t whole = units - units % 8;
    size_t n = 0;
    for (int32_t g = 0; g < whole; g += 8) {
        for (int32_t d = 0; d < depth; d++) {
            for (int32_t j = 0; j < 8; j++) {
                packed[n++] = w[(size_t)(g + j) * depth + d];
            }
        }
    }
    memcpy(packed + n, w + (size_t)whole * depth, sizeof(float) * (size_t)(units - whole) * (size_t)depth);
}

static void fill(tml_rng *r, float *p, size_t n)
{
    tml_rng_fill_f32(r, p, n, -2.0f, 2.0f);
    for (size_t i = 0; i < n; i++) {
        const uint32_t k = tml_rng_next(r) % 64u;
        p[i] = k == 0 ? -0.0f : k == 1 ? 0.0f : k == 2 ? INFINITY : k == 3 ? -INFINITY : p[i];
    }
}

static void activation(tml_rng *r, float *lo, float *hi)
{
    const uint32_t k = tml_rng_next(r) % 3u;
    *lo = k == 0 ? -INFINITY : k == 1 ? 0.0f : -1.0f;
    *hi = k == 0 ? INFINITY : k == 1 ? INFINITY : 1.0f;
}

static int fc_case(tml_rng *r)
{
    const int32_t batches = tml_rng_range(r, 1, 3), depth = tml_rng_range(r, 1, 40), units = tml_rng_range(r, 1, 41);
    float *x = malloc(sizeof(float) * (size_t)(batches * depth)), *w = malloc(sizeof(float) * (size_t)(units * depth));
    float *packed = malloc(sizeof(float) * (size_t)(units * depth)), *bias = malloc(sizeof(float) * (size_t)units);
    float *a = malloc(sizeof(float) * (size_t)(batches * units)), *b = malloc(sizeof(float) * (size_t)(batches * units));
    fill(r, x, (size_t)(batches * depth));
    fill(r, w, (size_t)(units * depth));
    tml_rng_fill_f32(r, bias, (size_t)units, -1.0f, 1.0f);
    pack8(w, units, depth, packed);
    tml_fully_connected_f32_params p;
    activation(r, &p.activation_min, &p.activation_max);
    const float *with_bias = tml_rng_range(r, 0, 3) ? bias : NULL;
    const int sa = tml_fully_connected_f32_packed(&p, batches, depth, units, x, packed, with_bias, a);
    const int sb = tml_fully_connected_f32(&p, batches, depth, units, x, w, with_bias, b);
    const int ok = sa == TML_OK && sb == TML_OK && memcmp(a, b, sizeof(float) * (size_t)(batches * units)) == 0;
    free(x), free(w), free(packed), free(bias), free(a), free(b);
    return ok;
}

/* 1 when equal, 0 when not, -1 when the drawn shape has no output. */
static int conv_case(tml_rng *r)
{
    const tml_dims in = {tml_rng_range(r, 1, 2), tml_rng_range(r, 1, 9), tml_rng_range(r, 1, 9), tml_rng_range(r, 1, 9)};
    const tml_dims f = {tml_rng_range(r, 1, 41), tml_rng_range(r, 1, 4), tml_rng_range(r, 1, 4), in.c};
    tml_conv_f32_params p;
    p.stride_h = tml_rng_range(r, 1, 3);
    p.stride_w = tml_rng_range(r, 1, 3);
    p.dilation_h = tml_rng_range(r, 0, 3) == 0 ? 2 : 1;
    p.dilation_w = tml_rng_range(r, 0, 3) == 0 ? 2 : 1;
    const tml_dims out = {in.n, tml_rng_window_axis(r, in.h, f.h, p.stride_h, p.dilation_h, &p.pad_h),
                          tml_rng_window_axis(r, in.w, f.w, p.stride_w, p.dilation_w, &p.pad_w), f.n};
    if (out.h == 0 || out.w == 0) {
        return -1;
    }
    activation(r, &p.activation_min, &p.activation_max);
    const int32_t taps = f.h * f.w * f.c;
    const size_t in_n = (size_t)in.n * in.h * in.w * in.c, out_n = (size_t)out.n * out.h * out.w * out.c;
    float *x = malloc(sizeof(float) * in_n), *w = malloc(sizeof(float) * (size_t)(f.n * taps));
    float *packed = malloc(sizeof(float) * (size_t)(f.n * taps)), *bias = malloc(sizeof(float) * (size_t)f.n);
    float *a = malloc(sizeof(float) * out_n), *b = malloc(sizeof(float) * out_n);
    fill(r, x, in_n);
    fill(r, w, (size_t)(f.n * taps));
    tml_rng_fill_f32(r, bias, (size_t)f.n, -1.0f, 1.0f);
    pack8(w, f.n, taps, packed);
    const float *with_bias = tml_rng_range(r, 0, 3) ? bias : NULL;
    const int sa = tml_conv_f32_packed(&p, &in, x, &f, packed, with_bias, &out, a);
    const int sb = tml_conv_f32(&p, &in, x, &f, w, with_bias, &out, b);
    const int ok = sa == TML_OK && sb == TML_OK && memcmp(a, b, sizeof(float) * out_n) == 0;
    free(x), free(w), free(packed), free(bias), free(a), free(b);
    return ok;
}

/* Depthwise (multiplier 1) on the current path against the portable path: 1 equal, 0 not, -1 no output. */
static int depthwise_case(tml_rng *r, int32_t path)
{
    const tml_dims in = {tml_rng_range(r, 1, 2), tml_rng_range(r, 1, 9), tml_rng_range(r, 1, 9), tml_rng_range(r, 1, 27)};
    const tml_dims f = {1, tml_rng_range(r, 1, 4), tml_rng_range(r, 1, 4), in.c};
    tml_depthwise_conv_f32_params p;
    p.stride_h = tml_rng_range(r, 1, 3);
    p.stride_w = tml_rng_range(r, 1, 3);
    p.dilation_h = tml_rng_range(r, 0, 3) == 0 ? 2 : 1;
    p.dilation_w = tml_rng_range(r, 0, 3) == 0 ? 2 : 1;
    p.depth_multiplier = 1;
    const tml_dims out = {in.n, tml_rng_window_axis(r, in.h, f.h, p.stride_h, p.dilation_h, &p.pad_h),
                          tml_rng_window_axis(r, in.w, f.w, p.stride_w, p.dilation_w, &p.pad_w), in.c};
    if (out.h == 0 || out.w == 0) {
        return -1;
    }
    activation(r, &p.activation_min, &p.activation_max);
    const size_t in_n = (size_t)in.n * in.h * in.w * in.c, out_n = (size_t)out.n * out.h * out.w * out.c;
    const size_t f_n = (size_t)f.h * f.w * f.c;
    float *x = malloc(sizeof(float) * in_n), *w = malloc(sizeof(float) * f_n), *bias = malloc(sizeof(float) * (size_t)in.c);
    float *a = malloc(sizeof(float) * out_n), *b = malloc(sizeof(float) * out_n);
    fill(r, x, in_n);
    fill(r, w, f_n);
    tml_rng_fill_f32(r, bias, (size_t)in.c, -1.0f, 1.0f);
    const float *with_bias = tml_rng_range(r, 0, 3) ? bias : NULL;
    const int sa = tml_depthwise_conv_f32(&p, &in, x, &f, w, with_bias, &out, a);
    tml_host_path_set(TML_HOST_PATH_PORTABLE);
    const int sb = tml_depthwise_conv_f32(&p, &in, x, &f, w, with_bias, &out, b);
    tml_host_path_set(path);
    const int ok = sa == TML_OK && sb == TML_OK && memcmp(a, b, sizeof(float) * out_n) == 0;
    free(x), free(w), free(bias), free(a), free(b);
    return ok;
}

/* Average (is_max 0) or max pooling on the current path against the portable path: 1 equal, 0 not. Paddings up to
 * the filter's size make some windows empty. */
static int pool_case(tml_rng *r, int32_t path, int is_max)
{
    tml_pool_f32_params p;
    const tml_dims in = {tml_rng_range(r, 1, 2), tml_rng_range(r, 1, 8), tml_rng_range(r, 1, 8), tml_rng_range(r, 1, 27)};
    p.filter_h = tml_rng_range(r, 1, 4);
    p.filter_w = tml_rng_range(r, 1, 4);
    p.stride_h = tml_rng_range(r, 1, 3);
    p.stride_w = tml_rng_range(r, 1, 3);
    p.pad_h = tml_rng_range(r, 0, 3) == 0 ? tml_rng_range(r, 0, p.filter_h) : 0;
    p.pad_w = tml_rng_range(r, 0, 3) == 0 ? tml_rng_range(r, 0, p.filter_w) : 0;
    activation(r, &p.activation_min, &p.activation_max);
    const tml_dims out = {in.n, (in.h + 2 * p.pad_h - p.filter_h) / p.stride_h + 1, (in.w + 2 * p.pad_w - p.filter_w) / p.stride_w + 1, in.c};
    if (out.h < 1 || out.w < 1) {
        return 1;
    }
    const size_t in_n = (size_t)in.n * in.h * in.w * in.c, out_n = (size_t)out.n * out.h * out.w * out.c;
    float *x = malloc(sizeof(float) * in_n), *a = malloc(sizeof(float) * out_n), *b = malloc(sizeof(float) * out_n);
    fill(r, x, in_n);
    for (size_t i = 0; i < out_n; i++) {
        a[i] = b[i] = 12345.0f;
    }
    const int sa = is_max ? tml_max_pool_f32(&p, &in, x, &out, a) : tml_avg_pool_f32(&p, &in, x, &out, a);
    tml_host_path_set(TML_HOST_PATH_PORTABLE);
    const int sb = is_max ? tml_max_pool_f32(&p, &in, x, &out, b) : tml_avg_pool_f32(&p, &in, x, &out, b);
    tml_host_path_set(path);
    const int ok = sa == sb && memcmp(a, b, sizeof(float) * out_n) == 0;
    free(x), free(a), free(b);
    return ok;
}

int main(void)
{
    const int32_t best = tml_host_path();
    const int32_t paths[] = {TML_HOST_PATH_AVX2, TML_HOST_PATH_SSE41, TML_HOST_PATH_NEON_DOT, TML_HOST_PATH_NEON,
                             TML_HOST_PATH_PORTABLE};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (tml_host_path_set(paths[i]) != paths[i]) {
            continue;
        }
        tml_rng r = tml_rng_seed(20261207u);
        int fc_bad = 0, conv_bad = 0, conv_run = 0, dw_bad = 0, dw_run = 0, pool_bad = 0;
        for (int k = 0; k < 400; k++) {
            fc_bad += !fc_case(&r);
            const int c = conv_case(&r);
            conv_run += c >= 0;
            conv_bad += c == 0;
            const int d = depthwise_case(&r, paths[i]);
            dw_run += d >= 0;
            dw_bad += d == 0;
            pool_bad += !pool_case(&r, paths[i], k & 1);
        }
        tml_test_record(TML_CHECK(fc_bad == 0, "host path %d: %d of 400 FC cases differ", (int)paths[i], fc_bad),
                        "packed float FC equals the plain one");
        tml_test_record(TML_CHECK(conv_bad == 0 && conv_run > 200, "host path %d: %d of %d conv cases differ",
                                  (int)paths[i], conv_bad, conv_run),
                        "packed float conv equals the plain one");
        tml_test_record(TML_CHECK(dw_bad == 0 && dw_run > 200, "host path %d: %d of %d depthwise cases differ",
                                  (int)paths[i], dw_bad, dw_run),
                        "float depthwise equals the portable path");
        tml_test_record(TML_CHECK(pool_bad == 0, "host path %d: %d of 400 pooling cases differ", (int)paths[i], pool_bad),
                        "float pooling equals the portable path");
    }
    tml_host_path_set(best);
    /* The packed conv takes ungrouped weights only. */
    const tml_dims in = {1, 2, 2, 4}, f = {2, 1, 1, 2}, out = {1, 2, 2, 2};
    const tml_conv_f32_params p = {1, 1, 1, 1, 0, 0, -INFINITY, INFINITY};
    float x[16] = {0}, w[4] = {0}, y[8];
    tml_test_record(TML_CHECK(tml_conv_f32_packed(&p, &in, x, &f, w, NULL, &out, y) == TML_ERROR_ARGUMENT, "grouped"),
                    "grouped weights refused");
    return TML_TEST_SUMMARY("test_f32_simd");
}
