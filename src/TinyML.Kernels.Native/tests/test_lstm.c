/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_lstm.c: UNIDIRECTIONAL_SEQUENCE_LSTM, int8 (tml_lstm_s8), 16x8 (tml_lstm_s16) and float32 (tml_lstm_f32).
 *
 * 1. A hand-computed int8 sequence of two steps from TFLM's sigmoid table (derivation in the comments), and a
 *    step with a sigmoid cell gate (the kernel takes it; TFLite files can only name TANH).
 *    The hand example through the 16x8 kernel (int16 x int8 FC, int64 bias), and an int64 bias beyond int32.
 * 2. Argument checks and the scratch size (TFLM's four buffers); 16x8 zero points and shifts.
 * 3. A float32 step against closed-form sigmoid/tanh (loose: libm may round differently).
 * 4. Conformance: mnist_lstm_int8's LSTM from its TFLM tensors after the first invoke (the 28-step output and both
 *    states, bit-exact), when the shared/ folder is found (TML_SHARED_DIR, else ../shared beside the repository).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tml_kernels.h"
#include "tml_test.h"

/* One unit, one input; every weight 0 and every gate FC's multiplier the identity (2^30, shift 1), so each gate's
 * Q3.12 input is its bias. */
static tml_lstm_s8_params hand_params(int32_t steps)
{
    tml_lstm_s8_params p;
    int g;
    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.time_steps = steps;
    p.input_size = 1;
    p.state_size = 1;
    p.hidden_zero_point = 5;
    for (g = 0; g < 4; g++) {
        p.input_multiplier[g] = 1 << 30;
        p.input_shift[g] = 1;
        p.recurrent_multiplier[g] = 1 << 30;
        p.recurrent_shift[g] = 1;
    }
    p.cell_gate_activation = TML_LSTM_GATE_TANH;
    p.cell_scale_power = -11;
    tml_test_quantize_multiplier(1.0 / 32768, &p.forget_multiplier, &p.forget_shift);       /* 2^-15 2^-11 / 2^-11 */
    tml_test_quantize_multiplier(1.0 / 524288, &p.input_gate_multiplier, &p.input_gate_shift); /* 2^-30 / 2^-11 */
    tml_test_quantize_multiplier(1.0 / 8388608, &p.hidden_multiplier, &p.hidden_shift);      /* 2^-30 / 2^-7 */
    return p;
}

static void test_hand_example(void)
{
    /*
     * Biases: forget 0, input 0, cell 4096 (1.0 in Q3.12), output 0.
     *   sigmoid(0): |3 x 0| >> 9 = 0 -> (32768 << 9) + 2^9 >> 10 = 16384 (0.5).
     *   tanh(1.0): 3 x 4096 = 12288 -> index 48, fraction 0 -> (57724 << 8) - 2^23 + 2^7 >> 8 = 24956 (0.76159).
     * Step 1: c = 0.5 x 0 + 16384 x 24956 / 2^19 = 779.88 -> 780 (cell scale 2^-11: 0.3809).
     *   tanh(c): left shift 15 - 11 - 3 = 1, so x = 6 x 780 = 4680 -> index 18, fraction 72:
     *   (44511 << 8) + 72 x (45102 - 44511) = 11437368; - 2^23 + 2^7 = 3048888 >> 8 = 11909 (0.36343).
     *   h = 11909 x 16384 / 2^23 = 23.26 -> 23, + zero point 5 = 28 (hidden scale 2^-7).
     * Step 2: c = 16384 x 780 / 2^15 + 780 = 390 + 780 = 1170; x = 7020 -> index 27, fraction 108:
     *   (49475 << 8) + 108 x 500 = 12719600; - 2^23 + 2^7 = 4331120 >> 8 = 16918 (0.51630).
     *   h = 16918 x 16384 / 2^23 = 33.04 -> 33, + 5 = 38.
     */
    const tml_lstm_s8_params p = hand_params(2);
    const int8_t input[2] = {17, -90}; /* any values: the input weights are 0 */
    const int8_t zero_weights[1] = {0};
    const int32_t bias_zero[1] = {0}, bias_cell[1] = {4096};
    const void *weights[8] = {zero_weights, zero_weights, zero_weights, zero_weights,
                              zero_weights, zero_weights, zero_weights, zero_weights};
    const void *biases[4] = {bias_zero, bias_zero, bias_cell, bias_zero};
    int8_t hidden = 0, output[2] = {0, 0};
    int16_t cell = 0, scratch[4];
    const tml_status st = tml_lstm_s8(&p, input, weights, biases, &hidden, &cell, scratch, output);
    TML_CHECK(st == TML_OK, "hand example: status %d", (int)st);
    TML_CHECK(output[0] == 28 && output[1] == 38, "hand example: outputs %d %d, expected 28 38", output[0], output[1]);
    TML_CHECK(cell == 1170, "hand example: cell %d, expected 1170", cell);
    TML_CHECK(hidden == 33, "hand example: stored hidden %d, expected 33 (38 less the zero point)", hidden);
}

