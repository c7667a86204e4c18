// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for backends and calls (lib/xcall.c, lib/backend_threads.c,
 * lib/fns.c) on the threads backend: backend names and selection, every
 * bad request refused with the errno xcall.h documents, each function's
 * record on every online CPU, the timeout against a spinning worker, and
 * no-wait calls. Expectations come from sysfs, never a CPU count.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "libxcall.h"
#include "conformance.h"

#define NCPUS		8192
#define SETSIZE		CPU_ALLOC_SIZE(NCPUS)
/* Calls that must succeed: a loaded machine must not fail them. */
#define TMO		30000

static struct xcall *x;
static cpu_set_t *online, *possible, *set;
static unsigned int nonline;
static struct xcall_result *res;

static void setup(void)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_THREADS };

	online = CPU_ALLOC(NCPUS);
	possible = CPU_ALLOC(NCPUS);
	set = CPU_ALLOC(NCPUS);
	ck_assert_int_eq(xcall_cpus_online(online, SETSIZE), 0);
	ck_assert_int_eq(xcall_cpus_possible(possible, SETSIZE), 0);
	nonline = CPU_COUNT_S(SETSIZE, online);
	res = calloc(nonline + 1, sizeof(*res));
	ck_assert_int_eq(xcall_open(&x, &o), 0);
	ck_assert_int_eq(xcall_backend_of(x), XCALL_BACKEND_THREADS);
}

static void teardown(void)
{
	xcall_close(x);
	free(res);
	CPU_FREE(set);
	CPU_FREE(possible);
	CPU_FREE(online);
}

/* ------------------------------------------------------------------------
 * Backend names and selection.
 */

START_TEST(test_backend_names)
{
	enum xcall_backend b;
	unsigned int i;

	for (i = XCALL_BACKEND_AUTO; i <= XCALL_BACKEND_DAEMON; i++) {
		ck_assert_ptr_nonnull(xcall_backend_name(i));
		ck_assert_int_eq(xcall_backend_parse(xcall_backend_name(i),
						     &b), 0);
		ck_assert_int_eq(b, i);
	}
	ck_assert_str_eq(xcall_backend_name(XCALL_BACKEND_THREADS),
			 "threads");
	ck_assert_ptr_null(xcall_backend_name(XCALL_BACKEND_DAEMON + 1));
	ck_assert_int_eq(xcall_backend_parse("Threads", &b), -EINVAL);
	ck_assert_int_eq(xcall_backend_parse("", &b), -EINVAL);
	ck_assert_int_eq(xcall_backend_parse(NULL, &b), -EINVAL);
	ck_assert_int_eq(xcall_backend_parse("threads", NULL), -EINVAL);
}
END_TEST

START_TEST(test_env_backend)
{
	struct xcall *y = NULL;

	setenv("XCALL_BACKEND", "threads", 1);
	ck_assert_int_eq(xcall_open(&y, NULL), 0);
	ck_assert_int_eq(xcall_backend_of(y), XCALL_BACKEND_THREADS);
	xcall_close(y);
	setenv("XCALL_BACKEND", "nonsense", 1);
	ck_assert_int_eq(xcall_open(&y, NULL), -EINVAL);
	unsetenv("XCALL_BACKEND");
}
END_TEST

START_TEST(test_kmod_missing_device)
{
	struct xcall_opts o = {
		.backend = XCALL_BACKEND_KMOD,
		.device_path = "/nonexistent/xcall",
	};
	struct xcall *y = NULL;

	ck_assert_int_eq(xcall_open(&y, &o), -ENOENT);
	/* A file that is not the device: the INFO ioctl is refused. */
	o.device_path = "/dev/null";
	ck_assert_int_eq(xcall_open(&y, &o), -ENOTTY);
}
END_TEST

START_TEST(test_auto_falls_through)
{
	struct xcall_opts o = {
		.device_path = "/nonexistent/xcall",
		.socket_path = "/nonexistent/xcalld.sock",
	};
	struct xcall *y = NULL;

	unsetenv("XCALL_BACKEND");
	ck_assert_int_eq(xcall_open(&y, &o), 0);
	ck_assert_int_eq(xcall_backend_of(y), XCALL_BACKEND_THREADS);
	xcall_close(y);
}
END_TEST

