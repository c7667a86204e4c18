#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test_numa.sh: NUMA nodes as libxcall reads them from sysfs
# (lib/topology.c), on machines this one is not: an xcall that sees a
# made-up /sys/devices/system/node, bind-mounted in a mount namespace of
# its own (as root; as another user, inside a user namespace if the kernel
# lets anyone make one):
#
#   two nodes    node N holds CPU N: --node 1 runs on CPU 1 alone,
#                `topology` says node 1 for it, --node 2 does not exist
#                (highest: 1)
#   no NUMA      an empty directory (a kernel without NUMA has none): one
#                node 0 with every CPU, --node 1 refused (highest: 0)
#
# XCALL=<built xcall> SRC=<tree> bash tests/cli/test_numa.sh
. "$SRC/tests/cli/lib.sh"

# refused RE ARGS...: xcall ARGS is refused (2), RE its one line.
refused() {
	local re=$1

	shift
	xc "$@"
	[ "$rc" = 2 ] && [ -z "$out" ] && grep -Eqx -- "$re" <<<"$err" && pass ||
		fail "xcall $*: exit $rc, stdout '$out', stderr '$err'"
}

# An xcall that sees DIR over /sys/devices/system/node (xcall_bound).
nodes_as() {
	xcall_bound "$1" /sys/devices/system/node
}

online=$(cat /sys/devices/system/cpu/online)
if ! [ -d /sys/devices/system/node ]; then
	xt_skip_env "no /sys/devices/system/node to lay a made-up one over"
	finish
fi
if ! "$XCALL" run --cpu 1 ping >/dev/null 2>&1; then
	xt_skip_env "no online CPU 1: two made-up nodes not tried"
else
	mkdir -p "$T/two/node0" "$T/two/node1"
	echo 0-1 >"$T/two/online"
	echo 0 >"$T/two/node0/cpulist"
	echo 1 >"$T/two/node1/cpulist"
	if x=$(nodes_as "$T/two"); then
		XCALL=$x xc run --node 1 --json ping
		[ "$rc" = 0 ] && [ "$(json_cpus | paste -sd,)" = 1 ] && pass ||
			fail "two nodes: run --node 1: rc=$rc cpus $(json_cpus | paste -sd,) err=$err"
		XCALL=$x xc topology --json
		[ "$rc" = 0 ] &&
			[ "$(jq -r 'select(.cpu == 1) | .node' <<<"$out")" = 1 ] &&
			[ "$(jq -r 'select(.cpu == 0) | .node' <<<"$out")" = 0 ] &&
			pass || fail "two nodes: topology: rc=$rc out=$out err=$err"
		XCALL=$x refused "xcall: --node: 2: no such NUMA node \(highest: 1\)" run --node 2 ping
	else
		xt_skip "no mount namespace for a made-up node directory"
	fi
fi

mkdir -p "$T/none"
if x=$(nodes_as "$T/none"); then
	XCALL=$x xc run --node 0 --json ping
	[ "$rc" = 0 ] && [ "$(json_cpus | paste -sd,)" = "$(
		"$XCALL" run --cpu "$online" --json ping | jq -r .cpu | paste -sd,)" ] &&
		pass || fail "no NUMA: run --node 0: rc=$rc cpus $(json_cpus | paste -sd,)"
	XCALL=$x xc topology --json
	[ "$rc" = 0 ] && [ "$(jq -r .node <<<"$out" | sort -u)" = 0 ] && pass ||
		fail "no NUMA: topology: rc=$rc out=$out err=$err"
	XCALL=$x refused "xcall: --node: 1: no such NUMA node \(highest: 0\)" run --node 1 ping
else
	xt_skip "no mount namespace for an empty node directory"
fi

finish
