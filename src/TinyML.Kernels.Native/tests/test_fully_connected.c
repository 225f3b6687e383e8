/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fully_connected.c: tml_fully_connected_s8 against a naive reference written here (TFLM FullyConnected
 * and FullyConnectedPerChannel semantics): per-tensor with filter offset, per-channel (filter offset ignored),
 * batches 1..3, odd depths, multipliers > 1, optional bias, clamps and saturated inputs. 16x8
 * (tml_fully_connected_s16, tml_fully_connected_s16_bias32): int16 data, per-tensor or per-channel, int64, int32 or no bias.
 */
#include <stdlib.h>

#include "tml_kernels.h"
#include "tml_test.h"
#include "ref_s16x8.h"
#include "packed_weights.h"

static void ref_fc(int32_t batches, int32_t depth, int32_t units, const int8_t *in, const int8_t *w,
                   const int32_t *bias, int per_channel, int32_t in_zp, int32_t w_zp, int32_t out_zp,
                   const int32_t *mult, const int32_t *shift, int32_t lo, int32_t hi, int8_t *out)
{
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t u = 0; u < units; u++) {
            int64_t acc = 0;
            for (int32_t d = 0; d < depth; d++) {
                const int32_t wv = w[u * depth + d] - (per_channel ? 0 : w_zp);
                acc += (int64_t)wv * (in[b * depth + d] - in_zp);
            }
            if (bias) {
                acc += bias[u];
            }
            const int32_t qi = per_channel ? u : 0;
            const int32_t v = tml_ref_mbqm(tml_ref_wrap32(acc), mult[qi], shift[qi]) + out_zp;
            out[b * units + u] = (int8_t)tml_ref_clamp(v, lo, hi);
        }
    }
}

static const int32_t k_sizes[] = {1, 3, 7, 17, 16, 33, 64};

