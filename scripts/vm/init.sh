#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the xcall guest initramfs (busybox sh). Mounts the pseudo file
# systems, reports what the guest is, runs tests/vm/guest.sh (check mode),
# one benchmark program (bench mode) or only loads and unloads the module
# (boot mode), prints exactly one marker line for the host, and powers off:
#
#   XCALL-VM-RESULT: PASS <flavour>     or     XCALL-VM-RESULT: FAIL <flavour>
#
# The host (scripts/vm/run.sh) judges the rest: it checks the report
# between XCALL-VM-FACTS-BEGIN/END against the flavour's row (CPUs, kernel,
# interrupt controller) and scans every kernel line on the console for
# BUG:/WARNING:/... reports: the boot log is in the report, later kernel
# messages go to the console as they come (a kernel line may tear a line
# of the tests' output there), and the whole log is dumped again, whole,
# before the verdict. tool_drain (tests/vm/tool_drain.c) waits for the
# console to send what the report wrote before a kernel line may follow.
#
# The host passes XCALL_MODE (check|bench|boot) and XCALL_BENCH (a program
# name in /xcall/bench) on the kernel command line; the kernel hands
# unknown NAME=value parameters to /init as environment.

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
# The report first, with kernel messages off the console so that none
# tears its lines (they stay in the log, dumped at the end).
dmesg -n 1

echo "XCALL-VM-START: $XCALL_FLAVOUR $(uname -r) mode=${XCALL_MODE:-check}"
echo "XCALL-VM-FACTS-BEGIN"
dmesg
echo "uname: $(uname -a)"
echo "online: $(cat /sys/devices/system/cpu/online)"
sed 's/^/interrupts: /' /proc/interrupts
# x86: the APIC mode from the hardware, IA32_APIC_BASE (MSR 0x1b): bit 11
# enables the APIC, bit 10 puts it in x2APIC mode.
if [ -e /xcall/kmods/msr.ko ] && insmod /xcall/kmods/msr.ko; then
	b=$(dd if=/dev/cpu/0/msr bs=8 count=1 iflag=skip_bytes skip=27 \
		2>/dev/null | od -An -tx8 | tr -d ' ')
	case $(( (0x${b:-0} >> 10) & 3 )) in
	2) m=xAPIC ;;
	3) m=x2APIC ;;
	*) m=disabled ;;
	esac
	echo "apic: IA32_APIC_BASE=0x$b: $m"
	rmmod msr
fi
echo "XCALL-VM-FACTS-END"
# Sent, before any kernel line may follow; then every kernel message goes
# to the console too, so that a hang leaves its trace.
tool_drain
dmesg -n 8

rc=0
cd /xcall || rc=1
case "${XCALL_MODE:-check}" in
check)
	sh /xcall/guest.sh || rc=1
	;;
boot)
	insmod /xcall/xcall.ko && [ -c /dev/xcall ] && rmmod xcall || rc=1
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

# The whole kernel log once more, and the verdict, with kernel messages off
# the console again: the lines the host parses come whole.
dmesg -n 1
echo "XCALL-VM-DMESG-BEGIN"
dmesg
echo "XCALL-VM-DMESG-END"
if [ "$rc" = 0 ]; then
	echo "XCALL-VM-RESULT: PASS $XCALL_FLAVOUR"
else
	echo "XCALL-VM-RESULT: FAIL $XCALL_FLAVOUR"
fi
tool_drain
sync
poweroff -f
