// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld: serve cross-CPU calls to the users of this machine, under a
 * policy. Options and start-up; the work is in loop.c and the parts
 * loop.h lists. See xcalld(8).
 *
 * Exit status: 0 after a clean stop (SIGTERM), 1 on a failure, 64 for a
 * usage error.
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xcalld.h"

#define DEFAULT_POLICY	"/etc/xcall/xcalld.conf"
#define DEFAULT_USER	"xcalld"

const char *argp_program_version = "xcalld " XCALL_VERSION;

static const char doc[] =
	"xcalld -- serve xcall's cross-CPU calls over a local socket\v"
	"Calls run through /dev/xcall (xcall.ko, with io_uring commands) when "
	"the device opens, else on the daemon's own pinned worker threads. "
	"The policy file decides who may run what where; SIGHUP reloads it, "
	"SIGTERM finishes the calls in flight and exits. See xcalld(8) and "
	"xcalld.conf(5).";

enum {
	OPT_MAX_CLIENTS = 0x100,
	OPT_SEND_TIMEOUT,
	OPT_ISOLATED,
};

static const struct argp_option options[] = {
	{ "socket", 's', "PATH", 0,
	  "Listen on PATH (default " XCALL_DEFAULT_SOCKET "), unless systemd "
	  "passes a socket", 0 },
	{ "device", 'd', "PATH", 0,
	  "The module's device (default " XCALL_DEFAULT_DEVICE ")", 0 },
	{ "config", 'c', "FILE", 0,
	  "Policy file (default " DEFAULT_POLICY ")", 0 },
	{ "user", 'u', "NAME", 0,
	  "Run as NAME (or UID[:GID]) after start-up (default " DEFAULT_USER
	  "); \"-\" keeps the starting user", 0 },
	{ "backend", 'b', "NAME", 0,
	  "auto (the module if it opens, default), threads or kmod", 0 },
	{ "max-clients", OPT_MAX_CLIENTS, "N", 0,
	  "Connections at once (default 1024)", 0 },
	{ "send-timeout", OPT_SEND_TIMEOUT, "MS", 0,
	  "Drop a client that leaves replies unread this long "
	  "(default 10000)", 0 },
	{ "isolated", OPT_ISOLATED, "CPUS", 0,
	  "Keep these CPUs (a list such as 2-3,6) for privileged clients, "
	  "as the kernel's isolcpus= and nohz_full= CPUs are", 0 },
	{ "verbose", 'v', NULL, 0, "Log every connection", 0 },
	{ NULL, 0, NULL, 0, NULL, 0 },
};

static unsigned int number(const char *arg, struct argp_state *state,
			   unsigned int min, unsigned int max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || !*arg || v < min || v > max)
		argp_error(state, "'%s': expected a number from %u to %u",
			   arg, min, max);
	return (unsigned int)v;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct xd_config *cfg = state->input;

	switch (key) {
	case 's':
		cfg->socket_path = arg;
		break;
	case 'd':
		cfg->device_path = arg;
		break;
	case 'c':
		cfg->policy_path = arg;
		break;
	case 'u':
		cfg->user = strcmp(arg, "-") ? arg : NULL;
		break;
	case 'b':
		if (xcall_backend_parse(arg, &cfg->backend) ||
		    cfg->backend == XCALL_BACKEND_DAEMON)
			argp_error(state, "'%s': expected auto, threads or "
				   "kmod", arg);
		break;
	case OPT_MAX_CLIENTS:
		cfg->max_clients = number(arg, state, 1, 1000000);
		break;
	case OPT_SEND_TIMEOUT:
		cfg->send_timeout_ms = number(arg, state, 1, 3600000);
		break;
	case OPT_ISOLATED: {
		size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
		cpu_set_t *set = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
		int ret = set ? xcall_cpulist_parse(arg, set, sz) : -ENOMEM;

		CPU_FREE(set);
		if (ret)
			argp_error(state, "'%s': expected a CPU list (%s)", arg,
				   strerror(-ret));
		cfg->isolated = arg;
		break;
	}
	case 'v':
		xd_verbose = 1;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "'%s': no arguments expected", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { options, parse_opt, NULL, doc,
				  NULL, NULL, NULL };

int main(int argc, char **argv)
{
	struct xd_config cfg = {
		.socket_path = XCALL_DEFAULT_SOCKET,
		.device_path = XCALL_DEFAULT_DEVICE,
		.policy_path = DEFAULT_POLICY,
		.user = DEFAULT_USER,
		.backend = XCALL_BACKEND_AUTO,
		.max_clients = 1024,
		.send_timeout_ms = 10000,
	};

	argp_err_exit_status = 64;
	argp_parse(&argp, argc, argv, 0, NULL, &cfg);
	return xd_run(&cfg) ? 1 : 0;
}
