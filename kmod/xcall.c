// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcall.ko: run a precompiled function on chosen CPUs, in IPI context.
 *
 * /dev/xcall takes a call (function id, arguments, CPU bitmap) through the
 * ioctl XCALL_IOC_CALL or an io_uring command, validates all of it, and
 * queues one slot per target CPU on that CPU's lock-free list. A target is
 * kicked with its per-CPU csd (smp_call_function_single_async(), so the
 * arch layer raises a real IPI) only when its list went from empty to
 * non-empty; the handler drains the list in IPI context, runs each function
 * and marks the slot done. Every target is kicked before the caller waits
 * on any. A request is refcounted: a caller that gives up after its timeout
 * leaves it to the handlers, whose late answers land in memory that is still
 * the request's. A CPU going offline fails what is still queued to it with
 * -ENXIO. The ABI and every errno are in uapi/xcall.h and xcall(4).
 *
 * What a caller can make a CPU do is bounded (xcall(4), BOUNDS): a handler
 * runs at most XCALL_DRAIN_CALLS calls or XCALL_DRAIN_NS (plus the call
 * that crosses it) before it lets interrupts in again; at most one spin is
 * queued or running per CPU; NOWAIT calls outstanding are capped per open
 * file and per CPU, and memory is charged to the caller's cgroup. What a
 * call reveals of the task it interrupted is only what its opener may see.
 *
 * PREEMPT_RT: the handlers run with interrupts off there too, where kfree()
 * and io_uring's completion may take sleeping locks; those two steps are
 * handed to a work item (xcall_defer()). Everything else a handler does
 * (atomics, complete(), a per-CPU spare) is allowed in hard IRQ context on
 * every kernel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/percpu.h>
#include <linux/pid_namespace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/isolation.h>
#include <linux/sched/signal.h>
#include <linux/user_namespace.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <asm/irq_regs.h>
#include <asm/timex.h>
#if defined(CONFIG_X86)
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/unwind.h>
#elif defined(CONFIG_ARM64)
#include <asm/cputype.h>
#include <asm/sysreg.h>
#elif defined(CONFIG_PPC64)
#include <asm/cputable.h>
#include <asm/reg.h>
#include <asm/smp.h>
#endif

#include "compat.h"
#include "uapi/xcall.h"

/* Life of a slot: queued -> running -> done, or queued -> abandoned. */
enum {
	XS_QUEUED,
	XS_RUNNING,
	XS_DONE,
	XS_ABANDONED,	/* its caller gave up: skip the function */
};

/*
 * The bound on one handler's run: this many calls, or this long (the call
 * that crosses it goes on to its end). The rest waits with interrupts on,
 * at least XCALL_REKICK_NS and at least as long as that run took, then
 * goes on from the rekick timer: interrupts are off half the time at most.
 */
#define XCALL_DRAIN_CALLS	64
#define XCALL_DRAIN_NS		(100 * NSEC_PER_USEC)
#define XCALL_REKICK_NS		(100 * NSEC_PER_USEC)

/* One open /dev/xcall: who opened it, and its NOWAIT calls outstanding. */
struct xcall_file {
	refcount_t ref;			/* the open file + one per request */
	atomic_t nowait;		/* NOWAIT requests not run everywhere yet */
	bool admin;			/* CAP_SYS_ADMIN (initial user ns) */
	bool sees_all;			/* admin or perfmon: every task's context */
	kuid_t uid;			/* the opener's */
	struct user_namespace *user_ns;	/* the opener's: xcall_call.view's uid */
	struct pid_namespace *pid_ns;	/* the opener's: pids are told in it */
	spinlock_t lock;		/* @cmds */
	struct list_head cmds;		/* waited io_uring commands, for
					 * XCALL_IOC_CANCEL */
	struct llist_node free_node;	/* on xcall_files_to_free */
};

struct xcall_req;

/* One target CPU of a request. */
struct xcall_slot {
	struct llist_node node;		/* on the target's queue */
	struct xcall_req *req;
	unsigned int cpu;
	atomic_t state;			/* XS_* */
	struct xcall_result res;	/* valid once state is XS_DONE */
	/* XCALL_CALL_TIMELINE: the stages this slot saw (xcall_tl_fill()) */
	u64 tl_queued, tl_handler, tl_done;	/* cycle counter */
	u32 tl_queued_cpu;		/* the submitter's; the others: @cpu */
	u8 tl_sflags;			/* XCALL_TLF_*, by the submitter */
	u8 tl_hflags;			/* XCALL_TLF_*, by the handler */
};

struct xcall_req {
	refcount_t ref;			/* owner + one per queued slot */
	atomic_t pending;		/* slots the handlers still owe */
	struct xcall_file *xf;		/* the caller's open file (a reference) */
	bool nowait;			/* XCALL_CALL_NOWAIT: counted in xf, pcpu */
	bool view_as;			/* xcall_call.view: tasks of view_uid */
	bool view_nopid;		/* ... or none at all */
	bool timeline;			/* XCALL_CALL_TIMELINE */
	kuid_t view_uid;
	unsigned int fn;
	unsigned int nargs;
	u64 args[XCALL_MAX_ARGS];
	unsigned int timeout_ms;
	unsigned int nslots;
	bool spare;			/* has room for XCALL_SPARE_SLOTS */
	struct completion done;		/* pending reached 0 (ioctl) */
	bool sleeping;			/* the ioctl caller is on @done */
	/* io_uring only */
	struct io_uring_cmd *ioucmd;
	struct hrtimer timer;
	atomic_t finished;		/* completion handed to the task */
	u8 why;				/* XW_*: what finished it */
	u64 ucall;			/* user struct xcall_call */
	u64 uresults;
	u64 utimeline;			/* user struct xcall_timeline[] */
	u64 tl_submitted, tl_woken;	/* cycle counter, XCALL_TL_* */
	u32 tl_submitted_cpu, tl_woken_cpu;
	struct list_head file_node;	/* on xf->cmds until its task work */
	/* On xcall_to_finish / xcall_to_free (xcall_defer()) */
	struct llist_node finish_node;
	struct llist_node free_node;
	struct xcall_slot slots[];
};

/* Why a waiter stopped waiting: every answer, its timeout, a cancel. */
enum { XW_DONE, XW_TIMEOUT, XW_CANCEL, XW_SIGNAL };

struct xcall_pcpu {
	struct llist_head queue;	/* pending slots, newest first */
	call_single_data_t csd;		/* kicks this CPU */
	/* Touched on this CPU only, with interrupts off: */
	struct llist_node *backlog;	/* off @queue, not run yet, oldest first */
	struct hrtimer rekick;		/* goes on with @backlog after a pause */
	u64 resume_ns;			/* no handler runs calls before this */
	u64 tl_handler;			/* cycle counter at this run's first
					 * call, 0 before it */
	u8 tl_how;			/* XCALL_TLF_IRQ, _TASK or _REKICK */
	/* Claimed by submitters, given back by the handler: */
	atomic_t spin;			/* a spin is queued or running here */
	atomic_t nowait;		/* NOWAIT calls queued here */
};

static DEFINE_PER_CPU_ALIGNED(struct xcall_pcpu, xcall_pcpu);

/* Buffer for sprint_symbol(), used with interrupts off on its own CPU. */
struct xcall_symbuf {
	char buf[KSYM_SYMBOL_LEN];
};
static DEFINE_PER_CPU(struct xcall_symbuf, xcall_symbuf);

/*
 * Requests alive, counted per CPU (allocated on one CPU, freed on
 * another: only the sum means anything); module exit waits for none.
 * A request stops counting only once it is freed or stashed as a spare.
 */
static DEFINE_PER_CPU(long, xcall_live);

