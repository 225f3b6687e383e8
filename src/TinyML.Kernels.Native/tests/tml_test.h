/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tml_test.h: tiny header-only helpers for the kernel tests (CTest executables).
 *
 *   - a seeded xorshift32 generator (the same one that made the conformance vectors in shared/ops);
 *   - tml_test_quantize_multiplier: TFLM's QuantizeMultiplier from a double (frexp, round half away from zero,
 *     2^31 overflow, shift < -31 flushed to zero), and the SmallerThanOneExp / GreaterThanOne variants;
 *   - bit-exact comparisons that print every mismatching index with expected and actual values;
 *   - pass/fail counting and a one-line summary (TML_TEST_SUMMARY returns the process exit code);
 *   - access to the shared/ conformance data (TML_SHARED_DIR, else ../shared beside the repository): paths,
 *     whole-file reads, TML_REQUIRE_SHARED (a missing folder fails) and the shared/ops vector loop.
 *
 * Every test file includes it once; functions are static inline, so unused ones do not warn.
 */
#ifndef TML_TEST_H
#define TML_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- counters ---------------------------------------------------------------------------------------- */

static int tml_test_cases_run = 0;
static int tml_test_cases_failed = 0;
static int tml_test_checks_failed = 0;

/* Records one test case result; `label` is printed on failure. */
static inline void tml_test_record(int ok, const char *label)
{
    tml_test_cases_run++;
    if (!ok) {
        tml_test_cases_failed++;
        printf("FAIL: %s\n", label);
    }
}

/* Checks a condition, printing the location and message on failure. Returns the condition. */
#define TML_CHECK(cond, ...)                                                                                   \
    ((cond) ? 1                                                                                                \
            : (tml_test_checks_failed++, printf("CHECK FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond),        \
               printf(__VA_ARGS__), printf("\n"), 0))

/* Prints the one-line summary and evaluates to the process exit code (0 when everything passed). */
#define TML_TEST_SUMMARY(name)                                                                                 \
    (printf("%s: %d cases, %d failed, %d check failures -> %s\n", (name), tml_test_cases_run,                  \
            tml_test_cases_failed, tml_test_checks_failed,                                                     \
            (tml_test_cases_failed == 0 && tml_test_checks_failed == 0) ? "PASS" : "FAIL"),                    \
     (tml_test_cases_failed == 0 && tml_test_checks_failed == 0) ? 0 : 1)

/* ---- random numbers ---------------------------------------------------------------------------------- */

typedef struct {
    uint32_t state;
} tml_rng;

/* Seeds like the conformance generator: state = seed * 0x9E3779B9 mod 2^32 (0 is replaced, xorshift needs !=0). */
static inline tml_rng tml_rng_seed(uint32_t seed)
{
    tml_rng r;
    r.state = seed * 0x9E3779B9u;
    if (r.state == 0) {
        r.state = 0x12345678u;
    }
    return r;
}

/* Next 32-bit value of xorshift32 (x ^= x<<13; x ^= x>>17; x ^= x<<5). */
static inline uint32_t tml_rng_next(tml_rng *r)
{
    uint32_t x = r->state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->state = x;
    return x;
}

/* Uniform integer in [lo, hi] (inclusive). */
static inline int32_t tml_rng_range(tml_rng *r, int32_t lo, int32_t hi)
{
    uint32_t span = (uint32_t)((int64_t)hi - (int64_t)lo + 1);
    if (span == 0) {
        return (int32_t)tml_rng_next(r);
    }
    return (int32_t)((int64_t)lo + (int64_t)(tml_rng_next(r) % span));
}

/* Uniform double in [lo, hi). */
static inline double tml_rng_double(tml_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * ((double)tml_rng_next(r) / 4294967296.0);
}

/* Uniform float in [lo, hi). */
static inline float tml_rng_float(tml_rng *r, float lo, float hi)
{
    return (float)tml_rng_double(r, lo, hi);
}

/* Fills an int8 buffer. With probability sat_percent/100 the whole buffer is saturated (-128/127 only). */
static inline void tml_rng_fill_s8(tml_rng *r, int8_t *p, size_t n, int sat_percent)
{
    int saturate = tml_rng_range(r, 0, 99) < sat_percent;
    for (size_t i = 0; i < n; i++) {
        if (saturate) {
            p[i] = (tml_rng_next(r) & 1u) ? (int8_t)127 : (int8_t)-128;
        } else {
            p[i] = (int8_t)tml_rng_range(r, -128, 127);
        }
    }
}

/* Fills an int32 buffer with values in [lo, hi]. */
static inline void tml_rng_fill_s32(tml_rng *r, int32_t *p, size_t n, int32_t lo, int32_t hi)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = tml_rng_range(r, lo, hi);
    }
}

/* Fills a float buffer with values in [lo, hi). */
static inline void tml_rng_fill_f32(tml_rng *r, float *p, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = tml_rng_float(r, lo, hi);
    }
}

