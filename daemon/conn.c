// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's clients: the listening socket (multishot accept), credentials
 * (SO_PEERCRED, SO_PEERGROUPS, the pid namespace) and the limits of each
 * uid over all its connections (struct xd_user: rate, inflight, conns),
 * frames in and replies out.
 *
 * Each client has one recv on the ring at a time (MSG_TRUNC tells an
 * oversized frame), then what else is queued is read with non-blocking
 * recv(2); its replies wait in a queue, up to MAX_SENDS of them in flight
 * as IORING_OP_SEND. A uid's calls in flight are bounded (policy
 * `inflight`): past it nothing more is read from any of its connections,
 * so it blocks in its send. A uid's connections are bounded (`conns`),
 * and so are all (--max-clients), less a reserve that only privileged
 * clients may take: one user cannot keep root out. Its unsent replies are bounded too (OUT_MAX_BYTES), and a client
 * that leaves replies unread for send_timeout_ms is disconnected.
 *
 * A client is freed when its last reference goes: the open connection,
 * each op on the ring, each request (struct xd_req) not yet freed. Out
 * of descriptors, accepting waits for that (xd_conn_put()) instead of
 * failing again at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "loop.h"

#define OUT_MAX_BYTES		(512 * 1024)	/* unsent replies per client */
#define RECV_BATCH		16	/* frames read at once from a client */
#define MAX_SENDS		16	/* replies in flight per client */

static struct xd_conn *conns;		/* connected, newest first */
static unsigned int conn_seq;		/* numbers them for log lines */
static int lfd = -1;			/* listening */
static bool accept_armed;
static bool accept_paused;		/* out of descriptors: see below */
static int nspid_self;			/* levels of our own pid namespace */
static struct xd_user *users;		/* see struct xd_user */
/* Every possible CPU, in the wire's layout: who is privileged (accept). */
static uint8_t all_cpus[XCALL_MAX_CPUSET_BYTES];
static size_t all_cpus_size;

/*
 * Take what the client sent and will never get an answer to off the
 * socket before it is closed: closing it with frames unread makes the
 * kernel report ECONNRESET to the client before the replies still queued
 * for it, the ERROR frame that says why it was closed among them.
 * xd_conn_close()'s shutdown keeps anything more from coming in. A
 * zero-length frame reads as 0, as the end does: FIONREAD tells whether
 * bytes remain.
 */
static void discard_input(int fd)
{
	static uint8_t scratch[XCALL_WIRE_MAX_REQ];
	int left;
	ssize_t n;

	for (;;) {
		n = recv(fd, scratch, sizeof(scratch),
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n > 0)
			continue;
		if (n < 0 && errno != ECONNRESET)
			return;
		if (ioctl(fd, FIONREAD, &left) || left <= 0)
			return;
	}
}

/* Refill @u's bucket up to its burst. */
static void user_refill(struct xd_user *u, uint64_t now)
{
	double burst = u->lim.burst ? u->lim.burst : 1;

	u->tokens += (double)(now - u->tok_ns) * u->lim.rate / 1e9;
	if (u->tokens > burst)
		u->tokens = burst;
	u->tok_ns = now;
}

/*
 * Free the uids with no connection whose bucket is full again: one kept
 * longer would remember nothing. So the table holds the uids connected,
 * and those gone within burst/rate seconds.
 */
static void users_sweep(uint64_t now)
{
	struct xd_user **pp = &users, *u;

	while ((u = *pp)) {
		if (!u->nconns && !u->inflight) {
			user_refill(u, now);
			if (!u->lim.rate ||
			    u->tokens >= (u->lim.burst ? u->lim.burst : 1)) {
				*pp = u->next;
				free(u);
				continue;
			}
		}
		pp = &u->next;
	}
}

static struct xd_user *user_find(uid_t uid)
{
	struct xd_user *u;

	for (u = users; u; u = u->next)
		if (u->uid == uid)
			return u;
	return NULL;
}

