// SPDX-License-Identifier: GPL-2.0-only
/*
 * The renderings of `xcall latency`'s matrix (cli/heatmap.h): statistics,
 * the terminal heatmap, JSON lines, CSV and SVG. Pure, byte for byte what
 * tests/unit/test_heatmap.c expects. One colour ramp (ColorBrewer's RdYlGn,
 * green fast, red slow) serves the terminal, through the 6x6x6 cube of the
 * 256 colours, and the SVG, so both pictures agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heatmap.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with @pct percent at or below it. */
static uint64_t rank(const uint64_t *v, uint32_t n, unsigned int pct)
{
	uint64_t r = ((uint64_t)n * pct + 99) / 100;

	return v[r ? r - 1 : 0];
}

void lat_stats(uint64_t *v, uint32_t n, struct lat_cell *c)
{
	memset(c, 0, sizeof(*c));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	c->samples = n;
	c->median_ns = rank(v, n, 50);
	c->p99_ns = rank(v, n, 99);
	c->min_ns = v[0];
	c->max_ns = v[n - 1];
}

static const struct lat_cell *cell(const struct lat_matrix *m,
				   unsigned int from, unsigned int to)
{
	return &m->cell[from * m->n + to];
}

void lat_fmt_json(struct sbuf *sb, const struct lat_matrix *m)
{
	const struct lat_cell *c;
	unsigned int i, j;

	for (i = 0; i < m->n; i++) {
		for (j = 0; j < m->n; j++) {
			if (i == j)
				continue;
			c = cell(m, i, j);
			sb_printf(sb, "{\"from\":%u,\"to\":%u,\"backend\":",
				  m->cpus[i], m->cpus[j]);
			sb_json_str(sb, m->backend);
			sb_puts(sb, ",\"measure\":");
			sb_json_str(sb, m->measure);
			sb_printf(sb, ",\"samples\":%u,\"median_ns\":%llu,"
				  "\"p99_ns\":%llu,\"min_ns\":%llu,"
				  "\"max_ns\":%llu}\n", c->samples,
				  (unsigned long long)c->median_ns,
				  (unsigned long long)c->p99_ns,
				  (unsigned long long)c->min_ns,
				  (unsigned long long)c->max_ns);
		}
	}
}

void lat_fmt_csv(struct sbuf *sb, const struct lat_matrix *m)
{
	const struct lat_cell *c;
	unsigned int i, j;

	sb_puts(sb, "from,to,backend,measure,samples,median_ns,p99_ns,"
		"min_ns,max_ns\n");
	for (i = 0; i < m->n; i++) {
		for (j = 0; j < m->n; j++) {
			if (i == j)
				continue;
			c = cell(m, i, j);
			sb_printf(sb, "%u,%u,%s,%s,%u,%llu,%llu,%llu,%llu\n",
				  m->cpus[i], m->cpus[j], m->backend,
				  m->measure, c->samples,
				  (unsigned long long)c->median_ns,
				  (unsigned long long)c->p99_ns,
				  (unsigned long long)c->min_ns,
				  (unsigned long long)c->max_ns);
		}
	}
}

/* ------------------------------------------------------------------------
 * Colours.
 */

struct rgb {
	unsigned int r, g, b;
};

/* RdYlGn: green (fast), yellow, red (slow). */
static const struct rgb ramp[] = {
	{ 0x1a, 0x98, 0x50 }, { 0xfe, 0xe0, 0x8b }, { 0xd7, 0x30, 0x27 },
};

#define NRAMP	(sizeof(ramp) / sizeof(ramp[0]))

/* The colour of @v on the scale @lo..@hi, in 1/1000 steps. */
static struct rgb colour_of(uint64_t v, uint64_t lo, uint64_t hi)
{
	unsigned int t, seg, f;
	struct rgb c;

