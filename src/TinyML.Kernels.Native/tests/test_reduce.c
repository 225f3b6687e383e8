/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_reduce.c: tml_mean_s8 against a reference written here (tflite-micro QuantizedMeanOrSum integer path),
 * with the multiplier/shift folded like TFLM (1/count folded into QuantizeMultiplier(s_in / s_out)). Random
 * [outer, reduce, inner] views with different input/output scales and zero points, plus the two MEAN
 * conformance vectors of shared/ops (mean_hw_keep, mean_hw_nokeep; TFLM 90b983c outputs) embedded below.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

/* The compiler's derivation (TFLM QuantizedMeanOrSum): fold 1/n into (multiplier, shift). */
static void fold_mean(int32_t multiplier, int32_t shift, int32_t n, int32_t *out_multiplier, int32_t *out_shift)
{
    int32_t log2n = 0;
    while (((int64_t)1 << (log2n + 1)) <= (int64_t)n) {
        log2n++; /* floor(log2(n)) = 63 - CountLeadingZeros(n) */
    }
    int32_t s = log2n < 32 ? log2n : 32;
    if (s > 31 + shift) {
        s = 31 + shift;
    }
    *out_multiplier = (int32_t)(((int64_t)multiplier << s) / n);
    *out_shift = shift - s;
}

static void ref_mean(const tml_mean_params *p, int32_t in_zp, const int8_t *in, int8_t *out)
{
    for (int32_t o = 0; o < p->outer_size; o++) {
        for (int32_t i = 0; i < p->inner_size; i++) {
            int64_t sum = 0;
            for (int32_t r = 0; r < p->reduce_size; r++) {
                sum += in[((size_t)o * p->reduce_size + r) * p->inner_size + i];
            }
            const int32_t shifted = tml_ref_wrap32(sum - (int64_t)in_zp * p->reduce_size);
            const int32_t v = tml_ref_mbqm(shifted, p->quant.multiplier, p->quant.shift) + p->output_offset;
            out[(size_t)o * p->inner_size + i] = (int8_t)tml_ref_clamp(v, -128, 127);
        }
    }
}

static void run_case(tml_rng *r, int index)
{
    tml_mean_params p;
    p.outer_size = tml_rng_range(r, 1, 3);
    p.reduce_size = tml_rng_range(r, 0, 3) == 0 ? tml_rng_range(r, 1, 400) : tml_rng_range(r, 1, 49);
    p.inner_size = tml_rng_range(r, 1, 17);
    const int32_t in_zp = tml_rng_range(r, -128, 127);
    p.input_offset = -in_zp;
    p.output_offset = tml_rng_range(r, -128, 127);
    const float s_in = (float)tml_rng_scale(r, -2.5, -0.5);
    float s_out = tml_rng_range(r, 0, 2) == 0 ? s_in : (float)tml_rng_scale(r, -2.5, -0.5);
    int32_t m, s;
    tml_test_quantize_multiplier((double)s_in / (double)s_out, &m, &s);
    fold_mean(m, s, p.reduce_size, &p.quant.multiplier, &p.quant.shift);
    const size_t n_in = (size_t)p.outer_size * p.reduce_size * p.inner_size;
    const size_t n_out = (size_t)p.outer_size * p.inner_size;
    int8_t *in = (int8_t *)malloc(n_in);
    int8_t *expected = (int8_t *)malloc(n_out);
    int8_t *actual = (int8_t *)malloc(n_out);
    tml_rng_fill_s8(r, in, n_in, 20);
    ref_mean(&p, in_zp, in, expected);
    int ok = TML_CHECK(tml_mean_s8_get_buffer_size(&p) == 0, "buffer size");
    memset(actual, 0x5A, n_out);
    ok &= TML_CHECK(tml_mean_s8(&p, in, actual, NULL) == TML_OK, "status");
    char label[128];
    snprintf(label, sizeof(label), "mean case %d: %d x %d x %d zp %d/%d q %d,%d", index, p.outer_size,
             p.reduce_size, p.inner_size, in_zp, p.output_offset, p.quant.multiplier, p.quant.shift);
    ok &= tml_test_compare_s8(label, expected, actual, n_out);
    /* Sanity against real arithmetic: within 1 LSB of round(mean * s_in / s_out) + zp. */
    for (int32_t o = 0; o < p.outer_size && ok; o++) {
        for (int32_t i = 0; i < p.inner_size; i++) {
            double sum = 0;
            for (int32_t k = 0; k < p.reduce_size; k++) {
                sum += (double)in[((size_t)o * p.reduce_size + k) * p.inner_size + i] - in_zp;
            }
            double real = sum / p.reduce_size * (double)s_in / (double)s_out + p.output_offset;
            real = real < -128.0 ? -128.0 : (real > 127.0 ? 127.0 : real);
            const double diff = real - actual[(size_t)o * p.inner_size + i];
            ok &= TML_CHECK(diff < 1.01 && diff > -1.01, "%s: real %f actual %d", label, real,
                            (int)actual[(size_t)o * p.inner_size + i]);
        }
    }
    tml_test_record(ok, label);
    free(in);
    free(expected);
    free(actual);
}

