// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for the in-process cross-CPU call pool (lib/pool.c): every
 * call runs exactly once, on the CPU it was sent to, through every way of
 * sending it; timeouts and cancels against a worker the test holds, and
 * cancels racing the worker; destroy drains; lanes come and go with their
 * threads and keep the queue's order; every bad input.
 *
 * XCALL_POOL_STRESS_CALLS sets the number of calls of the stress cases
 * (default 1048576 for the spinning pool; sanitizer runs lower it).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "libxcall.h"
#include "pool.h"

#define NPRODUCERS	4
#define RING		64	/* async calls a producer keeps in flight */

static cpu_set_t cpus;		/* the CPUs we may use: the pool's set */
static int ncpus, cpu_list[CPU_SETSIZE];

static void setup_cpus(void)
{
	int cpu;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	ncpus = 0;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &cpus))
			cpu_list[ncpus++] = cpu;
	ck_assert_int_gt(ncpus, 0);
}

static struct xcall_pool *pool_new(unsigned int spin_ns)
{
	struct xcall_pool_opts opts = { .spin_ns = spin_ns };
	struct xcall_pool *p = NULL;

	ck_assert_int_eq(xcall_pool_create(&p, &cpus, sizeof(cpus), &opts),
			 0);
	ck_assert_ptr_nonnull(p);
	return p;
}

