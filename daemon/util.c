// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's dealings with its surroundings: log lines (with syslog priority
 * prefixes when journald reads them), the systemd notification and socket
 * activation protocols written by hand (no libsystemd), and the drop from
 * root to an unprivileged user that keeps no capability at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xcalld.h"

int xd_verbose;

uint64_t xd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void xd_vlog(int level, const char *fmt, va_list ap)
{
	static int journal = -1;
	char line[1024];
	int n = 0;

	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal)
		n = snprintf(line, sizeof(line), "<%d>", level);
	else
		n = snprintf(line, sizeof(line), "xcalld: ");
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	strcat(line, "\n");
	/* One write per line, so lines of a dying daemon are never torn. */
	if (write(STDERR_FILENO, line, strlen(line)) < 0)
		return;
}

void xd_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level >= XD_DEBUG && !xd_verbose)
		return;
	va_start(ap, fmt);
	xd_vlog(level, fmt, ap);
	va_end(ap);
}

/* The call sites that left lines out, to say how many once they may. */
static struct xd_ratelimit *suppressing;

static void say_suppressed(struct xd_ratelimit *rl)
{
	if (rl->suppressed)
		xd_log(rl->level, "%s: suppressed %u lines", rl->what,
		       rl->suppressed);
	rl->suppressed = 0;
}

void xd_log_ratelimited(struct xd_ratelimit *rl, int level,
			const char *fmt, ...)
{
	uint64_t now = xd_now_ns();
	va_list ap;

	if (level >= XD_DEBUG && !xd_verbose)
		return;
	if (!rl->start_ns || now - rl->start_ns >=
	    XD_LOG_INTERVAL_S * 1000000000ULL) {
		say_suppressed(rl);
		rl->start_ns = now;
		rl->printed = 0;
	}
	if (rl->printed >= XD_LOG_BURST) {
		rl->level = level;
		if (!rl->suppressed++ && !rl->listed) {
			rl->next = suppressing;
			suppressing = rl;
			rl->listed = true;
		}
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	xd_vlog(level, fmt, ap);
	va_end(ap);
}

void xd_log_flush_suppressed(bool all)
{
	uint64_t now = xd_now_ns();
	struct xd_ratelimit **pp = &suppressing, *rl;

	while ((rl = *pp)) {
		if (!all && now - rl->start_ns <
		    XD_LOG_INTERVAL_S * 1000000000ULL) {
			pp = &rl->next;
			continue;
		}
		say_suppressed(rl);
		rl->start_ns = 0;
		rl->listed = false;
		*pp = rl->next;
	}
}

unsigned long xd_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

void xd_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	salen = offsetof(struct sockaddr_un, sun_path) + len;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, salen) < 0)
		xd_log(XD_DEBUG, "notify: %s", strerror(errno));
	close(fd);
}

/* sd_listen_fds(3): fds from 3 on, if $LISTEN_PID is us. */
int xd_listen_fds(void)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	int n;

	if (!pid || !fds || atol(pid) != (long)getpid())
		return -1;
	n = atoi(fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n < 1)
		return -1;
	if (n > 1)
		xd_log(XD_WARN, "%d sockets passed, serving the first", n);
	fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

static int drop_bounding_set(void)
{
	int c;

	for (c = 0; cap_valid(c) || c <= 63; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0)
			continue;
		if (cap_drop_bound((cap_value_t)c))
			return -errno;
	}
	return 0;
}

/* "UID" or "UID:GID", for systems without a user database (a guest). */
static int parse_ids(const char *s, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char *end;

	errno = 0;
	u = strtoul(s, &end, 10);
	if (end == s || errno || u > 0xfffffffeUL)
		return -EINVAL;
	g = u;
	if (*end == ':') {
		s = end + 1;
		g = strtoul(s, &end, 10);
		if (end == s || errno || g > 0xfffffffeUL)
			return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

int xd_drop_privileges(const char *user)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;
	cap_t caps;
	int ret;

	if (geteuid() != 0) {
		xd_log(XD_NOTICE, "not root: keeping uid %u", geteuid());
		goto out_nnp;
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else if (parse_ids(user, &uid, &gid)) {
		xd_log(XD_ERR, "user %s: %s", user,
		       errno ? strerror(errno) : "no such user");
		return -ENOENT;
	}
	if (uid == 0) {
		xd_log(XD_ERR, "user %s is root: refusing to run as root", user);
		return -EPERM;
	}
	/* Needs CAP_SETPCAP: before the uid changes. */
	ret = drop_bounding_set();
	if (ret) {
		xd_log(XD_ERR, "dropping the bounding set: %s", strerror(-ret));
		return ret;
	}
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		ret = -errno;
		xd_log(XD_ERR, "becoming %s: %s", user, strerror(errno));
		return ret;
	}
	/* setresuid() cleared the sets already; make sure of it. */
	caps = cap_init();
	if (!caps || cap_set_proc(caps)) {
		ret = -errno;
		cap_free(caps);
		xd_log(XD_ERR, "clearing capabilities: %s", strerror(-ret));
		return ret;
	}
	cap_free(caps);
	if (cap_reset_ambient()) {
		ret = -errno;
		xd_log(XD_ERR, "clearing ambient capabilities: %s",
		       strerror(-ret));
		return ret;
	}
	if (setuid(0) == 0) {
		xd_log(XD_ERR, "could become root again: refusing to run");
		return -EPERM;
	}
out_nnp:
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}
