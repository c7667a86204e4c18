// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcalld's policy: who may run which function on which CPUs, and how fast.
 * The grammar is in xcalld.conf(5):
 *
 *   allow WHO FUNCTIONS [cpus=LIST]
 *   deny  WHO FUNCTIONS [cpus=LIST]
 *   limit WHO [rate=N] [burst=N] [inflight=N] [conns=N]
 *
 * The first allow/deny rule that matches the caller, the function and the
 * CPUs decides; none matching means deny. The first limit rule matching the
 * caller sets the limits of its uid, shared by all its connections (conn.c).
 * Names are resolved once, at load.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xcalld.h"

#define POLICY_MAX_BYTES	(1 << 20)
#define POLICY_CPUS		(XCALL_MAX_CPUSET_BYTES * 8)

const char xd_policy_default[] =
	"# Everyone may run the unprivileged functions on any CPU.\n"
	"allow * unprivileged\n"
	"# root and the members of group xcall may run every function.\n"
	"allow uid:0 *\n"
	"allow group:xcall *\n"
	"# At most 256 calls of one user run at once, on 64 connections.\n"
	"limit * inflight=256\n";

enum who_kind { WHO_ANY, WHO_UID, WHO_GID, WHO_NOBODY };

struct who {
	enum who_kind kind;
	unsigned int id;
};

struct rule {
	bool allow;
	struct who who;
	uint64_t fns;		/* bit per function id */
	uint8_t *cpus;		/* XCALL_MAX_CPUSET_BYTES bitmap; NULL: any */
};

struct limit {
	struct who who;
	struct xd_limits lim;
};

struct xd_policy {
	struct rule *rules;
	unsigned int nrules;
	struct limit *limits;
	unsigned int nlimits;
};

static const struct xd_limits default_limits = {
	.rate = 0, .burst = 0, .inflight = 256, .conns = 64,
};

void xd_policy_free(struct xd_policy *p)
{
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->nrules; i++)
		free(p->rules[i].cpus);
	free(p->rules);
	free(p->limits);
	free(p);
}

static int parse_uint(const char *s, unsigned int max, unsigned int *v)
{
	unsigned long n;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*v = (unsigned int)n;
	return 0;
}

struct parser {
	const char *name;
	unsigned int line;
	char *err;
	size_t errlen;
	void (*warn)(const char *msg);
};

static int fail(struct parser *ps, const char *fmt, const char *arg)
{
	char what[256];

	snprintf(what, sizeof(what), fmt, arg);
	snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->name, ps->line, what);
	return -EINVAL;
}

static void warn(struct parser *ps, const char *fmt, const char *arg)
{
	char what[256], msg[512];

	if (!ps->warn)
		return;
	snprintf(what, sizeof(what), fmt, arg);
	snprintf(msg, sizeof(msg), "%s:%u: %s", ps->name, ps->line, what);
	ps->warn(msg);
}

static int parse_who(struct parser *ps, const char *s, struct who *w)
{
	const char *v = strchr(s, ':');
	struct passwd *pw;
	struct group *gr;

	if (!strcmp(s, "*")) {
		w->kind = WHO_ANY;
		return 0;
	}
	if (!v || !v[1])
		return fail(ps, "'%s': expected *, user:, uid:, group: or gid:",
			    s);
	v++;
	if (!strncmp(s, "uid:", 4) || !strncmp(s, "gid:", 4)) {
		w->kind = s[0] == 'u' ? WHO_UID : WHO_GID;
		if (parse_uint(v, 0xfffffffe, &w->id))
			return fail(ps, "'%s': not a number", s);
		return 0;
	}
	if (!strncmp(s, "user:", 5)) {
		pw = getpwnam(v);
		w->kind = pw ? WHO_UID : WHO_NOBODY;
		w->id = pw ? pw->pw_uid : 0;
		if (!pw)
			warn(ps, "no user '%s': the rule matches nobody", v);
		return 0;
	}
	if (!strncmp(s, "group:", 6)) {
		gr = getgrnam(v);
		w->kind = gr ? WHO_GID : WHO_NOBODY;
		w->id = gr ? gr->gr_gid : 0;
		if (!gr)
			warn(ps, "no group '%s': the rule matches nobody", v);
		return 0;
	}
	return fail(ps, "'%s': expected *, user:, uid:, group: or gid:", s);
}

