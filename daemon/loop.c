// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's event loop: one thread, one io_uring, nothing on it that blocks.
 *
 *   listening socket   multishot accept; SO_PEERCRED/SO_PEERGROUPS per client
 *   each client        one recv on the ring at a time (MSG_TRUNC tells an
 *                      oversized frame), then what else is queued with
 *                      non-blocking recv(2); a queue of reply frames, up to
 *                      MAX_SENDS of them in flight as IORING_OP_SEND
 *   calls, module      IORING_OP_URING_CMD on /dev/xcall (SQE128 ring)
 *   calls, no module   the in-process pool: one pool call per target CPU;
 *                      the worker runs the function, pushes the call on a
 *                      lock-free list and, if that list was empty, writes an
 *                      eventfd whose read completes here
 *   signals            a signalfd read: TERM/INT drain and exit, HUP reloads
 *
 * Every request has a deadline in a min-heap; the ring wait's timeout is the
 * nearest one. A request that misses it is answered with ETIMEDOUT for the
 * CPUs that did not answer, and freed only when its last call has let go.
 *
 * A client's calls in flight are bounded (policy `inflight`): past it the
 * loop stops reading from that client, which then blocks in its send. Its
 * unsent replies are bounded too, and a client that leaves replies unread
 * for send_timeout_ms is disconnected. Bad frames cost the sender an error
 * reply, or its connection, never anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "wire.h"
#include "xcalld.h"

#define RING_ENTRIES		1024
#define OUT_MAX_BYTES		(512 * 1024)	/* unsent replies per client */
#define KMOD_GRACE_MS		2000	/* the module times out first */
#define STALL_TICK_MS		100
#define STOP_GRACE_MS		(XCALL_MAX_TIMEOUT_MS + KMOD_GRACE_MS + 1000)
#define DENY_LOG_PER_SEC	20
#define RECV_BATCH		16	/* frames read at once from a client */
#define MAX_SENDS		16	/* replies in flight per client */

enum tag {
	TAG_ACCEPT = 1,
	TAG_RECV,
	TAG_SEND,
	TAG_EVENT,
	TAG_SIGNAL,
	TAG_CMD,
	TAG_IGNORE,
};

struct xd_conn;

struct xd_out {
	struct xd_out *next;
	struct xd_conn *conn;
	uint32_t len;
	uint8_t data[];
};

struct xd_conn {
	struct xd_conn *prev, *next;
	int fd;
	unsigned int seq;		/* for log lines */
	unsigned int refs;		/* open + armed ops + requests */
	bool closing;			/* shut down, waiting for refs */
	bool eof;			/* read no more; close when flushed */
	bool recv_armed;
	unsigned int nsending;		/* sends on the ring */
	unsigned int inflight;		/* calls not yet answered */
	struct xd_out *oq_head, *oq_tail;	/* replies not yet submitted */
	size_t out_bytes;		/* queued + being sent */
	uint64_t progress_ns;		/* last send submitted or completed */
	struct xd_cred cred;
	bool nopid;			/* in another pid namespace than ours */
	struct xd_limits lim;
	double tokens;
	uint64_t tok_ns;
	uint8_t rbuf[XCALL_WIRE_MAX_REQ];
};

struct xd_req;

struct xd_sub {
	struct xcall_pool_call pc;
	struct xd_req *req;
	struct xd_sub *next;		/* completion list, then deferred list */
	struct xcall_result res;
	int cpu;
	bool queued;			/* the pool has it */
	bool completed;			/* the loop has seen its result */
};

struct xd_req {
	struct xd_conn *conn;
	uint64_t id;
	struct xcall_req req;
	unsigned int refs;
	unsigned int ncpus;
	unsigned int npending;
	bool replied;
	uint64_t deadline;
	unsigned int hidx;		/* in the deadline heap, or NOHEAP */
	/* module path */
	unsigned int kdone;		/* records the module wrote */
	struct xcall_call call;
	struct xcall_result *kres;
	uint8_t *kset;
	struct xd_sub subs[];		/* pool path: one per CPU */
};

#define NOHEAP	(~0U)

static struct {
	const struct xd_config *cfg;
	struct io_uring ring;
	int lfd, efd, sfd, devfd;
	enum xcall_backend backend;
	struct xcall_pool *pool;
	struct xd_policy *policy;
	bool stopping;
	bool accept_armed;
	uint64_t stop_deadline;

	struct xd_conn *conns;
	unsigned int nconns;
	unsigned int conn_seq;

	struct xd_req **heap;
	unsigned int heap_n, heap_cap;

	_Atomic(struct xd_sub *) done;	/* pushed by workers */
	atomic_int sleeping;		/* the loop waits in the ring */
	struct xd_sub *deferred;	/* completed, not yet released */
	uint64_t efd_val;
	struct signalfd_siginfo si;

	uint8_t possible[XCALL_MAX_CPUSET_BYTES];
	uint8_t online[XCALL_MAX_CPUSET_BYTES];
	uint8_t isolated[XCALL_MAX_CPUSET_BYTES];	/* for privileged clients */
	int nspid_levels;			/* of our own pid namespace */

	uint64_t start_ns;
	uint64_t clients_total, served, denied, errors;
	uint64_t inflight, live_reqs;
	uint64_t fn_calls[XCALL_WIRE_MAX_FNS];

	uint64_t deny_sec;
	unsigned int deny_logged, deny_dropped;
	uint64_t next_tick;
} xd;

/* ---- small helpers ----------------------------------------------------- */

static inline void *tagged(void *p, enum tag t)
{
	return (void *)((uintptr_t)p | t);
}

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&xd.ring);

	while (!sqe) {
		io_uring_submit(&xd.ring);
		sqe = io_uring_get_sqe(&xd.ring);
	}
	return sqe;
}

static bool bit_test(const uint8_t *bits, size_t size, unsigned int n)
{
	return n / 8 < size && (bits[n / 8] >> (n % 8)) & 1;
}

static void fail_record(struct xcall_result *r, unsigned int fn, int cpu,
			int err)
{
	memset(r, 0, sizeof(*r));
	r->cpu = cpu;
	r->fn = fn;
	r->error = err;
}

/* ---- deadline heap ----------------------------------------------------- */

static void heap_swap(unsigned int a, unsigned int b)
{
	struct xd_req *t = xd.heap[a];

	xd.heap[a] = xd.heap[b];
	xd.heap[b] = t;
	xd.heap[a]->hidx = a;
	xd.heap[b]->hidx = b;
}

