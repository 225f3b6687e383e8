/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tml_kernels_activation.h: activation, softmax, (de)quantization and SVDF kernels.
 *
 * Included at the end of tml_kernels.h (include that one). Every kernel mirrors the arithmetic of the TFLite
 * Micro reference kernel named in its comment (tflite-micro 90b983c, double rounding: TFLITE_SINGLE_ROUNDING
 * not defined), so its output is byte-identical with TFLM for the same parameters.
 *
 * Parameter structs hold exactly what TFLM computes in Prepare. For each field the comment gives the formula
 * the compiler must use to fill it from the model, in the same precision and order as TFLM:
 *   - "float:" means the expression is evaluated in IEEE-754 binary32 (C# `float`), left to right, and only the
 *     final value is widened to double;
 *   - "double:" means every operand is first widened to double and the expression is evaluated in binary64;
 *   - QuantizeMultiplier(d) -> (multiplier, shift) is TFLM's: q = frexp(d, &shift);
 *     multiplier = round_half_away(q * 2^31); if multiplier == 2^31 { multiplier /= 2; shift++ };
 *     if shift < -31 { multiplier = 0; shift = 0 }; d == 0 gives (0, 0). It works for negative d too.
 * Scales are the float32 values stored in the .tflite file; zero points are its int64 values narrowed to int32.
 *
 * Element counts are int32_t and must be >= 0; a count of 0 does nothing. Buffers never alias unless a kernel
 * says so: all element-wise kernels here may run in place (output == input) since element i is read before it
 * is written and nothing else is read afterwards.
 */
#ifndef TML_KERNELS_ACTIVATION_H
#define TML_KERNELS_ACTIVATION_H

#include "tml_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================================
 * SOFTMAX
 * ========================================================================================================== */

/*
 * Quantized SOFTMAX (TFLM softmax_common.cc CalculateSoftmaxParams for int8 input, reference_ops::Softmax).
 * TFLM requires, and the compiler must check (else refuse the model, as TFLM's Prepare does):
 *   - int8 output: zero_point == -128 and scale == 1/256 exactly (float compare: scale == 0.00390625f);
 *   - int16 output: zero_point == -32768 and |scale - 1/65536| <= 0.001 * 1/65536 (float32 arithmetic);
 *   - input_multiplier below must come out >= 1 (TFLM's QuantizeMultiplierGreaterThanOne CHECK), i.e.
 *     beta * input_scale * 2^26 > 1.
 */
typedef struct {
    /*
     * PreprocessSoftmaxScaling(beta, input_scale, 5): double: real = min(beta * input_scale * 2^26, 2^31 - 1),
     * where beta (the float option) and input_scale (float) are each widened to double first and multiplied
     * left to right; (input_multiplier, input_left_shift) = QuantizeMultiplier(real). input_left_shift >= 0.
     */
    int32_t input_multiplier;
    int32_t input_left_shift;
    /*
     * CalculateInputRadius(5, input_left_shift, 31) negated: double: diff_min = -floor(31 * 2^26 /
     * 2^input_left_shift), stored as int32 (TFLM converts -1.0 * radius back to int). Differences to the row
     * maximum below diff_min contribute nothing and produce the minimum output value.
     */
    int32_t diff_min;
} tml_softmax_params;

/*
 * int8 -> int8 softmax over the last axis: `rows` independent rows of `depth` elements (rows = product of all
 * other dimensions). The output is quantized with scale 1/256 and zero point -128.
 * Returns TML_ERROR_ARGUMENT for NULL pointers, negative sizes, or a row whose sum of exponentials makes TFLM's
 * internal TFLITE_CHECK(0 <= exponent <= 31) fail (only possible for depth > 256; TFLM aborts there).
 */
TML_API tml_status tml_softmax_s8(const tml_softmax_params *params, const int8_t *input, int32_t rows,
                                  int32_t depth, int8_t *output);

/*
 * int8 -> int16 softmax (TFLM's same reference path with an int16 output type): output scale 1/65536, zero
 * point -32768. Same parameters and errors as tml_softmax_s8 (the exponent check can fail only for depth > 2^16).
 */
TML_API tml_status tml_softmax_s8_s16(const tml_softmax_params *params, const int8_t *input, int32_t rows,
                                      int32_t depth, int16_t *output);

/*
 * float32 softmax (TFLM reference_ops::Softmax for float): per row, max, then exp((x - max) * beta) in float
 * summed left to right, then each exponential divided by the sum. `beta` is the model's float option.
 * Uses expf from the C library, so results may differ from TFLM in the last bits on other libms.
 */
/* Parameters of tml_softmax_f32. */
typedef struct {
    float beta; /* SoftmaxOptions.beta, as stored in the model */
} tml_softmax_f32_params;

TML_API tml_status tml_softmax_f32(const tml_softmax_f32_params *params, const float *input, int32_t rows,
                                   int32_t depth, float *output);

/* ============================================================================================================
 * LOGISTIC and TANH (int8)
 * ========================================================================================================== */

/*
 * Parameters of the int8 LOGISTIC (TFLM logistic_common.cc CalculateArithmeticOpDataLogistic) and TANH
 * (TFLM tanh.cc CalculateArithmeticOpData); both evaluate the function in Q4.27 fixed point.
 * TFLM requires for LOGISTIC an output zero point of -128 (refused otherwise: "output->params.zero_point !=
 * -128"); the kernel assumes the spec output scale 1/256. TANH's int8 kernel assumes output scale 1/128 and
 * zero point 0 and never reads the output quantization (TFLM does not check it either).
 */
typedef struct {
    /* the input zero point */
    int32_t input_zero_point;
    /*
     * CalculateInputRadius(4, input_left_shift, 31): double: floor(15 * 2^27 / 2^input_left_shift) (as int).
     * Inputs with |x - zero_point| >= radius saturate to -128/127 without evaluating the function.
     */
    int32_t input_range_radius;
    /*
     * double: real = (double)input_scale * 2^27; q = frexp(real, &input_left_shift);
     * input_multiplier = (int32)round_half_away(q * 2^31). Note: NOT QuantizeMultiplier (no 2^31 fix-up, no
     * flush of tiny shifts); since input_scale is a float, q * 2^31 is an exact integer < 2^31 anyway.
     */
    int32_t input_multiplier;
    /*
     * the frexp exponent; the compiler should refuse input scales below 2^-28 (negative shift):
     * TFLM's radius computation shifts by it (undefined there). From scale 16 on (shift >= 32) the radius
     * is 0 and every input saturates; the kernel rejects a shift > 31 with a non-zero radius
     */
    int32_t input_left_shift;
} tml_logistic_params;

/* TANH uses the same four parameters, derived by the same formulas (TFLM tanh.cc). */
typedef tml_logistic_params tml_tanh_params;

/*
 * int8 LOGISTIC (TFLM reference_integer_ops::Logistic, gemmlowp fixed-point logistic on Q4.27, no look-up
 * table). Output scale 1/256, zero point -128.
 */
TML_API tml_status tml_logistic_s8(const tml_logistic_params *params, const int8_t *input, int32_t size,
                                   int8_t *output);

/*
 * int8 TANH (TFLM reference_integer_ops::Tanh, gemmlowp fixed-point tanh on Q4.27, no look-up table).
 * Output scale 1/128, zero point 0.
 */
TML_API tml_status tml_tanh_s8(const tml_tanh_params *params, const int8_t *input, int32_t size, int8_t *output);

/* ============================================================================================================
 * HARD_SWISH (int8)
 * ========================================================================================================== */

/*
 * TFLM hard_swish_common.cc HardSwishPrepare / reference_ops::HardSwish (16-bit fixed point).
 *   hires_input_scale = float: (1.0f / 128.0f) * input_scale
 *   reluish_scale     = float: 3.0f / 32768.0f
 *   output_multiplier  = (double)(float: hires_input_scale / output_scale)
 *   reluish_multiplier = (double)(float: hires_input_scale / reluish_scale)
 *   (m32, exponent) = QuantizeMultiplier(multiplier), then DownScaleInt32ToInt16Multiplier:
 *   fixedpoint_int16 = m32 >= INT32_MAX - 32768 ? 32767 : (m32 + 32768) >> 16.
 * TFLM requires output_multiplier_exponent <= 0 (Prepare fails otherwise), i.e. output_scale must not be
 * smaller than input_scale / 128 roughly; the kernel returns TML_ERROR_ARGUMENT if it is > 0.
 */
typedef struct {
    int32_t input_zero_point;                     /* input zero point */
    int32_t output_zero_point;                    /* output zero point */
    int32_t reluish_multiplier_fixedpoint_int16;  /* in [0, 32767], from reluish_multiplier */
    int32_t reluish_multiplier_exponent;          /* shift from QuantizeMultiplier(reluish_multiplier) */
    int32_t output_multiplier_fixedpoint_int16;   /* in [0, 32767], from output_multiplier */
    int32_t output_multiplier_exponent;           /* shift from QuantizeMultiplier(output_multiplier), <= 0 */
} tml_hard_swish_params;

/* int8 HARD_SWISH: x * relu6(x + 3) / 6, computed in TFLM's int16 fixed-point arithmetic. */
TML_API tml_status tml_hard_swish_s8(const tml_hard_swish_params *params, const int8_t *input, int32_t size,
                                     int8_t *output);

/* ============================================================================================================
 * LEAKY_RELU (int8)
 * ========================================================================================================== */

/*
 * TFLM leaky_relu_common.cc CalculateOpDataLeakyRelu / reference_ops::QuantizeLeakyRelu.
 *   (output_multiplier_alpha, output_shift_alpha) =
 *       QuantizeMultiplier((double)(float: input_scale * alpha / output_scale))   (alpha is the float option;
 *       a negative alpha gives a negative multiplier, which the kernel handles)
 *   (output_multiplier_identity, output_shift_identity) =
 *       QuantizeMultiplier((double)(float: input_scale / output_scale))
 */
typedef struct {
    int32_t input_offset;               /* input zero point */
    int32_t output_offset;              /* output zero point */
    int32_t output_multiplier_alpha;    /* applied when x - input_offset < 0 */
    int32_t output_shift_alpha;
    int32_t output_multiplier_identity; /* applied when x - input_offset >= 0 */
    int32_t output_shift_identity;
} tml_leaky_relu_params;

/* int8 LEAKY_RELU: x >= 0 ? x : alpha * x, requantized to the output quantization. */
TML_API tml_status tml_leaky_relu_s8(const tml_leaky_relu_params *params, const int8_t *input, int32_t size,
                                     int8_t *output);

/* ============================================================================================================
 * RELU family (int8)
 * ========================================================================================================== */

/*
 * Standalone RELU (TFLM activations_common.cc CalculateReluOpData<int8_t> / ReluQuantized): requantize then
 * clamp. Also serves RELU_N1_TO_1 and any other [lo, hi] clamp with requantization.
 *   (output_multiplier, output_shift) = QuantizeMultiplier(double: (double)input_scale / (double)output_scale)
 *   quantized_activation_min = max(-128, output_zp + (int32)roundf(float: act_min / output_scale))
 *   quantized_activation_max = act_max infinite ? 127
 *                              : min(127, output_zp + (int32)roundf(float: act_max / output_scale))
 *   with (act_min, act_max) = (0.0f, +inf) for RELU and (-1.0f, 1.0f) for RELU_N1_TO_1 (TFLite's values: we
 *   found no RELU_N1_TO_1 kernel in TFLM, so there is no golden for it). roundf rounds half away from zero.
 */
typedef struct {
    int32_t input_offset;             /* input zero point */
    int32_t output_offset;            /* output zero point */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t quantized_activation_min; /* in [-128, 127] */
    int32_t quantized_activation_max; /* in [-128, 127], >= quantized_activation_min */
} tml_relu_params;

/* int8 RELU (requantizing): out = clamp(output_offset + MBQM(x - input_offset), min, max). */
TML_API tml_status tml_relu_s8(const tml_relu_params *params, const int8_t *input, int32_t size, int8_t *output);

/*
 * Standalone RELU6 (TFLM activations_common.cc Relu6Prepare / Relu6Quantized): a pure clamp in the INPUT
 * quantization; TFLM never requantizes here, even when the output quantization differs.
 *   zero = input_zero_point
 *   six  = clamp((int32)round(float: 6.0f / input_scale) + input_zero_point, -128, 127)
 *          (FloatToQuantizedType<int8_t>; round half away from zero; note the float32 division)
 */
typedef struct {
    int32_t zero; /* lower bound, in [-128, 127] */
    int32_t six;  /* upper bound, in [-128, 127] */
} tml_relu6_params;

/* int8 RELU6: out = x > six ? six : (x < zero ? zero : x). */
TML_API tml_status tml_relu6_s8(const tml_relu6_params *params, const int8_t *input, int32_t size,
                                int8_t *output);

/* ============================================================================================================
 * QUANTIZE / DEQUANTIZE
 * ========================================================================================================== */

/*
 * float32 -> integer QUANTIZE (TFLM quantize_common.cc / reference_ops::AffineQuantize):
 *   out = clamp((int32)round_half_away(float: x / scale) + zero_point, type min, type max)
 * with scale the output tensor's float scale (TFLM stores it as double and converts it back to float, which is
 * lossless). Out-of-range or NaN quotients convert to INT32_MIN (x86-64 cvttss2si, the behaviour behind the
 * golden outputs) and zero_point is then added with 32-bit wrap-around.
 */
typedef struct {
    float scale;        /* output scale (float32 from the model) */
    int32_t zero_point; /* output zero point */
} tml_quantize_params;

/* float32 -> int8 QUANTIZE. */
TML_API tml_status tml_quantize_f32_s8(const tml_quantize_params *params, const float *input, int32_t size,
                                       int8_t *output);

/* float32 -> int16 QUANTIZE. */
TML_API tml_status tml_quantize_f32_s16(const tml_quantize_params *params, const float *input, int32_t size,
                                        int16_t *output);

/*
 * Integer -> integer QUANTIZE (TFLM quantize_common.cc PrepareQuantizeReference / reference_ops::Requantize):
 *   (multiplier, shift) = QuantizeMultiplier(double: (double)input_scale / (double)output_scale)
 *   out = clamp(MBQM(x - input_zero_point, multiplier, shift) + output_zero_point, type min, type max)
 */
typedef struct {
    int32_t multiplier;
    int32_t shift;
    int32_t input_zero_point;
    int32_t output_zero_point;
} tml_requantize_params;

/* int8 -> int8 QUANTIZE (requantization). */
TML_API tml_status tml_requantize_s8_s8(const tml_requantize_params *params, const int8_t *input, int32_t size,
                                        int8_t *output);

/* int8 -> int16 QUANTIZE. */
TML_API tml_status tml_requantize_s8_s16(const tml_requantize_params *params, const int8_t *input, int32_t size,
                                         int16_t *output);

/* int8 -> int32 QUANTIZE. */
TML_API tml_status tml_requantize_s8_s32(const tml_requantize_params *params, const int8_t *input, int32_t size,
                                         int32_t *output);

/* int16 -> int8 QUANTIZE. */
TML_API tml_status tml_requantize_s16_s8(const tml_requantize_params *params, const int16_t *input, int32_t size,
                                         int8_t *output);

/* int16 -> int16 QUANTIZE. */
TML_API tml_status tml_requantize_s16_s16(const tml_requantize_params *params, const int16_t *input,
                                          int32_t size, int16_t *output);

/* int16 -> int32 QUANTIZE (keyword_scrambled's output stage). */
TML_API tml_status tml_requantize_s16_s32(const tml_requantize_params *params, const int16_t *input,
                                          int32_t size, int32_t *output);

/*
 * DEQUANTIZE (TFLM dequantize_common.cc / reference_ops::Dequantize):
 *   out = float: scale * (float)(x - zero_point)      (one float32 multiply, exact on every IEEE target)
 */
typedef struct {
    float scale;        /* input scale (float32 from the model) */
    int32_t zero_point; /* input zero point */
} tml_dequantize_params;

/* int8 -> float32 DEQUANTIZE. */
TML_API tml_status tml_dequantize_s8_f32(const tml_dequantize_params *params, const int8_t *input, int32_t size,
                                         float *output);

/* int16 -> float32 DEQUANTIZE. */
TML_API tml_status tml_dequantize_s16_f32(const tml_dequantize_params *params, const int16_t *input,
                                          int32_t size, float *output);

/* ============================================================================================================
 * SVDF (int8 input, int16 state)
 * ========================================================================================================== */

/*
 * TFLM svdf_common.cc PrepareSvdf / EvalIntegerSvdfReference<int16_t> (int8 input and weights_feature, int16
 * weights_time and activation state, optional int32 bias, int8 output). TFLM applies no fused activation in the
 * integer path: the output quantization alone bounds it.
 * Shapes: input [batches, input_size]; weights_feature [num_filters, input_size]; weights_time
 * [num_filters, memory_size]; bias [num_units]; state [batches, num_filters * memory_size];
 * output [batches, num_units] with num_units = num_filters / rank.
 *   (multiplier_1, shift_1) = QuantizeMultiplier((double)(float: input_scale * weights_feature_scale /
 *                                                                state_scale))
 *   (multiplier_2, shift_2) = QuantizeMultiplier((double)(float: state_scale * weights_time_scale /
 *                                                                output_scale))
 * TFLM also requires |(double)bias_scale - (double)(float: state_scale * weights_time_scale)| < 1e-5.
 */
typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t num_filters;  /* weights_feature dim 0; a multiple of rank */
    int32_t rank;         /* the SVDF option */
    int32_t memory_size;  /* weights_time dim 1 */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t state_zero_point; /* the state tensor's zero point (0 in every int16-state model) */
    int32_t multiplier_1;     /* feature stage: input x weights_feature -> state */
    int32_t shift_1;
    int32_t multiplier_2;     /* time stage: state x weights_time (+ bias) -> output */
    int32_t shift_2;
} tml_svdf_params;

/*
 * Bytes of int32 scratch that tml_svdf_s8 needs: 4 * batches * (num_filters + num_units) (TFLM's two scratch
 * buffers, placed back to back). Returns -1 for invalid dimensions.
 */
TML_API int32_t tml_svdf_s8_get_buffer_size(const tml_svdf_params *params);

/*
 * One SVDF invoke. `state` (int16, batches * num_filters * memory_size elements) persists across invokes; the
 * caller owns it and sets it to zero (the state zero point) at initialisation. Each call shifts every filter's
 * memory left by one, writes the newest feature activations in the last slot, then reduces against weights_time.
 * `bias` may be NULL. `scratch` must hold tml_svdf_s8_get_buffer_size bytes, 4-byte aligned.
 */
TML_API tml_status tml_svdf_s8(const tml_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                               const int16_t *weights_time, const int32_t *bias, int16_t *state,
                               int32_t *scratch, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TML_KERNELS_ACTIVATION_H */
