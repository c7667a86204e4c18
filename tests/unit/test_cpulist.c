// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for cpu lists (lib/cpulist.c): a golden table of inputs and
 * their canonical form or errno, including malformed text; formatting into
 * short buffers; the refusal of CPUs that do not exist or are offline
 * (xcall_cpus_check(), pure, so offline CPUs are tested without hotplug).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libxcall.h"

#define NCPUS		1024
#define SETSIZE		CPU_ALLOC_SIZE(NCPUS)

static const struct {
	const char *in;
	int err;		/* 0, -EINVAL or -ERANGE */
	const char *out;	/* canonical, when err == 0 */
} golden[] = {
	{ "0", 0, "0" },
	{ "7", 0, "7" },
	{ "007", 0, "7" },
	{ "0-3", 0, "0-3" },
	{ "0-0", 0, "0" },
	{ "3,2,1,0", 0, "0-3" },
	{ "1,1,1", 0, "1" },
	{ "0-3,8-15:2", 0, "0-3,8,10,12,14" },
	{ "0-7:3", 0, "0,3,6" },
	{ "0-3:1", 0, "0-3" },
	{ "0-3:4", 0, "0" },
	{ "5-5:2", 0, "5" },
	/* a stride larger than any set steps over the rest: no -ERANGE */
	{ "0-1:99999999999", 0, "0" },
	{ "0-1:99999999999999999999999999", 0, "0" },
	{ "0,2,4,5,6,9", 0, "0,2,4-6,9" },
	{ "8-15,0-7", 0, "0-15" },
	{ "1023", 0, "1023" },
	{ "0-1023", 0, "0-1023" },
	{ "1000-1023:23", 0, "1000,1023" },
	/* too large for the set */
	{ "1024", -ERANGE, NULL },
	{ "0-1024", -ERANGE, NULL },
	{ "0,4096", -ERANGE, NULL },
	{ "99999999999999999999", -ERANGE, NULL },
	{ "0-99999999999", -ERANGE, NULL },
	/* malformed */
	{ "", -EINVAL, NULL },
	{ ",", -EINVAL, NULL },
	{ "0,", -EINVAL, NULL },
	{ ",0", -EINVAL, NULL },
	{ "0,,1", -EINVAL, NULL },
	{ "-1", -EINVAL, NULL },
	{ "1-", -EINVAL, NULL },
	{ "-", -EINVAL, NULL },
	{ "3-1", -EINVAL, NULL },
	{ "0-3:0", -EINVAL, NULL },
	{ "0-3:", -EINVAL, NULL },
	{ "0:2", -EINVAL, NULL },
	{ "0-3:2:1", -EINVAL, NULL },
	{ "0-1-2", -EINVAL, NULL },
	{ " 0", -EINVAL, NULL },
	{ "0 ", -EINVAL, NULL },
	{ "0, 1", -EINVAL, NULL },
	{ "0\n", -EINVAL, NULL },
	{ "a", -EINVAL, NULL },
	{ "0x1", -EINVAL, NULL },
	{ "+1", -EINVAL, NULL },
	{ "1.5", -EINVAL, NULL },
	{ "all", -EINVAL, NULL },
	/* malformed text wins over a number too large */
	{ "99999999999-x", -EINVAL, NULL },
	{ "4096,x", -EINVAL, NULL },
};

static cpu_set_t *set;

static void setup(void)
{
	set = CPU_ALLOC(NCPUS);
	ck_assert_ptr_nonnull(set);
}

static void teardown(void)
{
	CPU_FREE(set);
}

START_TEST(test_golden)
{
	char buf[8192];
	int ret;

	ret = xcall_cpulist_parse(golden[_i].in, set, SETSIZE);
	ck_assert_msg(ret == golden[_i].err, "'%s': got %d, want %d",
		      golden[_i].in, ret, golden[_i].err);
	if (ret)
		return;
	ret = xcall_cpulist_format(set, SETSIZE, buf, sizeof(buf));
	ck_assert_int_eq(ret, strlen(golden[_i].out));
	ck_assert_str_eq(buf, golden[_i].out);
	/* The canonical form parses back to the same set. */
	{
		cpu_set_t *again = CPU_ALLOC(NCPUS);

		ck_assert_int_eq(xcall_cpulist_parse(buf, again, SETSIZE), 0);
		ck_assert(CPU_EQUAL_S(SETSIZE, set, again));
		CPU_FREE(again);
	}
}
END_TEST

START_TEST(test_parse_clears)
{
	CPU_ZERO_S(SETSIZE, set);
	CPU_SET_S(9, SETSIZE, set);
	ck_assert_int_eq(xcall_cpulist_parse("1", set, SETSIZE), 0);
	ck_assert_int_eq(CPU_COUNT_S(SETSIZE, set), 1);
	ck_assert(CPU_ISSET_S(1, SETSIZE, set));
}
END_TEST

