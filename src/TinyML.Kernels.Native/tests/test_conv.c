/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_conv.c: tml_conv_s8 against a naive loop-nest reference written here (TFLM ConvPerChannel semantics).
 * Randomized sweep: batch 1..3, odd channel counts, strides 1..3, dilation 1..3, SAME/VALID padding computed
 * like TFLM's ComputePadding, grouped filters, per-channel and per-tensor scales, multipliers > 1, flushed
 * multipliers, optional bias, activation clamps and saturated inputs. 16x8 (tml_conv_s16, tml_conv_s16_bias32):
 * the same geometry with int16 data and an int64, int32 or no bias against ref_conv_s16.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"
#include "ref_s16x8.h"

typedef struct {
    int32_t n, h, w, c;        /* input */
    int32_t oc, kh, kw, groups;
    int32_t sh, sw, dh, dw;
    int same;
    int32_t ph, pw, oh, ow;
    int32_t in_zp, out_zp, act_min, act_max;
    int has_bias;
} conv_case;

/* Naive reference: every output, every tap, explicit bounds test. */
static void ref_conv(const conv_case *k, const int8_t *in, const int8_t *f, const int32_t *bias, const int32_t *mult,
                     const int32_t *shift, int8_t *out)
{
    const int32_t fc = k->c / k->groups;
    const int32_t per_group = k->oc / k->groups;
    for (int32_t b = 0; b < k->n; b++) {
        for (int32_t y = 0; y < k->oh; y++) {
            for (int32_t x = 0; x < k->ow; x++) {
                for (int32_t o = 0; o < k->oc; o++) {
                    const int32_t g = o / per_group;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k->kh; ky++) {
                        for (int32_t kx = 0; kx < k->kw; kx++) {
                            const int32_t iy = y * k->sh - k->ph + ky * k->dh;
                            const int32_t ix = x * k->sw - k->pw + kx * k->dw;
                            if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) {
                                continue;
                            }
                            for (int32_t i = 0; i < fc; i++) {
                                const int32_t iv = in[((b * k->h + iy) * k->w + ix) * k->c + g * fc + i];
                                const int32_t fv = f[((o * k->kh + ky) * k->kw + kx) * fc + i];
                                acc += (int64_t)fv * (iv - k->in_zp);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[o];
                    }
                    int32_t v = tml_ref_mbqm(tml_ref_wrap32(acc), mult[o], shift[o]) + k->out_zp;
                    out[((b * k->oh + y) * k->ow + x) * k->oc + o] = (int8_t)tml_ref_clamp(v, k->act_min, k->act_max);
                }
            }
        }
    }
}

static const int32_t k_channel_choices[] = {1, 3, 7, 17, 2, 4, 8};

static int32_t pick_channels(tml_rng *r)
{
    return k_channel_choices[tml_rng_range(r, 0, (int32_t)(sizeof(k_channel_choices) / sizeof(k_channel_choices[0])) - 1)];
}

/* Random geometry: batch, odd channel counts, groups, kernel, strides, dilations, SAME/VALID. */
static void random_geometry(tml_rng *r, conv_case *k_out)
{
    conv_case k;
    memset(&k, 0, sizeof(k));
    k.n = tml_rng_range(r, 1, 3);
    k.c = pick_channels(r);
    k.groups = 1;
    if (tml_rng_range(r, 0, 9) == 0) {
        /* grouped convolution: filter input depth = c / groups */
        k.groups = tml_rng_range(r, 2, 3);
        k.c *= k.groups;
    }
    k.oc = pick_channels(r) * k.groups;
    k.kh = tml_rng_range(r, 1, 4);
    k.kw = tml_rng_range(r, 1, 4);
    k.sh = tml_rng_range(r, 1, 3);
    k.sw = tml_rng_range(r, 1, 3);
    k.dh = tml_rng_range(r, 0, 2) == 0 ? tml_rng_range(r, 2, 3) : 1;
    k.dw = tml_rng_range(r, 0, 2) == 0 ? tml_rng_range(r, 2, 3) : 1;
    k.h = tml_rng_range(r, 1, 10);
    k.w = tml_rng_range(r, 1, 10);
    k.same = tml_rng_range(r, 0, 1);
    /* VALID with a filter larger than the input falls back to SAME. */
    tml_ref_window_2d(&k.same, k.h, k.w, k.kh, k.kw, k.sh, k.sw, k.dh, k.dw, &k.oh, &k.ow, &k.ph, &k.pw);
    *k_out = k;
}

