#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run by systemd-boot.sh as the one job of a booted container, whose /usr
# and /etc/xcall hold `make install`'s files: README's daemon steps, a
# call that starts xcalld through its socket, `systemctl reload`, `systemctl
# stop`. Every wait has a bound. The exit status is the container's.
set -uo pipefail
name=systemd-boot-inside
. /run/xcall-tests/common/lib.sh

prop() {
	systemctl show -p "$1" --value xcalld.service
}

logged() {
	journalctl -q -u xcalld.service -o cat | grep -q "$1"
}

status_reloaded() {
	[[ $(prop StatusText) == "policy reloaded: "* ]]
}

# README: "Install and run it with systemd". tmpfiles.d of our own only:
# the host's /usr may have others' whose users this empty /etc lacks.
if systemd-sysusers && systemd-tmpfiles --create xcalld.conf &&
	systemctl daemon-reload &&
	timeout 30 systemctl enable --now xcalld.socket; then
	pass
else
	fail "README's steps: sysusers, tmpfiles, enable --now xcalld.socket"
	finish
fi

# A call through the socket starts the service (Type=notify: once the
# call is answered the daemon has said READY=1).
if XCALL_BACKEND=daemon timeout 30 xcall run --cpu 0 ping >/dev/null &&
	[ "$(prop ActiveState)" = active ]; then
	pass
else
	fail "a call through the socket: xcalld.service is $(prop ActiveState)"
	systemctl status --no-pager xcalld.service
	finish
fi
pid=$(prop MainPID)
uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")
if [ "$uid" = "$(id -u xcalld)" ]; then
	pass
else
	fail "main process $pid runs as uid $uid, not xcalld's"
fi

# The reload job must succeed, and the daemon must have read its policy
# again (its SIGHUP handler logs it and sets the status), in the same
# process.
if timeout 30 systemctl reload xcalld.service; then
	pass
else
	fail "systemctl reload xcalld failed"
fi
if wait_for 10 logged '^reload: policy ' && wait_for 10 status_reloaded; then
	pass
else
	fail "xcalld did not reload: status '$(prop StatusText)'"
fi
if [ "$(prop MainPID)" = "$pid" ]; then
	pass
else
	fail "main process changed from $pid to $(prop MainPID)"
fi
if XCALL_BACKEND=daemon timeout 30 xcall run --cpu 0 ping >/dev/null; then
	pass
else
	fail "no call answered after the reload"
fi

# Stop: SIGTERM drains and exits 0.
if timeout 120 systemctl stop xcalld.service &&
	[ "$(prop ActiveState)" = inactive ] && [ "$(prop Result)" = success ] &&
	[ ! -e "/proc/$pid" ]; then
	pass
else
	fail "systemctl stop: $(prop ActiveState), result $(prop Result)"
fi

[ "$nfail" = 0 ] ||
	journalctl -q -u xcalld.service --no-pager -o short-monotonic | sed 's/^/  | /'
finish
