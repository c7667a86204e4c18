/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxcall: run a precompiled function on a chosen CPU and get its result.
 *
 * Public interface. Every function returns 0 (or a count) on success and a
 * negative errno on failure; nothing here prints or exits. The ABI shared
 * with the kernel module (function ids, struct xcall_result) is in xcall.h.
 *
 * Sections: catalogue, cpu lists and topology, backends and calls, clock
 * offsets between CPUs, the in-process cross-CPU call pool.
 */
#ifndef LIBXCALL_H
#define LIBXCALL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "xcall.h"
#include "xcall_version.h"	/* XCALL_VERSION: generated from VERSION */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * The function catalogue: expanded from XCALL_FUNCTIONS() in xcall.h, plus
 * what people and scripts need (argument names and ranges, result fields).
 */

struct xcall_arg_info {
	const char *name;		/* "leaf" */
	const char *help;		/* one line */
	uint64_t min, max;		/* accepted range, inclusive */
	uint64_t dflt;			/* when omitted (optional args) */
};

/*
 * How a result field is read from struct xcall_result and shown. Numbers
 * are the unsigned 32- or 64-bit member at the field's offset.
 */
enum xcall_field_kind {
	XCALL_FIELD_NUM,	/* a number */
	XCALL_FIELD_ID,		/* a number, null when all ones */
	XCALL_FIELD_DELTA,	/* minus the least one of the round */
	XCALL_FIELD_REG,	/* register contents, a "0x%08llx" string */
	XCALL_FIELD_CTX,	/* XCALL_CTX_* by name: "idle", ... */
	XCALL_FIELD_TEXT,	/* a NUL-terminated char array of @size */
	/*
	 * A register's address in bits 0-31 of a 64-bit word, bits 32-63
	 * the errno of its read (0: read); a "0x%llx" string, null when the
	 * word is 0 (the slot is unused). msr's msrN.
	 */
	XCALL_FIELD_MSR_ADDR,
	/*
	 * The 64-bit value read at the XCALL_FIELD_MSR_ADDR field just
	 * before it in the list, a "0x%016llx" string; null when that slot
	 * is unused or its read failed. msr's valueN.
	 */
	XCALL_FIELD_MSR_VALUE,
};

/*
 * One result field as shown in tables and as a JSON key: where it lies in
 * the record and how it reads, so that no program matches on @key.
 */
struct xcall_field_info {
	const char *key;		/* JSON key, stable once shipped */
	const char *help;
	unsigned int kind;		/* enum xcall_field_kind */
	unsigned int offset, size;	/* in struct xcall_result, bytes */
};

struct xcall_fn_info {
	unsigned int id;		/* enum xcall_fn */
	const char *name;
	unsigned int min_args, max_args;
	unsigned int priv;		/* XCALL_PRIV_* */
	unsigned int backends;		/* XCALL_BK_* */
	const char *summary;		/* one line, for list and --help */
	const struct xcall_arg_info *args;	/* max_args entries */
	const struct xcall_field_info *fields;	/* ends with key == NULL */
};

/* Number of functions; ids are 0 .. count-1. */
unsigned int xcall_fn_count(void);
/* NULL when @id or @name is unknown. */
const struct xcall_fn_info *xcall_fn_by_id(unsigned int id);
const struct xcall_fn_info *xcall_fn_by_name(const char *name);
/*
 * The known name nearest to @name (edit distance), or NULL if the nearest is
 * more than 2 edits away or at least strlen(@name) edits away.
 */
const char *xcall_fn_suggest(const char *name);

/* ------------------------------------------------------------------------
 * CPU lists (taskset grammar: "0-3,8-15:2", plus "all") and topology.
 * Sets are glibc cpu_set_t of any size (CPU_ALLOC); @setsize in bytes, any
 * number of them: whole words are read and written as glibc does, a partial
 * last word byte by byte (little-endian: CPU n is bit n % 8 of byte n / 8),
 * never past @setsize. A NULL set is -EINVAL.
 */

/*
 * Parse @list into @set (cleared first). Only the grammar is checked:
 * -EINVAL for malformed text, -ERANGE for a CPU number >= setsize * 8.
 */
int xcall_cpulist_parse(const char *list, cpu_set_t *set, size_t setsize);
/*
 * Canonical text of @set ("0-3,7") into @buf; returns the length, or
 * -ENOSPC if @len is too small.
 */
int xcall_cpulist_format(const cpu_set_t *set, size_t setsize,
			 char *buf, size_t len);
/*
 * Check @set against the CPUs that exist and are online. Pure. Returns 0,
 * -EDESTADDRREQ if @set is empty, -ENODEV if a CPU is not in @possible,
 * else -ENXIO if one is not in @online; @bad (may be NULL) gets the CPUs
 * that caused the error, so a message can name them.
 */
