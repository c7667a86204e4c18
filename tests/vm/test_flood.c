// SPDX-License-Identifier: GPL-2.0-only
/*
 * The module's bounds under a flood, as root: for XCALL_FLOOD_SECONDS
 * (default 30) two processes of four threads each send every function to
 * one CPU, NOWAIT included, as fast as they can: two threads NOWAIT calls,
 * two threads waited calls cycling through every function, spin of the
 * capped 100 ms among them. Meanwhile a thread pinned to that CPU measures
 * the longest it went without running (its worst scheduling gap).
 *
 * It fails unless:
 *   - NOWAIT calls were refused with EAGAIN at some point (the bound
 *     exists) and never with another errno; spins only with EBUSY;
 *   - every accepted call ran exactly once: the module's count of
 *     functions run rose by exactly the NOWAIT calls accepted plus the
 *     waited records that came back answered;
 *   - unreclaimable slab memory grew by less than 64 MB.
 * The kernel log must stay clean (the host checks it; the guests boot with
 * watchdog_thresh=5, lockups at 5 and 10 s: scripts/vm/flavour.sh). Prints
 * one line, "guest: flood: ...", that the host shows in its table.
 *
 * Static: linked with libxcall.a (for nothing but the ABI header).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libxcall.h"

#define DEV		"/dev/xcall"
#define NPROC		2

/* Shared by the processes (an anonymous shared mapping). */
struct counts {
	atomic_long nowait_ok;		/* NOWAIT calls accepted (1 CPU each) */
	atomic_long nowait_eagain;
	atomic_long waited_ran;		/* waited records answered, error 0 */
	atomic_long spin_ebusy;
	atomic_long bad;		/* anything else: the test fails */
	atomic_int stop;
	char why[128];
};

static struct counts *cnt;
static int target;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void bad(const char *what, int err)
{
	if (atomic_fetch_add(&cnt->bad, 1) == 0)
		snprintf(cnt->why, sizeof(cnt->why), "%s: %s", what,
			 strerror(err));
}

static long meminfo(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

static uint64_t calls_run(int f)
{
	struct xcall_info info = { .size = sizeof(info) };

	if (ioctl(f, XCALL_IOC_INFO, &info))
		return 0;
	return info.calls_run;
}

/*
 * The count once everything queued before has run (the fuzzer before us
 * may leave NOWAIT calls draining): a waited ping to each CPU answers only
 * after what is ahead of it.
 */
static uint64_t calls_run_settled(int f, int ncpu)
{
	struct xcall_result r;
	uint64_t bits;
	int cpu, e;

	for (cpu = 0; cpu < ncpu; cpu++) {
		struct xcall_call c = {
			.size = sizeof(c), .fn = XCALL_FN_PING,
			.cpuset_size = 8, .cpuset = (uintptr_t)&bits,
			.results = (uintptr_t)&r, .nresults = 1,
			.timeout_ms = 60000,
		};

		bits = 1ULL << cpu;
		e = ioctl(f, XCALL_IOC_CALL, &c) ? errno : -r.error;
		if (e)
			bad("a settling ping", e);
	}
	return calls_run(f);
}

struct worker {
	int f;
	bool nowait;
	unsigned int seed;
};

static void *flood(void *arg)
{
	struct worker *w = arg;
	uint64_t bits[1] = { 1ULL << target };
	struct xcall_result r;
	unsigned int k = 0;

	while (!atomic_load_explicit(&cnt->stop, memory_order_relaxed)) {
		struct xcall_call c = {
			.size = sizeof(c), .cpuset_size = 8,
			.cpuset = (uintptr_t)bits, .timeout_ms = 60000,
		};
		int ret;

		c.fn = k++ % XCALL_FN_COUNT;
		if (w->nowait && !XCALL_FN_NOWAIT_OK(c.fn))
			continue;
		if (c.fn == XCALL_FN_SPIN) {
			c.nargs = 1;
			c.args[0] = XCALL_SPIN_MAX_US;
		}
		/* msr: the most it reads, the TSC four times; x86 only. */
		if (c.fn == XCALL_FN_MSR) {
			if (!(XCALL_BK_MSR & XCALL_BK_KMOD))
				continue;
			c.nargs = XCALL_MSR_MAX;
			c.args[0] = c.args[1] = c.args[2] = c.args[3] = 0x10;
		}
		if (w->nowait) {
			c.flags = XCALL_CALL_NOWAIT;
		} else {
			c.results = (uintptr_t)&r;
			c.nresults = 1;
		}
		ret = ioctl(w->f, XCALL_IOC_CALL, &c) ? -errno : 0;
		if (!ret && w->nowait)
			atomic_fetch_add(&cnt->nowait_ok, 1);
		else if (!ret && !r.error)
			atomic_fetch_add(&cnt->waited_ran, 1);
		else if (!ret)
			bad("a waited record", -r.error);
		else if (ret == -EAGAIN && w->nowait)
			atomic_fetch_add(&cnt->nowait_eagain, 1);
		else if (ret == -EBUSY && c.fn == XCALL_FN_SPIN)
			atomic_fetch_add(&cnt->spin_ebusy, 1);
		else
			bad(w->nowait ? "a NOWAIT call" : "a waited call", -ret);
	}
	return NULL;
}

/* One flooding process: 2 NOWAIT and 2 waited threads on CPU @home. */
static int flooder(int home)
{
	struct worker w[4];
	pthread_t th[4];
	int f = open(DEV, O_RDWR), i;

	if (f < 0)
		return 2;
	pin(home);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .f = f, .nowait = i < 2 };
		if (pthread_create(&th[i], NULL, flood, &w[i]))
			return 3;
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	return 0;
}

