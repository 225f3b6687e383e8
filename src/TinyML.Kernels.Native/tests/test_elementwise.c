/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_elementwise.c: tml_add_s8, tml_sub_s8, tml_mul_s8, tml_mul_s16 and tml_add_f32 against references written here.
 * Parameters are derived from random float32 scales exactly like TFLM's Prepare (add_common.cc: double;
 * sub_common.cc: float divisions; mul_common.cc: double). Shapes: rank 1..6 with random broadcast patterns on
 * either input, same-shape inputs (flat path), and all 65,536 int8 pairs.
 */
#include <float.h>
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"

enum { OP_ADD = 0, OP_SUB = 1, OP_MUL = 2 };

typedef struct {
    int32_t zp1, zp2, zp_out, lo, hi;
    int32_t m1, s1, m2, s2, mo, so; /* add/sub */
    int32_t mm, sm;                 /* mul */
} ew_quant;

static void derive_quant(tml_rng *r, int op, ew_quant *q)
{
    float sc1 = (float)tml_rng_scale(r, -3.0, -0.5);
    float sc2 = (float)tml_rng_scale(r, -3.0, -0.5);
    float sco = (float)tml_rng_scale(r, -2.5, -0.5);
    if (tml_rng_range(r, 0, 9) == 0) {
        sc2 = sc1; /* equal scales: one input multiplier is exactly 0.5 */
    }
    q->zp1 = tml_rng_range(r, -128, 127);
    q->zp2 = tml_rng_range(r, -128, 127);
    q->zp_out = tml_rng_range(r, -128, 127);
    q->lo = -128;
    q->hi = 127;
    if (tml_rng_range(r, 0, 2) == 0) {
        q->lo = tml_rng_range(r, -128, 0);
        q->hi = tml_rng_range(r, q->lo, 127);
    }
    if (op == OP_ADD) {
        const double twice_max = 2.0 * (double)(sc1 > sc2 ? sc1 : sc2);
        tml_test_quantize_multiplier_smaller_than_one((double)sc1 / twice_max, &q->m1, &q->s1);
        tml_test_quantize_multiplier_smaller_than_one((double)sc2 / twice_max, &q->m2, &q->s2);
        tml_test_quantize_multiplier_smaller_than_one(twice_max / ((1 << 20) * (double)sco), &q->mo, &q->so);
    } else if (op == OP_SUB) {
        const float twice_max = 2.0f * (sc1 > sc2 ? sc1 : sc2);
        tml_test_quantize_multiplier_smaller_than_one((double)(sc1 / twice_max), &q->m1, &q->s1);
        tml_test_quantize_multiplier_smaller_than_one((double)(sc2 / twice_max), &q->m2, &q->s2);
        tml_test_quantize_multiplier_smaller_than_one((double)(twice_max / ((float)(1 << 20) * sco)), &q->mo, &q->so);
    } else {
        double real = (double)sc1 * (double)sc2 / (double)sco;
        if (tml_rng_range(r, 0, 4) == 0) {
            real = tml_rng_double(r, 1.0, 8.0); /* multiplier > 1: positive shift */
        }
        tml_test_quantize_multiplier(real, &q->mm, &q->sm);
    }
}

static int8_t ref_op(int op, const ew_quant *q, int32_t x1, int32_t x2)
{
    int32_t v;
    if (op == OP_MUL) {
        v = tml_ref_mbqm((x1 - q->zp1) * (x2 - q->zp2), q->mm, q->sm) + q->zp_out;
    } else {
        /* left shift 20, then MultiplyByQuantizedMultiplierSmallerThanOneExp = SRDHM + rounding right shift */
        const int32_t a = tml_ref_rdbpot(tml_ref_srdhm((x1 - q->zp1) * (1 << 20), q->m1), -q->s1);
        const int32_t b = tml_ref_rdbpot(tml_ref_srdhm((x2 - q->zp2) * (1 << 20), q->m2), -q->s2);
        const int32_t raw = op == OP_ADD ? a + b : a - b;
        v = tml_ref_rdbpot(tml_ref_srdhm(raw, q->mo), -q->so) + q->zp_out;
    }
    return (int8_t)tml_ref_clamp(v, q->lo, q->hi);
}

