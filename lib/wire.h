/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The xcalld wire protocol: framed messages over an AF_UNIX SOCK_SEQPACKET
 * socket, one frame per packet. Shared by xcalld and libxcall's daemon
 * backend, and fuzzed on its own (tests/fuzz/): everything here is pure,
 * takes a buffer and its length, checks every length before it reads, and
 * returns -errno for anything malformed.
 *
 * Every frame starts with struct xcall_wire_hdr. The byte order is the
 * host's: both ends are on the same machine. Frames:
 *
 *   CALL          client -> daemon  struct xcall_wire_call + CPU bitmap
 *   CALL_REPLY    daemon -> client  struct xcall_wire_reply + results
 *   STATUS        client -> daemon  header only
 *   STATUS_REPLY  daemon -> client  struct xcall_wire_status + counts
 *   ERROR         daemon -> client  header only, @error says why
 *
 * The client picks @id; a reply carries the id of its request. Requests are
 * pipelined and replies may come in any order. The daemon never interprets
 * ids, so a client that reuses one only confuses itself.
 */
#ifndef XCALL_WIRE_H
#define XCALL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "libxcall.h"

#define XCALL_WIRE_MAGIC	0x5843		/* "XC" */
#define XCALL_WIRE_VERSION	1

enum xcall_wire_type {
	XCALL_WIRE_CALL		= 1,
	XCALL_WIRE_STATUS	= 2,
	XCALL_WIRE_CALL_REPLY	= 0x81,
	XCALL_WIRE_STATUS_REPLY	= 0x82,
	XCALL_WIRE_ERROR	= 0xff,
};

struct xcall_wire_hdr {
	uint16_t magic;		/* XCALL_WIRE_MAGIC */
	uint8_t version;	/* XCALL_WIRE_VERSION */
	uint8_t type;		/* enum xcall_wire_type */
	uint32_t len;		/* the whole frame, header included */
	uint64_t id;		/* the client's request id, echoed */
	int32_t error;		/* replies: 0 or -errno; requests: 0 */
	uint32_t reserved;	/* 0 */
};

struct xcall_wire_call {
	uint32_t fn;		/* enum xcall_fn */
	uint32_t flags;		/* XCALL_CALL_* */
	uint32_t timeout_ms;	/* 0: XCALL_DEFAULT_TIMEOUT_MS */
	uint32_t nargs;
	uint64_t args[XCALL_MAX_ARGS];
	uint32_t cpuset_size;	/* bytes of bitmap that follow, 8 * n */
	uint32_t reserved;	/* 0 */
};

struct xcall_wire_reply {
	uint32_t nres;		/* struct xcall_result records that follow */
	uint32_t reserved;
};

#define XCALL_WIRE_VERSION_LEN	16

struct xcall_wire_status {
	char version[XCALL_WIRE_VERSION_LEN];	/* NUL-terminated */
	uint32_t backend;	/* enum xcall_backend serving the calls */
	uint32_t nr_fns;	/* uint64_t call counts that follow, by fn id */
	uint64_t uptime_ns;
	uint64_t clients;	/* connected now */
	uint64_t clients_total;	/* accepted since start */
	uint64_t served;	/* calls answered */
	uint64_t denied;	/* calls refused by the policy */
	uint64_t errors;	/* malformed frames */
	uint64_t inflight;	/* calls running now */
	uint64_t reserved[4];
};

/*
 * Limits. A call names at most XCALL_WIRE_MAX_CPUS CPUs, so a reply fits in
 * one packet the default socket buffers take; the client splits a larger
 * set into several calls.
 */
#define XCALL_WIRE_MAX_CPUS	256
#define XCALL_WIRE_MAX_FNS	64
#define XCALL_WIRE_MAX_REQ	(sizeof(struct xcall_wire_hdr) + \
				 sizeof(struct xcall_wire_call) + \
				 XCALL_MAX_CPUSET_BYTES)
