// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld on the host (threads backend), on a temporary socket: results
 * equal the in-process ones; 64 pipelining clients lose and mismatch
 * nothing, and readers whose calls time out lose no answer; the policy
 * refuses a second uid; privileges are really gone; bad input, a killed
 * client, a client that stops reading cost only that client (and the log
 * says how long it did not read), and the calls of a client that left and
 * had not started never run; SIGTERM drains; SIGHUP reloads (and keeps the
 * old policy when the new one is wrong); socket activation.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"
#include "conformance.h"
#include "xcalld.h"

static struct xd_test T;
static int ncpus;

static void setup(void)
{
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	xt_start(&T, NULL, NULL);
}

static void teardown(void)
{
	if (T.pid > 0)
		ck_assert_int_eq(xt_stop(&T), 0);
}

static struct xcall *open_backend(enum xcall_backend b)
{
	struct xcall_opts o = { .backend = b, .socket_path = T.sock };
	struct xcall *x;

	ck_assert_int_eq(xcall_open(&x, &o), 0);
	ck_assert_int_eq(xcall_backend_of(x), b);
	return x;
}

static int run_all(struct xcall *x, unsigned int fn, unsigned int nargs,
		   const uint64_t *args, struct xcall_result *res)
{
	struct xcall_req req = { .fn = fn, .nargs = nargs };
	size_t sz = CPU_ALLOC_SIZE(1024);
	cpu_set_t *set = CPU_ALLOC(1024);
	unsigned int i;
	int ret;

	ck_assert_int_eq(xcall_cpus_online(set, sz), 0);
	for (i = 0; i < nargs; i++)
		req.args[i] = args[i];
	ret = xcall_run(x, &req, set, sz, res, 1024);
	CPU_FREE(set);
	return ret;
}

/* ---- results --------------------------------------------------------- */

START_TEST(test_same_results)
{
	static struct xcall_result a[1024], b[1024];
	struct xcall *d = open_backend(XCALL_BACKEND_DAEMON);
	struct xcall *t = open_backend(XCALL_BACKEND_THREADS);
	uint64_t leaf[2] = { 0, 0 }, us = 100;
	int n, i;

	n = run_all(d, XCALL_FN_PING, 0, NULL, a);
	ck_assert_int_eq(n, ncpus);
	ck_assert_int_eq(run_all(t, XCALL_FN_PING, 0, NULL, b), n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(a[i].error, 0);
		ck_assert_uint_eq(a[i].cpu, b[i].cpu);
		ck_assert_uint_eq(a[i].fn, XCALL_FN_PING);
	}
	ck_assert_int_eq(run_all(d, XCALL_FN_PROBE, 0, NULL, a), n);
	ck_assert_int_eq(run_all(t, XCALL_FN_PROBE, 0, NULL, b), n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(a[i].error, 0);
		ck_assert_uint_eq(a[i].cpu, b[i].cpu);
		ck_assert_uint_eq(a[i].node, b[i].node);
		ck_assert_uint_eq(a[i].hwid, b[i].hwid);
		ck_assert_uint_eq(a[i].ctx, b[i].ctx);
	}
	ck_assert_int_eq(run_all(d, XCALL_FN_IDENT, 2, leaf, a), n);
	ck_assert_int_eq(run_all(t, XCALL_FN_IDENT, 2, leaf, b), n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(a[i].error, b[i].error);
		ck_assert_int_eq(memcmp(a[i].val, b[i].val, sizeof(a[i].val)),
				 0);
	}
	/* spin is privileged: root may, through the default policy. */
	n = run_all(d, XCALL_FN_SPIN, 1, &us, a);
	ck_assert_int_eq(n, ncpus);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(a[i].error, 0);
		ck_assert_uint_eq(a[i].val[1], us);
		ck_assert_uint_ge(a[i].val[0], us * 1000);
	}
	/* Whole-request errors are the same too. */
	ck_assert_int_eq(run_all(d, XCALL_FN_WHERE, 0, NULL, a), -EOPNOTSUPP);
	us = XCALL_SPIN_MAX_US + 1;
	ck_assert_int_eq(run_all(d, XCALL_FN_SPIN, 1, &us, a), -ERANGE);
	xcall_close(d);
	xcall_close(t);
}
END_TEST

START_TEST(test_auto_prefers_daemon)
{
	struct xcall_opts o = { .socket_path = T.sock };
	struct xcall *x;

	unsetenv("XCALL_BACKEND");
	ck_assert_int_eq(xcall_open(&x, &o), 0);
	ck_assert_int_eq(xcall_backend_of(x), XCALL_BACKEND_DAEMON);
	xcall_close(x);
}
END_TEST

START_TEST(test_status)
{
	struct xcall_wire_status st;
	uint64_t calls[XCALL_WIRE_MAX_FNS];
	struct xcall_result r[1024];
	struct xcall *d = open_backend(XCALL_BACKEND_DAEMON);

	ck_assert_int_eq(run_all(d, XCALL_FN_PING, 0, NULL, r), ncpus);
	ck_assert_int_eq(run_all(d, XCALL_FN_PING, 0, NULL, r), ncpus);
	ck_assert_int_eq(xt_status(T.sock, &st, calls, XCALL_WIRE_MAX_FNS), 0);
	ck_assert_str_eq(st.version, XCALL_VERSION);
	ck_assert_uint_eq(st.backend, XCALL_BACKEND_THREADS);
	ck_assert_uint_eq(st.served, 2);
	ck_assert_uint_eq(calls[XCALL_FN_PING], 2);
	ck_assert_uint_eq(st.nr_fns, xcall_fn_count());
	ck_assert_uint_eq(st.clients, 2);	/* d and the status one */
	xcall_close(d);
}
END_TEST

#ifndef XCALL_BUILD_PATH
#define XCALL_BUILD_PATH "cli/xcall"
#endif

/* Run @cmd with sh: its exit status, and its output in @out (4096). */
static int run_cmd(const char *cmd, char *out)
{
	FILE *p = popen(cmd, "r");
	size_t n;
	int st;

	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, 4095, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `xcall status --json` against the daemon, and against none. */
START_TEST(test_cli_status)
{
	char cmd[512], out[4096];

	snprintf(cmd, sizeof(cmd), "XCALL_SOCKET=%s %s run --cpu 0 ping "
		 ">/dev/null && XCALL_SOCKET=%s %s status --json", T.sock,
		 XCALL_BUILD_PATH, T.sock, XCALL_BUILD_PATH);
	ck_assert_int_eq(run_cmd(cmd, out), 0);
	ck_assert_msg(strstr(out, "\"backend\":\"daemon\""), "%s", out);
	ck_assert_msg(strstr(out, "\"daemon\":{\"version\":\"" XCALL_VERSION
			      "\",\"backend\":\"threads\""), "%s", out);
	ck_assert_msg(strstr(out, "\"calls_served\":1,"), "%s", out);
	ck_assert_msg(strstr(out, "\"cancelled\":0,"), "%s", out);
	ck_assert_msg(strstr(out, "\"calls\":{\"ping\":1,"), "%s", out);
	ck_assert_int_eq(xt_stop(&T), 0);
	snprintf(cmd, sizeof(cmd), "XCALL_SOCKET=%s %s status --json "
		 "2>/dev/null", T.sock, XCALL_BUILD_PATH);
	ck_assert_int_eq(run_cmd(cmd, out), 3);
	ck_assert_msg(strstr(out, "\"daemon\":null"), "%s", out);
}
END_TEST

#ifndef XCALL_PROTO_EXAMPLE
#define XCALL_PROTO_EXAMPLE "examples/protocol-client"
#endif

/*
 * The client of xcall-protocol(7) EXAMPLES, built against the installed
 * headers alone: its ping and its status are answered as the page says.
 */
START_TEST(test_protocol_example)
{
	char cmd[512], out[4096];

	snprintf(cmd, sizeof(cmd), "%s %s", XCALL_PROTO_EXAMPLE, T.sock);
	ck_assert_int_eq(run_cmd(cmd, out), 0);
	ck_assert_msg(strstr(out, "1: ping ran on CPU 0\n"), "%s", out);
	ck_assert_msg(strstr(out, "2: xcalld " XCALL_VERSION ", "), "%s", out);
}
END_TEST

/* A call that misses its timeout is answered ETIMEDOUT for that CPU. */
START_TEST(test_timeout)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_callrep rep;
	struct xcall_result r;
	uint64_t id, us = 50000;
	int fd = xt_connect(T.sock), len;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(xt_send_call(fd, 7, XCALL_FN_SPIN, 1, &us, 0, 5), 0);
	len = xt_recv(fd, buf, 10000);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, &id, &rep), 0);
	ck_assert_uint_eq(id, 7);
	ck_assert_int_eq(rep.error, 0);
	ck_assert_uint_eq(rep.nres, 1);
	__xcall_wire_reply_res(&rep, 0, &r);
	ck_assert_int_eq(r.error, -ETIMEDOUT);
	ck_assert_uint_eq(r.cpu, 0);
	close(fd);
}
END_TEST

/*
 * The next frame on @fd, which must be a CALL reply: its id, and its
 * record's error through @err.
 */
static uint64_t reply_of(int fd, int *err)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_callrep rep;
	struct xcall_result r;
	uint64_t id;
	int len = xt_recv(fd, buf, 10000);

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, &id, &rep), 0);
	ck_assert_int_eq(rep.error, 0);
	ck_assert_uint_eq(rep.nres, 1);
	__xcall_wire_reply_res(&rep, 0, &r);
	*err = r.error;
	return id;
}