/* ---- quantization reference (TFLM quantization_util.cc, written independently) ---------------------------- */

/*
 * TFLM's QuantizeMultiplier: real = q * 2^shift with q in [0.5, 1) (frexp); multiplier = round(q * 2^31) with
 * ties away from zero; q rounding up to 2^31 is halved and the shift bumped; shift < -31 flushes to 0/0.
 * (Double rounding build: no clamp of shift > 30.)
 */
static inline void tml_test_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
    if (real == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return;
    }
    int e = 0;
    double q = frexp(real, &e);
    int64_t q_fixed = (int64_t)round(q * (double)(1LL << 31));
    if (q_fixed == (1LL << 31)) {
        q_fixed /= 2;
        e++;
    }
    if (e < -31) {
        e = 0;
        q_fixed = 0;
    }
    *multiplier = (int32_t)q_fixed;
    *shift = e;
}

/* TFLM's QuantizeMultiplierSmallerThanOneExp: real in (0, 1); the shift returned is <= 0. */
static inline void tml_test_quantize_multiplier_smaller_than_one(double real, int32_t *multiplier, int32_t *shift)
{
    tml_test_quantize_multiplier(real, multiplier, shift);
}

/* TFLM's QuantizeMultiplierGreaterThanOne: real > 1; the shift returned is >= 0. */
static inline void tml_test_quantize_multiplier_greater_than_one(double real, int32_t *multiplier, int32_t *shift)
{
    tml_test_quantize_multiplier(real, multiplier, shift);
}

/* ---- bit-exact comparison -------------------------------------------------------------------------------- */

/* Element types of the integer comparisons. */
typedef enum { TML_TEST_S8, TML_TEST_S16, TML_TEST_S32, TML_TEST_U8 } tml_test_int_type;

/* Element i of an integer buffer of the given type, widened. */
static inline long long tml_test_int_at(const void *p, tml_test_int_type type, size_t i)
{
    switch (type) {
    case TML_TEST_S8:
        return ((const int8_t *)p)[i];
    case TML_TEST_S16:
        return ((const int16_t *)p)[i];
    case TML_TEST_S32:
        return ((const int32_t *)p)[i];
    default:
        return ((const uint8_t *)p)[i];
    }
}

/* Ends a comparison: prints how many of the n elements differed, if any. Returns 1 when none did. */
static inline int tml_test_mismatch_summary(const char *label, size_t bad, size_t n)
{
    if (bad) {
        printf("%s: %zu of %zu elements differ\n", label, bad, n);
    }
    return bad == 0;
}

/* Compares integer buffers of the given type; prints every mismatching index. Returns 1 when identical. */
static inline int tml_test_compare_int(const char *label, tml_test_int_type type, const void *expected,
                                       const void *actual, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const long long e = tml_test_int_at(expected, type, i);
        const long long a = tml_test_int_at(actual, type, i);
        if (e != a) {
            if (bad == 0) {
                printf("%s: mismatches:\n", label);
            }
            printf("  [%zu] expected %lld actual %lld\n", i, e, a);
            bad++;
        }
    }
    return tml_test_mismatch_summary(label, bad, n);
}

/* Compares int8 buffers; prints every mismatching index. Returns 1 when identical. */
static inline int tml_test_compare_s8(const char *label, const int8_t *expected, const int8_t *actual, size_t n)
{
    return tml_test_compare_int(label, TML_TEST_S8, expected, actual, n);
}

/* Compares int16 buffers; prints every mismatching index. Returns 1 when identical. */
static inline int tml_test_compare_s16(const char *label, const int16_t *expected, const int16_t *actual, size_t n)
{
    return tml_test_compare_int(label, TML_TEST_S16, expected, actual, n);
}

/* Compares int32 buffers; prints every mismatching index. Returns 1 when identical. */
static inline int tml_test_compare_s32(const char *label, const int32_t *expected, const int32_t *actual, size_t n)
{
    return tml_test_compare_int(label, TML_TEST_S32, expected, actual, n);
}

