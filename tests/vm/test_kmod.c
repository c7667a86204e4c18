// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest suite for xcall.ko, run inside a qemu guest as root with the module
 * loaded: every function on every CPU, hardware ids against what the kernel
 * says elsewhere (x86 /proc/cpuinfo apicid and CPUID on a pinned thread,
 * arm64 MIDR/REVIDR in sysfs and MPIDR in the device tree, ppc64 PIR against
 * sysfs physical_id and PVR against /proc/cpuinfo), the bad-input table with
 * its exact errnos, privilege checked against the opener, CPU hotplug during
 * a stream of calls, the timeout path, io_uring commands and their
 * cancellation (XCALL_IOC_CANCEL), and rmmod with
 * the device open and closed ($XCALL_KO names the module to load again).
 *
 * Static: linked with libxcall.a, libcheck.a and liburing.a.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <liburing.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "check.h"
#include "libxcall.h"

#define DEV		"/dev/xcall"
#define MAXCPU		64

static int fd = -1;
static int ncpus;		/* online CPUs (all of the guest's) */
static int cpus[MAXCPU];

/* ------------------------------------------------------------------ */

static int sys_read(const char *path, char *buf, size_t len)
{
	int f = open(path, O_RDONLY);
	ssize_t n;

	if (f < 0)
		return -errno;
	n = read(f, buf, len - 1);
	close(f);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

static int sys_write(const char *path, const char *s)
{
	int f = open(path, O_WRONLY);
	ssize_t n;

	if (f < 0)
		return -errno;
	n = write(f, s, strlen(s));
	close(f);
	return n < 0 ? -errno : 0;
}

static void init_cpus(void)
{
	cpu_set_t set;
	int c;

	ck_assert_int_eq(xcall_cpus_online(&set, sizeof(set)), 0);
	ncpus = 0;
	for (c = 0; c < MAXCPU; c++)
		if (CPU_ISSET(c, &set))
			cpus[ncpus++] = c;
	ck_assert_int_ge(ncpus, 1);
}

static void setup(void)
{
	init_cpus();
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", DEV, strerror(errno));
}

static void teardown(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* A call of @fn to the CPUs in @mask (bit n: CPU n), or a copy to edit. */
static struct xcall_call mkcall(unsigned int fn, uint64_t *bits, size_t words,
				struct xcall_result *res, unsigned int nres)
{
	struct xcall_call c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.fn = fn;
	c.cpuset_size = words * 8;
	c.cpuset = (uintptr_t)bits;
	c.results = (uintptr_t)res;
	c.nresults = nres;
	return c;
}

/* ioctl, returning 0 or -errno. */
static int do_call(int f, struct xcall_call *c)
{
	return ioctl(f, XCALL_IOC_CALL, c) < 0 ? -errno : 0;
}

/* Call @fn with @nargs args on the one CPU @cpu; -errno or 0. */
static int call1(int f, unsigned int fn, int cpu, unsigned int nargs,
		 uint64_t a0, uint64_t a1, unsigned int timeout_ms,
		 struct xcall_result *r)
{
	uint64_t bits[MAXCPU / 64 + 1] = { 0 };
	struct xcall_call c;
	int ret;

	bits[cpu / 64] |= 1ULL << (cpu % 64);
	c = mkcall(fn, bits, cpu / 64 + 1, r, 1);
	c.nargs = nargs;
	c.args[0] = a0;
	c.args[1] = a1;
	c.timeout_ms = timeout_ms;
	ret = do_call(f, &c);
	if (!ret)
		ck_assert_uint_eq(c.ncalled, 1);
	return ret;
}

/* Every field of a record that must hold for any function. */
static void check_common(const struct xcall_result *r, unsigned int fn, int cpu)
{
	ck_assert_int_eq(r->error, 0);
	ck_assert_uint_eq(r->cpu, cpu);
	ck_assert_uint_eq(r->fn, fn);
	ck_assert_uint_lt(r->node, 1024);
	ck_assert_uint_ne(r->mono_ns, 0);
	ck_assert(memchr(r->comm, '\0', sizeof(r->comm)));
}

/* A symbol as sprint_symbol prints it, never a raw address. */
static bool sym_ok(const char *s)
{
	const char *plus = strchr(s, '+');

	if (!memchr(s, '\0', 64))
		return false;
	if (!strcmp(s, "?"))
		return true;
	if (!plus || plus == s || !strncmp(s, "0x", 2))
		return false;
	for (; s < plus; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
			return false;
	return !strncmp(plus, "+0x", 3) && strstr(plus, "/0x");
}

/* ------------------------------------------------------------------
 * INFO
 */

START_TEST(test_info)
{
	struct xcall_info info;
	const uint64_t kmod_fns = 0
#define X(ID, nm, amin, amax, priv, bk) \
		| ((bk) & XCALL_BK_KMOD ? 1ULL << XCALL_FN_##ID : 0)
		XCALL_FUNCTIONS(X)
#undef X
		;

	memset(&info, 0xff, sizeof(info));
	info.size = sizeof(info);
	ck_assert_int_eq(ioctl(fd, XCALL_IOC_INFO, &info), 0);
	ck_assert_uint_eq(info.size, sizeof(info));
	ck_assert_uint_eq(info.abi_version, XCALL_ABI_VERSION);
	ck_assert_int_eq(info.nr_cpu_ids, sysconf(_SC_NPROCESSORS_CONF));
	ck_assert_uint_eq(info.nr_fns, XCALL_FN_COUNT);
	/* Every function the catalogue puts on the module (msr: x86). */
	ck_assert_uint_eq(info.fn_mask, kmod_fns);
	ck_assert_uint_eq(info.spin_max_us, XCALL_SPIN_MAX_US);
	ck_assert_uint_eq(info.default_timeout_ms, XCALL_DEFAULT_TIMEOUT_MS);
	ck_assert_uint_eq(info.nowait_per_file, XCALL_MAX_NOWAIT_PER_FILE);
	ck_assert_uint_eq(info.nowait_per_cpu, XCALL_MAX_NOWAIT_PER_CPU);
	ck_assert_uint_eq(info.features, XCALL_FEAT_TIMELINE);
	ck_assert(!info.reserved[0]);

	info.size = sizeof(info) - 8;
	ck_assert_int_eq(ioctl(fd, XCALL_IOC_INFO, &info), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(ioctl(fd, XCALL_IOC_INFO, (void *)16), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(ioctl(fd, _IO(XCALL_IOC_MAGIC, 9)), -1);
	ck_assert_int_eq(errno, ENOTTY);
}
END_TEST

START_TEST(test_device_mode)
{
	struct stat st;

	ck_assert_int_eq(stat(DEV, &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, 0);
}
END_TEST

/* ------------------------------------------------------------------
 * Every function on every CPU, and what the records say.
 */

START_TEST(test_ping_each)
{
	struct xcall_result r;
	int i;

	for (i = 0; i < ncpus; i++) {
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, cpus[i], 0, 0, 0, 0,
				       &r), 0);
		check_common(&r, XCALL_FN_PING, cpus[i]);
	}
}
END_TEST

/* One call to all CPUs: records in ascending CPU order, each from its CPU. */
START_TEST(test_all_fns_all_cpus)
{
	uint64_t bits[1] = { 0 };
	struct xcall_result res[MAXCPU];
	unsigned int fn;
	int i;

	for (i = 0; i < ncpus; i++)
		bits[0] |= 1ULL << cpus[i];
	for (fn = 0; fn < XCALL_FN_COUNT; fn++) {
		struct xcall_call c = mkcall(fn, bits, 1, res, MAXCPU);

		if (fn == XCALL_FN_SPIN) {
			c.nargs = 1;
			c.args[0] = 100;
		}
		if (fn == XCALL_FN_MSR) {
			c.nargs = 1;
			c.args[0] = 0x10;	/* IA32_TIME_STAMP_COUNTER */
			if (!(XCALL_BK_MSR & XCALL_BK_KMOD)) {
				ck_assert_int_eq(do_call(fd, &c), -EOPNOTSUPP);
				continue;
			}
		}
		memset(res, 0xee, sizeof(res));
		ck_assert_int_eq(do_call(fd, &c), 0);
		ck_assert_uint_eq(c.ncalled, ncpus);
		for (i = 0; i < ncpus; i++) {
			check_common(&res[i], fn, cpus[i]);
			if (fn == XCALL_FN_SPIN) {
				ck_assert_uint_ge(res[i].val[0], 100000);
				ck_assert_uint_eq(res[i].val[1], 100);
			}
			if (fn == XCALL_FN_WHERE)
				ck_assert_msg(!res[i].sym[0] ||
					      sym_ok(res[i].sym), "sym '%.64s'",
					      res[i].sym);
		}
		/* Nothing beyond ncalled was written. */
		ck_assert_uint_eq(res[ncpus].cpu, 0xeeeeeeee);
	}
}
END_TEST

/* clock: read on the target between the caller's two reads. */
START_TEST(test_clock)
{
	struct xcall_result r;
	struct timespec a, b;
	uint64_t ta, tb;
	int i;

	for (i = 0; i < ncpus; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		ck_assert_int_eq(call1(fd, XCALL_FN_CLOCK, cpus[i], 0, 0, 0, 0,
				       &r), 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ta = a.tv_sec * 1000000000ULL + a.tv_nsec;
		tb = b.tv_sec * 1000000000ULL + b.tv_nsec;
		check_common(&r, XCALL_FN_CLOCK, cpus[i]);
		ck_assert_uint_ge(r.mono_ns, ta);
		ck_assert_uint_le(r.mono_ns, tb);
		ck_assert_uint_ne(r.cycles, 0);
	}
}
END_TEST

/* probe: hardware ids distinct, and what the kernel says elsewhere. */
#if defined(__x86_64__)
/* /proc/cpuinfo "apicid" of @cpu. */
static long cpuinfo_apicid(int cpu)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	long cur = -1, id = -1;

	ck_assert(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "processor : %ld", &cur) == 1)
			continue;
		if (cur == cpu && sscanf(line, "apicid : %ld", &id) == 1)
			break;
	}
	fclose(f);
	return id;
}
#endif

#if defined(__aarch64__)
/* The MPIDR affinity values of the device tree's cpu nodes. */
static int dt_mpidrs(uint64_t *ids, int max)
{
	char path[300], buf[64];
	int n = 0, i;

	for (i = 0; i < 4096 && n < max; i++) {
		const char *fmt[] = { "/proc/device-tree/cpus/cpu@%x/reg",
				      "/proc/device-tree/cpus/cpu@%x00/reg" };
		unsigned int k;

		for (k = 0; k < 2; k++) {
			int len, j;
			uint64_t v = 0;
			int f;

			snprintf(path, sizeof(path), fmt[k], i);
			f = open(path, O_RDONLY);
			if (f < 0)
				continue;
			len = read(f, buf, sizeof(buf));
			close(f);
			for (j = 0; j < len; j++)
				v = v << 8 | (unsigned char)buf[j];
			ids[n++] = v;
		}
	}
	return n;
}
#endif

START_TEST(test_probe_hwid)
{
	struct xcall_result r[MAXCPU];
	char path[128], buf[128];
	int i, j;

	for (i = 0; i < ncpus; i++) {
		ck_assert_int_eq(call1(fd, XCALL_FN_PROBE, cpus[i], 0, 0, 0, 0,
				       &r[i]), 0);
		check_common(&r[i], XCALL_FN_PROBE, cpus[i]);
		ck_assert_uint_ge(r[i].ctx, XCALL_CTX_IDLE);
		ck_assert_uint_le(r[i].ctx, XCALL_CTX_KERNEL);
		for (j = 0; j < i; j++)
			ck_assert_msg(r[i].hwid != r[j].hwid,
				      "cpu %d and %d share hwid %llx", cpus[i],
				      cpus[j], (unsigned long long)r[i].hwid);
	}
	(void)path;
	(void)buf;
#if defined(__x86_64__)
	for (i = 0; i < ncpus; i++)
		ck_assert_int_eq(r[i].hwid, cpuinfo_apicid(cpus[i]));
#elif defined(__aarch64__)
	{
		uint64_t ids[MAXCPU];
		int n = dt_mpidrs(ids, MAXCPU), found;

		ck_assert_int_ge(n, ncpus);
		for (i = 0; i < ncpus; i++) {
			found = 0;
			for (j = 0; j < n; j++)
				found += (ids[j] & 0xff00ffffffULL) ==
					 r[i].hwid;
			ck_assert_msg(found == 1, "cpu %d mpidr %llx not in DT",
				      cpus[i], (unsigned long long)r[i].hwid);
		}
	}
#elif defined(__powerpc64__)
	for (i = 0; i < ncpus; i++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/physical_id", cpus[i]);
		ck_assert_int_gt(sys_read(path, buf, sizeof(buf)), 0);
		ck_assert_uint_eq(r[i].hwid, strtoull(buf, NULL, 0));
	}
#endif
}
END_TEST

START_TEST(test_ident)
{
	struct xcall_result r;
	int i;

	for (i = 0; i < ncpus; i++) {
#if defined(__x86_64__)
		static const unsigned int q[][2] = {
			{ 0, 0 }, { 1, 0 }, { 0xb, 0 }, { 0xb, 1 }, { 4, 0 },
			{ 0x80000000, 0 },
		};
		unsigned int k, a, b, c, d;

		pin(cpus[i]);
		for (k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
			ck_assert_int_eq(call1(fd, XCALL_FN_IDENT, cpus[i], 2,
					       q[k][0], q[k][1], 0, &r), 0);
			check_common(&r, XCALL_FN_IDENT, cpus[i]);
			__cpuid_count(q[k][0], q[k][1], a, b, c, d);
			ck_assert_uint_eq(r.val[0], a);
			ck_assert_uint_eq(r.val[1], b);
			ck_assert_uint_eq(r.val[2], c);
			ck_assert_uint_eq(r.val[3], d);
			ck_assert_uint_eq(r.val[4], q[k][0]);
			ck_assert_uint_eq(r.val[5], q[k][1]);
		}
		/* Leaf 1 EBX[31:24] is the initial APIC id of that CPU. */
		ck_assert_int_eq(call1(fd, XCALL_FN_IDENT, cpus[i], 1, 1, 0, 0,
				       &r), 0);
		ck_assert_int_eq((r.val[1] >> 24) & 0xff,
				 cpuinfo_apicid(cpus[i]) & 0xff);
#elif defined(__aarch64__)
		char path[128], buf[64];

		ck_assert_int_eq(call1(fd, XCALL_FN_IDENT, cpus[i], 0, 0, 0, 0,
				       &r), 0);
		check_common(&r, XCALL_FN_IDENT, cpus[i]);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/"
			 "regs/identification/midr_el1", cpus[i]);
		ck_assert_int_gt(sys_read(path, buf, sizeof(buf)), 0);
		ck_assert_uint_eq(r.val[0], strtoull(buf, NULL, 16));
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/"
			 "regs/identification/revidr_el1", cpus[i]);
		ck_assert_int_gt(sys_read(path, buf, sizeof(buf)), 0);
		ck_assert_uint_eq(r.val[1], strtoull(buf, NULL, 16));
		/* MPIDR read by ident and by probe agree. */
		{
			struct xcall_result p;

			ck_assert_int_eq(call1(fd, XCALL_FN_PROBE, cpus[i], 0,
					       0, 0, 0, &p), 0);
			ck_assert_uint_eq(r.val[2] & 0xff00ffffffULL, p.hwid);
		}
#elif defined(__powerpc64__)
		FILE *f = fopen("/proc/cpuinfo", "r");
		char line[256];
		unsigned int hi = 0, lo = 0;
		bool seen = false;

		ck_assert(f);
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "(pvr ");

			if (p && sscanf(p, "(pvr %x %x)", &hi, &lo) == 2) {
				seen = true;
				break;
			}
		}
		fclose(f);
		ck_assert(seen);
		ck_assert_int_eq(call1(fd, XCALL_FN_IDENT, cpus[i], 0, 0, 0, 0,
				       &r), 0);
		check_common(&r, XCALL_FN_IDENT, cpus[i]);
		ck_assert_uint_eq(r.val[0], (uint64_t)hi << 16 | lo);
#endif
	}
}
END_TEST

