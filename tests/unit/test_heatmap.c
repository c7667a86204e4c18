// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for `xcall latency`'s pure part (cli/heatmap.c): the
 * nearest-rank statistics against hand-computed ranks, the plain and the
 * coloured heatmap byte for byte, JSON and CSV lines per pair without the
 * diagonal, and the SVG's cells and escaping. Linked with cli/heatmap.o
 * and cli/format.o (tests/cli.mk). tests/cli/test_latency.sh checks the
 * real command's output with parsers xcall did not write.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "heatmap.h"

static struct sbuf sb;

static void setup(void)
{
	sb_init(&sb);
}

static void teardown(void)
{
	sb_free(&sb);
}

START_TEST(test_stats)
{
	uint64_t v[100];
	struct lat_cell c;
	unsigned int i;

	/* 100 .. 1 backwards: the median is the 50th, p99 the 99th. */
	for (i = 0; i < 100; i++)
		v[i] = 100 - i;
	lat_stats(v, 100, &c);
	ck_assert_uint_eq(c.samples, 100);
	ck_assert_uint_eq(c.median_ns, 50);
	ck_assert_uint_eq(c.p99_ns, 99);
	ck_assert_uint_eq(c.min_ns, 1);
	ck_assert_uint_eq(c.max_ns, 100);
	/* One sample is every statistic; three give the middle one. */
	v[0] = 7;
	lat_stats(v, 1, &c);
	ck_assert(c.median_ns == 7 && c.p99_ns == 7 && c.min_ns == 7);
	v[0] = 30, v[1] = 10, v[2] = 20;
	lat_stats(v, 3, &c);
	ck_assert_uint_eq(c.median_ns, 20);
	ck_assert_uint_eq(c.p99_ns, 30);
	lat_stats(v, 0, &c);
	ck_assert_uint_eq(c.samples, 0);
}
END_TEST

/* How many times @needle occurs in @hay. */
static unsigned int count(const char *hay, const char *needle)
{
	unsigned int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static const unsigned int cpus3[] = { 0, 2, 5 };

/* A 3-CPU matrix: pair (i, j) has median 100 * (i + 1) + j. */
static void matrix3(struct lat_matrix *m, struct lat_cell *cells)
{
	unsigned int i, j;

	memset(cells, 0, 9 * sizeof(*cells));
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			if (i == j)
				continue;
			cells[i * 3 + j] = (struct lat_cell){
				.samples = 10, .median_ns = 100 * (i + 1) + j,
				.p99_ns = 1000 + j, .min_ns = 1, .max_ns = 2000,
			};
		}
	}
	*m = (struct lat_matrix){
		.n = 3, .cpus = cpus3, .cell = cells, .backend = "kmod",
		.measure = "call", .host = "h<&>\"", .arch = "x86_64",
		.date = "2026-12-01 20:40 UTC",
	};
}

START_TEST(test_text_plain)
{
	static const char want[] =
		"xcall latency on h<&>\" (x86_64): kmod backend, call round "
		"trip, 2026-12-01 20:40 UTC\n\n"
		"median, ns (rows: caller CPU, columns: target CPU)\n"
		"from\\to   0   2   5\n"
		"      0   - 101 102\n"
		"      2 200   - 202\n"
		"      5 300 301   -\n\n"
		"p99, ns (rows: caller CPU, columns: target CPU)\n"
		"from\\to    0    2    5\n"
		"      0    - 1001 1002\n"
		"      2 1000    - 1002\n"
		"      5 1000 1001    -\n\n"
		"samples per pair: 10; -: the same CPU, not measured\n";
	struct lat_cell cells[9];
	struct lat_matrix m;

	matrix3(&m, cells);
	lat_fmt_text(&sb, &m, 0);
	ck_assert(!sb.oom);
	ck_assert_str_eq(sb.s, want);
	ck_assert_ptr_null(strchr(sb.s, '\033'));
}
END_TEST

