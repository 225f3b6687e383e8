/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svdf.c: integer SVDF (int8 input and feature weights, int16 time weights and state, int32 bias, int8 output),
 * following TFLM's EvalIntegerSvdfReference<int16_t>:
 *   1. shift the whole state buffer left by one element (each filter's oldest activation drops out);
 *   2. feature stage: for every filter, dot(input - input_zp, weights_feature row), requantized with
 *      (multiplier_1, shift_1), plus the state zero point, saturated to int16, written to the filter's newest
 *      slot;
 *   3. time stage: for every filter, dot(weights_time row, state row - state_zp) in int32 (scratch);
 *   4. per unit: bias + the sum of its `rank` filters, requantized with (multiplier_2, shift_2), plus the output
 *      zero point, saturated to int8.
 */
#include "tml_kernels.h"
#include "common.h"
#include "dot_s8.h"

/*
 * Stage 1: the state moved down by one element of `element` bytes (bytes: the whole state), a word at a time where
 * that is one LDR and STR (tml_copy_short, which copies down over its own source). GCC would turn the loop into a
 * memcpy call, wrong for overlapping buffers.
 */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void tml_svdf_shift(void *state, size_t bytes, size_t element)
{
    tml_copy_short((int8_t *)state, (const int8_t *)state + element, bytes - element);
}

/* Validates the dimensions; returns the number of units, or -1. */
static int32_t tml_svdf_units(const tml_svdf_params *p)
{
    if (p == NULL || p->batches < 0 || p->input_size < 0 || p->num_filters < 0 || p->rank <= 0 ||
        p->memory_size <= 0 || p->num_filters % p->rank != 0) {
        return -1;
    }
    return p->num_filters / p->rank;
}

/* The feature stage's values of filters [0, n_filter) for one batch, into value[f]: each filter's weights . (input -
 * zero point) with two's-complement wrap, as TFLM's int accumulate, rescaled by multiplier_1; on DSP cores two
 * filters at a time with SMLAD (tml_dot_s8_1x2). Both state types store these values; they differ in how. */
static void tml_svdf_features(const tml_svdf_params *params, const int8_t *in_b, const int8_t *weights,
                              int32_t *value)
{
    const int32_t n_input = params->input_size, n_filter = params->num_filters;
    const tml_rescale scale = tml_rescale_of(params->multiplier_1, params->shift_1);
    int32_t f = 0;
#if TML_USE_DSP
    for (; f + 2 <= n_filter; f += 2) {
        const int8_t *w = weights + (size_t)f * (size_t)n_input;
        int32_t acc[2] = {0, 0};
        tml_dot_s8_1x2(in_b, w, w + n_input, n_input, -params->input_zero_point, acc);
        value[f] = tml_rescale_apply(&scale, acc[0]);
        value[f + 1] = tml_rescale_apply(&scale, acc[1]);
    }
#endif
    for (; f < n_filter; f++) {
        const int8_t *w = weights + (size_t)f * (size_t)n_input;
        uint32_t acc = 0;
        for (int32_t k = 0; k < n_input; k++) {
            acc += (uint32_t)((int32_t)w[k] * ((int32_t)in_b[k] - params->input_zero_point));
        }
        value[f] = tml_rescale_apply(&scale, (int32_t)acc);
    }
}

/* Stage 4, shared by both state types: bias, reduction over rank, output requantization. `scratch` holds the
 * filter sums [n_batch][n_filter], followed by room for the unit sums [n_batch][units]. */
static void tml_svdf_reduce(const tml_svdf_params *params, int32_t units, const int32_t *bias, int32_t *scratch,
                            int8_t *output)
{
    const int32_t n_batch = params->batches;
    const int32_t n_filter = params->num_filters;
    const int32_t n_rank = params->rank;
    const int32_t *filter_sums = scratch;
    int32_t *unit_sums = scratch + (size_t)n_batch * (size_t)n_filter;
    int32_t b, u, k;
    size_t s;
    for (b = 0; b < n_batch; b++) {
        const int32_t *fs = filter_sums + (size_t)b * (size_t)n_filter;
        int32_t *us = unit_sums + (size_t)b * (size_t)units;
        for (u = 0; u < units; u++) {
            uint32_t acc = bias != NULL ? (uint32_t)bias[u] : 0u;
            for (k = 0; k < n_rank; k++) {
                acc += (uint32_t)fs[(size_t)u * (size_t)n_rank + (size_t)k];
            }
            us[u] = (int32_t)acc;
        }
    }
    const tml_rescale scale = tml_rescale_of(params->multiplier_2, params->shift_2);
    for (s = 0; s < (size_t)n_batch * (size_t)units; s++) {
        const int32_t v = tml_rescale_apply(&scale, unit_sums[s]);
        output[s] = tml_sat_i8((int32_t)((uint32_t)v + (uint32_t)params->output_zero_point));
    }
}

TML_API int32_t tml_svdf_s8_get_buffer_size(const tml_svdf_params *params)
{
    return tml_svdf_s8_get_buffer_size_for(TML_BUILD_CORE, params);
}

TML_API int32_t tml_svdf_s8_get_buffer_size_for(int32_t core, const tml_svdf_params *params)
{
    const int32_t units = tml_svdf_units(params);
    int64_t bytes;
    if (core < 0 || core >= TML_CORES || units < 0) {
        return -1;
    }
    bytes = (int64_t)4 * (int64_t)params->batches * ((int64_t)params->num_filters + (int64_t)units);
    return bytes > INT32_MAX ? -1 : (int32_t)bytes;
}

TML_API tml_status tml_svdf_s8(const tml_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                               const int16_t *weights_time, const int32_t *bias, int16_t *state,
                               int32_t *scratch, int8_t *output)
{
    const int32_t units = tml_svdf_units(params);
    int32_t b, f, k;
    if (units < 0 || input == NULL || weights_feature == NULL || weights_time == NULL || state == NULL ||
        scratch == NULL || output == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    {
        const int32_t n_batch = params->batches;
        const int32_t n_input = params->input_size;
        const int32_t n_filter = params->num_filters;
        const int32_t n_memory = params->memory_size;
        const size_t state_len = (size_t)n_batch * (size_t)n_filter * (size_t)n_memory;
        int32_t *filter_sums = scratch; /* [n_batch][n_filter], then the unit sums */

        /* 1. Shift the state left by one element. The last slot of every filter is rewritten below. */
        tml_svdf_shift(state, state_len * sizeof *state, sizeof *state);

        /* 2. Feature stage into the newest slot of each filter (the values first in filter_sums, free until 3.). */
        for (b = 0; b < n_batch; b++) {
            int16_t *state_b = state + (size_t)b * (size_t)n_filter * (size_t)n_memory;
            tml_svdf_features(params, input + (size_t)b * (size_t)n_input, weights_feature, filter_sums);
            for (f = 0; f < n_filter; f++) {
                const int32_t v = (int32_t)((uint32_t)params->state_zero_point + (uint32_t)filter_sums[f]);
                state_b[(size_t)f * (size_t)n_memory + (size_t)(n_memory - 1)] = tml_sat_i16(v);
            }
        }

        /* 3. Time stage: one dot product per filter over its memory. */
        for (b = 0; b < n_batch; b++) {
            const int16_t *state_b = state + (size_t)b * (size_t)n_filter * (size_t)n_memory;
            for (f = 0; f < n_filter; f++) {
                const int16_t *wt = weights_time + (size_t)f * (size_t)n_memory;
                const int16_t *st = state_b + (size_t)f * (size_t)n_memory;
                uint32_t acc = 0;
                k = 0;
#if TML_USE_DSP
                /* Zero point 0 (every int16-state model): two int16 products per SMLAD. */
                if (params->state_zero_point == 0) {
                    for (; k + 2 <= n_memory; k += 2) {
                        uint32_t w2, s2;
                        memcpy(&w2, wt + k, 4);
                        memcpy(&s2, st + k, 4);
                        acc = (uint32_t)tml_smlad(w2, s2, (int32_t)acc);
                    }
                }
#endif
                for (; k < n_memory; k++) {
                    acc += (uint32_t)((int32_t)wt[k] * ((int32_t)st[k] - params->state_zero_point));
                }
                filter_sums[(size_t)b * (size_t)n_filter + (size_t)f] = (int32_t)acc;
            }
        }

        tml_svdf_reduce(params, units, bias, scratch, output);
    }
    return TML_OK;
}

/*
 * The int8-state variant (TFLM's EvalIntegerSvdfReference<int8_t>): int8 weights_time and state, the same stages.
 * The state is kept offset by its zero point, modulo 256: the stored byte is (value - state_zero_point) mod 256, so
 * a zeroed state (initialisation, ResetState) is a state full of its zero point, which is what TFLM resets an int8
 * variable tensor to. Decoding is exact: value = (int8_t)(stored + state_zero_point).
 */
TML_API tml_status tml_svdf_s8_state_s8(const tml_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                                        const int8_t *weights_time, const int32_t *bias, int8_t *state,
                                        int32_t *scratch, int8_t *output)
{
    const int32_t units = tml_svdf_units(params);
    int32_t b, f, k;
    if (units < 0 || input == NULL || weights_feature == NULL || weights_time == NULL || state == NULL ||
        scratch == NULL || output == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    {
        const int32_t n_batch = params->batches;
        const int32_t n_input = params->input_size;
        const int32_t n_filter = params->num_filters;
        const int32_t n_memory = params->memory_size;
        const int32_t zp = params->state_zero_point;
#if TML_USE_DSP
        const uint32_t zp4 = (uint32_t)(uint8_t)zp * 0x01010101u, minus_zp2 = tml_dot_offset2(-zp);
#endif
        const size_t state_len = (size_t)n_batch * (size_t)n_filter * (size_t)n_memory;
        int32_t *filter_sums = scratch;

        /* 1. Shift the state left by one element (the encoding does not matter for a copy). */
        tml_svdf_shift(state, state_len, 1);

        /* 2. Feature stage. As TFLM's reference (tflite-micro 90b983c, the goldens' version) computes it for an
         *    int8 state: saturate to int8 first, then add the zero point, wrapping when the sum is narrowed to
         *    int8 (TFLM's golden state shows the wrap: -106 + -50 is stored as 100). Offset by the zero point
         *    again, the stored byte is the saturated value itself. */
        for (b = 0; b < n_batch; b++) {
            int8_t *state_b = state + (size_t)b * (size_t)n_filter * (size_t)n_memory;
            tml_svdf_features(params, input + (size_t)b * (size_t)n_input, weights_feature, filter_sums);
            for (f = 0; f < n_filter; f++) {
                /* value = (int8_t)(sat_i8(v) + zp); stored = value - zp (mod 256) = sat_i8(v) */
                state_b[(size_t)f * (size_t)n_memory + (size_t)(n_memory - 1)] = tml_sat_i8(filter_sums[f]);
            }
        }

        /* 3. Time stage: weights_time row . (value - zero point) over each filter's memory. */
        for (b = 0; b < n_batch; b++) {
            const int8_t *state_b = state + (size_t)b * (size_t)n_filter * (size_t)n_memory;
            for (f = 0; f < n_filter; f++) {
                const int8_t *wt = weights_time + (size_t)f * (size_t)n_memory;
                const int8_t *st = state_b + (size_t)f * (size_t)n_memory;
                uint32_t acc = 0;
                k = 0;
#if TML_USE_DSP
                /* Four taps a step: UADD8 decodes the stored bytes, SXTB16 and SADD16 make value - zp (in
                 * [-255, 255] for an int8 zero point) in int16 lanes, two SMLAD. */
                for (; zp >= INT8_MIN && zp <= INT8_MAX && k + 4 <= n_memory; k += 4) {
                    const uint32_t v = tml_uadd8(tml_read_s8x4(st + k), zp4), w = tml_read_s8x4(wt + k);
                    acc = (uint32_t)tml_smlad(tml_sadd16(tml_sxtb16(v), minus_zp2), tml_sxtb16(w), (int32_t)acc);
                    acc = (uint32_t)tml_smlad(tml_sadd16(tml_sxtb16_ror8(v), minus_zp2), tml_sxtb16_ror8(w),
                                              (int32_t)acc);
                }
#endif
                for (; k < n_memory; k++) {
                    const int32_t value = (int8_t)(uint8_t)((uint32_t)(uint8_t)st[k] + (uint32_t)zp);
                    acc += (uint32_t)((int32_t)wt[k] * (value - zp));
                }
                filter_sums[(size_t)b * (size_t)n_filter + (size_t)f] = (int32_t)acc;
            }
        }
        tml_svdf_reduce(params, units, bias, scratch, output);
    }
    return TML_OK;
}
