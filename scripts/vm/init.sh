#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the xcall guest initramfs (busybox sh). Mounts the pseudo file
# systems, runs tests/vm/guest.sh (check mode) or one benchmark program
# (bench mode), checks the kernel log, prints the kernel log and then exactly
# one marker line for the host, and powers off:
#
#   XCALL-VM-RESULT: PASS <flavour>     or     XCALL-VM-RESULT: FAIL <flavour>
#
# The host passes XCALL_MODE (check|bench) and XCALL_BENCH (a program name
# in /xcall/bench) on the kernel command line; the kernel hands unknown
# NAME=value parameters to /init as environment.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/xcall/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts

XCALL_FLAVOUR=$(cat /xcall/flavour)
export XCALL_FLAVOUR XCALL_DIR=/xcall XCALL_KO=/xcall/xcall.ko
# Timestamps mark kernel lines on the console: the host scans those.
echo Y >/sys/module/printk/parameters/time 2>/dev/null
# Boot is quiet; from here every kernel message goes to the console too,
# so a hang leaves its trace.
dmesg -n 8

echo "XCALL-VM-START: $XCALL_FLAVOUR $(uname -r) $(nproc) cpus mode=${XCALL_MODE:-check}"
cd /xcall || rc=1

# The guest is what the flavour promises: 4 CPUs up, and the interrupt
# controller whose IPIs the module is meant to exercise.
case "$XCALL_FLAVOUR" in
arm64-*)	ic='GICv3: ' ;;
ppc64le-*)	ic='xive: Interrupt handling initialized' ;;
*)		ic='APIC' ;;
esac
for want in 'smp: Brought up 1 node, 4 CPUs' "$ic"; do
	if ! dmesg | grep -qF "$want"; then
		echo "init: not in the kernel log: '$want'"
		rc=1
	fi
done
rc=0
case "${XCALL_MODE:-check}" in
check)
	sh /xcall/guest.sh || rc=1
	;;
bench)
	# Kernel messages must not tear the table.
	dmesg -n 1
	for m in /xcall/kmods/*.ko; do
		[ -e "$m" ] || continue
		insmod "$m" || { echo "init: insmod $m failed"; rc=1; }
	done
	insmod /xcall/xcall.ko || { echo "init: insmod xcall.ko failed"; rc=1; }
	if [ "$rc" = 0 ]; then
		echo "XCALL-VM-BENCH-BEGIN: $XCALL_BENCH"
		"/xcall/bench/$XCALL_BENCH" || rc=1
		echo "XCALL-VM-BENCH-END: $XCALL_BENCH rc=$rc"
	fi
	;;
*)
	echo "init: unknown XCALL_MODE '$XCALL_MODE'"
	rc=1
	;;
esac

dmesg -n 1
bad='BUG:|WARNING:|Oops|cut here|lockdep|possible circular locking'
bad="$bad|general protection fault|Kernel panic|Call Trace:|refcount_t:"
if dmesg | grep -E "$bad" >/dev/null; then
	echo "init: the kernel log reports a problem"
	rc=1
fi
echo "XCALL-VM-DMESG-BEGIN"
dmesg
echo "XCALL-VM-DMESG-END"
if [ "$rc" = 0 ]; then
	echo "XCALL-VM-RESULT: PASS $XCALL_FLAVOUR"
else
	echo "XCALL-VM-RESULT: FAIL $XCALL_FLAVOUR"
fi
sync
poweroff -f
