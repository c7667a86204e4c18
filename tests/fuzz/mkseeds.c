// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpus of fuzz_wire into the directory given: one valid
 * frame of each kind. Run by hand when the protocol changes; the output is
 * committed in tests/fuzz/corpus/wire. After `make` (for xcall_version.h):
 *   cc -D_GNU_SOURCE -Ikmod/uapi -Ilib -Ibuild/include -o mkseeds \
 *	tests/fuzz/mkseeds.c lib/wire.c && ./mkseeds tests/fuzz/corpus/wire
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

static uint8_t buf[XCALL_WIRE_MAX_FRAME];

static void put(const char *dir, const char *name, int len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || len < 0 || fwrite(buf, 1, len, f) != (size_t)len)
		perror(path);
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct xcall_req req = { .fn = XCALL_FN_IDENT, .nargs = 2,
				 .args = { 7, 0 }, .timeout_ms = 100 };
	struct xcall_wire_status st = { .backend = 1, .served = 5 };
	uint64_t calls[6] = { 1, 2, 3, 4, 5, 0 };
	struct xcall_result res[3];
	uint8_t set[16] = { 0x0f, 0, 0, 0, 0, 0, 0, 0, 0x80 };
	const char *dir = argc > 1 ? argv[1] : ".";
	int i;

	put(dir, "call-ident", __xcall_wire_enc_call(buf, sizeof(buf), 1, &req,
						     set, 16));
	req.fn = XCALL_FN_SPIN;
	req.nargs = 1;
	req.args[0] = 100;
	req.args[1] = 0;
	req.flags = XCALL_CALL_NOWAIT;
	put(dir, "call-spin-nowait", __xcall_wire_enc_call(buf, sizeof(buf),
							   2, &req, set, 8));
	memset(res, 0, sizeof(res));
	for (i = 0; i < 3; i++) {
		res[i].cpu = i;
		strcpy(res[i].comm, "swapper/0");
	}
	put(dir, "reply-3", __xcall_wire_enc_reply(buf, sizeof(buf), 3, 0, res,
						   3));
	put(dir, "reply-eperm", __xcall_wire_enc_reply(buf, sizeof(buf), 4,
						       -1, NULL, 0));
	put(dir, "status-req", __xcall_wire_enc_status_req(buf, sizeof(buf),
							   5));
	strcpy(st.version, XCALL_VERSION);
	put(dir, "status", __xcall_wire_enc_status(buf, sizeof(buf), 6, &st,
						   calls, 6));
	put(dir, "error", __xcall_wire_enc_error(buf, sizeof(buf), 7, -71));
	return 0;
}
