/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_float_requant.c: the onnxruntime-rounding kernels (tml_conv_s8_float_requant,
 * tml_depthwise_conv_s8_float_requant, tml_fully_connected_s8_float_requant) against naive loops written here that
 * requantize as MLAS does: float32 accumulator times float32 scale, clamp, libm's nearbyintf (round half to even in
 * the default rounding mode), zero point. Random grouped/dilated/padded shapes, exact ties by construction, and
 * bad arguments.
 */
#include <math.h>
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

static int8_t ref_requant(int32_t acc, float scale, int32_t zp, int32_t lo, int32_t hi)
{
    float v = (float)acc * scale;
    v = fmaxf(v, (float)(lo - zp));
    v = fminf(v, (float)(hi - zp));
    return (int8_t)((int32_t)nearbyintf(v) + zp);
}

/* ONNX Conv on NHWC with groups, zero padding (skipped taps), strides, dilations. */
static void ref_conv(const tml_conv_params *p, const float *scales, const tml_dims *id, const int8_t *in,
                     const tml_dims *fd, const int8_t *w, const int32_t *bias, const tml_dims *od, int8_t *out)
{
    const int32_t groups = id->c / fd->c, per_group = fd->n / groups;
    for (int32_t b = 0; b < id->n; b++)
        for (int32_t oy = 0; oy < od->h; oy++)
            for (int32_t ox = 0; ox < od->w; ox++)
                for (int32_t oc = 0; oc < fd->n; oc++) {
                    int32_t acc = bias ? bias[oc] : 0;
                    for (int32_t ky = 0; ky < fd->h; ky++)
                        for (int32_t kx = 0; kx < fd->w; kx++) {
                            const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dilation_h;
                            const int32_t ix = ox * p->stride_w - p->pad_w + kx * p->dilation_w;
                            if (iy < 0 || iy >= id->h || ix < 0 || ix >= id->w) continue;
                            for (int32_t c = 0; c < fd->c; c++) {
                                const int32_t ic = (oc / per_group) * fd->c + c;
                                acc += w[((oc * fd->h + ky) * fd->w + kx) * fd->c + c] *
                                       (in[((b * id->h + iy) * id->w + ix) * id->c + ic] + p->input_offset);
                            }
                        }
                    out[((b * od->h + oy) * od->w + ox) * od->c + oc] =
                        ref_requant(acc, scales[oc], p->output_offset, p->activation_min, p->activation_max);
                }
}

static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t pad_total)
{
    return (in + pad_total - ((k - 1) * dilation + 1)) / stride + 1;
}

static void fill_scales(tml_rng *r, float *scales, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        scales[i] = tml_rng_float(r, 0.0005f, 0.05f);
    }
}

