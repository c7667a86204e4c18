/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The parts of xcalld's event loop and what they share. One thread runs
 * all of it (only the pool's workers run elsewhere, in exec_pool.c):
 *
 *   loop.c       the ring and the loop: SQEs and CQEs, timers, signals,
 *                reload, start and stop
 *   conn.c       clients: the listening socket and accept, credentials,
 *                limits, frames in (recv) and replies out (send)
 *   request.c    what a frame asks: the checks, the policy, the reply,
 *                STATUS
 *   exec_pool.c  calls on the daemon's own worker threads (no module)
 *   exec_kmod.c  calls through the module's io_uring command
 *   heap.c       the deadlines of the requests not answered
 *
 * The loop knows the executors only through struct xd_exec_ops.
 */
#ifndef XCALLD_LOOP_H
#define XCALLD_LOOP_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "heap.h"
#include "wire.h"
#include "xcalld.h"

/* The module's own timeout comes first: the daemon's deadline waits this. */
#define XD_KMOD_GRACE_MS	2000

/* What the user_data of an SQE points to, told by its low 3 bits. */
enum xd_tag {
	XD_TAG_ACCEPT = 1,
	XD_TAG_RECV,		/* struct xd_conn */
	XD_TAG_SEND,		/* struct xd_out */
	XD_TAG_SIGNAL,
	XD_TAG_EXEC,		/* the executor's own: xd.exec->complete() */
	XD_TAG_IGNORE,
};

static inline void *xd_tagged(void *p, enum xd_tag t)
{
	return (void *)((uintptr_t)p | t);
}

/* ---- clients (conn.c) -------------------------------------------------- */

struct xd_conn;

/* A reply frame queued on, or being sent to, @conn. */
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
	int proto_err;			/* errno of the frame that ended it */
	bool recv_armed;
	unsigned int nsending;		/* sends on the ring */
	unsigned int inflight;		/* calls not yet run (or let go) */
	struct xd_user *user;		/* its uid's limits and counts */
	struct xd_out *oq_head, *oq_tail;	/* replies not yet submitted */
	size_t out_bytes;		/* queued + being sent */
	uint64_t progress_ns;		/* last send submitted or completed */
	struct xd_cred cred;
	bool nopid;			/* in another pid namespace than ours */
	struct xd_req *reqs;		/* its requests not yet freed */
	uint8_t rbuf[XCALL_WIRE_MAX_REQ];
};

/*
 * The policy's limits apply to a uid, over all its connections: one of
 * these per uid with a connection, or whose rate bucket has not filled up
 * again since its last one left (so that reconnecting resets nothing).
 */
struct xd_user {
	struct xd_user *next;
	uid_t uid;
	unsigned int nconns;		/* connections now */
	unsigned int inflight;		/* calls not yet answered */
	struct xd_limits lim;		/* of its newest connection */
	double tokens;			/* the rate's bucket */
	uint64_t tok_ns;
};

/* Before privileges go: what conn.c needs to know of this process. */
void xd_conn_init(void);
/* The socket systemd passed, else one of our own at @path; -errno. */
int xd_conn_listen(const char *path);
void xd_conn_arm_accept(void);
/* No new client from now on; those connected finish (xd.stopping). */
void xd_conn_stop_accepting(void);
void xd_conn_stop_all(void);
void xd_conn_unlisten(void);
/* Last, after every client is freed: what is left of the uids. */
void xd_conn_exit(void);
/* Drop the clients that have left replies unread for too long. */
void xd_conn_tick(uint64_t now);
bool xd_conn_any_sending(void);

void xd_conn_on_accept(int res, unsigned int flags);
void xd_conn_on_recv(struct xd_conn *c, int res);
void xd_conn_on_send(struct xd_out *o, int res);

void xd_conn_put(struct xd_conn *c);
void xd_conn_close(struct xd_conn *c, const char *why);
void xd_conn_maybe_finish(struct xd_conn *c);
void xd_conn_recv_arm(struct xd_conn *c);
/* A call of @c starts, ends: counted against its uid's `inflight`. */
void xd_conn_call_start(struct xd_conn *c);
void xd_conn_call_end(struct xd_conn *c);
/* Within the uid's rate (policy `limit rate= burst=`)? Takes a token. */
bool xd_conn_rate_ok(struct xd_conn *c);
struct xd_out *xd_out_alloc(size_t len);
void xd_conn_queue(struct xd_conn *c, struct xd_out *o);
void xd_send_error(struct xd_conn *c, uint64_t id, int type, int err);

/* ---- requests (request.c) ---------------------------------------------- */

/*
 * One CALL. An executor allocates it, with this at the start of its own
 * allocation (xd_req_put() frees it with free()), and holds a reference for
 * each thing of its own that still points here.
 */
struct xd_req {
	struct xd_conn *conn;
	struct xd_req *cprev, *cnext;	/* on conn->reqs until freed */
	uint64_t id;
	struct xcall_req req;
	unsigned int refs;		/* the reply owed + the executor's */
	unsigned int ncpus;
	bool replied;
	struct xd_heap_node dl;		/* in xd.deadlines until answered */
};

