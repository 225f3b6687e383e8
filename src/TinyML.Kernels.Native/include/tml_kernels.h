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

/* Bumped whenever a signature or a parameter struct changes; the host checks it at first use. The .NET side's
 * description of this header (KernelAbi) is generated from it, see docs/kernels.md. 2: per-core buffer sizes.
 * 3: training kernels. 4: host SIMD path selection (tml_host_path, tml_host_path_set). 5: packed weights widened to
 * int16 (TML_PACKED_CHUNK_WORD_S16). */
#define TML_ABI_VERSION 5

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

/* The host SIMD paths. On an x86-64 or arm64 host the kernels hand the MAC-heavy work to a SIMD path chosen at the
 * first call from the CPU's features (AVX2, else SSE4.1; on arm64 NEON, with the dot-product instructions where the
 * CPU has them); every path computes the portable bytes. On Cortex-M and other hosts the path is
 * TML_HOST_PATH_PORTABLE. */
#define TML_HOST_PATH_PORTABLE 0
#define TML_HOST_PATH_SSE41 1
#define TML_HOST_PATH_AVX2 2
#define TML_HOST_PATH_NEON 3
#define TML_HOST_PATH_NEON_DOT 4

/* The path the kernels take now. */
TML_API int32_t tml_host_path(void);

/* Makes the kernels take `path` from the next call on (tests and benchmarks compare the paths): the best path the CPU
 * has or any below it on its architecture (SSE4.1 below AVX2, NEON below NEON_DOT), the portable one always. Returns the path, or -1 (nothing changed) when the CPU does not have it. Not for
 * use while another thread runs a kernel. */
TML_API int32_t tml_host_path_set(int32_t path);

/*
 * Cores a scratch size can be asked for (the `core` argument of the `_get_buffer_size_for` functions). A kernel's
 * fast path on one core may need scratch that the portable path does not, so the compiler sizes scratch for the
 * core it targets; every library, the host's included, answers for every core. TML_CORE_HOST is the portable C.
 * An int32_t, not an enum, like everything that crosses the ABI. The compiler maps TML_CORE_CORTEX_M0PLUS to the
 * core name "cortex-m0plus" (lower case, '_' as '-').
 */
#define TML_CORE_HOST 0
#define TML_CORE_CORTEX_M0PLUS 1
#define TML_CORE_CORTEX_M3 2
#define TML_CORE_CORTEX_M4 3
#define TML_CORE_CORTEX_M7 4
#define TML_CORE_CORTEX_M33 5
#define TML_CORE_CORTEX_M55 6
#define TML_CORES 7 /* the core ids are 0 .. TML_CORES - 1 */

/* The core this library is built for: what the plain `_get_buffer_size` functions answer for. A build with a
 * core's fast paths defines it (-DTML_BUILD_CORE=TML_CORE_CORTEX_M4); otherwise it is the portable C. */
#ifndef TML_BUILD_CORE
#define TML_BUILD_CORE TML_CORE_HOST
#endif

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
 * kernels without such a companion never use scratch. `<kernel>_get_buffer_size_for(core, ...)` answers the same
 * for any core (TML_CORE_*), and -1 for an unknown one; `<kernel>_get_buffer_size(...)` is the answer for
 * TML_BUILD_CORE. The cores with the DSP extension (M4, M7, M33, M55) need more for some convolutions.
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
 * Scratch bytes tml_conv_s8 needs for these shapes: 0 for the portable path; on the DSP cores, for an ungrouped
 * convolution whose window has at most 144 taps (k_h * k_w * c) and is not 1x1 unpadded, two int16 patches of the
 * window rounded up to an even count of taps. Returns -1 for an unknown core or a NULL argument.
 */
TML_API int32_t tml_conv_s8_get_buffer_size(const tml_conv_params *params, const tml_dims *input_dims,
                                            const tml_dims *filter_dims, const tml_dims *output_dims);
TML_API int32_t tml_conv_s8_get_buffer_size_for(int32_t core, const tml_conv_params *params,
                                                const tml_dims *input_dims, const tml_dims *filter_dims,
                                                const tml_dims *output_dims);

/*
 * int8 2-D convolution with per-channel requantization (TFLM reference_integer_ops::ConvPerChannel).
 *   input:  [n, h, w, in_c]
 *   filter: [out_c, kh, kw, in_c / groups] (filter_dims = {out_c, kh, kw, filter_in_c}); groups =
 *           in_c / filter_in_c (1 for an ordinary convolution), out_c must be a multiple of groups
 *   bias:   out_c int32 values or NULL (no bias)
 *   quant:  out_c multipliers and shifts (PopulateConvolutionQuantizationParams; a per-tensor filter scale is
 *           simply repeated for every channel)
 *   output: [n, out_h, out_w, out_c]; output_dims are the compiler's (ComputeOutSize)
 *   scratch: tml_conv_s8_get_buffer_size() bytes, 4-byte aligned (NULL when that is 0; on a DSP core NULL, or an
 *            unaligned pointer, makes the kernel take a path that needs none)
 */
TML_API tml_status tml_conv_s8(const tml_conv_params *params, const tml_per_channel_quant *quant,
                               const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                               int8_t *output, void *scratch);

/*
 * tml_conv_s8 with onnxruntime's requantization instead of TFLM's (QLinearConv, MLAS): each accumulator plus bias as
 * float32 times scales[oc] (float32 (x_scale * w_scale[oc]) / y_scale), clamped to [activation_min, activation_max]
 * less output_offset, rounded half to even, plus output_offset. Portable loop only; identical on every core.
 *   scales: out_c values, finite and > 0; scratch is unused
 */
TML_API tml_status tml_conv_s8_float_requant(const tml_conv_params *params, const float *scales,
                                             const tml_dims *input_dims, const int8_t *input,
                                             const tml_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                             const tml_dims *output_dims, int8_t *output, void *scratch);

/*
 * int16 2-D convolution with int8 weights (16x8, TFLM ConvPerChannel<int64_t>): tml_conv_s8's layouts and params
 * with input_offset = output_offset = 0 (int16 zero points are 0); bias: out_c int64 values (not NULL); the int64
 * accumulator is requantized with the 64-bit MultiplyByQuantizedMultiplier. scratch is unused.
 */
TML_API tml_status tml_conv_s16(const tml_conv_params *params, const tml_per_channel_quant *quant,
                                const tml_dims *input_dims, const int16_t *input, const tml_dims *filter_dims,
                                const int8_t *filter, const int64_t *bias, const tml_dims *output_dims,
                                int16_t *output, void *scratch);

/* tml_conv_s16 for an int32 bias or none (TFLM ConvPerChannel<int32_t>): an int32 accumulator and the 32-bit
 * MultiplyByQuantizedMultiplier. */
