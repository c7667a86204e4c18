// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_pool: what a cross-CPU call through the in-process pool costs,
 * against the floors the hardware and the kernel set, measured in the same
 * run between the same two CPUs:
 *
 *   cache-line ping-pong    two spinning threads bounce one line: the least
 *                           a round trip between two CPUs can cost
 *   futex ping-pong         two threads that sleep and wake each other
 *   llist                   the pool's queue alone, no API around it: its
 *                           round trip and its hand-off rate
 *
 * against which the pool's round trip with a spinning worker, with a parked
 * worker (spin_ns = 1: both sides sleep) and its no-wait throughput are
 * shown as ratios. A waited call_single goes on the caller's own lane to
 * the worker (one line each way: its floor is the ping-pong), call_async
 * and no-wait calls through the queue (whose floor is the llist). Every figure is the median of many samples (this is for
 * noisy VMs); p10/p90 show the spread.
 *
 * Usage: bench_pool [-r] [-s SAMPLES] [-a CPU] [-b CPU]
 *   -r  run every thread SCHED_FIFO (root): on a shared, busy machine the
 *       figures are then the code's, not the neighbours'
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libxcall.h"
#include "bench.h"

static int cpu_a, cpu_b, nsamples = 101, realtime;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "bench_pool: cpu %d: %s\n", cpu,
			strerror(errno));
		exit(1);
	}
}

/* ------------------------------------------------------------------------
 * A partner thread on cpu_b that runs one loop per measurement.
 */

struct partner {
	pthread_t thread;
	void (*loop)(struct partner *pt);
	uint32_t stop;
};

static void *partner_main(void *arg)
{
	struct partner *pt = arg;

	pin(cpu_b);
	pt->loop(pt);
	return NULL;
}

/*
 * Born on cpu_b: a thread born on the caller's CPU could wait there forever
 * behind a SCHED_FIFO caller that spins (-r).
 */
static void partner_start(struct partner *pt, void (*loop)(struct partner *))
{
	pthread_attr_t attr;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu_b, &set);
	pt->loop = loop;
	pt->stop = 0;
	if (pthread_attr_init(&attr) ||
	    pthread_attr_setaffinity_np(&attr, sizeof(set), &set) ||
	    pthread_create(&pt->thread, &attr, partner_main, pt))
		exit(1);
	pthread_attr_destroy(&attr);
}

/* ------------------------------------------------------------------------
 * Cache-line ping-pong: one line, odd values from a, even from b.
 */

static struct {
	uint64_t v;
} __attribute__((aligned(128))) line;

static void pingpong_b(struct partner *pt)
{
	uint64_t seen = 0, v;

	for (;;) {
		while ((v = __atomic_load_n(&line.v, __ATOMIC_ACQUIRE)) ==
		       seen)
			cpu_relax();
		if (v == UINT64_MAX)
			return;
		seen = v + 1;
		__atomic_store_n(&line.v, seen, __ATOMIC_RELEASE);
	}
}

static void pingpong_a(long iters)
{
	static uint64_t v;
	long i;

	for (i = 0; i < iters; i++) {
		__atomic_store_n(&line.v, ++v, __ATOMIC_RELEASE);
		while (__atomic_load_n(&line.v, __ATOMIC_ACQUIRE) == v)
			cpu_relax();
		v++;
	}
}

/* ------------------------------------------------------------------------
 * Futex ping-pong: each side always sleeps until the other wakes it.
 */

static uint32_t fa __attribute__((aligned(128)));
static uint32_t fb __attribute__((aligned(128)));