/* A thread that spins in user mode, or loops in the kernel, on one CPU. */
struct busy {
	int cpu;
	bool kernel;
	atomic_bool stop;
	atomic_int tid;
	pthread_t th;
};

static void *busy_fn(void *arg)
{
	struct busy *b = arg;
	static char buf[1 << 20];
	cpu_set_t set;
	int z = -1;

	CPU_ZERO(&set);
	CPU_SET(b->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	if (b->kernel)
		z = open("/dev/zero", O_RDONLY);
	atomic_store(&b->tid, (int)syscall(SYS_gettid));
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed))
		if (z >= 0 && read(z, buf, sizeof(buf)) < 0)
			break;
	if (z >= 0)
		close(z);
	return NULL;
}

static void busy_start(struct busy *b, int cpu, bool kernel)
{
	memset(b, 0, sizeof(*b));
	b->cpu = cpu;
	b->kernel = kernel;
	ck_assert_int_eq(pthread_create(&b->th, NULL, busy_fn, b), 0);
	while (!atomic_load(&b->tid))
		sched_yield();
}

static void busy_stop(struct busy *b)
{
	atomic_store(&b->stop, true);
	pthread_join(b->th, NULL);
}

/*
 * probe and where on a CPU that a thread of ours keeps busy: in user mode
 * they name it (pid, comm) without a symbol; in the kernel, where gives a
 * symbol. A busy CPU can still be caught elsewhere now and then, so ask a
 * few times and require the context to show up.
 */
START_TEST(test_ctx_user_kernel)
{
	struct xcall_result r;
	struct busy b;
	int cpu = cpus[ncpus - 1], i, user = 0, kern = 0;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	busy_start(&b, cpu, false);
	for (i = 0; i < 200 && user < 3; i++) {
		ck_assert_int_eq(call1(fd, XCALL_FN_WHERE, cpu, 0, 0, 0, 0, &r),
				 0);
		check_common(&r, XCALL_FN_WHERE, cpu);
		if (r.ctx == XCALL_CTX_USER && r.pid == (uint32_t)b.tid) {
			ck_assert_str_eq(r.comm, "test_kmod");
			ck_assert_str_eq(r.sym, "");
			user++;
		}
		ck_assert_int_eq(call1(fd, XCALL_FN_PROBE, cpu, 0, 0, 0, 0, &r),
				 0);
		if (r.ctx == XCALL_CTX_USER)
			ck_assert_uint_eq(r.pid, b.tid);
	}
	busy_stop(&b);
	ck_assert_int_ge(user, 3);

	busy_start(&b, cpu, true);
	for (i = 0; i < 200 && kern < 3; i++) {
		ck_assert_int_eq(call1(fd, XCALL_FN_WHERE, cpu, 0, 0, 0, 0, &r),
				 0);
		if (r.ctx == XCALL_CTX_KERNEL && r.pid == (uint32_t)b.tid) {
			ck_assert_msg(sym_ok(r.sym), "sym '%.64s'", r.sym);
			ck_assert_str_ne(r.sym, "?");
			kern++;
		}
	}
	busy_stop(&b);
	ck_assert_int_ge(kern, 3);
}
END_TEST

/* An idle CPU is reported as idle (it was caught idle at least once). */
START_TEST(test_ctx_idle)
{
	struct xcall_result r;
	int i, idle = 0, cpu = cpus[ncpus - 1];

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	for (i = 0; i < 100 && !idle; i++) {
		ck_assert_int_eq(call1(fd, XCALL_FN_PROBE, cpu, 0, 0, 0, 0, &r),
				 0);
		if (r.ctx == XCALL_CTX_IDLE) {
			idle++;
			ck_assert_uint_eq(r.pid, 0);
		}
		usleep(1000);
	}
	ck_assert_int_ge(idle, 1);
}
END_TEST

/* The caller's own CPU: the call runs in the caller's context. */
START_TEST(test_local_cpu)
{
	struct xcall_result r;

	pin(cpus[0]);
	ck_assert_int_eq(call1(fd, XCALL_FN_PROBE, cpus[0], 0, 0, 0, 0, &r), 0);
	check_common(&r, XCALL_FN_PROBE, cpus[0]);
	ck_assert_uint_eq(r.ctx, XCALL_CTX_KERNEL);
	ck_assert_uint_eq(r.pid, syscall(SYS_gettid));
}
END_TEST

/*
 * Threads on every CPU calling random sets of CPUs at once: queues filled
 * from several CPUs, kicks racing with drains, callers racing with their
 * own CPU's handler. Every record is right and nothing is lost.
 */
struct storm {
	int self, iters;
	unsigned int seed;
	long bad;
};

static void *storm_fn(void *arg)
{
	struct storm *st = arg;
	struct xcall_result res[MAXCPU];
	cpu_set_t set;
	int it, i, n;

	CPU_ZERO(&set);
	CPU_SET(st->self, &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (it = 0; it < st->iters; it++) {
		uint64_t bits[1] = { 0 };
		int want[MAXCPU];
		struct xcall_call c;

		while (!bits[0])
			for (i = 0; i < ncpus; i++)
				if (rand_r(&st->seed) & 1)
					bits[0] |= 1ULL << cpus[i];
		for (i = 0, n = 0; i < ncpus; i++)
			if (bits[0] & 1ULL << cpus[i])
				want[n++] = cpus[i];
		c = mkcall(it % 3 ? XCALL_FN_PING : XCALL_FN_PROBE, bits, 1,
			   res, MAXCPU);
		c.timeout_ms = 10000;
		if (do_call(fd, &c) || c.ncalled != (unsigned int)n) {
			st->bad++;
			continue;
		}
		for (i = 0; i < n; i++)
			if (res[i].error || (int)res[i].cpu != want[i] ||
			    res[i].fn != c.fn)
				st->bad++;
	}
	return NULL;
}

START_TEST(test_storm)
{
	struct storm st[MAXCPU];
	pthread_t th[MAXCPU];
	int i;

	for (i = 0; i < ncpus; i++) {
		st[i] = (struct storm){ .self = cpus[i], .iters = 2000,
					.seed = 1 + i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, storm_fn, &st[i]),
				 0);
	}
	for (i = 0; i < ncpus; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(st[i].bad == 0, "thread on cpu %d: %ld bad calls",
			      cpus[i], st[i].bad);
	}
}
END_TEST

