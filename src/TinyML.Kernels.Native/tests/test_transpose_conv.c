/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_transpose_conv.c: tml_transpose_conv_s8, tml_transpose_conv_s16 and tml_transpose_conv_f32 against a naive reference written here
 * in gather form (every output element sums over the input pixels and channels whose taps land on it, in the
 * order iy, ix, ic: the order in which TFLM's scatter reaches one output element, so float sums match bit for bit).
 * Randomized sweep: batch 1..2, channels 1..9, kernels 1..4, strides 1..3, any padding and output size, per-channel
 * and per-tensor scales, optional bias, clamps; plus argument checks and the scratch size.
 */
#include <stdlib.h>
#include <string.h>

#include "tml_kernels.h"
#include "ref_s16x8.h"
#include "tml_test.h"

typedef struct {
    int32_t n, h, w, c, oc, kh, kw, sh, sw, ph, pw, oh, ow;
    int32_t in_zp, out_zp, act_min, act_max;
    int has_bias;
} tc_case;

/* The kernel tap (ky, kx) that carries input (iy, ix) to output (oy, ox), or 0 when none does. */
static int tap(const tc_case *k, int32_t oy, int32_t ox, int32_t iy, int32_t ix, int32_t *ky, int32_t *kx)
{
    *ky = oy - (iy * k->sh - k->ph);
    *kx = ox - (ix * k->sw - k->pw);
    return *ky >= 0 && *ky < k->kh && *kx >= 0 && *kx < k->kw;
}

static void ref_s8(const tc_case *k, const int8_t *in, const int8_t *f, const int32_t *bias, const int32_t *mult,
                   const int32_t *shift, int8_t *out)
{
    for (int32_t b = 0; b < k->n; b++)
        for (int32_t oy = 0; oy < k->oh; oy++)
            for (int32_t ox = 0; ox < k->ow; ox++)
                for (int32_t o = 0; o < k->oc; o++) {
                    int64_t acc = 0;
                    for (int32_t iy = 0; iy < k->h; iy++)
                        for (int32_t ix = 0; ix < k->w; ix++) {
                            int32_t ky, kx;
                            if (!tap(k, oy, ox, iy, ix, &ky, &kx)) {
                                continue;
                            }
                            for (int32_t ic = 0; ic < k->c; ic++) {
                                acc += (int64_t)(in[((b * k->h + iy) * k->w + ix) * k->c + ic] - k->in_zp) *
                                       f[((o * k->kh + ky) * k->kw + kx) * k->c + ic];
                            }
                        }
                    if (k->has_bias) {
                        acc += bias[o];
                    }
                    int32_t v = tml_ref_mbqm(tml_ref_wrap32(acc), mult[o], shift[o]) + k->out_zp;
                    out[((b * k->oh + oy) * k->ow + ox) * k->oc + o] = (int8_t)tml_ref_clamp(v, k->act_min, k->act_max);
                }
}

static void ref_s16(const tc_case *k, const int16_t *in, const int8_t *f, const int64_t *bias, const int32_t *mult,
                    const int32_t *shift, int16_t *out)
{
    for (int32_t b = 0; b < k->n; b++)
        for (int32_t oy = 0; oy < k->oh; oy++)
            for (int32_t ox = 0; ox < k->ow; ox++)
                for (int32_t o = 0; o < k->oc; o++) {
                    int64_t acc = 0;
                    for (int32_t iy = 0; iy < k->h; iy++)
                        for (int32_t ix = 0; ix < k->w; ix++) {
                            int32_t ky, kx;
                            if (!tap(k, oy, ox, iy, ix, &ky, &kx)) {
                                continue;
                            }
                            for (int32_t ic = 0; ic < k->c; ic++) {
                                acc += (int64_t)in[((b * k->h + iy) * k->w + ix) * k->c + ic] *
                                       f[((o * k->kh + ky) * k->kw + kx) * k->c + ic];
                            }
                        }
                    if (k->has_bias) {
                        acc += bias[o];
                    }
                    const int32_t v = tml_ref_requantize_i64(acc, mult[o], shift[o]);
                    out[((b * k->oh + oy) * k->ow + ox) * k->oc + o] = (int16_t)tml_ref_clamp(v, -32768, 32767);
                }
}

static void ref_f32(const tc_case *k, const float *in, const float *f, const float *bias, float lo, float hi, float *out)
{
    for (int32_t b = 0; b < k->n; b++)
        for (int32_t oy = 0; oy < k->oh; oy++)
            for (int32_t ox = 0; ox < k->ow; ox++)
                for (int32_t o = 0; o < k->oc; o++) {
                    float acc = 0.0f;
                    for (int32_t iy = 0; iy < k->h; iy++)
                        for (int32_t ix = 0; ix < k->w; ix++) {
                            int32_t ky, kx;
                            if (!tap(k, oy, ox, iy, ix, &ky, &kx)) {
                                continue;
                            }
                            for (int32_t ic = 0; ic < k->c; ic++) {
                                acc += in[((b * k->h + iy) * k->w + ix) * k->c + ic] *
                                       f[((o * k->kh + ky) * k->kw + kx) * k->c + ic];
                            }
                        }
                    if (bias != NULL) {
                        acc += bias[o];
                    }
                    acc = acc < lo ? lo : acc;
                    out[((b * k->oh + oy) * k->ow + ox) * k->oc + o] = acc > hi ? hi : acc;
                }
}

static tc_case random_case(tml_rng *r)
{
    tc_case k;
    k.n = tml_rng_range(r, 1, 2);
    k.h = tml_rng_range(r, 1, 5);
    k.w = tml_rng_range(r, 1, 5);
    k.c = tml_rng_range(r, 1, 9);
    k.oc = tml_rng_range(r, 1, 9);
    k.kh = tml_rng_range(r, 1, 4);
    k.kw = tml_rng_range(r, 1, 4);
    k.sh = tml_rng_range(r, 1, 3);
    k.sw = tml_rng_range(r, 1, 3);
    k.oh = tml_rng_range(r, 1, k.h * k.sh + 3);
    k.ow = tml_rng_range(r, 1, k.w * k.sw + 3);
    k.ph = tml_rng_range(r, 0, 2);
    k.pw = tml_rng_range(r, 0, 2);
    k.in_zp = tml_rng_range(r, -20, 20);
    k.out_zp = tml_rng_range(r, -30, 30);
    k.act_min = tml_rng_range(r, 0, 3) == 0 ? tml_rng_range(r, -128, 0) : -128;
    k.act_max = tml_rng_range(r, 0, 3) == 0 ? tml_rng_range(r, k.act_min, 127) : 127;
    k.has_bias = tml_rng_range(r, 0, 2) != 0;
    return k;
}

static int run_case(tml_rng *r, int index)
{
    const tc_case k = random_case(r);
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c, n_f = (size_t)k.oc * k.kh * k.kw * k.c;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * k.oc;
    int8_t *in = malloc(n_in), *f = malloc(n_f), *expected = malloc(n_out), *actual = malloc(n_out);
    int32_t *bias = malloc(sizeof(int32_t) * k.oc), *mult = malloc(sizeof(int32_t) * k.oc);
    int32_t *shift = malloc(sizeof(int32_t) * k.oc), *scratch = malloc(sizeof(int32_t) * n_out);
    float *fin = malloc(sizeof(float) * n_in), *ff = malloc(sizeof(float) * n_f), *fbias = malloc(sizeof(float) * k.oc);
    float *fexp = malloc(sizeof(float) * n_out), *fact = malloc(sizeof(float) * n_out);
    tml_rng_fill_s8(r, in, n_in, 5);
    tml_rng_fill_s8(r, f, n_f, 5);
    tml_rng_fill_s32(r, bias, (size_t)k.oc, -4000, 4000);
    tml_rng_fill_f32(r, fin, n_in, -2.0f, 2.0f);
    tml_rng_fill_f32(r, ff, n_f, -1.0f, 1.0f);
    tml_rng_fill_f32(r, fbias, (size_t)k.oc, -1.0f, 1.0f);
    const int per_channel = tml_rng_range(r, 0, 1);
    const double s_in = tml_rng_double(r, 0.01, 0.1), s_out = tml_rng_double(r, 0.05, 1.0);
    const double s_w0 = tml_rng_double(r, 0.002, 0.05);
    for (int32_t o = 0; o < k.oc; o++) {
        tml_test_quantize_multiplier(s_in * (per_channel ? tml_rng_double(r, 0.002, 0.05) : s_w0) / s_out, &mult[o],
                                     &shift[o]);
    }
    ref_s8(&k, in, f, bias, mult, shift, expected);

    tml_transpose_conv_params p = {-k.in_zp, k.out_zp, k.sh, k.sw, k.ph, k.pw, k.act_min, k.act_max};
    tml_per_channel_quant q = {mult, shift};
    tml_dims in_d = {k.n, k.h, k.w, k.c}, f_d = {k.oc, k.kh, k.kw, k.c}, out_d = {k.n, k.oh, k.ow, k.oc};
    int ok = TML_CHECK(tml_transpose_conv_s8_get_buffer_size(&out_d) == (int32_t)(4 * n_out), "buffer size");
    memset(actual, 0x5A, n_out);
    memset(scratch, 0x5A, sizeof(int32_t) * n_out); /* the kernel must clear its accumulators */
    tml_status st = tml_transpose_conv_s8(&p, &q, &in_d, in, &f_d, f, k.has_bias ? bias : NULL, &out_d, actual, scratch);
    ok &= TML_CHECK(st == TML_OK, "status %d", (int)st);
    char label[256];
    snprintf(label, sizeof(label), "transpose conv case %d: in %dx%dx%dx%d f %dx%dx%d s %d,%d pad %d,%d out %dx%d bias %d",
             index, k.n, k.h, k.w, k.c, k.oc, k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, k.oh, k.ow, k.has_bias);
    ok &= tml_test_compare_s8(label, expected, actual, n_out);

    const float lo = tml_rng_range(r, 0, 1) ? 0.0f : -3.4028235e38f, hi = tml_rng_range(r, 0, 1) ? 6.0f : 3.4028235e38f;
    tml_transpose_conv_f32_params pf = {k.sh, k.sw, k.ph, k.pw, lo, hi};
    ref_f32(&k, fin, ff, k.has_bias ? fbias : NULL, lo, hi, fexp);
    memset(fact, 0x5A, sizeof(float) * n_out);
    st = tml_transpose_conv_f32(&pf, &in_d, fin, &f_d, ff, k.has_bias ? fbias : NULL, &out_d, fact);
    ok &= TML_CHECK(st == TML_OK, "f32 status %d", (int)st);
    ok &= tml_test_compare_f32_exact(label, fexp, fact, n_out);
    tml_test_record(ok, label);
    free(in); free(f); free(expected); free(actual); free(bias); free(mult); free(shift); free(scratch);
    free(fin); free(ff); free(fbias); free(fexp); free(fact);
    return ok;
}

/* One random 16x8 case: int16 input over the whole range, int64 bias up to 2^34. */
static int run_case_s16(tml_rng *r, int index)
{
    const tc_case k = random_case(r);
    const size_t n_in = (size_t)k.n * k.h * k.w * k.c, n_f = (size_t)k.oc * k.kh * k.kw * k.c;
    const size_t n_out = (size_t)k.n * k.oh * k.ow * k.oc;
    int16_t *in = malloc(sizeof(int16_t) * n_in), *expected = malloc(sizeof(int16_t) * n_out);
    int16_t *actual = malloc(sizeof(int16_t) * n_out);
    int8_t *f = malloc(n_f);
    int64_t *bias = malloc(sizeof(int64_t) * k.oc), *scratch = malloc(sizeof(int64_t) * n_out);
    int32_t *mult = malloc(sizeof(int32_t) * k.oc), *shift = malloc(sizeof(int32_t) * k.oc);
    for (size_t i = 0; i < n_in; i++) {
        in[i] = (int16_t)tml_rng_range(r, -32768, 32767);
    }
    tml_rng_fill_s8(r, f, n_f, 5);
    for (int32_t o = 0; o < k.oc; o++) {
        bias[o] = (int64_t)tml_rng_range(r, -(1 << 30), 1 << 30) * tml_rng_range(r, 1, 16);
    }
    const double s_in = tml_rng_double(r, 0.0001, 0.003), s_out = tml_rng_double(r, 0.0005, 0.05);
    for (int32_t o = 0; o < k.oc; o++) {
        tml_test_quantize_multiplier(s_in * tml_rng_double(r, 0.002, 0.05) / s_out, &mult[o], &shift[o]);
    }
    ref_s16(&k, in, f, bias, mult, shift, expected);
    tml_transpose_conv_params p = {0, 0, k.sh, k.sw, k.ph, k.pw, -32768, 32767};
    tml_per_channel_quant q = {mult, shift};
    tml_dims in_d = {k.n, k.h, k.w, k.c}, f_d = {k.oc, k.kh, k.kw, k.c}, out_d = {k.n, k.oh, k.ow, k.oc};
    int ok = TML_CHECK(tml_transpose_conv_s16_get_buffer_size(&out_d) == (int32_t)(8 * n_out), "s16 buffer size");
    memset(actual, 0x5A, sizeof(int16_t) * n_out);
    memset(scratch, 0x5A, sizeof(int64_t) * n_out);
    tml_status st = tml_transpose_conv_s16(&p, &q, &in_d, in, &f_d, f, k.has_bias ? bias : NULL, &out_d, actual, scratch);
    ok &= TML_CHECK(st == TML_OK, "s16 status %d", (int)st);
    char label[256];
    snprintf(label, sizeof(label), "transpose conv s16 case %d: in %dx%dx%dx%d f %dx%dx%d s %d,%d pad %d,%d out %dx%d bias %d",
             index, k.n, k.h, k.w, k.c, k.oc, k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, k.oh, k.ow, k.has_bias);
    ok &= tml_test_compare_s16(label, expected, actual, n_out);
    tml_test_record(ok, label);
    free(in); free(expected); free(actual); free(f); free(bias); free(scratch); free(mult); free(shift);
    return ok;
}

static void argument_cases(void)
{
    int8_t in[4] = {0}, f[4] = {0}, out[16];
    int32_t m = 1 << 30, s = 0, scratch[16];
    float fin[4] = {0}, ff[4] = {0}, fout[16];
    tml_per_channel_quant q = {&m, &s};
    tml_transpose_conv_params p = {0, 0, 2, 2, 0, 0, -128, 127};
    tml_transpose_conv_f32_params pf = {2, 2, 0, 0, -1.0f, 1.0f};
    tml_dims in_d = {1, 2, 2, 1}, f_d = {1, 2, 2, 1}, out_d = {1, 4, 4, 1}, bad_c = {1, 4, 4, 2};
    int ok = TML_CHECK(tml_transpose_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, out, scratch) == TML_OK, "valid");
    ok &= TML_CHECK(tml_transpose_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, out, NULL) == TML_ERROR_ARGUMENT,
                    "NULL scratch");
    ok &= TML_CHECK(tml_transpose_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &bad_c, out, scratch) == TML_ERROR_ARGUMENT,
                    "output channels other than the filter's");
    ok &= TML_CHECK(tml_transpose_conv_f32(&pf, &in_d, fin, &f_d, ff, NULL, &bad_c, fout) == TML_ERROR_ARGUMENT,
                    "f32 output channels");
    p.stride_h = 0;
    ok &= TML_CHECK(tml_transpose_conv_s8(&p, &q, &in_d, in, &f_d, f, NULL, &out_d, out, scratch) == TML_ERROR_ARGUMENT,
                    "stride 0");
    ok &= TML_CHECK(tml_transpose_conv_s8_get_buffer_size(&out_d) == 64, "buffer size 4 x 16");
    ok &= TML_CHECK(tml_transpose_conv_s8_get_buffer_size_for(-1, &out_d) == -1, "unknown core");
    ok &= TML_CHECK(tml_transpose_conv_s8_get_buffer_size(NULL) == -1, "NULL dims");
    int16_t in16[4] = {0}, out16[16];
    int64_t scratch64[16];
    tml_transpose_conv_params p16 = {0, 0, 2, 2, 0, 0, -32768, 32767};
    ok &= TML_CHECK(tml_transpose_conv_s16(&p16, &q, &in_d, in16, &f_d, f, NULL, &out_d, out16, scratch64) == TML_OK,
                    "s16 valid");
    p16.input_offset = 1;
    ok &= TML_CHECK(tml_transpose_conv_s16(&p16, &q, &in_d, in16, &f_d, f, NULL, &out_d, out16, scratch64) ==
                        TML_ERROR_ARGUMENT, "s16 input offset");
    p16.input_offset = 0;
    p16.output_offset = -1;
    ok &= TML_CHECK(tml_transpose_conv_s16(&p16, &q, &in_d, in16, &f_d, f, NULL, &out_d, out16, scratch64) ==
                        TML_ERROR_ARGUMENT, "s16 output offset");
    p16.output_offset = 0;
    s = 8; /* the 64-bit requantization shifts right by 15 - shift: TFLM bounds shift to 7 */
    ok &= TML_CHECK(tml_transpose_conv_s16(&p16, &q, &in_d, in16, &f_d, f, NULL, &out_d, out16, scratch64) ==
                        TML_ERROR_ARGUMENT, "s16 shift 8");
    s = 0;
    ok &= TML_CHECK(tml_transpose_conv_s16_get_buffer_size(&out_d) == 128, "s16 buffer size 8 x 16");
    ok &= TML_CHECK(tml_transpose_conv_s16_get_buffer_size_for(TML_CORES, &out_d) == -1, "s16 unknown core");
    tml_test_record(ok, "transpose conv arguments");
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE7C01u);
    argument_cases();
    for (int i = 0; i < 1000; i++) {
        run_case(&r, i);
    }
    for (int i = 0; i < 500; i++) {
        run_case_s16(&r, i);
    }
    return TML_TEST_SUMMARY("test_transpose_conv");
}
