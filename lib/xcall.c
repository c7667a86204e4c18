// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Backends and calls: xcall_open() picks a backend (AUTO: the daemon if its
 * socket answers, else the module if /dev/xcall opens, else the in-process
 * threads), xcall_run() refuses what every backend must refuse alike, with
 * the errnos of XCALL_IOC_CALL in xcall.h, before a backend sees anything.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpuset.h"

/*
 * Every backend built into this library, in AUTO's order of preference.
 * The daemon backend (lib/backend_daemon.c) goes first when it exists.
 */
static const struct __xcall_backend_ops *const backends[] = {
	&__xcall_daemon_ops,
	&__xcall_kmod_ops,
	&__xcall_threads_ops,
};

#define NR_BACKENDS	(sizeof(backends) / sizeof(backends[0]))

static const char *const backend_names[] = {
	[XCALL_BACKEND_AUTO] = "auto",
	[XCALL_BACKEND_THREADS] = "threads",
	[XCALL_BACKEND_KMOD] = "kmod",
	[XCALL_BACKEND_DAEMON] = "daemon",
};

const char *xcall_backend_name(enum xcall_backend b)
{
	if ((unsigned int)b >= sizeof(backend_names) / sizeof(backend_names[0]))
		return NULL;
	return backend_names[b];
}

int xcall_backend_parse(const char *name, enum xcall_backend *b)
{
	unsigned int i;

	if (!name || !b)
		return -EINVAL;
	for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
		if (!strcmp(name, backend_names[i])) {
			*b = i;
			return 0;
		}
	}
	return -EINVAL;
}

static const struct __xcall_backend_ops *find_backend(enum xcall_backend b)
{
	unsigned int i;

	for (i = 0; i < NR_BACKENDS; i++)
		if (backends[i]->kind == b)
			return backends[i];
	return NULL;
}

static int open_one(struct xcall *x, const struct __xcall_backend_ops *ops,
		    const struct xcall_opts *opts)
{
	int ret;

	x->ops = ops;
	x->priv = NULL;
	ret = ops->open(x, opts);
	if (ret)
		x->ops = NULL;
	return ret;
}

/**
 * xcall_open() - open a backend
 * @xp: the handle, on success
 * @opts: backend and paths; NULL for AUTO with the defaults
 *
 * AUTO honours $XCALL_BACKEND. A forced backend that is not built into this
 * library gives -EOPNOTSUPP; one that cannot be used gives its own errno.
 */
int xcall_open(struct xcall **xp, const struct xcall_opts *opts)
{
	static const struct xcall_opts dflt;
	const struct __xcall_backend_ops *ops;
	enum xcall_backend want;
	struct xcall *x;
	const char *env;
	unsigned int i;
	int ret;

	if (!xp)
		return -EINVAL;
	if (!opts)
		opts = &dflt;
	want = opts->backend;
	env = getenv("XCALL_BACKEND");
	if (want == XCALL_BACKEND_AUTO && env && *env) {
		ret = xcall_backend_parse(env, &want);
		if (ret)
			return ret;
	}
	if (!xcall_backend_name(want))
		return -EINVAL;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	if (want != XCALL_BACKEND_AUTO) {
		ops = find_backend(want);
		ret = ops ? open_one(x, ops, opts) : -EOPNOTSUPP;
	} else {
		ret = -ENOENT;
		for (i = 0; i < NR_BACKENDS && ret; i++)
			ret = open_one(x, backends[i], opts);
	}
	if (ret)
		goto out_free;
	*xp = x;
	return 0;
out_free:
	free(x);
	return ret;
}

void xcall_close(struct xcall *x)
{
	if (!x)
		return;
	if (x->ops && x->ops->close)
		x->ops->close(x);
	free(x);
}

enum xcall_backend xcall_backend_of(const struct xcall *x)
{
	return x->ops->kind;
}

static unsigned int backend_bit(enum xcall_backend b)
{
	switch (b) {
	case XCALL_BACKEND_THREADS:
		return XCALL_BK_THREADS;
	case XCALL_BACKEND_KMOD:
		return XCALL_BK_KMOD;
	case XCALL_BACKEND_DAEMON:
		return XCALL_BK_DAEMON;
	default:
		return 0;
	}
}

