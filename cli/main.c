// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcall: run a precompiled function on a chosen CPU. This file parses the
 * global options and hands the rest of the command line to a subcommand
 * from the table below; each subcommand parses its own options with argp.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"

/* The subcommands. A new one is its file plus one line here. */
static const struct xc_cmd cmds[] = {
	{ "run", cmd_run, "run a function on CPUs" },
	{ "list", cmd_list, "list the functions" },
	{ "topology", cmd_topology, "CPUs, NUMA nodes, online state, "
				    "hardware ids" },
	{ "status", cmd_status, "the backend in use and the daemon's state" },
	{ "clock", cmd_clock, "are the CPUs' clocks in step? measured "
			      "offsets and bounds" },
	{ "latency", cmd_latency, "round-trip latency between every pair of "
				  "CPUs, as a heatmap" },
};

#define NR_CMDS	(sizeof(cmds) / sizeof(cmds[0]))

const char *argp_program_version = "xcall " XCALL_VERSION;

struct main_args {
	int cmd_index;		/* argv index of the command */
};

static error_t main_parse(int key, char *arg, struct argp_state *state)
{
	struct main_args *a = state->input;

	switch (key) {
	case ARGP_KEY_ARG:
		/* The command: everything after it is the command's. */
		a->cmd_index = state->next - 1;
		state->next = state->argc;
		return 0;
	case ARGP_KEY_NO_ARGS:
		xc_err("command", "none given (see 'xcall --help')");
		exit(XC_EXIT_USAGE);
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* The lists of commands and functions in --help, from the tables. */
static char *main_help(int key, const char *text, void *input)
{
	const struct xcall_fn_info *fi;
	struct sbuf sb;
	unsigned int i;

	if (key != ARGP_KEY_HELP_POST_DOC)
		return (char *)text;
	sb_init(&sb);
	if (text)
		sb_printf(&sb, "%s\n\n", text);
	sb_puts(&sb, "Commands:\n");
	for (i = 0; i < NR_CMDS; i++)
		sb_printf(&sb, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	sb_puts(&sb, "\nFunctions (xcall list shows more):\n");
	for (i = 0; i < xcall_fn_count(); i++) {
		fi = xcall_fn_by_id(i);
		sb_printf(&sb, "  %-10s %s\n", fi->name, fi->summary);
	}
	sb_puts(&sb, "\n`xcall COMMAND --help` describes a command. "
		"Exit status: 0 ok, 1 a call failed, 2 refused, 3 no "
		"backend, 64 usage, 74 output error.");
	return xc_help_done(&sb, text);
}

static const struct argp main_argp = {
	.parser = main_parse,
	.args_doc = "COMMAND [ARG...]",
	.doc = "Run a precompiled function on a chosen CPU and get its result."
	       "\vExamples:\n"
	       "  xcall run --cpu 3 probe\n"
	       "  xcall run --cpu 0-3,7 --json clock\n"
	       "  xcall run --node 1 ident\n"
	       "  xcall run --cpu 2 ident 0x7 0\n"
	       "  xcall clock --all",
	.help_filter = main_help,
};

int main(int argc, char **argv)
{
	struct main_args a = { .cmd_index = -1 };
	static char name[64];
	unsigned int i;

	argp_err_exit_status = XC_EXIT_USAGE;
	xc_check_stdout_at_exit();
	xc_argp_parse(&main_argp, NULL, argc, argv, ARGP_IN_ORDER, &a);
	if (a.cmd_index < 0)
		return XC_EXIT_USAGE;
	for (i = 0; i < NR_CMDS; i++) {
		if (strcmp(argv[a.cmd_index], cmds[i].name))
			continue;
		/* argp of the command names itself "xcall <command>". */
		snprintf(name, sizeof(name), "xcall %s", cmds[i].name);
		argv[a.cmd_index] = name;
		return cmds[i].fn(argc - a.cmd_index, argv + a.cmd_index);
	}
	xc_err(argv[a.cmd_index], "no such command (try 'xcall --help')");
	return XC_EXIT_USAGE;
}
