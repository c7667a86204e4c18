// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pure formatting for the CLI: growable strings, JSON strings, aligned
 * tables, and call records as JSON lines or as a table. The JSON keys are
 * the catalogue's result fields (lib/catalogue.c) after the envelope every
 * record has: round, cpu, fn, ok, errno, error; where each value lies in
 * the record and how it reads are the catalogue's too, so nothing here
 * knows a key or an architecture. Keys are an interface: xcall(1)
 * documents them and they never change meaning.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

void sb_init(struct sbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void sb_free(struct sbuf *sb)
{
	free(sb->s);
	sb_init(sb);
}

static int sb_grow(struct sbuf *sb, size_t more)
{
	size_t cap;
	char *s;

	if (sb->oom)
		return -1;
	if (sb->len + more + 1 <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + more + 1)
		cap *= 2;
	s = realloc(sb->s, cap);
	if (!s) {
		sb->oom = 1;
		return -1;
	}
	sb->s = s;
	sb->cap = cap;
	return 0;
}

void sb_putc(struct sbuf *sb, char c)
{
	if (sb_grow(sb, 1))
		return;
	sb->s[sb->len++] = c;
	sb->s[sb->len] = '\0';
}

void sb_puts(struct sbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (sb_grow(sb, n))
		return;
	memcpy(sb->s + sb->len, s, n + 1);
	sb->len += n;
}

void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(sb, n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, n + 1, fmt, ap);
	va_end(ap);
	sb->len += n;
}

void sb_json_str(struct sbuf *sb, const char *s)
{
	const unsigned char *p;

	if (!s) {
		sb_puts(sb, "null");
		return;
	}
	sb_putc(sb, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			sb_puts(sb, "\\\"");
			break;
		case '\\':
			sb_puts(sb, "\\\\");
			break;
		case '\n':
			sb_puts(sb, "\\n");
			break;
		case '\t':
			sb_puts(sb, "\\t");
			break;
		default:
			/* Control bytes escaped; others (UTF-8) as they are. */
			if (*p < 0x20 || *p == 0x7f)
				sb_printf(sb, "\\u%04x", *p);
			else
				sb_putc(sb, *p);
		}
	}
	sb_putc(sb, '"');
}

void table_init(struct table *t, unsigned int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = calloc(ncols ? ncols : 1, 1);
	if (!t->right)
		t->oom = 1;
}

void table_free(struct table *t)
{
	unsigned int i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	memset(t, 0, sizeof(*t));
}

void table_right(struct table *t, unsigned int col)
{
	if (t->right && col < t->ncols)
		t->right[col] = 1;
}

void table_add(struct table *t, const char *const *cells)
{
	unsigned int i, base;
	char **c;

	if (t->oom)
		return;
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		c = realloc(t->cells, sizeof(*c) * t->cap * t->ncols);
		if (!c) {
			t->oom = 1;
			return;
		}
		t->cells = c;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = strdup(cells[i] ? cells[i] : "-");
		if (!t->cells[base + i])
			t->oom = 1;
	}
	t->nrows++;
}

void table_render(const struct table *t, struct sbuf *sb)
{
	unsigned int r, c, last;
	size_t *w, n;

	if (t->oom) {
		sb->oom = 1;
		return;
	}
	w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	if (!w) {
		sb->oom = 1;
		return;
	}
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			n = strlen(t->cells[r * t->ncols + c]);
			if (n > w[c])
				w[c] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		const char *const *row = (const char *const *)
					 &t->cells[r * t->ncols];

		/* The last non-empty cell ends the line: no trailing blanks. */
		for (last = t->ncols; last > 0 && !*row[last - 1]; last--)
			;
		for (c = 0; c < last; c++) {
			n = strlen(row[c]);
			if (c)
				sb_puts(sb, "  ");
			if (t->right[c])
				sb_printf(sb, "%*s", (int)(w[c] - n), "");
			sb_puts(sb, row[c]);
			if (!t->right[c] && c + 1 < last)
				sb_printf(sb, "%*s", (int)(w[c] - n), "");
		}
		sb_putc(sb, '\n');
	}
	free(w);
}

const char *fmt_errmsg(int err)
{
	const char *m = xcall_strerror(err);

	return m ? m : strerror(err < 0 ? -err : err);
}

