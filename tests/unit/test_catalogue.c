// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for the function catalogue (lib/catalogue.c): it holds
 * exactly the functions of XCALL_FUNCTIONS() in xcall.h with their ids,
 * names, argument counts, privilege and backends; every argument has a
 * name and a sane range; result fields are unique JSON keys, each a
 * member of struct xcall_result of a size its kind reads; lookups by id
 * and name, and the nearest-name suggestion.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "libxcall.h"

static const struct {
	unsigned int id;
	const char *name;
	unsigned int amin, amax, priv, bk;
} abi[] = {
#define X(ID, nm, amin, amax, priv, bk) \
	{ XCALL_FN_##ID, #nm, amin, amax, priv, bk },
	XCALL_FUNCTIONS(X)
#undef X
};

#define NABI	(sizeof(abi) / sizeof(abi[0]))

START_TEST(test_count)
{
	ck_assert_uint_eq(xcall_fn_count(), XCALL_FN_COUNT);
	ck_assert_uint_eq(xcall_fn_count(), NABI);
}
END_TEST

START_TEST(test_entry_matches_abi)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(abi[_i].id);

	ck_assert_ptr_nonnull(fi);
	ck_assert_uint_eq(fi->id, abi[_i].id);
	ck_assert_uint_eq(fi->id, _i);
	ck_assert_str_eq(fi->name, abi[_i].name);
	ck_assert_uint_eq(fi->min_args, abi[_i].amin);
	ck_assert_uint_eq(fi->max_args, abi[_i].amax);
	ck_assert_uint_le(fi->max_args, XCALL_MAX_ARGS);
	ck_assert_uint_eq(fi->priv, abi[_i].priv);
	ck_assert_uint_eq(fi->backends, abi[_i].bk);
	ck_assert_ptr_eq(xcall_fn_by_name(abi[_i].name), fi);
	ck_assert_ptr_nonnull(fi->summary);
	ck_assert_uint_gt(strlen(fi->summary), 0);
	/* One line, fits a table: no newline, under 70 columns. */
	ck_assert_ptr_null(strchr(fi->summary, '\n'));
	ck_assert_uint_lt(strlen(fi->summary), 70);
}
END_TEST

START_TEST(test_args)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(_i);
	unsigned int j, k;

	ck_assert(fi->max_args == 0 || fi->args);
	for (j = 0; j < fi->max_args; j++) {
		const struct xcall_arg_info *a = &fi->args[j];

		ck_assert_ptr_nonnull(a->name);
		ck_assert_ptr_nonnull(a->help);
		ck_assert_uint_le(a->min, a->max);
		/* An optional argument's default must be acceptable. */
		if (j >= fi->min_args) {
			ck_assert_uint_ge(a->dflt, a->min);
			ck_assert_uint_le(a->dflt, a->max);
		}
		for (k = 0; k < j; k++)
			ck_assert_str_ne(fi->args[k].name, a->name);
	}
}
END_TEST

START_TEST(test_spin_capped)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(XCALL_FN_SPIN);

	ck_assert_uint_eq(fi->args[0].min, 1);
	ck_assert_uint_eq(fi->args[0].max, XCALL_SPIN_MAX_US);
}
END_TEST

static int is_key(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!islower((unsigned char)*k) && !isdigit((unsigned char)*k)
		    && *k != '_')
			return 0;
	return 1;
}

/* Keys every record has, added by the CLI: a field may not reuse one. */
static const char *const envelope[] = {
	"round", "cpu", "fn", "ok", "errno", "error",
};

START_TEST(test_fields)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(_i);
	const struct xcall_field_info *f, *g;
	unsigned int e;

	ck_assert_ptr_nonnull(fi->fields);
	for (f = fi->fields; f->key; f++) {
		ck_assert_msg(is_key(f->key), "%s: bad key '%s'", fi->name,
			      f->key);
		ck_assert_ptr_nonnull(f->help);
		for (g = fi->fields; g < f; g++)
			ck_assert_str_ne(g->key, f->key);
		for (e = 0; e < sizeof(envelope) / sizeof(envelope[0]); e++)
			ck_assert_str_ne(f->key, envelope[e]);
	}
}
END_TEST

/*
 * Each field lies inside struct xcall_result and its kind fits its member:
 * numbers are 32 or 64 bits, text is a char array.
 */
START_TEST(test_field_layout)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(_i);
	const struct xcall_field_info *f;

	for (f = fi->fields; f->key; f++) {
		ck_assert_msg(f->offset + f->size <=
			      sizeof(struct xcall_result),
			      "%s: %s lies outside the record", fi->name,
			      f->key);
		switch (f->kind) {
		case XCALL_FIELD_NUM:
		case XCALL_FIELD_ID:
		case XCALL_FIELD_DELTA:
		case XCALL_FIELD_REG:
		case XCALL_FIELD_CTX:
			ck_assert_msg(f->size == 4 || f->size == 8,
				      "%s: %s is %u bytes, not a number",
				      fi->name, f->key, f->size);
			ck_assert_uint_eq(f->offset % f->size, 0);
			break;
		case XCALL_FIELD_TEXT:
			ck_assert_uint_gt(f->size, 1);
			break;
		case XCALL_FIELD_MSR_ADDR:
			ck_assert_uint_eq(f->size, 8);
			ck_assert_uint_eq(f->offset % 8, 0);
			break;
		case XCALL_FIELD_MSR_VALUE:
			/* The CLI reads its address in the field before. */
			ck_assert_msg(f > fi->fields &&
				      f[-1].kind == XCALL_FIELD_MSR_ADDR,
				      "%s: %s does not follow its address",
				      fi->name, f->key);
			ck_assert_uint_eq(f->size, 8);
			ck_assert_uint_eq(f->offset % 8, 0);
			break;
		default:
			ck_abort_msg("%s: %s has kind %u", fi->name, f->key,
				     f->kind);
		}
	}
}
END_TEST

