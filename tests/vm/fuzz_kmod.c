// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fuzzer of /dev/xcall that runs in every guest: four threads send random
 * ioctls and io_uring commands while a fifth takes a CPU offline and back.
 *
 *   - command numbers near the real ones (other sizes, directions, numbers);
 *   - struct xcall_call with random sizes, reserved fields, flags, function
 *     ids, argument counts and values, timeouts;
 *   - CPU sets of random size (0, huge, unaligned) and content;
 *   - NULL, small, unaligned, kernel and unmapped pointers for the call,
 *     the set, the results and the timeline (XCALL_CALL_TIMELINE), and
 *     result arrays that are too small;
 *   - io_uring commands with random command areas, cmd_op values and
 *     IOSQE_ASYNC, on SQE128 rings.
 *
 * XCALL_FUZZ_OPS (default 200000) operations in all, or XCALL_FUZZ_SECONDS
 * of them; XCALL_FUZZ_SEED sets the seed (printed either way). Prints the
 * errno histogram. Fails on an errno the ABI does not document for the
 * call that got it; the host fails the run on any kernel report, which is
 * the real verdict.
 *
 * Static: linked with libxcall.a and liburing.a.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>

#include "libxcall.h"

#define DEV		"/dev/xcall"
#define NTHREADS	4
#define MAXERR		256

static atomic_long hist_ioctl[MAXERR + 1], hist_uring[MAXERR + 1];
static atomic_long ops, undocumented;
static atomic_int stop;
static long max_ops;
static uint64_t end_ns;
static int ncpu;
/*
 * Pages no access may succeed on are PROT_NONE mappings, not holes: a hole
 * could be filled by a later mapping (a ring of ours), and a call that
 * writes there would corrupt it.
 */
