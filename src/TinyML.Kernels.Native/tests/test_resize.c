/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_resize.c: RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, DEPTH_TO_SPACE and SPACE_TO_DEPTH on small cases worked
 * out by hand from TensorFlow's definitions (values written here, not computed by the kernels), plus properties
 * on random shapes: an integer-factor nearest upscale repeats each pixel, a same-size resize is the identity,
 * SPACE_TO_DEPTH then DEPTH_TO_SPACE gives the input back, and bad arguments are refused.
 * The random-model tests in TinyML.Runtime.Tests hold the kernels to TFLM's reference arithmetic and TFLite.
 */
#include "tml_kernels.h"
#include "tml_test.h"

static tml_resize_params resize(int32_t n, int32_t ih, int32_t iw, int32_t c, int32_t oh, int32_t ow, int32_t align,
                                int32_t half)
{
    tml_resize_params p = {n, ih, iw, c, oh, ow, align, half};
    return p;
}

static void test_nearest_by_hand(void)
{
    /* 1x2 -> 1x5 along the width: scale 2/5; floor(x * 0.4) = 0 0 0 1 1; half-pixel floor((x + .5) * .4) =
     * 0 0 1 1 1; align_corners round(x * 1/4) = 0 0 1 1 1 (0.5 rounds away from zero). */
    const int8_t in[2] = {10, 20};
    int8_t out[5];
    static const int8_t plain[5] = {10, 10, 10, 20, 20}, half[5] = {10, 10, 20, 20, 20}, align[5] = {10, 10, 20, 20, 20};
    tml_resize_params p = resize(1, 1, 2, 1, 1, 5, 0, 0);
    tml_test_record(tml_resize_nearest(&p, 1, in, out) == TML_OK && tml_test_compare_s8("nearest plain", plain, out, 5), "nearest plain");
    p.half_pixel_centers = 1;
    tml_test_record(tml_resize_nearest(&p, 1, in, out) == TML_OK && tml_test_compare_s8("nearest half", half, out, 5), "nearest half");
    p.half_pixel_centers = 0;
    p.align_corners = 1;
    tml_test_record(tml_resize_nearest(&p, 1, in, out) == TML_OK && tml_test_compare_s8("nearest align", align, out, 5), "nearest align");
    /* Downscale 5 -> 2 by half-pixel centres: floor(0.5 * 2.5) = 1, floor(1.5 * 2.5) = 3. */
    const int16_t wide[5] = {-1000, 1001, -1002, 1003, -1004};
    int16_t down[2];
    static const int16_t down_expected[2] = {1001, 1003};
    p = resize(1, 1, 5, 1, 1, 2, 0, 1);
    tml_test_record(tml_resize_nearest(&p, 2, wide, down) == TML_OK && tml_test_compare_s16("nearest down", down_expected, down, 2), "nearest down");
}

static void test_bilinear_by_hand(void)
{
    /* 1x2 -> 1x4, no flags: scale 0.5, positions 0, .5, 1, 1.5 (the last clamps to column 1). */
    const float in[2] = {1.0f, 3.0f};
    float out[4];
    static const float plain[4] = {1.0f, 2.0f, 3.0f, 3.0f};
    tml_resize_params p = resize(1, 1, 2, 1, 1, 4, 0, 0);
    tml_test_record(tml_resize_bilinear_f32(&p, in, out) == TML_OK && tml_test_compare_f32_exact("bilinear f32", plain, out, 4), "bilinear f32");
    /* Half-pixel centres: positions -.25 (both neighbours column 0), .25, .75, 1.25 (clamped):
     * 1, 1.5, 2.5, 3. */
    static const float half[4] = {1.0f, 1.5f, 2.5f, 3.0f};
    p.half_pixel_centers = 1;
    tml_test_record(tml_resize_bilinear_f32(&p, in, out) == TML_OK && tml_test_compare_f32_exact("bilinear f32 half", half, out, 4), "bilinear f32 half");
    /* Align corners 2 -> 3: positions 0, .5, 1. */
    static const float align[3] = {1.0f, 2.0f, 3.0f};
    p = resize(1, 1, 2, 1, 1, 3, 1, 0);
    tml_test_record(tml_resize_bilinear_f32(&p, in, out) == TML_OK && tml_test_compare_f32_exact("bilinear f32 align", align, out, 3), "bilinear f32 align");
    /* -0 inputs give +0 (TFLM adds its float rounding offset 0). */
    const float zeros[2] = {-0.0f, -0.0f};
    p = resize(1, 1, 2, 1, 1, 2, 0, 0);
    tml_test_record(tml_resize_bilinear_f32(&p, zeros, out) == TML_OK && TML_CHECK(!signbit(out[0]) && !signbit(out[1]), "-0 stays -0"), "bilinear f32 -0");

    /* int8, 1x2 -> 1x4: scale 512/1024; halves round away from zero: (-3 + -2) / 2 = -2.5 -> -3, (3 + 2) / 2 -> 3. */
    const int8_t a[2] = {-3, -2}, b[2] = {3, 2};
    int8_t q[4];
    static const int8_t qa[4] = {-3, -3, -2, -2}, qb[4] = {3, 3, 2, 2};
    p = resize(1, 1, 2, 1, 1, 4, 0, 0);
    tml_test_record(tml_resize_bilinear_s8(&p, a, q) == TML_OK && tml_test_compare_s8("bilinear s8 neg", qa, q, 4), "bilinear s8 neg");
    tml_test_record(tml_resize_bilinear_s8(&p, b, q) == TML_OK && tml_test_compare_s8("bilinear s8 pos", qb, q, 4), "bilinear s8 pos");
    /* 1x3 -> 1x2: scale round(3072 / 2) = 1536, positions 0 and 1.5: 100 and (-50 + 20) / 2 = -15. */
    const int8_t c[3] = {100, -50, 20};
    static const int8_t qc[2] = {100, -15};
    p = resize(1, 1, 3, 1, 1, 2, 0, 0);
    tml_test_record(tml_resize_bilinear_s8(&p, c, q) == TML_OK && tml_test_compare_s8("bilinear s8 down", qc, q, 2), "bilinear s8 down");
    p.align_corners = 1;
    p.half_pixel_centers = 1;
    tml_test_record(tml_resize_bilinear_s8(&p, c, q) == TML_ERROR_ARGUMENT, "bilinear s8 refuses both flags");
    tml_test_record(tml_resize_bilinear_f32(&p, in, out) == TML_ERROR_ARGUMENT, "bilinear f32 refuses both flags");
}

