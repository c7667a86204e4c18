/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The xcalld wire protocol, as installed: <xcall/wire.h>. What a client of
 * the daemon needs to talk to it without libxcall: the frames, their
 * fields and the limits. xcall-protocol(7) is the contract; this header is
 * its C spelling.
 *
 * An AF_UNIX SOCK_SEQPACKET socket, one frame per packet. Every frame
 * starts with struct xcall_wire_hdr. The byte order is the host's: both
 * ends are on the same machine. Every field sits at an offset that is a
 * multiple of its size, so a frame read into an 8-byte aligned buffer can
 * be read through these structs. Frames:
 *
 *   CALL          client -> daemon  struct xcall_wire_call + CPU bitmap
 *   CALL_REPLY    daemon -> client  struct xcall_wire_reply + results
 *   STATUS        client -> daemon  header only
 *   STATUS_REPLY  daemon -> client  struct xcall_wire_status + counts
 *   ERROR         daemon -> client  header only, @error says why
 *
 * The client picks @id; a reply carries the id of its request. Requests are
 * pipelined and replies may come in any order. The daemon never interprets
 * ids; it answers a frame too broken to read an id from (shorter than a
 * header, or of another magic) with id 0, which a client should not use.
 */
#ifndef XCALL_WIRE_H
#define XCALL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <libxcall.h>

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

/* CPU n is bit n % 8 of byte n / 8 of the bitmap that follows. */
struct xcall_wire_call {
	uint32_t fn;		/* enum xcall_fn */
	uint32_t flags;		/* XCALL_CALL_* */
	uint32_t timeout_ms;	/* 0: XCALL_DEFAULT_TIMEOUT_MS */
	uint32_t nargs;
	uint64_t args[XCALL_MAX_ARGS];	/* those past @nargs: 0 */
	uint32_t cpuset_size;	/* bytes of bitmap that follow, 8 * n */
	uint32_t reserved;	/* 0 */
};

struct xcall_wire_reply {
	uint32_t nres;		/* struct xcall_result records that follow */
	uint32_t reserved;	/* 0 */
};

/* Offset of the first record of a CALL_REPLY. */
#define XCALL_WIRE_REPLY_RES	(sizeof(struct xcall_wire_hdr) + \
				 sizeof(struct xcall_wire_reply))

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
	uint64_t cancelled;	/* calls dropped before they ran */
	uint64_t reserved[3];
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

#endif /* XCALL_WIRE_H */
