// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The daemon backend: calls through xcalld over its SOCK_SEQPACKET socket
 * (wire.h). Open connects; the connection's credentials are what xcalld's
 * policy judges. A run sends one CALL per XCALL_WIRE_MAX_CPUS CPUs of the
 * set, all before reading any reply (the daemon serves them in parallel),
 * then gathers the replies by id, in whatever order they come.
 *
 * A daemon that does not answer in time is like a CPU that does not: the
 * CPUs of the unanswered requests get ETIMEDOUT records. A connection that
 * is gone (the daemon exited, or closed on us, e.g. at its client limit) is
 * -ECONNRESET for the whole request.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cpuset.h"
#include "wire.h"

/* How long past the call's own timeout a reply may take. */
#define DAEMON_GRACE_MS		5000

struct daemon {
	int fd;
	uint64_t next_id;
	uint8_t buf[XCALL_WIRE_MAX_FRAME];
};

static int daemon_open(struct xcall *x, const struct xcall_opts *opts)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = opts->socket_path;
	struct daemon *d;
	int ret;

	if (!path)
		path = getenv("XCALL_SOCKET");
	if (!path || !*path)
		path = XCALL_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->next_id = 1;
	d->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (d->fd < 0) {
		ret = -errno;
		goto out_free;
	}
	if (connect(d->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto out_close;
	}
	x->priv = d;
	return 0;
out_close:
	close(d->fd);
out_free:
	free(d);
	return ret;
}

static void daemon_close(struct xcall *x)
{
	struct daemon *d = x->priv;

	close(d->fd);
	free(d);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One frame into d->buf: its length, or -errno (-ETIMEDOUT at @deadline). */
static int recv_frame(struct daemon *d, uint64_t deadline)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	bool reset = false;
	uint64_t now;
	ssize_t n;
	int ret;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, (int)(deadline - now));
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		n = recv(d->fd, d->buf, sizeof(d->buf), MSG_TRUNC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/*
		 * A daemon that closed with a frame of ours unread makes the
		 * kernel report ECONNRESET once, before what it had sent
		 * still queued here (the ERROR saying why, say): read on.
		 */
		if (n < 0 && errno == ECONNRESET && !reset) {
			reset = true;
			continue;
		}
		if (n < 0)
			return errno == ENOTCONN ? -ECONNRESET : -errno;
		if (n == 0)
			return -ECONNRESET;	/* the daemon went away */
		if ((size_t)n > sizeof(d->buf))
			return -EMSGSIZE;
		return (int)n;
	}
}

