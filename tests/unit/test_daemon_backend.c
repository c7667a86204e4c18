// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for the daemon backend (lib/backend_daemon.c) against a fake
 * xcalld: a forked child on a socket in a temporary directory that speaks
 * the wire protocol (lib/wire.h) and answers each CALL with one record per
 * CPU of its bitmap, or never answers, or drops the connection. What is
 * tested is the client: sets of any byte size, and what a lost or silent
 * daemon turns into.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "libxcall.h"
#include "wire.h"

enum fake_mode { FAKE_ANSWER, FAKE_SILENT, FAKE_DROP };

static char dir[] = "/tmp/xcall-fakedXXXXXX";
static char path[64];
static pid_t child;

static void fake_serve(int c, enum fake_mode mode)
{
	static uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_result res[XCALL_WIRE_MAX_CPUS];
	struct xcall_wire_callreq rq;
	unsigned int i, n;
	uint64_t id;
	ssize_t len;
	int ret;

	for (;;) {
		len = recv(c, buf, sizeof(buf), 0);
		if (len <= 0)
			return;
		if (mode == FAKE_DROP)
			return;
		if (mode == FAKE_SILENT)
			continue;
		if (__xcall_wire_dec_call(buf, (size_t)len, &id, &rq))
			return;
		memset(res, 0, sizeof(res));
		for (i = 0, n = 0; i < rq.cpuset_size * 8; i++) {
			if (!(rq.cpuset[i / 8] & (1U << (i % 8))))
				continue;
			res[n].cpu = i;
			res[n].fn = rq.req.fn;
			n++;
		}
		ret = __xcall_wire_enc_reply(buf, sizeof(buf), id, 0, res, n);
		if (ret < 0 || send(c, buf, (size_t)ret, MSG_NOSIGNAL) < 0)
			return;
	}
}

/* Listen at @path and serve one client at a time in a child. */
static void fake_start(enum fake_mode mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, 8), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (!child) {
		for (;;) {
			c = accept(s, NULL, NULL);
			if (c < 0)
				_exit(0);
			fake_serve(c, mode);
			close(c);
		}
	}
	close(s);
}

static void fake_stop(void)
{
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	unlink(path);
	rmdir(dir);
}

static struct xcall *open_daemon(void)
{
	struct xcall_opts o = {
		.backend = XCALL_BACKEND_DAEMON,
		.socket_path = path,
	};
	struct xcall *x;

	ck_assert_int_eq(xcall_open(&x, &o), 0);
	return x;
}

/* The first online CPU below 32 (so it fits a 4-byte set). */
static int low_cpu(void)
{
	cpu_set_t *on = CPU_ALLOC(8192);
	int c;

	ck_assert_int_eq(xcall_cpus_online(on, CPU_ALLOC_SIZE(8192)), 0);
	for (c = 0; c < 32 && !CPU_ISSET_S(c, CPU_ALLOC_SIZE(8192), on); c++)
		;
	CPU_FREE(on);
	ck_assert_int_lt(c, 32);
	return c;
}

/* A set of 4 bytes, not a whole word: the CPU in its partial word runs. */
START_TEST(test_partial_word_set)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };
	struct xcall_result res[2];
	unsigned char *small = calloc(1, 4);
	struct xcall *x;
	int c = low_cpu();

	fake_start(FAKE_ANSWER);
	x = open_daemon();
	small[c / 8] = 1 << (c % 8);
	ck_assert_int_eq(xcall_run(x, &req, (cpu_set_t *)small, 4, res, 2),
			 1);
	ck_assert_uint_eq(res[0].cpu, c);
	ck_assert_int_eq(res[0].error, 0);
	xcall_close(x);
	free(small);
	fake_stop();
}
END_TEST

/* NOWAIT: no record, and the count of CPUs called. */
START_TEST(test_nowait_count)
{
	struct xcall_req req = { .fn = XCALL_FN_PING,
				 .flags = XCALL_CALL_NOWAIT };
	unsigned char *small = calloc(1, 8);
	struct xcall *x;
	int c = low_cpu();

	fake_start(FAKE_ANSWER);
	x = open_daemon();
	small[c / 8] = 1 << (c % 8);
	ck_assert_int_eq(xcall_run(x, &req, (cpu_set_t *)small, 8, NULL, 0),
			 1);
	xcall_close(x);
	free(small);
	fake_stop();
}
END_TEST

/*
 * A daemon that takes the request and never answers: like a CPU that does
 * not, each CPU gets an ETIMEDOUT record (after the timeout and the
 * backend's grace for the daemon), not a whole-request error.
 */
START_TEST(test_silent_daemon)
{
	struct xcall_req req = { .fn = XCALL_FN_PING, .timeout_ms = 1 };
	cpu_set_t *on = CPU_ALLOC(8192);
	size_t sz = CPU_ALLOC_SIZE(8192);
	unsigned int n, i;
	struct xcall_result *res;
	struct xcall *x;
	long c;

	ck_assert_int_eq(xcall_cpus_online(on, sz), 0);
	n = CPU_COUNT_S(sz, on);
	res = calloc(n, sizeof(*res));
	fake_start(FAKE_SILENT);
	x = open_daemon();
	ck_assert_int_eq(xcall_run(x, &req, on, sz, res, n), n);
	for (c = 0, i = 0; i < n; c++) {
		if (!CPU_ISSET_S(c, sz, on))
			continue;
		ck_assert_uint_eq(res[i].cpu, c);
		ck_assert_uint_eq(res[i].fn, XCALL_FN_PING);
		ck_assert_int_eq(res[i].error, -ETIMEDOUT);
		i++;
	}
	xcall_close(x);
	free(res);
	CPU_FREE(on);
	fake_stop();
}
END_TEST

/* A daemon that drops the connection: -ECONNRESET for the request. */
START_TEST(test_dropped_connection)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };
	unsigned char *small = calloc(1, 8);
	struct xcall_result res[1];
	struct xcall *x;
	int c = low_cpu();

	fake_start(FAKE_DROP);
	x = open_daemon();
	small[c / 8] = 1 << (c % 8);
	ck_assert_int_eq(xcall_run(x, &req, (cpu_set_t *)small, 8, res, 1),
			 -ECONNRESET);
	ck_assert_ptr_nonnull(xcall_strerror(-ECONNRESET));
	xcall_close(x);
	free(small);
	fake_stop();
}
END_TEST

static Suite *daemon_backend_suite(void)
{
	Suite *s = suite_create("daemon_backend");
	TCase *tc;

	tc = tcase_create("sets");
	tcase_add_test(tc, test_partial_word_set);
	tcase_add_test(tc, test_nowait_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("transport");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_silent_daemon);
	tcase_add_test(tc, test_dropped_connection);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(daemon_backend_suite)
