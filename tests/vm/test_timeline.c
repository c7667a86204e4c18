// SPDX-License-Identifier: GPL-2.0-only
/*
 * XCALL_CALL_TIMELINE in the guests: the stages the module records for
 * each call (submitted, queued, handler, done, woken) and how it says the
 * call was queued and delivered, judged three ways:
 *
 *   order    through libxcall (ioctl) and through an io_uring command,
 *            from CPU 0 to every CPU: every stage on the CPU it belongs
 *            to, in order on one time axis (the measured clock offsets
 *            of xcall_clock_offsets(), within their bounds), the
 *            function's own counter reading between handler and done,
 *            exactly one way of queuing and one of delivery, inline
 *            exactly when the target is the caller's CPU.
 *   refused  the flag without a timeline, with NOWAIT, an unwritable
 *            timeline, a timeline without the flag: each its errno, and
 *            nothing written.
 *   oracle   the kernel's own tracepoints (csd:csd_queue_cpu,
 *            csd:csd_function_entry/exit, ipi:ipi_send_cpu and
 *            ipi_send_cpumask, 6.4 and later)
 *            through tracefs for the same calls, each call in a window
 *            opened by a trace_marker line; every other call is preceded
 *            by a NOWAIT ping, so that some calls ride on its kick. A call
 *            that says it raised the IPI has a csd_queue_cpu of its own
 *            and one that rode along has none; its handler was entered in
 *            hard IRQ context exactly when a function-call IPI to the
 *            target (ipi_send_cpu, or ipi_send_cpumask naming it) was sent
 *            after the queueing that kicked it, or after the first of the
 *            csds queued there before it that no handler had taken yet
 *            (the kernel's own, seen once in arm64-gicv2-6.12 and once in
 *            ppc64le-xics-6.12: then no IPI is sent for ours and it rides
 *            theirs); the trace's stages come
 *            in the module's order; and where the trace clock is the
 *            cycle counter itself (x86-tsc, ppc-tb) the module's readings
 *            fall between the trace's on each CPU. A call run from the
 *            rekick timer (its ping crossed the drain bound first: seen on
 *            ppc64 under TCG) had no csd handler of its own: only its
 *            queueing is judged. Each record is also judged broken four
 *            ways, and must be found out every time.
 *
 * Static: linked with libxcall.a and liburing.a.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"
#include "libxcall.h"

#define MAXCPU		64
#define NCALLS		32	/* per target, for the order */
#define NORACLE		120	/* calls judged against the trace */
#define MAXTEV		16384	/* trace events kept, all calls */
#define TRACEFS		"/sys/kernel/tracing"

static int ncpus;
static struct xcall *x;
static int64_t off[MAXCPU];
static uint64_t bnd[MAXCPU];

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* The kmod backend, the caller on CPU 0, every CPU's clock offset. */
static void setup(void)
{
	struct xcall_opts o = { .backend = XCALL_BACKEND_KMOD };
	struct xcall_clock_offset co[MAXCPU];
	cpu_set_t set;
	int i, n;

	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	ck_assert_int_gt(ncpus, 1);
	ck_assert_int_le(ncpus, MAXCPU);
	ck_assert_int_eq(xcall_open(&x, &o), 0);
	CPU_ZERO(&set);
	for (i = 0; i < ncpus; i++)
		CPU_SET(i, &set);
	n = xcall_clock_offsets(x, &set, sizeof(set), 0, 64, co, MAXCPU);
	ck_assert_int_eq(n, ncpus);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(co[i].error, 0);
		off[co[i].cpu] = co[i].offset_ticks;
		bnd[co[i].cpu] = co[i].bound_ticks;
	}
	pin(0);
}

static void teardown(void)
{
	xcall_close(x);
}

/* A stage's reading on CPU 0's axis. */
static int64_t on_axis(const struct xcall_timeline *tl, int k)
{
	return (int64_t)(tl->ev[k] - off[tl->ev_cpu[k]]);
}

static int one_of(uint32_t flags, uint32_t mask)
{
	return __builtin_popcount(flags & mask) == 1;
}