static void heap_up(unsigned int i)
{
	while (i && xd.heap[(i - 1) / 2]->deadline > xd.heap[i]->deadline) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;

		if (l < xd.heap_n && xd.heap[l]->deadline < xd.heap[m]->deadline)
			m = l;
		if (r < xd.heap_n && xd.heap[r]->deadline < xd.heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static int heap_add(struct xd_req *r)
{
	if (xd.heap_n == xd.heap_cap) {
		unsigned int cap = xd.heap_cap ? 2 * xd.heap_cap : 1024;
		struct xd_req **h = realloc(xd.heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		xd.heap = h;
		xd.heap_cap = cap;
	}
	r->hidx = xd.heap_n;
	xd.heap[xd.heap_n++] = r;
	heap_up(r->hidx);
	return 0;
}

static void heap_del(struct xd_req *r)
{
	unsigned int i = r->hidx;

	if (i == NOHEAP)
		return;
	r->hidx = NOHEAP;
	if (i == --xd.heap_n)
		return;
	xd.heap[i] = xd.heap[xd.heap_n];
	xd.heap[i]->hidx = i;
	heap_down(i);
	heap_up(xd.heap[i]->hidx);
}

/* ---- connections ------------------------------------------------------- */

/*
 * Take what the client sent and will never get an answer to off the
 * socket before it is closed: closing it with frames unread makes the
 * kernel report ECONNRESET to the client before the replies still queued
 * for it, the ERROR frame that says why it was closed among them.
 * conn_close()'s shutdown keeps anything more from coming in. A zero-length
 * frame reads as 0, as the end does: FIONREAD tells whether bytes remain.
 */
static void conn_discard_input(struct xd_conn *c)
{
	int left;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, c->rbuf, sizeof(c->rbuf),
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n > 0)
			continue;
		if (n < 0 && errno != ECONNRESET)
			return;
		if (ioctl(c->fd, FIONREAD, &left) || left <= 0)
			return;
	}
}

static void conn_put(struct xd_conn *c)
{
	struct xd_out *o;

	if (--c->refs)
		return;
	while ((o = c->oq_head)) {
		c->oq_head = o->next;
		free(o);
	}
	conn_discard_input(c);
	close(c->fd);
	free(c);
}

/* Drop @c: no more reads or replies; freed when its last op lets go. */
static void conn_close(struct xd_conn *c, const char *why)
{
	struct io_uring_sqe *sqe;

	if (c->closing)
		return;
	c->closing = true;
	xd_log(XD_DEBUG, "client %u (pid %d uid %u): closed: %s", c->seq,
	       (int)c->cred.pid, (unsigned int)c->cred.uid, why);
	if (c->prev)
		c->prev->next = c->next;
	else
		xd.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	xd.nconns--;
	/*
	 * Wakes a pending recv (it returns 0) or send (-EPIPE). A cancel by
	 * fd could hit a new client that got the same number: by user_data.
	 */
	shutdown(c->fd, SHUT_RDWR);
	if (c->recv_armed) {
		sqe = get_sqe();
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)
				       tagged(c, TAG_RECV), 0);
		io_uring_sqe_set_data(sqe, tagged(NULL, TAG_IGNORE));
	}
	conn_put(c);
}

/* Close @c once it has nothing left to say and will hear nothing more. */
static void conn_maybe_finish(struct xd_conn *c)
{
	if (c->closing || !(c->eof || xd.stopping))
		return;
	if (!c->inflight && !c->oq_head && !c->nsending && !c->recv_armed)
		conn_close(c, c->eof ? "end of requests" : "daemon stopping");
}

static void conn_recv_arm(struct xd_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->recv_armed || c->closing || c->eof || xd.stopping)
		return;
	if (c->inflight >= c->lim.inflight || c->out_bytes >= OUT_MAX_BYTES)
		return;		/* back-pressure: the client waits */
	sqe = get_sqe();
	io_uring_prep_recv(sqe, c->fd, c->rbuf, sizeof(c->rbuf), MSG_TRUNC);
	io_uring_sqe_set_data(sqe, tagged(c, TAG_RECV));
	c->recv_armed = true;
	c->refs++;
}

/*
 * Replies leave as IORING_OP_SEND, up to MAX_SENDS of them in flight per
 * client (replies may come out of order, so they need no link). A send
 * that finds the socket full parks on the ring's internal POLLOUT poll;
 * each holds its frame and a reference on @c until its completion.
 *
 * With DEFER_TASKRUN, a parked send that its poll wakes is finished by
 * task work that runs only when this thread enters the ring with
 * IORING_ENTER_GETEVENTS: until then it is off the SQ and in no CQE, the
 * socket writable again. A loop that only submitted while busy would leave
 * such sends unfinished for good (a stress test with a submit-only loop
 * shows exactly that; with GETEVENTS, 64 sockets x 16 sends in flight
 * completed ~17 M sends in 20 s on 6.18 without one missing). Hence
 * loop_wait() always asks for events, sleeping or not. At most MAX_SENDS
 * per client: many parked sends on one full socket all retry on each
 * wake-up.
 */
static void conn_send_more(struct xd_conn *c)
{
	struct io_uring_sqe *sqe;
	struct xd_out *o;

	while (!c->closing && c->oq_head && c->nsending < MAX_SENDS) {
		o = c->oq_head;
		c->oq_head = o->next;
		if (!c->oq_head)
			c->oq_tail = NULL;
		sqe = get_sqe();
		io_uring_prep_send(sqe, c->fd, o->data, o->len, MSG_NOSIGNAL);
		io_uring_sqe_set_data(sqe, tagged(o, TAG_SEND));
		if (!c->nsending)
			c->progress_ns = xd_now_ns();
		c->nsending++;
		c->refs++;
	}
}

/* Queue the @len bytes frame @o->data on @c; frees @o if @c is gone. */
static void conn_queue(struct xd_conn *c, struct xd_out *o)
{
	if (c->closing) {
		free(o);
		return;
	}
	o->next = NULL;
	o->conn = c;
	if (c->oq_tail)
		c->oq_tail->next = o;
	else
		c->oq_head = o;
	c->oq_tail = o;
	c->out_bytes += o->len;
	conn_send_more(c);
}

static struct xd_out *out_alloc(size_t len)
{
	return malloc(sizeof(struct xd_out) + len);
}

static void send_error(struct xd_conn *c, uint64_t id, int type, int err)
{
	struct xd_out *o = out_alloc(XCALL_WIRE_MAX_REPLY);
	int len;

	if (!o) {
		conn_close(c, "out of memory");
		return;
	}
	if (type == XCALL_WIRE_CALL)
		len = __xcall_wire_enc_reply(o->data, XCALL_WIRE_MAX_REPLY, id,
					     err, NULL, 0);
	else
		len = __xcall_wire_enc_error(o->data, XCALL_WIRE_MAX_REPLY, id,
					     err);
	o->len = (uint32_t)len;
	conn_queue(c, o);
}

/* ---- requests ---------------------------------------------------------- */

