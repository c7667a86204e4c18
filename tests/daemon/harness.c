// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test harness for xcalld (see harness.h).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "xcalld.h"

#ifndef XCALLD_BUILD_PATH
#define XCALLD_BUILD_PATH "daemon/xcalld"
#endif

const char *xt_daemon_path(void)
{
	const char *p = getenv("XCALLD");

	return p && *p ? p : XCALLD_BUILD_PATH;
}

const char *xt_daemon_user(void)
{
	const char *u = getenv("XCALLD_TEST_USER");

	/* "-" under the sanitizers: LSan cannot inspect a dropped process. */
	if (u && *u)
		return u;
	if (geteuid() != 0)
		return "-";
	ck_assert_msg(getpwnam("xcalld"), "user xcalld is missing (make "
		      "check-daemon creates it with systemd-sysusers)");
	return "xcalld";
}

void xt_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	chmod(path, 0644);
}

void xt_start(struct xd_test *t, const char *policy, const char *const *extra)
{
	xt_start_nofile(t, policy, extra, 0);
}

void xt_start_nofile(struct xd_test *t, const char *policy,
		     const char *const *extra, unsigned int nofile)
{
	struct rlimit rl = { .rlim_cur = nofile, .rlim_max = nofile };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[32];
	char notify[128], own[1024];
	int n = 0, i;

	memset(t, 0, sizeof(*t));
	strcpy(t->dir, "/tmp/xcalld-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	/* The daemon runs as another user: it must read the policy. */
	ck_assert_int_eq(chmod(t->dir, 0755), 0);
	snprintf(t->sock, sizeof(t->sock), "%s/xcalld.sock", t->dir);
	snprintf(t->conf, sizeof(t->conf), "%s/xcalld.conf", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/log", t->dir);
	snprintf(notify, sizeof(notify), "%s/notify", t->dir);
	/*
	 * Not root: the built-in policy gives the privileged functions to
	 * root and group xcall alone. Give them to the user running the
	 * tests too, so that the suite checks the same things.
	 */
	if (!policy && geteuid() != 0) {
		snprintf(own, sizeof(own), "%sallow uid:%u *\n",
			 xd_policy_default, (unsigned int)geteuid());
		policy = own;
	}
	if (policy)
		xt_write_file(t->conf, policy);

	t->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(t->notify_fd, 0);
	strcpy(sa.sun_path, notify);
	ck_assert_int_eq(bind(t->notify_fd, (struct sockaddr *)&sa,
			      sizeof(sa)), 0);
	chmod(notify, 0666);

	argv[n++] = xt_daemon_path();
	argv[n++] = "--socket";
	argv[n++] = t->sock;
	argv[n++] = "--config";
	argv[n++] = t->conf;
	argv[n++] = "--user";
	argv[n++] = xt_daemon_user();
	argv[n++] = "--backend";
	argv[n++] = "threads";
	for (i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	t->pid = fork();
	ck_assert_int_ge(t->pid, 0);
	if (!t->pid) {
		int fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		/* Soft and hard: the daemon raises the one to the other. */
		if (nofile && setrlimit(RLIMIT_NOFILE, &rl))
			_exit(126);
		setenv("NOTIFY_SOCKET", notify, 1);
		unsetenv("JOURNAL_STREAM");
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_msg(xt_notify_wait(t, "READY=1", 20000),
		      "xcalld did not become ready; see %s", t->log);
}

bool xt_notify_wait(struct xd_test *t, const char *what, int ms)
{
	struct pollfd pfd = { .fd = t->notify_fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;

	while (poll(&pfd, 1, ms) == 1) {
		n = recv(t->notify_fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			return false;
		buf[n] = '\0';
		if (strstr(buf, what))
			return true;
	}
	return false;
}

void xt_cleanup(struct xd_test *t)
{
	static const char *const names[] = {
		"xcalld.sock", "xcalld.conf", "log", "notify", "activated.sock",
	};
	char path[192];
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]);
		unlink(path);
	}
	rmdir(t->dir);
}

int xt_stop_keep(struct xd_test *t)
{
	int st;

	if (t->pid <= 0)
		return -1;
	kill(t->pid, SIGTERM);
	ck_assert_int_eq(waitpid(t->pid, &st, 0), t->pid);
	t->pid = 0;
	close(t->notify_fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int xt_stop(struct xd_test *t)
{
	int ret = xt_stop_keep(t);

	xt_cleanup(t);
	return ret;
}

bool xt_log_has(struct xd_test *t, const char *what)
{
	char buf[65536];
	ssize_t n;
	int fd = open(t->log, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

unsigned int xt_log_count(struct xd_test *t, const char *what)
{
	unsigned int n = 0;
	char line[1100];
	FILE *f = fopen(t->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

bool xt_log_wait(struct xd_test *t, const char *what, int ms)
{
	struct pollfd pfd = { .events = POLLIN };
	char ev[4096];
	bool found;

	pfd.fd = inotify_init1(IN_CLOEXEC);
	ck_assert_int_ge(pfd.fd, 0);
	ck_assert_int_ge(inotify_add_watch(pfd.fd, t->log, IN_MODIFY), 0);
	/* Each write to the log wakes us: look again after each. */
	while (!(found = xt_log_has(t, what)) && poll(&pfd, 1, ms) == 1)
		if (read(pfd.fd, ev, sizeof(ev)) < 0)
			break;
	close(pfd.fd);
	return found;
}

int xt_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int xt_send_req(int fd, uint64_t id, const struct xcall_req *req, int cpu)
{
	uint8_t buf[XCALL_WIRE_MAX_REQ], set[8] = { 0 };
	int len;

	set[cpu / 8] = 1U << (cpu % 8);
	len = __xcall_wire_enc_call(buf, sizeof(buf), id, req, set, 8);
	if (len < 0)
		return len;
	return send(fd, buf, len, MSG_NOSIGNAL) == len ? 0 : -errno;
}

int xt_send_call(int fd, uint64_t id, unsigned int fn, unsigned int nargs,
		 const uint64_t *args, int cpu, unsigned int timeout_ms)
{
	struct xcall_req req = { .fn = fn, .nargs = nargs,
				 .timeout_ms = timeout_ms };
	unsigned int i;

	for (i = 0; i < nargs; i++)
		req.args[i] = args[i];
	return xt_send_req(fd, id, &req, cpu);
}

int xt_recv(int fd, void *buf, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	n = recv(fd, buf, XCALL_WIRE_MAX_FRAME, 0);
	if (n < 0)
		return -errno;
	return (int)n;
}

int xt_status(const char *path, struct xcall_wire_status *st,
	      uint64_t *fn_calls, unsigned int max_fns)
{
	static uint8_t buf[XCALL_WIRE_MAX_FRAME];
	uint64_t id;
	int fd, len, ret;

	fd = xt_connect(path);
	if (fd < 0)
		return fd;
	len = __xcall_wire_enc_status_req(buf, sizeof(buf), 42);
	if (send(fd, buf, len, MSG_NOSIGNAL) != len) {
		close(fd);
		return -EIO;
	}
	len = xt_recv(fd, buf, 10000);
	close(fd);
	if (len <= 0)
		return len ? len : -ECONNRESET;
	ret = __xcall_wire_dec_status(buf, len, &id, st, fn_calls, max_fns);
	return ret ? ret : (id == 42 ? 0 : -EPROTO);
}