static int parse_fns(struct parser *ps, char *s, uint64_t *fns)
{
	const struct xcall_fn_info *fi;
	unsigned int i, n = xcall_fn_count();
	char *tok, *save;

	*fns = 0;
	for (tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "*") || !strcmp(tok, "all")) {
			*fns |= ~0ULL;
			continue;
		}
		if (!strcmp(tok, "unprivileged") ||
		    !strcmp(tok, "privileged")) {
			bool priv = tok[0] == 'p';

			for (i = 0; i < n && i < 64; i++) {
				fi = xcall_fn_by_id(i);
				if (fi && (fi->priv != XCALL_PRIV_ANY) == priv)
					*fns |= 1ULL << i;
			}
			continue;
		}
		fi = xcall_fn_by_name(tok);
		if (!fi || fi->id >= 64)
			return fail(ps, "no function '%s'", tok);
		*fns |= 1ULL << fi->id;
	}
	if (!*fns)
		return fail(ps, "%s", "no functions named");
	return 0;
}

static int parse_cpus(struct parser *ps, const char *s, uint8_t **out)
{
	size_t sz = CPU_ALLOC_SIZE(POLICY_CPUS);
	cpu_set_t *set = CPU_ALLOC(POLICY_CPUS);
	unsigned int c;
	uint8_t *bits;

	bits = calloc(1, XCALL_MAX_CPUSET_BYTES);
	if (!set || !bits)
		goto out_nomem;
	if (xcall_cpulist_parse(s, set, sz)) {
		CPU_FREE(set);
		free(bits);
		return fail(ps, "cpus=%s: not a CPU list", s);
	}
	for (c = 0; c < POLICY_CPUS; c++)
		if (CPU_ISSET_S(c, sz, set))
			bits[c / 8] |= 1U << (c % 8);
	CPU_FREE(set);
	*out = bits;
	return 0;
out_nomem:
	CPU_FREE(set);
	free(bits);
	snprintf(ps->err, ps->errlen, "%s: out of memory", ps->name);
	return -ENOMEM;
}

static int parse_rule(struct parser *ps, struct xd_policy *p, bool allow,
		      char **tok, int ntok)
{
	struct rule r = { .allow = allow };
	struct rule *nr;
	int i, ret;

	if (ntok < 3)
		return fail(ps, "%s: expected WHO FUNCTIONS [cpus=LIST]",
			    tok[0]);
	ret = parse_who(ps, tok[1], &r.who);
	if (ret)
		return ret;
	ret = parse_fns(ps, tok[2], &r.fns);
	if (ret)
		return ret;
	for (i = 3; i < ntok; i++) {
		if (strncmp(tok[i], "cpus=", 5) || r.cpus) {
			free(r.cpus);
			return fail(ps, "'%s': expected cpus=LIST once", tok[i]);
		}
		ret = parse_cpus(ps, tok[i] + 5, &r.cpus);
		if (ret)
			return ret;
	}
	nr = realloc(p->rules, (p->nrules + 1) * sizeof(*nr));
	if (!nr) {
		free(r.cpus);
		return -ENOMEM;
	}
	p->rules = nr;
	p->rules[p->nrules++] = r;
	return 0;
}

