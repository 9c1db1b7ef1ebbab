/*
 * startup.c -- the smallest start for a Cortex-M4F image on QEMU's mps2-an386
 * board: the vector table, and a reset handler that turns the FPU on (the
 * model's code uses it from the first instruction), copies .data from flash
 * to RAM, and enters newlib's rdimon start-up (_start: zeroes .bss, sets up
 * semihosting for stdio, calls main, exits through semihosting).
 */
#include <stdint.h>

extern void _start(void);
extern char __stack_top[], __data_load[], __data_start[], __data_end[];

void Reset_Handler(void);
void Fault_Handler(void);

void Fault_Handler(void)
{
	for (;;) {
	}
}

void Reset_Handler(void)
{
	*(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;   /* CPACR: CP10 and CP11 on */
	__asm__ volatile("dsb\n\tisb");
	for (char *s = __data_load, *d = __data_start; d < __data_end;)
		*d++ = *s++;
	_start();
}

/* initial stack, reset, NMI, hard fault, memory, bus and usage faults */
__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
	(void (*)(void))(uintptr_t)__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
	Fault_Handler, Fault_Handler, Fault_Handler,
};