TML_API tml_status tml_conv_s16_bias32(const tml_conv_params *params, const tml_per_channel_quant *quant,
                                       const tml_dims *input_dims, const int16_t *input, const tml_dims *filter_dims,
                                       const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                       int16_t *output, void *scratch);

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
TML_API int32_t tml_depthwise_conv_s8_get_buffer_size_for(int32_t core, const tml_depthwise_conv_params *params,
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

/* tml_depthwise_conv_s8 with onnxruntime's requantization (as tml_conv_s8_float_requant): scales holds out_c
 * values, finite and > 0; scratch is unused. */
TML_API tml_status tml_depthwise_conv_s8_float_requant(const tml_depthwise_conv_params *params, const float *scales,
                                                       const tml_dims *input_dims, const int8_t *input,
                                                       const tml_dims *filter_dims, const int8_t *filter,
                                                       const int32_t *bias, const tml_dims *output_dims,
                                                       int8_t *output, void *scratch);

/* int16 depthwise convolution with int8 weights (16x8, TFLM DepthwiseConvPerChannel for int16): tml_depthwise_conv_s8's
 * layouts and params with input_offset = output_offset = 0; bias: out_c int64 values or NULL. scratch is unused. */
TML_API tml_status tml_depthwise_conv_s16(const tml_depthwise_conv_params *params, const tml_per_channel_quant *quant,
                                          const tml_dims *input_dims, const int16_t *input,
                                          const tml_dims *filter_dims, const int8_t *filter, const int64_t *bias,
                                          const tml_dims *output_dims, int16_t *output, void *scratch);

/* Scratch bytes tml_depthwise_conv_s8_inplace needs: one input channel of every batch (n * h * w). -1 on bad dims. */
TML_API int32_t tml_depthwise_conv_s8_inplace_get_buffer_size(const tml_depthwise_conv_params *params,
                                                              const tml_dims *input_dims,
                                                              const tml_dims *filter_dims,
                                                              const tml_dims *output_dims);
TML_API int32_t tml_depthwise_conv_s8_inplace_get_buffer_size_for(int32_t core,
                                                                  const tml_depthwise_conv_params *params,
                                                                  const tml_dims *input_dims,
                                                                  const tml_dims *filter_dims,
                                                                  const tml_dims *output_dims);

/*
 * tml_depthwise_conv_s8 with depth multiplier 1 whose output overwrites its input (input == output): channel by
 * channel, each input channel is first saved to scratch (tml_depthwise_conv_s8_inplace_get_buffer_size bytes).
 * Bit-exact with tml_depthwise_conv_s8. The output occupies the first n * out_h * out_w * c bytes of the buffer.
 */
TML_API tml_status tml_depthwise_conv_s8_inplace(const tml_depthwise_conv_params *params,
                                                 const tml_per_channel_quant *quant, const tml_dims *input_dims,
                                                 const int8_t *input, const tml_dims *filter_dims,
                                                 const int8_t *filter, const int32_t *bias,
                                                 const tml_dims *output_dims, int8_t *output, void *scratch);

/* Parameters of tml_conv_s8_packed: tml_conv_params' geometry without the input offset the compiler folded into the
 * bias, the input zero point (the value of a padded tap), and the packing chunk. */
typedef struct {
    int32_t stride_h;         /* >= 1 */
    int32_t stride_w;         /* >= 1 */
    int32_t dilation_h;       /* >= 1 */
    int32_t dilation_w;       /* >= 1 */
    int32_t pad_h;            /* top padding, >= 0 */
    int32_t pad_w;            /* left padding, >= 0 */
    int32_t input_zero_point; /* -input_offset: a padded tap's raw value, whose folded contribution is 0 */
    int32_t output_offset;    /* output zero point */
    int32_t activation_min;   /* fused activation lower clamp */
    int32_t activation_max;   /* fused activation upper clamp */
    int32_t chunk;            /* a TML_PACKED_CHUNK_ layout (see tml_fully_connected_s8_packed) */
} tml_conv_packed_params;

/* Scratch bytes of tml_conv_s8_packed: two im2col rows (2 x kernel_h x kernel_w x channels) on every core. */
TML_API int32_t tml_conv_s8_packed_get_buffer_size(const tml_conv_packed_params *params, const tml_dims *input_dims,
                                                   const tml_dims *filter_dims, const tml_dims *output_dims);
TML_API int32_t tml_conv_s8_packed_get_buffer_size_for(int32_t core, const tml_conv_packed_params *params,
                                                       const tml_dims *input_dims, const tml_dims *filter_dims,
                                                       const tml_dims *output_dims);

/*
 * int8 CONV_2D (ungrouped, per-channel) on weights packed at build time: tml_conv_s8's result, byte for byte.
 *   filter: the OHWI weights as a [output channels, kernel_h x kernel_w x channels] matrix, packed as
 *           tml_fully_connected_s8_packed documents (filter_dims keeps the OHWI shape);
 *   bias:   output channels int32 values bias[o] + input_offset * sum(filter[o]) (wrapping), or NULL for all 0;
 *   scratch: tml_conv_s8_packed_get_buffer_size bytes (required).
 */
TML_API tml_status tml_conv_s8_packed(const tml_conv_packed_params *params, const tml_per_channel_quant *quant,
                                      const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                                      const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                      int8_t *output, void *scratch);

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
TML_API int32_t tml_fully_connected_s8_get_buffer_size_for(int32_t core, const tml_fully_connected_params *params,
                                                           int32_t batches, int32_t accum_depth,
                                                           int32_t output_depth);

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

/* tml_fully_connected_s8 with onnxruntime's requantization (QLinearMatMul, QGemm; as tml_conv_s8_float_requant):
 * scales holds output_depth values (per_channel 1) or one (per_channel 0), finite and > 0; scratch is unused. */
TML_API tml_status tml_fully_connected_s8_float_requant(const tml_fully_connected_params *params, const float *scales,
                                                        int32_t batches, int32_t accum_depth, int32_t output_depth,
                                                        const int8_t *input, const int8_t *filter, const int32_t *bias,
                                                        int8_t *output, void *scratch);

/* Parameters of tml_fully_connected_s8_packed: tml_fully_connected_params without the offsets the compiler folded
 * (the input offset into the bias; the filter offset is 0), plus the packing chunk. */
typedef struct {
    int32_t output_offset;  /* output zero point */
    int32_t activation_min; /* fused activation lower clamp */
    int32_t activation_max; /* fused activation upper clamp */
    int32_t per_channel;    /* as in tml_fully_connected_params */
    int32_t chunk;          /* the layout: TML_PACKED_CHUNK_WORD, _VECTOR (bytes of a row per interleave step) or
                               _WORD_S16 */
} tml_fully_connected_packed_params;

#define TML_PACKED_CHUNK_WORD 4    /* the DSP path's (and the portable default) */
#define TML_PACKED_CHUNK_VECTOR 16 /* Helium's (Cortex-M55) */
#define TML_PACKED_CHUNK_WORD_S16 0x104 /* the DSP path's with the weights widened to int16: twice the bytes */

/*
 * tml_fully_connected_s8 on weights packed at build time (the compiler chooses it for FULLY_CONNECTED with constant
 * weights and for CONV_2D 1x1 stride 1, whose pixels are the batches). Same result, byte for byte, as
 * tml_fully_connected_s8 on the unpacked weights with the input offset folded into the bias:
 *   bias:   output_depth int32 values bias[o] + input_offset * sum_d filter[o][d] (wrapping), or NULL for all 0;
 *   filter: units in groups of four rows; group g (rows 4g..4g+3) takes 4 * accum_depth bytes: for each whole chunk
 *           of the depth (C = params->chunk bytes at k = 0, C, 2C, ...) the four rows' bytes k..k+C-1 (4C bytes),
 *           then for each of the last accum_depth % C elements the four rows' byte (4 bytes); the output_depth % 4
 *           remaining rows follow unchanged, row by row. Word-aligned for the fast paths (emitted constants are
 *           16-byte aligned). Every core runs every layout; the fast paths take theirs (DSP 4 and WORD_S16,
 *           Helium 16).
 *           TML_PACKED_CHUNK_WORD_S16: group g takes 8 * accum_depth bytes of int16 weights: for each k = 0, 4, 8,
 *           ... below accum_depth & ~3, eight 32-bit words, two per row j = 0..3: word 2j holds {w[j][k] in the low
 *           half, w[j][k+2] in the high half}, word 2j+1 {w[j][k+1], w[j][k+3]} (SXTB16's lane order: SMLAD with
 *           the halves of the activation word x[k..k+3] gives their four products); then for each of the last
 *           accum_depth % 4 elements the four rows' int16 values; the output_depth % 4 remaining rows follow as
 *           int8, unchanged, row by row (2 * accum_depth * (output_depth & ~3) + accum_depth * (output_depth % 4)
 *           bytes in all).
 * scratch is unused.
 */
TML_API tml_status tml_fully_connected_s8_packed(const tml_fully_connected_packed_params *params,
                                                 const tml_per_channel_quant *quant, int32_t batches,
                                                 int32_t accum_depth, int32_t output_depth, const int8_t *input,
                                                 const int8_t *filter, const int32_t *bias, int8_t *output,
                                                 void *scratch);

/*
 * int16 fully connected layer with int8 weights (16x8, TFLM FullyConnected<int64_t> / FullyConnectedPerChannel<int64_t>):
 * tml_fully_connected_s8's layouts and params with input_offset = output_offset = 0; bias: output_depth int64 values
 * (not NULL); the int64 accumulator is requantized with the 64-bit MultiplyByQuantizedMultiplier. scratch is unused.
 */
TML_API tml_status tml_fully_connected_s16(const tml_fully_connected_params *params, const tml_per_channel_quant *quant,
                                           int32_t batches, int32_t accum_depth, int32_t output_depth,
                                           const int16_t *input, const int8_t *filter, const int64_t *bias,
                                           int16_t *output, void *scratch);

/* tml_fully_connected_s16 for an int32 bias or none (TFLM's <int32_t> variants): an int32 accumulator and the 32-bit
 * MultiplyByQuantizedMultiplier. */
TML_API tml_status tml_fully_connected_s16_bias32(const tml_fully_connected_params *params,
                                                  const tml_per_channel_quant *quant, int32_t batches,
                                                  int32_t accum_depth, int32_t output_depth, const int16_t *input,
                                                  const int8_t *filter, const int32_t *bias, int16_t *output,
                                                  void *scratch);

/* ---- AVERAGE_POOL_2D / MAX_POOL_2D -------------------------------------------------------------------- */

/* Parameters of the int8 and int16 pooling kernels (mirrors TFLM's PoolParams, pooling_common.cc). Pooling requires
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
TML_API int32_t tml_avg_pool_s8_get_buffer_size_for(int32_t core, const tml_pool_params *params,
                                                    const tml_dims *input_dims, const tml_dims *output_dims);

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

/* int16 average pooling (TFLM reference_integer_ops::AveragePool for int16): the int8 arithmetic on int16 values,
 * int32 sum; no scratch. The clamp bounds must fit int16. */
TML_API tml_status tml_avg_pool_s16(const tml_pool_params *params, const tml_dims *input_dims, const int16_t *input,
                                    const tml_dims *output_dims, int16_t *output);

/* int16 max pooling (TFLM reference_integer_ops::MaxPool for int16); an empty window yields -32768 before the clamp. */
TML_API tml_status tml_max_pool_s16(const tml_pool_params *params, const tml_dims *input_dims, const int16_t *input,
                                    const tml_dims *output_dims, int16_t *output);

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
    int32_t left_shift;     /* 20 for int8, 15 for int16 */
    tml_quant input1_quant; /* QuantizeMultiplierSmallerThanOneExp(s1 / (2 * max(s1, s2))), shift <= 0 */
    tml_quant input2_quant; /* QuantizeMultiplierSmallerThanOneExp(s2 / (2 * max(s1, s2))), shift <= 0 */
    tml_quant output_quant; /* QuantizeMultiplierSmallerThanOneExp(2 * max(s1, s2) / (2^left_shift * s_out)) */
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

/* int16 ADD with broadcast (16x8): TFLM's general int16 path, left_shift 15 (AddElementwise / BroadcastAdd6DSlow). */
TML_API tml_status tml_add_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output);

