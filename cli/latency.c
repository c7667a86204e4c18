// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall latency`: the round trip between every ordered pair of CPUs. The
 * caller pins itself to CPU i and times calls of `ping` to CPU j through
 * the backend (threads: the in-process pool; kmod: an IPI raised by the
 * module; daemon: the same through xcalld), or, with --measure pingpong,
 * a cache line bounced between a thread on i and one on j (the floor that
 * core-to-core-latency measures). Each pair gets --samples samples or its
 * share of --duration, whichever ends first; its median, p99, least and
 * greatest go out as a heatmap, JSON lines, CSV and, with --svg, an SVG.
 */
#include <argp.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "format.h"
#include "heatmap.h"

#define DFLT_SAMPLES	1000
#define MAX_SAMPLES	1000000
#define DFLT_DURATION	10		/* s, the whole matrix */
#define MAX_DURATION	86400
#define WARMUP		2		/* calls per pair not counted */
#define PP_ROUNDS	16		/* ping-pong round trips per sample */
#define MAX_CPUS	1024		/* a million pairs, 40 MB of cells */

struct lat_args {
	struct xc_opts o;		/* --json, --backend, --timeout */
	const char *cpu, *samples, *duration, *measure, *svg;
	int csv, no_colour;
};

enum {
	OPT_CPU = 'c', OPT_DURATION = 'd', OPT_MEASURE = 'm',
	OPT_SAMPLES = 0x100, OPT_CSV, OPT_SVG, OPT_NO_COLOUR,
};

static const struct argp_option lat_options[] = {
	{ "cpu", OPT_CPU, "LIST", 0,
	  "CPUs to measure between, 2 to 1024: 0-3,8-15:2 or all "
	  "(default: every online CPU)", 0 },
	{ "samples", OPT_SAMPLES, "N", 0,
	  "samples per pair (1..1000000, default 1000)", 0 },
	{ "duration", OPT_DURATION, "S", 0,
	  "time budget of the whole matrix, seconds, shared by the pairs "
	  "(1..86400, default 10); each pair takes at least one sample", 0 },
	{ "measure", OPT_MEASURE, "WHAT", 0,
	  "call (default): a call of ping through the backend; pingpong: "
	  "a cache line bounced between two threads (threads backend)", 0 },
	XC_OPTION_BACKEND("auto (default, or $XCALL_BACKEND), threads, kmod, "
			  "daemon", 1),
	XC_OPTION_TIMEOUT(1),
	XC_OPTION_JSON("one JSON object per pair and line (keys: xcall(1))",
		       2),
	{ "csv", OPT_CSV, NULL, 0, "one CSV line per pair, after a header",
	  2 },
	{ "svg", OPT_SVG, "FILE", 0,
	  "also write the heatmap as a standalone SVG to FILE", 2 },
	{ "no-color", OPT_NO_COLOUR, NULL, 0,
	  "plain numbers, even on a terminal", 2 },
	{ 0 }
};

static error_t lat_parse(int key, char *arg, struct argp_state *state)
{
	struct lat_args *a = state->input;

	switch (key) {
	case OPT_CPU:
		a->cpu = arg;
		break;
	case OPT_SAMPLES:
		a->samples = arg;
		break;
	case OPT_DURATION:
		a->duration = arg;
		break;
	case OPT_MEASURE:
		a->measure = arg;
		break;
	case OPT_CSV:
		a->csv = 1;
		break;
	case OPT_SVG:
		a->svg = arg;
		break;
	case OPT_NO_COLOUR:
		a->no_colour = 1;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "'%s': takes no arguments", arg);
		break;
	default:
		return xc_opt_set(&a->o, key, arg);
	}
	return 0;
}