static int conv_case(tml_rng *r, int index, int depthwise)
{
    const int32_t in_c = tml_rng_range(r, 1, 6);
    const int32_t mult = depthwise ? tml_rng_range(r, 1, 3) : 1;
    const int32_t groups = depthwise ? in_c : (in_c % 2 == 0 && tml_rng_range(r, 0, 2) == 0 ? 2 : 1);
    const int32_t out_c = depthwise ? in_c * mult : groups * tml_rng_range(r, 1, 5);
    const int32_t k = tml_rng_range(r, 1, 4);
    tml_conv_params p = {0};
    p.input_offset = -tml_rng_range(r, -128, 127);
    p.output_offset = tml_rng_range(r, -40, 40);
    p.stride_h = tml_rng_range(r, 1, 2);
    p.stride_w = tml_rng_range(r, 1, 2);
    p.dilation_h = tml_rng_range(r, 1, 2);
    p.dilation_w = tml_rng_range(r, 1, 2);
    p.pad_h = tml_rng_range(r, 0, k - 1);
    p.pad_w = tml_rng_range(r, 0, k - 1);
    p.activation_min = tml_rng_range(r, 0, 1) ? -128 : p.output_offset;
    p.activation_max = tml_rng_range(r, 0, 1) ? 127 : tml_rng_range(r, p.activation_min, 127);
    const tml_dims id = {tml_rng_range(r, 1, 2), tml_rng_range(r, k * 2, 9), tml_rng_range(r, k * 2, 9), in_c};
    const tml_dims fd = {out_c, k, k, in_c / groups};
    const tml_dims od = {id.n, out_size(id.h, k, p.stride_h, p.dilation_h, 2 * p.pad_h),
                         out_size(id.w, k, p.stride_w, p.dilation_w, 2 * p.pad_w), out_c};
    const size_t n_in = (size_t)id.n * id.h * id.w * id.c, n_w = (size_t)fd.n * fd.h * fd.w * fd.c;
    const size_t n_out = (size_t)od.n * od.h * od.w * od.c;
    int8_t *in = malloc(n_in), *w = malloc(n_w), *expected = malloc(n_out), *actual = malloc(n_out);
    int8_t *w_dw = malloc(n_w);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)out_c);
    float *scales = malloc(sizeof(float) * (size_t)out_c);
    tml_rng_fill_s8(r, in, n_in, 5);
    tml_rng_fill_s8(r, w, n_w, 5);
    tml_rng_fill_s32(r, bias, (size_t)out_c, -5000, 5000);
    fill_scales(r, scales, out_c);
    const int32_t *b = tml_rng_range(r, 0, 3) ? bias : NULL;
    ref_conv(&p, scales, &id, in, &fd, w, b, &od, expected);
    tml_status status;
    if (depthwise) {
        /* The same filters as [1, kh, kw, out_c]. */
        for (int32_t oc = 0; oc < out_c; oc++)
            for (int32_t t = 0; t < k * k; t++) w_dw[t * out_c + oc] = w[oc * k * k + t];
        const tml_depthwise_conv_params dp = {p.input_offset, p.output_offset, p.stride_h, p.stride_w, p.dilation_h,
                                              p.dilation_w, p.pad_h, p.pad_w, mult, p.activation_min, p.activation_max};
        const tml_dims dfd = {1, k, k, out_c};
        status = tml_depthwise_conv_s8_float_requant(&dp, scales, &id, in, &dfd, w_dw, b, &od, actual, NULL);
    } else {
        status = tml_conv_s8_float_requant(&p, scales, &id, in, &fd, w, b, &od, actual, NULL);
    }
    char label[96];
    snprintf(label, sizeof label, "%s case %d", depthwise ? "depthwise" : "conv", index);
    const int ok = TML_CHECK(status == TML_OK, "%s: status %d", label, (int)status) &&
                   tml_test_compare_s8(label, expected, actual, n_out);
    free(in), free(w), free(w_dw), free(expected), free(actual), free(bias), free(scales);
    return ok;
}

static int fc_case(tml_rng *r, int index)
{
    const int32_t batches = tml_rng_range(r, 1, 3), depth = tml_rng_range(r, 1, 40), units = tml_rng_range(r, 1, 12);
    const int per_channel = tml_rng_range(r, 0, 1);
    tml_fully_connected_params p = {0};
    p.input_offset = -tml_rng_range(r, -128, 127);
    p.output_offset = tml_rng_range(r, -40, 40);
    p.activation_min = -128;
    p.activation_max = 127;
    p.per_channel = per_channel;
    int8_t *in = malloc((size_t)batches * depth), *w = malloc((size_t)units * depth);
    int8_t *expected = malloc((size_t)batches * units), *actual = malloc((size_t)batches * units);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)units);
    float *scales = malloc(sizeof(float) * (size_t)units);
    tml_rng_fill_s8(r, in, (size_t)batches * depth, 5);
    tml_rng_fill_s8(r, w, (size_t)units * depth, 5);
    tml_rng_fill_s32(r, bias, (size_t)units, -5000, 5000);
    fill_scales(r, scales, units);
    for (int32_t bt = 0; bt < batches; bt++)
        for (int32_t u = 0; u < units; u++) {
            int32_t acc = bias[u];
            for (int32_t d = 0; d < depth; d++) acc += w[u * depth + d] * (in[bt * depth + d] + p.input_offset);
            expected[bt * units + u] = ref_requant(acc, scales[per_channel ? u : 0], p.output_offset, -128, 127);
        }
    const tml_status status =
        tml_fully_connected_s8_float_requant(&p, scales, batches, depth, units, in, w, bias, actual, NULL);
    char label[64];
    snprintf(label, sizeof label, "fully connected case %d", index);
    const int ok = TML_CHECK(status == TML_OK, "%s: status %d", label, (int)status) &&
                   tml_test_compare_s8(label, expected, actual, (size_t)batches * units);
    free(in), free(w), free(expected), free(actual), free(bias), free(scales);
    return ok;
}

