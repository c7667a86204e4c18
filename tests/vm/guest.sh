#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# What runs inside every guest (busybox sh, as root, PID 1's child), for
# `make check-vm`. The contract with scripts/vm/init.sh and run.sh:
#
#   - Available: /xcall/xcall.ko (= $XCALL_KO), /xcall/bin/xcall (the static
#     CLI, on $PATH), /xcall/tests/test_* (tests/vm/test_*.c, static),
#     /xcall/kmods/*.ko (x86: the image's cpuid.ko and msr.ko, not loaded),
#     busybox applets, /proc /sys /dev (devtmpfs) /tmp mounted.
#   - Environment: XCALL_FLAVOUR (x86_64-6.1, x86_64-6.12, arm64-6.1,
#     ppc64le-6.1), XCALL_KO, XCALL_DIR=/xcall; cwd /xcall.
#   - The module is NOT loaded when this starts: load it here.
#   - Exit status 0 is a pass, anything else a failure. init.sh then fails
#     the run anyway if the kernel log has a BUG/WARNING/Oops/lockdep/panic
#     report, and prints the one verdict line the host reads.
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

# Check suites. The guest is slow (TCG): give each test more time.
export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-10}"
for t in /xcall/tests/test_*; do
	[ -x "$t" ] || continue
	name=${t##*/}
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

if grep -q '^xcall ' /proc/modules && ! rmmod xcall; then
	note "rmmod xcall failed"
	fail=1
fi
exit $fail
