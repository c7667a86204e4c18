// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The function catalogue: one entry per function of XCALL_FUNCTIONS() in
 * xcall.h (id, name, argument count, privilege, backends come from there
 * and only from there), plus what people and scripts need on top: a
 * summary, argument names and ranges, and the result fields that tables
 * and JSON records show. `xcall list`, `xcall --help`, the JSON keys and the
 * consistency tests against xcall(1) are all derived from this table.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "libxcall.h"

/* Arguments, max_args of them per function. */
static const struct xcall_arg_info ident_args[] = {
	{ "leaf", "x86 CPUID leaf (EAX); ignored elsewhere",
	  0, UINT32_MAX, 0 },
	{ "subleaf", "x86 CPUID subleaf (ECX); ignored elsewhere",
	  0, UINT32_MAX, 0 },
};

/* Up to XCALL_MSR_MAX addresses; xcall_req_check() wants the allowlist. */
#define MSR_ARG(n, h) { n, h, 0, UINT32_MAX, 0 }
static const struct xcall_arg_info msr_args[] = {
	MSR_ARG("addr0", "MSR address, on the allowlist of xcall(4)"),
	MSR_ARG("addr1", "another MSR address, read in the same call"),
	MSR_ARG("addr2", "another MSR address, read in the same call"),
	MSR_ARG("addr3", "another MSR address, read in the same call"),
};
#undef MSR_ARG

_Static_assert(sizeof(msr_args) / sizeof(msr_args[0]) == XCALL_MSR_MAX &&
	       XCALL_MSR_MAX <= XCALL_MAX_ARGS, "one argument per MSR");

static const struct xcall_arg_info spin_args[] = {
	{ "us", "microseconds to busy-wait", 1, XCALL_SPIN_MAX_US, 0 },
};

/*
 * Result fields, in the order tables show them. The CLI adds the fields
 * every record has (round, cpu, fn, ok, errno, error; see xcall(1)).
 *
 * FIELD(key, member, kind, help): @member of struct xcall_result holds the
 * field, so a misspelt member does not build and the CLI needs no list of
 * keys of its own.
 */
#define FIELD(k, m, kd, h) {						\
	.key = k,							\
	.help = h,							\
	.kind = XCALL_FIELD_##kd,					\
	.offset = offsetof(struct xcall_result, m),			\
	.size = sizeof(((struct xcall_result *)0)->m),			\
}
#define FIELDS_END	{ .key = NULL }

static const struct xcall_field_info ping_fields[] = {
	FIELDS_END,
};

static const struct xcall_field_info probe_fields[] = {
	FIELD("node", node, NUM, "NUMA node of the CPU"),
	FIELD("hwid", hwid, ID,
	      "hardware id: x86 APIC id, arm64 MPIDR, ppc PIR"),
	FIELD("cycles", cycles, NUM, "cycle counter read on the CPU"),
	FIELD("mono_ns", mono_ns, NUM, "CLOCK_MONOTONIC read on the CPU, ns"),
	FIELD("ctx", ctx, CTX,
	      "what the CPU was doing: none, idle, user, kernel"),
	FIELD("pid", pid, NUM, "interrupted task (ctx user or kernel)"),
	FIELD("comm", comm, TEXT, "its command name"),
	FIELDS_END,
};

static const struct xcall_field_info clock_fields[] = {
	FIELD("cycles", cycles, NUM, "cycle counter read on the CPU"),
	FIELD("mono_ns", mono_ns, NUM, "CLOCK_MONOTONIC read on the CPU, ns"),
	FIELD("offset_ns", mono_ns, DELTA,
	      "mono_ns minus the earliest mono_ns of the round "
	      "(not a clock offset)"),
	FIELDS_END,
};

/* Where each architecture's ident puts its registers: xcall.h. */
static const struct xcall_field_info ident_fields[] = {
#if defined(__x86_64__) || defined(__i386__)
	FIELD("leaf", val[4], NUM, "CPUID leaf asked for"),
	FIELD("subleaf", val[5], NUM, "CPUID subleaf asked for"),
	FIELD("eax", val[0], REG, "CPUID EAX"),
	FIELD("ebx", val[1], REG, "CPUID EBX"),
	FIELD("ecx", val[2], REG, "CPUID ECX"),
	FIELD("edx", val[3], REG, "CPUID EDX"),
#elif defined(__aarch64__)
	FIELD("midr", val[0], REG, "MIDR_EL1"),
	FIELD("revidr", val[1], REG, "REVIDR_EL1"),
	FIELD("mpidr", val[2], REG, "MPIDR_EL1 affinity"),
#elif defined(__powerpc64__)
	FIELD("pvr", val[0], REG, "processor version register"),
#endif
	FIELDS_END,
};