/* Conformance vectors from shared/ops (TFLM reference kernels, tflite-micro 90b983c). */
static const int8_t k_mean_hw_keep_in1[288] = {
    -29, 87, -39, -37, 28, 52, 29, 81, -25, -101, 53, -101, 86, 76, 107, 62, -70, 62, -69, 5, -9, -51, -104, -32,
    -122, -85, -62, -111, -110, -123, -28, -90, -118, -85, 102, 87, 67, -95, -47, 30, 37, -40, 99, -28, -107, -41, -35, 71,
    -77, 50, -9, -7, 18, -3, 42, 112, 27, 72, -34, -87, 30, -98, 51, -75, -54, -23, 106, 113, 13, -92, -72, -105,
    47, -57, -43, -98, -45, 124, -78, 57, 12, -23, -111, -123, 42, 9, 28, 72, -51, 121, 55, 119, -119, -27, -50, 43,
    -32, -75, -52, -89, 89, -16, -51, -113, 117, 8, 22, 122, 94, 103, -87, -79, -5, 82, 50, -110, 92, 103, -119, 63,
    -87, -104, 86, 95, 15, 40, -103, 53, -12, 116, 117, -75, 104, 60, 30, -54, -114, -86, -102, -59, 6, 117, -104, -26,
    -90, 112, 113, 10, 46, 22, 86, -68, 22, 40, -5, -40, -60, -103, 3, -23, 13, 113, 48, -36, 62, 106, 103, -128,
    -38, -22, 103, -14, 77, -109, 46, -46, -5, 12, -84, -50, 29, -97, 10, -51, 34, -50, -54, -61, -109, 58, 36, 108,
    -112, 85, 100, -68, 28, -124, 82, 11, 81, -1, -100, -106, -64, -18, 38, 112, 98, -27, -11, 50, 70, -77, -62, -43,
    -47, -98, -90, -13, 70, -90, 45, 119, -68, 32, -12, -96, 66, -66, -40, -86, -82, -26, -54, 11, -77, -103, -22, 19,
    -20, 45, 101, 30, -106, 127, 44, -109, -93, 24, 42, -126, 108, 59, 70, 56, -60, 1, -40, 72, 17, -7, 17, -13,
    49, 25, 40, 111, -127, 38, -43, -10, -33, 1, -61, -120, 36, 0, 12, 106, -1, 15, 101, -8, -47, -78, 96, -78,
};
static const int8_t k_mean_hw_keep_out1[8] = {
    -25, 6, 9, -23, 9, -9, -2, -1,
};
static const int8_t k_mean_hw_keep_in2[288] = {
    127, -128, 127, -128, -128, 127, 127, 127, -128, -128, 127, -128, 127, -128, 127, -128, -128, 127, 127, -128, 127, -128, 127, -128,
    127, 127, -128, 127, 127, -128, -128, -128, -128, 127, -128, -128, 127, -128, -128, -128, -128, -128, 127, -128, -128, -128, -128, 127,
    -128, -128, 127, -128, 127, 127, -128, 127, 127, -128, 127, 127, 127, -128, 127, -128, -128, -128, 127, 127, -128, -128, 127, 127,
    -128, -128, 127, -128, 127, -128, 127, -128, 127, 127, -128, -128, -128, 127, 127, -128, -128, 127, -128, 127, -128, -128, 127, 127,
    -128, 127, 127, 127, -128, 127, 127, -128, 127, -128, -128, -128, -128, -128, 127, 127, 127, -128, 127, -128, 127, -128, -128, 127,
    127, 127, -128, 127, 127, -128, -128, 127, 127, 127, 127, 127, -128, -128, 127, 127, -128, -128, -128, 127, 127, -128, 127, -128,
    -128, -128, -128, -128, 127, -128, -128, 127, -128, 127, 127, -128, -128, 127, -128, 127, -128, 127, -128, -128, -128, -128, -128, 127,
    127, 127, 127, -128, 127, -128, -128, -128, 127, 127, -128, -128, -128, -128, 127, -128, 127, -128, -128, 127, 127, -128, -128, -128,
    -128, 127, -128, 127, 127, -128, 127, -128, 127, -128, 127, -128, 127, -128, 127, -128, 127, -128, -128, 127, 127, -128, 127, -128,
    127, -128, -128, 127, -128, 127, -128, 127, -128, -128, 127, 127, 127, 127, 127, -128, 127, 127, 127, 127, -128, 127, -128, 127,
    127, -128, -128, -128, -128, 127, -128, 127, -128, -128, -128, 127, 127, -128, -128, 127, -128, -128, -128, -128, 127, 127, 127, 127,
    -128, 127, 127, 127, 127, -128, 127, 127, -128, 127, 127, 127, -128, 127, -128, 127, -128, -128, 127, 127, 127, 127, 127, -128,
};
static const int8_t k_mean_hw_keep_out2[8] = {
    -15, -15, 7, 0, 21, -43, 14, 7,
};
static const int8_t k_mean_hw_nokeep_in1[420] = {
    75, 107, -85, 15, 75, -106, 50, 3, 75, 30, -119, -102, 84, -95, -80, -99, 48, 39, 78, 38, -29, 16, 53, -92,
    -29, 17, 24, 71, 109, -53, -59, -18, -10, -30, 41, -83, 120, 2, 1, 119, -91, -74, -89, 44, -95, -114, 47, -120,
    35, 124, 95, 56, -45, -123, 35, -93, -96, -113, -12, 103, -69, 77, 85, 3, -85, -117, 17, -17, 28, -79, 97, 123,
    -100, 82, 84, -13, -45, 46, 116, 119, 1, -79, -32, -67, -15, -60, 36, 47, 108, 84, 115, 9, 33, -80, 85, 104,
    66, -98, 77, 109, -52, 58, -99, -41, -19, 56, 117, 122, -36, 51, -81, 10, 4, -116, -120, 74, -73, -45, -106, 124,
    53, 4, -71, 88, 71, 67, -31, -34, 104, 2, -106, 54, 64, 112, -125, 50, -59, -9, 105, -81, 112, 51, 116, -60,
    59, -20, 56, -39, 30, -10, -7, 32, 21, 74, -119, 76, 51, 118, 34, 4, 73, 86, -61, 65, -117, 99, 101, -100,
    78, -100, -5, -76, 52, -106, -106, 101, -110, 7, 46, 106, 43, -126, 39, -80, -23, 36, -74, 53, 44, -102, 35, -45,
    -87, 12, -8, 23, 122, -20, 99, 95, 89, -104, -67, -27, -44, 111, 34, -121, 20, 97, -22, 101, -7, -71, -120, 65,
    -127, -56, 50, 108, -33, -27, -64, 40, 89, 58, -35, -40, 30, 5, 38, -35, 127, -111, 59, 12, -73, 103, -18, -30,
    -104, 91, 92, 10, 59, -3, 96, -80, -10, -106, -115, -90, -104, 51, -92, 117, 41, 86, 113, 25, 89, -21, 78, 108,
    12, 77, 21, 36, -96, -20, -84, 48, 51, -82, -6, -65, 101, -55, 35, -33, 22, 35, 8, 18, -34, 27, 53, 111,
    -15, -26, 43, -26, -27, 120, -126, -88, 14, -92, 33, -86, -33, -38, 102, -2, -33, 53, -72, 54, 67, 76, -122, 49,
    -59, 41, -126, -42, -82, -64, -25, -126, -5, 73, -21, 109, -121, 24, 37, 113, -7, -53, -7, -121, 104, 46, -52, -29,
    69, -61, -65, 33, -7, 8, 8, 19, -52, 60, -56, 6, -92, 113, -84, 96, -106, 0, -40, -108, 45, -88, 114, -128,
    -54, -1, 114, -58, 58, 39, 73, 13, 116, 85, 0, -36, 99, -82, 72, -107, -60, 46, 96, -117, 34, 14, -20, -14,
    27, -46, 57, -48, 61, -49, 28, 22, -30, -120, -119, -105, -90, -12, 65, -104, -59, 78, -82, 33, 75, -51, 8, -127,
    52, 28, -35, 43, 108, 15, 9, 37, 17, 17, -23, 37,
};
static const int8_t k_mean_hw_nokeep_out1[12] = {
    -2, 11, 12, 8, 8, -2, -2, 4, 13, -14, -7, -4,
};
static const int8_t k_mean_hw_nokeep_in2[420] = {
    127, -128, 127, 127, -128, 127, -128, 127, 127, -128, 127, -128, -128, -128, -128, 127, 127, 127, 127, -128, -128, 127, -128, 127,
    127, -128, 127, -128, -128, -128, 127, 127, 127, -128, -128, -128, 127, -128, 127, 127, -128, -128, 127, 127, -128, 127, 127, -128,
    -128, 127, -128, 127, 127, -128, 127, 127, 127, -128, 127, -128, 127, -128, -128, -128, -128, 127, -128, 127, 127, -128, 127, -128,
    -128, -128, -128, 127, -128, 127, -128, -128, -128, -128, 127, 127, -128, 127, -128, 127, 127, -128, -128, 127, 127, -128, -128, 127,
    -128, -128, -128, 127, 127, -128, 127, 127, 127, 127, 127, 127, -128, 127, -128, -128, 127, 127, 127, -128, 127, 127, -128, -128,
    127, -128, 127, -128, -128, -128, -128, 127, -128, -128, -128, 127, -128, -128, 127, -128, 127, -128, -128, 127, -128, -128, 127, 127,
    127, 127, -128, -128, 127, -128, 127, 127, 127, -128, -128, 127, 127, 127, 127, -128, 127, -128, 127, -128, 127, -128, -128, 127,
    -128, 127, -128, 127, -128, -128, 127, 127, 127, 127, 127, -128, 127, 127, -128, 127, 127, -128, 127, -128, 127, 127, 127, 127,
    -128, -128, 127, 127, 127, -128, -128, -128, -128, 127, -128, -128, -128, -128, -128, -128, -128, 127, -128, 127, -128, 127, -128, 127,
    127, -128, 127, -128, 127, 127, -128, 127, -128, -128, 127, -128, 127, -128, -128, -128, 127, -128, 127, 127, -128, -128, 127, 127,
    127, -128, -128, 127, -128, -128, -128, 127, 127, -128, 127, 127, 127, 127, -128, 127, 127, -128, -128, -128, 127, -128, 127, 127,
    127, 127, -128, -128, 127, 127, -128, 127, 127, -128, -128, -128, -128, -128, -128, 127, -128, 127, 127, 127, -128, 127, -128, -128,
    -128, 127, 127, 127, -128, 127, 127, -128, -128, -128, -128, 127, 127, -128, 127, 127, -128, -128, 127, 127, -128, 127, -128, -128,
    -128, 127, -128, 127, 127, -128, -128, -128, -128, 127, -128, -128, -128, 127, -128, -128, -128, -128, -128, 127, 127, -128, 127, 127,
    127, 127, -128, 127, 127, -128, 127, 127, 127, -128, -128, -128, 127, -128, 127, -128, 127, -128, 127, -128, -128, -128, 127, -128,
    127, 127, 127, -128, 127, -128, -128, 127, -128, 127, 127, 127, 127, 127, 127, 127, -128, -128, 127, -128, 127, 127, -128, 127,
    127, 127, -128, -128, -128, 127, 127, -128, 127, 127, 127, 127, -128, -128, 127, 127, -128, 127, 127, -128, 127, 127, -128, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, -128, -128, 127,
};
static const int8_t k_mean_hw_nokeep_out2[12] = {
    18, -4, -19, 18, 10, -33, 18, 32, 18, -19, -4, 18,
};

