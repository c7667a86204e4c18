/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcalld over the module in a guest, as guest.sh starts it: uid 65534 once
 * the device is open, the built-in policy (root may run everything), on a
 * socket of the caller's own. Ready when a client connects (no notify
 * socket here), at most 60 s; stopped with SIGTERM, which must end it
 * cleanly. No Check here: the tests' fixtures (xcalld.h) and the
 * benchmarks (bench_kmod.c) both start it with these.
 */
#ifndef XT_VM_XCALLD_SPAWN_H
#define XT_VM_XCALLD_SPAWN_H

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libxcall.h"

#define XT_XCALLD	"/xcall/bin/xcalld"

/*
 * Start xcalld on @sock, pinned to @cpu (-1: anywhere), and wait until a
 * client can connect: its pid, or -1 with what went wrong in @why.
 */
static inline pid_t xt_xcalld_spawn(const char *sock, int cpu,
				    const char **why)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = sock };
	struct xcall *x;
	cpu_set_t set;
	pid_t pid;
	int i;

	unlink(sock);
	pid = fork();
	if (pid < 0) {
		*why = "fork failed";
		return -1;
	}
	if (!pid) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (cpu >= 0 && sched_setaffinity(0, sizeof(set), &set))
			_exit(126);
		execl(XT_XCALLD, "xcalld", "--socket", sock, "--config",
		      "/nonexistent", "--user", "65534", "--backend", "kmod",
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 6000; i++) {		/* 60 s */
		if (!xcall_open(&x, &o)) {
			xcall_close(x);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) != 0) {
			*why = "xcalld exited at start";
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	*why = "xcalld did not start in 60 s";
	return -1;
}

/* SIGTERM to @pid: 0 if it then ended cleanly, else its wait status. */
static inline int xt_xcalld_term(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : st;
}

#endif /* XT_VM_XCALLD_SPAWN_H */
