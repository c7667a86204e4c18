#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# selftest.sh: `make check-vm-selftest`. A harness verdict that was never
# seen failing proves nothing: boot guests that are broken on purpose and
# require run.sh to FAIL each one, for the reason that case is about.
#
#   - every interrupt controller's row booted on the wrong controller
#     (GICv3 row on GICv2 and back, xAPIC row on x2APIC and back, XICS row
#     on XIVE and back);
#   - a guest with 2 CPUs instead of 4;
#   - a guest booting another kernel than its row's;
#   - a guest program that fails;
#   - a kernel WARNING in the log while everything else passes;
#   - a kernel that dies before /init: booted twice, then failed;
#   - tests/vm/test_ipi.c with its "module" calls sent through the threads
#     backend, which raises no IPI.
#
# Prints a line per case and exits 1 if any guest passed or failed for
# another reason. Logs: $B/vm/selftest/<case>/. XCALL_VM_JOBS as check.sh.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/common.sh"
top=$B/vm/selftest

# The qemu column of flavour $1.
qemu_of() { flavour "$1" && echo "$qemu_spec"; }

# name | flavour | expected reason (ERE on run.sh's why) | a line the
# console must show too (ERE, or empty) | run.sh options
cases=(
"gicv3-on-gicv2|arm64-gicv3-6.1|^not the interrupt controller||--boot --qemu '$(qemu_of arm64-gicv2-6.1)'"
"gicv2-on-gicv3|arm64-gicv2-6.12|^not the interrupt controller||--boot --qemu '$(qemu_of arm64-gicv3-6.12)'"
"xapic-on-x2apic|x86_64-xapic-6.1|^not the interrupt controller||--boot --qemu '$(qemu_of x86_64-x2apic-6.1)'"
"x2apic-on-xapic|x86_64-x2apic-6.12|^not the interrupt controller||--boot --qemu '$(qemu_of x86_64-xapic-6.12)'"
"xics-on-xive|ppc64le-xics-6.1|^not the interrupt controller||--boot --qemu '$(qemu_of ppc64le-xive-6.1)'"
"xive-on-xics|ppc64le-xive-6.12|^not the interrupt controller||--boot --qemu '$(qemu_of ppc64le-xics-6.12)'"
"two-cpus|arm64-gicv3-6.12|^not 4 CPUs up||--boot --smp 2"
"other-kernel|x86_64-rt-6.1|^not the kernel fetched||--boot --kernel amd64-6.1"
"program-fails|arm64-gicv3-6.1|^the guest reports FAIL|^guest: selftest_fail: FAIL|--add-test $top/bin/selftest_fail --append XCALL_TESTS=selftest_fail"
"kernel-warning|arm64-gicv2-6.1|^the kernel log reports: .*WARNING: selftest||--add-test $top/bin/selftest_warn --append XCALL_TESTS=selftest_warn"
"dies-before-init|x86_64-xapic-6.1|^the kernel log reports: .*Kernel panic.*\\(it died before /init twice\\)\$||--boot --append 'rdinit=/nonexistent init=/nonexistent'"
"no-ipi|x86_64-xapic-6.12|^the guest reports FAIL|^test_ipi: FAIL: xcall.ko|--append 'XCALL_TESTS=test_ipi XCALL_TEST_IPI_BACKEND=threads'"
)

# Programs the broken guests run (busybox sh).
mkdir -p "$top/bin"
printf '#!/bin/sh\necho "selftest: this program fails on purpose"\nexit 1\n' \
	>"$top/bin/selftest_fail"
printf '#!/bin/sh\necho "<4>WARNING: selftest: a kernel report on purpose" >/dev/kmsg\n' \
	>"$top/bin/selftest_warn"
chmod 755 "$top/bin"/*

# Everything the cases boot, built once.
fls=$(for c in "${cases[@]}"; do IFS='|' read -r _ f _ <<<"$c"; echo "$f"; done | sort -u)
for f in $fls; do
	"$here/build.sh" "$f" >"$top/build-$f.out" 2>&1 ||
		{ cat "$top/build-$f.out"; echo "selftest: build of $f failed"; exit 1; }
done

one() {
	local c=$1 n f want con opts out why
	IFS='|' read -r n f want con opts <<<"$c"
	out=$top/$n
	rm -rf "$out"
	mkdir -p "$out"
	eval "set -- $opts"
	if "$here/run.sh" --out "$out" "$@" "$f" >"$out/run.out" 2>&1; then
		echo "WRONG    $n: $f passed; it must fail ($want)" >"$out/verdict"
		return
	fi
	why=$(cat "$out/why" 2>/dev/null)
	if grep -Eq -- "$want" <<<"$why" &&
	   { [ -z "$con" ] || grep -Eq -- "$con" "$out/console.log"; }; then
		echo "ok       $n: FAIL as required: $why" >"$out/verdict"
	else
		echo "WRONG    $n: failed for another reason: ${why:-none given} (want /$want/${con:+ and a console line /$con/})" >"$out/verdict"
	fi
}

t0=$(date +%s)
vm_parallel one "${cases[@]}"

rc=0
for c in "${cases[@]}"; do
	n=${c%%|*}
	v=$(cat "$top/$n/verdict" 2>/dev/null || echo "WRONG    $n: no verdict")
	echo "  $v"
	case "$v" in ok*) ;; *) rc=1; tail -n 30 "$top/$n/run.out" ;; esac
done
echo "selftest: ${#cases[@]} broken guests in $(($(date +%s) - t0))s:" \
	"$([ $rc = 0 ] && echo 'each failed as it must' || echo 'NOT ALL FAILED AS THEY MUST')"
exit $rc