/*
 * The hand example through the 16x8 kernel: zero points 0, and the cell gate's Q3.12 4096 now comes through the
 * int16 x int8 FC (2 x 1000 + int64 bias 2096; the 64-bit requantization of (2^30, 1) is exact: 2^30 rounds to
 * 16384, shifted right by 14). The steps are the int8 example's less its zero point: h 23 then 33, cell 1170.
 */
static void test_hand_example_16x8(void)
{
    tml_lstm_s8_params p = hand_params(2);
    const int16_t input[2] = {1000, 1000};
    const int8_t zero_weights[1] = {0}, cell_weights[1] = {2};
    const int64_t bias_zero[1] = {0}, bias_cell[1] = {2096};
    const void *weights[8] = {zero_weights, zero_weights, cell_weights, zero_weights,
                              zero_weights, zero_weights, zero_weights, zero_weights};
    const void *biases[4] = {bias_zero, bias_zero, bias_cell, bias_zero};
    int16_t hidden = 0, output[2] = {0, 0}, cell = 0, scratch[4];
    p.hidden_zero_point = 0;
    const tml_status st = tml_lstm_s16(&p, input, weights, biases, &hidden, &cell, scratch, output);
    TML_CHECK(st == TML_OK, "16x8 hand example: status %d", (int)st);
    TML_CHECK(output[0] == 23 && output[1] == 33, "16x8 hand example: outputs %d %d, expected 23 33", output[0],
              output[1]);
    TML_CHECK(cell == 1170 && hidden == 33, "16x8 hand example: cell %d (1170), hidden %d (33)", cell, hidden);
}

/*
 * An int64 bias beyond int32: 3 x 2^31 at a forget multiplier of 2^-16 is 98304 in Q3.12, clamped to 32767, so the
 * run equals one with bias 32767 at the identity multiplier. An int32 accumulator would wrap it to -2^31.
 */
static void test_int64_bias_16x8(void)
{
    tml_lstm_s8_params p = hand_params(2), same = hand_params(2);
    const int16_t input[2] = {0, 0};
    const int8_t w[1] = {0};
    const int64_t zero[1] = {0}, cell_bias[1] = {4096}, huge[1] = {(int64_t)3 << 31}, clamped[1] = {32767};
    const void *weights[8] = {w, w, w, w, w, w, w, w};
    const void *huge_biases[4] = {zero, huge, cell_bias, zero};
    const void *clamped_biases[4] = {zero, clamped, cell_bias, zero};
    int16_t hidden[2] = {0, 0}, cell[2] = {0, 0}, output[2][2], scratch[4];
    p.hidden_zero_point = 0;
    same.hidden_zero_point = 0;
    p.input_multiplier[1] = 1 << 30;
    p.input_shift[1] = -15;
    TML_CHECK(tml_lstm_s16(&p, input, weights, huge_biases, &hidden[0], &cell[0], scratch, output[0]) == TML_OK &&
                  tml_lstm_s16(&same, input, weights, clamped_biases, &hidden[1], &cell[1], scratch, output[1]) ==
                      TML_OK,
              "int64 bias: status");
    TML_CHECK(memcmp(output[0], output[1], sizeof output[0]) == 0 && cell[0] == cell[1] && cell[0] > 1170,
              "int64 bias: outputs %d %d vs %d %d, cell %d vs %d (a saturated forget gate keeps more than 1170)",
              output[0][0], output[0][1], output[1][0], output[1][1], cell[0], cell[1]);
}

