/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_elementwise_f32.c: the float32 SUB, MUL, DIV, MAXIMUM, MINIMUM, PRELU, RELU family, LEAKY_RELU, HARD_SWISH
 * and MEAN kernels against references written here from TFLM's reference formulas: broadcasting by 4-D
 * multi-indices (as TFLM's Broadcast*4DSlow walk it, not by our strides), MEAN by summing each output's inputs in
 * row-major order. None of these operators calls a library function, so every value must be bit-identical.
 */
#include <math.h>

#include "tml_kernels.h"
#include "tml_test.h"

#define RANK 4

enum op { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN, OP_PRELU, OP_COUNT };

static const char *const op_names[OP_COUNT] = {"ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "PRELU"};

static float clampf_ref(float v, float lo, float hi)
{
    const float m = v < lo ? lo : v; /* std::max(v, lo) */
    return hi < m ? hi : m;          /* std::min(m, hi) */
}

static float reference(enum op op, float x, float y, float lo, float hi)
{
    switch (op) {
    case OP_ADD: return clampf_ref(x + y, lo, hi);
    case OP_SUB: return clampf_ref(x - y, lo, hi);
    case OP_MUL: return clampf_ref(x * y, lo, hi);
    case OP_DIV: return clampf_ref(x / y, lo, hi);
    case OP_MAX: return x > y ? x : y;
    case OP_MIN: return x < y ? x : y;
    default: return x >= 0.0f ? x : x * y;
    }
}

static tml_status run(enum op op, const tml_add_f32_params *p, const tml_broadcast_shape *s, const float *a,
                      const float *b, float *out)
{
    switch (op) {
    case OP_ADD: return tml_add_f32(p, s, a, b, out);
    case OP_SUB: return tml_sub_f32(p, s, a, b, out);
    case OP_MUL: return tml_mul_f32(p, s, a, b, out);
    case OP_DIV: return tml_div_f32(p, s, a, b, out);
    case OP_MAX: return tml_maximum_f32(s, a, b, out);
    case OP_MIN: return tml_minimum_f32(s, a, b, out);
    default: return tml_prelu_f32(s, a, b, out);
    }
}

/* Values with negatives, zeros and a few exact halves, so that clamps and ties happen. */
static float random_value(tml_rng *r)
{
    switch (tml_rng_range(r, 0, 7)) {
    case 0: return 0.0f;
    case 1: return (float)tml_rng_range(r, -8, 8) * 0.5f;
    default: return tml_rng_float(r, -8.0f, 8.0f);
    }
}

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static void test_binary(tml_rng *r, enum op op, int index)
{
    int32_t out_dims[RANK], a_dims[RANK], b_dims[RANK];
    for (int d = 0; d < RANK; d++) {
        out_dims[d] = tml_rng_range(r, 1, 4);
        a_dims[d] = tml_rng_range(r, 0, 3) == 0 ? 1 : out_dims[d];
        b_dims[d] = tml_rng_range(r, 0, 3) == 0 ? 1 : out_dims[d];
    }
    /* Shapes are the broadcast of both: an output dimension no input has is 1. */
    for (int d = 0; d < RANK; d++) {
        if (a_dims[d] == 1 && b_dims[d] == 1) out_dims[d] = 1;
    }
    tml_broadcast_shape s;
    memset(&s, 0, sizeof s);
    s.rank = RANK;
    int32_t sa = 1, sb = 1, na = 1, nb = 1, n = 1;
    for (int d = RANK - 1; d >= 0; d--) {
        s.output_dims[d] = out_dims[d];
        s.input1_strides[d] = a_dims[d] == 1 ? 0 : sa;
        s.input2_strides[d] = b_dims[d] == 1 ? 0 : sb;
        sa *= a_dims[d];
        sb *= b_dims[d];
    }
    na = sa;
    nb = sb;
    n = out_dims[0] * out_dims[1] * out_dims[2] * out_dims[3];
    float a[256], b[256], out[256], expected[256];
    for (int i = 0; i < na; i++) a[i] = random_value(r);
    for (int i = 0; i < nb; i++) b[i] = random_value(r);
    static const float bounds[4][2] = {{-INFINITY, INFINITY}, {0.0f, INFINITY}, {0.0f, 6.0f}, {-1.0f, 1.0f}};
    const int act = tml_rng_range(r, 0, 3);
    tml_add_f32_params p = {bounds[act][0], bounds[act][1]};
    for (int i0 = 0; i0 < out_dims[0]; i0++)
        for (int i1 = 0; i1 < out_dims[1]; i1++)
            for (int i2 = 0; i2 < out_dims[2]; i2++)
                for (int i3 = 0; i3 < out_dims[3]; i3++) {
                    const int idx[RANK] = {i0, i1, i2, i3};
                    int ia = 0, ib = 0, io = 0;
                    for (int d = 0; d < RANK; d++) {
                        ia = ia * a_dims[d] + (a_dims[d] == 1 ? 0 : idx[d]);
                        ib = ib * b_dims[d] + (b_dims[d] == 1 ? 0 : idx[d]);
                        io = io * out_dims[d] + idx[d];
                    }
                    expected[io] = reference(op, a[ia], b[ib], p.activation_min, p.activation_max);
                }
    int ok = TML_CHECK(run(op, &p, &s, a, b, out) == TML_OK, "%s status", op_names[op]);
    for (int i = 0; i < n && ok; i++) {
        ok &= TML_CHECK(same_bits(out[i], expected[i]), "%s case %d element %d: %.9g, expected %.9g", op_names[op],
                        index, i, (double)out[i], (double)expected[i]);
    }
    tml_test_record(ok, op_names[op]);
}

static void test_unary(tml_rng *r)
{
    float x[512], out[512];
    for (int i = 0; i < 512; i++) x[i] = i < 64 ? (float)(i - 32) * 0.25f : random_value(r);
    const tml_relu_bounded_f32_params bounds[2] = {{0.0f, 6.0f}, {-1.0f, 1.0f}};
    int ok = 1;
    float with_inf[514];
    memcpy(with_inf, x, sizeof x);
    with_inf[512] = INFINITY;
    with_inf[513] = -INFINITY;
    float relu_out[514];
    ok &= TML_CHECK(tml_relu_f32(with_inf, 514, relu_out) == TML_OK, "relu status");
    for (int i = 0; i < 514; i++) {
        /* TFLM's Relu: only the lower bound. */
        const float e = with_inf[i] < 0.0f ? 0.0f : with_inf[i];
        ok &= TML_CHECK(same_bits(relu_out[i], e), "relu x=%.9g: %.9g", (double)with_inf[i], (double)relu_out[i]);
    }
    for (int k = 0; k < 2; k++) {
        ok &= TML_CHECK(tml_relu_bounded_f32(&bounds[k], x, 512, out) == TML_OK, "bounded relu status");
        for (int i = 0; i < 512; i++) {
            const float e = fminf(bounds[k].max, fmaxf(bounds[k].min, x[i]));
            ok &= TML_CHECK(same_bits(out[i], e), "bounded relu %d x=%.9g: %.9g", k, (double)x[i], (double)out[i]);
        }
    }
    tml_test_record(ok, "RELU, RELU6, RELU_N1_TO_1");
    ok = 1;
    const tml_leaky_relu_f32_params leaky = {0.2f};
    ok &= TML_CHECK(tml_leaky_relu_f32(&leaky, x, 512, out) == TML_OK, "leaky status");
    for (int i = 0; i < 512; i++) {
        const float e = x[i] > 0.0f ? x[i] : x[i] * 0.2f;
        ok &= TML_CHECK(same_bits(out[i], e), "leaky x=%.9g: %.9g", (double)x[i], (double)out[i]);
    }
    tml_test_record(ok, "LEAKY_RELU");
    ok = 1;
    memcpy(out, x, sizeof x);
    ok &= TML_CHECK(tml_hard_swish_f32(out, 512, out) == TML_OK, "hard swish status (in place)");
    for (int i = 0; i < 512; i++) {
        const float t = x[i] + 3.0f;
        const float six = fminf(6.0f, fmaxf(0.0f, t));
        const float e = x[i] * six / 6.0f;
        ok &= TML_CHECK(same_bits(out[i], e), "hard swish x=%.9g: %.9g, expected %.9g", (double)x[i],
                        (double)out[i], (double)e);
    }
    /* Spot values by hand: hard_swish(-3) = 0, hard_swish(3) = 3, hard_swish(1) = 1 * 4 / 6. */
    const float spots[3] = {-3.0f, 3.0f, 1.0f};
    float spot_out[3];
    tml_hard_swish_f32(spots, 3, spot_out);
    ok &= TML_CHECK(spot_out[0] == 0.0f && spot_out[1] == 3.0f && spot_out[2] == 4.0f / 6.0f, "hard swish spots");
    tml_test_record(ok, "HARD_SWISH");
}

static void test_mean(tml_rng *r, int index)
{
    tml_mean_f32_params p;
    memset(&p, 0, sizeof p);
    p.rank = tml_rng_range(r, 1, 4);
    int32_t total = 1;
    int any = 0;
    for (int d = 0; d < p.rank; d++) {
        p.input_dims[d] = tml_rng_range(r, 1, 5);
        p.reduced[d] = tml_rng_range(r, 0, 1);
        any |= p.reduced[d];
        total *= p.input_dims[d];
    }
    if (!any) p.reduced[tml_rng_range(r, 0, p.rank - 1)] = 1;
    float x[625], out[625], expected[625];
    for (int i = 0; i < total; i++) x[i] = random_value(r);
    /* For each output (the kept dims' multi-index), sum its inputs in row-major input order. */
    int32_t outputs = 1, count = 1;
    for (int d = 0; d < p.rank; d++) {
        if (p.reduced[d]) count *= p.input_dims[d];
        else outputs *= p.input_dims[d];
    }
    for (int o = 0; o < outputs; o++) {
        float sum = 0.0f;
        for (int i = 0; i < total; i++) {
            int rest = i, oi = 0, scale = 1;
            for (int d = p.rank - 1; d >= 0; d--) {
                const int c = rest % p.input_dims[d];
                rest /= p.input_dims[d];
                if (!p.reduced[d]) {
                    oi += c * scale;
                    scale *= p.input_dims[d];
                }
            }
            if (oi == o) sum += x[i];
        }
        expected[o] = sum / (float)count;
    }
    int ok = TML_CHECK(tml_mean_f32(&p, x, out) == TML_OK, "mean status");
    for (int o = 0; o < outputs && ok; o++) {
        ok &= TML_CHECK(same_bits(out[o], expected[o]), "mean case %d output %d: %.9g, expected %.9g", index, o,
                        (double)out[o], (double)expected[o]);
    }
    tml_test_record(ok, "MEAN");
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xF32E1E00u);
    for (int i = 0; i < 300; i++) {
        for (int op = 0; op < OP_COUNT; op++) test_binary(&r, (enum op)op, i);
        test_mean(&r, i);
    }
    test_unary(&r);
    tml_broadcast_shape bad;
    memset(&bad, 0, sizeof bad);
    float v = 1.0f;
    tml_mean_f32_params bad_mean;
    memset(&bad_mean, 0, sizeof bad_mean);
    tml_test_record(TML_CHECK(tml_maximum_f32(&bad, &v, &v, &v) == TML_ERROR_ARGUMENT, "rank 0") &&
                        TML_CHECK(tml_sub_f32(NULL, &bad, &v, &v, &v) == TML_ERROR_ARGUMENT, "no params") &&
                        TML_CHECK(tml_mean_f32(&bad_mean, &v, &v) == TML_ERROR_ARGUMENT, "mean rank 0") &&
                        TML_CHECK(tml_relu_bounded_f32(NULL, &v, 1, &v) == TML_ERROR_ARGUMENT, "relu params"),
                    "float argument checks");
    return TML_TEST_SUMMARY("test_elementwise_f32");
}