START_TEST(test_open_bad)
{
	struct xcall_opts o = { .backend = 99 };
	struct xcall *y = NULL;

	ck_assert_int_eq(xcall_open(NULL, NULL), -EINVAL);
	ck_assert_int_eq(xcall_open(&y, &o), -EINVAL);
	xcall_close(NULL);
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad requests: nothing runs, the documented errno comes back.
 */

static int run1(unsigned int fn, unsigned int nargs, uint64_t a0,
		uint64_t a1, unsigned int timeout, const char *cpus)
{
	struct xcall_req req = {
		.fn = fn, .nargs = nargs, .args = { a0, a1 },
		.timeout_ms = timeout,
	};

	ck_assert_int_eq(xcall_cpulist_parse(cpus, set, SETSIZE), 0);
	return xcall_run(x, &req, set, SETSIZE, res, nonline + 1);
}

START_TEST(test_bad_fn)
{
	ck_assert_int_eq(run1(XCALL_FN_COUNT, 0, 0, 0, 0, "0"), -EBADRQC);
	ck_assert_int_eq(run1(~0U, 0, 0, 0, 0, "0"), -EBADRQC);
}
END_TEST

START_TEST(test_bad_nargs)
{
	ck_assert_int_eq(run1(XCALL_FN_PING, 1, 0, 0, 0, "0"), -EINVAL);
	ck_assert_int_eq(run1(XCALL_FN_SPIN, 0, 0, 0, 0, "0"), -EINVAL);
	ck_assert_int_eq(run1(XCALL_FN_SPIN, 2, 1, 1, 0, "0"), -EINVAL);
	ck_assert_int_eq(run1(XCALL_FN_IDENT, 3, 0, 0, 0, "0"), -EINVAL);
	ck_assert_int_eq(run1(XCALL_FN_IDENT, XCALL_MAX_ARGS + 1, 0, 0, 0,
			      "0"), -EINVAL);
}
END_TEST

START_TEST(test_bad_flags)
{
	struct xcall_req req = { .fn = XCALL_FN_PING, .flags = 1U << 31 };

	ck_assert_int_eq(xcall_cpulist_parse("0", set, SETSIZE), 0);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), -EINVAL);
	/* spin is never NOWAIT, on any backend: its caller waits for it. */
	req.fn = XCALL_FN_SPIN;
	req.nargs = 1;
	req.args[0] = 1;
	req.flags = XCALL_CALL_NOWAIT;
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, NULL, 0), -EINVAL);
	req.flags = 0;
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), 1);
}
END_TEST

START_TEST(test_bad_range)
{
	ck_assert_int_eq(run1(XCALL_FN_SPIN, 1, 0, 0, 0, "0"), -ERANGE);
	ck_assert_int_eq(run1(XCALL_FN_SPIN, 1, XCALL_SPIN_MAX_US + 1, 0, 0,
			      "0"), -ERANGE);
	ck_assert_int_eq(run1(XCALL_FN_IDENT, 1, 1ULL << 32, 0, 0, "0"),
			 -ERANGE);
	ck_assert_int_eq(run1(XCALL_FN_PING, 0, 0, 0,
			      XCALL_MAX_TIMEOUT_MS + 1, "0"), -ERANGE);
}
END_TEST

START_TEST(test_not_on_backend)
{
	ck_assert_int_eq(run1(XCALL_FN_WHERE, 0, 0, 0, 0, "0"), -EOPNOTSUPP);
}
END_TEST

/*
 * msr: the module's alone, and on x86 alone. Its addresses are checked
 * like any argument (ERANGE over 32 bits), then against the allowlist
 * (EPERM, whoever asks), before the backend is; the threads backend cannot
 * read an MSR at all (EOPNOTSUPP). Off x86 it is on no backend: EOPNOTSUPP
 * before anything else about it.
 */