static void test_arguments_16x8(void)
{
    tml_lstm_s8_params p = hand_params(1);
    const int16_t input[1] = {0};
    const int8_t w[1] = {0};
    const int64_t b[1] = {0};
    const void *weights[8] = {w, w, w, w, w, w, w, w};
    const void *biases[4] = {b, b, b, b};
    int16_t hidden = 0, output[1], cell = 0, scratch[4];
    TML_CHECK(tml_lstm_s16(&p, input, weights, biases, &hidden, &cell, scratch, output) == TML_ERROR_ARGUMENT,
              "16x8: a hidden zero point off 0 is refused");
    p.hidden_zero_point = 0;
    TML_CHECK(tml_lstm_s16(&p, input, weights, biases, &hidden, &cell, scratch, output) == TML_OK, "16x8: valid");
    p.recurrent_shift[3] = 8;
    TML_CHECK(tml_lstm_s16(&p, input, weights, biases, &hidden, &cell, scratch, output) == TML_ERROR_ARGUMENT,
              "16x8: a gate shift above 7 is refused (TFLM's 64-bit requantization)");
    p.recurrent_shift[3] = 1;
    p.input_zero_point = 1;
    TML_CHECK(tml_lstm_s16(&p, input, weights, biases, &hidden, &cell, scratch, output) == TML_ERROR_ARGUMENT,
              "16x8: an input zero point off 0 is refused");
    TML_CHECK(tml_lstm_s16(NULL, input, weights, biases, &hidden, &cell, scratch, output) == TML_ERROR_ARGUMENT,
              "16x8: NULL params are refused");
}

static void test_sigmoid_cell_gate(void)
{
    /*
     * The same unit with a sigmoid cell gate and every bias 0: all gates are sigmoid(0) = 16384.
     *   c = 16384 x 16384 / 2^19 = 512 (0.25); tanh: x = 6 x 512 = 3072 -> index 12, fraction 0:
     *   (40794 << 8) - 2^23 + 2^7 = 2054784 >> 8 = 8026 (0.24492); h = 8026 x 16384 / 2^23 = 15.68 -> 16, + 5 = 21.
     */
    tml_lstm_s8_params p = hand_params(1);
    const int8_t input[1] = {0}, w[1] = {0};
    const int32_t b[1] = {0};
    const void *weights[8] = {w, w, w, w, w, w, w, w};
    const void *biases[4] = {b, b, b, b};
    int8_t hidden = 0, output[1] = {0};
    int16_t cell = 0, scratch[4];
    p.cell_gate_activation = TML_LSTM_GATE_SIGMOID;
    TML_CHECK(tml_lstm_s8(&p, input, weights, biases, &hidden, &cell, scratch, output) == TML_OK &&
                  cell == 512 && output[0] == 21,
              "sigmoid cell gate: cell %d (expected 512), output %d (expected 21)", cell, output[0]);
}

