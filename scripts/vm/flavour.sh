# SPDX-License-Identifier: GPL-2.0-only
# Sourced by scripts/vm/*.sh: the one table of guest flavours, the cells of
# `make check-vm`. Every fact about a flavour lives in its row; a new
# flavour is one more row. See HACKING.md, "Adding a guest flavour".
# shellcheck shell=bash disable=SC2034

# Columns, in order:
#   name       the flavour, <arch>-<interrupt controller>-<kernel line>
#   debarch    Debian architecture of the kernel and the guest programs
#   karch      the kernel's ARCH= for the module build
#   cross      CROSS_COMPILE= for the module and the guest programs
#   kpkg       the Debian meta package of the kernel image
#   kver       the upstream version prefix wanted of it (6.1., 6.12.)
#   console    the serial console's device
#   qemu       the qemu command and machine (never -smp, -accel, -kernel:
#              run.sh adds those). A leading "bpo:" runs the QEMU of
#              bookworm-backports that fetch.sh unpacks privately.
#   irqchip    ERE that must match a line of what the guest reports of
#              itself (init.sh: its boot log, `uname -a`, /proc/interrupts
#              as "interrupts: ...", on x86 the APIC mode read from
#              IA32_APIC_BASE as "apic: ..."): the controller whose IPIs
#              the module must go through
#   append     more kernel command line, or nothing: a cell that tests one
#              boot-time setting (XCALL_TESTS=cell_* picks its program)
#
# The kernel is checked by its release (`uname -r` against the package
# fetched), which also tells the PREEMPT_RT kernel from the other.
# The interrupt-controller lines were read off each guest's log: a wrong
# qemu machine gives another line, and scripts/vm/selftest.sh proves that
# such a guest fails.
vm_table=(
#name|debarch|karch|cross|kpkg|kver|console|qemu|irqchip|append
"x86_64-xapic-6.1|amd64|x86||linux-image-amd64|6.1.|ttyS0|qemu-system-x86_64 -M pc -cpu qemu64 -m 512|^apic: IA32_APIC_BASE=[0-9a-fx]+: xAPIC$"
"x86_64-xapic-6.12|amd64|x86||linux-image-amd64|6.12.|ttyS0|qemu-system-x86_64 -M pc -cpu qemu64 -m 512|^apic: IA32_APIC_BASE=[0-9a-fx]+: xAPIC$"
"x86_64-x2apic-6.1|amd64|x86||linux-image-amd64|6.1.|ttyS0|bpo:qemu-system-x86_64 -M q35 -device intel-iommu,intremap=on,eim=on -cpu qemu64,+x2apic -m 512|Switched APIC routing to:? cluster x2apic"
"x86_64-x2apic-6.12|amd64|x86||linux-image-amd64|6.12.|ttyS0|bpo:qemu-system-x86_64 -M q35 -device intel-iommu,intremap=on,eim=on -cpu qemu64,+x2apic -m 512|Switched APIC routing to:? cluster x2apic"
"x86_64-isolated-6.1|amd64|x86||linux-image-amd64|6.1.|ttyS0|qemu-system-x86_64 -M pc -cpu qemu64 -m 512|^apic: IA32_APIC_BASE=[0-9a-fx]+: xAPIC$|isolcpus=3 nohz_full=3 XCALL_TESTS=cell_isolated"
"x86_64-rt-6.1|amd64|x86||linux-image-rt-amd64|6.1.|ttyS0|qemu-system-x86_64 -M pc -cpu qemu64 -m 512|^apic: IA32_APIC_BASE=[0-9a-fx]+: xAPIC$"
"arm64-gicv2-6.1|arm64|arm64|aarch64-linux-gnu-|linux-image-arm64|6.1.|ttyAMA0|qemu-system-aarch64 -M virt,gic-version=2 -cpu cortex-a57 -m 512|^interrupts: +[0-9]+:.* GIC-0 "
"arm64-gicv2-6.12|arm64|arm64|aarch64-linux-gnu-|linux-image-arm64|6.12.|ttyAMA0|qemu-system-aarch64 -M virt,gic-version=2 -cpu cortex-a57 -m 512|^interrupts: +[0-9]+:.* GIC-0 "
"arm64-gicv3-6.1|arm64|arm64|aarch64-linux-gnu-|linux-image-arm64|6.1.|ttyAMA0|qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57 -m 512|GICv3: [0-9]+ SPIs implemented"
"arm64-gicv3-6.12|arm64|arm64|aarch64-linux-gnu-|linux-image-arm64|6.12.|ttyAMA0|qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57 -m 512|GICv3: [0-9]+ SPIs implemented"
"ppc64le-xics-6.1|ppc64el|powerpc|powerpc64le-linux-gnu-|linux-image-powerpc64le|6.1.|hvc0|qemu-system-ppc64 -M pseries,ic-mode=xics -cpu power10 -m 1024|^interrupts: +[0-9]+:.* XICS .* IPI$"
"ppc64le-xics-6.12|ppc64el|powerpc|powerpc64le-linux-gnu-|linux-image-powerpc64le|6.12.|hvc0|qemu-system-ppc64 -M pseries,ic-mode=xics -cpu power10 -m 1024|^interrupts: +[0-9]+:.* XICS .* IPI$"
"ppc64le-xive-6.1|ppc64el|powerpc|powerpc64le-linux-gnu-|linux-image-powerpc64le|6.1.|hvc0|qemu-system-ppc64 -M pseries,ic-mode=xive -cpu power10 -m 1024|^interrupts: +[0-9]+:.* XIVE-IPI .* IPI-[0-9]+$"
"ppc64le-xive-6.12|ppc64el|powerpc|powerpc64le-linux-gnu-|linux-image-powerpc64le|6.12.|hvc0|qemu-system-ppc64 -M pseries,ic-mode=xive -cpu power10 -m 1024|^interrupts: +[0-9]+:.* XIVE-IPI .* IPI-[0-9]+$"
)

