// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall status`: which backend this machine gives xcall (what AUTO picks),
 * and what the daemon says of itself: version, the backend it serves
 * through, uptime, clients, calls served, denials and calls per function.
 * One STATUS frame over the daemon's socket (lib/wire.h).
 *
 * Exit status 0, or 3 (XC_EXIT_BACKEND) when the daemon does not answer;
 * the output then says so ("daemon": null in JSON).
 */
#include <argp.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "format.h"
#include "wire.h"

#define STATUS_TIMEOUT_MS	5000

static const struct argp_option status_options[] = {
	XC_OPTION_JSON("one JSON object", 0),
	XC_OPTION_SOCKET("the daemon's socket (default $XCALL_SOCKET, else "
			 XCALL_DEFAULT_SOCKET ")", 0),
	{ 0 }
};

static const char status_doc[] = "Show the backend xcall uses here and the "
	"state of xcalld: version, backend, uptime, clients, calls served, "
	"denials and calls per function.";

struct daemon_status {
	struct xcall_wire_status st;
	uint64_t calls[XCALL_WIRE_MAX_FNS];
};

/* Ask the daemon at @path; 0 or -errno. */
static int ask_daemon(const char *path, struct daemon_status *ds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static uint8_t buf[XCALL_WIRE_MAX_FRAME];
	struct pollfd pfd = { .events = POLLIN };
	uint64_t id;
	ssize_t n;
	int fd, ret, len;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto out_close;
	}
	len = __xcall_wire_enc_status_req(buf, sizeof(buf), 1);
	if (send(fd, buf, len, MSG_NOSIGNAL) != len) {
		ret = -errno;
		goto out_close;
	}
	pfd.fd = fd;
	ret = poll(&pfd, 1, STATUS_TIMEOUT_MS);
	if (ret <= 0) {
		ret = ret ? -errno : -ETIMEDOUT;
		goto out_close;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		ret = n ? -errno : -ECONNRESET;
		goto out_close;
	}
	ret = __xcall_wire_dec_status(buf, n, &id, &ds->st, ds->calls,
				      XCALL_WIRE_MAX_FNS);
	if (!ret && id != 1)
		ret = -EPROTO;
out_close:
	close(fd);
	return ret;
}

static const char *auto_backend(void)
{
	struct xcall *x;
	const char *name;

	if (xcall_open(&x, NULL))
		return NULL;
	name = xcall_backend_name(xcall_backend_of(x));
	xcall_close(x);
	return name;
}

