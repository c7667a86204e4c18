#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# systemd-analyze verify on the generated units. verify checks that
# ExecStart names an executable, so the units are checked in a copy whose
# ExecStart is the daemon just built. Usage: verify-units.sh BUILD SRC
set -euo pipefail
b=$1
src=$2
name=verify-units
. "$src/tests/common/lib.sh"
if ! command -v systemd-analyze >/dev/null; then
	echo "verify-units: systemd-analyze missing (scripts/deps/daemon.txt)" >&2
	exit 1
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$b/daemon/xcalld|" \
	"$b/daemon/systemd/xcalld.service" > "$t/xcalld.service"
cp "$b/daemon/systemd/xcalld.socket" "$t/xcalld.socket"
out=$(cd "$t" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	./xcalld.socket ./xcalld.service 2>&1) || {
	echo "$out" >&2
	exit 1
}
# verify exits 0 on some warnings: any line about our units fails.
if printf '%s\n' "$out" | grep -E 'xcalld\.(service|socket)' >&2; then
	exit 1
fi
pass
# LimitNOFILE= leaves --max-clients (1024 unless ExecStart says) its
# descriptors and the daemon 32 of its own, as xcalld(8) says.
svc=$b/daemon/systemd/xcalld.service
nofile=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' "$svc")
clients=$(sed -n 's/^ExecStart=.*--max-clients[= ]\([0-9]*\).*/\1/p' "$svc")
clients=${clients:-1024}
if [ -z "$nofile" ] || [ "$nofile" -lt $((clients + 32)) ]; then
	fail "LimitNOFILE=${nofile:-unset}: under --max-clients $clients + 32"
else
	pass
fi
# The tmpfiles.d and sysusers.d files parse.
mkdir -p "$t/etc" "$t/run"
tmpf=$src/daemon/systemd/xcalld-tmpfiles.conf
if [ "$(id -u)" != 0 ]; then
	# Only root may chown: check the rest of each line as another user.
	xt_skip "tmpfiles.d's owners: only root may chown"
	awk '!/^#/ && NF >= 5 { $4 = "-"; $5 = "-" } { print }' "$tmpf" >"$t/tmpfiles.conf"
	tmpf=$t/tmpfiles.conf
fi
systemd-tmpfiles --create --root="$t" "$tmpf"
test -d "$t/run/xcall"
pass
systemd-sysusers --root="$t" "$src/daemon/systemd/xcalld-sysusers.conf" >/dev/null 2>&1
grep -q '^xcalld:' "$t/etc/passwd"
grep -q '^xcall:' "$t/etc/group"
pass
finish
