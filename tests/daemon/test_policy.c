// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's policy (daemon/policy.c), without a daemon: a table of files
 * that must be refused with the line they name, and a table of callers,
 * functions and CPUs with the decision each must get.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "xcalld.h"

static const struct bad_file {
	const char *text;
	const char *err;	/* in the message */
} bad_files[] = {
	{ "allow\n", "x:1:" },
	{ "\n\nallow *\n", "x:3:" },
	{ "allow * nosuchfn\n", "no function 'nosuchfn'" },
	{ "allow bogus:x *\n", "expected *, user:" },
	{ "allow uid:abc *\n", "not a number" },
	{ "allow * * cpus=3-1\n", "not a CPU list" },
	{ "allow * * cpus=1 cpus=2\n", "cpus=LIST once" },
	{ "allow * * extra\n", "cpus=LIST once" },
	{ "permit * *\n", "expected allow, deny or limit" },
	{ "limit * rate\n", "expected KEY=N" },
	{ "limit * speed=3\n", "expected rate, burst, inflight or conns" },
	{ "limit * conns=0\n", "never serve a client" },
	{ "limit * rate=-1\n", "not a number" },
	{ "limit * inflight=0\n", "never serve" },
	{ "a b c d e f g h i j k l m n o p q\n", "too many words" },
};

START_TEST(test_bad_file)
{
	const struct bad_file *b = &bad_files[_i];
	struct xd_policy *p = NULL;
	char err[512] = "";

	ck_assert_int_eq(xd_policy_parse(b->text, "x", &p, err, sizeof(err),
					 NULL), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(err, b->err), "'%s': got '%s'", b->text, err);
}
END_TEST

static const char policy[] =
	"# comment line\n"
	"deny uid:1001 *            # one user out entirely\n"
	"allow uid:0 *\n"
	"allow gid:2000 spin cpus=2-3\n"
	"allow gid:3000 msr         # what msr-safe is for: group perf\n"
	"allow * unprivileged\n"
	"limit uid:0 inflight=1024\n"
	"limit * rate=100 burst=10 inflight=8 conns=3\n";

static const struct decision {
	uid_t uid;
	gid_t gid, extra;	/* extra: a supplementary group, or 0 */
	unsigned int fn;
	uint8_t cpus;		/* bitmap of CPUs 0-7 */
	int want;
} decisions[] = {
	{ 0, 0, 0, XCALL_FN_SPIN, 0xff, 0 },
	{ 0, 0, 0, XCALL_FN_WHERE, 0x01, 0 },
	{ 1000, 1000, 0, XCALL_FN_PING, 0xff, 0 },
	{ 1000, 1000, 0, XCALL_FN_SPIN, 0x04, -EPERM },
	{ 1000, 2000, 0, XCALL_FN_SPIN, 0x0c, 0 },	/* primary group */
	{ 1000, 1000, 2000, XCALL_FN_SPIN, 0x04, 0 },	/* supplementary */
	{ 1000, 1000, 2000, XCALL_FN_SPIN, 0x06, -EPERM }, /* CPU 1 too */
	{ 1000, 1000, 2000, XCALL_FN_WHERE, 0x04, -EPERM },
	{ 1001, 1001, 0, XCALL_FN_PING, 0x01, -EPERM },	/* denied first */
	{ 1001, 2000, 0, XCALL_FN_SPIN, 0x04, -EPERM },
	/* msr is privileged: not "unprivileged", granted by name alone. */
	{ 1000, 1000, 0, XCALL_FN_MSR, 0x01, -EPERM },
	{ 1000, 1000, 3000, XCALL_FN_MSR, 0xff, 0 },
	{ 1000, 3000, 0, XCALL_FN_MSR, 0x01, 0 },
	{ 1000, 3000, 0, XCALL_FN_SPIN, 0x04, -EPERM },
	{ 1000, 3000, 0, XCALL_FN_WHERE, 0x01, -EPERM },
	{ 0, 0, 0, XCALL_FN_MSR, 0xff, 0 },
};