START_TEST(test_msr_refused)
{
	struct xcall_req req = { .fn = XCALL_FN_MSR, .nargs = 2,
				 .args = { 0x10, 0xe8 } };
#if defined(__x86_64__) || defined(__i386__)
	int on_arch = 1;
#else
	int on_arch = 0;
#endif
	int other = on_arch ? 0 : -EOPNOTSUPP;

	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_THREADS),
			 -EOPNOTSUPP);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD), other);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_DAEMON), other);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_AUTO), other);
	ck_assert_int_eq(run1(XCALL_FN_MSR, 1, 0x10, 0, 0, "0"), -EOPNOTSUPP);
	/* Off the allowlist: IA32_APIC_BASE, EFER, 0. */
	req.args[1] = 0x1b;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD),
			 on_arch ? -EPERM : -EOPNOTSUPP);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_THREADS),
			 on_arch ? -EPERM : -EOPNOTSUPP);
	req.args[1] = 0xc0000080;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD),
			 on_arch ? -EPERM : -EOPNOTSUPP);
	req.args[0] = 0;
	req.args[1] = 0x10;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD),
			 on_arch ? -EPERM : -EOPNOTSUPP);
	/* Over 32 bits: out of range, before the allowlist. */
	req.args[1] = 0x10 + (1ULL << 32);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD),
			 on_arch ? -ERANGE : -EOPNOTSUPP);
	/* One to XCALL_MSR_MAX addresses. */
	req.args[0] = req.args[1] = 0x10;
	req.nargs = 0;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD),
			 on_arch ? -EINVAL : -EOPNOTSUPP);
	req.nargs = XCALL_MSR_MAX + 1;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD),
			 on_arch ? -EINVAL : -EOPNOTSUPP);
	/* The allowlist before the timeout, as the module has it. */
	req.nargs = 1;
	req.args[0] = 0x1b;
	req.timeout_ms = XCALL_MAX_TIMEOUT_MS + 1;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD),
			 on_arch ? -EPERM : -EOPNOTSUPP);
}
END_TEST

/* The validator on its own: the same answers, per backend, without I/O. */
START_TEST(test_req_check)
{
	struct xcall_req req = { .fn = XCALL_FN_WHERE };

	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_THREADS),
			 -EOPNOTSUPP);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_KMOD), 0);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_DAEMON), 0);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_AUTO), 0);
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_DAEMON + 1),
			 -EINVAL);
	ck_assert_int_eq(xcall_req_check(NULL, XCALL_BACKEND_AUTO), -EINVAL);
	/* Its order: the function before anything else about it. */
	req.fn = XCALL_FN_COUNT;
	req.nargs = XCALL_MAX_ARGS + 1;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_AUTO), -EBADRQC);
	req.fn = XCALL_FN_SPIN;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_AUTO), -EINVAL);
	req.nargs = 1;
	req.timeout_ms = XCALL_MAX_TIMEOUT_MS + 1;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_AUTO), -ERANGE);
	req.args[0] = 1;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_AUTO), -ERANGE);
	req.timeout_ms = 0;
	ck_assert_int_eq(xcall_req_check(&req, XCALL_BACKEND_THREADS), 0);
}
END_TEST

START_TEST(test_empty_set)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };

	CPU_ZERO_S(SETSIZE, set);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1),
			 -EDESTADDRREQ);
}
END_TEST

/* The first CPU number that does not exist, if the set can hold it. */
static int absent_cpu(void)
{
	int c;

	for (c = 0; c < NCPUS; c++)
		if (!CPU_ISSET_S(c, SETSIZE, possible))
			return c;
	return -1;
}

START_TEST(test_no_such_cpu)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };
	int c = absent_cpu();

	ck_assert_int_ge(c, 0);
	CPU_ZERO_S(SETSIZE, set);
	CPU_SET_S(c, SETSIZE, set);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), -ENODEV);
	/* With online CPUs beside it, still refused as a whole. */
	CPU_OR_S(SETSIZE, set, set, online);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, nonline + 1),
			 -ENODEV);
}
END_TEST

