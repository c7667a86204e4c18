// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the subcommands of xcall share: one-line diagnostics, number
 * parsing, CPU sets of one size, writing stdout, opening a backend with
 * a message that says which one and why not.
 */
#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "format.h"

void xc_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xcall: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* An unsigned number (decimal, 0x hex, 0 octal): 0, -EINVAL or -ERANGE. */
static int parse_u64(const char *s, uint64_t *v)
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

int xc_parse_num(const char *what, const char *s, uint64_t min,
		 uint64_t max, uint64_t *v)
{
	int ret = parse_u64(s, v);

	if (ret == -EINVAL && s[0] == '-' && parse_u64(s + 1, v) != -EINVAL)
		xc_err(what, "%s is negative: out of range %llu..%llu", s,
		       (unsigned long long)min, (unsigned long long)max);
	else if (ret == -EINVAL)
		xc_err(what, "'%s' is not a number", s);
	else if (ret || *v < min || *v > max)
		xc_err(what, "%s out of range %llu..%llu", s,
		       (unsigned long long)min, (unsigned long long)max);
	else
		return 0;
	return XC_EXIT_USAGE;
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

int xc_read_cpus(const char *cmd, cpu_set_t *possible, cpu_set_t *online)
{
	if (xcall_cpus_possible(possible, XC_SETSIZE) ||
	    xcall_cpus_online(online, XC_SETSIZE)) {
		xc_err(cmd, "cannot read the CPUs of this machine");
		return XC_EXIT_REFUSED;
	}
	return XC_EXIT_OK;
}

static int stdout_reported;	/* xc_write_stdout() said why already */
static FILE *real_stderr;	/* stderr while xc_argp_parse() runs */

int xc_write_stdout(const char *buf, size_t len)
{
	if ((len && fwrite(buf, 1, len, stdout) != len) || fflush(stdout)) {
		xc_err("stdout", "%s", strerror(errno));
		stdout_reported = 1;
		return XC_EXIT_OUTPUT;
	}
	return XC_EXIT_OK;
}

int xc_emit(struct sbuf *sb)
{
	int status;

	if (sb->oom) {
		xc_err("memory", "%s", strerror(ENOMEM));
		status = XC_EXIT_REFUSED;
	} else {
		status = xc_write_stdout(sb->s, sb->len);
	}
	sb_free(sb);
	return status;
}

char *xc_help_done(struct sbuf *sb, const char *text)
{
	if (!sb->oom)
		return sb->s;
	sb_free(sb);
	return (char *)text;
}

/*
 * At exit: what argp wrote to stdout itself (--help, --usage, --version)
 * is checked here, so that output that could not be written is status 74
 * on every path.
 */
static void check_stdout(void)
{
	int bad = fflush(stdout) != 0, err = errno;

	if (!bad && !ferror(stdout))
		return;
	if (real_stderr)
		stderr = real_stderr;	/* exit() from within argp */
	if (!stdout_reported)
		xc_err("stdout", "%s", bad ? strerror(err) : "write error");
	_exit(XC_EXIT_OUTPUT);
}

void xc_check_stdout_at_exit(void)
{
	atexit(check_stdout);
}

/*
 * argp's usage errors, and getopt's under it, are written to stderr as
 * "<program>: <why>" and a "Try ..." line. While argp parses, stderr is a
 * stream that rewrites each line into the one line every error of xcall
 * is, `xcall: <what>: <why>`, and drops the hint.
 */
static const char *usage_cmd;		/* "run", or NULL for xcall itself */
static const char *usage_prog;		/* argv[0], as getopt names it */
static char usage_line[1024];
static size_t usage_len;

/* If @s is "<head>'<q>'<tail>", copy <q> to @q: 1, else 0. */
static int quoted(const char *s, const char *head, char *q, size_t len)
{
	const char *end;
	size_t n = strlen(head);

	if (strncmp(s, head, n) || s[n] != '\'')
		return 0;
	s += n + 1;
	end = strchr(s, '\'');
	if (!end || (size_t)(end - s) >= len)
		return 0;
	memcpy(q, s, end - s);
	q[end - s] = '\0';
	return 1;
}

static void usage_emit(char *line)
{
	const char *why = line, *base = strrchr(usage_prog, '/');
	size_t n;
	char q[256];

	if (!strncmp(line, "Try ", 4) || !*line)
		return;
	/* getopt says argv[0], argp its base name. */
	n = strlen(usage_prog);
	if (!strncmp(line, usage_prog, n) && !strncmp(line + n, ": ", 2))
		why = line + n + 2;
	n = base ? strlen(++base) : 0;
	if (why == line && n && !strncmp(line, base, n) &&
	    !strncmp(line + n, ": ", 2))
		why = line + n + 2;
	if (quoted(why, "unrecognized option ", q, sizeof(q)))
		fprintf(real_stderr, "xcall: %s: unknown option\n", q);
	else if (quoted(why, "invalid option -- ", q, sizeof(q)))
		fprintf(real_stderr, "xcall: -%s: unknown option\n", q);
	else if (quoted(why, "option requires an argument -- ", q, sizeof(q)))
		fprintf(real_stderr, "xcall: -%s: requires an argument\n", q);
	else if (quoted(why, "option ", q, sizeof(q)) &&
		 strstr(why, "' requires an argument"))
		fprintf(real_stderr, "xcall: %s: requires an argument\n", q);
	else if (quoted(why, "option ", q, sizeof(q)) &&
		 strstr(why, "' doesn't allow an argument"))
		fprintf(real_stderr, "xcall: %s: takes no argument\n", q);
	else if (quoted(why, "option ", q, sizeof(q)) &&
		 strstr(why, "' is ambiguous"))
		fprintf(real_stderr, "xcall: %s: ambiguous option\n", q);
	else if (usage_cmd)
		fprintf(real_stderr, "xcall: %s: %s\n", usage_cmd, why);
	else
		fprintf(real_stderr, "xcall: %s\n", why);
}

static ssize_t usage_write(void *cookie, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			usage_line[usage_len] = '\0';
			usage_emit(usage_line);
			usage_len = 0;
		} else if (usage_len < sizeof(usage_line) - 1) {
			usage_line[usage_len++] = buf[i];
		}
	}
	return n;
}