/* Functions run here since the module was loaded (XCALL_IOC_INFO). */
static DEFINE_PER_CPU(unsigned long, xcall_calls_run);

/*
 * One spare request per CPU, big enough for XCALL_SPARE_SLOTS targets:
 * most calls neither allocate nor free.
 */
#define XCALL_SPARE_SLOTS	4
static DEFINE_PER_CPU(struct xcall_req *, xcall_spare);
static enum cpuhp_state xcall_hp_state;

static unsigned int poll_us = 100;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us,
		 "how long a caller spins for answers before it sleeps (us)");

/* ---------------------------------------------------------------------
 * The functions, run on the target CPU with interrupts off.
 */

/*
 * The registers of the context the call interrupted, or NULL when the call
 * runs in task context (the caller's own CPU, or an idle CPU that polled its
 * queue). x86 does not set irq regs for the call-function IPIs: find the
 * interrupt frame by unwinding the current stack.
 */
static struct pt_regs *xcall_irq_regs(void)
{
	struct pt_regs *regs = get_irq_regs();
#ifdef CONFIG_X86
	struct unwind_state state;
	int n = 0;

	if (regs || !in_hardirq())
		return regs;
	for (unwind_start(&state, current, NULL, NULL);
	     !unwind_done(&state) && n < 64; unwind_next_frame(&state), n++) {
		regs = unwind_get_entry_regs(&state, NULL);
		if (regs)
			return regs;
	}
	return NULL;
#else
	return regs;
#endif
}

/*
 * May the caller of @req see task @t? The same uid (real, effective and
 * saved, as ptrace's rules want), or a privileged opener (sees_all) that
 * did not ask for another user's view.
 */
static bool xcall_may_see(const struct xcall_req *req, struct task_struct *t)
{
	const struct xcall_file *xf = req->xf;
	const struct cred *c;
	kuid_t uid = xf->uid;
	bool same;

	if (req->view_nopid)
		return false;
	if (req->view_as)
		uid = req->view_uid;
	else if (xf->sees_all)
		return true;
	rcu_read_lock();
	c = __task_cred(t);
	same = uid_eq(c->uid, uid) && uid_eq(c->euid, uid) &&
	       uid_eq(c->suid, uid);
	rcu_read_unlock();
	return same;
}

/*
 * What this CPU was doing when the call arrived, as far as the caller may
 * see it: another user's task is XCALL_CTX_OTHER, pid 0, comm "-"; a pid is
 * told in the opener's pid namespace (a task outside it is "other" too).
 * The registers of the interrupted context, or NULL.
 */
static struct pt_regs *xcall_ctx(struct xcall_req *req, struct xcall_result *r)
{
	struct task_struct *t = current;
	struct pt_regs *regs = xcall_irq_regs();
	pid_t pid;

	if (is_idle_task(t)) {
		r->ctx = XCALL_CTX_IDLE;
		r->pid = 0;
	} else {
		bool see = xcall_may_see(req, t);

		pid = see ? task_pid_nr_ns(t, req->xf->pid_ns) : 0;
		/*
		 * Outside the opener's pid namespace is "other" too; a
		 * privileged opener's own view still names a task that has
		 * no pid left (it is exiting).
		 */
		if (!see || (!pid && (req->view_as || !req->xf->sees_all))) {
			r->ctx = XCALL_CTX_OTHER;
			r->pid = 0;
			strscpy(r->comm, "-", sizeof(r->comm));
			return NULL;
		}
		r->ctx = regs && user_mode(regs) ? XCALL_CTX_USER :
						     XCALL_CTX_KERNEL;
		r->pid = pid;
	}
	/* No task_lock() in IPI context: comm is always NUL-terminated. */
	memcpy(r->comm, t->comm, sizeof(r->comm));
	r->comm[sizeof(r->comm) - 1] = '\0';
	return regs;
}

static u64 xcall_hwid(void)
{
#if defined(CONFIG_X86)
	/* The x2APIC id (leaf 0xb) when there is one, else the xAPIC id. */
	if (boot_cpu_data.cpuid_level >= 0xb && cpuid_ebx(0xb))
		return cpuid_edx(0xb);
	return cpuid_ebx(1) >> 24;
#elif defined(CONFIG_ARM64)
	return read_cpuid_mpidr() & MPIDR_HWID_BITMASK;
#elif defined(CONFIG_PPC64)
	/*
	 * A guest (pseries) cannot read the PIR (qemu gives 0): the hardware
	 * thread id there is the interrupt server number the platform gave
	 * the kernel, which sysfs shows as cpuN/physical_id.
	 */
	if (cpu_has_feature(CPU_FTR_HVMODE))
		return mfspr(SPRN_PIR);
	return hard_smp_processor_id();
#else
	return 0;
#endif
}

static void xcall_fn_ping(struct xcall_req *req, struct xcall_result *r)
{
}

/* cycles and mono_ns are read for every function. */
static void xcall_fn_clock(struct xcall_req *req, struct xcall_result *r)
{
}

static void xcall_fn_probe(struct xcall_req *req, struct xcall_result *r)
{
	r->hwid = xcall_hwid();
	xcall_ctx(req, r);
}

static void xcall_fn_ident(struct xcall_req *req, struct xcall_result *r)
{
#if defined(CONFIG_X86)
	u32 a, b, c, d;
	u32 leaf = req->nargs > 0 ? req->args[0] : 0;
	u32 sub = req->nargs > 1 ? req->args[1] : 0;

	cpuid_count(leaf, sub, &a, &b, &c, &d);
	r->val[0] = a;
	r->val[1] = b;
	r->val[2] = c;
	r->val[3] = d;
	r->val[4] = leaf;
	r->val[5] = sub;
#elif defined(CONFIG_ARM64)
	r->val[0] = read_cpuid_id();
	r->val[1] = read_sysreg_s(SYS_REVIDR_EL1);
	r->val[2] = read_cpuid_mpidr();
#elif defined(CONFIG_PPC64)
	r->val[0] = mfspr(SPRN_PVR);
#endif
}

static void xcall_fn_spin(struct xcall_req *req, struct xcall_result *r)
{
	u64 want = req->args[0] * NSEC_PER_USEC;
	u64 t0 = ktime_get_ns(), t;

	do {
		cpu_relax();
		t = ktime_get_ns() - t0;
	} while (t < want);
	r->val[0] = t;
	r->val[1] = req->args[0];
}

static void xcall_fn_where(struct xcall_req *req, struct xcall_result *r)
{
	struct pt_regs *regs = xcall_ctx(req, r);
	char *buf;

	if (r->ctx != XCALL_CTX_KERNEL || !regs)
		return;
	buf = this_cpu_ptr(&xcall_symbuf)->buf;
	sprint_symbol(buf, instruction_pointer(regs));
	/* Not in any symbol table: never show the raw address. */
	if (!strncmp(buf, "0x", 2))
		strscpy(r->sym, "?", sizeof(r->sym));
	else
		strscpy(r->sym, buf, sizeof(r->sym));
}

/*
 * Read the allowlisted MSRs of the arguments (xcall_check_call() checked
 * every address), all in this one interrupt. rdmsrl_safe() turns the #GP
 * of an MSR this CPU does not implement into an error: that address says
 * EIO in its word, and the record as a whole says -EIO.
 */
#ifdef CONFIG_X86
static void xcall_fn_msr(struct xcall_req *req, struct xcall_result *r)
{
	unsigned int i;
	u64 v;

	for (i = 0; i < req->nargs && i < XCALL_MSR_MAX; i++) {
		r->val[XCALL_MSR_MAX + i] = req->args[i];
		if (rdmsrl_safe(req->args[i], &v)) {
			r->val[XCALL_MSR_MAX + i] |= (u64)EIO << 32;
			r->error = -EIO;
			continue;
		}
		r->val[i] = v;
	}
}
#else
/* Not in the catalogue here (XCALL_BK_MSR): never called. */
static void xcall_fn_msr(struct xcall_req *req, struct xcall_result *r)
{
	r->error = -EOPNOTSUPP;
}
#endif

