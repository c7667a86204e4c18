// SPDX-License-Identifier: GPL-2.0-only
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
 *
 * A NOWAIT call goes to the module as a waited command, and its client is
 * answered as it is queued: the CQE only tells that its CPUs are done with
 * it (run, or skipped at its timeout), which is when it stops counting
 * against the client's `inflight`. Were it a NOWAIT command, it would
 * count for nothing here, and every client's would share the module's
 * bound for this one open file (XCALL_MAX_NOWAIT_PER_FILE): a client could
 * queue without limit, or fill that bound and refuse the others (issue 9,
 * defect 4).
 *
 * A request whose client went away is cancelled with XCALL_IOC_CANCEL, by
 * the address of its struct xcall_call: the calls the module has not
 * started never run, and the command completes with -ECANCELED.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "loop.h"

struct kmod_req {
	struct xd_req r;		/* first: xd_req_put() frees it */
	unsigned int done;		/* records the module wrote */
	bool answered;			/* its CQE came */
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
	/* NOWAIT: waited here, answered below (see the top of this file). */
	k->call.flags = r->req.flags & ~XCALL_CALL_NOWAIT;
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
	if (r->req.flags & XCALL_CALL_NOWAIT)
		xd_req_reply(r, 0);
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
 * The module's count of CPUs whose call it dropped. ENOENT: the command
 * has completed, or its CQE is on its way. A module without the ioctl
 * (ENOTTY) lets the calls run, as xcalld did before it.
 */
static int kmod_cancel(struct xd_req *r)
{
	struct kmod_req *k = container_of(r, struct kmod_req, r);
	struct xcall_cancel a = {
		.size = sizeof(a),
		.call = (uintptr_t)&k->call,
	};
	int ret;

	if (k->answered)
		return 0;
	ret = ioctl(devfd, XCALL_IOC_CANCEL, &a);
	if (ret < 0)
		return errno == ENOENT ? 0 : -errno;
	return ret;
}

/* The module answered @p: @res CPUs called, or -errno (NOWAIT: answered). */
static void kmod_complete(void *p, int res)
{
	struct kmod_req *k = container_of(p, struct kmod_req, r);

	k->answered = true;
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
