// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest suite for msr (issue 10, section 4), as root with xcall.ko loaded.
 *
 * x86: the oracle is the kernel's own /dev/cpu/N/msr (msr.ko, which
 * guest.sh loads): every MSR of the allowlist, four to a call as a user
 * would ask, on every CPU at once, read by msr.ko on that CPU before and
 * after. A fixed MSR must read what msr.ko read both times; a counter must
 * lie between msr.ko's two reads (the TSC strictly); an MSR msr.ko cannot
 * read (EIO) must say EIO in its slot and fail the record with EIO, the
 * other slots of the record read all the same. An MSR off the allowlist
 * is EPERM for root too, though msr.ko reads it. Through xcalld over the
 * module, the policy grants msr to a group (`allow gid:N msr`): a member
 * reads, anyone else gets EPERM, and the allowlist still holds for the
 * member.
 *
 * Elsewhere (arm64, ppc64): msr is on no backend of the arch: the module
 * does not implement it (XCALL_IOC_INFO), and a call is EOPNOTSUPP from
 * the ioctl, the kmod backend and the catalogue alike.
 *
 * Static: linked with libxcall.a and libcheck.a.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "libxcall.h"

#define DEV		"/dev/xcall"
#define MAXCPU		64
#define XCALLD		"/xcall/bin/xcalld"
#define SOCK		"/tmp/xcalld-msr.sock"
#define CONF		"/tmp/xcalld-msr.conf"
/* Abstract: xcalld, uid 65534 by then, may send to it. */
#define NOTIFY		"@xcalld-msr-notify"
#define PERF_GID	4242	/* the group the policy grants msr to */

#if defined(__x86_64__) || defined(__i386__)
#define ON_X86		1
#else
#define ON_X86		0
#endif

static int ncpus;
static int cpus[MAXCPU];
static uint64_t allbits;

static void setup(void)
{
	cpu_set_t set;
	int c;

	ck_assert_int_eq(xcall_cpus_online(&set, sizeof(set)), 0);
	ncpus = 0;
	allbits = 0;
	for (c = 0; c < MAXCPU; c++)
		if (CPU_ISSET(c, &set)) {
			cpus[ncpus++] = c;
			allbits |= 1ULL << c;
		}
	ck_assert_int_ge(ncpus, 1);
}

/* /dev/xcall, opened by root: privilege is the opener's. */
static int dev_open(void)
{
	int f = open(DEV, O_RDWR | O_CLOEXEC);

	ck_assert_msg(f >= 0, "open %s: %s", DEV, strerror(errno));
	return f;
}

/*
 * msr of @n addresses on every online CPU through a new open file of
 * root's: 0 or -errno; @res per CPU.
 */
static int msr_call(const uint64_t *addr, unsigned int n,
		    struct xcall_result *res)
{
	uint64_t bits[1] = { allbits };
	struct xcall_call c = {
		.size = sizeof(c), .fn = XCALL_FN_MSR, .nargs = n,
		.cpuset_size = 8, .cpuset = (uintptr_t)bits,
		.results = (uintptr_t)res, .nresults = MAXCPU,
		.timeout_ms = 10000,
	};
	unsigned int i;

	int f = dev_open(), ret = 0;

	for (i = 0; i < n && i < XCALL_MAX_ARGS; i++)
		c.args[i] = addr[i];
	if (ioctl(f, XCALL_IOC_CALL, &c))
		ret = -errno;
	close(f);
	if (!ret)
		ck_assert_uint_eq(c.ncalled, ncpus);
	return ret;
}

#if ON_X86
static const struct {
	uint32_t addr;
	const char *name;
	int kind;
} allow[] = {
#define X(a, n, k) { a, #n, k },
	XCALL_MSR_ALLOWLIST(X)
#undef X
};

#define NALLOW	(sizeof(allow) / sizeof(allow[0]))

