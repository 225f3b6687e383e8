/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tml_kernels.h: the one public header of the TinyML kernel library.
 *
 * Kernels are pure: they allocate nothing, keep no globals and do no I/O. Every parameter that can be
 * computed ahead of time (requantization multipliers and shifts, activation ranges, paddings, broadcast
 * strides) is precomputed by the compiler and passed in. Only fixed-width integer and float types cross the
 * ABI (the host binds it through P/Invoke), never bool or enums.
 */
#ifndef TML_KERNELS_H
#define TML_KERNELS_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or a parameter struct changes; the host checks it at first use. */
#define TML_ABI_VERSION 1

#if defined(_WIN32)
#define TML_API __declspec(dllexport)
#elif defined(__GNUC__)
#define TML_API __attribute__((visibility("default")))
#else
#define TML_API
#endif

/* Status codes returned by every kernel. */
typedef int32_t tml_status;
#define TML_OK 0
#define TML_ERROR_ARGUMENT 1    /* a parameter is out of its documented range */
#define TML_ERROR_UNSUPPORTED 2 /* a valid parameter combination this kernel does not implement */

/* A 4-D NHWC shape. Lower-rank tensors are padded with leading 1s by the compiler. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} tml_dims;

/* One requantization: real_multiplier ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31). */
typedef struct {
    int32_t multiplier;
    int32_t shift;
} tml_quant;

/* Per-channel requantization, one entry per output channel. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} tml_per_channel_quant;

/* Returns TML_ABI_VERSION as compiled into the library. */
TML_API int32_t tml_abi_version(void);

/* Largest tensor rank accepted by the N-D kernels (broadcast, pad, transpose, strided slice). Lower ranks are
 * expressed by the compiler with leading dimensions of size 1. */
#define TML_MAX_DIMS 6

/* ======================================================================================================== */
/* Conventions shared by the int8 kernels                                                                   */
/* ======================================================================================================== */
/*
 * Tensors are NHWC, row-major, densely packed. Offsets follow TFLM's sign conventions:
 *   input_offset  = -input_zero_point   (added to every input value before multiplying)
 *   filter_offset = -filter_zero_point  (fully connected per-tensor only)
 *   output_offset = +output_zero_point  (added after requantization)
 * activation_min / activation_max are the final clamp, already intersected with the int8 range by the
 * compiler (TFLM's CalculateActivationRangeQuantized; for NONE they are -128 / 127).
 * Padding: pad_h / pad_w are the top / left padding of TFLM's ComputePaddingHeightWidth (for SAME the smaller
 * half, total/2; the extra row/column of an odd total is at the bottom/right and is implicit). Taps that fall
 * outside the input are skipped, exactly like TFLM's reference kernels (zero padding in the real domain).
 * Kernels that need scratch memory take a `scratch` pointer of at least `<kernel>_get_buffer_size()` bytes;
 * kernels without such a companion never use scratch.
 */

/* ---- CONV_2D ------------------------------------------------------------------------------------------ */

/* Parameters of tml_conv_s8 (mirrors TFLM's ConvParams as filled by conv_common.cc's ConvParamsQuantized). */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    int32_t stride_h;       /* Conv2DOptions.stride_h, >= 1 */
    int32_t stride_w;       /* Conv2DOptions.stride_w, >= 1 */
    int32_t dilation_h;     /* Conv2DOptions.dilation_h_factor, >= 1 */
    int32_t dilation_w;     /* Conv2DOptions.dilation_w_factor, >= 1 */
    int32_t pad_h;          /* top padding (ComputePaddingHeightWidth), >= 0; 0 for VALID */
    int32_t pad_w;          /* left padding (ComputePaddingHeightWidth), >= 0; 0 for VALID */
    int32_t activation_min; /* fused activation lower clamp (CalculateActivationRangeQuantized) */
    int32_t activation_max; /* fused activation upper clamp */
} tml_conv_params;

/*
 * Scratch bytes tml_conv_s8 needs for these shapes. The portable path needs none and returns 0; the signature
 * is kept for an im2col path. Returns -1 when an argument is NULL.
 */
