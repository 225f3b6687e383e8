/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_depthwise_conv.c: tml_depthwise_conv_s8 against a naive reference written here (TFLM
 * DepthwiseConvPerChannel semantics). Randomized sweep over depth multiplier 1..3, strides 1..3, dilation
 * 1..3, SAME/VALID, odd channel counts, batches, per-channel scales, multipliers > 1, optional bias,
 * activation clamps and saturated inputs. 16x8 (tml_depthwise_conv_s16): the same geometry with int16 data and
 * an int64 bias or none.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"
#include "ref_s16x8.h"

typedef struct {
    int32_t n, h, w, c, mult;
    int32_t kh, kw, sh, sw, dh, dw;
    int same;
    int32_t ph, pw, oh, ow;
    int32_t in_zp, out_zp, act_min, act_max;
    int has_bias;
} dw_case;

static void ref_dw(const dw_case *k, const int8_t *in, const int8_t *f, const int32_t *bias, const int32_t *mult,
                   const int32_t *shift, int8_t *out)
{
    const int32_t oc_n = k->c * k->mult;
    for (int32_t b = 0; b < k->n; b++) {
        for (int32_t y = 0; y < k->oh; y++) {
            for (int32_t x = 0; x < k->ow; x++) {
                for (int32_t o = 0; o < oc_n; o++) {
                    const int32_t ic = o / k->mult;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k->kh; ky++) {
                        for (int32_t kx = 0; kx < k->kw; kx++) {
                            const int32_t iy = y * k->sh - k->ph + ky * k->dh;
                            const int32_t ix = x * k->sw - k->pw + kx * k->dw;
                            if (iy >= 0 && iy < k->h && ix >= 0 && ix < k->w) {
                                const int32_t iv = in[((b * k->h + iy) * k->w + ix) * k->c + ic];
                                const int32_t fv = f[(ky * k->kw + kx) * oc_n + o];
                                acc += (int64_t)fv * (iv - k->in_zp);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[o];
                    }
                    int32_t v = tml_ref_mbqm(tml_ref_wrap32(acc), mult[o], shift[o]) + k->out_zp;
                    out[((b * k->oh + y) * k->ow + x) * oc_n + o] = (int8_t)tml_ref_clamp(v, k->act_min, k->act_max);
                }
            }
        }
    }
}

static const int32_t k_channels[] = {1, 3, 7, 17, 2, 8};

/* Random geometry: batch, odd channel counts, depth multiplier, kernel, strides, dilations, SAME/VALID. */
static void random_geometry(tml_rng *r, dw_case *k_out)
{
    dw_case k;
    memset(&k, 0, sizeof(k));
    k.n = tml_rng_range(r, 1, 3);
    k.c = k_channels[tml_rng_range(r, 0, 5)];
    k.mult = tml_rng_range(r, 1, 3);
    k.kh = tml_rng_range(r, 1, 4);
    k.kw = tml_rng_range(r, 1, 4);
    k.sh = tml_rng_range(r, 1, 3);
    k.sw = tml_rng_range(r, 1, 3);
    k.dh = tml_rng_range(r, 0, 2) == 0 ? tml_rng_range(r, 2, 3) : 1;
    k.dw = tml_rng_range(r, 0, 2) == 0 ? tml_rng_range(r, 2, 3) : 1;
    k.h = tml_rng_range(r, 1, 11);
    k.w = tml_rng_range(r, 1, 11);
    k.same = tml_rng_range(r, 0, 1);
    tml_ref_window_2d(&k.same, k.h, k.w, k.kh, k.kw, k.sh, k.sw, k.dh, k.dw, &k.oh, &k.ow, &k.ph, &k.pw);
    *k_out = k;
}

static int run_case(tml_rng *r, int index)
{
    dw_case k;
    random_geometry(r, &k);
    k.in_zp = tml_rng_range(r, -128, 127);
    k.out_zp = tml_rng_range(r, -128, 127);
    k.act_min = -128;
    k.act_max = 127;
    if (tml_rng_range(r, 0, 1)) {
        k.act_min = tml_rng_range(r, -128, 20);
        k.act_max = tml_rng_range(r, k.act_min, 127);
    }
    k.has_bias = tml_rng_range(r, 0, 3) != 0;

    const int32_t oc = k.c * k.mult;
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c;
    const size_t n_f = (size_t)k.kh * k.kw * oc;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * oc;
    int8_t *in = (int8_t *)malloc(n_in);
    int8_t *f = (int8_t *)malloc(n_f);
    int32_t *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    int32_t *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    int8_t *expected = (int8_t *)malloc(n_out);
    int8_t *actual = (int8_t *)malloc(n_out);
    tml_rng_fill_s8(r, in, n_in, 25);
    tml_rng_fill_s8(r, f, n_f, 10);
    tml_rng_fill_s32(r, bias, (size_t)oc, -30000, 30000);
    const double s_in = tml_rng_scale(r, -3.0, -1.0);
    const double s_out = tml_rng_scale(r, -2.5, -0.5);
    const int gt_one = tml_rng_range(r, 0, 7) == 0;
    for (int32_t o = 0; o < oc; o++) {
        double eff = s_in * tml_rng_scale(r, -3.0, -1.0) / s_out;
        if (gt_one) {
            eff = tml_rng_double(r, 1.0, 4.0);
        }
        tml_test_quantize_multiplier(eff, &mult[o], &shift[o]);
    }
    ref_dw(&k, in, f, k.has_bias ? bias : NULL, mult, shift, expected);

    tml_depthwise_conv_params p;
    p.input_offset = -k.in_zp;
    p.output_offset = k.out_zp;
    p.stride_h = k.sh;
    p.stride_w = k.sw;
    p.dilation_h = k.dh;
    p.dilation_w = k.dw;
    p.pad_h = k.ph;
    p.pad_w = k.pw;
    p.depth_multiplier = k.mult;
    p.activation_min = k.act_min;
    p.activation_max = k.act_max;
    tml_per_channel_quant q = {mult, shift};
    tml_dims in_d = {k.n, k.h, k.w, k.c};
    tml_dims f_d = {1, k.kh, k.kw, oc};
    tml_dims out_d = {k.n, k.oh, k.ow, oc};
    int ok = TML_CHECK(tml_depthwise_conv_s8_get_buffer_size(&p, &in_d, &f_d, &out_d) == 0, "buffer size");
    memset(actual, 0x5A, n_out);
    tml_status st = tml_depthwise_conv_s8(&p, &q, &in_d, in, &f_d, f, k.has_bias ? bias : NULL, &out_d, actual, NULL);
    ok &= TML_CHECK(st == TML_OK, "status %d", (int)st);
    char label[256];
    snprintf(label, sizeof(label),
             "dw case %d: in %dx%dx%dx%d mult %d k %dx%d s %d,%d d %d,%d %s pad %d,%d out %dx%d zp %d/%d act [%d,%d] "
             "bias %d",
             index, k.n, k.h, k.w, k.c, k.mult, k.kh, k.kw, k.sh, k.sw, k.dh, k.dw, k.same ? "SAME" : "VALID", k.ph,
             k.pw, k.oh, k.ow, k.in_zp, k.out_zp, k.act_min, k.act_max, k.has_bias);
    ok &= tml_test_compare_s8(label, expected, actual, n_out);
    if (k.mult == 1) {
        /* The in-place variant on a copy of the input: the first n_out bytes must equal the reference. */
        int8_t *shared = (int8_t *)malloc(n_in);
        int8_t *plane = (int8_t *)malloc((size_t)k.n * k.h * k.w);
        memcpy(shared, in, n_in);
        ok &= TML_CHECK(tml_depthwise_conv_s8_inplace_get_buffer_size(&p, &in_d, &f_d, &out_d) == k.n * k.h * k.w,
                        "in-place buffer size");
        st = tml_depthwise_conv_s8_inplace(&p, &q, &in_d, shared, &f_d, f, k.has_bias ? bias : NULL, &out_d, shared,
                                           plane);
        ok &= TML_CHECK(st == TML_OK, "in-place status %d", (int)st);
        char inplace_label[300];
        snprintf(inplace_label, sizeof(inplace_label), "%s in place", label);
        ok &= tml_test_compare_s8(inplace_label, expected, shared, n_out);
        free(shared);
        free(plane);
    }
    tml_test_record(ok, label);
    free(in);
    free(f);
    free(bias);
    free(mult);
    free(shift);
    free(expected);
    free(actual);
    return ok;
}

/* 16x8 reference: DepthwiseConvPerChannel for int16 (int64 accumulator and bias). */
static void ref_dw_s16(const dw_case *k, const int16_t *in, const int8_t *f, const int64_t *bias, const int32_t *mult,
                       const int32_t *shift, int16_t *out)
{
    const int32_t oc_n = k->c * k->mult;
    for (int32_t b = 0; b < k->n; b++) {
        for (int32_t y = 0; y < k->oh; y++) {
            for (int32_t x = 0; x < k->ow; x++) {
                for (int32_t o = 0; o < oc_n; o++) {
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k->kh; ky++) {
                        for (int32_t kx = 0; kx < k->kw; kx++) {
                            const int32_t iy = y * k->sh - k->ph + ky * k->dh;
                            const int32_t ix = x * k->sw - k->pw + kx * k->dw;
                            if (iy >= 0 && iy < k->h && ix >= 0 && ix < k->w) {
                                acc += (int64_t)f[(ky * k->kw + kx) * oc_n + o] *
                                       in[((b * k->h + iy) * k->w + ix) * k->c + o / k->mult];
                            }
                        }
                    }
                    const int32_t v = tml_ref_requantize_i64(acc + (bias != NULL ? bias[o] : 0), mult[o], shift[o]);
                    out[((b * k->oh + y) * k->ow + x) * oc_n + o] = (int16_t)tml_ref_clamp(v, k->act_min, k->act_max);
                }
            }
        }
    }
}