/* The oracle: msr.ko's read of @addr on @cpu, 0 or -errno. */
static int oracle(int cpu, uint32_t addr, uint64_t *v)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	f = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(f >= 0, "%s: %s (is msr.ko loaded?)", path,
		      strerror(errno));
	n = pread(f, v, sizeof(*v), addr);
	close(f);
	if (n < 0)
		return -errno;
	ck_assert_int_eq(n, sizeof(*v));
	return 0;
}

/* One line of what CPU 0 answered for allow[@j]. */
static void print_msr(unsigned int j, int err, uint64_t v)
{
	if (err) {
		printf("test_msr: %#010x %-28s cpu %d: EIO (msr.ko too)\n",
		       allow[j].addr, allow[j].name, cpus[0]);
		return;
	}
	printf("test_msr: %#010x %-28s cpu %d: 0x%016llx = msr.ko%s\n",
	       allow[j].addr, allow[j].name, cpus[0], (unsigned long long)v,
	       allow[j].kind == XCALL_MSR_COUNTER ?
	       " (counter, between its reads)" : "");
}

/*
 * Every allowlisted MSR, four to a call, against msr.ko on each CPU.
 * Prints what this CPU model implements: the table of the closing note.
 */
START_TEST(test_oracle)
{
	unsigned int nonzero = 0;
	static uint64_t before[MAXCPU][XCALL_MSR_MAX];
	static uint64_t after[MAXCPU][XCALL_MSR_MAX];
	static int eb[MAXCPU][XCALL_MSR_MAX], ea[MAXCPU][XCALL_MSR_MAX];
	struct xcall_result res[MAXCPU];
	unsigned int first, n, i, nread = 0, nfault = 0;
	uint64_t addr[XCALL_MSR_MAX];
	int k;

	for (first = 0; first < NALLOW; first += n) {
		n = NALLOW - first < XCALL_MSR_MAX ? NALLOW - first :
		    XCALL_MSR_MAX;
		for (i = 0; i < n; i++)
			addr[i] = allow[first + i].addr;
		for (k = 0; k < ncpus; k++)
			for (i = 0; i < n; i++)
				eb[k][i] = oracle(cpus[k], addr[i],
						  &before[k][i]);
		memset(res, 0xee, sizeof(res));
		ck_assert_int_eq(msr_call(addr, n, res), 0);
		for (k = 0; k < ncpus; k++)
			for (i = 0; i < n; i++)
				ea[k][i] = oracle(cpus[k], addr[i],
						  &after[k][i]);
		for (k = 0; k < ncpus; k++) {
			const struct xcall_result *r = &res[k];
			bool fault = false;

			ck_assert_uint_eq(r->cpu, cpus[k]);
			ck_assert_uint_eq(r->fn, XCALL_FN_MSR);
			for (i = 0; i < XCALL_MSR_MAX; i++) {
				uint64_t w = r->val[XCALL_MSR_MAX + i];
				const char *nm = allow[first + i].name;

				if (i >= n) {	/* unused slot: zero */
					ck_assert_uint_eq(w, 0);
					ck_assert_uint_eq(r->val[i], 0);
					continue;
				}
				ck_assert_uint_eq((uint32_t)w, addr[i]);
				/* msr.ko's two reads agree on faulting. */
				ck_assert_int_eq(eb[k][i], ea[k][i]);
				if (eb[k][i]) {
					ck_assert_int_eq(eb[k][i], -EIO);
					ck_assert_msg(w >> 32 == EIO,
						      "cpu %d %s: msr.ko EIO, "
						      "xcall %llu", cpus[k],
						      nm, (unsigned long long)
						      (w >> 32));
					ck_assert_uint_eq(r->val[i], 0);
					fault = true;
					continue;
				}
				ck_assert_msg(w >> 32 == 0, "cpu %d %s: "
					      "msr.ko read it, xcall says "
					      "errno %llu", cpus[k], nm,
					      (unsigned long long)(w >> 32));
				if (allow[first + i].kind ==
				    XCALL_MSR_COUNTER) {
					/* A 32-bit energy counter may wrap. */
					if (after[k][i] < before[k][i])
						continue;
					ck_assert_msg(before[k][i] <=
						      r->val[i] &&
						      r->val[i] <=
						      after[k][i],
						      "cpu %d %s: %#llx not in "
						      "[%#llx, %#llx]",
						      cpus[k], nm,
						      (unsigned long long)
						      r->val[i],
						      (unsigned long long)
						      before[k][i],
						      (unsigned long long)
						      after[k][i]);
				} else if (before[k][i] == after[k][i]) {
					ck_assert_msg(r->val[i] ==
						      before[k][i],
						      "cpu %d %s: xcall %#llx, "
						      "msr.ko %#llx", cpus[k],
						      nm, (unsigned long long)
						      r->val[i],
						      (unsigned long long)
						      before[k][i]);
				}
			}
			ck_assert_int_eq(r->error, fault ? -EIO : 0);
		}
		for (i = 0; i < n; i++) {
			nfault += !!eb[0][i];
			nread += !eb[0][i];
			nonzero += !eb[0][i] && res[0].val[i];
			print_msr(first + i, eb[0][i], res[0].val[i]);
		}
	}
	printf("test_msr: %u of %zu allowlisted MSRs read (%u not 0), %u "
	       "EIO, on %d CPUs, each as msr.ko read it\n", nread, NALLOW,
	       nonzero, nfault, ncpus);
	/*
	 * Not vacuous: some value is not 0 (qemu's TCG reads an MSR it does
	 * not implement as 0, the TSC's too, where hardware faults; the
	 * microcode revision, MISC_ENABLE and PERF_STATUS it has).
	 */
	ck_assert_uint_ge(nonzero, 1);
}
END_TEST