START_TEST(test_cpu_beyond_our_size)
{
	/* A caller's set larger than 8192 CPUs, with a CPU past them. */
	size_t big = CPU_ALLOC_SIZE(NCPUS * 2);
	cpu_set_t *s = CPU_ALLOC(NCPUS * 2);
	struct xcall_req req = { .fn = XCALL_FN_PING };

	CPU_ZERO_S(big, s);
	CPU_SET_S(NCPUS + 5, big, s);
	ck_assert_int_eq(xcall_run(x, &req, s, big, res, 1), -ENODEV);
	CPU_FREE(s);
}
END_TEST

/* A caller's set that is not whole words (4 bytes) is read whole. */
START_TEST(test_partial_word_set)
{
	struct xcall_req req = { .fn = XCALL_FN_PING, .timeout_ms = TMO };
	unsigned char small[4] = { 0 };
	int c;

	for (c = 0; c < 32 && !CPU_ISSET_S(c, SETSIZE, online); c++)
		;
	ck_assert_int_lt(c, 32);
	small[c / 8] = 1 << (c % 8);
	ck_assert_int_eq(xcall_run(x, &req, (cpu_set_t *)small, sizeof(small),
				   res, 1), 1);
	ck_assert_uint_eq(res[0].cpu, c);
	ck_assert_int_eq(res[0].error, 0);
	ck_assert_int_eq(xcall_run(x, &req, (cpu_set_t *)small, sizeof(small),
				   res, 0), -EMSGSIZE);
}
END_TEST

START_TEST(test_results_too_small)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };

	ck_assert_int_eq(xcall_run(x, &req, online, SETSIZE, res,
				   nonline - 1), -EMSGSIZE);
	ck_assert_int_eq(xcall_run(x, &req, online, SETSIZE, NULL, nonline),
			 -EMSGSIZE);
}
END_TEST

START_TEST(test_bad_handle)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };

	ck_assert_int_eq(xcall_run(NULL, &req, online, SETSIZE, res, nonline),
			 -EINVAL);
	ck_assert_int_eq(xcall_run(x, NULL, online, SETSIZE, res, nonline),
			 -EINVAL);
	ck_assert_int_eq(xcall_run(x, &req, NULL, SETSIZE, res, nonline),
			 -EINVAL);
}
END_TEST

/*
 * xcall_run_online() judges the CPUs against the set it is given, not
 * sysfs: an online CPU left out of that set is refused as offline, and
 * every other check is xcall_run()'s.
 */
START_TEST(test_run_online)
{
	struct xcall_req req = { .fn = XCALL_FN_PING, .timeout_ms = TMO };
	cpu_set_t *fake = CPU_ALLOC(NCPUS);
	int c;

	ck_assert_int_eq(xcall_run_online(x, &req, online, SETSIZE, online,
					  res, nonline), (int)nonline);
	ck_assert_int_eq(res[0].error, 0);
	ck_assert_int_eq(xcall_run_online(x, &req, online, SETSIZE, NULL,
					  res, nonline), -EINVAL);
	/* The first online CPU, said to be offline. */
	CPU_ZERO_S(SETSIZE, set);
	for (c = 0; !CPU_ISSET_S(c, SETSIZE, online); c++)
		;
	CPU_SET_S(c, SETSIZE, set);
	CPU_XOR_S(SETSIZE, fake, online, set);
	ck_assert_int_eq(xcall_run_online(x, &req, set, SETSIZE, fake, res, 1),
			 -ENXIO);
	ck_assert_int_eq(xcall_run_online(x, &req, set, SETSIZE, online, res,
					  0), -EMSGSIZE);
	req.fn = 1000;
	ck_assert_int_eq(xcall_run_online(x, &req, set, SETSIZE, online, res,
					  1), -EBADRQC);
	CPU_FREE(fake);
}
END_TEST

START_TEST(test_strerror)
{
	static const int known[] = {
		EBADRQC, EINVAL, ERANGE, EDESTADDRREQ, ENODEV, ENXIO,
		EOPNOTSUPP, EPERM, EMSGSIZE, ETIMEDOUT, EIO,
	};
	unsigned int i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		ck_assert_ptr_nonnull(xcall_strerror(-known[i]));
		ck_assert_str_eq(xcall_strerror(-known[i]),
				 xcall_strerror(known[i]));
	}
	ck_assert_ptr_null(xcall_strerror(0));
	ck_assert_ptr_null(xcall_strerror(-EISDIR));
}
END_TEST

