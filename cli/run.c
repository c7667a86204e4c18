// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall run`: parse the CPUs, the function and its arguments, refuse what
 * is wrong with one line that names it, then run the function once per
 * round and print every record (a table, or one JSON object per line).
 * Nothing reaches stdout before the request has been accepted, and each
 * round is written whole.
 */
#include <argp.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "format.h"

#define MAX_WORDS	16		/* function arguments we collect */

struct run_args {
	struct xc_opts o;		/* --json, --backend, --timeout */
	const char *cpu, *node, *repeat, *interval;
	int all, timeline;
	const char *fn;
	const char *words[MAX_WORDS];
	unsigned int nwords;		/* arguments given, may be > MAX */
};

enum {
	OPT_CPU = 'c', OPT_ALL = 'a', OPT_NODE = 'n', OPT_REPEAT = 'r',
	OPT_INTERVAL = 'i', OPT_TIMELINE = 0x100,
};

static const struct argp_option run_options[] = {
	{ "cpu", OPT_CPU, "LIST", 0,
	  "CPUs to run on: 0-3,8-15:2 (taskset grammar) or all", 0 },
	{ "all", OPT_ALL, NULL, 0, "every online CPU", 0 },
	{ "node", OPT_NODE, "N", 0, "the online CPUs of NUMA node N", 0 },
	XC_OPTION_JSON("one JSON object per record and line (keys: xcall(1))",
		       1),
	XC_OPTION_BACKEND("auto (default, or $XCALL_BACKEND), threads, kmod, "
			  "daemon", 1),
	XC_OPTION_TIMEOUT(1),
	{ "repeat", OPT_REPEAT, "N", 0,
	  "run N rounds (0: until interrupted; default 1)", 2 },
	{ "interval", OPT_INTERVAL, "MS", 0,
	  "pause MS ms between rounds (default 1000)", 2 },
	{ "timeline", OPT_TIMELINE, NULL, 0,
	  "through the module: time each stage of every call (submitted, "
	  "queued, handler, done, woken) and print each one's median and "
	  "p99 per CPU over the rounds (--repeat, default 100, back to back; "
	  "backend kmod unless --backend)", 2 },
	/*
	 * No option is a digit: getopt's "-5" is a negative number, a
	 * function argument (hidden options that take the rest of the word).
	 */
#define NEGATIVE(d)	\
	{ NULL, d, "N", OPTION_HIDDEN | OPTION_ARG_OPTIONAL, NULL, 3 }
	NEGATIVE('0'), NEGATIVE('1'), NEGATIVE('2'), NEGATIVE('3'),
	NEGATIVE('4'), NEGATIVE('5'), NEGATIVE('6'), NEGATIVE('7'),
	NEGATIVE('8'), NEGATIVE('9'),
#undef NEGATIVE
	{ 0 }
};

/* A word that is not an option: the function, then its arguments. */
static void add_word(struct run_args *a, const char *word)
{
	if (!a->fn)
		a->fn = word;
	else if (a->nwords++ < MAX_WORDS)
		a->words[a->nwords - 1] = word;
}

static error_t run_parse(int key, char *arg, struct argp_state *state)
{
	struct run_args *a = state->input;
	const char *word;

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
	case OPT_REPEAT:
		a->repeat = arg;
		break;
	case OPT_INTERVAL:
		a->interval = arg;
		break;
	case OPT_TIMELINE:
		a->timeline = 1;
		break;
	case '0' ... '9':
		/*
		 * getopt has taken the whole word it found the digit in, the
		 * one before state->next. A word that starts with the digit,
		 * "-5" or "-0x2", is an argument; a digit after an option in
		 * one word, "-j5", is not an option.
		 */
		word = state->argv[state->next - 1];
		if (word[0] != '-' || word[1] != key)
			argp_error(state, "invalid option -- '%c'", key);
		add_word(a, word);
		break;
	case ARGP_KEY_ARG:
		/* Options may follow: ARGP_IN_ORDER keeps the words' order. */
		add_word(a, arg);
		break;
	default:
		return xc_opt_set(&a->o, key, arg);
	}
	return 0;
}

