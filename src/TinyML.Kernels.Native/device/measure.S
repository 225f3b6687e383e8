/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure.S: int32_t tml_measure(int32_t (*fn)(void *), void *arg, tml_measurement *out)
 *
 * Counts the instructions of fn(arg) with SysTick, synchronised to tick edges at both ends. Hand-written so
 * that the instructions between the two edge-detecting reads are known exactly on every core and at every
 * optimisation level. Thumb-1 only (runs on Armv6-M as well).
 *
 * Let s be the read of SYST_CVR that first sees a new value in loop 1 and e the read that first sees a new
 * value in loop 2. From s (counted) to e (not counted) the core executes, in order:
 *   s, cmp, beq, ldr, str, str, mov, str, mov, blx          10
 *   fn(arg), its return included                             I
 *   mov, ldr, movs                                           3
 *   spins - 1 iterations of loop 2 (adds, ldr, cmp, beq)     4 * (spins - 1)
 *   the adds of the last iteration                           1
 * so e - s = I + 4 * spins + 10 instructions (TML_MEASURE_OVERHEAD = 10). The edges before s and e are a whole
 * number of ticks apart, and each read sees its edge 0..2 (loop 1) or 0..3 (loop 2) instructions late, so
 *   I = ticks * (instructions per tick) - 4 * spins - 10, within -2..+3.
 */
    .syntax unified
    .thumb
    .text

    .equ SYST_CVR, 0xE000E018

    .section .text.tml_measure, "ax", %progbits
    .global tml_measure
    .type tml_measure, %function
    .thumb_func
tml_measure:
    push    {r4-r7, lr}
    mov     r4, r0              @ fn
    mov     r5, r1              @ arg
    mov     r6, r2              @ out
    ldr     r7, =SYST_CVR
    ldr     r3, =tml_systick_wraps
    ldr     r1, [r7]            @ the current value
1:  ldr     r0, [r7]            @ spin until it changes: just after a tick edge
    cmp     r0, r1
    beq     1b
    ldr     r1, [r3]            @ wraps at the start
    str     r0, [r6, #0]        @ out->start_value
    str     r1, [r6, #4]        @ out->start_wraps
    mov     r0, sp
    str     r0, [r6, #20]       @ out->sp_at_call
    mov     r0, r5
    blx     r4                  @ fn(arg)
    mov     r5, r0              @ fn's result
    ldr     r1, [r7]            @ the current value
    movs    r2, #0
2:  adds    r2, #1              @ spin until it changes, counting iterations
    ldr     r0, [r7]
    cmp     r0, r1
    beq     2b
    ldr     r3, =tml_systick_wraps
    ldr     r1, [r3]            @ wraps at the end
    str     r0, [r6, #8]        @ out->end_value
    str     r1, [r6, #12]       @ out->end_wraps
    str     r2, [r6, #16]       @ out->spins
    mov     r0, r5
    pop     {r4-r7, pc}
    .ltorg
    .size tml_measure, . - tml_measure

/*
 * void tml_calibration_loop(uint32_t n): exactly 2 * n + 1 instructions for n >= 1 (subs, bne per iteration,
 * then bx lr), the known workload of the calibration (calibrate.c).
 */
    .section .text.tml_calibration_loop, "ax", %progbits
    .global tml_calibration_loop
    .type tml_calibration_loop, %function
    .thumb_func
tml_calibration_loop:
3:  subs    r0, #1
    bne     3b
    bx      lr
    .size tml_calibration_loop, . - tml_calibration_loop

/*
 * void tml_stack_paint(void): fills the free stack, [__stack_limit, SP), with 0xC5A5C5A5 and records SP in
 * tml_stack_paint_top. In assembly because a compiled version may push its own frame after reading SP and
 * then paint over it.
 */
    .section .text.tml_stack_paint, "ax", %progbits
    .global tml_stack_paint
    .type tml_stack_paint, %function
    .thumb_func
tml_stack_paint:
    mov     r2, sp
    ldr     r1, =tml_stack_paint_top
    str     r2, [r1]
    ldr     r0, =__stack_limit
    ldr     r3, =0xC5A5C5A5
4:  cmp     r0, r2
    bhs     5f
    str     r3, [r0]
    adds    r0, #4
    b       4b
5:  bx      lr
    .ltorg
    .size tml_stack_paint, . - tml_stack_paint