typedef void (*xcall_fn_t)(struct xcall_req *req, struct xcall_result *r);

#define XCALL_IMPL(ID, name, amin, amax, priv, bk) \
	[XCALL_FN_##ID] = xcall_fn_##name,
static const xcall_fn_t xcall_fns[XCALL_FN_COUNT] = {
	XCALL_FUNCTIONS(XCALL_IMPL)
};
#undef XCALL_IMPL

struct xcall_fn_desc {
	unsigned int amin, amax, priv, bk;
};

#define XCALL_DESC(ID, name, min, max, p, b) \
	[XCALL_FN_##ID] = { .amin = min, .amax = max, .priv = p, .bk = b },
static const struct xcall_fn_desc xcall_desc[XCALL_FN_COUNT] = {
	XCALL_FUNCTIONS(XCALL_DESC)
};
#undef XCALL_DESC

static bool xcall_fn_implemented(unsigned int fn)
{
	if (!(xcall_desc[fn].bk & XCALL_BK_KMOD))
		return false;
#if !defined(CONFIG_X86) && !defined(CONFIG_ARM64) && !defined(CONFIG_PPC64)
	if (fn == XCALL_FN_IDENT)
		return false;
#endif
	return true;
}

/* ---------------------------------------------------------------------
 * Deferred work: what a handler may not do itself.
 *
 * A handler runs in hard IRQ context, or with interrupts off when a call
 * to the caller's own CPU runs inline. There, on PREEMPT_RT, kfree() and
 * io_uring's completion may take sleeping locks; on every kernel, vfree()
 * and a pid namespace's last put may not run with interrupts off. Those
 * steps are handed to a work item.
 */

static LLIST_HEAD(xcall_to_finish);	/* io_uring completions to hand over */
static LLIST_HEAD(xcall_to_free);	/* requests */
static LLIST_HEAD(xcall_files_to_free);
static void xcall_deferred(struct work_struct *work);
static DECLARE_WORK(xcall_deferred_work, xcall_deferred);

/* Interrupts off or in interrupt: exact on every preemption model. */
static bool xcall_atomic(void)
{
	return in_interrupt() || irqs_disabled();
}

/*
 * Queue @node on @list for the work item. queue_work() is allowed in hard
 * IRQ context, on PREEMPT_RT too (the pool lock is a raw spinlock); the
 * work runs at least once after the last add, whatever it is doing now.
 */
static void xcall_defer(struct llist_node *node, struct llist_head *list)
{
	llist_add(node, list);
	queue_work(system_wq, &xcall_deferred_work);
}

static void xcall_file_free(struct xcall_file *xf)
{
	put_pid_ns(xf->pid_ns);
	put_user_ns(xf->user_ns);
	kfree(xf);
}

static void xcall_file_put(struct xcall_file *xf)
{
	if (!refcount_dec_and_test(&xf->ref))
		return;
	if (xcall_atomic())
		xcall_defer(&xf->free_node, &xcall_files_to_free);
	else
		xcall_file_free(xf);
}

/* The last reference is gone: stash @req as this CPU's spare, or free it. */
static void xcall_req_release(struct xcall_req *req)
{
	xcall_file_put(req->xf);
	if (!req->spare || this_cpu_cmpxchg(xcall_spare, NULL, req))
		kvfree(req);
	/* Only now: module exit frees the spares once nothing counts. */
	this_cpu_dec(xcall_live);
}

static void xcall_req_put(struct xcall_req *req)
{
	if (!refcount_dec_and_test(&req->ref))
		return;
	if (xcall_atomic() &&
	    (IS_ENABLED(CONFIG_PREEMPT_RT) || is_vmalloc_addr(req)))
		xcall_defer(&req->free_node, &xcall_to_free);
	else
		xcall_req_release(req);
}

static void xcall_uring_hand_over(struct xcall_req *req);

/* The work item of xcall_defer(): process context, sleeping allowed. */
static void xcall_deferred(struct work_struct *work)
{
	struct xcall_req *req, *rtmp;
	struct xcall_file *xf, *ftmp;

	llist_for_each_entry_safe(req, rtmp, llist_del_all(&xcall_to_finish),
				  finish_node)
		xcall_uring_hand_over(req);
	llist_for_each_entry_safe(req, rtmp, llist_del_all(&xcall_to_free),
				  free_node)
		xcall_req_release(req);
	llist_for_each_entry_safe(xf, ftmp, llist_del_all(&xcall_files_to_free),
				  free_node)
		xcall_file_free(xf);
}

/* ---------------------------------------------------------------------
 * Running the queues, on the target CPU with interrupts off.
 */

static void xcall_uring_finish(struct xcall_req *req, u8 why);

static struct xcall_pcpu *xcall_pc(unsigned int cpu)
{
	return per_cpu_ptr(&xcall_pcpu, cpu);
}

/*
 * Run @slot here (or fail it with @err) unless its caller gave up, give
 * back what its submission claimed on this CPU, and drop the slot's hold
 * on the request.
 */
static void xcall_slot_run(struct xcall_slot *slot, int err)
{
	struct xcall_req *req = slot->req;
	struct xcall_result *r = &slot->res;
	struct xcall_pcpu *pc = xcall_pc(slot->cpu);

	if (atomic_cmpxchg(&slot->state, XS_QUEUED, XS_RUNNING) == XS_QUEUED) {
		r->fn = req->fn;
		if (err) {
			r->cpu = slot->cpu;
			r->error = err;
		} else {
			r->cpu = smp_processor_id();
			r->cycles = get_cycles();
			if (!pc->tl_handler)
				pc->tl_handler = r->cycles;
			r->mono_ns = ktime_get_ns();
			xcall_fns[req->fn](req, r);
			this_cpu_inc(xcall_calls_run);
			if (req->timeline) {
				slot->tl_handler = pc->tl_handler;
				slot->tl_hflags = pc->tl_how;
				slot->tl_done = get_cycles();
			}
		}
		r->node = cpu_to_node(r->cpu);
		atomic_set_release(&slot->state, XS_DONE);
	}
	/* The spin is over (or never ran): the next may be queued. */
	if (req->fn == XCALL_FN_SPIN)
		atomic_set_release(&pc->spin, 0);
	if (req->nowait)
		atomic_dec(&pc->nowait);
	if (atomic_dec_and_test(&req->pending)) {
		/* Full barrier above; pairs with the one in xcall_wait(). */
		if (req->nowait)
			atomic_dec(&req->xf->nowait);
		if (req->ioucmd)
			xcall_uring_finish(req, XW_DONE);
		else if (READ_ONCE(req->sleeping))
			complete(&req->done);
	}
	xcall_req_put(req);
}

/*
 * Run what is queued on this CPU, oldest first: at most XCALL_DRAIN_CALLS
 * calls or XCALL_DRAIN_NS (and the call that crosses it) in one go. The
 * rest stays in the backlog for the rekick timer, which goes on with it
 * after a pause as long as this run (XCALL_REKICK_NS at least), so that
 * this CPU takes its interrupts in between; a csd that comes during the
 * pause leaves its work to the timer too. Submitters keep kicking only an
 * empty queue: the csd can never be busy for a reason other than a kick on
 * its way, and whatever is queued meanwhile runs behind the backlog, in
 * order. Whenever work is left and no kick is on its way, the timer is
 * armed.
 *
 * A run takes the queue once: what is queued after that found it empty,
 * so its submitter kicked again, and that kick runs it. Taking it here
 * too would save no IPI (the kick is sent already) and would run a call
 * by a handler that began before it was queued, which its timeline could
 * not tell (seen in the x86 guest's trace: a call flagged as raising its
 * IPI, run before that IPI's handler came).
 */
static void xcall_run_queue(struct xcall_pcpu *pc, u8 how)
{
	u64 start = local_clock(), took;
	struct xcall_slot *slot;
	unsigned int n = 0;
	bool taken = false;

	if (start < pc->resume_ns)
		return;		/* paused: the armed timer goes on */
	/*
	 * XCALL_TL_HANDLER of every call this run makes: the counter read
	 * for the record of its first call (xcall_slot_run()), so that a run
	 * without a timeline reads it no more than its records need.
	 */
	pc->tl_handler = 0;
	pc->tl_how = how;
	for (;;) {
		if (!pc->backlog) {
			if (taken)
				return;
			pc->backlog = llist_reverse_order(
					llist_del_all(&pc->queue));
			if (!pc->backlog)
				return;
			taken = true;
			/* Taken after what ran so far: its own reading. */
			pc->tl_handler = 0;
		}
		if (n == XCALL_DRAIN_CALLS ||
		    (n && local_clock() - start >= XCALL_DRAIN_NS))
			break;
		slot = llist_entry(pc->backlog, struct xcall_slot, node);
		/* Before the slot runs: its request may be freed then. */
		pc->backlog = pc->backlog->next;
		xcall_slot_run(slot, 0);
		n++;
	}
	took = max_t(u64, local_clock() - start, XCALL_REKICK_NS);
	pc->resume_ns = local_clock() + took;
	hrtimer_start(&pc->rekick, ns_to_ktime(took),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/*
 * The csd handler: IPI context on the target CPU, or the idle loop's poll
 * of the csd queue (no IPI was needed), or inline on the caller's CPU.
 */
static void xcall_ipi(void *info)
{
	xcall_run_queue(info, in_hardirq() ? XCALL_TLF_IRQ : XCALL_TLF_TASK);
}

/* The rekick timer: hard IRQ context, pinned to its CPU. */
static enum hrtimer_restart xcall_rekick(struct hrtimer *t)
{
	struct xcall_pcpu *pc = container_of(t, struct xcall_pcpu, rekick);

	pc->resume_ns = 0;	/* the pause is over, early or not */
	xcall_run_queue(pc, XCALL_TLF_REKICK);
	return HRTIMER_NORESTART;
}

/* Fail everything queued to @pc's CPU, which is going (or gone). */
static void xcall_fail_all(struct xcall_pcpu *pc, int err)
{
	struct xcall_slot *slot, *tmp;
	struct llist_node *list;

	list = pc->backlog;
	pc->backlog = NULL;
	llist_for_each_entry_safe(slot, tmp, list, node)
		xcall_slot_run(slot, err);
	list = llist_reverse_order(llist_del_all(&pc->queue));
	llist_for_each_entry_safe(slot, tmp, list, node)
		xcall_slot_run(slot, err);
}

/*
 * Called with cpus_read_lock held and @slot->cpu online.
 *
 * smp_call_function_single_async() can never find the csd busy here with
 * nothing to drain: only the submitter whose add found the queue empty
 * kicks, and the queue only empties in a handler, which runs after its
 * csd was unlocked. So -EBUSY means a kick is on its way whose handler
 * will run this slot too.
 */
static void xcall_enqueue(struct xcall_slot *slot)
{
	struct xcall_pcpu *pc = xcall_pc(slot->cpu);
	struct xcall_slot *s, *tmp;
	struct xcall_req *req = slot->req;
	bool first;
	int err;

	/*
	 * Read before the slot is visible: once it is, a handler already
	 * kicked may run it at once, before this CPU reads anything more.
	 */
	if (req->timeline) {
		slot->tl_queued_cpu = smp_processor_id();
		slot->tl_sflags = slot->cpu == slot->tl_queued_cpu ?
				  XCALL_TLF_INLINE : 0;
		slot->tl_queued = get_cycles();
	}
	first = llist_add(&slot->node, &pc->queue);
	/*
	 * Only the submitter reads the flags, once every slot has answered
	 * (or from the task work that the submitter's own last pending
	 * count lets start): they may be written after the slot is visible.
	 */
	if (!first) {
		if (req->timeline)
			slot->tl_sflags |= XCALL_TLF_RODE;
		return;	/* not empty before: a kick is on its way */
	}
	err = smp_call_function_single_async(slot->cpu, &pc->csd);
	if (req->timeline)
		slot->tl_sflags |= err ? XCALL_TLF_RODE : XCALL_TLF_KICKED;
	if (!err || err == -EBUSY)
		return;
	/* The CPU is gone (it cannot be, under cpus_read_lock): fail it. */
	llist_for_each_entry_safe(s, tmp, llist_del_all(&pc->queue), node)
		xcall_slot_run(s, -ENXIO);
}

/*
 * What the caller reports for @slot: its record, or why there is none.
 * A slot not run yet is abandoned (its function will be skipped); one that
 * finished meanwhile is reported as such. Logs a CPU that did not answer
 * only when the wait ended because of the timeout.
 */
static const struct xcall_result *xcall_slot_result(struct xcall_slot *slot,
						     struct xcall_result *tmp,
						     u8 why)
{
	int old = atomic_read_acquire(&slot->state);

	if (old == XS_QUEUED)
		old = atomic_cmpxchg(&slot->state, XS_QUEUED, XS_ABANDONED);
	if (old == XS_DONE)
		return &slot->res;	/* cmpxchg's barrier orders @res */
	memset(tmp, 0, sizeof(*tmp));
	tmp->cpu = slot->cpu;
	tmp->fn = slot->req->fn;
	tmp->node = cpu_to_node(slot->cpu);
	tmp->error = why == XW_CANCEL ? -ECANCELED : -ETIMEDOUT;
	if (why == XW_TIMEOUT)
		pr_notice_ratelimited("cpu %u did not answer within %u ms\n",
				      slot->cpu, slot->req->timeout_ms);
	return tmp;
}

/* Read the cycle counter and the CPU it was read on. */
static void xcall_stamp(u64 *t, u32 *cpu)
{
	preempt_disable();
	*t = get_cycles();
	*cpu = smp_processor_id();
	preempt_enable();
}

/*
 * The timeline of @slot, whose record @r is: the target's stages only if
 * the slot ran (its record is the slot's own).
 */
static void xcall_tl_fill(const struct xcall_slot *slot,
			  const struct xcall_result *r,
			  struct xcall_timeline *tl)
{
	const struct xcall_req *req = slot->req;
	bool ran = r == &slot->res && !r->error;

	memset(tl, 0, sizeof(*tl));
	tl->cpu = slot->cpu;
	tl->flags = slot->tl_sflags | (ran ? slot->tl_hflags : 0);
	tl->ev[XCALL_TL_SUBMITTED] = req->tl_submitted;
	tl->ev_cpu[XCALL_TL_SUBMITTED] = req->tl_submitted_cpu;
	tl->ev[XCALL_TL_QUEUED] = slot->tl_queued;
	tl->ev_cpu[XCALL_TL_QUEUED] = slot->tl_queued_cpu;
	tl->ev_cpu[XCALL_TL_HANDLER] = slot->cpu;
	tl->ev_cpu[XCALL_TL_DONE] = slot->cpu;
	if (ran) {
		tl->ev[XCALL_TL_HANDLER] = slot->tl_handler;
		tl->ev[XCALL_TL_DONE] = slot->tl_done;
	}
	tl->ev[XCALL_TL_WOKEN] = req->tl_woken;
	tl->ev_cpu[XCALL_TL_WOKEN] = req->tl_woken_cpu;
}

/*
 * Copy every slot's record to @uresults (none if 0), and its timeline to
 * the request's if it asked for one: the number of records, or -EFAULT.
 * Every slot is settled either way: none runs afterwards.
 */
static int xcall_copy_results(struct xcall_req *req, u64 uresults, u8 why)
{
	struct xcall_result __user *ures = u64_to_user_ptr(uresults);
	struct xcall_timeline __user *utl = u64_to_user_ptr(req->utimeline);
	struct xcall_result tmp;
	struct xcall_timeline tl;
	int ret = req->nslots;
	unsigned int i;

	if (req->timeline)
		xcall_stamp(&req->tl_woken, &req->tl_woken_cpu);
	for (i = 0; i < req->nslots; i++) {
		const struct xcall_result *r;

		r = xcall_slot_result(&req->slots[i], &tmp, why);
		if (ures && ret >= 0 && copy_to_user(&ures[i], r, sizeof(*r)))
			ret = -EFAULT;
		if (!ures || ret < 0 || !req->timeline)
			continue;
		xcall_tl_fill(&req->slots[i], r, &tl);
		if (copy_to_user(&utl[i], &tl, sizeof(tl)))
			ret = -EFAULT;
	}
	return ret;
}

/* ---------------------------------------------------------------------
 * Validation: everything is checked before anything is queued.
 */

static int xcall_check_call(struct xcall_file *xf, const struct xcall_call *c)
{
	const struct xcall_fn_desc *d;
	unsigned int i;

	if (c->size != sizeof(*c))
		return -EMSGSIZE;
	if (c->flags & ~(XCALL_CALL_FLAGS | XCALL_CALL_TIMELINE))
		return -EINVAL;
	/* @timeline was reserved[0]: without the flag, zero as before. */
	if (c->flags & XCALL_CALL_TIMELINE ?
	    !c->timeline || (c->flags & XCALL_CALL_NOWAIT) : !!c->timeline)
		return -EINVAL;
	if (c->view && (!(c->view & XCALL_VIEW_AS) ||
			(c->view & ~(XCALL_VIEW_AS | XCALL_VIEW_NOPID |
				     XCALL_VIEW_UID))))
		return -EINVAL;
	if (c->fn >= XCALL_FN_COUNT)
		return -EBADRQC;
	if (!xcall_fn_implemented(c->fn))
		return -EOPNOTSUPP;
	d = &xcall_desc[c->fn];
	if (c->nargs < d->amin || c->nargs > d->amax)
		return -EINVAL;
	for (i = c->nargs; i < XCALL_MAX_ARGS; i++)
		if (c->args[i])
			return -EINVAL;
	if ((c->flags & XCALL_CALL_NOWAIT) && !XCALL_FN_NOWAIT_OK(c->fn))
		return -EINVAL;
	/* As libxcall orders them: every range, then the allowlist. */
	if (c->fn == XCALL_FN_MSR) {
		for (i = 0; i < c->nargs; i++)
			if (c->args[i] > U32_MAX)
				return -ERANGE;
		for (i = 0; i < c->nargs; i++)
			if (!xcall_msr_allowed(c->args[i]))
				return -EPERM;
	}
	if ((d->priv == XCALL_PRIV_ADMIN || c->view) && !xf->admin)
		return -EPERM;
	if (c->timeout_ms > XCALL_MAX_TIMEOUT_MS)
		return -ERANGE;
	/* 1 to XCALL_SPIN_MAX_US, as libxcall's catalogue has it. */
	if (c->fn == XCALL_FN_SPIN &&
	    (!c->args[0] || c->args[0] > XCALL_SPIN_MAX_US))
		return -ERANGE;
	if (c->fn == XCALL_FN_IDENT &&
	    (c->args[0] > U32_MAX || c->args[1] > U32_MAX))
		return -ERANGE;
	if (!c->cpuset_size)
		return -EDESTADDRREQ;
	if (c->cpuset_size % sizeof(u64) ||
	    c->cpuset_size > XCALL_MAX_CPUSET_BYTES)
		return -EMSGSIZE;
	return 0;
}

/*
 * A zeroed request for @n targets: this CPU's spare, or a new one, charged
 * to the caller's memory cgroup. A call to thousands of CPUs needs a large
 * block: kvzalloc() takes pages where no contiguous one is free.
 */
static struct xcall_req *xcall_req_alloc(unsigned int n)
{
	struct xcall_req *req;

	if (n > XCALL_SPARE_SLOTS)
		return kvzalloc(struct_size(req, slots, n),
				GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	req = this_cpu_xchg(xcall_spare, NULL);
	if (req)
		memset(req, 0, struct_size(req, slots, n));
	else
		req = kzalloc(struct_size(req, slots, XCALL_SPARE_SLOTS),
			      GFP_KERNEL_ACCOUNT);
	if (req)
		req->spare = true;
	return req;
}

static long xcall_live_sum(void)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu(xcall_live, cpu));
	return sum;
}

/* Pages get_user_pages_fast_only() looks at for xcall_writable(). */
#define XCALL_WRITABLE_FAST_PAGES	2

/*
 * Can @len bytes at @uptr be written? Writes nothing. The results and
 * @ncalled of nearly every call are mapped and writable already: the
 * lockless page-table walk of get_user_pages_fast_only() vouches for that
 * without mmap_lock or a fault (fault_in_safe_writeable() on both was half
 * the software cost of a call, measured with function_graph in the x86
 * guest). What it cannot vouch for (a page not present, shared
 * copy-on-write, a special mapping, a bad address, more than
 * XCALL_WRITABLE_FAST_PAGES pages) is decided by the fault-in, as before.
 */
static bool xcall_writable(u64 uptr, size_t len)
{
	struct page *pages[XCALL_WRITABLE_FAST_PAGES];
	unsigned long first = uptr & PAGE_MASK, last;
	int nr, got, i;

	if (len && !check_add_overflow((unsigned long)uptr, len - 1, &last) &&
	    (last >> PAGE_SHIFT) - (first >> PAGE_SHIFT) <
	    XCALL_WRITABLE_FAST_PAGES) {
		nr = (last >> PAGE_SHIFT) - (first >> PAGE_SHIFT) + 1;
		got = get_user_pages_fast_only(first, nr, FOLL_WRITE, pages);
		for (i = 0; i < got; i++)
			put_page(pages[i]);
		if (got == nr)
			return true;
	}
	return !fault_in_safe_writeable(u64_to_user_ptr(uptr), len);
}

/*
 * Copy in and check the CPU set of @c, make sure the results and @ncalled
 * (at @uncalled) can be written, and allocate the request with one slot per
 * CPU. Every user access that can fail is made here, before anything is
 * queued, and none writes: a refused call leaves the caller's memory as it
 * was. -errno, nothing kept.
 */
static struct xcall_req *xcall_req_new(struct xcall_file *xf,
				       const struct xcall_call *c, u64 uncalled)
{
	unsigned int nwords = c->cpuset_size / sizeof(u64);
	u64 stack_words[16], *words = stack_words;
	struct xcall_req *req;
	unsigned int n = 0, w, i = 0;
	int err;

	/* Sets of up to 1024 CPUs (every machine here) need no allocation. */
	if (c->cpuset_size > sizeof(stack_words)) {
		words = kmalloc(c->cpuset_size, GFP_KERNEL_ACCOUNT);
		if (!words)
			return ERR_PTR(-ENOMEM);
	}
	err = -EFAULT;
	if (words == stack_words) {
		/* Word by word: no usercopy object check on the hot path. */
		u64 __user *uw = u64_to_user_ptr(c->cpuset);

		for (w = 0; w < nwords; w++)
			if (get_user(words[w], &uw[w]))
				goto out_words;
	} else if (copy_from_user(words, u64_to_user_ptr(c->cpuset),
				  c->cpuset_size)) {
		goto out_words;
	}
	for (w = 0; w < nwords; w++)
		n += hweight64(words[w]);
	err = -EDESTADDRREQ;
	if (!n)
		goto out_words;
	err = -ENODEV;
	for (w = nr_cpu_ids / 64; w < nwords; w++) {
		u64 beyond = w == nr_cpu_ids / 64 ?
			     ~0ULL << (nr_cpu_ids % 64) : ~0ULL;

		if (words[w] & beyond)
			goto out_words;
	}
	err = -EMSGSIZE;
	if (!(c->flags & XCALL_CALL_NOWAIT) && c->nresults < n)
		goto out_words;
	err = -EFAULT;
	if (!xcall_writable(uncalled, sizeof(u32)))
		goto out_words;
	if (!(c->flags & XCALL_CALL_NOWAIT) &&
	    !xcall_writable(c->results, n * sizeof(struct xcall_result)))
		goto out_words;
	if ((c->flags & XCALL_CALL_TIMELINE) &&
	    !xcall_writable(c->timeline, n * sizeof(struct xcall_timeline)))
		goto out_words;

	err = -ENOMEM;
	req = xcall_req_alloc(n);
	if (!req)
		goto out_words;
	refcount_set(&req->ref, 1);
	refcount_inc(&xf->ref);
	req->xf = xf;
	req->nowait = c->flags & XCALL_CALL_NOWAIT;
	req->timeline = c->flags & XCALL_CALL_TIMELINE;
	req->utimeline = c->timeline;
	if (c->view) {
		req->view_as = true;
		req->view_nopid = c->view & XCALL_VIEW_NOPID;
		req->view_uid = make_kuid(xf->user_ns,
					  (uid_t)(c->view & XCALL_VIEW_UID));
		if (!uid_valid(req->view_uid))
			req->view_nopid = true;	/* no such user: no task */
	}
	init_completion(&req->done);
	req->fn = c->fn;
	req->nargs = c->nargs;
	memcpy(req->args, c->args, sizeof(req->args));
	req->timeout_ms = c->timeout_ms ?: XCALL_DEFAULT_TIMEOUT_MS;
	req->nslots = n;
	req->uresults = c->results;
	for (w = 0; w < nwords; w++) {
		u64 x = words[w];

		while (x) {
			struct xcall_slot *slot = &req->slots[i++];

			slot->req = req;
			slot->cpu = w * 64 + __ffs64(x);
			atomic_set(&slot->state, XS_QUEUED);
			x &= x - 1;
		}
	}
	this_cpu_inc(xcall_live);
	err = 0;
out_words:
	if (words != stack_words)
		kfree(words);
	return err ? ERR_PTR(err) : req;
}

/*
 * CPUs that isolcpus= or nohz_full= keep for their own work: only an
 * opener with CAP_SYS_ADMIN may interrupt them, as membarrier spares them.
 */
static bool xcall_cpu_isolated(unsigned int cpu)
{
	return !housekeeping_test_cpu(cpu, HK_TYPE_DOMAIN) ||
	       !housekeeping_test_cpu(cpu, HK_TYPE_TICK);
}

/*
 * The checks that need cpus_read_lock, in this order: every target online
 * (-ENXIO), none isolated from this opener (-EPERM), no spin already
 * queued or running on a target of a spin (-EBUSY), room for a NOWAIT call
 * in its file and on each target (-EAGAIN). Claims the spin and NOWAIT
 * places it checked; on failure, none.
 */
static int xcall_admit(struct xcall_req *req)
{
	unsigned int i, spun = 0, counted = 0;
	int ret = 0;

	for (i = 0; i < req->nslots; i++) {
		if (!cpu_online(req->slots[i].cpu))
			return -ENXIO;
		if (!req->xf->admin && xcall_cpu_isolated(req->slots[i].cpu))
			return -EPERM;
	}
	for (; req->fn == XCALL_FN_SPIN && spun < req->nslots; spun++) {
		if (atomic_cmpxchg(&xcall_pc(req->slots[spun].cpu)->spin, 0, 1)) {
			ret = -EBUSY;
			goto out;
		}
	}
	if (!req->nowait)
		return 0;
	ret = -EAGAIN;
	if (atomic_inc_return(&req->xf->nowait) > XCALL_MAX_NOWAIT_PER_FILE)
		goto out_file;
	for (; counted < req->nslots; counted++) {
		atomic_t *q = &xcall_pc(req->slots[counted].cpu)->nowait;

		if (atomic_inc_return(q) > XCALL_MAX_NOWAIT_PER_CPU) {
			atomic_dec(q);
			goto out_file;
		}
	}
	return 0;

out_file:
	atomic_dec(&req->xf->nowait);
out:
	while (counted--)
		atomic_dec(&xcall_pc(req->slots[counted].cpu)->nowait);
	while (spun--)
		atomic_set(&xcall_pc(req->slots[spun].cpu)->spin, 0);
	return ret;
}

/* xcall_submit() could not take the hotplug lock without sleeping. */
#define XCALL_WOULD_BLOCK	1

/*
 * Queue every slot and kick every target, or nothing at all (xcall_admit()
 * says why). With @trylock, XCALL_WOULD_BLOCK instead of waiting for a
 * CPU hotplug operation in progress. @hold (0 or 1) adds a reference and a
 * pending count for the submitter, which it gives back itself.
 */
static int xcall_submit(struct xcall_req *req, bool trylock, unsigned int hold)
{
	unsigned int i, self;
	int ret;

	if (trylock) {
		if (!cpus_read_trylock())
			return XCALL_WOULD_BLOCK;
	} else {
		cpus_read_lock();
	}
	ret = xcall_admit(req);
	if (ret) {
		cpus_read_unlock();
		return ret;
	}
	atomic_set(&req->pending, req->nslots + hold);
	refcount_add(req->nslots + hold, &req->ref);
	/*
	 * Kick the others first: a call to this CPU runs right here, inside
	 * smp_call_function_single_async(), and must not delay them.
	 */
	self = get_cpu();
	for (i = 0; i < req->nslots; i++)
		if (req->slots[i].cpu != self)
			xcall_enqueue(&req->slots[i]);
	for (i = 0; i < req->nslots; i++)
		if (req->slots[i].cpu == self)
			xcall_enqueue(&req->slots[i]);
	put_cpu();
	cpus_read_unlock();
	return 0;
}

/* ---------------------------------------------------------------------
 * The ioctls.
 */

static long xcall_ioctl_info(struct xcall_info __user *uinfo)
{
	struct xcall_info info;
	unsigned int fn;
	int cpu;
	u32 size;

	if (get_user(size, &uinfo->size))
		return -EFAULT;
	if (size != sizeof(info))
		return -EMSGSIZE;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.abi_version = XCALL_ABI_VERSION;
	info.nr_cpu_ids = nr_cpu_ids;
	info.nr_fns = XCALL_FN_COUNT;
	for (fn = 0; fn < XCALL_FN_COUNT; fn++)
		if (xcall_fn_implemented(fn))
			info.fn_mask |= 1ULL << fn;
	info.spin_max_us = XCALL_SPIN_MAX_US;
	info.default_timeout_ms = XCALL_DEFAULT_TIMEOUT_MS;
	for_each_possible_cpu(cpu)
		info.calls_run += READ_ONCE(per_cpu(xcall_calls_run, cpu));
	info.nowait_per_file = XCALL_MAX_NOWAIT_PER_FILE;
	info.nowait_per_cpu = XCALL_MAX_NOWAIT_PER_CPU;
	info.features = XCALL_FEAT_TIMELINE;
	if (copy_to_user(uinfo, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

/*
 * Answers from other CPUs take microseconds: wait for them spinning, as
 * smp_call_function_single() does, for up to poll_us, and only then sleep.
 * Saves the sleep and the wakeup (another IPI) on every call.
 */
static bool xcall_poll(struct xcall_req *req)
{
	u64 end;

	/* A call to this CPU alone has run already: no clock to read. */
	if (!atomic_read(&req->pending))
		return true;
	end = local_clock() + (u64)READ_ONCE(poll_us) * NSEC_PER_USEC;
	while (atomic_read(&req->pending)) {
		if (need_resched() || local_clock() > end)
			return false;
		cpu_relax();
	}
	return true;
}

/*
 * Wait for every answer, the timeout or a fatal signal: XW_*. Handlers
 * only complete() a caller that said it sleeps.
 */
static u8 xcall_wait(struct xcall_req *req)
{
	long left;

	if (xcall_poll(req))
		return XW_DONE;
	WRITE_ONCE(req->sleeping, true);
	smp_mb();	/* pairs with atomic_dec_and_test() in slot_run */
	if (!atomic_read(&req->pending))
		return XW_DONE;
	left = wait_for_completion_killable_timeout(&req->done,
			msecs_to_jiffies(req->timeout_ms));
	return left > 0 ? XW_DONE : left < 0 ? XW_SIGNAL : XW_TIMEOUT;
}

static long xcall_ioctl_call(struct file *file, struct xcall_call __user *ucall)
{
	struct xcall_file *xf = file->private_data;
	struct xcall_call c;
	struct xcall_req *req;
	u32 t0_cpu = 0;
	u64 t0 = 0;
	u8 why;
	int ret;

	if (copy_from_user(&c, ucall, sizeof(c)))
		return -EFAULT;
	/* No counter read at all for a call without a timeline. */
	if (c.flags & XCALL_CALL_TIMELINE)
		xcall_stamp(&t0, &t0_cpu);
	ret = xcall_check_call(xf, &c);
	if (ret)
		return ret;
	req = xcall_req_new(xf, &c, (u64)(uintptr_t)&ucall->ncalled);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->tl_submitted = t0;
	req->tl_submitted_cpu = t0_cpu;
	ret = xcall_submit(req, false, 0);
	if (ret)
		goto out_put;
	if (req->nowait) {
		ret = req->nslots;
	} else {
		why = xcall_wait(req);
		ret = xcall_copy_results(req, c.results, why);
		if (why == XW_SIGNAL)
			ret = -EINTR;
	}
	if (ret >= 0 && put_user(ret, &ucall->ncalled))
		ret = -EFAULT;
out_put:
	xcall_req_put(req);
	return ret < 0 ? ret : 0;
}

/*
 * XCALL_IOC_CANCEL: settle the calls of @file's commands carrying @call
 * that have not started, as a timeout does: the same claim of a slot
 * (QUEUED -> ABANDONED) as xcall_slot_result(), against the handler's
 * (QUEUED -> RUNNING) in xcall_slot_run(), so exactly one wins and an
 * abandoned slot's function is skipped. A command on @xf->cmds is alive:
 * its task work takes it off under the lock before it lets go.
 */
static long xcall_ioctl_cancel(struct file *file,
			       struct xcall_cancel __user *ucancel)
{
	struct xcall_file *xf = file->private_data;
	struct xcall_cancel a;
	struct xcall_req *req;
	bool found = false;
	unsigned int i, n;
	long total = 0;

	if (copy_from_user(&a, ucancel, sizeof(a)))
		return -EFAULT;
	if (a.size != sizeof(a))
		return -EMSGSIZE;
	if (a.flags || a.reserved[0] || a.reserved[1])
		return -EINVAL;
	spin_lock(&xf->lock);
	list_for_each_entry(req, &xf->cmds, file_node) {
		if (req->ucall != a.call)
			continue;
		found = true;
		for (n = 0, i = 0; i < req->nslots; i++)
			n += atomic_cmpxchg(&req->slots[i].state, XS_QUEUED,
					    XS_ABANDONED) == XS_QUEUED;
		/* Abandoned slots answer only when their CPU gets there. */
		if (n)
			xcall_uring_finish(req, XW_CANCEL);
		total += n;
	}
	spin_unlock(&xf->lock);
	return found ? total : -ENOENT;
}

static long xcall_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case XCALL_IOC_INFO:
		return xcall_ioctl_info(uarg);
	case XCALL_IOC_CALL:
		return xcall_ioctl_call(file, uarg);
	case XCALL_IOC_CANCEL:
		return xcall_ioctl_cancel(file, uarg);
	default:
		return -ENOTTY;
	}
}

/* ---------------------------------------------------------------------
 * io_uring: IORING_OP_URING_CMD, cmd_op XCALL_IOC_CALL, on an SQE128 ring.
 *
 * Every result, success or error, is posted with io_uring_cmd_done() and
 * ->uring_cmd returns -EIOCBQUEUED: 6.1 drops a positive return value on
 * its io-wq path and fails the links of one. The only other return is
 * -EAGAIN, from a non-blocking issue during a CPU hotplug, which io_uring
 * retries from a worker that may block.
 */

static struct xcall_req **xcall_uring_pdu(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct xcall_req *) > sizeof(ioucmd->pdu));
	return (struct xcall_req **)ioucmd->pdu;
}

/* Task context of the submitter: results to user memory, then the CQE. */
static XCALL_URING_TW(xcall_uring_tw)
{
	struct xcall_req *req = *xcall_uring_pdu(ioucmd);
	struct xcall_call __user *ucall = u64_to_user_ptr(req->ucall);
	struct xcall_file *xf = req->xf;
	int ret;

	/* XCALL_IOC_CANCEL finds it no more: it is settled here. */
	spin_lock(&xf->lock);
	list_del_init(&req->file_node);
	spin_unlock(&xf->lock);
	hrtimer_cancel(&req->timer);
	if (xcall_uring_task_dead(issue_flags)) {
		/* No user memory to write to: settle the slots, say so. */
		xcall_copy_results(req, 0, XW_CANCEL);
		ret = -ECANCELED;
	} else {
		ret = xcall_copy_results(req, req->uresults, req->why);
		if (ret >= 0 && put_user(ret, &ucall->ncalled))
			ret = -EFAULT;
		if (ret >= 0 && req->why == XW_CANCEL)
			ret = -ECANCELED;
	}
	xcall_req_put(req);
	xcall_uring_done(ioucmd, ret, issue_flags);
}

static void xcall_uring_hand_over(struct xcall_req *req)
{
	xcall_uring_complete_in_task(req->ioucmd, xcall_uring_tw);
}

/*
 * Every slot answered, the timeout fired, or io_uring cancels: whichever
 * comes first hands the request to the submitter's task.
 */
static void xcall_uring_finish(struct xcall_req *req, u8 why)
{
	if (atomic_xchg(&req->finished, 1))
		return;
	req->why = why;
	if (IS_ENABLED(CONFIG_PREEMPT_RT) && xcall_atomic())
		xcall_defer(&req->finish_node, &xcall_to_finish);
	else
		xcall_uring_hand_over(req);
}

static enum hrtimer_restart xcall_uring_timeout(struct hrtimer *t)
{
	xcall_uring_finish(container_of(t, struct xcall_req, timer),
			   XW_TIMEOUT);
	return HRTIMER_NORESTART;
}

/* The checks and the submission; 0 queued, XCALL_WOULD_BLOCK, -errno. */
static int xcall_uring_issue(struct io_uring_cmd *ioucmd,
			     unsigned int issue_flags)
{
	struct xcall_file *xf = ioucmd->file->private_data;
	struct xcall_uring_cmd uc;
	struct xcall_call __user *ucall;
	struct xcall_call c;
	struct xcall_req *req;
	unsigned int i;
	u32 t0_cpu = 0;
	u64 t0 = 0;
	int ret;

	if (ioucmd->cmd_op != XCALL_IOC_CALL)
		return -ENOTTY;
	if (!(issue_flags & IO_URING_F_SQE128))
		return -EINVAL;
	/* The command area may be shared with userspace: read it once. */
	memcpy(&uc, xcall_uring_cmd_area(ioucmd), sizeof(uc));
	for (i = 0; i < ARRAY_SIZE(uc.reserved); i++)
		if (uc.reserved[i])
			return -EINVAL;
	ucall = u64_to_user_ptr(uc.call);
	if (copy_from_user(&c, ucall, sizeof(c)))
		return -EFAULT;
	if (c.flags & XCALL_CALL_TIMELINE)
		xcall_stamp(&t0, &t0_cpu);
	ret = xcall_check_call(xf, &c);
	if (ret)
		return ret;
	req = xcall_req_new(xf, &c, (u64)(uintptr_t)&ucall->ncalled);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->tl_submitted = t0;
	req->tl_submitted_cpu = t0_cpu;
	INIT_LIST_HEAD(&req->file_node);

	if (req->nowait) {
		ret = xcall_submit(req, issue_flags & IO_URING_F_NONBLOCK, 0);
		if (!ret && put_user(req->nslots, &ucall->ncalled))
			ret = -EFAULT;
		else if (!ret)
			xcall_uring_done(ioucmd, req->nslots, issue_flags);
		xcall_req_put(req);
		return ret;
	}

	req->ioucmd = ioucmd;
	req->ucall = uc.call;
	*xcall_uring_pdu(ioucmd) = req;
	xcall_hrtimer_setup(&req->timer, xcall_uring_timeout,
			    HRTIMER_MODE_REL_SOFT);
	/*
	 * Hold a pending count of our own: the completion (and with it the
	 * task work that frees the request, perhaps on another CPU when this
	 * is an io-wq worker) cannot start before the timer is armed.
	 */
	ret = xcall_submit(req, issue_flags & IO_URING_F_NONBLOCK, 1);
	if (ret) {
		xcall_req_put(req);
		return ret;
	}
	xcall_uring_mark_cancelable(ioucmd, issue_flags);
	hrtimer_start(&req->timer, ms_to_ktime(req->timeout_ms),
		      HRTIMER_MODE_REL_SOFT);
	/*
	 * Cancellable only now that the timer is armed (the task work
	 * cancels it), and only if not finished already: then the task work
	 * may have run (from an io-wq issue), and it never looks again.
	 * Under the lock, the task work's removal comes after this, or the
	 * finish it follows came before this looks.
	 */
	spin_lock(&xf->lock);
	if (!atomic_read(&req->finished))
		list_add_tail(&req->file_node, &xf->cmds);
	spin_unlock(&xf->lock);
	if (atomic_dec_and_test(&req->pending))
		xcall_uring_finish(req, XW_DONE);
	xcall_req_put(req);
	return 0;
}

static int xcall_uring_cmd(struct io_uring_cmd *ioucmd,
			   unsigned int issue_flags)
{
	int ret;

	/* Ring or task exit (6.7 and later): answer now, not at the timeout. */
	if (xcall_uring_cancel_call(issue_flags)) {
		xcall_uring_finish(*xcall_uring_pdu(ioucmd), XW_CANCEL);
		return 0;
	}
	ret = xcall_uring_issue(ioucmd, issue_flags);
	if (ret == XCALL_WOULD_BLOCK)
		return -EAGAIN;
	if (ret < 0)
		xcall_uring_done(ioucmd, ret, issue_flags);
	return -EIOCBQUEUED;
}

/* ---------------------------------------------------------------------
 * The device.
 */

static int xcall_open(struct inode *inode, struct file *file)
{
	struct xcall_file *xf;

	xf = kzalloc(sizeof(*xf), GFP_KERNEL_ACCOUNT);
	if (!xf)
		return -ENOMEM;
	refcount_set(&xf->ref, 1);
	spin_lock_init(&xf->lock);
	INIT_LIST_HEAD(&xf->cmds);
	xf->admin = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
	xf->sees_all = xf->admin || perfmon_capable();
	xf->uid = file->f_cred->uid;
	xf->user_ns = get_user_ns(file->f_cred->user_ns);
	xf->pid_ns = get_pid_ns(task_active_pid_ns(current));
	file->private_data = xf;
	return nonseekable_open(inode, file);
}

/* NOWAIT calls outlive the file: each holds its own reference. */
static int xcall_release(struct inode *inode, struct file *file)
{
	xcall_file_put(file->private_data);
	return 0;
}

static const struct file_operations xcall_fops = {
	.owner		= THIS_MODULE,
	.open		= xcall_open,
	.release	= xcall_release,
	.unlocked_ioctl	= xcall_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= xcall_uring_cmd,
};

static struct miscdevice xcall_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "xcall",
	.fops	= &xcall_fops,
	.mode	= 0600,
};

/* ---------------------------------------------------------------------
 * CPU hotplug and module life.
 */

/*
 * On the dying CPU, in task context, before it stops taking calls. New
 * calls cannot be queued meanwhile (they hold cpus_read_lock); the rekick
 * timer is stopped before it could migrate, and what is still queued
 * fails. A csd still in flight runs its handler on an empty queue,
 * harmlessly.
 */
static int xcall_cpu_down(unsigned int cpu)
{
	struct xcall_pcpu *pc = xcall_pc(cpu);

	hrtimer_cancel(&pc->rekick);
	local_irq_disable();
	pc->resume_ns = 0;
	xcall_fail_all(pc, -ENXIO);
	local_irq_enable();
	return 0;
}

static void xcall_nop(void *info)
{
}

static int __init xcall_init(void)
{
	unsigned int cpu;
	int ret;

	for_each_possible_cpu(cpu) {
		struct xcall_pcpu *pc = xcall_pc(cpu);

		init_llist_head(&pc->queue);
		INIT_CSD(&pc->csd, xcall_ipi, pc);
		xcall_hrtimer_setup(&pc->rekick, xcall_rekick,
				    HRTIMER_MODE_REL_PINNED_HARD);
	}
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "xcall:online",
					NULL, xcall_cpu_down);
	if (ret < 0)
		return ret;
	xcall_hp_state = ret;
	ret = misc_register(&xcall_misc);
	if (ret)
		goto out_hp;
	return 0;

out_hp:
	cpuhp_remove_state_nocalls(xcall_hp_state);
	return ret;
}