static void golden_case(const char *name, int32_t h, int32_t w, int32_t c, float scale, int32_t zp, const int8_t *in,
                        const int8_t *expected)
{
    tml_mean_params p;
    p.outer_size = 1;
    p.reduce_size = h * w;
    p.inner_size = c;
    p.input_offset = -zp;
    p.output_offset = zp;
    int32_t m, s;
    tml_test_quantize_multiplier((double)scale / (double)scale, &m, &s);
    fold_mean(m, s, p.reduce_size, &p.quant.multiplier, &p.quant.shift);
    int8_t actual[16];
    int ok = TML_CHECK(tml_mean_s8(&p, in, actual, NULL) == TML_OK, "status");
    ok &= tml_test_compare_s8(name, expected, actual, (size_t)c);
    tml_test_record(ok, name);
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0007u);
    golden_case("mean_hw_keep/1", 6, 6, 8, 0.05f, -3, k_mean_hw_keep_in1, k_mean_hw_keep_out1);
    golden_case("mean_hw_keep/2", 6, 6, 8, 0.05f, -3, k_mean_hw_keep_in2, k_mean_hw_keep_out2);
    golden_case("mean_hw_nokeep/1", 5, 7, 12, 0.03f, 6, k_mean_hw_nokeep_in1, k_mean_hw_nokeep_out1);
    golden_case("mean_hw_nokeep/2", 5, 7, 12, 0.03f, 6, k_mean_hw_nokeep_in2, k_mean_hw_nokeep_out2);
    tml_mean_params bad = {1, 0, 1, 0, 0, {1 << 30, 0}};
    int8_t x = 0, y;
    tml_test_record(TML_CHECK(tml_mean_s8(&bad, &x, &y, NULL) == TML_ERROR_ARGUMENT, "reduce 0"), "mean arguments");
    for (int i = 0; i < 1500; i++) {
        run_case(&r, i);
    }
    {
        /*
         * int16 MEAN of 1000, 2000, 30000, 32767 (zero point 0, equal scales): QuantizeMultiplier(1) = (2^30, 1);
         * count 4 folds min(log2 4, 32, 31 + 1) = 2 bits: (2^30 << 2) / 4 = 2^30, shift 1 - 2 = -1, i.e. x / 4.
         * sum 65767 -> SRDHM(65767, 2^30) = 32884 (65767 / 2 rounded away) -> RDBPOT 1 = 16442 (the mean 16441.75).
         * An output zero point of 20000 saturates at 32767.
         */
        const int16_t in[4] = {1000, 2000, 30000, 32767};
        int16_t out;
        tml_mean_params p = {1, 4, 1, 0, 0, {1 << 30, -1}};
        tml_test_record(TML_CHECK(tml_mean_s16(&p, in, &out, NULL) == TML_OK && out == 16442, "mean s16 %d", out),
                        "mean s16 checkpoint");
        p.output_offset = 20000;
        tml_mean_s16(&p, in, &out, NULL);
        tml_test_record(TML_CHECK(out == 32767, "mean s16 %d", out), "mean s16 saturates");
        tml_test_record(TML_CHECK(tml_mean_s16(&bad, in, &out, NULL) == TML_ERROR_ARGUMENT, "reduce 0"), "mean s16 arguments");
    }
    return TML_TEST_SUMMARY("test_reduce");
}
