/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench.h: the record a benchmark writes for each figure it measures, the
 * one thing `make bench` reads from it (tests/bench/summary.py turns the
 * records of every benchmark into one table against the targets of
 * tests/bench/targets). A benchmark keeps its own human table; this is
 * beside it. The format is HACKING.md's "Benchmark records":
 *
 *   XCALL-BENCH {"bench":"pool","figure":"call_single_spin","unit":"ns",
 *                "median":382,"p10":366,"p90":410,"samples":201,
 *                "what":"call_single wait, spinning"}
 *
 * on one line. p10 and p90 are null for a figure measured once (NAN
 * here). Where the records go: $XCALL_BENCH_RECORDS names a file they are
 * appended to (the make targets set it); unset, they go to stdout (a
 * guest's console, from which `make bench-vm` takes them).
 *
 * Header only, so that the static guest programs need nothing more.
 */
#ifndef XT_BENCH_H
#define XT_BENCH_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static FILE *xt_bench_out;

/* Percentiles of samples: what a record carries. */
struct xt_pct {
	double p10, med, p90;
};

static inline int xt_bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p10, median and p90 of the @n samples @v (sorted here, in place). */
static inline struct xt_pct xt_bench_pct(double *v, int n)
{
	struct xt_pct s;

	qsort(v, n, sizeof(*v), xt_bench_cmp);
	s.p10 = v[n / 10];
	s.med = v[n / 2];
	s.p90 = v[n - 1 - n / 10];
	return s;
}

static inline void xt_bench_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static inline void xt_bench_json_num(FILE *f, const char *key, double v)
{
	if (isfinite(v))
		fprintf(f, ",\"%s\":%.6g", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

/**
 * xt_bench_record() - write the record of one figure
 * @bench: the benchmark ("pool", "daemon", "kmod", "cli")
 * @figure: the figure's name, unique in @bench: [a-z0-9_]+, an interface
 *          (tests/bench/targets names it)
 * @unit: what @median is in ("ns", "us", "M/s", "calls/s")
 * @median, @p10, @p90: the figure; NAN for a percentile not measured
 * @samples: how many samples the percentiles are of
 * @what: a few words for the table
 *
 * A record that cannot be written is said on stderr and ends the program
 * with status 1: a benchmark whose figures are lost has failed.
 */
static inline void xt_bench_record(const char *bench, const char *figure,
				   const char *unit, double median,
				   double p10, double p90,
				   unsigned long samples, const char *what)
{
	const char *path = getenv("XCALL_BENCH_RECORDS");
	FILE *f;

	if (!xt_bench_out) {
		xt_bench_out = path && *path ? fopen(path, "a") : stdout;
		if (!xt_bench_out) {
			perror(path);
			exit(1);
		}
	}
	f = xt_bench_out;
	fputs("XCALL-BENCH {\"bench\":", f);
	xt_bench_json_str(f, bench);
	fputs(",\"figure\":", f);
	xt_bench_json_str(f, figure);
	fputs(",\"unit\":", f);
	xt_bench_json_str(f, unit);
	xt_bench_json_num(f, "median", median);
	xt_bench_json_num(f, "p10", p10);
	xt_bench_json_num(f, "p90", p90);
	fprintf(f, ",\"samples\":%lu,\"what\":", samples);
	xt_bench_json_str(f, what);
	fputs("}\n", f);
	if (fflush(f) || ferror(f)) {
		perror(path && *path ? path : "stdout");
		exit(1);
	}
}

/**
 * xt_bench_echo() - start the floor of a socket round trip
 * @fd: set to this process's end of a SOCK_SEQPACKET pair
 * @reply_len: the size of the frame that answers each one received
 *
 * A child process answers every frame on the other end with @reply_len
 * zero bytes (up to 512), until this end is closed. Returns its pid, or
 * -1 with errno set.
 */
static inline pid_t xt_bench_echo(int *fd, size_t reply_len)
{
	int sv[2];
	pid_t pid;

	if (reply_len > 512 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		char in[4096], out[512] = { 0 };

		close(sv[0]);
		while (recv(sv[1], in, sizeof(in), 0) > 0)
			if (send(sv[1], out, reply_len, 0) < 0)
				break;
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

#endif /* XT_BENCH_H */
