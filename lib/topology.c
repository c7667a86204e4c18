// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Topology: the CPUs that exist (possible) and are online, and the NUMA
 * nodes, all from sysfs, read only when asked. A kernel without NUMA (no
 * /sys/devices/system/node) is one node, 0, that holds every CPU: the same
 * answer the module gives in its records.
 *
 * Not libnuma: its constructor runs in every process linked with it
 * (/proc/self/status twice, the node directory, each node's meminfo, two
 * set_mempolicy calls), about a fifth of what `xcall run` costs as a
 * whole process, for what three small sysfs files say (bench_cli).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpuset.h"
#include "libxcall.h"

#define SYSFS_CPU	"/sys/devices/system/cpu/"
#define SYSFS_NODE	"/sys/devices/system/node/"

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

/*
 * The online nodes into @nodes (a set of XCALL_MAX_CPUSET_BYTES): 0, or
 * -ENOENT on a kernel without NUMA.
 */
static int nodes_online(cpu_set_t *nodes)
{
	int ret = read_cpulist_file(SYSFS_NODE "online", nodes,
				    CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8));

	return ret == -ENOENT || ret == -ENOTDIR ? -ENOENT : ret;
}

static cpu_set_t *nodes_alloc(void)
{
	return CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
}

int xcall_node_max(void)
{
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *nodes = nodes_alloc();
	int n, max = 0;

	if (!nodes)
		return -ENOMEM;
	if (!nodes_online(nodes))
		for (n = 0; n < XCALL_MAX_CPUSET_BYTES * 8; n++)
			if (CPU_ISSET_S(n, sz, nodes))
				max = n;
	CPU_FREE(nodes);
	return max;
}

/* The CPUs of online node @node, which @nodes says is one. */
static int node_cpulist(int node, cpu_set_t *set, size_t setsize)
{
	char path[64];

	snprintf(path, sizeof(path), SYSFS_NODE "node%d/cpulist", node);
	return read_cpulist_file(path, set, setsize);
}

int xcall_node_cpus(int node, cpu_set_t *set, size_t setsize)
{
	size_t sz = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *nodes;
	int ret;

	if (!set)
		return -EINVAL;
	if (node < 0 || node >= XCALL_MAX_CPUSET_BYTES * 8)
		return -ENOENT;
	nodes = nodes_alloc();
	if (!nodes)
		return -ENOMEM;
	ret = nodes_online(nodes);
	if (ret == -ENOENT)
		ret = node ? -ENOENT : xcall_cpus_possible(set, setsize);
	else if (!ret && !CPU_ISSET_S(node, sz, nodes))
		ret = -ENOENT;
	else if (!ret)
		ret = node_cpulist(node, set, setsize);
	CPU_FREE(nodes);
	return ret;
}

/*
 * Node of every possible CPU, computed once, the first time a caller asks
 * (`xcall topology`; a function's record takes its node from getcpu() on
 * the CPU itself instead, lib/fns.c).
 */
static int *node_of;
static int node_of_len;
static pthread_once_t node_once = PTHREAD_ONCE_INIT;

/* Set node_of[c] = @node for every CPU of @node; 0, or -errno. */
static int node_fill(int node, cpu_set_t *cpus, size_t setsize)
{
	int c, ret = node_cpulist(node, cpus, setsize);

	if (ret)
		return ret;
	for (c = 0; c < node_of_len; c++)
		if (CPU_ISSET_S(c, setsize, cpus) && node_of[c] == -ENOENT)
			node_of[c] = node;
	return 0;
}

static void node_init(void)
{
	size_t setsize = CPU_ALLOC_SIZE(XCALL_MAX_CPUSET_BYTES * 8);
	cpu_set_t *possible, *nodes = NULL;
	int c, n, last = -1, numa;

	possible = CPU_ALLOC(XCALL_MAX_CPUSET_BYTES * 8);
	if (!possible)
		return;
	nodes = nodes_alloc();
	if (!nodes || xcall_cpus_possible(possible, setsize))
		goto out_set;
	numa = nodes_online(nodes);
	if (numa && numa != -ENOENT)
		goto out_set;
	for (c = 0; c < XCALL_MAX_CPUSET_BYTES * 8; c++)
		if (CPU_ISSET_S(c, setsize, possible))
			last = c;
	node_of = calloc(last + 1, sizeof(*node_of));
	if (!node_of)
		goto out_set;
	node_of_len = last + 1;
	/* A CPU that no node lists (offline) has none: -ENOENT. */
	for (c = 0; c <= last; c++)
		node_of[c] = !CPU_ISSET_S(c, setsize, possible) ? -ENODEV :
			     numa ? 0 : -ENOENT;
	for (n = 0; !numa && n < XCALL_MAX_CPUSET_BYTES * 8; n++)
		if (CPU_ISSET_S(n, setsize, nodes))
			node_fill(n, possible, setsize);
out_set:
	CPU_FREE(nodes);
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
