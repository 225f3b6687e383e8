/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_train.c: the training kernels against the rules of tml_kernels.h written out with 64-bit sums here: the
 * backward sum over random shapes in both of its regimes (int32 row-by-row sums for small gradients, int64 for
 * large ones), the convolution backward sum against its scatter form, the clamp mask, the spread of a global
 * average, the softmax gradient, and argument errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include "tml_kernels.h"
#include "tml_test.h"

/* round(x / 2^n), ties away from zero. */
static int64_t round_shift(int64_t x, int n)
{
    if (n == 0) return x;
    int64_t half = (int64_t)1 << (n - 1);
    return x >= 0 ? (x + half) >> n : -((-x + half) >> n);
}

static void test_backward(tml_rng *rng)
{
    for (int c = 0; c < 300; c++) {
        int32_t units = tml_rng_range(rng, 1, c % 3 == 0 ? 700 : 40), depth = tml_rng_range(rng, 1, 64);
        /* Gradients of 8 bits (the softmax's), 16 bits (a normalized layer's) or up to 2^22 (the int64 regime). */
        int32_t bound = c % 3 == 0 ? (1 << 15) : c % 3 == 1 ? 256 : (1 << 22);
        int8_t *w = malloc((size_t)units * depth);
        int32_t *g = malloc(sizeof(int32_t) * (size_t)(units + 1)), *out = malloc(sizeof(int32_t) * (size_t)(depth + 1));
        for (int32_t i = 0; i < units * depth; i++) w[i] = (int8_t)tml_rng_range(rng, -127, 127);
        g[0] = tml_rng_range(rng, 0, 20);
        for (int32_t j = 0; j < units; j++) g[1 + j] = tml_rng_range(rng, -bound, bound);
        tml_train_fc_params p = { units, depth, 0, 0, 0 };
        int ok = TML_CHECK(tml_train_fc_backward_s8(&p, w, g, out) == TML_OK, "status");
        int64_t largest = 0;
        for (int32_t d = 0; d < depth; d++) {
            int64_t s = 0;
            for (int32_t j = 0; j < units; j++) s += (int64_t)g[1 + j] * w[(size_t)j * depth + d];
            if (llabs(s) > largest) largest = llabs(s);
        }
        int shift = 0;
        while ((largest >> shift) >= (1 << 15)) shift++;
        ok &= TML_CHECK(out[0] == g[0] + shift, "case %d: exponent %d, expected %d", c, out[0], g[0] + shift);
        for (int32_t d = 0; d < depth && ok; d++) {
            int64_t s = 0;
            for (int32_t j = 0; j < units; j++) s += (int64_t)g[1 + j] * w[(size_t)j * depth + d];
            ok &= TML_CHECK(out[1 + d] == round_shift(s, shift), "case %d (units %d, depth %d): value %d", c, units, depth, d);
            ok &= TML_CHECK(out[1 + d] < (1 << 15) && out[1 + d] > -(1 << 15), "case %d: value %d not in 16 bits", c, d);
        }
        tml_test_record(ok, "backward");
        free(w);
        free(g);
        free(out);
    }
}

/* The convolution backward sum over random shapes, strides, dilations and paddings, against the scatter form
 * (each output position adds into the inputs it read), the other way round from the kernel's gather. */
static void test_conv_backward(tml_rng *rng)
{
    for (int c = 0; c < 200; c++) {
        tml_train_conv_backward_params p;
        p.in_h = tml_rng_range(rng, 1, 9);
        p.in_w = tml_rng_range(rng, 1, 9);
        p.in_c = tml_rng_range(rng, 1, 5);
        p.out_c = tml_rng_range(rng, 1, 6);
        p.kernel_h = tml_rng_range(rng, 1, 3);
        p.kernel_w = tml_rng_range(rng, 1, 3);
        p.stride_h = tml_rng_range(rng, 1, 3);
        p.stride_w = tml_rng_range(rng, 1, 3);
        p.dilation_h = tml_rng_range(rng, 1, 2);
        p.dilation_w = tml_rng_range(rng, 1, 2);
        p.pad_h = tml_rng_range(rng, 0, 2);
        p.pad_w = tml_rng_range(rng, 0, 2);
        p.out_h = tml_rng_range(rng, 1, 5);
        p.out_w = tml_rng_range(rng, 1, 5);
        size_t outputs = (size_t)p.out_h * p.out_w * p.out_c, inputs = (size_t)p.in_h * p.in_w * p.in_c;
        size_t filter = (size_t)p.kernel_h * p.kernel_w * p.in_c;
        int8_t *w = malloc(filter * (size_t)p.out_c);
        int32_t *g = malloc(sizeof(int32_t) * (outputs + 1)), *out = malloc(sizeof(int32_t) * (inputs + 1));
        int64_t *expected = calloc(inputs, sizeof(int64_t));
        int32_t ratio[6];
        for (size_t i = 0; i < filter * (size_t)p.out_c; i++) w[i] = (int8_t)tml_rng_range(rng, -127, 127);
        for (int oc = 0; oc < p.out_c; oc++) ratio[oc] = tml_rng_range(rng, 1, 1 << 15);
        g[0] = tml_rng_range(rng, 0, 9);
        for (size_t i = 0; i < outputs; i++) g[1 + i] = tml_rng_range(rng, -(1 << 15) + 1, (1 << 15) - 1);
        for (int oh = 0; oh < p.out_h; oh++)
            for (int ow = 0; ow < p.out_w; ow++)
                for (int oc = 0; oc < p.out_c; oc++)
                    for (int kh = 0; kh < p.kernel_h; kh++)
                        for (int kw = 0; kw < p.kernel_w; kw++) {
                            int ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h, iw = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
                            if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;
                            for (int ic = 0; ic < p.in_c; ic++)
                                expected[((size_t)ih * p.in_w + iw) * p.in_c + ic] += (int64_t)g[1 + ((size_t)oh * p.out_w + ow) * p.out_c + oc] *
                                    w[(size_t)oc * filter + ((size_t)kh * p.kernel_w + kw) * p.in_c + ic] * ratio[oc];
                        }
        int64_t largest = 0;
        for (size_t i = 0; i < inputs; i++) if (llabs(expected[i]) > largest) largest = llabs(expected[i]);
        int shift = 0;
        while ((largest >> shift) >= (1 << 15)) shift++;
        int ok = TML_CHECK(tml_train_conv_backward_s8(&p, ratio, w, g, out) == TML_OK, "case %d: status", c);
        ok &= TML_CHECK(out[0] == g[0] + shift, "case %d: exponent %d, expected %d", c, out[0], g[0] + shift);
        for (size_t i = 0; i < inputs && ok; i++)
            ok &= TML_CHECK(out[1 + i] == round_shift(expected[i], shift), "case %d: value %u", c, (unsigned)i);
        tml_test_record(ok, "conv backward");
        free(w);
        free(g);
        free(out);
        free(expected);
    }
}

