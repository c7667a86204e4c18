// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The xcalld frame codec (see wire.h). Pure: no I/O, no allocation, no
 * globals. Frames are read with memcpy, so a buffer may sit at any
 * alignment, and every read is checked against the length first.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"

_Static_assert(sizeof(struct xcall_wire_hdr) == 24, "wire header size");
_Static_assert(sizeof(struct xcall_wire_call) == 56, "wire call size");
_Static_assert(sizeof(struct xcall_wire_reply) == 8, "wire reply size");
_Static_assert(sizeof(struct xcall_wire_status) == 112, "wire status size");
_Static_assert(sizeof(struct xcall_result) == 128, "result record size");

#define HDR	sizeof(struct xcall_wire_hdr)

static void put_hdr(void *buf, uint8_t type, size_t len, uint64_t id,
		    int error)
{
	struct xcall_wire_hdr h = {
		.magic = XCALL_WIRE_MAGIC,
		.version = XCALL_WIRE_VERSION,
		.type = type,
		.len = (uint32_t)len,
		.id = id,
		.error = error,
	};

	memcpy(buf, &h, sizeof(h));
}

int __xcall_wire_hdr(const void *buf, size_t len, struct xcall_wire_hdr *h)
{
	if (len < HDR)
		return -EBADMSG;
	memcpy(h, buf, HDR);
	if (h->magic != XCALL_WIRE_MAGIC)
		return -EBADMSG;
	if (h->version != XCALL_WIRE_VERSION)
		return -EPROTONOSUPPORT;
	if (h->len != len)
		return -EBADMSG;
	if (h->reserved)
		return -EINVAL;
	return h->type;
}

uint64_t __xcall_wire_peek_id(const void *buf, size_t len)
{
	struct xcall_wire_hdr h;

	if (len < HDR)
		return 0;
	memcpy(&h, buf, HDR);
	if (h.magic != XCALL_WIRE_MAGIC)
		return 0;
	return h.id;
}

/* Header of a frame of @type, with the body length checks of the caller. */
static int get_hdr(const void *buf, size_t len, uint8_t type, uint64_t *id,
		   struct xcall_wire_hdr *h)
{
	int ret = __xcall_wire_hdr(buf, len, h);

	if (ret < 0)
		return ret;
	if (ret != type)
		return -EBADMSG;
	*id = h->id;
	return 0;
}

int __xcall_wire_enc_call(void *buf, size_t cap, uint64_t id,
			  const struct xcall_req *req,
			  const void *cpuset, size_t cpuset_size)
{
	struct xcall_wire_call c;
	size_t len;
	unsigned int i;

	if (req->nargs > XCALL_MAX_ARGS)
		return -EINVAL;
	if (!cpuset_size || cpuset_size % 8 ||
	    cpuset_size > XCALL_MAX_CPUSET_BYTES)
		return -EMSGSIZE;
	len = HDR + sizeof(c) + cpuset_size;
	if (cap < len)
		return -ENOSPC;
	memset(&c, 0, sizeof(c));
	c.fn = req->fn;
	c.flags = req->flags;
	c.timeout_ms = req->timeout_ms;
	c.nargs = req->nargs;
	for (i = 0; i < req->nargs; i++)
		c.args[i] = req->args[i];
	c.cpuset_size = (uint32_t)cpuset_size;
	put_hdr(buf, XCALL_WIRE_CALL, len, id, 0);
	memcpy((char *)buf + HDR, &c, sizeof(c));
	memcpy((char *)buf + HDR + sizeof(c), cpuset, cpuset_size);
	return (int)len;
}

int __xcall_wire_dec_call(const void *buf, size_t len, uint64_t *id,
			  struct xcall_wire_callreq *out)
{
	struct xcall_wire_hdr h;
	struct xcall_wire_call c;
	const uint8_t *set;
	uint32_t i, n = 0;
	int ret;

	ret = get_hdr(buf, len, XCALL_WIRE_CALL, id, &h);
	if (ret)
		return ret;
	if (h.error)
		return -EINVAL;
	if (len < HDR + sizeof(c))
		return -EBADMSG;
	memcpy(&c, (const char *)buf + HDR, sizeof(c));
	if (len != HDR + sizeof(c) + (size_t)c.cpuset_size)
		return -EBADMSG;
	if (c.reserved || c.flags & ~XCALL_CALL_FLAGS ||
	    c.nargs > XCALL_MAX_ARGS)
		return -EINVAL;
	if (!c.cpuset_size || c.cpuset_size % 8 ||
	    c.cpuset_size > XCALL_MAX_CPUSET_BYTES)
		return -EMSGSIZE;
	/* Unused argument slots must be zero, as reserved fields are. */
	for (i = c.nargs; i < XCALL_MAX_ARGS; i++)
		if (c.args[i])
			return -EINVAL;
	set = (const uint8_t *)buf + HDR + sizeof(c);
	for (i = 0; i < c.cpuset_size; i++)
		n += (uint32_t)__builtin_popcount(set[i]);
	if (n > XCALL_WIRE_MAX_CPUS)
		return -EMSGSIZE;

