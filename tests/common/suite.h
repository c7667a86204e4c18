/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The end of a Check program's main(): run @s as the environment says
 * (CK_FORK, CK_RUN_CASE, ...), print the summary, and give the exit
 * status: 0 if every test passed. Include <check.h> and <stdlib.h> first.
 */
#ifndef XCALL_TEST_SUITE_H
#define XCALL_TEST_SUITE_H

static inline int xc_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int ok;

	srunner_run_all(sr, CK_NORMAL);
	ok = !srunner_ntests_failed(sr);
	srunner_free(sr);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* XCALL_TEST_SUITE_H */
