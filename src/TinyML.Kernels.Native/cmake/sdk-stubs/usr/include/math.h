/* SPDX-License-Identifier: Apache-2.0 */
/* The part of <math.h> the kernels use, for the builds without a C library SDK (cmake/sdk-stubs/README.md). */
#ifndef TML_STUB_MATH_H
#define TML_STUB_MATH_H
float expf(float);
float expm1f(float);
float logf(float);
float roundf(float);
float tanhf(float);
float floorf(float);
float ceilf(float);
float sqrtf(float);
double floor(double);
double round(double);
#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#endif