#define XCALL_WIRE_MAX_REPLY	(sizeof(struct xcall_wire_hdr) + \
				 sizeof(struct xcall_wire_reply) + \
				 XCALL_WIRE_MAX_CPUS * sizeof(struct xcall_result))
#define XCALL_WIRE_MAX_STATUS	(sizeof(struct xcall_wire_hdr) + \
				 sizeof(struct xcall_wire_status) + \
				 XCALL_WIRE_MAX_FNS * sizeof(uint64_t))
#define XCALL_WIRE_MAX_FRAME	XCALL_WIRE_MAX_REPLY

/* A decoded CALL. @cpuset points into the frame it was decoded from. */
struct xcall_wire_callreq {
	struct xcall_req req;
	const uint8_t *cpuset;
	uint32_t cpuset_size;
	uint32_t ncpus;		/* bits set in @cpuset */
};

/* A decoded CALL_REPLY. @res points into the frame (may be unaligned). */
struct xcall_wire_callrep {
	int32_t error;
	uint32_t nres;
	const uint8_t *res;
};

/*
 * Check the header of the frame @buf of @len bytes and copy it to @h.
 * Returns the frame type, or:
 *   -EBADMSG           too short, bad magic, or @h->len != @len
 *   -EPROTONOSUPPORT   another protocol version
 *   -EINVAL            a reserved field is not zero
 * A frame whose header is readable but too long for the receiver is told
 * apart by the caller (it knows how much it received).
 */
int __xcall_wire_hdr(const void *buf, size_t len, struct xcall_wire_hdr *h);

/* Read the id of a frame too broken for __xcall_wire_hdr(): 0 if none. */
uint64_t __xcall_wire_peek_id(const void *buf, size_t len);

/*
 * Encoders: write one frame into @buf (@cap bytes). Return its length, or
 * -ENOSPC when @cap is too small, -EINVAL/-EMSGSIZE for arguments that
 * could never make a valid frame.
 */
int __xcall_wire_enc_call(void *buf, size_t cap, uint64_t id,
			  const struct xcall_req *req,
			  const void *cpuset, size_t cpuset_size);
/*
 * With @res NULL and @nres > 0 the records are left for the caller to write
 * at XCALL_WIRE_REPLY_RES + i * sizeof(struct xcall_result).
 */
int __xcall_wire_enc_reply(void *buf, size_t cap, uint64_t id, int error,
			   const struct xcall_result *res, unsigned int nres);
#define XCALL_WIRE_REPLY_RES	(sizeof(struct xcall_wire_hdr) + \
				 sizeof(struct xcall_wire_reply))
int __xcall_wire_enc_status_req(void *buf, size_t cap, uint64_t id);
int __xcall_wire_enc_status(void *buf, size_t cap, uint64_t id,
			    const struct xcall_wire_status *st,
			    const uint64_t *fn_calls, unsigned int nr_fns);
int __xcall_wire_enc_error(void *buf, size_t cap, uint64_t id, int error);

/*
 * Decoders: check the whole frame (header included) and fill @out.
 * -EBADMSG for a frame of another type or a body that does not match its
 * length; -EINVAL for reserved fields, flags or sizes out of range;
 * -EMSGSIZE for more CPUs or records than a frame may hold.
 */
int __xcall_wire_dec_call(const void *buf, size_t len, uint64_t *id,
			  struct xcall_wire_callreq *out);
int __xcall_wire_dec_reply(const void *buf, size_t len, uint64_t *id,
			   struct xcall_wire_callrep *out);
/* Copy record @i of a decoded reply (i < out->nres) to @res. */
void __xcall_wire_reply_res(const struct xcall_wire_callrep *rep,
			    unsigned int i, struct xcall_result *res);
/* @fn_calls holds @max_fns counts; unused ones are zeroed. */
int __xcall_wire_dec_status(const void *buf, size_t len, uint64_t *id,
			    struct xcall_wire_status *st,
			    uint64_t *fn_calls, unsigned int max_fns);

#endif /* XCALL_WIRE_H */