/*
 * A call to one CPU is answered once, by its worker or by the loop, never
 * both (exec_pool.c, the claim). The spin outlives its deadline: the loop
 * answers ETIMEDOUT while the worker still runs it, and the worker, done,
 * must not answer too. The ping queued behind the spin on the same worker
 * answers after the spin has ended: a second reply to 7 comes before it.
 */
START_TEST(test_timeout_answered_once)
{
	uint64_t us = 50000;
	int fd = xt_connect(T.sock), err;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(xt_send_call(fd, 7, XCALL_FN_SPIN, 1, &us, 0, 5), 0);
	ck_assert_uint_eq(reply_of(fd, &err), 7);
	ck_assert_int_eq(err, -ETIMEDOUT);
	ck_assert_int_eq(xt_send_call(fd, 8, XCALL_FN_PING, 0, NULL, 0, 0), 0);
	ck_assert_uint_eq(reply_of(fd, &err), 8);
	ck_assert_int_eq(err, 0);
	close(fd);
}
END_TEST

/*
 * A client that sends FULL_CALLS calls before it reads one: the replies the
 * workers send themselves fill its socket, and those that find it full
 * are left to the loop (sub_release()). Every call is answered exactly
 * once: FULL_CALLS replies, each id once, and nothing more before the STATUS
 * reply that follows.
 */
#define FULL_CALLS	3000
START_TEST(test_full_socket_answered_once)
{
	static uint8_t seen[FULL_CALLS];
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_hdr h;
	struct pollfd pfd;
	int fd = xt_connect(T.sock), i, err, len, ret;
	uint64_t id;

	ck_assert_int_ge(fd, 0);
	memset(seen, 0, sizeof(seen));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < FULL_CALLS; ) {
		ret = xt_send_call(fd, (uint64_t)i, XCALL_FN_PING, 0, NULL,
				   i % ncpus, 0);
		if (!ret) {
			i++;
			continue;
		}
		ck_assert_int_eq(ret, -EAGAIN);
		pfd.fd = fd;
		pfd.events = POLLOUT;
		ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	}
	fcntl(fd, F_SETFL, 0);
	for (i = 0; i < FULL_CALLS; i++) {
		id = reply_of(fd, &err);
		ck_assert_uint_lt(id, FULL_CALLS);
		ck_assert_msg(!seen[id], "call %llu answered twice",
			      (unsigned long long)id);
		seen[id] = 1;
		ck_assert_int_eq(err, 0);
	}
	len = __xcall_wire_enc_status_req(buf, sizeof(buf), 99);
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), len);
	len = xt_recv(fd, buf, 10000);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(__xcall_wire_hdr(buf, len, &h),
			 XCALL_WIRE_STATUS_REPLY);
	close(fd);
}
END_TEST

/* The daemon refuses spin NOWAIT itself, as the module and libxcall do. */
START_TEST(test_spin_nowait)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_req req = { .fn = XCALL_FN_SPIN, .nargs = 1,
				 .args = { 10 }, .flags = XCALL_CALL_NOWAIT };
	struct xcall_wire_callrep rep;
	uint64_t id;
	int fd = xt_connect(T.sock), len;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(xt_send_req(fd, 9, &req, 0), 0);
	len = xt_recv(fd, buf, 10000);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, &id, &rep), 0);
	ck_assert_uint_eq(id, 9);
	ck_assert_int_eq(rep.error, -EINVAL);
	close(fd);
}
END_TEST

/*
 * Pipelined requests, then shutdown(SHUT_WR): a NOWAIT ping with id 0 (any
 * id is echoed) is answered with no record, a waited one with its record,
 * a STATUS with its reply, in any order; then the daemon hangs up.
 */
START_TEST(test_half_close)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_req nowait = { .fn = XCALL_FN_PING,
				    .flags = XCALL_CALL_NOWAIT };
	struct xcall_wire_callrep rep;
	struct xcall_wire_hdr h;
	struct xcall_result r;
	unsigned int seen = 0;
	uint64_t id;
	int fd = xt_connect(T.sock), len;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(xt_send_req(fd, 0, &nowait, 0), 0);
	ck_assert_int_eq(xt_send_call(fd, 1, XCALL_FN_PING, 0, NULL, 0, 0), 0);
	len = __xcall_wire_enc_status_req(buf, sizeof(buf), 2);
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), len);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	while ((len = xt_recv(fd, buf, 10000)) > 0) {
		if (__xcall_wire_hdr(buf, len, &h) == XCALL_WIRE_STATUS_REPLY) {
			ck_assert_uint_eq(h.id, 2);
			seen |= 4;
			continue;
		}
		ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, &id, &rep),
				 0);
		ck_assert_uint_le(id, 1);
		ck_assert_int_eq(rep.error, 0);
		ck_assert_uint_eq(rep.nres, id);	/* NOWAIT: none */
		if (id) {
			__xcall_wire_reply_res(&rep, 0, &r);
			ck_assert_uint_eq(r.cpu, 0);
			ck_assert_uint_eq(r.fn, XCALL_FN_PING);
		}
		seen |= 1U << id;
	}
	ck_assert_int_eq(len, 0);
	ck_assert_uint_eq(seen, 7);
	close(fd);
}
END_TEST

/* ---- 64 clients x 10 k pipelined calls ---------------------------------- */

#define NCLIENTS	64
#define NCALLS		10000
#define WINDOW		32
#define ID(i)		((uint64_t)(i) * 7919 + 13)
#define UNID(id)	(((id) - 13) / 7919)

struct client {
	pthread_t th;
	unsigned int seed;
	unsigned int ok, bad;
	char why[128];
};

static void *client_main(void *arg)
{
	struct client *cl = arg;
	static __thread uint8_t buf[XCALL_WIRE_MAX_FRAME];
	uint8_t *want;		/* want[i]: cpu + 1 of call i, 0 when done */
	unsigned int sent = 0, got = 0, outstanding = 0;
	int fd = xt_connect(T.sock);

	want = calloc(NCALLS, 1);
	if (fd < 0 || !want) {
		snprintf(cl->why, sizeof(cl->why), "connect: %d", fd);
		cl->bad++;
		free(want);
		return NULL;
	}
	while (got < NCALLS) {
		while (sent < NCALLS && outstanding < WINDOW) {
			int cpu = (int)(rand_r(&cl->seed) % ncpus);

			want[sent] = (uint8_t)(cpu + 1);
			/*
			 * ids that are not consecutive, to catch mix-ups;
			 * the longest timeout: this test is about answers
			 * lost or mixed up, not about how fast they come
			 * on a loaded machine (the default 1 s is not
			 * always enough there).
			 */
			if (xt_send_call(fd, ID(sent), XCALL_FN_PING, 0, NULL,
					 cpu, XCALL_MAX_TIMEOUT_MS)) {
				snprintf(cl->why, sizeof(cl->why), "send");
				cl->bad++;
				goto out;
			}
			sent++;
			outstanding++;
		}
		{
			struct xcall_wire_callrep rep;
			struct xcall_result r;
			uint64_t id, i;
			int len = xt_recv(fd, buf, 30000);

			if (len <= 0 ||
			    __xcall_wire_dec_reply(buf, len, &id, &rep) ||
			    rep.error || rep.nres != 1) {
				snprintf(cl->why, sizeof(cl->why),
					 "bad reply (len %d)", len);
				cl->bad++;
				goto out;
			}
			i = UNID(id);
			if ((id - 13) % 7919)
				i = ~0ULL;
			__xcall_wire_reply_res(&rep, 0, &r);
			if (i >= sent || !want[i] ||
			    r.cpu != (unsigned int)(want[i] - 1) || r.error ||
			    r.fn != XCALL_FN_PING) {
				snprintf(cl->why, sizeof(cl->why),
					 "reply %llu (of %u sent) does not "
					 "match: cpu %u want %d, error %d, "
					 "fn %u", (unsigned long long)i, sent,
					 r.cpu, i < sent ? want[i] - 1 : -2,
					 r.error, r.fn);
				cl->bad++;
				goto out;
			}
			want[i] = 0;
			got++;
			outstanding--;
			cl->ok++;
		}
	}
	/*
	 * Gone from the daemon's count (64 connections of one uid, the
	 * default limit) before the status that follows connects.
	 */
	shutdown(fd, SHUT_WR);
	while (xt_recv(fd, buf, 30000) > 0)
		;
out:
	close(fd);
	free(want);
	return NULL;
}

START_TEST(test_many_clients)
{
	static struct client cl[NCLIENTS];
	struct xcall_wire_status st;
	uint64_t calls[XCALL_WIRE_MAX_FNS];
	unsigned int i, ok = 0;

	for (i = 0; i < NCLIENTS; i++) {
		cl[i].seed = i + 1;
		ck_assert_int_eq(pthread_create(&cl[i].th, NULL, client_main,
						&cl[i]), 0);
	}
	for (i = 0; i < NCLIENTS; i++) {
		pthread_join(cl[i].th, NULL);
		ck_assert_msg(!cl[i].bad, "client %u: %s", i, cl[i].why);
		ok += cl[i].ok;
	}
	ck_assert_uint_eq(ok, NCLIENTS * NCALLS);
	ck_assert_int_eq(xt_status(T.sock, &st, calls, XCALL_WIRE_MAX_FNS), 0);
	ck_assert_uint_eq(calls[XCALL_FN_PING], NCLIENTS * NCALLS);
}
END_TEST

/* ---- calls that time out, clients that read ---------------------------- */