/* ------------------------------------------------------------------
 * Bad input: each mutation of a valid call gives exactly its errno.
 */

struct bad {
	const char *what;
	int err;
	void (*edit)(struct xcall_call *c);
};

static uint64_t good_bits[128];
static struct xcall_result good_res[MAXCPU];

static void e_size_small(struct xcall_call *c) { c->size -= 8; }
static void e_size_big(struct xcall_call *c) { c->size += 8; }
static void e_size_zero(struct xcall_call *c) { c->size = 0; }
static void e_res0(struct xcall_call *c) { c->reserved[0] = 1ULL << 63; }
static void e_view_noas(struct xcall_call *c) { c->view = 1; }
static void e_view_bits(struct xcall_call *c)
{
	c->view = XCALL_VIEW_AS | 1ULL << 40;
}
static void e_flag(struct xcall_call *c) { c->flags = 1U << 7; }
static void e_fn_past(struct xcall_call *c) { c->fn = XCALL_FN_COUNT; }
static void e_fn_huge(struct xcall_call *c) { c->fn = ~0U; }
static void e_nargs_ping(struct xcall_call *c) { c->nargs = 1; }
static void e_nargs_huge(struct xcall_call *c) { c->nargs = ~0U; }
static void e_arg_unused(struct xcall_call *c) { c->args[3] = 1; }
static void e_spin_noarg(struct xcall_call *c) { c->fn = XCALL_FN_SPIN; }
static void e_ident_3(struct xcall_call *c)
{
	c->fn = XCALL_FN_IDENT;
	c->nargs = 3;
}
static void e_spin_nowait(struct xcall_call *c)
{
	c->fn = XCALL_FN_SPIN;
	c->nargs = 1;
	c->args[0] = 1;
	c->flags = XCALL_CALL_NOWAIT;
}
static void e_spin_big(struct xcall_call *c)
{
	c->fn = XCALL_FN_SPIN;
	c->nargs = 1;
	c->args[0] = XCALL_SPIN_MAX_US + 1;
}
static void e_ident_big(struct xcall_call *c)
{
	c->fn = XCALL_FN_IDENT;
	c->nargs = 1;
	c->args[0] = 1ULL << 32;
}
static void e_timeout(struct xcall_call *c)
{
	c->timeout_ms = XCALL_MAX_TIMEOUT_MS + 1;
}
static void e_set0(struct xcall_call *c) { c->cpuset_size = 0; }
static void e_set4(struct xcall_call *c) { c->cpuset_size = 4; }
static void e_set12(struct xcall_call *c) { c->cpuset_size = 12; }
static void e_set_big(struct xcall_call *c)
{
	c->cpuset_size = XCALL_MAX_CPUSET_BYTES + 8;
}
static void e_set_ptr(struct xcall_call *c) { c->cpuset = 16; }
static void e_set_kptr(struct xcall_call *c) { c->cpuset = ~0ULL << 40; }
static void e_res_ptr(struct xcall_call *c) { c->results = 16; }
static void e_res_kptr(struct xcall_call *c) { c->results = ~0ULL << 40; }
static void e_res_few(struct xcall_call *c) { c->nresults = 0; }
static void e_empty(struct xcall_call *c)
{
	static uint64_t zero[4];

	c->cpuset = (uintptr_t)zero;
	c->cpuset_size = sizeof(zero);
}
static void e_nodev(struct xcall_call *c)
{
	static uint64_t b[128];

	memset(b, 0, sizeof(b));
	b[0] = 1;
	b[sysconf(_SC_NPROCESSORS_CONF) / 64] |=
		1ULL << (sysconf(_SC_NPROCESSORS_CONF) % 64);
	c->cpuset = (uintptr_t)b;
	c->cpuset_size = sizeof(b);
}
static void e_nodev_last(struct xcall_call *c)
{
	static uint64_t b[128];

	memset(b, 0, sizeof(b));
	b[127] = 1ULL << 63;
	c->cpuset = (uintptr_t)b;
	c->cpuset_size = sizeof(b);
}

static const struct bad bad_table[] = {
	{ "size small",		EMSGSIZE,	e_size_small },
	{ "size big",		EMSGSIZE,	e_size_big },
	{ "size zero",		EMSGSIZE,	e_size_zero },
	{ "reserved[0]",	EINVAL,		e_res0 },
	{ "view without AS",	EINVAL,		e_view_noas },
	{ "view unknown bit",	EINVAL,		e_view_bits },
	{ "unknown flag",	EINVAL,		e_flag },
	{ "fn past table",	EBADRQC,	e_fn_past },
	{ "fn ~0",		EBADRQC,	e_fn_huge },
	{ "ping with 1 arg",	EINVAL,		e_nargs_ping },
	{ "nargs ~0",		EINVAL,		e_nargs_huge },
	{ "unused arg set",	EINVAL,		e_arg_unused },
	{ "spin without arg",	EINVAL,		e_spin_noarg },
	{ "ident 3 args",	EINVAL,		e_ident_3 },
	{ "spin NOWAIT",	EINVAL,		e_spin_nowait },
	{ "spin over cap",	ERANGE,		e_spin_big },
	{ "ident leaf > u32",	ERANGE,		e_ident_big },
	{ "timeout over max",	ERANGE,		e_timeout },
	{ "cpuset size 0",	EDESTADDRREQ,	e_set0 },
	{ "cpuset size 4",	EMSGSIZE,	e_set4 },
	{ "cpuset size 12",	EMSGSIZE,	e_set12 },
	{ "cpuset too big",	EMSGSIZE,	e_set_big },
	{ "cpuset ptr 16",	EFAULT,		e_set_ptr },
	{ "cpuset kernel ptr",	EFAULT,		e_set_kptr },
	{ "results ptr 16",	EFAULT,		e_res_ptr },
	{ "results kernel ptr",	EFAULT,		e_res_kptr },
	{ "nresults too few",	EMSGSIZE,	e_res_few },
	{ "empty set",		EDESTADDRREQ,	e_empty },
	{ "cpu == nr_cpu_ids",	ENODEV,		e_nodev },
	{ "cpu 8191",		ENODEV,		e_nodev_last },
};

START_TEST(test_bad_input)
{
	const struct bad *b = &bad_table[_i];
	struct xcall_call c;
	int i;

	memset(good_bits, 0, sizeof(good_bits));
	for (i = 0; i < ncpus; i++)
		good_bits[0] |= 1ULL << cpus[i];
	c = mkcall(XCALL_FN_PING, good_bits, 1, good_res, MAXCPU);
	ck_assert_int_eq(do_call(fd, &c), 0);
	c = mkcall(XCALL_FN_PING, good_bits, 1, good_res, MAXCPU);
	c.ncalled = 12345;
	b->edit(&c);
	ck_assert_msg(do_call(fd, &c) == -b->err, "%s: got %s, want %s",
		      b->what, strerror(errno), strerror(b->err));
	ck_assert_uint_eq(c.ncalled, 12345);
}
END_TEST

START_TEST(test_bad_call_ptr)
{
	ck_assert_int_eq(ioctl(fd, XCALL_IOC_CALL, (void *)16), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(ioctl(fd, XCALL_IOC_CALL, (void *)(~0UL << 40)), -1);
	ck_assert_int_eq(errno, EFAULT);
}
END_TEST

/*
 * NOWAIT: queued, counted, no results needed; refused with EAGAIN while
 * too many are outstanding, accepted again once they ran.
 */
START_TEST(test_nowait)
{
	uint64_t bits[1] = { 0 };
	struct xcall_call c;
	int i;

	for (i = 0; i < ncpus; i++)
		bits[0] |= 1ULL << cpus[i];
	for (i = 0; i < 100; i++) {
		int ret;

		c = mkcall(XCALL_FN_PING, bits, 1, NULL, 0);
		c.flags = XCALL_CALL_NOWAIT;
		while ((ret = do_call(fd, &c)) == -EAGAIN)
			;
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_eq(c.ncalled, ncpus);
	}
}
END_TEST

/* ------------------------------------------------------------------
 * Privilege is the opener's: CAP_SYS_ADMIN at open() time.
 */

static void drop_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	ck_assert_int_eq(syscall(SYS_capset, &h, d), 0);
}

static void check_priv(int f, bool admin)
{
	struct xcall_result r;
	int want = admin ? 0 : -EPERM;

	ck_assert_int_eq(call1(f, XCALL_FN_PING, cpus[0], 0, 0, 0, 0, &r), 0);
	ck_assert_int_eq(call1(f, XCALL_FN_PROBE, cpus[0], 0, 0, 0, 0, &r), 0);
	ck_assert_int_eq(call1(f, XCALL_FN_SPIN, cpus[0], 1, 10, 0, 0, &r),
			 want);
	ck_assert_int_eq(call1(f, XCALL_FN_WHERE, cpus[0], 0, 0, 0, 0, &r),
			 want);
	/* msr is privileged; off x86 it is not there for anyone. */
	ck_assert_int_eq(call1(f, XCALL_FN_MSR, cpus[0], 1, 0x10, 0, 0, &r),
			 XCALL_BK_MSR & XCALL_BK_KMOD ? want : -EOPNOTSUPP);
	/* Another user's view is for a privileged opener to give. */
	{
		uint64_t bits[1] = { 1ULL << cpus[0] };
		struct xcall_call c = mkcall(XCALL_FN_PROBE, bits, 1, &r, 1);

		c.view = XCALL_VIEW_AS | 65534;
		ck_assert_int_eq(do_call(f, &c), want);
	}
}

START_TEST(test_priv_dropped_before_open)
{
	int f;

	drop_caps();
	f = open(DEV, O_RDWR);
	ck_assert_int_ge(f, 0);
	check_priv(f, false);
	/* The bad-input checks still come first where they apply. */
	{
		struct xcall_result r;

		ck_assert_int_eq(call1(f, XCALL_FN_COUNT, cpus[0], 0, 0, 0, 0,
				       &r), -EBADRQC);
	}
	close(f);
}
END_TEST

START_TEST(test_priv_dropped_after_open)
{
	int f = open(DEV, O_RDWR);

	ck_assert_int_ge(f, 0);
	drop_caps();
	check_priv(f, true);
	/* A new open now has no privilege. */
	close(f);
	f = open(DEV, O_RDWR);
	ck_assert_int_ge(f, 0);
	check_priv(f, false);
	close(f);
}
END_TEST

/* ------------------------------------------------------------------
 * Timeouts: a CPU kept busy by a long spin does not answer in time; the
 * late answer lands in a request that is still alive.
 */

