// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's calls without the module: its own worker threads, libxcall's
 * in-process pool, one pinned worker per online CPU. A request makes one
 * pool call per target CPU; the worker runs the function there, pushes the
 * call on a lock-free list and, if the loop sleeps in the ring, writes an
 * eventfd whose read completes there (XD_TAG_EXEC). The loop takes the
 * list after every wake-up and before it sleeps again.
 *
 * The calls of one turn of the loop (one batch of CQEs) are queued on the
 * pool together at its end, held_flush(): a worker is woken once a turn.
 *
 * A request to one CPU whose worker finds the loop asleep is answered by
 * the worker itself (sub_run(), "direct"): the client then waits for three
 * wake-ups (client, loop, worker) instead of four, and the loop, woken
 * after the send, only counts the call and frees it. See sub_claim().
 *
 * Calls are queued cancellable: at the deadline, or when the client goes,
 * those that have not started are cancelled (they never run); one that
 * is running finishes, and the request is answered without it. A request
 * is freed only once the worker has let go of every call: a call the loop
 * has seen (or cancelled) but whose worker is still on its way out waits
 * on the deferred list, swept every millisecond.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "loop.h"

/*
 * Workers spin only briefly before they park: the pool's default (50 us)
 * suits one caller waiting on its call, but here a spinning worker takes
 * its CPU from the event loop and the clients. Measured with bench-daemon
 * on 2 CPUs: 5 us halves the single-client round trip against 50 us.
 */
#define WORKER_SPIN_NS	5000

struct pool_req;

/* Who sends the reply of a direct call (struct xd_sub.claim). */
enum {
	CLAIM_OPEN,			/* nobody yet */
	CLAIM_WORKER,			/* its worker, when the call has run */
	CLAIM_LOOP,			/* the loop: a deadline, or a cancel */
};

/* The call of a request to one CPU. */
struct xd_sub {
	struct xcall_pool_call pc;
	struct pool_req *req;
	struct xd_sub *next;		/* completion list, then deferred list */
	struct xd_sub *hnext;		/* held list, until the loop's turn ends */
	struct xcall_result res;
	int cpu;
	int fd;				/* direct: the client's socket */
	bool direct;			/* its worker may send the reply */
	atomic_int claim;		/* direct: CLAIM_* */
	bool send_failed;		/* direct: the loop sends it after all */
	bool queued;			/* the pool has it */
	bool completed;			/* the loop has seen its result */
	bool cancelled;			/* never runs: on the deferred list */
};

struct pool_req {
	struct xd_req r;		/* first: xd_req_put() frees it */
	unsigned int npending;		/* calls the pool has not answered */
	struct xd_sub subs[];		/* one per CPU */
};

_Static_assert(offsetof(struct pool_req, r) == 0, "xd_req starts it");

static struct xcall_pool *pool;
static int efd = -1;
static uint64_t efd_val;
static _Atomic(struct xd_sub *) done;	/* pushed by workers */
static atomic_int sleeping;		/* the loop waits in the ring */
static struct xd_sub *deferred;		/* completed, not yet released */
static struct xd_sub *held, **held_tail = &held;	/* not yet queued */

/* @s's worker has let go of it: drop the reference it held. */
static void sub_release(struct xd_sub *s)
{
	struct pool_req *p = s->req;

	/* Its worker took the reply but the socket was full: send it here. */
	if (s->send_failed)
		xd_req_send(&p->r, 0);
	xd_req_put(&p->r);
}

static void sub_done(struct xd_sub *s)
{
	struct pool_req *p = s->req;

	s->completed = true;
	if (!--p->npending)
		xd_req_reply(&p->r, 0);
	/* The worker may still be on its way out of the call. */
	if (xcall_pool_done(&s->pc)) {
		sub_release(s);
	} else {
		s->next = deferred;
		deferred = s;
	}
}

static void deferred_sweep(void)
{
	struct xd_sub **pp = &deferred, *s;

	while ((s = *pp)) {
		if (xcall_pool_done(&s->pc)) {
			*pp = s->next;
			sub_release(s);
		} else {
			pp = &s->next;
		}
	}
}

/* Give @s to its worker; a call the pool refuses is answered with why. */
static void sub_queue(struct xd_sub *s)
{
	struct pool_req *p = s->req;
	int ret;

	ret = xcall_pool_call_async_flags(pool, s->cpu, &s->pc,
					  XCALL_POOL_CANCELLABLE);
	if (!ret)
		return;
	xd_fail_record(&s->res, p->r.req.fn, s->cpu, ret);
	s->queued = false;
	s->completed = true;
	if (!--p->npending)
		xd_req_reply(&p->r, 0);
	xd_req_put(&p->r);
}