#define NREADERS	8
#define READER_CALLS	2000
#define READER_WINDOW	32

struct reader {
	pthread_t th;
	unsigned int got, timedout;
	char why[128];
};

static volatile int hold_stop;

/* Keep CPU 0 busy: spin, as long as the readers run, one after the other. */
static void *hold_cpu0(void *arg)
{
	static uint8_t buf[XCALL_WIRE_MAX_FRAME];
	uint64_t us = XCALL_SPIN_MAX_US, i;
	int *bad = arg, fd = xt_connect(T.sock);

	for (i = 0; fd >= 0 && !hold_stop; i++)
		if (xt_send_call(fd, i, XCALL_FN_SPIN, 1, &us, 0, 0) ||
		    xt_recv(fd, buf, 30000) <= 0)
			break;
	*bad = !hold_stop;
	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * Pings with a 20 ms timeout to the held CPU, READER_WINDOW at a time,
 * every answer read at once: each must come, ETIMEDOUT or not.
 */
static void *reader_main(void *arg)
{
	static __thread uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct reader *rd = arg;
	unsigned int sent = 0;
	int fd = xt_connect(T.sock);

	if (fd < 0) {
		snprintf(rd->why, sizeof(rd->why), "connect: %d", fd);
		return NULL;
	}
	while (rd->got < READER_CALLS) {
		struct xcall_wire_callrep rep;
		struct xcall_result r;
		uint64_t id;
		int len;

		while (sent < READER_CALLS && sent - rd->got < READER_WINDOW)
			if (xt_send_call(fd, sent++, XCALL_FN_PING, 0, NULL,
					 0, 20)) {
				snprintf(rd->why, sizeof(rd->why), "send");
				goto out;
			}
		len = xt_recv(fd, buf, 30000);
		if (len <= 0 || __xcall_wire_dec_reply(buf, len, &id, &rep) ||
		    rep.error || rep.nres != 1) {
			snprintf(rd->why, sizeof(rd->why), "answer %u of %u: "
				 "len %d", rd->got, READER_CALLS, len);
			goto out;
		}
		__xcall_wire_reply_res(&rep, 0, &r);
		if (r.error && r.error != -ETIMEDOUT) {
			snprintf(rd->why, sizeof(rd->why), "error %d", r.error);
			goto out;
		}
		rd->timedout += r.error == -ETIMEDOUT;
		rd->got++;
	}
out:
	close(fd);
	return NULL;
}

/*
 * Issue 9, defect 1: answers to calls past their deadline used to make
 * xcalld take a client that reads all the time for one that had left its
 * answers unread for --send-timeout, and drop it. Many calls time out on
 * a CPU kept busy; every reader gets every answer, and nobody is dropped.
 */
START_TEST(test_timeouts_keep_readers)
{
	static struct reader rd[NREADERS];
	unsigned int i, timedout = 0;
	pthread_t holder;
	int hold_bad = 0;

	hold_stop = 0;
	ck_assert_int_eq(pthread_create(&holder, NULL, hold_cpu0, &hold_bad),
			 0);
	for (i = 0; i < NREADERS; i++)
		ck_assert_int_eq(pthread_create(&rd[i].th, NULL, reader_main,
						&rd[i]), 0);
	for (i = 0; i < NREADERS; i++) {
		pthread_join(rd[i].th, NULL);
		timedout += rd[i].timedout;
	}
	hold_stop = 1;
	pthread_join(holder, NULL);
	for (i = 0; i < NREADERS; i++)
		ck_assert_msg(rd[i].got == READER_CALLS, "reader %u: %s", i,
			      rd[i].why);
	ck_assert_msg(!hold_bad, "the spinning client lost its answer");
	ck_assert_msg(!xt_log_has(&T, "replies unread"), "a reader was "
		      "dropped; see the log");
	printf("test_timeouts_keep_readers: %u of %u calls timed out\n",
	       timedout, NREADERS * READER_CALLS);
}
END_TEST

/* ---- security ---------------------------------------------------------- */

static void read_status_line(pid_t pid, const char *key, char *out, size_t n)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ':')
			snprintf(out, n, "%s", line + strlen(key) + 1);
	fclose(f);
	ck_assert_msg(out[0], "no %s in %s", key, path);
}

START_TEST(test_privileges_dropped)
{
	static const char *const caps[] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
	};
	struct passwd *pw;
	char v[256], want[128];
	unsigned int i;

	if (geteuid() != 0)
		xt_skip("only root drops to another user");
	if (!strcmp(xt_daemon_user(), "-"))
		xt_skip_env("XCALLD_TEST_USER=-: the daemon keeps its user");
	pw = getpwnam("xcalld");
	ck_assert_ptr_nonnull(pw);
	for (i = 0; i < 5; i++) {
		read_status_line(T.pid, caps[i], v, sizeof(v));
		ck_assert_msg(strtoull(v, NULL, 16) == 0, "%s:%s", caps[i], v);
	}
	snprintf(want, sizeof(want), "\t%u\t%u\t%u\t%u\n", pw->pw_uid,
		 pw->pw_uid, pw->pw_uid, pw->pw_uid);
	read_status_line(T.pid, "Uid", v, sizeof(v));
	ck_assert_str_eq(v, want);
	snprintf(want, sizeof(want), "\t%u\t%u\t%u\t%u\n", pw->pw_gid,
		 pw->pw_gid, pw->pw_gid, pw->pw_gid);
	read_status_line(T.pid, "Gid", v, sizeof(v));
	ck_assert_str_eq(v, want);
	read_status_line(T.pid, "Groups", v, sizeof(v));
	ck_assert_msg(strspn(v, " \t\n") == strlen(v), "groups:%s", v);
	read_status_line(T.pid, "NoNewPrivs", v, sizeof(v));
	ck_assert_int_eq(atoi(v), 1);
}
END_TEST

/* Why a test that needs a second client, uid 65534, skips. */
#define NOBODY_NEEDS_ROOT	"only root becomes uid 65534, a second client"

/* In a child: become uid and gid 65534, connect: 0 or an exit code. */
static int nobody_client(const char *sock, struct xcall **x)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = sock };

	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return 10;
	return xcall_open(x, &o) ? 11 : 0;
}

/* @req on CPU @cpu alone: what xcall_run() returns. */
static int run_on(struct xcall *x, const struct xcall_req *req, int cpu,
		  struct xcall_result *r)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return xcall_run(x, req, &set, sizeof(set), r, 1);
}

/*
 * In a child that became nobody: @refused on CPU 0 gets EPERM, ping on
 * @ok_cpu (unless -1) is served. 0, or the step that failed.
 */
static int as_nobody(const char *sock, unsigned int refused, int ok_cpu)
{
	struct xcall_req req = { .fn = refused };
	struct xcall_result r;
	struct xcall *x;
	int ret = nobody_client(sock, &x);

	if (ret)
		return ret;
	if (refused == XCALL_FN_SPIN) {
		req.nargs = 1;
		req.args[0] = 10;
	}
	if (run_on(x, &req, 0, &r) != -EPERM)
		return 12;
	req = (struct xcall_req){ .fn = XCALL_FN_PING };
	if (ok_cpu >= 0 && (run_on(x, &req, ok_cpu, &r) != 1 || r.error))
		return 13;
	xcall_close(x);
	return 0;
}

static int run_as_nobody(unsigned int refused, int ok_cpu)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(as_nobody(T.sock, refused, ok_cpu));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_second_uid_refused)
{
	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT);
	ck_assert_int_eq(run_as_nobody(XCALL_FN_SPIN, 0), 0);
	ck_assert(xt_log_has(&T, "denied: uid 65534 gid 65534"));
	ck_assert(xt_log_has(&T, "spin on CPUs 0"));
}
END_TEST

/*
 * CPU 0 kept with --isolated: nobody's ping there is refused (and logged),
 * to another CPU served; root, whom the policy gives "where", is served.
 */
START_TEST(test_isolated_cpus)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };
	struct xcall_result r;
	struct xcall *x;

	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT);
	x = open_backend(XCALL_BACKEND_DAEMON);
	ck_assert_int_eq(run_as_nobody(XCALL_FN_PING, ncpus > 1 ? 1 : -1), 0);
	ck_assert(xt_log_has(&T, "ping on CPUs 0: an isolated CPU"));
	ck_assert_int_eq(run_on(x, &req, 0, &r), 1);
	ck_assert_int_eq(r.error, 0);
	xcall_close(x);
}
END_TEST

/* ---- robustness ------------------------------------------------------- */

/* Send @len bytes; expect an ERROR (or CALL_REPLY error) or a hang-up. */
static void garbage(const void *data, size_t len, bool keeps)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_hdr h;
	int fd = xt_connect(T.sock), n, type;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	n = xt_recv(fd, buf, 10000);
	ck_assert_int_gt(n, 0);
	type = __xcall_wire_hdr(buf, n, &h);
	ck_assert_msg(type == XCALL_WIRE_ERROR ||
		      type == XCALL_WIRE_CALL_REPLY, "type %d", type);
	ck_assert_int_lt(h.error, 0);
	n = xt_recv(fd, buf, keeps ? 0 : 10000);
	if (keeps)
		ck_assert_int_eq(n, -ETIMEDOUT);	/* still open, quiet */
	else
		ck_assert_int_eq(n, 0);			/* hung up on */
	close(fd);
}

/*
 * A zero-length frame is a frame too short for a header, like any other:
 * an ERROR with id 0 and EBADMSG, then the daemon hangs up once the calls
 * sent before it are answered.
 */
