/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcalld over the module for a guest test, as guest.sh starts it: uid
 * 65534 once the device is open, the built-in policy (root may run
 * everything), on a socket of the test's own. Ready when a client
 * connects (no notify socket here), at most 60 s; stopped with SIGTERM,
 * which must end it cleanly. For unchecked fixtures: one daemon per TCase.
 */
#ifndef XT_VM_XCALLD_H
#define XT_VM_XCALLD_H

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "libxcall.h"

#define XT_XCALLD	"/xcall/bin/xcalld"

static pid_t xt_xcalld_pid;

static inline void xt_xcalld_start(const char *sock)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = sock };
	struct xcall *x;
	int i;

	unlink(sock);
	xt_xcalld_pid = fork();
	ck_assert_int_ge(xt_xcalld_pid, 0);
	if (!xt_xcalld_pid) {
		execl(XT_XCALLD, "xcalld", "--socket", sock, "--config",
		      "/nonexistent", "--user", "65534", "--backend", "kmod",
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 6000; i++) {		/* 60 s */
		if (!xcall_open(&x, &o)) {
			xcall_close(x);
			return;
		}
		ck_assert_msg(waitpid(xt_xcalld_pid, NULL, WNOHANG) == 0,
			      "xcalld exited at start");
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("xcalld did not start in 60 s");
}

static inline void xt_xcalld_stop(void)
{
	int st;

	kill(xt_xcalld_pid, SIGTERM);
	ck_assert_int_eq(waitpid(xt_xcalld_pid, &st, 0), xt_xcalld_pid);
	ck_assert_msg(WIFEXITED(st) && !WEXITSTATUS(st),
		      "xcalld did not stop cleanly (status %#x)", st);
}

#endif /* XT_VM_XCALLD_H */
