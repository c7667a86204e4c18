/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `xcall run --timeline`, the pure part: a call's stages (struct
 * xcall_timeline, cycle counter readings on several CPUs) converted to ns
 * on the reference CPU's time axis with the measured clock offsets, the
 * per-stage intervals gathered per target CPU, their median and p99, and
 * the table and JSON that show them. No I/O: tests/unit/test_timeline.c
 * checks it with made-up counters and offsets.
 */
#ifndef XCALL_CLI_TLSTAT_H
#define XCALL_CLI_TLSTAT_H

#include <stdint.h>

#include "format.h"
#include "libxcall.h"

/* The intervals shown: stage k - 1 to stage k, and the whole call. */
#define TL_NINTERVALS	XCALL_TL_NR	/* XCALL_TL_NR - 1 stages + total */
#define TL_TOTAL	(XCALL_TL_NR - 1)

/* Each CPU's counter against the reference CPU's, indexed by CPU. */
struct tl_clock {
	uint64_t hz;			/* counter ticks per second */
	unsigned int ncpus;		/* entries of @off and @bound */
	const int64_t *off;		/* ticks: counter(cpu) - counter(ref) */
	const uint64_t *bound;		/* ticks: |error of @off| <= this */
};

/*
 * The stages of @tl in ns on the reference axis, from its SUBMITTED stage
 * (@ns[XCALL_TL_SUBMITTED] is 0), and for each interval the error bound
 * its two readings carry (0 when both were read on one CPU). 0, or
 * -ENODATA if a stage was not reached (ev 0: the call failed), -ERANGE if
 * a stage names a CPU @ck has no offset for, -EINVAL if @ck->hz is 0.
 */
int tl_convert(const struct xcall_timeline *tl, const struct tl_clock *ck,
	       int64_t ns[XCALL_TL_NR], uint64_t bound_ns[TL_NINTERVALS]);

/* The calls to one target CPU: their intervals and how each was made. */
struct tl_acc {
	unsigned int cpu;
	unsigned int n, cap;		/* calls with all their stages */
	int64_t *iv[TL_NINTERVALS];	/* n samples of each interval, ns */
	uint64_t bound[TL_NINTERVALS];	/* the largest bound seen, ns */
	unsigned int failed;		/* calls whose record had an error */
	unsigned int kicked, rode, inlined, irq, task, rekick;
	int oom;
};

void tl_acc_init(struct tl_acc *a, unsigned int cpu);
void tl_acc_free(struct tl_acc *a);
/*
 * Add one call: its record's error @err (a failed call is counted, not
 * measured) and its timeline. 0, or tl_convert()'s -errno (the call is
 * then not counted).
 */
int tl_acc_add(struct tl_acc *a, int err, const struct xcall_timeline *tl,
	       const struct tl_clock *ck);

/* Nearest-rank percentile @p (0..100) of @v[@n], sorted in place; 0 if n 0. */
int64_t tl_percentile(int64_t *v, unsigned int n, unsigned int p);

/* The name of interval @k: "queued", ..., "woken", "total". */
const char *tl_interval_name(unsigned int k);

/*
 * The summary of @a[@n] (one per target CPU) for function @fn, offsets
 * taken against @ref_cpu: a table of CPU, interval, median, p99 and bound,
 * then how the calls were queued and delivered; or one JSON object per
 * target CPU (keys in xcall(1)). Sorts the samples.
 */
void tl_fmt_table(struct sbuf *sb, const char *fn, int ref_cpu,
		  struct tl_acc *a, unsigned int n);
void tl_fmt_json(struct sbuf *sb, const char *fn, int ref_cpu,
		 struct tl_acc *a, unsigned int n);

#endif /* XCALL_CLI_TLSTAT_H */