static char *run_help(int key, const char *text, void *input)
{
	const struct xcall_fn_info *fi;
	struct sbuf sb;
	unsigned int i, j;

	if (key != ARGP_KEY_HELP_POST_DOC)
		return (char *)text;
	sb_init(&sb);
	if (text)
		sb_printf(&sb, "%s\n\n", text);
	sb_puts(&sb, "Functions:\n");
	for (i = 0; i < xcall_fn_count(); i++) {
		fi = xcall_fn_by_id(i);
		sb_printf(&sb, "  %s", fi->name);
		for (j = 0; j < fi->max_args; j++)
			sb_printf(&sb, j < fi->min_args ? " %s" : " [%s]",
				  fi->args[j].name);
		sb_printf(&sb, "\n      %s\n", fi->summary);
	}
	sb_puts(&sb, "\nExit status: 0 every call succeeded, 1 a call "
		"failed on some CPU, 2 the request was refused, 3 no usable "
		"backend, 64 usage error, 74 stdout could not be written.");
	return xc_help_done(&sb, text);
}

static const struct argp run_argp = {
	.options = run_options,
	.parser = run_parse,
	.args_doc = "FUNCTION [ARG...]",
	.doc = "Run FUNCTION on every CPU given by --cpu, --all or --node."
	       "\vOptions may come before or after FUNCTION and its "
	       "arguments; '--' ends them. No option is a digit: -5 is an "
	       "argument.\n"
	       "Numbers are decimal, 0x hex or 0 octal, never negative; CPU "
	       "lists are decimal.",
	.help_filter = run_help,
};

static int check_fn(const struct run_args *a, struct xcall_req *req,
		    const struct xcall_fn_info **fip)
{
	const struct xcall_fn_info *fi;
	const char *near;
	unsigned int i;
	char what[64];
	int ret;

	if (!a->fn) {
		xc_err("run", "no function given (see 'xcall list')");
		return XC_EXIT_USAGE;
	}
	fi = xcall_fn_by_name(a->fn);
	if (!fi) {
		near = xcall_fn_suggest(a->fn);
		if (near)
			xc_err("run", "'%s': no such function "
			       "(did you mean '%s'?)", a->fn, near);
		else
			xc_err("run", "'%s': no such function "
			       "(see 'xcall list')", a->fn);
		return XC_EXIT_USAGE;
	}
	if (a->nwords < fi->min_args || a->nwords > fi->max_args) {
		char names[64] = "";

		for (i = 0; i < fi->max_args; i++)
			snprintf(names + strlen(names),
				 sizeof(names) - strlen(names), "%s%s",
				 i ? " " : "", fi->args[i].name);
		if (fi->min_args == fi->max_args)
			xc_err(fi->name, "takes %u argument%s%s%s%s, %u given",
			       fi->max_args, fi->max_args == 1 ? "" : "s",
			       *names ? " (" : "", names, *names ? ")" : "",
			       a->nwords);
		else
			xc_err(fi->name, "takes %u to %u arguments (%s), "
			       "%u given", fi->min_args, fi->max_args, names,
			       a->nwords);
		return XC_EXIT_USAGE;
	}
	memset(req, 0, sizeof(*req));
	req->fn = fi->id;
	req->nargs = a->nwords;
	for (i = 0; i < a->nwords; i++) {
		snprintf(what, sizeof(what), "%s: %s", fi->name,
			 fi->args[i].name);
		ret = xc_parse_num(what, a->words[i], fi->args[i].min,
				   fi->args[i].max, &req->args[i]);
		if (ret)
			return ret;
	}
	*fip = fi;
	return 0;
}

/* Name the CPUs of @set in @buf, "0-3,7". */
static const char *cpus_text(const cpu_set_t *set, char *buf, size_t len)
{
	if (xcall_cpulist_format(set, XC_SETSIZE, buf, len) < 0)
		snprintf(buf, len, "(many)");
	return buf;
}

/*
 * The CPUs to run on, checked against the machine: a message naming the
 * CPUs that do not exist or are offline.
 */
