/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_elu_log_softmax.c: float32 ELU and LOG_SOFTMAX against double-precision references of their definitions
 * (within the float rounding of expm1f / expf / logf), hand-worked values, int8 LOG_SOFTMAX on hand-worked rows, and
 * the int8 lookup kernel.
 * Bit-exactness with TFLM's float arithmetic is tested on random models in TinyML.Runtime.Tests.
 */
#include "tml_kernels.h"
#include "tml_test.h"

static void test_elu(void)
{
    tml_rng r = tml_rng_seed(31);
    float in[300], out[300], expected[300];
    for (int i = 0; i < 300; i++) {
        in[i] = i < 4 ? (float[]){0.0f, -0.0f, 1.5f, -1e-8f}[i] : tml_rng_float(&r, -20.0f, 5.0f);
        expected[i] = in[i] < 0.0f ? (float)expm1((double)in[i]) : in[i];
    }
    tml_test_record(tml_elu_f32(in, 300, out) == TML_OK && tml_test_compare_f32_tol("elu", expected, out, 300, 1e-30f, 2e-7f), "elu against expm1");
    /* Positives and zeros pass unchanged, bit for bit (-0 is not below 0). */
    tml_test_record(TML_CHECK(out[2] == 1.5f && !signbit(out[0]) && signbit(out[1]), "identity part"), "elu identity");
    tml_test_record(tml_elu_f32(NULL, 1, out) == TML_ERROR_ARGUMENT, "elu NULL");
}

static void test_log_softmax(void)
{
    /* {0, 0}: log(1/2) each. {1, 2, 3}: x - 3 - log(e^-2 + e^-1 + 1). */
    const float in[5] = {0.0f, 0.0f, 1.0f, 2.0f, 3.0f};
    float out[5];
    const double l = log(exp(-2.0) + exp(-1.0) + 1.0);
    const float expected[5] = {(float)log(0.5), (float)log(0.5), (float)(-2.0 - l), (float)(-1.0 - l), (float)(-l)};
    tml_test_record(tml_log_softmax_f32(in, 1, 2, out) == TML_OK && tml_log_softmax_f32(in + 2, 1, 3, out + 2) == TML_OK &&
                        tml_test_compare_f32_tol("log_softmax", expected, out, 5, 1e-6f, 1e-6f), "log_softmax by hand");
    tml_rng r = tml_rng_seed(37);
    for (int k = 0; k < 20; k++) {
        const int32_t rows = tml_rng_range(&r, 1, 4), depth = tml_rng_range(&r, 1, 40);
        float x[4 * 40], y[4 * 40], e[4 * 40];
        for (int32_t i = 0; i < rows * depth; i++) x[i] = tml_rng_float(&r, -30.0f, 30.0f);
        for (int32_t row = 0; row < rows; row++) {
            double max = -1e300, sum = 0.0;
            for (int32_t c = 0; c < depth; c++) max = x[row * depth + c] > max ? x[row * depth + c] : max;
            for (int32_t c = 0; c < depth; c++) sum += exp(x[row * depth + c] - max);
            for (int32_t c = 0; c < depth; c++) e[row * depth + c] = (float)(x[row * depth + c] - max - log(sum));
        }
        tml_test_record(tml_log_softmax_f32(x, rows, depth, y) == TML_OK && tml_test_compare_f32_tol("log_softmax random", e, y, (size_t)(rows * depth), 1e-5f, 1e-6f),
                        "log_softmax random rows");
    }
}

static void test_log_softmax_s8(void)
{
    /* Input scale 0.1: QuantizeMultiplier(0.1 * 2^26) = 1717986918 * 2^(23 - 31), the reverse scaling
     * 2^8 / 1717986918 = 1342177280 * 2^(-22 - 31), diff_min = -floor(31 * 2^26 / 2^23) = -248. Output steps are 1/16
     * from 127: a row of one value is log(1) = 0 -> 127; two equal values -ln 2 * 16 = -11.09 -> 116; {0, -100}
     * (-10 in real) is -log(1 + e^-10) -> 127 and -10.00005 * 16 -> -160 + 127 = -33; a difference below diff_min
     * gives -128. */
    const tml_log_softmax_params p = {1717986918, 23, 1342177280, -22, -248};
    const int8_t in[7] = {5, 40, 40, 0, -100, 127, -128};
    int8_t out[7];
    static const int8_t expected[7] = {127, 116, 116, 127, -33, 127, -128};
    tml_test_record(tml_log_softmax_s8(&p, in, 1, 1, out) == TML_OK && tml_log_softmax_s8(&p, in + 1, 1, 2, out + 1) == TML_OK &&
                        tml_log_softmax_s8(&p, in + 3, 1, 2, out + 3) == TML_OK && tml_log_softmax_s8(&p, in + 5, 1, 2, out + 5) == TML_OK &&
                        tml_test_compare_s8("log_softmax s8", expected, out, 7), "log_softmax s8 by hand");
    tml_log_softmax_params bad = p;
    bad.reverse_shift = 1;
    tml_test_record(tml_log_softmax_s8(&bad, in, 1, 1, out) == TML_ERROR_ARGUMENT, "log_softmax s8 refuses a reverse shift above 0");
}

static void test_lookup(void)
{
    int8_t table[256], in[256], out[256], expected[256];
    for (int i = 0; i < 256; i++) {
        table[i] = (int8_t)(255 - i);
        in[i] = (int8_t)(i - 128);
        expected[i] = (int8_t)(255 - (uint8_t)in[i]); /* the entry at the input's byte */
    }
    tml_test_record(tml_lookup_s8(table, in, 256, out) == TML_OK && tml_test_compare_s8("lookup", expected, out, 256), "lookup by byte");
}

int main(void)
{
    test_elu();
    test_log_softmax();
    test_log_softmax_s8();
    test_lookup();
    return TML_TEST_SUMMARY("test_elu_log_softmax");
}
