/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_float.c: tml_conv_f32, tml_depthwise_conv_f32, tml_fully_connected_f32, tml_avg_pool_f32 and
 * tml_max_pool_f32 against naive references written here. The references sum in TFLM's order (filter row,
 * filter column, input channel; bias after the sum), so results are compared bit for bit (the build uses
 * -ffp-contract=off for both).
 */
#include <float.h>
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static void random_act(tml_rng *r, float *lo, float *hi)
{
    switch (tml_rng_range(r, 0, 3)) {
    case 0:
        *lo = -FLT_MAX;
        *hi = FLT_MAX;
        break;
    case 1:
        *lo = 0.0f;
        *hi = FLT_MAX;
        break;
    case 2:
        *lo = 0.0f;
        *hi = 6.0f;
        break;
    default:
        *lo = -1.0f;
        *hi = 1.0f;
        break;
    }
}

typedef struct {
    int32_t n, h, w, c, oc, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, mult, groups;
    int same;
} geom;

static void random_geom(tml_rng *r, geom *g, int depthwise)
{
    static const int32_t ch[] = {1, 3, 7, 17, 4};
    memset(g, 0, sizeof(*g));
    g->n = tml_rng_range(r, 1, 3);
    g->c = ch[tml_rng_range(r, 0, 4)];
    g->groups = 1;
    if (!depthwise && tml_rng_range(r, 0, 9) == 0) {
        g->groups = 2;
        g->c *= 2;
    }
    g->mult = depthwise ? tml_rng_range(r, 1, 3) : 1;
    g->oc = depthwise ? g->c * g->mult : ch[tml_rng_range(r, 0, 4)] * g->groups;
    g->h = tml_rng_range(r, 1, 9);
    g->w = tml_rng_range(r, 1, 9);
    g->kh = tml_rng_range(r, 1, 4);
    g->kw = tml_rng_range(r, 1, 4);
    g->sh = tml_rng_range(r, 1, 3);
    g->sw = tml_rng_range(r, 1, 3);
    g->dh = tml_rng_range(r, 1, 3);
    g->dw = tml_rng_range(r, 1, 3);
    g->same = tml_rng_range(r, 0, 1);
    tml_ref_window_2d(&g->same, g->h, g->w, g->kh, g->kw, g->sh, g->sw, g->dh, g->dw, &g->oh, &g->ow, &g->ph,
                      &g->pw);
}

/* Buffers of one float convolution case: random input, filter and bias, reference and kernel outputs. */
typedef struct {
    float *in, *f, *bias, *exp, *act;
    size_t n_out;
    int has_bias;
} conv_buffers;

/* Allocates the buffers, fills input, filter and bias from r (in this order) and draws whether the bias is used. */
static void conv_buffers_init(tml_rng *r, conv_buffers *c, size_t n_in, size_t n_f, int32_t oc, size_t n_out)
{
    c->in = (float *)malloc(n_in * 4);
    c->f = (float *)malloc(n_f * 4);
    c->bias = (float *)malloc((size_t)oc * 4);
    c->exp = (float *)malloc(n_out * 4);
    c->act = (float *)malloc(n_out * 4);
    c->n_out = n_out;
    tml_rng_fill_f32(r, c->in, n_in, -2.0f, 2.0f);
    tml_rng_fill_f32(r, c->f, n_f, -1.0f, 1.0f);
    tml_rng_fill_f32(r, c->bias, (size_t)oc, -1.0f, 1.0f);
    c->has_bias = tml_rng_range(r, 0, 3) != 0;
}

/* Compares the kernel output with the reference bit for bit, records "<kind> case <index>" (failed also when
 * status_ok is 0) and frees the buffers. */
static void conv_buffers_finish(conv_buffers *c, int status_ok, const char *kind, int index)
{
    char label[64];
    snprintf(label, sizeof(label), "%s case %d", kind, index);
    tml_test_record(status_ok & tml_test_compare_f32_exact(label, c->exp, c->act, c->n_out), label);
    free(c->in);
    free(c->f);
    free(c->bias);
    free(c->exp);
    free(c->act);
}

