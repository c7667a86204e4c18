// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_kmod: the cost of one xcall.ko call against the kernel's own
 * cross-CPU char device, in the same guest and the same run.
 *
 *   single   XCALL_IOC_CALL ident(leaf 0) on another CPU
 *            vs pread(/dev/cpu/N/cpuid) of leaf 0 (cpuid.ko: one
 *            smp_call_function_single per read)
 *   fan-out  one XCALL_IOC_CALL ident(leaf 0) on all CPUs
 *            vs one pread per CPU, one after the other
 *   local    both on the caller's own CPU: the software cost, no IPI
 *   xcalld   the single call through xcalld over the module (its io_uring
 *            command), one client, vs the raw ioctl of "single"; and the
 *            same io_uring command without the daemon (this program's own
 *            ring, waiting for its CQE), which splits the two
 *
 *   echo     a SOCK_SEQPACKET round trip to a child process on CPU 0,
 *            frames of a ping's request and reply sizes: the socket
 *            round trip between two processes on one vCPU that a call
 *            through xcalld makes on top of the module's command
 *   where    the local and fan-out calls again in each round, with
 *            XCALL_CALL_TIMELINE, whose stages the caller's CPU reads on
 *            its own counter: for the own CPU, the module from taking
 *            the request to waking the caller (local_inside) and its
 *            set-up up to the queueing (local_setup); for all CPUs, the
 *            set-up before the first queueing (fanout_setup) and the
 *            time from the first queueing to the last (fanout_spread: the
 *            caller kicks one CPU after the other). What the missed
 *            targets are made of, measured in the same run.
 *
 * Medians of per-call wall time (CLOCK_MONOTONIC), after a warm-up, caller
 * pinned to CPU 0, and xcalld too: as with the raw ioctl, the call's only
 * crossing between vCPUs is the module's IPI to CPU 1 and its answer (a
 * daemon on a third vCPU measures the host's scheduling of three TCG vCPU
 * threads on its cores more than anything of ours), the eight operations
 * of a round in a rotating order.
 * Prints one table with the ratios; no thresholds here.
 * Needs /dev/xcall, /dev/cpu/N/cpuid (x86: insmod cpuid.ko) and
 * /xcall/bin/xcalld (run as root: it drops to uid 65534).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xcall.h"
#include "wire.h"
#include "bench.h"
#include "xcalld_spawn.h"

#define ITERS	3000
#define WARMUP	300
#define MAXCPU	64
#define NOPS	9
#define SOCK	"/tmp/bench-xcalld.sock"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_us(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2] / 1000.0;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_kmod: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int xfd;
static struct xcall_result res[MAXCPU];

/* ident(leaf 0) on the CPUs of *@bits, its records into res[]. */
static void mk_ident(struct xcall_call *c, const uint64_t *bits)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->fn = XCALL_FN_IDENT;
	c->nargs = 2;
	c->cpuset_size = 8;
	c->cpuset = (uintptr_t)bits;
	c->results = (uintptr_t)res;
	c->nresults = MAXCPU;
}

/* With @tl, its timeline too (XCALL_CALL_TIMELINE). */
static void xcall_ident(uint64_t bits, int n, struct xcall_timeline *tl)
{
	struct xcall_call c;

	mk_ident(&c, &bits);
	if (tl) {
		c.flags = XCALL_CALL_TIMELINE;
		c.timeline = (uintptr_t)tl;
	}
	if (ioctl(xfd, XCALL_IOC_CALL, &c) < 0)
		die("XCALL_IOC_CALL");
	if ((int)c.ncalled != n || res[0].error || res[n - 1].error) {
		fprintf(stderr, "bench_kmod: bad call result\n");
		exit(1);
	}
}

/* The call of xcall_ident(CPU @cpu), through xcalld over the module. */
static void xcalld_ident(struct xcall *x, const cpu_set_t *set,
			 const cpu_set_t *online, int cpu)
{
	struct xcall_req r = { .fn = XCALL_FN_IDENT, .nargs = 2 };
	int n;

	n = xcall_run_online(x, &r, set, sizeof(*set), online, res, MAXCPU);
	if (n != 1 || res[0].error || (int)res[0].cpu != cpu) {
		fprintf(stderr, "bench_kmod: xcalld call: %d, error %d\n", n,
			n == 1 ? res[0].error : 0);
		exit(1);
	}
}

