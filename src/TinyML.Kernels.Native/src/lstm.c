/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lstm.c: integer UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations, int8 weights, int32 biases, int16 cell state), as
 * TFLM's kernel at tflite-micro 90b983c computes it (lstm_eval.h LstmStep<int8_t, int8_t, int16_t, int32_t>):
 * gate FCs into int16 Q3.12, TFLM's int16 LUT sigmoid and tanh (reference_integer_ops Logistic / Tanh), int16
 * element-wise products (reference_integer_ops MulElementwise) and saturating int16 sums.
 *
 * The int16 sigmoid/tanh live here as internal helpers until the int16 LOGISTIC/TANH operators share them.
 */
#include <string.h>

#include "common.h"

/* sigmoid(i / 24) in 0.16 fixed point (65535 at the end): the one table TFLM's int16 sigmoid and tanh interpolate. */
static const uint16_t tml_lstm_sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

/*
 * The int16 input scaling both LUT functions share: with multiplier 0 (a power-of-two input scale) the input is
 * multiplied by 3 << left_shift; otherwise by multiplier, then rounded right by left_shift.
 */
static int32_t tml_lstm_lut_input(int16_t x, int32_t multiplier, int32_t left_shift)
{
    if (multiplier == 0) {
        return (int32_t)x * (3 * (1 << left_shift));
    }
    const int32_t round = left_shift > 0 ? 1 << (left_shift - 1) : 0;
    return ((int32_t)x * multiplier + round) >> left_shift;
}

/* TFLM's int16 Logistic (Q3.12 in, Q0.15 out): interpolation on |x| / 2^9 steps of the table, mirrored below 0. */
static void tml_lstm_sigmoid_s16(int16_t *data, int32_t size)
{
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = tml_lstm_lut_input(data[i], 0, 0);
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t index = ax >> 9;
        uint32_t result;
        if (index >= 255) {
            result = (uint32_t)0x7FFF << 10;
        } else {
            const uint32_t a = tml_lstm_sigmoid_table[index];
            const uint32_t b = tml_lstm_sigmoid_table[index + 1];
            result = (a << 9) + (ax & 0x1FF) * (b - a);
        }
        result = x >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1u;
        data[i] = (int16_t)(result >> 10);
    }
}

/* TFLM's int16 Tanh through the sigmoid table (tanh(x) = 2 sigmoid(2x) - 1), steps of 2^8. */
static void tml_lstm_tanh_s16(const int16_t *input, int32_t multiplier, int32_t left_shift, int32_t size,
                              int16_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = tml_lstm_lut_input(input[i], multiplier, left_shift);
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t index = ax >> 8;
        int32_t result;
        if (index >= 255) {
            result = 0xFFFF << 8;
        } else {
            const uint32_t a = tml_lstm_sigmoid_table[index];
            const uint32_t b = tml_lstm_sigmoid_table[index + 1];
            result = (int32_t)((a << 8) + (ax & 0xFF) * (b - a));
        }
        result = x >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(result >> 8);
    }
}

/* The cell state's tanh (TFLM's lstm_internal::Tanh): the input shift brings the cell's Q format to Q3.12. */
static void tml_lstm_tanh_of_scale(const int16_t *input, int32_t scale_power, int32_t size, int16_t *output)
{
    const int32_t left_shift = 15 + scale_power - 3;
    if (left_shift < 0) {
        tml_lstm_tanh_s16(input, 3, -left_shift, size, output);
    } else {
        tml_lstm_tanh_s16(input, 0, left_shift, size, output);
    }
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