static tml_status run_kernel(int op, const ew_quant *q, const tml_broadcast_shape *shape, const int8_t *a,
                             const int8_t *b, int8_t *out)
{
    if (op == OP_MUL) {
        tml_mul_params p;
        p.input1_offset = -q->zp1;
        p.input2_offset = -q->zp2;
        p.output_offset = q->zp_out;
        p.output_quant.multiplier = q->mm;
        p.output_quant.shift = q->sm;
        p.activation_min = q->lo;
        p.activation_max = q->hi;
        return tml_mul_s8(&p, shape, a, b, out);
    }
    tml_add_params p;
    p.input1_offset = -q->zp1;
    p.input2_offset = -q->zp2;
    p.output_offset = q->zp_out;
    p.left_shift = 20;
    p.input1_quant.multiplier = q->m1;
    p.input1_quant.shift = q->s1;
    p.input2_quant.multiplier = q->m2;
    p.input2_quant.shift = q->s2;
    p.output_quant.multiplier = q->mo;
    p.output_quant.shift = q->so;
    p.activation_min = q->lo;
    p.activation_max = q->hi;
    return op == OP_ADD ? tml_add_s8(&p, shape, a, b, out) : tml_sub_s8(&p, shape, a, b, out);
}

/* Random broadcast shapes: out dims; in1/in2 dims equal to out or 1 on each axis (right-aligned, same rank). */
typedef struct {
    int32_t rank;
    int32_t out[TML_MAX_DIMS], d1[TML_MAX_DIMS], d2[TML_MAX_DIMS];
} bshape;

static void random_bshape(tml_rng *r, bshape *s, int same)
{
    s->rank = tml_rng_range(r, 1, TML_MAX_DIMS);
    int32_t total = 1;
    for (int32_t k = 0; k < s->rank; k++) {
        s->out[k] = total > 400 ? 1 : tml_rng_range(r, 1, k == s->rank - 1 ? 17 : 4);
        total *= s->out[k];
        const int mode = same ? 0 : tml_rng_range(r, 0, 3); /* 0: both full, 1: in1 bcast, 2: in2 bcast, 3: both */
        s->d1[k] = (mode == 1 || mode == 3) ? 1 : s->out[k];
        s->d2[k] = (mode == 2) ? 1 : s->out[k];
    }
}

static size_t count_of(const int32_t *d, int32_t rank)
{
    size_t n = 1;
    for (int32_t k = 0; k < rank; k++) {
        n *= (size_t)d[k];
    }
    return n;
}

/* Builds the kernel's stride description: dense strides of each input, 0 on its size-1 axes. */
static void make_shape(const bshape *s, tml_broadcast_shape *out)
{
    memset(out, 0, sizeof(*out));
    out->rank = s->rank;
    int32_t st1 = 1, st2 = 1;
    for (int32_t k = s->rank - 1; k >= 0; k--) {
        out->output_dims[k] = s->out[k];
        out->input1_strides[k] = s->d1[k] == 1 ? 0 : st1;
        out->input2_strides[k] = s->d2[k] == 1 ? 0 : st2;
        st1 *= s->d1[k];
        st2 *= s->d2[k];
    }
}

/* Index into an input of dims d for the output coordinate idx (broadcast axes read coordinate 0). */
static size_t input_index(const int32_t *d, const int32_t *idx, int32_t rank)
{
    size_t off = 0;
    for (int32_t k = 0; k < rank; k++) {
        off = off * (size_t)d[k] + (size_t)(d[k] == 1 ? 0 : idx[k]);
    }
    return off;
}