/**
 * xcall_req_check() - check a request as every backend does
 * @req: the request
 * @b: the backend that is to run it; AUTO: any backend
 *
 * The function, its arguments, flags and timeout, and whether @b has the
 * function, in xcall_run()'s order; the CPUs are xcall_cpus_check()'s.
 * Pure: no I/O. xcall_run() and xcalld check with this, and nothing else.
 */
int xcall_req_check(const struct xcall_req *req, enum xcall_backend b)
{
	const struct xcall_fn_info *fi;
	unsigned int i;

	if (!req || !xcall_backend_name(b))
		return -EINVAL;
	fi = xcall_fn_by_id(req->fn);
	if (!fi)
		return -EBADRQC;
	/* On no backend of this architecture (msr off x86): as the module. */
	if (!fi->backends)
		return -EOPNOTSUPP;
	if (req->nargs < fi->min_args || req->nargs > fi->max_args ||
	    req->nargs > XCALL_MAX_ARGS)
		return -EINVAL;
	if (req->flags & ~XCALL_CALL_FLAGS)
		return -EINVAL;
	if ((req->flags & XCALL_CALL_NOWAIT) && !XCALL_FN_NOWAIT_OK(req->fn))
		return -EINVAL;
	for (i = 0; i < req->nargs; i++)
		if (req->args[i] < fi->args[i].min ||
		    req->args[i] > fi->args[i].max)
			return -ERANGE;
	/* Read-only, and only what the allowlist names: root too. */
	if (req->fn == XCALL_FN_MSR)
		for (i = 0; i < req->nargs; i++)
			if (!xcall_msr_allowed(req->args[i]))
				return -EPERM;
	if (req->timeout_ms > XCALL_MAX_TIMEOUT_MS)
		return -ERANGE;
	if (b != XCALL_BACKEND_AUTO && !(fi->backends & backend_bit(b)))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * The CPUs that can ever exist do not change while the system runs: read
 * them once. Online CPUs are read for every request (hotplug).
 */
static cpu_set_t *possible;
static int possible_err;
static pthread_once_t possible_once = PTHREAD_ONCE_INIT;

static void possible_init(void)
{
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);

	possible = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	if (!possible) {
		possible_err = -ENOMEM;
		return;
	}
	possible_err = xcall_cpus_possible(possible, sz);
}

/*
 * Empty set, CPUs that do not exist, CPUs that are offline: against
 * @given_online (the caller's, @setsize bytes) or, when NULL, sysfs now.
 */
static int check_cpus(const cpu_set_t *set, size_t setsize,
		      const cpu_set_t *given_online)
{
	/* Our size: every CPU the ABI can name (XCALL_MAX_CPUSET_BYTES). */
	union {
		cpu_set_t set;
		unsigned char bytes[XCALL_MAX_CPUSET_BYTES];
	} online, want;
	size_t sz = sizeof(want), i, n = __xcall_set_words(setsize);
	xcall_word w;
	int ret;

	pthread_once(&possible_once, possible_init);
	if (possible_err)
		return possible_err;
	/* The caller's set, in our size: a CPU beyond it cannot exist. */
	memset(&want, 0, sizeof(want));
	for (i = 0; i < n; i++) {
		w = __xcall_set_word(set, setsize, i);
		if (i < sz / sizeof(w))
			((xcall_word *)&want)[i] = w;
		else if (w)
			return -ENODEV;
	}
	if (given_online) {
		memset(&online, 0, sizeof(online));
		for (i = 0; i < n && i < sz / sizeof(w); i++)
			((xcall_word *)&online)[i] =
				__xcall_set_word(given_online, setsize, i);
	} else {
		ret = xcall_cpus_online(&online.set, sz);
		if (ret)
			return ret;
	}
	return xcall_cpus_check(&want.set, possible, &online.set, sz, NULL);
}

/* xcall_run() and xcall_run_online(); @online NULL: read sysfs. */
static int run(struct xcall *x, const struct xcall_req *req,
	       const cpu_set_t *set, size_t setsize, const cpu_set_t *online,
	       struct xcall_result *res, unsigned int nres)
{
	int ret;