/* int16 SUB with broadcast (16x8): left_shift 15, input1 - input2. */
TML_API tml_status tml_sub_s16(const tml_add_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output);

/* int8 MUL with broadcast (TFLM MulElementwise / BroadcastMul4DSlow, extended to TML_MAX_DIMS). */
TML_API tml_status tml_mul_s8(const tml_mul_params *params, const tml_broadcast_shape *shape, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

/* int16 MUL with broadcast (16x8, TFLM MulElementwise<int16_t> / BroadcastMul4DSlow): the int8 arithmetic on int16
 * elements; the offsets must be 0 (TFLM requires zero points 0) and the clamp bounds int16. */
TML_API tml_status tml_mul_s16(const tml_mul_params *params, const tml_broadcast_shape *shape, const int16_t *input1,
                               const int16_t *input2, int16_t *output);

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

/* Parameters of tml_depth_to_space and tml_space_to_depth: the shape of the spatial side (the DEPTH_TO_SPACE output,
 * the SPACE_TO_DEPTH input), whose height and width are multiples of block_size; the other side is
 * [batches, height / block_size, width / block_size, depth * block_size^2]. */
typedef struct {
    int32_t batches;
    int32_t height;
    int32_t width;
    int32_t depth;      /* channels of the spatial side */
    int32_t block_size; /* DepthToSpaceOptions / SpaceToDepthOptions.block_size, >= 1 */
} tml_space_depth_params;

/* DEPTH_TO_SPACE (TFLM reference_ops::DepthToSpace, DCR order): output[b, h, w, c] =
 * input[b, h / bs, w / bs, ((h % bs) * bs + w % bs) * depth + c]. The buffers must not overlap. */
TML_API tml_status tml_depth_to_space(const tml_space_depth_params *params, int32_t element_size, const void *input,
                                      void *output);

/* SPACE_TO_DEPTH (TFLM reference_ops::SpaceToDepth), the inverse movement of tml_depth_to_space. */
TML_API tml_status tml_space_to_depth(const tml_space_depth_params *params, int32_t element_size, const void *input,
                                      void *output);

/* Parameters of the RESIZE kernels: NHWC input [batches, input_height, input_width, depth], output
 * [batches, output_height, output_width, depth] (output size = the operator's constant size input). */
typedef struct {
    int32_t batches;
    int32_t input_height;
    int32_t input_width;
    int32_t depth;
    int32_t output_height;
    int32_t output_width;
    int32_t align_corners;      /* 0 or 1 */
    int32_t half_pixel_centers; /* 0 or 1; bilinear refuses both flags at once, as TFLM's Prepare does */
} tml_resize_params;

/* RESIZE_NEAREST_NEIGHBOR (TFLM reference_ops::ResizeNearestNeighbor) for elements of element_size bytes (1, 2 or
 * 4): the source index is floor((o + half) * scale) in float, or round half away from zero with align_corners,
 * clamped to the input. The buffers must not overlap. */
TML_API tml_status tml_resize_nearest(const tml_resize_params *params, int32_t element_size, const void *input,
                                      void *output);

/* float32 RESIZE_BILINEAR (TFLM reference_ops::ResizeBilinear): TFLM's float operations in its order. */
TML_API tml_status tml_resize_bilinear_f32(const tml_resize_params *params, const float *input, float *output);

/* int8 RESIZE_BILINEAR (TFLM reference_ops::ResizeBilinearInteger): positions in 1/1024 steps, the weighted sum in
 * 2^-20 rounded half away from zero. The input's scale and zero point carry over to the output unchanged. */
TML_API tml_status tml_resize_bilinear_s8(const tml_resize_params *params, const int8_t *input, int8_t *output);

/* Parameters of tml_copy_window: a window of height x width pixels (channels elements each) between two dense
 * [h, w, channels] images (batch 1). Patch-based inference uses it to cut a tile out of a whole tensor or out of
 * a larger tile, and to write a finished tile into the whole stage output. */
typedef struct {
    int32_t height;     /* window rows, >= 1 */
    int32_t width;      /* window columns, >= 1 */
    int32_t channels;   /* elements per pixel, >= 1 */
    int32_t input_h;    /* source image rows */
    int32_t input_w;    /* source image columns */
    int32_t input_y;    /* first source row of the window, >= 0, input_y + height <= input_h */
    int32_t input_x;    /* first source column, >= 0, input_x + width <= input_w */
    int32_t output_h;   /* destination image rows */
    int32_t output_w;   /* destination image columns */
    int32_t output_y;   /* first destination row, >= 0, output_y + height <= output_h */
    int32_t output_x;   /* first destination column, >= 0, output_x + width <= output_w */
} tml_copy_window_params;

/* Copies the window row by row (one memcpy of width * channels elements per row). input must not overlap
 * output. Returns TML_ERROR_ARGUMENT when the window does not lie inside both images. */
TML_API tml_status tml_copy_window(const tml_copy_window_params *params, int32_t element_size, const void *input,
                                   void *output);

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
TML_API int32_t tml_mean_s8_get_buffer_size_for(int32_t core, const tml_mean_params *params);

/*
 * int8 MEAN (TFLM reference_ops::QuantizedMeanOrSum, the integer path used by tflite-micro's EvalIntegerMean):
 * out = clamp(MultiplyByQuantizedMultiplier(sum(x) + input_offset * reduce_size, quant) + output_offset).
 */
TML_API tml_status tml_mean_s8(const tml_mean_params *params, const int8_t *input, int8_t *output, void *scratch);

/* int16 MEAN (16x8, TFLM's EvalIntegerMean<int16_t>): the same arithmetic and parameters, clamped to int16; no
 * scratch (the int8 buffer-size query answers for both). */
TML_API tml_status tml_mean_s16(const tml_mean_params *params, const int16_t *input, int16_t *output,
                                void *scratch);

/* ---- TRANSPOSE_CONV ----------------------------------------------------------------------------------- */

/* Parameters of tml_transpose_conv_s8 (TFLM transpose_conv.cc Prepare / CalculateOpData). */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    int32_t stride_h;       /* TransposeConvOptions.stride_h, >= 1 */
    int32_t stride_w;       /* TransposeConvOptions.stride_w, >= 1 */
    int32_t pad_h;          /* ComputePaddingHeightWidth(stride, dilation 1, output h, filter h, padding), >= 0 */
    int32_t pad_w;          /* the same over the width */
    int32_t activation_min; /* -128: TFLM's Prepare computes the range for kTfLiteActNone */
    int32_t activation_max; /* 127 */
} tml_transpose_conv_params;