static void futex_wait(uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void futex_b(struct partner *pt)
{
	for (;;) {
		while (!__atomic_load_n(&fb, __ATOMIC_ACQUIRE))
			futex_wait(&fb, 0);
		__atomic_store_n(&fb, 0, __ATOMIC_RELAXED);
		if (__atomic_load_n(&pt->stop, __ATOMIC_ACQUIRE))
			return;
		__atomic_store_n(&fa, 1, __ATOMIC_RELEASE);
		futex_wake(&fa);
	}
}

static void futex_a(long iters)
{
	long i;

	for (i = 0; i < iters; i++) {
		__atomic_store_n(&fb, 1, __ATOMIC_RELEASE);
		futex_wake(&fb);
		while (!__atomic_load_n(&fa, __ATOMIC_ACQUIRE))
			futex_wait(&fa, 0);
		__atomic_store_n(&fa, 0, __ATOMIC_RELAXED);
	}
}

/* ------------------------------------------------------------------------
 * llist hand-off: the pool's queue and completion word without the pool:
 * push with CAS, take all with exchange, mark each node done.
 */

#define RING	256

struct node {
	struct node *next;
	uint32_t busy;
} __attribute__((aligned(64)));

static struct node ring[RING];
static struct node *head __attribute__((aligned(128)));

static void llist_b(struct partner *pt)
{
	struct node *n, *next, *fifo;

	for (;;) {
		while (!__atomic_load_n(&head, __ATOMIC_RELAXED))
			if (__atomic_load_n(&pt->stop, __ATOMIC_ACQUIRE))
				return;
			else
				cpu_relax();
		n = __atomic_exchange_n(&head, NULL, __ATOMIC_ACQUIRE);
		for (fifo = NULL; n; n = next) {
			next = n->next;
			n->next = fifo;
			fifo = n;
		}
		for (n = fifo; n; n = next) {
			next = n->next;
			__atomic_store_n(&n->busy, 0, __ATOMIC_RELEASE);
		}
	}
}

static void llist_a(long iters)
{
	static unsigned long k;
	struct node *n, *old;
	long i;

	for (i = 0; i < iters; i++) {
		n = &ring[k++ % RING];
		while (__atomic_load_n(&n->busy, __ATOMIC_ACQUIRE))
			cpu_relax();
		n->busy = 1;
		old = __atomic_load_n(&head, __ATOMIC_RELAXED);
		do
			n->next = old;
		while (!__atomic_compare_exchange_n(&head, &old, n, true,
						    __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED));
	}
	for (i = 0; i < RING; i++)
		while (__atomic_load_n(&ring[i].busy, __ATOMIC_ACQUIRE))
			cpu_relax();
}

/* One node at a time: the queue's own round trip, the pool's design floor. */
static void llist_rt_a(long iters)
{
	struct node *n = &ring[0], *old;
	long i;

	for (i = 0; i < iters; i++) {
		n->busy = 1;
		old = __atomic_load_n(&head, __ATOMIC_RELAXED);
		do
			n->next = old;
		while (!__atomic_compare_exchange_n(&head, &old, n, true,
						    __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED));
		while (__atomic_load_n(&n->busy, __ATOMIC_ACQUIRE))
			cpu_relax();
	}
}

/* ------------------------------------------------------------------------
 * The pool.
 */

static struct xcall_pool *pool;
/* Alone in its lines: the caller must not read what the worker writes. */
static struct {
	uint64_t n;
} __attribute__((aligned(128))) calls_run;

static void count_fn(void *arg)
{
	calls_run.n++;		/* one worker: no race */
}

static void pool_single_wait(long iters)
{
	long i;

	for (i = 0; i < iters; i++)
		if (xcall_pool_call_single(pool, cpu_b, count_fn, NULL, 1, -1))
			exit(1);
}

static void pool_async_wait(long iters)
{
	struct xcall_pool_call c = { .fn = count_fn };
	long i;

	for (i = 0; i < iters; i++)
		if (xcall_pool_call_async(pool, cpu_b, &c) ||
		    xcall_pool_wait(&c, -1))
			exit(1);
}

/* No-wait: call_single with wait = 0, then one waited call to drain. */
static void pool_single_nowait(long iters)
{
	long i;

	for (i = 0; i < iters; i++)
		if (xcall_pool_call_single(pool, cpu_b, count_fn, NULL, 0, -1))
			exit(1);
	if (xcall_pool_call_single(pool, cpu_b, count_fn, NULL, 1, -1))
		exit(1);
}

/* No-wait with caller-owned calls (call_async) from a ring. */
static struct xcall_pool_call aring[RING];

static void pool_async_nowait(long iters)
{
	static unsigned long k;
	struct xcall_pool_call *c;
	long i;

	for (i = 0; i < iters; i++) {
		c = &aring[k++ % RING];
		if (xcall_pool_wait(c, -1))
			exit(1);
		c->fn = count_fn;
		if (xcall_pool_call_async(pool, cpu_b, c))
			exit(1);
	}
	for (i = 0; i < RING; i++)
		if (xcall_pool_wait(&aring[i], -1))
			exit(1);
}

/* Throughput: the per-call ns samples as calls/s (p10 and p90 swap). */
static struct xt_pct rate_of(struct xt_pct s)
{
	struct xt_pct r = {
		.p10 = 1e3 / s.p90, .med = 1e3 / s.med, .p90 = 1e3 / s.p10,
	};

	return r;
}

static void pick_cpus(void)
{
	cpu_set_t set;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		exit(1);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (n == 0 && cpu_a < 0)
			cpu_a = cpu;
		else if (cpu != cpu_a && cpu_b < 0)
			cpu_b = cpu;
		n++;
	}
	if (cpu_b < 0) {
		fprintf(stderr, "bench_pool: needs two CPUs\n");
		exit(1);
	}
}