/* Functions the module has run since it was loaded. */
static uint64_t calls_run(void)
{
	struct xcall_info info = { .size = sizeof(info) };

	ck_assert_int_eq(ioctl(fd, XCALL_IOC_INFO, &info), 0);
	return info.calls_run;
}

/*
 * The same, once everything queued before has run: a waited ping to every
 * CPU answers only after what is ahead of it in that CPU's queue (an
 * earlier test's NOWAIT calls may still be draining).
 */
static uint64_t calls_run_settled(void)
{
	struct xcall_result r;
	int i;

	for (i = 0; i < ncpus; i++)
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, cpus[i], 0, 0, 0,
				       5000, &r), 0);
	return calls_run();
}

static void prep_cmd(struct io_uring_sqe *sqe, int f, struct xcall_call *c,
		     uint64_t data);

/*
 * A spin of XCALL_SPIN_MAX_US on @cpu, queued through @ring: io_uring
 * issues the command inside io_uring_submit(), so once that returns the
 * spin is on the CPU's queue, ahead of whatever is queued there next (an
 * EBUSY, seen as a spin that is queued, may come before its slot is).
 * 0 when queued (its CQE comes when it has run), or the -errno it was
 * refused with. No Check: forks use it.
 */
static int spin_queued(struct io_uring *ring, int f, int cpu,
		       struct xcall_call *c, uint64_t *bits,
		       struct xcall_result *r)
{
	struct io_uring_cqe *cqe;
	int ret;

	memset(bits, 0, (MAXCPU / 64 + 1) * 8);
	bits[cpu / 64] = 1ULL << (cpu % 64);
	*c = mkcall(XCALL_FN_SPIN, bits, cpu / 64 + 1, r, 1);
	c->nargs = 1;
	c->args[0] = XCALL_SPIN_MAX_US;
	c->timeout_ms = 5000;
	prep_cmd(io_uring_get_sqe(ring), f, c, 0);
	if (io_uring_submit(ring) != 1)
		return -EIO;
	/*
	 * A refusal is completed right away, inside the submit. A CQE that
	 * says it ran is the spin itself, over already because this thread
	 * was not scheduled for its length (a loaded TCG guest): it was
	 * queued, and spin_reap() takes it.
	 */
	if (io_uring_peek_cqe(ring, &cqe) || cqe->res >= 0)
		return 0;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* Wait for the CQE of the spin spin_queued() queued: 0 if it ran. */
static int spin_reap(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int ret;

	if (io_uring_wait_cqe(ring, &cqe))
		return -EIO;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret == 1 ? 0 : ret < 0 ? ret : -EPROTO;
}

/*
 * Hold a CPU: a thread keeps spins queued there, XCALL_SPIN_MAX_US each,
 * one after the other, until hold_stop(). hold_start() returns once the
 * first is on the CPU's queue: whatever is queued there from then on
 * waits behind it (at most one spin is queued or running per CPU, and the
 * module pauses as long after it, so the CPU answers late).
 */
struct hold {
	pthread_t th;
	int f, cpu, err;
	atomic_bool stop, queued;
	long spins;		/* the thread's spins that ran */
	uint64_t t0;		/* CLOCK_MONOTONIC ns before the first was queued */
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/*
 * True if @b's CPU had answered nothing queued behind its first spin at
 * @t (CLOCK_MONOTONIC ns): that spin started after b->t0 and runs
 * XCALL_SPIN_MAX_US of the same clock (ktime_get_ns), so until then the
 * CPU ran nothing queued after it. A test whose premise is "the CPU is
 * held while my call waits" checks it with the time the call returned:
 * a slow guest (TCG, an RT kernel) can start the call late.
 */
static bool hold_covers(const struct hold *b, uint64_t t)
{
	return t < b->t0 + XCALL_SPIN_MAX_US * 1000ULL;
}

static void *hold_fn(void *arg)
{
	struct hold *b = arg;
	uint64_t bits[MAXCPU / 64 + 1];
	struct io_uring ring;
	struct xcall_result r;
	struct xcall_call c;
	int ret;

	if (io_uring_queue_init(4, &ring, IORING_SETUP_SQE128)) {
		b->err = -ENOMEM;
		atomic_store(&b->queued, true);
		return NULL;
	}
	while (!atomic_load(&b->stop)) {
		uint64_t t = mono_ns();

		ret = spin_queued(&ring, b->f, b->cpu, &c, bits, &r);
		if (ret == -EBUSY)	/* another test's spin, finishing */
			continue;
		if (!ret) {
			if (!atomic_load(&b->queued))
				b->t0 = t;
			atomic_store(&b->queued, true);
			ret = spin_reap(&ring);
		}
		if (ret) {
			b->err = ret;
			atomic_store(&b->queued, true);
			break;
		}
		b->spins++;
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

/* 0 once a spin of the thread is queued on @cpu; -errno. */
static int hold_start(struct hold *b, int f, int cpu)
{
	memset(b, 0, sizeof(*b));
	b->f = f;
	b->cpu = cpu;
	if (pthread_create(&b->th, NULL, hold_fn, b))
		return -EAGAIN;
	while (!atomic_load(&b->queued))
		sched_yield();
	return b->err;
}

static int hold_stop(struct hold *b)
{
	atomic_store(&b->stop, true);
	pthread_join(b->th, NULL);
	return b->err;
}

/* ------------------------------------------------------------------
 * Bounds: one spin per CPU, NOWAIT calls outstanding per file and per CPU,
 * and a refused call neither runs nor writes.
 */

START_TEST(test_spin_one_per_cpu)
{
	uint64_t bits[1] = { 1ULL << cpus[0] | 1ULL << cpus[1] };
	struct xcall_result r, res[2];
	struct xcall_call c;
	struct hold h;
	int f2, got[3], tries = 0;
	bool held;

	ck_assert_int_ge(ncpus, 3);
	pin(cpus[2]);
	f2 = open(DEV, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(f2, 0);
	c = mkcall(XCALL_FN_SPIN, bits, 1, res, 2);
	c.nargs = 1;
	c.args[0] = 10;
	/* Judged only if all three came while the first spin held the CPU. */
	do {
		ck_assert_int_eq(hold_start(&h, fd, cpus[1]), 0);
		got[0] = call1(fd, XCALL_FN_SPIN, cpus[1], 1, 10, 0, 0, &r);
		got[1] = call1(f2, XCALL_FN_SPIN, cpus[1], 1, 10, 0, 0, &r);
		c.ncalled = 777;
		got[2] = do_call(f2, &c);
		held = hold_covers(&h, mono_ns());
		if (!held)
			ck_assert_int_eq(hold_stop(&h), 0);
	} while (!held && ++tries < 20);
	ck_assert_msg(held, "in %d tries the CPU was never held long enough",
		      tries);
	/* Another spin there is refused at once, whoever asks. */
	ck_assert_int_eq(got[0], -EBUSY);
	ck_assert_int_eq(got[1], -EBUSY);
	/* A set that holds it is refused whole; cpus[0] stays free. */
	ck_assert_int_eq(got[2], -EBUSY);
	ck_assert_uint_eq(c.ncalled, 777);
	ck_assert_int_eq(call1(f2, XCALL_FN_SPIN, cpus[0], 1, 10, 0, 0, &r), 0);
	/* Other functions still get there, behind the spin. */
	ck_assert_int_eq(call1(f2, XCALL_FN_PING, cpus[1], 0, 0, 0, 5000, &r),
			 0);
	close(f2);
	ck_assert_int_eq(hold_stop(&h), 0);
	ck_assert_int_gt(h.spins, 0);
	/* Free again once the spin is over. */
	ck_assert_int_eq(call1(fd, XCALL_FN_SPIN, cpus[1], 1, 10, 0, 0, &r), 0);
}
END_TEST

/* NOWAIT pings to @cpu through @f until @max or a refusal: how many went. */
static int nowait_fill(int f, int cpu, int max, int *err)
{
	uint64_t bits[1] = { 1ULL << cpu };
	int n;

	*err = 0;
	for (n = 0; n < max; n++) {
		struct xcall_call c = mkcall(XCALL_FN_PING, bits, 1, NULL, 0);

		c.flags = XCALL_CALL_NOWAIT;
		*err = do_call(f, &c);
		if (*err)
			break;
	}
	return n;
}

/*
 * While a spin holds cpus[1], nothing queued there runs: one file gets
 * XCALL_MAX_NOWAIT_PER_FILE calls in, then EAGAIN; files together get
 * XCALL_MAX_NOWAIT_PER_CPU in, then a file with none outstanding gets
 * EAGAIN, which another CPU does not. A spin lasts 100 ms: should one end
 * before the files are full, its queue drains and the round starts over.
 */
START_TEST(test_nowait_bounds)
{
	enum { NF = XCALL_MAX_NOWAIT_PER_CPU / XCALL_MAX_NOWAIT_PER_FILE + 1 };
	bool file_bound = false, cpu_bound = false;
	int f[NF], i, n, err, round, total;
	struct hold h;

	ck_assert_int_ge(ncpus, 3);
	pin(cpus[0]);
	for (i = 0; i < NF; i++) {
		f[i] = open(DEV, O_RDWR | O_CLOEXEC);
		ck_assert_int_ge(f[i], 0);
	}
	for (round = 0; round < 20 && !(file_bound && cpu_bound); round++) {
		ck_assert_int_eq(hold_start(&h, fd, cpus[1]), 0);
		n = nowait_fill(f[0], cpus[1], XCALL_MAX_NOWAIT_PER_FILE + 1,
				&err);
		ck_assert(!err || err == -EAGAIN);
		if (n == XCALL_MAX_NOWAIT_PER_FILE && err == -EAGAIN)
			file_bound = true;
		total = n;
		for (i = 1; i < NF - 1; i++) {
			total += nowait_fill(f[i], cpus[1],
					     XCALL_MAX_NOWAIT_PER_FILE, &err);
			ck_assert(!err || err == -EAGAIN);
		}
		n = nowait_fill(f[NF - 1], cpus[1], 1, &err);
		ck_assert(!err || err == -EAGAIN);
		if (total == XCALL_MAX_NOWAIT_PER_CPU && n == 0 &&
		    err == -EAGAIN) {
			cpu_bound = true;
			/* The bound is that CPU's alone. */
			ck_assert_int_eq(nowait_fill(f[NF - 1], cpus[2], 1,
						     &err), 1);
		}
		ck_assert_int_eq(hold_stop(&h), 0);
	}
	printf("nowait bounds: per file and per CPU seen after %d rounds\n",
	       round);
	ck_assert_msg(file_bound, "no EAGAIN at %d NOWAIT calls of a file",
		      XCALL_MAX_NOWAIT_PER_FILE);
	ck_assert_msg(cpu_bound, "no EAGAIN at %d NOWAIT calls to a CPU",
		      XCALL_MAX_NOWAIT_PER_CPU);
	for (i = 0; i < NF; i++)
		close(f[i]);
}
END_TEST

struct protect {
	pid_t tid;		/* of the caller */
	void *page;
	long pg;
	atomic_int done;
	atomic_int returned;	/* the caller's call is over: stop looking */
};

/*
 * Once the caller sleeps in its call, make @page read-only. If the call
 * is over before this thread ever saw it asleep (a starved guest), stop
 * at once: looking on for a million rounds stalled a TCG guest for
 * minutes.
 */
static void *protect_fn(void *arg)
{
	struct protect *p = arg;
	char path[64], buf[512], *st;
	int k;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)p->tid);
	for (k = 0; k < 1000000 && !atomic_load(&p->returned); k++) {
		if (sys_read(path, buf, sizeof(buf)) > 0 &&
		    (st = strrchr(buf, ')')) && st[2] == 'D')
			break;
		sched_yield();
	}
	mprotect(p->page, p->pg, PROT_READ);
	atomic_store(&p->done, 1);
	return NULL;
}

/*
 * Results that become unwritable while the call waits: cpus[0] answers,
 * cpus[1] and cpus[2] are held by spins and time out. Copying cpus[1]'s
 * record fails (EFAULT); cpus[2]'s slot, not copied, must still be settled
 * so that it never runs: the module's count of functions run shows only
 * what was meant to run (the holds' spins, cpus[0], two
 * control pings). A round counts only if the page turned read-only before
 * the copy (the call returned EFAULT) and both holds still held when the
 * call returned (else a ping there may rightly have run in time).
 */
START_TEST(test_efault_settles_the_rest)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t bits[1], before, ran = 0, want = 0;
	struct xcall_result r, *res;
	struct protect p;
	struct hold h1, h2;
	struct xcall_call c;
	pthread_t th;
	int tries, ret = 0, faults = 0;
	bool held = false;
	uint64_t t;
	char *m;

	ck_assert_int_ge(ncpus, 3);
	pin(cpus[0]);
	bits[0] = 1ULL << cpus[0] | 1ULL << cpus[1] | 1ULL << cpus[2];
	for (tries = 0; tries < 20 && !(ret == -EFAULT && held); tries++) {
		m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ck_assert(m != MAP_FAILED);
		/* Record 0 ends page one; records 1 and 2 are on page two. */
		res = (struct xcall_result *)(m + pg) - 1;
		before = calls_run_settled();
		ck_assert_int_eq(hold_start(&h1, fd, cpus[1]), 0);
		ck_assert_int_eq(hold_start(&h2, fd, cpus[2]), 0);
		p = (struct protect){ .tid = syscall(SYS_gettid),
				      .page = m + pg, .pg = pg };
		ck_assert_int_eq(pthread_create(&th, NULL, protect_fn, &p), 0);
		c = mkcall(XCALL_FN_PING, bits, 1, res, 3);
		c.timeout_ms = 60;
		ret = do_call(fd, &c);
		t = mono_ns();
		atomic_store(&p.returned, 1);
		held = hold_covers(&h1, t) && hold_covers(&h2, t);
		faults += ret == -EFAULT;
		pthread_join(th, NULL);
		ck_assert_int_eq(hold_stop(&h1), 0);
		ck_assert_int_eq(hold_stop(&h2), 0);
		/* Behind whatever the call left: once they answer, all ran. */
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, cpus[1], 0, 0, 0,
				       5000, &r), 0);
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, cpus[2], 0, 0, 0,
				       5000, &r), 0);
		ran = calls_run() - before;
		want = h1.spins + h2.spins + 1 + 2;
		munmap(m, 2 * pg);
	}
	ck_assert_msg(ret == -EFAULT && held, "in %d tries the copy failed "
		      "%d times, never while both CPUs were held (last %d)",
		      tries, faults, ret);
	printf("efault settles the rest: judged at try %d\n", tries);
	ck_assert_uint_eq(ran, want);
}
END_TEST