int xcall_cpus_check(const cpu_set_t *set, const cpu_set_t *possible,
		     const cpu_set_t *online, size_t setsize, cpu_set_t *bad);
/* CPUs that exist (possible) and that are online, from sysfs. */
int xcall_cpus_possible(cpu_set_t *set, size_t setsize);
int xcall_cpus_online(cpu_set_t *set, size_t setsize);
/* CPUs of NUMA node @node: -ENOENT if there is no such node. */
int xcall_node_cpus(int node, cpu_set_t *set, size_t setsize);
/* Highest NUMA node number; 0 without NUMA support (all is node 0). */
int xcall_node_max(void);
/* Node of @cpu, or -errno. */
int xcall_cpu_node(int cpu);

/* ------------------------------------------------------------------------
 * Backends and calls.
 */

enum xcall_backend {
	XCALL_BACKEND_AUTO = 0,	/* daemon if it answers, else kmod, else threads */
	XCALL_BACKEND_THREADS,
	XCALL_BACKEND_KMOD,
	XCALL_BACKEND_DAEMON,
};

#define XCALL_DEFAULT_SOCKET	"/run/xcall/xcalld.sock"
#define XCALL_DEFAULT_DEVICE	"/dev/xcall"

struct xcall_opts {
	enum xcall_backend backend;	/* AUTO honours $XCALL_BACKEND */
	const char *socket_path;	/* NULL: $XCALL_SOCKET or the default */
	const char *device_path;	/* NULL: $XCALL_DEVICE or the default */
};

struct xcall;				/* an open backend */

/* "auto", "threads", "kmod", "daemon"; NULL for an unknown value. */
const char *xcall_backend_name(enum xcall_backend b);
/* -EINVAL for an unknown name. */
int xcall_backend_parse(const char *name, enum xcall_backend *b);

/*
 * Open a backend. A forced backend that cannot be used fails with its own
 * errno (-ENOENT no device or socket, -EACCES, ...); AUTO falls through.
 */
int xcall_open(struct xcall **xp, const struct xcall_opts *opts);
void xcall_close(struct xcall *x);
enum xcall_backend xcall_backend_of(const struct xcall *x);

struct xcall_req {
	unsigned int fn;			/* enum xcall_fn */
	unsigned int nargs;
	uint64_t args[XCALL_MAX_ARGS];
	unsigned int timeout_ms;		/* 0: XCALL_DEFAULT_TIMEOUT_MS */
	unsigned int flags;			/* XCALL_CALL_* */
};

/*
 * Run @req on every CPU in @set. @res must hold one record per CPU in the
 * set; records are written in ascending CPU order, each with its own error.
 * Returns the number of records written (with XCALL_CALL_NOWAIT, where none
 * is written and @res may be NULL: the number of CPUs called), or -errno if
 * the request as a whole is refused (the errnos documented for XCALL_IOC_CALL in xcall.h,
 * the same on every backend).
 */
int xcall_run(struct xcall *x, const struct xcall_req *req,
	      const cpu_set_t *set, size_t setsize,
	      struct xcall_result *res, unsigned int nres);

/*
 * xcall_run() that takes @online, the online CPUs as the caller read them
 * (xcall_cpus_online(), @setsize bytes like @set), instead of reading sysfs
 * for each call: for a loop of calls whose time is measured. The same
 * checks and errnos; a CPU that has gone offline since is refused by the
 * backend all the same (-ENXIO, for the request or in its record).
 * -EINVAL for a NULL @online.
 */
int xcall_run_online(struct xcall *x, const struct xcall_req *req,
		     const cpu_set_t *set, size_t setsize,
		     const cpu_set_t *online,
		     struct xcall_result *res, unsigned int nres);

/*
 * xcall_run() with the timeline of every call (XCALL_CALL_TIMELINE in
 * xcall.h): @tl holds @nres records too, written in the order of @res,
 * each the cycle counter read on the CPU where a stage happened
 * (submitted, queued, handler entered, function done, caller woken) and
 * how the call was queued and delivered (XCALL_TLF_*). The module alone
 * sees those stages: -EOPNOTSUPP on another backend, or from a module
 * without XCALL_FEAT_TIMELINE; -EINVAL with XCALL_CALL_NOWAIT or a NULL
 * @res or @tl. Otherwise as xcall_run().
 */
int xcall_run_timeline(struct xcall *x, const struct xcall_req *req,
		       const cpu_set_t *set, size_t setsize,
		       struct xcall_result *res, struct xcall_timeline *tl,
		       unsigned int nres);