static int run_case(tml_rng *r, int index)
{
    const int32_t batches = tml_rng_range(r, 1, 3);
    const int32_t depth = k_sizes[tml_rng_range(r, 0, 6)];
    const int32_t units = k_sizes[tml_rng_range(r, 0, 5)];
    const int per_channel = tml_rng_range(r, 0, 1);
    const int has_bias = tml_rng_range(r, 0, 3) != 0;
    const int32_t in_zp = tml_rng_range(r, -128, 127);
    /* Per-tensor filters may carry a (legacy) zero point; per-channel ones are symmetric. */
    const int32_t w_zp = tml_rng_range(r, 0, 2) == 0 ? tml_rng_range(r, -10, 10) : 0;
    const int32_t out_zp = tml_rng_range(r, -128, 127);
    int32_t lo = -128, hi = 127;
    if (tml_rng_range(r, 0, 1)) {
        lo = tml_rng_range(r, -128, 0);
        hi = tml_rng_range(r, lo, 127);
    }
    int8_t *in = (int8_t *)malloc((size_t)batches * depth);
    int8_t *w = (int8_t *)malloc((size_t)units * depth);
    int32_t *bias = (int32_t *)malloc(sizeof(int32_t) * (size_t)units);
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)units);
    int32_t *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)units);
    int8_t *expected = (int8_t *)malloc((size_t)batches * units);
    int8_t *actual = (int8_t *)malloc((size_t)batches * units);
    tml_rng_fill_s8(r, in, (size_t)batches * depth, 25);
    tml_rng_fill_s8(r, w, (size_t)units * depth, 10);
    tml_rng_fill_s32(r, bias, (size_t)units, -40000, 40000);
    const double s_in = tml_rng_scale(r, -3.0, -1.0);
    const double s_out = tml_rng_scale(r, -2.5, 0.0);
    const int gt_one = tml_rng_range(r, 0, 7) == 0;
    for (int32_t u = 0; u < units; u++) {
        double eff = s_in * tml_rng_scale(r, -3.0, -1.0) / s_out;
        if (gt_one) {
            eff = tml_rng_double(r, 1.0, 2.5);
        }
        tml_test_quantize_multiplier(eff, &mult[u], &shift[u]);
    }
    ref_fc(batches, depth, units, in, w, has_bias ? bias : NULL, per_channel, in_zp, w_zp, out_zp, mult, shift, lo,
           hi, expected);

    tml_fully_connected_params p;
    p.input_offset = -in_zp;
    p.filter_offset = -w_zp;
    p.output_offset = out_zp;
    p.activation_min = lo;
    p.activation_max = hi;
    p.per_channel = per_channel;
    tml_per_channel_quant q = {mult, shift};
    int ok = TML_CHECK(tml_fully_connected_s8_get_buffer_size(&p, batches, depth, units) == 0, "buffer size");
    memset(actual, 0x5A, (size_t)batches * units);
    tml_status st = tml_fully_connected_s8(&p, &q, batches, depth, units, in, w, has_bias ? bias : NULL, actual, NULL);
    ok &= TML_CHECK(st == TML_OK, "status %d", (int)st);
    char label[200];
    snprintf(label, sizeof(label), "fc case %d: b %d depth %d units %d per_channel %d bias %d zp %d/%d/%d act [%d,%d]",
             index, batches, depth, units, per_channel, has_bias, in_zp, w_zp, out_zp, lo, hi);
    ok &= tml_test_compare_s8(label, expected, actual, (size_t)batches * units);
    if (per_channel || w_zp == 0) {
        /* The same case through the build-time packed weights and folded bias, in every layout. */
        int8_t *packed = (int8_t *)malloc((size_t)tml_test_packed_bytes(units, depth, TML_PACKED_CHUNK_WORD_S16));
        int32_t *folded = (int32_t *)malloc(sizeof(int32_t) * (size_t)units);
        tml_test_fold_bias(w, has_bias ? bias : NULL, units, depth, -in_zp, folded);
        for (int layout = 0; layout < 3; layout++) {
            const int32_t chunk = tml_test_chunks[layout];
            tml_test_pack(w, units, depth, chunk, packed);
            const tml_fully_connected_packed_params pp = tml_test_packed_params(&p, chunk);
            memset(actual, 0x5A, (size_t)batches * units);
            st = tml_fully_connected_s8_packed(&pp, &q, batches, depth, units, in, packed, folded, actual, NULL);
            ok &= TML_CHECK(st == TML_OK, "packed status %d", (int)st);
            ok &= tml_test_compare_s8(tml_test_chunk_name(chunk), expected, actual, (size_t)batches * units);
        }
        tml_fully_connected_packed_params bad = tml_test_packed_params(&p, 8);
        ok &= TML_CHECK(tml_fully_connected_s8_packed(&bad, &q, batches, depth, units, in, packed, folded, actual,
                                                      NULL) == TML_ERROR_ARGUMENT,
                        "packed with chunk 8");
        free(packed);
        free(folded);
    }
    tml_test_record(ok, label);
    free(in);
    free(w);
    free(bias);
    free(mult);
    free(shift);
    free(expected);
    free(actual);
    return ok;
}

