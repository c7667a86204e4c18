#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# What runs inside every guest (busybox sh, as root, PID 1's child), for
# `make check-vm`. The contract with scripts/vm/init.sh and run.sh:
#
#   - Available: /xcall/xcall.ko (= $XCALL_KO), /xcall/bin/xcall (the static
#     CLI, on $PATH; xcalld beside it when the daemon is built),
#     /xcall/tests/* (tests/vm/test_*.c, static; scripts/vm/selftest.sh
#     adds programs of its own),
#     /xcall/kmods/*.ko (x86: the image's cpuid.ko and msr.ko, not loaded),
#     busybox applets, /proc /sys /dev (devtmpfs) /tmp mounted.
#   - Environment: XCALL_FLAVOUR (a name of scripts/vm/flavour.sh's
#     table), XCALL_KO, XCALL_DIR=/xcall; cwd /xcall; optional XCALL_TESTS
#     and whatever else the host put on the kernel command line.
#   - The module is NOT loaded when this starts: load it here.
#   - Exit status 0 is a pass, anything else a failure. init.sh prints the
#     one verdict line; the host fails the run anyway if a kernel line
#     reports BUG/WARNING/Oops/lockdep/a stall (flavour.sh's $vm_bad).
#   - Print what a person needs to see why it failed; do not print the words
#     the host scans kernel lines for (BUG:, WARNING:, Oops, ...) yourself.
set -u

fail=0
note() { echo "guest: $*"; }

if ! insmod "$XCALL_KO"; then
	note "insmod $XCALL_KO failed"
	exit 1
fi
if [ ! -c /dev/xcall ]; then
	note "/dev/xcall missing after insmod"
	fail=1
fi

# One version (VERSION): the module as loaded, its file's .modinfo (busybox
# modinfo wants modules.dep: read it raw), xcall and xcalld all say it.
# The host checks the man pages and the DKMS tree (tests/version.sh).
v_cli=$(xcall --version | sed -n '1s/^xcall //p')
v_sys=$(cat /sys/module/xcall/version 2>/dev/null)
v_ko=$(tr '\000' '\n' <"$XCALL_KO" | sed -n 's/^version=//p')
v_d=$v_cli
[ ! -x /xcall/bin/xcalld ] ||
	v_d=$(/xcall/bin/xcalld --version | sed -n '1s/^xcalld //p')
if [ -n "$v_cli" ] && [ "$v_sys" = "$v_cli" ] && [ "$v_ko" = "$v_cli" ] &&
   [ "$v_d" = "$v_cli" ]; then
	note "version $v_cli: module, xcall.ko, xcall and xcalld agree: pass"
else
	note "versions differ: /sys/module/xcall/version '$v_sys'," \
		"xcall.ko '$v_ko', xcall '$v_cli', xcalld '$v_d': FAIL"
	fail=1
fi

# Check suites. The guest is slow (TCG): give each test more time.
export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-10}"
# Every test_* and fuzz_* program; XCALL_TESTS=a,b (kernel command line)
# runs only those, which may also be a cell's own (cell_*).
for t in /xcall/tests/*; do
	[ -x "$t" ] || continue
	name=${t##*/}
	if [ -n "${XCALL_TESTS:-}" ]; then
		case ",$XCALL_TESTS," in *",$name,"*) ;; *) continue ;; esac
	else
		case "$name" in test_*|fuzz_*) ;; *) continue ;; esac
	fi
	note "running $name"
	if "$t"; then
		note "$name: pass"
	else
		note "$name: FAIL (exit $?)"
		fail=1
	fi
done

# The CLI through the module: one JSON record per online CPU, each ok and
# from its own CPU; probe says what it interrupted (never "none", which is
# the threads backend's answer) and agrees with the threads backend on the
# hardware id and node of every CPU; where never shows a raw address.
ncpu=$(grep -c '^processor' /proc/cpuinfo)
# cli_check FN: run FN on all CPUs through the module, check the records.
cli_check() {
	out=/tmp/cli-$1.json
	if ! xcall run --backend kmod --all --json "$1" >"$out"; then
		note "xcall run --backend kmod --all --json $1: exit $?"
		return 1
	fi
	n=$(grep -c '"ok":true' "$out")
	if [ "$n" != "$ncpu" ] || [ "$(wc -l <"$out")" != "$ncpu" ]; then
		note "xcall $1: $n ok records of $(wc -l <"$out"), want $ncpu"
		cat "$out"
		return 1
	fi
	c=0
	while [ $c -lt "$ncpu" ]; do
		grep -q "\"cpu\":$c," "$out" || {
			note "xcall $1: no record of cpu $c"; return 1; }
		c=$((c + 1))
	done
	return 0
}
# Keys of probe that both backends must agree on, one line per CPU.
ids() { sed 's/.*"cpu":\([0-9]*\),.*"node":\([0-9]*\),"hwid":\([0-9]*\),.*/\1 \2 \3/' "$1"; }
if [ -e /dev/xcall ]; then
	for fn in ping probe clock ident where; do
		if cli_check $fn; then
			note "xcall run --backend kmod --all --json $fn: pass"
		else
			note "xcall run --backend kmod --all --json $fn: FAIL"
			fail=1
		fi
	done
	if grep -q '"ctx":"none"' /tmp/cli-probe.json; then
		note "xcall probe through kmod: ctx none: FAIL"
		fail=1
	fi
	if grep -E '"sym":"0x|0x[0-9a-f]{12}' /tmp/cli-where.json; then
		note "xcall where: a raw address: FAIL"
		fail=1
	fi
	if xcall run --backend threads --all --json probe >/tmp/cli-threads.json &&
	   [ "$(ids /tmp/cli-probe.json)" = "$(ids /tmp/cli-threads.json)" ]; then
		note "probe: kmod and threads backends agree on cpu/node/hwid: pass"
	else
		note "probe: kmod and threads backends disagree: FAIL"
		cat /tmp/cli-probe.json /tmp/cli-threads.json
		fail=1
	fi