static atomic_int gap_stop;
static uint64_t worst_gap;

static void *gap_fn(void *arg)
{
	uint64_t prev, t;

	pin(target);
	prev = now_ns();
	while (!atomic_load_explicit(&gap_stop, memory_order_relaxed)) {
		t = now_ns();
		if (t - prev > worst_gap)
			worst_gap = t - prev;
		prev = t;
	}
	return NULL;
}

int main(void)
{
	const char *e = getenv("XCALL_FLOOD_SECONDS");
	int secs = e ? atoi(e) : 30, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	long free0, slab0, free1, slab1;
	uint64_t run0, ran, want, deadline;
	pid_t pid[NPROC];
	pthread_t gap;
	int f, i, status, fail = 0;

	if (ncpu < 2 || secs <= 0)
		return 1;
	target = ncpu - 1;
	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	f = open(DEV, O_RDWR);
	if (cnt == MAP_FAILED || f < 0) {
		perror("test_flood: setup");
		return 1;
	}
	free0 = meminfo("MemFree");
	slab0 = meminfo("SUnreclaim");
	run0 = calls_run_settled(f, ncpu);
	pthread_create(&gap, NULL, gap_fn, NULL);
	for (i = 0; i < NPROC; i++) {
		pid[i] = fork();
		if (!pid[i])
			_exit(flooder(i % (ncpu - 1)));
	}
	/* The flood runs; this thread only keeps time. */
	deadline = now_ns() + (uint64_t)secs * 1000000000ull;
	while (now_ns() < deadline)
		sleep(1);
	atomic_store(&cnt->stop, 1);
	for (i = 0; i < NPROC; i++)
		if (waitpid(pid[i], &status, 0) != pid[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad("a flooding process", ECHILD);
	atomic_store(&gap_stop, 1);
	pthread_join(gap, NULL);

	/* Everything accepted runs, and then nothing more. */
	want = atomic_load(&cnt->nowait_ok) + atomic_load(&cnt->waited_ran);
	deadline = now_ns() + 60 * 1000000000ull;
	while ((ran = calls_run(f) - run0) < want && now_ns() < deadline)
		sched_yield();
	free1 = meminfo("MemFree");
	slab1 = meminfo("SUnreclaim");

	printf("guest: flood: %d s to cpu %d from %d processes x 4 threads: "
	       "NOWAIT %ld accepted, %ld EAGAIN; waited %ld answered, spin "
	       "EBUSY %ld; functions run %llu of %llu accepted; worst gap on "
	       "cpu %d %.1f ms; MemFree %ld -> %ld kB, SUnreclaim %ld -> %ld "
	       "kB\n", secs, target, NPROC, atomic_load(&cnt->nowait_ok),
	       atomic_load(&cnt->nowait_eagain), atomic_load(&cnt->waited_ran),
	       atomic_load(&cnt->spin_ebusy), (unsigned long long)ran,
	       (unsigned long long)want, target, worst_gap / 1e6, free0, free1,
	       slab0, slab1);
	if (atomic_load(&cnt->bad)) {
		printf("test_flood: FAIL: %ld unexpected results, first: %s\n",
		       atomic_load(&cnt->bad), cnt->why);
		fail = 1;
	}
	if (ran != want) {
		printf("test_flood: FAIL: %llu functions ran for %llu calls "
		       "accepted\n", (unsigned long long)ran,
		       (unsigned long long)want);
		fail = 1;
	}
	if (!atomic_load(&cnt->nowait_eagain)) {
		printf("test_flood: FAIL: no NOWAIT call was ever refused\n");
		fail = 1;
	}
	if (slab1 - slab0 >= 64 * 1024) {
		printf("test_flood: FAIL: SUnreclaim grew by %ld kB\n",
		       slab1 - slab0);
		fail = 1;
	}
	close(f);
	return fail;
}