TML_API int32_t tml_conv_s8_get_buffer_size(const tml_conv_params *params, const tml_dims *input_dims,
                                            const tml_dims *filter_dims, const tml_dims *output_dims);

/*
 * int8 2-D convolution with per-channel requantization (TFLM reference_integer_ops::ConvPerChannel).
 *   input:  [n, h, w, in_c]
 *   filter: [out_c, kh, kw, in_c / groups] (filter_dims = {out_c, kh, kw, filter_in_c}); groups =
 *           in_c / filter_in_c (1 for an ordinary convolution), out_c must be a multiple of groups
 *   bias:   out_c int32 values or NULL (no bias)
 *   quant:  out_c multipliers and shifts (PopulateConvolutionQuantizationParams; a per-tensor filter scale is
 *           simply repeated for every channel)
 *   output: [n, out_h, out_w, out_c]; output_dims are the compiler's (ComputeOutSize)
 *   scratch: tml_conv_s8_get_buffer_size() bytes (may be NULL when that is 0)
 */
TML_API tml_status tml_conv_s8(const tml_conv_params *params, const tml_per_channel_quant *quant,
                               const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                               int8_t *output, void *scratch);

/* ---- DEPTHWISE_CONV_2D -------------------------------------------------------------------------------- */

/* Parameters of tml_depthwise_conv_s8 (mirrors TFLM's DepthwiseParams, depthwise_conv_common.cc). */
typedef struct {
    int32_t input_offset;     /* -input zero point */
    int32_t output_offset;    /* output zero point */
    int32_t stride_h;         /* DepthwiseConv2DOptions.stride_h, >= 1 */
    int32_t stride_w;         /* DepthwiseConv2DOptions.stride_w, >= 1 */
    int32_t dilation_h;       /* dilation_h_factor, >= 1 */
    int32_t dilation_w;       /* dilation_w_factor, >= 1 */
    int32_t pad_h;            /* top padding (ComputePaddingHeightWidth) */
    int32_t pad_w;            /* left padding (ComputePaddingHeightWidth) */
    int32_t depth_multiplier; /* DepthwiseConv2DOptions.depth_multiplier; out_c must equal in_c * it, >= 1 */
    int32_t activation_min;   /* fused activation lower clamp */
    int32_t activation_max;   /* fused activation upper clamp */
} tml_depthwise_conv_params;

/* Scratch bytes tml_depthwise_conv_s8 needs (0 for the portable path). Returns -1 when an argument is NULL. */
TML_API int32_t tml_depthwise_conv_s8_get_buffer_size(const tml_depthwise_conv_params *params,
                                                      const tml_dims *input_dims, const tml_dims *filter_dims,
                                                      const tml_dims *output_dims);

/*
 * int8 depthwise convolution with per-channel requantization (TFLM DepthwiseConvPerChannel).
 *   input:  [n, h, w, in_c]
 *   filter: [1, kh, kw, in_c * depth_multiplier]; output channel oc = ic * depth_multiplier + m
 *   bias:   out_c int32 values or NULL
 *   quant:  out_c multipliers and shifts
 *   output: [n, out_h, out_w, in_c * depth_multiplier]
 */
TML_API tml_status tml_depthwise_conv_s8(const tml_depthwise_conv_params *params, const tml_per_channel_quant *quant,
                                         const tml_dims *input_dims, const int8_t *input,
                                         const tml_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                         const tml_dims *output_dims, int8_t *output, void *scratch);

/* ---- FULLY_CONNECTED ---------------------------------------------------------------------------------- */

/* Parameters of tml_fully_connected_s8 (mirrors FullyConnectedParamsQuantized, fully_connected_common.cc). */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t filter_offset;  /* -filter zero point; used only when per_channel == 0 (TFLM ignores it per-channel) */
    int32_t output_offset;  /* output zero point */
    int32_t activation_min; /* fused activation lower clamp */
    int32_t activation_max; /* fused activation upper clamp */
    int32_t per_channel;    /* 0: quant->multiplier[0]/shift[0] apply to every output (per-tensor filter scale);
                               1: one entry per output unit (filter scale vector of size > 1) */
} tml_fully_connected_params;

