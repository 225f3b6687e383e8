/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lstm.c: integer UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations, int8 weights, int32 biases, int16 cell state), as
 * TFLM's kernel at tflite-micro 90b983c computes it (lstm_eval.h LstmStep<int8_t, int8_t, int16_t, int32_t>):
 * gate FCs into int16 Q3.12, TFLM's int16 LUT sigmoid and tanh (reference_integer_ops Logistic / Tanh), int16
 * element-wise products (reference_integer_ops MulElementwise) and saturating int16 sums.
 */
#include <string.h>

#include "common.h"

/* TFLM's int16 Logistic of a Q3.12 gate (its power-of-two form with no extra shift), in place. */
static void tml_lstm_sigmoid_s16(int16_t *data, int32_t size)
{
    const tml_sigmoid_s16_params q3_12 = {0, 0};
    (void)tml_logistic_s16(&q3_12, data, size, data);
}

/*
 * The cell state's tanh (TFLM's lstm_internal::Tanh): the input shift brings the cell's Q format to Q3.12, as a
 * right shift (multiplier 3) or the power-of-two form's left shift (multiplier 0).
 */
static void tml_lstm_tanh_of_scale(const int16_t *input, int32_t scale_power, int32_t size, int16_t *output)
{
    const int32_t left_shift = 15 + scale_power - 3;
    const tml_sigmoid_s16_params scaling = {left_shift < 0 ? 3 : 0, left_shift < 0 ? -left_shift : left_shift};
    (void)tml_tanh_s16(&scaling, input, size, output);
}

/*
 * One gate FC into int16 (reference_integer_ops::FullyConnected, int8 x int8 -> int16, zero weight offset, output
 * offset 0): rows of `rows` outputs over `depth` inputs, each input shifted by `input_offset`. `input_zero_point`
 * undoes the stored state's offset: x = (int8)(stored + input_zero_point), so the term is x - zero point.
 */
static void tml_lstm_gate_fc(const int8_t *input, int32_t batches, int32_t depth, int32_t input_zero_point,
                             int32_t stored_offset, const int8_t *weights, const int32_t *bias, int32_t rows,
                             int32_t multiplier, int32_t shift, int16_t *output)
{
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        for (int32_t r = 0; r < rows; r++) {
            const int8_t *w = weights + (size_t)r * (size_t)depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; d++) {
                const int32_t value = (int8_t)(x[d] + stored_offset);
                acc += (int32_t)w[d] * (value - input_zero_point);
            }
            if (bias != NULL) {
                acc += bias[r];
            }
            output[(size_t)b * (size_t)rows + r] = tml_sat_i16(tml_mul_by_quantized_multiplier(acc, multiplier, shift));
        }
    }
}

/* a * b rescaled into int16 (MulElementwise, symmetric inputs and output). */
static void tml_lstm_mul_s16(const int16_t *a, const int16_t *b, int32_t size, int32_t multiplier, int32_t shift,
                             int16_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        output[i] = tml_sat_i16(tml_mul_by_quantized_multiplier((int32_t)a[i] * (int32_t)b[i], multiplier, shift));
    }
}

/* The sizes of one step: batches per step, and where the step's rows start. */
typedef struct {
    int32_t batches;
    size_t input;
    size_t output;
    size_t state;
} tml_lstm_step;

/* One gate: FC(x) + FC(h) with int16 saturation, then the activation, into `gate` (Q0.15). */
static void tml_lstm_gate(const tml_lstm_s8_params *p, const tml_lstm_step *step, int32_t g, const int8_t *input,
                          const int8_t *const *weights, const int32_t *const *biases, const int8_t *hidden,
                          int32_t activation, int16_t *gate, int16_t *recurrent)
{
    const int32_t n = step->batches * p->state_size;
    tml_lstm_gate_fc(input + step->input, step->batches, p->input_size, p->input_zero_point, 0, weights[g],
                     biases[g], p->state_size, p->input_multiplier[g], p->input_shift[g], gate);
    tml_lstm_gate_fc(hidden + step->state, step->batches, p->state_size, p->hidden_zero_point, p->hidden_zero_point,
                     weights[4 + g], NULL, p->state_size, p->recurrent_multiplier[g], p->recurrent_shift[g], recurrent);
    for (int32_t i = 0; i < n; i++) {
        gate[i] = tml_sat_i16((int32_t)gate[i] + (int32_t)recurrent[i]);
    }
    if (activation == TML_LSTM_GATE_SIGMOID) {
        tml_lstm_sigmoid_s16(gate, n);
    } else {
        /* A gate's input is Q3.12: scale power -12, no input shift. */
        tml_lstm_tanh_of_scale(gate, -12, n, gate);
    }
}