/*
 * What a client that sent a call with id 5, then a frame too short for a
 * header, reads: the call's reply and an ERROR with id 0 and EBADMSG, in
 * either order, each within @ms, then the end of the stream.
 */
static void expect_reply_error_end(int fd, int ms)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	bool error = false, reply = false;
	struct xcall_wire_hdr h;
	int len, i, type;

	for (i = 0; i < 2; i++) {
		len = xt_recv(fd, buf, ms);
		ck_assert_int_gt(len, 0);
		type = __xcall_wire_hdr(buf, len, &h);
		if (type == XCALL_WIRE_ERROR) {
			ck_assert_uint_eq(h.id, 0);
			ck_assert_int_eq(h.error, -EBADMSG);
			error = true;
		} else {
			ck_assert_int_eq(type, XCALL_WIRE_CALL_REPLY);
			ck_assert_uint_eq(h.id, 5);
			ck_assert_int_eq(h.error, 0);
			reply = true;
		}
	}
	ck_assert(error && reply);
	ck_assert_int_eq(xt_recv(fd, buf, ms), 0);
}

START_TEST(test_zero_length_frame)
{
	uint64_t us = 20000;
	int fd = xt_connect(T.sock);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(xt_send_call(fd, 5, XCALL_FN_SPIN, 1, &us, 0, 0), 0);
	ck_assert_int_eq(send(fd, "", 0, MSG_NOSIGNAL), 0);
	expect_reply_error_end(fd, 10000);
	close(fd);
}
END_TEST

struct pinger {
	pthread_t th;
	volatile int stop;
	unsigned int ok, bad;
};

static void *pinger_main(void *arg)
{
	struct pinger *p = arg;
	struct xcall *x = open_backend(XCALL_BACKEND_DAEMON);
	struct xcall_result r[1024];

	while (!p->stop) {
		if (run_all(x, XCALL_FN_PING, 0, NULL, r) == ncpus &&
		    !r[0].error)
			p->ok++;
		else
			p->bad++;
	}
	xcall_close(x);
	return NULL;
}

/* The byte of header field @f in a frame, of CALL field @f in a CALL. */
#define HDR_AT(f)	offsetof(struct xcall_wire_hdr, f)
#define CALL_AT(f)	(sizeof(struct xcall_wire_hdr) + \
			 offsetof(struct xcall_wire_call, f))

/*
 * Every way xcall-protocol(7) lists of breaking a request, from a ping on
 * CPU 0 with id 9 and a 64-byte bitmap: the answer's type, id and errno,
 * and whether the connection then still serves (a STATUS) or has ended.
 */
static const struct {
	const char *what;
	size_t off, size;	/* a field set to @val; @size 0: none */
	uint64_t val;
	long len;		/* bytes sent; -1: the frame's */
	unsigned int fill;	/* bitmap bytes set to 0xff */
	int type;		/* of the answer */
	uint64_t id;
	int err;
	bool kept;
} bad_frame[] = {
	{ "empty", 0, 0, 0, 0, 0, XCALL_WIRE_ERROR, 0, -EBADMSG, false },
	{ "shorter than a header", 0, 0, 0, 23, 0, XCALL_WIRE_ERROR, 0,
	  -EBADMSG, false },
	{ "another magic", HDR_AT(magic), 2, 0x4358, -1, 0, XCALL_WIRE_ERROR,
	  0, -EBADMSG, false },
	{ "len is not the packet's", HDR_AT(len), 4, 200, -1, 0,
	  XCALL_WIRE_ERROR, 9, -EBADMSG, false },
	{ "another version", HDR_AT(version), 1, 2, -1, 0, XCALL_WIRE_ERROR,
	  9, -EPROTONOSUPPORT, false },
	{ "header reserved", HDR_AT(reserved), 4, 1, -1, 0, XCALL_WIRE_ERROR,
	  9, -EINVAL, true },
	{ "a reply's type", HDR_AT(type), 1, XCALL_WIRE_CALL_REPLY, -1, 0,
	  XCALL_WIRE_ERROR, 9, -EOPNOTSUPP, true },
	{ "type 0", HDR_AT(type), 1, 0, -1, 0, XCALL_WIRE_ERROR, 9,
	  -EOPNOTSUPP, true },
	{ "STATUS with a body", HDR_AT(type), 1, XCALL_WIRE_STATUS, -1, 0,
	  XCALL_WIRE_ERROR, 9, -EBADMSG, true },
	{ "over XCALL_WIRE_MAX_REQ", 0, 0, 0, 200000, 0, XCALL_WIRE_ERROR, 9,
	  -EMSGSIZE, true },
	{ "CALL with error set", HDR_AT(error), 4, 1, -1, 0,
	  XCALL_WIRE_CALL_REPLY, 9, -EINVAL, true },
	{ "cpuset_size and len disagree", CALL_AT(cpuset_size), 4, 56, -1, 0,
	  XCALL_WIRE_CALL_REPLY, 9, -EBADMSG, true },
	{ "CALL reserved", CALL_AT(reserved), 4, 1, -1, 0,
	  XCALL_WIRE_CALL_REPLY, 9, -EINVAL, true },
	{ "unknown flag", CALL_AT(flags), 4, 2, -1, 0, XCALL_WIRE_CALL_REPLY,
	  9, -EINVAL, true },
	{ "5 arguments", CALL_AT(nargs), 4, 5, -1, 0, XCALL_WIRE_CALL_REPLY,
	  9, -EINVAL, true },
	{ "an argument past nargs", CALL_AT(args[1]), 8, 5, -1, 0,
	  XCALL_WIRE_CALL_REPLY, 9, -EINVAL, true },
	{ "over XCALL_WIRE_MAX_CPUS", 0, 0, 0, -1, 40, XCALL_WIRE_CALL_REPLY,
	  9, -EMSGSIZE, true },
};

static void poke(uint8_t *f, size_t off, size_t size, uint64_t val)
{
	uint8_t u8 = (uint8_t)val;
	uint16_t u16 = (uint16_t)val;
	uint32_t u32 = (uint32_t)val;

	switch (size) {
	case 1:
		memcpy(f + off, &u8, 1);
		break;
	case 2:
		memcpy(f + off, &u16, 2);
		break;
	case 4:
		memcpy(f + off, &u32, 4);
		break;
	case 8:
		memcpy(f + off, &val, 8);
		break;
	}
}

START_TEST(test_bad_frames)
{
	static uint8_t f[200000], buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_req req = { .fn = XCALL_FN_PING };
	uint8_t set[64] = { 1 };
	struct xcall_wire_hdr h;
	size_t len;
	int fd, n;

	memset(f, 0, sizeof(f));
	n = __xcall_wire_enc_call(f, sizeof(f), 9, &req, set, sizeof(set));
	ck_assert_int_gt(n, 0);
	if (bad_frame[_i].size)
		poke(f, bad_frame[_i].off, bad_frame[_i].size, bad_frame[_i].val);
	memset(f + CALL_AT(reserved) + 4, 0xff, bad_frame[_i].fill);
	len = bad_frame[_i].len < 0 ? (size_t)n : (size_t)bad_frame[_i].len;
	fd = xt_connect(T.sock);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send(fd, f, len, MSG_NOSIGNAL), (ssize_t)len);
	n = xt_recv(fd, buf, 10000);
	ck_assert_msg(n >= (int)sizeof(h), "%s: %d", bad_frame[_i].what, n);
	ck_assert_int_eq(__xcall_wire_hdr(buf, n, &h), bad_frame[_i].type);
	ck_assert_msg(h.id == bad_frame[_i].id && h.error == bad_frame[_i].err,
		      "%s: id %llu error %d", bad_frame[_i].what,
		      (unsigned long long)h.id, h.error);
	if (bad_frame[_i].kept) {
		n = __xcall_wire_enc_status_req(buf, sizeof(buf), 10);
		ck_assert_int_eq(send(fd, buf, n, MSG_NOSIGNAL), n);
		n = xt_recv(fd, buf, 10000);
		ck_assert_int_eq(__xcall_wire_hdr(buf, n, &h),
				 XCALL_WIRE_STATUS_REPLY);
	} else {
		ck_assert_msg(xt_recv(fd, buf, 10000) == 0, "%s: not closed",
			      bad_frame[_i].what);
	}
	close(fd);
}
END_TEST

START_TEST(test_garbage)
{
	static uint8_t big[200000];
	uint8_t frame[XCALL_WIRE_MAX_REQ], set[8] = { 1 };
	struct xcall_req req = { .fn = XCALL_FN_PING };
	struct pinger p = { 0 };
	unsigned int i, seed = 1;
	int len, before;

	ck_assert_int_eq(pthread_create(&p.th, NULL, pinger_main, &p), 0);
	/* random bytes */
	for (i = 0; i < 200; i++) {
		size_t n = 1 + rand_r(&seed) % 512, j;

		for (j = 0; j < n; j++)
			big[j] = (uint8_t)rand_r(&seed);
		garbage(big, n, false);
	}
	/* oversized: the frame boundary holds, the connection stays */
	len = __xcall_wire_enc_call(frame, sizeof(frame), 9, &req, set, 8);
	memcpy(big, frame, len);
	garbage(big, sizeof(big), true);
	/* truncated call */
	garbage(frame, len - 3, false);
	/* another version */
	frame[HDR_AT(version)] = 2;
	garbage(frame, len, false);
	frame[HDR_AT(version)] = XCALL_WIRE_VERSION;
	/* a reserved field set: refused, connection kept */
	frame[HDR_AT(reserved)] = 1;
	garbage(frame, len, true);
	frame[HDR_AT(reserved)] = 0;
	/* a reply type sent to the daemon */
	frame[HDR_AT(type)] = XCALL_WIRE_CALL_REPLY;
	garbage(frame, len, true);
	frame[HDR_AT(type)] = XCALL_WIRE_CALL;
	/* unknown function, too many CPUs named */
	req.fn = 200;
	len = __xcall_wire_enc_call(frame, sizeof(frame), 9, &req, set, 8);
	garbage(frame, len, true);

	before = p.ok;
	while (p.ok < (unsigned int)before + 10)
		usleep(1000);		/* still being served */
	p.stop = 1;
	pthread_join(p.th, NULL);
	ck_assert_uint_eq(p.bad, 0);
}
END_TEST