/* ------------------------------------------------------------------------
 * Good requests: one record per online CPU, ascending, each right.
 */

static void check_records(unsigned int fn, int n)
{
	int i = 0, c;

	ck_assert_int_eq(n, nonline);
	for (c = 0; c < NCPUS; c++) {
		if (!CPU_ISSET_S(c, SETSIZE, online))
			continue;
		ck_assert_uint_eq(res[i].cpu, c);
		ck_assert_uint_eq(res[i].fn, fn);
		ck_assert_int_eq(res[i].error, 0);
		ck_assert_int_eq(res[i].node, xcall_cpu_node(c));
		ck_assert_uint_gt(res[i].mono_ns, 0);
		ck_assert_uint_eq(res[i].ctx, XCALL_CTX_NONE);
		i++;
	}
}

START_TEST(test_each_fn)
{
	static const unsigned int fns[] = {
		XCALL_FN_PING, XCALL_FN_PROBE, XCALL_FN_CLOCK, XCALL_FN_IDENT,
	};
	struct xcall_req req = { .fn = fns[_i], .timeout_ms = TMO };

	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
}
END_TEST

START_TEST(test_probe_hwids_distinct)
{
	struct xcall_req req = { .fn = XCALL_FN_PROBE, .timeout_ms = TMO };
	unsigned int i, j;

	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
	for (i = 0; i < nonline; i++)
		for (j = 0; j < i; j++)
			if (res[i].hwid != UINT64_MAX)
				ck_assert_uint_ne(res[i].hwid, res[j].hwid);
}
END_TEST

#if defined(__x86_64__)
START_TEST(test_ident_x86)
{
	struct xcall_req req = { .fn = XCALL_FN_IDENT, .nargs = 2,
				 .args = { 0, 0 }, .timeout_ms = TMO };
	unsigned int i;

	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
	for (i = 0; i < nonline; i++) {
		/* Leaf 0: max leaf in EAX, the vendor in EBX EDX ECX. */
		ck_assert_uint_gt(res[i].val[0], 0);
		ck_assert_uint_ne(res[i].val[1], 0);
		ck_assert_uint_eq(res[i].val[4], 0);
		ck_assert_uint_eq(res[i].val[5], 0);
		ck_assert_uint_eq(res[i].val[1], res[0].val[1]);
	}
	/* Leaf 1 without a subleaf: EBX[31:24] is the initial APIC id. */
	req.nargs = 1;
	req.args[0] = 1;
	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
	ck_assert_uint_eq(res[0].val[4], 1);
}
END_TEST
#endif

START_TEST(test_spin)
{
	struct xcall_req req = { .fn = XCALL_FN_SPIN, .nargs = 1,
				 .args = { 200 }, .timeout_ms = TMO };
	unsigned int i;

	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
	for (i = 0; i < nonline; i++) {
		ck_assert_uint_eq(res[i].val[1], 200);
		ck_assert_uint_ge(res[i].val[0], 200 * 1000);
	}
}
END_TEST

START_TEST(test_one_cpu)
{
	struct xcall_req req = { .fn = XCALL_FN_PING, .timeout_ms = TMO };
	int c = sched_getcpu();

	CPU_ZERO_S(SETSIZE, set);
	CPU_SET_S(c, SETSIZE, set);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), 1);
	ck_assert_uint_eq(res[0].cpu, c);
	ck_assert_int_eq(res[0].error, 0);
}
END_TEST

/*
 * Timeout: a worker busy for 100 ms cannot answer within 1 ms. The record
 * says -ETIMEDOUT; the late completion then lands in memory the library
 * still owns (ASan would see it otherwise), and the next run works.
 */
START_TEST(test_timeout)
{
	struct xcall_req req = { .fn = XCALL_FN_SPIN, .nargs = 1,
				 .args = { XCALL_SPIN_MAX_US },
				 .timeout_ms = 1 };
	unsigned int i;

	ck_assert_int_eq(xcall_run(x, &req, online, SETSIZE, res, nonline),
			 nonline);
	for (i = 0; i < nonline; i++)
		ck_assert_int_eq(res[i].error, -ETIMEDOUT);
	req.fn = XCALL_FN_PING;
	req.nargs = 0;
	req.timeout_ms = TMO;
	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
}
END_TEST