static void run_case(tml_rng *r, int index)
{
    const int op = tml_rng_range(r, 0, 2);
    ew_quant q;
    derive_quant(r, op, &q);
    bshape s;
    random_bshape(r, &s, tml_rng_range(r, 0, 3) == 0);
    const size_t n1 = count_of(s.d1, s.rank), n2 = count_of(s.d2, s.rank), n = count_of(s.out, s.rank);
    int8_t *a = (int8_t *)malloc(n1);
    int8_t *b = (int8_t *)malloc(n2);
    int8_t *expected = (int8_t *)malloc(n);
    int8_t *actual = (int8_t *)malloc(n);
    tml_rng_fill_s8(r, a, n1, 15);
    tml_rng_fill_s8(r, b, n2, 15);
    int32_t idx[TML_MAX_DIMS] = {0};
    for (size_t i = 0; i < n; i++) {
        expected[i] = ref_op(op, &q, a[input_index(s.d1, idx, s.rank)], b[input_index(s.d2, idx, s.rank)]);
        tml_next_index(idx, s.out, s.rank);
    }
    tml_broadcast_shape shape;
    make_shape(&s, &shape);
    memset(actual, 0x5A, n);
    int ok = TML_CHECK(run_kernel(op, &q, &shape, a, b, actual) == TML_OK, "status");
    char label[160];
    snprintf(label, sizeof(label), "%s case %d: rank %d, %zu outputs, in1 %zu, in2 %zu",
             op == OP_ADD ? "add" : (op == OP_SUB ? "sub" : "mul"), index, s.rank, n, n1, n2);
    ok &= tml_test_compare_s8(label, expected, actual, n);
    if (n1 == n) {
        /* In place: the output aliases input 1 (same shape). */
        memcpy(actual, a, n);
        ok &= TML_CHECK(run_kernel(op, &q, &shape, actual, b, actual) == TML_OK, "in-place status");
        ok &= tml_test_compare_s8("in place", expected, actual, n);
    }
    tml_test_record(ok, label);
    free(a);
    free(b);
    free(expected);
    free(actual);
}

/* Every int8 pair, same shape (flat path), for each op. */
static void all_pairs(tml_rng *r)
{
    static int8_t a[65536], b[65536], expected[65536], actual[65536];
    for (int32_t i = 0; i < 65536; i++) {
        a[i] = (int8_t)((i >> 8) - 128);
        b[i] = (int8_t)((i & 255) - 128);
    }
    for (int op = OP_ADD; op <= OP_MUL; op++) {
        for (int rep = 0; rep < 3; rep++) {
            ew_quant q;
            derive_quant(r, op, &q);
            for (int32_t i = 0; i < 65536; i++) {
                expected[i] = ref_op(op, &q, a[i], b[i]);
            }
            tml_broadcast_shape shape;
            memset(&shape, 0, sizeof(shape));
            shape.rank = 2;
            shape.output_dims[0] = 256;
            shape.output_dims[1] = 256;
            shape.input1_strides[0] = shape.input2_strides[0] = 256;
            shape.input1_strides[1] = shape.input2_strides[1] = 1;
            int ok = TML_CHECK(run_kernel(op, &q, &shape, a, b, actual) == TML_OK, "status");
            char label[64];
            snprintf(label, sizeof(label), "all pairs op %d rep %d", op, rep);
            ok &= tml_test_compare_s8(label, expected, actual, 65536);
            tml_test_record(ok, label);
        }
    }
}

static void float_add(tml_rng *r)
{
    for (int i = 0; i < 300; i++) {
        bshape s;
        random_bshape(r, &s, tml_rng_range(r, 0, 3) == 0);
        const size_t n1 = count_of(s.d1, s.rank), n2 = count_of(s.d2, s.rank), n = count_of(s.out, s.rank);
        float *a = (float *)malloc(n1 * sizeof(float));
        float *b = (float *)malloc(n2 * sizeof(float));
        float *expected = (float *)malloc(n * sizeof(float));
        float *actual = (float *)malloc(n * sizeof(float));
        tml_rng_fill_f32(r, a, n1, -10.0f, 10.0f);
        tml_rng_fill_f32(r, b, n2, -10.0f, 10.0f);
        tml_add_f32_params p = {-FLT_MAX, FLT_MAX};
        if (tml_rng_range(r, 0, 1)) {
            p.activation_min = 0.0f;
            p.activation_max = tml_rng_range(r, 0, 1) ? 6.0f : FLT_MAX;
        }
        int32_t idx[TML_MAX_DIMS] = {0};
        for (size_t j = 0; j < n; j++) {
            float v = a[input_index(s.d1, idx, s.rank)] + b[input_index(s.d2, idx, s.rank)];
            v = v < p.activation_min ? p.activation_min : v;
            v = v > p.activation_max ? p.activation_max : v;
            expected[j] = v;
            tml_next_index(idx, s.out, s.rank);
        }
        tml_broadcast_shape shape;
        make_shape(&s, &shape);
        int ok = TML_CHECK(tml_add_f32(&p, &shape, a, b, actual) == TML_OK, "status");
        char label[64];
        snprintf(label, sizeof(label), "add_f32 case %d rank %d", i, s.rank);
        ok &= tml_test_compare_f32_exact(label, expected, actual, n);
        tml_test_record(ok, label);
        free(a);
        free(b);
        free(expected);
        free(actual);
    }
}

