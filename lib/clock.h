/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside libxcall: the measurement of clock offsets apart from how clocks
 * are read, so that a test can hand it a clock source of its own whose
 * offsets it knows (tests/unit/test_clock.c) and xcall_clock_offsets()
 * hands it the real one, a backend's `clock` calls.
 */
#ifndef XCALL_CLOCK_H
#define XCALL_CLOCK_H

#include <stdint.h>

#include "libxcall.h"

/* Where the clocks of one measurement come from. */
struct __xcall_clock_src {
	void *ctx;
	/*
	 * The reference CPU's counter and CLOCK_MONOTONIC, ns. @after: 0 for
	 * t0, read before the remote call (monotonic first, then the
	 * counter), 1 for t2 (the counter first): each pair brackets the
	 * remote reading.
	 */
	void (*local)(void *ctx, int after, uint64_t *ticks, uint64_t *mono);
	/* The counter and CLOCK_MONOTONIC read on @cpu: 0 or -errno. */
	int (*remote)(void *ctx, int cpu, uint64_t *ticks, uint64_t *mono);
};

/*
 * One round trip: the offset of the remote reading @t1 against the local
 * @t0 and @t2 (t0 <= t2), t1 - (t0 + t2) / 2, into @off, and its bound
 * (t2 - t0) / 2 rounded up into @bound. Pure.
 */
void __xcall_clock_estimate(uint64_t t0, uint64_t t1, uint64_t t2,
			    int64_t *off, uint64_t *bound);

/*
 * Measure @cpu through @src: @samples round trips, the shortest of each
 * clock counting; @hz converts ticks to ns (0: unknown, then offset_ns is
 * 0 and bound_ns UINT64_MAX). Fills all of @o; stops at the first error of
 * @src->remote() (@o->error).
 */
void __xcall_clock_measure(const struct __xcall_clock_src *src, int cpu,
			   unsigned int samples, uint64_t hz,
			   struct xcall_clock_offset *o);

#endif /* XCALL_CLOCK_H */