/*
 * Check @req as xcall_run() does before anything runs, without I/O: the
 * function (-EBADRQC; -EOPNOTSUPP if it has no backend on this
 * architecture, as msr off x86), argument count and flags (-EINVAL),
 * argument values (-ERANGE), an msr address off XCALL_MSR_ALLOWLIST
 * (-EPERM), the timeout (-ERANGE), and the function on backend @b
 * (-EOPNOTSUPP; XCALL_BACKEND_AUTO: on any). 0 if it passes; -EINVAL
 * for a NULL @req or an unknown @b. The CPUs are xcall_cpus_check()'s.
 * The one validator of user space: xcall_run() and xcalld both use it.
 */
int xcall_req_check(const struct xcall_req *req, enum xcall_backend b);

/* A message for a whole-request errno from xcall_run(), or NULL. */
const char *xcall_strerror(int err);

/* ------------------------------------------------------------------------
 * Clock offsets between CPUs, measured as NTP and the kernel's
 * check_tsc_warp() do: the caller, pinned to the reference CPU, reads its
 * clock (t0), has the target CPU read its own (t1) through the backend,
 * and reads its clock again (t2). The target's offset is t1 - (t0 + t2) / 2,
 * within +-(t2 - t0) / 2; of @samples round trips the shortest counts.
 * The cycle counter is the TSC (x86), CNTVCT_EL0 (arm64) or the time base
 * (ppc64); CLOCK_MONOTONIC is measured alike from the same round trips.
 */

#define XCALL_CLOCK_MAX_SAMPLES	10000	/* round trips per CPU, at most */

struct xcall_clock_offset {
	int cpu;
	int64_t offset_ticks;	/* counter on cpu minus counter on ref_cpu, at the same instant */
	uint64_t bound_ticks;	/* |error| <= bound_ticks */
	int64_t offset_ns;	/* the same in ns (ticks converted with the counter frequency) */
	uint64_t bound_ns;
	int64_t mono_offset_ns;	/* CLOCK_MONOTONIC, same method */
	uint64_t mono_bound_ns;
	int unsynchronised;	/* |offset| > bound: provably out of step */
	/* Added to the interface above: */
	int mono_unsynchronised;	/* the same for CLOCK_MONOTONIC */
	unsigned int samples;	/* round trips that counted (0 for ref_cpu) */
	int error;		/* 0, or the -errno that stopped sampling @cpu
				   (-ETIMEDOUT, -ENXIO); then the fields
				   above are of the samples before it, if any */
};

/*
 * Measure each CPU of set against ref_cpu through x's backend, best of
 * samples round trips. out[] has one entry per CPU of set, in CPU order;
 * returns the number of entries or a negative errno.
 *
 * The entry of ref_cpu, if in @set, is 0 within 0 by definition. Each
 * round trip is one call of `clock`, with the default timeout; a CPU whose
 * call fails is not called again (its entry's @error), so the time taken
 * is bounded by (CPUs of @set) x (@samples round trips + one timeout).
 * The calling thread runs on ref_cpu meanwhile; its CPU affinity is
 * restored before return. Errors as a whole: -EINVAL (NULL @x, @set or
 * @out), -ERANGE (@samples 0 or over XCALL_CLOCK_MAX_SAMPLES), -ENODEV
 * (ref_cpu does not exist), -ENXIO (ref_cpu offline, or went offline),
 * -EMSGSIZE (@n smaller than the CPUs of @set), the errno of
 * sched_setaffinity() when the thread may not run on ref_cpu, and the
 * errnos of xcall_run() for @set.
 */
int xcall_clock_offsets(struct xcall *x, const cpu_set_t *set, size_t setsize,
			int ref_cpu, unsigned int samples,
			struct xcall_clock_offset *out, size_t n);
/*
 * Counter ticks per second of this machine's cycle counter (TSC, CNTVCT,
 * timebase), or 0 if unknown. x86: CPUID leaf 0x15 when it names the
 * crystal, else measured once per process against CLOCK_MONOTONIC_RAW
 * (20 ms); arm64: CNTFRQ_EL0; ppc64: "timebase" of /proc/cpuinfo.
 */
uint64_t xcall_counter_hz(void);
/* "TSC", "CNTVCT" or "timebase"; "none" where there is no counter. */
const char *xcall_counter_name(void);

/* ------------------------------------------------------------------------
 * The in-process cross-CPU call pool: one pinned worker per CPU, a lock-free
 * MPSC queue per CPU, mirroring smp_call_function_single() / _many().
 */

struct xcall_pool;
typedef void (*xcall_pool_fn)(void *arg);