int xc_argp_parse(const struct argp *argp, const char *cmd, int argc,
		  char **argv, unsigned int flags, void *input)
{
	cookie_io_functions_t io = { .write = usage_write };
	FILE *f = fopencookie(NULL, "w", io);
	int ret;

	if (f) {
		setvbuf(f, NULL, _IONBF, 0);
		real_stderr = stderr;
		usage_cmd = cmd;
		usage_prog = argc > 0 ? argv[0] : "xcall";
		stderr = f;
	}
	ret = argp_parse(argp, argc, argv, flags, NULL, input);
	if (f) {
		stderr = real_stderr;
		fclose(f);
	}
	return ret;
}

error_t xc_opt_set(struct xc_opts *o, int key, char *arg)
{
	switch (key) {
	case XC_KEY_JSON:
		o->json = 1;
		return 0;
	case XC_KEY_BACKEND:
		o->backend = arg;
		return 0;
	case XC_KEY_TIMEOUT:
		o->timeout = arg;
		return 0;
	case XC_KEY_SOCKET:
		o->socket = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static error_t opts_parse(int key, char *arg, struct argp_state *state)
{
	if (key == ARGP_KEY_ARG) {
		argp_error(state, "takes no arguments ('%s' given)", arg);
		return EINVAL;
	}
	return xc_opt_set(state->input, key, arg);
}

int xc_parse_opts(const char *cmd, const struct argp_option *options,
		  const char *doc, int argc, char **argv, struct xc_opts *o)
{
	const struct argp argp = {
		.options = options,
		.parser = opts_parse,
		.doc = doc,
	};

	memset(o, 0, sizeof(*o));
	return xc_argp_parse(&argp, cmd, argc, argv, 0, o) ? XC_EXIT_USAGE : 0;
}

int xc_opt_timeout(const struct xc_opts *o, unsigned int *ms)
{
	uint64_t v;
	int ret;

	if (!o->timeout)
		return 0;
	ret = xc_parse_num("--timeout", o->timeout, 1, XCALL_MAX_TIMEOUT_MS,
			   &v);
	if (!ret)
		*ms = v;
	return ret;
}

int xc_run_failed(struct xcall *x, const char *what, int err)
{
	char label[64];

	if (err != -ECONNRESET) {
		xc_err(what, "%s", fmt_errmsg(err));
		return XC_EXIT_REFUSED;
	}
	snprintf(label, sizeof(label), "backend %s",
		 xcall_backend_name(xcall_backend_of(x)));
	xc_err(label, "connection lost (the daemon exited, or refused "
	       "this client)");
	return XC_EXIT_BACKEND;
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