/*
 * Several addresses are read in one interrupt, in order: the TSC read
 * four times in one call never goes back from one slot to the next, and
 * lies between msr.ko's reads around the call, on every CPU; where the
 * TSC MSR counts (hardware: qemu's TCG reads it as 0), strictly so.
 */
START_TEST(test_one_round)
{
	static const uint64_t tsc4[] = { 0x10, 0x10, 0x10, 0x10 };
	struct xcall_result res[MAXCPU];
	uint64_t lo[MAXCPU], hi[MAXCPU];
	int k;
	unsigned int i;

	for (k = 0; k < ncpus; k++)
		ck_assert_int_eq(oracle(cpus[k], 0x10, &lo[k]), 0);
	ck_assert_int_eq(msr_call(tsc4, 4, res), 0);
	for (k = 0; k < ncpus; k++)
		ck_assert_int_eq(oracle(cpus[k], 0x10, &hi[k]), 0);
	for (k = 0; k < ncpus; k++) {
		bool counts = hi[k] != lo[k];

		ck_assert_int_eq(res[k].error, 0);
		ck_assert_uint_ge(res[k].val[0], lo[k] + counts);
		for (i = 1; i < 4; i++)
			ck_assert_uint_ge(res[k].val[i], res[k].val[i - 1]);
		ck_assert_uint_le(res[k].val[3] + counts, hi[k]);
	}
	printf("test_msr: TSC MSR read 4 times in one call on cpu %d: "
	       "%#llx..%#llx, msr.ko %#llx before, %#llx after\n", cpus[0],
	       (unsigned long long)res[0].val[0],
	       (unsigned long long)res[0].val[3], (unsigned long long)lo[0],
	       (unsigned long long)hi[0]);
}
END_TEST

