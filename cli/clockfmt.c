// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall clock` output: a row per CPU with its offsets from the reference
 * CPU and their bounds, then the answer to the one question, whether the
 * CPUs' clocks are in step and to within how much, or the same as one
 * JSON object. Pure: see clockfmt.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clockfmt.h"

/* What the rows add up to. */
struct clock_sum {
	cpu_set_t *ok, *out, *mono_out;	/* measured; and out of step */
	uint64_t bound_ticks, bound_ns, mono_bound_ns;	/* largest, in step */
	uint64_t worst_ns, worst_ticks, mono_worst_ns;	/* largest |offset| */
};

#define SUM_SETSIZE	CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8)

static uint64_t uabs(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static int sum_init(struct clock_sum *s, const struct clock_report *r)
{
	const struct xcall_clock_offset *o;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->ok = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	s->out = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	s->mono_out = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	if (!s->ok || !s->out || !s->mono_out)
		return -1;
	CPU_ZERO_S(SUM_SETSIZE, s->ok);
	CPU_ZERO_S(SUM_SETSIZE, s->out);
	CPU_ZERO_S(SUM_SETSIZE, s->mono_out);
	for (i = 0; i < r->n; i++) {
		o = &r->o[i];
		if (o->error || o->cpu < 0 ||
		    o->cpu >= XCALL_MAX_CPUSET_BYTES * 8)
			continue;
		CPU_SET_S(o->cpu, SUM_SETSIZE, s->ok);
		if (o->unsynchronised) {
			CPU_SET_S(o->cpu, SUM_SETSIZE, s->out);
			s->worst_ns = max64(s->worst_ns, uabs(o->offset_ns));
			s->worst_ticks = max64(s->worst_ticks,
					       uabs(o->offset_ticks));
		} else {
			s->bound_ticks = max64(s->bound_ticks,
					       o->bound_ticks);
			s->bound_ns = max64(s->bound_ns, o->bound_ns);
		}
		if (o->mono_unsynchronised) {
			CPU_SET_S(o->cpu, SUM_SETSIZE, s->mono_out);
			s->mono_worst_ns = max64(s->mono_worst_ns,
						 uabs(o->mono_offset_ns));
		} else {
			s->mono_bound_ns = max64(s->mono_bound_ns,
						 o->mono_bound_ns);
		}
	}
	return 0;
}

static void sum_free(struct clock_sum *s)
{
	CPU_FREE(s->mono_out);
	CPU_FREE(s->out);
	CPU_FREE(s->ok);
}

static const char *cpus(const cpu_set_t *set, char *buf, size_t len)
{
	if (xcall_cpulist_format(set, SUM_SETSIZE, buf, len) < 0)
		snprintf(buf, len, "(many)");
	return buf;
}

/* "in step within ±546 ns (±1417 ticks)", or why not. */
static void verdict(struct sbuf *sb, const struct clock_report *r,
		    const struct clock_sum *s)
{
	char list[256], out[256];

	cpus(s->ok, list, sizeof(list));
	sb_printf(sb, "%s", r->counter);
	if (r->hz)
		sb_printf(sb, " (%.2f MHz)", r->hz / 1e6);
	sb_printf(sb, " of cpu %s: ", list);
	if (CPU_COUNT_S(SUM_SETSIZE, s->out)) {
		sb_printf(sb, "NOT in step: cpu %s differ%s from cpu %d by "
			  "up to ", cpus(s->out, out, sizeof(out)),
			  CPU_COUNT_S(SUM_SETSIZE, s->out) > 1 ? "" : "s",
			  r->ref_cpu);
		if (r->hz)
			sb_printf(sb, "%llu ns, ",
				  (unsigned long long)s->worst_ns);
		sb_printf(sb, "%llu ticks, beyond the bound\n",
			  (unsigned long long)s->worst_ticks);
	} else {
		sb_puts(sb, "in step within ±");
		if (r->hz)
			sb_printf(sb, "%llu ns (±%llu ticks)",
				  (unsigned long long)s->bound_ns,
				  (unsigned long long)s->bound_ticks);
		else
			sb_printf(sb, "%llu ticks",
				  (unsigned long long)s->bound_ticks);
		sb_printf(sb, " of cpu %d\n", r->ref_cpu);
	}
	sb_printf(sb, "CLOCK_MONOTONIC of cpu %s: ", list);
	if (CPU_COUNT_S(SUM_SETSIZE, s->mono_out))
		sb_printf(sb, "NOT in step: cpu %s differ%s from cpu %d by "
			  "up to %llu ns, beyond the bound\n",
			  cpus(s->mono_out, out, sizeof(out)),
			  CPU_COUNT_S(SUM_SETSIZE, s->mono_out) > 1 ? "" : "s",
			  r->ref_cpu, (unsigned long long)s->mono_worst_ns);
	else
		sb_printf(sb, "in step within ±%llu ns of cpu %d\n",
			  (unsigned long long)s->mono_bound_ns, r->ref_cpu);
	sb_printf(sb, "(best of %u round trips per CPU through the %s "
		  "backend)\n", r->samples, r->backend);
}

static const char *num(char *buf, size_t len, const char *fmt, long long v)
{
	snprintf(buf, len, fmt, v);
	return buf;
}

#define NCOLS	9

void fmt_clock_table(struct sbuf *sb, const struct clock_report *r)
{
	char b[NCOLS - 1][32], off[48];
	const struct xcall_clock_offset *o;
	const char *row[NCOLS], *sfmt;
	struct clock_sum s;
	struct table t;
	unsigned int i;

	table_init(&t, NCOLS);
	for (i = 0; i < NCOLS - 1; i++)
		table_right(&t, i);
	/* ASCII only: the table aligns bytes. */
	snprintf(off, sizeof(off), "%s_TICKS", r->counter);
	table_add(&t, (const char *const[]){ "CPU", off, "BOUND",
		  "OFFSET_NS", "BOUND_NS", "MONO_NS", "MONO_BOUND",
		  "SAMPLES", "STATUS" });
	for (i = 0; i < r->n; i++) {
		o = &r->o[i];
		row[0] = num(b[0], 32, "%lld", o->cpu);
		for (int c = 1; c < NCOLS; c++)
			row[c] = NULL;
		if (o->error) {
			row[8] = fmt_errmsg(o->error);
			table_add(&t, row);
			continue;
		}
		/* Signed offsets, but the reference's is just 0. */
		sfmt = o->cpu == r->ref_cpu ? "%lld" : "%+lld";
		row[1] = num(b[1], 32, sfmt, o->offset_ticks);
		row[2] = num(b[2], 32, "%lld", o->bound_ticks);
		if (r->hz) {
			row[3] = num(b[3], 32, sfmt, o->offset_ns);
			row[4] = num(b[4], 32, "%lld", o->bound_ns);
		}
		row[5] = num(b[5], 32, sfmt, o->mono_offset_ns);
		row[6] = num(b[6], 32, "%lld", o->mono_bound_ns);
		row[7] = num(b[7], 32, "%lld", o->samples);
		if (o->cpu == r->ref_cpu)
			row[8] = "reference";
		else if (o->unsynchronised || o->mono_unsynchronised)
			row[8] = "OUT OF STEP";
		else
			row[8] = "in step";
		table_add(&t, row);
	}
	table_render(&t, sb);
	table_free(&t);
	if (sum_init(&s, r)) {
		sb->oom = 1;
	} else {
		sb_putc(sb, '\n');
		verdict(sb, r, &s);
	}
	sum_free(&s);
}

static void json_bool(struct sbuf *sb, const char *key, int v)
{
	sb_printf(sb, ",\"%s\":%s", key, v ? "true" : "false");
}

static void json_ns(struct sbuf *sb, const char *key, uint64_t hz,
		    long long v, int sign)
{
	if (!hz)
		sb_printf(sb, ",\"%s\":null", key);
	else if (sign)
		sb_printf(sb, ",\"%s\":%lld", key, v);
	else
		sb_printf(sb, ",\"%s\":%llu", key, (unsigned long long)v);
}

void fmt_clock_json(struct sbuf *sb, const struct clock_report *r)
{
	const struct xcall_clock_offset *o;
	struct clock_sum s;
	unsigned int i;

	if (sum_init(&s, r)) {
		sb->oom = 1;
		sum_free(&s);
		return;
	}
	sb_printf(sb, "{\"ref_cpu\":%d,\"backend\":", r->ref_cpu);
	sb_json_str(sb, r->backend);
	sb_puts(sb, ",\"counter\":");
	sb_json_str(sb, r->counter);
	sb_printf(sb, ",\"counter_hz\":%llu,\"samples\":%u",
		  (unsigned long long)r->hz, r->samples);
	json_bool(sb, "in_step", !CPU_COUNT_S(SUM_SETSIZE, s.out));
	sb_printf(sb, ",\"bound_ticks\":%llu",
		  (unsigned long long)s.bound_ticks);
	json_ns(sb, "bound_ns", r->hz, s.bound_ns, 0);
	json_bool(sb, "mono_in_step", !CPU_COUNT_S(SUM_SETSIZE, s.mono_out));
	sb_printf(sb, ",\"mono_bound_ns\":%llu,\"cpus\":[",
		  (unsigned long long)s.mono_bound_ns);
	for (i = 0; i < r->n; i++) {
		o = &r->o[i];
		sb_printf(sb, "%s{\"cpu\":%d", i ? "," : "", o->cpu);
		json_bool(sb, "ok", !o->error);
		sb_printf(sb, ",\"errno\":%d,\"error\":", -o->error);
		sb_json_str(sb, o->error ? fmt_errmsg(o->error) : NULL);
		sb_printf(sb, ",\"offset_ticks\":%lld,\"bound_ticks\":%llu",
			  (long long)o->offset_ticks,
			  (unsigned long long)o->bound_ticks);
		json_ns(sb, "offset_ns", r->hz, o->offset_ns, 1);
		json_ns(sb, "bound_ns", r->hz, o->bound_ns, 0);
		sb_printf(sb, ",\"mono_offset_ns\":%lld,"
			  "\"mono_bound_ns\":%llu",
			  (long long)o->mono_offset_ns,
			  (unsigned long long)o->mono_bound_ns);
		json_bool(sb, "unsynchronised", o->unsynchronised);
		json_bool(sb, "mono_unsynchronised", o->mono_unsynchronised);
		sb_printf(sb, ",\"samples\":%u}", o->samples);
	}
	sb_puts(sb, "]}\n");
	sum_free(&s);
}
