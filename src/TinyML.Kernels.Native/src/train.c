/* SPDX-License-Identifier: Apache-2.0 */
/*
 * train.c: integer SGD of an int8 classifier head (docs/training.md). Only a model built with training calls these,
 * so a device image links this file only then.
 *
 * The derivation: with p the softmax output and y the one-hot label, dLoss/dlogit[j] = p[j] - y[j]; the int8 softmax
 * output q has p = (q + 128) / 256, so grad[j] = q[j] + 128 - 256 * y[j] is that gradient in units of 1/256, exact.
 * For a FULLY_CONNECTED logit[j] = sum_d w[j][d] * x[d] + b[j] the real updates are
 *   dw[j][d] = lr * grad[j] / 256 * x[d]  and  db[j] = lr * grad[j] / 256,
 * and each becomes an integer update by dividing by its integer's scale (x = input_scale * (q_x - zp),
 * w = weight_scale[j] * q_w, b = bias_scale[j] * q_b); the compiler folds those scales into weight_step and
 * bias_step. That is Tiny Training Engine's quantization-aware scaling taken exactly: the update a float model would
 * make, expressed in the int8 model's units.
 */
#include "common.h"

/* round(x / 2^n), ties away from zero; n <= 0 multiplies (saturating), n >= 63 rounds everything to 0. */
static int64_t train_round_shift(int64_t x, int32_t n)
{
    if (n <= 0) {
        int32_t left = -n;
        if (left > 31) {
            left = 31;
        }
        const int64_t limit = INT64_MAX >> left;
        if (x > limit) return INT64_MAX;
        if (x < -limit) return -INT64_MAX;
        return x * ((int64_t)1 << left);
    }
    if (n >= 63) {
        return 0;
    }
    const int64_t half = (int64_t)1 << (n - 1);
    return x >= 0 ? (x + half) >> n : -((-x + half) >> n);
}

/* round(x / d), ties away from zero, d >= 1. */
static int64_t train_round_div(int64_t x, int32_t d)
{
    if (d <= 1) {
        return x;
    }
    const int64_t half = d / 2;
    return x >= 0 ? (x + half) / d : -((-x + half) / d);
}

/* lr * step * 2^exponent as one Q31 multiplier and its shift: (m_lr * m_step) / 2^31 rounded, shifts added. */
static void train_rate(const int32_t *control, int32_t step_multiplier, int32_t step_shift, int32_t exponent,
                       int32_t *multiplier, int32_t *shift)
{
    *multiplier = (int32_t)train_round_shift((int64_t)control[TML_TRAIN_LR_MULTIPLIER] * step_multiplier, 31);
    *shift = control[TML_TRAIN_LR_SHIFT] + step_shift + exponent;
}

/* |g| capped at 2^22 so that g * a 9-bit input * a Q31 multiplier fits 64 bits whatever the caller passes. */
static int64_t train_cap(int32_t g)
{
    return g > (1 << 22) ? (1 << 22) : g < -(1 << 22) ? -(1 << 22) : g;
}

/* The right shift that brings |sums| <= largest under 2^15, the resulting exponent kept at or below 62. */
static int32_t train_shift_into_16_bits(int64_t largest, int32_t exponent)
{
    int32_t shift = 0;
    while ((largest >> shift) >= (1 << 15)) shift++;
    return exponent + shift > 62 ? 62 - exponent : shift;
}

/* A gradient exponent the kernels accept: 0 to 62. */
static int train_exponent_valid(int32_t e)
{
    return e >= 0 && e <= 62;
}

/* The update of one integer: round(g * multiplier * 2^(shift - 31)) / batch, rounded. */
static int64_t train_delta(int64_t g, int32_t multiplier, int32_t shift, int32_t batch)
{
    return train_round_div(train_round_shift(g * multiplier, 31 - shift), batch);
}

static int train_control_valid(const int32_t *control)
{
    return control[TML_TRAIN_LR_MULTIPLIER] >= 0 && control[TML_TRAIN_LR_SHIFT] >= -62 &&
           control[TML_TRAIN_LR_SHIFT] <= 30 && control[TML_TRAIN_BATCH] >= 1;
}