static unsigned long stress_calls(unsigned long dflt)
{
	const char *s = getenv("XCALL_POOL_STRESS_CALLS");

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

/* ------------------------------------------------------------------------
 * One record per call: which CPU it must run on, how often it ran.
 */

struct rec {
	int cpu;
	uint32_t runs;
};

static uint32_t wrong_cpu;

static void rec_fn(void *arg)
{
	struct rec *r = arg;

	if (sched_getcpu() != r->cpu)
		__atomic_fetch_add(&wrong_cpu, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->runs, 1, __ATOMIC_RELAXED);
}

static void check_recs(struct rec *recs, unsigned long n)
{
	unsigned long i, bad = 0;

	for (i = 0; i < n; i++)
		if (__atomic_load_n(&recs[i].runs, __ATOMIC_RELAXED) != 1)
			bad++;
	ck_assert_msg(bad == 0, "%lu of %lu calls did not run exactly once",
		      bad, n);
	ck_assert_uint_eq(__atomic_load_n(&wrong_cpu, __ATOMIC_RELAXED), 0);
}

/* ------------------------------------------------------------------------
 * Stress: several producers, every way of sending, all CPUs.
 */

struct producer {
	pthread_t thread;
	struct xcall_pool *pool;
	struct rec *recs;		/* this producer's share */
	unsigned long n;
	struct xcall_pool_call ring[RING];
	uint32_t many[CPU_SETSIZE];	/* call_many runs per CPU */
	uint32_t nmany;
	int err;
};

static void many_rec_fn(void *arg)
{
	struct producer *pr = arg;

	__atomic_fetch_add(&pr->many[sched_getcpu()], 1, __ATOMIC_RELAXED);
}

/* call_many to every CPU: each must have run it exactly once more. */
static int producer_many(struct producer *pr)
{
	int i, err;

	err = xcall_pool_call_many(pr->pool, &cpus, sizeof(cpus), many_rec_fn,
				   pr, -1);
	if (err)
		return err;
	pr->nmany++;
	for (i = 0; i < ncpus; i++)
		if (__atomic_load_n(&pr->many[cpu_list[i]],
				    __ATOMIC_RELAXED) != pr->nmany)
			return -EPROTO;
	return 0;
}

static void *producer_main(void *arg)
{
	struct producer *pr = arg;
	struct xcall_pool_call *c;
	unsigned long i;
	int err = 0;

	for (i = 0; i < pr->n && !err; i++) {
		struct rec *r = &pr->recs[i];

		r->cpu = cpu_list[(i * 7 + (uintptr_t)pr / 64) % ncpus];
		switch (i % 8) {
		case 0:
			err = xcall_pool_call_single(pr->pool, r->cpu, rec_fn,
						     r, 1, -1);
			if (!err && r->runs != 1)
				err = -EPROTO;	/* wait returned early */
			break;
		case 1: case 2: case 3: case 4:
			err = xcall_pool_call_single(pr->pool, r->cpu, rec_fn,
						     r, 0, -1);
			break;
		case 7:
			if (i % 64 == 7) {
				err = producer_many(pr);
				r->runs = 1;	/* counted per CPU instead */
				break;
			}
			/* fall through */
		default:
			c = &pr->ring[i % RING];
			err = xcall_pool_wait(c, -1);
			if (err)
				break;
			memset(c, 0, sizeof(*c));
			c->fn = rec_fn;
			c->arg = r;
			err = xcall_pool_call_async(pr->pool, r->cpu, c);
			break;
		}
	}
	for (i = 0; i < RING && !err; i++)
		err = xcall_pool_wait(&pr->ring[i], -1);
	pr->err = err;
	return NULL;
}

static void stress(unsigned int spin_ns, unsigned long total)
{
	struct producer pr[NPRODUCERS];
	struct xcall_pool *p = pool_new(spin_ns);
	struct rec *recs = calloc(total, sizeof(*recs));
	unsigned long per = total / NPRODUCERS;
	int i;

	ck_assert_ptr_nonnull(recs);
	for (i = 0; i < NPRODUCERS; i++) {
		memset(&pr[i], 0, sizeof(pr[i]));
		pr[i].pool = p;
		pr[i].recs = recs + i * per;
		pr[i].n = i == NPRODUCERS - 1 ? total - i * per : per;
		ck_assert_int_eq(pthread_create(&pr[i].thread, NULL,
						producer_main, &pr[i]), 0);
	}
	for (i = 0; i < NPRODUCERS; i++) {
		pthread_join(pr[i].thread, NULL);
		ck_assert_int_eq(pr[i].err, 0);
	}
	/* No-wait calls may still be queued: destroy runs them. */
	xcall_pool_destroy(p);
	check_recs(recs, total);
	free(recs);
}

START_TEST(test_stress_spinning)
{
	stress(0, stress_calls(1 << 20));
}
END_TEST

/* Workers that park at once: the wake-up path under load. */
START_TEST(test_stress_parking)
{
	stress(1, stress_calls(1 << 20) / 4);
}
END_TEST

/* ------------------------------------------------------------------------
 * No-wait calls and completion.
 */

START_TEST(test_async_completes)
{
	struct xcall_pool *p = pool_new(0);
	struct xcall_pool_call c;
	struct rec r;
	int i, j;

	memset(&c, 0, sizeof(c));
	ck_assert(xcall_pool_done(&c));		/* never queued */
	ck_assert_int_eq(xcall_pool_wait(&c, 0), 0);
	for (i = 0; i < ncpus; i++) {
		for (j = 0; j < 100; j++) {
			r.cpu = cpu_list[i];
			r.runs = 0;
			c.fn = rec_fn;
			c.arg = &r;
			ck_assert_int_eq(xcall_pool_call_async(p, r.cpu, &c),
					 0);
			ck_assert_int_eq(xcall_pool_wait(&c, -1), 0);
			ck_assert(xcall_pool_done(&c));
			ck_assert_int_eq(c.cpu, r.cpu);
			ck_assert_uint_eq(r.runs, 1);
		}
	}
	ck_assert_uint_eq(wrong_cpu, 0);
	xcall_pool_destroy(p);
}
END_TEST

START_TEST(test_single_nowait)
{
	enum { N = 10000 };
	struct xcall_pool *p = pool_new(0);
	static struct rec recs[N];
	int i;

	for (i = 0; i < N; i++) {
		recs[i].cpu = cpu_list[i % ncpus];
		ck_assert_int_eq(xcall_pool_call_single(p, recs[i].cpu, rec_fn,
							&recs[i], 0, -1), 0);
	}
	/* The queues are FIFO: one waited call per CPU flushes them. */
	for (i = 0; i < ncpus; i++) {
		struct rec r = { .cpu = cpu_list[i] };

		ck_assert_int_eq(xcall_pool_call_single(p, r.cpu, rec_fn, &r,
							1, -1), 0);
		ck_assert_uint_eq(r.runs, 1);
	}
	check_recs(recs, N);
	xcall_pool_destroy(p);
}
END_TEST

/* A pool function that calls its own CPU and waits: runs inline. */
static struct xcall_pool *nested_pool;

static void nested_fn(void *arg)
{
	struct rec *r = arg;

	ck_assert_int_eq(xcall_pool_call_single(nested_pool, r->cpu, rec_fn,
						r, 1, 1000), 0);
	ck_assert_uint_eq(r->runs, 1);
}

START_TEST(test_nested_own_cpu)
{
	struct rec r = { .cpu = cpu_list[ncpus - 1] };

	nested_pool = pool_new(0);
	ck_assert_int_eq(xcall_pool_call_single(nested_pool, r.cpu, nested_fn,
						&r, 1, -1), 0);
	ck_assert_uint_eq(r.runs, 1);
	xcall_pool_destroy(nested_pool);
}
END_TEST

/* ------------------------------------------------------------------------
 * call_many.
 */

static uint32_t many_runs[CPU_SETSIZE];

static void many_fn(void *arg)
{
	__atomic_fetch_add(&many_runs[sched_getcpu()], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add((uint32_t *)arg, 1, __ATOMIC_RELAXED);
}

START_TEST(test_many_all)
{
	struct xcall_pool *p = pool_new(_i ? 1 : 0);
	uint32_t total = 0;
	int i, round;

	memset(many_runs, 0, sizeof(many_runs));
	for (round = 0; round < 1000; round++)
		ck_assert_int_eq(xcall_pool_call_many(p, &cpus, sizeof(cpus),
						      many_fn, &total, -1), 0);
	ck_assert_uint_eq(total, 1000u * ncpus);
	for (i = 0; i < ncpus; i++)
		ck_assert_uint_eq(many_runs[cpu_list[i]], 1000);
	xcall_pool_destroy(p);
}
END_TEST

START_TEST(test_many_subset)
{
	struct xcall_pool *p = pool_new(0);
	cpu_set_t one;
	uint32_t total = 0;
	int cpu = cpu_list[ncpus - 1];

	memset(many_runs, 0, sizeof(many_runs));
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ck_assert_int_eq(xcall_pool_call_many(p, &one, sizeof(one), many_fn,
					      &total, 1000), 0);
	ck_assert_uint_eq(total, 1);
	ck_assert_uint_eq(many_runs[cpu], 1);
	xcall_pool_destroy(p);
}
END_TEST

/* A set of 4 bytes, not a whole word: its CPU is the pool's and is called. */
START_TEST(test_partial_word_set)
{
	struct xcall_pool *p = NULL;
	unsigned char *small;
	uint32_t total = 0;
	int cpu = cpu_list[0];

	if (cpu >= 32)
		xt_skip_env("our first CPU, %d, does not fit a 4-byte set", cpu);
	small = calloc(1, 4);
	memset(many_runs, 0, sizeof(many_runs));
	small[cpu / 8] = 1 << (cpu % 8);
	ck_assert_int_eq(xcall_pool_create(&p, (cpu_set_t *)small, 4, NULL),
			 0);
	ck_assert_int_eq(xcall_pool_call_many(p, (cpu_set_t *)small, 4,
					      many_fn, &total, 30000), 0);
	ck_assert_uint_eq(total, 1);
	ck_assert_uint_eq(many_runs[cpu], 1);
	xcall_pool_destroy(p);
	free(small);
}
END_TEST

/* call_many from a pool function: its own CPU runs inline, the rest queue. */
static void many_nested_fn(void *arg)
{
	ck_assert_int_eq(xcall_pool_call_many(nested_pool, &cpus, sizeof(cpus),
					      many_fn, arg, 5000), 0);
}

START_TEST(test_many_nested)
{
	uint32_t total = 0;
	int i;

	memset(many_runs, 0, sizeof(many_runs));
	nested_pool = pool_new(0);
	ck_assert_int_eq(xcall_pool_call_single(nested_pool, cpu_list[0],
						many_nested_fn, &total, 1,
						-1), 0);
	ck_assert_uint_eq(total, ncpus);
	for (i = 0; i < ncpus; i++)
		ck_assert_uint_eq(many_runs[cpu_list[i]], 1);
	xcall_pool_destroy(nested_pool);
}
END_TEST

/* ------------------------------------------------------------------------
 * Timeouts: a worker held in a function until the test lets it go.
 */

struct blocker {
	sem_t entered, release;
	uint32_t runs;
	uint32_t running;		/* set by blocker_fn */
	uint32_t probed;		/* set by probe_fn */
	/* What a call from the function itself got back (destroy case). */
	struct xcall_pool *pool;
	int cpu;
	int late_err;
};

static void blocker_init(struct blocker *b)
{
	memset(b, 0, sizeof(*b));
	ck_assert_int_eq(sem_init(&b->entered, 0, 0), 0);
	ck_assert_int_eq(sem_init(&b->release, 0, 0), 0);
	b->late_err = 1;
}

static void noop_fn(void *arg)
{
}

static void blocker_fn(void *arg)
{
	struct blocker *b = arg;

	__atomic_store_n(&b->running, 1, __ATOMIC_SEQ_CST);
	sem_post(&b->entered);
	while (sem_wait(&b->release))
		;
	if (b->pool)
		b->late_err = xcall_pool_call_single(b->pool, b->cpu, noop_fn,
						     NULL, 0, -1);
	__atomic_fetch_add(&b->runs, 1, __ATOMIC_RELAXED);
}

static void sem_wait_ok(sem_t *s)
{
	while (sem_wait(s))
		ck_assert_int_eq(errno, EINTR);
}

static void probe_fn(void *arg)
{
	struct blocker *b = arg;

	__atomic_store_n(&b->probed, 1, __ATOMIC_SEQ_CST);
	sem_post(&b->entered);
}

/*
 * Send the blocker with call_single(wait) and a timeout, so that the call
 * times out while its function runs. Which way it went is not left to the
 * clock: a probe queued behind it runs only if the blocker was cancelled
 * (timed out before it started); then try again with a longer timeout.
 */
static void hold_worker_timed_out(struct xcall_pool *p, int cpu,
				  struct blocker *b)
{
	struct xcall_pool_call probe;
	int timeout_ms;

	for (timeout_ms = 20; ; timeout_ms *= 2) {
		ck_assert_int_eq(xcall_pool_call_single(p, cpu, blocker_fn, b,
							1, timeout_ms),
				 -ETIMEDOUT);
		memset(&probe, 0, sizeof(probe));
		probe.fn = probe_fn;
		probe.arg = b;
		ck_assert_int_eq(xcall_pool_call_async(p, cpu, &probe), 0);
		sem_wait_ok(&b->entered);
		if (__atomic_load_n(&b->running, __ATOMIC_SEQ_CST))
			break;
		/* Cancelled: the blocker never ran; the probe did. */
		ck_assert_int_eq(xcall_pool_wait(&probe, -1), 0);
		ck_assert_uint_eq(b->probed, 1);
		b->probed = 0;
		sem_wait_ok(&b->entered);
	}
	/* The probe is queued behind the running blocker. */
	ck_assert(!xcall_pool_done(&probe));
	ck_assert_uint_eq(b->probed, 0);
	sem_post(&b->release);
	ck_assert_int_eq(xcall_pool_wait(&probe, -1), 0);
	sem_wait_ok(&b->entered);	/* the probe's post */
	ck_assert_uint_eq(b->runs, 1);
}

START_TEST(test_timeout_running)
{
	struct xcall_pool *p = pool_new(0);
	static struct blocker b;

	blocker_init(&b);
	hold_worker_timed_out(p, cpu_list[ncpus - 1], &b);
	xcall_pool_destroy(p);
}
END_TEST

START_TEST(test_timeout_stuck_worker)
{
	struct xcall_pool *p = pool_new(0);
	int cpu = cpu_list[ncpus - 1];
	struct xcall_pool_call *late = calloc(1, sizeof(*late));
	struct rec *cancelled = calloc(1, sizeof(*cancelled));
	struct rec r = { .cpu = cpu };
	static struct blocker b;

	blocker_init(&b);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, blocker_fn, &b, 0, -1),
			 0);
	sem_wait_ok(&b.entered);

	/* A caller-owned call behind it: times out, stays queued. */
	late->fn = rec_fn;
	late->arg = &r;
	ck_assert_int_eq(xcall_pool_call_async(p, cpu, late), 0);
	ck_assert_int_eq(xcall_pool_wait(late, 20), -ETIMEDOUT);
	ck_assert_int_eq(xcall_pool_wait(late, 0), -ETIMEDOUT);
	ck_assert(!xcall_pool_done(late));
	ck_assert_int_eq(xcall_pool_call_async(p, cpu, late), -EBUSY);

	/* A pool-owned call behind it: times out and is cancelled. */
	cancelled->cpu = cpu;
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, rec_fn, cancelled, 1,
						20), -ETIMEDOUT);
	/* call_many with the stuck CPU times out too. */
	ck_assert_int_eq(xcall_pool_call_many(p, &cpus, sizeof(cpus), noop_fn,
					      NULL, 20), -ETIMEDOUT);
	ck_assert_uint_eq(r.runs, 0);

	sem_post(&b.release);
	/* The late call completes; then nothing touches it again. */
	ck_assert_int_eq(xcall_pool_wait(late, -1), 0);
	ck_assert(xcall_pool_done(late));
	ck_assert_uint_eq(r.runs, 1);
	free(late);			/* ASan catches any later touch */
	/* FIFO: this runs after everything queued before it. */
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 1, -1),
			 0);
	ck_assert_uint_eq(b.runs, 1);
	ck_assert_uint_eq(cancelled->runs, 0);	/* never ran */
	free(cancelled);
	ck_assert_int_eq(xcall_pool_call_many(p, &cpus, sizeof(cpus), noop_fn,
					      NULL, -1), 0);
	ck_assert_uint_eq(wrong_cpu, 0);
	xcall_pool_destroy(p);
}
END_TEST

