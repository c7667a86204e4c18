// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The threads backend: the functions run on the in-process call pool, one
 * pinned worker per CPU. The pool is process-wide, created by the first
 * xcall_run() for the CPUs it calls (`xcall run --cpu 1` makes one thread,
 * not one per online CPU), replaced once by a pool of every online CPU
 * when a later run calls a CPU it lacks, and destroyed (drained) with the
 * one it replaced when the last threads handle closes: at most two pools,
 * so at most the first run's CPUs plus the online ones in workers. There
 * is no privilege check: the workers are the caller's own threads, so
 * `spin` costs nobody but the caller.
 *
 * A call that times out is still referenced by its worker until the
 * function has run (the pool's contract), so the state of a run lives in
 * one allocation that is freed only when every call of it is done: at once
 * in the common case, else it waits in a graveyard that later runs and the
 * last close sweep.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "cpuset.h"

struct run;

struct run_slot {
	struct xcall_pool_call call;
	struct xcall_result res;	/* written by the worker */
	struct run *run;
	int cpu;
	int queued;
};

struct run {
	struct run *next;		/* graveyard link */
	struct xcall_req req;
	unsigned int n;
	struct run_slot slot[];
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xcall_pool *pool;		/* under pool_lock */
static int pool_full;			/* it had every online CPU */
/* The first pool once a full one replaced it: calls may be in flight. */
static struct xcall_pool *pool_first;
static unsigned int pool_users;
/* Runs with calls still in flight, oldest first, to free once done. */
static struct run *graveyard, **graveyard_tail = &graveyard;

static void run_slot_fn(void *arg)
{
	struct run_slot *s = arg;

	__xcall_fn_exec(&s->run->req, s->cpu, &s->res);
}

static int run_done(const struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->slot[i].queued && !xcall_pool_done(&r->slot[i].call))
			return 0;
	return 1;
}

/*
 * Free the oldest runs of the graveyard while their calls have all run.
 * Under lock. Stopping at the first that has not keeps this O(1) per run
 * (calls to one CPU complete in order); one stuck call delays the rest for
 * at most its function's run time, which is bounded (spin's cap).
 */
static void sweep(void)
{
	struct run *r;

	while ((r = graveyard) && run_done(r)) {
		graveyard = r->next;
		free(r);
	}
	if (!graveyard)
		graveyard_tail = &graveyard;
}

static void bury(struct run *r)
{
	pthread_mutex_lock(&pool_lock);
	r->next = NULL;
	*graveyard_tail = r;
	graveyard_tail = &r->next;
	pthread_mutex_unlock(&pool_lock);
}

/* Does @p serve every CPU of @set? */
static int pool_serves(const struct xcall_pool *p, const cpu_set_t *set,
		       size_t setsize)
{
	long c;

	xcall_for_each_cpu(c, set, setsize)
		if (!xcall_pool_has_cpu(p, c))
			return 0;
	return 1;
}

/*
 * A pool for the online CPUs of @set, or of all online CPUs when @set is
 * NULL; *@full says whether it has every online CPU.
 */
static int pool_make(struct xcall_pool **pp, const cpu_set_t *set,
		     size_t setsize, int *full)
{
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *online, *want, *use;
	long c;
	int err = -ENOMEM;

	online = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	want = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	if (!online || !want)
		goto out_free;
	err = xcall_cpus_online(online, sz);
	if (err)
		goto out_free;
	CPU_ZERO_S(sz, want);
	if (set) {
		xcall_for_each_cpu(c, set, setsize)
			if (c < XCALL_MAX_CPUSET_BYTES * 8 &&
			    CPU_ISSET_S(c, sz, online))
				CPU_SET_S(c, sz, want);
	}
	/* None of @set online any more: all, and each record says ENXIO. */
	use = set && CPU_COUNT_S(sz, want) ? want : online;
	*full = CPU_EQUAL_S(sz, use, online);
	err = xcall_pool_create(pp, use, sz, NULL);
out_free:
	CPU_FREE(want);
	CPU_FREE(online);
	return err;
}

/*
 * The pool that serves @set if any can (a CPU that came online since the
 * full pool was made is not served: its record says ENXIO).
 */
static struct xcall_pool *get_pool(const cpu_set_t *set, size_t setsize,
				   int *err)
{
	struct xcall_pool *p;
	int full;

	*err = 0;
	pthread_mutex_lock(&pool_lock);
	sweep();
	p = pool;
	if (p && (pool_full || pool_serves(p, set, setsize)))
		goto out_unlock;
	/* The first run makes a pool for its CPUs, a second one for all. */
	*err = pool_make(&p, pool ? NULL : set, setsize, &full);
	if (*err) {
		p = NULL;
		goto out_unlock;
	}
	pool_first = pool;
	pool = p;
	pool_full = full;
out_unlock:
	pthread_mutex_unlock(&pool_lock);
	return p;
}

/*
 * A child of fork() has none of the workers: it forgets the parent's pool
 * (its memory is the parent's copy, not freed here) and makes its own.
 */
static void forget_pool_in_child(void)
{
	pthread_mutex_init(&pool_lock, NULL);
	pool = NULL;
	pool_first = NULL;
	graveyard = NULL;
	graveyard_tail = &graveyard;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_pool_in_child);
}

