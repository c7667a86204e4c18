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

# The CLI through the module.
if [ -e /dev/xcall ]; then
	if xcall run --backend kmod --all --json ping; then
		note "xcall run --backend kmod: pass"
	else
		note "xcall run --backend kmod: FAIL"
		fail=1
	fi
fi

if grep -q '^xcall ' /proc/modules && ! rmmod xcall; then
	note "rmmod xcall failed"
	fail=1
fi
exit $fail
