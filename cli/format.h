/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pure formatting for the CLI: a growable string, JSON values, aligned
 * tables, and the rendering of call records. Nothing here does I/O, so
 * tests/unit/test_format.c checks it byte for byte.
 */
#ifndef XCALL_CLI_FORMAT_H
#define XCALL_CLI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "libxcall.h"

struct sbuf {
	char *s;		/* NUL-terminated once anything is added */
	size_t len, cap;
	int oom;		/* an allocation failed: the text is short */
};

void sb_init(struct sbuf *sb);
void sb_free(struct sbuf *sb);
void sb_putc(struct sbuf *sb, char c);
void sb_puts(struct sbuf *sb, const char *s);
void sb_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* @s as a JSON string, quotes included; NULL gives null. */
void sb_json_str(struct sbuf *sb, const char *s);

/*
 * A table of text cells, rendered with each column as wide as its widest
 * cell, two spaces between columns, right-aligned columns for numbers and
 * no trailing blanks.
 */
struct table {
	unsigned int ncols, nrows, cap;
	char **cells;			/* nrows * ncols, row 0: header */
	unsigned char *right;		/* per column */
	int oom;
};

void table_init(struct table *t, unsigned int ncols);
void table_free(struct table *t);
/* Mark column @col right-aligned. */
void table_right(struct table *t, unsigned int col);
/* Add a row of ncols cells (copied; NULL shows as "-"). */
void table_add(struct table *t, const char *const *cells);
void table_render(const struct table *t, struct sbuf *sb);

/*
 * The records of one round of `xcall run` (@n records of @fi), as JSON
 * lines (one object per record) or as a table. @round numbers the round.
 */
void fmt_records_json(struct sbuf *sb, const struct xcall_fn_info *fi,
		      const struct xcall_result *res, unsigned int n,
		      unsigned int round);
void fmt_records_table(struct sbuf *sb, const struct xcall_fn_info *fi,
		       const struct xcall_result *res, unsigned int n);

/* Message for a record's error, the same in tables and JSON. */
const char *fmt_errmsg(int err);

#endif /* XCALL_CLI_FORMAT_H */
