/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one Check runner of every test program, and honest skips.
 *
 * XT_CHECK_MAIN(suite_fn) is a whole main(): it builds the suite, runs it
 * (CK_FORK as the environment says, on by default), prints Check's summary
 * and one line of its own with the skips, and returns 0, 1 if a test
 * failed, or 77 if every test skipped. XT_CHECK_MAIN_SETUP(suite_fn,
 * setup_fn) runs setup_fn() first in the runner itself; a non-zero return
 * is main()'s, and no test runs.
 *
 * A test that cannot run here says so and ends with xt_skip() or
 * xt_skip_env(), straight from its START_TEST body (each returns from it,
 * so the fixture's teardown runs as after a pass):
 *
 *   xt_skip(fmt, ...)      needs what root has (uids to become, users to
 *                          drop to, mounts). As root, or with
 *                          XCALL_TEST_ROOT_GATE=1, it is a failure: a
 *                          root-only test must run where CI runs it.
 *   xt_skip_env(fmt, ...)  needs what no privilege gives (CPUs, an
 *                          architecture, the way the run was configured):
 *                          a skip as root too.
 *
 * Either prints "SKIP <test>: <why>" and is counted in a page shared
 * with the forked test processes (and so with CK_FORK=no as well).
 *
 * Test programs include it as "check.h" (-iquote tests/common); it
 * includes Check's own <check.h>.
 */
#ifndef XCALL_TESTS_CHECK_H
#define XCALL_TESTS_CHECK_H

#include <check.h>

enum xt_skip_kind {
	XT_SKIP_ROOT,		/* root would have run it */
	XT_SKIP_ENV,		/* nobody could run it here */
};

/**
 * xt_check_main() - run a suite: what main() returns
 * @suite: builds the suite (after @setup)
 * @setup: NULL, or run first in the runner; its non-zero return is ours
 *
 * Return: 0, 1 if a test failed, 77 if every test skipped.
 */
int xt_check_main(Suite *(*suite)(void), int (*setup)(void));

/*
 * Print and count the skip of the running test, or, for a root-only skip
 * under the gate, return the message to fail it with.
 */
const char *__xt_skip(enum xt_skip_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define __XT_SKIP(kind, ...)						\
	do {								\
		const char *__why = __xt_skip(kind, __VA_ARGS__);	\
									\
		if (__why)						\
			ck_abort_msg("%s", __why);			\
		return;							\
	} while (0)

#define xt_skip(...)		__XT_SKIP(XT_SKIP_ROOT, __VA_ARGS__)
#define xt_skip_env(...)	__XT_SKIP(XT_SKIP_ENV, __VA_ARGS__)

#define XT_CHECK_MAIN_SETUP(suite_fn, setup_fn)				\
	int main(void)							\
	{								\
		return xt_check_main(suite_fn, setup_fn);		\
	}

#define XT_CHECK_MAIN(suite_fn)	XT_CHECK_MAIN_SETUP(suite_fn, NULL)

#endif