/*
 * Cancel: behind a held worker a cancellable call is cancelled and never
 * runs, yet completes (its worker lets go of it, once); the held call
 * itself is running and cannot be; a plain call cannot be either.
 */
START_TEST(test_cancel_queued)
{
	struct xcall_pool *p = pool_new(0);
	int cpu = cpu_list[ncpus - 1];
	struct xcall_pool_call hold, *late = calloc(1, sizeof(*late));
	struct xcall_pool_call plain;
	struct rec r = { .cpu = cpu }, pr = { .cpu = cpu };
	static struct blocker b;

	blocker_init(&b);
	memset(&hold, 0, sizeof(hold));
	memset(&plain, 0, sizeof(plain));
	hold.fn = blocker_fn;
	hold.arg = &b;
	ck_assert_int_eq(xcall_pool_call_async_flags(p, cpu, &hold,
			 XCALL_POOL_CANCELLABLE), 0);
	sem_wait_ok(&b.entered);
	ck_assert_int_eq(xcall_pool_cancel(&hold), -EBUSY);

	late->fn = rec_fn;
	late->arg = &r;
	ck_assert_int_eq(xcall_pool_call_async_flags(p, cpu, late,
			 XCALL_POOL_CANCELLABLE), 0);
	plain.fn = rec_fn;
	plain.arg = &pr;
	ck_assert_int_eq(xcall_pool_call_async(p, cpu, &plain), 0);
	ck_assert_int_eq(xcall_pool_cancel(&plain), -EINVAL);
	ck_assert_int_eq(xcall_pool_cancel(late), 0);
	ck_assert_int_eq(xcall_pool_cancel(late), -EALREADY);
	/* Still the worker's until it gets there. */
	ck_assert(!xcall_pool_done(late));
	ck_assert_int_eq(xcall_pool_call_async(p, cpu, late), -EBUSY);

	sem_post(&b.release);
	ck_assert_int_eq(xcall_pool_wait(&hold, -1), 0);
	ck_assert_int_eq(xcall_pool_wait(late, -1), 0);
	ck_assert_int_eq(xcall_pool_wait(&plain, -1), 0);
	ck_assert(xcall_pool_done(late));
	free(late);			/* ASan catches any later touch */
	ck_assert_uint_eq(r.runs, 0);
	ck_assert_uint_eq(pr.runs, 1);
	ck_assert_uint_eq(b.runs, 1);
	ck_assert_int_eq(xcall_pool_cancel(&hold), -EALREADY);
	ck_assert_int_eq(xcall_pool_cancel(NULL), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_async_flags(p, cpu, &plain, 2),
			 -EINVAL);
	xcall_pool_destroy(p);
}
END_TEST

