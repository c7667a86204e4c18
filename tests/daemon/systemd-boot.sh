#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xcalld under a booted systemd: what `systemd-analyze verify` cannot see
# (ExecReload= running inside the unit's capability bounding set, for one).
# A systemd of the host's /usr boots in systemd-nspawn on a tmpfs root
# (--volatile=yes); the build, installed with `make install-daemon
# install-cli DESTDIR=STAGE`, lies over its /usr and /etc/xcall. In it,
# systemd-boot-inside.sh follows README's daemon steps, calls through the
# socket, reloads, stops.
#
# Usage: systemd-boot.sh BUILD SRC STAGE
#
# Nothing stays on the host: nspawn runs in a mount namespace of its own,
# with cgroup2 mounted on /sys/fs/cgroup there (a chroot, as CI may be,
# has no cgroup mounted) and nspawn in a cgroup of its own (a child of
# ours, removed after); --register=no and --keep-unit, as no systemd need
# run the host. In a chroot "/" is no mount point, which nspawn needs: the
# namespace binds the chroot's / under its /run and enters that.
set -euo pipefail
b=$1
src=$2
stage=$3
name=systemd-boot
. "$src/tests/common/lib.sh"

# The container's whole life, its shutdown included (3-6 s on CI's kind
# of machine).
limit=${XCALL_NSPAWN_TIMEOUT:-120}
out=$b/tests/daemon/systemd-boot
# One name for every stage of this script (each is a process of its own).
export XT_NSPAWN_MACHINE=${XT_NSPAWN_MACHINE:-xcall-test-$$}
machine=$XT_NSPAWN_MACHINE

if [ "$(id -u)" != 0 ]; then
	xt_skip "booting systemd in a container needs root"
	finish
fi
if ! command -v systemd-nspawn >/dev/null; then
	fail "systemd-nspawn missing (systemd-container, scripts/deps/daemon.txt)"
	finish
fi

# The parts in the mount namespace: XT_NSPAWN_STAGE is "ns" first, "root"
# once "/" is a mount point (after the chroot of a chroot).
if [ "${XT_NSPAWN_STAGE:-}" = ns ]; then
	# Every mount we can name becomes private, so that none of ours
	# reaches the host. In a chroot the mount of "/" is not ours to name:
	# nothing is mounted on it but the bind below, made under /run.
	findmnt -rno TARGET | while read -r m; do
		mount --make-private "$(printf '%b' "$m")" 2>/dev/null || true
	done
	if ! mountpoint -q /; then
		mountpoint -q /run || {
			echo "$name: in a chroot without /run mounted: nowhere to bind / privately" >&2
			exit 1
		}
		r=/run/$machine.root
		mkdir "$r"
		mount --rbind / "$r"
		mount --make-rprivate "$r"
	fi
	export XT_NSPAWN_STAGE=root
	if [ -n "${r:-}" ]; then
		exec chroot "$r" /bin/bash "$0" "$@"
	fi
fi
if [ "${XT_NSPAWN_STAGE:-}" = root ]; then
	# A /run of our own: nspawn's propagation directories vanish with it.
	mount -t tmpfs -o mode=755 tmpfs /run
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
	cg=${cg%/}/$machine
	mkdir "$cg"
	rc=0
	(
		echo "$BASHPID" >"$cg/cgroup.procs"
		exec timeout -k 10 "$limit" systemd-nspawn -q -D / \
			--volatile=yes --register=no --keep-unit -M "$machine" \
			--overlay-ro="$stage/usr:/usr:/usr" \
			--bind-ro="$stage/etc/xcall:/etc/xcall" \
			--bind-ro="$src/tests:/run/xcall-tests" \
			--bind="$out/shared:/run/xcall-out" \
			--bind-ro="$out/xcall-boot-test.service:/etc/systemd/system/xcall-boot-test.service" \
			-b systemd.unit=xcall-boot-test.service \
			systemd.show_status=no systemd.firstboot=off
	) </dev/null >"$out/console.log" 2>&1 || rc=$?
	# The container's last processes may take a moment to leave.
	for _ in $(seq 100); do
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ -d "$cg" ] || break
		sleep 0.1
	done
	if [ -d "$cg" ]; then
		echo "$name: cgroup $cg left behind" >&2
		exit 1
	fi
	exit "$rc"
fi

rm -rf "$out"
mkdir -p "$out/shared"
# The one job of the boot: it powers the container off with its status.
cat >"$out/xcall-boot-test.service" <<EOF
[Unit]
Description=xcall test under a booted systemd
After=basic.target
SuccessAction=exit
FailureAction=exit

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'exec /run/xcall-tests/daemon/systemd-boot-inside.sh >/run/xcall-out/log 2>&1'
EOF

rc=0
t0=$(date +%s)
XT_NSPAWN_STAGE=ns unshare -m --propagation unchanged "$0" "$@" || rc=$?
t1=$(date +%s)
if [ -d "/run/$machine.root" ]; then
	rmdir "/run/$machine.root"
fi
cat "$out/shared/log" 2>/dev/null || true
if [ "$rc" = 0 ]; then
	pass
	echo "  $name: booted, tested and shut down in $((t1 - t0)) s"
else
	case $rc in
	124 | 137) fail "the container did not finish in $limit s" ;;
	*) fail "the container exited $rc" ;;
	esac
	echo "--- $out/console.log" >&2
	tail -40 "$out/console.log" >&2
fi
finish