/*
 * A call in flight. Owned by the caller, never allocated by the pool: zero
 * it, set fn and arg, queue it with xcall_pool_call_async(). Do not touch or
 * reuse it until xcall_pool_wait() has returned 0 or xcall_pool_done() is
 * true (a call whose wait timed out is still referenced by its worker until
 * the function has run).
 */
struct xcall_pool_call {
	void *__next;			/* queue link */
	xcall_pool_fn fn;
	void *arg;
	uint32_t __state;		/* idle / queued / running (futex) */
	uint32_t __spin;		/* waiter's spin before sleeping, ns */
	int cpu;			/* target, set when queued */
	uint32_t __slot;		/* pool-owned slot number, or 0 */
};

struct xcall_pool_opts {
	/*
	 * Longest spin of an idle worker (and of a waiter) before it sleeps
	 * on a futex, ns; 0: the default (50 us); 1: sleep at once.
	 */
	unsigned int spin_ns;
};

/*
 * Errors of the pool: -EINVAL bad arguments, -ENXIO a CPU not in the pool
 * (at create: one that cannot be used), -ESHUTDOWN destroy has started,
 * -ETIMEDOUT, -EBUSY (call_async of a call in flight). Timeouts are in ms,
 * < 0 for none, 0 to only look. Pool functions run on the worker thread;
 * like IPI functions they should be short.
 */
int xcall_pool_create(struct xcall_pool **pp, const cpu_set_t *set,
		      size_t setsize, const struct xcall_pool_opts *opts);
/*
 * Runs every pending call, then stops and joins the workers. Calls made
 * once it has started fail with -ESHUTDOWN; no other thread may still be
 * inside an xcall_pool_*() call on @p when it returns. Not from a pool
 * function.
 */
void xcall_pool_destroy(struct xcall_pool *p);
/* Is @cpu served by @p? 1 or 0. */
int xcall_pool_has_cpu(const struct xcall_pool *p, int cpu);

/*
 * smp_call_function_single(): run fn(arg) on @cpu; wait if @wait. The call
 * lives in a pool-owned slot (with @wait, this thread's lane to @cpu: see
 * libxcall(3)), so a timeout never leaves the worker with a dangling call.
 * A waited call runs after the calls queued to @cpu before it. On -ETIMEDOUT a call that had not started is cancelled
 * (fn never runs); one already running finishes, so @arg must stay valid
 * until fn returns. @timeout_ms also bounds the wait for a free slot when
 * thousands are in flight (then -ETIMEDOUT and nothing was queued).
 */
int xcall_pool_call_single(struct xcall_pool *p, int cpu, xcall_pool_fn fn,
			   void *arg, int wait, int timeout_ms);
/*
 * smp_call_function_single_async(): queue @c (fn, arg set) on @cpu. The
 * call always runs, even after a wait for it timed out. -EBUSY while @c is
 * in flight (a check, as in csd_lock(): one thread queues a given @c).
 */
int xcall_pool_call_async(struct xcall_pool *p, int cpu,
			  struct xcall_pool_call *c);
/* xcall_pool_call_async_flags(): xcall_pool_cancel() may stop the call. */
#define XCALL_POOL_CANCELLABLE	(1U << 0)
/* xcall_pool_call_async() with XCALL_POOL_* @flags; -EINVAL for others. */
int xcall_pool_call_async_flags(struct xcall_pool *p, int cpu,
				struct xcall_pool_call *c, unsigned int flags);
/*
 * Cancel @c, queued with XCALL_POOL_CANCELLABLE, if it has not started:
 * 0 and fn never runs, -EBUSY it is running, -EALREADY it is not in
 * flight (done, never queued, or cancelled already), -EINVAL it was not
 * queued cancellable. A cancelled call is still in flight until its worker
 * gets to it and lets go of it: wait for it, or for xcall_pool_done(), as
 * for any call, before @c is reused or freed.
 */
int xcall_pool_cancel(struct xcall_pool_call *c);
/* Wait for @c: 0 when it has run, -ETIMEDOUT. @timeout_ms < 0: forever. */
int xcall_pool_wait(struct xcall_pool_call *c, int timeout_ms);
/* Has @c run (and been released by its worker)? Also true if never queued. */
int xcall_pool_done(const struct xcall_pool_call *c);
/*
 * smp_call_function_many(): run fn(arg) on every CPU of @set, fanning out
 * to all before waiting on any. -ETIMEDOUT if any has not run in time:
 * those not started are cancelled, as for call_single.
 */
int xcall_pool_call_many(struct xcall_pool *p, const cpu_set_t *set,
			 size_t setsize, xcall_pool_fn fn, void *arg,
			 int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* LIBXCALL_H */
