/* SPDX-License-Identifier: Apache-2.0 */
/*
 * elementwise_f32.c: float32 ADD with N-D broadcast (TFLM reference_ops::Add / BroadcastAdd6DSlow, float):
 * out = clamp(x1 + x2, activation_min, activation_max).
 */
#include "common.h"

static void add_f32_row(const void *params, const void *a, int32_t sa, const void *b, int32_t sb, void *out,
                        int32_t n)
{
    const tml_add_f32_params *p = (const tml_add_f32_params *)params;
    const float *x1 = (const float *)a;
    const float *x2 = (const float *)b;
    float *y = (float *)out;
    for (int32_t i = 0; i < n; i++) {
        y[i] = tml_clamp_f32(x1[(ptrdiff_t)i * sa] + x2[(ptrdiff_t)i * sb], p->activation_min, p->activation_max);
    }
}

TML_API tml_status tml_add_f32(const tml_add_f32_params *params, const tml_broadcast_shape *shape, const float *input1,
                               const float *input2, float *output)
{
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TML_ERROR_ARGUMENT;
    }
    return tml_broadcast_apply(shape, sizeof(float), params, input1, input2, output, add_f32_row);
}