	if (!x || !x->ops || !req || !set)
		return -EINVAL;
	ret = xcall_req_check(req, x->ops->kind);
	if (ret)
		return ret;
	ret = check_cpus(set, setsize, online);
	if (ret)
		return ret;
	if (!(req->flags & XCALL_CALL_NOWAIT) &&
	    (!res || __xcall_set_count(set, setsize) > nres))
		return -EMSGSIZE;
	return x->ops->run(x, req, set, setsize, res, nres);
}

/**
 * xcall_run() - run a function on a set of CPUs
 *
 * See libxcall.h. Validation order: function (-EBADRQC), a function on no
 * backend of this architecture (-EOPNOTSUPP), argument count and flags
 * (-EINVAL), argument values (-ERANGE), an MSR off the allowlist (-EPERM),
 * timeout (-ERANGE), availability on this backend (-EOPNOTSUPP), empty
 * set (-EDESTADDRREQ), CPUs that do not exist (-ENODEV), offline CPUs
 * (-ENXIO), @nres too small (-EMSGSIZE).
 */
int xcall_run(struct xcall *x, const struct xcall_req *req,
	      const cpu_set_t *set, size_t setsize,
	      struct xcall_result *res, unsigned int nres)
{
	return run(x, req, set, setsize, NULL, res, nres);
}

/**
 * xcall_run_online() - xcall_run() against the caller's online CPUs
 *
 * See libxcall.h: the same checks in the same order, with @online (the
 * same @setsize as @set) standing for the online CPUs that xcall_run()
 * reads from sysfs on every call. For loops of calls, whose time that
 * read would otherwise dominate (`xcall latency`).
 */
int xcall_run_online(struct xcall *x, const struct xcall_req *req,
		     const cpu_set_t *set, size_t setsize,
		     const cpu_set_t *online,
		     struct xcall_result *res, unsigned int nres)
{
	if (!online)
		return -EINVAL;
	return run(x, req, set, setsize, online, res, nres);
}

/**
 * xcall_run_timeline() - xcall_run() with the stages of every call
 *
 * See libxcall.h. xcall_run()'s checks, in its order, then -EINVAL for
 * NOWAIT and -EOPNOTSUPP from a backend that has no timeline.
 */
int xcall_run_timeline(struct xcall *x, const struct xcall_req *req,
		       const cpu_set_t *set, size_t setsize,
		       struct xcall_result *res, struct xcall_timeline *tl,
		       unsigned int nres)
{
	int ret;

	if (!x || !x->ops || !req || !set || !res || !tl)
		return -EINVAL;
	ret = xcall_req_check(req, x->ops->kind);
	if (ret)
		return ret;
	if (req->flags & XCALL_CALL_NOWAIT)
		return -EINVAL;
	ret = check_cpus(set, setsize, NULL);
	if (ret)
		return ret;
	if (__xcall_set_count(set, setsize) > nres)
		return -EMSGSIZE;
	if (!x->ops->run_timeline)
		return -EOPNOTSUPP;
	return x->ops->run_timeline(x, req, set, setsize, res, tl, nres);
}

const char *xcall_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case EBADRQC:
		return "no such function";
	case EINVAL:
		return "wrong number of arguments or bad request";
	case ERANGE:
		return "argument or timeout out of range";
	case EDESTADDRREQ:
		return "no CPU given";
	case ENODEV:
		return "no such CPU";
	case ENXIO:
		return "CPU is offline";
	case EOPNOTSUPP:
		return "not available on this backend";
	case EPERM:
		return "not permitted (privileged function, isolated CPU, "
		       "or an MSR off the allowlist)";
	case EIO:
		return "the CPU faulted reading an MSR (not implemented)";
	case EBUSY:
		return "a spin is already queued or running on that CPU";
	case EAGAIN:
		return "too many calls not waited for are still queued; "
		       "try again";
	case EMSGSIZE:
		return "result buffer too small";
	case ETIMEDOUT:
		return "timed out";
	case EPROTO:
		return "backend speaks another ABI version";
	case ECONNRESET:
		return "connection to the daemon lost";
	default:
		return NULL;
	}
}