/* Scratch bytes tml_transpose_conv_s8 needs: one int32 accumulator per output element (TFLM's scratch buffer).
 * Returns -1 for invalid dimensions or an unknown core. */
TML_API int32_t tml_transpose_conv_s8_get_buffer_size(const tml_dims *output_dims);
TML_API int32_t tml_transpose_conv_s8_get_buffer_size_for(int32_t core, const tml_dims *output_dims);

/*
 * int8 transposed convolution with per-channel requantization (TFLM reference_integer_ops::TransposeConv).
 *   input:  [n, h, w, in_c]
 *   filter: [out_c, kh, kw, in_c]
 *   bias:   out_c int32 values or NULL (no bias)
 *   quant:  out_c multipliers and shifts (PopulateConvolutionQuantizationParams)
 *   output: [n, out_h, out_w, out_c] (the output_shape input); must not overlap the input
 *   scratch: tml_transpose_conv_s8_get_buffer_size() bytes, 4-byte aligned
 */
TML_API tml_status tml_transpose_conv_s8(const tml_transpose_conv_params *params, const tml_per_channel_quant *quant,
                                         const tml_dims *input_dims, const int8_t *input, const tml_dims *filter_dims,
                                         const int8_t *filter, const int32_t *bias, const tml_dims *output_dims,
                                         int8_t *output, void *scratch);

/* Scratch bytes tml_transpose_conv_s16 needs: one int64 accumulator per output element (TFLM's 16x8 scratch).
 * Returns -1 for invalid dimensions or an unknown core. */
TML_API int32_t tml_transpose_conv_s16_get_buffer_size(const tml_dims *output_dims);
TML_API int32_t tml_transpose_conv_s16_get_buffer_size_for(int32_t core, const tml_dims *output_dims);

/*
 * int16 (16x8) transposed convolution (TFLM reference_integer_ops::TransposeConv for int16 input, int64 bias):
 * layouts as tml_transpose_conv_s8; input_offset and output_offset must be 0 (zero points 0); activation range
 * [-32768, 32767]; bias out_c int64 values or NULL; scratch tml_transpose_conv_s16_get_buffer_size() bytes,
 * 8-byte aligned. Requantizes with the 64-bit MultiplyByQuantizedMultiplier.
 */
TML_API tml_status tml_transpose_conv_s16(const tml_transpose_conv_params *params, const tml_per_channel_quant *quant,
                                          const tml_dims *input_dims, const int16_t *input, const tml_dims *filter_dims,
                                          const int8_t *filter, const int64_t *bias, const tml_dims *output_dims,
                                          int16_t *output, void *scratch);

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

/* tml_conv_f32 (groups of 1) on weights packed at build time for the host's SIMD paths: the OHWI weights as a matrix
 * [out_c][k_h * k_w * in_c], laid out as tml_fully_connected_f32_packed documents. Bit-identical with tml_conv_f32. */