static int select_cpus(const struct run_args *a, cpu_set_t *set)
{
	cpu_set_t *possible = xc_cpuset_alloc(), *online = xc_cpuset_alloc();
	cpu_set_t *bad = xc_cpuset_alloc();
	char buf[512], buf2[512];
	int ret, status = XC_EXIT_REFUSED;
	uint64_t node;

	if (!!a->cpu + a->all + !!a->node != 1) {
		xc_err("run", a->cpu || a->all || a->node ?
		       "--cpu, --all and --node exclude each other" :
		       "no CPUs given (use --cpu LIST, --all or --node N)");
		status = XC_EXIT_USAGE;
		goto out_free;
	}
	if (xc_read_cpus("run", possible, online))
		goto out_free;
	if (a->all || (a->cpu && !strcmp(a->cpu, "all"))) {
		CPU_OR_S(XC_SETSIZE, set, online, online);
	} else if (a->cpu) {
		ret = xcall_cpulist_parse(a->cpu, set, XC_SETSIZE);
		if (ret == -EINVAL) {
			xc_err("--cpu", "'%s': not a CPU list "
			       "(expected e.g. 0-3,8-15:2 or all)", a->cpu);
			status = XC_EXIT_USAGE;
			goto out_free;
		}
		if (ret) {
			xc_err("--cpu", "'%s': no such CPU (possible: %s)",
			       a->cpu, cpus_text(possible, buf, sizeof(buf)));
			goto out_free;
		}
	} else {
		if (xc_parse_num("--node", a->node, 0, INT32_MAX, &node)) {
			status = XC_EXIT_USAGE;
			goto out_free;
		}
		ret = xcall_node_cpus(node, set, XC_SETSIZE);
		if (ret) {
			xc_err("--node", "%s: no such NUMA node "
			       "(highest: %d)", a->node, xcall_node_max());
			goto out_free;
		}
		CPU_AND_S(XC_SETSIZE, set, set, online);
		if (!CPU_COUNT_S(XC_SETSIZE, set)) {
			xc_err("--node", "%s: no online CPU on this node",
			       a->node);
			goto out_free;
		}
	}
	ret = xcall_cpus_check(set, possible, online, XC_SETSIZE, bad);
	snprintf(buf, sizeof(buf), "cpu ");
	cpus_text(bad, buf + 4, sizeof(buf) - 4);
	if (ret == -EDESTADDRREQ) {
		xc_err("--cpu", "no CPU given");
	} else if (ret == -ENODEV) {
		xc_err(buf, "no such CPU (possible: %s)",
		       cpus_text(possible, buf2, sizeof(buf2)));
	} else if (ret == -ENXIO) {
		xc_err(buf, "CPU is offline (online: %s)",
		       cpus_text(online, buf2, sizeof(buf2)));
	} else {
		status = XC_EXIT_OK;
	}
out_free:
	CPU_FREE(bad);
	CPU_FREE(online);
	CPU_FREE(possible);
	return status;
}

/* One line per distinct error: `xcall: spin on cpu 0-1: timed out`. */
static void report_failures(const struct xcall_fn_info *fi,
			    const struct xcall_result *res, unsigned int n)
{
	cpu_set_t *cpus = xc_cpuset_alloc();
	char what[600], buf[512];
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		if (!res[i].error)
			continue;
		for (j = 0; j < i; j++)
			if (res[j].error == res[i].error)
				break;
		if (j < i)
			continue;	/* reported with the first */
		CPU_ZERO_S(XC_SETSIZE, cpus);
		for (j = i; j < n; j++)
			if (res[j].error == res[i].error &&
			    res[j].cpu < XC_SETSIZE * 8)
				CPU_SET_S(res[j].cpu, XC_SETSIZE, cpus);
		snprintf(what, sizeof(what), "%s on cpu %s", fi->name,
			 cpus_text(cpus, buf, sizeof(buf)));
		xc_err(what, "%s", fmt_errmsg(res[i].error));
	}
	CPU_FREE(cpus);
}

/* The first msr address of @req off the allowlist, or -1. */
static long msr_off_allowlist(const struct xcall_req *req)
{
	unsigned int i;

	for (i = 0; req->fn == XCALL_FN_MSR && i < req->nargs; i++)
		if (!xcall_msr_allowed(req->args[i]))
			return (long)req->args[i];
	return -1;
}

