// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for the arithmetic of `xcall run --timeline` (cli/tlstat.c):
 * stages read on CPUs whose counters are skewed by known offsets land on
 * one time axis, with the error bound of the two CPUs each interval spans;
 * the intervals' median and p99 by nearest rank; the JSON and the table;
 * and xcall_run_timeline()'s refusals where there is no module.
 * Linked with cli/tlstat.o and cli/format.o (tests/timeline.mk).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlstat.h"

/* CPU 0 is the reference; CPU 1 runs 1000 ticks ahead, within 20. */
static const int64_t off[3] = { 0, 1000, -500 };
static const uint64_t bound[3] = { 0, 20, 7 };
static const struct tl_clock ck_ns = {
	.hz = 1000000000, .ncpus = 3, .off = off, .bound = bound,
};

/* Caller on CPU 0, target CPU 1: 100, 200, 100, 200 ns apart. */
static struct xcall_timeline one_call(void)
{
	struct xcall_timeline tl = {
		.cpu = 1,
		.flags = XCALL_TLF_KICKED | XCALL_TLF_IRQ,
		.ev_cpu = { 0, 0, 1, 1, 0 },
		.ev = { 10000, 10100, 11300, 11400, 10600 },
	};
	return tl;
}

START_TEST(test_convert_skew)
{
	struct xcall_timeline tl = one_call();
	int64_t ns[XCALL_TL_NR];
	uint64_t b[TL_NINTERVALS];

	ck_assert_int_eq(tl_convert(&tl, &ck_ns, ns, b), 0);
	/* Read raw, the handler would come 1300 ns after the submission. */
	ck_assert_int_eq(ns[XCALL_TL_SUBMITTED], 0);
	ck_assert_int_eq(ns[XCALL_TL_QUEUED], 100);
	ck_assert_int_eq(ns[XCALL_TL_HANDLER], 300);
	ck_assert_int_eq(ns[XCALL_TL_DONE], 400);
	ck_assert_int_eq(ns[XCALL_TL_WOKEN], 600);
	/* Across CPUs 0 and 1: 0 + 20; on one CPU: exact. */
	ck_assert_uint_eq(b[0], 0);
	ck_assert_uint_eq(b[1], 20);
	ck_assert_uint_eq(b[2], 0);
	ck_assert_uint_eq(b[3], 20);
	ck_assert_uint_eq(b[TL_TOTAL], 0);
}
END_TEST

/* The caller migrated to CPU 2 (500 behind) before it woke. */
START_TEST(test_convert_migrated)
{
	struct xcall_timeline tl = one_call();
	int64_t ns[XCALL_TL_NR];
	uint64_t b[TL_NINTERVALS];

	tl.ev_cpu[XCALL_TL_WOKEN] = 2;
	tl.ev[XCALL_TL_WOKEN] = 10600 - 500;
	ck_assert_int_eq(tl_convert(&tl, &ck_ns, ns, b), 0);
	ck_assert_int_eq(ns[XCALL_TL_WOKEN], 600);
	ck_assert_uint_eq(b[3], 27);
	ck_assert_uint_eq(b[TL_TOTAL], 7);
}
END_TEST

/* 2.5 GHz: 2500 ticks are 1000 ns; counters near 2^63 do not overflow. */
START_TEST(test_convert_hz)
{
	static const int64_t o[2] = { 0, -3 };
	static const uint64_t bd[2] = { 0, 5 };
	const struct tl_clock ck = {
		.hz = 2500000000ULL, .ncpus = 2, .off = o, .bound = bd,
	};
	uint64_t base = (1ULL << 63) - 100000;
	struct xcall_timeline tl = {
		.ev_cpu = { 0, 0, 1, 1, 0 },
		.ev = { base, base + 2500, base + 4997, base + 7497,
			base + 10000 },
	};
	int64_t ns[XCALL_TL_NR];
	uint64_t b[TL_NINTERVALS];

	ck_assert_int_eq(tl_convert(&tl, &ck, ns, b), 0);
	ck_assert_int_eq(ns[XCALL_TL_QUEUED], 1000);
	ck_assert_int_eq(ns[XCALL_TL_HANDLER], 2000);
	ck_assert_int_eq(ns[XCALL_TL_DONE], 3000);
	ck_assert_int_eq(ns[XCALL_TL_WOKEN], 4000);
	ck_assert_uint_eq(b[1], 2);	/* 5 ticks */
}
END_TEST