/*
 * The race itself: calls cancelled while their worker takes them. Each
 * either ran once or was cancelled, never both nor neither, and every one
 * completes.
 */
START_TEST(test_cancel_race)
{
	enum { N = 20000, W = 32 };
	struct xcall_pool *p = pool_new(0);
	struct xcall_pool_call c[W];
	struct rec r[W];
	unsigned long i, cancelled = 0, ran = 0;
	int cpu = cpu_list[ncpus - 1], k;

	memset(c, 0, sizeof(c));
	for (i = 0; i < N; i++) {
		k = (int)(i % W);
		if (i >= W) {
			ck_assert_int_eq(xcall_pool_wait(&c[k], -1), 0);
			ran += r[k].runs;
			ck_assert_uint_le(r[k].runs, 1);
		}
		r[k].cpu = cpu;
		r[k].runs = 0;
		c[k].fn = rec_fn;
		c[k].arg = &r[k];
		ck_assert_int_eq(xcall_pool_call_async_flags(p, cpu, &c[k],
				 XCALL_POOL_CANCELLABLE), 0);
		if (i % 2) {
			int ret = xcall_pool_cancel(&c[k]);

			ck_assert(ret == 0 || ret == -EBUSY ||
				  ret == -EALREADY);
			cancelled += ret == 0;
		}
	}
	for (k = 0; k < W; k++) {
		ck_assert_int_eq(xcall_pool_wait(&c[k], -1), 0);
		ck_assert_uint_le(r[k].runs, 1);
		ran += r[k].runs;
	}
	ck_assert_uint_eq(ran + cancelled, N);
	ck_assert_uint_eq(wrong_cpu, 0);
	xcall_pool_destroy(p);
}
END_TEST

