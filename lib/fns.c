// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The functions of the catalogue as they run in user space, on a thread
 * pinned to the target CPU: the threads backend's workers and xcalld's own
 * workers call __xcall_fn_exec(). Records are the module's struct
 * xcall_result, filled the same way, so no caller can tell which ran.
 * Architecture-specific reads are in arch.c.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "arch.h"
#include "backend.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Argument @i of @req, or its documented default when omitted. */
static uint64_t req_arg(const struct xcall_req *req, unsigned int i)
{
	const struct xcall_fn_info *fi = xcall_fn_by_id(req->fn);

	if (i < req->nargs)
		return req->args[i];
	return fi && fi->args && i < fi->max_args ? fi->args[i].dflt : 0;
}

static void spin(struct xcall_result *res, uint64_t us)
{
	uint64_t start = mono_ns(), now;

	do {
		now = mono_ns();
	} while (now - start < us * 1000);
	res->val[0] = now - start;
	res->val[1] = us;
}

/**
 * __xcall_fn_exec() - run one function on the calling, pinned, thread
 * @req: validated request (xcall_run() checked id, argument count, range)
 * @cpu: the CPU the caller pinned this thread to
 * @res: the record to fill
 *
 * If the thread is not on @cpu (its CPU went offline and the kernel moved
 * it), the record says -ENXIO, as the module does for a CPU that went
 * offline before it ran the call.
 */
void __xcall_fn_exec(const struct xcall_req *req, int cpu,
		     struct xcall_result *res)
{
	unsigned int ran_on, node;
	int n;

	memset(res, 0, sizeof(*res));
	res->cpu = cpu;
	res->fn = req->fn;
	res->ctx = XCALL_CTX_NONE;
	/*
	 * The CPU and its node from the kernel, as the module's
	 * cpu_to_node(): no walk of every node's CPUs in sysfs for one call.
	 */
	if (getcpu(&ran_on, &node)) {
		n = sched_getcpu();
		ran_on = n;
		n = n < 0 ? n : xcall_cpu_node(n);
		node = n < 0 ? 0 : n;
	}
	if (ran_on != (unsigned int)cpu) {
		res->error = -ENXIO;
		return;
	}
	res->node = node;
	res->mono_ns = mono_ns();
	res->cycles = __xcall_arch_cycles();

	switch (req->fn) {
	case XCALL_FN_PING:
	case XCALL_FN_CLOCK:
		break;
	case XCALL_FN_PROBE:
		res->hwid = __xcall_arch_hwid(cpu);
		break;
	case XCALL_FN_IDENT:
		res->error = __xcall_arch_ident(cpu, req_arg(req, 0),
						req_arg(req, 1), res);
		break;
	case XCALL_FN_SPIN:
		spin(res, req_arg(req, 0));
		break;
	default:
		res->error = -EOPNOTSUPP;
		break;
	}
}