/* Scratch bytes tml_fully_connected_s8 needs (0 for the portable path). Returns -1 on a NULL argument. */
TML_API int32_t tml_fully_connected_s8_get_buffer_size(const tml_fully_connected_params *params, int32_t batches,
                                                       int32_t accum_depth, int32_t output_depth);

/*
 * int8 fully connected layer (TFLM FullyConnected / FullyConnectedPerChannel).
 *   input:  [batches, accum_depth] (any input shape flattened: batches = elements / accum_depth)
 *   filter: [output_depth, accum_depth]
 *   bias:   output_depth int32 values or NULL
 *   output: [batches, output_depth]
 */
TML_API tml_status tml_fully_connected_s8(const tml_fully_connected_params *params, const tml_per_channel_quant *quant,
                                          int32_t batches, int32_t accum_depth, int32_t output_depth,
                                          const int8_t *input, const int8_t *filter, const int32_t *bias,
                                          int8_t *output, void *scratch);

/* ---- AVERAGE_POOL_2D / MAX_POOL_2D -------------------------------------------------------------------- */

/* Parameters of the int8 pooling kernels (mirrors TFLM's PoolParams, pooling_common.cc). Pooling requires
 * equal input and output quantization, so there is no requantization. */
typedef struct {
    int32_t stride_h;       /* Pool2DOptions.stride_h, >= 1 */
    int32_t stride_w;       /* Pool2DOptions.stride_w, >= 1 */
    int32_t filter_h;       /* Pool2DOptions.filter_height, >= 1 */
    int32_t filter_w;       /* Pool2DOptions.filter_width, >= 1 */
    int32_t pad_h;          /* top padding (ComputePaddingHeightWidth with dilation 1) */
    int32_t pad_w;          /* left padding */
    int32_t activation_min; /* fused activation lower clamp */
    int32_t activation_max; /* fused activation upper clamp */
} tml_pool_params;

/* Scratch bytes tml_avg_pool_s8 needs (0 for the portable path). Returns -1 on a NULL argument. */
TML_API int32_t tml_avg_pool_s8_get_buffer_size(const tml_pool_params *params, const tml_dims *input_dims,
                                                const tml_dims *output_dims);

/*
 * int8 average pooling (TFLM reference_integer_ops::AveragePool): the divisor is the number of taps inside the
 * input; the quotient rounds half away from zero. Returns TML_ERROR_ARGUMENT when a window has no valid tap
 * (TFLM fails the same way). input [n,h,w,c], output [n,out_h,out_w,c].
 */
TML_API tml_status tml_avg_pool_s8(const tml_pool_params *params, const tml_dims *input_dims, const int8_t *input,
                                   const tml_dims *output_dims, int8_t *output, void *scratch);

/* int8 max pooling (TFLM reference_integer_ops::MaxPool); an empty window yields -128 before the clamp. */
TML_API tml_status tml_max_pool_s8(const tml_pool_params *params, const tml_dims *input_dims, const int8_t *input,
                                   const tml_dims *output_dims, int8_t *output);

/* ---- ADD / SUB / MUL ---------------------------------------------------------------------------------- */

/*
 * N-D broadcast description shared by the element-wise kernels. The compiler right-aligns both input shapes
 * with the output shape (numpy rules) and passes, for each output dimension, the element stride of each
 * input, or 0 where that input has size 1 (is broadcast). The output is dense. Same-shape inputs use the
 * ordinary dense strides (and take a flat fast path). The element-wise kernels may run in place: output may
 * alias an input whose strides are the output's dense strides (same shape); it must not alias a broadcast input.
 */
typedef struct {
    int32_t rank;                          /* 1..TML_MAX_DIMS */
    int32_t output_dims[TML_MAX_DIMS];     /* output shape, outermost first; entries >= rank are ignored */
    int32_t input1_strides[TML_MAX_DIMS];  /* input 1 element stride per output dimension, 0 = broadcast */
    int32_t input2_strides[TML_MAX_DIMS];  /* input 2 element stride per output dimension, 0 = broadcast */
} tml_broadcast_shape;

