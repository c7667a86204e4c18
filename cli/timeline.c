// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall run --timeline`: run a function --repeat times through the module
 * with XCALL_CALL_TIMELINE, measure every online CPU's clock offset against
 * the lowest online CPU first (xcall_clock_offsets()), and print each
 * stage's median and p99 per target CPU (tlstat.c does the arithmetic and
 * the output). The stages can happen on any CPU the caller migrates to, so
 * every online CPU is measured, not only the targets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"
#include "tlstat.h"

/* Round trips per CPU for the offsets: the shortest of them counts. */
#define TL_OFFSET_SAMPLES	64

struct tl_offsets {
	struct tl_clock ck;
	int64_t *off;
	uint64_t *bound;
	int ref;
};

static void offsets_free(struct tl_offsets *o)
{
	free(o->off);
	free(o->bound);
}

/* Measure every online CPU against the lowest: 0, or the exit status. */
static int offsets_measure(struct xcall *x, struct tl_offsets *o)
{
	cpu_set_t *possible = xc_cpuset_alloc(), *online = xc_cpuset_alloc();
	struct xcall_clock_offset *co = NULL;
	int i, n, status = XC_EXIT_FAILED, ncpus = 0, ret;
	char what[64];

	memset(o, 0, sizeof(*o));
	o->ref = -1;
	if (xc_read_cpus("run", possible, online)) {
		status = XC_EXIT_REFUSED;
		goto out;
	}
	for (i = 0; i < XCALL_MAX_CPUSET_BYTES * 8; i++) {
		if (!CPU_ISSET_S(i, XC_SETSIZE, online))
			continue;
		if (o->ref < 0)
			o->ref = i;
		ncpus = i + 1;
	}
	o->ck.hz = xcall_counter_hz();
	if (!o->ck.hz) {
		xc_err("timeline", "the cycle counter's frequency is unknown");
		goto out;
	}
	n = CPU_COUNT_S(XC_SETSIZE, online);
	co = calloc(n, sizeof(*co));
	o->off = calloc(ncpus, sizeof(*o->off));
	o->bound = calloc(ncpus, sizeof(*o->bound));
	if (!co || !o->off || !o->bound) {
		xc_err("memory", "%s", strerror(ENOMEM));
		goto out;
	}
	ret = xcall_clock_offsets(x, online, XC_SETSIZE, o->ref,
				  TL_OFFSET_SAMPLES, co, n);
	if (ret < 0) {
		status = xc_run_failed(x, "timeline: clock offsets", ret);
		goto out;
	}
	for (i = 0; i < ret; i++) {
		if (co[i].error) {
			snprintf(what, sizeof(what),
				 "timeline: clock offset of cpu %d", co[i].cpu);
			xc_err(what, "%s", fmt_errmsg(co[i].error));
			goto out;
		}
		o->off[co[i].cpu] = co[i].offset_ticks;
		o->bound[co[i].cpu] = co[i].bound_ticks;
	}
	o->ck.ncpus = ncpus;
	o->ck.off = o->off;
	o->ck.bound = o->bound;
	status = XC_EXIT_OK;
out:
	free(co);
	CPU_FREE(online);
	CPU_FREE(possible);
	return status;
}

static int timeline_refused(struct xcall *x, const char *fn, int err)
{
	char what[64];

	snprintf(what, sizeof(what), "%s --timeline", fn);
	if (err != -EOPNOTSUPP)
		return xc_run_failed(x, what, err);
	if (xcall_backend_of(x) == XCALL_BACKEND_KMOD)
		xc_err(what, "this xcall.ko records no timeline (older "
		       "module)");
	else
		xc_err(what, "not available on the %s backend (the module "
		       "alone sees a call's stages: --backend kmod)",
		       xcall_backend_name(xcall_backend_of(x)));
	return XC_EXIT_REFUSED;
}

int xc_run_timeline(struct xcall *x, const struct xcall_fn_info *fi,
		    const struct xcall_req *req, const cpu_set_t *set,
		    uint64_t repeat, int json)
{
	unsigned int n = CPU_COUNT_S(XC_SETSIZE, set), i;
	struct xcall_timeline *tl = calloc(n, sizeof(*tl));
	struct xcall_result *res = calloc(n, sizeof(*res));
	struct tl_acc *acc = calloc(n, sizeof(*acc));
	int status = XC_EXIT_REFUSED, ret, err;
	struct tl_offsets o = { 0 };
	uint64_t round;
	struct sbuf sb;

	if (!tl || !res || !acc) {
		xc_err("memory", "%s", strerror(ENOMEM));
		goto out;
	}
	/* A first call says whether this backend has a timeline at all. */
	ret = xcall_run_timeline(x, req, set, XC_SETSIZE, res, tl, n);
	if (ret < 0) {
		status = timeline_refused(x, fi->name, ret);
		goto out;
	}
	status = offsets_measure(x, &o);
	if (status)
		goto out;
	for (i = 0; i < n; i++)
		tl_acc_init(&acc[i], tl[i].cpu);
	for (round = 0; round < repeat; round++) {
		ret = xcall_run_timeline(x, req, set, XC_SETSIZE, res, tl, n);
		if (ret < 0) {
			status = timeline_refused(x, fi->name, ret);
			goto out_acc;
		}
		for (i = 0; i < (unsigned int)ret; i++) {
			err = tl_acc_add(&acc[i], res[i].error, &tl[i], &o.ck);
			if (err == -ENOMEM) {
				xc_err("memory", "%s", strerror(ENOMEM));
				goto out_acc;
			}
			if (err) {
				xc_err("timeline", "cpu %u: a stage was read "
				       "on a CPU that has no clock offset (it "
				       "came online since)", tl[i].cpu);
				status = XC_EXIT_FAILED;
				goto out_acc;
			}
		}
	}
	sb_init(&sb);
	if (json)
		tl_fmt_json(&sb, fi->name, o.ref, acc, n);
	else
		tl_fmt_table(&sb, fi->name, o.ref, acc, n);
	status = xc_emit(&sb);
	for (i = 0; !status && i < n; i++)
		if (acc[i].failed)
			status = XC_EXIT_FAILED;
	for (i = 0; i < n; i++) {
		if (!acc[i].failed)
			continue;
		xc_err(fi->name, "cpu %u: %u of %llu calls failed", acc[i].cpu,
		       acc[i].failed, (unsigned long long)repeat);
	}
out_acc:
	for (i = 0; i < n; i++)
		tl_acc_free(&acc[i]);
out:
	offsets_free(&o);
	free(acc);
	free(res);
	free(tl);
	return status;
}
