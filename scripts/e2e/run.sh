#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh DEBDIR: `make check-e2e`. Boots the Debian 12 image of rootfs.sh
# (made once, cached) under qemu TCG with the kernel and initrd it holds,
# systemd as PID 1, and a second disk (ext4, mkfs.ext4 -d) holding
# tests/e2e/inside.sh as /xcall/run, tests/common/lib.sh and the packages
# of DEBDIR. The image's xcall-e2e.service runs the test, its output on the
# serial console, and powers off. The host judges the console as run.sh of
# the module's guests does; the run FAILS when
#   - qemu times out ($XCALL_E2E_TIMEOUT seconds, default 1200);
#   - the guest is not the image's kernel, or has not $vm_smp CPUs online;
#   - a kernel line matches $vm_bad (BUG:, WARNING:, Oops, lockdep, ...);
#   - the verdict line `XCALL-VM-RESULT: PASS e2e` is missing, or FAIL
#     (the guest fails it on any failed step, and on an unexpected error in
#     the journal of its boot).
#
# The machine is the x86_64-xapic-6.1 flavour's (scripts/vm/flavour.sh),
# with more memory: apt, DKMS and gcc run in it. The root disk is used
# with snapshot=on: the cached image is never written.
#
# Console log: $B/e2e/console.log; the reason of a failure: $B/e2e/why.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/../vm/common.sh"
name=check-e2e
. "$SRC/tests/common/lib.sh"
timeout=${XCALL_E2E_TIMEOUT:-1200}
debdir=${1:?usage: run.sh DEBDIR}
out=$B/e2e
top=$cache/rootfs-e2e

if [ "$(id -u)" != 0 ] && [ ! -e "$top/current/.complete" ]; then
	xt_skip "making the Debian 12 image needs root (debootstrap)"
	finish
fi
debs=$(ls "$debdir"/*.deb 2>/dev/null) || true
if [ -z "$debs" ]; then
	fail "no packages in $debdir (make deb)"
	finish
fi
if [ "$(id -u)" = 0 ]; then
	"$here/rootfs.sh" || { fail "cannot make the Debian 12 image"; finish; }
fi
img=$top/current
read -r release _ <"$img/version"

# The second disk: the test, its library, the packages.
rm -rf "$out"
mkdir -p "$out/payload/debs"
cp "$SRC/tests/e2e/inside.sh" "$out/payload/run"
cp "$SRC/tests/common/lib.sh" "$out/payload/lib.sh"
# shellcheck disable=SC2086
cp $debs "$out/payload/debs/"
size=$(( $(du -sm "$out/payload" | cut -f1) + 64 ))
truncate -s "${size}M" "$out/payload.ext4"
mkfs.ext4 -q -F -L xcall-e2e -E root_owner=0:0 -d "$out/payload" \
	"$out/payload.ext4"

# The machine of x86_64-xapic-6.1, its -m left out.
flavour x86_64-xapic-6.1
name=check-e2e
vm_qemu "$qemu_spec"
q=()
for ((i = 0; i < ${#qemu[@]}; i++)); do
	case "${qemu[i]}" in
	-m) i=$((i + 1)) ;;
	*) q+=("${qemu[i]}") ;;
	esac
done
log=$out/console.log
echo "  BOOT     e2e: Debian 12, $release, $vm_smp CPUs, systemd; log ${log#"$B"/}"
start=$(date +%s)
set +e
timeout -k 10 "$timeout" "${q[@]}" -m 1536 -accel tcg -smp "$vm_smp" \
	-nographic -no-reboot -nic none -monitor none -serial stdio \
	-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
	-drive "file=$img/rootfs.ext4,format=raw,if=virtio,snapshot=on" \
	-drive "file=$out/payload.ext4,format=raw,if=virtio" \
	-append "root=/dev/vda rw console=$console quiet panic=-1 $vm_append systemd.show_status=no" \
	</dev/null >"$log" 2>&1
qrc=$?
set -e
secs=$(($(date +%s) - start))
# Without \r, and without the terminal resets of the firmware and the
# boot loader, which would start the guest's first line.
tr -d '\r' <"$log" | sed 's/\x1b\(c\|\[[0-9;?]*[A-Za-z]\)//g' >"$log.txt"
mv "$log.txt" "$log"

release_re=$(printf '%s' "$release" | sed 's/[].+*?^$()[{}|\\]/\\&/g')
why=
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	why="timeout after ${timeout}s"
elif grep -E "\[ *[0-9]+\.[0-9]+\] .*($vm_bad)" "$log" >"$out/bad.txt"; then
	why="the kernel log reports: $(head -n1 "$out/bad.txt")"
elif ! grep -q '^XCALL-VM-START: e2e ' "$log"; then
	why="the test did not start (qemu exit $qrc)"
elif ! grep -Eq "^uname: Linux [^ ]+ $release_re " "$log"; then
	why="not the image's kernel ($release): $(grep -m1 '^uname:' "$log")"
elif ! grep -qx "online: 0-$((vm_smp - 1))" "$log"; then
	why="not $vm_smp CPUs online: $(grep -m1 '^online:' "$log")"
elif grep -qx "XCALL-VM-RESULT: FAIL e2e" "$log"; then
	why="the guest reports FAIL"
elif ! grep -qx "XCALL-VM-RESULT: PASS e2e" "$log"; then
	why="no verdict line (qemu exit $qrc)"
fi

# The guest's steps, and what failed, for the reader of `make check`.
sed -e '/^XCALL-VM-DMESG-BEGIN$/,/^XCALL-VM-DMESG-END$/d' "$log" |
	grep -E '^(e2e: |  ok: |FAIL |systemd: |is-system-running: |  e2e: )' |
	sed 's/^/  /' || true	# none at all when the guest never got there
if [ -n "$why" ]; then
	echo "$why" >"$out/why"
	vm_failure_report e2e "$log" "$out/bad.txt" 120
	fail "$why (${secs}s)"
else
	pass
	echo "  PASS     e2e (${secs}s)"
fi
finish