	t = hi > lo ? (v <= lo ? 0 : v >= hi ? 1000 :
		       (unsigned int)((v - lo) * 1000 / (hi - lo))) : 0;
	seg = t * (NRAMP - 1) / 1000;
	if (seg >= NRAMP - 1)
		return ramp[NRAMP - 1];
	/* Position within the segment, 0..1000. */
	f = t * (NRAMP - 1) - seg * 1000;
	c.r = (ramp[seg].r * (1000 - f) + ramp[seg + 1].r * f) / 1000;
	c.g = (ramp[seg].g * (1000 - f) + ramp[seg + 1].g * f) / 1000;
	c.b = (ramp[seg].b * (1000 - f) + ramp[seg + 1].b * f) / 1000;
	return c;
}

/* The nearest of the 6x6x6 colour cube of 256-colour terminals. */
static unsigned int xterm256(struct rgb c)
{
	return 16 + 36 * ((c.r * 5 + 127) / 255) + 6 * ((c.g * 5 + 127) / 255)
		+ (c.b * 5 + 127) / 255;
}

/* The least and the greatest of a field over the pairs. */
static void range_of(const struct lat_matrix *m, size_t off, uint64_t *lo,
		     uint64_t *hi)
{
	unsigned int i, j;
	uint64_t v;

	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < m->n; i++) {
		for (j = 0; j < m->n; j++) {
			if (i == j)
				continue;
			v = *(const uint64_t *)((const char *)cell(m, i, j) +
						off);
			if (v < *lo)
				*lo = v;
			if (v > *hi)
				*hi = v;
		}
	}
	if (*lo > *hi)
		*lo = *hi = 0;
}

/* ------------------------------------------------------------------------
 * The terminal.
 */

#define SCALE_STEPS	12

static unsigned int digits(uint64_t v)
{
	unsigned int d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* One matrix of the field at @off, a title line above it. */
static void text_matrix(struct sbuf *sb, const struct lat_matrix *m,
			size_t off, const char *what, int colour)
{
	static const char corner[] = "from\\to";
	unsigned int i, j, w, w0 = sizeof(corner) - 1, k;
	uint64_t lo, hi, v;

	range_of(m, off, &lo, &hi);
	w = digits(hi) > digits(m->cpus[m->n - 1]) ?
		digits(hi) : digits(m->cpus[m->n - 1]);
	sb_printf(sb, "%s, ns (rows: caller CPU, columns: target CPU)\n",
		  what);
	sb_printf(sb, "%*s", (int)w0, corner);
	for (j = 0; j < m->n; j++)
		sb_printf(sb, " %*u", (int)w, m->cpus[j]);
	sb_putc(sb, '\n');
	for (i = 0; i < m->n; i++) {
		sb_printf(sb, "%*u", (int)w0, m->cpus[i]);
		for (j = 0; j < m->n; j++) {
			if (i == j) {
				sb_printf(sb, " %*s", (int)w, "-");
				continue;
			}
			v = *(const uint64_t *)((const char *)cell(m, i, j) +
						off);
			if (colour)
				sb_printf(sb, " \033[48;5;%um\033[38;5;16m"
					  "%*llu\033[0m",
					  xterm256(colour_of(v, lo, hi)),
					  (int)w, (unsigned long long)v);
			else
				sb_printf(sb, " %*llu", (int)w,
					  (unsigned long long)v);
		}
		sb_putc(sb, '\n');
	}
	if (!colour)
		return;
	sb_printf(sb, "%*s %llu ns ", (int)w0, "scale:",
		  (unsigned long long)lo);
	for (k = 0; k < SCALE_STEPS; k++)
		sb_printf(sb, "\033[48;5;%um  \033[0m",
			  xterm256(colour_of(lo + (hi - lo) * k /
					     (SCALE_STEPS - 1), lo, hi)));
	sb_printf(sb, " %llu ns\n", (unsigned long long)hi);
}

void lat_fmt_text(struct sbuf *sb, const struct lat_matrix *m, int colour)
{
	uint32_t fewest = UINT32_MAX, most = 0;
	unsigned int i, j;

	sb_printf(sb, "xcall latency on %s (%s): %s backend, %s round trip, "
		  "%s\n\n", m->host, m->arch, m->backend, m->measure, m->date);
	text_matrix(sb, m, offsetof(struct lat_cell, median_ns), "median",
		    colour);
	sb_putc(sb, '\n');
	text_matrix(sb, m, offsetof(struct lat_cell, p99_ns), "p99", colour);
	for (i = 0; i < m->n; i++) {
		for (j = 0; j < m->n; j++) {
			if (i == j)
				continue;
			if (cell(m, i, j)->samples < fewest)
				fewest = cell(m, i, j)->samples;
			if (cell(m, i, j)->samples > most)
				most = cell(m, i, j)->samples;
		}
	}
	if (fewest == most)
		sb_printf(sb, "\nsamples per pair: %u; -: the same CPU, "
			  "not measured\n", most);
	else
		sb_printf(sb, "\nsamples per pair: %u to %u (time budget); "
			  "-: the same CPU, not measured\n", fewest, most);
}

/* ------------------------------------------------------------------------
 * SVG.
 */

/* @s as XML character data or attribute value. */
static void sb_xml(struct sbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			sb_puts(sb, "&lt;");
			break;
		case '>':
			sb_puts(sb, "&gt;");
			break;
		case '&':
			sb_puts(sb, "&amp;");
			break;
		case '"':
			sb_puts(sb, "&quot;");
			break;
		case '\'':
			sb_puts(sb, "&apos;");
			break;
		default:
			/* Control characters are not XML 1.0. */
			if ((unsigned char)*s < 0x20 && *s != '\t')
				sb_putc(sb, '?');
			else
				sb_putc(sb, *s);
		}
	}
}

