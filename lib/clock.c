// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Clock offsets between CPUs, the way NTP and the kernel's check_tsc_warp()
 * measure them: the caller, pinned to the reference CPU, reads its clock
 * (t0), the target CPU reads its own (t1) in a `clock` call through the
 * backend, the caller reads its clock again (t2). Whenever t1 was read, it
 * was between t0 and t2 on the reference's clock, so the target is ahead
 * by t1 - (t0 + t2) / 2 give or take (t2 - t0) / 2. Of K round trips the
 * shortest gives the tightest bound; a bound that does not reach 0 proves
 * the clocks out of step. The measurement (__xcall_clock_measure) is apart
 * from how clocks are read (struct __xcall_clock_src), for its unit test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch.h"
#include "backend.h"
#include "clock.h"
#include "cpuset.h"

void __xcall_clock_estimate(uint64_t t0, uint64_t t1, uint64_t t2,
			    int64_t *off, uint64_t *bound)
{
	uint64_t rtt = t2 - t0;

	/* t1 - t0 - floor(rtt / 2), within ceil(rtt / 2): [t1-t2, t1-t0]. */
	*off = (int64_t)(t1 - t0 - rtt / 2);
	*bound = rtt / 2 + (rtt & 1);
}

/* @ticks in ns at @hz: rounded to nearest, or up for a bound. */
static int64_t ticks_ns(int64_t ticks, uint64_t hz)
{
	__int128 v = (__int128)ticks * 1000000000;

	v += v < 0 ? -(__int128)(hz / 2) : (__int128)(hz / 2);
	return (int64_t)(v / (__int128)hz);
}

static uint64_t ticks_ns_up(uint64_t ticks, uint64_t hz)
{
	unsigned __int128 v = (unsigned __int128)ticks * 1000000000;

	return (uint64_t)((v + hz - 1) / hz);
}

