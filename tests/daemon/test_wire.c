// SPDX-License-Identifier: GPL-2.0-only
/*
 * The xcalld frame codec (lib/wire.c): every frame round-trips, and every
 * way of breaking one is refused with its errno, whatever the length.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "wire.h"

static uint8_t buf[XCALL_WIRE_MAX_FRAME];

/* Where things are in a frame (the sizes are fixed in lib/wire.c). */
#define HDR		sizeof(struct xcall_wire_hdr)
#define HDR_AT(f)	offsetof(struct xcall_wire_hdr, f)
#define CALL_AT(f)	(HDR + offsetof(struct xcall_wire_call, f))

static int enc_ping(uint64_t id, unsigned int cpu)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };
	uint8_t set[16] = { 0 };

	set[cpu / 8] = 1U << (cpu % 8);
	return __xcall_wire_enc_call(buf, sizeof(buf), id, &req, set, 16);
}

START_TEST(test_call_roundtrip)
{
	struct xcall_req req = { .fn = XCALL_FN_IDENT, .nargs = 2,
				 .args = { 7, 1 }, .timeout_ms = 50 };
	uint8_t set[8] = { 0x05 };
	struct xcall_wire_callreq cr;
	uint64_t id;
	int len;

	len = __xcall_wire_enc_call(buf, sizeof(buf), 99, &req, set, 8);
	ck_assert_int_eq(len, HDR + sizeof(struct xcall_wire_call) + 8);
	ck_assert_int_eq(__xcall_wire_dec_call(buf, len, &id, &cr), 0);
	ck_assert_uint_eq(id, 99);
	ck_assert_uint_eq(cr.req.fn, XCALL_FN_IDENT);
	ck_assert_uint_eq(cr.req.nargs, 2);
	ck_assert_uint_eq(cr.req.args[0], 7);
	ck_assert_uint_eq(cr.req.args[1], 1);
	ck_assert_uint_eq(cr.req.timeout_ms, 50);
	ck_assert_uint_eq(cr.ncpus, 2);
	ck_assert_uint_eq(cr.cpuset_size, 8);
	ck_assert_uint_eq(cr.cpuset[0], 0x05);
}
END_TEST

START_TEST(test_reply_roundtrip)
{
	struct xcall_result res[3], out;
	struct xcall_wire_callrep rep;
	uint64_t id;
	int len, i;

	memset(res, 0, sizeof(res));
	for (i = 0; i < 3; i++) {
		res[i].cpu = i * 2;
		res[i].val[0] = 1000 + i;
		strcpy(res[i].comm, "x");
	}
	len = __xcall_wire_enc_reply(buf, sizeof(buf), 5, 0, res, 3);
	ck_assert_int_eq(len, XCALL_WIRE_REPLY_RES +
			 3 * sizeof(struct xcall_result));
	ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, &id, &rep), 0);
	ck_assert_uint_eq(id, 5);
	ck_assert_uint_eq(rep.nres, 3);
	for (i = 0; i < 3; i++) {
		__xcall_wire_reply_res(&rep, i, &out);
		ck_assert_int_eq(memcmp(&out, &res[i], sizeof(out)), 0);
	}
	len = __xcall_wire_enc_reply(buf, sizeof(buf), 6, -EPERM, NULL, 0);
	ck_assert_int_eq(__xcall_wire_dec_reply(buf, len, &id, &rep), 0);
	ck_assert_int_eq(rep.error, -EPERM);
	ck_assert_int_eq(__xcall_wire_enc_reply(buf, sizeof(buf), 6, -EPERM,
						res, 1), -EINVAL);
}
END_TEST

START_TEST(test_status_roundtrip)
{
	struct xcall_wire_status st = { .backend = 1, .served = 77 }, o;
	uint64_t calls[6] = { 1, 2, 3, 4, 5, 6 }, oc[8];
	uint64_t id;
	int len;

	strcpy(st.version, XCALL_VERSION);
	len = __xcall_wire_enc_status(buf, sizeof(buf), 3, &st, calls, 6);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(__xcall_wire_dec_status(buf, len, &id, &o, oc, 8),
			 0);
	ck_assert_str_eq(o.version, XCALL_VERSION);
	ck_assert_uint_eq(o.served, 77);
	ck_assert_uint_eq(o.nr_fns, 6);
	ck_assert_uint_eq(oc[5], 6);
	ck_assert_uint_eq(oc[6], 0);
	len = __xcall_wire_enc_status_req(buf, sizeof(buf), 8);
	ck_assert_int_eq(len, HDR);
	ck_assert_int_eq(__xcall_wire_dec_status(buf, len, &id, &o, oc, 8),
			 -EBADMSG);
}
END_TEST

