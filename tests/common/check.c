// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one Check runner of every test program, and honest skips (see
 * check.h). Check runs each test in a child it forks: a skip is counted in
 * a page shared with the children, mapped before the first fork, and the
 * runner reads the count when the suite is done.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

struct xt_shared {
	atomic_int skipped;
};

static struct xt_shared *xt_shared;

/*
 * Root runs every root-only test: CI runs as root, so a root-only skip
 * there would be a test that never runs. XCALL_TEST_ROOT_GATE=1 applies
 * the same rule as another user (to try the gate without root).
 */
static bool root_gate(void)
{
	const char *e = getenv("XCALL_TEST_ROOT_GATE");

	return geteuid() == 0 || (e && *e && strcmp(e, "0"));
}

const char *__xt_skip(enum xt_skip_kind kind, const char *fmt, ...)
{
	static char why[512], msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (kind == XT_SKIP_ROOT && root_gate()) {
		snprintf(msg, sizeof(msg), "skipped as root, where a "
			 "root-only test must run: %s", why);
		return msg;
	}
	/* tcase_name() is the running test's name, despite its own. */
	printf("SKIP %s: %s\n", tcase_name(), why);
	fflush(stdout);
	if (xt_shared)
		atomic_fetch_add(&xt_shared->skipped, 1);
	return NULL;
}

int xt_check_main(Suite *(*suite)(void), int (*setup)(void))
{
	int ret, run, failed, skipped;
	SRunner *sr;

	if (setup) {
		ret = setup();
		if (ret)
			return ret;
	}
	xt_shared = mmap(NULL, sizeof(*xt_shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (xt_shared == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n",
			program_invocation_short_name, strerror(errno));
		return 1;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	skipped = atomic_load(&xt_shared->skipped);
	munmap(xt_shared, sizeof(*xt_shared));
	xt_shared = NULL;

	printf("%s: %d checks, %d failed, %d skipped\n",
	       program_invocation_short_name, run, failed, skipped);
	if (failed)
		return 1;
	return skipped && skipped >= run ? 77 : 0;
}