TML_API tml_status tml_train_softmax_grad_s8(const int32_t *control, int32_t units, const int8_t *probabilities,
                                             int32_t *grad)
{
    if (control == NULL || probabilities == NULL || grad == NULL || units <= 0) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t label = control[TML_TRAIN_LABEL];
    if (label < 0 || label >= units) {
        return TML_ERROR_ARGUMENT;
    }
    grad[0] = 0;
    for (int32_t j = 0; j < units; j++) {
        grad[1 + j] = (int32_t)probabilities[j] + 128 - (j == label ? 256 : 0);
    }
    return TML_OK;
}

static int train_fc_params_valid(const tml_train_fc_params *p)
{
    return p->units > 0 && p->depth > 0 && p->input_offset >= -255 && p->input_offset <= 255 &&
           p->weight_fraction_bits >= 0 && p->weight_fraction_bits <= 23 && p->bias_fraction_bits >= 0 &&
           p->bias_fraction_bits <= 24;
}

TML_API tml_status tml_train_fc_update_s8(const tml_train_fc_params *params, const tml_per_channel_quant *weight_step,
                                          const tml_per_channel_quant *bias_step, const int32_t *control,
                                          const int8_t *input, const int32_t *grad, int32_t *master_weights,
                                          int32_t *master_bias)
{
    if (params == NULL || weight_step == NULL || control == NULL || input == NULL || grad == NULL ||
        master_weights == NULL || !train_fc_params_valid(params) || !train_control_valid(control) ||
        (master_bias != NULL && bias_step == NULL) || !train_exponent_valid(grad[0])) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t depth = params->depth, batch = control[TML_TRAIN_BATCH];
    const int32_t limit = 127 * (1 << params->weight_fraction_bits);
    for (int32_t j = 0; j < params->units; j++) {
        const int64_t g = train_cap(grad[1 + j]);
        if (g == 0) {
            continue;
        }
        int32_t multiplier, shift;
        train_rate(control, weight_step->multiplier[j], weight_step->shift[j], grad[0], &multiplier, &shift);
        int32_t *row = master_weights + (size_t)j * (size_t)depth;
        for (int32_t d = 0; d < depth; d++) {
            const int64_t updated = row[d] - train_delta(g * (input[d] + params->input_offset), multiplier, shift, batch);
            row[d] = (int32_t)(updated > limit ? limit : updated < -limit ? -limit : updated);
        }
        if (master_bias != NULL) {
            train_rate(control, bias_step->multiplier[j], bias_step->shift[j], grad[0], &multiplier, &shift);
            master_bias[j] = tml_sat_i32_from_i64(master_bias[j] - train_delta(g, multiplier, shift, batch));
        }
    }
    return TML_OK;
}

TML_API tml_status tml_train_fc_apply_s8(const tml_train_fc_params *params, const int32_t *master_weights,
                                         const int32_t *master_bias, int8_t *weights, int32_t *bias)
{
    if (params == NULL || master_weights == NULL || weights == NULL || !train_fc_params_valid(params) ||
        (bias != NULL && master_bias == NULL)) {
        return TML_ERROR_ARGUMENT;
    }
    const size_t count = (size_t)params->units * (size_t)params->depth;
    for (size_t i = 0; i < count; i++) {
        weights[i] = tml_sat_i8((int32_t)train_round_shift(master_weights[i], params->weight_fraction_bits));
    }
    if (bias != NULL) {
        for (int32_t j = 0; j < params->units; j++) {
            bias[j] = (int32_t)train_round_shift(master_bias[j], params->bias_fraction_bits);
        }
    }
    return TML_OK;
}

