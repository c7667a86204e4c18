/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The codec of the xcalld wire protocol (the frames are in xcall/wire.h,
 * installed as <xcall/wire.h>; the contract is xcall-protocol(7)). Shared
 * by xcalld and libxcall's daemon backend, and fuzzed on its own
 * (tests/fuzz/): everything here is pure, takes a buffer and its length,
 * checks every length before it reads, and returns -errno for anything
 * malformed. Internal to libxcall: none of it is exported.
 */
#ifndef XCALL_WIRE_CODEC_H
#define XCALL_WIRE_CODEC_H

#include "xcall/wire.h"

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

#endif /* XCALL_WIRE_CODEC_H */
