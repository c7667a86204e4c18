/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every piece of architecture-specific code in libxcall, in one place: the
 * cycle counter, the hardware id of the running CPU and the identification
 * registers of `ident`. Each is called on a thread pinned to the CPU it
 * describes. Unknown architectures build too, with "unknown" answers.
 *
 *   x86_64   cycles: rdtsc between lfences; its rate from CPUID 0x15, else
 *            measured against CLOCK_MONOTONIC_RAW. hwid: x2APIC id (CPUID 0x1F or 0xB, EDX), else
 *            the initial APIC id (CPUID 1, EBX[31:24]). ident: CPUID.
 *   aarch64  cycles: CNTVCT_EL0 after an isb; its rate CNTFRQ_EL0. hwid: MPIDR_EL1 affinity as the firmware
 *            describes the CPU (device tree `reg` of cpuN/of_node); an
 *            mrs of MPIDR_EL1 from EL0 is emulated by the kernel with a
 *            constant, so it is not used. ident: MIDR_EL1 and REVIDR_EL1
 *            from sysfs (regs/identification), MIDR_EL1 by the kernel's
 *            EL0 emulation of mrs (HWCAP_CPUID) when sysfs lacks it.
 *   ppc64    cycles: the time base (mftb after isync); its rate the
 *            "timebase" line of /proc/cpuinfo. hwid: the hardware thread id
 *            (sysfs cpuN/physical_id, the interrupt server number, which
 *            is the PIR on bare metal). ident: the PVR (mfpvr, emulated by
 *            the kernel for user mode).
 */
#ifndef XCALL_ARCH_H
#define XCALL_ARCH_H

#include <stdint.h>

#include "libxcall.h"

#define XCALL_HWID_UNKNOWN	UINT64_MAX

/* What `xcall list` and the man page call this architecture. */
#if defined(__x86_64__) || defined(__i386__)
#define XCALL_ARCH_NAME		"x86"
#define __XCALL_COUNTER_NAME	"TSC"
#elif defined(__aarch64__)
#define XCALL_ARCH_NAME		"arm64"
#define __XCALL_COUNTER_NAME	"CNTVCT"
#elif defined(__powerpc64__)
#define XCALL_ARCH_NAME		"ppc64"
#define __XCALL_COUNTER_NAME	"timebase"
#else
#define XCALL_ARCH_NAME		"generic"
#define __XCALL_COUNTER_NAME	"none"
#endif

/*
 * Cycle counter of the running CPU (0 where there is none), read in
 * program order: not before what comes earlier in the program has run, so
 * a reading taken after a message arrived is later than its sending.
 */
uint64_t __xcall_arch_cycles(void);
/*
 * Its ticks per second, or 0 if unknown; slow on x86 when CPUID does not
 * say (a 20 ms measurement): xcall_counter_hz() keeps the answer.
 */
uint64_t __xcall_arch_counter_hz(void);
/* What the counter is called: "TSC", "CNTVCT", "timebase" or "none". */
#define XCALL_COUNTER_NAME	__XCALL_COUNTER_NAME
/* Hardware id of @cpu, the running CPU, or XCALL_HWID_UNKNOWN. */
uint64_t __xcall_arch_hwid(int cpu);
/*
 * `ident` on the running CPU @cpu: fill @res->val as xcall.h documents for
 * this architecture; @leaf and @subleaf are used on x86 only.
 * 0 or -EOPNOTSUPP.
 */
int __xcall_arch_ident(int cpu, uint32_t leaf, uint32_t subleaf,
		       struct xcall_result *res);

#endif /* XCALL_ARCH_H */