static void req_put(struct xd_req *r)
{
	if (--r->refs)
		return;
	heap_del(r);
	conn_put(r->conn);
	free(r);
	xd.live_reqs--;
}

/* Record @i of @r as it stands: what came back, or ETIMEDOUT. */
static void req_record(const struct xd_req *r, unsigned int i,
		       struct xcall_result *out)
{
	unsigned int c, n = 0;

	if (xd.backend == XCALL_BACKEND_THREADS) {
		const struct xd_sub *s = &r->subs[i];

		if (s->completed)
			*out = s->res;
		else
			fail_record(out, r->req.fn, s->cpu, -ETIMEDOUT);
		return;
	}
	if (i < r->kdone) {
		*out = r->kres[i];
		return;
	}
	/* The module has not answered: the CPU is the i-th in the set. */
	for (c = 0; c < r->call.cpuset_size * 8; c++)
		if (bit_test(r->kset, r->call.cpuset_size, c) && n++ == i)
			break;
	fail_record(out, r->req.fn, (int)c, -ETIMEDOUT);
}

/*
 * Answer @r: @error for the request as a whole, else one record per CPU
 * (none for NOWAIT). Drops the reference the owed reply held.
 */
static void req_reply(struct xd_req *r, int error)
{
	struct xd_conn *c = r->conn;
	unsigned int i, nres = 0;
	struct xd_out *o;
	int len;

	if (r->replied)
		return;
	r->replied = true;
	heap_del(r);
	c->inflight--;
	xd.inflight--;
	xd.served++;
	if (r->req.fn < XCALL_WIRE_MAX_FNS)
		xd.fn_calls[r->req.fn]++;
	if (!error && !(r->req.flags & XCALL_CALL_NOWAIT))
		nres = r->ncpus;
	o = out_alloc(XCALL_WIRE_REPLY_RES + nres * sizeof(struct xcall_result));
	if (!o) {
		conn_close(c, "out of memory");
		req_put(r);
		return;
	}
	len = __xcall_wire_enc_reply(o->data, XCALL_WIRE_MAX_REPLY, r->id,
				     error, NULL, nres);
	for (i = 0; i < nres; i++) {
		struct xcall_result rec;

		req_record(r, i, &rec);
		memcpy(o->data + XCALL_WIRE_REPLY_RES + i * sizeof(rec), &rec,
		       sizeof(rec));
	}
	o->len = (uint32_t)len;
	conn_queue(c, o);
	conn_recv_arm(c);
	conn_maybe_finish(c);
	req_put(r);
}

/* The module answered: cqe->res CPUs called, or -errno. */
static void req_cmd_done(struct xd_req *r, int res)
{
	if (res >= 0)
		r->kdone = (unsigned int)res < r->ncpus ? (unsigned int)res :
			   r->ncpus;
	req_reply(r, res < 0 ? res : 0);
	req_put(r);
}

static void sub_done(struct xd_sub *s)
{
	struct xd_req *r = s->req;

	s->completed = true;
	if (!--r->npending)
		req_reply(r, 0);
	/* The worker may still be on its way out of the call. */
	if (xcall_pool_done(&s->pc)) {
		req_put(r);
	} else {
		s->next = xd.deferred;
		xd.deferred = s;
	}
}

static void deferred_sweep(void)
{
	struct xd_sub **pp = &xd.deferred, *s;

	while ((s = *pp)) {
		if (xcall_pool_done(&s->pc)) {
			*pp = s->next;
			req_put(s->req);
		} else {
			pp = &s->next;
		}
	}
}

/* On a pool worker, pinned to s->cpu. */
static void sub_run(void *arg)
{
	struct xd_sub *s = arg;
	struct xd_sub *old = atomic_load_explicit(&xd.done,
						  memory_order_relaxed);
	uint64_t one = 1;

	__xcall_fn_exec(&s->req->req, s->cpu, &s->res);
	do {
		s->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&xd.done, &old, s,
			memory_order_seq_cst, memory_order_relaxed));
	/*
	 * Wake the loop only if it sleeps, and only once per sleep: a loop
	 * that is awake looks at the list before it sleeps again (see
	 * loop_wait(): both sides store, then load, sequentially consistent).
	 */
	if (atomic_load(&xd.sleeping) && atomic_exchange(&xd.sleeping, 0) &&
	    write(xd.efd, &one, sizeof(one)) < 0)
		abort();	/* an eventfd write cannot fail here */
}

static void event_done(void)
{
	struct xd_sub *s;
	struct xd_sub *next;

	if (!atomic_load_explicit(&xd.done, memory_order_relaxed))
		return;
	s = atomic_exchange_explicit(&xd.done, NULL, memory_order_acquire);
	for (; s; s = next) {
		next = s->next;
		sub_done(s);
	}
}

/* ---- one CALL ---------------------------------------------------------- */

/* What every backend refuses alike (the errnos of XCALL_IOC_CALL). */
static int check_call(const struct xcall_wire_callreq *cr)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(cr->req.fn);
	unsigned int i, c, n = cr->cpuset_size * 8;

	if (!fi)
		return -EBADRQC;
	if (cr->req.nargs < fi->min_args || cr->req.nargs > fi->max_args)
		return -EINVAL;
	if ((cr->req.flags & XCALL_CALL_NOWAIT) &&
	    !XCALL_FN_NOWAIT_OK(cr->req.fn))
		return -EINVAL;
	for (i = 0; i < cr->req.nargs; i++)
		if (cr->req.args[i] < fi->args[i].min ||
		    cr->req.args[i] > fi->args[i].max)
			return -ERANGE;
	if (cr->req.timeout_ms > XCALL_MAX_TIMEOUT_MS)
		return -ERANGE;
	if (xd.backend == XCALL_BACKEND_THREADS &&
	    !(fi->backends & XCALL_BK_THREADS))
		return -EOPNOTSUPP;
	if (!cr->ncpus)
		return -EDESTADDRREQ;
	for (c = 0; c < n; c++)
		if (bit_test(cr->cpuset, cr->cpuset_size, c) &&
		    !bit_test(xd.possible, sizeof(xd.possible), c))
			return -ENODEV;
	for (c = 0; c < n; c++)
		if (bit_test(cr->cpuset, cr->cpuset_size, c) &&
		    !bit_test(xd.online, sizeof(xd.online), c))
			return -ENXIO;
	return 0;
}

/* Does CPU set @set (@size bytes) hold a CPU of @bits? */
static bool sets_meet(const uint8_t *set, size_t size, const uint8_t *bits)
{
	size_t i;

	for (i = 0; i < size && i < XCALL_MAX_CPUSET_BYTES; i++)
		if (set[i] & bits[i])
			return true;
	return false;
}