TML_API tml_status tml_conv_f32_packed(const tml_conv_f32_params *params, const tml_dims *input_dims, const float *input,
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

/* tml_fully_connected_f32 on weights packed at build time for the host's SIMD paths: groups of eight output units,
 * each stored depth-major (weights[8g + j][d] at filter[8g * accum_depth + 8d + j]), then the last output_depth % 8
 * rows unchanged. Each output is still one float sum in increasing d: bit-identical with tml_fully_connected_f32. */
TML_API tml_status tml_fully_connected_f32_packed(const tml_fully_connected_f32_params *params, int32_t batches,
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

/* float32 LOGISTIC (TFLM reference_ops::Logistic, float): 1 above 16.619047164916992188, e^x below -9, else
 * 1 / (1 + e^-x), with expf. Element-wise over `size` values; input and output may be the same buffer. */
TML_API tml_status tml_logistic_f32(const float *input, int32_t size, float *output);

/* float32 TANH (TFLM reference_ops::Tanh, float): tanhf of each of `size` values. */
TML_API tml_status tml_tanh_f32(const float *input, int32_t size, float *output);

/* float32 SUB, MUL and DIV with broadcast (TFLM reference_ops::Sub / Mul / Div and their Broadcast*Slow forms):
 * out = clamp(x1 op x2, activation_min, activation_max), parameters as tml_add_f32. DIV by zero gives IEEE inf or
 * NaN, as TFLM's float division does. */
TML_API tml_status tml_sub_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output);
TML_API tml_status tml_mul_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output);
TML_API tml_status tml_div_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output);

/* float32 MAXIMUM and MINIMUM with broadcast (TFLM MaximumMinimumBroadcastSlow): x1 > x2 ? x1 : x2 and
 * x1 < x2 ? x1 : x2 (so a tie, or a NaN, takes x2). */
TML_API tml_status tml_maximum_f32(const tml_broadcast_shape *shape, const float *input1, const float *input2,
                                   float *output);
TML_API tml_status tml_minimum_f32(const tml_broadcast_shape *shape, const float *input1, const float *input2,
                                   float *output);

/* float32 PRELU (TFLM BroadcastPrelu4DSlow, float): x >= 0 ? x : x * alpha, alpha broadcast against the input as
 * input2 of `shape`. */
TML_API tml_status tml_prelu_f32(const tml_broadcast_shape *shape, const float *input, const float *alpha,
                                 float *output);

/* float32 RELU (TFLM reference_ops::Relu, float): x < 0 ? 0 : x, no upper bound (+inf stays +inf); in place allowed. */
TML_API tml_status tml_relu_f32(const float *input, int32_t size, float *output);

/* Parameters of tml_relu_bounded_f32. */
typedef struct {
    float min; /* 0 (RELU6) or -1 (RELU_N1_TO_1) */
    float max; /* 6 (RELU6) or 1 (RELU_N1_TO_1) */
} tml_relu_bounded_f32_params;

/* float32 RELU6 and RELU_N1_TO_1 (TFLM reference_ops::Relu6 / Relu1): x > max ? max : (x < min ? min : x), the upper
 * bound tested first as TFLM does; in place allowed. */
TML_API tml_status tml_relu_bounded_f32(const tml_relu_bounded_f32_params *params, const float *input, int32_t size,
                                        float *output);

/* Parameters of tml_leaky_relu_f32. */
typedef struct {
    float alpha; /* LeakyReluOptions.alpha */
} tml_leaky_relu_f32_params;

/* float32 LEAKY_RELU (TFLM reference_ops::LeakyRelu, float): x > 0 ? x : x * alpha; in place allowed. */
TML_API tml_status tml_leaky_relu_f32(const tml_leaky_relu_f32_params *params, const float *input, int32_t size,
                                      float *output);

/* float32 HARD_SWISH (TFLM reference_ops::HardSwish, float): x * min(6, max(0, x + 3)) / 6, multiplied before
 * dividing, as TFLM does; in place allowed. */
TML_API tml_status tml_hard_swish_f32(const float *input, int32_t size, float *output);

/* Parameters of tml_mean_f32: the input shape and which of its dimensions are averaged. */
typedef struct {
    int32_t rank;                    /* 1..TML_MAX_DIMS */
    int32_t input_dims[TML_MAX_DIMS]; /* input shape, outermost first; entries >= rank are ignored */
    int32_t reduced[TML_MAX_DIMS];    /* 1 where the dimension is averaged, else 0 */
} tml_mean_f32_params;

/* float32 MEAN (TFLM reference_ops::Mean, float): each output is the float sum, from 0, of its inputs in the
 * input's row-major order, divided by their count as a float. The output is dense over the kept dimensions (with
 * or without keep_dims, the bytes are the same) and must not alias the input. */
TML_API tml_status tml_mean_f32(const tml_mean_f32_params *params, const float *input, float *output);

/* float32 ELU (TFLM reference_ops::Elu): x < 0 ? expm1f(x) : x. Uses the C library's expm1f, so results may differ
 * from TFLM in the last bits on another libm; in place allowed. */
TML_API tml_status tml_elu_f32(const float *input, int32_t size, float *output);

/* Parameters of tml_log_softmax_s8 (TFLM log_softmax.cc Prepare: PreprocessLogSoftmaxScalingExp with beta 1 and 5
 * integer bits, CalculateInputRadius). */
typedef struct {
    int32_t input_multiplier; /* QuantizeMultiplierGreaterThanOne(min(input_scale * 2^26, 2^31 - 1)) */
    int32_t input_left_shift; /* its shift, 0..31 */
    int32_t reverse_multiplier; /* QuantizeMultiplierSmallerThanOneExp(2^(31 - input_left_shift) / input_multiplier) */
    int32_t reverse_shift;      /* its shift, -31..0 */
    int32_t diff_min;           /* -CalculateInputRadius(5, input_left_shift) */
} tml_log_softmax_params;

/* int8 LOG_SOFTMAX over the last axis (TFLM reference_ops::LogSoftmaxQuantized): output scale 16/256, zero point 127
 * (the compiler checks them, as TFLM's Prepare). */
TML_API tml_status tml_log_softmax_s8(const tml_log_softmax_params *params, const int8_t *input, int32_t rows,
                                      int32_t depth, int8_t *output);

/* float32 LOG_SOFTMAX over the last axis (TFLM reference_ops::LogSoftmax for float): per row of `depth` values the
 * max, the float sum of expf(x - max) left to right, then (x - max) - logf(sum). Uses expf and logf from the C
 * library (last-bit differences on another libm); in place allowed. */
TML_API tml_status tml_log_softmax_f32(const float *input, int32_t rows, int32_t depth, float *output);

/* Parameters of tml_transpose_conv_f32 (TFLM transpose_conv.cc, float). */
typedef struct {
    int32_t stride_h;     /* >= 1 */
    int32_t stride_w;     /* >= 1 */
    int32_t pad_h;        /* top padding (as tml_transpose_conv_params) */
    int32_t pad_w;        /* left padding */
    float activation_min; /* float activation lower clamp (-FLT_MAX: no fused activation) */
    float activation_max; /* float activation upper clamp */
} tml_transpose_conv_f32_params;

/* float32 transposed convolution (TFLM reference_ops::TransposeConv): the output is the accumulator, so it must not
 * overlap the input; bias may be NULL. */