static void pool_open(unsigned int spin_ns)
{
	struct xcall_pool_opts opts = { .spin_ns = spin_ns };
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(cpu_b, &set);
	err = xcall_pool_create(&pool, &set, sizeof(set), &opts);
	if (err) {
		fprintf(stderr, "bench_pool: pool on cpu %d: %s\n", cpu_b,
			strerror(-err));
		exit(1);
	}
}

static void pool_spinning(void)
{
	pool_open(0);
}

static void pool_parking(void)
{
	pool_open(1);
}

static void pool_close(void)
{
	xcall_pool_destroy(pool);
}

/* ------------------------------------------------------------------------
 * Modes: set up, time one sample, tear down. The samples of all modes are
 * interleaved so that every mode sees the same noise of a shared machine.
 */

static struct partner pt;

static void pingpong_start(void)
{
	__atomic_store_n(&line.v, 0, __ATOMIC_RELAXED);
	partner_start(&pt, pingpong_b);
}

static void pingpong_stop(void)
{
	__atomic_store_n(&line.v, UINT64_MAX, __ATOMIC_RELEASE);
	pthread_join(pt.thread, NULL);
}

static void futex_start(void)
{
	partner_start(&pt, futex_b);
}

static void futex_stop(void)
{
	__atomic_store_n(&pt.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&fb, 1, __ATOMIC_RELEASE);
	futex_wake(&fb);
	pthread_join(pt.thread, NULL);
}

static void llist_start(void)
{
	partner_start(&pt, llist_b);
}

static void llist_stop(void)
{
	__atomic_store_n(&pt.stop, 1, __ATOMIC_RELEASE);
	pthread_join(pt.thread, NULL);
}

enum { PINGPONG, FUTEX, LLIST_RT, LLIST, SPIN_SINGLE, SPIN_ASYNC, NOWAIT_SINGLE,
       NOWAIT_ASYNC, PARKED, NMODES };

static const struct mode {
	const char *name;
	void (*start)(void);
	void (*run)(long iters);
	void (*stop)(void);
	long iters;
	int rate;		/* show calls/s */
	int floor;		/* index of the floor, or -1 */
	const char *floor_name, *target;
} modes[NMODES] = {
	[PINGPONG] = { "cache-line ping-pong round trip", pingpong_start,
		       pingpong_a, pingpong_stop, 2000, 0, -1, "", "" },
	[FUTEX] = { "futex ping-pong round trip", futex_start, futex_a,
		    futex_stop, 50, 0, -1, "", "" },
	[LLIST_RT] = { "llist round trip, no API", llist_start, llist_rt_a,
		       llist_stop, 2000, 0, PINGPONG, "ping-pong", "" },
	[LLIST] = { "llist hand-off, no API", llist_start, llist_a,
		    llist_stop, 20000, 1, -1, "", "" },
	[SPIN_SINGLE] = { "call_single wait, spinning", pool_spinning,
			  pool_single_wait, pool_close, 2000, 0, PINGPONG,
			  "ping-pong", "<= 1.5x" },
	[SPIN_ASYNC] = { "call_async + wait, spinning", pool_spinning,
			 pool_async_wait, pool_close, 2000, 0, PINGPONG,
			 "ping-pong", "" },
	[NOWAIT_SINGLE] = { "call_single no-wait", pool_spinning,
			    pool_single_nowait, pool_close, 20000, 1, LLIST,
			    "llist", ">= 30 M/s" },
	[NOWAIT_ASYNC] = { "call_async no-wait", pool_spinning,
			   pool_async_nowait, pool_close, 20000, 1, LLIST,
			   "llist", "" },
	[PARKED] = { "call_single wait, parked worker", pool_parking,
		     pool_single_wait, pool_close, 50, 0, FUTEX, "futex",
		     "<= 1.1x" },
};