/* Closing with timed-out calls in flight drains them, then frees. */
START_TEST(test_close_with_late_calls)
{
	struct xcall_req req = { .fn = XCALL_FN_SPIN, .nargs = 1,
				 .args = { 20000 }, .timeout_ms = 1 };

	ck_assert_int_eq(xcall_run(x, &req, online, SETSIZE, res, nonline),
			 nonline);
	/* The fixture's handle is the last: closing destroys the pool. */
	teardown();
	/* A new handle makes a new pool (the fixture's teardown frees it). */
	setup();
	req.fn = XCALL_FN_PING;
	req.nargs = 0;
	req.timeout_ms = TMO;
	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
}
END_TEST

START_TEST(test_nowait)
{
	struct xcall_req req = { .fn = XCALL_FN_PING,
				 .flags = XCALL_CALL_NOWAIT };
	int i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(xcall_run(x, &req, online, SETSIZE, NULL, 0),
				 nonline);
}
END_TEST

/* Two handles share the pool; closing one leaves the other working. */
START_TEST(test_two_handles)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_THREADS };
	struct xcall_req req = { .fn = XCALL_FN_PING, .timeout_ms = TMO };
	struct xcall *y = NULL;

	ck_assert_int_eq(xcall_open(&y, &o), 0);
	ck_assert_int_eq(xcall_run(y, &req, online, SETSIZE, res, nonline),
			 nonline);
	xcall_close(y);
	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
}
END_TEST

/* The threads of this process, from /proc/self/task. */
static int nthreads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * The first run makes workers for its own CPUs only (`xcall run --cpu 1`
 * starts one thread, not one per CPU); a run to a CPU that pool lacks
 * makes one of every online CPU, while a call late in the first pool
 * still runs there (the fixture's close drains and frees both).
 */
START_TEST(test_pool_grows)
{
	struct xcall_req req = { .fn = XCALL_FN_SPIN, .nargs = 1,
				 .args = { 20000 }, .timeout_ms = 1 };
	int c, last = -1, t0 = nthreads();

	if (nonline < 2)
		xt_skip_env("one CPU online: no pool to grow");
	for (c = 0; c < NCPUS; c++)
		if (CPU_ISSET_S(c, SETSIZE, online))
			last = c;
	CPU_ZERO_S(SETSIZE, set);
	CPU_SET_S(last, SETSIZE, set);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), 1);
	ck_assert_int_eq(res[0].error, -ETIMEDOUT);
	ck_assert_int_eq(nthreads(), t0 + 1);
	req.fn = XCALL_FN_PING;
	req.nargs = 0;
	req.timeout_ms = TMO;
	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
	ck_assert_int_eq(nthreads(), t0 + 1 + nonline);
	/* The full pool serves every run from now on: no third pool. */
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), 1);
	ck_assert_int_eq(res[0].error, 0);
	ck_assert_int_eq(nthreads(), t0 + 1 + nonline);
}
END_TEST

/*
 * A thread pinned to the one CPU it calls runs the function itself: no
 * worker starts, the record is the worker's. spin still goes to a worker
 * (its timeout needs one), and so does a call to another CPU.
 */
