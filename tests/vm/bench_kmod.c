// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_kmod: the cost of one xcall.ko call against the kernel's own
 * cross-CPU char device, in the same guest and the same run.
 *
 *   single   XCALL_IOC_CALL ident(leaf 0) on another CPU
 *            vs pread(/dev/cpu/N/cpuid) of leaf 0 (cpuid.ko: one
 *            smp_call_function_single per read)
 *   fan-out  one XCALL_IOC_CALL ident(leaf 0) on all CPUs
 *            vs one pread per CPU, one after the other
 *   local    both on the caller's own CPU: the software cost, no IPI
 *
 * Medians of per-call wall time (CLOCK_MONOTONIC), after a warm-up, caller
 * pinned to CPU 0, the six operations of a round in a rotating order. Prints one table with the ratios; no thresholds here.
 * Needs /dev/xcall and /dev/cpu/N/cpuid (x86: insmod cpuid.ko).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "xcall.h"
#include "bench.h"

#define ITERS	3000
#define WARMUP	300
#define MAXCPU	64

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_us(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2] / 1000.0;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_kmod: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int xfd;
static struct xcall_result res[MAXCPU];

static void xcall_ident(uint64_t bits, int n)
{
	struct xcall_call c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.fn = XCALL_FN_IDENT;
	c.nargs = 2;
	c.cpuset_size = 8;
	c.cpuset = (uintptr_t)&bits;
	c.results = (uintptr_t)res;
	c.nresults = MAXCPU;
	if (ioctl(xfd, XCALL_IOC_CALL, &c) < 0)
		die("XCALL_IOC_CALL");
	if ((int)c.ncalled != n || res[0].error || res[n - 1].error) {
		fprintf(stderr, "bench_kmod: bad call result\n");
		exit(1);
	}
}

static void cpuid_read(int f)
{
	uint32_t regs[4];

	if (pread(f, regs, sizeof(regs), 0) != sizeof(regs))
		die("pread cpuid");
}

/* The operations' figures in their records (tests/bench/targets). */
static const char *const figure[6] = {
	"single", "pread_single", "fanout", "pread_fanout", "local",
	"pread_local",
};
static const char *const what[6] = {
	"XCALL_IOC_CALL ident, CPU 1", "pread(/dev/cpu/1/cpuid)",
	"XCALL_IOC_CALL ident, all CPUs", "pread cpuid on each CPU",
	"XCALL_IOC_CALL ident, own CPU (no IPI)",
	"pread(/dev/cpu/0/cpuid), own CPU",
};

int main(void)
{
	static uint64_t t[6][ITERS];
	int cfd[MAXCPU], ncpu, i, c, other;
	uint64_t all = 0, t0;
	double m[6];
	cpu_set_t set;
	char path[64];

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2 || ncpu > MAXCPU) {
		fprintf(stderr, "bench_kmod: needs 2..%d CPUs\n", MAXCPU);
		return 1;
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	xfd = open("/dev/xcall", O_RDWR);
	if (xfd < 0)
		die("/dev/xcall");
	for (c = 0; c < ncpu; c++) {
		snprintf(path, sizeof(path), "/dev/cpu/%d/cpuid", c);
		cfd[c] = open(path, O_RDONLY);
		if (cfd[c] < 0)
			die(path);
		all |= 1ULL << c;
	}
	other = 1;

	/*
	 * Six operations per round, in a rotating order: what ran just
	 * before (an idle or a busy target vCPU) is the same for all of them
	 * on average.
	 */
	for (i = -WARMUP; i < ITERS; i++) {
		int k;

		for (k = 0; k < 6; k++) {
			int op = (k + (i + WARMUP)) % 6;

			t0 = now_ns();
			switch (op) {
			case 0:
				xcall_ident(1ULL << other, 1);
				break;
			case 1:
				cpuid_read(cfd[other]);
				break;
			case 2:
				xcall_ident(all, ncpu);
				break;
			case 3:
				for (c = 0; c < ncpu; c++)
					cpuid_read(cfd[c]);
				break;
			case 4:
				xcall_ident(1ULL << 0, 1);
				break;
			case 5:
				cpuid_read(cfd[0]);
				break;
			}
			if (i >= 0)
				t[op][i] = now_ns() - t0;
		}
	}
	for (i = 0; i < 6; i++)
		m[i] = median_us(t[i], ITERS);

	printf("%-10s %-44s %10s %8s %8s\n", "case", "what", "median_us",
	       "ratio", "target");
	printf("%-10s %-44s %10.2f %8s %8s\n", "single",
	       "pread(/dev/cpu/1/cpuid) (baseline)", m[1], "1.00", "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "single",
	       "XCALL_IOC_CALL ident, CPU 1", m[0], m[0] / m[1], "<=1.20");
	printf("%-10s %-44s %10.2f %8s %8s\n", "fan-out",
	       "pread cpuid on each CPU (baseline)", m[3], "1.00", "");
	printf("%-10s XCALL_IOC_CALL ident, CPUs 0-%-16d %10.2f %8.2f %8s\n",
	       "fan-out", ncpu - 1, m[2], m[2] / m[3], "<=0.50");
	printf("%-10s %-44s %10.2f %8s %8s\n", "local",
	       "pread(/dev/cpu/0/cpuid) (no IPI, baseline)", m[5], "1.00", "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "local",
	       "XCALL_IOC_CALL ident, CPU 0 (no IPI)", m[4], m[4] / m[5], "");
	printf("(%d calls each, caller on CPU 0, after %d warm-up rounds)\n",
	       ITERS, WARMUP);
	/* median_us() sorted each t[i]: its percentiles are at hand. */
	for (i = 0; i < 6; i++)
		xt_bench_record("kmod", figure[i], "us", m[i],
				t[i][ITERS / 10] / 1000.0,
				t[i][ITERS - 1 - ITERS / 10] / 1000.0, ITERS,
				what[i]);
	return 0;
}