static void uptime_text(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ULL;

	if (s >= 86400)
		snprintf(buf, len, "%llud %lluh %llum",
			 (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else if (s >= 3600)
		snprintf(buf, len, "%lluh %llum %llus",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llum %llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
}

static void status_json(struct sbuf *sb, const char *bk, const char *path,
			const struct daemon_status *ds, int err)
{
	const struct xcall_wire_status *st = &ds->st;
	unsigned int i;

	sb_puts(sb, "{\"version\":");
	sb_json_str(sb, XCALL_VERSION);
	sb_puts(sb, ",\"backend\":");
	sb_json_str(sb, bk);
	sb_puts(sb, ",\"socket\":");
	sb_json_str(sb, path);
	if (err) {
		sb_puts(sb, ",\"daemon\":null,\"daemon_error\":");
		sb_json_str(sb, strerror(-err));
		sb_puts(sb, "}\n");
		return;
	}
	sb_puts(sb, ",\"daemon\":{\"version\":");
	sb_json_str(sb, st->version);
	sb_puts(sb, ",\"backend\":");
	sb_json_str(sb, xcall_backend_name(st->backend));
	sb_printf(sb, ",\"uptime_s\":%.3f,\"clients\":%llu,"
		  "\"clients_total\":%llu,\"calls_served\":%llu,"
		  "\"denied\":%llu,\"malformed\":%llu,\"inflight\":%llu,"
		  "\"cancelled\":%llu,\"calls\":{",
		  (double)st->uptime_ns / 1e9,
		  (unsigned long long)st->clients,
		  (unsigned long long)st->clients_total,
		  (unsigned long long)st->served,
		  (unsigned long long)st->denied,
		  (unsigned long long)st->errors,
		  (unsigned long long)st->inflight,
		  (unsigned long long)st->cancelled);
	for (i = 0; i < st->nr_fns; i++) {
		const struct xcall_fn_info *fi = xcall_fn_by_id(i);
		char key[16];

		if (i)
			sb_putc(sb, ',');
		if (!fi)
			snprintf(key, sizeof(key), "%u", i);
		sb_json_str(sb, fi ? fi->name : key);
		sb_printf(sb, ":%llu", (unsigned long long)ds->calls[i]);
	}
	sb_puts(sb, "}}}\n");
}

static void status_text(struct sbuf *sb, const char *bk, const char *path,
			const struct daemon_status *ds, int err)
{
	const struct xcall_wire_status *st = &ds->st;
	char up[64], num[32];
	struct table t;
	unsigned int i;

	sb_printf(sb, "xcall         %s\n", XCALL_VERSION);
	sb_printf(sb, "backend       %s\n", bk ? bk : "none");
	sb_printf(sb, "daemon        %s\n", path);
	if (err) {
		sb_printf(sb, "              not answering: %s\n",
			  strerror(-err));
		return;
	}
	uptime_text(st->uptime_ns, up, sizeof(up));
	sb_printf(sb, "  version     %s\n", st->version);
	sb_printf(sb, "  serving by  %s\n",
		  st->backend == XCALL_BACKEND_KMOD ? "kmod (/dev/xcall)" :
		  "threads (its own workers)");
	sb_printf(sb, "  uptime      %s\n", up);
	sb_printf(sb, "  clients     %llu now, %llu since start\n",
		  (unsigned long long)st->clients,
		  (unsigned long long)st->clients_total);
	sb_printf(sb, "  calls       %llu served, %llu in flight, %llu cancelled "
		  "(their client left)\n",
		  (unsigned long long)st->served,
		  (unsigned long long)st->inflight,
		  (unsigned long long)st->cancelled);
	sb_printf(sb, "  refused     %llu denied by policy, %llu malformed\n",
		  (unsigned long long)st->denied,
		  (unsigned long long)st->errors);
	sb_puts(sb, "\n");
	table_init(&t, 2);
	table_right(&t, 1);
	table_add(&t, (const char *const[]){ "FUNCTION", "CALLS" });
	for (i = 0; i < st->nr_fns; i++) {
		const struct xcall_fn_info *fi = xcall_fn_by_id(i);

		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)ds->calls[i]);
		table_add(&t, (const char *const[]){ fi ? fi->name : "?",
						     num });
	}
	table_render(&t, sb);
	table_free(&t);
}

int cmd_status(int argc, char **argv)
{
	struct daemon_status ds;
	struct xc_opts a;
	const char *bk;
	struct sbuf sb;
	int err, ret;

	if (xc_parse_opts("status", status_options, status_doc, argc, argv,
			  &a))
		return XC_EXIT_USAGE;
	if (!a.socket)
		a.socket = getenv("XCALL_SOCKET");
	if (!a.socket || !*a.socket)
		a.socket = XCALL_DEFAULT_SOCKET;
	memset(&ds, 0, sizeof(ds));
	err = ask_daemon(a.socket, &ds);
	bk = auto_backend();
	sb_init(&sb);
	if (a.json)
		status_json(&sb, bk, a.socket, &ds, err);
	else
		status_text(&sb, bk, a.socket, &ds, err);
	ret = xc_emit(&sb);
	if (ret)
		return ret;
	if (err) {
		xc_err("status", "daemon at %s: %s", a.socket, strerror(-err));
		return XC_EXIT_BACKEND;
	}
	return XC_EXIT_OK;
}