/* @uid's state, made with a full bucket if it has none; NULL: no memory. */
static struct xd_user *user_get(uid_t uid, const struct xd_limits *lim)
{
	struct xd_user *u = user_find(uid);
	uint64_t now = xd_now_ns();

	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return NULL;
		u->uid = uid;
		u->lim = *lim;
		u->tokens = lim->burst ? lim->burst : 1;
		u->tok_ns = now;
		u->next = users;
		users = u;
		return u;
	}
	/* The newest connection's: a reload reaches a uid as it connects. */
	user_refill(u, now);
	u->lim = *lim;
	user_refill(u, now);
	return u;
}

void xd_conn_exit(void)
{
	struct xd_user *u;

	while ((u = users)) {
		users = u->next;
		free(u);
	}
}

/* Accept again after EMFILE/ENFILE paused it (xd_conn_on_accept()). */
static void accept_resume(void)
{
	if (accept_paused && !xd.stopping && lfd >= 0) {
		accept_paused = false;
		xd_conn_arm_accept();
	}
}

void xd_conn_put(struct xd_conn *c)
{
	struct xd_out *o;

	if (--c->refs)
		return;
	while ((o = c->oq_head)) {
		c->oq_head = o->next;
		free(o);
	}
	discard_input(c->fd);
	close(c->fd);
	c->user->nconns--;
	free(c);
	accept_resume();
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
	static struct xd_ratelimit rl = { .what = "protocol errors" };

	if (c->closing)
		return;
	c->closing = true;
	/* A client that broke the protocol is worth a word; others not. */
	if (c->proto_err)
		xd_log_ratelimited(&rl, XD_NOTICE, "client %u (pid %d uid %u): "
				   "closed: protocol error: %s", c->seq,
				   (int)c->cred.pid, (unsigned int)c->cred.uid,
				   strerror(c->proto_err));
	else
		xd_log(XD_DEBUG, "client %u (pid %d uid %u): closed: %s",
		       c->seq, (int)c->cred.pid, (unsigned int)c->cred.uid,
		       why);
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
	/* Nobody hears the answers: what has not started never will. */
	xd_req_cancel_all(c);
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
	if (c->user->inflight >= c->user->lim.inflight ||
	    c->out_bytes >= OUT_MAX_BYTES)
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
 * loop.c's loop_wait() always asks for events, sleeping or not. At most
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

/*
 * The policy's `inflight` counts a call from its start until the executor
 * has let go of it (xd_req_put() frees it): until it has run, answered or
 * not. A NOWAIT call, answered as it is queued, and a call answered
 * ETIMEDOUT, both still hold their CPU: counting them only until their
 * answer let a client queue without bound (issue 9, defect 4).
 */
void xd_conn_call_start(struct xd_conn *c)
{
	c->inflight++;
	c->user->inflight++;
}

void xd_conn_call_end(struct xd_conn *c)
{
	struct xd_user *u = c->user;
	bool was_full = u->inflight >= u->lim.inflight;
	struct xd_conn *o;

	c->inflight--;
	u->inflight--;
	/* Room again: the uid's other connections read on too. */
	if (was_full && u->inflight < u->lim.inflight)
		for (o = conns; o; o = o->next)
			if (o->user == u && o != c)
				xd_conn_recv_arm(o);
	xd_conn_recv_arm(c);
	xd_conn_maybe_finish(c);
}

bool xd_conn_rate_ok(struct xd_conn *c)
{
	struct xd_user *u = c->user;

	if (!u->lim.rate)
		return true;
	user_refill(u, xd_now_ns());
	if (u->tokens < 1.0)
		return false;
	u->tokens -= 1.0;
	return true;
}

/*
 * recv(2) returns 0 both for a zero-length frame and at the end of the
 * stream. The end is for good: the client has shut down its side and
 * nothing is left queued. Anything else means a frame of no bytes came in,
 * which xd_req_frame() refuses as too short. (A zero-length frame that the
 * client's shutdown follows before we look is taken for the end.)
 *
 * At the end, a client that only shut down its sending side still reads
 * its answers (POLLRDHUP alone). One that closed its socket, or shut down
 * both sides (POLLHUP), is gone: it is closed now, and its calls that have
 * not started are dropped (xd_conn_close()).
 */
static bool conn_at_end(struct xd_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLRDHUP };
	uint8_t b;

	if (c->closing)
		return true;
	if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		return false;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLRDHUP | POLLHUP)))
		return false;
	c->eof = true;
	if (pfd.revents & POLLHUP)
		xd_conn_close(c, "client gone");
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
		    c->user->inflight >= c->user->lim.inflight ||
		    c->out_bytes >= OUT_MAX_BYTES)
			return;
		n = recv(c->fd, c->rbuf, sizeof(c->rbuf),
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				xd_conn_close(c, strerror(errno));
			return;
		}
		if (n == 0 && conn_at_end(c))
			return;
		xd_req_frame(c, (size_t)n);
	}
}