/* xcall_ident(CPU @cpu) as an io_uring command on @ring (SQE128). */
static void uring_ident(struct io_uring *ring, int cpu)
{
	uint64_t bits = 1ULL << cpu;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct xcall_call c;
	int ret;

	mk_ident(&c, &bits);
	sqe = io_uring_get_sqe(ring);
	if (!sqe) {
		fprintf(stderr, "bench_kmod: no SQE free\n");
		exit(1);
	}
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = xfd;
	sqe->cmd_op = XCALL_IOC_CALL;
	((struct xcall_uring_cmd *)sqe->cmd)->call = (uintptr_t)&c;
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0 || io_uring_wait_cqe(ring, &cqe)) {
		errno = ret < 0 ? -ret : EIO;
		die("io_uring command");
	}
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	if (ret != 1 || res[0].error || (int)res[0].cpu != cpu) {
		fprintf(stderr, "bench_kmod: io_uring command: %d\n", ret);
		exit(1);
	}
}

#define NWHERE	5
/* The local and fan-out calls again, with timelines: after the NOPS. */
#define OP_LOCAL_TL	NOPS
#define OP_FANOUT_TL	(NOPS + 1)

/* The where figures (see the header), in their records' order. */
static const char *const where_fig[NWHERE] = {
	"local_tl", "local_inside", "local_setup", "fanout_setup",
	"fanout_spread",
};
static const char *const where_what[NWHERE] = {
	"own CPU with XCALL_CALL_TIMELINE, ioctl wall time",
	"own CPU: the module, request taken to caller woken",
	"own CPU: the module, request taken to queued",
	"all CPUs: the module, request taken to first queued",
	"all CPUs: first queueing to last, on the caller's CPU",
};

/* Counter ticks to ns. */
static uint64_t tick_ns(uint64_t ticks, uint64_t hz)
{
	return (uint64_t)((double)ticks * 1e9 / (double)hz);
}

/*
 * The where figures of round @i from the timelines of a local call
 * (@op OP_LOCAL_TL) or a call to @ncpu CPUs (OP_FANOUT_TL), in @w.
 */
static void where_of(int op, int i, int ncpu, uint64_t hz,
		     const struct xcall_timeline *tl, uint64_t w[][ITERS])
{
	uint64_t lo, hi;
	int j;

	if (op == OP_LOCAL_TL) {
		w[1][i] = tick_ns(tl[0].ev[XCALL_TL_WOKEN] -
				  tl[0].ev[XCALL_TL_SUBMITTED], hz);
		w[2][i] = tick_ns(tl[0].ev[XCALL_TL_QUEUED] -
				  tl[0].ev[XCALL_TL_SUBMITTED], hz);
		return;
	}
	lo = hi = tl[0].ev[XCALL_TL_QUEUED];
	for (j = 0; j < ncpu; j++) {
		/* Every queueing is read on the caller's CPU. */
		if (tl[j].ev_cpu[XCALL_TL_QUEUED] != 0) {
			fprintf(stderr, "bench_kmod: queued on cpu %u\n",
				tl[j].ev_cpu[XCALL_TL_QUEUED]);
			exit(1);
		}
		if (tl[j].ev[XCALL_TL_QUEUED] < lo)
			lo = tl[j].ev[XCALL_TL_QUEUED];
		if (tl[j].ev[XCALL_TL_QUEUED] > hi)
			hi = tl[j].ev[XCALL_TL_QUEUED];
	}
	w[3][i] = tick_ns(lo - tl[0].ev[XCALL_TL_SUBMITTED], hz);
	w[4][i] = tick_ns(hi - lo, hz);
}

static void echo_round(int fd)
{
	char req[sizeof(struct xcall_wire_hdr) +
		 sizeof(struct xcall_wire_call) + 8] = { 0 }, rep[512];

	if (send(fd, req, sizeof(req), 0) != sizeof(req) ||
	    recv(fd, rep, sizeof(rep), 0) <= 0)
		die("echo");
}