/* Act on the frame of @len bytes in c->rbuf. */
void xd_req_frame(struct xd_conn *c, size_t len);
/*
 * Answer @r: @error for the request as a whole, else one record per CPU
 * (none for NOWAIT). Drops the reference the owed reply held.
 */
void xd_req_reply(struct xd_req *r, int error);
/*
 * Encode and queue the reply of @r as xd_req_reply() does, nothing else:
 * for an executor whose own reply could not leave (exec_pool.c).
 */
void xd_req_send(struct xd_req *r, int error);
void xd_req_put(struct xd_req *r);
/*
 * @c is closing: drop the calls of its requests that have not started
 * (xd.exec->cancel) and answer, into the void, those not answered yet.
 */
void xd_req_cancel_all(struct xd_conn *c);
/* @r missed its deadline: drop its calls not started, answer it. */
void xd_req_expire(struct xd_req *r);

/* ---- executors (exec_pool.c, exec_kmod.c) ------------------------------ */

struct xd_exec_ops {
	enum xcall_backend backend;	/* THREADS or KMOD: STATUS, checks */
	unsigned int grace_ms;		/* past the call's own timeout */
	bool sqe128;			/* its SQEs need a ring of SQE128 */
	/* Once the ring is there; stop undoes it, started or not. */
	int (*start)(void);
	void (*stop)(void);
	/* A zeroed request with room for @cr's calls, or NULL. */
	struct xd_req *(*alloc)(const struct xcall_wire_callreq *cr);
	/* Start the calls of @r (checked, in the heap); answer if it can. */
	void (*dispatch)(struct xd_req *r,
			 const struct xcall_wire_callreq *cr, bool privileged);
	/* Record @i of @r as it stands: what came back, or ETIMEDOUT. */
	void (*record)(const struct xd_req *r, unsigned int i,
		       struct xcall_result *out);
	/*
	 * Drop the calls of @r that have not started (its deadline passed,
	 * or its client left): how many, or -errno. What was dropped never
	 * runs; the request is still freed only once nothing holds it.
	 */
	int (*cancel)(struct xd_req *r);
	/*
	 * Optional: may the loop send @r's reply (true), or has the
	 * executor sent it, or taken it to send (false)? Asked once, by
	 * xd_req_reply(); the loop counts the answer either way.
	 */
	bool (*claim_reply)(struct xd_req *r);
	/* A CQE of an SQE it tagged XD_TAG_EXEC. */
	void (*complete)(void *p, int res);
	/* After each batch of CQEs: answers that came by other ways. */
	void (*poll)(void);
	/* Around the wait in the ring: @ns may shrink (0: do not sleep). */
	void (*before_wait)(int64_t *ns);
	void (*after_wait)(void);
};

extern const struct xd_exec_ops xd_exec_pool;
extern const struct xd_exec_ops xd_exec_kmod;
/* As root, before the ring: /dev/xcall for xd_exec_kmod; -errno. */
int xd_kmod_open(const char *path);

/* ---- the loop (loop.c) ------------------------------------------------- */

/* A CPU set in glibc's layout, as large as a request's may be. */
union xd_cpus {
	cpu_set_t set;
	__cpu_mask w[XCALL_MAX_CPUSET_BYTES / sizeof(__cpu_mask)];
};

struct xd_state {
	const struct xd_config *cfg;
	const struct xd_exec_ops *exec;	/* runs the calls */
	struct io_uring ring;
	struct xd_policy *policy;
	bool stopping;			/* TERM or INT: finish, then exit */
	uint64_t start_ns;

	unsigned int nconns;		/* clients now */
	uint64_t clients_total;		/* since start */

	struct xd_heap deadlines;	/* of the requests not answered */
	uint64_t served, denied, errors;
	uint64_t inflight;		/* calls not answered */
	uint64_t cancelled;		/* calls dropped before they ran */
	uint64_t live_reqs;		/* requests not freed */
	uint64_t fn_calls[XCALL_WIRE_MAX_FNS];

	union xd_cpus possible, online;	/* when we started */
	uint8_t isolated[XCALL_MAX_CPUSET_BYTES];	/* privileged clients' */
};

extern struct xd_state xd;

/* An SQE: the ring's next, after a submit if it is full. */
struct io_uring_sqe *xd_get_sqe(void);
/* A read of @len bytes into @buf, its CQE tagged @t. */
void xd_arm_read(int fd, void *buf, unsigned int len, enum xd_tag t);

static inline bool xd_bit_test(const uint8_t *bits, size_t size,
			       unsigned int n)
{
	return n / 8 < size && (bits[n / 8] >> (n % 8)) & 1;
}

static inline void xd_fail_record(struct xcall_result *r, unsigned int fn,
				  int cpu, int err)
{
	memset(r, 0, sizeof(*r));
	r->cpu = cpu;
	r->fn = fn;
	r->error = err;
}

#endif
