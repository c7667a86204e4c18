/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend interface inside libxcall. xcall_open() picks a backend and
 * calls its open(); xcall_run() validates what every backend must refuse
 * alike (function id, argument count and range, empty set, CPUs that do not
 * exist or are offline) and only then hands the request to run().
 */
#ifndef XCALL_BACKEND_H
#define XCALL_BACKEND_H

#include "libxcall.h"

struct xcall;

struct __xcall_backend_ops {
	enum xcall_backend kind;
	const char *name;
	/* Set up x->priv; -errno if this backend cannot be used. */
	int (*open)(struct xcall *x, const struct xcall_opts *opts);
	/* Same contract as xcall_run(), on an already validated request. */
	int (*run)(struct xcall *x, const struct xcall_req *req,
		   const cpu_set_t *set, size_t setsize,
		   struct xcall_result *res, unsigned int nres);
	/*
	 * xcall_run_timeline() on a validated request; NULL where the
	 * backend cannot see the stages (-EOPNOTSUPP).
	 */
	int (*run_timeline)(struct xcall *x, const struct xcall_req *req,
			    const cpu_set_t *set, size_t setsize,
			    struct xcall_result *res,
			    struct xcall_timeline *tl, unsigned int nres);
	void (*close)(struct xcall *x);
};

struct xcall {
	const struct __xcall_backend_ops *ops;
	void *priv;
};

extern const struct __xcall_backend_ops __xcall_threads_ops;
extern const struct __xcall_backend_ops __xcall_kmod_ops;
extern const struct __xcall_backend_ops __xcall_daemon_ops;

/*
 * Run function @req->fn on the calling thread, which the caller has pinned
 * to @cpu, and fill @res. Used by the threads backend's workers and by
 * xcalld's own workers when no module is loaded.
 */
void __xcall_fn_exec(const struct xcall_req *req, int cpu,
		     struct xcall_result *res);

#endif /* XCALL_BACKEND_H */
