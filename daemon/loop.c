// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's event loop: one thread, one io_uring, nothing on it that blocks.
 * Its parts, a section each below, declared in loop.h:
 *
 *   clients            accept, recv, send, credentials, limits
 *   requests           checks, policy, replies, status
 *   executors          the calls, behind struct xd_exec_ops: the daemon's
 *                      own worker threads, or IORING_OP_URING_CMD on
 *                      /dev/xcall
 *   the ring and loop  every CQE goes to its part by the tag in its
 *                      user_data; the wait's timeout is the nearest
 *                      deadline or tick; signals (TERM and INT drain and
 *                      exit, HUP reloads); start-up and teardown
 *
 * Every request has a deadline in a min-heap (heap.c); a request that
 * misses it is answered with ETIMEDOUT for the CPUs that did not answer,
 * and freed only when its last call has let go.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "loop.h"

/* ---- clients ------------------------------------------------------------ */

/*
 * xcalld's clients: the listening socket (multishot accept), credentials
 * (SO_PEERCRED, SO_PEERGROUPS, the pid namespace) and limits per client,
 * frames in and replies out.
 *
 * Each client has one recv on the ring at a time (MSG_TRUNC tells an
 * oversized frame), then what else is queued is read with non-blocking
 * recv(2); its replies wait in a queue, up to MAX_SENDS of them in flight
 * as IORING_OP_SEND. A client's calls in flight are bounded (policy
 * `inflight`): past it nothing more is read from it, so it blocks in its
 * send. Its unsent replies are bounded too (OUT_MAX_BYTES), and a client
 * that leaves replies unread for send_timeout_ms is disconnected.
 *
 * A client is freed when its last reference goes: the open connection,
 * each op on the ring, each request (struct xd_req) not yet freed.
 */

#define OUT_MAX_BYTES		(512 * 1024)	/* unsent replies per client */
#define RECV_BATCH		16	/* frames read at once from a client */
#define MAX_SENDS		16	/* replies in flight per client */

static struct xd_conn *conns;		/* connected, newest first */
static unsigned int conn_seq;		/* numbers them for log lines */
static int lfd = -1;			/* listening */
static bool accept_armed;
static int nspid_self;			/* levels of our own pid namespace */

void xd_conn_put(struct xd_conn *c)
{
	struct xd_out *o;

	if (--c->refs)
		return;
	while ((o = c->oq_head)) {
		c->oq_head = o->next;
		free(o);
	}
	close(c->fd);
	free(c);
}

/* Cancel the recv @c has on the ring, if it has one. */
static void cancel_recv(struct xd_conn *c)
{
	struct io_uring_sqe *sqe;

	if (!c->recv_armed)
		return;
	sqe = xd_get_sqe();
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)
			       xd_tagged(c, XD_TAG_RECV), 0);
	io_uring_sqe_set_data(sqe, xd_tagged(NULL, XD_TAG_IGNORE));
}

/* Drop @c: no more reads or replies; freed when its last op lets go. */
void xd_conn_close(struct xd_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = true;
	xd_log(XD_DEBUG, "client %u (pid %d uid %u): closed: %s", c->seq,
	       (int)c->cred.pid, (unsigned int)c->cred.uid, why);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	xd.nconns--;
	/*
	 * Wakes a pending recv (it returns 0) or send (-EPIPE). A cancel by
	 * fd could hit a new client that got the same number: by user_data.
	 */
	shutdown(c->fd, SHUT_RDWR);
	cancel_recv(c);
	xd_conn_put(c);
}

/* Close @c once it has nothing left to say and will hear nothing more. */
void xd_conn_maybe_finish(struct xd_conn *c)
{
	if (c->closing || !(c->eof || xd.stopping))
		return;
	if (!c->inflight && !c->oq_head && !c->nsending && !c->recv_armed)
		xd_conn_close(c, c->eof ? "end of requests" : "daemon stopping");
}