/* Every slot in flight behind a stuck worker: call_single times out. */
START_TEST(test_timeout_no_slot)
{
	struct xcall_pool *p = pool_new(0);
	int cpu = cpu_list[0], n = 0, err;
	static struct blocker b;

	blocker_init(&b);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, blocker_fn, &b, 0, -1),
			 0);
	sem_wait_ok(&b.entered);
	while (!(err = xcall_pool_call_single(p, cpu, noop_fn, NULL, 0, 0)))
		n++;
	ck_assert_int_eq(err, -ETIMEDOUT);
	ck_assert_int_gt(n, 0);
	sem_post(&b.release);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 0, -1),
			 0);
	xcall_pool_destroy(p);
}
END_TEST

/* ------------------------------------------------------------------------
 * Destroy drains.
 */

struct destroyer {
	pthread_t thread;
	struct xcall_pool *pool;
};

static void *destroy_main(void *arg)
{
	struct destroyer *d = arg;

	xcall_pool_destroy(d->pool);
	return NULL;
}

START_TEST(test_destroy_drains)
{
	/* No-wait singles stay below what a blocked worker can hold. */
	enum { NSINGLE = 200, NASYNC = 20000, NEXTRA = 1 << 16 };
	static struct rec srecs[NSINGLE], arecs[NASYNC], xrecs[NEXTRA];
	static struct xcall_pool_call calls[NASYNC], xcalls[NEXTRA];
	static struct blocker b;
	struct xcall_pool *p = pool_new(_i ? 1 : 0);
	int cpu = cpu_list[0], i, err;
	struct destroyer d = { .pool = p };
	unsigned long n;

	blocker_init(&b);
	b.pool = p;
	b.cpu = cpu;
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, blocker_fn, &b, 0, -1),
			 0);
	sem_wait_ok(&b.entered);
	for (i = 0; i < NSINGLE; i++) {
		srecs[i].cpu = cpu_list[i % ncpus];
		ck_assert_int_eq(xcall_pool_call_single(p, srecs[i].cpu, rec_fn,
							&srecs[i], 0, -1), 0);
	}
	for (i = 0; i < NASYNC; i++) {
		arecs[i].cpu = cpu_list[i % ncpus];
		calls[i].fn = rec_fn;
		calls[i].arg = &arecs[i];
		ck_assert_int_eq(xcall_pool_call_async(p, arecs[i].cpu,
						       &calls[i]), 0);
	}

	/*
	 * Destroy cannot finish while the blocker holds its worker, so the
	 * pool stays valid until we release it: calls are taken until destroy
	 * has started, then refused with -ESHUTDOWN.
	 */
	ck_assert_int_eq(pthread_create(&d.thread, NULL, destroy_main, &d), 0);
	for (n = 0; ; n++) {
		ck_assert_uint_lt(n, NEXTRA);
		xrecs[n].cpu = cpu_list[n % ncpus];
		xcalls[n].fn = rec_fn;
		xcalls[n].arg = &xrecs[n];
		err = xcall_pool_call_async(p, xrecs[n].cpu, &xcalls[n]);
		if (err)
			break;
		sched_yield();
	}
	ck_assert_int_eq(err, -ESHUTDOWN);
	ck_assert(xcall_pool_done(&xcalls[n]));	/* the refused one */
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 0, -1),
			 -ESHUTDOWN);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 1, -1),
			 -ESHUTDOWN);
	ck_assert_int_eq(xcall_pool_call_many(p, &cpus, sizeof(cpus), noop_fn,
					      NULL, -1), -ESHUTDOWN);
	sem_post(&b.release);
	pthread_join(d.thread, NULL);

	ck_assert_int_eq(b.late_err, -ESHUTDOWN);
	ck_assert_uint_eq(b.runs, 1);
	check_recs(srecs, NSINGLE);
	check_recs(arecs, NASYNC);
	check_recs(xrecs, n);
	for (i = 0; i < NASYNC; i++)
		ck_assert(xcall_pool_done(&calls[i]));
}
END_TEST

/* ------------------------------------------------------------------------
 * Lanes: a thread's waited calls go on its own lane to each CPU.
 */

/* Threads alive at once in the churn: more than a worker's 64 lanes. */
#define CHURN_ALIVE	72

static uint32_t lanes_seen;		/* most lanes held, seen by a caller */

struct churner {
	pthread_t thread;
	struct xcall_pool *pool;
	unsigned long calls, seed;
	int err;
};

/* Waited calls, forever and with a deadline it never reaches, then exit. */
static void *churner_main(void *arg)
{
	struct churner *ch = arg;
	unsigned long i;
	uint32_t seen;
	int err = 0, n;

	for (i = 0; i < ch->calls && !err; i++) {
		struct rec r = { .cpu = cpu_list[(ch->seed + i) % ncpus] };

		err = xcall_pool_call_single(ch->pool, r.cpu, rec_fn, &r, 1,
					     i % 2 ? -1 : 600000);
		if (!err && r.runs != 1)
			err = -EPROTO;		/* returned before it ran */
		n = __xcall_pool_lanes(ch->pool, r.cpu, false);
		seen = __atomic_load_n(&lanes_seen, __ATOMIC_RELAXED);
		while (n > (int)seen &&
		       !__atomic_compare_exchange_n(&lanes_seen, &seen, n,
						    true, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED))
			;
	}
	ch->err = err;
	return NULL;
}

/* Meanwhile: no-wait calls through the queue, and waited ones, nonstop. */
struct background {
	pthread_t thread;
	struct xcall_pool *pool;
	struct rec recs[CPU_SETSIZE];	/* one per CPU: runs counts */
	uint32_t sent[CPU_SETSIZE];
	uint32_t stop;
	int err;
};