/* One call of ping from @caller to @target: its record and its stages. */
static void check_call(const struct xcall_result *r,
		       const struct xcall_timeline *tl, int target, int caller)
{
	static const int on_target[XCALL_TL_NR] = { 0, 0, 1, 1, 0 };
	uint64_t b;
	int k, a, c;

	ck_assert_int_eq(r->error, 0);
	ck_assert_uint_eq(r->cpu, target);
	ck_assert_uint_eq(tl->cpu, target);
	ck_assert_msg(one_of(tl->flags, XCALL_TLF_KICKED | XCALL_TLF_RODE),
		      "flags %#x: kicked or rode, one of them", tl->flags);
	ck_assert_msg(one_of(tl->flags, XCALL_TLF_IRQ | XCALL_TLF_TASK |
				      XCALL_TLF_REKICK),
		      "flags %#x: one way the handler was entered", tl->flags);
	ck_assert_int_eq(!!(tl->flags & XCALL_TLF_INLINE), target == caller);
	if (target == caller)
		ck_assert_uint_eq(tl->flags, XCALL_TLF_INLINE |
				  XCALL_TLF_KICKED | XCALL_TLF_TASK);
	for (k = 0; k < XCALL_TL_NR; k++) {
		ck_assert_msg(tl->ev[k], "stage %d not read", k);
		ck_assert_uint_eq(tl->ev_cpu[k],
				  on_target[k] ? target : caller);
	}
	for (k = 0; k + 1 < XCALL_TL_NR; k++) {
		a = tl->ev_cpu[k];
		c = tl->ev_cpu[k + 1];
		b = a == c ? 0 : bnd[a] + bnd[c];
		ck_assert_msg(on_axis(tl, k + 1) - on_axis(tl, k) >=
			      -(int64_t)b, "stage %d before stage %d by %lld "
			      "ticks, bound %llu", k + 1, k, (long long)
			      (on_axis(tl, k) - on_axis(tl, k + 1)),
			      (unsigned long long)b);
	}
	/* The function's own reading: after the handler, before done. */
	ck_assert_uint_le(tl->ev[XCALL_TL_HANDLER], r->cycles);
	ck_assert_uint_le(r->cycles, tl->ev[XCALL_TL_DONE]);
}

START_TEST(test_order_ioctl)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };
	struct xcall_timeline tl[1];
	struct xcall_result r[1];
	unsigned int kicked = 0;
	cpu_set_t set;
	int t, i;

	for (t = 0; t < ncpus; t++) {
		CPU_ZERO(&set);
		CPU_SET(t, &set);
		for (i = 0; i < NCALLS; i++) {
			memset(tl, 0, sizeof(tl));
			ck_assert_int_eq(xcall_run_timeline(x, &req, &set,
					sizeof(set), r, tl, 1), 1);
			check_call(r, tl, t, 0);
			kicked += !!(tl->flags & XCALL_TLF_KICKED);
		}
	}
	/* Nothing else calls: each call found the queue empty. */
	ck_assert_uint_eq(kicked, ncpus * NCALLS);
}
END_TEST

/* All CPUs in one request: one timeline per record, in its order. */
START_TEST(test_order_many)
{
	struct xcall_req req = { .fn = XCALL_FN_PROBE };
	struct xcall_timeline tl[MAXCPU];
	struct xcall_result r[MAXCPU];
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < ncpus; i++)
		CPU_SET(i, &set);
	ck_assert_int_eq(xcall_run_timeline(x, &req, &set, sizeof(set), r,
					    tl, MAXCPU), ncpus);
	for (i = 0; i < ncpus; i++)
		check_call(&r[i], &tl[i], i, 0);
	/* One request: one submission, one wake-up for all. */
	for (i = 1; i < ncpus; i++) {
		ck_assert_uint_eq(tl[i].ev[XCALL_TL_SUBMITTED],
				  tl[0].ev[XCALL_TL_SUBMITTED]);
		ck_assert_uint_eq(tl[i].ev[XCALL_TL_WOKEN],
				  tl[0].ev[XCALL_TL_WOKEN]);
	}
}
END_TEST

