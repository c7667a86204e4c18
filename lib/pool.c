// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The in-process cross-CPU call pool: the userspace mirror of
 * smp_call_function_single() / _many() from kernel/smp.c.
 *
 * One worker thread per CPU of the pool, pinned there with
 * sched_setaffinity(). Each worker has a lock-free multi-producer,
 * single-consumer queue: an intrusive LIFO list like the kernel's llist,
 * whose push reports whether the list was empty, and which the worker takes
 * whole with one exchange and reverses into arrival order. Only the producer
 * that finds the list empty may need to wake the worker, so a burst of calls
 * costs one wake-up at most.
 *
 * An idle worker spins on its queue head for a bounded, adaptive time, then
 * parks on a futex: on a VM a futex wake costs tens of microseconds against
 * a fraction of one for a cache line that changes hands. A waiter does the
 * same on the call's state word.
 *
 * Nothing is allocated after xcall_pool_create(): callers own their
 * struct xcall_pool_call, and the calls the pool makes on a caller's behalf
 * (call_single, call_many) come from slots made at create: a ring per
 * worker for no-wait calls, handed out in order, and a shared free list.
 * A pool-owned call that times out before it has started is cancelled, so
 * a timeout never leaves the worker with a dangling call or a stale
 * argument; caller-owned calls run unless their owner queued them
 * cancellable and cancels them before they start (xcall_pool_cancel()).
 *
 * Lanes. Through the queue a waited call moves three lines: the queue head's
 * and the call's to the worker, the call's back. A thread that waits for
 * call_single() instead keeps a lane to each CPU it calls, as Seastar's
 * smp_message_queue does: a single-producer single-consumer slot where the
 * request and its completion share one line, so a round trip moves that one
 * line each way, as two threads bouncing a line do. Each worker has
 * POOL_LANES of them, made at create, and a bitmap of those that threads
 * hold, so that it polls the lanes in use, not threads times CPUs. A thread
 * finds its lanes in a table of its own (THREAD_LANES entries, one per CPU
 * modulo its size) and gives them back when it exits (a pthread key's
 * destructor, through the registry of live pools, since its pools may be
 * gone by then) or when a call on one times out. Without a lane (all taken,
 * or the entry for that CPU holds another) a call goes through the queue as
 * before; the queue stays for no-wait calls, caller-owned calls and fan-in.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cpuset.h"
#include "libxcall.h"
#include "pool.h"

#define POOL_DEFAULT_SPIN_NS	50000u	/* about one futex wake on a VM */
#define POOL_YIELD_NS		5000u	/* a spinning worker yields this often */
#define POOL_RING		256u	/* no-wait slots of each worker */
#define POOL_SLOTS_PER_CPU	64u	/* shared: waited calls, call_many */
#define POOL_SLOTS_MIN		1024u
#define POOL_SLOTS_MAX		(1u << 20)
#define POOL_LINE		128	/* two lines: beat the pair prefetcher */
#define POOL_LANES		64	/* lanes of each worker: one bitmap word */
#define THREAD_LANES		64	/* a thread's table of lanes, by CPU */

/*
 * struct xcall_pool_call.__state: the phase in the low two bits, flags
 * above. Phase 0 is "not in flight" so that a zeroed call is reusable.
 */
#define ST_IDLE		0u		/* never queued, or done and released */
#define ST_QUEUED	1u
#define ST_RUNNING	2u
#define ST_CANCELLED	3u		/* timed out before it ran: skip it */
#define ST_PHASE	3u
#define ST_WAITERS	4u		/* someone sleeps on the futex */
#define ST_ABANDONED	8u		/* a pool slot nobody waits for: the
					 * worker releases it when it is done */
#define ST_CANCELLABLE	16u		/* its waiter has a deadline, or its
					 * owner may cancel it: the worker
					 * claims it (QUEUED -> RUNNING) first */
#define ST_CLOSED	32u		/* a lane of a pool being destroyed:
					 * nothing more is posted on it */

/* Low bit of a queue head: closed by xcall_pool_destroy(). */
#define Q_CLOSED	((uintptr_t)1)

/* call.__slot of a slot from a worker's ring (see ring_get()). */
#define RING_SLOT	UINT32_MAX

struct pool_slot {
	struct xcall_pool_call call;
	uint32_t next_free;		/* index + 1 of the next free slot */
	uint32_t link;			/* index + 1: call_many's own chain */
	uint32_t seq;			/* ring slot: free for ticket seq */
} __attribute__((aligned(64)));	/* one line: a slot moves alone */

/* A lane: its call is the request and the completion, in one line. */
struct pool_lane {
	struct xcall_pool_call call;	/* __slot 0: never a pool slot */
} __attribute__((aligned(POOL_LINE)));

struct pool_worker {
	/* Hot: written by producers and the worker. */
	uintptr_t head;			/* llist of calls | Q_CLOSED */
	uint32_t parked;		/* futex: 1 while the worker sleeps */

	/* Written by producers only: the next ticket of the ring. */
	uint32_t ring_tail __attribute__((aligned(POOL_LINE)));

	/*
	 * Bit i: lanes[i] is held by a thread (or in flight, abandoned).
	 * Written when a thread takes or gives back a lane, read by the
	 * worker at every poll: it stays in the worker's cache.
	 */
	uint64_t lanes_used __attribute__((aligned(POOL_LINE)));

	/* Cold: the worker's own. */
	struct xcall_pool *pool __attribute__((aligned(POOL_LINE)));
	struct pool_slot *ring;		/* POOL_RING no-wait slots */
	struct pool_lane *lanes;	/* POOL_LANES */
	pthread_t thread;
	int cpu;
	uint32_t spin_ns;		/* current adaptive budget */
} __attribute__((aligned(POOL_LINE)));

struct xcall_pool {
	struct pool_worker *workers;
	unsigned int nworkers;
	int ncpu_map;			/* entries in cpu_worker */
	int *cpu_worker;		/* cpu -> worker index, or -1 */
	uint32_t spin_ns;		/* the maximum spin, from opts */
	uint32_t shutdown;

	uint32_t started;		/* futex: workers that have started */
	int start_err;

	struct pool_slot *slots;
	uint32_t nslots;

	/* The registry of live pools (see lane_table_free()). */
	uint64_t id;			/* unique in the process */
	struct xcall_pool *reg_next;
	/* Free slots: Treiber stack; low 32 bits index + 1, high a tag. */
	uint64_t free_head __attribute__((aligned(POOL_LINE)));
};

/* The worker this thread is, if any: lets a pool function call its CPU. */
static __thread struct pool_worker *current_worker;