TML_API tml_status tml_transpose_conv_f32(const tml_transpose_conv_f32_params *params, const tml_dims *input_dims,
                                          const float *input, const tml_dims *filter_dims, const float *filter,
                                          const float *bias, const tml_dims *output_dims, float *output);

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
 * int16 -> int16 SOFTMAX (16x8; TFLM softmax_common.cc SoftmaxPrepare for kTfLiteInt16, reference_ops::SoftmaxInt16).
 * TFLM requires output zero point 0 and |scale - 1/32768| <= 0.001/32768 (float); the compiler refuses others.
 *   - (input_multiplier, input_left_shift) = QuantizeMultiplier(double: s_in * beta / (10.0 / 65535.0));
 *   - exp_lut: gen_lut<float, int16_t, int16_t>(expf, -10, 0, -1, 1), 513 entries (float arithmetic);
 *   - one_over_one_plus_x_lut: gen_lut<float, int16_t, int16_t>(1 / (1 + x), 0, 1, -1, 1), 513 entries.
 * The compiler generates both tables (a constant blob), so every target reads the same bytes.
 */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;               /* in [-31, 30] */
    const int16_t *exp_lut;                 /* 513 entries */
    const int16_t *one_over_one_plus_x_lut; /* 513 entries */
} tml_softmax_s16_params;

/*
 * int16 softmax over the last axis: output scale 1/32768, zero point 0, in [0, 32767]. Returns
 * TML_ERROR_ARGUMENT for NULL pointers, negative sizes, or a row whose int32 sum of exponentials wraps (possible
 * beyond 65536 elements; TFLM's arithmetic is undefined there).
 */
