#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check.sh FLAVOUR...: `make check-vm`. Fetch every flavour's kernel, build
# the modules and the static guest programs, boot each guest, and print one
# table: flavour, kernel, seconds spent building and booting, verdict, and
# the IPI counters the guest measured. Every flavour is tried even when one
# fails; the exit status is 1 if any did. FLAVOUR may be a shell pattern
# ('arm64-*'); flavour.sh has the table.
#
# check.sh --bench FLAVOUR: `make bench-vm`. Each tests/vm/bench_*.c program
# runs alone in FLAVOUR's guest (cpuid.ko, msr.ko and xcall.ko loaded); its
# table is printed and kept in $B/vm/<flavour>/<program>.txt.
#
# XCALL_VM_JOBS=N boots N guests at a time (default 2). Environment as
# build.sh.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/common.sh"

now() { date +%s; }

if [ "${1:-}" = --bench ]; then
	fl=${2:-x86_64-xapic-6.1}
	"$here/build.sh" "$fl" || exit 1
	flavour "$fl"
	rc=0 n=0
	for p in "$B/vm/user-$debarch"/tests/vm/bench_*; do
		case "$p" in *.o|*.d) continue ;; esac
		[ -x "$p" ] || continue
		n=$((n + 1))
		p=${p##*/}
		if "$here/run.sh" --bench "$p" "$fl"; then
			echo "==> $p in the $fl guest ($(cut -d' ' -f1 "$cache/kernel-$kid/version"), $vm_smp vCPUs, TCG):"
			# The table; its records are for `make bench`.
			grep -av '^XCALL-BENCH ' "$B/vm/$fl/$p.txt"
		else
			rc=1
		fi
	done
	[ "$n" -gt 0 ] || echo "bench-vm: no tests/vm/bench_*.c to run"
	exit $rc
fi

[ $# -gt 0 ] || { echo "usage: check.sh FLAVOUR... | --bench FLAVOUR" >&2; exit 2; }
names=$(vm_expand "$@") || exit 2
mkdir -p "$B/vm"
t0=$(now)
# shellcheck disable=SC2086
"$here/fetch.sh" $names || exit 1
tfetch=$(($(now) - t0))

declare -A tbuild verdict
ok=()
for fl in $names; do
	t=$(now)
	if "$here/build.sh" "$fl" >"$B/vm/.build-$fl.out" 2>&1; then
		ok+=("$fl")
		verdict[$fl]=built
	else
		verdict[$fl]="FAIL (build)"
	fi
	# Shared kernels and arches print once.
	sort -u "$B/vm/.build-$fl.out" | grep -v '^  FETCH\|^  MODULE\|^  USER' || true
	tbuild[$fl]=$(($(now) - t))
done

# Boot: XCALL_VM_JOBS guests at a time (vm_parallel), each with its own log.
boot() {
	local t
	mkdir -p "$B/vm/$1"
	rm -f "$B/vm/$1/verdict"
	t=$(now)
	if "$here/run.sh" "$1" >"$B/vm/$1/run.out" 2>&1; then
		echo PASS >"$B/vm/$1/verdict"
	else
		echo "FAIL: $(cat "$B/vm/$1/why" 2>/dev/null)" >"$B/vm/$1/verdict"
	fi
	echo $(($(now) - t)) >"$B/vm/$1/boot.secs"
	cat "$B/vm/$1/run.out"
}
vm_parallel boot "${ok[@]}"

rc=0
echo
printf '%-20s %-24s %6s %6s  %s\n' flavour kernel build boot verdict
for fl in $names; do
	flavour "$fl"
	v=${verdict[$fl]}
	b=-
	if [ "$v" = built ]; then
		v=$(cat "$B/vm/$fl/verdict" 2>/dev/null || echo "FAIL (no run)")
		b=$(cat "$B/vm/$fl/boot.secs" 2>/dev/null || echo -)s
	fi
	[ "$v" = PASS ] || rc=1
	printf '%-20s %-24s %5ss %6s  %s\n' "$fl" \
		"$(cut -d' ' -f1 "$cache/kernel-$kid/version" 2>/dev/null)" \
		"${tbuild[$fl]}" "$b" "$v"
	sed -n -E 's/^guest: (ipi|flood|fuzz|isolated|latency): /    \1: /p' "$B/vm/$fl/console.log" 2>/dev/null
done
echo "fetch ${tfetch}s, total $(($(now) - t0))s, ${XCALL_VM_JOBS:-2} guests at a time"
exit $rc
