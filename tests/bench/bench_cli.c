// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_cli: what `xcall run --cpu 1 probe` costs as a whole process,
 * against `taskset -c 1 true` in the same run: the least a tool that runs
 * something on CPU 1 costs (two execs, the dynamic loader, one
 * sched_setaffinity). Between them, the stages that explain the
 * difference:
 *
 *   true                   one exec of a dynamically linked program
 *   xcall --version        + xcall's own loading (libraries and their
 *                          constructors) and argp: no topology, no backend
 *   xcall run ... threads  + the catalogue, the CPU sets, one pinned worker
 *                          and the call, with the backend named
 *   xcall run ...          the same with AUTO: + the probes for the daemon
 *                          socket and the device
 *
 * Each figure: wall time from fork to reaping, and CPU time of the child
 * (user + system, every thread, from wait4). Samples of all the commands
 * are interleaved, in a rotating order, so that each sees the same noise.
 *
 * Usage: bench_cli [-s SAMPLES] [-c CPU] XCALL
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_SAMPLES	4096

static int devnull;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_cli: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One run of @argv: its wall and CPU time in µs; exit status must be 0. */
static void run_once(char *const argv[], double *wall, double *cpu)
{
	struct rusage ru;
	double t0;
	pid_t pid;
	int st;

	t0 = now_us();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		dup2(devnull, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) != pid)
		die("wait4");
	*wall = now_us() - t0;
	*cpu = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench_cli: %s ... exited with status %d\n",
			argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			WTERMSIG(st));
		exit(1);
	}
}


enum { TASKSET, TRUE, VERSION, THREADS, AUTO, NCMDS };

static const struct cmd {
	const char *name;	/* the figure: NAME_wall, NAME_cpu */
	const char *what;
} cmds[NCMDS] = {
	[TASKSET] = { "taskset", "taskset -c CPU true (baseline)" },
	[TRUE] = { "true", "true" },
	[VERSION] = { "version", "xcall --version" },
	[THREADS] = { "run_threads", "xcall run --cpu CPU --backend threads "
				     "probe" },
	[AUTO] = { "run_probe", "xcall run --cpu CPU probe" },
};

int main(int argc, char **argv)
{
	static double wall[NCMDS][MAX_SAMPLES], cpu[NCMDS][MAX_SAMPLES];
	const char *cpu_arg = "1";
	int opt, nsamples = 301, i, k;
	struct xt_pct w[NCMDS], c[NCMDS];
	char what[128], fig[64];
	char *xcall;

	while ((opt = getopt(argc, argv, "s:c:")) != -1) {
		switch (opt) {
		case 's':
			nsamples = atoi(optarg);
			break;
		case 'c':
			cpu_arg = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	xcall = argv[optind];
	if (nsamples < 11)
		nsamples = 11;
	if (nsamples > MAX_SAMPLES)
		nsamples = MAX_SAMPLES;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		die("/dev/null");

	{
		char *const argvs[NCMDS][9] = {
			[TASKSET] = { "taskset", "-c", (char *)cpu_arg,
				      "true", NULL },
			[TRUE] = { "true", NULL },
			[VERSION] = { xcall, "--version", NULL },
			[THREADS] = { xcall, "run", "--cpu", (char *)cpu_arg,
				      "--backend", "threads", "probe", NULL },
			[AUTO] = { xcall, "run", "--cpu", (char *)cpu_arg,
				   "probe", NULL },
		};

		/* Warm the page cache and the loader's once. */
		for (k = 0; k < NCMDS; k++)
			run_once(argvs[k], &wall[k][0], &cpu[k][0]);
		for (i = 0; i < nsamples; i++)
			for (k = 0; k < NCMDS; k++) {
				int j = (k + i) % NCMDS;

				run_once(argvs[j], &wall[j][i], &cpu[j][i]);
			}
	}

	printf("bench_cli: whole processes, fork to reaping; CPU %s; median of "
	       "%d interleaved samples\n\n", cpu_arg, nsamples);
	printf("%-44s %9s %7s %7s %6s %9s %7s %7s %6s\n", "", "wall_us", "p10",
	       "p90", "ratio", "cpu_us", "p10", "p90", "ratio");
	for (k = 0; k < NCMDS; k++) {
		w[k] = xt_bench_pct(wall[k], nsamples);
		c[k] = xt_bench_pct(cpu[k], nsamples);
	}
	for (k = 0; k < NCMDS; k++) {
		printf("%-44s %9.0f %7.0f %7.0f %5.2fx %9.0f %7.0f %7.0f "
		       "%5.2fx\n", cmds[k].what, w[k].med, w[k].p10, w[k].p90,
		       w[k].med / w[TASKSET].med, c[k].med, c[k].p10,
		       c[k].p90, c[TASKSET].med ?
		       c[k].med / c[TASKSET].med : 0);
		snprintf(what, sizeof(what), "%s, wall", cmds[k].what);
		snprintf(fig, sizeof(fig), "%s_wall", cmds[k].name);
		xt_bench_record("cli", fig, "us", w[k].med, w[k].p10,
				w[k].p90, nsamples, what);
		snprintf(what, sizeof(what), "%s, cpu", cmds[k].what);
		snprintf(fig, sizeof(fig), "%s_cpu", cmds[k].name);
		xt_bench_record("cli", fig, "us", c[k].med, c[k].p10,
				c[k].p90, nsamples, what);
	}
	return 0;
usage:
	fprintf(stderr, "usage: bench_cli [-s SAMPLES] [-c CPU] XCALL\n");
	return 64;
}
