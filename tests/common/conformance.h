/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The conformance table: one valid request, mutated one way per row, and
 * what every backend must answer: -errno for the request as a whole (the
 * errnos of XCALL_IOC_CALL in xcall.h, in their order where a row breaks
 * two rules at once), or 0 for a request that runs. Run by
 *
 *   tests/unit/test_xcall.c     the threads backend
 *   tests/daemon/test_daemon.c  xcalld over its worker threads, through
 *                               libxcall and as raw frames that no
 *                               libxcall check has seen
 *   tests/vm/test_conform.c     the module (ioctl, io_uring command),
 *                               libxcall's kmod backend, and xcalld over
 *                               the module, in every guest
 *
 * Only what all of them must refuse alike belongs here: what one backend
 * alone refuses (the module's struct size and pointers, "where" without a
 * module, privilege, a CPU going offline) is tested beside that backend.
 * The caller is privileged where that matters (root, or the daemon's
 * policy lets it run everything), so that spin is judged on its argument.
 *
 * Header-only: static data and static inline runners, for test programs
 * built by three different make fragments. Include "check.h" first.
 */
#ifndef XCALL_TEST_CONFORMANCE_H
#define XCALL_TEST_CONFORMANCE_H

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "libxcall.h"
#include "wire.h"

/* The largest set a request may name (module and wire alike). */
#define XC_CONF_CPUS	(XCALL_MAX_CPUSET_BYTES * 8)
/* A CPU that no machine here has: beyond every possible one. */
#define XC_CONF_ABSENT	(XC_CONF_CPUS - 1)
/* Longest answer to wait for: the valid rows run. */
#define XC_CONF_WAIT_MS	30000

struct xc_conf_call {
	struct xcall_req req;
	/* CPU n is bit n % 64 of word n / 64: the module's own layout. */
	uint64_t set[XCALL_MAX_CPUSET_BYTES / 8];
	unsigned int setsize;	/* bytes of @set that are sent: 8 * n */
};

/* @mutate, one or two of them (for two rules broken at once), or none. */
struct xc_conf_case {
	const char *what;
	void (*mutate[2])(struct xc_conf_call *c);
	int err;		/* -errno, or 0: runs on every CPU of the set */
};

static inline void xc_conf_add_cpu(struct xc_conf_call *c, unsigned int cpu)
{
	c->set[cpu / 64] |= 1ULL << (cpu % 64);
	if (c->setsize < (cpu / 64 + 1) * 8)
		c->setsize = (cpu / 64 + 1) * 8;
}

static inline int xc_conf_isset(const struct xc_conf_call *c, unsigned int n)
{
	return n / 8 < c->setsize && (c->set[n / 64] >> (n % 64)) & 1;
}

static inline unsigned int xc_conf_ncpus(const struct xc_conf_call *c)
{
	unsigned int i, n = 0;

	for (i = 0; i < c->setsize / 8; i++)
		n += (unsigned int)__builtin_popcountll(c->set[i]);
	return n;
}

/* The valid request every row starts from: ping on @cpu (online). */
static inline void xc_conf_base(struct xc_conf_call *c, unsigned int cpu)
{
	memset(c, 0, sizeof(*c));
	c->req.fn = XCALL_FN_PING;
	c->req.timeout_ms = 10000;
	c->setsize = 8;
	xc_conf_add_cpu(c, cpu);
}

static void xc_conf_spin(struct xc_conf_call *c, uint64_t us)
{
	c->req.fn = XCALL_FN_SPIN;
	c->req.nargs = 1;
	c->req.args[0] = us;
}