static void test_conv(tml_rng *r, int index)
{
    geom g;
    random_geom(r, &g, 0);
    const int32_t fc = g.c / g.groups;
    const size_t n_in = (size_t)g.n * g.h * g.w * g.c, n_f = (size_t)g.oc * g.kh * g.kw * fc;
    const size_t n_out = (size_t)g.n * g.oh * g.ow * g.oc;
    conv_buffers c;
    conv_buffers_init(r, &c, n_in, n_f, g.oc, n_out);
    tml_conv_f32_params p = {g.sh, g.sw, g.dh, g.dw, g.ph, g.pw, 0.0f, 0.0f};
    random_act(r, &p.activation_min, &p.activation_max);
    const int32_t per_group = g.oc / g.groups;
    size_t o = 0;
    for (int32_t b = 0; b < g.n; b++) {
        for (int32_t y = 0; y < g.oh; y++) {
            for (int32_t x = 0; x < g.ow; x++) {
                for (int32_t oc = 0; oc < g.oc; oc++, o++) {
                    float total = 0.0f;
                    for (int32_t ky = 0; ky < g.kh; ky++) {
                        for (int32_t kx = 0; kx < g.kw; kx++) {
                            const int32_t iy = y * g.sh - g.ph + ky * g.dh, ix = x * g.sw - g.pw + kx * g.dw;
                            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
                                continue;
                            }
                            for (int32_t i = 0; i < fc; i++) {
                                total += c.in[((b * g.h + iy) * g.w + ix) * g.c + (oc / per_group) * fc + i] *
                                         c.f[((oc * g.kh + ky) * g.kw + kx) * fc + i];
                            }
                        }
                    }
                    c.exp[o] = clampf(total + (c.has_bias ? c.bias[oc] : 0.0f), p.activation_min, p.activation_max);
                }
            }
        }
    }
    tml_dims in_d = {g.n, g.h, g.w, g.c}, f_d = {g.oc, g.kh, g.kw, fc}, out_d = {g.n, g.oh, g.ow, g.oc};
    const int ok = TML_CHECK(
        tml_conv_f32(&p, &in_d, c.in, &f_d, c.f, c.has_bias ? c.bias : NULL, &out_d, c.act) == TML_OK, "conv");
    conv_buffers_finish(&c, ok, "conv_f32", index);
}

static void test_depthwise(tml_rng *r, int index)
{
    geom g;
    random_geom(r, &g, 1);
    const size_t n_in = (size_t)g.n * g.h * g.w * g.c, n_f = (size_t)g.kh * g.kw * g.oc;
    const size_t n_out = (size_t)g.n * g.oh * g.ow * g.oc;
    conv_buffers c;
    conv_buffers_init(r, &c, n_in, n_f, g.oc, n_out);
    tml_depthwise_conv_f32_params p = {g.sh, g.sw, g.dh, g.dw, g.ph, g.pw, g.mult, 0.0f, 0.0f};
    random_act(r, &p.activation_min, &p.activation_max);
    size_t o = 0;
    for (int32_t b = 0; b < g.n; b++) {
        for (int32_t y = 0; y < g.oh; y++) {
            for (int32_t x = 0; x < g.ow; x++) {
                for (int32_t oc = 0; oc < g.oc; oc++, o++) {
                    float total = 0.0f;
                    for (int32_t ky = 0; ky < g.kh; ky++) {
                        for (int32_t kx = 0; kx < g.kw; kx++) {
                            const int32_t iy = y * g.sh - g.ph + ky * g.dh, ix = x * g.sw - g.pw + kx * g.dw;
                            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
                                total += c.in[((b * g.h + iy) * g.w + ix) * g.c + oc / g.mult] *
                                         c.f[(ky * g.kw + kx) * g.oc + oc];
                            }
                        }
                    }
                    c.exp[o] = clampf(total + (c.has_bias ? c.bias[oc] : 0.0f), p.activation_min, p.activation_max);
                }
            }
        }
    }
    tml_dims in_d = {g.n, g.h, g.w, g.c}, f_d = {1, g.kh, g.kw, g.oc}, out_d = {g.n, g.oh, g.ow, g.oc};
    const int ok = TML_CHECK(
        tml_depthwise_conv_f32(&p, &in_d, c.in, &f_d, c.f, c.has_bias ? c.bias : NULL, &out_d, c.act) == TML_OK,
        "dw");
    conv_buffers_finish(&c, ok, "depthwise_f32", index);
}

