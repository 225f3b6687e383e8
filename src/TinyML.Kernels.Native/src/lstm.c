/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lstm.c: integer UNIDIRECTIONAL_SEQUENCE_LSTM, 8x8 (int8 activations, int32 biases) and 16x8 (int16 activations,
 * int64 biases), int8 weights and int16 cell state both, as TFLM's kernel at tflite-micro 90b983c computes them
 * (lstm_eval.h LstmStep<int8_t, int8_t, int16_t, int32_t> and LstmStep<int16_t, int8_t, int16_t, int64_t>):
 * gate FCs into int16 Q3.12, TFLM's int16 LUT sigmoid and tanh (reference_integer_ops Logistic / Tanh), int16
 * element-wise products (reference_integer_ops MulElementwise) and saturating int16 sums.
 */
#include <string.h>

#include "common.h"
#include "dot_s8.h"

/* Longest recurrent row the DSP path widens from a stack copy (the stored hidden state shifted back). */
#define TML_LSTM_DSP_DEPTH 128

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
 * What the 8x8 and 16x8 LSTMs differ in: the activation type (int8 or int16: input, output and output state) and
 * with it the bias type (int32 or int64). The step is the same; only the gate FCs and the hidden output see `wide`.
 */
typedef struct {
    const tml_lstm_s8_params *p;
    int32_t wide; /* 1: int16 activations and int64 biases (TFLM's LstmStep<int16_t, int8_t, int16_t, int64_t>) */
    const void *input;
    const void *const *biases;
    void *hidden;
    int16_t *cell_state;
    int16_t *scratch;
    void *output;
    const int8_t *weights[8]; /* filled from the caller's array by tml_lstm_q */
} tml_lstm_run;

/*
 * One 8x8 gate FC into int16 (reference_integer_ops::FullyConnected, int8 x int8 -> int16, zero weight offset, output
 * offset 0): rows of `rows` outputs over `depth` inputs. `stored_offset` undoes the stored state's offset:
 * x = (int8)(stored + stored_offset), so the term is x - input_zero_point.
 */
static void tml_lstm_gate_fc_s8(const int8_t *input, int32_t batches, int32_t depth, int32_t input_zero_point,
                                int32_t stored_offset, const int8_t *weights, const int32_t *bias, int32_t rows,
                                int32_t multiplier, int32_t shift, int16_t *output)
{
    const tml_rescale scale = tml_rescale_of(multiplier, shift);
#if TML_USE_DSP
    /* Two rows at a time with SMLAD (tml_dot_s8_1x2), the stored state first shifted back into a stack row; the
     * prepared requantization's condition checked once, not per output. */
    if (multiplier != INT32_MIN && (stored_offset == 0 || depth <= TML_LSTM_DSP_DEPTH)) {
        int8_t shifted[TML_LSTM_DSP_DEPTH];
        for (int32_t b = 0; b < batches; b++) {
            const int8_t *x = input + (size_t)b * (size_t)depth;
            if (stored_offset != 0) {
                for (int32_t d = 0; d < depth; d++) {
                    shifted[d] = (int8_t)(x[d] + stored_offset);
                }
                x = shifted;
            }
            int16_t *out = output + (size_t)b * (size_t)rows;
            for (int32_t r = 0; r < rows; r += 2) {
                const int8_t *w = weights + (size_t)r * (size_t)depth;
                int32_t acc[2] = {bias != NULL ? bias[r] : 0, 0};
                if (r + 1 < rows) {
                    acc[1] = bias != NULL ? bias[r + 1] : 0;
                    tml_dot_s8_1x2(x, w, w + depth, depth, -input_zero_point, acc);
                    out[r + 1] = tml_sat_i16(tml_requant_apply(&scale.q, acc[1]));
                } else {
                    acc[0] = tml_dot_s8_1x1(x, w, depth, -input_zero_point, acc[0]);
                }
                out[r] = tml_sat_i16(tml_requant_apply(&scale.q, acc[0]));
            }
        }
        return;
    }
#endif
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
            output[(size_t)b * (size_t)rows + r] = tml_sat_i16(tml_rescale_apply(&scale, acc));
        }
    }
}

