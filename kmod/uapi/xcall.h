/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * xcall ABI: the one copy shared by xcall.ko, libxcall, xcalld and the CLI.
 *
 * Everything here is fixed-size, built from __u32/__u64 with explicit
 * padding, and carries a size or version field so it can grow. Reserved
 * fields must be zero on input; the module refuses anything else.
 *
 * The function table XCALL_FUNCTIONS() is the single definition of every
 * function: its id, name, argument count, privilege and backends. The
 * module's dispatch table, libxcall's catalogue (and through it the CLI's
 * `list`, `--help`, JSON and the daemon's policy) are all expanded from it.
 */
#ifndef _UAPI_LINUX_XCALL_H
#define _UAPI_LINUX_XCALL_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define XCALL_ABI_VERSION	1

/* Backends a function is available on (bit mask). */
#define XCALL_BK_THREADS	(1U << 0)	/* in-process pinned workers */
#define XCALL_BK_KMOD		(1U << 1)	/* xcall.ko, IPI context */
#define XCALL_BK_DAEMON		(1U << 2)	/* through xcalld */
#define XCALL_BK_ALL		(XCALL_BK_THREADS | XCALL_BK_KMOD | XCALL_BK_DAEMON)
/* "where" needs an interrupted context: the module, or the daemon over it. */
#define XCALL_BK_KERNEL		(XCALL_BK_KMOD | XCALL_BK_DAEMON)

/*
 * msr reads x86 model-specific registers: on x86 only, and never on the
 * threads backend (user space cannot read an MSR without a module). On
 * other architectures it has no backend at all: every call to it is
 * refused with EOPNOTSUPP.
 */
#if defined(__x86_64__) || defined(__i386__)
#define XCALL_BK_MSR		XCALL_BK_KERNEL
#else
#define XCALL_BK_MSR		0
#endif

/* Privilege a function needs (CAP_SYS_ADMIN of the opener of /dev/xcall). */
#define XCALL_PRIV_ANY		0
#define XCALL_PRIV_ADMIN	1

/*
 * X(ID, name, min_args, max_args, privilege, backends)
 *
 * Ids are ABI: never renumber, only append.
 */
#define XCALL_FUNCTIONS(X)						\
	X(PING,  ping,  0, 0, XCALL_PRIV_ANY,   XCALL_BK_ALL)		\
	X(PROBE, probe, 0, 0, XCALL_PRIV_ANY,   XCALL_BK_ALL)		\
	X(CLOCK, clock, 0, 0, XCALL_PRIV_ANY,   XCALL_BK_ALL)		\
	X(IDENT, ident, 0, 2, XCALL_PRIV_ANY,   XCALL_BK_ALL)		\
	X(SPIN,  spin,  1, 1, XCALL_PRIV_ADMIN, XCALL_BK_ALL)		\
	X(WHERE, where, 0, 0, XCALL_PRIV_ADMIN, XCALL_BK_KERNEL)	\
	X(MSR,   msr,   1, 4, XCALL_PRIV_ADMIN, XCALL_BK_MSR)

enum xcall_fn {
#define __XCALL_FN_ENUM(ID, name, amin, amax, priv, bk) XCALL_FN_##ID,
	XCALL_FUNCTIONS(__XCALL_FN_ENUM)
#undef __XCALL_FN_ENUM
	XCALL_FN_COUNT
};

#define XCALL_MAX_ARGS		4
#define XCALL_SPIN_MAX_US	100000	/* cap on spin's argument: 100 ms */
#define XCALL_DEFAULT_TIMEOUT_MS 1000	/* timeout_ms == 0 means this */
#define XCALL_MAX_TIMEOUT_MS	60000
#define XCALL_MAX_CPUSET_BYTES	1024	/* 8192 CPUs */
/* NOWAIT calls not run yet: requests of one open file, calls to one CPU. */
#define XCALL_MAX_NOWAIT_PER_FILE 64
#define XCALL_MAX_NOWAIT_PER_CPU 256

/*
 * The MSRs msr may read: read-only, and only these, for every caller (root
 * too: EPERM for any other address). Each is one of
 *   XCALL_MSR_FIXED    a value that does not change while the CPU runs
 *                      (an identity, a capability, a configuration) or
 *                      changes only with the CPU's state (a status)
 *   XCALL_MSR_COUNTER  a counter that only goes up (until it wraps)
 * X(address, name, kind); the name is Intel's (AMD's for 0xc001xxxx).
 */
#define XCALL_MSR_FIXED		0
#define XCALL_MSR_COUNTER	1

#define XCALL_MSR_ALLOWLIST(X)						\
	X(0x00000010, IA32_TIME_STAMP_COUNTER, XCALL_MSR_COUNTER)	\
	X(0x00000017, IA32_PLATFORM_ID,		XCALL_MSR_FIXED)	\
	X(0x00000034, MSR_SMI_COUNT,		XCALL_MSR_COUNTER)	\
	X(0x0000008b, IA32_BIOS_SIGN_ID,	XCALL_MSR_FIXED)	\
	X(0x000000ce, MSR_PLATFORM_INFO,	XCALL_MSR_FIXED)	\
	X(0x000000e7, IA32_MPERF,		XCALL_MSR_COUNTER)	\
	X(0x000000e8, IA32_APERF,		XCALL_MSR_COUNTER)	\
	X(0x0000010a, IA32_ARCH_CAPABILITIES,	XCALL_MSR_FIXED)	\
	X(0x00000198, IA32_PERF_STATUS,		XCALL_MSR_FIXED)	\
	X(0x00000199, IA32_PERF_CTL,		XCALL_MSR_FIXED)	\
	X(0x0000019c, IA32_THERM_STATUS,	XCALL_MSR_FIXED)	\
	X(0x000001a0, IA32_MISC_ENABLE,		XCALL_MSR_FIXED)	\
	X(0x000001a2, MSR_TEMPERATURE_TARGET,	XCALL_MSR_FIXED)	\
	X(0x000001b0, IA32_ENERGY_PERF_BIAS,	XCALL_MSR_FIXED)	\
	X(0x000001b1, IA32_PACKAGE_THERM_STATUS, XCALL_MSR_FIXED)	\
	X(0x00000606, MSR_RAPL_POWER_UNIT,	XCALL_MSR_FIXED)	\
	X(0x00000611, MSR_PKG_ENERGY_STATUS,	XCALL_MSR_COUNTER)	\
	X(0x00000619, MSR_DRAM_ENERGY_STATUS,	XCALL_MSR_COUNTER)	\
	X(0x00000639, MSR_PP0_ENERGY_STATUS,	XCALL_MSR_COUNTER)	\
	X(0x00000641, MSR_PP1_ENERGY_STATUS,	XCALL_MSR_COUNTER)	\
	X(0x0000064d, MSR_PLATFORM_ENERGY_STATUS, XCALL_MSR_COUNTER)	\
	X(0xc0010299, MSR_AMD_RAPL_POWER_UNIT,	XCALL_MSR_FIXED)	\
	X(0xc001029a, MSR_AMD_CORE_ENERGY_STATUS, XCALL_MSR_COUNTER)	\
	X(0xc001029b, MSR_AMD_PKG_ENERGY_STATUS, XCALL_MSR_COUNTER)

/* MSRs one msr call reads (its arguments): XCALL_MAX_ARGS. */
#define XCALL_MSR_MAX		4

/* Is @addr on the allowlist? */
static inline int xcall_msr_allowed(__u64 addr)
{
	switch (addr) {
#define __XCALL_MSR_CASE(a, name, kind) case a:
	XCALL_MSR_ALLOWLIST(__XCALL_MSR_CASE)
#undef __XCALL_MSR_CASE
		return 1;
	default:
		return 0;
	}
}

/* What the target CPU was doing when the call arrived (xcall_result.ctx). */
#define XCALL_CTX_NONE		0	/* not known (threads backend) */
#define XCALL_CTX_IDLE		1	/* the idle task */
#define XCALL_CTX_USER		2	/* a task in user mode: pid, comm */
#define XCALL_CTX_KERNEL	3	/* a task in kernel mode: pid, comm */
#define XCALL_CTX_OTHER		4	/* a task the caller may not see:
					   pid 0, comm "-" */

/*
 * One result record per target CPU, 128 bytes.
 *
 * Common to every function: cpu, error, fn, node, mono_ns, cycles.
 * Function-specific:
 *   probe  hwid (x86 APIC id, arm64 MPIDR, ppc PIR); ctx, pid, comm
 *          (the task is told only to a caller who may see it: the same
 *          uid, or an opener with CAP_SYS_ADMIN or CAP_PERFMON; pid in the
 *          opener's pid namespace; otherwise ctx XCALL_CTX_OTHER)
 *   clock  cycles, mono_ns (nothing more)
 *   ident  x86: val[0..3] = eax, ebx, ecx, edx; val[4] = leaf, val[5] = subleaf
 *          arm64: val[0] = MIDR_EL1, val[1] = REVIDR_EL1, val[2] = MPIDR_EL1
 *          ppc64: val[0] = PVR
 *   spin   val[0] = ns actually spent, val[1] = us asked for
 *   where  ctx, pid, comm; sym = symbolised kernel IP ("fn+0x1c/0x80"),
 *          empty for user mode or idle. No raw address is ever returned.
 *   msr    val[i] = the MSR of argument i (i < nargs), in one go on the
 *          CPU; val[4 + i] = its address in bits 0-31, and in bits 32-63
 *          0, or EIO if the CPU faulted on reading it (its val[i] is then
 *          0); val[i] and val[4 + i] are 0 for i >= nargs. If any read
 *          faulted, error is -EIO (the other values are still there).
 */
struct xcall_result {
	__u32 cpu;		/* CPU that ran the function */
	__s32 error;		/* 0, or -errno for this CPU alone */
	__u32 fn;		/* enum xcall_fn */
	__u32 node;		/* NUMA node of @cpu */
	__u64 hwid;		/* hardware id of @cpu */
	__u64 cycles;		/* cycle counter read on @cpu */
	__u64 mono_ns;		/* CLOCK_MONOTONIC, ns, read on @cpu */
	__u32 ctx;		/* XCALL_CTX_* */
	__u32 pid;		/* interrupted task, ctx USER or KERNEL */
	char comm[16];		/* its comm, NUL-terminated */
	union {
		__u64 val[8];
		char sym[64];	/* NUL-terminated */
	};
};

/*
 * XCALL_IOC_INFO: what this module is and can do.
 * The caller sets @size to sizeof(struct xcall_info); everything else is out.
 */
struct xcall_info {
	__u32 size;
	__u32 abi_version;	/* XCALL_ABI_VERSION */
	__u32 nr_cpu_ids;	/* CPU numbers are < this */
	__u32 nr_fns;		/* XCALL_FN_COUNT of the module */
	__u64 fn_mask;		/* bit n: function id n is implemented */
	__u32 spin_max_us;	/* XCALL_SPIN_MAX_US */
	__u32 default_timeout_ms;
	__u64 calls_run;	/* functions run since the module was loaded */
	__u32 nowait_per_file;	/* XCALL_MAX_NOWAIT_PER_FILE */
	__u32 nowait_per_cpu;	/* XCALL_MAX_NOWAIT_PER_CPU */
	__u64 features;		/* XCALL_FEAT_*: what this module can do */
	__u64 reserved[1];
};

/*
 * xcall_info.features: what came after ABI version 1, without changing
 * any size (a module that predates a feature reports its bit clear, and
 * refuses its flag with EINVAL).
 */
#define XCALL_FEAT_TIMELINE	(1ULL << 0)	/* XCALL_CALL_TIMELINE */

/* xcall_call.flags */
#define XCALL_CALL_NOWAIT	(1U << 0)	/* queue, do not wait; no results */
#define XCALL_CALL_FLAGS	(XCALL_CALL_NOWAIT)
/*
 * The module only (XCALL_FEAT_TIMELINE; not in XCALL_CALL_FLAGS, which every
 * backend takes): also write one struct xcall_timeline per CPU called to
 * the array at xcall_call.timeline, in the order of the results. Not with
 * NOWAIT (EINVAL).
 */
#define XCALL_CALL_TIMELINE	(1U << 1)

/*
 * May @fn be called NOWAIT? Not spin: at most one spin is queued or running
 * per CPU, and its caller waits for it (EINVAL on every backend).
 */
#define XCALL_FN_NOWAIT_OK(fn)	((fn) != XCALL_FN_SPIN)

/*
 * XCALL_IOC_CALL: run @fn on every CPU set in the bitmap at @cpuset.
 *
 * The bitmap is @cpuset_size bytes (a multiple of 8, at most
 * XCALL_MAX_CPUSET_BYTES) of native-endian __u64 words, CPU n being bit
 * (n % 64) of word (n / 64) - the layout of the kernel's cpumask and of
 * glibc's cpu_set_t on 64-bit machines. Results are written in ascending CPU
 * order to the array at @results, which holds @nresults records; @ncalled is
 * set to the number of CPUs called. Each record has its own @error: the
 * ioctl itself fails only when the request as a whole is refused.
 *
 * Errors of the request as a whole (nothing is queued, and the caller's
 * memory is not written):
 *   EFAULT       a pointer is bad (the results, the timeline and
 *                @ncalled must be writable: they are checked before
 *                anything is queued)
 *   EMSGSIZE     @size, @cpuset_size or @nresults does not fit
 *   EINVAL       a reserved field is not zero, an unknown flag or @view
 *                bit, @nargs outside the function's range, spin with
 *                NOWAIT, TIMELINE with NOWAIT or without @timeline, or
 *                @timeline without TIMELINE
 *   EBADRQC      @fn is not a function id
 *   EOPNOTSUPP   @fn is known but not implemented here (arch, backend)
 *   EDESTADDRREQ the CPU set is empty
 *   ENODEV       a CPU in the set is >= nr_cpu_ids (does not exist)
 *   ENXIO        a CPU in the set is offline
 *   ERANGE       an argument is out of range (spin of 0 or over
 *                XCALL_SPIN_MAX_US, an ident leaf or an msr address over
 *                32 bits, @timeout_ms over XCALL_MAX_TIMEOUT_MS)
 *   EPERM        @fn needs CAP_SYS_ADMIN and the opener did not have it,
 *                or msr names an MSR not on XCALL_MSR_ALLOWLIST (root too),
 *                or a CPU in the set is isolated (isolcpus=, nohz_full=),
 *                or @view is set, and the opener has no CAP_SYS_ADMIN
 *   EBUSY        spin: a spin is already queued or running on a CPU of
 *                the set (at most one per CPU, whoever asks)
 *   EAGAIN       NOWAIT: XCALL_MAX_NOWAIT_PER_FILE requests of this open
 *                file, or XCALL_MAX_NOWAIT_PER_CPU calls to a CPU of the
 *                set, have not run yet; try again later
 * Per-CPU errors (in xcall_result.error):
 *   ETIMEDOUT    the CPU did not answer within the timeout
 *   ENXIO        the CPU went offline before it ran the call
 *   EIO          msr: the CPU faulted on reading one of the MSRs (it does
 *                not implement it)
 */
struct xcall_call {
	__u32 size;		/* sizeof(struct xcall_call) */
	__u32 fn;		/* enum xcall_fn */
	__u32 flags;		/* XCALL_CALL_* */
	__u32 timeout_ms;	/* 0: XCALL_DEFAULT_TIMEOUT_MS */
	__u32 nargs;
	__u32 cpuset_size;	/* bytes at @cpuset */
	__u64 args[XCALL_MAX_ARGS];
	__u64 cpuset;		/* user pointer to the CPU bitmap */
	__u64 results;		/* user pointer to struct xcall_result[] */
	__u32 nresults;		/* records @results can hold */
	__u32 ncalled;		/* out: CPUs called (records written) */
	__u64 view;		/* 0, or XCALL_VIEW_AS | ...: whose view */
	union {
		/*
		 * With XCALL_CALL_TIMELINE: user pointer to @nresults struct
		 * xcall_timeline. Without, must be zero (it was reserved[0]
		 * in ABI version 1, and still reads as that).
		 */
		__u64 timeline;
		__u64 reserved[1];
	};
};

/*
 * The timeline of one call on one CPU (XCALL_CALL_TIMELINE): the cycle
 * counter (the one of xcall_result.cycles: x86 TSC, arm64 CNTVCT, ppc64
 * timebase) read at each stage, on the CPU where that stage happened. The
 * counters of two CPUs differ by their offset (xcall_clock_offsets() in
 * libxcall measures it); ev[] of a stage that did not happen (a CPU that
 * timed out, went offline or was cancelled) is 0.
 */
enum xcall_tl_stage {
	XCALL_TL_SUBMITTED,	/* the module took the request (ioctl or
				   uring_cmd, once it copied struct
				   xcall_call in), on the caller's CPU */
	XCALL_TL_QUEUED,	/* going on the target's queue: read just
				   before llist_add, so before any handler
				   can take it, and before the kick */
	XCALL_TL_HANDLER,	/* the handler that ran it started its
				   first call (read for that call's
				   record), on the target */
	XCALL_TL_DONE,		/* the function returned, on the target */
	XCALL_TL_WOKEN,		/* the ioctl caller woke, or the io_uring
				   task work posts the CQE */
	XCALL_TL_NR
};

/* xcall_timeline.flags: how the call was queued ... */
#define XCALL_TLF_KICKED	(1U << 0)	/* it found the target's queue
						   empty and raised the IPI
						   (queued the csd) */
#define XCALL_TLF_RODE		(1U << 1)	/* the queue was not empty: it
						   rode on a kick pending */
#define XCALL_TLF_INLINE	(1U << 2)	/* the target was the caller's
						   own CPU: no IPI */
/* ... and how the handler that ran it was entered (one of three) */
#define XCALL_TLF_IRQ		(1U << 3)	/* hard IRQ: the IPI arrived */
#define XCALL_TLF_TASK		(1U << 4)	/* not in hard IRQ: inline, or
						   the target's idle loop
						   polled its queue (no IPI
						   was needed) */
#define XCALL_TLF_REKICK	(1U << 5)	/* the rekick timer, after a
						   handler's pause (BOUNDS) */

struct xcall_timeline {
	__u32 cpu;		/* the target, as xcall_result.cpu */
	__u32 flags;		/* XCALL_TLF_* */
	__u32 ev_cpu[XCALL_TL_NR];	/* CPU each stage was read on */
	__u32 pad;
	__u64 ev[XCALL_TL_NR];	/* cycle counter at each stage, or 0 */
	__u64 reserved[2];
};

/*
 * xcall_call.view: an opener with CAP_SYS_ADMIN that serves other users
 * (xcalld) gives each of them the view of tasks it would get from the
 * module itself. XCALL_VIEW_AS | uid (in the opener's user namespace):
 * tasks of that uid are named, any other is XCALL_CTX_OTHER; with
 * XCALL_VIEW_NOPID too, no task is named (the user's pid namespace is not
 * the opener's). EINVAL for other bits, EPERM from any other opener.
 */
#define XCALL_VIEW_AS		(1ULL << 63)
#define XCALL_VIEW_NOPID	(1ULL << 62)
#define XCALL_VIEW_UID		0xffffffffULL

/*
 * io_uring: IORING_OP_URING_CMD on /dev/xcall with cmd_op XCALL_IOC_CALL, on
 * a ring set up with IORING_SETUP_SQE128. The command area of the SQE holds
 * struct xcall_uring_cmd. The call completes asynchronously; cqe->res is the
 * number of CPUs called (records written at call->results) or -errno, with
 * the same errnos as the ioctl. The struct xcall_call and the result array
 * must stay valid until the completion arrives.
 */
struct xcall_uring_cmd {
	__u64 call;		/* user pointer to struct xcall_call */
	__u64 reserved[9];	/* must be zero; the SQE128 command area */
};

/*
 * XCALL_IOC_CANCEL: cancel the waited io_uring commands of this open file
 * whose xcall_uring_cmd.call was @call (IORING_OP_ASYNC_CANCEL does not
 * reach them, and io_uring cancels them only when the task or ring exits).
 * Each CPU whose call has not started is settled as a timeout settles it:
 * its function never runs, and its record says ECANCELED. If any was, the
 * command completes now with -ECANCELED (its records and @ncalled written;
 * a CPU that was running then and had not answered by the completion says
 * ECANCELED too). Commands whose calls have all started are left to finish.
 * Returns the number of CPUs whose call was cancelled (0: all had started).
 *   ENOENT       no waited command of this open file carries @call (none
 *                was made, it has completed, it was an ioctl or NOWAIT, or
 *                another open file made it)
 *   EMSGSIZE     @size is not sizeof(struct xcall_cancel)
 *   EINVAL       @flags or a reserved field is not zero
 *   EFAULT       the argument cannot be read
 */
struct xcall_cancel {
	__u32 size;		/* sizeof(struct xcall_cancel) */
	__u32 flags;		/* must be zero */
	__u64 call;		/* the command's xcall_uring_cmd.call */
	__u64 reserved[2];	/* must be zero */
};

#define XCALL_IOC_MAGIC		0xC4
#define XCALL_IOC_INFO		_IOWR(XCALL_IOC_MAGIC, 0, struct xcall_info)
#define XCALL_IOC_CALL		_IOWR(XCALL_IOC_MAGIC, 1, struct xcall_call)
#define XCALL_IOC_CANCEL	_IOW(XCALL_IOC_MAGIC, 2, struct xcall_cancel)

#endif /* _UAPI_LINUX_XCALL_H */
