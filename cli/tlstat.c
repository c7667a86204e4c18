// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall run --timeline`, the pure part (tlstat.h): a call's stages in ns
 * on one time axis, their intervals per target CPU, median and p99, and
 * the table and JSON of them.
 *
 * A stage read on CPU c at counter value t happened at t - off[c] on the
 * reference CPU's counter, within bound[c] ticks; an interval between
 * stages read on CPUs a and b is known within bound[a] + bound[b], and
 * exactly (as far as the counter goes) when a == b.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlstat.h"

static const char *const interval_names[TL_NINTERVALS] = {
	"queued", "handler", "done", "woken", "total",
};

const char *tl_interval_name(unsigned int k)
{
	return k < TL_NINTERVALS ? interval_names[k] : NULL;
}

/* Counter ticks to ns, without overflow for any 64-bit difference. */
static int64_t ticks_ns(__int128 ticks, uint64_t hz)
{
	return (int64_t)(ticks * 1000000000 / (__int128)hz);
}

int tl_convert(const struct xcall_timeline *tl, const struct tl_clock *ck,
	       int64_t ns[XCALL_TL_NR], uint64_t bound_ns[TL_NINTERVALS])
{
	__int128 ref[XCALL_TL_NR];
	unsigned int k, a, b;
	uint64_t bt;

	if (!ck->hz)
		return -EINVAL;
	for (k = 0; k < XCALL_TL_NR; k++) {
		if (!tl->ev[k])
			return -ENODATA;
		if (tl->ev_cpu[k] >= ck->ncpus)
			return -ERANGE;
		ref[k] = (__int128)tl->ev[k] - ck->off[tl->ev_cpu[k]];
	}
	for (k = 0; k < XCALL_TL_NR; k++)
		ns[k] = ticks_ns(ref[k] - ref[XCALL_TL_SUBMITTED], ck->hz);
	for (k = 0; k < TL_NINTERVALS; k++) {
		/* Interval k runs from stage k to k + 1; the total, 0 to last. */
		a = tl->ev_cpu[k == TL_TOTAL ? XCALL_TL_SUBMITTED : k];
		b = tl->ev_cpu[k == TL_TOTAL ? XCALL_TL_WOKEN : k + 1];
		bt = a == b ? 0 : ck->bound[a] + ck->bound[b];
		bound_ns[k] = (uint64_t)ticks_ns(bt, ck->hz);
	}
	return 0;
}

void tl_acc_init(struct tl_acc *a, unsigned int cpu)
{
	memset(a, 0, sizeof(*a));
	a->cpu = cpu;
}

void tl_acc_free(struct tl_acc *a)
{
	unsigned int k;

	for (k = 0; k < TL_NINTERVALS; k++)
		free(a->iv[k]);
	memset(a, 0, sizeof(*a));
}