/* Accumulators whose scaled value is exactly k + 0.5 (scale 0.5, odd sums): ties go to the even neighbour, where
 * TFLM's fixed point rounds away from zero. */
static int ties_case(void)
{
    const tml_fully_connected_params p = {0, 0, 3, -128, 127, 1};
    const int8_t in[1] = {1};
    const int8_t w[6] = {5, 7, -5, -7, 1, -1};
    const float scales[6] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    /* 2.5 -> 2, 3.5 -> 4, -2.5 -> -2, -3.5 -> -4, 0.5 -> 0, -0.5 -> 0; plus the zero point 3. */
    const int8_t expected[6] = {5, 7, 1, -1, 3, 3};
    int8_t actual[6];
    const tml_status status = tml_fully_connected_s8_float_requant(&p, scales, 1, 1, 6, in, w, NULL, actual, NULL);
    return TML_CHECK(status == TML_OK, "status %d", (int)status) && tml_test_compare_s8("ties", expected, actual, 6);
}

static int bad_arguments_case(void)
{
    const tml_fully_connected_params p = {0, 0, 0, -128, 127, 0};
    const int8_t in[1] = {1}, w[1] = {1};
    int8_t out[1];
    const float negative[1] = {-1.0f}, zero[1] = {0.0f}, nan_scale[1] = {NAN}, inf_scale[1] = {INFINITY};
    int ok = TML_CHECK(tml_fully_connected_s8_float_requant(&p, NULL, 1, 1, 1, in, w, NULL, out, NULL) ==
                           TML_ERROR_ARGUMENT, "NULL scales");
    ok &= TML_CHECK(tml_fully_connected_s8_float_requant(&p, negative, 1, 1, 1, in, w, NULL, out, NULL) ==
                        TML_ERROR_ARGUMENT, "negative scale");
    ok &= TML_CHECK(tml_fully_connected_s8_float_requant(&p, zero, 1, 1, 1, in, w, NULL, out, NULL) ==
                        TML_ERROR_ARGUMENT, "zero scale");
    ok &= TML_CHECK(tml_fully_connected_s8_float_requant(&p, nan_scale, 1, 1, 1, in, w, NULL, out, NULL) ==
                        TML_ERROR_ARGUMENT, "NaN scale");
    ok &= TML_CHECK(tml_fully_connected_s8_float_requant(&p, inf_scale, 1, 1, 1, in, w, NULL, out, NULL) ==
                        TML_ERROR_ARGUMENT, "infinite scale");
    const tml_conv_params cp = {0, 0, 1, 1, 1, 1, 0, 0, -128, 127};
    const tml_dims d = {1, 1, 1, 1};
    ok &= TML_CHECK(tml_conv_s8_float_requant(&cp, NULL, &d, in, &d, w, NULL, &d, out, NULL) == TML_ERROR_ARGUMENT,
                    "conv NULL scales");
    const tml_depthwise_conv_params dp = {0, 0, 1, 1, 1, 1, 0, 0, 1, -128, 127};
    ok &= TML_CHECK(tml_depthwise_conv_s8_float_requant(&dp, nan_scale, &d, in, &d, w, NULL, &d, out, NULL) ==
                        TML_ERROR_ARGUMENT, "depthwise NaN scale");
    return ok;
}

int main(void)
{
    tml_rng r = tml_rng_seed(4242);
    for (int i = 0; i < 60; i++) {
        char label[48];
        snprintf(label, sizeof label, "conv %d", i);
        tml_test_record(conv_case(&r, i, 0), label);
        snprintf(label, sizeof label, "depthwise %d", i);
        tml_test_record(conv_case(&r, i, 1), label);
        snprintf(label, sizeof label, "fully connected %d", i);
        tml_test_record(fc_case(&r, i), label);
    }
    tml_test_record(ties_case(), "ties round to even");
    tml_test_record(bad_arguments_case(), "bad arguments");
    return TML_TEST_SUMMARY("test_float_requant");
}