enum kind { K_NUM, K_STR, K_NULL };

static const char *const ctx_names[] = {
	[XCALL_CTX_NONE] = "none",
	[XCALL_CTX_IDLE] = "idle",
	[XCALL_CTX_USER] = "user",
	[XCALL_CTX_KERNEL] = "kernel",
	[XCALL_CTX_OTHER] = "other",
};

/* The number field @f holds in @r: its 32- or 64-bit member. */
static uint64_t field_num(const struct xcall_field_info *f,
			  const struct xcall_result *r)
{
	const char *p = (const char *)r + f->offset;
	uint32_t v32;
	uint64_t v64;

	if (f->size == sizeof(v32)) {
		memcpy(&v32, p, sizeof(v32));
		return v32;
	}
	memcpy(&v64, p, sizeof(v64));
	return v64;
}

/*
 * The value of field @f of record @r as text in @buf, and its JSON kind.
 * @base is the least value of @f in the round, for XCALL_FIELD_DELTA.
 * Register contents are hex strings; counts, ids and times are numbers.
 */
static enum kind field_value(const struct xcall_field_info *f,
			     const struct xcall_result *r, uint64_t base,
			     char *buf, size_t len)
{
	const char *p = (const char *)r + f->offset;
	uint64_t v;

	switch (f->kind) {
	case XCALL_FIELD_TEXT:
		snprintf(buf, len, "%.*s", (int)f->size, p);
		return K_STR;
	case XCALL_FIELD_CTX:
		v = field_num(f, r);
		snprintf(buf, len, "%s", v < sizeof(ctx_names) /
			 sizeof(ctx_names[0]) ? ctx_names[v] : "?");
		return K_STR;
	case XCALL_FIELD_REG:
		snprintf(buf, len, "0x%08llx",
			 (unsigned long long)field_num(f, r));
		return K_STR;
	case XCALL_FIELD_MSR_ADDR:
		v = field_num(f, r);
		if (!v)
			return K_NULL;
		snprintf(buf, len, "0x%llx", (unsigned long long)(uint32_t)v);
		return K_STR;
	case XCALL_FIELD_MSR_VALUE:
		/* Its address is the field before it (lib/catalogue.c). */
		v = field_num(f - 1, r);
		if (!v || v >> 32)
			return K_NULL;
		snprintf(buf, len, "0x%016llx",
			 (unsigned long long)field_num(f, r));
		return K_STR;
	case XCALL_FIELD_ID:
		v = field_num(f, r);
		if (v == (f->size == sizeof(uint32_t) ? UINT32_MAX :
			  UINT64_MAX))
			return K_NULL;
		break;
	case XCALL_FIELD_DELTA:
		v = field_num(f, r) - base;
		break;
	case XCALL_FIELD_NUM:
		v = field_num(f, r);
		break;
	default:
		return K_NULL;
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return K_NUM;
}

/*
 * The least value of each field over the records that succeeded, for
 * XCALL_FIELD_DELTA (offset_ns: from the earliest mono_ns of the round).
 * NULL, and @sb out of memory, if it cannot be allocated.
 */
static uint64_t *field_bases(struct sbuf *sb, const struct xcall_fn_info *fi,
			     const struct xcall_result *res, unsigned int n)
{
	unsigned int nf = 0, i, j;
	uint64_t *base, v;

	while (fi->fields[nf].key)
		nf++;
	base = calloc(nf ? nf : 1, sizeof(*base));
	if (!base) {
		sb->oom = 1;
		return NULL;
	}
	for (j = 0; j < nf; j++) {
		base[j] = UINT64_MAX;
		for (i = 0; i < n; i++) {
			v = field_num(&fi->fields[j], &res[i]);
			if (!res[i].error && v < base[j])
				base[j] = v;
		}
	}
	return base;
}

void fmt_records_json(struct sbuf *sb, const struct xcall_fn_info *fi,
		      const struct xcall_result *res, unsigned int n,
		      unsigned int round)
{
	uint64_t *base = field_bases(sb, fi, res, n);
	const struct xcall_field_info *f;
	unsigned int i;
	char buf[80];

	if (!base)
		return;
	for (i = 0; i < n; i++) {
		const struct xcall_result *r = &res[i];

		sb_printf(sb, "{\"round\":%u,\"cpu\":%u,\"fn\":", round,
			  r->cpu);
		sb_json_str(sb, fi->name);
		if (r->error) {
			sb_printf(sb, ",\"ok\":false,\"errno\":%d,\"error\":",
				  -r->error);
			sb_json_str(sb, fmt_errmsg(r->error));
			sb_puts(sb, "}\n");
			continue;
		}
		sb_puts(sb, ",\"ok\":true,\"errno\":0,\"error\":null");
		for (f = fi->fields; f->key; f++) {
			enum kind k = field_value(f, r, base[f - fi->fields],
						  buf, sizeof(buf));

			sb_printf(sb, ",\"%s\":", f->key);
			switch (k) {
			case K_NUM:
				sb_puts(sb, buf);
				break;
			case K_STR:
				sb_json_str(sb, buf);
				break;
			case K_NULL:
				sb_puts(sb, "null");
				break;
			}
		}
		sb_puts(sb, "}\n");
	}
	free(base);
}

static void upper(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ?
			 src[i] - 'a' + 'A' : src[i];
	dst[i] = '\0';
}

/*
 * Is field @f a register slot (msr's msrN, valueN) that no record of the
 * round uses? Its column is left out of the table; JSON keeps its nulls.
 */
static int slot_unused(const struct xcall_field_info *f,
		       const struct xcall_result *res, unsigned int n)
{
	char buf[80];
	unsigned int i;

	if (f->kind != XCALL_FIELD_MSR_ADDR && f->kind != XCALL_FIELD_MSR_VALUE)
		return 0;
	for (i = 0; i < n; i++)
		if (!res[i].error &&
		    field_value(f, &res[i], 0, buf, sizeof(buf)) != K_NULL)
			return 0;
	return 1;
}

/*
 * Columns: CPU, the function's fields (less the register slots no record
 * uses), STATUS ("ok" or the error).
 */
void fmt_records_table(struct sbuf *sb, const struct xcall_fn_info *fi,
		       const struct xcall_result *res, unsigned int n)
{
	uint64_t *base = field_bases(sb, fi, res, n);
	unsigned int nf = 0, nc = 0, i, j;
	unsigned int *col = NULL;
	const char **row = NULL;
	char (*text)[80] = NULL;
	struct table t;

	if (!base)
		return;
	while (fi->fields[nf].key)
		nf++;
	col = calloc(nf + 1, sizeof(*col));
	row = calloc(nf + 2, sizeof(*row));
	text = calloc(nf + 2, sizeof(*text));
	if (!col || !row || !text) {
		sb->oom = 1;
		goto out_free;
	}
	for (j = 0; j < nf; j++)
		if (!slot_unused(&fi->fields[j], res, n))
			col[nc++] = j;
	table_init(&t, nc + 2);
	table_right(&t, 0);
	row[0] = "CPU";
	for (j = 0; j < nc; j++) {
		upper(text[j + 1], fi->fields[col[j]].key, sizeof(text[0]));
		row[j + 1] = text[j + 1];
	}
	row[nc + 1] = "STATUS";
	table_add(&t, row);

	for (i = 0; i < n; i++) {
		const struct xcall_result *r = &res[i];

		snprintf(text[0], sizeof(text[0]), "%u", r->cpu);
		row[0] = text[0];
		for (j = 0; j < nc; j++) {
			row[j + 1] = NULL;
			if (r->error)
				continue;
			switch (field_value(&fi->fields[col[j]], r,
					    base[col[j]], text[j + 1],
					    sizeof(text[0]))) {
			case K_NUM:
				table_right(&t, j + 1);
				/* fall through */
			case K_STR:
				/* An empty string (no comm) shows as "-". */
				if (text[j + 1][0])
					row[j + 1] = text[j + 1];
				break;
			case K_NULL:
				break;
			}
		}
		row[nc + 1] = r->error ? fmt_errmsg(r->error) : "ok";
		table_add(&t, row);
	}
	table_render(&t, sb);
	table_free(&t);
out_free:
	free(text);
	free(row);
	free(col);
	free(base);
}
