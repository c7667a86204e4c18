// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the subcommands of xcall share: one-line diagnostics, number
 * parsing, CPU sets of one size, writing stdout, opening a backend with
 * a message that says which one and why not.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void xc_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xcall: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int xc_parse_u64(const char *s, uint64_t *v)
{
	unsigned long long n;
	char *end;

	/* strtoull accepts blanks and a sign: a number here has neither. */
	if (!s || !(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*v = n;
	return 0;
}

cpu_set_t *xc_cpuset_alloc(void)
{
	cpu_set_t *s = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);

	if (!s) {
		xc_err("memory", "%s", strerror(ENOMEM));
		exit(XC_EXIT_REFUSED);
	}
	CPU_ZERO_S(XC_SETSIZE, s);
	return s;
}

int xc_write_stdout(const char *buf, size_t len)
{
	if ((len && fwrite(buf, 1, len, stdout) != len) || fflush(stdout)) {
		xc_err("stdout", "%s", strerror(errno));
		return XC_EXIT_OUTPUT;
	}
	return XC_EXIT_OK;
}

int xc_open_backend(struct xcall **xp, const char *name)
{
	struct xcall_opts opts = { .backend = XCALL_BACKEND_AUTO };
	const char *env = getenv("XCALL_BACKEND");
	const char *what = name;
	char label[64];
	int ret;

	if (name && xcall_backend_parse(name, &opts.backend)) {
		xc_err("--backend", "'%s': unknown backend "
		       "(auto, threads, kmod, daemon)", name);
		return XC_EXIT_USAGE;
	}
	if (opts.backend == XCALL_BACKEND_AUTO && env && *env) {
		what = env;
		if (xcall_backend_parse(env, &opts.backend)) {
			xc_err("XCALL_BACKEND", "'%s': unknown backend "
			       "(auto, threads, kmod, daemon)", env);
			return XC_EXIT_USAGE;
		}
	}
	ret = xcall_open(xp, &opts);
	if (!ret)
		return XC_EXIT_OK;
	snprintf(label, sizeof(label), "backend %s", what ? what : "auto");
	if (ret == -EOPNOTSUPP)
		xc_err(label, "not built into this libxcall");
	else if (opts.backend == XCALL_BACKEND_KMOD)
		xc_err(label, "%s: %s",
		       getenv("XCALL_DEVICE") ? getenv("XCALL_DEVICE") :
		       XCALL_DEFAULT_DEVICE,
		       ret == -EPROTO ? "module speaks another ABI version" :
		       strerror(-ret));
	else if (opts.backend == XCALL_BACKEND_DAEMON)
		xc_err(label, "%s: %s",
		       getenv("XCALL_SOCKET") ? getenv("XCALL_SOCKET") :
		       XCALL_DEFAULT_SOCKET, strerror(-ret));
	else
		xc_err(label, "%s", strerror(-ret));
	return XC_EXIT_BACKEND;
}