static void m_ident(struct xc_conf_call *c)
{
	c->req.fn = XCALL_FN_IDENT;
	c->req.nargs = 2;
}
static void m_spin_0(struct xc_conf_call *c) { xc_conf_spin(c, 0); }
static void m_spin_1(struct xc_conf_call *c) { xc_conf_spin(c, 1); }
static void m_spin_big(struct xc_conf_call *c)
{
	xc_conf_spin(c, XCALL_SPIN_MAX_US + 1);
}
static void m_fn_past(struct xc_conf_call *c) { c->req.fn = XCALL_FN_COUNT; }
static void m_fn_huge(struct xc_conf_call *c) { c->req.fn = ~0U; }
static void m_spin_fn(struct xc_conf_call *c) { c->req.fn = XCALL_FN_SPIN; }
/* One argument more than the function has (ping: 1, spin: 2). */
static void m_arg_more(struct xc_conf_call *c)
{
	c->req.args[c->req.nargs++] = 1;
}
static void m_nargs_3(struct xc_conf_call *c) { c->req.nargs = 3; }
static void m_nargs_max(struct xc_conf_call *c)
{
	c->req.nargs = XCALL_MAX_ARGS + 1;
}
static void m_flag(struct xc_conf_call *c) { c->req.flags = 1U << 31; }
static void m_nowait(struct xc_conf_call *c)
{
	c->req.flags = XCALL_CALL_NOWAIT;
}
static void m_leaf_big(struct xc_conf_call *c) { c->req.args[0] = 1ULL << 32; }
static void m_subleaf_big(struct xc_conf_call *c)
{
	c->req.args[1] = 1ULL << 32;
}
static void m_timeout(struct xc_conf_call *c)
{
	c->req.timeout_ms = XCALL_MAX_TIMEOUT_MS + 1;
}
static void m_empty(struct xc_conf_call *c)
{
	memset(c->set, 0, sizeof(c->set));
}
/* XC_CONF_ABSENT besides the CPUs of the set. */
static void m_absent(struct xc_conf_call *c)
{
	xc_conf_add_cpu(c, XC_CONF_ABSENT);
}

/* msr of IA32_TSC and @a. */
static void xc_conf_msr(struct xc_conf_call *c, uint64_t a)
{
	c->req.fn = XCALL_FN_MSR;
	c->req.nargs = 2;
	c->req.args[0] = 0x10;
	c->req.args[1] = a;
}
/* IA32_APIC_BASE: an MSR every x86 CPU has, not on the allowlist. */
static void m_msr_off(struct xc_conf_call *c) { xc_conf_msr(c, 0x1b); }
static void m_msr_wide(struct xc_conf_call *c)
{
	xc_conf_msr(c, 0x10 + (1ULL << 32));
}
static void m_msr_none(struct xc_conf_call *c)
{
	xc_conf_msr(c, 0x10);
	c->req.nargs = 0;
	c->req.args[0] = c->req.args[1] = 0;
}

/*
 * msr is on no backend off x86: every request for it is refused whole,
 * before anything else about it is looked at (but a CALL frame with more
 * than XCALL_MAX_ARGS arguments, which the wire itself refuses: the row
 * "over XCALL_MAX_ARGS arguments" below). On x86 a valid one runs on the
 * module's backends only, so only its refusals are here.
 */
#if defined(__x86_64__) || defined(__i386__)
#define XC_CONF_X86(err)	(err)
#else
#define XC_CONF_X86(err)	(-EOPNOTSUPP)
#endif

static const struct xc_conf_case xc_conf_cases[] = {
	{ "ping on one CPU", { NULL }, 0 },
	{ "ident, leaf and subleaf", { m_ident }, 0 },
	{ "spin of 1 us", { m_spin_1 }, 0 },
	{ "function past the table", { m_fn_past }, -EBADRQC },
	{ "function ~0", { m_fn_huge }, -EBADRQC },
	{ "ping with an argument", { m_arg_more }, -EINVAL },
	{ "spin without its argument", { m_spin_fn }, -EINVAL },
	{ "spin with two arguments", { m_spin_1, m_arg_more }, -EINVAL },
	{ "ident with three arguments", { m_ident, m_nargs_3 }, -EINVAL },
	{ "over XCALL_MAX_ARGS arguments", { m_ident, m_nargs_max }, -EINVAL },
	{ "an unknown flag", { m_flag }, -EINVAL },
	{ "spin with NOWAIT", { m_spin_1, m_nowait }, -EINVAL },
	{ "spin of 0 us", { m_spin_0 }, -ERANGE },
	{ "spin over XCALL_SPIN_MAX_US", { m_spin_big }, -ERANGE },
	{ "ident leaf over 32 bits", { m_ident, m_leaf_big }, -ERANGE },
	{ "ident subleaf over 32 bits", { m_ident, m_subleaf_big }, -ERANGE },
	{ "timeout over XCALL_MAX_TIMEOUT_MS", { m_timeout }, -ERANGE },
	{ "msr without an address", { m_msr_none }, XC_CONF_X86(-EINVAL) },
	{ "msr of an address over 32 bits", { m_msr_wide },
	  XC_CONF_X86(-ERANGE) },
	{ "msr of an MSR off the allowlist", { m_msr_off },
	  XC_CONF_X86(-EPERM) },
	{ "no CPU", { m_empty }, -EDESTADDRREQ },
	{ "a CPU that cannot exist", { m_empty, m_absent }, -ENODEV },
	{ "an online CPU and one that cannot exist", { m_absent }, -ENODEV },
	/* Two rules broken: the first in the order wins, everywhere. */
	{ "no such function, no CPU", { m_fn_past, m_empty }, -EBADRQC },
	{ "an argument too many, timeout too long",
	  { m_arg_more, m_timeout }, -EINVAL },
	{ "spin NOWAIT, over the cap", { m_spin_big, m_nowait }, -EINVAL },
	{ "spin of 0 us, no CPU", { m_spin_0, m_empty }, -ERANGE },
	{ "timeout too long, a CPU that cannot exist",
	  { m_timeout, m_absent }, -ERANGE },
	{ "msr off the allowlist, timeout too long",
	  { m_msr_off, m_timeout }, XC_CONF_X86(-EPERM) },
	{ "msr off the allowlist, no CPU", { m_msr_off, m_empty },
	  XC_CONF_X86(-EPERM) },
};

