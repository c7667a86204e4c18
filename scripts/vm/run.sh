#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh [--bench PROGRAM] FLAVOUR: pack what build.sh built into a busybox
# initramfs, boot FLAVOUR's Debian kernel under qemu (TCG, 4 vCPUs, never
# KVM) and judge the run from the serial console. Fails on: a timeout
# ($XCALL_VM_TIMEOUT seconds, default 300), no verdict line, a FAIL verdict,
# or a kernel line reporting BUG:/WARNING:/Oops/cut here/lockdep/possible
# circular locking/general protection fault/Kernel panic.
#
# --bench PROGRAM runs $B/vm/user-<arch>/tests/vm/PROGRAM alone, with the
# image's cpuid.ko/msr.ko and xcall.ko loaded, and writes what it printed
# to $B/vm/<flavour>/PROGRAM.txt.
#
# Console log: $B/vm/<flavour>/console.log. Environment as build.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SRC=${SRC:-$(cd "$here/../.." && pwd)}
B=${B:-$SRC/build}
cache=${XCALL_VM_CACHE:-/var/cache/xcall-vm}
timeout=${XCALL_VM_TIMEOUT:-300}
prog=run.sh

die() { echo "$prog: $*" >&2; exit 1; }

bench=
if [ "${1:-}" = --bench ]; then
	bench=${2:-}
	[ -n "$bench" ] || die "--bench needs a program name"
	shift 2
fi
fl=${1:-}
# shellcheck source=scripts/vm/flavour.sh
. "$here/flavour.sh"
flavour "$fl" || die "usage: $prog [--bench PROGRAM] x86_64-6.1|x86_64-6.12|arm64-6.1|ppc64le-6.1"

out=$B/vm/$fl
user=$B/vm/user-$debarch
ko=$out/kmod/xcall.ko
for f in "$cache/$fl/kernel" "$cache/$fl/busybox" "$ko" "$user/cli/xcall"; do
	[ -e "$f" ] || die "$fl: missing $f (run scripts/vm/build.sh $fl)"
done
[ -z "$bench" ] || [ -x "$user/tests/vm/$bench" ] ||
	die "$fl: no benchmark program $user/tests/vm/$bench"

# The initramfs: busybox, /init, /xcall/...
root=$out/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/xcall/bin" "$root/xcall/tests" \
	"$root/xcall/bench" "$root/xcall/kmods"
cp "$cache/$fl/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init.sh" "$root/init"
cp "$SRC/tests/vm/guest.sh" "$root/xcall/guest.sh"
chmod 755 "$root/init" "$root/xcall/guest.sh"
echo "$fl" >"$root/xcall/flavour"
cp "$ko" "$root/xcall/xcall.ko"
cp "$user/cli/xcall" "$root/xcall/bin/xcall"
[ ! -x "$user/daemon/xcalld" ] || cp "$user/daemon/xcalld" "$root/xcall/bin/"
for t in "$user"/tests/vm/test_* "$user"/tests/vm/bench_*; do
	case "$t" in *.o|*.d) continue ;; esac
	[ -x "$t" ] || continue
	case "${t##*/}" in
	test_*) cp "$t" "$root/xcall/tests/" ;;
	*) cp "$t" "$root/xcall/bench/" ;;
	esac
done
# The kernel's own cross-CPU char devices, the benchmark's baseline.
for m in cpuid msr; do
	k=$(find "$cache/$fl/modules/" -name "$m.ko*" | head -n1)
	[ -n "$k" ] || continue
	case "$k" in
	*.xz)	xz -dc "$k" >"$root/xcall/kmods/$m.ko" ;;
	*.zst)	zstd -qdc "$k" >"$root/xcall/kmods/$m.ko" ;;
	*)	cp "$k" "$root/xcall/kmods/$m.ko" ;;
	esac
done
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$out/initrd.gz"

append="console=$console quiet panic=-1 XCALL_MODE=check"
[ -z "$bench" ] || append="console=$console quiet panic=-1 XCALL_MODE=bench XCALL_BENCH=$bench"
log=$out/console.log
echo "  BOOT     $fl ($(cat "$cache/$fl/version")), log ${log#"$B"/}"
start=$(date +%s)
set +e
timeout -k 10 "$timeout" "${qemu[@]}" -accel tcg -smp 4 -nographic \
	-no-reboot -nic none -monitor none -serial stdio \
	-kernel "$cache/$fl/kernel" -initrd "$out/initrd.gz" \
	-append "$append" </dev/null >"$log" 2>&1
qrc=$?
set -e
secs=$(($(date +%s) - start))

# Verdict. Console lines end in \r; kernel lines carry a [ seconds.micros ]
# stamp (possibly mid-line, torn by user output).
tr -d '\r' <"$log" >"$log.txt"
mv "$log.txt" "$log"
why=
bad='BUG:|WARNING:|Oops|cut here|lockdep|possible circular locking'
bad="$bad|general protection fault|Kernel panic"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	why="timeout after ${timeout}s"
elif grep -E "\[ *[0-9]+\.[0-9]+\] .*($bad)" "$log" >"$out/bad.txt"; then
	why="the kernel log reports: $(head -n1 "$out/bad.txt")"
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
	# What a person needs: the guest's own output (without the dump of
	# the kernel log), then the kernel's report from its first line on.
	echo "---- $fl: console without the kernel log dump ($log) ----"
	sed '/^XCALL-VM-DMESG-BEGIN$/,/^XCALL-VM-DMESG-END$/d' "$log" |
		grep -v '^\[ *[0-9]*\.[0-9]*\] ' | tail -n 100
	if [ -s "$out/bad.txt" ]; then
		echo "---- $fl: kernel log from the first report ----"
		grep -m1 -F -A 60 "$(head -n1 "$out/bad.txt")" "$log"
	fi
	echo "----"
	echo "  FAIL     $fl: $why (${secs}s)"
	exit 1
fi
[ "${V:-}" = 1 ] && cat "$log"
echo "  PASS     $fl (${secs}s)"