TML_API tml_status tml_softmax_s16(const tml_softmax_s16_params *params, const int16_t *input, int32_t rows,
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

/*
 * Parameters of the int16 LOGISTIC and TANH (16x8; TFLM logistic_common.cc / tanh.cc for kTfLiteInt16). TFLM
 * requires input and output zero points 0 and an output scale of 2^-15 (refused otherwise). Prepare:
 *   - power-of-two input scale (|log2(s) - round(log2(s))| < 1e-3, float) with 12 + round(log2(s)) equal to 0
 *     (LOGISTIC) or to 0 or 1 (TANH): input_multiplier = 0, input_left_shift = 12 + round(log2(s));
 *   - otherwise: double m = s * 4096 * 3, input_left_shift = 0; while (m <= 32767 / 2 && shift <= 30) double m
 *     and count the shift; input_multiplier = (int32)m (truncated), at most 32767.
 * The kernels are plain functions of these two values, so any caller can use them, in place too: TFLM's int16 LSTM
 * gates pass (0, 0) to LOGISTIC and, for a cell state scale 2^p, (0, 12 + p) or, when that is negative,
 * (3, -(12 + p)) to TANH.
 */
typedef struct {
    int32_t input_multiplier; /* 0: power-of-two form, the kernel uses 3 << input_left_shift with no shift */
    int32_t input_left_shift; /* in [0, 31]; in the power-of-two form [0, 14] */
} tml_sigmoid_s16_params;

/*
 * int16 LOGISTIC (TFLM reference_integer_ops::Logistic for int16): x' = (x * m + round) >> shift on the table's
 * 1/(3 * 4096) grid, sigmoid interpolated between 256 nodes (9 fraction bits), output scale 2^-15, zero point 0.
 * Returns TML_ERROR_ARGUMENT for parameters outside the ranges above.
 */
TML_API tml_status tml_logistic_s16(const tml_sigmoid_s16_params *params, const int16_t *input, int32_t size,
                                    int16_t *output);

/* int16 TANH (TFLM reference_integer_ops::Tanh for int16): 2 sigmoid(2x) - 1 on the same table (8 fraction bits). */
TML_API tml_status tml_tanh_s16(const tml_sigmoid_s16_params *params, const int16_t *input, int32_t size,
                                int16_t *output);

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

/* int8 element-wise lookup: output[i] = params[(uint8_t)input[i]]; params is a 256-entry table the compiler computes
 * (TFLM's PopulateLookupTable for int8 ELU: dequantize, transform in float, round half away from zero, add the output
 * zero point, clamp). Named params so that tiles run it as any unary kernel; in place allowed. */
TML_API tml_status tml_lookup_s8(const int8_t *params, const int8_t *input, int32_t size, int8_t *output);

/* int8 HARD_SWISH: x * relu6(x + 3) / 6, computed in TFLM's int16 fixed-point arithmetic. */
TML_API tml_status tml_hard_swish_s8(const tml_hard_swish_params *params, const int8_t *input, int32_t size,
                                     int8_t *output);

/* ============================================================================================================
 * LEAKY_RELU (int8, int16)
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

/* int16 LEAKY_RELU (16x8): the same arithmetic as tml_leaky_relu_s8 (TFLM's QuantizeLeakyRelu<int16_t>, with the
 * same Prepare), saturated to int16. */
TML_API tml_status tml_leaky_relu_s16(const tml_leaky_relu_params *params, const int16_t *input, int32_t size,
                                      int16_t *output);

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

/* int16 RELU6 (16x8, TFLM's Relu6Prepare for int16): the same clamp with zero and six in [-32768, 32767]
 * (FloatToQuantizedType<int16_t>). TFLM at the goldens' version has no int16 RELU, only RELU6. */
TML_API tml_status tml_relu6_s16(const tml_relu6_params *params, const int16_t *input, int32_t size,
                                 int16_t *output);

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

/* int32 -> int8 QUANTIZE. */
TML_API tml_status tml_requantize_s32_s8(const tml_requantize_params *params, const int32_t *input,
                                         int32_t size, int8_t *output);

/* int32 -> int16 QUANTIZE (seanet's quantize0). */
TML_API tml_status tml_requantize_s32_s16(const tml_requantize_params *params, const int32_t *input,
                                          int32_t size, int16_t *output);

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
 * SVDF (int8 input, int16 or int8 state)
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
TML_API int32_t tml_svdf_s8_get_buffer_size_for(int32_t core, const tml_svdf_params *params);

/*
 * One SVDF invoke. `state` (int16, batches * num_filters * memory_size elements) persists across invokes; the
 * caller owns it and sets it to zero (the state zero point) at initialisation. Each call shifts every filter's
 * memory left by one, writes the newest feature activations in the last slot, then reduces against weights_time.
 * `bias` may be NULL. `scratch` must hold tml_svdf_s8_get_buffer_size bytes, 4-byte aligned.
 */
TML_API tml_status tml_svdf_s8(const tml_svdf_params *params, const int8_t *input, const int8_t *weights_feature,
                               const int16_t *weights_time, const int32_t *bias, int16_t *state,
                               int32_t *scratch, int8_t *output);

/*
 * One SVDF invoke with an int8 state and int8 weights_time (TFLM's EvalIntegerSvdfReference<int8_t>); the same
 * params, scratch (tml_svdf_s8_get_buffer_size) and stages as tml_svdf_s8. The state persists across invokes and is
 * kept offset by its zero point: each stored byte is (value - state_zero_point) mod 256, so the caller's zeroed
 * state is a state full of the zero point, as TFLM resets an int8 variable tensor. The feature stage saturates to
 * int8 before it adds the state zero point and wraps the sum to int8, as TFLM's reference at the goldens' version
 * (tflite-micro 90b983c) does.
 */
TML_API tml_status tml_svdf_s8_state_s8(const tml_svdf_params *params, const int8_t *input,
                                        const int8_t *weights_feature, const int8_t *weights_time,
                                        const int32_t *bias, int8_t *state, int32_t *scratch, int8_t *output);


/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM without peephole, projection or layer norm (TFLM's kernel at tflite-micro 90b983c:
 * lstm_eval.h EvalLstm / LstmStep). Per time step, each gate g of input, forget, cell, output is
 *   g = act(FC(x_t, W_g, bias_g) + FC(h, R_g))     (act: sigmoid, or the cell gate's activation)
 *   c = forget * c + input * cell_gate (then clipped to +-cell clip when one is set)
 *   h = tanh(c) * output;  the step's output row is h.
 * time_major 1: input [time, batches, input_size], every batch in one step; 0: input [batches, time, input_size],
 * one batch at a time, each with its own state row. The output has the input's layout with state_size columns.
 * The gate order of the `weights` (8: input-to-input, -forget, -cell, -output, then recurrent-to-input, -forget,
 * -cell, -output, each [state_size, input_size] or [state_size, state_size]) and `biases` (4) arrays is TFLite's;
 * the arrays hold int8 weights and int32 biases for tml_lstm_s8, int8 weights and int64 biases for tml_lstm_s16,
 * floats for tml_lstm_f32.
 */
#define TML_LSTM_GATE_TANH 0    /* the cell gate's activation (the options' fused activation) */
#define TML_LSTM_GATE_SIGMOID 1

/*
 * Parameters of tml_lstm_s8: int8 input, output and hidden state, int8 weights, int32 biases, int16 cell state.
 * Each gate's two FCs write int16 in Q3.12 (scale 2^-12), add with int16 saturation and go through TFLM's int16
 * LUT sigmoid/tanh into Q0.15. Prepare's arithmetic (CreateGateParams, CreateInterGateMulParams,
 * CreateLstmCellStateInfo):
 *   (input_multiplier[g], input_shift[g])         = QuantizeMultiplier((double)(float)(input_scale * W_g_scale) / 2^-12)
 *   (recurrent_multiplier[g], recurrent_shift[g]) = QuantizeMultiplier((double)(float)(hidden_scale * R_g_scale) / 2^-12)
 *   forget x cell -> cell:     QuantizeMultiplier((double)2^-15 * cell_scale / cell_scale)
 *   input x cell gate -> cell: QuantizeMultiplier((double)2^-15 * 2^-15 / cell_scale)
 *   tanh(cell) x output -> h:  QuantizeMultiplier((double)2^-15 * 2^-15 / hidden_scale), + hidden zero point
 *   cell_scale_power = round(log2(cell_scale)); quantized_cell_clip = (int16)clamp((double)cell_clip / cell_scale)
 */
typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_size;
    int32_t state_size;           /* units: rows of every weight matrix, columns of the states and the output */
    int32_t time_major;           /* 1: [time, batches, input]; 0: [batches, time, input] */
    int32_t input_zero_point;
    int32_t hidden_zero_point;    /* the output state's (hidden state's) zero point; the output takes its bytes */
    int32_t input_multiplier[4];  /* per gate (input, forget, cell, output): x x W_g -> Q3.12 */
    int32_t input_shift[4];
    int32_t recurrent_multiplier[4]; /* per gate: h x R_g -> Q3.12 */
    int32_t recurrent_shift[4];
    int32_t cell_gate_activation; /* TML_LSTM_GATE_TANH or TML_LSTM_GATE_SIGMOID */
    int32_t cell_scale_power;     /* the cell state's scale is 2^cell_scale_power, in [-43, 2] */
    int32_t forget_multiplier;    /* forget gate (Q0.15) x cell -> cell */
    int32_t forget_shift;
    int32_t input_gate_multiplier; /* input gate x cell gate (Q0.15 both) -> cell */
    int32_t input_gate_shift;
    int32_t hidden_multiplier;    /* tanh(cell) x output gate (Q0.15 both) -> hidden (int8) */
    int32_t hidden_shift;
    int32_t use_cell_clip;        /* 1 when the options' cell_clip > 0 */
    int32_t quantized_cell_clip;
} tml_lstm_s8_params;

/* Bytes of scratch tml_lstm_s8 needs: TFLM's four buffers, 4 * batches * state_size int16. -1 if invalid. */
TML_API int32_t tml_lstm_s8_get_buffer_size(const tml_lstm_s8_params *params);
TML_API int32_t tml_lstm_s8_get_buffer_size_for(int32_t core, const tml_lstm_s8_params *params);

/*
 * One invoke over every time step. `output_state` (int8, batches * state_size) and `cell_state` (int16, same count)
 * persist across invokes; the caller zeroes them at initialisation. The output state is kept offset by the hidden
 * zero point (each stored byte is (h - hidden_zero_point) mod 256), so zeroed bytes are TFLM's reset value (the
 * zero point). `scratch` holds tml_lstm_s8_get_buffer_size bytes, 2-byte aligned.
 */
TML_API tml_status tml_lstm_s8(const tml_lstm_s8_params *params, const int8_t *input, const void *const *weights,
                               const void *const *biases, int8_t *output_state, int16_t *cell_state,
                               int16_t *scratch, int8_t *output);

/*
 * The 16x8 LSTM (TFLM's LstmStep<int16_t, int8_t, int16_t, int64_t>): int16 input, output and output state, int8
 * weights, int64 biases, int16 cell state; the same params (both zero points 0: TFLM's 16x8 FC has no input offset),
 * Prepare arithmetic, scratch (tml_lstm_s8_get_buffer_size) and steps as tml_lstm_s8. Each gate FC accumulates in
 * int64 and requantizes with the 64-bit MultiplyByQuantizedMultiplier (input and recurrent shifts in [-31, 7]); h is
 * saturated to int16. TML_ERROR_ARGUMENT for a zero point other than 0 or a shift outside that range.
 */
TML_API tml_status tml_lstm_s16(const tml_lstm_s8_params *params, const int16_t *input, const void *const *weights,
                                const void *const *biases, int16_t *output_state, int16_t *cell_state,
                                int16_t *scratch, int16_t *output);

/* Parameters of tml_lstm_f32 (TFLM's float path: reference FC, Logistic, Tanh and Mul in float). */
typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_size;
    int32_t state_size;
    int32_t time_major;
    int32_t cell_gate_activation; /* TML_LSTM_GATE_TANH or TML_LSTM_GATE_SIGMOID */
    float cell_clip;              /* > 0: the cell state is clipped to [-cell_clip, cell_clip]; 0: no clip */
} tml_lstm_f32_params;

/* Bytes of scratch tml_lstm_f32 needs: 4 * batches * state_size floats. -1 if invalid. */
TML_API int32_t tml_lstm_f32_get_buffer_size(const tml_lstm_f32_params *params);
TML_API int32_t tml_lstm_f32_get_buffer_size_for(int32_t core, const tml_lstm_f32_params *params);

/* One float32 invoke; the states persist as in tml_lstm_s8 (zeroed is TFLM's reset). Scratch 4-byte aligned. */
TML_API tml_status tml_lstm_f32(const tml_lstm_f32_params *params, const float *input, const void *const *weights,
                                const void *const *biases, float *output_state, float *cell_state, float *scratch,
                                float *output);


