// SPDX-License-Identifier: GPL-2.0-only
/*
 * The conformance table (tests/common/conformance.h) in the guest, as root
 * with the module loaded: every row gives the errno the table says, or
 * runs, through
 *
 *   - the module's ioctl and its io_uring command, which nothing of
 *     libxcall has checked: the module's own validator;
 *   - libxcall's kmod backend;
 *   - xcalld over the module (when /xcall/bin/xcalld is there), as raw
 *     frames and through libxcall's daemon backend; and its NOWAIT calls,
 *     waited commands to the module, past the module's bound per file.
 *
 * The host runs the same table against the threads backend and xcalld over
 * its worker threads (tests/unit/test_xcall.c, tests/daemon/test_daemon.c).
 *
 * Static: linked with libxcall.a, libcheck.a and liburing.a.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>

#include "check.h"
#include "libxcall.h"
#include "conformance.h"
#include "xcalld.h"

#define DEV	"/dev/xcall"
#define XCALLD	XT_XCALLD
#define SOCK	"/tmp/xcalld-conform.sock"

static int cpu0;		/* the first online CPU: every row's base */

static void setup(void)
{
	cpu_set_t set;

	ck_assert_int_eq(xcall_cpus_online(&set, sizeof(set)), 0);
	for (cpu0 = 0; !CPU_ISSET(cpu0, &set); cpu0++)
		;
}

/* Row @c as the module's struct xcall_call, records into @res. */
static void to_call(const struct xc_conf_call *c, struct xcall_call *k,
		    struct xcall_result *res, unsigned int nres)
{
	memset(k, 0, sizeof(*k));
	k->size = sizeof(*k);
	k->fn = c->req.fn;
	k->flags = c->req.flags;
	k->timeout_ms = c->req.timeout_ms;
	k->nargs = c->req.nargs;
	memcpy(k->args, c->req.args, sizeof(k->args));
	k->cpuset_size = c->setsize;
	k->cpuset = (uintptr_t)c->set;
	k->results = (uintptr_t)res;
	k->nresults = nres;
}

START_TEST(test_ioctl)
{
	struct xcall_result res[4];
	struct xc_conf_call c;
	struct xcall_call k;
	const struct xc_conf_case *row = xc_conf_make(_i, cpu0, &c);
	int f = open(DEV, O_RDWR | O_CLOEXEC), ret;

	ck_assert_msg(f >= 0, "open %s: %s", DEV, strerror(errno));
	to_call(&c, &k, res, 4);
	ret = ioctl(f, XCALL_IOC_CALL, &k) ? -errno : (int)k.ncalled;
	xc_conf_judge(row, &c, ret, "module, ioctl");
	close(f);
}
END_TEST

START_TEST(test_uring)
{
	struct xcall_result res[4];
	struct io_uring_cqe *cqe;
	struct xcall_uring_cmd *uc;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	struct xc_conf_call c;
	struct xcall_call k;
	const struct xc_conf_case *row = xc_conf_make(_i, cpu0, &c);
	int f = open(DEV, O_RDWR | O_CLOEXEC);

	ck_assert_msg(f >= 0, "open %s: %s", DEV, strerror(errno));
	ck_assert_int_eq(io_uring_queue_init(4, &ring, IORING_SETUP_SQE128),
			 0);
	to_call(&c, &k, res, 4);
	sqe = io_uring_get_sqe(&ring);
	ck_assert_ptr_nonnull(sqe);
	/* liburing 2.3 has no io_uring_prep_uring_cmd(). */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, f, NULL, 0, 0);
	sqe->cmd_op = XCALL_IOC_CALL;
	uc = (struct xcall_uring_cmd *)sqe->cmd;
	memset(uc, 0, sizeof(*uc));		/* the SQE's second half */
	uc->call = (uintptr_t)&k;
	ck_assert_int_eq(io_uring_submit(&ring), 1);
	ck_assert_int_eq(io_uring_wait_cqe(&ring, &cqe), 0);
	xc_conf_judge(row, &c, cqe->res, "module, io_uring");
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	close(f);
}
END_TEST

static struct xcall *open_backend(enum xcall_backend b)
{
	struct xcall_opts o = { .backend = b, .socket_path = SOCK };
	struct xcall *x;

	ck_assert_int_eq(xcall_open(&x, &o), 0);
	return x;
}

START_TEST(test_kmod_backend)
{
	struct xcall *x = open_backend(XCALL_BACKEND_KMOD);
	struct xc_conf_call c;
	const struct xc_conf_case *row = xc_conf_make(_i, cpu0, &c);

	xc_conf_judge(row, &c, xc_conf_run_lib(x, &c), "kmod backend");
	xcall_close(x);
}
END_TEST

/* xcalld over the module (xcalld.h), once for the whole TCase. */
static void daemon_start(void)
{
	setup();
	xt_xcalld_start(SOCK);
}

