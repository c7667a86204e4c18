// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a client's frame asks for. A CALL is checked as every backend
 * checks it (libxcall's own validator), then against the policy, the
 * isolated CPUs and the client's rate; it then gets a deadline and goes to
 * the executor, and is answered once: by the executor when its calls are
 * done, or here when the deadline passes (ETIMEDOUT for the CPUs that did
 * not answer). It is freed when the last of its references goes. STATUS
 * is answered at once. A bad frame costs its sender an error reply, or
 * its connection, never anything else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"

void xd_req_put(struct xd_req *r)
{
	if (--r->refs)
		return;
	xd_heap_del(&xd.deadlines, &r->dl);
	if (r->cprev)
		r->cprev->cnext = r->cnext;
	else
		r->conn->reqs = r->cnext;
	if (r->cnext)
		r->cnext->cprev = r->cprev;
	xd_conn_call_end(r->conn);
	xd_conn_put(r->conn);
	free(r);
	xd.live_reqs--;
}

void xd_req_send(struct xd_req *r, int error)
{
	struct xd_conn *c = r->conn;
	unsigned int i, nres = 0;
	struct xd_out *o;
	int len;

	if (!error && !(r->req.flags & XCALL_CALL_NOWAIT))
		nres = r->ncpus;
	o = xd_out_alloc(XCALL_WIRE_REPLY_RES +
			 nres * sizeof(struct xcall_result));
	if (!o) {
		xd_conn_close(c, "out of memory");
		return;
	}
	len = __xcall_wire_enc_reply(o->data, XCALL_WIRE_MAX_REPLY, r->id,
				     error, NULL, nres);
	for (i = 0; i < nres; i++) {
		struct xcall_result rec;

		xd.exec->record(r, i, &rec);
		memcpy(o->data + XCALL_WIRE_REPLY_RES + i * sizeof(rec), &rec,
		       sizeof(rec));
	}
	o->len = (uint32_t)len;
	xd_conn_queue(c, o);
}

void xd_req_reply(struct xd_req *r, int error)
{
	struct xd_conn *c = r->conn;

	if (r->replied)
		return;
	r->replied = true;
	xd_heap_del(&xd.deadlines, &r->dl);
	xd.inflight--;
	xd.served++;
	if (r->req.fn < XCALL_WIRE_MAX_FNS)
		xd.fn_calls[r->req.fn]++;
	/* Its worker may have sent it already (exec_pool.c, direct replies). */
	if (!xd.exec->claim_reply || xd.exec->claim_reply(r))
		xd_req_send(r, error);
	xd_conn_recv_arm(c);
	xd_conn_maybe_finish(c);
	xd_req_put(r);
}

/* Drop what has not started of @r's calls; count it for STATUS. */
static void req_cancel(struct xd_req *r)
{
	int n = xd.exec->cancel(r);

	if (n > 0)
		xd.cancelled += (unsigned int)n;
}

void xd_req_expire(struct xd_req *r)
{
	req_cancel(r);
	xd_req_reply(r, 0);
}

/*
 * Every request of @c, NOWAIT ones answered already included: their calls
 * not started would only cost the CPUs of a client that is gone. Each one
 * holds @c, which xd_conn_close() still holds too.
 */
void xd_req_cancel_all(struct xd_conn *c)
{
	struct xd_req *r, *next;

	for (r = c->reqs; r; r = next) {
		r->refs++;		/* the reply may free it */
		req_cancel(r);
		xd_req_reply(r, -ECANCELED);
		next = r->cnext;
		xd_req_put(r);
	}
}

/*
 * What every backend refuses alike, with the errnos of XCALL_IOC_CALL: the
 * request as libxcall checks it, then its CPUs against those that existed
 * and were online when we started, as xcall_cpus_check() does for
 * libxcall. Nothing of the validation is written here.
 */
static int check_call(const struct xcall_wire_callreq *cr)
{
	const size_t wsz = sizeof(__cpu_mask);
	union xd_cpus want;
	size_t i;
	int ret;

	ret = xcall_req_check(&cr->req, xd.exec->backend);
	if (ret)
		return ret;
	/* The wire's bitmap (CPU n: bit n % 8 of byte n / 8), word by word. */
	memset(&want, 0, cr->cpuset_size);
	for (i = 0; i < cr->cpuset_size; i++)
		want.w[i / wsz] |= (__cpu_mask)cr->cpuset[i] << (8 * (i % wsz));
	return xcall_cpus_check(&want.set, &xd.possible.set, &xd.online.set,
				cr->cpuset_size, NULL);
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

static void log_denial(struct xd_conn *c, const struct xcall_wire_callreq *cr,
		       const char *why)
{
	static struct xd_ratelimit rl = { .what = "denials" };
	const struct xcall_fn_info *fi = xcall_fn_by_id(cr->req.fn);
	size_t sz = CPU_ALLOC_SIZE(cr->cpuset_size * 8);
	cpu_set_t *set = CPU_ALLOC(cr->cpuset_size * 8);
	char cpus[256] = "?";
	unsigned int i;

	if (set) {
		CPU_ZERO_S(sz, set);
		for (i = 0; i < cr->cpuset_size * 8; i++)
			if (xd_bit_test(cr->cpuset, cr->cpuset_size, i))
				CPU_SET_S(i, sz, set);
		if (xcall_cpulist_format(set, sz, cpus, sizeof(cpus)) < 0)
			strcpy(cpus, "(many)");
		CPU_FREE(set);
	}
	xd_log_ratelimited(&rl, XD_NOTICE, "denied: uid %u gid %u pid %d: %s "
			   "on CPUs %s: %s", (unsigned int)c->cred.uid,
			   (unsigned int)c->cred.gid, (int)c->cred.pid,
			   fi ? fi->name : "?", cpus, why);
}

/*
 * A frame of @len bytes @c should not have sent, answered with @err: the
 * connection stays. One that ends it says so when it closes.
 */
static void protocol_error(struct xd_conn *c, size_t len, int err)
{
	static struct xd_ratelimit rl = { .what = "protocol errors" };

	xd.errors++;
	xd_log_ratelimited(&rl, XD_NOTICE, "client %u (pid %d uid %u): "
			   "protocol error: a frame of %zu bytes: %s", c->seq,
			   (int)c->cred.pid, (unsigned int)c->cred.uid, len,
			   strerror(-err));
}

static struct xd_req *req_alloc(struct xd_conn *c, uint64_t id,
				const struct xcall_wire_callreq *cr)
{
	struct xd_req *r = xd.exec->alloc(cr);

	if (!r)
		return NULL;
	r->conn = c;
	r->id = id;
	r->req = cr->req;
	r->ncpus = cr->ncpus;
	r->dl.idx = XD_HEAP_NONE;
	r->refs = 1;		/* the reply still owed */
	r->cnext = c->reqs;
	if (c->reqs)
		c->reqs->cprev = r;
	c->reqs = r;
	c->refs++;
	xd_conn_call_start(c);
	xd.inflight++;
	xd.live_reqs++;
	return r;
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
		protocol_error(c, len, ret);
		xd_send_error(c, id, XCALL_WIRE_CALL, ret);
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
	if (!ret && !xd_conn_rate_ok(c))
		ret = -EAGAIN;
	if (ret) {
		xd_send_error(c, id, XCALL_WIRE_CALL, ret);
		return;
	}
	r = req_alloc(c, id, &cr);
	if (!r) {
		xd_send_error(c, id, XCALL_WIRE_CALL, -ENOMEM);
		return;
	}
	timeout = cr.req.timeout_ms ? cr.req.timeout_ms :
		  XCALL_DEFAULT_TIMEOUT_MS;
	timeout += xd.exec->grace_ms;
	r->dl.deadline = xd_now_ns() + (uint64_t)timeout * 1000000ULL;
	if (xd_heap_add(&xd.deadlines, &r->dl)) {
		xd_req_reply(r, -ENOMEM);
		return;
	}
	xd.exec->dispatch(r, &cr, privileged);
}

static void handle_status(struct xd_conn *c, uint64_t id)
{
	struct xcall_wire_status st = { .backend = xd.exec->backend };
	struct xd_out *o = xd_out_alloc(XCALL_WIRE_MAX_STATUS);
	unsigned int nfns = xcall_fn_count();
	int len;

	if (!o) {
		xd_conn_close(c, "out of memory");
		return;
	}
	/* Calls whose replies a worker sent are counted (exec_pool.c). */
	if (xd.exec->poll)
		xd.exec->poll();
	snprintf(st.version, sizeof(st.version), "%s", XCALL_VERSION);
	st.uptime_ns = xd_now_ns() - xd.start_ns;
	st.clients = xd.nconns;
	st.clients_total = xd.clients_total;
	st.served = xd.served;
	st.denied = xd.denied;
	st.errors = xd.errors;
	st.inflight = xd.live_reqs;
	st.cancelled = xd.cancelled;
	if (nfns > XCALL_WIRE_MAX_FNS)
		nfns = XCALL_WIRE_MAX_FNS;
	len = __xcall_wire_enc_status(o->data, XCALL_WIRE_MAX_STATUS, id, &st,
				      xd.fn_calls, nfns);
	o->len = (uint32_t)len;
	xd_conn_queue(c, o);
}

void xd_req_frame(struct xd_conn *c, size_t len)
{
	struct xcall_wire_hdr h;
	int type;

	if (len > sizeof(c->rbuf)) {
		/* The kernel dropped the rest; the frame boundary holds. */
		protocol_error(c, len, -EMSGSIZE);
		xd_send_error(c, __xcall_wire_peek_id(c->rbuf,
						      sizeof(c->rbuf)),
			      XCALL_WIRE_ERROR, -EMSGSIZE);
		return;
	}
	type = __xcall_wire_hdr(c->rbuf, len, &h);
	if (type < 0) {
		xd_send_error(c, __xcall_wire_peek_id(c->rbuf, len),
			      XCALL_WIRE_ERROR, type);
		/* Not our protocol, or not this version: say so and part. */
		if (type == -EINVAL) {
			protocol_error(c, len, type);
		} else {
			xd.errors++;
			c->proto_err = -type;	/* said at the close */
			c->eof = true;
		}
		return;
	}
	switch (type) {
	case XCALL_WIRE_CALL:
		handle_call(c, h.id, len);
		break;
	case XCALL_WIRE_STATUS:
		if (len != sizeof(h) || h.error) {
			protocol_error(c, len, -EBADMSG);
			xd_send_error(c, h.id, XCALL_WIRE_ERROR, -EBADMSG);
			break;
		}
		handle_status(c, h.id);
		break;
	default:
		protocol_error(c, len, -EOPNOTSUPP);
		xd_send_error(c, h.id, XCALL_WIRE_ERROR, -EOPNOTSUPP);
		break;
	}
}
