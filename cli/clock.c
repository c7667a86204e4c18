// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall clock`: are this machine's CPU clocks in step, and to within how
 * much? Measures each CPU's cycle counter (TSC, CNTVCT, time base) and
 * CLOCK_MONOTONIC against a reference CPU with xcall_clock_offsets(), the
 * best of K round trips through the backend, and prints a row per CPU and
 * the verdict (clockfmt.c), or one JSON object.
 */
#include <argp.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clockfmt.h"

#define CLOCK_DEFAULT_SAMPLES	100

struct clock_args {
	struct xc_opts o;		/* --json, --backend */
	const char *cpu, *node, *ref, *samples;
	int all;
};

enum {
	OPT_CPU = 'c', OPT_ALL = 'a', OPT_NODE = 'n',
	OPT_REF = 0x100, OPT_SAMPLES,
};

static const struct argp_option clock_options[] = {
	{ "cpu", OPT_CPU, "LIST", 0,
	  "CPUs to measure: 0-3,8-15:2 (taskset grammar) or all", 0 },
	{ "all", OPT_ALL, NULL, 0, "every online CPU (the default)", 0 },
	{ "node", OPT_NODE, "N", 0, "the online CPUs of NUMA node N", 0 },
	{ "ref", OPT_REF, "CPU", 0,
	  "the reference CPU (default: the first CPU measured)", 1 },
	{ "samples", OPT_SAMPLES, "K", 0,
	  "round trips per CPU, the shortest counting (1..10000, "
	  "default 100)", 1 },
	XC_OPTION_JSON("one JSON object (keys: xcall(1))", 2),
	XC_OPTION_BACKEND("auto (default, or $XCALL_BACKEND), threads, kmod, "
			  "daemon", 2),
	{ 0 }
};

static error_t clock_parse(int key, char *arg, struct argp_state *state)
{
	struct clock_args *a = state->input;

	switch (key) {
	case OPT_CPU:
		a->cpu = arg;
		break;
	case OPT_ALL:
		a->all = 1;
		break;
	case OPT_NODE:
		a->node = arg;
		break;
	case OPT_REF:
		a->ref = arg;
		break;
	case OPT_SAMPLES:
		a->samples = arg;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "takes no arguments ('%s' given)", arg);
		break;
	default:
		return xc_opt_set(&a->o, key, arg);
	}
	return 0;
}

static const struct argp clock_argp = {
	.options = clock_options,
	.parser = clock_parse,
	.doc = "Measure how far each CPU's clocks are from the reference "
	       "CPU's: its cycle counter (x86 TSC, arm64 CNTVCT, ppc64 time "
	       "base) and CLOCK_MONOTONIC. The reference reads its clock, "
	       "the CPU reads its own through the backend, the reference "
	       "reads again: the offset is the CPU's reading minus the "
	       "midpoint, within half the round trip; of K round trips the "
	       "shortest counts. A CPU whose bound does not reach 0 is "
	       "provably out of step."
	       "\vThe last lines answer: 'in step within ±B ns', or 'NOT in "
	       "step' and by how much.\n"
	       "Exit status: 0 measured, 1 a CPU failed, 2 refused, 3 no "
	       "usable backend, 64 usage error, 74 stdout could not be "
	       "written.",
};

/* --ref: a CPU that is online and that this process may run on. */
static int check_ref(const struct clock_args *a, const cpu_set_t *set,
		     int *ref)
{
	cpu_set_t *possible = xc_cpuset_alloc(), *online = xc_cpuset_alloc();
	cpu_set_t *mine = xc_cpuset_alloc();
	int status = XC_EXIT_REFUSED;
	uint64_t v;

	if (xc_read_cpus("clock", possible, online))
		goto out_free;
	if (a->ref) {
		status = xc_parse_num("--ref", a->ref, 0, INT32_MAX, &v);
		if (status)
			goto out_free;
		status = XC_EXIT_REFUSED;
		*ref = v;
	} else {
		for (*ref = 0; !CPU_ISSET_S(*ref, XC_SETSIZE, set); ++*ref)
			;
	}
	if (*ref >= (int)XC_SETSIZE * 8 ||
	    !CPU_ISSET_S(*ref, XC_SETSIZE, possible)) {
		xc_err("--ref", "%d: no such CPU", *ref);
		goto out_free;
	}
	if (!CPU_ISSET_S(*ref, XC_SETSIZE, online)) {
		xc_err("--ref", "%d: CPU is offline", *ref);
		goto out_free;
	}
	if (!pthread_getaffinity_np(pthread_self(), XC_SETSIZE, mine) &&
	    !CPU_ISSET_S(*ref, XC_SETSIZE, mine)) {
		xc_err("--ref", "%d: not a CPU this process may run on "
		       "(taskset, cpuset); choose one with --ref", *ref);
		goto out_free;
	}
	status = XC_EXIT_OK;
out_free:
	CPU_FREE(mine);
	CPU_FREE(online);
	CPU_FREE(possible);
	return status;
}