static bool rate_ok(struct xd_conn *c)
{
	uint64_t now;
	double burst;

	if (!c->lim.rate)
		return true;
	now = xd_now_ns();
	burst = c->lim.burst ? c->lim.burst : 1;
	c->tokens += (double)(now - c->tok_ns) * c->lim.rate / 1e9;
	if (c->tokens > burst)
		c->tokens = burst;
	c->tok_ns = now;
	if (c->tokens < 1.0)
		return false;
	c->tokens -= 1.0;
	return true;
}

static void log_denial(struct xd_conn *c, const struct xcall_wire_callreq *cr,
		       const char *why)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(cr->req.fn);
	size_t sz = CPU_ALLOC_SIZE(cr->cpuset_size * 8);
	cpu_set_t *set = CPU_ALLOC(cr->cpuset_size * 8);
	uint64_t sec = xd_now_ns() / 1000000000ULL;
	char cpus[256] = "?";
	unsigned int i;

	if (sec != xd.deny_sec) {
		if (xd.deny_dropped)
			xd_log(XD_NOTICE, "%u more denials not logged",
			       xd.deny_dropped);
		xd.deny_sec = sec;
		xd.deny_logged = 0;
		xd.deny_dropped = 0;
	}
	if (xd.deny_logged++ >= DENY_LOG_PER_SEC) {
		xd.deny_dropped++;
		CPU_FREE(set);
		return;
	}
	if (set) {
		CPU_ZERO_S(sz, set);
		for (i = 0; i < cr->cpuset_size * 8; i++)
			if (bit_test(cr->cpuset, cr->cpuset_size, i))
				CPU_SET_S(i, sz, set);
		if (xcall_cpulist_format(set, sz, cpus, sizeof(cpus)) < 0)
			strcpy(cpus, "(many)");
		CPU_FREE(set);
	}
	xd_log(XD_NOTICE, "denied: uid %u gid %u pid %d: %s on CPUs %s: %s",
	       (unsigned int)c->cred.uid, (unsigned int)c->cred.gid,
	       (int)c->cred.pid, fi ? fi->name : "?", cpus, why);
}

static struct xd_req *req_alloc(struct xd_conn *c, uint64_t id,
				const struct xcall_wire_callreq *cr)
{
	size_t tail;
	struct xd_req *r;

	if (xd.backend == XCALL_BACKEND_THREADS)
		tail = cr->ncpus * sizeof(struct xd_sub);
	else
		tail = cr->ncpus * sizeof(struct xcall_result) +
		       cr->cpuset_size;
	r = calloc(1, sizeof(*r) + tail);
	if (!r)
		return NULL;
	r->conn = c;
	r->id = id;
	r->req = cr->req;
	r->ncpus = cr->ncpus;
	r->hidx = NOHEAP;
	r->refs = 1;		/* the reply still owed */
	c->refs++;
	c->inflight++;
	xd.inflight++;
	xd.live_reqs++;
	return r;
}

static void dispatch_pool(struct xd_req *r, const struct xcall_wire_callreq *cr)
{
	unsigned int c, i = 0;
	int ret;

	for (c = 0; i < r->ncpus; c++) {
		struct xd_sub *s = &r->subs[i];

		if (!bit_test(cr->cpuset, cr->cpuset_size, c))
			continue;
		s->req = r;
		s->cpu = (int)c;
		s->pc.fn = sub_run;
		s->pc.arg = s;
		i++;
		if (!xcall_pool_has_cpu(xd.pool, (int)c)) {
			fail_record(&s->res, r->req.fn, (int)c, -ENXIO);
			s->completed = true;
			continue;
		}
		r->refs++;
		r->npending++;
		s->queued = true;
		ret = xcall_pool_call_async(xd.pool, (int)c, &s->pc);
		if (ret) {
			fail_record(&s->res, r->req.fn, (int)c, ret);
			s->queued = false;
			s->completed = true;
			r->npending--;
			r->refs--;
		}
	}
	if (r->req.flags & XCALL_CALL_NOWAIT || !r->npending)
		req_reply(r, 0);
}

/*
 * The view of tasks the module gives @c (xcall_call.view): the daemon's own,
 * which is everyone's, only to a privileged client; another client gets
 * its uid's, and none at all from another pid namespace than ours, whose
 * pids we could not tell it.
 */
static uint64_t client_view(const struct xd_conn *c, bool privileged)
{
	if (privileged)
		return 0;
	return XCALL_VIEW_AS | (c->nopid ? XCALL_VIEW_NOPID : 0) |
	       (c->cred.uid & XCALL_VIEW_UID);
}

static void dispatch_kmod(struct xd_req *r, const struct xcall_wire_callreq *cr,
			  bool privileged)
{
	struct io_uring_sqe *sqe;
	struct xcall_uring_cmd *uc;
	unsigned int i;

	r->kres = (struct xcall_result *)r->subs;
	r->kset = (uint8_t *)(r->kres + r->ncpus);
	memcpy(r->kset, cr->cpuset, cr->cpuset_size);
	r->call.size = sizeof(r->call);
	r->call.fn = r->req.fn;
	r->call.flags = r->req.flags;
	r->call.timeout_ms = r->req.timeout_ms;
	r->call.nargs = r->req.nargs;
	for (i = 0; i < r->req.nargs; i++)
		r->call.args[i] = r->req.args[i];
	r->call.cpuset_size = cr->cpuset_size;
	r->call.cpuset = (uintptr_t)r->kset;
	r->call.results = (uintptr_t)r->kres;
	r->call.nresults = r->ncpus;
	r->call.view = client_view(r->conn, privileged);

	/* liburing 2.3 has no io_uring_prep_uring_cmd: by hand. */
	sqe = get_sqe();
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = xd.devfd;
	sqe->cmd_op = XCALL_IOC_CALL;
	uc = (struct xcall_uring_cmd *)sqe->cmd;
	uc->call = (uintptr_t)&r->call;
	io_uring_sqe_set_data(sqe, tagged(r, TAG_CMD));
	r->refs++;
}

