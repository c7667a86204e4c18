#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The skip gate fed broken input (make check-skip-gate). The Check program
# tests/common/selftest.c and a shell script on tests/common/lib.sh each
# skip a root-only test: with the gate on (root, or XCALL_TEST_ROOT_GATE=1)
# that must fail and say why; as another user the same programs pass and
# count their skips. Environment skips pass either way, a run that skipped
# everything exits 77, and a failing setup hook is main()'s exit status.
# CK_FORK=no must count the same as forked tests.
#
# usage: selftest.sh SELFTEST SRC    (as root it also runs them as nobody)
set -u
bin=$1 src=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
nbad=0 nok=0

# The same programs from a directory nobody may read.
cp "$bin" "$T/selftest"
cp "$src/tests/common/lib.sh" "$T/lib.sh"
cat >"$T/gate.sh" <<'SH'
. "$(dirname "$0")/lib.sh"
case $1 in
mixed)	pass
	xt_skip "pretends to need root"
	xt_skip_env "pretends to need 4096 CPUs" ;;
root)	xt_skip "pretends to need root" ;;
env)	xt_skip_env "pretends to need 4096 CPUs" ;;
esac
finish
SH
chmod 755 "$T"

# want STATUS REGEX... -- CMD...: CMD exits STATUS, its output has a line
# matching each REGEX.
want() {
	local st=$1 rc=0 res=() re
	shift
	while [ "$1" != -- ]; do
		res+=("$1")
		shift
	done
	shift
	"$@" >"$T/out" 2>&1 || rc=$?
	for re in "${res[@]}"; do
		grep -Eq -- "$re" "$T/out" && continue
		rc="$rc, no line /$re/"
	done
	if [ "$rc" = "$st" ]; then
		nok=$((nok + 1))
		return
	fi
	echo "FAIL skip gate: $*: exit $rc (want $st):" >&2
	sed 's/^/    /' "$T/out" >&2
	nbad=$((nbad + 1))
}

gated=(env XCALL_TEST_ROOT_GATE=1)
root_fail='skipped as root, where a root-only test must run: pretends to need root'
for fork in yes no; do
	export CK_FORK=$fork
	want 1 ":F:mixed:test_needs_root:0: $root_fail" \
		'^SKIP test_needs_cpus: pretends to need 4096 CPUs$' \
		'^selftest: 3 checks, 1 failed, 1 skipped$' \
		-- "${gated[@]}" "$T/selftest" mixed
	want 1 '^selftest: 2 checks, 2 failed, 0 skipped$' \
		-- "${gated[@]}" "$T/selftest" root
	want 77 '^selftest: 2 checks, 0 failed, 2 skipped$' \
		-- "${gated[@]}" "$T/selftest" env
done
unset CK_FORK
want 3 '^selftest: setup fails$' -- "$T/selftest" setup
want 1 "^FAIL gate.sh: $root_fail\$" '1 passed, 1 failed, 1 skipped$' \
	-- "${gated[@]}" bash "$T/gate.sh" mixed
want 77 '^SKIP gate.sh: pretends to need 4096 CPUs$' \
	-- "${gated[@]}" bash "$T/gate.sh" env

# Without the gate: root's own runs already had it; run them as nobody.
nogate=(env XCALL_TEST_ROOT_GATE=0)
if [ "$(id -u)" = 0 ]; then
	nogate=(setpriv --reuid=65534 --regid=65534 --clear-groups
		env XCALL_TEST_ROOT_GATE=0)
fi
want 0 '^SKIP test_needs_root: pretends to need root \(selftest\)$' \
	'^selftest: 3 checks, 0 failed, 2 skipped$' \
	-- "${nogate[@]}" "$T/selftest" mixed
want 77 '^selftest: 2 checks, 0 failed, 2 skipped$' \
	-- "${nogate[@]}" CK_FORK=no "$T/selftest" root
want 0 '^SKIP gate.sh: pretends to need root$' '1 passed, 0 failed, 2 skipped$' \
	-- "${nogate[@]}" bash "$T/gate.sh" mixed
want 77 '0 passed, 0 failed, 1 skipped$' \
	-- "${nogate[@]}" bash "$T/gate.sh" root

echo "  skip gate: $nok cases as expected, $nbad not"
[ "$nbad" = 0 ]