/* Compares raw bytes; prints every mismatching index. Returns 1 when identical. */
static inline int tml_test_compare_u8(const char *label, const uint8_t *expected, const uint8_t *actual, size_t n)
{
    return tml_test_compare_int(label, TML_TEST_U8, expected, actual, n);
}

/*
 * Compares float buffers, bit for bit when `exact` (NaNs compare by bits), else within
 * |e - a| <= atol + rtol * |e|; prints every mismatching index. Returns 1 when all match.
 */
static inline int tml_test_compare_f32(const char *label, const float *expected, const float *actual, size_t n,
                                       int exact, float atol, float rtol)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        int same;
        if (exact) {
            uint32_t a, b;
            memcpy(&a, &expected[i], 4);
            memcpy(&b, &actual[i], 4);
            same = a == b;
        } else {
            const float d = fabsf(expected[i] - actual[i]);
            same = d <= atol + rtol * fabsf(expected[i]);
        }
        if (!same) {
            if (bad == 0) {
                printf("%s: mismatches:\n", label);
            }
            printf("  [%zu] expected %.9g actual %.9g\n", i, (double)expected[i], (double)actual[i]);
            bad++;
        }
    }
    return tml_test_mismatch_summary(label, bad, n);
}

/* Compares float buffers bit for bit (NaNs compare by bits); prints every mismatching index. */
static inline int tml_test_compare_f32_exact(const char *label, const float *expected, const float *actual, size_t n)
{
    return tml_test_compare_f32(label, expected, actual, n, 1, 0.0f, 0.0f);
}

/* Compares float buffers within |e - a| <= atol + rtol * |e|; prints every mismatching index. */
static inline int tml_test_compare_f32_tol(const char *label, const float *expected, const float *actual, size_t n,
                                           float atol, float rtol)
{
    return tml_test_compare_f32(label, expected, actual, n, 0, atol, rtol);
}

/* ---- reference fixed-point arithmetic (independent of src/common.h) ------------------------------------- */

/*
 * gemmlowp's SaturatingRoundingDoublingHighMul, written as floor((a*b + 2^30) / 2^31) (ties toward +infinity),
 * saturated to int32 (only INT32_MIN * INT32_MIN overflows).
 */
static inline int32_t tml_ref_srdhm(int32_t a, int32_t b)
{
    int64_t r = ((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31; /* arithmetic shift = floor */
    if (r > INT32_MAX) {
        r = INT32_MAX;
    }
    return (int32_t)r;
}

/* gemmlowp's RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero (sign-magnitude form). */
static inline int32_t tml_ref_rdbpot(int32_t x, int32_t e)
{
    if (e == 0) {
        return x;
    }
    int64_t m = x < 0 ? -(int64_t)x : (int64_t)x;
    int64_t q = (m + ((int64_t)1 << (e - 1))) >> e;
    return (int32_t)(x < 0 ? -q : q);
}

/* x wrapped to int32 (two's complement). */
static inline int32_t tml_ref_wrap32(int64_t x)
{
    uint32_t u = (uint32_t)((uint64_t)x & 0xFFFFFFFFu);
    return u >= 0x80000000u ? (int32_t)((int64_t)u - 4294967296LL) : (int32_t)u;
}

/* TFLM MultiplyByQuantizedMultiplier (double rounding): left shift (wrapping), SRDHM, rounding right shift. */
static inline int32_t tml_ref_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    int32_t left = shift > 0 ? shift : 0;
    int32_t right = shift > 0 ? 0 : -shift;
    int32_t shifted = tml_ref_wrap32((int64_t)x * ((int64_t)1 << left));
    return tml_ref_rdbpot(tml_ref_srdhm(shifted, multiplier), right);
}

/* round(n / 2^k), ties away from zero, for k >= 0 (on int64). */
static inline int64_t tml_ref_round_shift(int64_t n, int k)
{
    int64_t d, q, r;
    if (k == 0) {
        return n;
    }
    d = (int64_t)1 << k;
    q = n / d; /* truncates toward zero */
    r = n % d;
    if (2 * (r < 0 ? -r : r) >= d) {
        q += n < 0 ? -1 : 1;
    }
    return q;
}

/* floor(n / 2^k) for k in [1, 62], without relying on the right shift of negative numbers. */
static inline int64_t tml_ref_floor_shift(int64_t n, int k)
{
    const int64_t d = (int64_t)1 << k;
    int64_t q = n / d;
    if (n % d != 0 && n < 0) {
        q -= 1;
    }
    return q;
}

/*
 * Double-rounding requantization by multiplier * 2^(shift - 31), written from the definitions with 64-bit
 * divisions (a second formulation of what tml_ref_mbqm computes with shifts):
 *   step 1 (high multiply): floor((x * 2^max(shift,0) * multiplier + 2^30) / 2^31), i.e. round to nearest with
 *          ties toward +infinity (-48.5 -> -48, 48.5 -> 49); INT32_MIN * INT32_MIN saturates;
 *   step 2 (right shift): round(. / 2^max(-shift, 0)) with ties away from zero.
 */
static inline int32_t tml_ref_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int64_t xl = (int64_t)x * ((int64_t)1 << (shift > 0 ? shift : 0));
    const int64_t x32 = (int64_t)(int32_t)(uint32_t)(uint64_t)xl; /* TFLM wraps the shifted value to 32 bits */
    int64_t hi;
    if (x32 == INT32_MIN && multiplier == INT32_MIN) {
        hi = INT32_MAX;
    } else {
        hi = tml_ref_floor_shift(x32 * (int64_t)multiplier + ((int64_t)1 << 30), 31);
    }
    return (int32_t)tml_ref_round_shift(hi, shift < 0 ? -shift : 0);
}