/*
 * The call in a read-only page (NOWAIT, so @ncalled is the only output),
 * then the results: EFAULT before anything is queued, nothing run, nothing
 * written. The same call with writable memory runs once.
 */
START_TEST(test_readonly)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t bits[1] = { 1ULL << cpus[0] }, before;
	struct xcall_result *res;
	struct xcall_call *c;
	char *m;

	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(m != MAP_FAILED);
	c = (struct xcall_call *)m;
	res = (struct xcall_result *)(m + pg);
	*c = mkcall(XCALL_FN_PING, bits, 1, res, 1);
	c->flags = XCALL_CALL_NOWAIT;
	ck_assert_int_eq(mprotect(m, pg, PROT_READ), 0);
	before = calls_run_settled();
	ck_assert_int_eq(do_call(fd, c), -EFAULT);
	ck_assert_uint_eq(calls_run(), before);

	ck_assert_int_eq(mprotect(m, pg, PROT_READ | PROT_WRITE), 0);
	c->flags = 0;
	memset(res, 0xee, sizeof(*res));
	ck_assert_int_eq(mprotect(m + pg, pg, PROT_READ), 0);
	ck_assert_int_eq(do_call(fd, c), -EFAULT);
	ck_assert_uint_eq(c->ncalled, 0);
	ck_assert_uint_eq(calls_run(), before);
	ck_assert_uint_eq(res->cpu, 0xeeeeeeee);

	ck_assert_int_eq(mprotect(m + pg, pg, PROT_READ | PROT_WRITE), 0);
	ck_assert_int_eq(do_call(fd, c), 0);
	ck_assert_uint_eq(c->ncalled, 1);
	ck_assert_uint_eq(calls_run(), before + 1);
	munmap(m, 2 * pg);
}
END_TEST

/*
 * The module vouches for the results without a fault when their pages are
 * mapped and writable, and asks the fault-in otherwise: a record across a
 * page boundary whose second page is read-only is refused (EFAULT, nothing
 * run, nothing written) though its first page passes; results in pages
 * never touched (not mapped yet) are faulted in and written.
 */
START_TEST(test_writable_pages)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t bits[1] = { 1ULL << cpus[0] }, before;
	struct xcall_result *res;
	struct xcall_call c;
	unsigned char *m;
	size_t i;

	m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(m != MAP_FAILED);
	/* Across pages 0 and 1, both touched; page 1 read-only. */
	res = (struct xcall_result *)(m + pg - sizeof(*res) / 2);
	memset(m, 0xee, 2 * pg);
	ck_assert_int_eq(mprotect(m + pg, pg, PROT_READ), 0);
	c = mkcall(XCALL_FN_PING, bits, 1, res, 1);
	before = calls_run_settled();
	ck_assert_int_eq(do_call(fd, &c), -EFAULT);
	ck_assert_uint_eq(c.ncalled, 0);
	ck_assert_uint_eq(calls_run(), before);
	for (i = 0; i < 2 * (size_t)pg; i++)
		ck_assert_uint_eq(m[i], 0xee);
	ck_assert_int_eq(mprotect(m + pg, pg, PROT_READ | PROT_WRITE), 0);
	ck_assert_int_eq(do_call(fd, &c), 0);
	ck_assert_uint_eq(c.ncalled, 1);
	ck_assert_uint_eq(res->cpu, cpus[0]);
	ck_assert_int_eq(res->error, 0);

	/* Across pages 2 and 3, neither touched yet. */
	res = (struct xcall_result *)(m + 3 * pg - sizeof(*res) / 2);
	c = mkcall(XCALL_FN_PING, bits, 1, res, 1);
	ck_assert_int_eq(do_call(fd, &c), 0);
	ck_assert_uint_eq(c.ncalled, 1);
	ck_assert_uint_eq(res->cpu, cpus[0]);
	ck_assert_uint_eq(res->fn, XCALL_FN_PING);
	munmap(m, 4 * pg);
}
END_TEST

/* ------------------------------------------------------------------
 * What a call tells of the task it interrupted: only what its opener may
 * see, with pids in the opener's pid namespace.
 */

/* In a child: become uid/gid 65534 without capabilities, open the device. */
static int open_as_nobody(void)
{
	int f;

	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -errno;
	f = open(DEV, O_RDWR);
	return f < 0 ? -errno : f;
}

/*
 * Root's task on cpus[1] is "other" (pid 0, comm "-") to uid 65534, never
 * named; that user's own task on cpus[2] is named, with its pid; root sees
 * its task. Exit codes of the child say which step failed.
 */
START_TEST(test_ctx_other_user)
{
	struct xcall_result r;
	struct busy b;
	int status, k, seen = 0;
	pid_t pid;

	ck_assert_int_ge(ncpus, 3);
	ck_assert_int_eq(chmod(DEV, 0666), 0);
	busy_start(&b, cpus[1], false);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		int f, other = 0, own = 0;
		struct busy mine;

		pin(cpus[0]);
		f = open_as_nobody();
		if (f < 0)
			_exit(2);
		for (k = 0; k < 200; k++) {
			if (call1(f, XCALL_FN_PROBE, cpus[1], 0, 0, 0, 0, &r))
				_exit(3);
			if (r.ctx == XCALL_CTX_USER || r.ctx == XCALL_CTX_KERNEL)
				_exit(4);	/* root's task named */
			if (r.ctx == XCALL_CTX_OTHER) {
				if (r.pid || strcmp(r.comm, "-"))
					_exit(5);
				other++;
			}
		}
		busy_start(&mine, cpus[2], false);
		for (k = 0; k < 200 && !own; k++) {
			if (call1(f, XCALL_FN_PROBE, cpus[2], 0, 0, 0, 0, &r))
				_exit(6);
			own = r.ctx == XCALL_CTX_USER &&
			      r.pid == (uint32_t)mine.tid;
		}
		busy_stop(&mine);
		_exit(!other ? 7 : !own ? 8 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(chmod(DEV, 0600), 0);
	for (k = 0; k < 200 && !seen; k++) {
		ck_assert_int_eq(call1(fd, XCALL_FN_PROBE, cpus[1], 0, 0, 0, 0,
				       &r), 0);
		seen = r.ctx == XCALL_CTX_USER && r.pid == (uint32_t)b.tid;
	}
	busy_stop(&b);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "uid 65534 child: step %d",
		      WEXITSTATUS(status));
	ck_assert_msg(seen, "root never saw its own task on cpu %d", cpus[1]);
}
END_TEST

/*
 * A privileged opener serving another user (xcall_call.view, as xcalld
 * does): root's task on cpus[1] is "other" in the view of uid 65534 and in
 * a view without pids, and named in the view of uid 0.
 */