static int parse_limit(struct parser *ps, struct xd_policy *p,
		       char **tok, int ntok)
{
	struct limit l = { .lim = default_limits };
	bool burst = false;
	struct limit *nl;
	unsigned int *v;
	int i, ret;

	if (ntok < 2)
		return fail(ps, "%s", "limit: expected WHO [rate=N] [burst=N] "
			    "[inflight=N] [conns=N]");
	ret = parse_who(ps, tok[1], &l.who);
	if (ret)
		return ret;
	for (i = 2; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');

		if (!eq)
			return fail(ps, "'%s': expected KEY=N", tok[i]);
		*eq = '\0';
		if (!strcmp(tok[i], "rate")) {
			v = &l.lim.rate;
		} else if (!strcmp(tok[i], "burst")) {
			v = &l.lim.burst;
			burst = true;
		} else if (!strcmp(tok[i], "inflight")) {
			v = &l.lim.inflight;
		} else if (!strcmp(tok[i], "conns")) {
			v = &l.lim.conns;
		} else {
			return fail(ps, "'%s': expected rate, burst, inflight "
				    "or conns", tok[i]);
		}
		if (parse_uint(eq + 1, 1000000, v))
			return fail(ps, "'%s': not a number up to 1000000",
				    eq + 1);
	}
	if (!l.lim.inflight)
		return fail(ps, "%s", "inflight=0 would never serve a call");
	if (!l.lim.conns)
		return fail(ps, "%s", "conns=0 would never serve a client");
	if (!burst)
		l.lim.burst = l.lim.rate;
	nl = realloc(p->limits, (p->nlimits + 1) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	p->limits = nl;
	p->limits[p->nlimits++] = l;
	return 0;
}

#define MAX_TOKENS	16

int xd_policy_parse(const char *text, const char *name,
		    struct xd_policy **out, char *err, size_t errlen,
		    void (*warnfn)(const char *msg))
{
	struct parser ps = {
		.name = name, .err = err, .errlen = errlen, .warn = warnfn,
	};
	char *copy, *line, *lsave, *tok[MAX_TOKENS];
	struct xd_policy *p;
	int ntok, ret = 0;

	p = calloc(1, sizeof(*p));
	copy = strdup(text);
	if (!p || !copy) {
		snprintf(err, errlen, "%s: out of memory", name);
		ret = -ENOMEM;
		goto out_free;
	}
	/* strtok_r would merge empty lines and so miscount them. */
	for (line = copy; line; line = lsave) {
		char *hash, *tsave, *t;

		lsave = strchr(line, '\n');
		if (lsave)
			*lsave++ = '\0';
		ps.line++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		ntok = 0;
		for (t = strtok_r(line, " \t\r", &tsave); t;
		     t = strtok_r(NULL, " \t\r", &tsave)) {
			if (ntok == MAX_TOKENS) {
				ret = fail(&ps, "%s", "too many words");
				goto out_free;
			}
			tok[ntok++] = t;
		}
		if (!ntok)
			continue;
		if (!strcmp(tok[0], "allow") || !strcmp(tok[0], "deny"))
			ret = parse_rule(&ps, p, tok[0][0] == 'a', tok, ntok);
		else if (!strcmp(tok[0], "limit"))
			ret = parse_limit(&ps, p, tok, ntok);
		else
			ret = fail(&ps, "'%s': expected allow, deny or limit",
				   tok[0]);
		if (ret)
			goto out_free;
	}
	free(copy);
	*out = p;
	return 0;
out_free:
	free(copy);
	xd_policy_free(p);
	return ret;
}

int xd_policy_load(const char *path, struct xd_policy **out,
		   char *err, size_t errlen, void (*warnfn)(const char *msg))
{
	size_t len = 0;
	ssize_t n;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	buf = malloc(POLICY_MAX_BYTES + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	while ((n = read(fd, buf + len, POLICY_MAX_BYTES + 1 - len)) > 0) {
		len += n;
		if (len > POLICY_MAX_BYTES)
			break;
	}
	if (n < 0 || len > POLICY_MAX_BYTES || memchr(buf, '\0', len)) {
		ret = n < 0 ? -errno : -EFBIG;
		snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) :
			 "not a text file of at most 1 MiB");
		goto out_free;
	}
	buf[len] = '\0';
	ret = xd_policy_parse(buf, path, out, err, errlen, warnfn);
out_free:
	free(buf);
out_close:
	close(fd);
	return ret;
}

static bool who_matches(const struct who *w, const struct xd_cred *c)
{
	int i;

	switch (w->kind) {
	case WHO_ANY:
		return true;
	case WHO_UID:
		return c->uid == w->id;
	case WHO_GID:
		if (c->gid == w->id)
			return true;
		for (i = 0; i < c->ngroups; i++)
			if (c->groups[i] == w->id)
				return true;
		return false;
	default:
		return false;
	}
}

static bool cpus_within(const uint8_t *allowed, const uint8_t *set,
			size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		uint8_t a = i < XCALL_MAX_CPUSET_BYTES ? allowed[i] : 0;

		if (set[i] & ~a)
			return false;
	}
	return true;
}

int xd_policy_check(const struct xd_policy *p, const struct xd_cred *c,
		    unsigned int fn, const uint8_t *cpuset, size_t size)
{
	unsigned int i;

	if (fn >= 64)
		return -EPERM;
	for (i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		if (!(r->fns & (1ULL << fn)) || !who_matches(&r->who, c))
			continue;
		if (r->cpus && !cpus_within(r->cpus, cpuset, size))
			continue;
		return r->allow ? 0 : -EPERM;
	}
	return -EPERM;
}

void xd_policy_limits(const struct xd_policy *p, const struct xd_cred *c,
		      struct xd_limits *out)
{
	unsigned int i;

	for (i = 0; i < p->nlimits; i++) {
		if (who_matches(&p->limits[i].who, c)) {
			*out = p->limits[i].lim;
			return;
		}
	}
	*out = default_limits;
}

unsigned int xd_policy_rules(const struct xd_policy *p)
{
	return p->nrules + p->nlimits;
}
