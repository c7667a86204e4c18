// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for clock offsets (lib/clock.c): the estimate of one round
 * trip; the measurement against fake clocks whose offsets the test sets
 * (simulated time, each CPU's counter and CLOCK_MONOTONIC skewed by a known
 * amount, message delays from a seeded generator), which must find each
 * offset within its bound and call it out of step only when it is; and
 * xcall_clock_offsets() on the threads backend, its records and errnos.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libxcall.h"
#include "clock.h"

#define NCPUS		8192
#define SETSIZE		CPU_ALLOC_SIZE(NCPUS)
#define TICKS_PER_NS	3		/* the fake counter: 3 GHz */
#define FAKE_HZ		3000000000ULL

START_TEST(test_estimate)
{
	static const struct {
		uint64_t t0, t1, t2;
		int64_t off;
		uint64_t bound;
	} t[] = {
		{ 100, 150, 200, 0, 50 },
		{ 100, 1150, 200, 1000, 50 },
		{ 1000, 10, 1100, -1040, 50 },
		{ 100, 100, 101, 0, 1 },	/* odd: [t1-t2, t1-t0] kept */
		{ 100, 101, 101, 1, 1 },
		{ 7, 7, 7, 0, 0 },
		/* Counters near wrap: differences, not values, count. */
		{ UINT64_MAX - 10, 5, 9, 6, 10 },
	};
	unsigned int i;
	uint64_t bound;
	int64_t off;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		__xcall_clock_estimate(t[i].t0, t[i].t1, t[i].t2, &off,
				       &bound);
		ck_assert_int_eq(off, t[i].off);
		ck_assert_uint_eq(bound, t[i].bound);
		/* The interval covers every offset the reading allows. */
		ck_assert_int_le(off - (int64_t)bound,
				 (int64_t)(t[i].t1 - t[i].t2));
		ck_assert_int_ge(off + (int64_t)bound,
				 (int64_t)(t[i].t1 - t[i].t0));
	}
}
END_TEST

/*
 * Fake clocks. True time advances only between readings: a local reading
 * takes none, a remote call @d1 ns to reach the CPU and @d2 to come back.
 * CPU c's counter reads TICKS_PER_NS * now + base + skew[c], its
 * CLOCK_MONOTONIC now + mskew[c].
 */
struct fake {
	uint64_t now;
	int64_t skew[4], mskew[4];
	uint64_t rng;
	unsigned int calls;
	unsigned int short_at;		/* this call is the fastest: 50+50 */
	unsigned int fail_at;		/* this call fails with -ETIMEDOUT */
	uint64_t d1_fixed, d2_fixed;	/* nonzero: every call takes these */
};

#define BASE	(UINT64_MAX - 1000000)	/* wraps during the test */

static uint64_t rnd(struct fake *f, uint64_t lo, uint64_t hi)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return lo + f->rng % (hi - lo + 1);
}

static uint64_t fake_ticks(const struct fake *f, int cpu)
{
	return TICKS_PER_NS * f->now + BASE + (uint64_t)f->skew[cpu];
}

static uint64_t fake_mono(const struct fake *f, int cpu)
{
	return 1000000000000ULL + f->now + (uint64_t)f->mskew[cpu];
}

static void fake_local(void *ctx, int after, uint64_t *ticks, uint64_t *mono)
{
	struct fake *f = ctx;

	*ticks = fake_ticks(f, 0);
	*mono = fake_mono(f, 0);
}

static int fake_remote(void *ctx, int cpu, uint64_t *ticks, uint64_t *mono)
{
	struct fake *f = ctx;
	uint64_t d1, d2;

	f->calls++;
	if (f->calls == f->short_at) {
		d1 = d2 = 50;
	} else if (f->d1_fixed) {
		d1 = f->d1_fixed;
		d2 = f->d2_fixed;
	} else {
		d1 = rnd(f, 1000, 20000);
		d2 = rnd(f, 1000, 20000);
	}
	f->now += d1;
	if (f->calls == f->fail_at) {
		f->now += d2;
		return -ETIMEDOUT;
	}
	*ticks = fake_ticks(f, cpu);
	*mono = fake_mono(f, cpu);
	f->now += d2;
	return 0;
}