static void fixed_cases(void)
{
    /* Multiplier exactly 1.25 (positive shift): products +-30 land on ties +-37.5. */
    ew_quant q;
    memset(&q, 0, sizeof(q));
    q.lo = -128;
    q.hi = 127;
    tml_test_quantize_multiplier(1.25, &q.mm, &q.sm);
    int ok = TML_CHECK(q.sm == 1, "shift %d", (int)q.sm);
    const int8_t a[4] = {10, -10, 127, -128};
    const int8_t b[4] = {3, 3, 127, 127};
    int8_t out[4];
    tml_broadcast_shape shape;
    memset(&shape, 0, sizeof(shape));
    shape.rank = 1;
    shape.output_dims[0] = 4;
    shape.input1_strides[0] = shape.input2_strides[0] = 1;
    ok &= TML_CHECK(run_kernel(OP_MUL, &q, &shape, a, b, out) == TML_OK, "status");
    const int8_t expected[4] = {38, -37, 127, -128}; /* 37.5 -> 38, -37.5 -> -37 (ties toward +inf) */
    ok &= tml_test_compare_s8("mul gt1", expected, out, 4);

    /* Rejected parameters: add with a positive shift, bad rank, negative stride. */
    tml_add_params p;
    memset(&p, 0, sizeof(p));
    p.left_shift = 20;
    p.activation_min = -128;
    p.activation_max = 127;
    p.output_quant.shift = 1;
    ok &= TML_CHECK(tml_add_s8(&p, &shape, a, b, out) == TML_ERROR_ARGUMENT, "add positive shift");
    p.output_quant.shift = 0;
    tml_broadcast_shape bad = shape;
    bad.rank = 7;
    ok &= TML_CHECK(tml_add_s8(&p, &bad, a, b, out) == TML_ERROR_ARGUMENT, "rank");
    bad = shape;
    bad.input2_strides[0] = -1;
    ok &= TML_CHECK(tml_sub_s8(&p, &bad, a, b, out) == TML_ERROR_ARGUMENT, "stride");
    tml_test_record(ok, "elementwise fixed cases");
}

/* int16 ADD / SUB (left_shift 15): each input scaled by 0.5, the output by 0.5 / 2^14, so out = (a +/- b) / 2
 * exactly; b broadcast (stride 0); the clamp; an int16 clamp bound out of range is refused. */
static void int16_cases(void)
{
    int ok = 1;
    const int16_t a[4] = {1000, -1000, 30000, -30000};
    const int16_t b[1] = {2000};
    int16_t out[4];
    tml_broadcast_shape shape;
    tml_add_params p;
    memset(&shape, 0, sizeof(shape));
    memset(&p, 0, sizeof(p));
    shape.rank = 1;
    shape.output_dims[0] = 4;
    shape.input1_strides[0] = 1;
    shape.input2_strides[0] = 0;
    p.left_shift = 15;
    p.input1_quant.multiplier = p.input2_quant.multiplier = p.output_quant.multiplier = 1 << 30;
    p.output_quant.shift = -14;
    p.activation_min = -32768;
    p.activation_max = 32767;
    ok &= TML_CHECK(tml_add_s16(&p, &shape, a, b, out) == TML_OK, "add s16 status");
    {
        const int16_t expected[4] = {1500, 500, 16000, -14000};
        ok &= tml_test_compare_s16("add s16", expected, out, 4);
    }
    ok &= TML_CHECK(tml_sub_s16(&p, &shape, a, b, out) == TML_OK, "sub s16 status");
    {
        const int16_t expected[4] = {-500, -1500, 14000, -16000};
        ok &= tml_test_compare_s16("sub s16", expected, out, 4);
    }
    p.activation_max = 10000;
    ok &= TML_CHECK(tml_add_s16(&p, &shape, a, b, out) == TML_OK && out[2] == 10000 && out[0] == 1500, "add s16 clamp");
    p.activation_max = 40000;
    ok &= TML_CHECK(tml_add_s16(&p, &shape, a, b, out) == TML_ERROR_ARGUMENT, "add s16 clamp outside int16");
    tml_test_record(ok, "elementwise int16 cases");
}