void xd_conn_on_recv(struct xd_conn *c, int res)
{
	if (res < 0) {
		c->recv_armed = false;
		if (res != -ECANCELED && !c->closing)
			xd_conn_close(c, strerror(-res));
	} else if (res == 0 && conn_at_end(c)) {
		/* the client is done sending, or gone */
	} else if (!c->closing) {
		/*
		 * Still armed for xd_conn_recv_arm() while the frames are
		 * handled: an answer queued meanwhile (NOWAIT) would arm
		 * another recv on the ring, under the limits then, which
		 * would read a frame past them once conn_recv_more() has
		 * reached them.
		 */
		xd_req_frame(c, (size_t)res);
		conn_recv_more(c);
	}
	c->recv_armed = false;
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
	static struct xd_ratelimit rl = { .what = "clients of many groups" };
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
		xd_log_ratelimited(&rl, XD_WARN, "pid %d: over %d groups, "
				   "only the primary group counts",
				   (int)cr->pid, XD_MAX_GROUPS);
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

/*
 * Privileged, for the reserve of connections: the policy lets @cr run
 * "where" on every CPU (in the built-in policy, root and group xcall).
 */
static bool privileged(const struct xd_cred *cr)
{
	return !xd_policy_check(xd.policy, cr, XCALL_FN_WHERE, all_cpus,
				all_cpus_size);
}

/* Connections only privileged clients may take: an eighth, at least 1. */
static unsigned int reserved(void)
{
	unsigned int n = xd.cfg->max_clients;

	return n < 2 ? 0 : n / 8 ? n / 8 : 1;
}

/*
 * May a client of @cr, limits @lim, connect now? 0 or -EUSERS (logged):
 * over --max-clients (less the reserve unless privileged), or over the
 * connections of its uid.
 */
static int conn_admit(const struct xd_cred *cr, const struct xd_limits *lim)
{
	static struct xd_ratelimit rl_full = { .what = "refused clients" };
	static struct xd_ratelimit rl_uid = { .what = "refused connections" };
	const struct xd_user *u = user_find(cr->uid);
	unsigned int most = xd.cfg->max_clients;

	if (!privileged(cr))
		most -= reserved();
	if (xd.nconns >= most) {
		xd_log_ratelimited(&rl_full, XD_WARN, "%u clients: refusing "
				   "another (uid %u)", xd.nconns,
				   (unsigned int)cr->uid);
		return -EUSERS;
	}
	if (u && u->nconns >= lim->conns) {
		xd_log_ratelimited(&rl_uid, XD_WARN, "uid %u: %u connections: "
				   "refusing another", (unsigned int)cr->uid,
				   u->nconns);
		return -EUSERS;
	}
	return 0;
}

/*
 * Tell a client we do not take why (an ERROR frame, id 0), and close.
 * Its socket is new and empty: the frame fits. What it sent is taken off
 * first, after our side stops reading, so that it reads the frame rather
 * than ECONNRESET.
 */
static void conn_refuse(int fd, int err)
{
	uint8_t frame[XCALL_WIRE_MAX_REPLY];
	int len = __xcall_wire_enc_error(frame, sizeof(frame), 0, err);

	shutdown(fd, SHUT_RD);
	discard_input(fd);
	if (len > 0 && send(fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		xd_log(XD_DEBUG, "refusing a client: %s", strerror(errno));
	close(fd);
}

void xd_conn_on_accept(int res, unsigned int flags)
{
	static struct xd_ratelimit rl_err = { .what = "accept errors" };
	struct xd_limits lim;
	struct xd_cred cred;
	struct xd_conn *c;
	int ret;

	if (!(flags & IORING_CQE_F_MORE)) {
		accept_armed = false;
		/*
		 * Out of descriptors: an accept now would fail again at
		 * once, for ever. The next client freed re-arms it
		 * (xd_conn_put()), or the tick when there is none
		 * (xd_conn_tick()); those connecting meanwhile wait in the
		 * backlog.
		 */
		if (res == -EMFILE || res == -ENFILE) {
			accept_paused = true;
			xd_log_ratelimited(&rl_err, XD_WARN, "accept: %s: not "
					   "accepting until a client leaves",
					   strerror(-res));
			return;
		}
		if (!xd.stopping && res != -ECANCELED)
			xd_conn_arm_accept();
	}
	if (res < 0) {
		if (res != -ECANCELED)
			xd_log_ratelimited(&rl_err, XD_WARN, "accept: %s",
					   strerror(-res));
		return;
	}
	if (xd.stopping) {
		close(res);
		return;
	}
	users_sweep(xd_now_ns());
	get_cred(res, &cred);
	xd_policy_limits(xd.policy, &cred, &lim);
	ret = conn_admit(&cred, &lim);
	if (ret) {
		conn_refuse(res, ret);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->user = user_get(cred.uid, &lim);
	if (!c || !c->user) {
		free(c);
		conn_refuse(res, -ENOMEM);
		return;
	}
	c->user->nconns++;
	c->fd = res;
	c->refs = 1;
	c->seq = ++conn_seq;
	c->cred = cred;
	c->nopid = !c->cred.pid ||
		   nspid_levels(c->cred.pid) != nspid_self;
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

/*
 * @now may be older than a client's progress_ns: loop.c's expire() takes
 * it, then answers the requests past their deadline, and a send that
 * starts there stamps the client later than @now. Such a client has just
 * made progress; an unsigned now - progress_ns would call it ~584 years
 * late and drop it (issue 9, defect 1).
 */
void xd_conn_tick(uint64_t now)
{
	static struct xd_ratelimit rl = { .what = "clients not reading" };
	const uint64_t limit = xd.cfg->send_timeout_ms * 1000000ULL;
	struct xd_conn *c, *next;
	uint64_t unread;

	for (c = conns; c; c = next) {
		next = c->next;
		if (!c->nsending || now <= c->progress_ns)
			continue;
		unread = now - c->progress_ns;
		if (unread <= limit)
			continue;
		xd_log_ratelimited(&rl, XD_NOTICE, "client %u (pid %d uid %u): "
				   "replies unread for %llu ms: disconnected",
				   c->seq, (int)c->cred.pid,
				   (unsigned int)c->cred.uid,
				   (unsigned long long)(unread / 1000000));
		xd_conn_close(c, "not reading");
	}
	/*
	 * Out of descriptors with no client to leave (something else holds
	 * them): try again each tick, at most 10 times a second, each
	 * failure logged under the same rate limit.
	 */
	if (!conns)
		accept_resume();
}

void xd_conn_init(void)
{
	unsigned int cpu;

	nspid_self = nspid_levels(getpid());
	for (cpu = 0; cpu < XCALL_MAX_CPUSET_BYTES * 8; cpu++) {
		if (!CPU_ISSET_S(cpu, sizeof(xd.possible), &xd.possible.set))
			continue;
		all_cpus[cpu / 8] |= 1U << (cpu % 8);
		all_cpus_size = cpu / 8 + 1;
	}
}