static int run_case(tml_rng *r, int index)
{
    conv_case k;
    random_geometry(r, &k);
    k.in_zp = tml_rng_range(r, -128, 127);
    k.out_zp = tml_rng_range(r, -128, 127);
    switch (tml_rng_range(r, 0, 3)) {
    case 0:
        k.act_min = -128;
        k.act_max = 127;
        break;
    case 1: /* RELU-like */
        k.act_min = k.out_zp;
        k.act_max = 127;
        break;
    default: /* RELU6 / arbitrary window */
        k.act_min = tml_rng_range(r, -128, 0);
        k.act_max = tml_rng_range(r, k.act_min, 127);
        break;
    }
    k.has_bias = tml_rng_range(r, 0, 3) != 0;

    const int32_t fc = k.c / k.groups;
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c;
    const size_t n_f = (size_t)k.oc * k.kh * k.kw * fc;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * k.oc;
    int8_t *in = (int8_t *)malloc(n_in);
    int8_t *f = (int8_t *)malloc(n_f);
    int32_t *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)k.oc);
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)k.oc);
    int32_t *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)k.oc);
    int8_t *expected = (int8_t *)malloc(n_out);
    int8_t *actual = (int8_t *)malloc(n_out);

    tml_rng_fill_s8(r, in, n_in, 25);
    tml_rng_fill_s8(r, f, n_f, 10);
    for (size_t i = 0; i < n_f; i++) {
        if (f[i] == -128) {
            f[i] = -127; /* TFLite int8 weights are in [-127, 127] */
        }
    }
    const int big_bias = tml_rng_range(r, 0, 9) == 0;
    tml_rng_fill_s32(r, bias, (size_t)k.oc, big_bias ? -(1 << 24) : -20000, big_bias ? (1 << 24) : 20000);

    /* Scales: effective multiplier = s_in * s_f[o] / s_out, occasionally > 1 or below 2^-31 (flushed to 0). */
    const double s_in = tml_rng_scale(r, -3.0, -1.0);
    const double s_out = tml_rng_scale(r, -2.5, 0.0);
    const int per_tensor = tml_rng_range(r, 0, 4) == 0;
    const int gt_one = tml_rng_range(r, 0, 7) == 0;
    double s_f0 = tml_rng_scale(r, -3.5, -1.5);
    for (int32_t o = 0; o < k.oc; o++) {
        double s_f = per_tensor ? s_f0 : tml_rng_scale(r, -3.5, -1.5);
        double eff = s_in * s_f / s_out;
        if (gt_one) {
            eff = tml_rng_double(r, 1.0, 3.0);
        }
        if (!per_tensor && tml_rng_range(r, 0, 40) == 0) {
            eff = 1e-11; /* QuantizeMultiplier flushes shift < -31 to multiplier 0 */
        }
        tml_test_quantize_multiplier(eff, &mult[o], &shift[o]);
    }

    ref_conv(&k, in, f, k.has_bias ? bias : NULL, mult, shift, expected);

    tml_conv_params p;
    p.input_offset = -k.in_zp;
    p.output_offset = k.out_zp;
    p.stride_h = k.sh;
    p.stride_w = k.sw;
    p.dilation_h = k.dh;
    p.dilation_w = k.dw;
    p.pad_h = k.ph;
    p.pad_w = k.pw;
    p.activation_min = k.act_min;
    p.activation_max = k.act_max;
    tml_per_channel_quant q = {mult, shift};
    tml_dims in_d = {k.n, k.h, k.w, k.c};
    tml_dims f_d = {k.oc, k.kh, k.kw, fc};
    tml_dims out_d = {k.n, k.oh, k.ow, k.oc};
    int ok = TML_CHECK(tml_conv_s8_get_buffer_size(&p, &in_d, &f_d, &out_d) == 0, "buffer size");
    memset(actual, 0x5A, n_out);
    tml_status st = tml_conv_s8(&p, &q, &in_d, in, &f_d, f, k.has_bias ? bias : NULL, &out_d, actual, NULL);
    ok &= TML_CHECK(st == TML_OK, "status %d", (int)st);
    char label[256];
    snprintf(label, sizeof(label),
             "conv case %d: in %dx%dx%dx%d f %dx%dx%dx%d groups %d s %d,%d d %d,%d %s pad %d,%d out %dx%d zp %d/%d "
             "act [%d,%d] bias %d",
             index, k.n, k.h, k.w, k.c, k.oc, k.kh, k.kw, fc, k.groups, k.sh, k.sw, k.dh, k.dw,
             k.same ? "SAME" : "VALID", k.ph, k.pw, k.oh, k.ow, k.in_zp, k.out_zp, k.act_min, k.act_max, k.has_bias);
    ok &= tml_test_compare_s8(label, expected, actual, n_out);
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