void xd_conn_recv_arm(struct xd_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->recv_armed || c->closing || c->eof || xd.stopping)
		return;
	if (c->inflight >= c->lim.inflight || c->out_bytes >= OUT_MAX_BYTES)
		return;		/* back-pressure: the client waits */
	sqe = xd_get_sqe();
	io_uring_prep_recv(sqe, c->fd, c->rbuf, sizeof(c->rbuf), MSG_TRUNC);
	io_uring_sqe_set_data(sqe, xd_tagged(c, XD_TAG_RECV));
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
 * loop_wait() always asks for events, sleeping or not. At most
 * MAX_SENDS per client: many parked sends on one full socket all retry on
 * each wake-up.
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
		sqe = xd_get_sqe();
		io_uring_prep_send(sqe, c->fd, o->data, o->len, MSG_NOSIGNAL);
		io_uring_sqe_set_data(sqe, xd_tagged(o, XD_TAG_SEND));
		if (!c->nsending)
			c->progress_ns = xd_now_ns();
		c->nsending++;
		c->refs++;
	}
}

/* Queue the @len bytes frame @o->data on @c; frees @o if @c is gone. */
void xd_conn_queue(struct xd_conn *c, struct xd_out *o)
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

struct xd_out *xd_out_alloc(size_t len)
{
	return malloc(sizeof(struct xd_out) + len);
}

void xd_send_error(struct xd_conn *c, uint64_t id, int type, int err)
{
	struct xd_out *o = xd_out_alloc(XCALL_WIRE_MAX_REPLY);
	int len;

	if (!o) {
		xd_conn_close(c, "out of memory");
		return;
	}
	if (type == XCALL_WIRE_CALL)
		len = __xcall_wire_enc_reply(o->data, XCALL_WIRE_MAX_REPLY, id,
					     err, NULL, 0);
	else
		len = __xcall_wire_enc_error(o->data, XCALL_WIRE_MAX_REPLY, id,
					     err);
	o->len = (uint32_t)len;
	xd_conn_queue(c, o);
}

bool xd_conn_rate_ok(struct xd_conn *c)
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
				xd_conn_close(c, strerror(errno));
			return;
		}
		if (n == 0) {
			c->eof = true;
			return;
		}
		xd_req_frame(c, (size_t)n);
	}
}

void xd_conn_on_recv(struct xd_conn *c, int res)
{
	c->recv_armed = false;
	if (res < 0) {
		if (res != -ECANCELED && !c->closing)
			xd_conn_close(c, strerror(-res));
	} else if (res == 0) {
		c->eof = true;	/* the client is done sending */
	} else if (!c->closing) {
		xd_req_frame(c, (size_t)res);
		conn_recv_more(c);
	}
	xd_conn_recv_arm(c);
	xd_conn_maybe_finish(c);
	xd_conn_put(c);
}

void xd_conn_on_send(struct xd_out *o, int res)
{
	struct xd_conn *c = o->conn;

	c->nsending--;
	c->out_bytes -= o->len;
	c->progress_ns = xd_now_ns();
	free(o);
	if (res < 0) {
		if (res != -ECANCELED && !c->closing)
			xd_conn_close(c, strerror(-res));
	} else {
		conn_send_more(c);
		xd_conn_recv_arm(c);
		xd_conn_maybe_finish(c);
	}
	xd_conn_put(c);
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

void xd_conn_arm_accept(void)
{
	struct io_uring_sqe *sqe = xd_get_sqe();

	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, xd_tagged(NULL, XD_TAG_ACCEPT));
	accept_armed = true;
}