START_TEST(test_daemon_wire)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xc_conf_call c;
	const struct xc_conf_case *row = xc_conf_make(_i, cpu0, &c);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, SOCK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	xc_conf_judge(row, &c, xc_conf_run_wire(fd, 100 + _i, &c),
		      "xcalld over the module, raw frames");
	close(fd);
}
END_TEST

START_TEST(test_daemon_backend)
{
	struct xcall *x = open_backend(XCALL_BACKEND_DAEMON);
	struct xc_conf_call c;
	const struct xc_conf_case *row = xc_conf_make(_i, cpu0, &c);

	xc_conf_judge(row, &c, xc_conf_run_lib(x, &c),
		      "daemon backend over the module");
	xcall_close(x);
}
END_TEST

/* A CALL of @req on CPU @cpu to xcalld, as id @id. */
static void daemon_send(int fd, uint64_t id, const struct xcall_req *req,
			int cpu)
{
	uint8_t buf[XCALL_WIRE_MAX_REQ], set[8] = { 0 };
	int len;

	set[cpu / 8] = 1U << (cpu % 8);
	len = __xcall_wire_enc_call(buf, sizeof(buf), id, req, set, 8);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(send(fd, buf, (size_t)len, MSG_NOSIGNAL), len);
}

#define NOWAIT_CALLS	(3 * XCALL_MAX_NOWAIT_PER_FILE)
#define HOLD_ID		1000

/*
 * Issue 9, defect 4, through the module: xcalld queues a NOWAIT call as a
 * waited command, so the module's bound on one open file's NOWAIT calls
 * (every client's go through xcalld's one file) no longer applies, and
 * the policy's inflight (256 built in) does. A spin holds the first CPU
 * and 192 NOWAIT pings queue behind it: every one is answered 0, none
 * EAGAIN (before, those past 64 were); the spin and a waited ping behind
 * them are answered too.
 */
START_TEST(test_daemon_nowait)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xcall_req nowait = { .fn = XCALL_FN_PING,
				    .flags = XCALL_CALL_NOWAIT };
	struct xcall_req spin = { .fn = XCALL_FN_SPIN, .nargs = 1,
				  .args = { XCALL_SPIN_MAX_US } };
	struct xcall_req ping = { .fn = XCALL_FN_PING };
	static uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_callrep rep;
	unsigned int i, acked = 0, waited = 0;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), len;
	uint64_t id;

	strcpy(sa.sun_path, SOCK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	daemon_send(fd, HOLD_ID, &spin, cpu0);
	for (i = 0; i < NOWAIT_CALLS; i++)
		daemon_send(fd, i, &nowait, cpu0);
	daemon_send(fd, HOLD_ID + 1, &ping, cpu0);
	for (i = 0; i < NOWAIT_CALLS + 2; i++) {
		len = (int)recv(fd, buf, sizeof(buf), 0);
		ck_assert_int_gt(len, 0);
		ck_assert_int_eq(__xcall_wire_dec_reply(buf, (size_t)len, &id,
							&rep), 0);
		ck_assert_msg(!rep.error, "call %llu: error %d",
			      (unsigned long long)id, rep.error);
		if (id == HOLD_ID || id == HOLD_ID + 1) {
			waited++;
			ck_assert_uint_eq(rep.nres, 1);
			continue;
		}
		ck_assert_uint_eq(rep.nres, 0);
		acked++;
	}
	ck_assert_uint_eq(acked, NOWAIT_CALLS);
	ck_assert_uint_eq(waited, 2);
	close(fd);
}
END_TEST

/* Every runner of @tests, each over the whole table. */
static TCase *runners(const char *name, const TTest *const *tests,
		      unsigned int n)
{
	TCase *tc = tcase_create(name);
	unsigned int i;

	for (i = 0; i < n; i++)
		tcase_add_loop_test(tc, tests[i], 0, XC_CONF_NCASES);
	return tc;
}

static Suite *conform_suite(void)
{
	const TTest *const module[] = {
		test_ioctl, test_uring, test_kmod_backend,
	};
	const TTest *const daemon[] = {
		test_daemon_wire, test_daemon_backend,
	};
	Suite *s = suite_create("conform");
	TCase *tc = runners("module", module, 3);

	tcase_add_checked_fixture(tc, setup, NULL);
	suite_add_tcase(s, tc);
	if (access(XCALLD, X_OK)) {
		printf("test_conform: no %s: xcalld not tested\n", XCALLD);
	} else {
		tc = runners("xcalld", daemon, 2);
		tcase_add_test(tc, test_daemon_nowait);
		tcase_add_unchecked_fixture(tc, daemon_start,
					    xt_xcalld_stop);
		suite_add_tcase(s, tc);
	}
	return s;
}

XT_CHECK_MAIN(conform_suite)