/* Parameters of tml_add_s8 and tml_sub_s8 (TFLM OpDataAdd / OpDataSub, add_common.cc / sub_common.cc). */
typedef struct {
    int32_t input1_offset;  /* -input1 zero point */
    int32_t input2_offset;  /* -input2 zero point */
    int32_t output_offset;  /* output zero point */
    int32_t left_shift;     /* 20 for int8 */
    tml_quant input1_quant; /* QuantizeMultiplierSmallerThanOneExp(s1 / (2 * max(s1, s2))), shift <= 0 */
    tml_quant input2_quant; /* QuantizeMultiplierSmallerThanOneExp(s2 / (2 * max(s1, s2))), shift <= 0 */
    tml_quant output_quant; /* QuantizeMultiplierSmallerThanOneExp(2 * max(s1, s2) / (2^20 * s_out)) */
    int32_t activation_min; /* fused activation lower clamp */
    int32_t activation_max; /* fused activation upper clamp */
} tml_add_params;

/* Parameters of tml_mul_s8 (TFLM OpDataMul, mul_common.cc). */
typedef struct {
    int32_t input1_offset;  /* -input1 zero point */
    int32_t input2_offset;  /* -input2 zero point */
    int32_t output_offset;  /* output zero point */
    tml_quant output_quant; /* QuantizeMultiplier(s1 * s2 / s_out) (double), any sign of shift */
    int32_t activation_min; /* fused activation lower clamp */
    int32_t activation_max; /* fused activation upper clamp */
} tml_mul_params;

/* int8 ADD with broadcast (TFLM AddFunc via Add / BroadcastAdd6DSlow). */
TML_API tml_status tml_add_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