static uint64_t abs64(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/**
 * __xcall_clock_measure() - measure one CPU against the reference
 * @src: how the clocks are read
 * @cpu: the CPU to measure
 * @samples: round trips to make (>= 1)
 * @hz: ticks per second of the counter, 0 if unknown
 * @o: the result, all of it written
 *
 * The counter and CLOCK_MONOTONIC each take their own shortest round trip:
 * both readings are inside both brackets, so either bound is valid.
 */
void __xcall_clock_measure(const struct __xcall_clock_src *src, int cpu,
			   unsigned int samples, uint64_t hz,
			   struct xcall_clock_offset *o)
{
	uint64_t c0, m0, c1, m1, c2, m2, best_c = UINT64_MAX;
	uint64_t best_m = UINT64_MAX, bound;
	unsigned int i;
	int64_t off;
	int ret;

	memset(o, 0, sizeof(*o));
	o->cpu = cpu;
	for (i = 0; i < samples; i++) {
		src->local(src->ctx, 0, &c0, &m0);
		ret = src->remote(src->ctx, cpu, &c1, &m1);
		src->local(src->ctx, 1, &c2, &m2);
		if (ret) {
			o->error = ret;
			break;
		}
		o->samples++;
		if (c2 - c0 < best_c) {
			best_c = c2 - c0;
			__xcall_clock_estimate(c0, c1, c2, &off, &bound);
			o->offset_ticks = off;
			o->bound_ticks = bound;
		}
		if (m2 - m0 < best_m) {
			best_m = m2 - m0;
			__xcall_clock_estimate(m0, m1, m2, &off, &bound);
			o->mono_offset_ns = off;
			o->mono_bound_ns = bound;
		}
	}
	if (!o->samples)
		return;
	if (hz) {
		o->offset_ns = ticks_ns(o->offset_ticks, hz);
		o->bound_ns = ticks_ns_up(o->bound_ticks, hz);
	} else {
		o->bound_ns = UINT64_MAX;
	}
	o->unsynchronised = abs64(o->offset_ticks) > o->bound_ticks;
	o->mono_unsynchronised = abs64(o->mono_offset_ns) > o->mono_bound_ns;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The real clocks: this thread on the reference CPU, `clock` calls. */
struct real_src {
	struct xcall *x;
	struct xcall_req req;
	cpu_set_t *one;		/* the CPU called */
	size_t setsize;
	int ref_cpu;
	int ref_lost;		/* this thread left the reference CPU */
};

static void real_local(void *ctx, int after, uint64_t *ticks, uint64_t *mono)
{
	if (after) {
		*ticks = __xcall_arch_cycles();
		*mono = mono_ns();
	} else {
		*mono = mono_ns();
		*ticks = __xcall_arch_cycles();
	}
}

/*
 * One `clock` call on @cpu straight to the backend: xcall_run() has
 * checked the request and the CPUs already, and its check (sysfs reads)
 * would only widen every bracket.
 */
static int real_remote(void *ctx, int cpu, uint64_t *ticks, uint64_t *mono)
{
	struct real_src *s = ctx;
	struct xcall_result res;
	int ret;

	CPU_ZERO_S(s->setsize, s->one);
	CPU_SET_S(cpu, s->setsize, s->one);
	ret = s->x->ops->run(s->x, &s->req, s->one, s->setsize, &res, 1);
	if (sched_getcpu() != s->ref_cpu) {
		s->ref_lost = 1;
		return -ENXIO;
	}
	if (ret < 0)
		return ret;
	if (ret != 1 || res.cpu != (unsigned int)cpu)
		return -EPROTO;
	if (res.error)
		return res.error;
	*ticks = res.cycles;
	*mono = res.mono_ns;
	return 0;
}

static uint64_t counter_hz;
static pthread_once_t counter_hz_once = PTHREAD_ONCE_INIT;

static void counter_hz_init(void)
{
	counter_hz = __xcall_arch_counter_hz();
}

/**
 * xcall_counter_hz() - ticks per second of the cycle counter
 *
 * Found once per process (on x86 without CPUID leaf 0x15, a 20 ms
 * measurement); 0 if unknown.
 */
uint64_t xcall_counter_hz(void)
{
	pthread_once(&counter_hz_once, counter_hz_init);
	return counter_hz;
}

const char *xcall_counter_name(void)
{
	return XCALL_COUNTER_NAME;
}

/* @ref_cpu exists (-ENODEV) and is online (-ENXIO). */
static int check_ref(int ref_cpu)
{
	cpu_set_t *possible, *online;
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	int ret;

	if (ref_cpu < 0 || ref_cpu >= XCALL_MAX_CPUSET_BYTES * 8)
		return -ENODEV;
	possible = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	online = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	ret = -ENOMEM;
	if (!possible || !online)
		goto out_free;
	ret = xcall_cpus_possible(possible, sz);
	if (!ret)
		ret = xcall_cpus_online(online, sz);
	if (ret)
		goto out_free;
	if (!CPU_ISSET_S(ref_cpu, sz, possible))
		ret = -ENODEV;
	else if (!CPU_ISSET_S(ref_cpu, sz, online))
		ret = -ENXIO;
out_free:
	CPU_FREE(online);
	CPU_FREE(possible);
	return ret;
}

/*
 * Every CPU of @set answers a `clock` call: the request checked as
 * xcall_run() checks it, and each backend's path warmed (the pool's
 * workers started, the daemon's connection used) before any is timed.
 */
static int warm_up(struct xcall *x, const struct xcall_req *req,
		   const cpu_set_t *set, size_t setsize, unsigned int count)
{
	struct xcall_result *res;
	int ret;

	res = calloc(count ? count : 1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	ret = xcall_run(x, req, set, setsize, res, count);
	free(res);
	return ret < 0 ? ret : 0;
}

static void measure_all(struct real_src *s, const cpu_set_t *set,
			size_t setsize, unsigned int samples,
			struct xcall_clock_offset *out)
{
	const struct __xcall_clock_src src = {
		.ctx = s, .local = real_local, .remote = real_remote,
	};
	uint64_t hz = xcall_counter_hz();
	unsigned int i = 0;
	long cpu;

	xcall_for_each_cpu(cpu, set, setsize) {
		if ((int)cpu == s->ref_cpu) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i++].cpu = cpu;
			continue;
		}
		__xcall_clock_measure(&src, cpu, samples, hz, &out[i++]);
		if (s->ref_lost)
			return;
	}
}

int xcall_clock_offsets(struct xcall *x, const cpu_set_t *set, size_t setsize,
			int ref_cpu, unsigned int samples,
			struct xcall_clock_offset *out, size_t n)
{
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	struct real_src s = { .x = x, .setsize = sz, .ref_cpu = ref_cpu };
	cpu_set_t *saved;
	unsigned int count;
	int ret;

	if (!x || !x->ops || !set || !out)
		return -EINVAL;
	if (!samples || samples > XCALL_CLOCK_MAX_SAMPLES)
		return -ERANGE;
	ret = check_ref(ref_cpu);
	if (ret)
		return ret;
	count = __xcall_set_count(set, setsize);
	if (n < count)
		return -EMSGSIZE;
	s.req.fn = XCALL_FN_CLOCK;
	ret = warm_up(x, &s.req, set, setsize, count);
	if (ret)
		return ret;

	ret = -ENOMEM;
	saved = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	s.one = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	if (!saved || !s.one)
		goto out_free;
	ret = -pthread_getaffinity_np(pthread_self(), sz, saved);
	if (ret)
		goto out_free;
	CPU_ZERO_S(sz, s.one);
	CPU_SET_S(ref_cpu, sz, s.one);
	ret = -pthread_setaffinity_np(pthread_self(), sz, s.one);
	if (ret)
		goto out_free;
	/* Now on ref_cpu: the affinity call moves the thread before return. */
	measure_all(&s, set, setsize, samples, out);
	pthread_setaffinity_np(pthread_self(), sz, saved);
	ret = s.ref_lost ? -ENXIO : (int)count;
out_free:
	CPU_FREE(s.one);
	CPU_FREE(saved);
	return ret;
}
