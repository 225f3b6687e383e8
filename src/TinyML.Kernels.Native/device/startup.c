/* SPDX-License-Identifier: Apache-2.0 */
/*
 * startup.c: vector table, reset handler, fault reporting, the SysTick wrap counter and the stack low-water scan
 * for the bare-metal harness (the painting itself is in measure.S). The linker script (tml_sections.ld) provides
 * the symbols used here.
 */
#include <string.h>

#include "tml_device.h"

int main(void);

extern uint32_t __data_load[];
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern uint32_t __stack_limit[];
extern uint32_t __stack_top[];

#define REG32(address) (*(volatile uint32_t *)(address))
#define SCB_CPACR REG32(0xE000ED88u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)

/* Cores with mainline fault status registers (Armv7-M, Armv8-M Mainline, Armv8.1-M). */
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define TML_HAS_CFSR 1
#endif

void Reset_Handler(void);
void tml_fault_entry(void);
void SysTick_Handler(void);

/* The first 16 entries: initial stack pointer and the system exceptions; the harness uses no external IRQs. */
__attribute__((section(".vectors"), used)) static void (*const tml_vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top,
    Reset_Handler,
    tml_fault_entry, /* NMI */
    tml_fault_entry, /* HardFault */
    tml_fault_entry, /* MemManage */
    tml_fault_entry, /* BusFault */
    tml_fault_entry, /* UsageFault */
    tml_fault_entry, /* SecureFault (Armv8-M) */
    0, 0, 0,
    tml_fault_entry, /* SVCall */
    tml_fault_entry, /* DebugMonitor */
    0,
    tml_fault_entry, /* PendSV */
    SysTick_Handler,
};

void Reset_Handler(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* Full access to CP10 and CP11 (the FPU, and MVE on Armv8.1-M) before any floating-point instruction. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(__data_start, __data_load, (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start));
    memset(__bss_start, 0, (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));
    tml_sh_exit(main());
}

/* ---- faults -------------------------------------------------------------------------------------------- */

static void tml_hex(char *to, uint32_t value)
{
    int i;
    for (i = 7; i >= 0; i--) {
        uint32_t nibble = value & 0xFu;
        to[i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
        value >>= 4;
    }
    to[8] = '\0';
}

/* Called by tml_fault_entry with the stacked exception frame and the exception number. */
void tml_fault_report(const uint32_t *frame, uint32_t ipsr) __attribute__((noreturn, used));
void tml_fault_report(const uint32_t *frame, uint32_t ipsr)
{
    char hex[9];
    tml_sh_print("tml-device: fault, exception ");
    tml_hex(hex, ipsr & 0x1FFu);
    tml_sh_print(hex);
    tml_sh_print(" pc ");
    tml_hex(hex, frame[6]);
    tml_sh_print(hex);
#ifdef TML_HAS_CFSR
    tml_sh_print(" cfsr ");
    tml_hex(hex, SCB_CFSR);
    tml_sh_print(hex);
#endif
    tml_sh_print("\n");
    tml_sh_exit(127);
}

/* The harness runs on MSP only, so the exception frame is at MSP. */
__attribute__((naked)) void tml_fault_entry(void)
{
    __asm__ volatile(
        "mrs r0, msp\n\t"
        "mrs r1, ipsr\n\t"
        "ldr r2, =tml_fault_report\n\t"
        "bx r2\n\t"
        ".ltorg\n\t");
}

/* ---- SysTick ------------------------------------------------------------------------------------------- */

volatile uint32_t tml_systick_wraps;

void SysTick_Handler(void)
{
    tml_systick_wraps++;
}

void tml_counter_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0; /* any write clears the counter; it reloads on the next tick */
    tml_systick_wraps = 0;
    SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = processor clock */
}

/* ---- stack painting ------------------------------------------------------------------------------------ */

/* tml_stack_paint (measure.S) fills [__stack_limit, SP) with this pattern and records SP here. */
#define TML_STACK_PATTERN 0xC5A5C5A5u

uint32_t *tml_stack_paint_top;

uint32_t tml_stack_low_water(void)
{
    const uint32_t *p = __stack_limit;
    while (p < tml_stack_paint_top && *(volatile const uint32_t *)p == TML_STACK_PATTERN) p++;
    return (uint32_t)(uintptr_t)p;
}