static const struct argp lat_argp = {
	.options = lat_options,
	.parser = lat_parse,
	.doc = "Measure the round trip between every ordered pair of CPUs: "
	       "the caller on one CPU, a call to another. Prints the median "
	       "and p99 per pair as a heatmap (256 colours on a terminal), "
	       "JSON or CSV."
	       "\vExamples:\n"
	       "  xcall latency --backend kmod\n"
	       "  xcall latency --cpu 0-7 --samples 200 --svg lat.svg\n"
	       "  xcall latency --backend threads --measure pingpong --json\n"
	       "A progress line goes to stderr while it runs, if stderr is a "
	       "terminal.\n"
	       "Exit status: 0 ok, 1 a call failed, 2 refused (a CPU that "
	       "does not exist or is offline, or where the caller may not "
	       "run), 3 no backend, 64 usage error, 74 output error.",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int pin_self(unsigned int cpu)
{
	cpu_set_t *s = xc_cpuset_alloc();
	int ret;

	CPU_SET_S(cpu, XC_SETSIZE, s);
	ret = pthread_setaffinity_np(pthread_self(), XC_SETSIZE, s);
	CPU_FREE(s);
	return -ret;
}

/* ------------------------------------------------------------------------
 * The cache-line ping-pong: the caller writes an odd number, the partner
 * on the other CPU answers with the next even one. Every spin is bounded
 * by the call timeout, so a partner that never runs is ETIMEDOUT.
 */

struct pingpong {
	_Atomic uint64_t line __attribute__((aligned(64)));
	char pad[64 - sizeof(uint64_t)];
	_Atomic int stop;
	unsigned int cpu;
	int err;
	uint64_t timeout_ns;
};

/* Spin until *@p is @want (0) or @stop is set or @deadline passes. */
static int spin_for(_Atomic uint64_t *p, uint64_t want, _Atomic int *stop,
		    uint64_t deadline)
{
	unsigned int n = 0;

	while (atomic_load_explicit(p, memory_order_acquire) != want) {
		if (atomic_load_explicit(stop, memory_order_relaxed))
			return -ECANCELED;
		if (++n % 4096 == 0 && now_ns() > deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

static void *partner(void *arg)
{
	struct pingpong *pp = arg;
	uint64_t v = 1;
	int ret;

	pp->err = pin_self(pp->cpu);
	if (pp->err) {
		atomic_store(&pp->stop, 1);
		return NULL;
	}
	for (;;) {
		ret = spin_for(&pp->line, v, &pp->stop,
			       now_ns() + pp->timeout_ns);
		if (ret == -ETIMEDOUT)
			continue;	/* the caller may be slow: it ends us */
		if (ret)
			return NULL;
		atomic_store_explicit(&pp->line, v + 1, memory_order_release);
		v += 2;
	}
}

/* One sample: PP_ROUNDS round trips, the time of one. */
static int pingpong_sample(struct pingpong *pp, uint64_t *v, uint64_t *ns)
{
	uint64_t t0 = now_ns(), deadline = t0 + pp->timeout_ns;
	unsigned int r;
	int ret;

	for (r = 0; r < PP_ROUNDS; r++) {
		atomic_store_explicit(&pp->line, *v, memory_order_release);
		ret = spin_for(&pp->line, *v + 1, &pp->stop, deadline);
		if (ret)
			return pp->err ? pp->err : ret;
		*v += 2;
	}
	*ns = (now_ns() - t0) / PP_ROUNDS;
	return 0;
}

/* ------------------------------------------------------------------------
 * The matrix.
 */

struct run {
	struct lat_args *a;
	struct xcall *x;		/* NULL for ping-pong */
	struct xcall_req req;		/* ping, with the timeout */
	cpu_set_t *online, *target;
	struct lat_matrix m;
	uint64_t nsamples, *buf;
	uint64_t budget_ns;		/* per pair */
	unsigned int timeout_ms;
	int progress;			/* stderr is a terminal */
};

/* One call of ping to @to; its round trip in *@ns. */
static int call_sample(struct run *r, unsigned int from, unsigned int to,
		       uint64_t *ns)
{
	struct xcall_result res;
	uint64_t t0;
	char what[64];
	int ret;

	CPU_ZERO_S(XC_SETSIZE, r->target);
	CPU_SET_S(to, XC_SETSIZE, r->target);
	t0 = now_ns();
	ret = xcall_run_online(r->x, &r->req, r->target, XC_SETSIZE,
			       r->online, &res, 1);
	*ns = now_ns() - t0;
	if (ret < 0)
		return xc_run_failed(r->x, "ping", ret);
	if (res.error || res.cpu != to) {
		snprintf(what, sizeof(what), "cpu %u to cpu %u", from, to);
		xc_err(what, "%s", res.error ? fmt_errmsg(res.error) :
		       "answered from another CPU");
		return XC_EXIT_FAILED;
	}
	return 0;
}

static int pair_calls(struct run *r, unsigned int from, unsigned int to,
		      uint32_t *n)
{
	uint64_t deadline, ns;
	unsigned int w;
	int status;

	for (w = 0; w < WARMUP; w++) {
		status = call_sample(r, from, to, &ns);
		if (status)
			return status;
	}
	deadline = now_ns() + r->budget_ns;
	for (*n = 0; *n < r->nsamples && (!*n || now_ns() < deadline);
	     (*n)++) {
		status = call_sample(r, from, to, &r->buf[*n]);
		if (status)
			return status;
	}
	return 0;
}

static int pair_pingpong(struct run *r, unsigned int from, unsigned int to,
			 uint32_t *n)
{
	struct pingpong *pp;
	uint64_t v = 1, deadline, ns;
	char what[64];
	pthread_t t;
	int ret = 0;

	snprintf(what, sizeof(what), "cpu %u to cpu %u", from, to);
	pp = aligned_alloc(64, sizeof(*pp));
	if (!pp) {
		xc_err("memory", "%s", strerror(ENOMEM));
		return XC_EXIT_REFUSED;
	}
	memset(pp, 0, sizeof(*pp));
	pp->cpu = to;
	pp->timeout_ns = (uint64_t)r->timeout_ms * 1000000;
	ret = -pthread_create(&t, NULL, partner, pp);
	if (ret) {
		xc_err(what, "cannot start a thread: %s", strerror(-ret));
		free(pp);
		return XC_EXIT_REFUSED;
	}
	ret = pingpong_sample(pp, &v, &ns);	/* warm up */
	deadline = now_ns() + r->budget_ns;
	for (*n = 0; !ret && *n < r->nsamples && (!*n || now_ns() < deadline);
	     (*n)++)
		ret = pingpong_sample(pp, &v, &r->buf[*n]);
	atomic_store(&pp->stop, 1);
	pthread_join(t, NULL);
	free(pp);
	if (ret == -EINVAL) {
		xc_err(what, "cannot run a thread on cpu %u", to);
		return XC_EXIT_REFUSED;
	}
	if (ret) {
		xc_err(what, "%s", fmt_errmsg(ret));
		return XC_EXIT_FAILED;
	}
	return 0;
}

static int measure(struct run *r)
{
	unsigned int i, j, n = r->m.n, done = 0, npairs = n * (n - 1);
	uint32_t got;
	int status;

	for (i = 0; i < n; i++) {
		if (pin_self(r->m.cpus[i])) {
			xc_err("latency", "cpu %u: the caller may not run "
			       "there (its affinity, or a cpuset, forbids "
			       "it)", r->m.cpus[i]);
			return XC_EXIT_REFUSED;
		}
		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			if (r->progress)
				fprintf(stderr, "\rxcall latency: pair %u of "
					"%u, cpu %u to cpu %u ", ++done,
					npairs, r->m.cpus[i], r->m.cpus[j]);
			status = r->x ?
				pair_calls(r, r->m.cpus[i], r->m.cpus[j],
					   &got) :
				pair_pingpong(r, r->m.cpus[i], r->m.cpus[j],
					      &got);
			if (status)
				goto out;
			lat_stats(r->buf, got, &r->m.cell[i * n + j]);
		}
	}
	status = 0;
out:
	if (r->progress)
		fputs("\r\033[K", stderr);
	return status;
}

/* ------------------------------------------------------------------------
 * Options, CPUs, output.
 */

/* The CPUs asked for, checked against the machine, into @r. */
static int select_cpus(struct run *r, cpu_set_t *set)
{
	cpu_set_t *possible = xc_cpuset_alloc(), *bad = xc_cpuset_alloc();
	char list[512], what[540];
	unsigned int c, n = 0;
	int ret, status = XC_EXIT_REFUSED;

	if (xc_read_cpus("latency", possible, r->online))
		goto out;
	if (!r->a->cpu || !strcmp(r->a->cpu, "all")) {
		CPU_OR_S(XC_SETSIZE, set, r->online, r->online);
	} else {
		ret = xcall_cpulist_parse(r->a->cpu, set, XC_SETSIZE);
		if (ret == -EINVAL) {
			xc_err("--cpu", "'%s': not a CPU list (expected e.g. "
			       "0-3,8-15:2 or all)", r->a->cpu);
			status = XC_EXIT_USAGE;
			goto out;
		}
		if (ret) {
			xc_err("--cpu", "'%s': no such CPU", r->a->cpu);
			goto out;
		}
	}
	/* Before the machine is asked: the bound holds on any machine. */
	if (CPU_COUNT_S(XC_SETSIZE, set) > MAX_CPUS) {
		xc_err("--cpu", "'%s': %d CPUs, a matrix takes %d at most",
		       r->a->cpu ? r->a->cpu : "all",
		       CPU_COUNT_S(XC_SETSIZE, set), MAX_CPUS);
		status = XC_EXIT_USAGE;
		goto out;
	}
	ret = xcall_cpus_check(set, possible, r->online, XC_SETSIZE, bad);
	if (xcall_cpulist_format(bad, XC_SETSIZE, list, sizeof(list)) < 0)
		snprintf(list, sizeof(list), "(many)");
	snprintf(what, sizeof(what), "cpu %s", list);
	if (ret == -ENODEV) {
		xc_err(what, "no such CPU");
		goto out;
	}
	if (ret == -ENXIO) {
		xc_err(what, "CPU is offline");
		goto out;
	}
	if (CPU_COUNT_S(XC_SETSIZE, set) < 2) {
		xc_err("--cpu", "'%s': a matrix needs two CPUs or more",
		       r->a->cpu ? r->a->cpu : "all");
		status = XC_EXIT_USAGE;
		goto out;
	}
	status = XC_EXIT_OK;
	r->m.n = CPU_COUNT_S(XC_SETSIZE, set);
	r->m.cpus = calloc(r->m.n, sizeof(*r->m.cpus));
	r->m.cell = calloc((size_t)r->m.n * r->m.n, sizeof(*r->m.cell));
	if (!r->m.cpus || !r->m.cell) {
		xc_err("memory", "%s", strerror(ENOMEM));
		status = XC_EXIT_REFUSED;
		goto out;
	}
	for (c = 0; c < XC_SETSIZE * 8; c++)
		if (CPU_ISSET_S(c, XC_SETSIZE, set))
			((unsigned int *)r->m.cpus)[n++] = c;
out:
	CPU_FREE(bad);
	CPU_FREE(possible);
	return status;
}

static int parse_args(struct lat_args *a, struct run *r)
{
	uint64_t duration = DFLT_DURATION;
	int status;

	r->nsamples = DFLT_SAMPLES;
	r->timeout_ms = XCALL_DEFAULT_TIMEOUT_MS;
	status = xc_opt_timeout(&a->o, &r->timeout_ms);
	if (!status && a->samples)
		status = xc_parse_num("--samples", a->samples, 1, MAX_SAMPLES,
				      &r->nsamples);
	if (!status && a->duration)
		status = xc_parse_num("--duration", a->duration, 1,
				      MAX_DURATION, &duration);
	if (status)
		return status;
	r->budget_ns = duration * 1000000000ULL;
	if (a->o.json && a->csv) {
		xc_err("latency", "--json and --csv exclude each other");
		return XC_EXIT_USAGE;
	}
	r->m.measure = a->measure ? a->measure : "call";
	if (strcmp(r->m.measure, "call") && strcmp(r->m.measure, "pingpong")) {
		xc_err("--measure", "'%s': not call or pingpong", a->measure);
		return XC_EXIT_USAGE;
	}
	if (!strcmp(r->m.measure, "pingpong") && a->o.backend &&
	    strcmp(a->o.backend, "threads")) {
		xc_err("--measure", "pingpong is in-process: only with "
		       "--backend threads");
		return XC_EXIT_USAGE;
	}
	return 0;
}

static int write_svg(const char *path, const struct lat_matrix *m)
{
	struct sbuf sb;
	FILE *f;
	int ok;

	sb_init(&sb);
	lat_fmt_svg(&sb, m);
	if (sb.oom) {
		sb_free(&sb);
		xc_err("memory", "%s", strerror(ENOMEM));
		return XC_EXIT_REFUSED;
	}
	f = fopen(path, "we");
	if (!f) {
		xc_err(path, "%s", strerror(errno));
		sb_free(&sb);
		return XC_EXIT_OUTPUT;
	}
	ok = fwrite(sb.s, 1, sb.len, f) == sb.len;
	ok = !fclose(f) && ok;
	sb_free(&sb);
	if (!ok) {
		xc_err(path, "%s", strerror(errno ? errno : EIO));
		return XC_EXIT_OUTPUT;
	}
	return 0;
}

static void describe(struct run *r, char *host, size_t hlen, char *date,
		     size_t dlen, struct utsname *u)
{
	time_t t = time(NULL);
	struct tm tm;

	if (gethostname(host, hlen))
		snprintf(host, hlen, "?");
	host[hlen - 1] = '\0';
	if (uname(u))
		snprintf(u->machine, sizeof(u->machine), "?");
	gmtime_r(&t, &tm);
	strftime(date, dlen, "%Y-%m-%d %H:%M UTC", &tm);
	r->m.host = host;
	r->m.arch = u->machine;
	r->m.date = date;
}

int cmd_latency(int argc, char **argv)
{
	struct lat_args a = { 0 };
	struct run r = { .a = &a };
	char host[256], date[64];
	struct utsname u;
	cpu_set_t *set;
	struct sbuf sb;
	int status;

	xc_argp_parse(&lat_argp, "latency", argc, argv, 0, &a);
	status = parse_args(&a, &r);
	if (status)
		return status;
	set = xc_cpuset_alloc();
	r.online = xc_cpuset_alloc();
	r.target = xc_cpuset_alloc();
	status = select_cpus(&r, set);
	if (status)
		goto out_sets;
	r.budget_ns /= r.m.n * (r.m.n - 1);
	r.buf = calloc(r.nsamples, sizeof(*r.buf));
	if (!r.buf) {
		xc_err("memory", "%s", strerror(ENOMEM));
		status = XC_EXIT_REFUSED;
		goto out_sets;
	}
	if (!strcmp(r.m.measure, "call")) {
		status = xc_open_backend(&r.x, a.o.backend);
		if (status)
			goto out_buf;
		r.m.backend = xcall_backend_name(xcall_backend_of(r.x));
	} else {
		r.m.backend = "threads";
	}
	r.req.fn = XCALL_FN_PING;
	r.req.timeout_ms = r.timeout_ms;
	r.progress = isatty(STDERR_FILENO);
	describe(&r, host, sizeof(host), date, sizeof(date), &u);

	status = measure(&r);
	if (status)
		goto out_close;
	if (a.svg) {
		status = write_svg(a.svg, &r.m);
		if (status)
			goto out_close;
	}
	sb_init(&sb);
	if (a.o.json)
		lat_fmt_json(&sb, &r.m);
	else if (a.csv)
		lat_fmt_csv(&sb, &r.m);
	else
		lat_fmt_text(&sb, &r.m, !a.no_colour && isatty(STDOUT_FILENO));
	status = xc_emit(&sb);
out_close:
	xcall_close(r.x);
out_buf:
	free(r.buf);
out_sets:
	free((void *)r.m.cpus);
	free(r.m.cell);
	CPU_FREE(r.target);
	CPU_FREE(r.online);
	CPU_FREE(set);
	return status;
}
