// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for what `xcall clock` prints (cli/clockfmt.c), fed offsets
 * that no machine here gives: CPUs in step and out of step, a failed CPU,
 * a counter of unknown frequency. The verdict lines and the JSON object,
 * byte for byte. Linked with cli/clockfmt.o and cli/format.o (tests/cli.mk).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clockfmt.h"

static struct sbuf sb;

static void setup(void)
{
	sb_init(&sb);
}

static void teardown(void)
{
	sb_free(&sb);
}

static const struct xcall_clock_offset in_step[] = {
	{ .cpu = 0 },
	{ .cpu = 1, .offset_ticks = 30, .bound_ticks = 800, .offset_ns = 15,
	  .bound_ns = 400, .mono_offset_ns = -20, .mono_bound_ns = 410,
	  .samples = 100 },
	{ .cpu = 2, .offset_ticks = -2, .bound_ticks = 1000, .offset_ns = -1,
	  .bound_ns = 500, .mono_offset_ns = 3, .mono_bound_ns = 390,
	  .samples = 100 },
};

static const struct xcall_clock_offset out_of_step[] = {
	{ .cpu = 0 },
	{ .cpu = 1, .offset_ticks = 30, .bound_ticks = 800, .offset_ns = 15,
	  .bound_ns = 400, .mono_offset_ns = -20, .mono_bound_ns = 410,
	  .samples = 100 },
	{ .cpu = 2, .offset_ticks = -95102, .bound_ticks = 94,
	  .offset_ns = -47551, .bound_ns = 47, .mono_offset_ns = 3,
	  .mono_bound_ns = 390, .unsynchronised = 1, .samples = 100 },
	{ .cpu = 3, .offset_ticks = 2000, .bound_ticks = 100,
	  .offset_ns = 1000, .bound_ns = 50, .mono_offset_ns = 9000,
	  .mono_bound_ns = 60, .unsynchronised = 1,
	  .mono_unsynchronised = 1, .samples = 100 },
	{ .cpu = 4, .error = -ETIMEDOUT },
};

static const char *tail(const char *s, unsigned int lines)
{
	const char *p = s + strlen(s);

	while (p > s && lines) {
		p--;
		if (p > s && p[-1] == '\n')
			lines--;
	}
	return lines ? s : p;
}

START_TEST(test_table_in_step)
{
	struct clock_report r = {
		.ref_cpu = 0, .backend = "kmod", .counter = "TSC",
		.hz = 2000000000, .samples = 100, .o = in_step, .n = 3,
	};

	fmt_clock_table(&sb, &r);
	ck_assert_str_eq(sb.s,
		"CPU  TSC_TICKS  BOUND  OFFSET_NS  BOUND_NS  MONO_NS  "
		"MONO_BOUND  SAMPLES  STATUS\n"
		"  0          0      0          0         0        0  "
		"         0        0  reference\n"
		"  1        +30    800        +15       400      -20  "
		"       410      100  in step\n"
		"  2         -2   1000         -1       500       +3  "
		"       390      100  in step\n"
		"\n"
		"TSC (2000.00 MHz) of cpu 0-2: in step within ±500 ns "
		"(±1000 ticks) of cpu 0\n"
		"CLOCK_MONOTONIC of cpu 0-2: in step within ±410 ns of cpu 0\n"
		"(best of 100 round trips per CPU through the kmod backend)\n");
}
END_TEST