START_TEST(test_ctx_view)
{
	uint64_t bits[1] = { 1ULL << cpus[1] };
	struct xcall_result r;
	struct xcall_call c;
	struct busy b;
	int k, other = 0, named = 0, nopid = 0;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	busy_start(&b, cpus[1], false);
	for (k = 0; k < 200; k++) {
		c = mkcall(XCALL_FN_PROBE, bits, 1, &r, 1);
		c.view = XCALL_VIEW_AS | 65534;
		ck_assert_int_eq(do_call(fd, &c), 0);
		ck_assert(r.ctx != XCALL_CTX_USER && r.ctx != XCALL_CTX_KERNEL);
		other += r.ctx == XCALL_CTX_OTHER && !r.pid &&
			 !strcmp(r.comm, "-");
		c = mkcall(XCALL_FN_PROBE, bits, 1, &r, 1);
		c.view = XCALL_VIEW_AS | XCALL_VIEW_NOPID;
		ck_assert_int_eq(do_call(fd, &c), 0);
		ck_assert(r.ctx != XCALL_CTX_USER && r.ctx != XCALL_CTX_KERNEL);
		nopid += r.ctx == XCALL_CTX_OTHER;
		c = mkcall(XCALL_FN_PROBE, bits, 1, &r, 1);
		c.view = XCALL_VIEW_AS | 0;
		ck_assert_int_eq(do_call(fd, &c), 0);
		named += r.ctx == XCALL_CTX_USER && r.pid == (uint32_t)b.tid;
	}
	busy_stop(&b);
	ck_assert_int_gt(other, 0);
	ck_assert_int_gt(nopid, 0);
	ck_assert_int_gt(named, 0);
}
END_TEST

/*
 * pid 1 of a new user and pid namespace (still uid 0 outside, so the
 * device opens; no capability in the initial namespace): a call to its own
 * CPU interrupts itself, told as pid 1, not its global pid; root's task
 * outside the namespace is "other", although it has the same uid.
 */
START_TEST(test_ctx_pidns)
{
	struct busy b;
	int status;
	pid_t pid;

	ck_assert_int_ge(ncpus, 2);
	busy_start(&b, cpus[1], false);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		pid_t in;

		if (unshare(CLONE_NEWUSER | CLONE_NEWPID))
			_exit(2);
		in = fork();
		if (in < 0)
			_exit(3);
		if (!in) {
			struct xcall_result r;
			int f, k, other = 0;

			pin(cpus[0]);
			f = open(DEV, O_RDWR);
			if (f < 0 || getpid() != 1)
				_exit(4);
			if (call1(f, XCALL_FN_PROBE, cpus[0], 0, 0, 0, 0, &r))
				_exit(5);
			if (r.ctx != XCALL_CTX_KERNEL || r.pid != 1)
				_exit(6);
			for (k = 0; k < 200; k++) {
				if (call1(f, XCALL_FN_PROBE, cpus[1], 0, 0, 0,
					  0, &r))
					_exit(7);
				if (r.ctx == XCALL_CTX_USER ||
				    r.ctx == XCALL_CTX_KERNEL)
					_exit(8);
				other += r.ctx == XCALL_CTX_OTHER;
			}
			_exit(other ? 0 : 9);
		}
		if (waitpid(in, &status, 0) != in || !WIFEXITED(status))
			_exit(10);
		_exit(WEXITSTATUS(status));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	busy_stop(&b);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "namespace child: step %d",
		      WEXITSTATUS(status));
}
END_TEST

START_TEST(test_timeout)
{
	struct xcall_result r, res[2];
	uint64_t bits[1];
	struct xcall_call c;
	int busy = cpus[1], i, tries;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	/* Two rounds in which the call returned while the CPU was held. */
	for (i = tries = 0; i < 2 && tries < 20; tries++) {
		struct hold b;
		bool held;

		ck_assert_int_eq(hold_start(&b, fd, busy), 0);

		/* Queued behind the spin: times out, the others answer. */
		bits[0] = 1ULL << busy | 1ULL << cpus[0];
		c = mkcall(XCALL_FN_PING, bits, 1, res, 2);
		c.timeout_ms = 1;
		ck_assert_int_eq(do_call(fd, &c), 0);
		held = hold_covers(&b, mono_ns());
		ck_assert_int_eq(hold_stop(&b), 0);
		ck_assert_uint_eq(c.ncalled, 2);
		ck_assert_int_eq(res[0].cpu, cpus[0]);
		ck_assert_int_eq(res[0].error, 0);
		ck_assert_int_eq(res[1].cpu, busy);
		ck_assert_uint_eq(res[1].fn, XCALL_FN_PING);
		if (!held)
			continue;
		ck_assert_int_eq(res[1].error, -ETIMEDOUT);
		i++;
	}
	ck_assert_msg(i == 2, "%d of %d calls returned while the CPU was held",
		      i, tries);
	/* The CPU answers again once the spins are over. */
	ck_assert_int_eq(call1(fd, XCALL_FN_PING, busy, 0, 0, 0, 5000, &r), 0);
	check_common(&r, XCALL_FN_PING, busy);
}
END_TEST

/* ------------------------------------------------------------------
 * CPU hotplug during a stream of calls.
 */

struct stream {
	int fd;
	atomic_bool stop;
	atomic_long ok, enxio, bad;
	int victim;
	unsigned int fn;
};

static void *stream_fn(void *arg)
{
	struct stream *s = arg;
	struct xcall_result res[MAXCPU];
	uint64_t bits[1];
	long n = 0;

	while (!atomic_load(&s->stop)) {
		int cpu = cpus[n++ % ncpus], ret, i;
		struct xcall_call c;

		/* Alternate one CPU and every CPU. */
		bits[0] = 0;
		if (n & 1)
			bits[0] = 1ULL << cpu;
		else
			for (i = 0; i < ncpus; i++)
				bits[0] |= 1ULL << cpus[i];
		c = mkcall(s->fn, bits, 1, res, MAXCPU);
		if (s->fn == XCALL_FN_SPIN) {
			c.nargs = 1;
			c.args[0] = 200;
		}
		c.timeout_ms = 10000;
		ret = do_call(s->fd, &c);
		if (ret == -ENXIO) {
			atomic_fetch_add(&s->enxio, 1);
			continue;
		}
		if (ret) {
			atomic_fetch_add(&s->bad, 1);
			continue;
		}
		if (c.ncalled != (unsigned int)((n & 1) ? 1 : ncpus))
			atomic_fetch_add(&s->bad, 1);
		for (i = 0; i < (int)c.ncalled; i++) {
			int want = (n & 1) ? cpu : cpus[i];

			if (res[i].error == -ENXIO && want == s->victim)
				atomic_fetch_add(&s->enxio, 1);
			else if (res[i].error || (int)res[i].cpu != want)
				atomic_fetch_add(&s->bad, 1);
			else
				atomic_fetch_add(&s->ok, 1);
		}
	}
	return NULL;
}

START_TEST(test_hotplug)
{
	char path[96];
	struct stream s[2];
	pthread_t th[2];
	struct xcall_result r;
	int victim, round, k;

	ck_assert_int_ge(ncpus, 3);
	victim = cpus[2];
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 victim);
	ck_assert_int_eq(access(path, W_OK), 0);
	for (k = 0; k < 2; k++) {
		memset(&s[k], 0, sizeof(s[k]));
		s[k].fd = fd;
		s[k].victim = victim;
		s[k].fn = k ? XCALL_FN_SPIN : XCALL_FN_PING;
		ck_assert_int_eq(pthread_create(&th[k], NULL, stream_fn,
						&s[k]), 0);
	}
	for (round = 0; round < 4; round++) {
		ck_assert_int_eq(sys_write(path, "0"), 0);
		/* Offline: refused before anything is queued. */
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, victim, 0, 0, 0, 0,
				       &r), -ENXIO);
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, cpus[1], 0, 0, 0, 0,
				       &r), 0);
		ck_assert_int_eq(sys_write(path, "1"), 0);
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, victim, 0, 0, 0, 0,
				       &r), 0);
		check_common(&r, XCALL_FN_PING, victim);
	}
	for (k = 0; k < 2; k++) {
		atomic_store(&s[k].stop, true);
		pthread_join(th[k], NULL);
		ck_assert_msg(atomic_load(&s[k].bad) == 0,
			      "stream %d: %ld unexpected results", k,
			      atomic_load(&s[k].bad));
		ck_assert_int_gt(atomic_load(&s[k].ok), 0);
	}
	printf("hotplug: %ld calls ok, %ld ENXIO while cpu%d was offline\n",
	       atomic_load(&s[0].ok) + atomic_load(&s[1].ok),
	       atomic_load(&s[0].enxio) + atomic_load(&s[1].enxio), victim);
}
END_TEST

/* ------------------------------------------------------------------
 * io_uring: IORING_OP_URING_CMD with struct xcall_uring_cmd, SQE128.
 */

static void prep_cmd(struct io_uring_sqe *sqe, int f, struct xcall_call *c,
		     uint64_t data)
{
	struct xcall_uring_cmd *uc;

	ck_assert(sqe);
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = f;
	sqe->cmd_op = XCALL_IOC_CALL;
	sqe->user_data = data;
	uc = (struct xcall_uring_cmd *)sqe->cmd;
	uc->call = (uintptr_t)c;
}