/* int8 SUB with broadcast (TFLM SubElementwise / BroadcastQuantSubSlow): input1 - input2. */
TML_API tml_status tml_sub_s8(const tml_add_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

/* int8 MUL with broadcast (TFLM MulElementwise / BroadcastMul4DSlow, extended to TML_MAX_DIMS). */
TML_API tml_status tml_mul_s8(const tml_mul_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

/* ---- Data movement (type-agnostic: element_size is 1, 2 or 4 bytes) ------------------------------------ */

/* Parameters of tml_pad (TFLM PadParams, pad.cc). */
typedef struct {
    int32_t rank;                     /* 1..TML_MAX_DIMS */
    int32_t input_dims[TML_MAX_DIMS]; /* input shape, outermost first */
    int32_t pad_before[TML_MAX_DIMS]; /* paddings[d][0], >= 0 */
    int32_t pad_after[TML_MAX_DIMS];  /* paddings[d][1], >= 0 */
} tml_pad_params;

/*
 * PAD / PADV2 (TFLM reference_ops::Pad): output dim d = pad_before[d] + input_dims[d] + pad_after[d]; padded
 * elements get *pad_value (element_size bytes). For int8 PAD the value is the output zero point, for PADV2 the
 * quantized constant_values scalar.
 */
TML_API tml_status tml_pad(const tml_pad_params *params, int32_t element_size, const void *input,
                           const void *pad_value, void *output);

/* tml_pad for int8 tensors. */
TML_API tml_status tml_pad_s8(const tml_pad_params *params, const int8_t *input, int8_t pad_value, int8_t *output);

/* Parameters of tml_transpose (TFLM TransposeParams, transpose.cc). */
typedef struct {
    int32_t rank;                      /* 1..TML_MAX_DIMS */
    int32_t output_dims[TML_MAX_DIMS]; /* output_dims[i] = input_dims[perm[i]] */
    int32_t input_strides[TML_MAX_DIMS]; /* input_strides[i] = dense element stride of input dim perm[i] */
} tml_transpose_params;

/* TRANSPOSE (TFLM reference_ops::Transpose): output[i0..ir] = input[sum_k i_k * input_strides[k]]. */
TML_API tml_status tml_transpose(const tml_transpose_params *params, int32_t element_size, const void *input,
                                 void *output);

/* tml_transpose for int8 tensors. */
TML_API tml_status tml_transpose_s8(const tml_transpose_params *params, const int8_t *input, int8_t *output);

/* Parameters of tml_strided_slice, with all masks and negative indices resolved by the compiler. */
typedef struct {
    int32_t rank;                     /* 1..TML_MAX_DIMS (TFLM accepts inputs up to 4-D) */
    int32_t input_dims[TML_MAX_DIMS]; /* input shape, outermost first */
    int32_t start[TML_MAX_DIMS];      /* first index read on each axis (StridedSliceStartForAxis) */
    int32_t stride[TML_MAX_DIMS];     /* step on each axis, != 0, may be negative */
    int32_t count[TML_MAX_DIMS];      /* elements taken on each axis (iterations of TFLM's loop), >= 0 */
} tml_strided_slice_params;

/* STRIDED_SLICE (TFLM reference_ops::StridedSlice): output is dense [count[0], ..., count[rank-1]]; shrunk
 * axes simply have count 1. */
TML_API tml_status tml_strided_slice(const tml_strided_slice_params *params, int32_t element_size, const void *input,
                                     void *output);

/* tml_strided_slice for int8 tensors. */
TML_API tml_status tml_strided_slice_s8(const tml_strided_slice_params *params, const int8_t *input, int8_t *output);

/* Parameters of tml_concat (TFLM reference_ops::Concatenation). */
typedef struct {
    int32_t num_inputs;         /* >= 1 */
    int32_t outer_size;         /* product of the output dims before the axis */
    const int32_t *copy_sizes;  /* per input: dims[axis] * product of the dims after the axis (elements) */
} tml_concat_params;

/*
 * CONCATENATION: for each outer index, copies copy_sizes[i] elements of each input in order. A pure copy: TFLM
 * requires equal scale and zero point on all int8 inputs and the output (the compiler inserts a requantize
 * otherwise). inputs[i] must not alias output.
 */
TML_API tml_status tml_concat(const tml_concat_params *params, int32_t element_size, const void *const *inputs,
                              void *output);

/* tml_concat for int8 tensors. */
TML_API tml_status tml_concat_s8(const tml_concat_params *params, const int8_t *const *inputs, int8_t *output);

/* ---- MEAN --------------------------------------------------------------------------------------------- */

/*
 * Parameters of tml_mean_s8. The input is viewed as [outer_size, reduce_size, inner_size] and reduced over the
 * middle dimension: MEAN over H,W of an NHWC tensor is outer = N, reduce = H*W, inner = C (keep_dims only
 * changes the output shape, not the bytes). Any set of consecutive axes can be expressed the same way.
 */
typedef struct {
    int32_t outer_size;    /* product of the dims before the reduced axes, >= 1 */
    int32_t reduce_size;   /* number of elements averaged (product of the reduced dims), >= 1 */
    int32_t inner_size;    /* product of the dims after the reduced axes, >= 1 */
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    tml_quant quant;       /* QuantizeMultiplier(s_in / s_out) with 1/reduce_size folded in (see docs/kernels.md) */
} tml_mean_params;

/* Scratch bytes tml_mean_s8 needs (0 for the portable path). Returns -1 on a NULL argument. */
TML_API int32_t tml_mean_s8_get_buffer_size(const tml_mean_params *params);

/*
 * int8 MEAN (TFLM reference_ops::QuantizedMeanOrSum, the integer path used by tflite-micro's EvalIntegerMean):
 * out = clamp(MultiplyByQuantizedMultiplier(sum(x) + input_offset * reduce_size, quant) + output_offset).
 */
TML_API tml_status tml_mean_s8(const tml_mean_params *params, const int8_t *input, int8_t *output, void *scratch);

/* ======================================================================================================== */
/* float32 kernels (TFLM reference order of summation; bias added after the sum; float activation clamp)     */
/* ======================================================================================================== */

/* Parameters of tml_conv_f32 (TFLM ConvParamsFloat). */
typedef struct {
    int32_t stride_h;     /* >= 1 */
    int32_t stride_w;     /* >= 1 */
    int32_t dilation_h;   /* >= 1 */
    int32_t dilation_w;   /* >= 1 */
    int32_t pad_h;        /* top padding */
    int32_t pad_w;        /* left padding */
    float activation_min; /* CalculateActivationRange: NONE -FLT_MAX, RELU 0, RELU6 0, RELU_N1_TO_1 -1 */
    float activation_max; /* NONE/RELU +FLT_MAX, RELU6 6, RELU_N1_TO_1 1 */
} tml_conv_f32_params;

/* float32 2-D convolution (TFLM reference_ops::Conv); same layouts and grouping as tml_conv_s8; bias may be
 * NULL. */
TML_API tml_status tml_conv_f32(const tml_conv_f32_params *params, const tml_dims *input_dims, const float *input,
                                const tml_dims *filter_dims, const float *filter, const float *bias,
                                const tml_dims *output_dims, float *output);

/* Parameters of tml_depthwise_conv_f32 (TFLM DepthwiseParams, float). */
typedef struct {
    int32_t stride_h;         /* >= 1 */
    int32_t stride_w;         /* >= 1 */
    int32_t dilation_h;       /* >= 1 */
    int32_t dilation_w;       /* >= 1 */
    int32_t pad_h;            /* top padding */
    int32_t pad_w;            /* left padding */
    int32_t depth_multiplier; /* out_c / in_c */
    float activation_min;     /* float activation lower clamp */
    float activation_max;     /* float activation upper clamp */
} tml_depthwise_conv_f32_params;

/* float32 depthwise convolution (TFLM reference_ops::DepthwiseConv); bias may be NULL. */
TML_API tml_status tml_depthwise_conv_f32(const tml_depthwise_conv_f32_params *params, const tml_dims *input_dims,
                                          const float *input, const tml_dims *filter_dims, const float *filter,
                                          const float *bias, const tml_dims *output_dims, float *output);

/* Parameters of tml_fully_connected_f32. */
typedef struct {
    float activation_min; /* float activation lower clamp */
    float activation_max; /* float activation upper clamp */
} tml_fully_connected_f32_params;

/* float32 fully connected layer (TFLM reference_ops::FullyConnected); bias may be NULL. */
TML_API tml_status tml_fully_connected_f32(const tml_fully_connected_f32_params *params, int32_t batches,
                                           int32_t accum_depth, int32_t output_depth, const float *input,
                                           const float *filter, const float *bias, float *output);

/* Parameters of the float32 pooling kernels. */
typedef struct {
    int32_t stride_h;     /* >= 1 */
    int32_t stride_w;     /* >= 1 */
    int32_t filter_h;     /* >= 1 */
    int32_t filter_w;     /* >= 1 */
    int32_t pad_h;        /* top padding */
    int32_t pad_w;        /* left padding */
    float activation_min; /* float activation lower clamp */
    float activation_max; /* float activation upper clamp */
} tml_pool_f32_params;

/* float32 average pooling (TFLM reference_ops::AveragePool): sum of the valid taps / their count (float). */
TML_API tml_status tml_avg_pool_f32(const tml_pool_f32_params *params, const tml_dims *input_dims, const float *input,
                                    const tml_dims *output_dims, float *output);

/* float32 max pooling (TFLM reference_ops::MaxPool). */
TML_API tml_status tml_max_pool_f32(const tml_pool_f32_params *params, const tml_dims *input_dims, const float *input,
                                    const tml_dims *output_dims, float *output);

/* Parameters of tml_add_f32. */
typedef struct {
    float activation_min; /* float activation lower clamp */
    float activation_max; /* float activation upper clamp */
} tml_add_f32_params;

/* float32 ADD with broadcast (TFLM reference_ops::Add / BroadcastAdd6DSlow). */
TML_API tml_status tml_add_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output);

/* Activation, softmax, (de)quantization and SVDF kernels. */
#include "tml_kernels_activation.h"

#ifdef __cplusplus
}
#endif

#endif /* TML_KERNELS_H */
