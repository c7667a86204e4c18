// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CPU lists in the taskset grammar, and the check of a CPU set against the
 * CPUs that exist and are online. Pure: no I/O, so it is table-tested.
 *
 *   list  := item { "," item }
 *   item  := cpu | cpu "-" cpu [ ":" stride ]
 *   cpu, stride := decimal digits (stride >= 1, first <= last)
 *
 * A stride of any size is valid: "0-1:99999999999" is CPU 0.
 *
 * No blanks, no signs, no empty items. "all" is not part of this grammar:
 * it depends on the machine, so callers expand it (xcall_cpus_online()).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cpuset.h"
#include "libxcall.h"

/* Parse a decimal number at *@p; -EINVAL if there is none, -ERANGE. */
static int parse_num(const char **p, unsigned long *v)
{
	const unsigned long max = INT_MAX;
	const char *s = *p;
	unsigned long n = 0, d;
	int big = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		d = *s - '0';
		if (n > (max - d) / 10)
			big = 1;
		else
			n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return big ? -ERANGE : 0;
}

int xcall_cpulist_parse(const char *list, cpu_set_t *set, size_t setsize)
{
	unsigned long first, last, stride, c, limit = setsize * 8;
	const char *p = list;
	int ret, range_err = 0;

	if (!list || !set)
		return -EINVAL;
	CPU_ZERO_S(setsize, set);
	for (;;) {
		ret = parse_num(&p, &first);
		if (ret == -EINVAL)
			return ret;
		range_err |= ret;
		last = first;
		stride = 1;
		if (*p == '-') {
			p++;
			ret = parse_num(&p, &last);
			if (ret == -EINVAL)
				return ret;
			range_err |= ret;
			if (*p == ':') {
				p++;
				ret = parse_num(&p, &stride);
				if (ret == -EINVAL)
					return ret;
				/* A stride is no CPU: one past every set
				 * just steps over the rest of the range. */
				if (ret == -ERANGE)
					stride = INT_MAX;
				else if (stride == 0)
					return -EINVAL;
			}
			if (!range_err && last < first)
				return -EINVAL;
		}
		if (*p != ',' && *p != '\0')
			return -EINVAL;
		if (!range_err) {
			if (last >= limit)
				range_err = -ERANGE;
			else
				for (c = first; c <= last; c += stride)
					__xcall_set_cpu(set, setsize, c);
		}
		if (*p == '\0')
			break;
		p++;
	}
	/* Malformed text anywhere wins over a number too large. */
	return range_err ? -ERANGE : 0;
}

int xcall_cpulist_format(const cpu_set_t *set, size_t setsize,
			 char *buf, size_t len)
{
	size_t ncpus = setsize * 8, i, j, pos = 0;
	int n;

	if (!set)
		return -EINVAL;
	if (!buf || !len)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; i < ncpus; i++) {
		if (!__xcall_set_isset(set, setsize, i))
			continue;
		for (j = i; j + 1 < ncpus &&
			    __xcall_set_isset(set, setsize, j + 1);)
			j++;
		if (j == i)
			n = snprintf(buf + pos, len - pos, "%s%zu",
				     pos ? "," : "", i);
		else
			n = snprintf(buf + pos, len - pos, "%s%zu-%zu",
				     pos ? "," : "", i, j);
		if (n < 0 || (size_t)n >= len - pos) {
			buf[0] = '\0';
			return -ENOSPC;
		}
		pos += n;
		i = j;
	}
	return pos;
}

int xcall_cpus_check(const cpu_set_t *set, const cpu_set_t *possible,
		     const cpu_set_t *online, size_t setsize, cpu_set_t *bad)
{
	size_t i, n = __xcall_set_words(setsize);
	xcall_word w, any = 0, absent = 0, off = 0;
	long c;

	if (!set || !possible || !online)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		w = __xcall_set_word(set, setsize, i);
		any |= w;
		absent |= w & ~__xcall_set_word(possible, setsize, i);
		off |= w & ~__xcall_set_word(online, setsize, i);
	}
	if (!any)
		return -EDESTADDRREQ;
	if (bad) {
		/* Not on the hot path: name the CPUs that do not exist, or
		 * else the offline ones. */
		CPU_ZERO_S(setsize, bad);
		xcall_for_each_cpu(c, set, setsize) {
			if (!__xcall_set_isset(possible, setsize, c) ||
			    (!absent &&
			     !__xcall_set_isset(online, setsize, c)))
				__xcall_set_cpu(bad, setsize, c);
		}
	}
	if (absent)
		return -ENODEV;
	return off ? -ENXIO : 0;
}