/* 16x8 reference: ConvPerChannel<int64_t> (wide bias) or <int32_t> (int32 bias or none: a wrapping int32 sum). */
static void ref_conv_s16(const conv_case *k, const int16_t *in, const int8_t *f, const int64_t *bias64,
                         const int32_t *bias32, const int32_t *mult, const int32_t *shift, int16_t *out)
{
    const int32_t fc = k->c / k->groups;
    const int32_t per_group = k->oc / k->groups;
    for (int32_t b = 0; b < k->n; b++) {
        for (int32_t y = 0; y < k->oh; y++) {
            for (int32_t x = 0; x < k->ow; x++) {
                for (int32_t o = 0; o < k->oc; o++) {
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < k->kh; ky++) {
                        for (int32_t kx = 0; kx < k->kw; kx++) {
                            const int32_t iy = y * k->sh - k->ph + ky * k->dh;
                            const int32_t ix = x * k->sw - k->pw + kx * k->dw;
                            if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) {
                                continue;
                            }
                            for (int32_t i = 0; i < fc; i++) {
                                acc += (int64_t)f[((o * k->kh + ky) * k->kw + kx) * fc + i] *
                                       in[((b * k->h + iy) * k->w + ix) * k->c + (o / per_group) * fc + i];
                            }
                        }
                    }
                    const int32_t v = bias64 != NULL
                                          ? tml_ref_requantize_i64(acc + bias64[o], mult[o], shift[o])
                                          : tml_ref_requantize(tml_ref_wrap32(acc + (bias32 != NULL ? bias32[o] : 0)),
                                                               mult[o], shift[o]);
                    out[((b * k->oh + y) * k->ow + x) * k->oc + o] = (int16_t)tml_ref_clamp(v, k->act_min, k->act_max);
                }
            }
        }
    }
}

/* One random 16x8 case: bias int64, int32 or none (tml_conv_s16 / tml_conv_s16_bias32). */
static void run_case_s16(tml_rng *r, int index)
{
    conv_case k;
    random_geometry(r, &k);
    tml_rng_act_range_s16(r, &k.act_min, &k.act_max);
    const int bias_kind = tml_rng_range(r, 0, 2); /* 0: int64, 1: int32, 2: none */
    const int32_t fc = k.c / k.groups;
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c;
    const size_t n_f = (size_t)k.oc * k.kh * k.kw * fc;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * k.oc;
    int16_t *in = (int16_t *)malloc(sizeof(int16_t) * n_in);
    int8_t *f = (int8_t *)malloc(n_f);
    int64_t *bias64 = (int64_t *)malloc(sizeof(int64_t) * (size_t)k.oc);
    int32_t *bias32 = (int32_t *)malloc(sizeof(int32_t) * (size_t)k.oc);
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)k.oc);
    int32_t *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)k.oc);
    int16_t *expected = (int16_t *)malloc(sizeof(int16_t) * n_out);
    int16_t *actual = (int16_t *)malloc(sizeof(int16_t) * n_out);
    tml_rng_fill_s16(r, in, n_in, 10);
    tml_rng_fill_s8(r, f, n_f, 10);
    for (size_t i = 0; i < n_f; i++) {
        f[i] = f[i] == -128 ? -127 : f[i];
    }
    for (int32_t o = 0; o < k.oc; o++) {
        /* int64 biases beyond the int32 range, as 16x8 models have them. */
        bias64[o] = (int64_t)tml_rng_range(r, -(1 << 30), 1 << 30) * tml_rng_range(r, 1, 8);
        bias32[o] = tml_rng_range(r, -(1 << 24), 1 << 24);
    }
    tml_rng_multipliers_s16(r, k.oc, mult, shift);
    const int64_t *b64 = bias_kind == 0 ? bias64 : NULL;
    const int32_t *b32 = bias_kind == 1 ? bias32 : NULL;
    ref_conv_s16(&k, in, f, b64, b32, mult, shift, expected);

    tml_conv_params p = {0, 0, k.sh, k.sw, k.dh, k.dw, k.ph, k.pw, k.act_min, k.act_max};
    tml_per_channel_quant q = {mult, shift};
    tml_dims in_d = {k.n, k.h, k.w, k.c};
    tml_dims f_d = {k.oc, k.kh, k.kw, fc};
    tml_dims out_d = {k.n, k.oh, k.ow, k.oc};
    memset(actual, 0x5A, sizeof(int16_t) * n_out);
    tml_status st = bias_kind == 0 ? tml_conv_s16(&p, &q, &in_d, in, &f_d, f, b64, &out_d, actual, NULL)
                                   : tml_conv_s16_bias32(&p, &q, &in_d, in, &f_d, f, b32, &out_d, actual, NULL);
    int ok = TML_CHECK(st == TML_OK, "status %d", (int)st);
    char label[256];
    snprintf(label, sizeof(label),
             "conv s16 case %d: in %dx%dx%dx%d f %dx%dx%dx%d groups %d s %d,%d d %d,%d %s out %dx%d act [%d,%d] bias %s",
             index, k.n, k.h, k.w, k.c, k.oc, k.kh, k.kw, fc, k.groups, k.sh, k.sw, k.dh, k.dw,
             k.same ? "SAME" : "VALID", k.oh, k.ow, k.act_min, k.act_max,
             bias_kind == 0 ? "int64" : bias_kind == 1 ? "int32" : "none");
    ok &= tml_test_compare_s16(label, expected, actual, n_out);
    tml_test_record(ok, label);
    free(in);
    free(f);
    free(bias64);
    free(bias32);
    free(mult);
    free(shift);
    free(expected);
    free(actual);
}

