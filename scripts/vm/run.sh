#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh [OPTIONS] FLAVOUR: pack what build.sh built into a busybox
# initramfs, boot FLAVOUR's Debian kernel under qemu (TCG, never KVM) and
# judge the run from the serial console. The flavour's row in flavour.sh
# says what the guest must be; the run FAILS when
#   - qemu times out ($XCALL_VM_TIMEOUT seconds, default 600);
#   - the guest is not what the row promises: not exactly $vm_smp CPUs up,
#     another kernel release than the one fetched, no line matching the
#     row's interrupt-controller (and kernel) regex in what it reports;
#   - a kernel line matches $vm_bad (BUG:, WARNING:, Oops, lockdep, RCU
#     stall, ...); a guest whose kernel dies that way before /init has
#     reported anything is booted once more (its first console is kept as
#     console.first.log), and fails only if it dies again;
#   - the guest's verdict line is FAIL or missing.
#
# Options (scripts/vm/selftest.sh uses them to break a guest on purpose):
#   --bench PROGRAM  run $B/vm/user-<arch>/tests/vm/PROGRAM alone, with the
#                    image's cpuid.ko/msr.ko and xcall.ko loaded; its output
#                    goes to <out>/PROGRAM.txt
#   --boot           only boot, load and unload the module (no tests)
#   --smp N          boot N CPUs instead of $vm_smp
#   --qemu 'CMD'     this qemu command and machine instead of the row's
#                    (a qemu column of flavour.sh)
#   --kernel KID     boot that kernel (and its module), still expecting the
#                    row's
#   --add-test FILE  one more guest test program
#   --append 'ARGS'  more kernel command line
#   --out DIR        logs there instead of $B/vm/<flavour>
#
# Console log: <out>/console.log; the reason of a failure: <out>/why.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/common.sh"
timeout=${XCALL_VM_TIMEOUT:-600}
prog=run.sh

die() { echo "$prog: $*" >&2; exit 1; }

mode=check bench= smp=$vm_smp qemu_over= addtest= extra= out= kernel_over=
while [ $# -gt 1 ]; do
	case "$1" in
	--bench)	mode=bench bench=$2; shift 2 ;;
	--boot)		mode=boot; shift ;;
	--smp)		smp=$2; shift 2 ;;
	--qemu)		qemu_over=$2; shift 2 ;;
	--add-test)	addtest=$2; shift 2 ;;
	--append)	extra=$2; shift 2 ;;
	--out)		out=$2; shift 2 ;;
	--kernel)	kernel_over=$2; shift 2 ;;
	*)		die "unknown option $1" ;;
	esac
done
flavour "${1:-}" || die "usage: $prog [OPTIONS] FLAVOUR (one of: $(vm_names | tr '\n' ' '))"
fl=$name
vm_qemu "${qemu_over:-$qemu_spec}"

out=${out:-$B/vm/$fl}
user=$B/vm/user-$debarch
read -r release _ <"$cache/kernel-$kid/version" ||
	die "$fl: kernel $kid not fetched (run scripts/vm/build.sh $fl)"
kid=${kernel_over:-$kid}
ko=$B/vm/k-$kid/kmod/xcall.ko
kdir=$cache/kernel-$kid
for f in "$kdir/kernel" "$kdir/busybox" "$ko" "$user/cli/xcall" "${qemu[0]}"; do
	[ -e "$f" ] || command -v "$f" >/dev/null ||
		die "$fl: missing $f (run scripts/vm/build.sh $fl)"
done
[ -z "$bench" ] || [ -x "$user/tests/vm/$bench" ] ||
	die "$fl: no benchmark program $user/tests/vm/$bench"
release_re=$(printf '%s' "$release" | sed 's/[].+*?^$()[{}|\\]/\\&/g')

# The initramfs: busybox, /init, /xcall/...
mkdir -p "$out"
root=$out/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/xcall/bin" "$root/xcall/tests" \
	"$root/xcall/bench" "$root/xcall/kmods"
cp "$kdir/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init.sh" "$root/init"
cp "$SRC/tests/vm/guest.sh" "$root/xcall/guest.sh"
chmod 755 "$root/init" "$root/xcall/guest.sh"
echo "$fl" >"$root/xcall/flavour"
cp "$ko" "$root/xcall/xcall.ko"
cp "$user/cli/xcall" "$root/xcall/bin/xcall"
[ ! -x "$user/daemon/xcalld" ] || cp "$user/daemon/xcalld" "$root/xcall/bin/"
for t in "$user"/tests/vm/test_* "$user"/tests/vm/fuzz_* \
	 "$user"/tests/vm/cell_* "$user"/tests/vm/tool_* \
	 "$user"/tests/vm/bench_* $addtest; do
	case "$t" in *.o|*.d) continue ;; esac
	[ -x "$t" ] || continue
	case "${t##*/}" in
	bench_*) cp "$t" "$root/xcall/bench/" ;;
	fuzz_*|cell_*) cp "$t" "$root/xcall/tests/" ;;
	tool_*) cp "$t" "$root/xcall/bin/" ;;
	*) cp "$t" "$root/xcall/tests/" ;;
	esac
