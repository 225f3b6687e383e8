/* SPDX-License-Identifier: Apache-2.0 */
/* arch.c: which kernel path this build of the library takes (tml_arch.h), so that a test can tell the fast
 * library from the reference one (tml_ref_arch_path). Not exported from the shared library. */
#include "tml_arch.h"

const char *tml_arch_path(void)
{
    return TML_PATH_NAME;
}