START_TEST(test_run_here)
{
	struct xcall_req req = { .fn = XCALL_FN_PROBE, .timeout_ms = TMO };
	int c, first = -1, last = -1, t0 = nthreads();

	for (c = 0; c < NCPUS; c++)
		if (CPU_ISSET_S(c, SETSIZE, online)) {
			first = first < 0 ? c : first;
			last = c;
		}
	CPU_ZERO_S(SETSIZE, set);
	CPU_SET_S(last, SETSIZE, set);
	ck_assert_int_eq(sched_setaffinity(0, SETSIZE, set), 0);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), 1);
	ck_assert_int_eq(res[0].error, 0);
	ck_assert_uint_eq(res[0].cpu, last);
	ck_assert_uint_eq(res[0].fn, XCALL_FN_PROBE);
	ck_assert_int_eq(res[0].node, xcall_cpu_node(last));
	ck_assert_int_eq(nthreads(), t0);
	req.fn = XCALL_FN_SPIN;
	req.nargs = 1;
	req.args[0] = 1;
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), 1);
	ck_assert_int_eq(res[0].error, 0);
	ck_assert_int_eq(nthreads(), t0 + 1);
	if (nonline < 2)
		return;
	req.fn = XCALL_FN_PING;
	req.nargs = 0;
	CPU_CLR_S(last, SETSIZE, set);
	CPU_SET_S(first, SETSIZE, set);
	ck_assert_int_eq(xcall_run(x, &req, set, SETSIZE, res, 1), 1);
	ck_assert_int_eq(res[0].error, 0);
	ck_assert_int_eq(nthreads(), t0 + 1 + nonline);
}
END_TEST

/* A child of fork() has no workers: it makes its own pool. */
#ifndef __SANITIZE_THREAD__	/* TSan cannot run threads after fork */
START_TEST(test_fork)
{
	struct xcall_req req = { .fn = XCALL_FN_PING, .timeout_ms = TMO };
	int status;
	pid_t pid;

	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int n = xcall_run(x, &req, online, SETSIZE, res, nonline);
		unsigned int i;

		for (i = 0; n == (int)nonline && i < nonline; i++)
			if (res[i].error)
				_exit(2);
		xcall_close(x);
		_exit(n == (int)nonline ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	check_records(req.fn, xcall_run(x, &req, online, SETSIZE, res,
					nonline));
}
END_TEST
#endif

/* ------------------------------------------------------------------------
 * The conformance table (tests/common/conformance.h), as every backend.
 */

START_TEST(test_conformance)
{
	struct xc_conf_call c;
	const struct xc_conf_case *k;
	int cpu;

	for (cpu = 0; !CPU_ISSET_S(cpu, SETSIZE, online); cpu++)
		;
	k = xc_conf_make(_i, cpu, &c);
	xc_conf_judge(k, &c, xc_conf_run_lib(x, &c), "threads");
}
END_TEST

static Suite *xcall_suite(void)
{
	Suite *s = suite_create("xcall");
	TCase *tc;

	tc = tcase_create("backends");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_backend_names);
	tcase_add_test(tc, test_env_backend);
	tcase_add_test(tc, test_kmod_missing_device);
	tcase_add_test(tc, test_auto_falls_through);
	tcase_add_test(tc, test_open_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bad_fn);
	tcase_add_test(tc, test_bad_nargs);
	tcase_add_test(tc, test_bad_flags);
	tcase_add_test(tc, test_bad_range);
	tcase_add_test(tc, test_not_on_backend);
	tcase_add_test(tc, test_req_check);
	tcase_add_test(tc, test_msr_refused);
	tcase_add_test(tc, test_empty_set);
	tcase_add_test(tc, test_no_such_cpu);
	tcase_add_test(tc, test_cpu_beyond_our_size);
	tcase_add_test(tc, test_results_too_small);
	tcase_add_test(tc, test_partial_word_set);
	tcase_add_test(tc, test_bad_handle);
	tcase_add_test(tc, test_run_online);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);

	tc = tcase_create("conformance");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_conformance, 0, XC_CONF_NCASES);
	suite_add_tcase(s, tc);

	tc = tcase_create("calls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_each_fn, 0, 4);
	tcase_add_test(tc, test_probe_hwids_distinct);
#if defined(__x86_64__)
	tcase_add_test(tc, test_ident_x86);
#endif
	tcase_add_test(tc, test_spin);
	tcase_add_test(tc, test_one_cpu);
	tcase_add_test(tc, test_nowait);
	tcase_add_test(tc, test_two_handles);
#ifndef __SANITIZE_THREAD__	/* TSan cannot run threads after fork */
	tcase_add_test(tc, test_fork);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_close_with_late_calls);
	tcase_add_test(tc, test_pool_grows);
	tcase_add_test(tc, test_run_here);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(xcall_suite)