static void test_resize_properties(void)
{
    tml_rng r = tml_rng_seed(23);
    for (int k = 0; k < 50; k++) {
        const int32_t n = tml_rng_range(&r, 1, 2), h = tml_rng_range(&r, 1, 5), w = tml_rng_range(&r, 1, 5), c = tml_rng_range(&r, 1, 4);
        const int32_t fy = tml_rng_range(&r, 1, 3), fx = tml_rng_range(&r, 1, 3);
        int8_t in[2 * 5 * 5 * 4], out[2 * 15 * 15 * 4];
        tml_rng_fill_s8(&r, in, (size_t)(n * h * w * c), 10);
        /* An integer upscale without flags repeats each pixel fy x fx times. */
        tml_resize_params p = resize(n, h, w, c, h * fy, w * fx, 0, 0);
        int ok = tml_resize_nearest(&p, 1, in, out) == TML_OK;
        for (int32_t b = 0; b < n; b++)
            for (int32_t y = 0; y < h * fy; y++)
                for (int32_t x = 0; x < w * fx; x++)
                    for (int32_t ch = 0; ch < c; ch++)
                        ok &= TML_CHECK(out[((b * h * fy + y) * w * fx + x) * c + ch] == in[((b * h + y / fy) * w + x / fx) * c + ch], "repeat");
        tml_test_record(ok, "nearest integer upscale");
        /* The same size is the identity for both kernels and every flag combination bilinear allows. */
        for (int flags = 0; flags < 3; flags++) {
            p = resize(n, h, w, c, h, w, flags == 1, flags == 2);
            int8_t same[2 * 5 * 5 * 4];
            const size_t count = (size_t)(n * h * w * c);
            tml_test_record(tml_resize_nearest(&p, 1, in, same) == TML_OK && tml_test_compare_s8("nearest same", in, same, count), "nearest same size");
            tml_test_record(tml_resize_bilinear_s8(&p, in, same) == TML_OK && tml_test_compare_s8("bilinear same", in, same, count), "bilinear same size");
        }
    }
}

static void test_space_depth(void)
{
    /* TensorFlow's documented example: [1, 1, 1, 4] {1, 2, 3, 4} with block 2 is [1, 2, 2, 1] {1, 2, 3, 4}; and
     * [1, 1, 1, 8] with 2 channels a pixel: row 0 = {1,2},{3,4}, row 1 = {5,6},{7,8}. */
    const float deep[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float spatial[8];
    tml_space_depth_params p = {1, 2, 2, 2, 2};
    tml_test_record(tml_depth_to_space(&p, 4, deep, spatial) == TML_OK && tml_test_compare_f32_exact("d2s", deep, spatial, 8), "depth_to_space example");
    /* [1, 2, 4, 1] {1..8} to depth with block 2: pixel (0, 0) takes rows 0-1, columns 0-1: {1, 2, 5, 6}. */
    const int8_t image[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const int8_t packed[8] = {1, 2, 5, 6, 3, 4, 7, 8};
    int8_t got[8], again[8];
    tml_space_depth_params q = {1, 2, 4, 1, 2};
    tml_test_record(tml_space_to_depth(&q, 1, image, got) == TML_OK && tml_test_compare_s8("s2d", packed, got, 8), "space_to_depth example");
    tml_test_record(tml_depth_to_space(&q, 1, got, again) == TML_OK && tml_test_compare_s8("s2d d2s", image, again, 8), "depth_to_space inverts it");
    q.width = 3;
    tml_test_record(tml_space_to_depth(&q, 1, image, got) == TML_ERROR_ARGUMENT, "width not a multiple of the block");

    tml_rng r = tml_rng_seed(29);
    for (int k = 0; k < 40; k++) {
        const int32_t bs = tml_rng_range(&r, 1, 3);
        tml_space_depth_params s = {tml_rng_range(&r, 1, 2), bs * tml_rng_range(&r, 1, 3), bs * tml_rng_range(&r, 1, 3), tml_rng_range(&r, 1, 3), bs};
        const size_t count = (size_t)(s.batches * s.height * s.width * s.depth);
        int16_t a[2 * 9 * 9 * 3], b[2 * 9 * 9 * 3], c[2 * 9 * 9 * 3];
        for (size_t i = 0; i < count; i++) a[i] = (int16_t)tml_rng_range(&r, -32768, 32767);
        tml_test_record(tml_space_to_depth(&s, 2, a, b) == TML_OK && tml_depth_to_space(&s, 2, b, c) == TML_OK &&
                            tml_test_compare_s16("round trip", a, c, count), "space_to_depth round trip");
    }
}

int main(void)
{
    test_nearest_by_hand();
    test_bilinear_by_hand();
    test_resize_properties();
    test_space_depth();
    return TML_TEST_SUMMARY("test_resize");
}