	memset(out, 0, sizeof(*out));
	out->req.fn = c.fn;
	out->req.flags = c.flags;
	out->req.timeout_ms = c.timeout_ms;
	out->req.nargs = c.nargs;
	for (i = 0; i < c.nargs; i++)
		out->req.args[i] = c.args[i];
	out->cpuset = set;
	out->cpuset_size = c.cpuset_size;
	out->ncpus = n;
	return 0;
}

int __xcall_wire_enc_reply(void *buf, size_t cap, uint64_t id, int error,
			   const struct xcall_result *res, unsigned int nres)
{
	struct xcall_wire_reply r = { .nres = nres };
	size_t len;

	if (nres > XCALL_WIRE_MAX_CPUS || error > 0 || (error && nres))
		return -EINVAL;
	len = HDR + sizeof(r) + (size_t)nres * sizeof(*res);
	if (cap < len)
		return -ENOSPC;
	put_hdr(buf, XCALL_WIRE_CALL_REPLY, len, id, error);
	memcpy((char *)buf + HDR, &r, sizeof(r));
	if (nres && res)
		memcpy((char *)buf + HDR + sizeof(r), res,
		       (size_t)nres * sizeof(*res));
	return (int)len;
}

int __xcall_wire_dec_reply(const void *buf, size_t len, uint64_t *id,
			   struct xcall_wire_callrep *out)
{
	struct xcall_wire_hdr h;
	struct xcall_wire_reply r;
	int ret;

	ret = get_hdr(buf, len, XCALL_WIRE_CALL_REPLY, id, &h);
	if (ret)
		return ret;
	if (len < HDR + sizeof(r))
		return -EBADMSG;
	memcpy(&r, (const char *)buf + HDR, sizeof(r));
	if (r.reserved || h.error > 0)
		return -EINVAL;
	if (r.nres > XCALL_WIRE_MAX_CPUS)
		return -EMSGSIZE;
	if (len != HDR + sizeof(r) + (size_t)r.nres *
		   sizeof(struct xcall_result))
		return -EBADMSG;
	/* A refused request carries no records. */
	if (h.error && r.nres)
		return -EBADMSG;
	out->error = h.error;
	out->nres = r.nres;
	out->res = (const uint8_t *)buf + HDR + sizeof(r);
	return 0;
}

void __xcall_wire_reply_res(const struct xcall_wire_callrep *rep,
			    unsigned int i, struct xcall_result *res)
{
	memcpy(res, rep->res + (size_t)i * sizeof(*res), sizeof(*res));
}

int __xcall_wire_enc_status_req(void *buf, size_t cap, uint64_t id)
{
	if (cap < HDR)
		return -ENOSPC;
	put_hdr(buf, XCALL_WIRE_STATUS, HDR, id, 0);
	return (int)HDR;
}

int __xcall_wire_enc_error(void *buf, size_t cap, uint64_t id, int error)
{
	if (error >= 0)
		return -EINVAL;
	if (cap < HDR)
		return -ENOSPC;
	put_hdr(buf, XCALL_WIRE_ERROR, HDR, id, error);
	return (int)HDR;
}

int __xcall_wire_enc_status(void *buf, size_t cap, uint64_t id,
			    const struct xcall_wire_status *st,
			    const uint64_t *fn_calls, unsigned int nr_fns)
{
	struct xcall_wire_status s = *st;
	size_t len;

	if (nr_fns > XCALL_WIRE_MAX_FNS)
		return -EINVAL;
	len = HDR + sizeof(s) + (size_t)nr_fns * sizeof(uint64_t);
	if (cap < len)
		return -ENOSPC;
	s.nr_fns = nr_fns;
	s.version[XCALL_WIRE_VERSION_LEN - 1] = '\0';
	memset(s.reserved, 0, sizeof(s.reserved));
	put_hdr(buf, XCALL_WIRE_STATUS_REPLY, len, id, 0);
	memcpy((char *)buf + HDR, &s, sizeof(s));
	if (nr_fns)
		memcpy((char *)buf + HDR + sizeof(s), fn_calls,
		       (size_t)nr_fns * sizeof(uint64_t));
	return (int)len;
}

int __xcall_wire_dec_status(const void *buf, size_t len, uint64_t *id,
			    struct xcall_wire_status *st,
			    uint64_t *fn_calls, unsigned int max_fns)
{
	struct xcall_wire_hdr h;
	unsigned int i;
	int ret;

	ret = get_hdr(buf, len, XCALL_WIRE_STATUS_REPLY, id, &h);
	if (ret)
		return ret;
	if (h.error)
		return -EINVAL;
	if (len < HDR + sizeof(*st))
		return -EBADMSG;
	memcpy(st, (const char *)buf + HDR, sizeof(*st));
	if (st->nr_fns > XCALL_WIRE_MAX_FNS)
		return -EMSGSIZE;
	if (len != HDR + sizeof(*st) + (size_t)st->nr_fns * sizeof(uint64_t))
		return -EBADMSG;
	if (memchr(st->version, '\0', sizeof(st->version)) == NULL)
		return -EINVAL;
	for (i = 0; i < max_fns; i++) {
		fn_calls[i] = 0;
		if (i < st->nr_fns)
			memcpy(&fn_calls[i], (const char *)buf + HDR +
			       sizeof(*st) + i * sizeof(uint64_t),
			       sizeof(uint64_t));
	}
	return 0;
}