fi

# xcall run --timeline through the module: a summary per CPU, every call
# timed and none failed (tests/vm/test_timeline.c judges the stages
# themselves); the table goes to the log, for people.
if [ -e /dev/xcall ]; then
	if xcall run --timeline --all --repeat 20 --json ping >/tmp/tl.json &&
	   [ "$(grep -c '"calls":20,"failed":0,' /tmp/tl.json)" = "$ncpu" ]; then
		note "xcall run --timeline --all --json ping: pass"
	else
		note "xcall run --timeline --all --json ping: FAIL"
		cat /tmp/tl.json
		fail=1
	fi
	xcall run --timeline --cpu 1 --repeat 200 ping ||
		{ note "xcall run --timeline --cpu 1: FAIL"; fail=1; }
fi

# xcalld over the module (io_uring commands on /dev/xcall): it opens the
# device as root, then becomes uid 65534 with no capability left; a root
# client's privileged calls still pass, because the module judges the
# opener of the file and the daemon's policy lets root run everything.
# daemon_check: start it, call through it, read its credentials, stop it.
daemon_check() {
	sock=/tmp/xcalld.sock
	/xcall/bin/xcalld --socket $sock --config /nonexistent --user 65534 \
		--backend kmod 2>/tmp/xcalld.log &
	dpid=$!
	i=0
	# Ready when it answers a status request (no notify socket here).
	while ! XCALL_SOCKET=$sock xcall status --json >/tmp/st.json \
			2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 $dpid 2>/dev/null; then
			note "xcalld did not start"; cat /tmp/xcalld.log
			return 1
		fi
		usleep 100000 2>/dev/null || sleep 1
	done
	grep -q '"daemon":{[^}]*"backend":"kmod"' /tmp/st.json || {
		note "xcalld status: not serving through the module"
		cat /tmp/st.json; return 1; }
	export XCALL_SOCKET=$sock
	for fn in ping probe where "spin 100"; do
		# shellcheck disable=SC2086
		xcall run --backend daemon --all --json $fn >/tmp/d.json || {
			note "xcall run --backend daemon $fn: exit $?"
			cat /tmp/d.json /tmp/xcalld.log; return 1; }
		n=$(grep -c '"ok":true' /tmp/d.json)
		[ "$n" = "$ncpu" ] || {
			note "daemon $fn: $n ok records, want $ncpu"
			cat /tmp/d.json; return 1; }
	done
	unset XCALL_SOCKET
	grep -q '"ctx":"none"' /tmp/d.json && {
		note "daemon: a record says ctx none: not the module"; return 1; }
	if ! grep -q "^Uid:.65534.65534.65534.65534" /proc/$dpid/status ||
	   ! grep -q "^CapEff:.0000000000000000" /proc/$dpid/status ||
	   ! grep -q "^CapBnd:.0000000000000000" /proc/$dpid/status; then
		note "xcalld kept privileges"
		grep -E 'Uid|Cap' /proc/$dpid/status
		return 1
	fi
	kill -TERM $dpid
	wait $dpid || { note "xcalld exit $? after SIGTERM"
		cat /tmp/xcalld.log; return 1; }
	return 0
}
if [ -x /xcall/bin/xcalld ] && [ -e /dev/xcall ]; then
	if daemon_check; then
		note "xcalld over the module (uring_cmd): pass"
	else
		note "xcalld over the module (uring_cmd): FAIL"
		fail=1
	fi
fi

if grep -q '^xcall ' /proc/modules && ! rmmod xcall; then
	note "rmmod xcall failed"
	fail=1
fi
exit $fail