static void *background_main(void *arg)
{
	struct background *bg = arg;
	unsigned long i;
	int cpu, err = 0;

	for (i = 0; !err && !__atomic_load_n(&bg->stop, __ATOMIC_ACQUIRE);
	     i++) {
		cpu = cpu_list[i % ncpus];
		err = xcall_pool_call_single(bg->pool, cpu, rec_fn,
					     &bg->recs[cpu], i % 8 == 0, -1);
		if (!err)
			bg->sent[cpu]++;
	}
	bg->err = err;
	return NULL;
}

/*
 * Threads come and go (CHURN_ALIVE at a time, each a different number of
 * calls) while others' calls, theirs and the background's, are in flight:
 * every call runs once on its CPU, and once they have all exited no lane
 * is held: each thread gave its lanes back. _i: spinning or parking pool.
 */
START_TEST(test_lanes_churn)
{
	struct xcall_pool *p = pool_new(_i ? 1 : 0);
	struct churner *ch = calloc(CHURN_ALIVE, sizeof(*ch));
	struct background *bg = calloc(1, sizeof(*bg));
	unsigned long k, lives = stress_calls(1 << 20) / 2048;
	int i, cpu;

	ck_assert_ptr_nonnull(ch);
	ck_assert_ptr_nonnull(bg);
	if (lives < 2 * CHURN_ALIVE)
		lives = 2 * CHURN_ALIVE;
	for (i = 0; i < ncpus; i++)
		bg->recs[cpu_list[i]].cpu = cpu_list[i];
	bg->pool = p;
	lanes_seen = 0;
	ck_assert_int_eq(pthread_create(&bg->thread, NULL, background_main,
					bg), 0);
	for (k = 0; k < lives + CHURN_ALIVE; k++) {
		struct churner *c = &ch[k % CHURN_ALIVE];

		if (k >= CHURN_ALIVE) {
			pthread_join(c->thread, NULL);
			ck_assert_int_eq(c->err, 0);
		}
		if (k >= lives)
			continue;
		c->pool = p;
		c->calls = 1 + k * 37 % 97;
		c->seed = k;
		ck_assert_int_eq(pthread_create(&c->thread, NULL,
						churner_main, c), 0);
	}
	__atomic_store_n(&bg->stop, 1, __ATOMIC_RELEASE);
	pthread_join(bg->thread, NULL);
	ck_assert_int_eq(bg->err, 0);

	ck_assert_uint_ge(lanes_seen, 1);	/* the lanes were used */
	for (i = 0; i < ncpus; i++)
		ck_assert_msg(__xcall_pool_lanes(p, cpu_list[i], false) == 0,
			      "cpu %d: %d lanes still held by threads gone",
			      cpu_list[i],
			      __xcall_pool_lanes(p, cpu_list[i], false));
	xcall_pool_destroy(p);		/* runs the no-wait calls left */
	for (i = 0; i < ncpus; i++) {
		cpu = cpu_list[i];
		ck_assert_uint_eq(bg->recs[cpu].runs, bg->sent[cpu]);
	}
	ck_assert_uint_eq(wrong_cpu, 0);
	free(bg);
	free(ch);
}
END_TEST

struct waiter {
	pthread_t thread;
	struct xcall_pool *pool;
	int cpu, timeout_ms, err;
	xcall_pool_fn fn;
	void *arg;
};

static void *waiter_main(void *arg)
{
	struct waiter *wt = arg;

	wt->err = xcall_pool_call_single(wt->pool, wt->cpu, wt->fn, wt->arg,
					 1, wt->timeout_ms);
	return NULL;
}

static void waiter_start(struct waiter *wt, struct xcall_pool *p, int cpu,
			 xcall_pool_fn fn, void *arg, int timeout_ms)
{
	wt->pool = p;
	wt->cpu = cpu;
	wt->fn = fn;
	wt->arg = arg;
	wt->timeout_ms = timeout_ms;
	ck_assert_int_eq(pthread_create(&wt->thread, NULL, waiter_main, wt),
			 0);
}

/*
 * A thread whose call on its lane times out behind a held worker, and that
 * then exits: its call is cancelled and never runs, and its lane stays the
 * worker's until the worker has taken the call off it, then is free.
 */
START_TEST(test_lane_timeout_exit)
{
	struct xcall_pool *p = pool_new(0);
	int cpu = cpu_list[ncpus - 1];
	struct rec r = { .cpu = cpu };
	struct waiter wt;
	static struct blocker b;

	blocker_init(&b);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, blocker_fn, &b, 0, -1),
			 0);
	sem_wait_ok(&b.entered);
	waiter_start(&wt, p, cpu, rec_fn, &r, 20);
	pthread_join(wt.thread, NULL);
	ck_assert_int_eq(wt.err, -ETIMEDOUT);
	ck_assert_int_eq(__xcall_pool_lanes(p, cpu, false), 1);

	sem_post(&b.release);
	/*
	 * The worker looks at every lane before it runs ours: after the
	 * first call, the cancelled one has been seen; after the second,
	 * which it ran after that look, its lane is free. Ours remains.
	 */
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 1, -1),
			 0);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 1, -1),
			 0);
	ck_assert_int_eq(__xcall_pool_lanes(p, cpu, false), 1);
	ck_assert_uint_eq(r.runs, 0);
	ck_assert_uint_eq(b.runs, 1);
	xcall_pool_destroy(p);
}
END_TEST

#define ORDER_N		1000
static struct rec order_recs[ORDER_N];

