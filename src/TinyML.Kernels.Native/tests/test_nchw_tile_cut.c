/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_nchw_tile_cut.c: the input-tile cut of a patched plan whose graph input is NCHW (a folded TRANSPOSE by
 * [0, 2, 3, 1]). The compiler emits it as tml_transpose started at the box's first element of channel 0, output
 * dims [1, box_h, box_w, C] and the NCHW strides in NHWC order [C*H*W, W, 1, H*W] (Lowerer.Patches, CutNchw).
 * Checked here against an element-by-element reference over random images and boxes, for element sizes 1 and 4
 * (int8 and float32), including that nothing is written past the tile.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

static void test_cut(tml_rng *r, int index)
{
    const int32_t es = tml_rng_range(r, 0, 1) ? 4 : 1;
    const int32_t c = tml_rng_range(r, 1, 5), h = tml_rng_range(r, 1, 12), w = tml_rng_range(r, 1, 12);
    const int32_t y0 = tml_rng_range(r, 0, h - 1), x0 = tml_rng_range(r, 0, w - 1);
    const int32_t bh = tml_rng_range(r, 1, h - y0), bw = tml_rng_range(r, 1, w - x0);
    const size_t n_in = (size_t)c * (size_t)h * (size_t)w * (size_t)es;
    const size_t n_out = (size_t)bh * (size_t)bw * (size_t)c * (size_t)es;
    uint8_t *in = (uint8_t *)malloc(n_in);
    uint8_t *expected = (uint8_t *)malloc(n_out);
    uint8_t *actual = (uint8_t *)malloc(n_out + 1);
    for (size_t i = 0; i < n_in; i++) {
        in[i] = (uint8_t)tml_rng_next(r);
    }
    /* Tile pixel (y, x), channel k is image element [k][y0 + y][x0 + x]. */
    for (int32_t y = 0; y < bh; y++) {
        for (int32_t x = 0; x < bw; x++) {
            for (int32_t k = 0; k < c; k++) {
                const size_t from = (((size_t)k * (size_t)h + (size_t)(y0 + y)) * (size_t)w + (size_t)(x0 + x)) * (size_t)es;
                const size_t to = (((size_t)y * (size_t)bw + (size_t)x) * (size_t)c + (size_t)k) * (size_t)es;
                memcpy(expected + to, in + from, (size_t)es);
            }
        }
    }
    memset(actual, 0xEE, n_out + 1);
    tml_transpose_params p;
    memset(&p, 0, sizeof(p));
    p.rank = 4;
    p.output_dims[0] = 1;
    p.output_dims[1] = bh;
    p.output_dims[2] = bw;
    p.output_dims[3] = c;
    p.input_strides[0] = c * h * w;
    p.input_strides[1] = w;
    p.input_strides[2] = 1;
    p.input_strides[3] = h * w;
    const uint8_t *start = in + ((size_t)y0 * (size_t)w + (size_t)x0) * (size_t)es;
    char label[96];
    snprintf(label, sizeof(label), "nchw cut %d (es %d, %dx%dx%d, box %d+%d x %d+%d)", index, (int)es, (int)c, (int)h,
             (int)w, (int)y0, (int)bh, (int)x0, (int)bw);
    int ok = TML_CHECK(tml_transpose(&p, es, start, actual) == TML_OK, "%s: status", label);
    ok &= tml_test_compare_u8(label, expected, actual, n_out);
    ok &= TML_CHECK(actual[n_out] == 0xEE, "%s: wrote past the tile", label);
    tml_test_record(ok, label);
    free(in);
    free(expected);
    free(actual);
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0614u);
    for (int i = 0; i < 2000; i++) {
        test_cut(&r, i);
    }
    return TML_TEST_SUMMARY("test_nchw_tile_cut");
}