/* ------------------------------------------------------------------------
 * Small helpers.
 */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#elif defined(__powerpc64__)
	__asm__ __volatile__("or 1,1,1\n\tor 2,2,2" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * A spin reads the clock (about 50 ns on a VM) every 64 polls (about 2 us)
 * once it is long enough for that not to matter, else at every poll.
 */
static inline unsigned int spin_mask(uint32_t spin_ns)
{
	return spin_ns >= 8000 ? 63 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Absolute CLOCK_MONOTONIC deadline in ns, or UINT64_MAX for "forever". */
static uint64_t deadline_of(int timeout_ms)
{
	if (timeout_ms < 0)
		return UINT64_MAX;
	return now_ns() + (uint64_t)timeout_ms * 1000000u;
}

/*
 * Sleep while *@addr == @val, until @deadline (ns, CLOCK_MONOTONIC).
 * Returns -ETIMEDOUT when the deadline has passed; any other return (woken,
 * value changed, signal) means "look again".
 */
static int futex_wait(uint32_t *addr, uint32_t val, uint64_t deadline)
{
	struct timespec ts, *tsp = NULL;

	if (deadline != UINT64_MAX) {
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		ts.tv_sec = deadline / 1000000000u;
		ts.tv_nsec = deadline % 1000000000u;
		tsp = &ts;
	}
	if (syscall(SYS_futex, addr, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
		    val, tsp, NULL, FUTEX_BITSET_MATCH_ANY) < 0 &&
	    errno == ETIMEDOUT)
		return -ETIMEDOUT;
	return 0;
}

/*
 * Wake sleepers on @addr. The word may belong to a call that its owner has
 * already reused or freed (the owner may see the new state before we get
 * here): like glibc's mutex unlock we rely on FUTEX_WAKE on a stale address
 * being harmless (at worst a spurious wake-up, which every waiter tolerates,
 * or -EFAULT on memory that is gone).
 */
static void futex_wake(uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n,
		NULL, NULL, 0);
}

/* ------------------------------------------------------------------------
 * The per-CPU queue and the wake-up protocol.
 *
 * Why no wake-up is lost. Producer (queue_push): push onto the list with a
 * seq_cst CAS; if the list was empty, load `parked` (seq_cst) and wake the
 * worker if it is 1. Worker (worker_park): store parked = 1 (seq_cst), then
 * load the head (seq_cst); sleep only if it is still empty, and only while
 * parked is still 1. These are two stores and two loads in one total order
 * (Dekker): either the worker's load sees the push, or the producer's load
 * of `parked` sees the 1 and wakes it. Which producer is responsible? A
 * list that is not empty was made non-empty by a push that found it empty
 * (only the worker empties it), and that push's producer runs the check
 * above; a later push onto a non-empty list therefore needs no wake-up,
 * exactly as with llist_add() and smp_call_function_single(). The producer
 * that wakes clears `parked` with an exchange, so of several only one makes
 * the system call; the worker sleeps only while parked == 1 (futex compare),
 * so a wake that comes before it sleeps is not lost either.
 */

static void worker_wake(struct pool_worker *w)
{
	if (__atomic_load_n(&w->parked, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&w->parked, 0, __ATOMIC_SEQ_CST))
		futex_wake(&w->parked, 1);
}

static int queue_push(struct pool_worker *w, struct xcall_pool_call *c)
{
	/*
	 * Guess "empty" rather than load the head first: the CAS then fetches
	 * the line for writing in one go, instead of a read and an upgrade.
	 */
	uintptr_t old = 0;

	do {
		if (old & Q_CLOSED)
			return -ESHUTDOWN;
		c->__next = (void *)old;
	} while (!__atomic_compare_exchange_n(&w->head, &old, (uintptr_t)c,
					      true, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	if (!old)
		worker_wake(w);
	return 0;
}

/* Take every queued call, oldest first. */
static struct xcall_pool_call *queue_take(struct pool_worker *w)
{
	uintptr_t old = __atomic_exchange_n(&w->head, 0, __ATOMIC_ACQUIRE);
	struct xcall_pool_call *c, *next, *fifo = NULL;

	/*
	 * Destroy closed the queue: keep it closed. A push that slipped in
	 * between the two atomics is still run: the worker exits only when
	 * it finds the head exactly Q_CLOSED.
	 */
	if (old & Q_CLOSED)
		__atomic_fetch_or(&w->head, Q_CLOSED, __ATOMIC_SEQ_CST);
	c = (void *)(old & ~Q_CLOSED);
	if (c && !c->__next)
		return c;		/* the common case: nothing to reverse */
	for (; c; c = next) {
		next = c->__next;
		c->__next = fifo;
		fifo = c;
	}
	return fifo;
}

/* ------------------------------------------------------------------------
 * Slots: the calls the pool makes for call_single() and call_many().
 */

static struct pool_slot *slot_of(struct xcall_pool *p, uint32_t idx1)
{
	return &p->slots[idx1 - 1];
}

static struct pool_slot *slot_get(struct xcall_pool *p)
{
	uint64_t old = __atomic_load_n(&p->free_head, __ATOMIC_ACQUIRE);
	uint64_t new;
	uint32_t idx1;

	do {
		idx1 = (uint32_t)old;
		if (!idx1)
			return NULL;
		/* May read a stale link; the tag makes the CAS fail then. */
		new = ((old >> 32) + 1) << 32 |
		      __atomic_load_n(&slot_of(p, idx1)->next_free,
				      __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(&p->free_head, &old, new, true,
					      __ATOMIC_ACQUIRE,
					      __ATOMIC_ACQUIRE));
	/* The next call will most likely write that one: fetch it now. */
	if ((uint32_t)new)
		__builtin_prefetch(slot_of(p, (uint32_t)new), 1);
	return slot_of(p, idx1);
}

/* Return the chain @first .. @last (linked by next_free) to the free list. */
static void slot_put_chain(struct xcall_pool *p, uint32_t first,
			   struct pool_slot *last)
{
	uint64_t old = __atomic_load_n(&p->free_head, __ATOMIC_RELAXED);
	uint64_t new;

	do {
		__atomic_store_n(&last->next_free, (uint32_t)old,
				 __ATOMIC_RELAXED);
		new = ((old >> 32) + 1) << 32 | first;
	} while (!__atomic_compare_exchange_n(&p->free_head, &old, new, true,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

static void slot_put(struct xcall_pool *p, struct pool_slot *s)
{
	slot_put_chain(p, s->call.__slot, s);
}

/*
 * No-wait calls to one worker take their slots from that worker's ring, in
 * ticket order (as in Vyukov's bounded queue: slot t % POOL_RING is free
 * for ticket t when its seq is t). The queue is still the llist; the ring
 * only hands out slots, but in order, so that the worker walks its calls
 * through consecutive lines, which the hardware prefetches, rather than
 * chasing lines scattered by a free list. NULL when the ring is full.
 */
static struct pool_slot *ring_get(struct pool_worker *w)
{
	uint32_t t = __atomic_load_n(&w->ring_tail, __ATOMIC_RELAXED);
	struct pool_slot *s;

	for (;;) {
		s = &w->ring[t % POOL_RING];
		if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != t)
			return NULL;
		if (__atomic_compare_exchange_n(&w->ring_tail, &t, t + 1, true,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return s;
	}
}

/* Done with a ring slot: free it for the ticket one lap later. */
static void ring_put(struct pool_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + POOL_RING, __ATOMIC_RELEASE);
}

/*
 * A free slot, waiting for one until @deadline if every slot is in flight
 * (the workers release abandoned ones as they run them). NULL on timeout.
 */
static struct pool_slot *slot_get_wait(struct xcall_pool *p,
				       uint64_t deadline)
{
	struct pool_slot *s;

	while (!(s = slot_get(p))) {
		if (deadline != UINT64_MAX && now_ns() >= deadline)
			return NULL;
		sched_yield();
	}
	return s;
}

/* ------------------------------------------------------------------------
 * Running calls and waiting for them.
 */

/*
 * Run one call on its worker. After the exchange that publishes "done" the
 * worker does not touch a caller-owned call again (but for the futex wake,
 * see futex_wake()). Returns the number of a pool slot that the worker must
 * now release (its caller went away, or never waited), else 0.
 *
 * Only a slot whose waiter has a deadline can be cancelled, so only that
 * needs the read-modify-write that claims it (it costs a round trip of the
 * line when the waiter polls it); a no-wait slot (queued abandoned) is not
 * even marked done: nobody looks at it before it is reused.
 */
static uint32_t call_run(struct xcall_pool_call *c)
{
	uint32_t st = __atomic_load_n(&c->__state, __ATOMIC_ACQUIRE);
	uint32_t slot = c->__slot, old = st;

	if (st & ST_CANCELLABLE) {
		do {
			if ((old & ST_PHASE) == ST_CANCELLED)
				break;
		} while (!__atomic_compare_exchange_n(&c->__state, &old,
					(old & ~ST_PHASE) | ST_RUNNING, true,
					__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE));
	}
	if ((old & ST_PHASE) != ST_CANCELLED)
		c->fn(c->arg);
	if (slot && st == (ST_QUEUED | ST_ABANDONED))
		return slot;

	old = __atomic_exchange_n(&c->__state, ST_IDLE, __ATOMIC_SEQ_CST);
	if (old & ST_ABANDONED)
		return slot;
	if (old & ST_WAITERS)
		futex_wake(&c->__state, INT_MAX);
	return 0;
}

/* Run a batch of calls, oldest first; release their slots in one go. */
static void worker_run(struct xcall_pool *p, struct xcall_pool_call *c)
{
	struct xcall_pool_call *next;
	struct pool_slot *last = NULL;
	uint32_t first = 0, slot;

	for (; c; c = next) {
		next = c->__next;	/* c may be reused once it has run */
		slot = call_run(c);
		if (!slot)
			continue;
		if (slot == RING_SLOT) {
			ring_put((struct pool_slot *)c);
			continue;
		}
		__atomic_store_n(&slot_of(p, slot)->next_free, first,
				 __ATOMIC_RELAXED);
		if (!last)
			last = slot_of(p, slot);
		first = slot;
	}
	if (first)
		slot_put_chain(p, first, last);
}

/*
 * Wait until @c is done or @deadline passes: spin up to @spin_ns, then sleep
 * on the state word with ST_WAITERS set so that call_run() wakes us.
 * The waiter's CAS that sets ST_WAITERS and the worker's exchange are
 * read-modify-writes of one word, so the worker either sees the flag or the
 * CAS fails on the new phase: no lost wake-up.
 */
static int call_wait(struct xcall_pool_call *c, uint64_t deadline,
		     uint32_t spin_ns)
{
	uint32_t st = __atomic_load_n(&c->__state, __ATOMIC_ACQUIRE);
	uint64_t t, t0 = 0;
	unsigned int n = 0;

	if (!(st & ST_PHASE))
		return 0;
	if (deadline != UINT64_MAX) {
		t0 = now_ns();
		if (t0 >= deadline)
			spin_ns = 0;
	}
	/*
	 * As in worker_spin(), the clock is read only once the spin lasts; so
	 * is the CPU we run on (even that costs the round trip time): spinning
	 * on the worker's own CPU would only keep it from running.
	 */
	while (spin_ns) {
		cpu_relax();
		st = __atomic_load_n(&c->__state, __ATOMIC_ACQUIRE);
		if (!(st & ST_PHASE))
			return 0;
		if (++n & spin_mask(spin_ns))
			continue;
		if (n == spin_mask(spin_ns) + 1 && sched_getcpu() == c->cpu)
			break;
		t = now_ns();
		if (!t0)
			t0 = t;
		else if (t - t0 >= spin_ns || t >= deadline)
			break;
	}
	for (;;) {
		if (!(st & ST_PHASE))
			return 0;
		if (deadline != UINT64_MAX && now_ns() >= deadline)
			return -ETIMEDOUT;
		if (!(st & ST_WAITERS) &&
		    !__atomic_compare_exchange_n(&c->__state, &st,
						 st | ST_WAITERS, false,
						 __ATOMIC_ACQUIRE,
						 __ATOMIC_ACQUIRE))
			continue;
		futex_wait(&c->__state, st | ST_WAITERS, deadline);
		st = __atomic_load_n(&c->__state, __ATOMIC_ACQUIRE);
	}
}

/*
 * The caller of a pool slot stops waiting for it (timeout). If it has not
 * started it is cancelled and its function never runs; either way the
 * worker releases it when it gets to it. If it finished meanwhile, the
 * caller still owns it and releases it here.
 */
static void slot_abandon(struct xcall_pool *p, struct pool_slot *s)
{
	uint32_t old = __atomic_load_n(&s->call.__state, __ATOMIC_ACQUIRE);
	uint32_t new;

	do {
		if (!(old & ST_PHASE)) {
			slot_put(p, s);
			return;
		}
		new = old | ST_ABANDONED;
		if ((old & ST_PHASE) == ST_QUEUED)
			new = (new & ~ST_PHASE) | ST_CANCELLED;
	} while (!__atomic_compare_exchange_n(&s->call.__state, &old, new,
					      true, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
}

/* ------------------------------------------------------------------------
 * Lanes: a waiting caller thread's own slot to a worker.
 *
 * A lane holds one call at a time, posted by the thread that holds it:
 * fn and arg, then a CAS of the state from idle to queued, which fails if
 * destroy has closed the lane (ST_CLOSED). The worker polls the lanes of
 * its bitmap, runs a queued one (claiming it first if it is cancellable,
 * as call_run() does) and sets it idle, keeping ST_CLOSED, with one
 * read-modify-write that also tells it whether to wake a sleeping waiter.
 * The waiter is call_wait(), as for any call.
 *
 * A lane leaves its thread when the thread exits or when a call on it
 * times out: lane_abandon() frees it at once if it is idle, else marks it
 * ST_ABANDONED (cancelling it if it had not started) and the worker frees
 * it once it has run, as it does a pool slot nobody waits for.
 *
 * Why the worker never misses a post: as for the queue (see queue_push()),
 * the post is a seq_cst read-modify-write followed by a load of `parked`,
 * and worker_park() stores parked = 1 before it loads the lanes (their
 * bitmap, whose bit the caller set before it posted, then each state).
 * Why destroy never strands one: pool_stop() closes every lane before it
 * closes the queues, and a worker exits only once it has found its queue
 * closed and then no lane queued; a post that got in before the close is
 * seen by that last look, a post after it fails with -ESHUTDOWN.
 */

/*
 * A thread's lane to one CPU of one pool: the pool's id tells a pool made
 * again at the same address from the one the lane came from.
 */
struct lane_ref {
	struct xcall_pool *pool;
	uint64_t id;
	struct pool_worker *w;
	struct pool_lane *lane;		/* NULL: no lane */
	uint32_t destroyed;		/* reg_destroyed when it was alive */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xcall_pool *reg_pools;	/* live pools, under reg_lock */
static uint64_t reg_ids;		/* under reg_lock */
static uint32_t reg_destroyed;		/* pools destroyed so far */
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static pthread_once_t lane_once = PTHREAD_ONCE_INIT;
static pthread_key_t lane_key;
static bool lane_key_ok;

/* THREAD_LANES entries, or NULL: this thread's lanes, by CPU. */
static __thread struct lane_ref *tl_lanes;

/*
 * A child of fork() has none of the workers: no pool of the parent's is
 * alive there (the threads backend makes its own), and reg_lock may have
 * been held by a thread that the child does not have.
 */
static void reg_forget_in_child(void)
{
	pthread_mutex_init(&reg_lock, NULL);
	reg_pools = NULL;
	reg_destroyed++;
}

static void reg_init(void)
{
	pthread_atfork(NULL, NULL, reg_forget_in_child);
}

static void reg_add(struct xcall_pool *p)
{
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_lock);
	p->id = ++reg_ids;
	p->reg_next = reg_pools;
	reg_pools = p;
	pthread_mutex_unlock(&reg_lock);
}

static void reg_del(struct xcall_pool *p)
{
	struct xcall_pool **pp;

	pthread_mutex_lock(&reg_lock);
	for (pp = &reg_pools; *pp; pp = &(*pp)->reg_next) {
		if (*pp == p) {
			*pp = p->reg_next;
			break;
		}
	}
	__atomic_fetch_add(&reg_destroyed, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&reg_lock);
}

/* Is the pool of @r still alive? Under reg_lock. */
static bool reg_alive(const struct lane_ref *r)
{
	struct xcall_pool *p;

	for (p = reg_pools; p; p = p->reg_next)
		if (p == r->pool && p->id == r->id)
			return true;
	return false;
}

static void lane_free(struct pool_worker *w, struct pool_lane *l)
{
	uint64_t bit = 1ull << (l - w->lanes);

	__atomic_fetch_and(&w->lanes_used, ~bit, __ATOMIC_RELEASE);
}

/* Take a free lane of @w, or NULL when all POOL_LANES are held. */
static struct pool_lane *lane_take(struct pool_worker *w)
{
	uint64_t used = __atomic_load_n(&w->lanes_used, __ATOMIC_RELAXED);
	uint64_t bit;

	do {
		if (!~used)
			return NULL;
		bit = ~used & (used + 1);	/* the lowest free one */
	} while (!__atomic_compare_exchange_n(&w->lanes_used, &used,
					      used | bit, true,
					      __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return &w->lanes[__builtin_ctzll(bit)];
}

/*
 * The holder lets go of @l: free it now if it is idle, else leave it to
 * the worker, cancelled if it had not started and may be. Returns true if
 * it was idle (its holder may keep it after all).
 */
static bool lane_abandon(struct pool_worker *w, struct pool_lane *l,
			 bool keep_idle)
{
	uint32_t old = __atomic_load_n(&l->call.__state, __ATOMIC_ACQUIRE);
	uint32_t new;

	do {
		if (!(old & ST_PHASE)) {
			if (!keep_idle)
				lane_free(w, l);
			return true;
		}
		new = old | ST_ABANDONED;
		if ((old & ST_PHASE) == ST_QUEUED && (old & ST_CANCELLABLE))
			new = (new & ~ST_PHASE) | ST_CANCELLED;
	} while (!__atomic_compare_exchange_n(&l->call.__state, &old, new,
					      true, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return false;
}

/*
 * The key's destructor: the thread exits, its lanes go back to the pools
 * that are still alive. Under reg_lock, so that no pool is freed meanwhile
 * (xcall_pool_destroy() leaves the registry first).
 */
static void lane_table_free(void *arg)
{
	struct lane_ref *t = arg;
	unsigned int i;

	if (t == tl_lanes)
		tl_lanes = NULL;
	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < THREAD_LANES; i++)
		if (t[i].lane && reg_alive(&t[i]))
			lane_abandon(t[i].w, t[i].lane, false);
	pthread_mutex_unlock(&reg_lock);
	free(t);
}

static void lane_key_init(void)
{
	lane_key_ok = !pthread_key_create(&lane_key, lane_table_free);
}

/* Unloaded (dlclose()): no thread may call into the unmapped destructor. */
__attribute__((destructor)) static void lane_key_fini(void)
{
	if (lane_key_ok)
		pthread_key_delete(lane_key);
}

/* This thread's table, made on its first waited call; NULL without memory. */
static struct lane_ref *lane_table(void)
{
	struct lane_ref *t;

	pthread_once(&lane_once, lane_key_init);
	if (!lane_key_ok)
		return NULL;
	t = calloc(THREAD_LANES, sizeof(*t));
	if (!t)
		return NULL;
	if (pthread_setspecific(lane_key, t)) {
		free(t);
		return NULL;
	}
	tl_lanes = t;
	return t;
}

/*
 * This thread's lane to @w, taken now if it has none: NULL if every lane of
 * @w is held, or its entry holds a lane of a pool still alive (another
 * pool, or another CPU of more than THREAD_LANES), or without memory.
 */
static struct pool_lane *lane_get_slow(struct xcall_pool *p,
				       struct pool_worker *w)
{
	struct lane_ref *t = tl_lanes ?: lane_table(), *r;
	uint32_t destroyed;
	bool alive;

	if (!t)
		return NULL;
	r = &t[w->cpu % THREAD_LANES];
	destroyed = __atomic_load_n(&reg_destroyed, __ATOMIC_ACQUIRE);
	if (r->lane && r->pool == p && r->id == p->id)
		return NULL;		/* another CPU of this pool */
	if (r->lane && r->pool != p) {
		/* A pool at another address: no look if none has gone. */
		if (r->destroyed == destroyed)
			return NULL;
		pthread_mutex_lock(&reg_lock);
		alive = reg_alive(r);
		pthread_mutex_unlock(&reg_lock);
		if (alive) {
			r->destroyed = destroyed;
			return NULL;
		}
	}
	/* Free, or a lane of a pool that is gone (with its lanes). */
	r->lane = lane_take(w);
	if (!r->lane)
		return NULL;
	r->pool = p;
	r->id = p->id;
	r->w = w;
	r->destroyed = destroyed;
	return r->lane;
}

static inline struct pool_lane *lane_get(struct xcall_pool *p,
					 struct pool_worker *w)
{
	struct lane_ref *r = tl_lanes;

	if (r) {
		r += w->cpu % THREAD_LANES;
		if (r->w == w && r->pool == p && r->id == p->id && r->lane)
			return r->lane;
	}
	return lane_get_slow(p, w);
}

/* The call on this thread's lane @l timed out: the lane is no longer its. */
static void lane_drop(struct pool_worker *w, struct pool_lane *l)
{
	struct lane_ref *r = &tl_lanes[w->cpu % THREAD_LANES];

	if (!lane_abandon(w, l, true))
		r->lane = NULL;
}

/*
 * call_single() with wait, on this thread's lane @l to @w. Returns 1 if the
 * lane holds a call already (only its thread posts on it, so a call that
 * interrupted this thread's own: a signal handler's), so that the caller
 * uses the queue.
 */
static int lane_call(struct xcall_pool *p, struct pool_worker *w,
		     struct pool_lane *l, xcall_pool_fn fn, void *arg,
		     uint64_t deadline)
{
	struct xcall_pool_call *c = &l->call;
	uint32_t st = __atomic_load_n(&c->__state, __ATOMIC_ACQUIRE);
	int err;

	if (st & ST_CLOSED)
		return -ESHUTDOWN;
	if (st & ST_PHASE)
		return 1;
	c->fn = fn;
	c->arg = arg;
	if (!__atomic_compare_exchange_n(&c->__state, &st, ST_QUEUED |
			(deadline != UINT64_MAX ? ST_CANCELLABLE : 0),
			false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return -ESHUTDOWN;	/* destroy closed it meanwhile */
	worker_wake(w);
	err = call_wait(c, deadline, p->spin_ns);
	if (err)
		lane_drop(w, l);
	return err;
}

/* Run what lane @l holds (its state was @st), then set it idle. */
static void lane_run(struct pool_worker *w, struct pool_lane *l, uint32_t st)
{
	struct xcall_pool_call *c = &l->call;
	uint32_t old = st;

	if (st & ST_CANCELLABLE) {
		do {
			if ((old & ST_PHASE) != ST_QUEUED)
				break;
		} while (!__atomic_compare_exchange_n(&c->__state, &old,
					(old & ~ST_PHASE) | ST_RUNNING, true,
					__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE));
	}
	if ((old & ST_PHASE) == ST_QUEUED)
		c->fn(c->arg);
	old = __atomic_fetch_and(&c->__state, ST_CLOSED, __ATOMIC_SEQ_CST);
	if (old & ST_ABANDONED)
		lane_free(w, l);
	else if (old & ST_WAITERS)
		futex_wake(&c->__state, INT_MAX);
}

/* Is lane state @st something for the worker to do? */
static inline bool lane_pending(uint32_t st)
{
	return (st & ST_PHASE) == ST_QUEUED ||
	       (st & ST_PHASE) == ST_CANCELLED;
}

/*
 * Run every lane of @w that holds a call; true if any did. A call queued
 * before a lane's was posted (by its thread, or by one that told it) runs
 * first, as if the lane were the queue: the acquire that sees the post sees
 * that push too. So a waited call still flushes the no-wait calls before
 * it, and the queue's line is only read, which costs nothing while nobody
 * pushes.
 */
static bool lanes_run(struct pool_worker *w)
{
	uint64_t used = __atomic_load_n(&w->lanes_used, __ATOMIC_ACQUIRE);
	struct pool_lane *l;
	bool ran = false;
	uint32_t st;

	for (; used; used &= used - 1) {
		l = &w->lanes[__builtin_ctzll(used)];
		st = __atomic_load_n(&l->call.__state, __ATOMIC_ACQUIRE);
		if (!lane_pending(st))
			continue;
		if (__atomic_load_n(&w->head, __ATOMIC_RELAXED) & ~Q_CLOSED)
			worker_run(w->pool, queue_take(w));
		lane_run(w, l, st);
		ran = true;
	}
	return ran;
}

/* Does a lane of @w hold a call? seq_cst: worker_park()'s side of Dekker. */
static bool lanes_busy(struct pool_worker *w)
{
	uint64_t used = __atomic_load_n(&w->lanes_used, __ATOMIC_SEQ_CST);

	for (; used; used &= used - 1)
		if (lane_pending(__atomic_load_n(
			&w->lanes[__builtin_ctzll(used)].call.__state,
			__ATOMIC_SEQ_CST)))
			return true;
	return false;
}

/* Lanes to @cpu that threads hold, or hold a call (for the tests). */
int __xcall_pool_lanes(const struct xcall_pool *p, int cpu, bool queued)
{
	const struct pool_worker *w;
	uint64_t used;
	int n = 0;

	if (!p || cpu < 0 || cpu >= p->ncpu_map || p->cpu_worker[cpu] < 0)
		return -ENXIO;
	w = &p->workers[p->cpu_worker[cpu]];
	used = __atomic_load_n(&w->lanes_used, __ATOMIC_ACQUIRE);
	if (!queued)
		return __builtin_popcountll(used);
	for (; used; used &= used - 1)
		n += lane_pending(__atomic_load_n(
			&w->lanes[__builtin_ctzll(used)].call.__state,
			__ATOMIC_ACQUIRE));
	return n;
}

/* ------------------------------------------------------------------------
 * Workers.
 */

/*
 * Spin on the queue for the adaptive budget; true if work arrived. @t0 gets
 * the time the worker became idle. Every POOL_YIELD_NS the worker yields:
 * a thread that shares this CPU (often the very producer we wait for) runs
 * then instead of waiting for the spin to end; with nobody else runnable
 * sched_yield() returns at once.
 */
static bool worker_spin(struct pool_worker *w, uint64_t *t0)
{
	uint64_t t, yield_at = 0;
	unsigned int n = 0;

	if (!w->spin_ns) {
		*t0 = now_ns();
		return false;
	}
	/* The clock is read only once the spin lasts: calls come sooner. */
	*t0 = 0;
	for (;;) {
		if (__atomic_load_n(&w->head, __ATOMIC_RELAXED) ||
		    lanes_busy(w))
			return true;
		cpu_relax();
		if (++n & spin_mask(w->spin_ns))
			continue;
		t = now_ns();
		if (!*t0) {
			*t0 = t;
			yield_at = t + POOL_YIELD_NS;
		} else if (t - *t0 >= w->spin_ns) {
			return false;
		}
		if (t >= yield_at) {
			sched_yield();
			yield_at = t + POOL_YIELD_NS;
		}
	}
}

static void worker_park(struct pool_worker *w, uint64_t idle_since)
{
	uint32_t max = w->pool->spin_ns;

	__atomic_store_n(&w->parked, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->head, __ATOMIC_SEQ_CST) || lanes_busy(w)) {
		__atomic_store_n(&w->parked, 0, __ATOMIC_RELAXED);
		return;
	}
	while (__atomic_load_n(&w->parked, __ATOMIC_ACQUIRE))
		futex_wait(&w->parked, 1, UINT64_MAX);

	/*
	 * Adapt: had we spun a little longer we would have caught this call
	 * without the sleep, so spin the full budget next time; a long idle
	 * gap halves the budget, so an idle worker stops burning its CPU.
	 */
	if (now_ns() - idle_since <= max)
		w->spin_ns = max;
	else if (w->spin_ns > max / 16)
		w->spin_ns /= 2;
}

static int worker_pin(struct pool_worker *w)
{
	cpu_set_t *set;
	size_t size = CPU_ALLOC_SIZE(w->cpu + 1);
	int err = 0;

	set = CPU_ALLOC(w->cpu + 1);
	if (!set)
		return -ENOMEM;
	CPU_ZERO_S(size, set);
	CPU_SET_S(w->cpu, size, set);
	if (sched_setaffinity(0, size, set))
		err = errno == EINVAL ? -ENXIO : -errno;
	CPU_FREE(set);
	return err;
}

static void *worker_main(void *arg)
{
	struct pool_worker *w = arg;
	struct xcall_pool *p = w->pool;
	uint64_t idle_since;
	int err;

	err = worker_pin(w);
	if (err)
		__atomic_store_n(&p->start_err, err, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->started, 1, __ATOMIC_RELEASE);
	futex_wake(&p->started, INT_MAX);
	if (err)
		return NULL;

	current_worker = w;
	for (;;) {
		uintptr_t h = __atomic_load_n(&w->head, __ATOMIC_ACQUIRE);
		bool ran = false;

		/* A batch of the queue, then the lanes: neither starves. */
		if (h & ~Q_CLOSED) {
			worker_run(p, queue_take(w));
			ran = true;
		}
		if (lanes_run(w))
			ran = true;
		if (ran)
			continue;
		if (h == Q_CLOSED)
			break;		/* closed, and no lane queued after */
		if (worker_spin(w, &idle_since))
			continue;
		worker_park(w, idle_since);
	}
	current_worker = NULL;
	return NULL;
}

/* ------------------------------------------------------------------------
 * The public interface.
 */

/* The worker for @cpu, or NULL. */
static struct pool_worker *worker_of(struct xcall_pool *p, int cpu)
{
	if (cpu >= p->ncpu_map || p->cpu_worker[cpu] < 0)
		return NULL;
	return &p->workers[p->cpu_worker[cpu]];
}

int xcall_pool_has_cpu(const struct xcall_pool *p, int cpu)
{
	if (!p)
		return -EINVAL;
	return cpu >= 0 && cpu < p->ncpu_map && p->cpu_worker[cpu] >= 0;
}

static void pool_stop(struct xcall_pool *p, unsigned int n)
{
	unsigned int i, k;

	__atomic_store_n(&p->shutdown, 1, __ATOMIC_SEQ_CST);
	/* The lanes first: see "Why destroy never strands one". */
	for (i = 0; i < n; i++)
		for (k = 0; k < POOL_LANES; k++)
			__atomic_fetch_or(&p->workers[i].lanes[k].call.__state,
					  ST_CLOSED, __ATOMIC_SEQ_CST);
	for (i = 0; i < n; i++)
		__atomic_fetch_or(&p->workers[i].head, Q_CLOSED,
				  __ATOMIC_SEQ_CST);
	/* Same Dekker pairing as queue_push(): the close is the push. */
	for (i = 0; i < n; i++) {
		struct pool_worker *w = &p->workers[i];

		if (__atomic_exchange_n(&w->parked, 0, __ATOMIC_SEQ_CST))
			futex_wake(&w->parked, 1);
	}
	for (i = 0; i < n; i++)
		pthread_join(p->workers[i].thread, NULL);
}

static void pool_free(struct xcall_pool *p)
{
	unsigned int i;

	for (i = 0; p->workers && i < p->nworkers; i++) {
		free(p->workers[i].ring);
		free(p->workers[i].lanes);
	}
	free(p->slots);
	free(p->workers);
	free(p->cpu_worker);
	free(p);
}

/* Zeroed memory on a POOL_LINE boundary (what the structs ask for). */
static void *zalloc_aligned(size_t size)
{
	size_t rounded = (size + POOL_LINE - 1) & ~(size_t)(POOL_LINE - 1);
	void *mem = aligned_alloc(POOL_LINE, rounded);

	if (mem)
		memset(mem, 0, rounded);
	return mem;
}

static int pool_start(struct xcall_pool *p)
{
	sigset_t all, old;
	unsigned int i, n;
	uint32_t started;
	int err = 0;

	/* Workers take no signals: those belong to the application. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < p->nworkers; i++) {
		err = -pthread_create(&p->workers[i].thread, NULL,
				      worker_main, &p->workers[i]);
		if (err)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	n = i;

	while ((started = __atomic_load_n(&p->started, __ATOMIC_ACQUIRE)) < n)
		futex_wait(&p->started, started, UINT64_MAX);
	if (!err)
		err = __atomic_load_n(&p->start_err, __ATOMIC_RELAXED);
	if (err)
		pool_stop(p, n);
	return err;
}

/**
 * xcall_pool_create() - start one pinned worker on each CPU of @set
 * @pp: the new pool
 * @set, @setsize: the CPUs (setsize in bytes, as for CPU_ALLOC_SIZE)
 * @opts: NULL for the defaults
 *
 * Return: 0, -EINVAL for bad arguments or an empty set, -ENXIO if a CPU of
 * the set cannot be used (offline, or outside the allowed CPUs), -ENOMEM,
 * -EAGAIN (no more threads).
 */
int xcall_pool_create(struct xcall_pool **pp, const cpu_set_t *set,
		      size_t setsize, const struct xcall_pool_opts *opts)
{
	struct xcall_pool *p;
	unsigned int i, k, n;
	int cpu, maxcpu = -1, err;

	if (!pp || !set || !setsize)
		return -EINVAL;
	n = __xcall_set_count(set, setsize);
	if (!n)
		return -EINVAL;
	for (cpu = 0; cpu < (int)(setsize * 8); cpu++)
		if (__xcall_set_isset(set, setsize, cpu))
			maxcpu = cpu;

	p = zalloc_aligned(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->spin_ns = opts && opts->spin_ns ? opts->spin_ns
					   : POOL_DEFAULT_SPIN_NS;
	p->nworkers = n;
	p->ncpu_map = maxcpu + 1;
	p->nslots = n > POOL_SLOTS_MAX / POOL_SLOTS_PER_CPU ? POOL_SLOTS_MAX
		    : n * POOL_SLOTS_PER_CPU;
	if (p->nslots < POOL_SLOTS_MIN)
		p->nslots = POOL_SLOTS_MIN;

	err = -ENOMEM;
	p->cpu_worker = malloc(p->ncpu_map * sizeof(*p->cpu_worker));
	p->workers = zalloc_aligned(n * sizeof(*p->workers));
	p->slots = zalloc_aligned(p->nslots * sizeof(*p->slots));
	if (!p->cpu_worker || !p->workers || !p->slots)
		goto out_free;

	for (i = 0; i < n; i++) {
		struct pool_slot *ring = zalloc_aligned(POOL_RING *
							sizeof(*ring));
		struct pool_lane *lanes = zalloc_aligned(POOL_LANES *
							 sizeof(*lanes));

		p->workers[i].ring = ring;
		p->workers[i].lanes = lanes;
		if (!ring || !lanes)
			goto out_free;
		for (k = 0; k < POOL_RING; k++) {
			ring[k].call.__slot = RING_SLOT;
			ring[k].seq = k;
		}
	}
	for (cpu = 0, i = 0; cpu < p->ncpu_map; cpu++) {
		p->cpu_worker[cpu] = -1;
		if (!__xcall_set_isset(set, setsize, cpu))
			continue;
		p->workers[i].pool = p;
		p->workers[i].cpu = cpu;
		p->workers[i].spin_ns = p->spin_ns;
		for (k = 0; k < POOL_LANES; k++)
			p->workers[i].lanes[k].call.cpu = cpu;
		p->cpu_worker[cpu] = i++;
	}
	for (i = 0; i < p->nslots; i++) {
		p->slots[i].call.__slot = i + 1;
		p->slots[i].next_free = i + 1 < p->nslots ? i + 2 : 0;
	}
	p->free_head = 1;

	err = pool_start(p);
	if (err)
		goto out_free;
	reg_add(p);
	*pp = p;
	return 0;

out_free:
	pool_free(p);
	return err;
}

/**
 * xcall_pool_destroy() - run every pending call, stop and join the workers
 *
 * Calls that arrive once destroy has started fail with -ESHUTDOWN (a
 * function running on a worker may still call; another thread must not
 * still be inside an xcall_pool_*() call on @p when destroy returns). Must
 * not be called from a pool function.
 */
void xcall_pool_destroy(struct xcall_pool *p)
{
	if (!p)
		return;
	reg_del(p);		/* exiting threads leave its lanes alone */
	pool_stop(p, p->nworkers);
	pool_free(p);
}

/* Queue @c, already marked ST_QUEUED, on @w. */
static int call_queue(struct xcall_pool *p, struct pool_worker *w,
		      struct xcall_pool_call *c)
{
	c->cpu = w->cpu;
	c->__spin = p->spin_ns;
	return queue_push(w, c);
}

/**
 * xcall_pool_call_async_flags() - queue caller-owned @c on @cpu
 * @flags: XCALL_POOL_CANCELLABLE, or 0
 *
 * @c->fn and @c->arg are set by the caller. Like
 * smp_call_function_single_async(): -EBUSY if @c is still in flight.
 * @c stays in use by the pool until xcall_pool_done(@c) or a successful
 * xcall_pool_wait(@c); a wait that times out leaves it queued: the call
 * still runs later (unless xcall_pool_cancel() stops it first), and the
 * caller must not free or reuse @c (or @arg) before it is done.
 *
 * A cancellable call costs its worker one read-modify-write more, the
 * claim (QUEUED -> RUNNING) that call_run() makes before fn runs and that
 * a cancel races with: which is why it is asked for, not the default.
 */
int xcall_pool_call_async_flags(struct xcall_pool *p, int cpu,
				struct xcall_pool_call *c, unsigned int flags)
{
	struct pool_worker *w;
	int err;

	if (!p || !c || !c->fn || cpu < 0 || flags & ~XCALL_POOL_CANCELLABLE)
		return -EINVAL;
	w = worker_of(p, cpu);
	if (!w)
		return -ENXIO;
	/*
	 * Like csd_lock() for smp_call_function_single_async(): a check, not
	 * an atomic claim (a locked instruction on the line the worker has
	 * just written costs a round trip); one @c is queued by one thread.
	 */
	if (__atomic_load_n(&c->__state, __ATOMIC_ACQUIRE) & ST_PHASE)
		return -EBUSY;
	__atomic_store_n(&c->__state, ST_QUEUED |
			 (flags & XCALL_POOL_CANCELLABLE ? ST_CANCELLABLE : 0),
			 __ATOMIC_RELAXED);
	c->__slot = 0;
	err = call_queue(p, w, c);
	if (err)
		__atomic_store_n(&c->__state, ST_IDLE, __ATOMIC_RELEASE);
	return err;
}

int xcall_pool_call_async(struct xcall_pool *p, int cpu,
			  struct xcall_pool_call *c)
{
	return xcall_pool_call_async_flags(p, cpu, c, 0);
}

/**
 * xcall_pool_cancel() - stop caller-owned @c before it starts
 *
 * The same claim as slot_abandon()'s: a CAS of QUEUED to CANCELLED against
 * call_run()'s of QUEUED to RUNNING, so exactly one of them wins, and a
 * call that its worker has claimed runs to its end. The worker still takes
 * a cancelled call off its queue and sets it idle (waking its waiters), so
 * the call's memory is released exactly once, the usual way.
 *
 * Return: 0 cancelled: fn never runs; -EBUSY running; -EALREADY not in
 * flight, or cancelled already; -EINVAL not queued cancellable.
 */
int xcall_pool_cancel(struct xcall_pool_call *c)
{
	uint32_t old;

	if (!c)
		return -EINVAL;
	old = __atomic_load_n(&c->__state, __ATOMIC_ACQUIRE);
	do {
		switch (old & ST_PHASE) {
		case ST_IDLE:
		case ST_CANCELLED:
			return -EALREADY;
		case ST_RUNNING:
			return -EBUSY;
		}
		if (c->__slot || !(old & ST_CANCELLABLE))
			return -EINVAL;
	} while (!__atomic_compare_exchange_n(&c->__state, &old,
					      (old & ~ST_PHASE) | ST_CANCELLED,
					      true, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 0;
}

/**
 * xcall_pool_wait() - wait for a call queued by xcall_pool_call_async()
 * @timeout_ms: < 0 waits forever, 0 only looks
 *
 * Return: 0 once it has run, -ETIMEDOUT (it is still queued or running),
 * -EINVAL.
 */
int xcall_pool_wait(struct xcall_pool_call *c, int timeout_ms)
{
	if (!c)
		return -EINVAL;
	return call_wait(c, deadline_of(timeout_ms), c->__spin);
}

int xcall_pool_done(const struct xcall_pool_call *c)
{
	return c && !(__atomic_load_n(&c->__state, __ATOMIC_ACQUIRE) &
		      ST_PHASE);
}

/**
 * xcall_pool_call_single() - run fn(arg) on @cpu
 * @wait: wait until it has run
 * @timeout_ms: < 0 forever; bounds the wait for the call and, when every
 *	slot is in flight, for a free slot
 *
 * The call lives in a pool-owned slot, never on the caller's stack, so a
 * timeout cannot leave the worker with a dangling call: with @wait, this
 * thread's lane to @cpu if it has or can take one, else a shared slot on
 * the queue, like a no-wait call (in a slot of @cpu's ring while there is
 * one). Either way it runs after the calls queued to @cpu before it. On -ETIMEDOUT a
 * call that had not started is cancelled: fn never runs. One that was
 * already running goes on to the end, so @arg must stay valid until fn
 * returns; keep pool functions short (as in IPI context).
 * Called from a pool function for its own CPU with @wait, fn runs at once
 * (as smp_call_function_single() does for the local CPU).
 *
 * Return: 0, -EINVAL, -ENXIO (cpu not in the pool), -ESHUTDOWN, -ETIMEDOUT.
 */
int xcall_pool_call_single(struct xcall_pool *p, int cpu, xcall_pool_fn fn,
			   void *arg, int wait, int timeout_ms)
{
	struct pool_worker *w;
	struct pool_lane *l;
	struct pool_slot *s;
	uint64_t deadline;
	int err;

	if (!p || !fn || cpu < 0)
		return -EINVAL;
	w = worker_of(p, cpu);
	if (!w)
		return -ENXIO;
	if (wait && current_worker == w) {
		fn(arg);
		return 0;
	}
	if (__atomic_load_n(&p->shutdown, __ATOMIC_RELAXED))
		return -ESHUTDOWN;

	deadline = deadline_of(timeout_ms);
	if (wait && (l = lane_get(p, w))) {
		err = lane_call(p, w, l, fn, arg, deadline);
		if (err <= 0)
			return err;
	}
	s = wait ? NULL : ring_get(w);
	if (!s)
		s = slot_get_wait(p, deadline);
	if (!s)
		return -ETIMEDOUT;
	s->call.fn = fn;
	s->call.arg = arg;
	__atomic_store_n(&s->call.__state, ST_QUEUED | (!wait ? ST_ABANDONED :
			 timeout_ms >= 0 ? ST_CANCELLABLE : 0),
			 __ATOMIC_RELAXED);
	err = call_queue(p, w, &s->call);
	if (err) {
		__atomic_store_n(&s->call.__state, ST_IDLE, __ATOMIC_RELAXED);
		if (s->call.__slot == RING_SLOT)
			ring_put(s);
		else
			slot_put(p, s);
		return err;
	}
	if (!wait)
		return 0;

	err = call_wait(&s->call, deadline, p->spin_ns);
	if (err) {
		slot_abandon(p, s);
		return err;
	}
	slot_put(p, s);
	return 0;
}

/**
 * xcall_pool_call_many() - run fn(arg) on every CPU of @set
 * @timeout_ms: < 0 forever
 *
 * Queues on every CPU before waiting on any (unless all the pool's slots are
 * in flight: then it reuses its own as they complete). On -ETIMEDOUT the
 * CPUs that had not started are cancelled, those running finish (@arg must
 * stay valid until they return). A CPU outside the pool fails the whole
 * request with -ENXIO before anything is queued.
 *
 * Return: 0, -EINVAL (bad arguments, empty set), -ENXIO, -ESHUTDOWN,
 * -ETIMEDOUT.
 */
int xcall_pool_call_many(struct xcall_pool *p, const cpu_set_t *set,
			 size_t setsize, xcall_pool_fn fn, void *arg,
			 int timeout_ms)
{
	struct pool_worker *w, *self = NULL;
	struct pool_slot *s;
	uint32_t chain = 0, *pp;
	uint64_t deadline;
	int cpu, ncpu = setsize * 8, n = 0, err = 0, werr = 0;

	if (!p || !set || !setsize || !fn)
		return -EINVAL;
	for (cpu = 0; cpu < ncpu; cpu++) {
		if (!__xcall_set_isset(set, setsize, cpu))
			continue;
		if (!worker_of(p, cpu))
			return -ENXIO;
		n++;
	}
	if (!n)
		return -EINVAL;
	if (__atomic_load_n(&p->shutdown, __ATOMIC_RELAXED))
		return -ESHUTDOWN;

	deadline = deadline_of(timeout_ms);
	for (cpu = 0; cpu < ncpu; cpu++) {
		if (!__xcall_set_isset(set, setsize, cpu))
			continue;
		w = worker_of(p, cpu);
		if (w == current_worker) {
			self = w;	/* run it ourselves, last */
			continue;
		}
		s = slot_get(p);
		/* All in flight: reuse one of ours that is done. */
		while (!s) {
			for (pp = &chain; *pp; pp = &slot_of(p, *pp)->link) {
				if (xcall_pool_done(&slot_of(p, *pp)->call))
					break;
			}
			if (*pp) {
				s = slot_of(p, *pp);
				*pp = s->link;
				break;
			}
			if (deadline != UINT64_MAX && now_ns() >= deadline) {
				err = -ETIMEDOUT;
				goto out_wait;
			}
			sched_yield();
			s = slot_get(p);
		}
		s->call.fn = fn;
		s->call.arg = arg;
		__atomic_store_n(&s->call.__state, ST_QUEUED |
				 (timeout_ms >= 0 ? ST_CANCELLABLE : 0),
				 __ATOMIC_RELAXED);
		err = call_queue(p, w, &s->call);
		if (err) {
			__atomic_store_n(&s->call.__state, ST_IDLE,
					 __ATOMIC_RELAXED);
			slot_put(p, s);
			goto out_wait;
		}
		s->link = chain;
		chain = s->call.__slot;
	}
	if (self)
		fn(arg);

out_wait:
	/* Wait for (or, past the deadline, abandon) every call we queued. */
	while (chain) {
		s = slot_of(p, chain);
		chain = s->link;
		if (werr != -ETIMEDOUT)
			werr = call_wait(&s->call, deadline, p->spin_ns);
		if (werr)
			slot_abandon(p, s);
		else
			slot_put(p, s);
	}
	return err ?: werr;
}