static void __exit xcall_exit(void)
{
	unsigned int cpu;

	misc_deregister(&xcall_misc);
	/*
	 * NOWAIT requests may still be queued: let their handlers finish
	 * (XCALL_MAX_NOWAIT_PER_CPU calls a CPU at most). Polled, so that the
	 * hot path never has to wake anyone.
	 */
	while (xcall_live_sum())
		msleep(20);
	/* The last deferred free may still be returning. */
	flush_work(&xcall_deferred_work);
	/*
	 * A handler may still be returning, or a csd still be queued whose
	 * handler finds nothing. The first round of IPIs waits out handlers
	 * running now; the second, csds queued behind the first round's.
	 */
	on_each_cpu(xcall_nop, NULL, 1);
	on_each_cpu(xcall_nop, NULL, 1);
	for_each_possible_cpu(cpu) {
		hrtimer_cancel(&xcall_pc(cpu)->rekick);
		kfree(per_cpu(xcall_spare, cpu));
	}
	cpuhp_remove_state_nocalls(xcall_hp_state);
}

module_init(xcall_init);
module_exit(xcall_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("xcall authors");
MODULE_DESCRIPTION("Run precompiled functions on chosen CPUs through IPIs");
MODULE_VERSION(XCALL_VERSION);	/* kmod/Kbuild: from VERSION */