static int send_frame(struct daemon *d, size_t len)
{
	ssize_t n;

	do {
		n = send(d->fd, d->buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EPIPE ? -ECONNRESET : -errno;
	return 0;
}

/*
 * The daemon stopped taking our frames (EPIPE): why, if it said so before
 * it closed (an ERROR frame with id 0: EUSERS for a connection it does not
 * take), else -ECONNRESET.
 */
static int gone_why(struct daemon *d)
{
	struct xcall_wire_hdr h;
	int len = recv_frame(d, now_ms() + DAEMON_GRACE_MS);

	if (len > 0 &&
	    __xcall_wire_hdr(d->buf, (size_t)len, &h) == XCALL_WIRE_ERROR &&
	    !h.id && h.error < 0)
		return h.error;
	return -ECONNRESET;
}

/* Chunk @k of @set: up to XCALL_WIRE_MAX_CPUS CPUs from CPU @*from on. */
static unsigned int chunk(const cpu_set_t *set, size_t setsize, size_t *from,
			  uint8_t *bits, size_t bytes)
{
	unsigned int n = 0;
	long c;

	memset(bits, 0, bytes);
	for (c = __xcall_set_next(set, setsize, *from);
	     c >= 0 && (size_t)c < bytes * 8;
	     c = __xcall_set_next(set, setsize, c + 1)) {
		if (n == XCALL_WIRE_MAX_CPUS)
			break;
		bits[c / 8] |= 1U << (c % 8);
		n++;
	}
	*from = c >= 0 ? (size_t)c : bytes * 8;
	return n;
}

/* ETIMEDOUT records for the CPUs of the chunks not @done. */
static void fail_chunks(const struct xcall_req *req, const cpu_set_t *set,
			size_t setsize, const unsigned int *first,
			const unsigned int *count, const uint8_t *done,
			unsigned int nchunks, struct xcall_result *res)
{
	unsigned int i = 0, k = 0;
	long c;

	xcall_for_each_cpu(c, set, setsize) {
		while (k < nchunks && i >= first[k] + count[k])
			k++;
		if (k == nchunks)
			break;
		if (!done[k]) {
			memset(&res[i], 0, sizeof(res[i]));
			res[i].cpu = (uint32_t)c;
			res[i].fn = req->fn;
			res[i].error = -ETIMEDOUT;
		}
		i++;
	}
}

static int daemon_run(struct xcall *x, const struct xcall_req *req,
		      const cpu_set_t *set, size_t setsize,
		      struct xcall_result *res, unsigned int nres)
{
	struct daemon *d = x->priv;
	unsigned int total = __xcall_set_count(set, setsize);
	unsigned int nchunks = 0, got = 0, k, i;
	unsigned int first[XCALL_MAX_CPUSET_BYTES * 8 / XCALL_WIRE_MAX_CPUS];
	unsigned int count[XCALL_MAX_CPUSET_BYTES * 8 / XCALL_WIRE_MAX_CPUS];
	uint8_t done[XCALL_MAX_CPUSET_BYTES * 8 / XCALL_WIRE_MAX_CPUS] = { 0 };
	uint8_t bits[XCALL_MAX_CPUSET_BYTES];
	size_t bytes, from = 0;
	struct xcall_wire_callrep rep;
	uint64_t base, id, deadline;
	unsigned int timeout;
	int ret, err = 0;

	bytes = (setsize + 7) / 8 * 8;
	if (bytes > XCALL_MAX_CPUSET_BYTES)
		bytes = XCALL_MAX_CPUSET_BYTES;
	base = d->next_id;
	for (i = 0; i < total; i += count[nchunks++]) {
		count[nchunks] = chunk(set, setsize, &from, bits, bytes);
		first[nchunks] = i;
		if (!count[nchunks])
			break;
		ret = __xcall_wire_enc_call(d->buf, sizeof(d->buf),
					    base + nchunks, req, bits, bytes);
		if (ret < 0)
			return ret;
		ret = send_frame(d, (size_t)ret);
		if (ret == -ECONNRESET)
			return gone_why(d);
		if (ret)
			return ret;
	}
	d->next_id = base + nchunks;

	timeout = req->timeout_ms ? req->timeout_ms : XCALL_DEFAULT_TIMEOUT_MS;
	deadline = now_ms() + timeout + DAEMON_GRACE_MS;
	while (got < nchunks) {
		struct xcall_wire_hdr h;
		int len = recv_frame(d, deadline);

		if (len == -ETIMEDOUT && !(req->flags & XCALL_CALL_NOWAIT)) {
			fail_chunks(req, set, setsize, first, count, done,
				    nchunks, res);
			break;
		}
		if (len < 0)
			return len;
		ret = __xcall_wire_dec_reply(d->buf, (size_t)len, &id, &rep);
		if (ret && __xcall_wire_hdr(d->buf, (size_t)len, &h) ==
			   XCALL_WIRE_ERROR) {
			/*
			 * An ERROR frame names a request it could not take;
			 * id 0 is about the connection itself (refused, or
			 * a frame it could not read), and ends the run.
			 */
			ret = h.error < 0 ? h.error : -EPROTO;
			if (!h.id)
				return ret;
			id = h.id;
		} else if (ret) {
			return -EPROTO;	/* not a reply we can read */
		}
		if (id < base || id >= base + nchunks)
			continue;	/* left over from a run that timed out */
		k = (unsigned int)(id - base);
		if (done[k])
			continue;
		done[k] = 1;
		got++;
		if (ret) {
			err = err ? err : ret;
			continue;
		}
		if (rep.error) {
			err = err ? err : rep.error;
			continue;
		}
		if (req->flags & XCALL_CALL_NOWAIT)
			continue;
		if (rep.nres != count[k] || first[k] + count[k] > nres) {
			err = err ? err : -EPROTO;
			continue;
		}
		for (i = 0; i < rep.nres; i++)
			__xcall_wire_reply_res(&rep, i, &res[first[k] + i]);
	}
	return err ? err : (int)total;
}

const struct __xcall_backend_ops __xcall_daemon_ops = {
	.kind = XCALL_BACKEND_DAEMON,
	.name = "daemon",
	.open = daemon_open,
	.run = daemon_run,
	.close = daemon_close,
};