static int acc_grow(struct tl_acc *a)
{
	unsigned int cap = a->cap ? a->cap * 2 : 64, k;
	int64_t *v;

	for (k = 0; k < TL_NINTERVALS; k++) {
		v = realloc(a->iv[k], cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->iv[k] = v;
	}
	a->cap = cap;
	return 0;
}

int tl_acc_add(struct tl_acc *a, int err, const struct xcall_timeline *tl,
	       const struct tl_clock *ck)
{
	int64_t ns[XCALL_TL_NR];
	uint64_t bound[TL_NINTERVALS];
	unsigned int k;
	int ret;

	if (err) {
		a->failed++;
		return 0;
	}
	ret = tl_convert(tl, ck, ns, bound);
	if (ret)
		return ret;
	if (a->n == a->cap && acc_grow(a)) {
		a->oom = 1;
		return -ENOMEM;
	}
	for (k = 0; k < TL_NINTERVALS; k++) {
		a->iv[k][a->n] = k == TL_TOTAL ?
				 ns[XCALL_TL_WOKEN] - ns[XCALL_TL_SUBMITTED] :
				 ns[k + 1] - ns[k];
		if (bound[k] > a->bound[k])
			a->bound[k] = bound[k];
	}
	a->n++;
	a->kicked += !!(tl->flags & XCALL_TLF_KICKED);
	a->rode += !!(tl->flags & XCALL_TLF_RODE);
	a->inlined += !!(tl->flags & XCALL_TLF_INLINE);
	a->irq += !!(tl->flags & XCALL_TLF_IRQ);
	a->task += !!(tl->flags & XCALL_TLF_TASK);
	a->rekick += !!(tl->flags & XCALL_TLF_REKICK);
	return 0;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

int64_t tl_percentile(int64_t *v, unsigned int n, unsigned int p)
{
	unsigned long long rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	/* Nearest rank: the smallest value with p% of them at or below. */
	rank = ((unsigned long long)n * p + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

void tl_fmt_table(struct sbuf *sb, const char *fn, int ref_cpu,
		  struct tl_acc *a, unsigned int n)
{
	static const char *const head[] = {
		"CPU", "STAGE", "CALLS", "MEDIAN_NS", "P99_NS", "BOUND_NS",
	};
	char cell[6][32];
	const char *row[6];
	unsigned int i, k, c;
	struct table t;

	sb_printf(sb, "%s: the time from the stage before, in ns on cpu %d's "
		  "clock (submitted > queued > handler > done > woken); "
		  "BOUND_NS: the error the clock offsets allow\n", fn, ref_cpu);
	table_init(&t, 6);
	for (c = 0; c < 6; c++)
		if (c != 1)
			table_right(&t, c);
	table_add(&t, head);
	for (c = 0; c < 6; c++)
		row[c] = cell[c];
	for (i = 0; i < n; i++) {
		for (k = 0; k < TL_NINTERVALS && a[i].n; k++) {
			snprintf(cell[0], sizeof(cell[0]), "%u", a[i].cpu);
			snprintf(cell[1], sizeof(cell[1]), "%s",
				 tl_interval_name(k));
			snprintf(cell[2], sizeof(cell[2]), "%u", a[i].n);
			snprintf(cell[3], sizeof(cell[3]), "%lld", (long long)
				 tl_percentile(a[i].iv[k], a[i].n, 50));
			snprintf(cell[4], sizeof(cell[4]), "%lld", (long long)
				 tl_percentile(a[i].iv[k], a[i].n, 99));
			snprintf(cell[5], sizeof(cell[5]), "%llu",
				 (unsigned long long)a[i].bound[k]);
			table_add(&t, row);
		}
	}
	table_render(&t, sb);
	if (t.oom)
		sb->oom = 1;
	table_free(&t);
	for (i = 0; i < n; i++)
		sb_printf(sb, "cpu %u: %u calls: raised the IPI %u, rode along "
			  "%u, inline %u; handler in IRQ %u, in task context "
			  "%u, after a rekick %u; failed %u\n", a[i].cpu,
			  a[i].n, a[i].kicked, a[i].rode, a[i].inlined,
			  a[i].irq, a[i].task, a[i].rekick, a[i].failed);
}

void tl_fmt_json(struct sbuf *sb, const char *fn, int ref_cpu,
		 struct tl_acc *a, unsigned int n)
{
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		sb_printf(sb, "{\"cpu\":%u,\"fn\":", a[i].cpu);
		sb_json_str(sb, fn);
		sb_printf(sb, ",\"ref_cpu\":%d,\"calls\":%u,\"failed\":%u,"
			  "\"kicked\":%u,\"rode\":%u,\"inline\":%u,\"irq\":%u,"
			  "\"task\":%u,\"rekick\":%u,\"stages\":{", ref_cpu,
			  a[i].n, a[i].failed, a[i].kicked, a[i].rode,
			  a[i].inlined, a[i].irq, a[i].task, a[i].rekick);
		for (k = 0; k < TL_NINTERVALS; k++) {
			sb_printf(sb, "%s\"%s\":", k ? "," : "",
				  tl_interval_name(k));
			if (!a[i].n) {
				sb_puts(sb, "null");
				continue;
			}
			sb_printf(sb, "{\"median_ns\":%lld,\"p99_ns\":%lld,"
				  "\"bound_ns\":%llu}", (long long)
				  tl_percentile(a[i].iv[k], a[i].n, 50),
				  (long long)tl_percentile(a[i].iv[k], a[i].n,
							   99),
				  (unsigned long long)a[i].bound[k]);
		}
		sb_puts(sb, "}}\n");
	}
}
