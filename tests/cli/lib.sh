# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the CLI tests: run xcall capturing stdout, stderr and the exit
# status; expectations from sysfs (never a hard-coded CPU count); passes,
# failures and skips counted by tests/common/lib.sh, whose finish ends the
# script.
#
# Environment: XCALL (the binary), SRC (the source tree).

set -u
: "${XCALL:?XCALL must name the xcall binary}"
: "${SRC:?SRC must name the source tree}"
export XCALL_BACKEND=threads	# the backend every machine has
unset XCALL_SOCKET XCALL_DEVICE

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$SRC/tests/common/lib.sh"

# xc ARGS...: run xcall; $out, $err (file contents), $rc.
xc() {
	rc=0
	"$XCALL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# expect STATUS REGEX ARGS...: xcall exits STATUS, writes nothing on
# stdout, and one line matching REGEX on stderr.
expect() {
	local want=$1 re=$2
	shift 2
	xc "$@"
	if [ "$rc" != "$want" ]; then
		fail "xcall $*: exit $rc, want $want (stderr: $err)"
		return
	fi
	if [ -s "$T/out" ]; then
		fail "xcall $*: stdout not empty: $out"
		return
	fi
	if [ "$(wc -l <"$T/err")" != 1 ] || ! grep -Eq -- "$re" "$T/err"; then
		fail "xcall $*: stderr '$err' does not match '$re'"
		return
	fi
	pass
}

# xcall_bound FILE TARGET: an xcall that sees FILE (or a directory)
# bind-mounted over TARGET in /sys, in a mount namespace of its own (as
# root; as another user, inside a user namespace if the kernel lets anyone
# make one). Prints its path; fails if no such namespace can be made here.
# Only /sys is made private there, not /: inside a chroot / is no mount
# point, and unshare's default (make / private) fails with EINVAL.
xcall_bound() {
	local file=$1 target=$2 wrap userns=

	wrap=$(mktemp "$T/xcall-bound.XXXXXX") || return 1
	[ "$(id -u)" = 0 ] || userns=-r
	cat >"$wrap" <<-EOF
	#!/bin/sh
	exec unshare $userns -m --propagation unchanged sh -c 'mount --make-rprivate /sys && mount --bind "\$0" "$target" && exec "\$@"' "$file" "$XCALL" "\$@"
	EOF
	chmod +x "$wrap"
	"$wrap" --version >/dev/null 2>&1 && echo "$wrap"
}

# Expand a cpu list ("0-3,8-11:2") into one number per line.
expand_cpus() {
	local item a b s c
	local IFS=,
	for item in $1; do
		s=1
		case $item in
		*:*) s=${item#*:}; item=${item%%:*} ;;
		esac
		a=${item%-*} b=${item#*-}
		for ((c = a; c <= b; c += s)); do
			echo "$c"
		done
	done
}

sysfs_list() {
	expand_cpus "$(tr -d '\n' <"$1")"
}

online=$(sysfs_list /sys/devices/system/cpu/online)
possible=$(sysfs_list /sys/devices/system/cpu/possible)
first_online=$(echo "$online" | head -n1)
last_online=$(echo "$online" | tail -n1)
nonline=$(echo "$online" | wc -l)

# The CPU numbers of JSON lines on stdout, one per line.
json_cpus() {
	jq -r '.cpu' <<<"$out"
}
