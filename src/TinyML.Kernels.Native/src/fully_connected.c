/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fully_connected.c: int8 and 16x8 FULLY_CONNECTED, per-tensor or per-channel requantization, batches.
 *
 * Arithmetic (TFLM reference_integer_ops::FullyConnected and FullyConnectedPerChannel):
 *   per-tensor:  acc = sum_d (filter[o][d] + filter_offset) * (input[b][d] + input_offset)
 *   per-channel: acc = sum_d  filter[o][d]                  * (input[b][d] + input_offset)
 *   acc += bias[o]                                    (when bias != NULL)
 *   out  = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + output_offset,
 *                activation_min, activation_max)
 *
 * On DSP cores (TML_USE_DSP) the int8 kernel without a filter offset (per-channel, or per-tensor with symmetric
 * weights as TFLM quantizes them) takes fully_connected_s8_dsp: 2 batches x 2 output rows per tml_dot_s8_2x2 (a single batch: tml_dot_s8_1x2), the
 * requantization tml_requant_apply; exact, so equal to the portable loop bit for bit.
 *
 * tml_fully_connected_s8_float_requant is the portable loop with onnxruntime's float32 requantization (requant_f32.h).
 */
#include "common.h"
#include "requant_f32.h"
#include "dot_s8.h"

TML_API int32_t tml_fully_connected_s8_get_buffer_size(const tml_fully_connected_params *params, int32_t batches,
                                                       int32_t accum_depth, int32_t output_depth)
{
    return tml_fully_connected_s8_get_buffer_size_for(TML_BUILD_CORE, params, batches, accum_depth, output_depth);
}

TML_API int32_t tml_fully_connected_s8_get_buffer_size_for(int32_t core, const tml_fully_connected_params *params,
                                                           int32_t batches, int32_t accum_depth,
                                                           int32_t output_depth)
{
    if (core < 0 || core >= TML_CORES) {
        return -1;
    }
    (void)batches;
    (void)accum_depth;
    (void)output_depth;
    if (params == NULL) {
        return -1;
    }
    return 0;
}

#if TML_USE_DSP
/* The int8 kernel without a filter offset on a DSP core; arguments already validated. */
static void fully_connected_s8_dsp(const tml_fully_connected_params *p, const tml_per_channel_quant *quant,
                                   int32_t batches, int32_t depth, int32_t units, const int8_t *input,
                                   const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t q_step = p->per_channel ? 1 : 0;
    for (int32_t b = 0; b < batches; b += 2) {
        const int two = b + 1 < batches;
        const int8_t *in0 = input + (size_t)b * depth;
        const int8_t *in1 = two ? in0 + depth : in0;
        int8_t *out0 = output + (size_t)b * units;
        int8_t *out1 = out0 + units;
        for (int32_t o = 0; o < units; o += 2) {
            const int32_t o1 = o + 1 < units ? o + 1 : o;
            int32_t acc[4] = {0, 0, 0, 0};
            if (two) {
                tml_dot_s8_2x2(in0, in1, filter + (size_t)o * depth, filter + (size_t)o1 * depth, depth,
                               p->input_offset, acc);
            } else {
                tml_dot_s8_1x2(in0, filter + (size_t)o * depth, filter + (size_t)o1 * depth, depth, p->input_offset,
                               acc);
            }
            const tml_requant q0 = tml_requant_prepare(quant->multiplier[o * q_step], quant->shift[o * q_step]);
            const tml_requant q1 = tml_requant_prepare(quant->multiplier[o1 * q_step], quant->shift[o1 * q_step]);
            out0[o] = tml_dot_output_s8(acc[0], bias, o, &q0, p->output_offset, p->activation_min, p->activation_max);
            out0[o1] = tml_dot_output_s8(acc[1], bias, o1, &q1, p->output_offset, p->activation_min,
                                         p->activation_max);
            if (two) {
                out1[o] = tml_dot_output_s8(acc[2], bias, o, &q0, p->output_offset, p->activation_min,
                                            p->activation_max);
                out1[o1] = tml_dot_output_s8(acc[3], bias, o1, &q1, p->output_offset, p->activation_min,
                                             p->activation_max);
            }
        }
    }
}
#endif

/* The portable loop (TFLM's FullyConnected order); arguments already validated. */
TML_INLINE void fully_connected_s8_portable(const tml_fully_connected_params *params, const tml_s8_requant *requant,
                                            int32_t batches, int32_t accum_depth, int32_t output_depth,
                                            const int8_t *input, const int8_t *filter, const int32_t *bias,
                                            int8_t *output)
{
    const int32_t input_offset = params->input_offset;
    /* TFLM's per-channel kernel has no filter offset (symmetric weights); the per-tensor one applies it. */
    const int32_t filter_offset = params->per_channel ? 0 : params->filter_offset;
    const int32_t output_offset = params->output_offset;
    const int32_t act_min = params->activation_min;
    const int32_t act_max = params->activation_max;
    const int32_t q_step = params->per_channel ? 1 : 0;

    for (int32_t b = 0; b < batches; b++) {
        const int8_t *in = input + (size_t)b * accum_depth;
        int8_t *out = output + (size_t)b * output_depth;
        for (int32_t o = 0; o < output_depth; o++) {
            const int8_t *w = filter + (size_t)o * accum_depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < accum_depth; d++) {
                acc += ((int32_t)w[d] + filter_offset) * ((int32_t)in[d] + input_offset);
            }
            if (bias != NULL) {
                acc = tml_add_wrap(acc, bias[o]);
            }
            out[o] = tml_s8_requant_output(requant, acc, o * q_step, output_offset, act_min, act_max);
        }
    }
}