done
# The kernel's own cross-CPU char devices, the benchmark's baseline.
for m in cpuid msr; do
	k=$(find "$kdir/modules/" -name "$m.ko*" | head -n1)
	[ -n "$k" ] || continue
	case "$k" in
	*.xz)	xz -dc "$k" >"$root/xcall/kmods/$m.ko" ;;
	*.zst)	zstd -qdc "$k" >"$root/xcall/kmods/$m.ko" ;;
	*)	cp "$k" "$root/xcall/kmods/$m.ko" ;;
	esac
done
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$out/initrd.gz"

append="console=$console quiet panic=-1 $vm_append XCALL_MODE=$mode"
[ -z "$bench" ] || append="$append XCALL_BENCH=$bench"
[ -z "$kappend" ] || append="$append $kappend"
[ -z "$extra" ] || append="$append $extra"
log=$out/console.log
rm -f "$out/why"
echo "  BOOT     $fl ($(cut -d' ' -f1 "$kdir/version"), $smp CPUs), log ${log#"$B"/}"
start=$(date +%s)
# Boot once: the console in $log (lines end in \r there; kernel lines carry
# a [ seconds.micros ] stamp, possibly mid-line, torn by user output), the
# qemu exit status in $qrc.
boot() {
	set +e
	timeout -k 10 "$timeout" "${qemu[@]}" -accel tcg -smp "$smp" \
		-nographic -no-reboot -nic none -monitor none -serial stdio \
		-kernel "$kdir/kernel" -initrd "$out/initrd.gz" \
		-append "$append" </dev/null >"$log" 2>&1
	qrc=$?
	set -e
	tr -d '\r' <"$log" >"$log.txt"
	mv "$log.txt" "$log"
}
# A kernel line of $vm_bad, and /init never reported: the kernel died
# before anything of ours ran (seen once: TCG's code patching under a
# loaded host, an int3 Oops in 6.12's early boot). Boot it once more; a
# second death is the verdict, and says it happened twice.
died_early() {
	[ "$qrc" != 124 ] && [ "$qrc" != 137 ] &&
		! grep -q "^XCALL-VM-FACTS-BEGIN$" "$log" &&
		grep -Eq "\[ *[0-9]+\.[0-9]+\] .*($vm_bad)" "$log"
}
boot
twice=
if died_early; then
	echo "  REBOOT   $fl: its kernel died before /init ran:" \
		"$(grep -Em1 "\[ *[0-9]+\.[0-9]+\] .*($vm_bad)" "$log")"
	mv "$log" "$out/console.first.log"
	boot
	died_early && twice=" (it died before /init twice)"
fi
secs=$(($(date +%s) - start))
# What the guest says of itself: its boot log, uname, its interrupt chips.
sed -n '/^XCALL-VM-FACTS-BEGIN$/,/^XCALL-VM-FACTS-END$/p' "$log" >"$out/facts"

# The verdict: the first reason found, in this order.
why=
has() { grep -Eq -- "$1" "$out/facts"; }
fact() { grep -m1 "^$1:" "$out/facts" || echo "no $1 line"; }
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	why="timeout after ${timeout}s"
	# What the kernel said meanwhile may be why (a stall, a warning).
	if grep -E "\[ *[0-9]+\.[0-9]+\] .*($vm_bad)" "$log" >"$out/bad.txt"; then
		why+="; the kernel log reports: $(head -n1 "$out/bad.txt")"
	fi
elif grep -E "\[ *[0-9]+\.[0-9]+\] .*($vm_bad)" "$log" >"$out/bad.txt"; then
	why="the kernel log reports: $(head -n1 "$out/bad.txt")$twice"
elif ! grep -q "^XCALL-VM-FACTS-END$" "$out/facts"; then
	why="the guest did not report what it is (qemu exit $qrc)"
elif ! has "^uname: Linux [^ ]+ $release_re "; then
	why="not the kernel fetched ($release): $(fact uname)"
elif ! has "^online: 0-$((vm_smp - 1))\$" ||
     ! has "smp: Brought up [0-9]+ nodes?, $vm_smp CPUs"; then
	why="not $vm_smp CPUs up: $(fact online)"
elif ! has "$irqchip"; then
	why="not the interrupt controller of $fl: nothing it reports matches /$irqchip/"
elif grep -qx "XCALL-VM-RESULT: FAIL $fl" "$log"; then
	why="the guest reports FAIL"
elif ! grep -qx "XCALL-VM-RESULT: PASS $fl" "$log"; then
	why="no verdict line (qemu exit $qrc)"
fi

if [ -n "$bench" ]; then
	sed -n "/^XCALL-VM-BENCH-BEGIN: $bench\$/,/^XCALL-VM-BENCH-END: /p" "$log" |
		sed '1d;$d' >"$out/$bench.txt"
fi

if [ -n "$why" ]; then
	echo "$why" >"$out/why"
	vm_failure_report "$fl" "$log" "$out/bad.txt" 100
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "---- $fl: the last kernel lines before the timeout ----"
		grep -E '^\[ *[0-9]+\.[0-9]+\] ' "$log" | tail -n 40 || true
		echo "----"
	fi
	echo "  FAIL     $fl: $why (${secs}s)"
	exit 1
fi
[ "${V:-}" = 1 ] && cat "$log"
# The guest's own summary lines (IPI counters, ...) for the table's reader.
grep -E '^guest: (ipi|flood|fuzz|isolated):' "$log" | sed "s/^/  $fl: /" || true
echo "  PASS     $fl (${secs}s)"
