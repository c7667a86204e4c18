// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Architecture-specific reads for the functions of the threads backend:
 * cycle counter, hardware id, identification registers. See arch.h for
 * what each architecture reports and where it comes from.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"

/* Read a small sysfs file into @buf; its length or -errno. */
static int __attribute__((unused))
read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* A sysfs file holding one number (any base strtoull accepts). */
static int __attribute__((unused))
read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int n;

	n = read_small(path, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? n : -ENODATA;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>

uint64_t __xcall_arch_cycles(void)
{
	uint64_t v;

	/* rdtsc is not ordered: fence it in, as the kernel's rdtsc_ordered. */
	_mm_lfence();
	v = __rdtsc();
	_mm_lfence();
	return v;
}

static uint64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * One reading of the TSC and CLOCK_MONOTONIC_RAW at nearly the same
 * instant: of a few tries, the one whose TSC bracket is narrowest.
 */
static void tsc_raw_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t a, b, t, best = UINT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		a = __xcall_arch_cycles();
		t = raw_ns();
		b = __xcall_arch_cycles();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = t;
		}
	}
}

uint64_t __xcall_arch_counter_hz(void)
{
	struct timespec nap = { 0, 20000000 };
	uint64_t t0, n0, t1, n1;
	unsigned int a, b, c, d;

	/* Leaf 0x15: TSC = crystal (ecx Hz) * ebx / eax, when all are set. */
	if (__get_cpuid_max(0, NULL) >= 0x15) {
		__cpuid(0x15, a, b, c, d);
		if (a && b && c)
			return (uint64_t)c * b / a;
	}
	/* Else measure it: 20 ms make an error of about 1e-4. */
	tsc_raw_pair(&t0, &n0);
	while (nanosleep(&nap, &nap) && errno == EINTR)
		;
	tsc_raw_pair(&t1, &n1);
	if (n1 <= n0 || t1 <= t0)
		return 0;
	return (uint64_t)((double)(t1 - t0) * 1e9 / (double)(n1 - n0) + 0.5);
}

uint64_t __xcall_arch_hwid(int cpu)
{
	unsigned int a, b, c, d, max;

	max = __get_cpuid_max(0, NULL);
	/* V2 extended topology first, then extended topology: x2APIC id. */
	if (max >= 0x1f) {
		__cpuid_count(0x1f, 0, a, b, c, d);
		if (b)
			return d;
	}
	if (max >= 0xb) {
		__cpuid_count(0xb, 0, a, b, c, d);
		if (b)
			return d;
	}
	if (max >= 1) {
		__cpuid(1, a, b, c, d);
		return b >> 24;
	}
	return XCALL_HWID_UNKNOWN;
}

int __xcall_arch_ident(int cpu, uint32_t leaf, uint32_t subleaf,
		       struct xcall_result *res)
{
	unsigned int a, b, c, d;

	/* Raw, like /dev/cpu/N/cpuid: the CPU answers leaves past its max. */
	__cpuid_count(leaf, subleaf, a, b, c, d);
	res->val[0] = a;
	res->val[1] = b;
	res->val[2] = c;
	res->val[3] = d;
	res->val[4] = leaf;
	res->val[5] = subleaf;
	return 0;
}

#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CPUID
#define HWCAP_CPUID		(1 << 11)
#endif

uint64_t __xcall_arch_cycles(void)
{
	uint64_t v;

	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
	return v;
}

uint64_t __xcall_arch_counter_hz(void)
{
	uint64_t v;

	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/*
 * The device tree `reg` of a CPU node is its MPIDR_EL1 affinity fields, as
 * one or two big-endian 32-bit cells.
 */
uint64_t __xcall_arch_hwid(int cpu)
{
	unsigned char buf[16];
	char path[96];
	uint64_t v = 0;
	int n, i;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%d/of_node/reg", cpu);
	n = read_small(path, (char *)buf, sizeof(buf));
	if (n != 4 && n != 8)
		return XCALL_HWID_UNKNOWN;
	for (i = 0; i < n; i++)
		v = v << 8 | buf[i];
	return v;
}

int __xcall_arch_ident(int cpu, uint32_t leaf, uint32_t subleaf,
		       struct xcall_result *res)
{
	char path[96];
	uint64_t v;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%d/regs/identification/midr_el1",
		 cpu);
	if (read_u64(path, &v) == 0) {
		res->val[0] = v;
	} else if (getauxval(AT_HWCAP) & HWCAP_CPUID) {
		__asm__ __volatile__("mrs %0, midr_el1" : "=r"(v));
		res->val[0] = v;
	} else {
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%d/regs/identification/revidr_el1",
		 cpu);
	res->val[1] = read_u64(path, &v) == 0 ? v : 0;
	res->val[2] = __xcall_arch_hwid(cpu);
	return 0;
}

#elif defined(__powerpc64__)

uint64_t __xcall_arch_cycles(void)
{
	uint64_t v;

	__asm__ __volatile__("isync; mftb %0" : "=r"(v) :: "memory");
	return v;
}

/* "timebase\t: 512000000" in /proc/cpuinfo. */
uint64_t __xcall_arch_counter_hz(void)
{
	char line[256];
	uint64_t v = 0;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "timebase : %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

uint64_t __xcall_arch_hwid(int cpu)
{
	char path[96];
	uint64_t v;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%d/physical_id", cpu);
	if (read_u64(path, &v))
		return XCALL_HWID_UNKNOWN;
	return v;
}

int __xcall_arch_ident(int cpu, uint32_t leaf, uint32_t subleaf,
		       struct xcall_result *res)
{
	uint64_t v;

	__asm__ __volatile__("mfpvr %0" : "=r"(v));
	res->val[0] = v;
	return 0;
}

#else

uint64_t __xcall_arch_cycles(void)
{
	return 0;
}

uint64_t __xcall_arch_counter_hz(void)
{
	return 0;
}

uint64_t __xcall_arch_hwid(int cpu)
{
	return XCALL_HWID_UNKNOWN;
}

int __xcall_arch_ident(int cpu, uint32_t leaf, uint32_t subleaf,
		       struct xcall_result *res)
{
	return -EOPNOTSUPP;
}

#endif
