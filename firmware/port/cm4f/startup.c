/*
 * Cortex-M4F start-up for a SpiNNaker2 PE, shared by the cm4f and qemu ports: the vector
 * table (section .vectors, placed at address 0 by pe.ld), Reset_Handler (FPU on, .data and
 * .bss set up, s2_port_init, main, s2_port_exit) and fault handlers that report the fault
 * through the port console and stop with status S2_PORT_EXIT_FAULT + exception number, so a
 * fault in a test fails the test instead of hanging it. No C++ constructors are run: pe.ld
 * asserts that there are none. Nothing here allocates.
 */
#include <stdint.h>

#include "cortex_m.h"
#include "port.h"

int main(void);

/* Provided by pe.ld. */
extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_top__[];

/* Number of device interrupt slots in the vector table. The PE's interrupt map is wired in a
 * later issue; until then every device interrupt lands in Default_Handler. */
#define S2_NUM_IRQ 64

_Noreturn void s2_c_start(void);

/*
 * Naked so that no compiler-generated code can touch an FPU register before CPACR grants
 * access: with -mfloat-abi=hard GCC may use s-registers even in integer code.
 */
__attribute__((naked, noreturn)) void Reset_Handler(void)
{
	__asm__ volatile("ldr r0, =0xE000ED88\n" /* CPACR */
	                 "ldr r1, [r0]\n"
	                 "orr r1, r1, #(0xF << 20)\n" /* CP10, CP11: full access */
	                 "str r1, [r0]\n"
	                 "dsb\n"
	                 "isb\n"
	                 "b s2_c_start\n");
}

_Noreturn void s2_c_start(void)
{
	/* The host loader (and QEMU's ELF loader) place .data at its run address already; copy
	 * only when an image is linked to load it elsewhere. */
	if (&__data_load__[0] != &__data_start__[0])
		for (uint32_t *d = __data_start__, *s = __data_load__; d < __data_end__;)
			*d++ = *s++;
	for (volatile uint32_t *b = __bss_start__; b < __bss_end__;)
		*b++ = 0;

	SCB_VTOR = 0;
	/* Report MemManage, BusFault and UsageFault by name rather than as HardFault, and trap
	 * integer division by zero as the host build does (SIGFPE) instead of yielding 0. */
	SCB_SHCSR |= SCB_SHCSR_FAULTS_ENA;
	SCB_CCR |= SCB_CCR_DIV_0_TRP;
	__asm__ volatile("dsb\n isb" ::: "memory");

	s2_port_init();
	s2_port_exit(main());
}

/* --- faults ---------------------------------------------------------------------------- */

/* " label=0x%08x" without stdio. */
static void put_reg(const char *label, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	char buf[11];
	buf[0] = '0';
	buf[1] = 'x';
	for (int i = 0; i < 8; i++)
		buf[2 + i] = hex[(v >> (28 - 4 * i)) & 0xF];
	buf[10] = 0;
	s2_port_puts(" ");
	s2_port_puts(label);
	s2_port_puts("=");
	s2_port_puts(buf);
}

static void put_dec(uint32_t v)
{
	char buf[11];
	int i = sizeof buf - 1;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	s2_port_puts(buf + i);
}

static const char *exception_name(uint32_t n)
{
	switch (n) {
	case 2:
		return "NMI";
	case 3:
		return "HardFault";
	case 4:
		return "MemManage";
	case 5:
		return "BusFault";
	case 6:
		return "UsageFault";
	case 11:
		return "SVCall";
	case 12:
		return "DebugMonitor";
	case 14:
		return "PendSV";
	case 15:
		return "SysTick";
	default:
		return n >= 16 ? "IRQ" : "reserved";
	}
}

/*
 * frame: the exception stack frame (r0-r3, r12, lr, pc, xpsr) on whichever stack was in use.
 * A fault while the stack pointer itself is bad locks the core up instead of getting here;
 * under ctest the test's timeout catches that.
 */
_Noreturn void s2_fault_report(const uint32_t *frame, uint32_t exc_return)
{
	uint32_t ipsr;
	__asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
	uint32_t exc = ipsr & 0x1FF;

	int status = S2_PORT_EXIT_FAULT + (int)exc;

	s2_port_puts("\n*** fault: ");
	s2_port_puts(exception_name(exc));
	s2_port_puts(" (exception ");
	put_dec(exc);
	s2_port_puts("), stopping with status ");
	put_dec((uint32_t)status);
	s2_port_puts("\n***");
	put_reg("pc", frame[6]);
	put_reg("lr", frame[5]);
	put_reg("xpsr", frame[7]);
	put_reg("sp", (uint32_t)(uintptr_t)frame);
	put_reg("exc_return", exc_return);
	s2_port_puts("\n***");
	put_reg("cfsr", SCB_CFSR);
	put_reg("hfsr", SCB_HFSR);
	put_reg("mmfar", SCB_MMFAR);
	put_reg("bfar", SCB_BFAR);
	put_reg("r0", frame[0]);
	put_reg("r1", frame[1]);
	s2_port_puts("\n");
	s2_port_exit(status);
}

/* Pass the stacked frame (MSP or PSP, from EXC_RETURN bit 2) and EXC_RETURN to the reporter. */
__attribute__((naked)) void Default_Handler(void)
{
	__asm__ volatile("tst lr, #4\n"
	                 "ite eq\n"
	                 "mrseq r0, msp\n"
	                 "mrsne r0, psp\n"
	                 "mov r1, lr\n"
	                 "b s2_fault_report\n");
}

/* Every handler is weak: later firmware overrides the ones it uses (SysTick, SVC, IRQs). */
#define S2_WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))
S2_WEAK_HANDLER(NMI_Handler);
S2_WEAK_HANDLER(HardFault_Handler);
S2_WEAK_HANDLER(MemManage_Handler);
S2_WEAK_HANDLER(BusFault_Handler);
S2_WEAK_HANDLER(UsageFault_Handler);
S2_WEAK_HANDLER(SVC_Handler);
S2_WEAK_HANDLER(DebugMon_Handler);
S2_WEAK_HANDLER(PendSV_Handler);
S2_WEAK_HANDLER(SysTick_Handler);

union s2_vector {
	void (*fn)(void);
	void *sp;
};

#define S2_VEC(f)       \
	{               \
		.fn = f \
	}
#define S2_VEC_RESERVED \
	{               \
		.fn = 0 \
	}

__attribute__((section(".vectors"), used)) const union s2_vector s2_vectors[16 + S2_NUM_IRQ] = {
        {.sp = __stack_top__},
        S2_VEC(Reset_Handler),
        S2_VEC(NMI_Handler),
        S2_VEC(HardFault_Handler),
        S2_VEC(MemManage_Handler),
        S2_VEC(BusFault_Handler),
        S2_VEC(UsageFault_Handler),
        S2_VEC_RESERVED,
        S2_VEC_RESERVED,
        S2_VEC_RESERVED,
        S2_VEC_RESERVED,
        S2_VEC(SVC_Handler),
        S2_VEC(DebugMon_Handler),
        S2_VEC_RESERVED,
        S2_VEC(PendSV_Handler),
        S2_VEC(SysTick_Handler),
        [16 ... 16 + S2_NUM_IRQ - 1] = S2_VEC(Default_Handler),
};