static void handle_call(struct xd_conn *c, uint64_t id, size_t len)
{
	struct xcall_wire_callreq cr;
	unsigned int timeout;
	bool privileged = false;
	struct xd_req *r;
	int ret;

	ret = __xcall_wire_dec_call(c->rbuf, len, &id, &cr);
	if (ret) {
		xd.errors++;
		send_error(c, id, XCALL_WIRE_CALL, ret);
		return;
	}
	ret = check_call(&cr);
	if (!ret) {
		ret = xd_policy_check(xd.policy, &c->cred, cr.req.fn,
				      cr.cpuset, cr.cpuset_size);
		if (ret) {
			xd.denied++;
			log_denial(c, &cr, "not allowed by the policy");
		}
	}
	/*
	 * Privileged: the policy lets the client run "where" on these CPUs,
	 * which tells what runs there. Only such a client sees every task
	 * and reaches isolated CPUs.
	 */
	if (!ret)
		privileged = !xd_policy_check(xd.policy, &c->cred,
					      XCALL_FN_WHERE, cr.cpuset,
					      cr.cpuset_size);
	if (!ret && !privileged &&
	    sets_meet(cr.cpuset, cr.cpuset_size, xd.isolated)) {
		ret = -EPERM;
		xd.denied++;
		log_denial(c, &cr, "an isolated CPU, for privileged clients");
	}
	if (!ret && !rate_ok(c))
		ret = -EAGAIN;
	if (ret) {
		send_error(c, id, XCALL_WIRE_CALL, ret);
		return;
	}
	r = req_alloc(c, id, &cr);
	if (!r) {
		send_error(c, id, XCALL_WIRE_CALL, -ENOMEM);
		return;
	}
	timeout = cr.req.timeout_ms ? cr.req.timeout_ms :
		  XCALL_DEFAULT_TIMEOUT_MS;
	if (xd.backend == XCALL_BACKEND_KMOD)
		timeout += KMOD_GRACE_MS;
	r->deadline = xd_now_ns() + (uint64_t)timeout * 1000000ULL;
	if (heap_add(r)) {
		req_reply(r, -ENOMEM);
		return;
	}
	if (xd.backend == XCALL_BACKEND_THREADS)
		dispatch_pool(r, &cr);
	else
		dispatch_kmod(r, &cr, privileged);
}

static void handle_status(struct xd_conn *c, uint64_t id)
{
	struct xcall_wire_status st = { .backend = xd.backend };
	struct xd_out *o = out_alloc(XCALL_WIRE_MAX_STATUS);
	unsigned int nfns = xcall_fn_count();
	int len;

	if (!o) {
		conn_close(c, "out of memory");
		return;
	}
	snprintf(st.version, sizeof(st.version), "%s", XCALL_VERSION);
	st.uptime_ns = xd_now_ns() - xd.start_ns;
	st.clients = xd.nconns;
	st.clients_total = xd.clients_total;
	st.served = xd.served;
	st.denied = xd.denied;
	st.errors = xd.errors;
	st.inflight = xd.live_reqs;
	if (nfns > XCALL_WIRE_MAX_FNS)
		nfns = XCALL_WIRE_MAX_FNS;
	len = __xcall_wire_enc_status(o->data, XCALL_WIRE_MAX_STATUS, id, &st,
				      xd.fn_calls, nfns);
	o->len = (uint32_t)len;
	conn_queue(c, o);
}

static void handle_frame(struct xd_conn *c, size_t len)
{
	struct xcall_wire_hdr h;
	int type;

	if (len > sizeof(c->rbuf)) {
		/* The kernel dropped the rest; the frame boundary holds. */
		xd.errors++;
		send_error(c, __xcall_wire_peek_id(c->rbuf, sizeof(c->rbuf)),
			   XCALL_WIRE_ERROR, -EMSGSIZE);
		return;
	}
	type = __xcall_wire_hdr(c->rbuf, len, &h);
	if (type < 0) {
		xd.errors++;
		send_error(c, __xcall_wire_peek_id(c->rbuf, len),
			   XCALL_WIRE_ERROR, type);
		/* Not our protocol, or not this version: say so and part. */
		if (type != -EINVAL)
			c->eof = true;
		return;
	}
	switch (type) {
	case XCALL_WIRE_CALL:
		handle_call(c, h.id, len);
		break;
	case XCALL_WIRE_STATUS:
		if (len != sizeof(h) || h.error) {
			xd.errors++;
			send_error(c, h.id, XCALL_WIRE_ERROR, -EBADMSG);
			break;
		}
		handle_status(c, h.id);
		break;
	default:
		xd.errors++;
		send_error(c, h.id, XCALL_WIRE_ERROR, -EOPNOTSUPP);
		break;
	}
}

/* ---- completions ------------------------------------------------------- */

/*
 * recv(2) returns 0 both for a zero-length frame and at the end of the
 * stream. The end is for good: the client has shut down its side and
 * nothing is left queued. Anything else means a frame of no bytes came in,
 * which handle_frame() refuses as too short. (A zero-length frame that the
 * client's shutdown follows before we look is taken for the end.)
 */
static bool conn_at_end(struct xd_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLRDHUP };
	uint8_t b;

	if (c->closing)
		return true;
	if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		return false;
	return poll(&pfd, 1, 0) == 1 &&
	       (pfd.revents & (POLLRDHUP | POLLHUP));
}

/*
 * A client that pipelines has more frames waiting: take up to RECV_BATCH
 * of them with plain non-blocking recv(2) before arming the ring again.
 */
static void conn_recv_more(struct xd_conn *c)
{
	unsigned int i;
	ssize_t n;

	for (i = 0; i < RECV_BATCH; i++) {
		if (c->closing || c->eof || xd.stopping ||
		    c->inflight >= c->lim.inflight ||
		    c->out_bytes >= OUT_MAX_BYTES)
			return;
		n = recv(c->fd, c->rbuf, sizeof(c->rbuf),
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(c, strerror(errno));
			return;
		}
		if (n == 0 && conn_at_end(c)) {
			c->eof = true;
			return;
		}
		handle_frame(c, (size_t)n);
	}
}

static void on_recv(struct xd_conn *c, int res)
{
	c->recv_armed = false;
	if (res < 0) {
		if (res != -ECANCELED && !c->closing)
			conn_close(c, strerror(-res));
	} else if (res == 0 && conn_at_end(c)) {
		c->eof = true;	/* the client is done sending */
	} else if (!c->closing) {
		handle_frame(c, (size_t)res);
		conn_recv_more(c);
	}
	conn_recv_arm(c);
	conn_maybe_finish(c);
	conn_put(c);
}

static void on_send(struct xd_out *o, int res)
{
	struct xd_conn *c = o->conn;

	c->nsending--;
	c->out_bytes -= o->len;
	c->progress_ns = xd_now_ns();
	free(o);
	if (res < 0) {
		if (res != -ECANCELED && !c->closing)
			conn_close(c, strerror(-res));
	} else {
		conn_send_more(c);
		conn_recv_arm(c);
		conn_maybe_finish(c);
	}
	conn_put(c);
}

static void get_cred(int fd, struct xd_cred *cr)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	memset(cr, 0, sizeof(*cr));
	cr->uid = (uid_t)-1;
	cr->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
		cr->pid = uc.pid;
		cr->uid = uc.uid;
		cr->gid = uc.gid;
	}
	len = sizeof(cr->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cr->groups, &len) == 0)
		cr->ngroups = (int)(len / sizeof(gid_t));
	else if (errno == ERANGE)
		xd_log(XD_WARN, "pid %d: over %d groups, only the primary "
		       "group counts", (int)cr->pid, XD_MAX_GROUPS);
}