TML_API tml_status tml_fully_connected_s8(const tml_fully_connected_params *params, const tml_per_channel_quant *quant,
                                          int32_t batches, int32_t accum_depth, int32_t output_depth,
                                          const int8_t *input, const int8_t *filter, const int32_t *bias,
                                          int8_t *output, void *scratch)
{
    (void)scratch;
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || batches <= 0 || accum_depth <= 0 || output_depth <= 0 ||
        params->activation_min > params->activation_max ||
        (params->per_channel != 0 && params->per_channel != 1)) {
        return TML_ERROR_ARGUMENT;
    }
#if TML_USE_DSP
    if ((params->per_channel || params->filter_offset == 0) &&
        tml_dot_multipliers_ok(quant->multiplier, params->per_channel ? output_depth : 1)) {
        fully_connected_s8_dsp(params, quant, batches, accum_depth, output_depth, input, filter, bias, output);
        return TML_OK;
    }
#endif
    const tml_s8_requant requant = {quant, NULL};
    fully_connected_s8_portable(params, &requant, batches, accum_depth, output_depth, input, filter, bias, output);
    return TML_OK;
}

TML_API tml_status tml_fully_connected_s8_float_requant(const tml_fully_connected_params *params, const float *scales,
                                                        int32_t batches, int32_t accum_depth, int32_t output_depth,
                                                        const int8_t *input, const int8_t *filter, const int32_t *bias,
                                                        int8_t *output, void *scratch)
{
    (void)scratch;
    if (params == NULL || scales == NULL || input == NULL || filter == NULL || output == NULL || batches <= 0 ||
        accum_depth <= 0 || output_depth <= 0 || params->activation_min > params->activation_max ||
        (params->per_channel != 0 && params->per_channel != 1) ||
        !tml_scales_f32_valid(scales, params->per_channel ? output_depth : 1)) {
        return TML_ERROR_ARGUMENT;
    }
    const tml_s8_requant requant = {NULL, scales};
    fully_connected_s8_portable(params, &requant, batches, accum_depth, output_depth, input, filter, bias, output);
    return TML_OK;
}

/*
 * 16x8 (TFLM FullyConnected<AccumScalar> and FullyConnectedPerChannel<AccumScalar> for int16 input): no input or
 * output offset (int16 zero points are 0), the filter offset as the int8 kernel applies it. The products are summed
 * in 64 bits. With an int64 bias TFLM keeps the sum in int64 and requantizes with the 64-bit
 * MultiplyByQuantizedMultiplier; with an int32 bias or none its accumulator is int32 (a wrapping sum, so the low 32
 * bits of ours) and it requantizes with the 32-bit one.
 */
static tml_status fully_connected_s16(const tml_fully_connected_params *params, const tml_per_channel_quant *quant,
                                      int32_t batches, int32_t accum_depth, int32_t output_depth,
                                      const int16_t *input, const int8_t *filter, const int64_t *bias64,
                                      const int32_t *bias32, int16_t *output)
{
    if (params == NULL || quant == NULL || quant->multiplier == NULL || quant->shift == NULL || input == NULL ||
        filter == NULL || output == NULL || batches <= 0 || accum_depth <= 0 || output_depth <= 0 ||
        params->activation_min > params->activation_max || (params->per_channel != 0 && params->per_channel != 1) ||
        params->input_offset != 0 || params->output_offset != 0) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t filter_offset = params->per_channel ? 0 : params->filter_offset;
    const int32_t q_step = params->per_channel ? 1 : 0;
    for (int32_t b = 0; b < batches; b++) {
        const int16_t *in = input + (size_t)b * accum_depth;
        int16_t *out = output + (size_t)b * output_depth;
        for (int32_t o = 0; o < output_depth; o++) {
            const int8_t *w = filter + (size_t)o * accum_depth;
            int64_t acc = 0;
            for (int32_t d = 0; d < accum_depth; d++) {
                acc += ((int32_t)w[d] + filter_offset) * (int32_t)in[d];
            }
            const int32_t qi = o * q_step;
            out[o] = bias64 != NULL ? tml_requantize_s16_from_i64(acc + bias64[o], quant->multiplier[qi],
                                                                  quant->shift[qi], params->activation_min,
                                                                  params->activation_max)
                                    : tml_requantize_s16_from_i32(acc, bias32 != NULL ? bias32[o] : 0,
                                                                  quant->multiplier[qi], quant->shift[qi],
                                                                  params->activation_min, params->activation_max);
        }
    }
    return TML_OK;
}

TML_API tml_status tml_fully_connected_s16(const tml_fully_connected_params *params, const tml_per_channel_quant *quant,
                                           int32_t batches, int32_t accum_depth, int32_t output_depth,
                                           const int16_t *input, const int8_t *filter, const int64_t *bias,
                                           int16_t *output, void *scratch)
{
    (void)scratch;
    if (bias == NULL) {
        return TML_ERROR_ARGUMENT; /* without a bias TFLM takes the int32 accumulator: tml_fully_connected_s16_bias32 */
    }
    return fully_connected_s16(params, quant, batches, accum_depth, output_depth, input, filter, bias, NULL, output);
}

TML_API tml_status tml_fully_connected_s16_bias32(const tml_fully_connected_params *params,
                                                  const tml_per_channel_quant *quant, int32_t batches,
                                                  int32_t accum_depth, int32_t output_depth, const int16_t *input,
                                                  const int8_t *filter, const int32_t *bias, int16_t *output,
                                                  void *scratch)
{
    (void)scratch;
    return fully_connected_s16(params, quant, batches, accum_depth, output_depth, input, filter, NULL, bias, output);
}