static void wait_idle(void)
{
	struct xcall_wire_status st;
	uint64_t calls[XCALL_WIRE_MAX_FNS];
	int i;

	/* status is itself a client: 1 means nobody else */
	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(xt_status(T.sock, &st, calls,
					   XCALL_WIRE_MAX_FNS), 0);
		if (st.clients == 1 && st.inflight == 0)
			return;
		usleep(1000);
	}
	ck_abort_msg("daemon still has %llu clients, %llu calls",
		     (unsigned long long)st.clients,
		     (unsigned long long)st.inflight);
}

/*
 * A frame that ends the connection, with a call before it and one after:
 * the call before is answered, the ERROR says why, the one after is never
 * read, and the client then reads the end of the stream. Read only once
 * the daemon has closed its side, so that the frame it left unread would
 * make the kernel report ECONNRESET first, were it still there.
 */
START_TEST(test_fatal_frame_then_close)
{
	uint8_t bad[24] = { 0 };
	struct pollfd pfd;
	uint64_t us = 20000;
	int fd = xt_connect(T.sock);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(xt_send_call(fd, 5, XCALL_FN_SPIN, 1, &us, 0, 0), 0);
	ck_assert_int_eq(send(fd, bad, sizeof(bad), MSG_NOSIGNAL), 24);
	ck_assert_int_eq(xt_send_call(fd, 6, XCALL_FN_PING, 0, NULL, 0, 0), 0);
	pfd.fd = fd;
	pfd.events = POLLRDHUP;
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	ck_assert(pfd.revents & POLLRDHUP);
	wait_idle();		/* and the daemon is past its close */
	expect_reply_error_end(fd, 0);
	close(fd);
}
END_TEST

START_TEST(test_client_killed)
{
	int sv[2], st;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		uint64_t us = 20000;
		int fd = xt_connect(T.sock), i;

		for (i = 0; i < 50; i++)
			xt_send_call(fd, i, XCALL_FN_SPIN, 1, &us, i % ncpus,
				     5000);
		if (write(sv[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(sv[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	wait_idle();
	/* Another client is served as before. */
	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT " (the kill itself passed)");
	ck_assert_int_eq(run_as_nobody(XCALL_FN_SPIN, 0), 0);
}
END_TEST

/* The @what ms of the daemon's "replies unread for @what ms", or -1. */
static long log_unread_ms(void)
{
	static const char key[] = "replies unread for ";
	char buf[65536], *p;
	ssize_t n;
	int fd = open(T.log, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/* Send a STATUS on @fd and read until its reply: what came before is in. */
static void sync_status(int fd)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_hdr h;
	int len;

	len = __xcall_wire_enc_status_req(buf, sizeof(buf), 99);
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), len);
	do {
		len = xt_recv(fd, buf, 10000);
		ck_assert_int_gt(len, 0);
	} while (__xcall_wire_hdr(buf, len, &h) != XCALL_WIRE_STATUS_REPLY);
}

/*
 * A client queues pings to CPU 0 behind a spin there and leaves: the
 * daemon drops them, and they never run (STATUS counts them cancelled).
 * Judged only if the daemon had seen the client leave (its STATUS says
 * so) before the spin, which started after t0, could have ended: until
 * then CPU 0's worker ran nothing queued behind it. Otherwise the pings
 * may have run: try again.
 */
START_TEST(test_gone_client_cancelled)
{
	enum { K = 8 };
	uint64_t calls[XCALL_WIRE_MAX_FNS], us = XCALL_SPIN_MAX_US, t0;
	uint64_t before, got = 0;
	struct xcall_wire_status st;
	int fd, i, k, tries;
	bool held = false;

	for (tries = 0; tries < 20 && !held; tries++) {
		wait_idle();
		ck_assert_int_eq(xt_status(T.sock, &st, calls,
					   XCALL_WIRE_MAX_FNS), 0);
		before = st.cancelled;
		fd = xt_connect(T.sock);
		ck_assert_int_ge(fd, 0);
		t0 = mono_ns();
		ck_assert_int_eq(xt_send_call(fd, 1, XCALL_FN_SPIN, 1, &us, 0,
					      10000), 0);
		for (i = 0; i < K; i++)
			ck_assert_int_eq(xt_send_call(fd, 2 + i, XCALL_FN_PING,
						      0, NULL, 0, 10000), 0);
		sync_status(fd);	/* the daemon has every call */
		close(fd);
		/* Until the daemon has dropped something, or all is over. */
		for (k = 0; k < 100000; k++) {
			ck_assert_int_eq(xt_status(T.sock, &st, calls,
						   XCALL_WIRE_MAX_FNS), 0);
			if (st.cancelled != before ||
			    (st.clients == 1 && !st.inflight))
				break;
		}
		held = mono_ns() < t0 + XCALL_SPIN_MAX_US * 1000ULL;
		got = st.cancelled - before;
	}
	ck_assert_msg(held, "in %d tries the daemon never dropped the calls "
		      "of a client that left while a spin held CPU 0", tries);
	/* The pings, and the spin if its worker had not started it yet. */
	ck_assert_uint_ge(got, K);
	ck_assert_uint_le(got, K + 1);
	wait_idle();
	ck_assert_int_eq(xt_status(T.sock, &st, calls, XCALL_WIRE_MAX_FNS),
			 0);
	ck_assert_uint_eq(st.cancelled - before, got);
}
END_TEST

/*
 * A client that shuts down only its sending side still gets its answers
 * (test_half_close); nothing of it is cancelled.
 */
START_TEST(test_half_close_not_cancelled)
{
	uint64_t calls[XCALL_WIRE_MAX_FNS], us = 20000;
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_status st;
	int fd = xt_connect(T.sock), i, len, n = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(xt_send_call(fd, 1, XCALL_FN_SPIN, 1, &us, 0, 10000),
			 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(xt_send_call(fd, 2 + i, XCALL_FN_PING, 0,
					      NULL, 0, 10000), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	while ((len = xt_recv(fd, buf, 10000)) > 0)
		n++;
	ck_assert_int_eq(len, 0);
	ck_assert_int_eq(n, 5);
	close(fd);
	ck_assert_int_eq(xt_status(T.sock, &st, calls, XCALL_WIRE_MAX_FNS),
			 0);
	ck_assert_uint_eq(st.cancelled, 0);
}
END_TEST

START_TEST(test_slow_reader)
{
	struct pollfd pfd;
	uint64_t t0 = mono_ms(), lived;
	int fd = xt_connect(T.sock), i, ret;
	bool hung_up = false;
	long unread;

	ck_assert_int_ge(fd, 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/*
	 * Keep asking, never read. The daemon's replies fill our socket,
	 * its sends stall, and after --send-timeout (500 ms) it hangs up.
	 */
	for (i = 0; i < 1000000 && !hung_up; i++) {
		pfd.fd = fd;
		pfd.events = POLLOUT | POLLRDHUP;
		ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
		if (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR)) {
			hung_up = true;
			break;
		}
		ret = xt_send_call(fd, i, XCALL_FN_PROBE, 0, NULL, 0, 0);
		if (ret == -EPIPE || ret == -ECONNRESET)
			hung_up = true;
		else if (ret)
			ck_assert_int_eq(ret, -EAGAIN);
	}
	ck_assert(hung_up);
	lived = mono_ms() - t0;
	close(fd);
	wait_idle();
	/*
	 * The log says how long the replies really went unread: at least
	 * --send-timeout, and no longer than the connection lived.
	 */
	unread = log_unread_ms();
	ck_assert_msg(unread >= 500 && (uint64_t)unread <= lived,
		      "replies unread for %ld ms, in a connection of %llu ms",
		      unread, (unsigned long long)lived);
}
END_TEST

/* ---- signals ------------------------------------------------------------ */

START_TEST(test_sigterm_drains)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_callrep rep;
	struct xcall_wire_hdr h;
	struct xcall_result r;
	uint64_t us = 100000, id, seen = 0;
	int fd = xt_connect(T.sock), len, i, st;

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(xt_send_call(fd, 100 + i, XCALL_FN_SPIN, 1,
					      &us, i % ncpus, 10000), 0);
	/* A status on the same connection: read after the calls. */
	len = __xcall_wire_enc_status_req(buf, sizeof(buf), 1);
	ck_assert_int_eq(send(fd, buf, len, 0), len);
	len = xt_recv(fd, buf, 10000);
	ck_assert_int_eq(__xcall_wire_hdr(buf, len, &h),
			 XCALL_WIRE_STATUS_REPLY);
	kill(T.pid, SIGTERM);
	ck_assert(xt_notify_wait(&T, "STOPPING=1", 10000));
	ck_assert_int_lt(xt_connect(T.sock), 0);	/* not accepting */
	for (i = 0; i < 4; i++) {
		len = xt_recv(fd, buf, 10000);
		ck_assert_int_gt(len, 0);
		ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, &id, &rep),
				 0);
		ck_assert_int_eq(rep.error, 0);
		__xcall_wire_reply_res(&rep, 0, &r);
		ck_assert_int_eq(r.error, 0);
		ck_assert_uint_eq(r.val[1], us);
		seen |= 1ULL << (id - 100);
	}
	ck_assert_uint_eq(seen, 0xf);
	ck_assert_int_eq(xt_recv(fd, buf, 10000), 0);	/* then EOF */
	ck_assert_int_eq(waitpid(T.pid, &st, 0), T.pid);
	T.pid = 0;
	xt_cleanup(&T);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	close(fd);
}
END_TEST

START_TEST(test_sighup_reload)
{
	char line[64];

	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT);
	ck_assert_int_eq(run_as_nobody(XCALL_FN_SPIN, 0), 0);		/* spin refused */
	snprintf(line, sizeof(line), "allow * *\n");
	xt_write_file(T.conf, line);
	kill(T.pid, SIGHUP);
	ck_assert(xt_notify_wait(&T, "policy reloaded", 10000));
	ck_assert_int_eq(run_as_nobody(XCALL_FN_SPIN, 0), 12);		/* spin allowed now */
	/* A broken file: the old policy stays, the log says why. */
	xt_write_file(T.conf, "allow * *\nallow bogus:x *\n");
	kill(T.pid, SIGHUP);
	ck_assert(xt_notify_wait(&T, "policy reload failed", 10000));
	ck_assert(xt_log_has(&T, "keeping the old policy"));
	ck_assert(xt_log_has(&T, "xcalld.conf:2:"));
	ck_assert_int_eq(run_as_nobody(XCALL_FN_SPIN, 0), 12);
}
END_TEST

START_TEST(test_policy_file)
{
	/* nobody may ping CPU 0 only, root everything; rate for nobody */
	static const char pol[] =
		"allow uid:0 *\n"
		"deny uid:65534 ping cpus=1-8191\n"
		"allow * ping,probe\n";

	ck_assert_int_eq(xt_stop(&T), 0);
	xt_start(&T, pol, NULL);
	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT " (the daemon took the file)");
	ck_assert_int_eq(run_as_nobody(XCALL_FN_SPIN, 0), 0);	/* ping on 0 ok, spin no */
}
END_TEST