static const struct xcall_field_info spin_fields[] = {
	FIELD("asked_us", val[1], NUM, "microseconds asked for"),
	FIELD("spent_ns", val[0], NUM, "nanoseconds actually spent"),
	FIELDS_END,
};

static const struct xcall_field_info where_fields[] = {
	FIELD("ctx", ctx, CTX, "what the CPU was doing: idle, user, kernel"),
	FIELD("pid", pid, NUM, "interrupted task (ctx user or kernel)"),
	FIELD("comm", comm, TEXT, "its command name"),
	FIELD("sym", sym, TEXT, "interrupted kernel code, fn+off/len"),
	FIELDS_END,
};

/* Address i (bits 0-31 of val[4 + i]), then its value val[i]. */
#define MSR_FIELDS(i)							\
	FIELD("msr" #i, val[XCALL_MSR_MAX + i], MSR_ADDR,		\
	      "address of the MSR of argument " #i " (unused: null)"),	\
	FIELD("value" #i, val[i], MSR_VALUE,				\
	      "its value (null if not read)")

static const struct xcall_field_info msr_fields[] = {
	MSR_FIELDS(0),
	MSR_FIELDS(1),
	MSR_FIELDS(2),
	MSR_FIELDS(3),
	FIELDS_END,
};
#undef MSR_FIELDS

#undef FIELDS_END
#undef FIELD

#define ping_args	NULL
#define probe_args	NULL
#define clock_args	NULL
#define where_args	NULL

#define ping_summary	"answer with the CPU that ran it"
#define probe_summary	"CPU, NUMA node, hardware id, cycle counter, " \
			"monotonic time"
#define clock_summary	"cycle counter and monotonic time on the CPU " \
			"(see xcall clock)"
#define ident_summary	"identification registers: x86 CPUID, arm64 " \
			"MIDR, ppc PVR"
#define spin_summary	"busy-wait on the CPU for US microseconds"
#define where_summary	"what the CPU was running when interrupted"
#define msr_summary	"allowlisted x86 model-specific registers, read " \
			"through the module"

static const struct xcall_fn_info catalogue[] = {
#define __XCALL_FN_INFO(ID, nm, amin, amax, pv, bk)			\
	[XCALL_FN_##ID] = {						\
		.id = XCALL_FN_##ID,					\
		.name = #nm,						\
		.min_args = amin,					\
		.max_args = amax,					\
		.priv = pv,						\
		.backends = bk,						\
		.summary = nm##_summary,				\
		.args = nm##_args,					\
		.fields = nm##_fields,					\
	},
	XCALL_FUNCTIONS(__XCALL_FN_INFO)
#undef __XCALL_FN_INFO
};

_Static_assert(sizeof(catalogue) / sizeof(catalogue[0]) == XCALL_FN_COUNT,
	       "one catalogue entry per XCALL_FUNCTIONS() entry");

unsigned int xcall_fn_count(void)
{
	return XCALL_FN_COUNT;
}

const struct xcall_fn_info *xcall_fn_by_id(unsigned int id)
{
	return id < XCALL_FN_COUNT ? &catalogue[id] : NULL;
}

const struct xcall_fn_info *xcall_fn_by_name(const char *name)
{
	unsigned int i;

	if (!name)
		return NULL;
	for (i = 0; i < XCALL_FN_COUNT; i++)
		if (!strcmp(catalogue[i].name, name))
			return &catalogue[i];
	return NULL;
}

/* Levenshtein distance, case-sensitive; names here are short. */
static unsigned int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int row[32], prev, tmp, best;

	if (lb >= sizeof(row) / sizeof(row[0]) || la >= 64)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/*
 * Near means at most 2 edits and fewer edits than the name is long, so a
 * one-letter word does not "match" every short name.
 */
const char *xcall_fn_suggest(const char *name)
{
	unsigned int i, d, best = UINT_MAX;
	const char *found = NULL;

	if (!name || !*name)
		return NULL;
	for (i = 0; i < XCALL_FN_COUNT; i++) {
		d = edit_distance(name, catalogue[i].name);
		if (d < best) {
			best = d;
			found = catalogue[i].name;
		}
	}
	if (best > 2 || best >= strlen(name))
		return NULL;
	return found;
}
