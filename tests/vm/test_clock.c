// SPDX-License-Identifier: GPL-2.0-only
/*
 * Clock offsets in the guest, where the truth is known: every vCPU of a
 * qemu guest reads one emulated counter and one CLOCK_MONOTONIC, so each
 * CPU's true offset is 0, and every bound xcall_clock_offsets() gives must
 * contain it, through the module (IPIs), the threads backend and xcalld
 * over the module, from the first and from the last CPU. `xcall clock`
 * must then say "in step within ±B" for the counter and CLOCK_MONOTONIC,
 * and print B. The tables are printed for the console log.
 *
 * Static: linked with libxcall.a and libcheck.a.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "libxcall.h"
#include "xcalld.h"

#define XCALL	"/xcall/bin/xcall"
#define SOCK	"/tmp/xcalld-clock.sock"
#define SAMPLES	50

static cpu_set_t online;
static int first, last, nonline;

static void setup(void)
{
	int c;

	ck_assert_int_eq(xcall_cpus_online(&online, sizeof(online)), 0);
	nonline = CPU_COUNT(&online);
	first = -1;
	for (c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &online))
			continue;
		if (first < 0)
			first = c;
		last = c;
	}
}

static struct xcall *open_backend(enum xcall_backend b)
{
	struct xcall_opts o = { .backend = b, .socket_path = SOCK };
	struct xcall *x;
	int ret = xcall_open(&x, &o);

	ck_assert_msg(!ret, "open %s: %s", xcall_backend_name(b),
		      strerror(-ret));
	return x;
}

static uint64_t uabs(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/* Every bound of every CPU, from @ref, through @b, contains 0. */
static void offsets_contain_zero(enum xcall_backend b, int ref)
{
	struct xcall_clock_offset out[CPU_SETSIZE];
	struct xcall *x = open_backend(b);
	const char *bk = xcall_backend_name(b);
	int n, i;

	n = xcall_clock_offsets(x, &online, sizeof(online), ref, SAMPLES,
				out, CPU_SETSIZE);
	ck_assert_msg(n == nonline, "%s: %d records (%s), want %d", bk, n,
		      n < 0 ? strerror(-n) : "", nonline);
	for (i = 0; i < n; i++) {
		const struct xcall_clock_offset *o = &out[i];

		printf("test_clock: %s ref %d cpu %d: %s %+lld within %llu "
		       "ticks (%+lld within %llu ns), CLOCK_MONOTONIC %+lld "
		       "within %llu ns, %u samples%s%s\n", bk, ref, o->cpu,
		       xcall_counter_name(), (long long)o->offset_ticks,
		       (unsigned long long)o->bound_ticks,
		       (long long)o->offset_ns,
		       (unsigned long long)o->bound_ns,
		       (long long)o->mono_offset_ns,
		       (unsigned long long)o->mono_bound_ns, o->samples,
		       o->error ? ", " : "",
		       o->error ? strerror(-o->error) : "");
		ck_assert_msg(!o->error, "%s: cpu %d: %s", bk, o->cpu,
			      strerror(-o->error));
		ck_assert_uint_eq(o->samples, o->cpu == ref ? 0 : SAMPLES);
		ck_assert_msg(uabs(o->offset_ticks) <= o->bound_ticks &&
			      !o->unsynchronised,
			      "%s: cpu %d: counter %+lld beyond its bound %llu",
			      bk, o->cpu, (long long)o->offset_ticks,
			      (unsigned long long)o->bound_ticks);
		ck_assert_msg(uabs(o->mono_offset_ns) <= o->mono_bound_ns &&
			      !o->mono_unsynchronised,
			      "%s: cpu %d: CLOCK_MONOTONIC %+lld beyond its "
			      "bound %llu", bk, o->cpu,
			      (long long)o->mono_offset_ns,
			      (unsigned long long)o->mono_bound_ns);
	}
	fflush(stdout);
	xcall_close(x);
}

/*
 * `xcall clock` through @backend: exit 0, and the verdict of both clocks
 * "in step within ±B" with B a number.
 */
static void cli_in_step(const char *backend)
{
	char cmd[256], line[512], want[64];
	int counter = 0, mono = 0, st;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "XCALL_SOCKET=%s %s clock --all "
		 "--backend %s 2>&1", SOCK, XCALL, backend);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), "%s (", xcall_counter_name());
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, ": in step within ±");
		unsigned long long b;

		printf("test_clock: %s", line);
		if (!p || sscanf(p, ": in step within ±%llu ns", &b) != 1)
			continue;
		counter |= !strncmp(line, want, strlen(want));
		mono |= !strncmp(line, "CLOCK_MONOTONIC of cpu ", 23);
	}
	st = pclose(f);
	fflush(stdout);
	ck_assert_msg(WIFEXITED(st) && !WEXITSTATUS(st),
		      "xcall clock --backend %s: status %#x", backend, st);
	ck_assert_msg(counter, "xcall clock --backend %s: no '%s...: in step "
		      "within ±B ns' line", backend, want);
	ck_assert_msg(mono, "xcall clock --backend %s: no 'CLOCK_MONOTONIC "
		      "...: in step within ±B ns' line", backend);
}

START_TEST(test_kmod)
{
	offsets_contain_zero(XCALL_BACKEND_KMOD, _i ? last : first);
}
END_TEST

START_TEST(test_threads)
{
	offsets_contain_zero(XCALL_BACKEND_THREADS, _i ? last : first);
}
END_TEST

START_TEST(test_cli)
{
	cli_in_step(_i ? "threads" : "kmod");
}
END_TEST

/* The counter's frequency is the one the architecture says. */
START_TEST(test_counter_hz)
{
	ck_assert_uint_ge(xcall_counter_hz(), 1000000);
	ck_assert_uint_le(xcall_counter_hz(), 10000000000ULL);
	printf("test_clock: %s at %llu Hz\n", xcall_counter_name(),
	       (unsigned long long)xcall_counter_hz());
}
END_TEST

/* xcalld over the module (xcalld.h), once for the whole TCase. */
static void daemon_start(void)
{
	setup();
	xt_xcalld_start(SOCK);
}

START_TEST(test_daemon)
{
	offsets_contain_zero(XCALL_BACKEND_DAEMON, _i ? last : first);
}
END_TEST

START_TEST(test_daemon_cli)
{
	cli_in_step("daemon");
}
END_TEST

static Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc;

	tc = tcase_create("module");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_kmod, 0, 2);
	tcase_add_loop_test(tc, test_threads, 0, 2);
	tcase_add_loop_test(tc, test_cli, 0, 2);
	tcase_add_test(tc, test_counter_hz);
	suite_add_tcase(s, tc);
	if (access(XT_XCALLD, X_OK)) {
		printf("test_clock: no %s: xcalld not tested\n", XT_XCALLD);
		return s;
	}
	tc = tcase_create("xcalld");
	tcase_add_unchecked_fixture(tc, daemon_start, xt_xcalld_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_daemon, 0, 2);
	tcase_add_test(tc, test_daemon_cli);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(clock_suite)