START_TEST(test_text_colour)
{
	struct lat_cell cells[9];
	struct lat_matrix m;

	matrix3(&m, cells);
	cells[1].samples = 3;	/* the budget cut one pair short */
	lat_fmt_text(&sb, &m, 1);
	ck_assert(!sb.oom);
	/* Fastest pair green (cube 72), slowest red (167), on black. */
	ck_assert_ptr_nonnull(strstr(sb.s, "\033[48;5;72m\033[38;5;16m101"
				     "\033[0m"));
	ck_assert_ptr_nonnull(strstr(sb.s, "\033[48;5;167m\033[38;5;16m301"
				     "\033[0m"));
	/* Six cells per matrix, two matrices, and a scale under each. */
	ck_assert_uint_eq(count(sb.s, "\033[38;5;16m"), 12);
	ck_assert_ptr_nonnull(strstr(sb.s, " scale: 101 ns \033[48;5;72m  "));
	ck_assert_ptr_nonnull(strstr(sb.s, "\033[48;5;167m  \033[0m 301 "
				     "ns\n"));
	ck_assert_ptr_nonnull(strstr(sb.s, "samples per pair: 3 to 10 "
				     "(time budget)"));
}
END_TEST

START_TEST(test_json_csv)
{
	struct lat_cell cells[9];
	struct lat_matrix m;

	matrix3(&m, cells);
	lat_fmt_json(&sb, &m);
	ck_assert(!sb.oom);
	ck_assert_ptr_nonnull(strstr(sb.s,
		"{\"from\":0,\"to\":2,\"backend\":\"kmod\",\"measure\":"
		"\"call\",\"samples\":10,\"median_ns\":101,\"p99_ns\":1001,"
		"\"min_ns\":1,\"max_ns\":2000}\n{\"from\":0,\"to\":5,"));
	ck_assert_ptr_null(strstr(sb.s, "\"from\":2,\"to\":2,"));
	sb_free(&sb);
	sb_init(&sb);
	lat_fmt_csv(&sb, &m);
	ck_assert_str_eq(sb.s,
		"from,to,backend,measure,samples,median_ns,p99_ns,min_ns,"
		"max_ns\n"
		"0,2,kmod,call,10,101,1001,1,2000\n"
		"0,5,kmod,call,10,102,1002,1,2000\n"
		"2,0,kmod,call,10,200,1000,1,2000\n"
		"2,5,kmod,call,10,202,1002,1,2000\n"
		"5,0,kmod,call,10,300,1000,1,2000\n"
		"5,2,kmod,call,10,301,1001,1,2000\n");
}
END_TEST

START_TEST(test_svg)
{
	struct lat_cell cells[9];
	struct lat_matrix m;

	matrix3(&m, cells);
	lat_fmt_svg(&sb, &m);
	ck_assert(!sb.oom);
	ck_assert(!strncmp(sb.s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 78));
	ck_assert_str_eq(sb.s + sb.len - 7, "</svg>\n");
	ck_assert_uint_eq(count(sb.s, "<rect class=\"cell\""), 6);
	/* The host's name is escaped, never raw markup. */
	ck_assert_ptr_nonnull(strstr(sb.s, "h&lt;&amp;&gt;&quot; (x86_64)"));
	ck_assert_ptr_null(strstr(sb.s, "h<&"));
	ck_assert_ptr_nonnull(strstr(sb.s, "data-from=\"5\" data-to=\"2\" "
				     "data-median-ns=\"301\""));
	ck_assert_ptr_nonnull(strstr(sb.s, "fill=\"#d73027\" data-from=\"5\" "
				     "data-to=\"2\""));
	ck_assert_ptr_null(strstr(sb.s, "data-from=\"2\" data-to=\"2\""));
}
END_TEST

/* Many CPUs: smaller cells, every CPU still one column, in the picture. */
START_TEST(test_svg_many)
{
	unsigned int cpus[64], i;
	struct lat_cell *cells = calloc(64 * 64, sizeof(*cells));
	struct lat_matrix m = {
		.n = 64, .cpus = cpus, .cell = cells, .backend = "threads",
		.measure = "pingpong", .host = "big", .arch = "aarch64",
		.date = "d",
	};

	for (i = 0; i < 64; i++)
		cpus[i] = i;
	for (i = 0; i < 64 * 64; i++)
		cells[i].median_ns = i;
	lat_fmt_svg(&sb, &m);
	ck_assert(!sb.oom);
	ck_assert_uint_eq(count(sb.s, "<rect class=\"cell\""), 64 * 63);
	ck_assert_ptr_nonnull(strstr(sb.s, "width=\"10\" height=\"10\""));
	free(cells);
}
END_TEST

static Suite *heatmap_suite(void)
{
	Suite *s = suite_create("heatmap");
	TCase *tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* 4032 cells under ASan, on a loaded machine: not Check's 4 s. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_text_plain);
	tcase_add_test(tc, test_text_colour);
	tcase_add_test(tc, test_json_csv);
	tcase_add_test(tc, test_svg);
	tcase_add_test(tc, test_svg_many);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(heatmap_suite)
