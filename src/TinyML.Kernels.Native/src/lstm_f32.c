/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lstm_f32.c: float32 UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's float path at tflite-micro 90b983c (lstm_eval.h
 * LstmStep<float, float, float, float>): each gate is the reference float FC of the input (with the bias) plus the
 * FC of the hidden state (no bias), then reference Logistic or Tanh; the cell and hidden updates are float
 * products and sums in TFLM's order. The FCs, sigmoid and tanh are this library's own float kernels.
 */
#include <float.h>

#include "common.h"

typedef struct {
    int32_t batches;
    size_t input;
    size_t output;
    size_t state;
} tml_lstm_f32_step;

static void tml_lstm_f32_gate(const tml_lstm_f32_params *p, const tml_lstm_f32_step *step, int32_t g,
                              const float *input, const float *const *weights, const float *const *biases,
                              const float *hidden, int32_t activation, float *gate, float *recurrent)
{
    const tml_fully_connected_f32_params no_clamp = {-FLT_MAX, FLT_MAX};
    const int32_t n = step->batches * p->state_size;
    tml_fully_connected_f32(&no_clamp, step->batches, p->input_size, p->state_size, input + step->input, weights[g],
                            biases[g], gate);
    tml_fully_connected_f32(&no_clamp, step->batches, p->state_size, p->state_size, hidden + step->state,
                            weights[4 + g], NULL, recurrent);
    for (int32_t i = 0; i < n; i++) {
        gate[i] = gate[i] + recurrent[i];
    }
    if (activation == TML_LSTM_GATE_SIGMOID) {
        tml_logistic_f32(gate, n, gate);
    } else {
        tml_tanh_f32(gate, n, gate);
    }
}

static void tml_lstm_f32_step_run(const tml_lstm_f32_params *p, const tml_lstm_f32_step *step, const float *input,
                                  const float *const *weights, const float *const *biases, float *hidden,
                                  float *cell_state, float *scratch, float *output)
{
    const int32_t n = step->batches * p->state_size;
    const size_t stride = (size_t)p->batches * (size_t)p->state_size;
    float *forget = scratch;
    float *input_gate = scratch + stride;
    float *cell_gate = scratch + 2 * stride;
    float *recurrent = scratch + 3 * stride;
    float *cell = cell_state + step->state;
    float *h = hidden + step->state;

    tml_lstm_f32_gate(p, step, 1, input, weights, biases, hidden, TML_LSTM_GATE_SIGMOID, forget, recurrent);
    tml_lstm_f32_gate(p, step, 0, input, weights, biases, hidden, TML_LSTM_GATE_SIGMOID, input_gate, recurrent);
    tml_lstm_f32_gate(p, step, 2, input, weights, biases, hidden, p->cell_gate_activation, cell_gate, recurrent);

    for (int32_t i = 0; i < n; i++) {
        float c = forget[i] * cell[i];
        c = c + input_gate[i] * cell_gate[i];
        if (p->cell_clip > 0.0f) {
            c = c > p->cell_clip ? p->cell_clip : c;
            c = c < -p->cell_clip ? -p->cell_clip : c;
        }
        cell[i] = c;
    }

    float *output_gate = input_gate;
    tml_lstm_f32_gate(p, step, 3, input, weights, biases, hidden, TML_LSTM_GATE_SIGMOID, output_gate, recurrent);
    float *tanh_cell = forget;
    tml_tanh_f32(cell, n, tanh_cell);
    for (int32_t i = 0; i < n; i++) {
        h[i] = tanh_cell[i] * output_gate[i];
        output[step->output + (size_t)i] = h[i];
    }
}

static int tml_lstm_f32_valid(const tml_lstm_f32_params *p)
{
    return p != NULL && p->batches > 0 && p->time_steps > 0 && p->input_size > 0 && p->state_size > 0 &&
           (p->time_major == 0 || p->time_major == 1) &&
           (p->cell_gate_activation == TML_LSTM_GATE_TANH || p->cell_gate_activation == TML_LSTM_GATE_SIGMOID) &&
           p->cell_clip >= 0.0f && (int64_t)p->batches * p->state_size <= INT32_MAX / 16;
}

TML_API int32_t tml_lstm_f32_get_buffer_size(const tml_lstm_f32_params *params)
{
    return tml_lstm_f32_get_buffer_size_for(TML_BUILD_CORE, params);
}

TML_API int32_t tml_lstm_f32_get_buffer_size_for(int32_t core, const tml_lstm_f32_params *params)
{
    if (core < 0 || core >= TML_CORES || !tml_lstm_f32_valid(params)) {
        return -1;
    }
    return 4 * 4 * params->batches * params->state_size;
}

TML_API tml_status tml_lstm_f32(const tml_lstm_f32_params *params, const float *input, const void *const *weights,
                                const void *const *biases, float *output_state, float *cell_state, float *scratch,
                                float *output)
{
    if (!tml_lstm_f32_valid(params) || input == NULL || weights == NULL || biases == NULL || output_state == NULL ||
        cell_state == NULL || scratch == NULL || output == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    const float *w[8];
    const float *b[4];
    for (int32_t g = 0; g < 8; g++) {
        w[g] = (const float *)weights[g];
        if (w[g] == NULL || (g < 4 && (b[g] = (const float *)biases[g]) == NULL)) {
            return TML_ERROR_ARGUMENT;
        }
    }
    const tml_lstm_f32_params *p = params;
    tml_lstm_f32_step step = {p->time_major ? p->batches : 1, 0, 0, 0};
    const int32_t sequences = p->time_major ? 1 : p->batches;
    for (int32_t s = 0; s < sequences; s++) {
        step.state = (size_t)s * (size_t)p->state_size;
        for (int32_t t = 0; t < p->time_steps; t++) {
            tml_lstm_f32_step_run(p, &step, input, w, b, output_state, cell_state, scratch, output);
            step.input += (size_t)step.batches * (size_t)p->input_size;
            step.output += (size_t)step.batches * (size_t)p->state_size;
        }
    }
    return TML_OK;
}