#define SVG_LEFT	80
#define SVG_TOP		100
#define SVG_LEGEND	130

static void svg_header(struct sbuf *sb, const struct lat_matrix *m,
		       unsigned int w, unsigned int h)
{
	unsigned int k;
	struct rgb c;

	sb_printf(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
		  "height=\"%u\" viewBox=\"0 0 %u %u\" "
		  "font-family=\"sans-serif\" font-size=\"12\">\n",
		  w, h, w, h);
	sb_puts(sb, "<title>xcall latency on ");
	sb_xml(sb, m->host);
	sb_printf(sb, " (");
	sb_xml(sb, m->arch);
	sb_printf(sb, "): %s backend, %s round trip, ", m->backend,
		  m->measure);
	sb_xml(sb, m->date);
	sb_puts(sb, "</title>\n<defs><linearGradient id=\"scale\" x1=\"0\" "
		"y1=\"1\" x2=\"0\" y2=\"0\">");
	for (k = 0; k <= 10; k++) {
		c = colour_of(k, 0, 10);
		sb_printf(sb, "<stop offset=\"%u.%u\" "
			  "stop-color=\"#%02x%02x%02x\"/>", k / 10, k % 10,
			  c.r, c.g, c.b);
	}
	sb_printf(sb, "</linearGradient></defs>\n"
		  "<rect width=\"%u\" height=\"%u\" fill=\"#ffffff\"/>\n",
		  w, h);
	sb_puts(sb, "<text x=\"10\" y=\"24\" font-size=\"16\" "
		"font-weight=\"bold\">xcall latency on ");
	sb_xml(sb, m->host);
	sb_puts(sb, " (");
	sb_xml(sb, m->arch);
	sb_printf(sb, ")</text>\n<text x=\"10\" y=\"44\">%s backend, %s "
		  "round trip, median ns; ", m->backend, m->measure);
	sb_xml(sb, m->date);
	sb_puts(sb, "</text>\n");
}

