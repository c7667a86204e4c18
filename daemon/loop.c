// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's event loop: one thread, one io_uring, nothing on it that blocks.
 * This file has the ring and the loop around it: every CQE goes to its
 * part by the tag in its user_data (loop.h), the wait's timeout is the
 * nearest deadline or tick, signals come as signalfd reads (TERM and INT
 * drain and exit, HUP reloads the policy), and start-up and teardown.
 *
 *   clients            conn.c: accept, recv, send, credentials, limits
 *   what they ask      request.c: checks, policy, replies, status
 *   calls, module      exec_kmod.c: IORING_OP_URING_CMD on /dev/xcall
 *   calls, no module   exec_pool.c: the daemon's own worker threads
 *
 * Every request has a deadline in a min-heap (heap.c); a request that
 * misses it is answered with ETIMEDOUT for the CPUs that did not answer,
 * and freed only when its last call has let go.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "loop.h"

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
		xd_req_expire(r);
	}
	if (now < next_tick)
		return;
	next_tick = now + STALL_TICK_MS * 1000000ULL;
	xd_conn_tick(now);
	xd_log_flush_suppressed(false);
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
 * not to sleep (exec_pool.c).
 */
static int loop_wait(int64_t ns)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	int ret;

	if (xd.exec->before_wait)
		xd.exec->before_wait(&ns);
	if (ns == 0) {
		/* GETEVENTS runs deferred task work: conn.c, conn_send_more() */
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
	xd_conn_exit();
}

int xd_run(const struct xd_config *cfg)
{
	const char *via = "worker threads";
	unsigned long nofile;
	char msg[256];
	int ret;

	xd.cfg = cfg;
	xd.exec = &xd_exec_pool;
	xd.start_ns = xd_now_ns();
	nofile = xd_raise_nofile();
	if (nofile < (unsigned long)cfg->max_clients + XD_OWN_FDS)
		xd_log(XD_WARN, "%lu descriptors: fewer than --max-clients %u "
		       "needs (%u more); accepting stops at the limit",
		       nofile, cfg->max_clients, XD_OWN_FDS);
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
	xd_log_flush_suppressed(true);
	if (!ret)
		xd_log(XD_NOTICE, "stopped: %lu calls served",
		       (unsigned long)xd.served);
out:
	teardown();
	return ret;
}
