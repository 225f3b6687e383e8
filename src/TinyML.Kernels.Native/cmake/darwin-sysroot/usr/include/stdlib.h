/* SPDX-License-Identifier: Apache-2.0 */
/* What clang's <mm_malloc.h> (included by <immintrin.h>) declares against, for the macOS build without an SDK
 * (../README.md). The kernels allocate nothing. */
#ifndef TML_DARWIN_STDLIB_H
#define TML_DARWIN_STDLIB_H
#include <stddef.h>
void *malloc(size_t);
void free(void *);
int posix_memalign(void **, size_t, size_t);
#endif