START_TEST(test_table_out_of_step)
{
	struct clock_report r = {
		.ref_cpu = 0, .backend = "daemon", .counter = "CNTVCT",
		.hz = 62500000, .samples = 7, .o = out_of_step, .n = 5,
	};

	fmt_clock_table(&sb, &r);
	ck_assert_ptr_nonnull(strstr(sb.s, "\n  2        -95102     94     "
				     "-47551        47       +3         390"
				     "      100  OUT OF STEP\n"));
	ck_assert_ptr_nonnull(strstr(sb.s, "\n  4             -      -      "
				     "    -         -        -           -"
				     "        -  timed out\n"));
	ck_assert_str_eq(tail(sb.s, 3),
		"CNTVCT (62.50 MHz) of cpu 0-3: NOT in step: cpu 2-3 differ "
		"from cpu 0 by up to 47551 ns, 95102 ticks, beyond the bound\n"
		"CLOCK_MONOTONIC of cpu 0-3: NOT in step: cpu 3 differs from "
		"cpu 0 by up to 9000 ns, beyond the bound\n"
		"(best of 7 round trips per CPU through the daemon backend)\n");
}
END_TEST

START_TEST(test_table_no_hz)
{
	struct clock_report r = {
		.ref_cpu = 1, .backend = "threads", .counter = "none",
		.hz = 0, .samples = 1, .o = in_step + 1, .n = 1,
	};

	fmt_clock_table(&sb, &r);
	ck_assert_str_eq(tail(sb.s, 3),
		"none of cpu 1: in step within ±800 ticks of cpu 1\n"
		"CLOCK_MONOTONIC of cpu 1: in step within ±410 ns of cpu 1\n"
		"(best of 1 round trips per CPU through the threads backend)\n");
}
END_TEST

START_TEST(test_json)
{
	struct clock_report r = {
		.ref_cpu = 0, .backend = "kmod", .counter = "timebase",
		.hz = 512000000, .samples = 100, .o = out_of_step + 2, .n = 3,
	};

	fmt_clock_json(&sb, &r);
	ck_assert_str_eq(sb.s,
		"{\"ref_cpu\":0,\"backend\":\"kmod\",\"counter\":\"timebase\","
		"\"counter_hz\":512000000,\"samples\":100,\"in_step\":false,"
		"\"bound_ticks\":0,\"bound_ns\":0,\"mono_in_step\":false,"
		"\"mono_bound_ns\":390,\"cpus\":["
		"{\"cpu\":2,\"ok\":true,\"errno\":0,\"error\":null,"
		"\"offset_ticks\":-95102,\"bound_ticks\":94,"
		"\"offset_ns\":-47551,\"bound_ns\":47,\"mono_offset_ns\":3,"
		"\"mono_bound_ns\":390,\"unsynchronised\":true,"
		"\"mono_unsynchronised\":false,\"samples\":100},"
		"{\"cpu\":3,\"ok\":true,\"errno\":0,\"error\":null,"
		"\"offset_ticks\":2000,\"bound_ticks\":100,"
		"\"offset_ns\":1000,\"bound_ns\":50,\"mono_offset_ns\":9000,"
		"\"mono_bound_ns\":60,\"unsynchronised\":true,"
		"\"mono_unsynchronised\":true,\"samples\":100},"
		"{\"cpu\":4,\"ok\":false,\"errno\":110,\"error\":\"timed out\","
		"\"offset_ticks\":0,\"bound_ticks\":0,\"offset_ns\":0,"
		"\"bound_ns\":0,\"mono_offset_ns\":0,\"mono_bound_ns\":0,"
		"\"unsynchronised\":false,\"mono_unsynchronised\":false,"
		"\"samples\":0}]}\n");
	sb_free(&sb);
	sb_init(&sb);
	r.hz = 0;
	r.o = in_step;
	r.n = 1;
	fmt_clock_json(&sb, &r);
	ck_assert_ptr_nonnull(strstr(sb.s, "\"in_step\":true,"
				     "\"bound_ticks\":0,\"bound_ns\":null,"));
	ck_assert_ptr_nonnull(strstr(sb.s, "\"offset_ns\":null,"
				     "\"bound_ns\":null,"));
}
END_TEST

static Suite *clockfmt_suite(void)
{
	Suite *s = suite_create("clockfmt");
	TCase *tc;

	tc = tcase_create("output");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table_in_step);
	tcase_add_test(tc, test_table_out_of_step);
	tcase_add_test(tc, test_table_no_hz);
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(clockfmt_suite)