TML_API tml_status tml_train_fc_backward_s8(const tml_train_fc_params *params, const int8_t *weights,
                                            const int32_t *grad_out, int32_t *grad_in)
{
    if (params == NULL || weights == NULL || grad_out == NULL || grad_in == NULL || params->units <= 0 ||
        params->depth <= 0 || !train_exponent_valid(grad_out[0])) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t depth = params->depth, units = params->units;
    int64_t largest_gradient = 0;
    for (int32_t j = 0; j < units; j++) {
        const int64_t g = train_cap(grad_out[1 + j]);
        if ((g < 0 ? -g : g) > largest_gradient) largest_gradient = g < 0 ? -g : g;
    }
    int64_t largest = 0;
    int32_t *sums = grad_in + 1;
    const int sums_fit_int32 = largest_gradient * 128 * units < ((int64_t)1 << 31);
    if (sums_fit_int32) {
        /* Every sum fits int32: accumulate row by row, reading the weights in order. */
        for (int32_t d = 0; d < depth; d++) sums[d] = 0;
        for (int32_t j = 0; j < units; j++) {
            const int32_t g = grad_out[1 + j];
            const int8_t *row = weights + (size_t)j * depth;
            if (g == 0) continue;
            for (int32_t d = 0; d < depth; d++) sums[d] += g * row[d];
        }
        for (int32_t d = 0; d < depth; d++) {
            const int64_t a = sums[d] < 0 ? -(int64_t)sums[d] : sums[d];
            if (a > largest) largest = a;
        }
    } else {
        /* Two passes over the weights (the largest int64 sum, then the sums) spare an int64 buffer. */
        for (int32_t d = 0; d < depth; d++) {
            int64_t sum = 0;
            for (int32_t j = 0; j < units; j++) sum += train_cap(grad_out[1 + j]) * weights[(size_t)j * depth + d];
            if ((sum < 0 ? -sum : sum) > largest) largest = sum < 0 ? -sum : sum;
        }
    }
    const int32_t shift = train_shift_into_16_bits(largest, grad_out[0]);
    if (sums_fit_int32) {
        for (int32_t d = 0; d < depth; d++) sums[d] = (int32_t)train_round_shift(sums[d], shift);
    } else {
        for (int32_t d = 0; d < depth; d++) {
            int64_t sum = 0;
            for (int32_t j = 0; j < units; j++) sum += train_cap(grad_out[1 + j]) * weights[(size_t)j * depth + d];
            sums[d] = (int32_t)train_round_shift(sum, shift);
        }
    }
    grad_in[0] = grad_out[0] + shift;
    return TML_OK;
}

/* The sum that reaches input (ih, iw, ic) of a convolution: each tap's output position, where stride and padding put
 * one. */
static int64_t train_conv_input_sum(const tml_train_conv_backward_params *p, const int32_t *ratio, const int8_t *weights,
                                    const int32_t *grad_out, int32_t ih, int32_t iw, int32_t ic)
{
    int64_t sum = 0;
    for (int32_t kh = 0; kh < p->kernel_h; kh++) {
        const int32_t y = ih + p->pad_h - kh * p->dilation_h;
        if (y < 0 || y % p->stride_h != 0 || y / p->stride_h >= p->out_h) continue;
        const int32_t oh = y / p->stride_h;
        for (int32_t kw = 0; kw < p->kernel_w; kw++) {
            const int32_t x = iw + p->pad_w - kw * p->dilation_w;
            if (x < 0 || x % p->stride_w != 0 || x / p->stride_w >= p->out_w) continue;
            const int32_t *g = grad_out + 1 + ((size_t)oh * p->out_w + (size_t)(x / p->stride_w)) * p->out_c;
            const int8_t *w = weights + ((size_t)kh * p->kernel_w + kw) * p->in_c + ic;
            const size_t filter = (size_t)p->kernel_h * p->kernel_w * p->in_c;
            for (int32_t oc = 0; oc < p->out_c; oc++) {
                sum += (int64_t)g[oc] * w[(size_t)oc * filter] * ratio[oc];
            }
        }
    }
    return sum;
}