/* Clamp to [lo, hi]. */
static inline int32_t tml_ref_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* TFLM ComputeOutSize: SAME (same_padding != 0) or VALID output extent. */
static inline int32_t tml_ref_out_size(int same_padding, int32_t in, int32_t filter, int32_t stride, int32_t dilation)
{
    int32_t eff = (filter - 1) * dilation + 1;
    if (same_padding) {
        return (in + stride - 1) / stride;
    }
    return (in + stride - eff) / stride;
}

/* TFLM ComputePaddingWithOffset: the leading (top/left) padding; total odd padding puts the extra at the end. */
static inline int32_t tml_ref_padding(int32_t stride, int32_t dilation, int32_t in, int32_t filter, int32_t out)
{
    int32_t eff = (filter - 1) * dilation + 1;
    int32_t total = (out - 1) * stride + eff - in;
    if (total < 0) {
        total = 0;
    }
    return total / 2;
}

/* A random window axis: SAME or VALID drawn at random, the output extent and its leading padding as TFLM gives them
 * (0 when VALID leaves no output). */
static inline int32_t tml_rng_window_axis(tml_rng *r, int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t *pad)
{
    const int same = tml_rng_range(r, 0, 1);
    const int32_t out = tml_ref_out_size(same, in, k, stride, dilation);
    *pad = same ? tml_ref_padding(stride, dilation, in, k, out) : 0;
    return out > 0 ? out : 0;
}

/*
 * Output extent and top/left padding of a 2-D window as the compiler derives them (tml_ref_out_size and
 * tml_ref_padding on each axis). A VALID window (*same == 0) that does not fit the input falls back to SAME
 * (*same becomes 1); VALID has no padding. Pooling passes dilations of 1.
 */
static inline void tml_ref_window_2d(int *same, int32_t h, int32_t w, int32_t kh, int32_t kw, int32_t sh, int32_t sw,
                                     int32_t dh, int32_t dw, int32_t *oh, int32_t *ow, int32_t *ph, int32_t *pw)
{
    *oh = tml_ref_out_size(*same, h, kh, sh, dh);
    *ow = tml_ref_out_size(*same, w, kw, sw, dw);
    if (*oh <= 0 || *ow <= 0) {
        *same = 1;
        *oh = tml_ref_out_size(1, h, kh, sh, dh);
        *ow = tml_ref_out_size(1, w, kw, sw, dw);
    }
    *ph = *same ? tml_ref_padding(sh, dh, h, kh, *oh) : 0;
    *pw = *same ? tml_ref_padding(sw, dw, w, kw, *ow) : 0;
}

/* Advances the row-major index idx[0..rank) over dims like an odometer; returns 0 after the last index (idx is
 * then all zeros again). */
static inline int tml_next_index(int32_t *idx, const int32_t *dims, int32_t rank)
{
    for (int32_t k = rank - 1; k >= 0; k--) {
        if (++idx[k] < dims[k]) {
            return 1;
        }
        idx[k] = 0;
    }
    return 0;
}

/* A random real multiplier: 10^u with u uniform in [lo_exp10, hi_exp10). */
static inline double tml_rng_scale(tml_rng *r, double lo_exp10, double hi_exp10)
{
    return pow(10.0, tml_rng_double(r, lo_exp10, hi_exp10));
}