static void prep_cmd(struct io_uring_sqe *sqe, int f, struct xcall_call *c)
{
	struct xcall_uring_cmd *uc;

	ck_assert(sqe);
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = f;
	sqe->cmd_op = XCALL_IOC_CALL;
	uc = (struct xcall_uring_cmd *)sqe->cmd;
	uc->call = (uintptr_t)c;
}

static void call_init(struct xcall_call *c, uint64_t *bits,
		      struct xcall_result *r, struct xcall_timeline *tl)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->fn = XCALL_FN_PING;
	c->flags = XCALL_CALL_TIMELINE;
	c->cpuset_size = 8;
	c->cpuset = (uintptr_t)bits;
	c->results = (uintptr_t)r;
	c->nresults = 1;
	c->timeline = (uintptr_t)tl;
}

/* The io_uring command: the stages up to the CQE's task work. */
START_TEST(test_order_uring)
{
	struct xcall_timeline tl[1];
	struct xcall_result r[1];
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct xcall_call c;
	uint64_t bits[1];
	int f, t, i;

	f = open("/dev/xcall", O_RDWR);
	ck_assert_int_ge(f, 0);
	ck_assert_int_eq(io_uring_queue_init(4, &ring, IORING_SETUP_SQE128),
			 0);
	for (t = 0; t < ncpus; t++) {
		for (i = 0; i < NCALLS; i++) {
			bits[0] = 1ULL << t;
			call_init(&c, bits, r, tl);
			memset(tl, 0, sizeof(tl));
			prep_cmd(io_uring_get_sqe(&ring), f, &c);
			ck_assert_int_eq(io_uring_submit(&ring), 1);
			ck_assert_int_eq(io_uring_wait_cqe(&ring, &cqe), 0);
			ck_assert_int_eq(cqe->res, 1);
			io_uring_cqe_seen(&ring, cqe);
			/* The task work runs where the submitter is: CPU 0. */
			check_call(r, tl, t, 0);
		}
	}
	io_uring_queue_exit(&ring);
	close(f);
}
END_TEST