START_TEST(test_decision)
{
	const struct decision *d = &decisions[_i];
	struct xd_cred c = { .uid = d->uid, .gid = d->gid };
	uint8_t set[8] = { d->cpus };
	struct xd_policy *p;
	char err[256];

	if (d->extra) {
		c.groups[0] = d->extra;
		c.ngroups = 1;
	}
	ck_assert_int_eq(xd_policy_parse(policy, "t", &p, err, sizeof(err),
					 NULL), 0);
	ck_assert_int_eq(xd_policy_check(p, &c, d->fn, set, sizeof(set)),
			 d->want);
	xd_policy_free(p);
}
END_TEST

START_TEST(test_limits)
{
	struct xd_cred root = { .uid = 0 }, user = { .uid = 1000 };
	struct xd_limits l;
	struct xd_policy *p;
	char err[256];

	ck_assert_int_eq(xd_policy_parse(policy, "t", &p, err, sizeof(err),
					 NULL), 0);
	xd_policy_limits(p, &root, &l);
	ck_assert_uint_eq(l.inflight, 1024);
	ck_assert_uint_eq(l.rate, 0);
	ck_assert_uint_eq(l.conns, 64);		/* the default */
	xd_policy_limits(p, &user, &l);
	ck_assert_uint_eq(l.rate, 100);
	ck_assert_uint_eq(l.burst, 10);
	ck_assert_uint_eq(l.inflight, 8);
	ck_assert_uint_eq(l.conns, 3);
	xd_policy_free(p);
}
END_TEST

static int warned;

static void count_warn(const char *msg)
{
	warned += strstr(msg, "no user 'no-such-user-xcall'") != NULL;
}

/* Unknown names warn and match nobody; the built-in policy parses. */
START_TEST(test_names)
{
	struct xd_cred c = { .uid = 0 };
	uint8_t set[8] = { 1 };
	struct xd_policy *p;
	char err[256];

	ck_assert_int_eq(xd_policy_parse("allow user:no-such-user-xcall *\n",
					 "t", &p, err, sizeof(err),
					 count_warn), 0);
	ck_assert_int_eq(warned, 1);
	ck_assert_int_eq(xd_policy_check(p, &c, XCALL_FN_PING, set, 8),
			 -EPERM);
	xd_policy_free(p);
	ck_assert_int_eq(xd_policy_parse("allow user:root *\n", "t", &p, err,
					 sizeof(err), NULL), 0);
	ck_assert_int_eq(xd_policy_check(p, &c, XCALL_FN_SPIN, set, 8), 0);
	xd_policy_free(p);
	ck_assert_int_eq(xd_policy_parse(xd_policy_default, "built-in", &p,
					 err, sizeof(err), NULL), 0);
	ck_assert_int_eq(xd_policy_check(p, &c, XCALL_FN_SPIN, set, 8), 0);
	c.uid = 1000;
	ck_assert_int_eq(xd_policy_check(p, &c, XCALL_FN_PROBE, set, 8), 0);
	ck_assert_int_eq(xd_policy_check(p, &c, XCALL_FN_SPIN, set, 8),
			 -EPERM);
	/* msr is privileged by default: for root and group xcall alone. */
	ck_assert_int_eq(xd_policy_check(p, &c, XCALL_FN_MSR, set, 8),
			 -EPERM);
	c.uid = 0;
	ck_assert_int_eq(xd_policy_check(p, &c, XCALL_FN_MSR, set, 8), 0);
	xd_policy_free(p);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_bad_file, 0,
			    sizeof(bad_files) / sizeof(bad_files[0]));
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("decide");
	tcase_add_loop_test(tc, test_decision, 0,
			    sizeof(decisions) / sizeof(decisions[0]));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(policy_suite)