START_TEST(test_convert_errors)
{
	struct xcall_timeline tl = one_call();
	struct tl_clock ck = ck_ns;
	int64_t ns[XCALL_TL_NR];
	uint64_t b[TL_NINTERVALS];

	tl.ev[XCALL_TL_HANDLER] = 0;	/* the call never ran */
	ck_assert_int_eq(tl_convert(&tl, &ck, ns, b), -ENODATA);
	tl = one_call();
	tl.ev_cpu[XCALL_TL_DONE] = 3;	/* no offset for CPU 3 */
	ck_assert_int_eq(tl_convert(&tl, &ck, ns, b), -ERANGE);
	tl = one_call();
	ck.hz = 0;
	ck_assert_int_eq(tl_convert(&tl, &ck, ns, b), -EINVAL);
}
END_TEST

static const struct {
	int64_t v[8];
	unsigned int n, p;
	int64_t want;
} pct[] = {
	{ { 5, 1, 4, 2, 3 }, 5, 50, 3 },
	{ { 5, 1, 4, 2, 3 }, 5, 99, 5 },
	{ { 5, 1, 4, 2, 3 }, 5, 0, 1 },
	{ { 4, 1, 3, 2 }, 4, 50, 2 },
	{ { -7 }, 1, 99, -7 },
	{ { 0 }, 0, 50, 0 },
};

START_TEST(test_percentile)
{
	int64_t v[8];

	memcpy(v, pct[_i].v, sizeof(v));
	ck_assert_int_eq(tl_percentile(v, pct[_i].n, pct[_i].p),
			 pct[_i].want);
}
END_TEST

/* Of 1..100, p50 is 50 and p99 is 99 (nearest rank, not interpolated). */
START_TEST(test_percentile_100)
{
	int64_t v[100];
	int i;

	for (i = 0; i < 100; i++)
		v[i] = 100 - i;
	ck_assert_int_eq(tl_percentile(v, 100, 50), 50);
	ck_assert_int_eq(tl_percentile(v, 100, 99), 99);
	ck_assert_int_eq(tl_percentile(v, 100, 100), 100);
}
END_TEST

/* 200 calls, one failed: counted apart, flags counted, the JSON exact. */
START_TEST(test_acc_json)
{
	struct xcall_timeline tl = one_call();
	struct tl_acc a;
	struct sbuf sb;
	int i;

	tl_acc_init(&a, 1);
	for (i = 0; i < 200; i++) {
		tl.ev[XCALL_TL_WOKEN] = 10600 + i;	/* woken: 200..399 */
		ck_assert_int_eq(tl_acc_add(&a, 0, &tl, &ck_ns), 0);
	}
	ck_assert_int_eq(tl_acc_add(&a, -ETIMEDOUT, &tl, &ck_ns), 0);
	ck_assert_uint_eq(a.n, 200);
	ck_assert_uint_eq(a.failed, 1);
	sb_init(&sb);
	tl_fmt_json(&sb, "ping", 0, &a, 1);
	ck_assert(!sb.oom);
	ck_assert_str_eq(sb.s,
		"{\"cpu\":1,\"fn\":\"ping\",\"ref_cpu\":0,\"calls\":200,"
		"\"failed\":1,\"kicked\":200,\"rode\":0,\"inline\":0,"
		"\"irq\":200,\"task\":0,\"rekick\":0,\"stages\":{"
		"\"queued\":{\"median_ns\":100,\"p99_ns\":100,\"bound_ns\":0},"
		"\"handler\":{\"median_ns\":200,\"p99_ns\":200,\"bound_ns\":20},"
		"\"done\":{\"median_ns\":100,\"p99_ns\":100,\"bound_ns\":0},"
		"\"woken\":{\"median_ns\":299,\"p99_ns\":397,\"bound_ns\":20},"
		"\"total\":{\"median_ns\":699,\"p99_ns\":797,\"bound_ns\":0}}}\n");
	sb_free(&sb);
	tl_acc_free(&a);
}
END_TEST