static int refused(const struct xcall_fn_info *fi, struct xcall *x,
		   const struct xcall_req *req, int err)
{
	char what[64];
	long off = msr_off_allowlist(req);

	snprintf(what, sizeof(what), "%s", fi->name);
	if (err == -EPERM && off >= 0) {
		xc_err(what, "MSR %#lx is not on the allowlist (xcall(4)); "
		       "not permitted to anyone", off);
		return XC_EXIT_REFUSED;
	}
	if (err != -EOPNOTSUPP)
		return xc_run_failed(x, what, err);
	if (!fi->backends)
		xc_err(what, "not on this architecture");
	else
		xc_err(what, "not available on the %s backend",
		       xcall_backend_name(xcall_backend_of(x)));
	return XC_EXIT_REFUSED;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cmd_run(int argc, char **argv)
{
	uint64_t repeat = 1, interval = 1000, round;
	const struct xcall_fn_info *fi = NULL;
	struct run_args a = { 0 };
	struct xcall_result *res = NULL;
	struct xcall *x = NULL;
	struct xcall_req req;
	cpu_set_t *set = NULL;
	int status, ret, failed = 0;
	unsigned int n, i;
	struct sbuf sb;

	xc_argp_parse(&run_argp, "run", argc, argv, ARGP_IN_ORDER, &a);
	status = check_fn(&a, &req, &fi);
	if (status)
		return status;
	status = xc_opt_timeout(&a.o, &req.timeout_ms);
	if (a.timeline)
		repeat = 100;
	if (!status && a.repeat)
		status = xc_parse_num("--repeat", a.repeat, a.timeline,
				      a.timeline ? 1000000 : UINT32_MAX,
				      &repeat);
	if (!status && a.timeline && a.interval) {
		xc_err("--timeline", "takes no --interval: its calls follow "
		       "each other at once");
		status = XC_EXIT_USAGE;
	}
	if (!status && a.interval)
		status = xc_parse_num("--interval", a.interval, 0, 3600000,
				      &interval);
	if (status)
		return status;

	set = xc_cpuset_alloc();
	status = select_cpus(&a, set);
	if (status)
		goto out_set;
	n = CPU_COUNT_S(XC_SETSIZE, set);
	res = calloc(n, sizeof(*res));
	if (!res) {
		xc_err("memory", "%s", strerror(ENOMEM));
		status = XC_EXIT_REFUSED;
		goto out_set;
	}
	status = xc_open_backend(&x, a.timeline && !a.o.backend ? "kmod" :
				 a.o.backend);
	if (status)
		goto out_res;
	if (a.timeline) {
		status = xc_run_timeline(x, fi, &req, set, repeat, a.o.json);
		goto out_close;
	}
	/*
	 * One CPU, in this process: move there, as taskset would, and the
	 * function runs on this thread with no worker to start (the threads
	 * backend runs a call to the one CPU its caller is pinned to in
	 * place). Never for the module or the daemon, whose records say what
	 * the call interrupted there: it must not be this process. If the
	 * move is not allowed, a worker there runs it as before.
	 */
	if (n == 1 && xcall_backend_of(x) == XCALL_BACKEND_THREADS)
		sched_setaffinity(0, XC_SETSIZE, set);

	for (round = 0; !repeat || round < repeat; round++) {
		if (round)
			sleep_ms(interval);
		ret = xcall_run(x, &req, set, XC_SETSIZE, res, n);
		if (ret < 0) {
			status = refused(fi, x, &req, ret);
			goto out_close;
		}
		sb_init(&sb);
		if (a.o.json) {
			fmt_records_json(&sb, fi, res, ret, round);
		} else {
			if (round)
				sb_putc(&sb, '\n');
			fmt_records_table(&sb, fi, res, ret);
		}
		status = xc_emit(&sb);
		if (status)
			goto out_close;
		report_failures(fi, res, ret);
		for (i = 0; i < (unsigned int)ret; i++)
			failed |= !!res[i].error;
	}
	status = failed ? XC_EXIT_FAILED : XC_EXIT_OK;
out_close:
	xcall_close(x);
out_res:
	free(res);
out_set:
	CPU_FREE(set);
	return status;
}

int xc_select_cpus(const char *cpu, int all, const char *node,
		   cpu_set_t *set)
{
	const struct run_args a = { .cpu = cpu, .all = all, .node = node };

	return select_cpus(&a, set);
}