/*
 * How deep the pid namespace of @pid is: the number of pids on NSpid in
 * /proc/PID/status, one per level, or -1 if it cannot be read.
 */
static int nspid_levels(pid_t pid)
{
	char path[64], line[512], *tok, *save;
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (n < 0 && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		n = 0;
		for (tok = strtok_r(line + 6, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			n++;
	}
	fclose(f);
	return n;
}

static void arm_accept(void)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_multishot_accept(sqe, xd.lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, tagged(NULL, TAG_ACCEPT));
	xd.accept_armed = true;
}

static void on_accept(int res, unsigned int flags)
{
	struct xd_conn *c;

	if (!(flags & IORING_CQE_F_MORE)) {
		xd.accept_armed = false;
		if (!xd.stopping && res != -ECANCELED)
			arm_accept();
	}
	if (res < 0) {
		if (res != -ECANCELED)
			xd_log(XD_WARN, "accept: %s", strerror(-res));
		return;
	}
	if (xd.stopping || xd.nconns >= xd.cfg->max_clients) {
		if (!xd.stopping)
			xd_log(XD_WARN, "%u clients: refusing another",
			       xd.nconns);
		close(res);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(res);
		return;
	}
	c->fd = res;
	c->refs = 1;
	c->seq = ++xd.conn_seq;
	get_cred(res, &c->cred);
	c->nopid = !c->cred.pid ||
		   nspid_levels(c->cred.pid) != xd.nspid_levels;
	xd_policy_limits(xd.policy, &c->cred, &c->lim);
	c->tokens = c->lim.burst ? c->lim.burst : 1;
	c->tok_ns = xd_now_ns();
	c->next = xd.conns;
	if (xd.conns)
		xd.conns->prev = c;
	xd.conns = c;
	xd.nconns++;
	xd.clients_total++;
	xd_log(XD_DEBUG, "client %u: pid %d uid %u gid %u", c->seq,
	       (int)c->cred.pid, (unsigned int)c->cred.uid,
	       (unsigned int)c->cred.gid);
	conn_recv_arm(c);
}

static void arm_read(int fd, void *buf, unsigned int len, enum tag t)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data(sqe, tagged(NULL, t));
}

static void policy_warn(const char *msg)
{
	xd_log(XD_WARN, "%s", msg);
}

static void reload_policy(void)
{
	struct xd_policy *p;
	char err[512], msg[600];
	int ret;

	ret = xd_policy_load(xd.cfg->policy_path, &p, err, sizeof(err),
			     policy_warn);
	if (ret) {
		xd_log(XD_ERR, "reload: keeping the old policy: %s", err);
		snprintf(msg, sizeof(msg), "STATUS=policy reload failed, "
			 "old policy kept: %s", err);
		xd_notify(msg);
		return;
	}
	xd_policy_free(xd.policy);
	xd.policy = p;
	xd_log(XD_NOTICE, "reload: policy %s: %u rules",
	       xd.cfg->policy_path, xd_policy_rules(p));
	snprintf(msg, sizeof(msg), "STATUS=policy reloaded: %u rules",
		 xd_policy_rules(p));
	xd_notify(msg);
}

static void start_stopping(void)
{
	struct io_uring_sqe *sqe;
	struct xd_conn *c, *next;

	if (xd.stopping)
		return;
	xd.stopping = true;
	xd.stop_deadline = xd_now_ns() + STOP_GRACE_MS * 1000000ULL;
	if (xd.accept_armed) {
		sqe = get_sqe();
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)
				       tagged(NULL, TAG_ACCEPT), 0);
		io_uring_sqe_set_data(sqe, tagged(NULL, TAG_IGNORE));
		/*
		 * Now: the accept holds the socket until it is cancelled,
		 * and the cancel completes in deferred task work.
		 */
		io_uring_submit(&xd.ring);
		io_uring_get_events(&xd.ring);
	}
	/*
	 * A socket of our own is gone, and refuses new clients, once this
	 * fd is closed. One systemd passed stays open there: clients wait in
	 * its backlog for the next start.
	 */
	close(xd.lfd);
	xd.lfd = -1;
	/* Said once no new client can get in. */
	xd_notify("STOPPING=1\nSTATUS=finishing calls in flight");
	xd_log(XD_NOTICE, "stopping: %lu calls in flight",
	       (unsigned long)xd.inflight);
	for (c = xd.conns; c; c = next) {
		next = c->next;
		if (c->recv_armed) {
			sqe = get_sqe();
			io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)
					       tagged(c, TAG_RECV), 0);
			io_uring_sqe_set_data(sqe, tagged(NULL, TAG_IGNORE));
		}
		conn_maybe_finish(c);
	}
}

static void on_signal(int res)
{
	if (res == sizeof(xd.si)) {
		switch (xd.si.ssi_signo) {
		case SIGHUP:
			reload_policy();
			break;
		case SIGTERM:
		case SIGINT:
			start_stopping();
			break;
		}
	}
	arm_read(xd.sfd, &xd.si, sizeof(xd.si), TAG_SIGNAL);
}

static void on_cqe(struct io_uring_cqe *cqe)
{
	uintptr_t ud = (uintptr_t)io_uring_cqe_get_data(cqe);
	void *p = (void *)(ud & ~(uintptr_t)7);

	switch (ud & 7) {
	case TAG_ACCEPT:
		on_accept(cqe->res, cqe->flags);
		break;
	case TAG_RECV:
		on_recv(p, cqe->res);
		break;
	case TAG_SEND:
		on_send(p, cqe->res);
		break;
	case TAG_EVENT:
		event_done();
		arm_read(xd.efd, &xd.efd_val, sizeof(xd.efd_val), TAG_EVENT);
		break;
	case TAG_SIGNAL:
		on_signal(cqe->res);
		break;
	case TAG_CMD:
		req_cmd_done(p, cqe->res);
		break;
	default:
		break;
	}
}

/* Deadlines that passed, and clients that stopped reading. */
static void expire(uint64_t now)
{
	struct xd_conn *c, *next;

	while (xd.heap_n && xd.heap[0]->deadline <= now) {
		struct xd_req *r = xd.heap[0];

		heap_del(r);
		req_reply(r, 0);
	}
	if (now < xd.next_tick)
		return;
	xd.next_tick = now + STALL_TICK_MS * 1000000ULL;
	for (c = xd.conns; c; c = next) {
		next = c->next;
		if (c->nsending && now - c->progress_ns >
		    xd.cfg->send_timeout_ms * 1000000ULL) {
			xd_log(XD_NOTICE, "client %u (pid %d uid %u): replies "
			       "unread for %u ms: disconnected", c->seq,
			       (int)c->cred.pid, (unsigned int)c->cred.uid,
			       xd.cfg->send_timeout_ms);
			conn_close(c, "not reading");
		}
	}
}

