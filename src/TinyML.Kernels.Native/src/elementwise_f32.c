/* SPDX-License-Identifier: Apache-2.0 */
/*
 * elementwise_f32.c: the float32 binary operators with N-D broadcast, all on tml_broadcast_apply (TFLM
 * reference_ops::Add / Sub / Mul / Div and their Broadcast*Slow forms, MaximumMinimumBroadcastSlow,
 * BroadcastPrelu4DSlow): one row function per operator, the broadcast walk shared.
 */
#include "common.h"

/* A row function combining element pairs with COMBINE(params, x1, x2); P is the kernel's parameter pointer. */
#define TML_F32_ROW(name, params_type, combine)                                                                    \
    static void name(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out,          \
                     int32_t n)                                                                                    \
    {                                                                                                              \
        const params_type *p = (const params_type *)params;                                                        \
        const float *x1 = (const float *)a;                                                                        \
        const float *x2 = (const float *)b;                                                                        \
        float *y = (float *)out;                                                                                   \
        (void)p;                                                                                                   \
        for (int32_t i = 0; i < n; i++) {                                                                          \
            y[i] = combine(p, x1[(ptrdiff_t)i * sa], x2[(ptrdiff_t)i * sb]);                                       \
        }                                                                                                          \
    }

/* Fused activation as TFLM's ActivationFunctionWithMinMax, after the arithmetic in float. */
#define TML_ADD_F32(p, u, v) tml_clamp_f32((u) + (v), (p)->activation_min, (p)->activation_max)
#define TML_SUB_F32(p, u, v) tml_clamp_f32((u) - (v), (p)->activation_min, (p)->activation_max)
#define TML_MUL_F32(p, u, v) tml_clamp_f32((u) * (v), (p)->activation_min, (p)->activation_max)
#define TML_DIV_F32(p, u, v) tml_clamp_f32((u) / (v), (p)->activation_min, (p)->activation_max)
#define TML_MAXIMUM_F32(p, u, v) ((u) > (v) ? (u) : (v))
#define TML_MINIMUM_F32(p, u, v) ((u) < (v) ? (u) : (v))
#define TML_PRELU_F32(p, x, alpha) ((x) >= 0.0f ? (x) : (x) * (alpha))

TML_F32_ROW(add_f32_row, tml_add_f32_params, TML_ADD_F32)
TML_F32_ROW(sub_f32_row, tml_add_f32_params, TML_SUB_F32)
TML_F32_ROW(mul_f32_row, tml_add_f32_params, TML_MUL_F32)
TML_F32_ROW(div_f32_row, tml_add_f32_params, TML_DIV_F32)
TML_F32_ROW(maximum_f32_row, void, TML_MAXIMUM_F32)
TML_F32_ROW(minimum_f32_row, void, TML_MINIMUM_F32)
TML_F32_ROW(prelu_f32_row, void, TML_PRELU_F32)

static tml_status binary_f32(const void *params, int needs_params, const tml_broadcast_shape *shape,
                             const float *input1, const float *input2, float *output, tml_broadcast_row_fn row)
{
    if ((needs_params && params == NULL) || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, sizeof(float), params, input1, input2, output, row);
}

TML_API tml_status tml_add_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output)
{
    return binary_f32(params, 1, shape, input1, input2, output, add_f32_row);
}

TML_API tml_status tml_sub_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output)
{
    return binary_f32(params, 1, shape, input1, input2, output, sub_f32_row);
}

TML_API tml_status tml_mul_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output)
{
    return binary_f32(params, 1, shape, input1, input2, output, mul_f32_row);
}

TML_API tml_status tml_div_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output)
{
    return binary_f32(params, 1, shape, input1, input2, output, div_f32_row);
}

TML_API tml_status tml_maximum_f32(const tml_broadcast_shape *shape, const float *input1, const float *input2,
                                   float *output)
{
    return binary_f32(NULL, 0, shape, input1, input2, output, maximum_f32_row);
}

TML_API tml_status tml_minimum_f32(const tml_broadcast_shape *shape, const float *input1, const float *input2,
                                   float *output)
{
    return binary_f32(NULL, 0, shape, input1, input2, output, minimum_f32_row);
}

TML_API tml_status tml_prelu_f32(const tml_broadcast_shape *shape, const float *input, const float *alpha,
                                 float *output)
{
    return binary_f32(NULL, 0, shape, input, alpha, output, prelu_f32_row);
}
