/* SPDX-License-Identifier: Apache-2.0 */
/* abi.c: ABI version of the kernel library, checked by the host at first use. */
#include "tml_kernels.h"

TML_API int32_t tml_abi_version(void)
{
    return TML_ABI_VERSION;
}