START_TEST(test_parse_null)
{
	ck_assert_int_eq(xcall_cpulist_parse(NULL, set, SETSIZE), -EINVAL);
	ck_assert_int_eq(xcall_cpulist_parse("0", NULL, SETSIZE), -EINVAL);
}
END_TEST

START_TEST(test_parse_small_set)
{
	/* A set of 64 CPUs (8 bytes): CPU 64 does not fit. */
	ck_assert_int_eq(xcall_cpulist_parse("63", set, 8), 0);
	ck_assert_int_eq(xcall_cpulist_parse("64", set, 8), -ERANGE);
}
END_TEST

START_TEST(test_format_empty)
{
	char buf[4] = "xyz";

	CPU_ZERO_S(SETSIZE, set);
	ck_assert_int_eq(xcall_cpulist_format(set, SETSIZE, buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_format_nospace)
{
	char buf[16];

	ck_assert_int_eq(xcall_cpulist_parse("0-3,8", set, SETSIZE), 0);
	/* "0-3,8" is 5 bytes and its NUL: 6 fit, 5 do not. */
	ck_assert_int_eq(xcall_cpulist_format(set, SETSIZE, buf, 6), 5);
	ck_assert_str_eq(buf, "0-3,8");
	ck_assert_int_eq(xcall_cpulist_format(set, SETSIZE, buf, 5), -ENOSPC);
	ck_assert_int_eq(xcall_cpulist_format(set, SETSIZE, buf, 3), -ENOSPC);
	ck_assert_int_eq(xcall_cpulist_format(set, SETSIZE, buf, 0), -ENOSPC);
	ck_assert_int_eq(xcall_cpulist_format(set, SETSIZE, NULL, 9),
			 -ENOSPC);
}
END_TEST

/* ------------------------------------------------------------------------
 * xcall_cpus_check(): possible 0-7, online 0-5 and 7 (6 is offline).
 */

static cpu_set_t *possible, *online, *bad;

static void setup_check(void)
{
	setup();
	possible = CPU_ALLOC(NCPUS);
	online = CPU_ALLOC(NCPUS);
	bad = CPU_ALLOC(NCPUS);
	ck_assert_int_eq(xcall_cpulist_parse("0-7", possible, SETSIZE), 0);
	ck_assert_int_eq(xcall_cpulist_parse("0-5,7", online, SETSIZE), 0);
}

static void teardown_check(void)
{
	CPU_FREE(bad);
	CPU_FREE(online);
	CPU_FREE(possible);
	teardown();
}

static const struct {
	const char *cpus;
	int err;
	const char *bad;	/* CPUs named in the message */
} check_table[] = {
	{ "0", 0, "" },
	{ "0-5,7", 0, "" },
	{ "6", -ENXIO, "6" },
	{ "0-7", -ENXIO, "6" },
	{ "8", -ENODEV, "8" },
	{ "5-9", -ENODEV, "8-9" },
	/* A CPU that does not exist is named before an offline one. */
	{ "6,100", -ENODEV, "100" },
	{ "1023", -ENODEV, "1023" },
};

START_TEST(test_check)
{
	char buf[64];

	ck_assert_int_eq(xcall_cpulist_parse(check_table[_i].cpus, set,
					     SETSIZE), 0);
	ck_assert_int_eq(xcall_cpus_check(set, possible, online, SETSIZE,
					  bad), check_table[_i].err);
	ck_assert_int_ge(xcall_cpulist_format(bad, SETSIZE, buf,
					      sizeof(buf)), 0);
	ck_assert_str_eq(buf, check_table[_i].bad);
	/* @bad is optional. */
	ck_assert_int_eq(xcall_cpus_check(set, possible, online, SETSIZE,
					  NULL), check_table[_i].err);
}
END_TEST

/* A set whose size is not a whole number of words: 4 bytes, 32 CPUs. */
START_TEST(test_check_partial_word)
{
	ck_assert_int_eq(xcall_cpulist_parse("0-31", possible, 4), 0);
	ck_assert_int_eq(xcall_cpulist_parse("0-30", online, 4), 0);
	ck_assert_int_eq(xcall_cpulist_parse("31", set, 4), 0);
	ck_assert_int_eq(xcall_cpus_check(set, possible, online, 4, bad),
			 -ENXIO);
	ck_assert(CPU_ISSET_S(31, 4, bad));
	ck_assert_int_eq(xcall_cpulist_parse("30", set, 4), 0);
	ck_assert_int_eq(xcall_cpus_check(set, possible, online, 4, bad), 0);
	ck_assert_int_eq(xcall_cpulist_parse("0-30", possible, 4), 0);
	ck_assert_int_eq(xcall_cpulist_parse("0,31", set, 4), 0);
	ck_assert_int_eq(xcall_cpus_check(set, possible, online, 4, bad),
			 -ENODEV);
	/* (CPU_COUNT_S counts whole words only: test the bits.) */
	ck_assert(CPU_ISSET_S(31, 4, bad));
	ck_assert(!CPU_ISSET_S(0, 4, bad));
}
END_TEST

START_TEST(test_check_empty)
{
	CPU_ZERO_S(SETSIZE, set);
	ck_assert_int_eq(xcall_cpus_check(set, possible, online, SETSIZE,
					  bad), -EDESTADDRREQ);
}
END_TEST

/* ------------------------------------------------------------------------
 * The machine's own lists: online within possible, both canonical.
 */

START_TEST(test_machine)
{
	cpu_set_t *p = CPU_ALLOC(NCPUS * 8), *o = CPU_ALLOC(NCPUS * 8);
	size_t sz = CPU_ALLOC_SIZE(NCPUS * 8);
	cpu_set_t *both = CPU_ALLOC(NCPUS * 8);

	ck_assert_int_eq(xcall_cpus_possible(p, sz), 0);
	ck_assert_int_eq(xcall_cpus_online(o, sz), 0);
	ck_assert_int_gt(CPU_COUNT_S(sz, o), 0);
	CPU_AND_S(sz, both, p, o);
	ck_assert(CPU_EQUAL_S(sz, both, o));
	ck_assert_int_eq(xcall_cpus_check(o, p, o, sz, NULL), 0);
	/* The CPU we run on is online. */
	ck_assert(CPU_ISSET_S(sched_getcpu(), sz, o));
	CPU_FREE(both);
	CPU_FREE(o);
	CPU_FREE(p);
}
END_TEST

/*
 * Sets of any byte size: a 4-byte set (malloc'd, so ASan sees an overrun)
 * is read and written within its 4 bytes by every function.
 */
START_TEST(test_small_sets)
{
	cpu_set_t *s = malloc(4), *p = malloc(4), *o = malloc(4);
	cpu_set_t *b = malloc(4);
	char buf[64];
	int ret;

	ck_assert_int_eq(xcall_cpulist_parse("0,2-3,31", s, 4), 0);
	ck_assert_int_eq(xcall_cpulist_parse("32", s, 4), -ERANGE);
	ck_assert_int_eq(xcall_cpulist_parse("0,2-3,31", s, 4), 0);
	ck_assert_int_eq(xcall_cpulist_format(s, 4, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "0,2-3,31");
	ck_assert_int_eq(xcall_cpulist_parse("0-30", p, 4), 0);
	ck_assert_int_eq(xcall_cpulist_parse("0-31", o, 4), 0);
	ck_assert_int_eq(xcall_cpus_check(s, p, o, 4, b), -ENODEV);
	ck_assert_int_eq(xcall_cpulist_format(b, 4, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "31");
	/* The machine may have more than 32 CPUs: then -ERANGE. */
	ret = xcall_cpus_online(s, 4);
	ck_assert(ret == 0 || ret == -ERANGE);
	ret = xcall_cpus_possible(s, 4);
	ck_assert(ret == 0 || ret == -ERANGE);
	ret = xcall_node_cpus(0, s, 4);
	ck_assert(ret == 0 || ret == -ERANGE);
	free(b);
	free(o);
	free(p);
	free(s);
}
END_TEST

START_TEST(test_null_sets)
{
	ck_assert_int_eq(xcall_node_cpus(0, NULL, 128), -EINVAL);
	ck_assert_int_eq(xcall_cpus_online(NULL, 128), -EINVAL);
	ck_assert_int_eq(xcall_cpus_possible(NULL, 128), -EINVAL);
	ck_assert_int_eq(xcall_cpulist_format(NULL, 128, NULL, 0), -EINVAL);
	ck_assert_int_eq(xcall_cpus_check(NULL, NULL, NULL, 128, NULL),
			 -EINVAL);
}
END_TEST

static Suite *cpulist_suite(void)
{
	Suite *s = suite_create("cpulist");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_golden, 0,
			    sizeof(golden) / sizeof(golden[0]));
	tcase_add_test(tc, test_parse_clears);
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_parse_small_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_empty);
	tcase_add_test(tc, test_format_nospace);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, setup_check, teardown_check);
	tcase_add_loop_test(tc, test_check, 0,
			    sizeof(check_table) / sizeof(check_table[0]));
	tcase_add_test(tc, test_check_partial_word);
	tcase_add_test(tc, test_check_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("machine");
	tcase_add_test(tc, test_machine);
	tcase_add_test(tc, test_small_sets);
	tcase_add_test(tc, test_null_sets);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(cpulist_suite)
