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
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <asm/irq_regs.h>
#include <asm/timex.h>
#if defined(CONFIG_X86)
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

struct xcall_req;

/* One target CPU of a request. */
struct xcall_slot {
	struct llist_node node;		/* on the target's queue */
	struct xcall_req *req;
	unsigned int cpu;
	atomic_t state;			/* XS_* */
	struct xcall_result res;	/* valid once state is XS_DONE */
};

struct xcall_req {
	refcount_t ref;			/* owner + one per queued slot */
	atomic_t pending;		/* slots the handlers still owe */
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
	u64 ucall;			/* user struct xcall_call */
	u64 uresults;
	/* PREEMPT_RT: on xcall_to_finish / xcall_to_free (xcall_defer()) */
	struct llist_node finish_node;
	struct llist_node free_node;
	struct xcall_slot slots[];
};

struct xcall_pcpu {
	struct llist_head queue;	/* pending slots, newest first */
	call_single_data_t csd;		/* kicks this CPU */
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

/* What this CPU was doing when the call arrived. */
static struct pt_regs *xcall_ctx(struct xcall_result *r)
{
	struct task_struct *t = current;
	struct pt_regs *regs = xcall_irq_regs();

	if (is_idle_task(t))
		r->ctx = XCALL_CTX_IDLE;
	else if (regs && user_mode(regs))
		r->ctx = XCALL_CTX_USER;
	else
		r->ctx = XCALL_CTX_KERNEL;
	r->pid = task_pid_nr(t);
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
	xcall_ctx(r);
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
	struct pt_regs *regs = xcall_ctx(r);
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
 * Requests: lifetime, running a slot, completion.
 */

/* ---------------------------------------------------------------------
 * PREEMPT_RT: what a handler may not do itself.
 */

static LLIST_HEAD(xcall_to_finish);	/* io_uring completions to hand over */
static LLIST_HEAD(xcall_to_free);
static void xcall_deferred(struct work_struct *work);
static DECLARE_WORK(xcall_deferred_work, xcall_deferred);

/*
 * Must @what wait for a work item? Only on PREEMPT_RT, and only where
 * sleeping locks are forbidden: a handler (hard IRQ), or a call to the
 * caller's own CPU, run with interrupts off.
 */
static bool xcall_must_defer(void)
{
	return IS_ENABLED(CONFIG_PREEMPT_RT) && !preemptible();
}

/*
 * Queue @node on @list for the work item. queue_work() is allowed in hard
 * IRQ context on PREEMPT_RT (the pool lock is a raw spinlock); the work
 * runs at least once after the last add, whatever it is doing now.
 */
static void xcall_defer(struct llist_node *node, struct llist_head *list)
{
	llist_add(node, list);
	queue_work(system_wq, &xcall_deferred_work);
}

static void xcall_req_free(struct xcall_req *req)
{
	kfree(req);
	this_cpu_dec(xcall_live);
}

static void xcall_req_put(struct xcall_req *req)
{
	if (!refcount_dec_and_test(&req->ref))
		return;
	if (req->spare && !this_cpu_cmpxchg(xcall_spare, NULL, req)) {
		this_cpu_dec(xcall_live);
		return;
	}
	if (xcall_must_defer())
		xcall_defer(&req->free_node, &xcall_to_free);
	else
		xcall_req_free(req);
}

static void xcall_uring_finish(struct xcall_req *req);

/*
 * Run @slot here (or fail it with @err) unless its caller gave up, then
 * drop the slot's hold on the request. Interrupts are off.
 */
static void xcall_slot_run(struct xcall_slot *slot, int err)
{
	struct xcall_req *req = slot->req;
	struct xcall_result *r = &slot->res;

	if (atomic_cmpxchg(&slot->state, XS_QUEUED, XS_RUNNING) == XS_QUEUED) {
		r->fn = req->fn;
		if (err) {
			r->cpu = slot->cpu;
			r->error = err;
		} else {
			r->cpu = smp_processor_id();
			r->cycles = get_cycles();
			r->mono_ns = ktime_get_ns();
			xcall_fns[req->fn](req, r);
		}
		r->node = cpu_to_node(r->cpu);
		atomic_set_release(&slot->state, XS_DONE);
	}
	if (atomic_dec_and_test(&req->pending)) {
		/* Full barrier above; pairs with the one in xcall_wait(). */
		if (req->ioucmd)
			xcall_uring_finish(req);
		else if (READ_ONCE(req->sleeping))
			complete(&req->done);
	}
	xcall_req_put(req);
}

/* Take everything queued on @pc and run it (err 0) or fail it, in order. */
static void xcall_drain(struct xcall_pcpu *pc, int err)
{
	struct llist_node *list = llist_del_all(&pc->queue);
	struct xcall_slot *slot, *tmp;

	list = llist_reverse_order(list);	/* oldest first */
	llist_for_each_entry_safe(slot, tmp, list, node)
		xcall_slot_run(slot, err);
}

/* The csd handler: IPI context on the target CPU. */
static void xcall_ipi(void *info)
{
	xcall_drain(info, 0);
}

/* Called with cpus_read_lock held and @slot->cpu online. */
static void xcall_enqueue(struct xcall_slot *slot)
{
	struct xcall_pcpu *pc = per_cpu_ptr(&xcall_pcpu, slot->cpu);
	int err;

	if (!llist_add(&slot->node, &pc->queue))
		return;	/* not empty before: a kick is on its way */
	err = smp_call_function_single_async(slot->cpu, &pc->csd);
	/*
	 * -EBUSY: the previous kick's csd has not run yet; when it does, its
	 * handler drains this slot too. Anything else means the CPU is gone.
	 */
	if (err && err != -EBUSY)
		xcall_drain(pc, -ENXIO);
}

/* What the caller reports for @slot: its record, or why there is none. */
static const struct xcall_result *xcall_slot_result(struct xcall_slot *slot,
						     struct xcall_result *tmp)
{
	if (atomic_read_acquire(&slot->state) == XS_DONE)
		return &slot->res;
	atomic_cmpxchg(&slot->state, XS_QUEUED, XS_ABANDONED);
	memset(tmp, 0, sizeof(*tmp));
	tmp->cpu = slot->cpu;
	tmp->fn = slot->req->fn;
	tmp->node = cpu_to_node(slot->cpu);
	tmp->error = -ETIMEDOUT;
	pr_notice_ratelimited("cpu %u did not answer within %u ms\n",
			      slot->cpu, slot->req->timeout_ms);
	return tmp;
}

/* Copy every slot's record to @uresults; the number written or -EFAULT. */
static int xcall_copy_results(struct xcall_req *req, u64 uresults)
{
	struct xcall_result __user *ures = u64_to_user_ptr(uresults);
	struct xcall_result tmp;
	unsigned int i;

	for (i = 0; i < req->nslots; i++) {
		const struct xcall_result *r;

		r = xcall_slot_result(&req->slots[i], &tmp);
		if (copy_to_user(&ures[i], r, sizeof(*r)))
			return -EFAULT;
	}
	return req->nslots;
}

/* ---------------------------------------------------------------------
 * Validation: everything is checked before anything is queued.
 */

static int xcall_check_call(struct file *file, const struct xcall_call *c)
{
	const struct xcall_fn_desc *d;
	unsigned int i;

	if (c->size != sizeof(*c))
		return -EMSGSIZE;
	if (c->reserved[0] || c->reserved[1] || (c->flags & ~XCALL_CALL_FLAGS))
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
	if (d->priv == XCALL_PRIV_ADMIN &&
	    !file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	if (c->timeout_ms > XCALL_MAX_TIMEOUT_MS)
		return -ERANGE;
	if (c->fn == XCALL_FN_SPIN && c->args[0] > XCALL_SPIN_MAX_US)
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

/* A zeroed request for @n targets: this CPU's spare, or a new one. */
static struct xcall_req *xcall_req_alloc(unsigned int n)
{
	struct xcall_req *req;

	if (n > XCALL_SPARE_SLOTS)
		return kzalloc(struct_size(req, slots, n),
			       GFP_KERNEL | __GFP_NOWARN);
	req = this_cpu_xchg(xcall_spare, NULL);
	if (req)
		memset(req, 0, struct_size(req, slots, n));
	else
		req = kzalloc(struct_size(req, slots, XCALL_SPARE_SLOTS),
			      GFP_KERNEL);
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

/*
 * Copy in and check the CPU set of @c, allocate the request with one slot
 * per CPU, and make sure the results can be written. -errno, nothing kept.
 */
static struct xcall_req *xcall_req_new(const struct xcall_call *c)
{
	unsigned int nwords = c->cpuset_size / sizeof(u64);
	u64 stack_words[16], *words = stack_words;
	struct xcall_req *req;
	unsigned int n = 0, w, i = 0;
	int err;

	/* Sets of up to 1024 CPUs (every machine here) need no allocation. */
	if (c->cpuset_size > sizeof(stack_words)) {
		words = kmalloc(c->cpuset_size, GFP_KERNEL);
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
	if (!(c->flags & XCALL_CALL_NOWAIT) &&
	    clear_user(u64_to_user_ptr(c->results),
		       (size_t)n * sizeof(struct xcall_result)))
		goto out_words;

	err = -ENOMEM;
	req = xcall_req_alloc(n);
	if (!req)
		goto out_words;
	refcount_set(&req->ref, 1);
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
 * Queue every slot and kick every target, or nothing at all (-ENXIO when a
 * CPU is offline). With @trylock, -EAGAIN instead of waiting for a CPU
 * hotplug operation in progress. @hold (0 or 1) adds a reference and a
 * pending count for the submitter, which it gives back itself.
 */
static int xcall_submit(struct xcall_req *req, bool trylock, unsigned int hold)
{
	unsigned int i, self;

	if (trylock) {
		if (!cpus_read_trylock())
			return -EAGAIN;
	} else {
		cpus_read_lock();
	}
	for (i = 0; i < req->nslots; i++) {
		if (!cpu_online(req->slots[i].cpu)) {
			cpus_read_unlock();
			return -ENXIO;
		}
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
	u64 end = local_clock() + (u64)READ_ONCE(poll_us) * NSEC_PER_USEC;

	while (atomic_read(&req->pending)) {
		if (need_resched() || local_clock() > end)
			return false;
		cpu_relax();
	}
	return true;
}

/*
 * Wait for every answer or the timeout: > 0 answered, 0 timed out, < 0 a
 * fatal signal. Handlers only complete() a caller that said it sleeps.
 */
static long xcall_wait(struct xcall_req *req)
{
	if (xcall_poll(req))
		return 1;
	WRITE_ONCE(req->sleeping, true);
	smp_mb();	/* pairs with atomic_dec_and_test() in slot_run */
	if (!atomic_read(&req->pending))
		return 1;
	return wait_for_completion_killable_timeout(&req->done,
			msecs_to_jiffies(req->timeout_ms));
}

static long xcall_ioctl_call(struct file *file, struct xcall_call __user *ucall)
{
	struct xcall_call c;
	struct xcall_req *req;
	long left;
	int ret;

	if (copy_from_user(&c, ucall, sizeof(c)))
		return -EFAULT;
	ret = xcall_check_call(file, &c);
	if (ret)
		return ret;
	req = xcall_req_new(&c);
	if (IS_ERR(req))
		return PTR_ERR(req);
	ret = xcall_submit(req, false, 0);
	if (ret)
		goto out_put;
	if (c.flags & XCALL_CALL_NOWAIT) {
		ret = req->nslots;
	} else {
		left = xcall_wait(req);
		ret = xcall_copy_results(req, c.results);
		if (left < 0)
			ret = -EINTR;
	}
	if (ret >= 0 && put_user(ret, &ucall->ncalled))
		ret = -EFAULT;
out_put:
	xcall_req_put(req);
	return ret < 0 ? ret : 0;
}

static long xcall_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case XCALL_IOC_INFO:
		return xcall_ioctl_info(uarg);
	case XCALL_IOC_CALL:
		return xcall_ioctl_call(file, uarg);
	default:
		return -ENOTTY;
	}
}

/* ---------------------------------------------------------------------
 * io_uring: IORING_OP_URING_CMD, cmd_op XCALL_IOC_CALL, on an SQE128 ring.
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
	int ret;

	hrtimer_cancel(&req->timer);
	ret = xcall_copy_results(req, req->uresults);
	if (ret >= 0 && put_user(ret, &ucall->ncalled))
		ret = -EFAULT;
	xcall_req_put(req);
	xcall_uring_done(ioucmd, ret, issue_flags);
}

static void xcall_uring_hand_over(struct xcall_req *req)
{
	xcall_uring_complete_in_task(req->ioucmd, xcall_uring_tw);
}

/* All slots answered, or the timeout fired: whichever comes first. */
static void xcall_uring_finish(struct xcall_req *req)
{
	if (atomic_xchg(&req->finished, 1))
		return;
	if (xcall_must_defer())
		xcall_defer(&req->finish_node, &xcall_to_finish);
	else
		xcall_uring_hand_over(req);
}

/* The work item of xcall_defer(): process context, sleeping locks allowed. */
static void xcall_deferred(struct work_struct *work)
{
	struct xcall_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, llist_del_all(&xcall_to_finish),
				  finish_node)
		xcall_uring_hand_over(req);
	llist_for_each_entry_safe(req, tmp, llist_del_all(&xcall_to_free),
				  free_node)
		xcall_req_free(req);
}

static enum hrtimer_restart xcall_uring_timeout(struct hrtimer *t)
{
	xcall_uring_finish(container_of(t, struct xcall_req, timer));
	return HRTIMER_NORESTART;
}

static int xcall_uring_cmd(struct io_uring_cmd *ioucmd,
			   unsigned int issue_flags)
{
	struct xcall_uring_cmd uc;
	struct xcall_call c;
	struct xcall_req *req;
	unsigned int i;
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
	if (copy_from_user(&c, u64_to_user_ptr(uc.call), sizeof(c)))
		return -EFAULT;
	ret = xcall_check_call(ioucmd->file, &c);
	if (ret)
		return ret;
	req = xcall_req_new(&c);
	if (IS_ERR(req))
		return PTR_ERR(req);

	if (c.flags & XCALL_CALL_NOWAIT) {
		ret = xcall_submit(req, issue_flags & IO_URING_F_NONBLOCK, 0);
		if (!ret)
			ret = req->nslots;
		if (ret >= 0 && put_user(ret, &((struct xcall_call __user *)
				u64_to_user_ptr(uc.call))->ncalled))
			ret = -EFAULT;
		xcall_req_put(req);
		return ret;
	}

	req->ioucmd = ioucmd;
	req->ucall = uc.call;
	*xcall_uring_pdu(ioucmd) = req;
	xcall_hrtimer_setup(&req->timer, xcall_uring_timeout);
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
	hrtimer_start(&req->timer, ms_to_ktime(req->timeout_ms),
		      HRTIMER_MODE_REL_SOFT);
	if (atomic_dec_and_test(&req->pending))
		xcall_uring_finish(req);
	xcall_req_put(req);
	return -EIOCBQUEUED;
}

static const struct file_operations xcall_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
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
 * On the dying CPU, before it stops taking calls. New calls cannot be queued
 * meanwhile (they hold cpus_read_lock); what is still queued fails. A csd
 * still in flight runs its handler on an empty queue, harmlessly.
 */
static int xcall_cpu_down(unsigned int cpu)
{
	xcall_drain(per_cpu_ptr(&xcall_pcpu, cpu), -ENXIO);
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
		struct xcall_pcpu *pc = per_cpu_ptr(&xcall_pcpu, cpu);

		init_llist_head(&pc->queue);
		INIT_CSD(&pc->csd, xcall_ipi, pc);
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
	 * (at most XCALL_SPIN_MAX_US each). Polled, so that the hot path
	 * never has to wake anyone.
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
	for_each_possible_cpu(cpu)
		kfree(per_cpu(xcall_spare, cpu));
	cpuhp_remove_state_nocalls(xcall_hp_state);
}

module_init(xcall_init);
module_exit(xcall_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("xcall authors");
MODULE_DESCRIPTION("Run precompiled functions on chosen CPUs through IPIs");
MODULE_VERSION("0.1.0");