void xd_conn_on_accept(int res, unsigned int flags)
{
	struct xd_conn *c;

	if (!(flags & IORING_CQE_F_MORE)) {
		accept_armed = false;
		if (!xd.stopping && res != -ECANCELED)
			xd_conn_arm_accept();
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
	c->seq = ++conn_seq;
	get_cred(res, &c->cred);
	c->nopid = !c->cred.pid ||
		   nspid_levels(c->cred.pid) != nspid_self;
	xd_policy_limits(xd.policy, &c->cred, &c->lim);
	c->tokens = c->lim.burst ? c->lim.burst : 1;
	c->tok_ns = xd_now_ns();
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	xd.nconns++;
	xd.clients_total++;
	xd_log(XD_DEBUG, "client %u: pid %d uid %u gid %u", c->seq,
	       (int)c->cred.pid, (unsigned int)c->cred.uid,
	       (unsigned int)c->cred.gid);
	xd_conn_recv_arm(c);
}

bool xd_conn_any_sending(void)
{
	struct xd_conn *c;

	for (c = conns; c; c = c->next)
		if (c->nsending)
			return true;
	return false;
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

/* The socket systemd passed, else one of our own at @path. */
int xd_conn_listen(const char *path)
{
	lfd = xd_listen_fds();
	if (lfd < 0)
		lfd = bind_socket(path);
	return lfd < 0 ? lfd : 0;
}

void xd_conn_unlisten(void)
{
	if (lfd >= 0)
		close(lfd);
	lfd = -1;
}

void xd_conn_stop_accepting(void)
{
	struct io_uring_sqe *sqe;

	if (accept_armed) {
		sqe = xd_get_sqe();
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)
				       xd_tagged(NULL, XD_TAG_ACCEPT), 0);
		io_uring_sqe_set_data(sqe, xd_tagged(NULL, XD_TAG_IGNORE));
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
	close(lfd);
	lfd = -1;
}

/* Stopping: each client finishes what it asked, then is closed. */
void xd_conn_stop_all(void)
{
	struct xd_conn *c, *next;

	for (c = conns; c; c = next) {
		next = c->next;
		cancel_recv(c);
		xd_conn_maybe_finish(c);
	}
}

void xd_conn_tick(uint64_t now)
{
	struct xd_conn *c, *next;

	for (c = conns; c; c = next) {
		next = c->next;
		if (c->nsending && now - c->progress_ns >
		    xd.cfg->send_timeout_ms * 1000000ULL) {
			xd_log(XD_NOTICE, "client %u (pid %d uid %u): replies "
			       "unread for %u ms: disconnected", c->seq,
			       (int)c->cred.pid, (unsigned int)c->cred.uid,
			       xd.cfg->send_timeout_ms);
			xd_conn_close(c, "not reading");
		}
	}
}

void xd_conn_init(void)
{
	nspid_self = nspid_levels(getpid());
}

/* ---- requests ----------------------------------------------------------- */

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

#define DENY_LOG_PER_SEC	20

/* Denials logged this second, and those not logged. */
static uint64_t deny_sec;
static unsigned int deny_logged, deny_dropped;

void xd_req_put(struct xd_req *r)
{
	if (--r->refs)
		return;
	xd_heap_del(&xd.deadlines, &r->dl);
	xd_conn_put(r->conn);
	free(r);
	xd.live_reqs--;
}

void xd_req_reply(struct xd_req *r, int error)
{
	struct xd_conn *c = r->conn;
	unsigned int i, nres = 0;
	struct xd_out *o;
	int len;

	if (r->replied)
		return;
	r->replied = true;
	xd_heap_del(&xd.deadlines, &r->dl);
	c->inflight--;
	xd.inflight--;
	xd.served++;
	if (r->req.fn < XCALL_WIRE_MAX_FNS)
		xd.fn_calls[r->req.fn]++;
	if (!error && !(r->req.flags & XCALL_CALL_NOWAIT))
		nres = r->ncpus;
	o = xd_out_alloc(XCALL_WIRE_REPLY_RES +
			 nres * sizeof(struct xcall_result));
	if (!o) {
		xd_conn_close(c, "out of memory");
		xd_req_put(r);
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
	xd_conn_recv_arm(c);
	xd_conn_maybe_finish(c);
	xd_req_put(r);
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
	const struct xcall_fn_info *fi = xcall_fn_by_id(cr->req.fn);
	size_t sz = CPU_ALLOC_SIZE(cr->cpuset_size * 8);
	cpu_set_t *set = CPU_ALLOC(cr->cpuset_size * 8);
	uint64_t sec = xd_now_ns() / 1000000000ULL;
	char cpus[256] = "?";
	unsigned int i;

	if (sec != deny_sec) {
		if (deny_dropped)
			xd_log(XD_NOTICE, "%u more denials not logged",
			       deny_dropped);
		deny_sec = sec;
		deny_logged = 0;
		deny_dropped = 0;
	}
	if (deny_logged++ >= DENY_LOG_PER_SEC) {
		deny_dropped++;
		CPU_FREE(set);
		return;
	}
	if (set) {
		CPU_ZERO_S(sz, set);
		for (i = 0; i < cr->cpuset_size * 8; i++)
			if (xd_bit_test(cr->cpuset, cr->cpuset_size, i))
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
	struct xd_req *r = xd.exec->alloc(cr);

	if (!r)
		return NULL;
	r->conn = c;
	r->id = id;
	r->req = cr->req;
	r->ncpus = cr->ncpus;
	r->dl.idx = XD_HEAP_NONE;
	r->refs = 1;		/* the reply still owed */
	c->refs++;
	c->inflight++;
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
		xd.errors++;
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
	xd_conn_queue(c, o);
}

void xd_req_frame(struct xd_conn *c, size_t len)
{
	struct xcall_wire_hdr h;
	int type;

	if (len > sizeof(c->rbuf)) {
		/* The kernel dropped the rest; the frame boundary holds. */
		xd.errors++;
		xd_send_error(c, __xcall_wire_peek_id(c->rbuf,
						      sizeof(c->rbuf)),
			      XCALL_WIRE_ERROR, -EMSGSIZE);
		return;
	}
	type = __xcall_wire_hdr(c->rbuf, len, &h);
	if (type < 0) {
		xd.errors++;
		xd_send_error(c, __xcall_wire_peek_id(c->rbuf, len),
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
			xd_send_error(c, h.id, XCALL_WIRE_ERROR, -EBADMSG);
			break;
		}
		handle_status(c, h.id);
		break;
	default:
		xd.errors++;
		xd_send_error(c, h.id, XCALL_WIRE_ERROR, -EOPNOTSUPP);
		break;
	}
}

/* ---- executor: the worker threads --------------------------------------- */

/*
 * xcalld's calls without the module: its own worker threads, libxcall's
 * in-process pool, one pinned worker per online CPU. A request makes one
 * pool call per target CPU; the worker runs the function there, pushes the
 * call on a lock-free list and, if the loop sleeps in the ring, writes an
 * eventfd whose read completes there (XD_TAG_EXEC). The loop takes the
 * list after every wake-up and before it sleeps again.
 *
 * A call that missed its deadline still runs (the pool's contract): its
 * request is answered without it and freed only once the worker has let
 * go of every call. A call the loop has seen but whose worker is still on
 * its way out waits on the deferred list, swept every millisecond.
 */

/*
 * Workers spin only briefly before they park: the pool's default (50 us)
 * suits one caller waiting on its call, but here a spinning worker takes
 * its CPU from the event loop and the clients. Measured with bench-daemon
 * on 2 CPUs: 5 us halves the single-client round trip against 50 us.
 */
#define WORKER_SPIN_NS	5000

struct pool_req;

/* The call of a request to one CPU. */
struct xd_sub {
	struct xcall_pool_call pc;
	struct pool_req *req;
	struct xd_sub *next;		/* completion list, then deferred list */
	struct xcall_result res;
	int cpu;
	bool queued;			/* the pool has it */
	bool completed;			/* the loop has seen its result */
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

static void sub_done(struct xd_sub *s)
{
	struct pool_req *p = s->req;

	s->completed = true;
	if (!--p->npending)
		xd_req_reply(&p->r, 0);
	/* The worker may still be on its way out of the call. */
	if (xcall_pool_done(&s->pc)) {
		xd_req_put(&p->r);
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
			xd_req_put(&s->req->r);
		} else {
			pp = &s->next;
		}
	}
}

/* On a pool worker, pinned to s->cpu. */
static void sub_run(void *arg)
{
	struct xd_sub *s = arg;
	struct xd_sub *old = atomic_load_explicit(&done,
						  memory_order_relaxed);
	uint64_t one = 1;

	__xcall_fn_exec(&s->req->r.req, s->cpu, &s->res);
	do {
		s->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&done, &old, s,
			memory_order_seq_cst, memory_order_relaxed));
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
	if (pool)
		xcall_pool_destroy(pool);	/* runs what is pending */
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
	int ret;

	for (c = 0; i < r->ncpus; c++) {
		struct xd_sub *s = &p->subs[i];

		if (!xd_bit_test(cr->cpuset, cr->cpuset_size, c))
			continue;
		s->req = p;
		s->cpu = (int)c;
		s->pc.fn = sub_run;
		s->pc.arg = s;
		i++;
		if (!xcall_pool_has_cpu(pool, (int)c)) {
			xd_fail_record(&s->res, r->req.fn, (int)c, -ENXIO);
			s->completed = true;
			continue;
		}
		r->refs++;
		p->npending++;
		s->queued = true;
		ret = xcall_pool_call_async(pool, (int)c, &s->pc);
		if (ret) {
			xd_fail_record(&s->res, r->req.fn, (int)c, ret);
			s->queued = false;
			s->completed = true;
			p->npending--;
			r->refs--;
		}
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

/*
 * Not yet: xcalld has never cancelled a call. A call the pool has not
 * started still runs after its deadline, and its request waits for it
 * (bounded: at most the spin cap per call). A later change implements it.
 */
static int pool_cancel(struct xd_req *r)
{
	return -EOPNOTSUPP;
}

/* The eventfd was written: a worker pushed calls while the loop slept. */
static void pool_complete(void *p, int res)
{
	event_done();
	xd_arm_read(efd, &efd_val, sizeof(efd_val), XD_TAG_EXEC);
}

static void pool_poll(void)
{
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
	.complete = pool_complete,
	.poll = pool_poll,
	.before_wait = pool_before_wait,
	.after_wait = pool_after_wait,
};

/* ---- executor: the module ----------------------------------------------- */

/*
 * xcalld's calls through the module: one IORING_OP_URING_CMD on
 * /dev/xcall per request (the ring has 128-byte SQEs), which completes
 * with the number of CPUs called, the module having written their records
 * into the request. The device is opened as root before privileges go:
 * the module judges privilege by the credentials that opened it, and
 * xcalld tells it, per call, whose view of the tasks to give.
 *
 * The module times out first (the daemon's deadline waits XD_KMOD_GRACE_MS
 * more), so a request is normally answered by its CQE.
 */

struct kmod_req {
	struct xd_req r;		/* first: xd_req_put() frees it */
	unsigned int done;		/* records the module wrote */
	struct xcall_call call;
	uint8_t *set;			/* the CPUs, after @res */
	struct xcall_result res[];	/* one per CPU */
};

_Static_assert(offsetof(struct kmod_req, r) == 0, "xd_req starts it");

static int devfd = -1;

/* Open /dev/xcall as root; -ENOENT and friends mean "no module". */
int xd_kmod_open(const char *path)
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
	devfd = fd;
	return 0;
}

static struct xd_req *kmod_alloc(const struct xcall_wire_callreq *cr)
{
	struct kmod_req *k = calloc(1, sizeof(*k) +
				    cr->ncpus * sizeof(k->res[0]) +
				    cr->cpuset_size);

	if (!k)
		return NULL;
	k->set = (uint8_t *)(k->res + cr->ncpus);
	return &k->r;
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

static void kmod_dispatch(struct xd_req *r,
			  const struct xcall_wire_callreq *cr, bool privileged)
{
	struct kmod_req *k = container_of(r, struct kmod_req, r);
	struct io_uring_sqe *sqe;
	struct xcall_uring_cmd *uc;
	unsigned int i;

	memcpy(k->set, cr->cpuset, cr->cpuset_size);
	k->call.size = sizeof(k->call);
	k->call.fn = r->req.fn;
	k->call.flags = r->req.flags;
	k->call.timeout_ms = r->req.timeout_ms;
	k->call.nargs = r->req.nargs;
	for (i = 0; i < r->req.nargs; i++)
		k->call.args[i] = r->req.args[i];
	k->call.cpuset_size = cr->cpuset_size;
	k->call.cpuset = (uintptr_t)k->set;
	k->call.results = (uintptr_t)k->res;
	k->call.nresults = r->ncpus;
	k->call.view = client_view(r->conn, privileged);

	/* liburing 2.3 has no io_uring_prep_uring_cmd: by hand. */
	sqe = xd_get_sqe();
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = devfd;
	sqe->cmd_op = XCALL_IOC_CALL;
	uc = (struct xcall_uring_cmd *)sqe->cmd;
	uc->call = (uintptr_t)&k->call;
	io_uring_sqe_set_data(sqe, xd_tagged(r, XD_TAG_EXEC));
	r->refs++;
}

static void kmod_record(const struct xd_req *r, unsigned int i,
			struct xcall_result *out)
{
	const struct kmod_req *k = container_of(r, struct kmod_req, r);
	unsigned int c, n = 0;

	if (i < k->done) {
		*out = k->res[i];
		return;
	}
	/* The module has not answered: the CPU is the i-th in the set. */
	for (c = 0; c < k->call.cpuset_size * 8; c++)
		if (xd_bit_test(k->set, k->call.cpuset_size, c) && n++ == i)
			break;
	xd_fail_record(out, r->req.fn, (int)c, -ETIMEDOUT);
}

/*
 * Not yet: xcalld has never cancelled a call. The module times out
 * before the daemon's deadline, and a command that is late still
 * completes, after the request was answered. A later change implements
 * it.
 */
static int kmod_cancel(struct xd_req *r)
{
	return -EOPNOTSUPP;
}

/* The module answered @p: @res CPUs called, or -errno. */
static void kmod_complete(void *p, int res)
{
	struct kmod_req *k = container_of(p, struct kmod_req, r);

	if (res >= 0)
		k->done = (unsigned int)res < k->r.ncpus ? (unsigned int)res :
			  k->r.ncpus;
	xd_req_reply(&k->r, res < 0 ? res : 0);
	xd_req_put(&k->r);
}

/* Does the module take uring_cmd? One ping on CPU 0-ish, synchronously. */
static int kmod_start(void)
{
	struct xcall_wire_callreq cr = { .req = { .fn = XCALL_FN_PING } };
	struct io_uring_cqe *cqe;
	uint8_t set[8] = { 0 };
	struct xd_req *r;
	unsigned int c;
	int ret;

	for (c = 0; c < 64 && !CPU_ISSET_S(c, sizeof(xd.online),
					   &xd.online.set); c++)
		;
	if (c == 64)
		return -ENXIO;
	set[c / 8] = 1U << (c % 8);
	cr.cpuset = set;
	cr.cpuset_size = 8;
	cr.ncpus = 1;
	r = kmod_alloc(&cr);
	if (!r)
		return -ENOMEM;
	r->req = cr.req;
	r->ncpus = cr.ncpus;
	kmod_dispatch(r, &cr, true);	/* our own view */
	io_uring_submit(&xd.ring);
	ret = io_uring_wait_cqe(&xd.ring, &cqe);
	if (!ret) {
		ret = cqe->res < 0 ? cqe->res : 0;
		io_uring_cqe_seen(&xd.ring, cqe);
	}
	free(r);
	return ret;
}

static void kmod_stop(void)
{
	if (devfd >= 0)
		close(devfd);
	devfd = -1;
}

const struct xd_exec_ops xd_exec_kmod = {
	.backend = XCALL_BACKEND_KMOD,
	.grace_ms = XD_KMOD_GRACE_MS,
	.sqe128 = true,
	.start = kmod_start,
	.stop = kmod_stop,
	.alloc = kmod_alloc,
	.dispatch = kmod_dispatch,
	.record = kmod_record,
	.cancel = kmod_cancel,
	.complete = kmod_complete,
	/* Its answers come as CQEs only: nothing to poll, no wait to mind. */
	.poll = NULL,
	.before_wait = NULL,
	.after_wait = NULL,
};

/* ---- the ring and the loop ---------------------------------------------- */

#define RING_ENTRIES		1024
#define STALL_TICK_MS		100
#define STOP_GRACE_MS		(XCALL_MAX_TIMEOUT_MS + XD_KMOD_GRACE_MS + 1000)

struct xd_state xd;

static int sfd = -1;			/* signals */
static struct signalfd_siginfo si;
static uint64_t stop_deadline;
static uint64_t next_tick;		/* of the check for stalled clients */

struct io_uring_sqe *xd_get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&xd.ring);

	while (!sqe) {
		io_uring_submit(&xd.ring);
		sqe = io_uring_get_sqe(&xd.ring);
	}
	return sqe;
}

void xd_arm_read(int fd, void *buf, unsigned int len, enum xd_tag t)
{
	struct io_uring_sqe *sqe = xd_get_sqe();

	io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data(sqe, xd_tagged(NULL, t));
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
	if (xd.stopping)
		return;
	xd.stopping = true;
	stop_deadline = xd_now_ns() + STOP_GRACE_MS * 1000000ULL;
	xd_conn_stop_accepting();
	/* Said once no new client can get in. */
	xd_notify("STOPPING=1\nSTATUS=finishing calls in flight");
	xd_log(XD_NOTICE, "stopping: %lu calls in flight",
	       (unsigned long)xd.inflight);
	xd_conn_stop_all();
}

static void on_signal(int res)
{
	if (res == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload_policy();
			break;
		case SIGTERM:
		case SIGINT:
			start_stopping();
			break;
		}
	}
	xd_arm_read(sfd, &si, sizeof(si), XD_TAG_SIGNAL);
}

static void on_cqe(struct io_uring_cqe *cqe)
{
	uintptr_t ud = (uintptr_t)io_uring_cqe_get_data(cqe);
	void *p = (void *)(ud & ~(uintptr_t)7);

	switch (ud & 7) {
	case XD_TAG_ACCEPT:
		xd_conn_on_accept(cqe->res, cqe->flags);
		break;
	case XD_TAG_RECV:
		xd_conn_on_recv(p, cqe->res);
		break;
	case XD_TAG_SEND:
		xd_conn_on_send(p, cqe->res);
		break;
	case XD_TAG_SIGNAL:
		on_signal(cqe->res);
		break;
	case XD_TAG_EXEC:
		xd.exec->complete(p, cqe->res);
		break;
	default:
		break;
	}
}

/* Deadlines that passed, and clients that stopped reading. */
static void expire(uint64_t now)
{
	struct xd_heap_node *e;

	while ((e = xd_heap_min(&xd.deadlines)) && e->deadline <= now) {
		struct xd_req *r = container_of(e, struct xd_req, dl);

		xd_heap_del(&xd.deadlines, e);
		xd.exec->cancel(r);	/* -EOPNOTSUPP so far */
		xd_req_reply(r, 0);
	}
	if (now < next_tick)
		return;
	next_tick = now + STALL_TICK_MS * 1000000ULL;
	xd_conn_tick(now);
}

/*
 * How long the ring may sleep: the nearest deadline or tick (the executor
 * may shorten it, see loop_wait()).
 */
static int64_t wait_ns(uint64_t now)
{
	struct xd_heap_node *e = xd_heap_min(&xd.deadlines);
	int64_t ns = -1;

	if (e)
		ns = e->deadline > now ? (int64_t)(e->deadline - now) : 0;
	if (xd_conn_any_sending()) {
		int64_t t = next_tick > now ? (int64_t)(next_tick - now) : 0;

		if (ns < 0 || t < ns)
			ns = t;
	}
	if (xd.stopping) {
		int64_t t = stop_deadline > now ?
			    (int64_t)(stop_deadline - now) : 0;

		if (ns < 0 || t < ns)
			ns = t;
	}
	return ns;
}

/* Stopping, and nothing is left: no request (none waits for a call). */
static bool drained(void)
{
	return xd.stopping && !xd.live_reqs && !xd.nconns;
}

/*
 * Submit what is queued and wait up to @ns (< 0: no limit) for something
 * to do; the executor may have answers that do not come as CQEs, and say
 * not to sleep (the worker threads).
 */
static int loop_wait(int64_t ns)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	int ret;

	if (xd.exec->before_wait)
		xd.exec->before_wait(&ns);
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
	if (xd.exec->after_wait)
		xd.exec->after_wait();
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
		if (xd.stopping && now >= stop_deadline) {
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
		if (xd.exec->poll)
			xd.exec->poll();
		expire(xd_now_ns());
	}
	return 0;
}

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

