/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `xcall latency`'s matrix and its renderings: the statistics of one pair's
 * samples, the terminal heatmap (256 colours or plain numbers), JSON lines,
 * CSV and a standalone SVG. Pure: no I/O, so tests/unit/test_heatmap.c
 * checks them without threads or devices.
 */
#ifndef XCALL_CLI_HEATMAP_H
#define XCALL_CLI_HEATMAP_H

#include <stdint.h>

#include "format.h"

/* One ordered pair: caller on CPU from, call to CPU to. */
struct lat_cell {
	uint32_t samples;		/* 0: not measured (from == to) */
	uint64_t median_ns, p99_ns, min_ns, max_ns;
};

struct lat_matrix {
	unsigned int n;			/* CPUs */
	const unsigned int *cpus;	/* n CPU numbers, ascending */
	struct lat_cell *cell;		/* n * n, [from * n + to] */
	const char *backend;		/* "kmod", ... */
	const char *measure;		/* "call" or "pingpong" */
	const char *host;		/* the machine's name */
	const char *arch;		/* uname -m */
	const char *date;		/* "2026-12-01 20:40 UTC" */
};

/*
 * Sort @v (@n > 0 samples, ns) and fill @c: nearest-rank median and 99th
 * percentile, the least and the greatest.
 */
void lat_stats(uint64_t *v, uint32_t n, struct lat_cell *c);

/* One JSON object per pair and line; keys in xcall(1). */
void lat_fmt_json(struct sbuf *sb, const struct lat_matrix *m);
/* A header line, then one line per pair. */
void lat_fmt_csv(struct sbuf *sb, const struct lat_matrix *m);
/*
 * The heatmap of the medians, then the p99s, rows the caller's CPU and
 * columns the target's; with @colour, 256-colour cells and a scale, else
 * plain numbers.
 */
void lat_fmt_text(struct sbuf *sb, const struct lat_matrix *m, int colour);
/* A standalone SVG document: one <rect class="cell"> per pair. */
void lat_fmt_svg(struct sbuf *sb, const struct lat_matrix *m);

#endif /* XCALL_CLI_HEATMAP_H */