/* How many of the no-wait calls queued before it had run. */
static void order_fn(void *arg)
{
	unsigned long *ran = arg, i;

	for (i = 0; i < ORDER_N; i++)
		*ran += __atomic_load_n(&order_recs[i].runs, __ATOMIC_RELAXED);
}

struct releaser {
	pthread_t thread;
	struct xcall_pool *pool;
	int cpu;
	sem_t *release;
};

/*
 * Let the held worker go once a second lane to it holds a call: the first
 * is the blocker's own (a call that cannot be cancelled stays queued on its
 * lane while it runs).
 */
static void *releaser_main(void *arg)
{
	struct releaser *rl = arg;

	while (__xcall_pool_lanes(rl->pool, rl->cpu, true) < 2)
		sched_yield();
	sem_post(rl->release);
	return NULL;
}

struct holder {
	pthread_t thread;
	struct xcall_pool *pool;
	int cpu, err;
	sem_t taken, go;
	struct blocker *b;
};

/* Take a lane (the lowest free), then, when told, hold its worker. */
static void *holder_main(void *arg)
{
	struct holder *h = arg;

	h->err = xcall_pool_call_single(h->pool, h->cpu, noop_fn, NULL, 1, -1);
	sem_post(&h->taken);
	while (sem_wait(&h->go))
		;
	if (!h->err)
		h->err = xcall_pool_call_single(h->pool, h->cpu, blocker_fn,
						h->b, 1, -1);
	return NULL;
}

/*
 * A waited call on a lane runs after the no-wait calls its thread queued
 * before it, as on one queue: even when the worker finds it in the same
 * pass over the lanes as a call that held it meanwhile. The holder's lane
 * is lower in the bitmap than ours, so the worker, back from the blocker,
 * meets our call next in that pass; both lanes were taken before the pass
 * began, since it took the blocker after it had run our first call.
 */
START_TEST(test_lane_after_queue)
{
	struct xcall_pool *p = pool_new(0);
	int cpu = cpu_list[ncpus - 1], i;
	unsigned long ran = 0;
	struct releaser rl;
	struct holder h = { .pool = p, .cpu = cpu };
	static struct blocker b;

	blocker_init(&b);
	h.b = &b;
	ck_assert_int_eq(sem_init(&h.taken, 0, 0), 0);
	ck_assert_int_eq(sem_init(&h.go, 0, 0), 0);
	ck_assert_int_eq(pthread_create(&h.thread, NULL, holder_main, &h), 0);
	sem_wait_ok(&h.taken);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 1, -1),
			 0);
	ck_assert_int_eq(__xcall_pool_lanes(p, cpu, false), 2);
	sem_post(&h.go);
	sem_wait_ok(&b.entered);
	for (i = 0; i < ORDER_N; i++) {
		order_recs[i].cpu = cpu;
		order_recs[i].runs = 0;
		ck_assert_int_eq(xcall_pool_call_single(p, cpu, rec_fn,
							&order_recs[i], 0, -1),
				 0);
	}
	/* Another thread lets the blocker go once our call is posted. */
	rl.pool = p;
	rl.cpu = cpu;
	rl.release = &b.release;
	ck_assert_int_eq(pthread_create(&rl.thread, NULL, releaser_main, &rl),
			 0);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, order_fn, &ran, 1, -1),
			 0);
	ck_assert_uint_eq(ran, ORDER_N);
	pthread_join(rl.thread, NULL);
	pthread_join(h.thread, NULL);
	ck_assert_int_eq(h.err, 0);
	check_recs(order_recs, ORDER_N);
	xcall_pool_destroy(p);
}
END_TEST

/*
 * A child of fork() has none of the parent's workers: its first pool gets
 * lanes, though the forking thread's table still names the parent's pools
 * at the same CPUs (which the child must not take for alive).
 */