/* 16x8 ties and argument checks: the reduced 16-bit multiplier rounds 0.5 to 2^15 / 2^16 exactly. */
static void fixed_cases_s16(void)
{
    const int16_t in[4] = {-97, 97, -3, 3};
    const int8_t f[1] = {1};
    const int64_t bias64[1] = {0};
    int32_t m, s;
    tml_test_quantize_multiplier(0.5, &m, &s);
    tml_per_channel_quant q = {&m, &s};
    tml_conv_params p = {0, 0, 1, 1, 1, 1, 0, 0, -32768, 32767};
    tml_dims in_d = {1, 2, 2, 1};
    tml_dims f_d = {1, 1, 1, 1};
    int16_t out[4];
    /* int64 path: floor(x / 2 + 1/2), ties up: -48.5 -> -48, 48.5 -> 49, -1.5 -> -1, 1.5 -> 2. */
    const int16_t expected[4] = {-48, 49, -1, 2};
    int ok = TML_CHECK(tml_conv_s16(&p, &q, &in_d, in, &f_d, f, bias64, &in_d, out, NULL) == TML_OK, "status");
    ok &= tml_test_compare_s16("conv s16 ties", expected, out, 4);
    ok &= TML_CHECK(tml_conv_s16(&p, &q, &in_d, in, &f_d, f, NULL, &in_d, out, NULL) == TML_ERROR_ARGUMENT,
                    "int64 path without bias");
    tml_conv_params offset = p;
    offset.output_offset = 1;
    ok &= TML_CHECK(tml_conv_s16_bias32(&offset, &q, &in_d, in, &f_d, f, NULL, &in_d, out, NULL) == TML_ERROR_ARGUMENT,
                    "int16 output offset");
    tml_test_record(ok, "conv s16 fixed ties and argument checks");
}

/* Hand-checked case: 1x1 conv, multiplier exactly 0.5, ties of the double rounding. */
static void fixed_cases(void)
{
    /* input values x with zp 0 and filter 1: acc = x, out = round(x * 0.5) with TFLM's double rounding. */
    const int8_t in[4] = {-97, 97, -3, 3};
    const int8_t f[1] = {1};
    int32_t m, s;
    tml_test_quantize_multiplier(0.5, &m, &s);
    tml_per_channel_quant q = {&m, &s};
    tml_conv_params p = {0, 0, 1, 1, 1, 1, 0, 0, -128, 127};
    tml_dims in_d = {1, 2, 2, 1};
    tml_dims f_d = {1, 1, 1, 1};
    tml_dims out_d = {1, 2, 2, 1};
    int8_t out[4];
    const int8_t expected[4] = {-48, 49, -1, 2}; /* -48.5 -> -48, 48.5 -> 49, -1.5 -> -1, 1.5 -> 2 */
    int ok = TML_CHECK(tml_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, out, NULL) == TML_OK, "status");
    ok &= tml_test_compare_s8("conv fixed ties", expected, out, 4);
    tml_test_record(ok, "conv fixed ties");

    /* Argument checks. */
    ok = TML_CHECK(tml_conv_s8(NULL, &q, &in_d, in, &f_d, f, NULL, &out_d, out, NULL) == TML_ERROR_ARGUMENT, "null");
    tml_conv_params bad = p;
    bad.stride_h = 0;
    ok &= TML_CHECK(tml_conv_s8(&bad, &q, &in_d, in, &f_d, f, NULL, &out_d, out, NULL) == TML_ERROR_ARGUMENT, "stride");
    tml_dims bad_out = {1, 2, 2, 2};
    ok &= TML_CHECK(tml_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &bad_out, out, NULL) == TML_ERROR_ARGUMENT,
                    "out channels");
    ok &= TML_CHECK(tml_conv_s8_get_buffer_size(NULL, &in_d, &f_d, &out_d) == -1, "buffer size null");
    tml_test_record(ok, "conv argument checks");
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0001u);
    fixed_cases();
    for (int i = 0; i < 1500; i++) {
        run_case(&r, i);
    }
    fixed_cases_s16();
    for (int i = 0; i < 600; i++) {
        run_case_s16(&r, i);
    }
    return TML_TEST_SUMMARY("test_conv");
}