static char *unmapped;		/* a page with no access */
static char *rdonly;		/* a read-only page */
static char *edge;		/* a page followed by one with no access */
static long pgsize;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* xorshift64*, one state per thread. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static uint64_t pick(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* The errnos XCALL_IOC_CALL and XCALL_IOC_INFO document, and ENOTTY. */
static bool documented(int e)
{
	switch (e) {
	case 0: case EFAULT: case EMSGSIZE: case EINVAL: case EBADRQC:
	case EOPNOTSUPP: case EDESTADDRREQ: case ENODEV: case ENXIO:
	case ERANGE: case EPERM: case EBUSY: case EAGAIN: case ENOTTY:
	case ENOMEM: case EINTR: case ECANCELED:
		return true;
	default:
		return false;
	}
}

static void count(atomic_long *h, int e)
{
	atomic_fetch_add(&h[e >= 0 && e < MAXERR ? e : MAXERR], 1);
	if (!documented(e) && atomic_fetch_add(&undocumented, 1) < 5)
		printf("fuzz_kmod: undocumented result %d (%s)\n", e,
		       h == hist_ioctl ? "ioctl" : "uring");
}

/* A pointer for a buffer of @len good bytes at @good, or a bad one. */
static uint64_t some_ptr(uint64_t *s, void *good, size_t len)
{
	switch (pick(s, 16)) {
	case 0:	return 0;
	case 1:	return 16;
	case 2:	return (uintptr_t)unmapped + pick(s, 4096);
	case 3:	return (uintptr_t)rdonly;
	case 4:	return 0xffff800000000000ull + pick(s, 1 << 20);
	case 5:	return (uintptr_t)good + 1;		/* unaligned */
	case 6:	return (uintptr_t)edge + pgsize - 8 * pick(s, 4); /* runs off */
	default: return (uintptr_t)good;
	}
}

/* A random but often plausible call into @c; buffers are the caller's. */
static void make_call(uint64_t *s, struct xcall_call *c, uint64_t *set,
		      size_t setwords, struct xcall_result *res, size_t nres)
{
	const struct xcall_fn_info *fi;
	unsigned int i, n;

	memset(c, 0, sizeof(*c));
	c->size = pick(s, 8) ? sizeof(*c) : pick(s, 256);
	c->fn = pick(s, 8) ? pick(s, XCALL_FN_COUNT) : rnd(s);
	c->flags = pick(s, 4) ? 0 : pick(s, 3) ? XCALL_CALL_NOWAIT : rnd(s);
	c->timeout_ms = pick(s, 4) ? pick(s, 200) :
			pick(s, 2) ? XCALL_MAX_TIMEOUT_MS + pick(s, 3) - 1 : rnd(s);
	/* Mostly a count the function takes, so that calls get through. */
	fi = xcall_fn_by_id(c->fn);
	c->nargs = fi && pick(s, 4) ?
		   fi->min_args + pick(s, fi->max_args - fi->min_args + 1) :
		   pick(s, 8) ? pick(s, XCALL_MAX_ARGS + 1) : rnd(s);
	for (i = 0; i < XCALL_MAX_ARGS; i++)
		c->args[i] = i >= c->nargs && pick(s, 8) ? 0 :
			     pick(s, 2) ? pick(s, 2000) :
			     pick(s, 2) ? XCALL_SPIN_MAX_US + pick(s, 3) - 1 :
			     rnd(s);
	/* Set: mostly online CPUs, sometimes none, beyond, or huge. */
	memset(set, 0, setwords * 8);
	n = pick(s, 4) ? 1 + pick(s, ncpu) : pick(s, 3);
	for (i = 0; i < n; i++) {
		unsigned int cpu = pick(s, 4) ? pick(s, ncpu) :
				   pick(s, setwords * 64);

		set[cpu / 64] |= 1ULL << (cpu % 64);
	}
	switch (pick(s, 8)) {
	case 0:	c->cpuset_size = 0; break;
	case 1:	c->cpuset_size = pick(s, 2048); break;
	case 2:	c->cpuset_size = setwords * 8; break;
	default: c->cpuset_size = 8 * (1 + pick(s, 2)); break;
	}
	c->cpuset = some_ptr(s, set, setwords * 8);
	c->nresults = pick(s, 8) ? nres : pick(s, nres + 2);
	c->results = some_ptr(s, res, nres * sizeof(*res));
	/* A timeline, in the results' buffer: it is only ever written. */
	if (!pick(s, 8)) {
		c->flags |= XCALL_CALL_TIMELINE;
		c->timeline = some_ptr(s, res,
				       nres * sizeof(struct xcall_timeline));
	}
	if (!pick(s, 16))
		c->reserved[pick(s, 2)] = rnd(s);
}

static void one_ioctl(uint64_t *s, int f)
{
	static const unsigned long cmds[] = { XCALL_IOC_CALL, XCALL_IOC_INFO };
	uint64_t set[XCALL_MAX_CPUSET_BYTES / 8 + 2];
	struct xcall_result res[64];
	struct xcall_call c;
	struct xcall_info info;
	unsigned long cmd = cmds[pick(s, 2)];
	void *arg;
	int ret;

	if (!pick(s, 16))	/* a number near the real ones */
		cmd ^= 1UL << pick(s, 32);
	make_call(s, &c, set, sizeof(set) / 8, res, 64);
	memset(&info, 0, sizeof(info));
	info.size = pick(s, 4) ? sizeof(info) : pick(s, 128);
	arg = _IOC_NR(cmd) == _IOC_NR(XCALL_IOC_INFO) ? (void *)&info :
						       (void *)&c;
	if (!pick(s, 16))
		arg = (void *)(uintptr_t)some_ptr(s, arg, 8);
	ret = ioctl(f, cmd, arg) ? errno : 0;
	count(hist_ioctl, ret);
}

/* A batch of random commands on @ring; reaps every CQE it caused. */
static void one_uring(uint64_t *s, struct io_uring *ring, int f)
{
	static __thread uint64_t set[4][XCALL_MAX_CPUSET_BYTES / 8 + 2];
	static __thread struct xcall_result res[4][64];
	static __thread struct xcall_call c[4];
	struct __kernel_timespec ts = { .tv_sec = 70 };
	struct io_uring_cqe *cqe;
	int i, n = 1 + pick(s, 4), got;
	static atomic_int dbg;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct xcall_uring_cmd *uc;

		if (!sqe) {
			n = i;
			break;
		}
		make_call(s, &c[i], set[i], sizeof(set[i]) / 8, res[i], 64);
		memset(sqe, 0, 128);
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = f;
		sqe->cmd_op = pick(s, 8) ? XCALL_IOC_CALL :
			      XCALL_IOC_CALL ^ (1U << pick(s, 32));
		sqe->user_data = i;
		if (!pick(s, 4))
			sqe->flags |= IOSQE_ASYNC;
		uc = (struct xcall_uring_cmd *)sqe->cmd;
		uc->call = some_ptr(s, &c[i], sizeof(c[i]));
		if (!pick(s, 16))
			uc->reserved[pick(s, 9)] = rnd(s);
	}
	/* IORING_SETUP_SUBMIT_ALL: an SQE refused goes on to the next. */
	got = io_uring_submit(ring);
	if (got != n) {
		count(hist_uring, EIO);
		if (got < 0)
			return;
	}
	/* Every command completes: within its timeout, at most 60 s. */
	for (i = 0; i < got; i++) {
		if (io_uring_wait_cqe_timeout(ring, &cqe, &ts)) {
			count(hist_uring, ETIME);	/* a lost CQE */
			return;
		}
			count(hist_uring, cqe->res < 0 ? -cqe->res : 0);
		io_uring_cqe_seen(ring, cqe);
	}
	/* A command completed twice leaves a CQE nobody asked for. */
	if (!io_uring_peek_cqe(ring, &cqe)) {
		if (atomic_fetch_add(&dbg, 1) < 3)
			printf("fuzz_kmod: a CQE too many: data %llu res %d\n",
			       (unsigned long long)cqe->user_data, cqe->res);
		count(hist_uring, EIO);
		io_uring_cqe_seen(ring, cqe);
	}
}