#ifndef XCALL_SRC_DIR
#define XCALL_SRC_DIR "."
#endif

/* The shipped xcalld.conf parses and is the built-in policy. */
START_TEST(test_shipped_policy)
{
	char text[8192];
	size_t n;
	FILE *f = fopen(XCALL_SRC_DIR "/daemon/xcalld.conf", "r");

	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	ck_assert_int_eq(xt_stop(&T), 0);
	xt_start(&T, text, NULL);
	ck_assert(!xt_log_has(&T, "built-in"));
	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT " (the daemon took the file)");
	ck_assert_int_eq(run_as_nobody(XCALL_FN_SPIN, 0), 0);
}
END_TEST

/* The daemon again, with @policy: a connection to it. */
static int restart_with(const char *policy)
{
	int fd;

	ck_assert_int_eq(xt_stop(&T), 0);
	xt_start(&T, policy, NULL);
	fd = xt_connect(T.sock);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* The next frame on @fd, a CALL_REPLY: its error, and its id in @id. */
static int next_reply(int fd, uint64_t *id)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_callrep rep;
	int len = xt_recv(fd, buf, 10000);

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, id, &rep), 0);
	return rep.error;
}

/* rate=10 burst=5: a burst of 50 gets 5 (plus what 10/s refills) through. */
START_TEST(test_rate_limit)
{
	unsigned int ok = 0, again = 0, i;
	uint64_t t0, id;
	double secs;
	int fd, err;

	fd = restart_with("allow * *\nlimit * rate=10 burst=5\n");
	t0 = (uint64_t)time(NULL);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(xt_send_call(fd, i, XCALL_FN_PING, 0, NULL, 0,
					      0), 0);
	for (i = 0; i < 50; i++) {
		err = next_reply(fd, &id);
		if (err == -EAGAIN)
			again++;
		else if (!err)
			ok++;
	}
	secs = (double)((uint64_t)time(NULL) - t0 + 1);
	ck_assert_uint_eq(ok + again, 50);
	ck_assert_uint_ge(ok, 5);
	ck_assert_msg(ok <= 5 + 10 * secs, "%u calls passed", ok);
	close(fd);
}
END_TEST

#define HOLD_ID		100

/*
 * Issue 9, defect 4: a NOWAIT call counts against `inflight` until it has
 * run, not only until it is answered. With inflight=4, a spin holds CPU 0
 * and 7 NOWAIT pings queue behind it: the daemon reads the spin and 3
 * pings, then nothing more until the spin has run, so the spin's answer
 * comes before the 4th ping's; once they have run the rest are read and
 * a new call is served. Before the fix all 7 pings were answered at once.
 */
START_TEST(test_nowait_inflight)
{
	struct xcall_req nowait = { .fn = XCALL_FN_PING,
				    .flags = XCALL_CALL_NOWAIT };
	const unsigned int limit = 4, extra = 4;
	uint64_t us = XCALL_SPIN_MAX_US, id;
	unsigned int i, acked = 0;
	int fd;

	fd = restart_with("allow * *\nlimit * inflight=4\n");
	ck_assert_int_eq(xt_send_call(fd, HOLD_ID, XCALL_FN_SPIN, 1, &us, 0,
				      0), 0);
	for (i = 1; i < limit + extra; i++)
		ck_assert_int_eq(xt_send_req(fd, i, &nowait, 0), 0);
	for (i = 1; i < limit + extra + 1; i++) {
		ck_assert_int_eq(next_reply(fd, &id), 0);
		if (i == limit) {
			ck_assert_msg(id == HOLD_ID, "answer %u: NOWAIT call "
				      "%llu before the spin it waits on", i,
				      (unsigned long long)id);
			continue;
		}
		ck_assert_uint_ne(id, HOLD_ID);
		ck_assert_uint_eq(id, ++acked);	/* read, answered in order */
	}
	ck_assert_int_eq(xt_send_call(fd, 200, XCALL_FN_PING, 0, NULL, 0, 0),
			 0);
	ck_assert_int_eq(next_reply(fd, &id), 0);
	ck_assert_uint_eq(id, 200);
	close(fd);
}
END_TEST

/* A call of @fn (spin: 10 us) on CPU @cpu, which may be any up to 8191. */
static void send_on(int fd, uint64_t id, unsigned int fn, int cpu)
{
	static uint8_t frame[XCALL_WIRE_MAX_REQ];
	uint8_t set[XCALL_MAX_CPUSET_BYTES] = { 0 };
	struct xcall_req req = { .fn = fn };
	int len;

	if (fn == XCALL_FN_SPIN) {
		req.nargs = 1;
		req.args[0] = 10;
	}
	set[cpu / 8] = 1U << (cpu % 8);
	len = __xcall_wire_enc_call(frame, sizeof(frame), id, &req, set,
				    sizeof(set));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(send(fd, frame, len, MSG_NOSIGNAL), len);
}

/*
 * What does not exist (the function, a CPU) is refused before what is not
 * allowed, and that before the rate: a refused call spends no token.
 * spin is denied to everyone here; one token, the next in a second.
 */
START_TEST(test_check_order)
{
	static const struct {
		unsigned int fn;
		int cpu, want;
	} step[] = {
		{ 200, 0, -EBADRQC },
		{ XCALL_FN_SPIN, 8191, -ENODEV },
		{ XCALL_FN_SPIN, 0, -EPERM },
		{ XCALL_FN_PING, 0, 0 },	/* the token, still there */
		{ XCALL_FN_SPIN, 0, -EPERM },	/* not EAGAIN */
		{ 200, 0, -EBADRQC },
		{ XCALL_FN_PING, 8191, -ENODEV },
		{ XCALL_FN_PING, 0, -EAGAIN },
	};
	const unsigned int n = sizeof(step) / sizeof(step[0]);
	int got[sizeof(step) / sizeof(step[0])], fd, err;
	struct timespec t0, t1;
	unsigned int i;
	uint64_t id;
	double secs;

	fd = restart_with("allow * ping\nlimit * rate=1 burst=1\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		send_on(fd, i, step[i].fn, step[i].cpu);
	for (i = 0; i < n; i++) {
		err = next_reply(fd, &id);
		ck_assert_uint_lt(id, n);
		got[id] = err;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < n; i++) {
		/* A second for 8 calls: a token came back, skip the last. */
		if (i == n - 1 && secs >= 1.0)
			break;
		ck_assert_msg(got[i] == step[i].want, "call %u: %d, want %d",
			      i, got[i], step[i].want);
	}
	close(fd);
}
END_TEST

START_TEST(test_bad_policy_refuses_start)
{
	const char *argv[] = { xt_daemon_path(), "-s", "/tmp/none.sock", "-c",
			       "/tmp/xcalld-bad.conf", "-u", "-", NULL };
	pid_t pid;
	int st;

	xt_write_file("/tmp/xcalld-bad.conf", "allow\n");
	pid = fork();
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 1);
	unlink("/tmp/xcalld-bad.conf");
}
END_TEST

/* ---- logs --------------------------------------------------------------- */

