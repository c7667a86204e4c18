// SPDX-License-Identifier: GPL-2.0-only
/*
 * Broken input for the runner of check.h, run by tests/common/selftest.sh
 * (make check-skip-gate): suites that skip in each way, so that the gate
 * is seen to fail a root-only skip under root and to let the rest through.
 *
 *   selftest MODE    MODE: mixed (a pass, a root-only skip, an environment
 *                    skip), root (root-only skips alone), env (environment
 *                    skips alone), setup (a setup hook that fails)
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

static const char *mode = "mixed";

static void teardown(void)
{
	/* A skip returns from the test: the fixture is undone as usual. */
	printf("teardown %s\n", tcase_name());
	fflush(stdout);
}

START_TEST(test_passes)
{
	ck_assert_int_eq(1 + 1, 2);
}
END_TEST

START_TEST(test_needs_root)
{
	xt_skip("pretends to need root (%s)", "selftest");
	ck_abort_msg("ran on after xt_skip()");
}
END_TEST

START_TEST(test_needs_cpus)
{
	xt_skip_env("pretends to need %d CPUs", 4096);
	ck_abort_msg("ran on after xt_skip_env()");
}
END_TEST

static Suite *selftest_suite(void)
{
	Suite *s = suite_create("selftest");
	TCase *tc = tcase_create(mode);

	tcase_add_checked_fixture(tc, NULL, teardown);
	if (!strcmp(mode, "mixed")) {
		tcase_add_test(tc, test_passes);
		tcase_add_test(tc, test_needs_root);
		tcase_add_test(tc, test_needs_cpus);
	} else if (!strcmp(mode, "root")) {
		tcase_add_test(tc, test_needs_root);
		tcase_add_test(tc, test_needs_root);
	} else {
		tcase_add_test(tc, test_needs_cpus);
		tcase_add_test(tc, test_needs_cpus);
	}
	suite_add_tcase(s, tc);
	return s;
}

static int failing_setup(void)
{
	printf("selftest: setup fails\n");
	return 3;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		mode = argv[1];
	return xt_check_main(selftest_suite,
			     strcmp(mode, "setup") ? NULL : failing_setup);
}
