/* SPDX-License-Identifier: Apache-2.0 */
/*
 * win_arm64_crt.c: what a C runtime's start-up objects would give the win-arm64 DLL, which links none (there is no
 * MinGW for arm64 on Debian; cmake/sdk-stubs/README.md): the DLL entry point, and the stack probe the compiler calls
 * before a frame larger than a page (the host SIMD paths keep 16 KB rows on the stack).
 */
#include "tml_arch.h"

#if defined(_WIN32) && TML_ARCH_AARCH64 && defined(TML_WINDOWS_NO_CRT)
/* Nothing to set up or tear down: the kernels keep no state but the host path, chosen at first use. */
int DllMainCRTStartup(void *instance, unsigned long reason, void *reserved);
int DllMainCRTStartup(void *instance, unsigned long reason, void *reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return 1;
}

/* Windows grows a thread's stack one guard page at a time, so a frame of x15 * 16 bytes must touch every page it
 * spans, top down, before sp moves past them. The caller moves sp itself; this may change only x16 and x17. */
void __chkstk(void);
__attribute__((naked)) void __chkstk(void)
{
    __asm__("mov x17, sp\n\t"
            "sub x16, x17, x15, lsl #4\n\t" /* the lowest address of the new frame */
            "1:\n\t"
            "sub x17, x17, #4096\n\t"
            "cmp x17, x16\n\t"
            "b.lo 2f\n\t"
            "ldr xzr, [x17]\n\t"
            "b 1b\n\t"
            "2:\n\t"
            "ldr xzr, [x16]\n\t"
            "ret");
}
#endif