void lat_fmt_svg(struct sbuf *sb, const struct lat_matrix *m)
{
	unsigned int cs, grid, w, h, i, j, x, y, lh, every;
	const struct lat_cell *c;
	uint64_t lo, hi;
	struct rgb rgb;

	cs = m->n <= 16 ? 40 : 640 / m->n > 10 ? 640 / m->n : 10;
	grid = cs * m->n;
	lh = grid > 120 ? grid : 120;
	w = SVG_LEFT + grid + SVG_LEGEND > 560 ? SVG_LEFT + grid + SVG_LEGEND : 560;
	h = SVG_TOP + lh + 40;
	every = cs >= 20 ? 1 : (20 + cs - 1) / cs;
	range_of(m, offsetof(struct lat_cell, median_ns), &lo, &hi);
	svg_header(sb, m, w, h);

	/* Axes: their names, then a tick label per CPU (or every few). */
	sb_printf(sb, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">target "
		  "CPU</text>\n", SVG_LEFT + grid / 2, SVG_TOP - 28);
	sb_printf(sb, "<text transform=\"translate(%u,%u) rotate(-90)\" "
		  "text-anchor=\"middle\">caller CPU</text>\n",
		  SVG_LEFT - 48, SVG_TOP + grid / 2);
	for (i = 0; i < m->n; i += every) {
		sb_printf(sb, "<text class=\"tick\" x=\"%u\" y=\"%u\" "
			  "text-anchor=\"middle\">%u</text>\n",
			  SVG_LEFT + i * cs + cs / 2, SVG_TOP - 8,
			  m->cpus[i]);
		sb_printf(sb, "<text class=\"tick\" x=\"%u\" y=\"%u\" "
			  "text-anchor=\"end\">%u</text>\n", SVG_LEFT - 6,
			  SVG_TOP + i * cs + cs / 2 + 4, m->cpus[i]);
	}

	/* One cell per pair, its figures in a tooltip and, if room, in it. */
	for (i = 0; i < m->n; i++) {
		for (j = 0; j < m->n; j++) {
			if (i == j)
				continue;
			c = cell(m, i, j);
			x = SVG_LEFT + j * cs;
			y = SVG_TOP + i * cs;
			rgb = colour_of(c->median_ns, lo, hi);
			sb_printf(sb, "<rect class=\"cell\" x=\"%u\" y=\"%u\" "
				  "width=\"%u\" height=\"%u\" "
				  "fill=\"#%02x%02x%02x\" data-from=\"%u\" "
				  "data-to=\"%u\" data-median-ns=\"%llu\" "
				  "data-p99-ns=\"%llu\" data-samples=\"%u\">"
				  "<title>cpu %u to cpu %u: median %llu ns, "
				  "p99 %llu ns, %u samples</title></rect>\n",
				  x, y, cs, cs, rgb.r, rgb.g, rgb.b,
				  m->cpus[i], m->cpus[j],
				  (unsigned long long)c->median_ns,
				  (unsigned long long)c->p99_ns, c->samples,
				  m->cpus[i], m->cpus[j],
				  (unsigned long long)c->median_ns,
				  (unsigned long long)c->p99_ns, c->samples);
			if (cs >= 40 && digits(c->median_ns) <= 6)
				sb_printf(sb, "<text x=\"%u\" y=\"%u\" "
					  "text-anchor=\"middle\" "
					  "font-size=\"10\">%llu</text>\n",
					  x + cs / 2, y + cs / 2 + 4,
					  (unsigned long long)c->median_ns);
		}
	}

	/* The legend: the ramp from the fastest pair to the slowest. */
	x = SVG_LEFT + grid + 30;
	sb_printf(sb, "<rect class=\"legend\" x=\"%u\" y=\"%u\" width=\"16\" "
		  "height=\"%u\" fill=\"url(#scale)\" stroke=\"#000000\" "
		  "stroke-width=\"0.5\"/>\n", x, SVG_TOP, lh);
	sb_printf(sb, "<text x=\"%u\" y=\"%u\">%llu ns</text>\n", x + 22,
		  SVG_TOP + 10, (unsigned long long)hi);
	sb_printf(sb, "<text x=\"%u\" y=\"%u\">%llu ns</text>\n", x + 22,
		  SVG_TOP + lh / 2 + 4, (unsigned long long)(lo + hi) / 2);
	sb_printf(sb, "<text x=\"%u\" y=\"%u\">%llu ns</text>\n", x + 22,
		  SVG_TOP + lh, (unsigned long long)lo);
	sb_printf(sb, "<text x=\"10\" y=\"%u\" font-size=\"10\">median of "
		  "each pair's round trips; the diagonal (a CPU to itself) "
		  "is not measured</text>\n", h - 12);
	sb_puts(sb, "</svg>\n");
}
