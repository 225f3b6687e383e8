/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_conv_packed.c: tml_conv_s8_packed (build-time packed OHWI weights, folded bias, im2col rows) against
 * tml_conv_s8 on the same unpacked case (test_conv.c checks tml_conv_s8 against TFLM's ConvPerChannel), over random
 * shapes: padding on every side, strides, dilations, batches, one to many channels, odd pixel counts, every layout,
 * and a quarter of stems (one to three channels, windows up to 10 x 8).
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"
#include "packed_weights.h"

static void run_case(tml_rng *r, int index)
{
    tml_dims in = {tml_rng_range(r, 1, 2), tml_rng_range(r, 1, 11), tml_rng_range(r, 1, 11), tml_rng_range(r, 1, 9)};
    tml_dims f = {tml_rng_range(r, 1, 13), tml_rng_range(r, 1, 5), tml_rng_range(r, 1, 5), in.c};
    if (index % 4 == 3) {
        /* A stem: few channels, windows up to micro_speech's 10 x 8, rows copied whole or clipped. */
        in.c = f.c = tml_rng_range(r, 1, 3);
        in.h = tml_rng_range(r, 1, 24);
        in.w = tml_rng_range(r, 1, 24);
        f.h = tml_rng_range(r, 1, 10);
        f.w = tml_rng_range(r, 1, 8);
        if (tml_rng_range(r, 0, 2) == 0) {
            in.c = f.c = f.h = f.w = 3; /* an RGB stem */
        }
    }
    tml_conv_params p;
    p.stride_h = tml_rng_range(r, 1, 3);
    p.stride_w = tml_rng_range(r, 1, 3);
    p.dilation_h = tml_rng_range(r, 0, 3) == 0 ? 2 : 1;
    p.dilation_w = tml_rng_range(r, 0, 3) == 0 ? 2 : 1;
    const tml_dims out = {in.n, tml_rng_window_axis(r, in.h, f.h, p.stride_h, p.dilation_h, &p.pad_h),
                          tml_rng_window_axis(r, in.w, f.w, p.stride_w, p.dilation_w, &p.pad_w), f.n};
    if (out.h == 0 || out.w == 0) {
        return;
    }
    const int32_t in_zp = tml_rng_range(r, -128, 127);
    p.input_offset = -in_zp;
    p.output_offset = tml_rng_range(r, -128, 127);
    p.activation_min = -128;
    p.activation_max = 127;
    if (tml_rng_range(r, 0, 1)) {
        p.activation_min = tml_rng_range(r, -128, 0);
        p.activation_max = tml_rng_range(r, p.activation_min, 127);
    }
    const int32_t taps = f.h * f.w * f.c;
    const size_t in_n = (size_t)in.n * in.h * in.w * in.c, out_n = (size_t)out.n * out.h * out.w * out.c;
    int8_t *input = (int8_t *)malloc(in_n), *w = (int8_t *)malloc((size_t)f.n * taps);
    int8_t *packed = (int8_t *)malloc((size_t)tml_test_packed_bytes(f.n, taps, TML_PACKED_CHUNK_WORD_S16));
    int8_t *expected = (int8_t *)malloc(out_n), *actual = (int8_t *)malloc(out_n);
    int32_t *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)f.n), *folded = (int32_t *)malloc(sizeof(int32_t) * (size_t)f.n);
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)f.n), *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)f.n);
    tml_rng_fill_s8(r, input, in_n, 20);
    tml_rng_fill_s8(r, w, (size_t)f.n * taps, 10);
    tml_rng_fill_s32(r, bias, (size_t)f.n, -30000, 30000);
    const int has_bias = tml_rng_range(r, 0, 3) != 0;
    for (int32_t o = 0; o < f.n; o++) {
        tml_test_quantize_multiplier(tml_rng_range(r, 0, 7) == 0 ? tml_rng_double(r, 0.3, 2.0) : tml_rng_scale(r, -4.0, -1.0),
                                     &mult[o], &shift[o]);
    }
    const tml_per_channel_quant q = {mult, shift};
    int ok = TML_CHECK(tml_conv_s8(&p, &q, &in, input, &f, w, has_bias ? bias : NULL, &out, expected, NULL) == TML_OK,
                       "unpacked status");
    tml_test_fold_bias(w, has_bias ? bias : NULL, f.n, taps, p.input_offset, folded);
    const int32_t chunk = tml_test_chunks[tml_rng_range(r, 0, 2)];
    tml_test_pack(w, f.n, taps, chunk, packed);
    const tml_conv_packed_params pp = {p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_h, p.pad_w,
                                       in_zp, p.output_offset, p.activation_min, p.activation_max, chunk};
    const int32_t scratch_bytes = tml_conv_s8_packed_get_buffer_size(&pp, &in, &f, &out);
    ok &= TML_CHECK(scratch_bytes == 2 * taps, "scratch %d for %d taps", (int)scratch_bytes, (int)taps);
    void *scratch = malloc((size_t)scratch_bytes);
    memset(actual, 0x5A, out_n);
    ok &= TML_CHECK(tml_conv_s8_packed(&pp, &q, &in, input, &f, packed, folded, &out, actual, scratch) == TML_OK,
                    "packed status");
    char label[220];
    snprintf(label, sizeof(label),
             "conv packed case %d: in %dx%dx%dx%d filter %dx%dx%dx%d stride %d,%d dilation %d,%d pad %d,%d zp %d chunk 0x%x",
             index, (int)in.n, (int)in.h, (int)in.w, (int)in.c, (int)f.n, (int)f.h, (int)f.w, (int)f.c, (int)p.stride_h,
             (int)p.stride_w, (int)p.dilation_h, (int)p.dilation_w, (int)p.pad_h, (int)p.pad_w, (int)in_zp, (int)chunk);
    ok &= tml_test_compare_s8(label, expected, actual, out_n);
    ok &= TML_CHECK(tml_conv_s8_packed(&pp, &q, &in, input, &f, packed, folded, &out, actual, NULL) == TML_ERROR_ARGUMENT,
                    "no scratch");
    tml_test_record(ok, label);
    free(scratch);
    free(input);
    free(w);
    free(packed);
    free(expected);
    free(actual);
    free(bias);
    free(folded);
    free(mult);
    free(shift);
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0C0Fu);
    for (int i = 0; i < 1500; i++) {
        run_case(&r, i);
    }
    return TML_TEST_SUMMARY("test_conv_packed");
}