/* int16 MUL against TFLM's MulElementwise written here from its definition (int32 product, double-rounding
 * requantization by tml_ref_requantize, clamp), over the whole int16 range with b broadcast; multipliers below and
 * above 1; nonzero offsets (TFLM requires zero points 0) and int16-overflowing clamp bounds are refused. */
static void mul_int16_cases(tml_rng *r)
{
    int ok = 1;
    enum { N = 64 };
    int16_t a[N], b[N / 8], out[N], expected[N];
    tml_broadcast_shape shape;
    memset(&shape, 0, sizeof(shape));
    shape.rank = 2;
    shape.output_dims[0] = 8;
    shape.output_dims[1] = 8;
    shape.input1_strides[0] = 8;
    shape.input1_strides[1] = 1;
    shape.input2_strides[0] = 0;
    shape.input2_strides[1] = 1;
    for (int round = 0; round < 200; round++) {
        tml_mul_params p;
        memset(&p, 0, sizeof(p));
        const double real = round % 4 == 0 ? tml_rng_double(r, 1.0, 4.0) : tml_rng_double(r, 1e-6, 1.0);
        tml_test_quantize_multiplier(real, &p.output_quant.multiplier, &p.output_quant.shift);
        p.activation_min = round % 3 == 0 ? tml_rng_range(r, -32768, 0) : -32768;
        p.activation_max = round % 3 == 0 ? tml_rng_range(r, p.activation_min, 32767) : 32767;
        for (int i = 0; i < N; i++) {
            a[i] = (int16_t)tml_rng_range(r, -32768, 32767);
        }
        for (int i = 0; i < N / 8; i++) {
            b[i] = (int16_t)tml_rng_range(r, -32768, 32767);
        }
        for (int i = 0; i < N; i++) {
            const int32_t v = tml_ref_requantize((int32_t)a[i] * b[i % 8], p.output_quant.multiplier, p.output_quant.shift);
            expected[i] = (int16_t)tml_ref_clamp(v, p.activation_min, p.activation_max);
        }
        memset(out, 0x5A, sizeof(out));
        ok &= TML_CHECK(tml_mul_s16(&p, &shape, a, b, out) == TML_OK, "mul s16 status");
        ok &= tml_test_compare_s16("mul s16", expected, out, N);
    }
    tml_mul_params bad;
    memset(&bad, 0, sizeof(bad));
    bad.output_quant.multiplier = 1 << 30;
    bad.activation_min = -32768;
    bad.activation_max = 32767;
    bad.input2_offset = 1;
    ok &= TML_CHECK(tml_mul_s16(&bad, &shape, a, b, out) == TML_ERROR_ARGUMENT, "mul s16 offset");
    bad.input2_offset = 0;
    bad.activation_min = -40000;
    ok &= TML_CHECK(tml_mul_s16(&bad, &shape, a, b, out) == TML_ERROR_ARGUMENT, "mul s16 clamp outside int16");
    tml_test_record(ok, "elementwise mul int16 cases");
}

int main(void)
{
    int16_cases();
    tml_rng r = tml_rng_seed(0xC0DE0005u);
    fixed_cases();
    all_pairs(&r);
    for (int i = 0; i < 1500; i++) {
        run_case(&r, i);
    }
    float_add(&r);
    mul_int16_cases(&r);
    return TML_TEST_SUMMARY("test_elementwise");
}
