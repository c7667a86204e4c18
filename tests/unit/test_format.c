// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for the CLI's pure formatting (cli/format.c), byte for byte:
 * JSON strings, aligned tables, call records as JSON lines and as tables.
 * Linked with cli/format.o (tests/cli.mk).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "format.h"

static struct sbuf sb;

static void setup(void)
{
	sb_init(&sb);
}

static void teardown(void)
{
	sb_free(&sb);
}

static const struct {
	const char *in, *out;
} json_strings[] = {
	{ "", "\"\"" },
	{ "probe", "\"probe\"" },
	{ "a\"b", "\"a\\\"b\"" },
	{ "a\\b", "\"a\\\\b\"" },
	{ "a\nb\tc", "\"a\\nb\\tc\"" },
	{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
	{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
	{ NULL, "null" },
};

START_TEST(test_json_str)
{
	sb_json_str(&sb, json_strings[_i].in);
	ck_assert(!sb.oom);
	ck_assert_str_eq(sb.s, json_strings[_i].out);
}
END_TEST

START_TEST(test_sb_grows)
{
	int i;

	for (i = 0; i < 10000; i++)
		sb_printf(&sb, "%d,", i % 10);
	ck_assert_uint_eq(sb.len, 20000);
	ck_assert_uint_eq(strlen(sb.s), 20000);
	ck_assert(!strncmp(sb.s, "0,1,2,", 6));
}
END_TEST

START_TEST(test_table)
{
	static const char *const rows[][3] = {
		{ "CPU", "NAME", "N" },
		{ "0", "a", "5" },
		{ "12", "longer", "1234" },
		{ "3", NULL, "" },
	};
	struct table t;
	unsigned int i;

	table_init(&t, 3);
	table_right(&t, 0);
	table_right(&t, 2);
	for (i = 0; i < 4; i++)
		table_add(&t, rows[i]);
	table_render(&t, &sb);
	table_free(&t);
	/* Right-aligned numbers, "-" for NULL, no trailing blanks. */
	ck_assert_str_eq(sb.s,
			 "CPU  NAME       N\n"
			 "  0  a          5\n"
			 " 12  longer  1234\n"
			 "  3  -\n");
}
END_TEST

START_TEST(test_table_header_only)
{
	static const char *const hdr[] = { "A", "B" };
	struct table t;

	table_init(&t, 2);
	table_add(&t, hdr);
	table_render(&t, &sb);
	table_free(&t);
	ck_assert_str_eq(sb.s, "A  B\n");
}
END_TEST

/* ------------------------------------------------------------------------
 * Records.
 */

static struct xcall_result rec(unsigned int cpu, unsigned int fn)
{
	struct xcall_result r;

	memset(&r, 0, sizeof(r));
	r.cpu = cpu;
	r.fn = fn;
	r.node = cpu / 2;
	r.hwid = cpu * 2;
	r.cycles = 1000 + cpu;
	r.mono_ns = 500 + 10 * cpu;
	return r;
}

START_TEST(test_probe_json)
{
	struct xcall_result r[2] = { rec(0, XCALL_FN_PROBE),
				     rec(3, XCALL_FN_PROBE) };

	r[1].hwid = UINT64_MAX;		/* not known: null */
	r[1].ctx = XCALL_CTX_USER;
	r[1].pid = 42;
	strcpy(r[1].comm, "a\"b");
	fmt_records_json(&sb, xcall_fn_by_id(XCALL_FN_PROBE), r, 2, 7);
	ck_assert_str_eq(sb.s,
		"{\"round\":7,\"cpu\":0,\"fn\":\"probe\",\"ok\":true,"
		"\"errno\":0,\"error\":null,\"node\":0,\"hwid\":0,"
		"\"cycles\":1000,\"mono_ns\":500,\"ctx\":\"none\",\"pid\":0,"
		"\"comm\":\"\"}\n"
		"{\"round\":7,\"cpu\":3,\"fn\":\"probe\",\"ok\":true,"
		"\"errno\":0,\"error\":null,\"node\":1,\"hwid\":null,"
		"\"cycles\":1003,\"mono_ns\":530,\"ctx\":\"user\",\"pid\":42,"
		"\"comm\":\"a\\\"b\"}\n");
}
END_TEST

START_TEST(test_failed_json)
{
	struct xcall_result r = rec(5, XCALL_FN_SPIN);

	r.error = -ETIMEDOUT;
	fmt_records_json(&sb, xcall_fn_by_id(XCALL_FN_SPIN), &r, 1, 0);
	ck_assert_str_eq(sb.s,
		"{\"round\":0,\"cpu\":5,\"fn\":\"spin\",\"ok\":false,"
		"\"errno\":110,\"error\":\"timed out\"}\n");
}
END_TEST

/* Offsets are from the earliest successful record of the round. */
START_TEST(test_clock_offsets)
{
	struct xcall_result r[3] = { rec(0, XCALL_FN_CLOCK),
				     rec(1, XCALL_FN_CLOCK),
				     rec(2, XCALL_FN_CLOCK) };

	r[0].mono_ns = 900;
	r[1].mono_ns = 1000;
	r[2].mono_ns = 10;
	r[2].error = -ENXIO;	/* failed: not the base */
	fmt_records_table(&sb, xcall_fn_by_id(XCALL_FN_CLOCK), r, 3);
	ck_assert_str_eq(sb.s,
		"CPU  CYCLES  MONO_NS  OFFSET_NS  STATUS\n"
		"  0    1000      900          0  ok\n"
		"  1    1001     1000        100  ok\n"
		"  2       -        -          -  CPU is offline\n");
}
END_TEST

START_TEST(test_spin_table)
{
	struct xcall_result r = rec(1, XCALL_FN_SPIN);

	r.val[0] = 123456;
	r.val[1] = 100;
	fmt_records_table(&sb, xcall_fn_by_id(XCALL_FN_SPIN), &r, 1);
	ck_assert_str_eq(sb.s,
		"CPU  ASKED_US  SPENT_NS  STATUS\n"
		"  1       100    123456  ok\n");
}
END_TEST

START_TEST(test_ping)
{
	struct xcall_result r = rec(2, XCALL_FN_PING);

	fmt_records_table(&sb, xcall_fn_by_id(XCALL_FN_PING), &r, 1);
	ck_assert_str_eq(sb.s, "CPU  STATUS\n  2  ok\n");
	sb_free(&sb);
	fmt_records_json(&sb, xcall_fn_by_id(XCALL_FN_PING), &r, 1, 0);
	ck_assert_str_eq(sb.s,
		"{\"round\":0,\"cpu\":2,\"fn\":\"ping\",\"ok\":true,"
		"\"errno\":0,\"error\":null}\n");
}
END_TEST

#if defined(__x86_64__)
START_TEST(test_ident_x86)
{
	struct xcall_result r = rec(0, XCALL_FN_IDENT);

	r.val[0] = 0xd;
	r.val[1] = 0x756e6547;
	r.val[2] = 0x6c65746e;
	r.val[3] = 0x49656e69;
	r.val[4] = 7;
	r.val[5] = 1;
	fmt_records_json(&sb, xcall_fn_by_id(XCALL_FN_IDENT), &r, 1, 0);
	ck_assert_str_eq(sb.s,
		"{\"round\":0,\"cpu\":0,\"fn\":\"ident\",\"ok\":true,"
		"\"errno\":0,\"error\":null,\"leaf\":7,\"subleaf\":1,"
		"\"eax\":\"0x0000000d\",\"ebx\":\"0x756e6547\","
		"\"ecx\":\"0x6c65746e\",\"edx\":\"0x49656e69\"}\n");
}
END_TEST
#endif

START_TEST(test_where_sym)
{
	struct xcall_result r = rec(0, XCALL_FN_WHERE);

	r.ctx = XCALL_CTX_KERNEL;
	r.pid = 1;
	strcpy(r.comm, "init");
	strcpy(r.sym, "do_idle+0x1c/0x80");
	fmt_records_table(&sb, xcall_fn_by_id(XCALL_FN_WHERE), &r, 1);
	ck_assert_str_eq(sb.s,
		"CPU  CTX     PID  COMM  SYM                STATUS\n"
		"  0  kernel    1  init  do_idle+0x1c/0x80  ok\n");
}
END_TEST

/*
 * Every kind of field, read from where the field info says: the CLI holds
 * no list of keys, so another architecture's registers show the same way.
 */
#define F(k, m, kd) { k, "", XCALL_FIELD_##kd, \
		      offsetof(struct xcall_result, m), \
		      sizeof(((struct xcall_result *)0)->m) }

static const struct xcall_field_info kinds_fields[] = {
	F("midr", val[0], REG), F("node", node, NUM), F("cpu_id", cpu, ID),
	F("hwid", hwid, ID), F("off", val[2], DELTA), F("ctx", ctx, CTX),
	F("comm", comm, TEXT), { NULL, NULL, 0, 0, 0 },
};

static const struct xcall_fn_info kinds_fn = {
	.name = "kinds", .fields = kinds_fields,
};

START_TEST(test_field_kinds)
{
	struct xcall_result r[2] = { rec(4, 0), rec(UINT32_MAX, 0) };

	r[0].val[0] = 0x410fd034;
	r[0].val[2] = 70;
	r[0].hwid = UINT64_MAX;		/* not known: null */
	r[0].ctx = 99;			/* not a context we know */
	memcpy(r[0].comm, "0123456789abcdefXYZ", sizeof(r[0].comm));
	r[1].val[2] = 50;		/* the least: offsets are from it */
	r[1].ctx = XCALL_CTX_IDLE;
	fmt_records_json(&sb, &kinds_fn, r, 2, 0);
	ck_assert_str_eq(sb.s,
		"{\"round\":0,\"cpu\":4,\"fn\":\"kinds\",\"ok\":true,"
		"\"errno\":0,\"error\":null,\"midr\":\"0x410fd034\","
		"\"node\":2,\"cpu_id\":4,\"hwid\":null,\"off\":20,"
		"\"ctx\":\"?\",\"comm\":\"0123456789abcdef\"}\n"
		"{\"round\":0,\"cpu\":4294967295,\"fn\":\"kinds\",\"ok\":true,"
		"\"errno\":0,\"error\":null,\"midr\":\"0x00000000\","
		"\"node\":2147483647,\"cpu_id\":null,\"hwid\":4294967294,"
		"\"off\":0,\"ctx\":\"idle\",\"comm\":\"\"}\n");
}
END_TEST

/* A successful record has a value for every field of every function. */
START_TEST(test_no_null_field)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(_i);
	static const char envelope_end[] = "\"error\":null";
	struct xcall_result r = rec(1, _i);
	const char *after;

	r.ctx = XCALL_CTX_USER;
	strcpy(r.comm, "sh");
	if (_i == XCALL_FN_MSR) {	/* every slot used and read */
		r.val[4] = 0x10;
		r.val[5] = 0xe7;
		r.val[6] = 0xe8;
		r.val[7] = 0x8b;
	}
	fmt_records_json(&sb, fi, &r, 1, 0);
	after = strstr(sb.s, envelope_end);
	ck_assert_ptr_nonnull(after);
	ck_assert_msg(!strstr(after + sizeof(envelope_end) - 1, "null"),
		      "%s", sb.s);
}
END_TEST

