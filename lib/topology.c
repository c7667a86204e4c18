// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Topology: the CPUs that exist (possible) and are online, from sysfs, and
 * NUMA nodes through libnuma. A kernel without NUMA is one node, 0, that
 * holds every CPU: the same answer the module gives in its records.
 */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpuset.h"
#include "libxcall.h"

#define SYSFS_CPU	"/sys/devices/system/cpu/"

static int read_cpulist_file(const char *path, cpu_set_t *set,
			     size_t setsize)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if (!set)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (n == 0) {
		CPU_ZERO_S(setsize, set);
		return 0;
	}
	return xcall_cpulist_parse(buf, set, setsize);
}

int xcall_cpus_possible(cpu_set_t *set, size_t setsize)
{
	return read_cpulist_file(SYSFS_CPU "possible", set, setsize);
}

int xcall_cpus_online(cpu_set_t *set, size_t setsize)
{
	return read_cpulist_file(SYSFS_CPU "online", set, setsize);
}

static int have_numa(void)
{
	static int avail = -2;	/* not asked yet (a race asks twice) */
	int a = __atomic_load_n(&avail, __ATOMIC_RELAXED);

	if (a == -2) {
		a = numa_available();
		__atomic_store_n(&avail, a, __ATOMIC_RELAXED);
	}
	return a >= 0;
}

int xcall_node_max(void)
{
	if (!have_numa())
		return 0;
	return numa_max_node();
}

int xcall_node_cpus(int node, cpu_set_t *set, size_t setsize)
{
	struct bitmask *mask;
	unsigned int c;
	int ret = 0;

	if (!set)
		return -EINVAL;
	if (node < 0)
		return -ENOENT;
	if (!have_numa()) {
		if (node != 0)
			return -ENOENT;
		return xcall_cpus_possible(set, setsize);
	}
	if (node > numa_max_node() ||
	    !numa_bitmask_isbitset(numa_nodes_ptr, node))
		return -ENOENT;
	mask = numa_allocate_cpumask();
	if (!mask)
		return -ENOMEM;
	if (numa_node_to_cpus(node, mask) < 0) {
		ret = errno ? -errno : -ENOENT;
		goto out_mask;
	}
	CPU_ZERO_S(setsize, set);
	for (c = 0; c < mask->size; c++) {
		if (!numa_bitmask_isbitset(mask, c))
			continue;
		if (c >= setsize * 8) {
			ret = -ERANGE;
			goto out_mask;
		}
		__xcall_set_cpu(set, setsize, c);
	}
out_mask:
	numa_free_cpumask(mask);
	return ret;
}

/*
 * Node of every possible CPU, computed once: the functions read it on the
 * hot path, where libnuma's numa_node_of_cpu() would allocate.
 */
static int *node_of;
static int node_of_len;
static pthread_once_t node_once = PTHREAD_ONCE_INIT;

static void node_init(void)
{
	size_t setsize = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *possible;
	int c, n, last = -1;

	possible = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	if (!possible)
		return;
	if (xcall_cpus_possible(possible, setsize))
		goto out_set;
	for (c = 0; c < XCALL_MAX_CPUSET_BYTES * 8; c++)
		if (CPU_ISSET_S(c, setsize, possible))
			last = c;
	node_of = calloc(last + 1, sizeof(*node_of));
	if (!node_of)
		goto out_set;
	for (c = 0; c <= last; c++) {
		n = -ENODEV;
		if (CPU_ISSET_S(c, setsize, possible)) {
			n = have_numa() ? numa_node_of_cpu(c) : 0;
			if (n < 0)
				n = -ENOENT;
		}
		node_of[c] = n;
	}
	node_of_len = last + 1;
out_set:
	CPU_FREE(possible);
}

int xcall_cpu_node(int cpu)
{
	pthread_once(&node_once, node_init);
	if (!node_of)
		return -ENOMEM;
	if (cpu < 0 || cpu >= node_of_len)
		return -ENODEV;
	return node_of[cpu];
}