/* 16x8: TFLM FullyConnected / FullyConnectedPerChannel for int16 input with an int64, int32 or no bias. */
static void run_case_s16(tml_rng *r, int index)
{
    const int32_t batches = tml_rng_range(r, 1, 3);
    const int32_t depth = k_sizes[tml_rng_range(r, 0, 6)];
    const int32_t units = k_sizes[tml_rng_range(r, 0, 5)];
    const int bias_kind = tml_rng_range(r, 0, 2); /* 0: int64, 1: int32, 2: none */
    const int per_channel = tml_rng_range(r, 0, 1);
    const int32_t w_zp = per_channel || tml_rng_range(r, 0, 2) != 0 ? 0 : tml_rng_range(r, -10, 10);
    int32_t lo, hi;
    tml_rng_act_range_s16(r, &lo, &hi);
    int16_t *in = (int16_t *)malloc(sizeof(int16_t) * (size_t)batches * depth);
    int8_t *w = (int8_t *)malloc((size_t)units * depth);
    int64_t *bias64 = (int64_t *)malloc(sizeof(int64_t) * (size_t)units);
    int32_t *bias32 = (int32_t *)malloc(sizeof(int32_t) * (size_t)units);
    int32_t *mult = (int32_t *)malloc(sizeof(int32_t) * (size_t)units);
    int32_t *shift = (int32_t *)malloc(sizeof(int32_t) * (size_t)units);
    int16_t *expected = (int16_t *)malloc(sizeof(int16_t) * (size_t)batches * units);
    int16_t *actual = (int16_t *)malloc(sizeof(int16_t) * (size_t)batches * units);
    tml_rng_fill_s16(r, in, (size_t)batches * depth, 10);
    tml_rng_fill_s8(r, w, (size_t)units * depth, 10);
    for (int32_t u = 0; u < units; u++) {
        bias64[u] = (int64_t)tml_rng_range(r, -(1 << 30), 1 << 30) * tml_rng_range(r, 1, 8);
        bias32[u] = tml_rng_range(r, -(1 << 24), 1 << 24);
    }
    tml_rng_multipliers_s16(r, per_channel ? units : 1, mult, shift);
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t u = 0; u < units; u++) {
            int64_t acc = 0;
            for (int32_t d = 0; d < depth; d++) {
                acc += (int64_t)(w[u * depth + d] - w_zp) * in[b * depth + d];
            }
            const int32_t qi = per_channel ? u : 0;
            const int32_t v = bias_kind == 0 ? tml_ref_requantize_i64(acc + bias64[u], mult[qi], shift[qi])
                                             : tml_ref_requantize(tml_ref_wrap32(acc + (bias_kind == 1 ? bias32[u] : 0)),
                                                                  mult[qi], shift[qi]);
            expected[b * units + u] = (int16_t)tml_ref_clamp(v, lo, hi);
        }
    }
    tml_fully_connected_params p = {0, -w_zp, 0, lo, hi, per_channel};
    tml_per_channel_quant q = {mult, shift};
    memset(actual, 0x5A, sizeof(int16_t) * (size_t)batches * units);
    tml_status st = bias_kind == 0
                        ? tml_fully_connected_s16(&p, &q, batches, depth, units, in, w, bias64, actual, NULL)
                        : tml_fully_connected_s16_bias32(&p, &q, batches, depth, units, in, w,
                                                         bias_kind == 1 ? bias32 : NULL, actual, NULL);
    int ok = TML_CHECK(st == TML_OK, "status %d", (int)st);
    char label[200];
    snprintf(label, sizeof(label), "fc s16 case %d: b %d depth %d units %d per_channel %d bias %s w_zp %d act [%d,%d]",
             index, batches, depth, units, per_channel, bias_kind == 0 ? "int64" : bias_kind == 1 ? "int32" : "none",
             w_zp, lo, hi);
    ok &= tml_test_compare_s16(label, expected, actual, (size_t)batches * units);
    ok &= TML_CHECK(tml_fully_connected_s16(&p, &q, batches, depth, units, in, w, NULL, actual, NULL) ==
                        TML_ERROR_ARGUMENT,
                    "int64 path without bias");
    p.output_offset = 1;
    ok &= TML_CHECK(tml_fully_connected_s16_bias32(&p, &q, batches, depth, units, in, w, NULL, actual, NULL) ==
                        TML_ERROR_ARGUMENT,
                    "int16 output offset");
    tml_test_record(ok, label);
    free(in);
    free(w);
    free(bias64);
    free(bias32);
    free(mult);
    free(shift);
    free(expected);
    free(actual);
}

static void argument_checks(void)
{
    int32_t m = 1 << 30, s = 0;
    tml_per_channel_quant q = {&m, &s};
    tml_fully_connected_params p = {0, 0, 0, -128, 127, 0};
    int8_t in[2] = {0}, w[2] = {0}, out[1];
    int ok = TML_CHECK(tml_fully_connected_s8(&p, &q, 0, 2, 1, in, w, NULL, out, NULL) == TML_ERROR_ARGUMENT, "batches");
    p.per_channel = 2;
    ok &= TML_CHECK(tml_fully_connected_s8(&p, &q, 1, 2, 1, in, w, NULL, out, NULL) == TML_ERROR_ARGUMENT, "flag");
    p.per_channel = 0;
    p.activation_min = 5;
    p.activation_max = 4;
    ok &= TML_CHECK(tml_fully_connected_s8(&p, &q, 1, 2, 1, in, w, NULL, out, NULL) == TML_ERROR_ARGUMENT, "clamp");
    tml_test_record(ok, "fc argument checks");
}

int main(void)
{
    tml_rng r = tml_rng_seed(0xC0DE0003u);
    argument_checks();
    for (int i = 0; i < 2000; i++) {
        run_case(&r, i);
    }
    for (int i = 0; i < 800; i++) {
        run_case_s16(&r, i);
    }
    return TML_TEST_SUMMARY("test_fully_connected");
}