static void measure(struct fake *f, int cpu, unsigned int samples,
		    uint64_t hz, struct xcall_clock_offset *o)
{
	const struct __xcall_clock_src src = {
		.ctx = f, .local = fake_local, .remote = fake_remote,
	};

	f->rng = f->rng ? f->rng : 0x9e3779b97f4a7c15ULL;
	f->calls = 0;
	__xcall_clock_measure(&src, cpu, samples, hz, o);
}

static uint64_t uabs(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/* Known skews, ticks and ns: each found within its bound. */
static const struct {
	int64_t skew, mskew;
	int unsync, munsync;	/* what the bound must prove */
} skews[] = {
	{ 0, 0, 0, 0 },
	{ 1, -1, 0, 0 },		/* far inside any bound */
	{ 3000000, 0, 1, 0 },		/* 1 ms ahead: out of step */
	{ -3000000, 0, 1, 0 },
	{ 0, 500000, 0, 1 },		/* CLOCK_MONOTONIC 0.5 ms ahead */
	{ -123456789012LL, -7777777, 1, 1 },
	{ 150, 0, 0, 0 },		/* inside the best bound, 150 */
};

START_TEST(test_fake_skew)
{
	struct xcall_clock_offset o;
	struct fake f = { .short_at = 37 };
	int c;

	for (c = 1; c < 4; c++) {
		f.skew[c] = skews[_i].skew * c;
		f.mskew[c] = skews[_i].mskew * c;
		if (c > 1 && !skews[_i].unsync && skews[_i].skew)
			f.skew[c] = skews[_i].skew;	/* stay in bound */
		if (c > 1 && !skews[_i].munsync && skews[_i].mskew)
			f.mskew[c] = skews[_i].mskew;
	}
	for (c = 1; c < 4; c++) {
		measure(&f, c, 64, FAKE_HZ, &o);
		ck_assert_int_eq(o.cpu, c);
		ck_assert_int_eq(o.error, 0);
		ck_assert_uint_eq(o.samples, 64);
		/* Call 37 took 50 + 50 ns: the bound is half of that. */
		ck_assert_uint_eq(o.bound_ticks, 50 * TICKS_PER_NS);
		ck_assert_uint_eq(o.mono_bound_ns, 50);
		ck_assert_uint_le(uabs(o.offset_ticks - f.skew[c]),
				  o.bound_ticks);
		ck_assert_uint_le(uabs(o.mono_offset_ns - f.mskew[c]),
				  o.mono_bound_ns);
		ck_assert_int_eq(o.unsynchronised, skews[_i].unsync);
		ck_assert_int_eq(o.mono_unsynchronised, skews[_i].munsync);
		/* ns: the ticks at 3 GHz, the bound rounded up. */
		ck_assert_uint_eq(o.bound_ns, 50);
		ck_assert_uint_le(uabs(o.offset_ns * TICKS_PER_NS -
				       o.offset_ticks), 2);
	}
}
END_TEST

/* Only the fastest round trip counts, whichever it is. */
START_TEST(test_fake_min_rtt)
{
	struct xcall_clock_offset o;
	struct fake f = { .short_at = 37 };

	f.skew[1] = 12345;
	measure(&f, 1, 36, FAKE_HZ, &o);
	ck_assert_uint_gt(o.bound_ticks, 1000 * TICKS_PER_NS - 1);
	ck_assert_uint_le(uabs(o.offset_ticks - f.skew[1]), o.bound_ticks);
	ck_assert_int_eq(o.unsynchronised,
			 uabs(o.offset_ticks) > o.bound_ticks);
	measure(&f, 1, 37, FAKE_HZ, &o);
	ck_assert_uint_eq(o.bound_ticks, 150);
	ck_assert_int_eq(o.offset_ticks, 12345);
	ck_assert_int_eq(o.unsynchronised, 1);
	f.short_at = 1;
	measure(&f, 1, 1, FAKE_HZ, &o);
	ck_assert_uint_eq(o.samples, 1);
	ck_assert_uint_eq(o.bound_ticks, 150);
}
END_TEST

/* A slow way there and a fast way back: off centre, still in bound. */
START_TEST(test_fake_asymmetric)
{
	struct xcall_clock_offset o;
	struct fake f = { .d1_fixed = 9000, .d2_fixed = 100 };

	f.skew[2] = -300;
	f.mskew[2] = 40;
	measure(&f, 2, 16, FAKE_HZ, &o);
	ck_assert_uint_eq(o.bound_ticks, 4550 * TICKS_PER_NS);
	ck_assert_int_eq(o.offset_ticks, 4450 * TICKS_PER_NS - 300);
	ck_assert_uint_le(uabs(o.offset_ticks - f.skew[2]), o.bound_ticks);
	ck_assert_uint_le(uabs(o.mono_offset_ns - f.mskew[2]),
			  o.mono_bound_ns);
	ck_assert_int_eq(o.unsynchronised, 0);
}
END_TEST

/* A failing call stops the sampling of that CPU and says why. */
START_TEST(test_fake_error)
{
	struct xcall_clock_offset o;
	struct fake f = { .fail_at = 1 };

	measure(&f, 3, 64, FAKE_HZ, &o);
	ck_assert_int_eq(o.error, -ETIMEDOUT);
	ck_assert_uint_eq(o.samples, 0);
	ck_assert_int_eq(o.cpu, 3);
	ck_assert_uint_eq(f.calls, 1);
	f.fail_at = 10;
	f.skew[3] = 999;
	measure(&f, 3, 64, FAKE_HZ, &o);
	ck_assert_int_eq(o.error, -ETIMEDOUT);
	ck_assert_uint_eq(o.samples, 9);
	ck_assert_uint_eq(f.calls, 10);
	ck_assert_uint_le(uabs(o.offset_ticks - 999), o.bound_ticks);
}
END_TEST

/* Without the counter's frequency there is no ns figure to give. */
START_TEST(test_fake_no_hz)
{
	struct xcall_clock_offset o;
	struct fake f = { .short_at = 2 };

	measure(&f, 1, 4, 0, &o);
	ck_assert_int_eq(o.offset_ns, 0);
	ck_assert_uint_eq(o.bound_ns, UINT64_MAX);
	ck_assert_uint_eq(o.bound_ticks, 150);
}
END_TEST

static struct xcall *x;
static cpu_set_t *online, *set;
static unsigned int nonline;
static int first;

static void setup(void)
{
	struct xcall_opts opts = { .backend = XCALL_BACKEND_THREADS };

	online = CPU_ALLOC(NCPUS);
	set = CPU_ALLOC(NCPUS);
	ck_assert_ptr_nonnull(online);
	ck_assert_ptr_nonnull(set);
	ck_assert_int_eq(xcall_cpus_online(online, SETSIZE), 0);
	nonline = CPU_COUNT_S(SETSIZE, online);
	for (first = 0; !CPU_ISSET_S(first, SETSIZE, online); first++)
		;
	ck_assert_int_eq(xcall_open(&x, &opts), 0);
}

static void teardown(void)
{
	xcall_close(x);
	CPU_FREE(set);
	CPU_FREE(online);
}

/* Every online CPU against the first: one record each, in CPU order. */
START_TEST(test_threads_all)
{
	struct xcall_clock_offset *out = calloc(nonline, sizeof(*out));
	cpu_set_t *before = CPU_ALLOC(NCPUS), *after = CPU_ALLOC(NCPUS);
	int n, i, prev = -1;

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(pthread_getaffinity_np(pthread_self(), SETSIZE,
						before), 0);
	n = xcall_clock_offsets(x, online, SETSIZE, first, 20, out, nonline);
	ck_assert_int_eq(n, nonline);
	for (i = 0; i < n; i++) {
		ck_assert(CPU_ISSET_S(out[i].cpu, SETSIZE, online));
		ck_assert_int_gt(out[i].cpu, prev);
		prev = out[i].cpu;
		ck_assert_int_eq(out[i].error, 0);
		if (out[i].cpu == first) {
			ck_assert_int_eq(out[i].offset_ticks, 0);
			ck_assert_uint_eq(out[i].bound_ticks, 0);
			ck_assert_uint_eq(out[i].mono_bound_ns, 0);
			ck_assert_uint_eq(out[i].samples, 0);
			continue;
		}
		ck_assert_uint_eq(out[i].samples, 20);
		/* A round trip takes time on the clock that measures it. */
		ck_assert_uint_gt(out[i].mono_bound_ns, 0);
		ck_assert_int_eq(out[i].unsynchronised,
				 (uint64_t)llabs(out[i].offset_ticks) >
				 out[i].bound_ticks);
		ck_assert_int_eq(out[i].mono_unsynchronised,
				 (uint64_t)llabs(out[i].mono_offset_ns) >
				 out[i].mono_bound_ns);
		/* One machine, one CLOCK_MONOTONIC: always in step. */
		ck_assert_int_eq(out[i].mono_unsynchronised, 0);
		if (xcall_counter_hz())
			ck_assert_uint_ge(out[i].bound_ns,
					  out[i].bound_ticks * 1000000000ULL /
					  xcall_counter_hz());
	}
	ck_assert_int_eq(pthread_getaffinity_np(pthread_self(), SETSIZE,
						after), 0);
	ck_assert(CPU_EQUAL_S(SETSIZE, before, after));
	CPU_FREE(after);
	CPU_FREE(before);
	free(out);
}
END_TEST

START_TEST(test_threads_errors)
{
	struct xcall_clock_offset out[1];

	CPU_ZERO_S(SETSIZE, set);
	CPU_SET_S(first, SETSIZE, set);
	ck_assert_int_eq(xcall_clock_offsets(NULL, set, SETSIZE, first, 1,
					     out, 1), -EINVAL);
	ck_assert_int_eq(xcall_clock_offsets(x, NULL, SETSIZE, first, 1,
					     out, 1), -EINVAL);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, first, 1,
					     NULL, 1), -EINVAL);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, first, 0,
					     out, 1), -ERANGE);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, first,
					     XCALL_CLOCK_MAX_SAMPLES + 1,
					     out, 1), -ERANGE);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, -1, 1,
					     out, 1), -ENODEV);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, NCPUS - 1, 1,
					     out, 1), -ENODEV);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, first, 1,
					     out, 0), -EMSGSIZE);
	CPU_ZERO_S(SETSIZE, set);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, first, 1,
					     out, 1), -EDESTADDRREQ);
	CPU_SET_S(NCPUS - 1, SETSIZE, set);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, first, 1,
					     out, 1), -ENODEV);
	/* The reference alone: itself, within 0. */
	CPU_ZERO_S(SETSIZE, set);
	CPU_SET_S(first, SETSIZE, set);
	ck_assert_int_eq(xcall_clock_offsets(x, set, SETSIZE, first, 5,
					     out, 1), 1);
	ck_assert_int_eq(out[0].cpu, first);
	ck_assert_uint_eq(out[0].bound_ticks, 0);
}
END_TEST

START_TEST(test_counter)
{
#if defined(__x86_64__) || defined(__aarch64__) || defined(__powerpc64__)
	/* Every counter of these runs at 1 MHz at least, 10 GHz at most. */
	ck_assert_uint_ge(xcall_counter_hz(), 1000000);
	ck_assert_uint_le(xcall_counter_hz(), 10000000000ULL);
	ck_assert_uint_eq(xcall_counter_hz(), xcall_counter_hz());
	ck_assert_str_ne(xcall_counter_name(), "none");
#else
	xt_skip_env("no cycle counter on this architecture");
#endif
}
END_TEST

static Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc;

	tc = tcase_create("fake");
	tcase_add_test(tc, test_estimate);
	tcase_add_loop_test(tc, test_fake_skew, 0,
			    sizeof(skews) / sizeof(skews[0]));
	tcase_add_test(tc, test_fake_min_rtt);
	tcase_add_test(tc, test_fake_asymmetric);
	tcase_add_test(tc, test_fake_error);
	tcase_add_test(tc, test_fake_no_hz);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threads_all);
	tcase_add_test(tc, test_threads_errors);
	tcase_add_test(tc, test_counter);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(clock_suite)
