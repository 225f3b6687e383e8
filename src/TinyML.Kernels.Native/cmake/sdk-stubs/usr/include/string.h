/* SPDX-License-Identifier: Apache-2.0 */
/* The part of <string.h> the kernels use, for the builds without a C library SDK (cmake/sdk-stubs/README.md). */
#ifndef TML_STUB_STRING_H
#define TML_STUB_STRING_H
#include <stddef.h>
void *memcpy(void *restrict, const void *restrict, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
#endif
