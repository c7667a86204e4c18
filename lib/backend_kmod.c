// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kmod backend: ioctls on /dev/xcall (xcall.ko). Open checks the
 * module's ABI version with XCALL_IOC_INFO; a run is one XCALL_IOC_CALL
 * with the CPU set as the module's bitmap (native-endian __u64 words), and
 * the module writes struct xcall_result records straight into the
 * caller's array. Privilege is the module's business: it checks the
 * credentials that opened the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend.h"
#include "cpuset.h"

struct kmod {
	int fd;
	struct xcall_info info;
};

static int kmod_open(struct xcall *x, const struct xcall_opts *opts)
{
	const char *path = opts->device_path;
	struct kmod *k;
	int ret;

	if (!path)
		path = getenv("XCALL_DEVICE");
	if (!path || !*path)
		path = XCALL_DEFAULT_DEVICE;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		goto out_free;
	}
	k->info.size = sizeof(k->info);
	if (ioctl(k->fd, XCALL_IOC_INFO, &k->info) < 0) {
		/* Not an xcall device at all. */
		ret = errno == ENOTTY ? -ENOTTY : -errno;
		goto out_close;
	}
	if (k->info.abi_version != XCALL_ABI_VERSION) {
		ret = -EPROTO;
		goto out_close;
	}
	x->priv = k;
	return 0;
out_close:
	close(k->fd);
out_free:
	free(k);
	return ret;
}

static void kmod_close(struct xcall *x)
{
	struct kmod *k = x->priv;

	close(k->fd);
	free(k);
}

/* One XCALL_IOC_CALL; with a timeline if @tl is not NULL. */
static int kmod_call(struct xcall *x, const struct xcall_req *req,
		     const cpu_set_t *set, size_t setsize,
		     struct xcall_result *res, struct xcall_timeline *tl,
		     unsigned int nres)
{
	struct kmod *k = x->priv;
	struct xcall_call call;
	size_t words = 0;
	uint64_t *bits;
	long c;
	int ret;

	if (req->fn >= 64 || !(k->info.fn_mask & (1ULL << req->fn)))
		return -EOPNOTSUPP;
	/* Bitmap just long enough for the highest CPU of the set. */
	xcall_for_each_cpu(c, set, setsize)
		words = c / 64 + 1;
	if (words * 8 > XCALL_MAX_CPUSET_BYTES)
		return -ENODEV;
	bits = calloc(words ? words : 1, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	xcall_for_each_cpu(c, set, setsize)
		bits[c / 64] |= 1ULL << (c % 64);

	memset(&call, 0, sizeof(call));
	call.size = sizeof(call);
	call.fn = req->fn;
	call.flags = req->flags;
	call.timeout_ms = req->timeout_ms;
	call.nargs = req->nargs;
	memcpy(call.args, req->args, sizeof(call.args));
	call.cpuset_size = words * 8;
	call.cpuset = (uintptr_t)bits;
	call.results = (uintptr_t)res;
	call.nresults = res ? nres : 0;
	if (tl) {
		call.flags |= XCALL_CALL_TIMELINE;
		call.timeline = (uintptr_t)tl;
	}
	if (ioctl(k->fd, XCALL_IOC_CALL, &call) < 0)
		ret = -errno;
	else
		ret = call.ncalled;
	free(bits);
	return ret;
}

static int kmod_run(struct xcall *x, const struct xcall_req *req,
		    const cpu_set_t *set, size_t setsize,
		    struct xcall_result *res, unsigned int nres)
{
	return kmod_call(x, req, set, setsize, res, NULL, nres);
}

/* A module older than the timeline says so in its features. */
static int kmod_run_timeline(struct xcall *x, const struct xcall_req *req,
			     const cpu_set_t *set, size_t setsize,
			     struct xcall_result *res,
			     struct xcall_timeline *tl, unsigned int nres)
{
	struct kmod *k = x->priv;

	if (!(k->info.features & XCALL_FEAT_TIMELINE))
		return -EOPNOTSUPP;
	return kmod_call(x, req, set, setsize, res, tl, nres);
}

const struct __xcall_backend_ops __xcall_kmod_ops = {
	.kind = XCALL_BACKEND_KMOD,
	.name = "kmod",
	.open = kmod_open,
	.run = kmod_run,
	.run_timeline = kmod_run_timeline,
	.close = kmod_close,
};
