/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_data_movement.c: tml_pad, tml_transpose, tml_strided_slice and tml_concat (and their _s8 forms) against
 * references written here, for element sizes 1, 2 and 4 and ranks 1..6. The strided-slice test also resolves
 * begin/end/strides/masks the way TFLM does (StridedSliceStartForAxis / StridedSliceEndForAxis and the
 * LoopCondition loop), which is the derivation the compiler must implement.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

static size_t prod(const int32_t *d, int32_t n)
{
    size_t p = 1;
    for (int32_t i = 0; i < n; i++) {
        p *= (size_t)d[i];
    }
    return p;
}

static size_t flat(const int32_t *idx, const int32_t *dims, int32_t rank)
{
    size_t off = 0;
    for (int32_t k = 0; k < rank; k++) {
        off = off * (size_t)dims[k] + (size_t)idx[k];
    }
    return off;
}

static const int32_t k_elem_sizes[] = {1, 2, 4};

/* ---- PAD ---------------------------------------------------------------------------------------------- */

static void test_pad(tml_rng *r, int index)
{
    const int32_t es = k_elem_sizes[tml_rng_range(r, 0, 2)];
    tml_pad_params p;
    memset(&p, 0, sizeof(p));
    p.rank = tml_rng_range(r, 1, TML_MAX_DIMS);
    int32_t out_dims[TML_MAX_DIMS];
    for (int32_t k = 0; k < p.rank; k++) {
        p.input_dims[k] = tml_rng_range(r, k == 0 && tml_rng_range(r, 0, 9) == 0 ? 0 : 1, 5);
        p.pad_before[k] = tml_rng_range(r, 0, 2);
        p.pad_after[k] = tml_rng_range(r, 0, 2);
        out_dims[k] = p.input_dims[k] + p.pad_before[k] + p.pad_after[k];
    }
    const size_t n_in = prod(p.input_dims, p.rank), n_out = prod(out_dims, p.rank);
    uint8_t *in = (uint8_t *)malloc(n_in * (size_t)es + 1);
    uint8_t *expected = (uint8_t *)malloc(n_out * (size_t)es + 1);
    uint8_t *actual = (uint8_t *)malloc(n_out * (size_t)es + 1);
    uint8_t value[4];
    for (size_t i = 0; i < n_in * (size_t)es; i++) {
        in[i] = (uint8_t)tml_rng_next(r);
    }
    for (int i = 0; i < 4; i++) {
        value[i] = (uint8_t)tml_rng_next(r);
    }
    int32_t idx[TML_MAX_DIMS] = {0}, src[TML_MAX_DIMS];
    for (size_t o = 0; o < n_out; o++) {
        int inside = 1;
        for (int32_t k = 0; k < p.rank; k++) {
            src[k] = idx[k] - p.pad_before[k];
            inside &= src[k] >= 0 && src[k] < p.input_dims[k];
        }
        memcpy(expected + o * (size_t)es, inside ? in + flat(src, p.input_dims, p.rank) * (size_t)es : value,
               (size_t)es);
        tml_next_index(idx, out_dims, p.rank);
    }
    memset(actual, 0xEE, n_out * (size_t)es);
    int ok = TML_CHECK(tml_pad(&p, es, in, value, actual) == TML_OK, "pad status");
    char label[96];
    snprintf(label, sizeof(label), "pad case %d rank %d es %d", index, p.rank, es);
    ok &= tml_test_compare_u8(label, expected, actual, n_out * (size_t)es);
    if (es == 1) {
        memset(actual, 0xEE, n_out);
        ok &= TML_CHECK(tml_pad_s8(&p, (const int8_t *)in, (int8_t)value[0], (int8_t *)actual) == TML_OK, "pad_s8");
        ok &= tml_test_compare_u8(label, expected, actual, n_out);
    }
    tml_test_record(ok, label);
    free(in);
    free(expected);
    free(actual);
}

/* ---- TRANSPOSE ---------------------------------------------------------------------------------------- */