/*
 * Queue the calls held since the turn began (pool_dispatch()), in order.
 * A worker is woken (a futex wake, and its switch in) only by a call that
 * finds its queue empty: the calls of one turn of the loop go to a worker
 * together, so that a busy loop wakes each worker about once per turn
 * instead of once per call. Every path that may cancel, sleep or stop
 * comes through here first, so a held call is never cancelled, waited
 * for or forgotten.
 */
static void held_flush(void)
{
	struct xd_sub *s = held, *next;

	held = NULL;
	held_tail = &held;
	for (; s; s = next) {
		next = s->hnext;
		sub_queue(s);
	}
}

/*
 * A direct call's reply, sent by its worker: the only call of a request
 * that waits for it. The claim keeps the loop, answering the request at
 * its deadline or for a client that left, from sending it too. The call
 * is on the completion list before the send, so a client that has the
 * reply finds it counted in STATUS; the loop frees the request only once
 * the worker has let go (xcall_pool_done()), so the socket stays open for
 * the send. A socket that is full (the client does not read) is left to
 * the loop, which queues the reply under its bounds (conn.c).
 */
static bool sub_claim(struct xd_sub *s)
{
	int open = CLAIM_OPEN;

	return s->direct && atomic_compare_exchange_strong(&s->claim, &open,
							   CLAIM_WORKER);
}

static void sub_send(struct xd_sub *s, const void *buf, int len)
{
	if (send(s->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return;
	/* Any other error: the client is gone, and its recv tells the loop. */
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
	    errno == EINTR || errno == ENOMEM)
		s->send_failed = true;
}

/* On a pool worker, pinned to s->cpu. */
static void sub_run(void *arg)
{
	struct xd_sub *s = arg;
	struct xd_sub *old = atomic_load_explicit(&done,
						  memory_order_relaxed);
	uint8_t buf[XCALL_WIRE_REPLY_RES + sizeof(struct xcall_result)];
	uint64_t one = 1;
	int len = 0;

	__xcall_fn_exec(&s->req->r.req, s->cpu, &s->res);
	if (atomic_load(&sleeping) && sub_claim(s))
		len = __xcall_wire_enc_reply(buf, sizeof(buf), s->req->r.id, 0,
					     &s->res, 1);
	do {
		s->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&done, &old, s,
			memory_order_seq_cst, memory_order_relaxed));
	if (len > 0)
		sub_send(s, buf, len);
	/*
	 * Wake the loop only if it sleeps, and only once per sleep: a loop
	 * that is awake looks at the list before it sleeps again (see
	 * pool_before_wait(): both sides store, then load, sequentially
	 * consistent).
	 */
	if (atomic_load(&sleeping) && atomic_exchange(&sleeping, 0) &&
	    write(efd, &one, sizeof(one)) < 0)
		abort();	/* an eventfd write cannot fail here */
}

/* The calls the workers have pushed since last time. */
static void event_done(void)
{
	struct xd_sub *s;
	struct xd_sub *next;

	if (!atomic_load_explicit(&done, memory_order_relaxed))
		return;
	s = atomic_exchange_explicit(&done, NULL, memory_order_acquire);
	for (; s; s = next) {
		next = s->next;
		sub_done(s);
	}
}

static int pool_start(void)
{
	const struct xcall_pool_opts opts = { .spin_ns = WORKER_SPIN_NS };
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *set;
	int ret;

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	set = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	ret = set ? xcall_cpus_online(set, sz) : -ENOMEM;
	if (!ret)
		ret = xcall_pool_create(&pool, set, sz, &opts);
	CPU_FREE(set);
	if (ret) {
		xd_log(XD_ERR, "worker pool: %s", strerror(-ret));
		return ret;
	}
	xd_arm_read(efd, &efd_val, sizeof(efd_val), XD_TAG_EXEC);
	return 0;
}

static void pool_stop(void)
{
	if (pool) {
		held_flush();
		xcall_pool_destroy(pool);	/* runs what is pending */
	}
	pool = NULL;
	/* Whatever the loop had not answered when it gave up. */
	event_done();
	deferred_sweep();
	if (efd >= 0)
		close(efd);
	efd = -1;
}

static struct xd_req *pool_alloc(const struct xcall_wire_callreq *cr)
{
	struct pool_req *p = calloc(1, sizeof(*p) +
				    cr->ncpus * sizeof(p->subs[0]));