#define XC_CONF_NCASES	(sizeof(xc_conf_cases) / sizeof(xc_conf_cases[0]))

/* Row @i from the base on @cpu. */
static inline const struct xc_conf_case *
xc_conf_make(unsigned int i, unsigned int cpu, struct xc_conf_call *c)
{
	const struct xc_conf_case *k = &xc_conf_cases[i];
	unsigned int m;

	xc_conf_base(c, cpu);
	for (m = 0; m < 2 && k->mutate[m]; m++)
		k->mutate[m](c);
	return k;
}

/* The answer @got of @who to row @k, made as @c: as the table says? */
static inline void xc_conf_judge(const struct xc_conf_case *k,
				 const struct xc_conf_call *c, int got,
				 const char *who)
{
	int want = k->err ? k->err : (int)xc_conf_ncpus(c);

	ck_assert_msg(got == want, "%s: %s: got %d (%s), want %d (%s)", who,
		      k->what, got, got < 0 ? strerror(-got) : "ran", want,
		      want < 0 ? strerror(-want) : "ran");
}

/* Through libxcall's xcall_run() on handle @x. */
static inline int xc_conf_run_lib(struct xcall *x,
				  const struct xc_conf_call *c)
{
	size_t sz = CPU_ALLOC_SIZE(XC_CONF_CPUS);
	cpu_set_t *set = CPU_ALLOC(XC_CONF_CPUS);
	struct xcall_result res[4];
	unsigned int n;
	int ret;

	ck_assert_ptr_nonnull(set);
	CPU_ZERO_S(sz, set);
	for (n = 0; n < XC_CONF_CPUS; n++)
		if (xc_conf_isset(c, n))
			CPU_SET_S(n, sz, set);
	ret = xcall_run(x, &c->req, set, sz, res, 4);
	CPU_FREE(set);
	return ret;
}

/*
 * As one CALL frame on @fd, a connection to xcalld, for the daemon's own
 * checks: nothing of libxcall has seen it, not even the encoder's (it
 * refuses more than XCALL_MAX_ARGS arguments: the count is written after).
 * The reply's error, or the number of records.
 */
static inline int xc_conf_run_wire(int fd, uint64_t id,
				   const struct xc_conf_call *c)
{
	static uint8_t buf[XCALL_WIRE_MAX_FRAME];
	uint8_t bits[XCALL_MAX_CPUSET_BYTES];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct xcall_req req = c->req;
	struct xcall_wire_callrep rep;
	uint32_t nargs = c->req.nargs;
	unsigned int i;
	uint64_t got;
	ssize_t n;
	int len;

	for (i = 0; i < c->setsize; i++)
		bits[i] = (uint8_t)(c->set[i / 8] >> (8 * (i % 8)));
	if (req.nargs > XCALL_MAX_ARGS)
		req.nargs = XCALL_MAX_ARGS;
	len = __xcall_wire_enc_call(buf, sizeof(buf), id, &req, bits,
				    c->setsize);
	ck_assert_int_gt(len, 0);
	memcpy(buf + sizeof(struct xcall_wire_hdr) +
	       offsetof(struct xcall_wire_call, nargs), &nargs, sizeof(nargs));
	ck_assert_int_eq(send(fd, buf, (size_t)len, MSG_NOSIGNAL), len);
	ck_assert_int_eq(poll(&pfd, 1, XC_CONF_WAIT_MS), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(__xcall_wire_dec_reply(buf, (size_t)n, &got, &rep),
			 0);
	ck_assert_uint_eq(got, id);
	return rep.error ? rep.error : (int)rep.nres;
}

#endif /* XCALL_TEST_CONFORMANCE_H */