static void test_mask_and_softmax_gradient(void)
{
    int8_t output[5] = { -128, -5, 0, 126, 127 };
    int32_t grad[6] = { 3, 10, 20, 30, 40, 50 };
    tml_train_mask_params m = { 5, -5, 126 };
    int ok = TML_CHECK(tml_train_mask_s8(&m, output, grad) == TML_OK, "mask status");
    ok &= TML_CHECK(grad[0] == 3 && grad[1] == 0 && grad[2] == 0 && grad[3] == 30 && grad[4] == 0 && grad[5] == 0, "mask");
    tml_test_record(ok, "mask");

    int32_t pooled[3] = { 4, -7, 9 }, spread[7];
    tml_train_spread_params sp = { 3, 2 };
    ok = TML_CHECK(tml_train_spread(&sp, pooled, spread) == TML_OK, "spread status");
    for (int i = 0; i < 6; i++) ok &= TML_CHECK(spread[1 + i] == pooled[1 + i % 2], "spread value %d", i);
    ok &= TML_CHECK(spread[0] == 4, "spread exponent");
    sp.positions = 0;
    ok &= TML_CHECK(tml_train_spread(&sp, pooled, spread) == TML_ERROR_ARGUMENT, "no positions");
    tml_test_record(ok, "spread");

    int32_t control[TML_TRAIN_CONTROL_WORDS] = { 2, 1 << 30, 0, 1 };
    int8_t p[3] = { -128, 0, 127 };
    int32_t g[4];
    ok = TML_CHECK(tml_train_softmax_grad_s8(control, 3, p, g) == TML_OK, "status");
    ok &= TML_CHECK(g[0] == 0 && g[1] == 0 && g[2] == 128 && g[3] == 255 - 256, "gradient %d %d %d %d", g[0], g[1], g[2], g[3]);
    control[TML_TRAIN_LABEL] = 3;
    ok &= TML_CHECK(tml_train_softmax_grad_s8(control, 3, p, g) == TML_ERROR_ARGUMENT, "label 3 of 3 classes");
    control[TML_TRAIN_LABEL] = -1;
    ok &= TML_CHECK(tml_train_softmax_grad_s8(control, 3, p, g) == TML_ERROR_ARGUMENT, "label -1");
    tml_test_record(ok, "softmax gradient");
}

static void test_argument_errors(void)
{
    int32_t control[TML_TRAIN_CONTROL_WORDS] = { 0, 1 << 30, 0, 0 };
    int32_t grad[3] = { 0, 1, 1 }, master[2] = { 0, 0 }, bias[2];
    int8_t input[2] = { 1, 2 };
    int32_t multiplier[2] = { 1 << 30, 1 << 30 }, shift[2] = { 0, 0 };
    tml_per_channel_quant q = { multiplier, shift };
    tml_train_fc_params p = { 1, 2, 0, 16, 8 };
    tml_train_bias_params b = { 2, 1, 8 };
    int ok = TML_CHECK(tml_train_fc_update_s8(&p, &q, &q, control, input, grad, master, master) == TML_ERROR_ARGUMENT, "batch 0");
    control[TML_TRAIN_BATCH] = 1;
    grad[0] = 63;
    ok &= TML_CHECK(tml_train_bias_update_s8(&b, &q, control, grad, master) == TML_ERROR_ARGUMENT, "exponent 63");
    p.weight_fraction_bits = 24;
    ok &= TML_CHECK(tml_train_fc_apply_s8(&p, master, master, (int8_t *)input, bias) == TML_ERROR_ARGUMENT, "24 fraction bits");
    b.bias_fraction_bits = -1;
    ok &= TML_CHECK(tml_train_bias_apply(&b, master, bias) == TML_ERROR_ARGUMENT, "negative fraction bits");
    ok &= TML_CHECK(tml_train_fc_backward_s8(&p, NULL, grad, master) == TML_ERROR_ARGUMENT, "NULL weights");
    tml_test_record(ok, "argument errors");
}

int main(void)
{
    tml_rng rng = tml_rng_seed(31u);
    test_backward(&rng);
    test_conv_backward(&rng);
    test_mask_and_softmax_gradient();
    test_argument_errors();
    return TML_TEST_SUMMARY("test_train");
}
