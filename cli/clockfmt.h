/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What `xcall clock` prints, apart from measuring it: the table and the
 * verdict, or one JSON object. Pure, like format.h: the unit test
 * tests/unit/test_clockfmt.c feeds it offsets no machine would give.
 */
#ifndef XCALL_CLI_CLOCKFMT_H
#define XCALL_CLI_CLOCKFMT_H

#include "format.h"

struct clock_report {
	int ref_cpu;
	const char *backend;		/* "kmod" */
	const char *counter;		/* "TSC" */
	uint64_t hz;			/* its ticks per second, 0: unknown */
	unsigned int samples;		/* round trips asked per CPU */
	const struct xcall_clock_offset *o;
	unsigned int n;
};

/* The table, a blank line, and the verdict in three lines. */
void fmt_clock_table(struct sbuf *sb, const struct clock_report *r);
/* One JSON object on one line (keys: xcall(1), CLOCK OFFSETS). */
void fmt_clock_json(struct sbuf *sb, const struct clock_report *r);

#endif /* XCALL_CLI_CLOCKFMT_H */