static bool any_sending(void)
{
	struct xd_conn *c;

	for (c = xd.conns; c; c = c->next)
		if (c->nsending)
			return true;
	return false;
}

/* How long the ring may sleep: the nearest deadline or tick. */
static int64_t wait_ns(uint64_t now)
{
	int64_t ns = -1;

	if (xd.heap_n)
		ns = xd.heap[0]->deadline > now ?
		     (int64_t)(xd.heap[0]->deadline - now) : 0;
	if (xd.deferred && (ns < 0 || ns > 1000000))
		ns = 1000000;
	if (any_sending()) {
		int64_t t = xd.next_tick > now ?
			    (int64_t)(xd.next_tick - now) : 0;

		if (ns < 0 || t < ns)
			ns = t;
	}
	if (xd.stopping) {
		int64_t t = xd.stop_deadline > now ?
			    (int64_t)(xd.stop_deadline - now) : 0;

		if (ns < 0 || t < ns)
			ns = t;
	}
	return ns;
}

static bool drained(void)
{
	return xd.stopping && !xd.live_reqs && !xd.conns && !xd.deferred;
}

/*
 * Submit what is queued and wait up to @ns (< 0: no limit) for something
 * to do. Pool workers write the eventfd only while the loop sleeps here;
 * answers that came in meanwhile are picked up without sleeping. (Spinning
 * here for answers was measured: on two CPUs it slows everything down.)
 */
static int loop_wait(int64_t ns)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	int ret;

	if (xd.efd >= 0) {
		atomic_store(&xd.sleeping, 1);
		if (atomic_load(&xd.done))
			ns = 0;		/* answers are in: do not sleep */
	}
	if (ns == 0) {
		/* GETEVENTS runs deferred task work: see conn_send_more() */
		ret = io_uring_submit(&xd.ring);
		if (ret >= 0)
			ret = io_uring_get_events(&xd.ring);
	} else {
		ts.tv_sec = ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		ret = io_uring_submit_and_wait_timeout(&xd.ring, &cqe, 1,
						       ns > 0 ? &ts : NULL,
						       NULL);
	}
	atomic_store(&xd.sleeping, 0);
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN &&
	    ret != -EBUSY)
		return ret;
	return 0;
}

static int loop(void)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n;
	uint64_t now;
	int ret;

	while (!drained()) {
		now = xd_now_ns();
		if (xd.stopping && now >= xd.stop_deadline) {
			xd_log(XD_WARN, "stopping: %lu calls never finished",
			       (unsigned long)xd.live_reqs);
			return -ETIMEDOUT;
		}
		ret = loop_wait(wait_ns(now));
		if (ret) {
			xd_log(XD_ERR, "io_uring: %s", strerror(-ret));
			return ret;
		}
		n = 0;
		io_uring_for_each_cqe(&xd.ring, head, cqe) {
			on_cqe(cqe);
			n++;
		}
		io_uring_cq_advance(&xd.ring, n);
		event_done();
		if (xd.deferred)
			deferred_sweep();
		expire(xd_now_ns());
	}
	return 0;
}

/* ---- set-up ------------------------------------------------------------ */

/* Add the CPUs of list @text to @set (@one is scratch); a bad list adds none. */
static void add_cpulist(cpu_set_t *set, cpu_set_t *one, size_t sz,
			const char *text)
{
	if (xcall_cpulist_parse(text, one, sz) == 0)
		CPU_OR_S(sz, set, set, one);
}

/*
 * The CPUs isolated with isolcpus= or nohz_full= (sysfs: empty, or
 * "(null)" without nohz_full=, adds none), and those of --isolated.
 */
static int isolated_cpus(cpu_set_t *set, size_t sz)
{
	static const char *const files[] = {
		"/sys/devices/system/cpu/isolated",
		"/sys/devices/system/cpu/nohz_full",
	};
	cpu_set_t *one = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	char text[4096];
	unsigned int i;
	size_t n;
	FILE *f;

	if (!one)
		return -ENOMEM;
	CPU_ZERO_S(sz, set);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		f = fopen(files[i], "re");
		if (!f)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		text[strcspn(text, "\n")] = '\0';
		add_cpulist(set, one, sz, text);
	}
	if (xd.cfg->isolated)
		add_cpulist(set, one, sz, xd.cfg->isolated);
	CPU_FREE(one);
	return 0;
}

static int cpus_bits(int (*get)(cpu_set_t *, size_t), uint8_t *bits)
{
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *set = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	unsigned int c;
	int ret;

	if (!set)
		return -ENOMEM;
	ret = get(set, sz);
	memset(bits, 0, XCALL_MAX_CPUSET_BYTES);
	for (c = 0; !ret && c < XCALL_MAX_CPUSET_BYTES * 8; c++)
		if (CPU_ISSET_S(c, sz, set))
			bits[c / 8] |= 1U << (c % 8);
	CPU_FREE(set);
	return ret;
}

/*
 * Workers spin only briefly before they park: the pool's default (50 us)
 * suits one caller waiting on its call, but here a spinning worker takes
 * its CPU from the event loop and the clients. Measured with bench-daemon
 * on 2 CPUs: 5 us halves the single-client round trip against 50 us.
 */
#define WORKER_SPIN_NS	5000

static int make_pool(void)
{
	const struct xcall_pool_opts opts = { .spin_ns = WORKER_SPIN_NS };
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *set = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	int ret;

	if (!set)
		return -ENOMEM;
	ret = xcall_cpus_online(set, sz);
	if (!ret)
		ret = xcall_pool_create(&xd.pool, set, sz, &opts);
	CPU_FREE(set);
	return ret;
}

/* A live daemon answers on @path: refuse to steal its socket. */
static int claim_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (ret == 0)
		return -EADDRINUSE;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	ret = claim_path(path);
	if (ret)
		return ret;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0666) || listen(fd, SOMAXCONN)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* Open /dev/xcall as root; -ENOENT and friends mean "no module". */
static int open_device(const char *path)
{
	struct xcall_info info = { .size = sizeof(info) };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, XCALL_IOC_INFO, &info) ||
	    info.abi_version != XCALL_ABI_VERSION) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/* Does the module take uring_cmd? One ping on CPU 0-ish, synchronously. */