#ifndef __SANITIZE_THREAD__	/* TSan cannot run threads after fork */
START_TEST(test_lane_fork)
{
	struct xcall_pool *p = pool_new(0);
	int cpu = cpu_list[ncpus - 1], status;
	pid_t pid;

	ck_assert_int_eq(xcall_pool_call_single(p, cpu, noop_fn, NULL, 1, -1),
			 0);
	ck_assert_int_eq(__xcall_pool_lanes(p, cpu, false), 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct xcall_pool *q = NULL;

		/* Exit statuses, not asserts: this is the child. */
		if (xcall_pool_create(&q, &cpus, sizeof(cpus), NULL))
			_exit(2);
		if (xcall_pool_call_single(q, cpu, noop_fn, NULL, 1, -1))
			_exit(3);
		if (__xcall_pool_lanes(q, cpu, false) != 1)
			_exit(4);
		xcall_pool_destroy(q);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child: status %#x (4: its pool got no lane)", status);
	xcall_pool_destroy(p);
}
END_TEST
#endif

/* ------------------------------------------------------------------------
 * Bad input.
 */

START_TEST(test_bad_create)
{
	struct xcall_pool *p = NULL;
	cpu_set_t empty, far;
	cpu_set_t *big;
	size_t bigsize = CPU_ALLOC_SIZE(8192);

	CPU_ZERO(&empty);
	ck_assert_int_eq(xcall_pool_create(NULL, &cpus, sizeof(cpus), NULL),
			 -EINVAL);
	ck_assert_int_eq(xcall_pool_create(&p, NULL, sizeof(cpus), NULL),
			 -EINVAL);
	ck_assert_int_eq(xcall_pool_create(&p, &cpus, 0, NULL), -EINVAL);
	ck_assert_int_eq(xcall_pool_create(&p, &empty, sizeof(empty), NULL),
			 -EINVAL);
	/* A CPU that does not exist. */
	CPU_ZERO(&far);
	CPU_SET(CPU_SETSIZE - 1, &far);
	ck_assert_int_eq(xcall_pool_create(&p, &far, sizeof(far), NULL),
			 -ENXIO);
	big = CPU_ALLOC(8192);
	ck_assert_ptr_nonnull(big);
	CPU_ZERO_S(bigsize, big);
	CPU_SET_S(cpu_list[0], bigsize, big);
	CPU_SET_S(8000, bigsize, big);
	ck_assert_int_eq(xcall_pool_create(&p, big, bigsize, NULL), -ENXIO);
	CPU_FREE(big);
	ck_assert_ptr_null(p);
	xcall_pool_destroy(NULL);
}
END_TEST

START_TEST(test_bad_calls)
{
	struct xcall_pool *p = pool_new(0);
	struct xcall_pool_call c;
	cpu_set_t empty, outside;
	int cpu = cpu_list[0], absent = CPU_SETSIZE - 1;

	memset(&c, 0, sizeof(c));
	CPU_ZERO(&empty);
	CPU_ZERO(&outside);
	CPU_SET(cpu, &outside);
	CPU_SET(absent, &outside);

	ck_assert_int_eq(xcall_pool_has_cpu(NULL, cpu), -EINVAL);
	ck_assert_int_eq(xcall_pool_has_cpu(p, cpu), 1);
	ck_assert_int_eq(xcall_pool_has_cpu(p, -1), 0);
	ck_assert_int_eq(xcall_pool_has_cpu(p, absent), 0);

	ck_assert_int_eq(xcall_pool_call_single(NULL, cpu, noop_fn, NULL, 1,
						-1), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_single(p, cpu, NULL, NULL, 1, -1),
			 -EINVAL);
	ck_assert_int_eq(xcall_pool_call_single(p, -1, noop_fn, NULL, 1, -1),
			 -EINVAL);
	ck_assert_int_eq(xcall_pool_call_single(p, absent, noop_fn, NULL, 1,
						-1), -ENXIO);
	ck_assert_int_eq(xcall_pool_call_single(p, INT32_MAX, noop_fn, NULL,
						0, -1), -ENXIO);

	ck_assert_int_eq(xcall_pool_call_async(NULL, cpu, &c), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_async(p, cpu, NULL), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_async(p, cpu, &c), -EINVAL); /* fn */
	c.fn = noop_fn;
	ck_assert_int_eq(xcall_pool_call_async(p, -1, &c), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_async(p, absent, &c), -ENXIO);
	ck_assert(xcall_pool_done(&c));	/* refused calls are not in flight */
	ck_assert_int_eq(xcall_pool_wait(NULL, -1), -EINVAL);
	ck_assert(!xcall_pool_done(NULL));

	ck_assert_int_eq(xcall_pool_call_many(NULL, &cpus, sizeof(cpus),
					      noop_fn, NULL, -1), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_many(p, NULL, sizeof(cpus), noop_fn,
					      NULL, -1), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_many(p, &cpus, 0, noop_fn, NULL, -1),
			 -EINVAL);
	ck_assert_int_eq(xcall_pool_call_many(p, &cpus, sizeof(cpus), NULL,
					      NULL, -1), -EINVAL);
	ck_assert_int_eq(xcall_pool_call_many(p, &empty, sizeof(empty),
					      noop_fn, NULL, -1), -EINVAL);
	memset(many_runs, 0, sizeof(many_runs));
	ck_assert_int_eq(xcall_pool_call_many(p, &outside, sizeof(outside),
					      many_fn, &c.__spin, -1), -ENXIO);
	ck_assert_uint_eq(many_runs[cpu], 0);	/* nothing was queued */
	xcall_pool_destroy(p);
}
END_TEST

/* A case of the suite with the fixture every case has; @timeout s, or 0. */
static TCase *pool_tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup_cpus, NULL);
	if (timeout)
		tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc;

	tc = pool_tcase(s, "stress", 600);
	tcase_add_test(tc, test_stress_spinning);
	tcase_add_test(tc, test_stress_parking);

	tc = pool_tcase(s, "completion", 120);
	tcase_add_test(tc, test_async_completes);
	tcase_add_test(tc, test_single_nowait);
	tcase_add_test(tc, test_nested_own_cpu);

	tc = pool_tcase(s, "many", 120);
	tcase_add_loop_test(tc, test_many_all, 0, 2);
	tcase_add_test(tc, test_many_subset);
	tcase_add_test(tc, test_partial_word_set);
	tcase_add_test(tc, test_many_nested);

	tc = pool_tcase(s, "timeout", 120);
	tcase_add_test(tc, test_timeout_running);
	tcase_add_test(tc, test_timeout_stuck_worker);
	tcase_add_test(tc, test_timeout_no_slot);

	tc = pool_tcase(s, "cancel", 120);
	tcase_add_test(tc, test_cancel_queued);
	tcase_add_test(tc, test_cancel_race);

	tc = pool_tcase(s, "destroy", 120);
	tcase_add_loop_test(tc, test_destroy_drains, 0, 2);

	tc = pool_tcase(s, "lanes", 600);
	tcase_add_loop_test(tc, test_lanes_churn, 0, 2);
	tcase_add_test(tc, test_lane_timeout_exit);
	tcase_add_test(tc, test_lane_after_queue);
#ifndef __SANITIZE_THREAD__	/* TSan cannot run threads after fork */
	tcase_add_test(tc, test_lane_fork);
#endif

	tc = pool_tcase(s, "bad input", 0);
	tcase_add_test(tc, test_bad_create);
	tcase_add_test(tc, test_bad_calls);
	return s;
}

XT_CHECK_MAIN(pool_suite)
