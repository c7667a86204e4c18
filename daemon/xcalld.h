/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcalld internals: the policy (policy.c), logging, systemd notification
 * and privilege handling (util.c), and the io_uring event loop (loop.c;
 * its parts share loop.h).
 */
#ifndef XCALLD_H
#define XCALLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libxcall.h"

/* The structure of type @type whose member @member is at @ptr. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- policy (xcalld.conf(5)) ------------------------------------------ */

#define XD_MAX_GROUPS	64

/* Who is asking: from SO_PEERCRED and SO_PEERGROUPS. */
struct xd_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[XD_MAX_GROUPS];
};

/* Limits of one uid, over all its connections; 0 means unlimited for @rate. */
struct xd_limits {
	unsigned int rate;	/* calls per second */
	unsigned int burst;	/* calls above the rate at once */
	unsigned int inflight;	/* calls running at once */
	unsigned int conns;	/* connections at once */
};

struct xd_policy;

/*
 * Parse policy @text; @name is used in messages. On failure returns -errno
 * and writes "NAME:LINE: why" to @err. Unknown user and group names are not
 * errors (the rule matches nobody); they are reported through @warn, which
 * may be NULL.
 */
int xd_policy_parse(const char *text, const char *name,
		    struct xd_policy **out, char *err, size_t errlen,
		    void (*warn)(const char *msg));
/* Read and parse @path; -ENOENT if it does not exist. */
int xd_policy_load(const char *path, struct xd_policy **out,
		   char *err, size_t errlen, void (*warn)(const char *msg));
void xd_policy_free(struct xd_policy *p);
/* The built-in policy, the same text as the shipped xcalld.conf. */
extern const char xd_policy_default[];

/* 0 if @c may run @fn on every CPU of @cpuset, else -EPERM. */
int xd_policy_check(const struct xd_policy *p, const struct xd_cred *c,
		    unsigned int fn, const uint8_t *cpuset, size_t size);
void xd_policy_limits(const struct xd_policy *p, const struct xd_cred *c,
		      struct xd_limits *out);
unsigned int xd_policy_rules(const struct xd_policy *p);

/* ---- logging, systemd, privileges (util.c) ---------------------------- */

enum { XD_ERR = 3, XD_WARN = 4, XD_NOTICE = 5, XD_INFO = 6, XD_DEBUG = 7 };

extern int xd_verbose;
void xd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A line a client can make the daemon repeat: at most XD_LOG_BURST of one
 * call site every XD_LOG_INTERVAL_S seconds. The lines left out are
 * counted and said in one line, "WHAT: suppressed N lines", when the site
 * logs again after its interval, on the loop's next tick after it, or when
 * xcalld stops. One static state per call site:
 *
 *	static struct xd_ratelimit rl = { .what = "refused clients" };
 *	xd_log_ratelimited(&rl, XD_WARN, "...", ...);
 */
#define XD_LOG_BURST		10
#define XD_LOG_INTERVAL_S	5

struct xd_ratelimit {
	const char *what;
	uint64_t start_ns;		/* of this interval; 0: none yet */
	unsigned int printed, suppressed;
	int level;			/* of the lines left out */
	bool listed;
	struct xd_ratelimit *next;	/* while it has some to say */
};

void xd_log_ratelimited(struct xd_ratelimit *rl, int level,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Say what was left out: of intervals that ended, or @all. */
void xd_log_flush_suppressed(bool all);
/* Send @msg to $NOTIFY_SOCKET if set; never blocks. */
void xd_notify(const char *msg);
/* Listening sockets passed by systemd: the first one, or -1. */
int xd_listen_fds(void);
uint64_t xd_now_ns(void);
/*
 * Raise the soft RLIMIT_NOFILE to the hard one: one descriptor per client,
 * XD_OWN_FDS more for the daemon's own. Returns the soft limit now.
 */
unsigned long xd_raise_nofile(void);
#define XD_OWN_FDS	32
/*
 * Become @user (and its primary group, no supplementary groups) keeping no
 * capability in any set, bounding set included, and set no_new_privs.
 */
int xd_drop_privileges(const char *user);

/* ---- the loop (loop.c) ------------------------------------------------- */

struct xd_config {
	const char *socket_path;
	const char *device_path;
	const char *policy_path;
	const char *user;		/* NULL: do not change user */
	enum xcall_backend backend;	/* AUTO, THREADS or KMOD */
	unsigned int max_clients;
	unsigned int send_timeout_ms;	/* a client not reading is dropped */
	const char *isolated;		/* CPU list isolated too, or NULL */
};

int xd_run(const struct xd_config *cfg);

#endif /* XCALLD_H */