/* Submit @n prepared SQEs and reap @n CQEs into res[user_data]. */
static void uring_run(struct io_uring *ring, int n, int *cqres)
{
	struct io_uring_cqe *cqe;
	int i;

	ck_assert_int_eq(io_uring_submit(ring), n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(io_uring_wait_cqe(ring, &cqe), 0);
		ck_assert_uint_lt(cqe->user_data, (uint64_t)n);
		cqres[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
}

START_TEST(test_uring)
{
	enum { N = 16 };
	struct io_uring ring;
	struct xcall_call c[N];
	struct xcall_result res[N][MAXCPU];
	uint64_t bits[1] = { 0 };
	int cqres[N], i, j, round;

	ck_assert_int_eq(io_uring_queue_init(N, &ring, IORING_SETUP_SQE128), 0);
	for (i = 0; i < ncpus; i++)
		bits[0] |= 1ULL << cpus[i];
	for (round = 0; round < 20; round++) {
		for (i = 0; i < N; i++) {
			c[i] = mkcall(i % 2 ? XCALL_FN_PROBE : XCALL_FN_CLOCK,
				      bits, 1, res[i], MAXCPU);
			prep_cmd(io_uring_get_sqe(&ring), fd, &c[i], i);
		}
		uring_run(&ring, N, cqres);
		for (i = 0; i < N; i++) {
			ck_assert_int_eq(cqres[i], ncpus);
			ck_assert_uint_eq(c[i].ncalled, ncpus);
			for (j = 0; j < ncpus; j++)
				check_common(&res[i][j], c[i].fn, cpus[j]);
		}
	}
	io_uring_queue_exit(&ring);
}
END_TEST

/* Same errnos as the ioctl, as cqe->res; reserved command words; SQE64. */
START_TEST(test_uring_bad)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct xcall_call c[5];
	struct xcall_result res[MAXCPU];
	uint64_t bits[1] = { 1ULL << cpus[0] };
	int cqres[5];

	ck_assert_int_eq(io_uring_queue_init(8, &ring, IORING_SETUP_SQE128), 0);
	c[0] = mkcall(XCALL_FN_COUNT, bits, 1, res, MAXCPU);
	prep_cmd(io_uring_get_sqe(&ring), fd, &c[0], 0);
	c[1] = mkcall(XCALL_FN_PING, bits, 1, res, MAXCPU);
	sqe = io_uring_get_sqe(&ring);
	prep_cmd(sqe, fd, &c[1], 1);
	((struct xcall_uring_cmd *)sqe->cmd)->reserved[8] = 1;
	c[2] = mkcall(XCALL_FN_PING, bits, 1, res, MAXCPU);
	prep_cmd(io_uring_get_sqe(&ring), fd, &c[2], 2);
	sqe = io_uring_get_sqe(&ring);
	prep_cmd(sqe, fd, NULL, 3);
	((struct xcall_uring_cmd *)sqe->cmd)->call = 16;
	c[4] = mkcall(XCALL_FN_PING, bits, 1, res, MAXCPU);
	c[4].cpuset_size = 4;
	prep_cmd(io_uring_get_sqe(&ring), fd, &c[4], 4);
	uring_run(&ring, 5, cqres);
	ck_assert_int_eq(cqres[0], -EBADRQC);
	ck_assert_int_eq(cqres[1], -EINVAL);
	ck_assert_int_eq(cqres[2], 1);
	ck_assert_int_eq(cqres[3], -EFAULT);
	ck_assert_int_eq(cqres[4], -EMSGSIZE);
	io_uring_queue_exit(&ring);

	/* A 64-byte SQE has no room for the command. */
	ck_assert_int_eq(io_uring_queue_init(8, &ring, 0), 0);
	c[0] = mkcall(XCALL_FN_PING, bits, 1, res, MAXCPU);
	sqe = io_uring_get_sqe(&ring);
	ck_assert(sqe);
	memset(sqe, 0, 64);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = XCALL_IOC_CALL;
	uring_run(&ring, 1, cqres);
	ck_assert_int_eq(cqres[0], -EINVAL);
	io_uring_queue_exit(&ring);
}
END_TEST

/*
 * Every command gets exactly one CQE with its result, issued inline or
 * from io-wq (IOSQE_ASYNC), NOWAIT or waited, and a NOP linked after a
 * call that succeeded runs (6.1 used to fail it with -ECANCELED).
 */
START_TEST(test_uring_async)
{
	enum { N = 7 };
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { .tv_sec = 10 };
	struct xcall_call c[4];
	struct xcall_result res[4][MAXCPU];
	uint64_t bits[1] = { 0 };
	int cqres[N], seen[N] = { 0 }, i;

	for (i = 0; i < ncpus; i++)
		bits[0] |= 1ULL << cpus[i];
	ck_assert_int_eq(io_uring_queue_init(16, &ring, IORING_SETUP_SQE128),
			 0);
	c[0] = mkcall(XCALL_FN_PING, bits, 1, NULL, 0);
	c[0].flags = XCALL_CALL_NOWAIT;
	c[1] = mkcall(XCALL_FN_PROBE, bits, 1, res[1], MAXCPU);
	c[2] = mkcall(XCALL_FN_PING, bits, 1, res[2], MAXCPU);
	c[3] = mkcall(XCALL_FN_COUNT, bits, 1, res[3], MAXCPU);
	for (i = 0; i < 3; i++) {
		sqe = io_uring_get_sqe(&ring);
		prep_cmd(sqe, fd, &c[i], 2 * i);
		sqe->flags |= IOSQE_IO_LINK | (i < 2 ? IOSQE_ASYNC : 0);
		sqe = io_uring_get_sqe(&ring);
		ck_assert(sqe);
		io_uring_prep_nop(sqe);
		sqe->user_data = 2 * i + 1;
	}
	sqe = io_uring_get_sqe(&ring);
	prep_cmd(sqe, fd, &c[3], 6);
	sqe->flags |= IOSQE_ASYNC;
	ck_assert_int_eq(io_uring_submit(&ring), N);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(io_uring_wait_cqe_timeout(&ring, &cqe, &ts), 0);
		ck_assert_uint_lt(cqe->user_data, N);
		cqres[cqe->user_data] = cqe->res;
		seen[cqe->user_data]++;
		io_uring_cqe_seen(&ring, cqe);
	}
	/* One each, and no more. */
	for (i = 0; i < N; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert_int_eq(io_uring_peek_cqe(&ring, &cqe), -EAGAIN);
	ck_assert_int_eq(cqres[0], ncpus);
	ck_assert_uint_eq(c[0].ncalled, ncpus);
	ck_assert_int_eq(cqres[2], ncpus);
	ck_assert_int_eq(cqres[4], ncpus);
	for (i = 0; i < ncpus; i++) {
		check_common(&res[1][i], XCALL_FN_PROBE, cpus[i]);
		check_common(&res[2][i], XCALL_FN_PING, cpus[i]);
	}
	ck_assert_int_eq(cqres[1], 0);
	ck_assert_int_eq(cqres[3], 0);
	ck_assert_int_eq(cqres[5], 0);
	ck_assert_int_eq(cqres[6], -EBADRQC);
	io_uring_queue_exit(&ring);
}
END_TEST

/* How often the kernel log holds @what (the whole ring buffer, read). */
static int klog_count(const char *what)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);
	int count = 0;
	char *p;

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, what)); p++)
		count++;
	return count;
}

/* The state letter of process @pid (/proc/PID/stat), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (sys_read(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * A waiter killed while its call waits behind a spin did not time out:
 * the module logs nothing about it (it used to log "did not answer within
 * 60000 ms" 20 ms into the call).
 */
START_TEST(test_killed_waiter_quiet)
{
	const char *line = "did not answer within 60000 ms";
	int before, status, k, tries, killed = 0;
	struct hold h;
	pid_t pid;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	before = klog_count(line);
	/* Should the spin end before the child sleeps, try again. */
	for (tries = 0; tries < 5 && !killed; tries++) {
		ck_assert_int_eq(hold_start(&h, fd, cpus[1]), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (!pid) {
			struct xcall_result r;

			call1(fd, XCALL_FN_PING, cpus[1], 0, 0, 0, 60000, &r);
			_exit(0);
		}
		/* Asleep in the call (TASK_KILLABLE shows as D): kill it. */
		for (k = 0; k < 1000000 && proc_state(pid) == 'R'; k++)
			sched_yield();
		if (proc_state(pid) == 'D')
			killed = !kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_int_eq(hold_stop(&h), 0);
	}
	ck_assert_msg(killed, "the waiter was never seen asleep in its call");
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(klog_count(line), before);
}
END_TEST

/* The timeout on the io_uring path: completes with ETIMEDOUT records. */
START_TEST(test_uring_timeout)
{
	struct io_uring ring;
	struct xcall_call c;
	struct xcall_result res[2];
	struct hold b;
	uint64_t bits[1];
	int cqres[1], busy = cpus[1], tries = 0;
	bool held;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	ck_assert_int_eq(io_uring_queue_init(8, &ring, IORING_SETUP_SQE128), 0);
	do {
		ck_assert_int_eq(hold_start(&b, fd, busy), 0);
		bits[0] = 1ULL << busy | 1ULL << cpus[0];
		c = mkcall(XCALL_FN_PING, bits, 1, res, 2);
		c.timeout_ms = 1;
		prep_cmd(io_uring_get_sqe(&ring), fd, &c, 0);
		uring_run(&ring, 1, cqres);
		held = hold_covers(&b, mono_ns());
		ck_assert_int_eq(hold_stop(&b), 0);
		ck_assert_int_eq(cqres[0], 2);
		ck_assert_int_eq(res[0].error, 0);
		ck_assert_int_eq(res[1].cpu, busy);
	} while (!held && ++tries < 20);
	ck_assert_msg(held, "no call of %d returned while the CPU was held",
		      tries);
	ck_assert_int_eq(res[1].error, -ETIMEDOUT);
	io_uring_queue_exit(&ring);
}
END_TEST

/* XCALL_IOC_CANCEL through @f: what it returns, or -errno. */
static int do_cancel(int f, struct xcall_cancel *a)
{
	int ret = ioctl(f, XCALL_IOC_CANCEL, a);

	return ret < 0 ? -errno : ret;
}

/*
 * XCALL_IOC_CANCEL: a ping queued through io_uring behind a held CPU is
 * cancelled. The ioctl says 1, the command completes with ECANCELED, its
 * record says so, and the module never ran it (calls_run rises by the
 * hold's spins and our last ping only). Another open file cannot cancel
 * it; a call not in flight is ENOENT. Judged only if the cancel came
 * while the hold's first spin still ran: until then the ping was queued.
 */
START_TEST(test_uring_cancel_ioctl)
{
	struct xcall_cancel a = { .size = sizeof(a) };
	struct xcall_result res, r;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct xcall_call c;
	struct hold h;
	uint64_t bits[1], before, ran = 0;
	int f2, n = 0, other = 0, cqres = 0, tries = 0;
	bool held;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	f2 = open(DEV, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(f2, 0);
	ck_assert_int_eq(io_uring_queue_init(8, &ring, IORING_SETUP_SQE128),
			 0);
	a.call = (uintptr_t)&c;
	ck_assert_int_eq(do_cancel(fd, &a), -ENOENT);
	a.size = 8;
	ck_assert_int_eq(do_cancel(fd, &a), -EMSGSIZE);
	a.size = sizeof(a);
	a.flags = 1;
	ck_assert_int_eq(do_cancel(fd, &a), -EINVAL);
	a.flags = 0;
	a.reserved[1] = 1;
	ck_assert_int_eq(do_cancel(fd, &a), -EINVAL);
	a.reserved[1] = 0;
	ck_assert_int_eq(do_cancel(fd, NULL), -EFAULT);
	do {
		before = calls_run_settled();
		ck_assert_int_eq(hold_start(&h, fd, cpus[1]), 0);
		bits[0] = 1ULL << cpus[1];
		c = mkcall(XCALL_FN_PING, bits, 1, &res, 1);
		c.timeout_ms = 60000;
		c.ncalled = 777;
		memset(&res, 0, sizeof(res));
		prep_cmd(io_uring_get_sqe(&ring), fd, &c, 0);
		ck_assert_int_eq(io_uring_submit(&ring), 1);
		other = do_cancel(f2, &a);
		n = do_cancel(fd, &a);
		held = hold_covers(&h, mono_ns());
		ck_assert_int_eq(io_uring_wait_cqe(&ring, &cqe), 0);
		cqres = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		ck_assert_int_eq(hold_stop(&h), 0);
		/* Behind what was queued there: once it answers, all passed. */
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, cpus[1], 0, 0, 0,
				       5000, &r), 0);
		ran = calls_run() - before;
		if (!held)
			continue;
		ck_assert_int_eq(other, -ENOENT);
		ck_assert_int_eq(n, 1);
		ck_assert_int_eq(cqres, -ECANCELED);
		ck_assert_uint_eq(c.ncalled, 1);
		ck_assert_int_eq(res.error, -ECANCELED);
		ck_assert_uint_eq(res.cpu, cpus[1]);
		ck_assert_uint_eq(ran, h.spins + 1);
	} while (!held && ++tries < 20);
	printf("uring cancel ioctl: judged at try %d\n", tries);
	ck_assert_msg(held, "in %d tries the cancel never came while the CPU "
		      "was held", tries);
	/* Completed: nothing of it is left to cancel. */
	ck_assert_int_eq(do_cancel(fd, &a), -ENOENT);
	io_uring_queue_exit(&ring);
	close(f2);
}
END_TEST

