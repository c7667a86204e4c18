/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test harness for xcalld: start the daemon built in this tree on a socket
 * in a fresh temporary directory, know it is ready from its READY=1 on a
 * notification socket of our own (no sleeps), talk to it with the wire
 * codec, stop it and collect its exit status and log.
 */
#ifndef XCALLD_TEST_HARNESS_H
#define XCALLD_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libxcall.h"
#include "wire.h"

struct xd_test {
	pid_t pid;
	int notify_fd;
	char dir[64];
	char sock[128];
	char conf[128];
	char log[128];
};

/* The daemon under test: $XCALLD, else the build's daemon/xcalld. */
const char *xt_daemon_path(void);
/* User the daemon becomes: $XCALLD_TEST_USER, else xcalld as root, "-". */
const char *xt_daemon_user(void);

/*
 * Start xcalld (threads backend) with @policy as its file (NULL: no file,
 * the built-in policy) and @extra arguments (NULL-terminated, may be NULL).
 * Fails the test if it is not ready within 20 s.
 */
void xt_start(struct xd_test *t, const char *policy, const char *const *extra);
/* The same with RLIMIT_NOFILE, soft and hard, at @nofile (0: ours). */
void xt_start_nofile(struct xd_test *t, const char *policy,
		     const char *const *extra, unsigned int nofile);
/* SIGTERM, wait; returns the exit status (-1 if killed by a signal). */
int xt_stop(struct xd_test *t);
/* The same, keeping the directory and the log: xt_cleanup() after. */
int xt_stop_keep(struct xd_test *t);
/* Remove the temporary directory (after the daemon has gone). */
void xt_cleanup(struct xd_test *t);
/* Wait for a notification containing @what; false after @ms. */
bool xt_notify_wait(struct xd_test *t, const char *what, int ms);
/* Does the daemon's log contain @what? */
bool xt_log_has(struct xd_test *t, const char *what);
/* Lines of the daemon's log that contain @what. */
unsigned int xt_log_count(struct xd_test *t, const char *what);
/* Wait until the log contains @what; false if @ms pass with no write. */
bool xt_log_wait(struct xd_test *t, const char *what, int ms);
void xt_write_file(const char *path, const char *text);

/* A connected client socket, or -errno. */
int xt_connect(const char *path);
/* Send a CALL of @fn on the one CPU @cpu. */
int xt_send_call(int fd, uint64_t id, unsigned int fn, unsigned int nargs,
		 const uint64_t *args, int cpu, unsigned int timeout_ms);
/* The same with a whole request (flags and all), unchecked by libxcall. */
int xt_send_req(int fd, uint64_t id, const struct xcall_req *req, int cpu);
/* Receive one frame into @buf (XCALL_WIRE_MAX_FRAME); length or -errno. */
int xt_recv(int fd, void *buf, int timeout_ms);
/* Daemon status through @path. */
int xt_status(const char *path, struct xcall_wire_status *st,
	      uint64_t *fn_calls, unsigned int max_fns);

#endif
