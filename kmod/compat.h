/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcall.ko: the one place for kernel API differences between the kernel
 * lines the module is built against (Debian 12's 6.1 and bookworm-backports'
 * 6.12). Everything else in the module is written against the helpers here.
 *
 *   io_uring command API   <linux/io_uring.h> (6.1) vs <linux/io_uring/cmd.h>
 *   SQE command area       ioucmd->cmd (6.1) vs io_uring_sqe_cmd(ioucmd->sqe)
 *   io_uring_cmd_done()    (cmd, ret, res2, issue_flags): ssize_t res2 in 6.1,
 *                          u64 res2 in 6.12; called with res2 = 0 here
 *   task-work callback     void (*)(struct io_uring_cmd *, unsigned int)
 *   cancelable commands    io_uring_cmd_mark_cancelable(), IO_URING_F_CANCEL
 *                          (>= 6.7); none in 6.1: a command waits out its
 *                          timeout when its ring or task exits
 *   IO_URING_F_TASK_DEAD   task work run for an exiting task (>= 6.10)
 *   hrtimer set-up         hrtimer_init() + .function (hrtimer_setup() >= 6.13)
 *
 * The version thresholds follow upstream; only 6.1 and 6.12 are built and
 * tested here (make check-vm).
 */
#ifndef XCALL_COMPAT_H
#define XCALL_COMPAT_H

#include <linux/version.h>
#include <linux/hrtimer.h>
#include <linux/sched.h>

/* sparse has no __has_include: it goes by the version (cmd.h since 6.7). */
#if defined(__has_include)
#if __has_include(<linux/io_uring/cmd.h>)
#define XCALL_HAVE_IO_URING_CMD_H
#endif
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define XCALL_HAVE_IO_URING_CMD_H
#endif

#ifdef XCALL_HAVE_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#error "xcall: this kernel's io_uring task-work API is not in compat.h yet"
#endif

/* The 80-byte command area of an SQE128 entry. */
static inline const void *
xcall_uring_cmd_area(const struct io_uring_cmd *ioucmd)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return io_uring_sqe_cmd(ioucmd->sqe);
#else
	return ioucmd->cmd;
#endif
}

/* Declares a task-work callback for xcall_uring_complete_in_task(). */
#define XCALL_URING_TW(name) \
	void name(struct io_uring_cmd *ioucmd, unsigned int issue_flags)

typedef XCALL_URING_TW((*xcall_uring_tw_fn));

static inline void xcall_uring_complete_in_task(struct io_uring_cmd *ioucmd,
						xcall_uring_tw_fn fn)
{
	io_uring_cmd_complete_in_task(ioucmd, fn);
}

/* Post the CQE; @issue_flags as handed to the task-work callback. */
static inline void xcall_uring_done(struct io_uring_cmd *ioucmd, int ret,
				    unsigned int issue_flags)
{
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
}

/* Let ring and task exit cancel @ioucmd (->uring_cmd, IO_URING_F_CANCEL). */
static inline void xcall_uring_mark_cancelable(struct io_uring_cmd *ioucmd,
					       unsigned int issue_flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	io_uring_cmd_mark_cancelable(ioucmd, issue_flags);
#endif
}

/* Is this ->uring_cmd call io_uring cancelling a command issued before? */
static inline bool xcall_uring_cancel_call(unsigned int issue_flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return issue_flags & IO_URING_F_CANCEL;
#else
	return false;
#endif
}

/* Does task work run for a task that is exiting (no user memory)? */
static inline bool xcall_uring_task_dead(unsigned int issue_flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	return issue_flags & IO_URING_F_TASK_DEAD;
#else
	return current->flags & PF_EXITING;
#endif
}

static inline void xcall_hrtimer_setup(struct hrtimer *t,
		enum hrtimer_restart (*fn)(struct hrtimer *),
		enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(t, fn, CLOCK_MONOTONIC, mode);
#else
	hrtimer_init(t, CLOCK_MONOTONIC, mode);
	t->function = fn;
#endif
}

#endif /* XCALL_COMPAT_H */