/*
 * One 16x8 gate FC (reference_integer_ops::FullyConnected, int16 x int8 -> int16): an int64 accumulator with no input
 * offset (int16 zero points are 0), the int64 bias, the 64-bit requantization, clamped to int16.
 */
static void tml_lstm_gate_fc_s16(const int16_t *input, int32_t batches, int32_t depth, const int8_t *weights,
                                 const int64_t *bias, int32_t rows, int32_t multiplier, int32_t shift, int16_t *output)
{
    for (int32_t b = 0; b < batches; b++) {
        const int16_t *x = input + (size_t)b * (size_t)depth;
        for (int32_t r = 0; r < rows; r++) {
            const int8_t *w = weights + (size_t)r * (size_t)depth;
            int64_t acc = 0;
            for (int32_t d = 0; d < depth; d++) {
                acc += (int64_t)((int32_t)w[d] * (int32_t)x[d]);
            }
            if (bias != NULL) {
                acc += bias[r];
            }
            output[(size_t)b * (size_t)rows + r] =
                tml_requantize_s16_from_i64(acc, multiplier, shift, INT16_MIN, INT16_MAX);
        }
    }
}

/* a * b rescaled into int16 (MulElementwise, symmetric inputs and output). */
static void tml_lstm_mul_s16(const int16_t *a, const int16_t *b, int32_t size, int32_t multiplier, int32_t shift,
                             int16_t *output)
{
    const tml_rescale scale = tml_rescale_of(multiplier, shift);
    for (int32_t i = 0; i < size; i++) {
        output[i] = tml_sat_i16(tml_rescale_apply(&scale, (int32_t)a[i] * (int32_t)b[i]));
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
static void tml_lstm_gate(const tml_lstm_run *run, const tml_lstm_step *step, int32_t g, int32_t activation,
                          int16_t *gate, int16_t *recurrent)
{
    const tml_lstm_s8_params *p = run->p;
    const int32_t n = step->batches * p->state_size;
    if (run->wide) {
        const int64_t *bias = (const int64_t *)run->biases[g];
        tml_lstm_gate_fc_s16((const int16_t *)run->input + step->input, step->batches, p->input_size, run->weights[g],
                             bias, p->state_size, p->input_multiplier[g], p->input_shift[g], gate);
        tml_lstm_gate_fc_s16((const int16_t *)run->hidden + step->state, step->batches, p->state_size,
                             run->weights[4 + g], NULL, p->state_size, p->recurrent_multiplier[g],
                             p->recurrent_shift[g], recurrent);
    } else {
        const int32_t *bias = (const int32_t *)run->biases[g];
        tml_lstm_gate_fc_s8((const int8_t *)run->input + step->input, step->batches, p->input_size,
                            p->input_zero_point, 0, run->weights[g], bias, p->state_size, p->input_multiplier[g],
                            p->input_shift[g], gate);
        tml_lstm_gate_fc_s8((const int8_t *)run->hidden + step->state, step->batches, p->state_size,
                            p->hidden_zero_point, p->hidden_zero_point, run->weights[4 + g], NULL, p->state_size,
                            p->recurrent_multiplier[g], p->recurrent_shift[g], recurrent);
    }
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

/*
 * h = tanh(c) * output gate, requantized with the hidden zero point and saturated to the activation type; the
 * output gets h, the state keeps h - zero point (0 for int16).
 */
static void tml_lstm_store_hidden(const tml_lstm_run *run, const tml_lstm_step *step, const int16_t *tanh_cell,
                                  const int16_t *output_gate, int32_t n)
{
    const tml_lstm_s8_params *p = run->p;
    const tml_rescale scale = tml_rescale_of(p->hidden_multiplier, p->hidden_shift);
    for (int32_t i = 0; i < n; i++) {
        const int32_t value =
            tml_rescale_apply(&scale, (int32_t)tanh_cell[i] * (int32_t)output_gate[i]) + p->hidden_zero_point;
        if (run->wide) {
            const int16_t hv = tml_sat_i16(value);
            ((int16_t *)run->output)[step->output + (size_t)i] = hv;
            ((int16_t *)run->hidden)[step->state + (size_t)i] = (int16_t)(hv - p->hidden_zero_point);
        } else {
            const int8_t hv = tml_sat_i8(value);
            ((int8_t *)run->output)[step->output + (size_t)i] = hv;
            ((int8_t *)run->hidden)[step->state + (size_t)i] = (int8_t)(hv - p->hidden_zero_point);
        }
    }
}

static void tml_lstm_q_step(const tml_lstm_run *run, const tml_lstm_step *step)
{
    const tml_lstm_s8_params *p = run->p;
    const int32_t n = step->batches * p->state_size;
    const size_t stride = (size_t)p->batches * (size_t)p->state_size;
    int16_t *forget = run->scratch;
    int16_t *input_gate = run->scratch + stride;
    int16_t *cell_gate = run->scratch + 2 * stride;
    int16_t *recurrent = run->scratch + 3 * stride;
    int16_t *cell = run->cell_state + step->state;

    tml_lstm_gate(run, step, 1, TML_LSTM_GATE_SIGMOID, forget, recurrent);
    tml_lstm_gate(run, step, 0, TML_LSTM_GATE_SIGMOID, input_gate, recurrent);
    tml_lstm_gate(run, step, 2, p->cell_gate_activation, cell_gate, recurrent);

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

    int16_t *output_gate = input_gate;
    tml_lstm_gate(run, step, 3, TML_LSTM_GATE_SIGMOID, output_gate, recurrent);
    int16_t *tanh_cell = forget;
    tml_lstm_tanh_of_scale(cell, p->cell_scale_power, n, tanh_cell);
    tml_lstm_store_hidden(run, step, tanh_cell, output_gate, n);
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

/* Both integer LSTMs: argument checks, then every step in TFLM's order. */
static tml_status tml_lstm_q(tml_lstm_run *run, const void *const *weights)
{
    const tml_lstm_s8_params *p = run->p;
    if (!tml_lstm_s8_valid(p) || run->input == NULL || weights == NULL || run->biases == NULL ||
        run->hidden == NULL || run->cell_state == NULL || run->scratch == NULL || run->output == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t g = 0; g < 8; g++) {
        run->weights[g] = (const int8_t *)weights[g];
        if (run->weights[g] == NULL || (g < 4 && run->biases[g] == NULL)) {
            return TML_ERROR_ARGUMENT;
        }
    }
    tml_lstm_step step = {p->time_major ? p->batches : 1, 0, 0, 0};
    /* Time-major: every batch in each step. Batch-major: each batch's sequence on its own state row. */
    const int32_t sequences = p->time_major ? 1 : p->batches;
    for (int32_t s = 0; s < sequences; s++) {
        step.state = (size_t)s * (size_t)p->state_size;
        for (int32_t t = 0; t < p->time_steps; t++) {
            tml_lstm_q_step(run, &step);
            step.input += (size_t)step.batches * (size_t)p->input_size;
            step.output += (size_t)step.batches * (size_t)p->state_size;
        }
    }
    return TML_OK;
}

TML_API tml_status tml_lstm_s8(const tml_lstm_s8_params *params, const int8_t *input, const void *const *weights,
                               const void *const *biases, int8_t *output_state, int16_t *cell_state,
                               int16_t *scratch, int8_t *output)
{
    tml_lstm_run run = {params, 0, input, biases, output_state, cell_state, scratch, output, {NULL}};
    return tml_lstm_q(&run, weights);
}

/* TFLM's 16x8 FC has no input offset, and its 64-bit requantization takes shifts in [-31, 7]. */
static int tml_lstm_s16_valid(const tml_lstm_s8_params *p)
{
    for (int32_t g = 0; g < 4; g++) {
        if (p->input_shift[g] < -31 || p->input_shift[g] > 7 || p->recurrent_shift[g] < -31 ||
            p->recurrent_shift[g] > 7) {
            return 0;
        }
    }
    return p->input_zero_point == 0 && p->hidden_zero_point == 0;
}

TML_API tml_status tml_lstm_s16(const tml_lstm_s8_params *params, const int16_t *input, const void *const *weights,
                                const void *const *biases, int16_t *output_state, int16_t *cell_state,
                                int16_t *scratch, int16_t *output)
{
    if (params != NULL && !tml_lstm_s16_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    tml_lstm_run run = {params, 1, input, biases, output_state, cell_state, scratch, output, {NULL}};
    return tml_lstm_q(&run, weights);
}