static void test_transpose(tml_rng *r, int index)
{
    const int32_t es = k_elem_sizes[tml_rng_range(r, 0, 2)];
    const int32_t rank = tml_rng_range(r, 1, TML_MAX_DIMS);
    int32_t in_dims[TML_MAX_DIMS], perm[TML_MAX_DIMS], in_strides[TML_MAX_DIMS];
    for (int32_t k = 0; k < rank; k++) {
        in_dims[k] = tml_rng_range(r, 1, 5);
        perm[k] = k;
    }
    for (int32_t k = rank - 1; k > 0; k--) { /* Fisher-Yates */
        int32_t j = tml_rng_range(r, 0, k), t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
    }
    int32_t s = 1;
    for (int32_t k = rank - 1; k >= 0; k--) {
        in_strides[k] = s;
        s *= in_dims[k];
    }
    tml_transpose_params p;
    memset(&p, 0, sizeof(p));
    p.rank = rank;
    for (int32_t i = 0; i < rank; i++) {
        p.output_dims[i] = in_dims[perm[i]];
        p.input_strides[i] = in_strides[perm[i]];
    }
    const size_t n = prod(in_dims, rank);
    uint8_t *in = (uint8_t *)malloc(n * (size_t)es);
    uint8_t *expected = (uint8_t *)malloc(n * (size_t)es);
    uint8_t *actual = (uint8_t *)malloc(n * (size_t)es);
    for (size_t i = 0; i < n * (size_t)es; i++) {
        in[i] = (uint8_t)tml_rng_next(r);
    }
    int32_t oidx[TML_MAX_DIMS] = {0}, iidx[TML_MAX_DIMS];
    for (size_t o = 0; o < n; o++) {
        for (int32_t i = 0; i < rank; i++) {
            iidx[perm[i]] = oidx[i];
        }
        memcpy(expected + o * (size_t)es, in + flat(iidx, in_dims, rank) * (size_t)es, (size_t)es);
        tml_next_index(oidx, p.output_dims, rank);
    }
    memset(actual, 0xEE, n * (size_t)es);
    int ok = TML_CHECK(tml_transpose(&p, es, in, actual) == TML_OK, "transpose status");
    char label[96];
    snprintf(label, sizeof(label), "transpose case %d rank %d es %d", index, rank, es);
    ok &= tml_test_compare_u8(label, expected, actual, n * (size_t)es);
    if (es == 1) {
        memset(actual, 0xEE, n);
        ok &= TML_CHECK(tml_transpose_s8(&p, (const int8_t *)in, (int8_t *)actual) == TML_OK, "transpose_s8");
        ok &= tml_test_compare_u8(label, expected, actual, n);
    }
    tml_test_record(ok, label);
    free(in);
    free(expected);
    free(actual);
}

/* ---- STRIDED_SLICE ------------------------------------------------------------------------------------ */