TML_API tml_status tml_train_conv_backward_s8(const tml_train_conv_backward_params *params, const int32_t *ratio,
                                              const int8_t *weights, const int32_t *grad_out, int32_t *grad_in)
{
    const tml_train_conv_backward_params *p = params;
    if (p == NULL || ratio == NULL || weights == NULL || grad_out == NULL || grad_in == NULL || p->in_h <= 0 ||
        p->in_w <= 0 || p->in_c <= 0 || p->out_h <= 0 || p->out_w <= 0 || p->out_c <= 0 || p->kernel_h <= 0 ||
        p->kernel_w <= 0 || p->stride_h <= 0 || p->stride_w <= 0 || p->dilation_h <= 0 || p->dilation_w <= 0 ||
        p->pad_h < 0 || p->pad_w < 0 || !train_exponent_valid(grad_out[0])) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        if (ratio[oc] < 0 || ratio[oc] > (1 << 15)) return TML_ERROR_ARGUMENT;
    }
    /* |grad_out| < 2^16 after any backward kernel; larger values (a caller's) could overflow the 64-bit sums. */
    const size_t outputs = (size_t)p->out_h * p->out_w * p->out_c;
    for (size_t i = 0; i < outputs; i++) {
        if (grad_out[1 + i] >= (1 << 16) || grad_out[1 + i] <= -(1 << 16)) return TML_ERROR_ARGUMENT;
    }
    /* Two passes (the largest sum, then the sums shifted into 16 bits) spare an int64 buffer. */
    int64_t largest = 0;
    for (int32_t ih = 0; ih < p->in_h; ih++)
        for (int32_t iw = 0; iw < p->in_w; iw++)
            for (int32_t ic = 0; ic < p->in_c; ic++) {
                const int64_t sum = train_conv_input_sum(p, ratio, weights, grad_out, ih, iw, ic);
                if ((sum < 0 ? -sum : sum) > largest) largest = sum < 0 ? -sum : sum;
            }
    const int32_t shift = train_shift_into_16_bits(largest, grad_out[0]);
    int32_t *values = grad_in + 1;
    for (int32_t ih = 0; ih < p->in_h; ih++)
        for (int32_t iw = 0; iw < p->in_w; iw++)
            for (int32_t ic = 0; ic < p->in_c; ic++) {
                *values++ = (int32_t)train_round_shift(train_conv_input_sum(p, ratio, weights, grad_out, ih, iw, ic), shift);
            }
    grad_in[0] = grad_out[0] + shift;
    return TML_OK;
}

TML_API tml_status tml_train_spread(const tml_train_spread_params *params, const int32_t *grad_out, int32_t *grad_in)
{
    if (params == NULL || grad_out == NULL || grad_in == NULL || params->positions <= 0 || params->channels <= 0) {
        return TML_ERROR_ARGUMENT;
    }
    grad_in[0] = grad_out[0];
    for (int32_t p = 0; p < params->positions; p++) {
        int32_t *row = grad_in + 1 + (size_t)p * (size_t)params->channels;
        for (int32_t c = 0; c < params->channels; c++) row[c] = grad_out[1 + c];
    }
    return TML_OK;
}

TML_API tml_status tml_train_mask_s8(const tml_train_mask_params *params, const int8_t *output, int32_t *grad)
{
    if (params == NULL || output == NULL || grad == NULL || params->count < 0) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < params->count; i++) {
        if (output[i] <= params->activation_min || output[i] >= params->activation_max) grad[1 + i] = 0;
    }
    return TML_OK;
}

static int train_bias_params_valid(const tml_train_bias_params *p)
{
    return p->channels > 0 && p->positions > 0 && p->bias_fraction_bits >= 0 && p->bias_fraction_bits <= 24;
}

TML_API tml_status tml_train_bias_update_s8(const tml_train_bias_params *params, const tml_per_channel_quant *bias_step,
                                            const int32_t *control, const int32_t *grad, int32_t *master_bias)
{
    if (params == NULL || bias_step == NULL || control == NULL || grad == NULL || master_bias == NULL ||
        !train_bias_params_valid(params) || !train_control_valid(control) || !train_exponent_valid(grad[0])) {
        return TML_ERROR_ARGUMENT;
    }
    const int32_t channels = params->channels;
    for (int32_t c = 0; c < channels; c++) {
        /* Summed in 64 bits, then brought back under 2^22 by a rounding shift that joins the exponent. */
        int64_t sum = 0;
        for (int32_t p = 0; p < params->positions; p++) sum += grad[1 + (size_t)p * channels + c];
        int32_t extra = 0;
        while ((sum < 0 ? -sum : sum) >> extra >= (1 << 22)) extra++;
        const int64_t g = train_round_shift(sum, extra);
        if (g == 0) {
            continue;
        }
        int32_t multiplier, shift;
        train_rate(control, bias_step->multiplier[c], bias_step->shift[c], grad[0] + extra, &multiplier, &shift);
        master_bias[c] = tml_sat_i32_from_i64(master_bias[c] - train_delta(g, multiplier, shift, control[TML_TRAIN_BATCH]));
    }
    return TML_OK;
}

TML_API tml_status tml_train_bias_apply(const tml_train_bias_params *params, const int32_t *master_bias, int32_t *bias)
{
    if (params == NULL || master_bias == NULL || bias == NULL || !train_bias_params_valid(params)) {
        return TML_ERROR_ARGUMENT;
    }
    for (int32_t c = 0; c < params->channels; c++) {
        bias[c] = (int32_t)train_round_shift(master_bias[c], params->bias_fraction_bits);
    }
    return TML_OK;
}