/* A STATUS on @fd, answered within @ms: 0, or -errno. */
static int status_on(int fd, int ms)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_hdr h;
	int len = __xcall_wire_enc_status_req(buf, sizeof(buf), 77);

	if (send(fd, buf, len, MSG_NOSIGNAL) != len)
		return -errno;
	len = xt_recv(fd, buf, ms);
	if (len <= 0)
		return len ? len : -ECONNRESET;
	if (__xcall_wire_hdr(buf, len, &h) != XCALL_WIRE_STATUS_REPLY ||
	    h.id != 77)
		return -EPROTO;
	return 0;
}

/* Connect and read until the daemon hangs up on us: its last word. */
static int refused_client(void)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	int fd = xt_connect(T.sock), n;

	ck_assert_int_ge(fd, 0);
	while ((n = xt_recv(fd, buf, 10000)) > 0)
		;
	close(fd);
	return n;
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * --max-clients 1, one client in: 300 more are refused, each a line the
 * daemon would repeat. At most XD_LOG_BURST of them every
 * XD_LOG_INTERVAL_S seconds reach the log, and the stop says how many
 * were left out.
 */
START_TEST(test_log_flood)
{
	unsigned int i, lines, most;
	struct timespec t0;
	int keep = xt_connect(T.sock);

	ck_assert_int_ge(keep, 0);
	ck_assert_int_eq(status_on(keep, 10000), 0);	/* it is in */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(refused_client(), 0);
	most = XD_LOG_BURST *
	       ((unsigned int)secs_since(&t0) / XD_LOG_INTERVAL_S + 1);
	close(keep);
	ck_assert_int_eq(xt_stop_keep(&T), 0);
	lines = xt_log_count(&T, "refusing another");
	ck_assert_msg(lines >= 1 && lines <= most, "%u lines, at most %u",
		      lines, most);
	ck_assert(xt_log_has(&T, "refused clients: suppressed "));
	xt_cleanup(&T);
}
END_TEST

/*
 * A frame that breaks the protocol is logged, and so is the close for
 * one that ends the connection, with its reason.
 */
START_TEST(test_log_protocol_error)
{
	uint8_t frame[XCALL_WIRE_MAX_REQ], set[8] = { 1 };
	struct xcall_req req = { .fn = XCALL_FN_PING };
	int len;

	len = __xcall_wire_enc_call(frame, sizeof(frame), 9, &req, set, 8);
	frame[HDR_AT(reserved)] = 1;
	garbage(frame, len, true);		/* EINVAL, kept */
	frame[HDR_AT(reserved)] = 0;
	frame[HDR_AT(magic)] ^= 0xff;
	garbage(frame, len, false);		/* EBADMSG, closed */
	ck_assert_int_eq(xt_stop_keep(&T), 0);
	ck_assert(xt_log_has(&T, "bytes: Invalid argument"));
	ck_assert(xt_log_has(&T, "closed: protocol error: Bad message"));
	xt_cleanup(&T);
}
END_TEST

/* ---- limits per uid ----------------------------------------------------- */

/*
 * rate=1 burst=6 for the uid: 21 calls over three connections, then 7 more
 * on a new one after those closed, get 6 through, and one more per second
 * the test took (each connection got 6 before, and a new one 6 more).
 */
START_TEST(test_rate_per_uid)
{
	unsigned int ok = 0, i, j;
	struct timespec t0;
	int fd[3], err;
	uint64_t id;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd[0] = restart_with("allow * *\nlimit * rate=1 burst=6\n");
	for (i = 1; i < 3; i++) {
		fd[i] = xt_connect(T.sock);
		ck_assert_int_ge(fd[i], 0);
	}
	for (i = 0; i < 3; i++)
		for (j = 0; j < 7; j++)
			ck_assert_int_eq(xt_send_call(fd[i], j, XCALL_FN_PING,
						      0, NULL, 0, 0), 0);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 7; j++) {
			err = next_reply(fd[i], &id);
			ck_assert_msg(!err || err == -EAGAIN, "%d", err);
			ok += !err;
		}
		close(fd[i]);
	}
	ck_assert_uint_ge(ok, 6);
	/* Reconnecting gives nothing back. */
	fd[0] = xt_connect(T.sock);
	ck_assert_int_ge(fd[0], 0);
	for (j = 0; j < 7; j++)
		ck_assert_int_eq(xt_send_call(fd[0], j, XCALL_FN_PING, 0, NULL,
					      0, 0), 0);
	for (j = 0; j < 7; j++)
		ok += !next_reply(fd[0], &id);
	close(fd[0]);
	ck_assert_msg(ok <= 6 + (unsigned int)secs_since(&t0),
		      "%u calls passed in %.1f s", ok, secs_since(&t0));
}
END_TEST

/* The daemon's answer to a connection it does not take: EUSERS, then EOF. */
static bool refused(int fd)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_hdr h;
	int len = xt_recv(fd, buf, 10000);

	return len > 0 && __xcall_wire_hdr(buf, len, &h) == XCALL_WIRE_ERROR &&
	       h.id == 0 && h.error == -EUSERS && xt_recv(fd, buf, 10000) == 0;
}

/* Connected and served (a STATUS), then gone from the daemon's count. */
static bool served_once(void)
{
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
	int fd = xt_connect(T.sock);
	bool ok = fd >= 0 && !status_on(fd, 10000);

	if (fd >= 0) {
		shutdown(fd, SHUT_WR);
		ok = ok && xt_recv(fd, buf, 10000) == 0;
		close(fd);
	}
	return ok;
}

/* A ping through libxcall's daemon backend: what it fails with, or 0. */
static int refused_lib(void)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = T.sock };
	struct xcall_req req = { .fn = XCALL_FN_PING };
	struct xcall_result r;
	struct xcall *x;
	cpu_set_t set;
	int ret = xcall_open(&x, &o);

	if (ret)
		return ret;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ret = xcall_run(x, &req, &set, sizeof(set), &r, 1);
	xcall_close(x);
	return ret < 0 ? ret : 0;
}

/*
 * A child that becomes @uid (and gid @uid, no other group), holds @n
 * connections and finds the next one refused (raw, and through
 * libxcall: EUSERS; exit 100 + errno says what libxcall said instead),
 * then waits for a byte
 * on @go. Its pid; a byte on @ready once it holds them, or its exit says
 * which step failed.
 */
static pid_t hold_conns(uid_t uid, unsigned int n, int ready, int go)
{
	pid_t pid = fork();
	unsigned int i;
	int fd, ret;
	char c;

	ck_assert_int_ge(pid, 0);
	if (pid)
		return pid;
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid))
		_exit(10);
	for (i = 0; i < n; i++) {
		fd = xt_connect(T.sock);
		if (fd < 0 || status_on(fd, 10000))
			_exit(11);
	}
	fd = xt_connect(T.sock);
	if (fd < 0 || !refused(fd))
		_exit(12);
	close(fd);
	/* Through libxcall the refusal is EUSERS too, not a generic error. */
	ret = refused_lib();
	if (ret != -EUSERS)
		_exit(!ret ? 14 : ret > 0 ? 15 : 100 + -ret % 100);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(13);
	_exit(0);
}

/*
 * The daemon again, with @policy and @extra arguments, and a child of
 * hold_conns() (uid @uid, @n connections) that holds them: its pid; a
 * byte on @go[1] lets it go (hold_end()).
 */