static int32_t clampi(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* TFLM StridedSliceStartForAxis. */
static int32_t ss_start(int32_t begin, int32_t stride, int begin_masked, int32_t size)
{
    int32_t start = begin;
    if (start < 0) {
        start += size;
    }
    start = stride > 0 ? clampi(start, 0, size) : clampi(start, -1, size - 1);
    if (begin_masked) {
        start = stride > 0 ? 0 : size - 1;
    }
    return start;
}

/* TFLM StridedSliceEndForAxis (offset == false). */
static int32_t ss_end(int32_t end, int32_t stride, int end_masked, int shrink, int32_t start, int32_t size)
{
    if (shrink) {
        return start >= size ? start : start + 1;
    }
    if (end < 0) {
        end += size;
    }
    end = stride > 0 ? clampi(end, 0, size) : clampi(end, -1, size - 1);
    if (end_masked) {
        end = stride > 0 ? size : -1;
    }
    return end;
}

static void test_strided_slice(tml_rng *r, int index)
{
    const int32_t es = k_elem_sizes[tml_rng_range(r, 0, 2)];
    tml_strided_slice_params p;
    memset(&p, 0, sizeof(p));
    p.rank = tml_rng_range(r, 1, 5);
    const int32_t begin_mask = tml_rng_range(r, 0, 31), end_mask = tml_rng_range(r, 0, 31);
    const int32_t shrink_mask = tml_rng_range(r, 0, 3) == 0 ? tml_rng_range(r, 0, 31) : 0;
    int32_t stop[TML_MAX_DIMS];
    for (int32_t k = 0; k < p.rank; k++) {
        const int32_t size = tml_rng_range(r, 1, 7);
        int32_t stride = tml_rng_range(r, 1, 3);
        if (tml_rng_range(r, 0, 2) == 0) {
            stride = -stride;
        }
        const int shrink = (shrink_mask >> k) & 1;
        if (shrink) {
            stride = 1;
        }
        int32_t begin = tml_rng_range(r, -size - 2, size + 2);
        if (shrink) {
            begin = tml_rng_range(r, -size, size - 1); /* TFLite requires a valid index on shrunk axes */
        }
        const int32_t end = tml_rng_range(r, -size - 2, size + 2);
        p.input_dims[k] = size;
        p.stride[k] = stride;
        p.start[k] = ss_start(begin, stride, (begin_mask >> k) & 1, size);
        stop[k] = ss_end(end, stride, (end_mask >> k) & 1, shrink, p.start[k], size);
        /* count = iterations of: for (i = start; !(stride > 0 ? i >= stop : i <= stop); i += stride) */
        int32_t count = 0;
        for (int32_t i = p.start[k]; stride > 0 ? i < stop[k] : i > stop[k]; i += stride) {
            count++;
        }
        p.count[k] = count;
    }
    const size_t n_in = prod(p.input_dims, p.rank), n_out = prod(p.count, p.rank);
    uint8_t *in = (uint8_t *)malloc(n_in * (size_t)es);
    uint8_t *expected = (uint8_t *)malloc(n_out * (size_t)es + 1);
    uint8_t *actual = (uint8_t *)malloc(n_out * (size_t)es + 1);
    for (size_t i = 0; i < n_in * (size_t)es; i++) {
        in[i] = (uint8_t)tml_rng_next(r);
    }
    /* Reference: TFLM's nested loops, innermost axis last. */
    size_t o = 0;
    int32_t idx[TML_MAX_DIMS], pos[TML_MAX_DIMS];
    if (n_out > 0) {
        memset(idx, 0, sizeof(idx));
        do {
            for (int32_t k = 0; k < p.rank; k++) {
                pos[k] = p.start[k] + idx[k] * p.stride[k];
            }
            memcpy(expected + o * (size_t)es, in + flat(pos, p.input_dims, p.rank) * (size_t)es, (size_t)es);
            o++;
        } while (tml_next_index(idx, p.count, p.rank));
    }
    memset(actual, 0xEE, n_out * (size_t)es + 1);
    int ok = TML_CHECK(tml_strided_slice(&p, es, in, actual) == TML_OK, "strided slice status");
    char label[96];
    snprintf(label, sizeof(label), "strided slice case %d rank %d es %d out %zu", index, p.rank, es, n_out);
    ok &= tml_test_compare_u8(label, expected, actual, n_out * (size_t)es);
    ok &= TML_CHECK(actual[n_out * (size_t)es] == 0xEE, "wrote past the output");
    if (es == 1) {
        ok &= TML_CHECK(tml_strided_slice_s8(&p, (const int8_t *)in, (int8_t *)actual) == TML_OK, "ss_s8");
        ok &= tml_test_compare_u8(label, expected, actual, n_out);
    }
    tml_test_record(ok, label);
    free(in);
    free(expected);
    free(actual);
}

/* ---- CONCATENATION ------------------------------------------------------------------------------------ */

static void test_concat(tml_rng *r, int index)
{
    const int32_t es = k_elem_sizes[tml_rng_range(r, 0, 2)];
    const int32_t rank = tml_rng_range(r, 1, 5);
    const int32_t axis = tml_rng_range(r, 0, rank - 1);
    const int32_t num = tml_rng_range(r, 1, 4);
    int32_t dims[8][TML_MAX_DIMS];
    int32_t out_dims[TML_MAX_DIMS];
    for (int32_t k = 0; k < rank; k++) {
        out_dims[k] = tml_rng_range(r, 1, 4);
    }
    out_dims[axis] = 0;
    uint8_t *inputs[8];
    int32_t copy_sizes[8];
    for (int32_t i = 0; i < num; i++) {
        memcpy(dims[i], out_dims, sizeof(out_dims));
        dims[i][axis] = tml_rng_range(r, 1, 4);
        out_dims[axis] += dims[i][axis];
        const size_t n = prod(dims[i], rank) * (size_t)es;
        inputs[i] = (uint8_t *)malloc(n);
        for (size_t j = 0; j < n; j++) {
            inputs[i][j] = (uint8_t)tml_rng_next(r);
        }
        copy_sizes[i] = (int32_t)prod(dims[i] + axis, rank - axis);
    }
    const size_t n_out = prod(out_dims, rank);
    uint8_t *expected = (uint8_t *)malloc(n_out * (size_t)es);
    uint8_t *actual = (uint8_t *)malloc(n_out * (size_t)es);
    int32_t idx[TML_MAX_DIMS] = {0};
    for (size_t o = 0; o < n_out; o++) {
        int32_t a = idx[axis], which = 0;
        while (a >= dims[which][axis]) {
            a -= dims[which][axis];
            which++;
        }
        int32_t src[TML_MAX_DIMS];
        memcpy(src, idx, sizeof(src));
        src[axis] = a;
        memcpy(expected + o * (size_t)es, inputs[which] + flat(src, dims[which], rank) * (size_t)es, (size_t)es);
        tml_next_index(idx, out_dims, rank);
    }
    tml_concat_params p;
    p.num_inputs = num;
    p.outer_size = (int32_t)prod(out_dims, axis);
    p.copy_sizes = copy_sizes;
    memset(actual, 0xEE, n_out * (size_t)es);
    int ok = TML_CHECK(tml_concat(&p, es, (const void *const *)inputs, actual) == TML_OK, "concat status");
    char label[96];
    snprintf(label, sizeof(label), "concat case %d rank %d axis %d inputs %d es %d", index, rank, axis, num, es);
    ok &= tml_test_compare_u8(label, expected, actual, n_out * (size_t)es);
    if (es == 1) {
        memset(actual, 0xEE, n_out);
        ok &= TML_CHECK(tml_concat_s8(&p, (const int8_t *const *)inputs, (int8_t *)actual) == TML_OK, "concat_s8");
        ok &= tml_test_compare_u8(label, expected, actual, n_out);
    }
    tml_test_record(ok, label);
    for (int32_t i = 0; i < num; i++) {
        free(inputs[i]);
    }
    free(expected);
    free(actual);
}

static void argument_checks(void)
{
    int8_t buf[16] = {0}, out[16];
    tml_pad_params pp;
    memset(&pp, 0, sizeof(pp));
    pp.rank = 0;
    int ok = TML_CHECK(tml_pad_s8(&pp, buf, 0, out) == TML_ERROR_ARGUMENT, "pad rank 0");
    pp.rank = 1;
    pp.input_dims[0] = 2;
    pp.pad_before[0] = -1;
    ok &= TML_CHECK(tml_pad_s8(&pp, buf, 0, out) == TML_ERROR_ARGUMENT, "negative pad");
    pp.pad_before[0] = 0;
    ok &= TML_CHECK(tml_pad(&pp, 3, buf, buf, out) == TML_ERROR_ARGUMENT, "element size 3");
    tml_strided_slice_params sp;
    memset(&sp, 0, sizeof(sp));
    sp.rank = 1;
    sp.input_dims[0] = 4;
    sp.start[0] = 1;
    sp.stride[0] = 2;
    sp.count[0] = 3; /* reads index 5: out of bounds */
    ok &= TML_CHECK(tml_strided_slice_s8(&sp, buf, out) == TML_ERROR_ARGUMENT, "slice out of bounds");
    sp.count[0] = 2;
    sp.stride[0] = 0;
    ok &= TML_CHECK(tml_strided_slice_s8(&sp, buf, out) == TML_ERROR_ARGUMENT, "stride 0");
    tml_concat_params cp = {0, 1, NULL};
    const int8_t *ins[1] = {buf};
    ok &= TML_CHECK(tml_concat_s8(&cp, ins, out) == TML_ERROR_ARGUMENT, "concat no inputs");
    tml_test_record(ok, "data movement argument checks");
}

/* ---- COPY WINDOW -------------------------------------------------------------------------------------- */

/* A random window between two random images, checked pixel by pixel against index arithmetic; bytes outside
 * the destination window must keep their old values. */
static void test_copy_window(tml_rng *r, int index)
{
    const int32_t es = k_elem_sizes[tml_rng_range(r, 0, 2)];
    tml_copy_window_params p;
    p.channels = tml_rng_range(r, 1, 5);
    p.height = tml_rng_range(r, 1, 6);
    p.width = tml_rng_range(r, 1, 6);
    p.input_h = p.height + tml_rng_range(r, 0, 4);
    p.input_w = p.width + tml_rng_range(r, 0, 4);
    p.output_h = p.height + tml_rng_range(r, 0, 4);
    p.output_w = p.width + tml_rng_range(r, 0, 4);
    p.input_y = tml_rng_range(r, 0, p.input_h - p.height);
    p.input_x = tml_rng_range(r, 0, p.input_w - p.width);
    p.output_y = tml_rng_range(r, 0, p.output_h - p.height);
    p.output_x = tml_rng_range(r, 0, p.output_w - p.width);
    const size_t pixel = (size_t)p.channels * (size_t)es;
    const size_t n_in = (size_t)p.input_h * p.input_w * pixel, n_out = (size_t)p.output_h * p.output_w * pixel;
    uint8_t *in = (uint8_t *)malloc(n_in);
    uint8_t *expected = (uint8_t *)malloc(n_out);
    uint8_t *actual = (uint8_t *)malloc(n_out);
    for (size_t i = 0; i < n_in; i++) {
        in[i] = (uint8_t)tml_rng_next(r);
    }
    for (size_t i = 0; i < n_out; i++) {
        expected[i] = actual[i] = (uint8_t)tml_rng_next(r);
    }
    for (int32_t y = 0; y < p.height; y++) {
        for (int32_t x = 0; x < p.width; x++) {
            for (size_t b = 0; b < pixel; b++) {
                expected[((size_t)(p.output_y + y) * p.output_w + (size_t)(p.output_x + x)) * pixel + b] =
                    in[((size_t)(p.input_y + y) * p.input_w + (size_t)(p.input_x + x)) * pixel + b];
            }
        }
    }
    char label[64];
    snprintf(label, sizeof(label), "copy_window #%d", index);
    TML_CHECK(tml_copy_window(&p, es, in, actual) == TML_OK, "%s: status", label);
    tml_test_compare_u8(label, expected, actual, n_out);
    /* One row too many on either side is refused. */
    tml_copy_window_params bad = p;
    bad.input_y = p.input_h - p.height + 1;
    TML_CHECK(tml_copy_window(&bad, es, in, actual) == TML_ERROR_ARGUMENT, "%s: source overrun accepted", label);
    bad = p;
    bad.output_x = p.output_w - p.width + 1;
    TML_CHECK(tml_copy_window(&bad, es, in, actual) == TML_ERROR_ARGUMENT, "%s: destination overrun accepted", label);
    free(in);
    free(expected);
    free(actual);
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0006u);
    argument_checks();
    for (int i = 0; i < 600; i++) {
        test_pad(&r, i);
        test_transpose(&r, i);
        test_strided_slice(&r, i);
        test_concat(&r, i);
        test_copy_window(&r, i);
    }
    return TML_TEST_SUMMARY("test_data_movement");
}