static void test_fc(tml_rng *r, int index)
{
    const int32_t batches = tml_rng_range(r, 1, 3), depth = tml_rng_range(r, 1, 70), units = tml_rng_range(r, 1, 20);
    float *in = (float *)malloc((size_t)batches * depth * 4), *w = (float *)malloc((size_t)units * depth * 4);
    float *bias = (float *)malloc((size_t)units * 4);
    float *exp = (float *)malloc((size_t)batches * units * 4), *act = (float *)malloc((size_t)batches * units * 4);
    tml_rng_fill_f32(r, in, (size_t)batches * depth, -3.0f, 3.0f);
    tml_rng_fill_f32(r, w, (size_t)units * depth, -1.0f, 1.0f);
    tml_rng_fill_f32(r, bias, (size_t)units, -1.0f, 1.0f);
    const int has_bias = tml_rng_range(r, 0, 3) != 0;
    tml_fully_connected_f32_params p;
    random_act(r, &p.activation_min, &p.activation_max);
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t u = 0; u < units; u++) {
            float total = 0.0f;
            for (int32_t d = 0; d < depth; d++) {
                total += in[b * depth + d] * w[u * depth + d];
            }
            exp[b * units + u] = clampf(total + (has_bias ? bias[u] : 0.0f), p.activation_min, p.activation_max);
        }
    }
    int ok = TML_CHECK(tml_fully_connected_f32(&p, batches, depth, units, in, w, has_bias ? bias : NULL, act) == TML_OK,
                       "fc");
    char label[64];
    snprintf(label, sizeof(label), "fc_f32 case %d", index);
    ok &= tml_test_compare_f32_exact(label, exp, act, (size_t)batches * units);
    tml_test_record(ok, label);
    free(in);
    free(w);
    free(bias);
    free(exp);
    free(act);
}

static void test_pool(tml_rng *r, int index)
{
    geom g;
    random_geom(r, &g, 1);
    /* pooling has no dilation */
    g.dh = g.dw = 1;
    tml_ref_window_2d(&g.same, g.h, g.w, g.kh, g.kw, g.sh, g.sw, 1, 1, &g.oh, &g.ow, &g.ph, &g.pw);
    const size_t n_in = (size_t)g.n * g.h * g.w * g.c, n_out = (size_t)g.n * g.oh * g.ow * g.c;
    float *in = (float *)malloc(n_in * 4), *exp_avg = (float *)malloc(n_out * 4), *exp_max = (float *)malloc(n_out * 4);
    float *act = (float *)malloc(n_out * 4);
    tml_rng_fill_f32(r, in, n_in, -5.0f, 5.0f);
    tml_pool_f32_params p = {g.sh, g.sw, g.kh, g.kw, g.ph, g.pw, 0.0f, 0.0f};
    random_act(r, &p.activation_min, &p.activation_max);
    size_t o = 0;
    for (int32_t b = 0; b < g.n; b++) {
        for (int32_t y = 0; y < g.oh; y++) {
            for (int32_t x = 0; x < g.ow; x++) {
                for (int32_t c = 0; c < g.c; c++, o++) {
                    float total = 0.0f, count = 0.0f, mx = -FLT_MAX;
                    for (int32_t fy = 0; fy < g.kh; fy++) {
                        for (int32_t fx = 0; fx < g.kw; fx++) {
                            const int32_t iy = y * g.sh - g.ph + fy, ix = x * g.sw - g.pw + fx;
                            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
                                const float v = in[((b * g.h + iy) * g.w + ix) * g.c + c];
                                total += v;
                                count += 1.0f;
                                mx = v > mx ? v : mx;
                            }
                        }
                    }
                    exp_avg[o] = clampf(total / count, p.activation_min, p.activation_max);
                    exp_max[o] = clampf(mx, p.activation_min, p.activation_max);
                }
            }
        }
    }
    tml_dims in_d = {g.n, g.h, g.w, g.c}, out_d = {g.n, g.oh, g.ow, g.c};
    char label[64];
    snprintf(label, sizeof(label), "pool_f32 case %d", index);
    int ok = TML_CHECK(tml_avg_pool_f32(&p, &in_d, in, &out_d, act) == TML_OK, "avg");
    ok &= tml_test_compare_f32_exact(label, exp_avg, act, n_out);
    ok &= TML_CHECK(tml_max_pool_f32(&p, &in_d, in, &out_d, act) == TML_OK, "max");
    ok &= tml_test_compare_f32_exact(label, exp_max, act, n_out);
    tml_test_record(ok, label);
    free(in);
    free(exp_avg);
    free(exp_max);
    free(act);
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0008u);
    for (int i = 0; i < 600; i++) {
        test_conv(&r, i);
        test_depthwise(&r, i);
        test_fc(&r, i);
        test_pool(&r, i);
    }
    tml_conv_f32_params bad = {0, 1, 1, 1, 0, 0, 0.0f, 1.0f};
    tml_dims d = {1, 1, 1, 1};
    float x = 0.0f, y;
    tml_test_record(TML_CHECK(tml_conv_f32(&bad, &d, &x, &d, &x, NULL, &d, &y) == TML_ERROR_ARGUMENT, "stride 0"),
                    "float argument checks");
    return TML_TEST_SUMMARY("test_float");
}