/* Off the allowlist: EPERM, root or not, for MSRs that msr.ko reads. */
START_TEST(test_off_allowlist)
{
	static const uint64_t off[] = { 0x1b, 0xc0000080, 0x3a, 0 };
	struct xcall_opts o = { .backend = XCALL_BACKEND_KMOD };
	struct xcall_req req = { .fn = XCALL_FN_MSR, .nargs = 2,
				 .args = { 0x10 } };
	struct xcall_result res[MAXCPU];
	uint64_t v, two[2] = { 0x10 };
	struct xcall *x;
	cpu_set_t set;
	unsigned int i;

	/* IA32_APIC_BASE and EFER exist on every x86_64 CPU. */
	ck_assert_int_eq(oracle(cpus[0], 0x1b, &v), 0);
	ck_assert_int_eq(oracle(cpus[0], 0xc0000080, &v), 0);
	ck_assert_int_eq(xcall_open(&x, &o), 0);
	CPU_ZERO(&set);
	CPU_SET(cpus[0], &set);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		two[1] = off[i];
		ck_assert_int_eq(msr_call(two, 2, res), -EPERM);
		req.args[1] = off[i];
		ck_assert_int_eq(xcall_run(x, &req, &set, sizeof(set), res,
					   MAXCPU), -EPERM);
	}
	xcall_close(x);
}
END_TEST

/* ------------------------------------------------------------------
 * xcalld over the module: msr granted to a group by the policy.
 */

static pid_t daemon_pid;

/* Start xcalld on SOCK with @policy; ready when it says READY=1. */
static void daemon_start(const char *policy)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p;
	char buf[256];
	ssize_t n;
	int nfd, f;

	f = open(CONF, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(f, 0);
	ck_assert_int_eq(write(f, policy, strlen(policy)), strlen(policy));
	close(f);
	unlink(SOCK);
	memcpy(sa.sun_path, NOTIFY, strlen(NOTIFY));
	sa.sun_path[0] = '\0';
	nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(nfd, 0);
	ck_assert_int_eq(bind(nfd, (struct sockaddr *)&sa,
			      offsetof(struct sockaddr_un, sun_path) +
			      strlen(NOTIFY)), 0);
	daemon_pid = fork();
	ck_assert_int_ge(daemon_pid, 0);
	if (!daemon_pid) {
		setenv("NOTIFY_SOCKET", NOTIFY, 1);
		execl(XCALLD, "xcalld", "--socket", SOCK, "--config", CONF,
		      "--user", "65534", "--backend", "kmod", (char *)NULL);
		_exit(127);
	}
	p.fd = nfd;
	p.events = POLLIN;
	for (;;) {
		ck_assert_msg(poll(&p, 1, 60000) == 1,
			      "xcalld not ready in 60 s");
		n = recv(nfd, buf, sizeof(buf) - 1, 0);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		if (strstr(buf, "READY=1"))
			break;
	}
	close(nfd);
}

/* SIGTERM: the daemon's wait status, which must be a clean exit. */
static int daemon_stop(void)
{
	int st = -1;

	unlink(CONF);
	if (kill(daemon_pid, SIGTERM) || waitpid(daemon_pid, &st, 0) < 0)
		st = -errno;
	daemon_pid = 0;
	return st;
}

/* A test that failed with the daemon up leaves no daemon behind. */
static void daemon_teardown(void)
{
	if (daemon_pid > 0)
		daemon_stop();
}

/*
 * In a child that is uid 65534 with group @gid and no other: msr of
 * @a0 (and the TSC) on every CPU through the daemon. The exit status is
 * the errno of the call (0: it ran, and each record read both, in order).
 */