static void run_case_s16(tml_rng *r, int index)
{
    dw_case k;
    random_geometry(r, &k);
    tml_rng_act_range_s16(r, &k.act_min, &k.act_max);
    k.has_bias = tml_rng_range(r, 0, 3) != 0;
    const int32_t oc = k.c * k.mult;
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c;
    const size_t n_f = (size_t)k.kh * k.kw * oc;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * oc;
    int16_t *in = (int16_t *)malloc(sizeof(int16_t) * n_in);
    int8_t *f = (int8_t *)malloc(n_f);
    int64_t *bias = (int64_t *)malloc(sizeof(int64_t) * (size_t)oc);
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    int32_t *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)oc);
    int16_t *expected = (int16_t *)malloc(sizeof(int16_t) * n_out);
    int16_t *actual = (int16_t *)malloc(sizeof(int16_t) * n_out);
    tml_rng_fill_s16(r, in, n_in, 10);
    tml_rng_fill_s8(r, f, n_f, 10);
    for (int32_t o = 0; o < oc; o++) {
        bias[o] = (int64_t)tml_rng_range(r, -(1 << 30), 1 << 30) * tml_rng_range(r, 1, 8);
    }
    tml_rng_multipliers_s16(r, oc, mult, shift);
    ref_dw_s16(&k, in, f, k.has_bias ? bias : NULL, mult, shift, expected);
    tml_depthwise_conv_params p = {0, 0, k.sh, k.sw, k.dh, k.dw, k.ph, k.pw, k.mult, k.act_min, k.act_max};
    tml_per_channel_quant q = {mult, shift};
    tml_dims in_d = {k.n, k.h, k.w, k.c};
    tml_dims f_d = {1, k.kh, k.kw, oc};
    tml_dims out_d = {k.n, k.oh, k.ow, oc};
    memset(actual, 0x5A, sizeof(int16_t) * n_out);
    tml_status st = tml_depthwise_conv_s16(&p, &q, &in_d, in, &f_d, f, k.has_bias ? bias : NULL, &out_d, actual, NULL);
    int ok = TML_CHECK(st == TML_OK, "status %d", (int)st);
    char label[256];
    snprintf(label, sizeof(label), "dw s16 case %d: in %dx%dx%dx%d mult %d k %dx%d s %d,%d d %d,%d %s act [%d,%d] bias %d",
             index, k.n, k.h, k.w, k.c, k.mult, k.kh, k.kw, k.sh, k.sw, k.dh, k.dw, k.same ? "SAME" : "VALID",
             k.act_min, k.act_max, k.has_bias);
    ok &= tml_test_compare_s16(label, expected, actual, n_out);
    p.input_offset = 3;
    ok &= TML_CHECK(tml_depthwise_conv_s16(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, actual, NULL) == TML_ERROR_ARGUMENT,
                    "int16 input offset");
    tml_test_record(ok, label);
    free(in);
    free(f);
    free(bias);
    free(mult);
    free(shift);
    free(expected);
    free(actual);
}