/* The name of each figure in its record (tests/bench/targets names them). */
static const char *const figure[NMODES] = {
	[PINGPONG] = "pingpong",
	[FUTEX] = "futex",
	[LLIST_RT] = "llist_rt",
	[LLIST] = "llist_handoff",
	[SPIN_SINGLE] = "call_single_spin",
	[SPIN_ASYNC] = "call_async_spin",
	[NOWAIT_SINGLE] = "call_single_nowait",
	[NOWAIT_ASYNC] = "call_async_nowait",
	[PARKED] = "call_single_parked",
};

int main(int argc, char **argv)
{
	static double v[NMODES][1024];
	const struct mode *m;
	struct xt_pct st[NMODES];
	uint64_t t0;
	int opt, i, k;

	cpu_a = cpu_b = -1;
	while ((opt = getopt(argc, argv, "rs:a:b:")) != -1) {
		switch (opt) {
		case 'r':
			realtime = 1;
			break;
		case 's':
			nsamples = atoi(optarg);
			break;
		case 'a':
			cpu_a = atoi(optarg);
			break;
		case 'b':
			cpu_b = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: bench_pool [-r] [-s SAMPLES] [-a CPU] [-b CPU]\n");
			return 64;
		}
	}
	if (nsamples < 11)
		nsamples = 11;
	if (nsamples > 1024)
		nsamples = 1024;
	pick_cpus();
	pin(cpu_a);
	if (realtime) {
		struct sched_param sp = { .sched_priority = 1 };

		/* Threads made from here on inherit it: partners, workers. */
		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			fprintf(stderr, "bench_pool: SCHED_FIFO: %s\n",
				strerror(errno));
			return 1;
		}
	}

	for (i = 0; i < nsamples; i++) {
		for (k = 0; k < NMODES; k++) {
			m = &modes[k];
			m->start();
			m->run(m->iters / 4);		/* warm up */
			t0 = now_ns();
			m->run(m->iters);
			v[k][i] = (double)(now_ns() - t0) / m->iters;
			m->stop();
		}
	}

	printf("bench_pool: caller on cpu %d, worker on cpu %d, %s; median of "
	       "%d interleaved samples\n\n", cpu_a, cpu_b,
	       realtime ? "SCHED_FIFO" : "SCHED_OTHER", nsamples);
	printf("%-32s %6s %9s %9s %9s %7s %-10s %s\n", "", "unit", "median",
	       "p10", "p90", "ratio", "to", "target");
	for (k = 0; k < NMODES; k++) {
		int prec;

		m = &modes[k];
		st[k] = xt_bench_pct(v[k], nsamples);
		if (m->rate)
			st[k] = rate_of(st[k]);
		prec = m->rate ? 2 : 0;
		printf("%-32s %6s %9.*f %9.*f %9.*f", m->name,
		       m->rate ? "M/s" : "ns", prec, st[k].med, prec,
		       st[k].p10, prec, st[k].p90);
		if (m->floor >= 0)
			printf(" %6.2fx %-*s%s", m->rate ?
			       st[m->floor].med / st[k].med :
			       st[k].med / st[m->floor].med,
			       *m->target ? 10 : 0, m->floor_name,
			       m->target);
		printf("\n");
		xt_bench_record("pool", figure[k], m->rate ? "M/s" : "ns",
				st[k].med, st[k].p10, st[k].p90, nsamples,
				m->name);
	}
	return 0;
}