static void test_arguments(void)
{
    tml_lstm_s8_params p = hand_params(1);
    const int8_t input[1] = {0}, w[1] = {0};
    const int32_t b[1] = {0};
    const void *weights[8] = {w, w, w, w, w, w, w, w};
    const void *biases[4] = {b, b, b, NULL};
    int8_t hidden = 0, output[1];
    int16_t cell = 0, scratch[4];
    TML_CHECK(tml_lstm_s8(&p, input, weights, biases, &hidden, &cell, scratch, output) == TML_ERROR_ARGUMENT,
              "a missing bias is refused");
    TML_CHECK(tml_lstm_s8(NULL, input, weights, biases, &hidden, &cell, scratch, output) == TML_ERROR_ARGUMENT,
              "NULL params are refused");
    p.batches = 3;
    p.state_size = 5;
    TML_CHECK(tml_lstm_s8_get_buffer_size(&p) == 4 * 2 * 3 * 5, "int8 scratch: four int16 buffers of batches x units");
    p.time_major = 2;
    TML_CHECK(tml_lstm_s8_get_buffer_size(&p) == -1, "an invalid layout has no scratch size");
    TML_CHECK(tml_lstm_s8_get_buffer_size_for(-1, &p) == -1, "an unknown core has no scratch size");
    {
        tml_lstm_f32_params f;
        memset(&f, 0, sizeof f);
        f.batches = 2;
        f.time_steps = 1;
        f.input_size = 1;
        f.state_size = 7;
        TML_CHECK(tml_lstm_f32_get_buffer_size(&f) == 4 * 4 * 2 * 7, "float scratch: four float buffers of batches x units");
        f.cell_clip = -1.0f;
        TML_CHECK(tml_lstm_f32_get_buffer_size(&f) == -1, "a negative cell clip is refused");
    }
}

static void test_float_step(void)
{
    /* One unit, one input x = 0.5; each gate's pre-activation is w x + bias (hidden starts at 0). */
    tml_lstm_f32_params p;
    const float input[1] = {0.5f};
    const float wi[1] = {1.0f}, wf[1] = {-2.0f}, wc[1] = {3.0f}, wo[1] = {0.25f}, r[1] = {7.0f};
    const float bi[1] = {0.1f}, bf[1] = {0.2f}, bc[1] = {-0.3f}, bo[1] = {0.4f};
    const void *weights[8] = {wi, wf, wc, wo, r, r, r, r};
    const void *biases[4] = {bi, bf, bc, bo};
    float hidden = 0.0f, cell = 0.0f, scratch[4], output[1];
    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.time_steps = 1;
    p.input_size = 1;
    p.state_size = 1;
    p.cell_gate_activation = TML_LSTM_GATE_TANH;
    p.cell_clip = 0.3f;
    TML_CHECK(tml_lstm_f32(&p, input, weights, biases, &hidden, &cell, scratch, output) == TML_OK, "float step runs");
    {
        const double i = 1 / (1 + exp(-0.6)), c_gate = tanh(1.2), o = 1 / (1 + exp(-0.525));
        const double c = fmin(i * c_gate, 0.3); /* the clip binds: 0.5 x 0.83 > 0.3 */
        const double h = tanh(c) * o;
        TML_CHECK(fabs(cell - c) < 1e-6 && fabs(output[0] - h) < 1e-6 && output[0] == hidden,
                  "float step: cell %.7f (expected %.7f), h %.7f (expected %.7f)", cell, c, output[0], h);
    }
}

/* ---- mnist_lstm_int8 conformance ---------------------------------------------------------------------------- */

/* The LSTM's operands in mnist_lstm_int8 (tensor indices of its 24 inputs) and their scales, from its manifest. */
static const int k_weight_tensors[8] = {15, 14, 13, 12, 11, 10, 9, 8};
static const float k_weight_scales[8] = {0.00898651499f, 0.0074010212f, 0.00936705153f, 0.0117776077f,
                                         0.00928543601f, 0.00578341354f, 0.00494504487f, 0.00822721794f};
static const int k_bias_tensors[4] = {7, 6, 5, 4};

static long read_mnist_tensor(int index, void **data)
{
    char rel[256];
    snprintf(rel, sizeof rel, "golden/mnist_lstm_int8/tensors_1/t%03d.bin", index);
    return tml_read_shared_file(rel, data);
}