/* One line per distinct error: `xcall: clock on cpu 2-3: timed out`. */
static int report_failures(const struct xcall_clock_offset *o,
			   unsigned int n)
{
	cpu_set_t *bad = xc_cpuset_alloc();
	char what[600], buf[512];
	unsigned int i, j;
	int failed = 0;

	for (i = 0; i < n; i++) {
		if (!o[i].error)
			continue;
		failed = 1;
		for (j = 0; j < i && o[j].error != o[i].error; j++)
			;
		if (j < i)
			continue;	/* reported with the first */
		CPU_ZERO_S(XC_SETSIZE, bad);
		for (j = i; j < n; j++)
			if (o[j].error == o[i].error)
				CPU_SET_S(o[j].cpu, XC_SETSIZE, bad);
		if (xcall_cpulist_format(bad, XC_SETSIZE, buf, sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "(many)");
		snprintf(what, sizeof(what), "clock on cpu %s", buf);
		xc_err(what, "%s", fmt_errmsg(o[i].error));
	}
	CPU_FREE(bad);
	return failed;
}

int cmd_clock(int argc, char **argv)
{
	struct clock_args a = { 0 };
	struct clock_report r = { .samples = CLOCK_DEFAULT_SAMPLES };
	struct xcall_clock_offset *out = NULL;
	struct xcall *x = NULL;
	cpu_set_t *set = NULL;
	int status, ret, failed;
	uint64_t samples;
	unsigned int n;
	struct sbuf sb;

	xc_argp_parse(&clock_argp, "clock", argc, argv, 0, &a);
	if (!!a.cpu + a.all + !!a.node > 1) {
		xc_err("clock", "--cpu, --all and --node exclude each other");
		return XC_EXIT_USAGE;
	}
	if (a.samples) {
		status = xc_parse_num("--samples", a.samples, 1,
				      XCALL_CLOCK_MAX_SAMPLES, &samples);
		if (status)
			return status;
		r.samples = samples;
	}
	set = xc_cpuset_alloc();
	status = xc_select_cpus(a.cpu, a.all || (!a.cpu && !a.node), a.node,
				set);
	if (!status)
		status = check_ref(&a, set, &r.ref_cpu);
	if (status)
		goto out_set;
	n = CPU_COUNT_S(XC_SETSIZE, set);
	out = calloc(n, sizeof(*out));
	if (!out) {
		xc_err("memory", "%s", strerror(ENOMEM));
		status = XC_EXIT_REFUSED;
		goto out_set;
	}
	status = xc_open_backend(&x, a.o.backend);
	if (status)
		goto out_out;
	ret = xcall_clock_offsets(x, set, XC_SETSIZE, r.ref_cpu, r.samples,
				  out, n);
	if (ret < 0) {
		status = xc_run_failed(x, "clock", ret);
		goto out_close;
	}
	r.backend = xcall_backend_name(xcall_backend_of(x));
	r.counter = xcall_counter_name();
	r.hz = xcall_counter_hz();
	r.o = out;
	r.n = ret;
	sb_init(&sb);
	if (a.o.json)
		fmt_clock_json(&sb, &r);
	else
		fmt_clock_table(&sb, &r);
	status = xc_emit(&sb);
	failed = report_failures(out, ret);
	if (!status && failed)
		status = XC_EXIT_FAILED;
out_close:
	xcall_close(x);
out_out:
	free(out);
out_set:
	CPU_FREE(set);
	return status;
}
