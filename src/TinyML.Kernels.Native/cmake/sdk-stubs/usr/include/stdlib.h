/* SPDX-License-Identifier: Apache-2.0 */
/* What clang's <mm_malloc.h> (included by <immintrin.h>) declares against, for the builds without a C library SDK
 * (cmake/sdk-stubs/README.md). The kernels allocate nothing. */
#ifndef TML_STUB_STDLIB_H
#define TML_STUB_STDLIB_H
#include <stddef.h>
void *malloc(size_t);
void free(void *);
int posix_memalign(void **, size_t, size_t);
#endif