/* /sys/module/xcall/refcnt, or -1. */
static int refcnt(void)
{
	char buf[32];

	if (sys_read("/sys/module/xcall/refcnt", buf, sizeof(buf)) <= 0)
		return -1;
	return atoi(buf);
}

/* Poll the module's refcnt until it is @want or @secs pass. */
static int wait_refcnt(int want, int secs)
{
	int i, n = refcnt();

	for (i = 0; i < secs * 20 && n != want; i++) {
		usleep(50000);
		n = refcnt();
	}
	return n;
}

/* The kernel's release is at least @maj.@min. */
static bool kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	ck_assert_int_eq(uname(&u), 0);
	sscanf(u.release, "%d.%d", &a, &b);
	return a > maj || (a == maj && b >= min);
}

/*
 * A process exits with a waited command whose call is queued behind a
 * spin. From 6.7 io_uring cancels it at exit: the call is settled before it
 * runs (the module's count of functions run shows it never ran). 6.1 has
 * no cancellation: the call waits for its CPU and runs. A round counts only
 * if the spin had not answered yet when the child was gone, and from 6.7
 * only if the child's ring was gone too (the module's refcnt back to ours)
 * while the spin still ran: io_uring cancels an exited task's untracked
 * requests in the ring's exit work, a work item that runs after the task
 * is reaped (seen in the x86_64-x2apic-6.12 guest of a loaded host: the
 * spin's 100 ms were over before it ran, and the call ran).
 */
START_TEST(test_uring_cancel_at_exit)
{
	bool cancels = kernel_at_least(6, 7), conclusive = false;
	uint64_t before, ran = 0, sbits[MAXCPU / 64 + 1];
	struct io_uring_cqe *cqe;
	struct xcall_result r, sr;
	struct io_uring sring;
	struct xcall_call sc;
	int tries, status;
	pid_t pid;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	ck_assert_int_eq(io_uring_queue_init(4, &sring, IORING_SETUP_SQE128),
			 0);
	for (tries = 0; tries < 10 && !conclusive; tries++) {
		before = calls_run_settled();
		ck_assert_int_eq(spin_queued(&sring, fd, cpus[1], &sc, sbits,
					     &sr), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (!pid) {
			static struct xcall_call c;
			static struct xcall_result res;
			static uint64_t bits[1];
			struct io_uring ring;
			int cfd = open(DEV, O_RDWR);

			if (cfd < 0 ||
			    io_uring_queue_init(8, &ring, IORING_SETUP_SQE128))
				_exit(2);
			bits[0] = 1ULL << cpus[1];
			c = mkcall(XCALL_FN_PING, bits, 1, &res, 1);
			c.timeout_ms = 60000;
			prep_cmd(io_uring_get_sqe(&ring), cfd, &c, 0);
			_exit(io_uring_submit(&ring) == 1 ? 0 : 3);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		/*
		 * From 6.7: until the child's ring is gone, or the spin is
		 * over. A syscall after each look at the refcnt runs the task
		 * work that posts a CQE of a spin that was over before it.
		 */
		while (cancels && io_uring_peek_cqe(&sring, &cqe) != 0 &&
		       refcnt() != 1)
			sched_yield();
		sched_yield();
		/* The spin still runs: the child's call has not, yet. */
		conclusive = io_uring_peek_cqe(&sring, &cqe) != 0 &&
			     (!cancels || refcnt() == 1);
		ck_assert_int_eq(spin_reap(&sring), 0);
		/* Behind the child's call: once it answers, that one is done. */
		ck_assert_int_eq(call1(fd, XCALL_FN_PING, cpus[1], 0, 0, 0,
				       5000, &r), 0);
		ran = calls_run() - before - 2;		/* the spin, the ping */
	}
	io_uring_queue_exit(&sring);
	printf("uring cancel at exit: %s kernel, the queued call %s\n",
	       cancels ? "6.7+" : "6.1", ran ? "ran" : "never ran");
	/* The children's rings die in the background; then only ours. */
	ck_assert_int_eq(wait_refcnt(1, 30), 1);
	ck_assert_msg(conclusive, "the spin never outlasted the child");
	ck_assert_uint_eq(ran, cancels ? 0 : 1);
}
END_TEST

/*
 * A process that exits with commands in flight, one completing by its
 * timeout and one by its answer: the kernel finishes them without it
 * (results to a gone address space are dropped), and nothing hangs.
 */
START_TEST(test_uring_exit_in_flight)
{
	struct xcall_result r;
	int busy = cpus[1], status, k;
	pid_t pid;

	ck_assert_int_ge(ncpus, 2);
	pin(cpus[0]);
	for (k = 0; k < 2; k++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (!pid) {
			static struct xcall_call c[2];
			static struct xcall_result res[2][2];
			static uint64_t bits[1];
			struct io_uring ring;
			/* A file of its own: only the rings keep it open. */
			int cfd = open(DEV, O_RDWR);

			struct hold b;

			if (cfd < 0 ||
			    io_uring_queue_init(8, &ring, IORING_SETUP_SQE128) ||
			    hold_start(&b, cfd, busy))
				_exit(2);
			bits[0] = 1ULL << busy | 1ULL << cpus[0];
			c[0] = mkcall(XCALL_FN_PING, bits, 1, res[0], 2);
			c[0].timeout_ms = 20;
			c[1] = mkcall(XCALL_FN_PROBE, bits, 1, res[1], 2);
			c[1].timeout_ms = 5000;
			prep_cmd(io_uring_get_sqe(&ring), cfd, &c[0], 0);
			prep_cmd(io_uring_get_sqe(&ring), cfd, &c[1], 1);
			if (io_uring_submit(&ring) != 2)
				_exit(3);
			close(cfd);
			if (k)
				io_uring_queue_exit(&ring);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	ck_assert_int_eq(call1(fd, XCALL_FN_PING, busy, 0, 0, 0, 10000, &r),
			 0);
	check_common(&r, XCALL_FN_PING, busy);
	/*
	 * The rings die in the background: their commands end (the 5 s one
	 * at the latest) and drop the children's files. Only our own open
	 * remains, within a deadline.
	 */
	ck_assert_int_eq(wait_refcnt(1, 30), 1);
}
END_TEST

/* ------------------------------------------------------------------
 * rmmod: refused while the device is open, fine once it is closed.
 */

START_TEST(test_rmmod)
{
	const char *ko = getenv("XCALL_KO");
	int f, kf, ret, n0;

	if (!ko)
		ck_abort_msg("XCALL_KO is not set");
	n0 = refcnt();
	/* fd (fixture) is open. */
	ret = syscall(SYS_delete_module, "xcall", O_NONBLOCK);
	ck_assert_int_eq(ret, -1);
	ck_assert_msg(errno == EBUSY || errno == EWOULDBLOCK, "rmmod: %s",
		      strerror(errno));
	ck_assert_int_eq(access(DEV, F_OK), 0);
	/*
	 * Work still queued when the last file closes: a child queues NOWAIT
	 * calls behind a spin and exits, its spin's waiter killed. Unloading
	 * waits for that work instead of pulling the code from under it.
	 */
	if (ncpus >= 2) {
		pid_t pid = fork();
		int status;

		ck_assert_int_ge(pid, 0);
		if (!pid) {
			struct hold b;
			int cfd = open(DEV, O_RDWR), k;

			pin(cpus[0]);
			if (cfd < 0 || hold_start(&b, cfd, cpus[1]))
				_exit(2);
			for (k = 0; k < 32; k++) {
				uint64_t bits[1] = { 1ULL << cpus[1] };
				struct xcall_call c = mkcall(XCALL_FN_PING,
							     bits, 1, NULL, 0);

				c.flags = XCALL_CALL_NOWAIT;
				if (do_call(cfd, &c))
					_exit(3);
			}
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		/*
		 * The child's ring keeps its file until its spin answers
		 * (6.1 does not cancel it at exit); the NOWAIT calls behind
		 * the spin wait a pause longer.
		 */
		ck_assert_int_eq(wait_refcnt(1, 30), 1);
	}
	close(fd);
	fd = -1;
	ret = syscall(SYS_delete_module, "xcall", O_NONBLOCK);
	ck_assert_msg(ret == 0, "rmmod after close: %s (refcnt %d, was %d)",
		      strerror(errno), refcnt(), n0);
	ck_assert_int_eq(access(DEV, F_OK), -1);
	kf = open(ko, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(kf, 0);
	ck_assert_int_eq(syscall(SYS_finit_module, kf, "", 0), 0);
	close(kf);
	f = open(DEV, O_RDWR);
	ck_assert_int_ge(f, 0);
	{
		struct xcall_result r;

		ck_assert_int_eq(call1(f, XCALL_FN_PING, cpus[0], 0, 0, 0, 0,
				       &r), 0);
	}
	close(f);
}
END_TEST

static Suite *kmod_suite(void)
{
	Suite *s = suite_create("kmod");
	TCase *tc;

	tc = tcase_create("info");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_info);
	tcase_add_test(tc, test_device_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("functions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ping_each);
	tcase_add_test(tc, test_all_fns_all_cpus);
	tcase_add_test(tc, test_clock);
	tcase_add_test(tc, test_probe_hwid);
	tcase_add_test(tc, test_ident);
	tcase_add_test(tc, test_ctx_user_kernel);
	tcase_add_test(tc, test_ctx_idle);
	tcase_add_test(tc, test_local_cpu);
	tcase_add_test(tc, test_nowait);
	tcase_add_test(tc, test_storm);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_input");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_input, 0,
			    sizeof(bad_table) / sizeof(bad_table[0]));
	tcase_add_test(tc, test_bad_call_ptr);
	suite_add_tcase(s, tc);

	tc = tcase_create("privilege");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_priv_dropped_before_open);
	tcase_add_test(tc, test_priv_dropped_after_open);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_spin_one_per_cpu);
	tcase_add_test(tc, test_nowait_bounds);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_writable_pages);
	tcase_add_test(tc, test_efault_settles_the_rest);
	suite_add_tcase(s, tc);

	tc = tcase_create("privacy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ctx_other_user);
	tcase_add_test(tc, test_ctx_pidns);
	tcase_add_test(tc, test_ctx_view);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_killed_waiter_quiet);
	suite_add_tcase(s, tc);

	tc = tcase_create("hotplug");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hotplug);
	suite_add_tcase(s, tc);

	tc = tcase_create("uring");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_uring);
	tcase_add_test(tc, test_uring_bad);
	tcase_add_test(tc, test_uring_async);
	tcase_add_test(tc, test_uring_timeout);
	tcase_add_test(tc, test_uring_exit_in_flight);
	tcase_add_test(tc, test_uring_cancel_at_exit);
	tcase_add_test(tc, test_uring_cancel_ioctl);
	suite_add_tcase(s, tc);

	/* Last: unloads and loads the module again. */
	tc = tcase_create("module");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rmmod);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(kmod_suite)
