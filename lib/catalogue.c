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

static const struct xcall_arg_info spin_args[] = {
	{ "us", "microseconds to busy-wait", 1, XCALL_SPIN_MAX_US, 0 },
};

/*
 * Result fields, in the order tables show them. The CLI adds the fields
 * every record has (round, cpu, fn, ok, errno, error; see xcall(1)).
 */
static const struct xcall_field_info ping_fields[] = {
	{ NULL, NULL },
};

static const struct xcall_field_info probe_fields[] = {
	{ "node", "NUMA node of the CPU" },
	{ "hwid", "hardware id: x86 APIC id, arm64 MPIDR, ppc PIR" },
	{ "cycles", "cycle counter read on the CPU" },
	{ "mono_ns", "CLOCK_MONOTONIC read on the CPU, ns" },
	{ "ctx", "what the CPU was doing: none, idle, user, kernel" },
	{ "pid", "interrupted task (ctx user or kernel)" },
	{ "comm", "its command name" },
	{ NULL, NULL },
};

static const struct xcall_field_info clock_fields[] = {
	{ "cycles", "cycle counter read on the CPU" },
	{ "mono_ns", "CLOCK_MONOTONIC read on the CPU, ns" },
	{ "offset_ns", "mono_ns minus the earliest mono_ns of the round" },
	{ NULL, NULL },
};

static const struct xcall_field_info ident_fields[] = {
#if defined(__x86_64__) || defined(__i386__)
	{ "leaf", "CPUID leaf asked for" },
	{ "subleaf", "CPUID subleaf asked for" },
	{ "eax", "CPUID EAX" },
	{ "ebx", "CPUID EBX" },
	{ "ecx", "CPUID ECX" },
	{ "edx", "CPUID EDX" },
#elif defined(__aarch64__)
	{ "midr", "MIDR_EL1" },
	{ "revidr", "REVIDR_EL1" },
	{ "mpidr", "MPIDR_EL1 affinity" },
#elif defined(__powerpc64__)
	{ "pvr", "processor version register" },
#endif
	{ NULL, NULL },
};

static const struct xcall_field_info spin_fields[] = {
	{ "asked_us", "microseconds asked for" },
	{ "spent_ns", "nanoseconds actually spent" },
	{ NULL, NULL },
};

static const struct xcall_field_info where_fields[] = {
	{ "ctx", "what the CPU was doing: idle, user, kernel" },
	{ "pid", "interrupted task (ctx user or kernel)" },
	{ "comm", "its command name" },
	{ "sym", "interrupted kernel code, fn+off/len" },
	{ NULL, NULL },
};

#define ping_args	NULL
#define probe_args	NULL
#define clock_args	NULL
#define where_args	NULL

#define ping_summary	"answer with the CPU that ran it"
#define probe_summary	"CPU, NUMA node, hardware id, cycle counter, " \
			"monotonic time"
#define clock_summary	"cycle counter and monotonic time, offsets " \
			"between CPUs"
#define ident_summary	"identification registers: x86 CPUID, arm64 " \
			"MIDR, ppc PVR"
#define spin_summary	"busy-wait on the CPU for US microseconds"
#define where_summary	"what the CPU was running when interrupted"

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