/* Every shorter prefix and every longer frame is refused. */
START_TEST(test_lengths)
{
	struct xcall_wire_callreq cr;
	struct xcall_wire_hdr h;
	uint64_t id;
	int len = enc_ping(1, 3), n;

	for (n = 0; n < len; n++) {
		ck_assert_int_lt(__xcall_wire_dec_call(buf, n, &id, &cr), 0);
		ck_assert_int_lt(__xcall_wire_hdr(buf, n, &h), 0);
	}
	ck_assert_int_eq(__xcall_wire_dec_call(buf, len + 1, &id, &cr),
			 -EBADMSG);
	ck_assert_int_eq(__xcall_wire_enc_call(buf, len - 1, 1,
		&(struct xcall_req){ .fn = 0 }, buf, 16), -ENOSPC);
}
END_TEST

struct bad {
	unsigned int off;	/* byte to change */
	uint8_t val;
	int err;
};

/* Single-byte damage to a valid CALL, and the errno it gets. */
static const struct bad bad[] = {
	{ HDR_AT(magic), 0x00, -EBADMSG },
	{ HDR_AT(version), 0x02, -EPROTONOSUPPORT },
	{ HDR_AT(type), 0x81, -EBADMSG },		/* another type */
	{ HDR_AT(len), 0x00, -EBADMSG },
	{ HDR_AT(error), 0x01, -EINVAL },		/* set in a request */
	{ HDR_AT(reserved), 0x01, -EINVAL },
	{ CALL_AT(flags), 0x08, -EINVAL },		/* unknown flag */
	{ CALL_AT(nargs), 0x05, -EINVAL },		/* > XCALL_MAX_ARGS */
	{ CALL_AT(args), 0x01, -EINVAL },		/* unused, not zero */
	{ CALL_AT(cpuset_size), 0x08, -EBADMSG },	/* vs length */
	{ CALL_AT(reserved), 0x01, -EINVAL },
};

START_TEST(test_damage)
{
	const struct bad *b = &bad[_i];
	struct xcall_wire_callreq cr;
	uint64_t id;
	int len = enc_ping(1, 3);

	buf[b->off] = b->val;
	ck_assert_int_eq(__xcall_wire_dec_call(buf, len, &id, &cr), b->err);
}
END_TEST

START_TEST(test_limits)
{
	static uint8_t set[XCALL_MAX_CPUSET_BYTES];
	struct xcall_req req = { .fn = 0 };
	struct xcall_wire_callreq cr;
	uint64_t id;
	int len;

	/* 256 CPUs fit in one call, 257 do not */
	memset(set, 0xff, 32);
	len = __xcall_wire_enc_call(buf, sizeof(buf), 1, &req, set, 1024);
	ck_assert_int_eq(__xcall_wire_dec_call(buf, len, &id, &cr), 0);
	ck_assert_uint_eq(cr.ncpus, 256);
	set[40] = 1;
	len = __xcall_wire_enc_call(buf, sizeof(buf), 1, &req, set, 1024);
	ck_assert_int_eq(__xcall_wire_dec_call(buf, len, &id, &cr), -EMSGSIZE);
	ck_assert_int_eq(__xcall_wire_enc_call(buf, sizeof(buf), 1, &req, set,
					       12), -EMSGSIZE);
	ck_assert_int_eq(__xcall_wire_enc_call(buf, sizeof(buf), 1, &req, set,
					       1032), -EMSGSIZE);
	ck_assert_int_eq(__xcall_wire_enc_reply(buf, sizeof(buf), 1, 0, NULL,
						257), -EINVAL);
	ck_assert_int_eq(__xcall_wire_peek_id("\x43\x58", 2), 0);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc;

	tc = tcase_create("round trips");
	tcase_add_test(tc, test_call_roundtrip);
	tcase_add_test(tc, test_reply_roundtrip);
	tcase_add_test(tc, test_status_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("bad frames");
	tcase_add_test(tc, test_lengths);
	tcase_add_loop_test(tc, test_damage, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(wire_suite)