	return p ? &p->r : NULL;
}

static void pool_dispatch(struct xd_req *r,
			  const struct xcall_wire_callreq *cr, bool privileged)
{
	struct pool_req *p = container_of(r, struct pool_req, r);
	unsigned int c, i = 0;

	for (c = 0; i < r->ncpus; c++) {
		struct xd_sub *s = &p->subs[i];

		if (!xd_bit_test(cr->cpuset, cr->cpuset_size, c))
			continue;
		s->req = p;
		s->cpu = (int)c;
		s->pc.fn = sub_run;
		s->pc.arg = s;
		/* One CPU, waited for: its worker sends the reply itself. */
		s->direct = r->ncpus == 1 &&
			    !(r->req.flags & XCALL_CALL_NOWAIT);
		s->fd = r->conn->fd;
		i++;
		if (!xcall_pool_has_cpu(pool, (int)c)) {
			xd_fail_record(&s->res, r->req.fn, (int)c, -ENXIO);
			s->completed = true;
			continue;
		}
		r->refs++;
		p->npending++;
		s->queued = true;
		s->hnext = NULL;
		*held_tail = s;
		held_tail = &s->hnext;
	}
	if (r->req.flags & XCALL_CALL_NOWAIT || !p->npending)
		xd_req_reply(r, 0);
}

static void pool_record(const struct xd_req *r, unsigned int i,
			struct xcall_result *out)
{
	const struct pool_req *p = container_of(r, struct pool_req, r);
	const struct xd_sub *s = &p->subs[i];

	if (s->completed)
		*out = s->res;
	else
		xd_fail_record(out, r->req.fn, s->cpu, -ETIMEDOUT);
}

static bool pool_claim_reply(struct xd_req *r)
{
	struct pool_req *p = container_of(r, struct pool_req, r);
	int open = CLAIM_OPEN;

	if (r->ncpus != 1 || !p->subs[0].direct)
		return true;
	return atomic_compare_exchange_strong(&p->subs[0].claim, &open,
					      CLAIM_LOOP);
}

/*
 * Cancel what the workers have not started. A call that the pool says is
 * running or done is left alone: its worker pushes it, and sub_done()
 * settles it. A cancelled one is never pushed; its worker still has to
 * pass it by, so it waits on the deferred list with its reference.
 */
static int pool_cancel(struct xd_req *r)
{
	struct pool_req *p = container_of(r, struct pool_req, r);
	unsigned int i;
	int n = 0;

	held_flush();
	for (i = 0; i < r->ncpus; i++) {
		struct xd_sub *s = &p->subs[i];

		if (!s->queued || s->completed || s->cancelled ||
		    xcall_pool_cancel(&s->pc))
			continue;
		s->cancelled = true;
		p->npending--;
		n++;
		s->next = deferred;
		deferred = s;
	}
	return n;
}

/* The eventfd was written: a worker pushed calls while the loop slept. */
static void pool_complete(void *p, int res)
{
	event_done();
	xd_arm_read(efd, &efd_val, sizeof(efd_val), XD_TAG_EXEC);
}

static void pool_poll(void)
{
	held_flush();
	event_done();
	if (deferred)
		deferred_sweep();
}

/*
 * Workers write the eventfd only while the loop sleeps; answers that came
 * in meanwhile are picked up without sleeping. (Spinning here for answers
 * was measured: on two CPUs it slows everything down.)
 */
static void pool_before_wait(int64_t *ns)
{
	held_flush();
	/* Calls seen but not released: look again within a millisecond. */
	if (deferred && (*ns < 0 || *ns > 1000000))
		*ns = 1000000;
	atomic_store(&sleeping, 1);
	if (atomic_load(&done))
		*ns = 0;		/* answers are in: do not sleep */
}

static void pool_after_wait(void)
{
	atomic_store(&sleeping, 0);
}

const struct xd_exec_ops xd_exec_pool = {
	.backend = XCALL_BACKEND_THREADS,
	.grace_ms = 0,
	.sqe128 = false,
	.start = pool_start,
	.stop = pool_stop,
	.alloc = pool_alloc,
	.dispatch = pool_dispatch,
	.record = pool_record,
	.cancel = pool_cancel,
	.claim_reply = pool_claim_reply,
	.complete = pool_complete,
	.poll = pool_poll,
	.before_wait = pool_before_wait,
	.after_wait = pool_after_wait,
};
