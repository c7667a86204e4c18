#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# rootfs.sh: the Debian 12 system that `make check-e2e` boots, made once
# and cached: debootstrap (minbase) of bookworm with the packages of
# scripts/e2e/packages.txt, from the mirror the private apt of
# scripts/vm/common.sh uses (the machine's own apt sources stay as they
# are), turned into an ext4 image with `mkfs.ext4 -d` (no loop mount).
#
#   $cache/rootfs-e2e/current -> <key>/    key: md5 of packages.txt and
#     rootfs.ext4   the root file system     this script
#     vmlinuz       its kernel and initrd, for qemu's direct kernel boot
#     initrd.img
#     version       "<kernel release> <linux-image-amd64 version>"
#
# The guest boots it read-only through qemu's snapshot=on: the image stays
# pristine for the next run. What the image holds of the test is fixed
# (its unit, xcall-e2e.service, runs /xcall/run from a second disk labelled
# xcall-e2e that scripts/e2e/run.sh makes for each run), so a change of the
# tests needs no new image. Needs root (debootstrap, chroot).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/common.sh
. "$here/../vm/common.sh"
prog=rootfs.sh

die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "  ROOTFS   $*"; }

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
pkgs=$(sed -e 's/#.*//' "$here/packages.txt" | tr -s ' \t' '\n' | sed '/^$/d' |
	sort -u | paste -sd, -)
key=$(cat "$here/packages.txt" "$0" | md5sum | cut -c1-12)
top=$cache/rootfs-e2e
dir=$top/$key
mkdir -p "$top"
exec 9>"$top/.lock"
flock 9

if [ -e "$dir/.complete" ]; then
	say "$(cat "$dir/version") (cached, $key)"
	switch_current "$top" "$key"
	exit 0
fi

mirror=$(__xapt_uri bookworm)
mirror=${mirror:-http://deb.debian.org/debian/}
tmp=$dir.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
root=$tmp/root
t0=$(date +%s)
say "debootstrap bookworm from $mirror (log ${tmp#"$cache"/}/debootstrap.log)"
if ! debootstrap --variant=minbase --include="$pkgs" bookworm "$root" \
	"$mirror" >"$tmp/debootstrap.log" 2>&1; then
	tail -n 20 "$tmp/debootstrap.log" >&2
	die "debootstrap failed: $tmp/debootstrap.log"
fi

rel=$(find "$root/boot" -name 'vmlinuz-*' -printf '%f\n' |
	sed 's/^vmlinuz-//' | sort -V | tail -n1)
if [ -z "$rel" ] || [ ! -f "$root/boot/initrd.img-$rel" ]; then
	die "no kernel and initrd in $root/boot"
fi
[ -d "$root/usr/src/linux-headers-$rel" ] || die "no headers of $rel"
cp "$root/boot/vmlinuz-$rel" "$tmp/vmlinuz"
cp "$root/boot/initrd.img-$rel" "$tmp/initrd.img"
echo "$rel $(chroot "$root" dpkg-query -W -f='${Version}' linux-image-amd64)" \
	>"$tmp/version"

# The machine: its name, the root and the test disk, no login on the
# serial console (the test writes there), and the test's unit.
echo xcall-e2e >"$root/etc/hostname"
echo "127.0.1.1 xcall-e2e" >>"$root/etc/hosts"
cat >"$root/etc/fstab" <<EOT
/dev/vda	/	ext4	rw,errors=remount-ro	0 1
LABEL=xcall-e2e	/xcall	ext4	rw,nofail	0 2
EOT
mkdir -p "$root/xcall"
# Nor apt's or dpkg's daily jobs, which could take the dpkg lock from the
# test's apt.
for u in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer \
	apt-daily-upgrade.timer dpkg-db-backup.timer; do
	ln -sfn /dev/null "$root/etc/systemd/system/$u"
done
# The first boot is not a first boot: no machine-id prompt.
chroot "$root" systemd-machine-id-setup >/dev/null 2>&1 || true
cat >"$root/etc/systemd/system/xcall-e2e.service" <<'EOT'
# The one job of the xcall end-to-end guest (scripts/e2e/rootfs.sh): run
# /xcall/run once the system is up, with its output on the serial console,
# then power off whatever the outcome.
[Unit]
Description=xcall end-to-end test
DefaultDependencies=no
Requires=sysinit.target
RequiresMountsFor=/xcall
After=multi-user.target
Conflicts=shutdown.target
Before=shutdown.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/bin/bash /xcall/run
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOT
chroot "$root" systemctl enable xcall-e2e.service >/dev/null 2>&1
[ -L "$root/etc/systemd/system/multi-user.target.wants/xcall-e2e.service" ] ||
	die "cannot enable xcall-e2e.service"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages

# Room for the packages, DKMS's build and the journal.
size=$(( $(du -sm "$root" | cut -f1) + 1024 ))
say "mkfs.ext4 -d: ${size} MB image"
truncate -s "${size}M" "$tmp/rootfs.ext4"
mkfs.ext4 -q -F -L xcall-root -d "$root" "$tmp/rootfs.ext4" ||
	die "mkfs.ext4 failed"
rm -rf "$root"
touch "$tmp/.complete"
mv -T "$tmp" "$dir"
switch_current "$top" "$key"
say "$(cat "$dir/version") in $(($(date +%s) - t0)) s"
