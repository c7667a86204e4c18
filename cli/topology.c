// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall topology`: every CPU that exists, whether it is online, its NUMA
 * node, package and core (sysfs), and its hardware id, read on the CPU
 * itself by running `probe` on every online CPU through the backend.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"

static const struct argp_option topo_options[] = {
	XC_OPTION_JSON("one JSON object per CPU and line", 0),
	XC_OPTION_BACKEND("backend that runs probe: auto, threads, kmod, "
			  "daemon", 0),
	XC_OPTION_TIMEOUT(0),
	{ 0 }
};

static const char topo_doc[] = "Show the CPUs of this machine: online "
	"state, NUMA node, package, core and hardware id (x86 APIC id, arm64 "
	"MPIDR, ppc hardware thread id).";

/* A number from sysfs cpu@cpu/topology/@name, or -1. */
static long long sysfs_topo(int cpu, const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%d/topology/%s", cpu, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void num_or_null(char *buf, size_t len, long long v)
{
	if (v < 0)
		snprintf(buf, len, "null");
	else
		snprintf(buf, len, "%lld", v);
}

int cmd_topology(int argc, char **argv)
{
	cpu_set_t *possible = xc_cpuset_alloc(), *online = xc_cpuset_alloc();
	struct xcall_req req = { .fn = XCALL_FN_PROBE };
	struct xcall_result *res = NULL;
	char node[24], pkg[24], core[24], hwid[24], cpu[24];
	unsigned int n, i, c, failed = 0;
	struct xcall *x = NULL;
	struct xc_opts a;
	const char *row[6];
	struct table t;
	struct sbuf sb;
	int status, ret;

	status = xc_parse_opts("topology", topo_options, topo_doc, argc, argv,
			       &a);
	if (!status)
		status = xc_opt_timeout(&a, &req.timeout_ms);
	if (status)
		goto out_sets;
	status = xc_read_cpus("topology", possible, online);
	if (status)
		goto out_sets;
	n = CPU_COUNT_S(XC_SETSIZE, online);
	res = calloc(n ? n : 1, sizeof(*res));
	if (!res) {
		xc_err("memory", "%s", strerror(ENOMEM));
		status = XC_EXIT_REFUSED;
		goto out_sets;
	}
	status = xc_open_backend(&x, a.backend);
	if (status)
		goto out_res;
	ret = xcall_run(x, &req, online, XC_SETSIZE, res, n);
	if (ret < 0) {
		status = xc_run_failed(x, "probe", ret);
		goto out_close;
	}

	sb_init(&sb);
	table_init(&t, 6);
	for (i = 0; i < 6; i++)
		table_right(&t, i);
	table_add(&t, (const char *const[]){ "CPU", "ONLINE", "NODE",
					     "PACKAGE", "CORE", "HWID" });
	for (c = 0, i = 0; c < XC_SETSIZE * 8; c++) {
		const struct xcall_result *r = NULL;
		int on = CPU_ISSET_S(c, XC_SETSIZE, online);

		if (!CPU_ISSET_S(c, XC_SETSIZE, possible))
			continue;
		if (on) {
			for (; i < (unsigned int)ret && res[i].cpu < c; i++)
				;
			if (i < (unsigned int)ret && res[i].cpu == c)
				r = &res[i];
		}
		if (r && r->error) {
			xc_err("probe", "cpu %u: %s", c,
			       fmt_errmsg(r->error));
			failed = 1;
			r = NULL;
		}
		snprintf(cpu, sizeof(cpu), "%u", c);
		num_or_null(node, sizeof(node), xcall_cpu_node(c));
		num_or_null(pkg, sizeof(pkg),
			    on ? sysfs_topo(c, "physical_package_id") : -1);
		num_or_null(core, sizeof(core),
			    on ? sysfs_topo(c, "core_id") : -1);
		if (r && r->hwid != UINT64_MAX)
			snprintf(hwid, sizeof(hwid), "%llu",
				 (unsigned long long)r->hwid);
		else
			snprintf(hwid, sizeof(hwid), "null");
		if (a.json) {
			sb_printf(&sb, "{\"cpu\":%s,\"online\":%s,\"node\":%s,"
				  "\"package\":%s,\"core\":%s,\"hwid\":%s}\n",
				  cpu, on ? "true" : "false", node, pkg, core,
				  hwid);
			continue;
		}
		row[0] = cpu;
		row[1] = on ? "yes" : "no";
		row[2] = strcmp(node, "null") ? node : NULL;
		row[3] = strcmp(pkg, "null") ? pkg : NULL;
		row[4] = strcmp(core, "null") ? core : NULL;
		row[5] = strcmp(hwid, "null") ? hwid : NULL;
		table_add(&t, row);
	}
	if (!a.json)
		table_render(&t, &sb);
	table_free(&t);
	status = xc_emit(&sb);
	if (!status && failed)
		status = XC_EXIT_FAILED;
out_close:
	xcall_close(x);
out_res:
	free(res);
out_sets:
	CPU_FREE(online);
	CPU_FREE(possible);
	return status;
}
