// SPDX-License-Identifier: GPL-2.0-only
/*
 * Isolated CPUs and what a call may tell of other users' tasks, through
 * the module and through xcalld over the module. Runs in the cell booted
 * with isolcpus=3 nohz_full=3 (scripts/vm/flavour.sh), as root:
 *
 *   - CPU 3 is isolated (else this cell proves nothing: FAIL);
 *   - an opener without CAP_SYS_ADMIN gets EPERM for a set that holds CPU
 *     3, and nothing runs; CPU 1 is served; an admin opener reaches CPU 3;
 *   - xcalld (kmod backend, built-in policy, uid 65534): a client of uid
 *     65534 gets EPERM on CPU 3 and is served on CPU 1, where root's busy
 *     task is "other" to it (never named); root is served on CPU 3 and
 *     sees its task on CPU 1.
 *
 * Static: linked with libxcall.a (daemon backend) and the ABI header.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "libxcall.h"

#define DEV	"/dev/xcall"
#define SOCK	"/tmp/xcalld-isolated.sock"
#define ISO	3

static int fails;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("cell_isolated: FAIL: " __VA_ARGS__);		\
		printf("\n");						\
		fails++;						\
	}								\
} while (0)

/* One call of @fn to the CPUs of @mask through @f: 0 or -errno. */
static int call(int f, unsigned int fn, uint64_t mask, struct xcall_result *r)
{
	struct xcall_call c = {
		.size = sizeof(c), .fn = fn, .cpuset_size = 8,
		.cpuset = (uintptr_t)&mask, .results = (uintptr_t)r,
		.nresults = 4,
	};

	return ioctl(f, XCALL_IOC_CALL, &c) ? -errno : 0;
}

static uint64_t calls_run(int f)
{
	struct xcall_info info = { .size = sizeof(info) };

	return ioctl(f, XCALL_IOC_INFO, &info) ? 0 : info.calls_run;
}

/* Through the daemon: xcall_run() of @fn on CPU @cpu. */
static int dcall(struct xcall *x, unsigned int fn, int cpu,
		 struct xcall_result *r)
{
	struct xcall_req req = { .fn = fn };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return xcall_run(x, &req, &set, sizeof(set), r, 1);
}

static atomic_int stop, tid;

/* Root's task, busy in user mode on CPU 1. */
static void *busy(void *arg)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(1, &set);
	sched_setaffinity(0, sizeof(set), &set);
	atomic_store(&tid, (int)syscall(SYS_gettid));
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		;
	return NULL;
}

static void drop_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	syscall(SYS_capset, &h, d);
}

/* The module, opened without CAP_SYS_ADMIN (in a child): exit code. */
static int module_unprivileged(void)
{
	struct xcall_result r[4];
	uint64_t before;
	int f;

	drop_caps();
	f = open(DEV, O_RDWR);
	if (f < 0)
		return 2;
	before = calls_run(f);
	if (call(f, XCALL_FN_PING, 1ULL << ISO, r) != -EPERM)
		return 3;
	if (call(f, XCALL_FN_PING, 1ULL << 1 | 1ULL << ISO, r) != -EPERM)
		return 4;
	if (calls_run(f) != before)
		return 5;	/* something ran */
	if (call(f, XCALL_FN_PING, 1ULL << 1, r) || r[0].error)
		return 6;
	return 0;
}

/* A client of uid 65534 of the daemon (in a child): exit code. */
static int daemon_nobody(void)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = SOCK };
	struct xcall_result r;
	struct xcall *x;
	int k, other = 0;

	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return 2;
	if (xcall_open(&x, &o))
		return 3;
	if (dcall(x, XCALL_FN_PING, ISO, &r) != -EPERM)
		return 4;
	if (dcall(x, XCALL_FN_PING, 1, &r) != 1 || r.error)
		return 5;
	for (k = 0; k < 100; k++) {
		if (dcall(x, XCALL_FN_PROBE, 1, &r) != 1 || r.error)
			return 6;
		if (r.ctx == XCALL_CTX_USER || r.ctx == XCALL_CTX_KERNEL)
			return 7;	/* root's task named */
		other += r.ctx == XCALL_CTX_OTHER && !r.pid;
	}
	xcall_close(x);
	return other ? 0 : 8;
}

static int child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (!pid)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static pid_t start_daemon(void)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = SOCK };
	struct xcall *x;
	pid_t pid;
	int i;

	unlink(SOCK);
	pid = fork();
	if (!pid) {
		execl("/xcall/bin/xcalld", "xcalld", "--socket", SOCK,
		      "--config", "/nonexistent", "--user", "65534",
		      "--backend", "kmod", (char *)NULL);
		_exit(127);
	}
	/* Ready once a client connects (no notify socket here). */
	for (i = 0; i < 100000; i++) {
		if (!xcall_open(&x, &o)) {
			xcall_close(x);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		sched_yield();
	}
	return -1;
}

int main(void)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = SOCK };
	struct xcall_result r[4];
	char iso[64] = "";
	struct xcall *x;
	pthread_t th;
	int f, k, ret, seen = 0, st;
	pid_t d;
	FILE *fp;

	fp = fopen("/sys/devices/system/cpu/isolated", "r");
	if (fp && !fgets(iso, sizeof(iso), fp))
		iso[0] = '\0';
	if (fp)
		fclose(fp);
	iso[strcspn(iso, "\n")] = '\0';
	if (strcmp(iso, "3")) {
		printf("cell_isolated: FAIL: isolated CPUs '%s', want 3 "
		       "(boot with isolcpus=3 nohz_full=3)\n", iso);
		return 1;
	}

	f = open(DEV, O_RDWR);
	CHECK(f >= 0, "open %s: %s", DEV, strerror(errno));
	CHECK(call(f, XCALL_FN_PING, 1ULL << ISO, r) == 0 && !r[0].error,
	      "root could not reach isolated CPU %d", ISO);
	ret = child(module_unprivileged);
	CHECK(ret == 0, "module, opener without CAP_SYS_ADMIN: step %d", ret);

	pthread_create(&th, NULL, busy, NULL);
	while (!atomic_load(&tid))
		sched_yield();
	d = start_daemon();
	CHECK(d > 0, "xcalld did not start");
	if (d > 0) {
		ret = child(daemon_nobody);
		CHECK(ret == 0, "xcalld, client uid 65534: step %d", ret);
		CHECK(!xcall_open(&x, &o), "root cannot reach xcalld");
		CHECK(dcall(x, XCALL_FN_PING, ISO, r) == 1 && !r[0].error,
		      "xcalld refused root on isolated CPU %d", ISO);
		for (k = 0; k < 100 && !seen; k++)
			seen = dcall(x, XCALL_FN_PROBE, 1, r) == 1 &&
			       r[0].ctx == XCALL_CTX_USER &&
			       r[0].pid == (uint32_t)atomic_load(&tid);
		CHECK(seen, "root never saw its own task through xcalld");
		xcall_close(x);
		kill(d, SIGTERM);
		CHECK(waitpid(d, &st, 0) == d && WIFEXITED(st) &&
		      !WEXITSTATUS(st), "xcalld did not stop cleanly");
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	printf("guest: isolated: cpu %d: %s\n", ISO,
	       fails ? "FAIL" : "EPERM for openers and clients without "
	       "privilege, served to root; other users' tasks not named, "
	       "through the module and xcalld");
	return fails ? 1 : 0;
}