/* The compiler's derivation (TFLM's CreateGateParams and CreateInterGateMulParams). */
static tml_lstm_s8_params derive_mnist(void)
{
    const float input_scale = 0.00392156886f, hidden_scale = 0.00781679247f, cell_scale = 0.000244140625f;
    tml_lstm_s8_params p;
    int g;
    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.time_steps = 28;
    p.input_size = 28;
    p.state_size = 20;
    p.input_zero_point = -128;
    p.hidden_zero_point = 0;
    for (g = 0; g < 4; g++) {
        volatile float in_product = input_scale * k_weight_scales[g];
        volatile float rec_product = hidden_scale * k_weight_scales[4 + g];
        tml_test_quantize_multiplier((double)in_product * 4096.0, &p.input_multiplier[g], &p.input_shift[g]);
        tml_test_quantize_multiplier((double)rec_product * 4096.0, &p.recurrent_multiplier[g], &p.recurrent_shift[g]);
    }
    p.cell_gate_activation = TML_LSTM_GATE_TANH;
    p.cell_scale_power = -12;
    tml_test_quantize_multiplier(1.0 / 32768 * cell_scale / cell_scale, &p.forget_multiplier, &p.forget_shift);
    tml_test_quantize_multiplier(1.0 / 32768 / 32768 / cell_scale, &p.input_gate_multiplier, &p.input_gate_shift);
    tml_test_quantize_multiplier(1.0 / 32768 / 32768 / hidden_scale, &p.hidden_multiplier, &p.hidden_shift);
    /* Its cell_clip option is 10.0: 10 / 2^-12 = 40960, clamped to 32767, so the clip only turns -32768 into -32767
     * (which the cell state shows after this invoke). */
    p.use_cell_clip = 1;
    p.quantized_cell_clip = 32767;
    return p;
}

static void test_golden(void)
{
    char shared_dir[1024];
    void *input = NULL, *weights[8] = {NULL}, *biases[4] = {NULL}, *exp_hidden = NULL, *exp_cell = NULL,
         *exp_out = NULL;
    int ok = 1, g;
    if (!TML_REQUIRE_SHARED("golden/mnist_lstm_int8/tensors_1/manifest.json")) {
        return;
    }
    ok &= read_mnist_tensor(0, &input) == 28 * 28;
    for (g = 0; g < 8; g++) {
        ok &= read_mnist_tensor(k_weight_tensors[g], &weights[g]) == 20 * (g < 4 ? 28 : 20);
    }
    for (g = 0; g < 4; g++) {
        ok &= read_mnist_tensor(k_bias_tensors[g], &biases[g]) == 20 * 4;
    }
    ok &= read_mnist_tensor(16, &exp_hidden) == 20 && read_mnist_tensor(17, &exp_cell) == 40 &&
          read_mnist_tensor(23, &exp_out) == 28 * 20;
    if (!ok) {
        tml_test_record(0, "mnist_lstm_int8 tensors");
    } else {
        const tml_lstm_s8_params p = derive_mnist();
        int8_t hidden[20] = {0}, out[28 * 20];
        int16_t cell[20] = {0};
        int16_t *scratch = (int16_t *)malloc((size_t)tml_lstm_s8_get_buffer_size(&p));
        const tml_status st = tml_lstm_s8(&p, (const int8_t *)input, (const void *const *)weights,
                                          (const void *const *)biases, hidden, cell, scratch, out);
        /* The hidden zero point is 0, so the stored state is TFLM's bytes. */
        tml_test_record(st == TML_OK && tml_test_compare_s8("mnist_lstm_int8 output", (const int8_t *)exp_out, out, 28 * 20) &&
                            tml_test_compare_s8("mnist_lstm_int8 output state", (const int8_t *)exp_hidden, hidden, 20) &&
                            tml_test_compare_s16("mnist_lstm_int8 cell state", (const int16_t *)exp_cell, cell, 20),
                        "mnist_lstm_int8 LSTM after the first invoke");
        free(scratch);
        printf("golden: mnist_lstm_int8's LSTM compared from %s\n", tml_shared_path(shared_dir, sizeof shared_dir, NULL));
    }
    free(input);
    for (g = 0; g < 8; g++) {
        free(weights[g]);
    }
    for (g = 0; g < 4; g++) {
        free(biases[g]);
    }
    free(exp_hidden);
    free(exp_cell);
    free(exp_out);
}

int main(void)
{
    test_hand_example();
    test_hand_example_16x8();
    test_int64_bias_16x8();
    test_arguments_16x8();
    test_sigmoid_cell_gate();
    test_arguments();
    test_float_step();
    test_golden();
    return TML_TEST_SUMMARY("test_lstm");
}
