/*
 * Cortex-M4 system registers and exception entry points used by the start-up code and the
 * ports that run on a Cortex-M core (cm4f, qemu). Internal to firmware/port; the rest of the
 * firmware sees only port.h.
 */
#ifndef S2_FW_CORTEX_M_H
#define S2_FW_CORTEX_M_H

#include <stdint.h>

#define S2_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define SCB_ICSR S2_REG(0xE000ED04u)
#define SCB_VTOR S2_REG(0xE000ED08u)
#define SCB_CCR S2_REG(0xE000ED14u)
#define SCB_SHCSR S2_REG(0xE000ED24u)
#define SCB_CFSR S2_REG(0xE000ED28u)
#define SCB_HFSR S2_REG(0xE000ED2Cu)
#define SCB_MMFAR S2_REG(0xE000ED34u)
#define SCB_BFAR S2_REG(0xE000ED38u)
#define SCB_CPACR S2_REG(0xE000ED88u)
#define CORE_DEMCR S2_REG(0xE000EDFCu)
#define DWT_CTRL S2_REG(0xE0001000u)
#define DWT_CYCCNT S2_REG(0xE0001004u)

#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_SHCSR_FAULTS_ENA ((1u << 16) | (1u << 17) | (1u << 18)) /* Mem, Bus, Usage */
#define SCB_CPACR_CP10_CP11 (0xFu << 20)
#define CORE_DEMCR_TRCENA (1u << 24)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)

/* Exception entry points named in the vector table (startup.c). */
void Reset_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SVC_Handler(void);
void DebugMon_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
void Default_Handler(void);

/* The fault reporter the fault handlers branch to (startup.c). */
_Noreturn void s2_fault_report(const uint32_t *frame, uint32_t exc_return);

#endif