/* Each broken one way: its errno, and the caller's memory untouched. */
START_TEST(test_refused)
{
	struct xcall_timeline tl[1];
	struct xcall_result r[1];
	struct xcall_info info = { .size = sizeof(info) };
	struct xcall_call c;
	uint64_t bits[1] = { 2 };
	int f;

	f = open("/dev/xcall", O_RDWR);
	ck_assert_int_ge(f, 0);
	ck_assert_int_eq(ioctl(f, XCALL_IOC_INFO, &info), 0);
	ck_assert(info.features & XCALL_FEAT_TIMELINE);

	memset(tl, 0xa5, sizeof(tl));
	call_init(&c, bits, r, tl);
	c.timeline = 0;				/* the flag, no timeline */
	ck_assert_int_eq(ioctl(f, XCALL_IOC_CALL, &c), -1);
	ck_assert_int_eq(errno, EINVAL);
	call_init(&c, bits, r, tl);
	c.flags |= XCALL_CALL_NOWAIT;		/* nothing to wait for */
	ck_assert_int_eq(ioctl(f, XCALL_IOC_CALL, &c), -1);
	ck_assert_int_eq(errno, EINVAL);
	call_init(&c, bits, r, tl);
	c.flags = 0;				/* a timeline, no flag */
	ck_assert_int_eq(ioctl(f, XCALL_IOC_CALL, &c), -1);
	ck_assert_int_eq(errno, EINVAL);
	call_init(&c, bits, r, tl);
	c.flags |= 1U << 2;			/* an unknown flag */
	ck_assert_int_eq(ioctl(f, XCALL_IOC_CALL, &c), -1);
	ck_assert_int_eq(errno, EINVAL);
	call_init(&c, bits, r, tl);
	c.timeline = 16;			/* not writable */
	memset(r, 0xa5, sizeof(r));
	ck_assert_int_eq(ioctl(f, XCALL_IOC_CALL, &c), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(r[0].cpu, 0xa5a5a5a5);
	ck_assert_uint_eq(tl[0].cpu, 0xa5a5a5a5);
	/* And once right, for the contrast. */
	call_init(&c, bits, r, tl);
	ck_assert_int_eq(ioctl(f, XCALL_IOC_CALL, &c), 0);
	ck_assert_uint_eq(c.ncalled, 1);
	ck_assert_uint_eq(tl[0].cpu, 1);
	ck_assert(tl[0].ev[XCALL_TL_WOKEN]);
	close(f);
}
END_TEST

/* ------------------------------------------------------------------
 * The oracle: tracefs.
 */

static int tfs_write(const char *file, const char *val)
{
	char path[256];
	int f, ret = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	f = open(path, O_WRONLY | O_TRUNC);
	if (f < 0)
		return -errno;
	if (write(f, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(f);
	return ret;
}

static void tfs_set(const char *file, const char *val)
{
	int ret = tfs_write(file, val);

	ck_assert_msg(!ret, "%s: %s", file, strerror(-ret));
}

enum ev_kind { EV_Q, EV_S, EV_E, EV_X };

/* One event of the trace that concerns the target CPU. */
struct tev {
	enum ev_kind kind;
	int mine;		/* Q, E, X: of xcall_ipi (else another csd) */
	int win;		/* the call whose window it fell in, or -1 */
	uint64_t ts;		/* raw counter, when the clock is one */
};

struct trace {
	int n;
	struct tev ev[MAXTEV];
	int lo[NORACLE], hi[NORACLE];	/* window i: ev[lo[i] .. hi[i]) */
};

/* The number before ": <event>:" at @p in @line, as an integer. */
static uint64_t line_ts(const char *line, const char *p)
{
	while (p > line && p[-1] != ' ')
		p--;
	return strtoull(p, NULL, 10);
}

/* Does "cpumask=HEX" at @p name CPU @cpu? Hex words, comma separated. */
static int mask_has(const char *p, int cpu)
{
	char hex[256];
	int len = 0, bit = 0, d;

	p += strlen("cpumask=");
	while (len < 255 && (isxdigit((unsigned char)p[len]) || p[len] == ','))
		len++;
	memcpy(hex, p, len);
	for (; len > 0; len--) {
		if (hex[len - 1] == ',')
			continue;
		d = isdigit((unsigned char)hex[len - 1]) ? hex[len - 1] - '0' :
			tolower((unsigned char)hex[len - 1]) - 'a' + 10;
		if (cpu >= bit && cpu < bit + 4)
			return d >> (cpu - bit) & 1;
		bit += 4;
	}
	return 0;
}

/*
 * One line of the trace: a marker opens window N ("xcall-tl N") or ends
 * them ("xcall-tl end"). Kept: every csd queued to @target, every
 * function-call IPI sent to it (ipi_send_cpu, or ipi_send_cpumask naming
 * it: smp_call_function_many()'s), every csd function entered on it, and
 * xcall_ipi's exits there.
 */
static void parse_line(const char *line, int target, struct trace *t,
		       int *cur)
{
	const char *p, *b = strchr(line, '[');
	char want[32];
	struct tev e = { .win = *cur };
	int cpu;

	if (line[0] == '#' || !b)
		return;
	cpu = atoi(b + 1);
	p = strstr(line, "tracing_mark_write: xcall-tl ");
	if (p) {
		p += strlen("tracing_mark_write: xcall-tl ");
		if (*cur >= 0)
			t->hi[*cur] = t->n;
		*cur = strncmp(p, "end", 3) ? atoi(p) : -1;
		ck_assert_int_lt(*cur, NORACLE);
		if (*cur >= 0)
			t->lo[*cur] = t->n;
		return;
	}
	snprintf(want, sizeof(want), "cpu=%d ", target);
	if ((p = strstr(line, ": csd_queue_cpu: ")) && strstr(p, want)) {
		e.kind = EV_Q;
	} else if ((p = strstr(line, ": ipi_send_cpu: ")) && strstr(p, want) &&
		   strstr(p, "callback=generic_smp_call_function")) {
		e.kind = EV_S;
	} else if ((p = strstr(line, ": ipi_send_cpumask: ")) &&
		   strstr(p, "cpumask=") &&
		   mask_has(strstr(p, "cpumask="), target) &&
		   strstr(p, "callback=generic_smp_call_function")) {
		e.kind = EV_S;
	} else if ((p = strstr(line, ": csd_function_entry: ")) &&
		   cpu == target) {
		e.kind = EV_E;
	} else if ((p = strstr(line, ": csd_function_exit: ")) &&
		   cpu == target && strstr(p, "func=xcall_ipi")) {
		e.kind = EV_X;
	} else {
		return;
	}
	e.mine = !!strstr(p, "func=xcall_ipi");
	e.ts = line_ts(line, p);
	ck_assert_msg(t->n < MAXTEV, "more than %d trace events", MAXTEV);
	t->ev[t->n++] = e;
}

/* The clock of the trace that is the module's cycle counter, if any. */
static const char *raw_clock(void)
{
#if defined(__x86_64__)
	return "x86-tsc";
#elif defined(__powerpc64__)
	return "ppc-tb";
#else
	return NULL;
#endif
}

/* Kernels before 6.4 have no csd tracepoints: nothing to compare with. */
static int have_csd_events(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (!access(TRACEFS "/events/csd/csd_queue_cpu", F_OK))
		return 1;
	ck_assert_int_eq(uname(&u), 0);
	sscanf(u.release, "%d.%d", &maj, &min);
	ck_assert_msg(maj < 6 || (maj == 6 && min < 4),
		      "kernel %s has no csd:csd_queue_cpu in tracefs",
		      u.release);
	return 0;
}

static const char *const events[] = {
	"events/csd/csd_queue_cpu/enable",
	"events/csd/csd_function_entry/enable",
	"events/csd/csd_function_exit/enable",
	"events/ipi/ipi_send_cpu/enable",
	"events/ipi/ipi_send_cpumask/enable",
};

/*
 * Judge call @i of the module (@tl) by the trace @t (see the header):
 * NULL if they agree, else why not (in @why). @raw: the trace's timestamps
 * are the module's counter.
 *
 * The kick that ran the call: the last xcall_ipi queueing of its window
 * (its own, or the NOWAIT ping's it rode on). That csd rode in turn on an
 * IPI already pending if another csd was queued to the target before it
 * and no function entry there came between: the IPI that delivered them
 * all is the one sent after the first of those queueings.
 */
static const char *judge(int i, const struct xcall_timeline *tl,
			 const struct trace *t, int nowait, int raw,
			 char *why, size_t len)
{
	int lo = t->lo[i], hi = t->hi[i];
	int nq = 0, lastq = -1, first, e = -1, xx = -1, s = 0, k, lim = 0;
	const struct tev *ev = t->ev;

	for (k = lo; k < hi; k++)
		if (ev[k].kind == EV_Q && ev[k].mine) {
			nq++;
			lastq = k;
		}
	/*
	 * The target's entry and exit may sort after the next marker: the
	 * trace merges CPUs by a clock whose CPUs differ by as much as the
	 * offsets' bound (17 us in ppc64le-xics-6.12). The entry comes before
	 * the next call's queueing, which waits for this call's answer; the
	 * exit need not: the answer is given inside the handler, and the
	 * caller may queue its next call before the handler has returned
	 * (seen in arm64-gicv2-6.12). The exit is the target's first after
	 * the entry: handlers on one CPU do not overlap.
	 */
	for (lim = lastq + 1; lastq >= 0 && lim < t->n; lim++)
		if (ev[lim].kind == EV_Q && ev[lim].mine)
			break;
	for (k = lastq + 1; lastq >= 0 && k < lim && e < 0; k++)
		if (ev[k].kind == EV_E && ev[k].mine)
			e = k;
	for (k = e + 1; e >= 0 && k < t->n && xx < 0; k++)
		if (ev[k].kind == EV_X)
			xx = k;
	first = lastq;
	for (k = lastq - 1; lastq >= 0 && k >= 0 && ev[k].kind != EV_E; k--)
		if (ev[k].kind == EV_Q)
			first = k;
	for (k = first + 1; first >= 0 && e >= 0 && k < e; k++)
		s |= ev[k].kind == EV_S;
	if (!one_of(tl->flags, XCALL_TLF_KICKED | XCALL_TLF_RODE) ||
	    !one_of(tl->flags, XCALL_TLF_IRQ | XCALL_TLF_TASK |
			       XCALL_TLF_REKICK))
		snprintf(why, len, "call %d: flags %#x", i, tl->flags);
	else if (tl->ev[XCALL_TL_HANDLER] > tl->ev[XCALL_TL_DONE])
		snprintf(why, len, "call %d: handler after done", i);
	else if (nq != nowait + !!(tl->flags & XCALL_TLF_KICKED))
		snprintf(why, len, "call %d: %d csd_queue_cpu, NOWAIT before "
			 "%d, flags %#x", i, nq, nowait, tl->flags);
	/*
	 * Run from the rekick timer, after a handler's pause (the ping
	 * before it crossed the drain bound: seen on ppc64 under TCG): no
	 * csd handler ran it, so no csd_function_entry or IPI is its.
	 */
	else if (tl->flags & XCALL_TLF_REKICK)
		return NULL;
	else if (e < 0)
		snprintf(why, len, "call %d: no csd_function_entry after the "
			 "last csd_queue_cpu and before the next call's, flags "
			 "%#x", i, tl->flags);
	else if (xx < 0)
		snprintf(why, len, "call %d: no csd_function_exit after its "
			 "entry, flags %#x", i, tl->flags);
	else if (s != !!(tl->flags & XCALL_TLF_IRQ))
		snprintf(why, len, "call %d: %s function-call IPI to the "
			 "target after the queueing it rode on (%d before its "
			 "own), flags %#x", i, s ? "a" : "no", lastq - first,
			 tl->flags);
	/* Same CPU, same counter: the module's readings inside the trace's. */
	else if (raw && (tl->flags & XCALL_TLF_KICKED) &&
		 tl->ev[XCALL_TL_QUEUED] > ev[lastq].ts)
		snprintf(why, len, "call %d: queued after csd_queue_cpu", i);
	else if (raw && (ev[e].ts > tl->ev[XCALL_TL_HANDLER] ||
			 tl->ev[XCALL_TL_DONE] > ev[xx].ts))
		snprintf(why, len, "call %d: handler %llu, done %llu, not "
			 "within csd_function_entry %llu and exit %llu", i,
			 (unsigned long long)tl->ev[XCALL_TL_HANDLER],
			 (unsigned long long)tl->ev[XCALL_TL_DONE],
			 (unsigned long long)ev[e].ts,
			 (unsigned long long)ev[xx].ts);
	else
		return NULL;
	return why;
}

/*
 * The judge must see a module that lies: each call's flags or stages
 * broken one way must be found out, whatever the trace.
 */
static void judge_lies(int i, const struct xcall_timeline *tl,
		       const struct trace *w, int nowait, int raw)
{
	struct xcall_timeline lie;
	char why[256];

	lie = *tl;
	lie.flags ^= XCALL_TLF_KICKED | XCALL_TLF_RODE;
	ck_assert_ptr_nonnull(judge(i, &lie, w, nowait, raw, why,
				    sizeof(why)));
	lie = *tl;
	lie.flags ^= XCALL_TLF_IRQ | XCALL_TLF_TASK;	/* or both, rekick */
	ck_assert_ptr_nonnull(judge(i, &lie, w, nowait, raw, why,
				    sizeof(why)));
	if (!raw)
		return;
	lie = *tl;
	lie.ev[XCALL_TL_HANDLER] = lie.ev[XCALL_TL_DONE] + 1;
	ck_assert_ptr_nonnull(judge(i, &lie, w, nowait, raw, why,
				    sizeof(why)));
	if (tl->flags & XCALL_TLF_REKICK)
		return;
	/* Both stages before the handler's csd_function_entry. */
	lie = *tl;
	lie.ev[XCALL_TL_HANDLER] = 1;
	lie.ev[XCALL_TL_DONE] = 2;
	ck_assert_ptr_nonnull(judge(i, &lie, w, nowait, raw, why,
				    sizeof(why)));
}

START_TEST(test_oracle)
{
	static struct xcall_timeline tl[NORACLE];
	static struct xcall_result r[NORACLE];
	static struct trace w;
	struct xcall_req req = { .fn = XCALL_FN_PING };
	struct xcall_req nw = { .fn = XCALL_FN_PING,
				.flags = XCALL_CALL_NOWAIT };
	unsigned int seen[5] = { 0 }, k;
	const char *clk = raw_clock();
	char line[1024], mark[32], why[256];
	int i, cur = -1, mf;
	cpu_set_t set;
	FILE *f;

	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		ck_abort_msg("mount tracefs: %s", strerror(errno));
	if (!have_csd_events()) {
		xt_skip_env("no csd tracepoints before 6.4");
		return;
	}
	tfs_set("tracing_on", "0");
	if (!clk || tfs_write("trace_clock", clk))
		clk = NULL;
	if (!clk)
		tfs_set("trace_clock", "global");
	tfs_set("buffer_size_kb", "2048");
	tfs_set("trace", "");
	for (k = 0; k < sizeof(events) / sizeof(events[0]); k++)
		tfs_set(events[k], "1");
	mf = open(TRACEFS "/trace_marker", O_WRONLY);
	ck_assert_int_ge(mf, 0);
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	tfs_set("tracing_on", "1");
	for (i = 0; i < NORACLE; i++) {
		snprintf(mark, sizeof(mark), "xcall-tl %d\n", i);
		ck_assert_int_eq(write(mf, mark, strlen(mark)), strlen(mark));
		if (i % 2)
			ck_assert_int_eq(xcall_run(x, &nw, &set, sizeof(set),
						   NULL, 0), 1);
		ck_assert_int_eq(xcall_run_timeline(x, &req, &set,
				 sizeof(set), &r[i], &tl[i], 1), 1);
	}
	ck_assert_int_eq(write(mf, "xcall-tl end\n", 13), 13);
	tfs_set("tracing_on", "0");
	close(mf);

	f = fopen(TRACEFS "/trace", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		parse_line(line, 1, &w, &cur);
	fclose(f);
	for (k = 0; k < sizeof(events) / sizeof(events[0]); k++)
		tfs_set(events[k], "0");
	tfs_set("trace", "");
	tfs_set("trace_clock", "local");

	for (i = 0; i < NORACLE; i++) {
		check_call(&r[i], &tl[i], 1, 0);
		ck_assert_msg(!judge(i, &tl[i], &w, i % 2, !!clk, why,
				     sizeof(why)), "%s", why);
		judge_lies(i, &tl[i], &w, i % 2, !!clk);
		seen[0] += !!(tl[i].flags & XCALL_TLF_KICKED);
		seen[1] += !!(tl[i].flags & XCALL_TLF_RODE);
		seen[2] += !!(tl[i].flags & XCALL_TLF_IRQ);
		seen[3] += !!(tl[i].flags & XCALL_TLF_TASK);
		seen[4] += !!(tl[i].flags & XCALL_TLF_REKICK);
	}
	printf("test_timeline: oracle: %d calls to cpu 1 (clock %s): raised "
	       "the IPI %u, rode along %u; handler in IRQ %u (each with an "
	       "ipi_send_cpu), in task context %u (none), after a rekick "
	       "%u: agree; each broken four ways: found out\n", NORACLE,
	       clk ? clk : "global", seen[0], seen[1], seen[2], seen[3],
	       seen[4]);
}
END_TEST

static Suite *timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc;

	tc = tcase_create("order");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_order_ioctl);
	tcase_add_test(tc, test_order_many);
	tcase_add_test(tc, test_order_uring);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("oracle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_oracle);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(timeline_suite)