/*
 * msr: one argument and one address/value pair per MSR, where the module
 * puts them (xcall.h): value i in val[i], address i in val[4 + i]; and only
 * on the module's backends, on x86 alone.
 */
START_TEST(test_msr_layout)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(XCALL_FN_MSR);
	const struct xcall_field_info *f = fi->fields;
	unsigned int i;

	ck_assert_uint_eq(fi->max_args, XCALL_MSR_MAX);
	ck_assert_uint_eq(fi->priv, XCALL_PRIV_ADMIN);
	for (i = 0; i < XCALL_MSR_MAX; i++, f += 2) {
		ck_assert_uint_eq(fi->args[i].max, UINT32_MAX);
		ck_assert_uint_eq(f[0].kind, XCALL_FIELD_MSR_ADDR);
		ck_assert_uint_eq(f[0].offset,
				  offsetof(struct xcall_result,
					   val[XCALL_MSR_MAX + i]));
		ck_assert_uint_eq(f[1].kind, XCALL_FIELD_MSR_VALUE);
		ck_assert_uint_eq(f[1].offset,
				  offsetof(struct xcall_result, val[i]));
	}
	ck_assert_ptr_null(f->key);
#if defined(__x86_64__) || defined(__i386__)
	ck_assert_uint_eq(fi->backends, XCALL_BK_KMOD | XCALL_BK_DAEMON);
#else
	ck_assert_uint_eq(fi->backends, 0);
#endif
}
END_TEST

/* The allowlist: what it names, nothing else; never 0 (an unused slot). */
START_TEST(test_msr_allowlist)
{
	static const uint64_t in[] = { 0x10, 0x8b, 0xe7, 0xe8, 0xce, 0x198,
				       0x19c, 0x1b1, 0x1a0, 0x611,
				       0xc001029b };
	static const uint64_t out[] = { 0, 0x1b, 0x3a, 0x48, 0x79, 0xc0000080,
					0xc0000082, 0x10 + (1ULL << 32),
					~0ULL, 0x1d9 };
	unsigned int i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_msg(xcall_msr_allowed(in[i]), "0x%llx refused",
			      (unsigned long long)in[i]);
	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		ck_assert_msg(!xcall_msr_allowed(out[i]), "0x%llx allowed",
			      (unsigned long long)out[i]);
#define X(a, name, kind) ck_assert(xcall_msr_allowed(a) && a &&	\
				   (kind == XCALL_MSR_FIXED ||		\
				    kind == XCALL_MSR_COUNTER));
	XCALL_MSR_ALLOWLIST(X)
#undef X
}
END_TEST

START_TEST(test_unknown)
{
	ck_assert_ptr_null(xcall_fn_by_id(XCALL_FN_COUNT));
	ck_assert_ptr_null(xcall_fn_by_id(~0U));
	ck_assert_ptr_null(xcall_fn_by_name(NULL));
	ck_assert_ptr_null(xcall_fn_by_name(""));
	ck_assert_ptr_null(xcall_fn_by_name("PING"));
	ck_assert_ptr_null(xcall_fn_by_name("ping "));
	ck_assert_ptr_null(xcall_fn_by_name("pin"));
}
END_TEST

static const struct {
	const char *typo;
	const char *want;	/* NULL: nothing near enough */
} suggest[] = {
	{ "prboe", "probe" },
	{ "prob", "probe" },
	{ "probes", "probe" },
	{ "pnig", "ping" },
	{ "clk", "clock" },
	{ "idnet", "ident" },
	{ "spn", "spin" },
	{ "wher", "where" },
	{ "probe", "probe" },
	{ "x", NULL },
	/* 2 edits away but as many as the name has letters: not near. */
	{ "pi", NULL },
	{ "pin", "ping" },
	{ "", NULL },
	{ "zzzzzz", NULL },
	{ "frobnicate", NULL },
	{ "averyveryverylongnamethatisnotafunctionatallreallyreallynotat"
	  "allanywherenear", NULL },
};

START_TEST(test_suggest)
{
	const char *got = xcall_fn_suggest(suggest[_i].typo);

	if (!suggest[_i].want)
		ck_assert_msg(!got, "'%s' suggested '%s'", suggest[_i].typo,
			      got);
	else
		ck_assert_msg(got && !strcmp(got, suggest[_i].want),
			      "'%s': got '%s', want '%s'", suggest[_i].typo,
			      got ? got : "(null)", suggest[_i].want);
}
END_TEST

START_TEST(test_suggest_null)
{
	ck_assert_ptr_null(xcall_fn_suggest(NULL));
}
END_TEST

static Suite *catalogue_suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *tc;

	tc = tcase_create("abi");
	tcase_add_test(tc, test_count);
	tcase_add_loop_test(tc, test_entry_matches_abi, 0, NABI);
	suite_add_tcase(s, tc);

	tc = tcase_create("arguments");
	tcase_add_loop_test(tc, test_args, 0, XCALL_FN_COUNT);
	tcase_add_test(tc, test_spin_capped);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_add_loop_test(tc, test_fields, 0, XCALL_FN_COUNT);
	tcase_add_loop_test(tc, test_field_layout, 0, XCALL_FN_COUNT);
	tcase_add_test(tc, test_msr_layout);
	tcase_add_test(tc, test_msr_allowlist);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_unknown);
	tcase_add_loop_test(tc, test_suggest, 0,
			    sizeof(suggest) / sizeof(suggest[0]));
	tcase_add_test(tc, test_suggest_null);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(catalogue_suite)