/* ---- the shared/ conformance data ------------------------------------------------------------------------ */

/*
 * Writes the path of <shared>/<rel> to buf (rel NULL: the folder itself). shared/ is $TML_SHARED_DIR when set,
 * else the ../shared folder beside the repository, derived from this header's path (tests/ -> ../../../../shared).
 * Returns buf, or NULL when the path cannot be formed or does not fit.
 */
static inline const char *tml_shared_path(char *buf, size_t size, const char *rel)
{
    const char *env = getenv("TML_SHARED_DIR");
    const char *sep = rel != NULL ? "/" : "";
    int n;
    if (rel == NULL) {
        rel = "";
    }
    if (env != NULL && env[0] != '\0') {
        n = snprintf(buf, size, "%s%s%s", env, sep, rel);
    } else {
        const char *file = __FILE__;
        const char *slash = strrchr(file, '/');
        const size_t len = slash != NULL ? (size_t)(slash - file) : 0;
        if (len == 0 || len > 900) {
            return NULL;
        }
        n = snprintf(buf, size, "%.*s/../../../../shared%s%s", (int)len, file, sep, rel);
    }
    return n >= 0 && (size_t)n < size ? buf : NULL;
}

/* Reads the file at path (NULL: none) into a malloc'd buffer *data that the caller frees. Returns its size, or
 * -1 when it cannot be read (*data is then NULL). */
static inline long tml_read_file(const char *path, void **data)
{
    FILE *f;
    long n;
    *data = NULL;
    if (path == NULL || (f = fopen(path, "rb")) == NULL) {
        return -1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)(n > 0 ? n : 1));
    if (*data == NULL || fread(*data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*data);
        *data = NULL;
        return -1;
    }
    fclose(f);
    return n;
}

/* tml_read_file of <shared>/<rel>. */
static inline long tml_read_shared_file(const char *rel, void **data)
{
    char path[1400];
    return tml_read_file(tml_shared_path(path, sizeof path, rel), data);
}

/* 1 when <shared>/<rel> exists (can be opened). */
static inline int tml_shared_exists(const char *rel)
{
    char path[1400];
    const char *p = tml_shared_path(path, sizeof path, rel);
    FILE *f = p != NULL ? fopen(p, "rb") : NULL;
    if (f == NULL) {
        return 0;
    }
    fclose(f);
    return 1;
}

/*
 * Evaluates to 1 when <shared>/<probe> exists; otherwise fails a check and evaluates to 0. A missing shared/
 * folder is a failure, never a skip: the golden conformance checks would silently not run.
 */
#define TML_REQUIRE_SHARED(probe)                                                                              \
    (tml_shared_exists(probe) ||                                                                               \
     TML_CHECK(0, "shared/%s not found (set TML_SHARED_DIR): the golden conformance checks cannot run", (probe)))

/*
 * Runs one shared/ops case: the vectors input_<k>.bin -> output_<k>.bin for k = 1..3 (a case has at least one).
 * `run` computes the output for `input` with `params`, checks the sizes (in bytes) and compares the result with
 * `expected` (printing mismatches under `label`); it returns 1 when they match.
 */
typedef int (*tml_golden_run_fn)(const void *params, const char *label, const void *input, long input_size,
                                 const void *expected, long expected_size);

/* Records one test case per vector of shared/ops/<name> (a failed one when the case has none) and returns the
 * number of vectors found. */
static inline int tml_golden_op_case(const char *name, tml_golden_run_fn run, const void *params)
{
    int found = 0;
    for (int k = 1; k <= 3; k++) {
        char rel[256], label[128];
        void *in = NULL, *expected = NULL;
        snprintf(rel, sizeof rel, "ops/%s/input_%d.bin", name, k);
        const long n_in = tml_read_shared_file(rel, &in);
        if (n_in < 0) {
            continue;
        }
        snprintf(rel, sizeof rel, "ops/%s/output_%d.bin", name, k);
        const long n_out = tml_read_shared_file(rel, &expected);
        snprintf(label, sizeof label, "golden %s vector %d", name, k);
        tml_test_record(n_out >= 0 && run(params, label, in, n_in, expected, n_out), label);
        found++;
        free(in);
        free(expected);
    }
    if (found == 0) {
        tml_test_record(0, name);
        printf("  (case %s has no vectors)\n", name);
    }
    return found;
}

#endif /* TML_TEST_H */
