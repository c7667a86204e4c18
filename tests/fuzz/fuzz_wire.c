// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the xcalld frame codec (lib/wire.c): any bytes go
 * through every decoder; whatever decodes must encode back to the same
 * bytes, and must never read past the frame (ASan sees to that).
 *
 *   make check-fuzz      runs it for FUZZ_SECONDS from tests/fuzz/corpus/wire
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[XCALL_WIRE_MAX_FRAME];

static void check_call(const uint8_t *data, size_t size)
{
	struct xcall_wire_callreq cr;
	uint64_t id;
	int len;

	if (__xcall_wire_dec_call(data, size, &id, &cr))
		return;
	len = __xcall_wire_enc_call(out, sizeof(out), id, &cr.req, cr.cpuset,
				    cr.cpuset_size);
	if (len != (int)size || memcmp(out, data, size))
		abort();
}

static void check_reply(const uint8_t *data, size_t size)
{
	static struct xcall_result res[XCALL_WIRE_MAX_CPUS];
	struct xcall_wire_callrep rep;
	unsigned int i;
	uint64_t id;
	int len;

	if (__xcall_wire_dec_reply(data, size, &id, &rep))
		return;
	for (i = 0; i < rep.nres; i++)
		__xcall_wire_reply_res(&rep, i, &res[i]);
	len = __xcall_wire_enc_reply(out, sizeof(out), id, rep.error, res,
				     rep.nres);
	if (len != (int)size || memcmp(out, data, size))
		abort();
}

static void check_status(const uint8_t *data, size_t size)
{
	uint64_t calls[XCALL_WIRE_MAX_FNS];
	struct xcall_wire_status st;
	uint64_t id;

	if (__xcall_wire_dec_status(data, size, &id, &st, calls,
				    XCALL_WIRE_MAX_FNS))
		return;
	if (st.nr_fns > XCALL_WIRE_MAX_FNS || !memchr(st.version, 0,
						       sizeof(st.version)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xcall_wire_hdr h;

	/* The codec must not care where a frame sits: use a fresh copy. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	(void)__xcall_wire_hdr(copy, size, &h);
	(void)__xcall_wire_peek_id(copy, size);
	check_call(copy, size);
	check_reply(copy, size);
	check_status(copy, size);
	free(copy);
	return 0;
}