/* The CPUs @get() gives, as a bitmap of the wire's layout in @bits. */
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
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	return sfd < 0 ? -errno : 0;
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
	struct xd_heap_node *e;

	/* First: what it finishes now may still queue replies on the ring. */
	xd.exec->stop();
	while ((e = xd_heap_min(&xd.deadlines)))
		xd_heap_del(&xd.deadlines, e);
	xd_heap_free(&xd.deadlines);
	if (xd.ring.ring_fd > 0)
		io_uring_queue_exit(&xd.ring);
	xd_policy_free(xd.policy);
	if (sfd >= 0)
		close(sfd);
	xd_conn_unlisten();
}

int xd_run(const struct xd_config *cfg)
{
	const char *via = "worker threads";
	char msg[256];
	int ret;

	xd.cfg = cfg;
	xd.exec = &xd_exec_pool;
	xd.start_ns = xd_now_ns();
	ret = setup_signals();
	if (ret)
		goto out;
	ret = load_policy();
	if (ret)
		goto out;
	ret = xcall_cpus_possible(&xd.possible.set, sizeof(xd.possible));
	if (!ret)
		ret = xcall_cpus_online(&xd.online.set, sizeof(xd.online));
	if (!ret)
		ret = cpus_bits(isolated_cpus, xd.isolated);
	xd_conn_init();
	if (ret) {
		xd_log(XD_ERR, "reading the CPUs: %s", strerror(-ret));
		goto out;
	}

	/* As root: the device (privilege is checked against its opener). */
	if (cfg->backend != XCALL_BACKEND_THREADS) {
		ret = xd_kmod_open(cfg->device_path);
		if (!ret) {
			xd.exec = &xd_exec_kmod;
			via = cfg->device_path;
		} else if (cfg->backend == XCALL_BACKEND_KMOD) {
			xd_log(XD_ERR, "%s: %s", cfg->device_path,
			       strerror(-ret));
			goto out;
		}
	}
	ret = xd_conn_listen(cfg->socket_path);
	if (ret) {
		xd_log(XD_ERR, "%s: %s", cfg->socket_path, strerror(-ret));
		goto out;
	}
	if (cfg->user) {
		ret = xd_drop_privileges(cfg->user);
		if (ret)
			goto out;
	}

	ret = setup_ring(xd.exec->sqe128);
	if (ret) {
		xd_log(XD_ERR, "io_uring: %s", strerror(-ret));
		goto out;
	}
	ret = xd.exec->start();
	if (ret && xd.exec == &xd_exec_kmod) {
		/* A module without io_uring commands: as if there were none. */
		xd_log(cfg->backend == XCALL_BACKEND_KMOD ? XD_ERR : XD_WARN,
		       "%s: uring_cmd: %s", cfg->device_path, strerror(-ret));
		if (cfg->backend == XCALL_BACKEND_KMOD)
			goto out;
		xd.exec->stop();
		xd.exec = &xd_exec_pool;
		via = "worker threads";
		ret = xd.exec->start();
	}
	if (ret)
		goto out;
	xd_conn_arm_accept();
	xd_arm_read(sfd, &si, sizeof(si), XD_TAG_SIGNAL);

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving on %s through "
		 "%s\nMAINPID=%d", cfg->socket_path, via, (int)getpid());
	xd_notify(msg);
	xd_log(XD_NOTICE, "xcalld %s: serving on %s through %s", XCALL_VERSION,
	       cfg->socket_path, via);
	ret = loop();
	if (!ret)
		xd_log(XD_NOTICE, "stopped: %lu calls served",
		       (unsigned long)xd.served);
out:
	teardown();
	return ret;
}
