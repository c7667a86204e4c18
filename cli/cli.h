/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The xcall command line tool: what its files share. Each subcommand is one
 * function `int cmd_<name>(int argc, char **argv)` (argv[0] is "xcall
 * <name>") returning the process exit status; main.c dispatches through a
 * table, so a new subcommand is its file plus one line there.
 */
#ifndef XCALL_CLI_H
#define XCALL_CLI_H

#include <argp.h>
#include <stdint.h>

#include "libxcall.h"

/* Exit statuses, documented in xcall(1). */
#define XC_EXIT_OK	0	/* every call succeeded */
#define XC_EXIT_FAILED	1	/* a call failed on some CPU */
#define XC_EXIT_REFUSED	2	/* the request was refused as a whole */
#define XC_EXIT_BACKEND	3	/* no usable backend */
#define XC_EXIT_USAGE	64	/* the command line is wrong (argp's) */
#define XC_EXIT_OUTPUT	74	/* stdout could not be written */

struct xc_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_topology(int argc, char **argv);
int cmd_status(int argc, char **argv);	/* cli/status.c (daemon part) */
int cmd_clock(int argc, char **argv);	/* cli/clock.c */
/*
 * The CPUs of `--cpu LIST`, `--all` or `--node N` (exactly one given),
 * checked against the machine as `xcall run` checks them: XC_EXIT_OK, or
 * the exit status after a message naming what is wrong (run.c).
 */
int xc_select_cpus(const char *cpu, int all, const char *node,
		   cpu_set_t *set);
int cmd_latency(int argc, char **argv);	/* cli/latency.c */

/* util.c: diagnostics, `xcall: <what>: <why>` on one line of stderr. */
void xc_err(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The one parser of numbers, for every option and function argument: an
 * unsigned number (decimal, 0x hex, 0 octal) in @min..@max into @v, 0; or
 * XC_EXIT_USAGE after one line `xcall: <what>: <why>` naming @what (the
 * option, "--timeout") and the bad value @s.
 */
int xc_parse_num(const char *what, const char *s, uint64_t min,
		 uint64_t max, uint64_t *v);
/* The size of every cpu_set_t the CLI uses. */
#define XC_SETSIZE	CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8)
cpu_set_t *xc_cpuset_alloc(void);
/*
 * The CPUs that exist and those online, or the exit status after a message
 * labelled with @cmd, the command that needed them.
 */
int xc_read_cpus(const char *cmd, cpu_set_t *possible, cpu_set_t *online);
/* Write @len bytes to stdout and flush; XC_EXIT_OK or XC_EXIT_OUTPUT. */
int xc_write_stdout(const char *buf, size_t len);
/*
 * Write what @sb holds to stdout, or say `xcall: memory: ...` if it ran out
 * of memory (XC_EXIT_REFUSED), and free it; the exit status.
 */
struct sbuf;
int xc_emit(struct sbuf *sb);
/*
 * What an argp help_filter returns for ARGP_KEY_HELP_POST_DOC once it has
 * written @text (the doc after \v) and its own lines into @sb: the string,
 * or @text alone if @sb ran out of memory.
 */
char *xc_help_done(struct sbuf *sb, const char *text);
/* At exit, status 74 if stdout (argp's --help and --version too) failed. */
void xc_check_stdout_at_exit(void);
/*
 * argp_parse() whose usage errors are one line `xcall: <what>: <why>`
 * (@cmd: the subcommand, NULL for xcall itself), status 64.
 */
int xc_argp_parse(const struct argp *argp, const char *cmd, int argc,
		  char **argv, unsigned int flags, void *input);
/*
 * The options more than one command takes, with one key and one meaning
 * in all: a command lists those it takes with the XC_OPTION_* entries and
 * hands their keys to xc_opt_set().
 */
struct xc_opts {
	int json;		/* --json */
	const char *backend;	/* --backend NAME; NULL: auto */
	const char *timeout;	/* --timeout MS, as given */
	const char *socket;	/* --socket PATH */
};

enum {
	XC_KEY_JSON = 'j', XC_KEY_BACKEND = 'b', XC_KEY_TIMEOUT = 't',
	XC_KEY_SOCKET = 's',
};

#define XC_OPTION_JSON(doc, group)					\
	{ "json", XC_KEY_JSON, NULL, 0, doc, group }
#define XC_OPTION_BACKEND(doc, group)					\
	{ "backend", XC_KEY_BACKEND, "NAME", 0, doc, group }
#define XC_OPTION_TIMEOUT(group)					\
	{ "timeout", XC_KEY_TIMEOUT, "MS", 0, "give up on a CPU after "	\
	  "MS milliseconds (1..60000, default 1000)", group }
#define XC_OPTION_SOCKET(doc, group)					\
	{ "socket", XC_KEY_SOCKET, "PATH", 0, doc, group }

/* Store the option of @key in @o: 0, or ARGP_ERR_UNKNOWN for another. */
error_t xc_opt_set(struct xc_opts *o, int key, char *arg);
/*
 * The command line of a command that takes options only (list, topology,
 * status): @options, from the XC_OPTION_* set, into @o; any other word is
 * a usage error. @doc is its --help text. 0, or the exit status.
 */
int xc_parse_opts(const char *cmd, const struct argp_option *options,
		  const char *doc, int argc, char **argv, struct xc_opts *o);
/* --timeout into @ms (unchanged if not given): 0, or the exit status. */
int xc_opt_timeout(const struct xc_opts *o, unsigned int *ms);

/*
 * A whole-request error of xcall_run() on @x: its message, and its status
 * (3 for a lost connection to the daemon, else 2).
 */
int xc_run_failed(struct xcall *x, const char *what, int err);
/* Open the backend named by @name (NULL: AUTO); exit status on failure. */
int xc_open_backend(struct xcall **xp, const char *name);

/*
 * timeline.c: `xcall run --timeline`, @repeat rounds of @req on @set with
 * the stages of each call, summarised per target CPU; the exit status.
 */
int xc_run_timeline(struct xcall *x, const struct xcall_fn_info *fi,
		    const struct xcall_req *req, const cpu_set_t *set,
		    uint64_t repeat, int json);

#endif /* XCALL_CLI_H */
