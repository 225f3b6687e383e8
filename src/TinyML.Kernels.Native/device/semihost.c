/* SPDX-License-Identifier: Apache-2.0 */
/*
 * semihost.c: Arm semihosting (the "Semihosting for AArch32 and AArch64" specification) for M-profile cores:
 * the operation number in r0, a pointer to its parameter block in r1, then BKPT 0xAB; the result comes back
 * in r0. QEMU serves it with -semihosting-config enable=on,target=native, on the host's file system relative
 * to QEMU's working directory. Only what the harness needs: open, read, write, close, write0 and exit.
 */
#include "tml_device.h"

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

/* Mode indices of SYS_OPEN, as in ISO C fopen: 1 = "rb", 5 = "wb". */
#define SH_MODE_RB 1
#define SH_MODE_WB 5

static int32_t tml_sh_call(int32_t op, const void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uint32_t tml_strlen(const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

int32_t tml_sh_open(const char *path, int write)
{
    uint32_t block[3];
    block[0] = (uint32_t)(uintptr_t)path;
    block[1] = write ? SH_MODE_WB : SH_MODE_RB;
    block[2] = tml_strlen(path);
    return tml_sh_call(SYS_OPEN, block);
}

int32_t tml_sh_read(int32_t handle, void *to, uint32_t bytes)
{
    uint32_t block[3];
    block[0] = (uint32_t)handle;
    block[1] = (uint32_t)(uintptr_t)to;
    block[2] = bytes;
    /* SYS_READ returns the number of bytes NOT read. */
    return tml_sh_call(SYS_READ, block) == 0 ? 0 : -1;
}

int32_t tml_sh_write(int32_t handle, const void *from, uint32_t bytes)
{
    uint32_t block[3];
    block[0] = (uint32_t)handle;
    block[1] = (uint32_t)(uintptr_t)from;
    block[2] = bytes;
    /* SYS_WRITE returns the number of bytes NOT written. */
    return tml_sh_call(SYS_WRITE, block) == 0 ? 0 : -1;
}

void tml_sh_close(int32_t handle)
{
    uint32_t block[1];
    block[0] = (uint32_t)handle;
    (void)tml_sh_call(SYS_CLOSE, block);
}

void tml_sh_print(const char *text)
{
    (void)tml_sh_call(SYS_WRITE0, text);
}

void tml_sh_exit(int32_t code)
{
    uint32_t block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (uint32_t)code;
    (void)tml_sh_call(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}