/* @order: 0..@n-1 in a random order (xorshift64, a fixed seed). */
static void shuffle(int *order, int n)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;
	int i, j, tmp;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (int)(x % (uint64_t)(i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
}

static void cpuid_read(int f)
{
	uint32_t regs[4];

	if (pread(f, regs, sizeof(regs), 0) != sizeof(regs))
		die("pread cpuid");
}

/* The operations' figures in their records (tests/bench/targets). */
static const char *const figure[NOPS] = {
	"single", "pread_single", "fanout", "pread_fanout", "local",
	"pread_local", "xcalld_single", "uring_single", "echo_local",
};
static const char *const what[NOPS] = {
	"XCALL_IOC_CALL ident, CPU 1", "pread(/dev/cpu/1/cpuid)",
	"XCALL_IOC_CALL ident, all CPUs", "pread cpuid on each CPU",
	"XCALL_IOC_CALL ident, own CPU (no IPI)",
	"pread(/dev/cpu/0/cpuid), own CPU",
	"xcalld over the module, ident, CPU 1, 1 client",
	"io_uring command, ident, CPU 1, no daemon",
	"SEQPACKET round trip to a process on CPU 0",
};

int main(void)
{
	static uint64_t t[NOPS][ITERS];
	struct xcall_opts o = { .backend = XCALL_BACKEND_DAEMON,
				.socket_path = SOCK };
	int cfd[MAXCPU], ncpu, i, c, other, st, efd;
	pid_t echo;
	uint64_t all = 0, t0;
	static uint64_t w[NWHERE][ITERS];
	static struct xcall_timeline tl[MAXCPU];
	uint64_t hz = xcall_counter_hz();
	double m[NOPS], mw[NWHERE];
	cpu_set_t set, one, online;
	const char *why = "";
	struct io_uring ring;
	struct xcall *x;
	char path[64];
	pid_t xd;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2 || ncpu > MAXCPU) {
		fprintf(stderr, "bench_kmod: needs 2..%d CPUs\n", MAXCPU);
		return 1;
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	xfd = open("/dev/xcall", O_RDWR);
	if (xfd < 0)
		die("/dev/xcall");
	for (c = 0; c < ncpu; c++) {
		snprintf(path, sizeof(path), "/dev/cpu/%d/cpuid", c);
		cfd[c] = open(path, O_RDONLY);
		if (cfd[c] < 0)
			die(path);
		all |= 1ULL << c;
	}
	other = 1;
	xd = xt_xcalld_spawn(SOCK, 0, &why);
	if (xd < 0) {
		fprintf(stderr, "bench_kmod: %s\n", why);
		return 1;
	}
	errno = -xcall_open(&x, &o);
	if (errno)
		die("xcall_open(daemon)");
	if (xcall_backend_of(x) != XCALL_BACKEND_DAEMON) {
		fprintf(stderr, "bench_kmod: not the daemon backend\n");
		return 1;
	}
	errno = -xcall_cpus_online(&online, sizeof(online));
	if (errno)
		die("xcall_cpus_online");
	CPU_ZERO(&one);
	CPU_SET(other, &one);
	errno = -io_uring_queue_init(4, &ring, IORING_SETUP_SQE128);
	if (errno)
		die("io_uring_queue_init");

	if (!hz) {
		fprintf(stderr, "bench_kmod: no counter frequency\n");
		return 1;
	}
	/* The echo child on CPU 0, answering as xcalld answers a ping. */
	echo = xt_bench_echo(&efd, XCALL_WIRE_REPLY_RES +
			     sizeof(struct xcall_result));
	if (echo < 0)
		die("echo child");

	/*
	 * Eleven operations per round, in an order shuffled anew each round
	 * (a fixed seed): what ran just before (an idle or a busy target
	 * vCPU, another process and its address space) is the same for all
	 * of them on average. A rotating order did not do that: each
	 * operation but one a round came right after the same other one, and
	 * the one after a process switch (echo, xcalld) paid for it. The last
	 * two are the local and the fan-out calls again, with their
	 * timelines.
	 */
	for (i = -WARMUP; i < ITERS; i++) {
		int k, order[NOPS + 2];

		shuffle(order, NOPS + 2);
		for (k = 0; k < NOPS + 2; k++) {
			int op = order[k];

			t0 = now_ns();
			switch (op) {
			case 0:
				xcall_ident(1ULL << other, 1, NULL);
				break;
			case 1:
				cpuid_read(cfd[other]);
				break;
			case 2:
				xcall_ident(all, ncpu, NULL);
				break;
			case 3:
				for (c = 0; c < ncpu; c++)
					cpuid_read(cfd[c]);
				break;
			case 4:
				xcall_ident(1ULL << 0, 1, NULL);
				break;
			case 5:
				cpuid_read(cfd[0]);
				break;
			case 6:
				xcalld_ident(x, &one, &online, other);
				break;
			case 7:
				uring_ident(&ring, other);
				break;
			case 8:
				echo_round(efd);
				break;
			case OP_LOCAL_TL:
				xcall_ident(1ULL << 0, 1, tl);
				break;
			case OP_FANOUT_TL:
				xcall_ident(all, ncpu, tl);
				break;
			}
			t0 = now_ns() - t0;
			if (i < 0)
				continue;
			if (op < NOPS)
				t[op][i] = t0;
			else
				where_of(op, i, ncpu, hz, tl, w);
			if (op == OP_LOCAL_TL)
				w[0][i] = t0;
		}
	}
	close(efd);
	if (waitpid(echo, &st, 0) != echo || st) {
		fprintf(stderr, "bench_kmod: the echo child failed\n");
		return 1;
	}
	io_uring_queue_exit(&ring);
	xcall_close(x);
	st = xt_xcalld_term(xd);
	if (st) {
		fprintf(stderr, "bench_kmod: xcalld did not stop cleanly "
			"(status %#x)\n", st);
		return 1;
	}
	for (i = 0; i < NOPS; i++)
		m[i] = median_us(t[i], ITERS);
	for (i = 0; i < NWHERE; i++)
		mw[i] = median_us(w[i], ITERS);

	printf("%-10s %-44s %10s %8s %8s\n", "case", "what", "median_us",
	       "ratio", "target");
	printf("%-10s %-44s %10.2f %8s %8s\n", "single",
	       "pread(/dev/cpu/1/cpuid) (baseline)", m[1], "1.00", "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "single",
	       "XCALL_IOC_CALL ident, CPU 1", m[0], m[0] / m[1], "<=1.00");
	printf("%-10s %-44s %10.2f %8s %8s\n", "fan-out",
	       "pread cpuid on each CPU (baseline)", m[3], "1.00", "");
	printf("%-10s XCALL_IOC_CALL ident, CPUs 0-%-16d %10.2f %8.2f %8s\n",
	       "fan-out", ncpu - 1, m[2], m[2] / m[3], "<=0.50");
	printf("%-10s %-44s %10.2f %8s %8s\n", "local",
	       "pread(/dev/cpu/0/cpuid) (no IPI, baseline)", m[5], "1.00", "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "local",
	       "XCALL_IOC_CALL ident, CPU 0 (no IPI)", m[4], m[4] / m[5],
	       "<=1.20");
	printf("%-10s %-44s %10.2f %8s %8s\n", "xcalld",
	       "XCALL_IOC_CALL ident, CPU 1 (baseline)", m[0], "1.00", "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "xcalld",
	       "xcalld over the module, CPU 1, 1 client", m[6], m[6] / m[0],
	       "<=2.00");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "xcalld",
	       "io_uring command, CPU 1, no daemon", m[7], m[7] / m[0], "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "xcalld",
	       "SEQPACKET round trip, two processes, CPU 0", m[8],
	       m[8] / m[0], "");
	printf("(%d calls each, caller on CPU 0, after %d warm-up rounds)\n",
	       ITERS, WARMUP);
	printf("\nwhere the time goes (the same calls with "
	       "XCALL_CALL_TIMELINE in the rounds, the caller's counter):\n");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "local",
	       "ioctl wall time with the timeline", mw[0], mw[0] / m[5], "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "local",
	       "  module: request taken to caller woken", mw[1],
	       mw[1] / m[5], "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "local",
	       "  module: request taken to queued", mw[2], mw[2] / m[5], "");
	printf("%-10s %-44s %10.2f %8s %8s\n", "fan-out",
	       "module: request taken to first queued", mw[3], "", "");
	printf("%-10s %-44s %10.2f %8.2f %8s\n", "fan-out",
	       "first queueing to last (kicks in turn)", mw[4], mw[4] / m[2],
	       "");
	printf("(ratios: to the own CPU's pread, and to the fan-out call)\n");
	/* median_us() sorted each t[i]: its percentiles are at hand. */
	for (i = 0; i < NOPS; i++)
		xt_bench_record("kmod", figure[i], "us", m[i],
				t[i][ITERS / 10] / 1000.0,
				t[i][ITERS - 1 - ITERS / 10] / 1000.0, ITERS,
				what[i]);
	for (i = 0; i < NWHERE; i++)
		xt_bench_record("kmod", where_fig[i], "us", mw[i],
				w[i][ITERS / 10] / 1000.0,
				w[i][ITERS - 1 - ITERS / 10] / 1000.0, ITERS,
				where_what[i]);
	return 0;
}