static pid_t restart_holding(const char *policy, const char *const *extra,
			     uid_t uid, unsigned int n, int go[2])
{
	int ready[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(xt_stop(&T), 0);
	xt_start(&T, policy, extra);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = hold_conns(uid, n, ready[1], go[0]);
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		int st = 0;

		waitpid(pid, &st, 0);
		ck_abort_msg("the holder failed at step %d (see hold_conns)",
			     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	close(ready[0]);
	return pid;
}

static int hold_end(pid_t pid, int go)
{
	int st;

	ck_assert_int_eq(write(go, "g", 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* conns=2 for nobody: a third is refused with EUSERS; root is served. */
START_TEST(test_conns_per_uid)
{
	int go[2];
	pid_t pid;

	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT);
	pid = restart_holding("allow * unprivileged\nallow uid:0 *\n"
			      "limit uid:65534 conns=2\n", NULL, 65534, 2, go);
	ck_assert(served_once());
	ck_assert_int_eq(hold_end(pid, go[1]), 0);
	ck_assert(xt_log_has(&T, "uid 65534: 2 connections: refusing"));
}
END_TEST

/*
 * --max-clients 8 keeps one for privileged clients: nobody, with a limit
 * of its own above that, gets 7 and the 8th is refused; a member of group
 * xcall, then root, still get in.
 */
START_TEST(test_conns_reserve)
{
	static const char *const extra[] = { "--max-clients", "8", NULL };
	struct group *gr;
	pid_t pid, member;
	int go[2], st;

	if (geteuid() != 0)
		xt_skip(NOBODY_NEEDS_ROOT);
	gr = getgrnam("xcall");
	ck_assert_msg(gr, "group xcall is missing (make check-daemon creates "
		      "it with systemd-sysusers)");
	pid = restart_holding("allow * unprivileged\nallow uid:0 *\n"
			      "allow group:xcall *\nlimit * conns=100\n",
			      extra, 65534, 7, go);
	member = fork();
	ck_assert_int_ge(member, 0);
	if (!member) {
		gid_t g = gr->gr_gid;

		if (setgroups(1, &g) || setresgid(65533, 65533, 65533) ||
		    setresuid(65533, 65533, 65533))
			_exit(10);
		_exit(served_once() ? 0 : 11);
	}
	ck_assert_int_eq(waitpid(member, &st, 0), member);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert(served_once());
	ck_assert_int_eq(hold_end(pid, go[1]), 0);
}
END_TEST

/* ---- descriptors -------------------------------------------------------- */

#define NOFILE		32		/* the daemon's RLIMIT_NOFILE */
#define NOFILE_CLIENTS	(NOFILE + 16)	/* more than it can take */

/* Clients on @fd: the daemon's count, from a STATUS on that connection. */
static unsigned int clients_seen_by(int fd)
{
	static uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct xcall_wire_status st;
	uint64_t id;
	int len = __xcall_wire_enc_status_req(buf, sizeof(buf), 5);

	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), len);
	len = xt_recv(fd, buf, 10000);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(__xcall_wire_dec_status(buf, len, &id, &st, NULL, 0),
			 0);
	return (unsigned int)st.clients;
}

/* The N of the log's first "@what N" (a count of lines left out), or 0. */
static unsigned long log_number(const char *what)
{
	char line[1100], *p;
	unsigned long n = 0;
	FILE *f = fopen(T.log, "r");

	ck_assert_ptr_nonnull(f);
	while (!n && fgets(line, sizeof(line), f))
		if ((p = strstr(line, what)))
			n = strtoul(p + strlen(what), NULL, 10);
	fclose(f);
	return n;
}

/*
 * RLIMIT_NOFILE of 32 (soft and hard) and more clients than that: the
 * daemon takes what it can, stops accepting (it spun on EMFILE: millions
 * of lines, written or suppressed) and serves those it has, and takes the
 * next one waiting once a client leaves. Each time it runs out is one
 * EMFILE, and one line: twice here.
 */
START_TEST(test_out_of_fds)
{
	int fd[NOFILE_CLIENTS], i;
	unsigned long times;
	unsigned int k;

	ck_assert_int_eq(xt_stop(&T), 0);
	xt_start_nofile(&T, NULL, NULL, NOFILE);
	for (i = 0; i < NOFILE_CLIENTS; i++) {
		fd[i] = xt_connect(T.sock);	/* the backlog holds them */
		ck_assert_int_ge(fd[i], 0);
	}
	ck_assert(xt_log_wait(&T, "Too many open files", 10000));
	/* Accepted in the order they came: the first k. */
	k = clients_seen_by(fd[0]);
	ck_assert_uint_gt(k, 1);
	ck_assert_uint_lt(k, NOFILE);
	for (i = 1; i < (int)k; i++)
		ck_assert_int_eq(status_on(fd[i], 10000), 0);
	/* The next one waits, its STATUS unread. */
	ck_assert_int_eq(status_on(fd[k], 0), -ETIMEDOUT);
	/* One leaves: the one waiting gets in, and is answered. */
	close(fd[0]);
	ck_assert_int_gt(xt_recv(fd[k], (uint8_t[XCALL_WIRE_MAX_FRAME]){ 0 },
				 10000), 0);
	ck_assert_int_eq(status_on(fd[1], 10000), 0);
	/* The stop says what the log left out. */
	ck_assert_int_eq(xt_stop_keep(&T), 0);
	times = xt_log_count(&T, "Too many open files") +
		log_number("accept errors: suppressed ");
	ck_assert_msg(times <= 2, "EMFILE %lu times", times);
	xt_cleanup(&T);
	for (i = 1; i < NOFILE_CLIENTS; i++)
		close(fd[i]);
}
END_TEST

/* ---- socket activation --------------------------------------------------- */

START_TEST(test_socket_activation)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xcall_result r[1024];
	struct xcall *x;
	char path[160];
	int lfd, st;
	pid_t pid;

	ck_assert_int_eq(xt_stop(&T), 0);
	ck_assert_int_eq(mkdir(T.dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/activated.sock", T.dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	chmod(path, 0666);
	ck_assert_int_eq(listen(lfd, 16), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		char n[16];
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		if (dup2(lfd, 3) != 3)
			_exit(126);
		snprintf(n, sizeof(n), "%d", (int)getpid());
		setenv("LISTEN_PID", n, 1);
		setenv("LISTEN_FDS", "1", 1);
		/* --socket names a path it must not bind: passed one wins */
		execl(xt_daemon_path(), "xcalld", "-s", "/nonexistent/x",
		      "-c", "/nonexistent", "-u", xt_daemon_user(),
		      "-b", "threads", NULL);
		_exit(127);
	}
	close(lfd);
	/* The backlog holds us until the daemon accepts: no sleep. */
	{
		struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
					.socket_path = path };

		ck_assert_int_eq(xcall_open(&x, &o), 0);
	}
	ck_assert_int_eq(run_all(x, XCALL_FN_PING, 0, NULL, r), ncpus);
	xcall_close(x);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	xt_cleanup(&T);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

/* ---- the conformance table (tests/common/conformance.h) ---------------- */

/* One daemon for every row: started before the first, stopped after. */
static void conform_setup(void)
{
	xt_start(&T, NULL, NULL);
}

static int first_online(void)
{
	size_t sz = CPU_ALLOC_SIZE(1024);
	cpu_set_t *set = CPU_ALLOC(1024);
	int c;

	ck_assert_int_eq(xcall_cpus_online(set, sz), 0);
	for (c = 0; !CPU_ISSET_S(c, sz, set); c++)
		;
	CPU_FREE(set);
	return c;
}

/* Through libxcall's daemon backend: its checks, then the daemon's. */
START_TEST(test_conform_lib)
{
	struct xcall *d = open_backend(XCALL_BACKEND_DAEMON);
	struct xc_conf_call c;
	const struct xc_conf_case *k = xc_conf_make(_i, first_online(), &c);

	xc_conf_judge(k, &c, xc_conf_run_lib(d, &c), "daemon backend");
	xcall_close(d);
}
END_TEST

/* As raw frames: the daemon's checks alone. */
START_TEST(test_conform_wire)
{
	struct xc_conf_call c;
	const struct xc_conf_case *k = xc_conf_make(_i, first_online(), &c);
	int fd = xt_connect(T.sock);

	ck_assert_int_ge(fd, 0);
	xc_conf_judge(k, &c, xc_conf_run_wire(fd, 100 + _i, &c),
		      "xcalld, raw frames");
	close(fd);
}
END_TEST

static void isolated_setup(void)
{
	static const char *const extra[] = { "--isolated", "0", NULL };

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	xt_start(&T, NULL, extra);
}

static void slow_setup(void)
{
	static const char *const extra[] = { "--send-timeout", "500", NULL };

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	xt_start(&T, NULL, extra);
}

static void one_client_setup(void)
{
	static const char *const extra[] = { "--max-clients", "1", NULL };

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	xt_start(&T, NULL, extra);
}

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("xcalld");
	TCase *tc;

	tc = tcase_create("results");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_same_results);
	tcase_add_test(tc, test_auto_prefers_daemon);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_timeout_answered_once);
	tcase_add_test(tc, test_full_socket_answered_once);
	tcase_add_test(tc, test_spin_nowait);
	tcase_add_test(tc, test_half_close);
	tcase_add_test(tc, test_cli_status);
	tcase_add_test(tc, test_protocol_example);
	suite_add_tcase(s, tc);

	tc = tcase_create("conformance");
	tcase_add_unchecked_fixture(tc, conform_setup, teardown);
	tcase_add_loop_test(tc, test_conform_lib, 0, XC_CONF_NCASES);
	tcase_add_loop_test(tc, test_conform_wire, 0, XC_CONF_NCASES);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_many_clients);
	tcase_add_test(tc, test_timeouts_keep_readers);
	suite_add_tcase(s, tc);

	/*
	 * Tagged: check-daemon-asan leaves it out (CK_EXCLUDE_TAGS), its
	 * daemon keeps its user for LeakSanitizer.
	 */
	tc = tcase_create("privileges");
	tcase_set_tags(tc, "drops-user");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_privileges_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("security");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_second_uid_refused);
	tcase_add_test(tc, test_policy_file);
	tcase_add_test(tc, test_shipped_policy);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_nowait_inflight);
	tcase_add_test(tc, test_check_order);
	tcase_add_test(tc, test_rate_per_uid);
	tcase_add_test(tc, test_conns_per_uid);
	tcase_add_test(tc, test_conns_reserve);
	tcase_add_test(tc, test_bad_policy_refuses_start);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_zero_length_frame);
	tcase_add_loop_test(tc, test_bad_frames, 0,
			    sizeof(bad_frame) / sizeof(bad_frame[0]));
	tcase_add_test(tc, test_fatal_frame_then_close);
	tcase_add_test(tc, test_client_killed);
	tcase_add_test(tc, test_out_of_fds);
	tcase_add_test(tc, test_gone_client_cancelled);
	tcase_add_test(tc, test_half_close_not_cancelled);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sigterm_drains);
	tcase_add_test(tc, test_sighup_reload);
	suite_add_tcase(s, tc);

	tc = tcase_create("systemd");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_socket_activation);
	suite_add_tcase(s, tc);

	tc = tcase_create("slow reader");
	tcase_add_checked_fixture(tc, slow_setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_slow_reader);
	suite_add_tcase(s, tc);

	/* Each a line the daemon would repeat, from refused clients. */
	tc = tcase_create("logs");
	tcase_add_checked_fixture(tc, one_client_setup, teardown);
	tcase_add_test(tc, test_log_flood);
	tcase_add_test(tc, test_log_protocol_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("isolated");
	tcase_add_checked_fixture(tc, isolated_setup, teardown);
	tcase_add_test(tc, test_isolated_cpus);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(daemon_suite)