static bool done(void)
{
	if (atomic_load(&stop))
		return true;
	if (max_ops)
		return atomic_fetch_add(&ops, 1) >= max_ops;
	atomic_fetch_add(&ops, 1);
	return now_ns() >= end_ns;
}

static void *worker(void *arg)
{
	uint64_t s = (uintptr_t)arg;
	struct io_uring ring;
	int f = open(DEV, O_RDWR), k = 0;

	if (f < 0 || io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 |
					 IORING_SETUP_SUBMIT_ALL)) {
		perror("fuzz_kmod: worker setup");
		atomic_store(&stop, 1);
		return NULL;
	}
	while (!done()) {
		if (pick(&s, 4))
			one_ioctl(&s, f);
		else
			one_uring(&s, &ring, f);
		/* Now and then a new file, so that releases race too. */
		if (++k % 5000 == 0) {
			close(f);
			f = open(DEV, O_RDWR);
			if (f < 0)
				break;
		}
	}
	io_uring_queue_exit(&ring);
	if (f >= 0)
		close(f);
	return NULL;
}

/* Take the last CPU offline and back until the workers are done. */
static void *hotplug(void *arg)
{
	char path[64];
	long *n = arg;
	int f;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 ncpu - 1);
	while (!atomic_load(&stop)) {
		f = open(path, O_WRONLY);
		if (f < 0 || write(f, "0", 1) != 1 || close(f))
			break;
		f = open(path, O_WRONLY);
		if (f < 0 || write(f, "1", 1) != 1 || close(f))
			break;
		(*n)++;
	}
	return NULL;
}

static const char *ename(int e)
{
	static char buf[16];

	if (!e)
		return "ok";
	if (e == MAXERR)
		return "other";
	snprintf(buf, sizeof(buf), "E%d", e);
	switch (e) {
#define N(x) case x: return #x
	N(EFAULT); N(EMSGSIZE); N(EINVAL); N(EBADRQC); N(EOPNOTSUPP);
	N(EDESTADDRREQ); N(ENODEV); N(ENXIO); N(ERANGE); N(EPERM); N(EBUSY);
	N(EAGAIN); N(ENOTTY); N(ENOMEM); N(EINTR); N(ECANCELED); N(ETIME);
	N(EIO);
#undef N
	}
	return buf;
}

static void print_hist(const char *what, atomic_long *h)
{
	int e;

	printf("guest: fuzz: %s:", what);
	for (e = 0; e <= MAXERR; e++)
		if (atomic_load(&h[e]))
			printf(" %s %ld", ename(e), atomic_load(&h[e]));
	printf("\n");
}

int main(void)
{
	const char *e_ops = getenv("XCALL_FUZZ_OPS");
	const char *e_secs = getenv("XCALL_FUZZ_SECONDS");
	const char *e_seed = getenv("XCALL_FUZZ_SEED");
	uint64_t seed = e_seed ? strtoull(e_seed, NULL, 0) : now_ns();
	pthread_t th[NTHREADS], hp;
	long cycles = 0, pg = sysconf(_SC_PAGESIZE);
	uint64_t t0 = now_ns();
	int i;

	ncpu = sysconf(_SC_NPROCESSORS_CONF);
	max_ops = e_secs ? 0 : e_ops ? atol(e_ops) : 200000;
	end_ns = t0 + (e_secs ? atol(e_secs) : 0) * 1000000000ull;
	unmapped = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	rdonly = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	edge = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (unmapped == MAP_FAILED || rdonly == MAP_FAILED ||
	    edge == MAP_FAILED || mprotect(edge + pg, pg, PROT_NONE))
		return 1;
	pgsize = pg;
	printf("fuzz_kmod: seed 0x%llx (XCALL_FUZZ_SEED), %d threads, %s\n",
	       (unsigned long long)seed, NTHREADS,
	       max_ops ? "by count" : "by time");
	if (ncpu > 2)
		pthread_create(&hp, NULL, hotplug, &cycles);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker,
			       (void *)(uintptr_t)(seed * (i + 1) | 1));
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop, 1);
	if (ncpu > 2)
		pthread_join(hp, NULL);
	printf("guest: fuzz: %ld operations in %.1f s, seed 0x%llx, %ld "
	       "hotplug cycles\n", atomic_load(&ops) - NTHREADS,
	       (now_ns() - t0) / 1e9, (unsigned long long)seed, cycles);
	print_hist("ioctl", hist_ioctl);
	print_hist("uring", hist_uring);
	if (atomic_load(&undocumented)) {
		printf("fuzz_kmod: FAIL: %ld results with an errno the ABI does "
		       "not document\n", atomic_load(&undocumented));
		return 1;
	}
	return 0;
}