static int threads_open(struct xcall *x, const struct xcall_opts *opts)
{
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&pool_lock);
	pool_users++;
	pthread_mutex_unlock(&pool_lock);
	return 0;
}

static void threads_close(struct xcall *x)
{
	struct run *r;

	pthread_mutex_lock(&pool_lock);
	if (--pool_users == 0) {
		/* Destroy drains: after it, every call has run. */
		if (pool)
			xcall_pool_destroy(pool);
		if (pool_first)
			xcall_pool_destroy(pool_first);
		pool = pool_first = NULL;
		while ((r = graveyard)) {
			graveyard = r->next;
			free(r);
		}
		graveyard_tail = &graveyard;
	}
	pthread_mutex_unlock(&pool_lock);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Milliseconds left until @deadline, rounded up; 0 once it has passed. */
static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ns();

	if (now >= deadline)
		return 0;
	return (deadline - now + 999999) / 1000000;
}

static void fail_record(struct xcall_result *res, unsigned int fn, int cpu,
			int err)
{
	memset(res, 0, sizeof(*res));
	res->cpu = cpu;
	res->fn = fn;
	res->error = err;
}

/*
 * One CPU, and the calling thread is pinned to it alone: the function runs
 * here, exactly as that CPU's worker would run it, with no thread to start
 * or wake (`xcall run --cpu N` pins itself so). Not spin, whose timeout
 * needs a worker to wait on, nor a call not waited for. 1 if it ran.
 */
static int run_here(const struct xcall_req *req, const cpu_set_t *set,
		    size_t setsize, unsigned int n, struct xcall_result *res)
{
	long c = __xcall_set_next(set, setsize, 0);
	cpu_set_t mine;

	if (n != 1 || req->fn == XCALL_FN_SPIN ||
	    (req->flags & XCALL_CALL_NOWAIT) || c >= CPU_SETSIZE ||
	    pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine) ||
	    CPU_COUNT(&mine) != 1 || !CPU_ISSET(c, &mine))
		return 0;
	__xcall_fn_exec(req, c, res);
	return 1;
}

static int threads_run(struct xcall *x, const struct xcall_req *req,
		       const cpu_set_t *set, size_t setsize,
		       struct xcall_result *res, unsigned int nres)
{
	unsigned int i, n = __xcall_set_count(set, setsize), timeout, late = 0;
	struct xcall_pool *p;
	uint64_t deadline;
	struct run *r;
	long c;
	int ret;

	if (run_here(req, set, setsize, n, res))
		return n;
	p = get_pool(set, setsize, &ret);
	if (!p)
		return ret;
	r = calloc(1, sizeof(*r) + n * sizeof(r->slot[0]));
	if (!r)
		return -ENOMEM;
	r->req = *req;
	r->n = n;
	timeout = req->timeout_ms ? req->timeout_ms : XCALL_DEFAULT_TIMEOUT_MS;
	deadline = now_ns() + (uint64_t)timeout * 1000000;

	/* Fan out to every CPU before waiting on any. */
	i = 0;
	xcall_for_each_cpu(c, set, setsize) {
		struct run_slot *s = &r->slot[i];

		if (i == n)
			break;
		s->run = r;
		s->cpu = c;
		s->call.fn = run_slot_fn;
		s->call.arg = s;
		if (!xcall_pool_has_cpu(p, c)) {
			/* Came online after the pool was made: not served. */
			fail_record(&s->res, req->fn, c, -ENXIO);
		} else {
			ret = xcall_pool_call_async(p, c, &s->call);
			if (ret)
				fail_record(&s->res, req->fn, c, ret);
			else
				s->queued = 1;
		}
		i++;
	}
	if (req->flags & XCALL_CALL_NOWAIT) {
		bury(r);
		return n;
	}
	for (i = 0; i < n; i++) {
		struct run_slot *s = &r->slot[i];

		if (s->queued && xcall_pool_wait(&s->call, ms_left(deadline))) {
			fail_record(&res[i], req->fn, s->cpu, -ETIMEDOUT);
			late = 1;
			continue;
		}
		res[i] = s->res;
	}
	if (late)
		bury(r);
	else
		free(r);
	return n;
}

const struct __xcall_backend_ops __xcall_threads_ops = {
	.kind = XCALL_BACKEND_THREADS,
	.name = "threads",
	.open = threads_open,
	.run = threads_run,
	.close = threads_close,
};