static void tml_lstm_s8_step(const tml_lstm_s8_params *p, const tml_lstm_step *step, const int8_t *input,
                             const int8_t *const *weights, const int32_t *const *biases, int8_t *hidden,
                             int16_t *cell_state, int16_t *scratch, int8_t *output)
{
    const int32_t n = step->batches * p->state_size;
    const size_t stride = (size_t)p->batches * (size_t)p->state_size;
    int16_t *forget = scratch;
    int16_t *input_gate = scratch + stride;
    int16_t *cell_gate = scratch + 2 * stride;
    int16_t *recurrent = scratch + 3 * stride;
    int16_t *cell = cell_state + step->state;
    int8_t *h = hidden + step->state;

    tml_lstm_gate(p, step, 1, input, weights, biases, hidden, TML_LSTM_GATE_SIGMOID, forget, recurrent);
    tml_lstm_gate(p, step, 0, input, weights, biases, hidden, TML_LSTM_GATE_SIGMOID, input_gate, recurrent);
    tml_lstm_gate(p, step, 2, input, weights, biases, hidden, p->cell_gate_activation, cell_gate, recurrent);

    /* c = forget * c + input * cell gate, saturated, then clipped. */
    tml_lstm_mul_s16(forget, cell, n, p->forget_multiplier, p->forget_shift, cell);
    tml_lstm_mul_s16(input_gate, cell_gate, n, p->input_gate_multiplier, p->input_gate_shift, input_gate);
    for (int32_t i = 0; i < n; i++) {
        int32_t c = tml_sat_i16((int32_t)cell[i] + (int32_t)input_gate[i]);
        if (p->use_cell_clip) {
            c = tml_clamp_i32(c, -p->quantized_cell_clip, p->quantized_cell_clip);
        }
        cell[i] = (int16_t)c;
    }

    /* h = tanh(c) * output gate into int8; the state keeps h - zero point. */
    int16_t *output_gate = input_gate;
    tml_lstm_gate(p, step, 3, input, weights, biases, hidden, TML_LSTM_GATE_SIGMOID, output_gate, recurrent);
    int16_t *tanh_cell = forget;
    tml_lstm_tanh_of_scale(cell, p->cell_scale_power, n, tanh_cell);
    for (int32_t i = 0; i < n; i++) {
        const int32_t value =
            tml_mul_by_quantized_multiplier((int32_t)tanh_cell[i] * (int32_t)output_gate[i], p->hidden_multiplier,
                                            p->hidden_shift) + p->hidden_zero_point;
        const int8_t hv = tml_sat_i8(value);
        output[step->output + (size_t)i] = hv;
        h[i] = (int8_t)(hv - p->hidden_zero_point);
    }
}

static int tml_lstm_s8_valid(const tml_lstm_s8_params *p)
{
    return p != NULL && p->batches > 0 && p->time_steps > 0 && p->input_size > 0 && p->state_size > 0 &&
           (p->time_major == 0 || p->time_major == 1) &&
           (p->cell_gate_activation == TML_LSTM_GATE_TANH || p->cell_gate_activation == TML_LSTM_GATE_SIGMOID) &&
           p->cell_scale_power >= -43 && p->cell_scale_power <= 2 && /* what tml_tanh_s16 can shift */
           (int64_t)p->batches * p->state_size <= INT32_MAX / 8;
}

TML_API int32_t tml_lstm_s8_get_buffer_size(const tml_lstm_s8_params *params)
{
    return tml_lstm_s8_get_buffer_size_for(TML_BUILD_CORE, params);
}

TML_API int32_t tml_lstm_s8_get_buffer_size_for(int32_t core, const tml_lstm_s8_params *params)
{
    if (core < 0 || core >= TML_CORES || !tml_lstm_s8_valid(params)) {
        return -1;
    }
    return 4 * 2 * params->batches * params->state_size;
}

TML_API tml_status tml_lstm_s8(const tml_lstm_s8_params *params, const int8_t *input, const void *const *weights,
                               const void *const *biases, int8_t *output_state, int16_t *cell_state,
                               int16_t *scratch, int8_t *output)
{
    if (!tml_lstm_s8_valid(params) || input == NULL || weights == NULL || biases == NULL || output_state == NULL ||
        cell_state == NULL || scratch == NULL || output == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    const int8_t *w[8];
    const int32_t *b[4];
    for (int32_t g = 0; g < 8; g++) {
        w[g] = (const int8_t *)weights[g];
        if (w[g] == NULL || (g < 4 && (b[g] = (const int32_t *)biases[g]) == NULL)) {
            return TML_ERROR_ARGUMENT;
        }
    }
    const tml_lstm_s8_params *p = params;
    tml_lstm_step step = {p->time_major ? p->batches : 1, 0, 0, 0};
    /* Time-major: every batch in each step. Batch-major: each batch's sequence on its own state row. */
    const int32_t sequences = p->time_major ? 1 : p->batches;
    for (int32_t s = 0; s < sequences; s++) {
        step.state = (size_t)s * (size_t)p->state_size;
        for (int32_t t = 0; t < p->time_steps; t++) {
            tml_lstm_s8_step(p, &step, input, w, b, output_state, cell_state, scratch, output);
            step.input += (size_t)step.batches * (size_t)p->input_size;
            step.output += (size_t)step.batches * (size_t)p->state_size;
        }
    }
    return TML_OK;
}