static int probe_uring_cmd(void)
{
	struct xcall_wire_callreq cr = { .req = { .fn = XCALL_FN_PING } };
	struct io_uring_cqe *cqe;
	uint8_t set[8] = { 0 };
	struct xd_req *r;
	unsigned int c;
	int ret;

	for (c = 0; c < 64 && !bit_test(xd.online, sizeof(xd.online), c); c++)
		;
	if (c == 64)
		return -ENXIO;
	set[c / 8] = 1U << (c % 8);
	cr.cpuset = set;
	cr.cpuset_size = 8;
	cr.ncpus = 1;
	r = calloc(1, sizeof(*r) + sizeof(struct xcall_result) + 8);
	if (!r)
		return -ENOMEM;
	r->req = cr.req;
	r->ncpus = cr.ncpus;
	dispatch_kmod(r, &cr, true);	/* our own view */
	io_uring_submit(&xd.ring);
	ret = io_uring_wait_cqe(&xd.ring, &cqe);
	if (!ret) {
		ret = cqe->res < 0 ? cqe->res : 0;
		io_uring_cqe_seen(&xd.ring, cqe);
	}
	free(r);
	return ret;
}

/*
 * Only this thread touches the ring, so completions can wait until it asks
 * for them (DEFER_TASKRUN, 6.1); older kernels get the plain ring.
 */
static int setup_ring(bool sqe128)
{
	static const unsigned int extra[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_params p;
	unsigned int i;
	int ret = -EINVAL;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | extra[i];
		p.cq_entries = 4 * RING_ENTRIES;
		if (sqe128)
			p.flags |= IORING_SETUP_SQE128;
		ret = io_uring_queue_init_params(RING_ENTRIES, &xd.ring, &p);
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

static int setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Before any thread exists, so the pool's workers inherit it. */
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	xd.sfd = signalfd(-1, &set, SFD_CLOEXEC);
	return xd.sfd < 0 ? -errno : 0;
}

static int load_policy(void)
{
	char err[512];
	int ret;

	ret = xd_policy_load(xd.cfg->policy_path, &xd.policy, err,
			     sizeof(err), policy_warn);
	if (ret == -ENOENT) {
		xd_log(XD_NOTICE, "%s: none, using the built-in policy",
		       xd.cfg->policy_path);
		ret = xd_policy_parse(xd_policy_default, "built-in",
				      &xd.policy, err, sizeof(err),
				      policy_warn);
	}
	if (ret)
		xd_log(XD_ERR, "%s", err);
	return ret;
}

static void teardown(void)
{
	struct xd_req *r;

	if (xd.pool)
		xcall_pool_destroy(xd.pool);	/* runs what is pending */
	/* Whatever the loop had not answered when it gave up. */
	event_done();
	deferred_sweep();
	while (xd.heap_n) {
		r = xd.heap[0];
		heap_del(r);
	}
	free(xd.heap);
	if (xd.ring.ring_fd > 0)
		io_uring_queue_exit(&xd.ring);
	xd_policy_free(xd.policy);
	if (xd.devfd >= 0)
		close(xd.devfd);
	if (xd.efd >= 0)
		close(xd.efd);
	if (xd.sfd >= 0)
		close(xd.sfd);
	if (xd.lfd >= 0)
		close(xd.lfd);
}

int xd_run(const struct xd_config *cfg)
{
	char msg[256];
	int ret;

	xd.cfg = cfg;
	xd.lfd = xd.efd = xd.sfd = xd.devfd = -1;
	xd.start_ns = xd_now_ns();
	ret = setup_signals();
	if (ret)
		goto out;
	ret = load_policy();
	if (ret)
		goto out;
	ret = cpus_bits(xcall_cpus_possible, xd.possible);
	if (!ret)
		ret = cpus_bits(xcall_cpus_online, xd.online);
	if (!ret)
		ret = cpus_bits(isolated_cpus, xd.isolated);
	xd.nspid_levels = nspid_levels(getpid());
	if (ret) {
		xd_log(XD_ERR, "reading the CPUs: %s", strerror(-ret));
		goto out;
	}

	/* As root: the device (privilege is checked against its opener). */
	xd.backend = XCALL_BACKEND_THREADS;
	if (cfg->backend != XCALL_BACKEND_THREADS) {
		xd.devfd = open_device(cfg->device_path);
		if (xd.devfd >= 0) {
			xd.backend = XCALL_BACKEND_KMOD;
		} else if (cfg->backend == XCALL_BACKEND_KMOD) {
			ret = xd.devfd;
			xd_log(XD_ERR, "%s: %s", cfg->device_path,
			       strerror(-ret));
			goto out;
		}
	}
	xd.lfd = xd_listen_fds();
	if (xd.lfd < 0) {
		xd.lfd = bind_socket(cfg->socket_path);
		if (xd.lfd < 0) {
			ret = xd.lfd;
			xd_log(XD_ERR, "%s: %s", cfg->socket_path,
			       strerror(-ret));
			goto out;
		}
	}
	if (cfg->user) {
		ret = xd_drop_privileges(cfg->user);
		if (ret)
			goto out;
	}

	ret = setup_ring(xd.backend == XCALL_BACKEND_KMOD);
	if (ret) {
		xd_log(XD_ERR, "io_uring: %s", strerror(-ret));
		goto out;
	}
	if (xd.backend == XCALL_BACKEND_KMOD) {
		ret = probe_uring_cmd();
		if (ret) {
			xd_log(cfg->backend == XCALL_BACKEND_KMOD ? XD_ERR :
			       XD_WARN, "%s: uring_cmd: %s", cfg->device_path,
			       strerror(-ret));
			if (cfg->backend == XCALL_BACKEND_KMOD)
				goto out;
			close(xd.devfd);
			xd.devfd = -1;
			xd.backend = XCALL_BACKEND_THREADS;
		}
	}
	if (xd.backend == XCALL_BACKEND_THREADS) {
		xd.efd = eventfd(0, EFD_CLOEXEC);
		if (xd.efd < 0) {
			ret = -errno;
			goto out;
		}
		ret = make_pool();
		if (ret) {
			xd_log(XD_ERR, "worker pool: %s", strerror(-ret));
			goto out;
		}
		arm_read(xd.efd, &xd.efd_val, sizeof(xd.efd_val), TAG_EVENT);
	}
	arm_accept();
	arm_read(xd.sfd, &xd.si, sizeof(xd.si), TAG_SIGNAL);

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving on %s through "
		 "%s\nMAINPID=%d", cfg->socket_path,
		 xd.backend == XCALL_BACKEND_KMOD ? cfg->device_path :
		 "worker threads", (int)getpid());
	xd_notify(msg);
	xd_log(XD_NOTICE, "xcalld %s: serving on %s through %s", XCALL_VERSION,
	       cfg->socket_path, xd.backend == XCALL_BACKEND_KMOD ?
	       cfg->device_path : "worker threads");
	ret = loop();
	if (!ret)
		xd_log(XD_NOTICE, "stopped: %lu calls served",
		       (unsigned long)xd.served);
out:
	teardown();
	return ret;
}