static void argument_checks(void)
{
    int32_t m = 1 << 30, s = 0;
    tml_per_channel_quant q = {&m, &s};
    tml_depthwise_conv_params p = {0, 0, 1, 1, 1, 1, 0, 0, 2, -128, 127};
    tml_dims in_d = {1, 2, 2, 1};
    tml_dims f_d = {1, 1, 1, 1}; /* wrong: must be in_c * depth_multiplier = 2 */
    tml_dims out_d = {1, 2, 2, 2};
    int8_t in[4] = {0}, f[2] = {0}, out[8];
    int ok = TML_CHECK(tml_depthwise_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, out, NULL) == TML_ERROR_ARGUMENT,
                       "filter channels");
    p.depth_multiplier = 0;
    ok &= TML_CHECK(tml_depthwise_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, out, NULL) == TML_ERROR_ARGUMENT,
                    "multiplier 0");
    /* In place: multiplier 1 only, input must be the output, scratch required. */
    p.depth_multiplier = 1;
    tml_dims f1_d = {1, 1, 1, 1}, out1_d = {1, 2, 2, 1};
    int8_t plane[4];
    ok &= TML_CHECK(tml_depthwise_conv_s8_inplace(&p, &q, &in_d, in, &f1_d, f, NULL, &out1_d, in, plane) == TML_OK,
                    "in place ok");
    ok &= TML_CHECK(tml_depthwise_conv_s8_inplace(&p, &q, &in_d, in, &f1_d, f, NULL, &out1_d, out, plane) ==
                        TML_ERROR_ARGUMENT, "in place needs input == output");
    ok &= TML_CHECK(tml_depthwise_conv_s8_inplace(&p, &q, &in_d, in, &f1_d, f, NULL, &out1_d, in, NULL) ==
                        TML_ERROR_ARGUMENT, "in place needs scratch");
    p.depth_multiplier = 2;
    ok &= TML_CHECK(tml_depthwise_conv_s8_inplace(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, in, plane) ==
                        TML_ERROR_ARGUMENT, "in place needs multiplier 1");
    tml_test_record(ok, "depthwise argument checks");
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0002u);
    argument_checks();
    for (int i = 0; i < 1500; i++) {
        run_case(&r, i);
    }
    for (int i = 0; i < 600; i++) {
        run_case_s16(&r, i);
    }
    return TML_TEST_SUMMARY("test_depthwise_conv");
}