START_TEST(test_table)
{
	struct xcall_timeline tl = one_call();
	struct tl_acc a;
	struct sbuf sb;

	tl_acc_init(&a, 1);
	ck_assert_int_eq(tl_acc_add(&a, 0, &tl, &ck_ns), 0);
	sb_init(&sb);
	tl_fmt_table(&sb, "ping", 0, &a, 1);
	ck_assert(!sb.oom);
	ck_assert_ptr_nonnull(strstr(sb.s,
		"CPU  STAGE    CALLS  MEDIAN_NS  P99_NS  BOUND_NS\n"
		"  1  queued       1        100     100         0\n"
		"  1  handler      1        200     200        20\n"));
	ck_assert_ptr_nonnull(strstr(sb.s, "cpu 1: 1 calls: raised the IPI "
		"1, rode along 0, inline 0; handler in IRQ 1, in task context "
		"0, after a rekick 0; failed 0\n"));
	sb_free(&sb);
	tl_acc_free(&a);
}
END_TEST

/*
 * xcall_run_timeline(): xcall_run()'s checks first, then what only the
 * module has: the threads backend says EOPNOTSUPP.
 */
START_TEST(test_lib_refusals)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_THREADS };
	struct xcall_req req = { .fn = XCALL_FN_PING };
	struct xcall_timeline tl[1];
	struct xcall_result r[1];
	struct xcall *x;
	cpu_set_t set, none;

	ck_assert_int_eq(xcall_open(&x, &o), 0);
	CPU_ZERO(&set);
	CPU_ZERO(&none);
	CPU_SET(0, &set);
	ck_assert_int_eq(xcall_run_timeline(x, &req, &set, sizeof(set), r,
					    tl, 1), -EOPNOTSUPP);
	ck_assert_int_eq(xcall_run_timeline(x, &req, &set, sizeof(set), r,
					    NULL, 1), -EINVAL);
	ck_assert_int_eq(xcall_run_timeline(x, &req, &set, sizeof(set), NULL,
					    tl, 1), -EINVAL);
	ck_assert_int_eq(xcall_run_timeline(x, &req, &set, sizeof(set), r,
					    tl, 0), -EMSGSIZE);
	ck_assert_int_eq(xcall_run_timeline(x, &req, &none, sizeof(none), r,
					    tl, 1), -EDESTADDRREQ);
	req.flags = XCALL_CALL_NOWAIT;
	ck_assert_int_eq(xcall_run_timeline(x, &req, &set, sizeof(set), r,
					    tl, 1), -EINVAL);
	/* The flag is the module's, not a flag of struct xcall_req. */
	req.flags = XCALL_CALL_TIMELINE;
	ck_assert_int_eq(xcall_run(x, &req, &set, sizeof(set), r, 1),
			 -EINVAL);
	req.flags = 0;
	req.fn = XCALL_FN_COUNT;
	ck_assert_int_eq(xcall_run_timeline(x, &req, &set, sizeof(set), r,
					    tl, 1), -EBADRQC);
	xcall_close(x);
}
END_TEST

static Suite *timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc;

	tc = tcase_create("convert");
	tcase_add_test(tc, test_convert_skew);
	tcase_add_test(tc, test_convert_migrated);
	tcase_add_test(tc, test_convert_hz);
	tcase_add_test(tc, test_convert_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("stats");
	tcase_add_loop_test(tc, test_percentile, 0,
			    sizeof(pct) / sizeof(pct[0]));
	tcase_add_test(tc, test_percentile_100);
	tcase_add_test(tc, test_acc_json);
	tcase_add_test(tc, test_table);
	suite_add_tcase(s, tc);
	tc = tcase_create("lib");
	tcase_add_test(tc, test_lib_refusals);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(timeline_suite)