# What a guest must boot with: every cell has this many CPUs, and the
# harness checks the kernel brought them all up.
vm_smp=4

# On every guest's kernel command line: the lockup detectors at 5 s (hard)
# and 10 s (soft), so that a CPU kept from scheduling fails the run: 50
# times the module's 100 ms bound on interrupts off, and the unbounded
# drains it once had (25 s and more) in every cell. Not tighter: a TCG vCPU
# is a host thread, and on a loaded 2-core host one was starved for 3-4 s
# at a time, which watchdog_thresh=1 reported as soft and hard lockups in
# guests that had not even loaded the module.
vm_append="watchdog_thresh=5"

# A kernel line matching this (after its [ seconds ] stamp) fails the run.
vm_bad='BUG:|WARNING:|Oops|cut here|lockdep|possible circular locking'
vm_bad="$vm_bad|general protection fault|Kernel panic|Call Trace:|refcount_t:"
vm_bad="$vm_bad|INFO: rcu_.*stall|soft lockup|hard LOCKUP|hung_task"

# Every flavour name, in table order.
vm_names() {
	local row
	for row in "${vm_table[@]}"; do
		echo "${row%%|*}"
	done
}

# flavour NAME: sets name debarch karch cross kpkg kver console irqchip
# kappend, qemu_spec (the row's qemu column), kid (the kernel's cache and build key,
# shared by the flavours that boot the same Debian kernel) and kfile;
# returns 1 when NAME is not in the table.
flavour() {
	local row
	for row in "${vm_table[@]}"; do
		[ "${row%%|*}" = "$1" ] || continue
		IFS='|' read -r name debarch karch cross kpkg kver console \
			qemu_spec irqchip kappend <<<"$row"
		kid=${kpkg#linux-image-}-${kver%.}
		kfile=vmlinuz
		[ "$debarch" != ppc64el ] || kfile=vmlinux
		return 0
	done
	return 1
}

# vm_qemu SPEC: sets the array qemu to the command of a qemu column (the
# private QEMU of fetch.sh for "bpo:", with its firmware directories).
vm_qemu() {
	local q
	read -r -a qemu <<<"${1#bpo:}"
	case "$1" in
	bpo:*)
		q=$cache/qemu-bpo/current/root
		qemu=("$q/usr/bin/${qemu[0]}" -L "$q/usr/share/qemu"
		      -L "$q/usr/share/seabios" "${qemu[@]:1}") ;;
	esac
}

# Expand flavour names and shell patterns ('arm64-*') into table names;
# fails on a word that names nothing.
vm_expand() {
	local w n hit
	for w in "$@"; do
		hit=
		for n in $(vm_names); do
			# shellcheck disable=SC2053
			if [[ $n == $w ]]; then
				echo "$n"
				hit=1
			fi
		done
		[ -n "$hit" ] || {
			echo "unknown flavour '$w'; the flavours:" $(vm_names) >&2
			return 1
		}
	done
}
