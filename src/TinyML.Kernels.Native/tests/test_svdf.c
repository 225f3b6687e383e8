/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_svdf.c: integer SVDF with int16 state, and with int8 state (4. keyword_scrambled_8bit's layers).
 *
 * 1. A hand-computed three-invoke example (derivation in the comments).
 * 2. Randomized shapes and quantizations (fixed seed), several invokes in a row, against an independent
 *    reference that keeps the state as [batch][filter][memory] and shifts each filter's memory separately;
 *    output and state are compared after every invoke.
 * 3. Conformance: the seven SVDF layers of keyword_scrambled (tensors after the first invoke from zeroed state:
 *    the new state and the output, bit-exact), when the shared/ folder is found (TML_SHARED_DIR, else ../shared
 *    beside the repository).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tml_kernels.h"
#include "tml_test.h"

/* ---- independent reference ------------------------------------------------------------------------------------ */

/* One SVDF step on state[b][f][m] (flattened the same way as the kernel's state). */
static void ref_svdf(const tml_svdf_params *p, const int8_t *input, const int8_t *wf, const int16_t *wt,
                     const int32_t *bias, int16_t *state, int8_t *output)
{
    const int32_t units = p->num_filters / p->rank;
    int32_t b, f, m, k, u;
    for (b = 0; b < p->batches; b++) {
        for (f = 0; f < p->num_filters; f++) {
            int16_t *mem = state + ((size_t)b * (size_t)p->num_filters + (size_t)f) * (size_t)p->memory_size;
            int64_t dot = 0;
            for (m = 0; m + 1 < p->memory_size; m++) {
                mem[m] = mem[m + 1];
            }
            for (k = 0; k < p->input_size; k++) {
                dot += (int64_t)wf[f * p->input_size + k] * (input[b * p->input_size + k] - p->input_zero_point);
            }
            mem[p->memory_size - 1] = (int16_t)tml_ref_clamp(
                tml_ref_requantize((int32_t)dot, p->multiplier_1, p->shift_1) + p->state_zero_point, -32768, 32767);
        }
        for (u = 0; u < units; u++) {
            int64_t acc = bias != NULL ? bias[u] : 0;
            for (k = 0; k < p->rank; k++) {
                const int32_t fi = u * p->rank + k;
                const int16_t *mem =
                    state + ((size_t)b * (size_t)p->num_filters + (size_t)fi) * (size_t)p->memory_size;
                for (m = 0; m < p->memory_size; m++) {
                    acc += (int64_t)wt[fi * p->memory_size + m] * (mem[m] - p->state_zero_point);
                }
            }
            output[b * units + u] = (int8_t)tml_ref_clamp(
                tml_ref_requantize((int32_t)acc, p->multiplier_2, p->shift_2) + p->output_zero_point, -128, 127);
        }
    }
}

/* ---- hand-computed example ---------------------------------------------------------------------------------- */

static void test_hand_example(void)
{
    /*
     * batches 1, input 2, one filter, rank 1, memory 2; both requantizations are x1 (multiplier 2^30, shift 1:
     * round(2x * 2^30 / 2^31) = x); zero points 0; weights_feature [2, 5], weights_time [7, 11], bias 10.
     *   invoke 1, input [3, -2]: feature 3*2 - 2*5 = -4 -> state [0, -4]; time 0*7 + -4*11 = -44; +10 -> -34
     *   invoke 2, input [1, 1]:  feature 7 -> state [-4, 7]; -4*7 + 7*11 = 49; +10 -> 59
     *   invoke 3, input [0, 0]:  feature 0 -> state [7, 0]; 7*7 = 49; +10 -> 59
     */
    tml_svdf_params p;
    const int8_t wf[2] = {2, 5};
    const int16_t wt[2] = {7, 11};
    const int32_t bias[1] = {10};
    const int8_t inputs[3][2] = {{3, -2}, {1, 1}, {0, 0}};
    const int8_t expected_out[3] = {-34, 59, 59};
    const int16_t expected_state[3][2] = {{0, -4}, {-4, 7}, {7, 0}};
    int16_t state[2] = {0, 0};
    int32_t scratch[8];
    int8_t out[1];
    int i, ok = 1;
    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.input_size = 2;
    p.num_filters = 1;
    p.rank = 1;
    p.memory_size = 2;
    p.multiplier_1 = 1 << 30;
    p.shift_1 = 1;
    p.multiplier_2 = 1 << 30;
    p.shift_2 = 1;
    ok &= TML_CHECK(tml_svdf_s8_get_buffer_size(&p) == 8, "buffer size %d", tml_svdf_s8_get_buffer_size(&p));
    for (i = 0; i < 3; i++) {
        ok &= TML_CHECK(tml_svdf_s8(&p, inputs[i], wf, wt, bias, state, scratch, out) == TML_OK, "status");
        ok &= TML_CHECK(out[0] == expected_out[i] && state[0] == expected_state[i][0] &&
                            state[1] == expected_state[i][1],
                        "invoke %d: out %d state [%d %d]", i + 1, out[0], state[0], state[1]);
    }
    tml_test_record(ok, "hand example");
}

/* ---- randomized sweep ---------------------------------------------------------------------------------------- */

static void sweep(tml_rng *rng)
{
    int t;
    for (t = 0; t < 300; t++) {
        tml_svdf_params p;
        int32_t units, n_state, n_scratch_bytes, invoke;
        int8_t *input, *wf, *out, *ref_out;
        int16_t *wt, *state, *ref_state;
        int32_t *bias, *scratch;
        int ok = 1;
        char label[64];
        const int with_bias = tml_rng_range(rng, 0, 3) != 0;
        memset(&p, 0, sizeof p);
        p.batches = tml_rng_range(rng, 1, 3);
        p.input_size = tml_rng_range(rng, 1, 48);
        p.rank = tml_rng_range(rng, 1, 3);
        units = tml_rng_range(rng, 1, 12);
        p.num_filters = units * p.rank;
        p.memory_size = tml_rng_range(rng, 1, 10);
        p.input_zero_point = tml_rng_range(rng, -128, 127);
        p.output_zero_point = tml_rng_range(rng, -128, 127);
        p.state_zero_point = t % 4 == 0 ? tml_rng_range(rng, -50, 50) : 0;
        /* feature scale ~ 2^-6 .. 2^-1 and time scale ~ 2^-14 .. 2^-8: states use a good part of int16 and
         * outputs span int8 with some saturation; a few multipliers are > 1 */
        tml_test_quantize_multiplier(tml_rng_double(rng, 0.01, 1.5), &p.multiplier_1, &p.shift_1);
        tml_test_quantize_multiplier(tml_rng_double(rng, 1e-5, 4e-3), &p.multiplier_2, &p.shift_2);
        n_state = p.batches * p.num_filters * p.memory_size;
        n_scratch_bytes = tml_svdf_s8_get_buffer_size(&p);
        input = (int8_t *)malloc((size_t)(p.batches * p.input_size));
        wf = (int8_t *)malloc((size_t)(p.num_filters * p.input_size));
        wt = (int16_t *)malloc((size_t)(p.num_filters * p.memory_size) * 2);
        bias = (int32_t *)malloc((size_t)units * 4);
        state = (int16_t *)calloc((size_t)n_state, 2);
        ref_state = (int16_t *)calloc((size_t)n_state, 2);
        scratch = (int32_t *)malloc((size_t)n_scratch_bytes);
        out = (int8_t *)malloc((size_t)(p.batches * units));
        ref_out = (int8_t *)malloc((size_t)(p.batches * units));
        ok &= TML_CHECK(n_scratch_bytes == 4 * p.batches * (p.num_filters + units), "buffer size");
        tml_rng_fill_s8(rng, wf, (size_t)(p.num_filters * p.input_size), 0);
        {
            int i;
            for (i = 0; i < p.num_filters * p.memory_size; i++) {
                wt[i] = (int16_t)tml_rng_range(rng, -32768, 32767);
            }
            for (i = 0; i < n_state; i++) {
                state[i] = ref_state[i] = (int16_t)p.state_zero_point;
            }
        }
        tml_rng_fill_s32(rng, bias, (size_t)units, -300000, 300000);
        for (invoke = 0; invoke < 12 && ok; invoke++) {
            tml_rng_fill_s8(rng, input, (size_t)(p.batches * p.input_size), 10);
            ok &= TML_CHECK(tml_svdf_s8(&p, input, wf, wt, with_bias ? bias : NULL, state, scratch, out) == TML_OK,
                            "status");
            ref_svdf(&p, input, wf, wt, with_bias ? bias : NULL, ref_state, ref_out);
            snprintf(label, sizeof label, "svdf sweep %d invoke %d", t, invoke);
            ok &= tml_test_compare_s16(label, ref_state, state, (size_t)n_state);
            ok &= tml_test_compare_s8(label, ref_out, out, (size_t)(p.batches * units));
        }
        snprintf(label, sizeof label, "svdf sweep %d", t);
        tml_test_record(ok, label);
        free(input);
        free(wf);
        free(wt);
        free(bias);
        free(state);
        free(ref_state);
        free(scratch);
        free(out);
        free(ref_out);
    }
}

static void test_argument_errors(void)
{
    tml_svdf_params p;
    int8_t b8[4] = {0, 0, 0, 0};
    int16_t b16[4] = {0, 0, 0, 0};
    int32_t s[8];
    int ok = 1;
    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.input_size = 1;
    p.num_filters = 3;
    p.rank = 2; /* 3 filters are not a multiple of rank 2 */
    p.memory_size = 1;
    ok &= TML_CHECK(tml_svdf_s8_get_buffer_size(&p) == -1, "bad rank");
    ok &= TML_CHECK(tml_svdf_s8(&p, b8, b8, b16, NULL, b16, s, b8) == TML_ERROR_ARGUMENT, "bad rank");
    p.rank = 1;
    ok &= TML_CHECK(tml_svdf_s8(&p, b8, b8, b16, NULL, NULL, s, b8) == TML_ERROR_ARGUMENT, "NULL state");
    ok &= TML_CHECK(tml_svdf_s8(NULL, b8, b8, b16, NULL, b16, s, b8) == TML_ERROR_ARGUMENT, "NULL params");
    tml_test_record(ok, "argument errors");
}

/* ---- keyword_scrambled conformance ---------------------------------------------------------------------------- */

/* One SVDF layer of keyword_scrambled: tensor indices and float32 scales / zero points from its manifest. */
typedef struct {
    int input, weights_feature, weights_time, bias, state, output;
    int32_t batches, input_size, num_filters, memory_size;
    float input_scale, wf_scale, wt_scale, state_scale, output_scale;
    int32_t input_zp, output_zp;
} kws_svdf_layer;

static const kws_svdf_layer k_layers[7] = {
    {0, 1, 2, 3, 4, 5, 1, 96, 64, 8, 0.0592083335f, 0.0091712065f, 0.00370550621f, 0.00437016506f, 0.236183375f,
     -128, -128},
    {8, 9, 10, 11, 12, 13, 1, 16, 64, 8, 0.434007376f, 0.00518311793f, 0.00171087857f, 0.00183673843f,
     0.131417856f, -7, -128},
    {16, 17, 18, 19, 20, 21, 1, 16, 64, 8, 0.215941936f, 0.00649387995f, 0.00157135504f, 0.00143275107f,
     0.0751628652f, -8, -128},
    {24, 25, 26, 27, 28, 29, 1, 16, 64, 8, 0.142925218f, 0.00495964987f, 0.0014864523f, 0.00054102455f,
     0.0405155383f, -13, -128},
    {32, 33, 34, 35, 36, 37, 1, 16, 32, 32, 0.0767166018f, 0.00512833055f, 0.00242393091f, 0.000502922572f,
     0.0797850415f, -2, -128},
    {37, 38, 39, 40, 41, 42, 1, 32, 32, 32, 0.0797850415f, 0.00675093057f, 0.00233710418f, 0.000513599196f,
     0.0651390254f, -128, -128},
    {42, 43, 44, 45, 46, 47, 1, 32, 32, 32, 0.0651390254f, 0.00945538934f, 0.00244076154f, 0.000658778707f,
     0.0958603993f, -128, -128},
};

static long read_tensor(int index, void **data)
{
    char rel[256];
    snprintf(rel, sizeof rel, "golden/keyword_scrambled/tensors_1/t%03d.bin", index);
    return tml_read_shared_file(rel, data);
}

/*
 * The compiler's derivation (TFLM PrepareSvdf): effective scales in float32, widened to double, then
 * QuantizeMultiplier.
 */
static tml_svdf_params derive_kws_layer(const kws_svdf_layer *l)
{
    tml_svdf_params p;
    volatile float s1 = l->input_scale * l->wf_scale;
    volatile float s2 = l->state_scale * l->wt_scale;
    volatile float e1 = s1 / l->state_scale;
    volatile float e2 = s2 / l->output_scale;
    memset(&p, 0, sizeof p);
    p.batches = l->batches;
    p.input_size = l->input_size;
    p.num_filters = l->num_filters;
    p.rank = 1;
    p.memory_size = l->memory_size;
    p.input_zero_point = l->input_zp;
    p.output_zero_point = l->output_zp;
    p.state_zero_point = 0;
    tml_test_quantize_multiplier((double)e1, &p.multiplier_1, &p.shift_1);
    tml_test_quantize_multiplier((double)e2, &p.multiplier_2, &p.shift_2);
    return p;
}

static void test_golden(void)
{
    int i;
    char shared_dir[1024];
    if (!TML_REQUIRE_SHARED("golden/keyword_scrambled/tensors_1/manifest.json")) {
        return;
    }
    for (i = 0; i < 7; i++) {
        const kws_svdf_layer *l = &k_layers[i];
        const tml_svdf_params p = derive_kws_layer(l);
        void *in = NULL, *wf = NULL, *wt = NULL, *bias = NULL, *exp_state = NULL, *exp_out = NULL;
        const long n_state = (long)l->num_filters * l->memory_size;
        char label[96];
        snprintf(label, sizeof label, "keyword_scrambled SVDF layer %d (tensor %d)", i + 1, l->output);
        if (read_tensor(l->input, &in) != l->input_size || read_tensor(l->weights_feature, &wf) !=
                                                               (long)l->num_filters * l->input_size ||
            read_tensor(l->weights_time, &wt) != n_state * 2 || read_tensor(l->bias, &bias) != l->num_filters * 4 ||
            read_tensor(l->state, &exp_state) != n_state * 2 || read_tensor(l->output, &exp_out) != l->num_filters) {
            tml_test_record(0, label);
        } else {
            int16_t *state = (int16_t *)calloc((size_t)n_state, 2);
            int32_t *scratch = (int32_t *)malloc((size_t)tml_svdf_s8_get_buffer_size(&p));
            int8_t out[64];
            const tml_status st = tml_svdf_s8(&p, (const int8_t *)in, (const int8_t *)wf, (const int16_t *)wt,
                                              (const int32_t *)bias, state, scratch, out);
            tml_test_record(st == TML_OK &&
                                tml_test_compare_s16(label, (const int16_t *)exp_state, state, (size_t)n_state) &&
                                tml_test_compare_s8(label, (const int8_t *)exp_out, out, (size_t)l->num_filters),
                            label);
            free(state);
            free(scratch);
        }
        free(in);
        free(wf);
        free(wt);
        free(bias);
        free(exp_state);
        free(exp_out);
    }
    printf("golden: keyword_scrambled's 7 SVDF layers compared from %s\n",
           tml_shared_path(shared_dir, sizeof shared_dir, NULL));
}

/* ---- keyword_scrambled_8bit conformance (int8 state) ------------------------------------------------------------ */

/* One SVDF layer of keyword_scrambled_8bit (int8 time weights and state), from its manifest. */
static const struct {
    int input, weights_feature, weights_time, bias, state, output;
    int32_t batches, input_size, num_filters, memory_size;
    float input_scale, wf_scale, wt_scale, state_scale, output_scale;
    int32_t input_zp, output_zp, state_zp;
} k_layers8[7] = {
    {0, 1, 2, 3, 4, 5, 1, 96, 64, 8, 0.0592083335f, 0.0091712065f, 0.0149387335f, 0.807311416f, 0.236183375f,
     -128, -128, -50},
    {8, 9, 10, 11, 12, 13, 1, 16, 64, 8, 0.434007376f, 0.00518311793f, 0.00689740013f, 0.42939651f, 0.131417856f,
     -7, -128, -13},
    {16, 17, 18, 19, 20, 21, 1, 16, 64, 8, 0.215941936f, 0.00649387995f, 0.00633491157f, 0.306963682f, 0.0751628652f,
     -8, -128, 25},
    {24, 25, 26, 27, 28, 29, 1, 16, 64, 8, 0.142925218f, 0.00495964987f, 0.00599262677f, 0.138393626f, 0.0405155383f,
     -13, -128, -1},
    {32, 33, 34, 35, 36, 37, 1, 16, 32, 32, 0.0767166018f, 0.00512833055f, 0.00977206789f, 0.0995792747f, 0.0797850415f,
     -2, -128, 37},
    {37, 38, 39, 40, 41, 42, 1, 32, 32, 32, 0.0797850415f, 0.00675093057f, 0.00942202657f, 0.122104451f, 0.0651390254f,
     -128, -128, 10},
    {42, 43, 44, 45, 46, 47, 1, 32, 32, 32, 0.0651390254f, 0.00945538934f, 0.00983992033f, 0.157160327f, 0.0958603993f,
     -128, -128, -10},
};

static long read_tensor8(int index, void **data)
{
    char rel[256];
    snprintf(rel, sizeof rel, "golden/keyword_scrambled_8bit/tensors_1/t%03d.bin", index);
    return tml_read_shared_file(rel, data);
}

/* The state as TFLM holds it: the kernel keeps each byte offset by the zero point (mod 256). */
static int8_t decode_state8(int8_t stored, int32_t zp) { return (int8_t)(uint8_t)((uint32_t)(uint8_t)stored + (uint32_t)zp); }

/*
 * Each layer from a zeroed (= reset) state, on TFLM's input: the state and output equal TFLM's after its first
 * invoke. A second invoke on the same input shifts the state: every filter then holds the zero point in all but its
 * last two slots, and TFLM's newest value in both of those.
 */
static void test_golden8(void)
{
    int i;
    if (!TML_REQUIRE_SHARED("golden/keyword_scrambled_8bit/tensors_1/manifest.json")) {
        return;
    }
    for (i = 0; i < 7; i++) {
        kws_svdf_layer l;
        tml_svdf_params p;
        void *in = NULL, *wf = NULL, *wt = NULL, *bias = NULL, *exp_state = NULL, *exp_out = NULL;
        long n_state;
        char label[96];
        memset(&l, 0, sizeof l);
        l.input = k_layers8[i].input; l.weights_feature = k_layers8[i].weights_feature;
        l.weights_time = k_layers8[i].weights_time; l.bias = k_layers8[i].bias; l.state = k_layers8[i].state;
        l.output = k_layers8[i].output; l.batches = k_layers8[i].batches; l.input_size = k_layers8[i].input_size;
        l.num_filters = k_layers8[i].num_filters; l.memory_size = k_layers8[i].memory_size;
        l.input_scale = k_layers8[i].input_scale; l.wf_scale = k_layers8[i].wf_scale;
        l.wt_scale = k_layers8[i].wt_scale; l.state_scale = k_layers8[i].state_scale;
        l.output_scale = k_layers8[i].output_scale; l.input_zp = k_layers8[i].input_zp;
        l.output_zp = k_layers8[i].output_zp;
        p = derive_kws_layer(&l);
        p.state_zero_point = k_layers8[i].state_zp;
        n_state = (long)l.num_filters * l.memory_size;
        snprintf(label, sizeof label, "keyword_scrambled_8bit SVDF layer %d (tensor %d)", i + 1, l.output);
        if (read_tensor8(l.input, &in) != l.input_size ||
            read_tensor8(l.weights_feature, &wf) != (long)l.num_filters * l.input_size ||
            read_tensor8(l.weights_time, &wt) != n_state || read_tensor8(l.bias, &bias) != l.num_filters * 4 ||
            read_tensor8(l.state, &exp_state) != n_state || read_tensor8(l.output, &exp_out) != l.num_filters) {
            tml_test_record(0, label);
        } else {
            int8_t *state = (int8_t *)calloc((size_t)n_state, 1);
            int8_t *decoded = (int8_t *)malloc((size_t)n_state);
            int8_t *shifted = (int8_t *)malloc((size_t)n_state);
            int32_t *scratch = (int32_t *)malloc((size_t)tml_svdf_s8_get_buffer_size(&p));
            const int8_t *es = (const int8_t *)exp_state;
            int8_t out[64];
            long s;
            int ok = tml_svdf_s8_state_s8(&p, (const int8_t *)in, (const int8_t *)wf, (const int8_t *)wt,
                                          (const int32_t *)bias, state, scratch, out) == TML_OK;
            for (s = 0; s < n_state; s++) {
                decoded[s] = decode_state8(state[s], p.state_zero_point);
            }
            ok = ok && tml_test_compare_s8(label, es, decoded, (size_t)n_state) &&
                 tml_test_compare_s8(label, (const int8_t *)exp_out, out, (size_t)l.num_filters);
            ok = ok && tml_svdf_s8_state_s8(&p, (const int8_t *)in, (const int8_t *)wf, (const int8_t *)wt,
                                            (const int32_t *)bias, state, scratch, out) == TML_OK;
            for (s = 0; s < n_state; s++) {
                const long m = s % l.memory_size;
                decoded[s] = decode_state8(state[s], p.state_zero_point);
                shifted[s] = m == l.memory_size - 2 ? es[s + 1] : es[s];
            }
            ok = ok && tml_test_compare_s8(label, shifted, decoded, (size_t)n_state);
            tml_test_record(ok, label);
            free(state);
            free(decoded);
            free(shifted);
            free(scratch);
        }
        free(in);
        free(wf);
        free(wt);
        free(bias);
        free(exp_state);
        free(exp_out);
    }
    printf("golden: keyword_scrambled_8bit's 7 SVDF layers compared\n");
}

int main(void)
{
    tml_rng rng = tml_rng_seed(9001u);
    test_hand_example();
    sweep(&rng);
    test_argument_errors();
    test_golden();
    test_golden8();
    return TML_TEST_SUMMARY("test_svdf");
}