static int as_user(gid_t gid, uint64_t a0)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
					.socket_path = SOCK };
		struct xcall_req req = { .fn = XCALL_FN_MSR, .nargs = 2,
					 .args = { a0, 0x10 } };
		struct xcall_result res[MAXCPU];
		struct xcall *x;
		cpu_set_t set;
		int i, n;

		if (setgroups(0, NULL) || setgid(gid) || setuid(65534))
			_exit(100);
		if (xcall_open(&x, &o))
			_exit(101);
		if (xcall_cpus_online(&set, sizeof(set)))
			_exit(104);
		n = xcall_run(x, &req, &set, sizeof(set), res, MAXCPU);
		if (n < 0)
			_exit(-n);
		if (n != ncpus)
			_exit(102);
		for (i = 0; i < n; i++)
			if (res[i].error ||
			    res[i].val[XCALL_MSR_MAX] != a0 ||
			    res[i].val[XCALL_MSR_MAX + 1] != 0x10)
				_exit(103);
		xcall_close(x);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "client died: %#x", st);
	return WEXITSTATUS(st);
}

START_TEST(test_daemon_grant)
{
	char policy[128];

	if (access(XCALLD, X_OK))
		xt_skip_env("no %s in this guest", XCALLD);
	snprintf(policy, sizeof(policy),
		 "allow gid:%d msr\nallow * unprivileged\n", PERF_GID);
	daemon_start(policy);
	ck_assert_int_eq(as_user(PERF_GID, 0x8b), 0);
	ck_assert_int_eq(as_user(65534, 0x8b), EPERM);
	/* Granted msr, not the MSRs off the allowlist. */
	ck_assert_int_eq(as_user(PERF_GID, 0x1b), EPERM);
	ck_assert_int_eq(daemon_stop(), 0);
	/* Without the grant (the built-in policy), the group is nobody. */
	daemon_start("allow uid:0 *\nallow * unprivileged\n");
	ck_assert_int_eq(as_user(PERF_GID, 0x8b), EPERM);
	ck_assert_int_eq(daemon_stop(), 0);
}
END_TEST

#else	/* !ON_X86 */

/* ------------------------------------------------------------------
 * Off x86: msr is not there, for anyone, through anything.
 */

START_TEST(test_absent)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_KMOD };
	const struct xcall_fn_info *fi = xcall_fn_by_id(XCALL_FN_MSR);
	struct xcall_req req = { .fn = XCALL_FN_MSR, .nargs = 1,
				 .args = { 0x10 } };
	struct xcall_info info = { .size = sizeof(info) };
	struct xcall_result res[MAXCPU];
	uint64_t tsc = 0x10;
	struct xcall *x;
	cpu_set_t set;
	int fd = dev_open();

	ck_assert_int_eq(ioctl(fd, XCALL_IOC_INFO, &info), 0);
	close(fd);
	ck_assert_uint_eq(info.fn_mask & (1ULL << XCALL_FN_MSR), 0);
	ck_assert_uint_eq(fi->backends, 0);
	ck_assert_int_eq(msr_call(&tsc, 1, res), -EOPNOTSUPP);
	/* Before the arguments: none at all is EOPNOTSUPP too. */
	ck_assert_int_eq(msr_call(&tsc, 0, res), -EOPNOTSUPP);
	ck_assert_int_eq(xcall_open(&x, &o), 0);
	CPU_ZERO(&set);
	CPU_SET(cpus[0], &set);
	ck_assert_int_eq(xcall_run(x, &req, &set, sizeof(set), res, MAXCPU),
			 -EOPNOTSUPP);
	xcall_close(x);
}
END_TEST

#endif	/* !ON_X86 */

static Suite *msr_suite(void)
{
	Suite *s = suite_create("msr");
	TCase *tc = tcase_create("msr");

	tcase_add_checked_fixture(tc, setup, NULL);
#if ON_X86
	tcase_add_checked_fixture(tc, NULL, daemon_teardown);
#endif
	tcase_set_timeout(tc, 120);
	/* One arch or the other: what the module's build for it has. */
#if ON_X86
	tcase_add_test(tc, test_oracle);
	tcase_add_test(tc, test_one_round);
	tcase_add_test(tc, test_off_allowlist);
	tcase_add_test(tc, test_daemon_grant);
#else
	tcase_add_test(tc, test_absent);
#endif
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(msr_suite)