/* ---- on-device training (train.c; docs/training.md) ------------------------------------------------------------
 * Training fine-tunes the int8 classifier head (FULLY_CONNECTED -> SOFTMAX) in integer arithmetic. Its state lives in
 * a mutable region: the int8 weights and int32 bias the forward pass reads, and int32 master copies of both with
 * fraction bits (master = value * 2^fraction_bits). A step accumulates one sample's SGD update into the masters;
 * tml_train_fc_apply_s8 then rounds the masters into the forward pass's weights (after every sample, or after a
 * batch: mini-batch SGD). One rounding rule throughout: round half away from zero.
 *
 * The control block (int32_t[TML_TRAIN_CONTROL_WORDS]) carries what changes per step. */
#define TML_TRAIN_CONTROL_WORDS 4
#define TML_TRAIN_LABEL 0       /* the sample's class, in [0, units) */
#define TML_TRAIN_LR_MULTIPLIER 1 /* learning rate = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) */
#define TML_TRAIN_LR_SHIFT 2
#define TML_TRAIN_BATCH 3       /* samples per apply, >= 1: each sample's update is divided by it */

/* A gradient buffer is int32_t[1 + n]: word 0 an exponent e >= 0, then n values; value * 2^e * (the scale the
 * compiler assigned the buffer) is the real gradient. Backward kernels shift their sums right into 16 bits and
 * raise e, so a gradient keeps its precision however small or large it gets (block floating point). */

/* Cross-entropy gradient of an int8 softmax output (scale 1/256, zero point -128) in units of 1/256:
 * grad[1 + j] = (probabilities[j] + 128) - 256 * (j == label), grad[0] = 0. TML_ERROR_ARGUMENT for a label outside
 * [0, units). */
TML_API tml_status tml_train_softmax_grad_s8(const int32_t *control, int32_t units, const int8_t *probabilities,
                                             int32_t *grad);

/* Parameters of the head's update and apply. */
typedef struct {
    int32_t units;                /* output rows */
    int32_t depth;                /* inputs per row */
    int32_t input_offset;         /* -input zero point */
    int32_t weight_fraction_bits; /* master weight = weight * 2^weight_fraction_bits, in [0, 23] */
    int32_t bias_fraction_bits;   /* master bias = bias * 2^bias_fraction_bits, in [0, 24] */
} tml_train_fc_params;

/*
 * One sample's SGD step on the masters of a FULLY_CONNECTED layer (bias may be NULL: then master_bias is unused):
 *   master_weights[j][d] -= R(grad[j] * (input[d] + input_offset) * lr * weight_step[j]) / batch
 *   master_bias[j]       -= R(grad[j] * lr * bias_step[j]) / batch
 * where weight_step[j] = grad_scale * input_scale * 2^weight_fraction_bits / weight_scale[j] and bias_step[j] =
 * grad_scale * 2^bias_fraction_bits / bias_scale[j] are the compiler's (multiplier, shift) pairs: the gradient of the
 * real loss converted into each integer's units (quantization-aware scaling), times 2^e of the gradient buffer.
 * lr * step is one 64-bit product rounded to a Q31 multiplier; R rounds the 64-bit product with it; the division by
 * batch rounds too. Master weights stay within +-127 * 2^weight_fraction_bits, master biases within int32.
 */
TML_API tml_status tml_train_fc_update_s8(const tml_train_fc_params *params, const tml_per_channel_quant *weight_step,
                                          const tml_per_channel_quant *bias_step, const int32_t *control,
                                          const int8_t *input, const int32_t *grad, int32_t *master_weights,
                                          int32_t *master_bias);

/* Rounds the masters into the weights and bias the forward pass reads (bias may be NULL). */
TML_API tml_status tml_train_fc_apply_s8(const tml_train_fc_params *params, const int32_t *master_weights,
                                         const int32_t *master_bias, int8_t *weights, int32_t *bias);

/* The gradient of a FULLY_CONNECTED's input from its output's (per-tensor weights, one row):
 * grad_in[d] = sum_j grad_out[j] * weights[j][d], scaled into 16 bits (grad_in's exponent = grad_out's + the shift).
 * Uses params->units and params->depth only. */
TML_API tml_status tml_train_fc_backward_s8(const tml_train_fc_params *params, const int8_t *weights,
                                            const int32_t *grad_out, int32_t *grad_in);

/* The gradient of an ungrouped CONV_2D's input from its output's (NHWC; weights [out_c, kh, kw, in_c]):
 *   grad_in[ih][iw][ic] = sum over the taps that read (ih, iw) of grad_out[oh][ow][oc] * weights[oc][kh][kw][ic] * ratio[oc]
 * with ratio[oc] = round(2^15 * weight_scale[oc] / largest weight scale), so that per-channel weights share one scale;
 * scaled into 16 bits as tml_train_fc_backward_s8 does. Stride, dilation and padding are the forward call's. */
typedef struct {
    int32_t in_h;
    int32_t in_w;
    int32_t in_c;
    int32_t out_h;
    int32_t out_w;
    int32_t out_c;
    int32_t kernel_h;
    int32_t kernel_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_h; /* top padding of the forward call */
    int32_t pad_w; /* left padding of the forward call */
} tml_train_conv_backward_params;

TML_API tml_status tml_train_conv_backward_s8(const tml_train_conv_backward_params *params, const int32_t *ratio,
                                              const int8_t *weights, const int32_t *grad_out, int32_t *grad_in);

/* The gradient of a global average (MEAN over height and width, or an AVERAGE_POOL_2D over the whole input) back to
 * its input: every position gets its channel's value, grad_in[1 + p * channels + c] = grad_out[1 + c], and the same
 * exponent; the compiler's scale of grad_in carries the 1 / positions. */
typedef struct {
    int32_t positions;
    int32_t channels;
} tml_train_spread_params;

TML_API tml_status tml_train_spread(const tml_train_spread_params *params, const int32_t *grad_out, int32_t *grad_in);

/* The derivative of a fused activation's clamp: zeroes grad[1 + i] where output[i] sits at activation_min or
 * activation_max (there the pre-activation value did not reach the output). */
typedef struct {
    int32_t count;
    int32_t activation_min;
    int32_t activation_max;
} tml_train_mask_params;

TML_API tml_status tml_train_mask_s8(const tml_train_mask_params *params, const int8_t *output, int32_t *grad);

/* The bias of a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED whose output gradient is `grad` (NHWC: positions x
 * channels). */
typedef struct {
    int32_t channels;
    int32_t positions;          /* output pixels (1 for a FULLY_CONNECTED) */
    int32_t bias_fraction_bits; /* master bias = bias * 2^bias_fraction_bits, in [0, 24] */
} tml_train_bias_params;

/* master_bias[c] -= R(sum over positions of grad * lr * bias_step[c] * 2^e) / batch, as tml_train_fc_update_s8. */
TML_API tml_status tml_train_bias_update_s8(const tml_train_bias_params *params, const tml_per_channel_quant *bias_step,
                                            const int32_t *control, const int32_t *grad, int32_t *master_bias);

/* Rounds the master bias into the bias the forward pass reads. */
TML_API tml_status tml_train_bias_apply(const tml_train_bias_params *params, const int32_t *master_bias, int32_t *bias);


#ifdef __cplusplus
}
#endif

#endif /* TML_KERNELS_H */