/*
 * msr: a slot beyond the addresses asked for is null in JSON and has no
 * column in the table; one whose read failed (EIO in its high bits) has
 * its address and a null value; the record itself then says EIO.
 */
START_TEST(test_msr)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(XCALL_FN_MSR);
	struct xcall_result r[2] = { rec(0, XCALL_FN_MSR),
				     rec(1, XCALL_FN_MSR) };

	r[0].val[4] = 0x10;
	r[0].val[0] = 0x123456789abcdefULL;
	r[0].val[5] = 0xe7;
	r[0].val[1] = 7;
	r[1] = r[0];
	r[1].cpu = 1;
	r[1].val[0] = ~0ULL;
	fmt_records_json(&sb, fi, r, 2, 0);
	ck_assert_str_eq(sb.s,
		"{\"round\":0,\"cpu\":0,\"fn\":\"msr\",\"ok\":true,"
		"\"errno\":0,\"error\":null,\"msr0\":\"0x10\","
		"\"value0\":\"0x0123456789abcdef\",\"msr1\":\"0xe7\","
		"\"value1\":\"0x0000000000000007\",\"msr2\":null,"
		"\"value2\":null,\"msr3\":null,\"value3\":null}\n"
		"{\"round\":0,\"cpu\":1,\"fn\":\"msr\",\"ok\":true,"
		"\"errno\":0,\"error\":null,\"msr0\":\"0x10\","
		"\"value0\":\"0xffffffffffffffff\",\"msr1\":\"0xe7\","
		"\"value1\":\"0x0000000000000007\",\"msr2\":null,"
		"\"value2\":null,\"msr3\":null,\"value3\":null}\n");
	sb_free(&sb);
	fmt_records_table(&sb, fi, r, 2);
	ck_assert_str_eq(sb.s,
		"CPU  MSR0  VALUE0              MSR1  VALUE1              STATUS\n"
		"  0  0x10  0x0123456789abcdef  0xe7  0x0000000000000007  ok\n"
		"  1  0x10  0xffffffffffffffff  0xe7  0x0000000000000007  ok\n");
	sb_free(&sb);

	/* The second MSR faulted on CPU 1: the record fails with EIO. */
	r[1].val[5] |= (uint64_t)EIO << 32;
	r[1].val[1] = 0;
	r[1].error = -EIO;
	fmt_records_table(&sb, fi, r, 2);
	ck_assert_str_eq(sb.s,
		"CPU  MSR0  VALUE0              MSR1  VALUE1              STATUS\n"
		"  0  0x10  0x0123456789abcdef  0xe7  0x0000000000000007  ok\n"
		"  1  -     -                   -     -                   "
		"the CPU faulted reading an MSR (not implemented)\n");
	sb_free(&sb);
	/* A value whose read failed is null, its address still there. */
	r[1].error = 0;
	fmt_records_json(&sb, fi, &r[1], 1, 3);
	ck_assert_ptr_nonnull(strstr(sb.s,
		"\"msr1\":\"0xe7\",\"value1\":null,\"msr2\":null"));
	sb_free(&sb);
	/* Every record failed: only CPU and STATUS. */
	r[0].error = r[1].error = -EIO;
	fmt_records_table(&sb, fi, r, 2);
	ck_assert_str_eq(sb.s,
		"CPU  STATUS\n"
		"  0  the CPU faulted reading an MSR (not implemented)\n"
		"  1  the CPU faulted reading an MSR (not implemented)\n");
}
END_TEST

START_TEST(test_errmsg)
{
	ck_assert_str_eq(fmt_errmsg(-ETIMEDOUT), "timed out");
	ck_assert_str_eq(fmt_errmsg(-ENXIO), "CPU is offline");
	ck_assert_str_eq(fmt_errmsg(-EISDIR), strerror(EISDIR));
}
END_TEST

static Suite *format_suite(void)
{
	Suite *s = suite_create("format");
	TCase *tc;

	tc = tcase_create("text");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_json_str, 0,
			    sizeof(json_strings) / sizeof(json_strings[0]));
	tcase_add_test(tc, test_sb_grows);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_table_header_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_probe_json);
	tcase_add_test(tc, test_failed_json);
	tcase_add_test(tc, test_clock_offsets);
	tcase_add_test(tc, test_spin_table);
	tcase_add_test(tc, test_ping);
#if defined(__x86_64__)
	tcase_add_test(tc, test_ident_x86);
#endif
	tcase_add_test(tc, test_where_sym);
	tcase_add_test(tc, test_field_kinds);
	tcase_add_loop_test(tc, test_no_null_field, 0, XCALL_FN_COUNT);
	tcase_add_test(tc, test_msr);
	tcase_add_test(tc, test_errmsg);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(format_suite)
