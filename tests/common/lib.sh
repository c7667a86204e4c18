# SPDX-License-Identifier: GPL-2.0-only
# Counting for the shell tests, as tests/common/check.h counts for the
# Check suites. Source it, then:
#
#   pass              a check passed
#   fail WHAT         a check failed: "FAIL <name>: WHAT" on stderr
#   xt_skip WHY       a check that needs root was not run: "SKIP <name>:
#                     WHY", counted. As root, or with
#                     XCALL_TEST_ROOT_GATE=1, it is a failure instead: a
#                     root-only check must run where CI runs it.
#   xt_skip_env WHY   a check that nothing could run here (no such
#                     hardware, another architecture): a skip as root too
#   finish            "<name>: P passed, F failed, S skipped", then exit 0,
#                     1 if a check failed, 77 if every check skipped
#   wait_for SECONDS CMD...   until CMD succeeds, at most SECONDS (polled
#                     every 0.1 s); fails on the bound
#
# The caller leaves the check out itself (if ...; else xt_skip ...; fi).
# $name (default: the script's file name) starts each line.

name=${name:-${0##*/}}
npass=0 nfail=0 nskip=0

pass() {
	npass=$((npass + 1))
}

fail() {
	echo "FAIL ${name}: $*" >&2
	nfail=$((nfail + 1))
}

# Does a root-only skip fail here?
xt_root_gate() {
	[ "$(id -u)" = 0 ] && return 0
	case ${XCALL_TEST_ROOT_GATE:-0} in
	0 | "") return 1 ;;
	esac
	return 0
}

xt_skip() {
	if xt_root_gate; then
		fail "skipped as root, where a root-only test must run: $*"
		return 0
	fi
	xt_skip_env "$@"
}

xt_skip_env() {
	echo "SKIP ${name}: $*"
	nskip=$((nskip + 1))
}

finish() {
	echo "  ${name}: $npass passed, $nfail failed, $nskip skipped"
	[ "$nfail" = 0 ] || exit 1
	if [ "$npass" = 0 ] && [ "$nskip" != 0 ]; then
		exit 77
	fi
	exit 0
}

# wait_for SECONDS CMD...: until CMD succeeds, at most SECONDS.
wait_for() {
	local n=$(($1 * 10))

	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}
